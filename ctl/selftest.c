/*
 * What dspctl selftest asks dspd about: the checks an operator of the
 * HAProxy images ran by hand after a deployment, and the calls each
 * well-known client makes, feature by feature, as their sources and
 * captures show them (the docker provider of Traefik negotiates a
 * version, Watchtower pins /v1.25, Homepage sends none).  Only data:
 * dspctl sends each call to dspd's dry run and reads the verdicts.
 */

#include <stddef.h>

#include "dspclient.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* A container and an image that need not exist: nothing is sent on. */
#define ST_ID		"dsp-selftest"
#define ST_IMAGE	"busybox:latest"
/* Bodies of the create-class calls, as harmless as the clients' own. */
#define ST_CREATE	"{\"Image\":\"busybox\",\"Cmd\":[\"true\"]}"
#define ST_EXEC		"{\"Cmd\":[\"sh\"],\"AttachStdin\":true," \
			    "\"AttachStdout\":true,\"Tty\":true}"
#define ST_VOLUME	"{\"Name\":\"dsp-selftest\"}"
#define ST_NETWORK	"{\"Name\":\"dsp-selftest\"}"
#define ST_CONNECT	"{\"Container\":\"" ST_ID "\"}"
/* {"type":{"container":true}}, {"status":["running"]} and the like. */
#define ST_F_TYPE	"filters=%7B%22type%22%3A%7B%22container%22%3A" \
			    "true%7D%7D"
#define ST_F_RUNNING	"filters=%7B%22status%22%3A%5B%22running%22%5D%7D"
#define ST_F_SWARM	"filters=%7B%22scope%22%3A%7B%22swarm%22%3Atrue%7D%7D"
#define ST_F_TASKS	"filters=%7B%22service%22%3A%5B%22web%22%5D%2C" \
			    "%22desired-state%22%3A%5B%22running%22%5D%7D"

/*
 * The operator's checks.  A privileged create binding / must be refused
 * whatever the policy allows: the create guard is the last word there.
 */
static const struct selftest_check selftest_check_table[] = {
	{ "container create", "POST", "/containers/create", ST_CREATE, 0 },
	{ "container delete", "DELETE", "/containers/" ST_ID, NULL, 0 },
	{ "exec in a container", "POST", "/containers/" ST_ID "/exec",
	    ST_EXEC, 0 },
	{ "privileged create binding /", "POST", "/containers/create",
	    "{\"Image\":\"busybox\",\"HostConfig\":{\"Privileged\":true,"
	    "\"Binds\":[\"/:/host\"]}}", 0 },
};

/* Reads the live check may send through the listener, in order. */
static const struct selftest_call selftest_read_table[] = {
	{ "GET", "/_ping", NULL },
	{ "GET", "/version", NULL },
};

static const struct selftest_call traefik_docker[] = {
	{ "HEAD", "/_ping", NULL },
	{ "GET", "/v1.41/version", NULL },
	{ "GET", "/v1.41/containers/json?all=1", NULL },
	{ "GET", "/v1.41/containers/" ST_ID "/json", NULL },
	{ "GET", "/v1.41/events?" ST_F_TYPE, NULL },
};

static const struct selftest_call traefik_swarm[] = {
	{ "GET", "/v1.41/version", NULL },
	{ "GET", "/v1.41/services", NULL },
	{ "GET", "/v1.41/networks?" ST_F_SWARM, NULL },
	{ "GET", "/v1.41/tasks?" ST_F_TASKS, NULL },
	{ "GET", "/v1.41/nodes/" ST_ID, NULL },
};

static const struct selftest_call portainer_view[] = {
	{ "GET", "/_ping", NULL },
	{ "GET", "/info", NULL },
	{ "GET", "/containers/json?all=1", NULL },
	{ "GET", "/images/json", NULL },
	{ "GET", "/volumes", NULL },
	{ "GET", "/networks", NULL },
	{ "GET", "/version", NULL },
	{ "GET", "/containers/" ST_ID "/json", NULL },
	{ "GET", "/containers/" ST_ID "/logs?since=0&tail=100&timestamps=1",
	    NULL },
	{ "GET", "/containers/" ST_ID "/stats?stream=false", NULL },
	{ "GET", "/containers/" ST_ID "/top", NULL },
	{ "GET", "/images/" ST_IMAGE "/json", NULL },
	{ "GET", "/networks/" ST_ID, NULL },
	{ "GET", "/volumes/" ST_ID, NULL },
};

static const struct selftest_call portainer_swarm[] = {
	{ "GET", "/services", NULL },
	{ "GET", "/nodes", NULL },
	{ "GET", "/tasks", NULL },
};

static const struct selftest_call portainer_manage[] = {
	{ "POST", "/containers/" ST_ID "/start", NULL },
	{ "POST", "/containers/" ST_ID "/stop", NULL },
	{ "POST", "/containers/" ST_ID "/restart", NULL },
	{ "POST", "/containers/" ST_ID "/kill", NULL },
	{ "POST", "/containers/" ST_ID "/pause", NULL },
	{ "POST", "/containers/" ST_ID "/unpause", NULL },
	{ "DELETE", "/containers/" ST_ID, NULL },
	{ "POST", "/containers/create", ST_CREATE },
	{ "POST", "/images/create?fromImage=busybox&tag=latest", NULL },
	{ "DELETE", "/images/" ST_IMAGE, NULL },
	{ "POST", "/networks/create", ST_NETWORK },
	{ "POST", "/networks/" ST_ID "/connect", ST_CONNECT },
	{ "POST", "/volumes/create", ST_VOLUME },
};

static const struct selftest_call portainer_console[] = {
	{ "POST", "/containers/" ST_ID "/exec", ST_EXEC },
	{ "POST", "/exec/" ST_ID "/start", NULL },
	{ "POST", "/exec/" ST_ID "/resize?h=24&w=80", NULL },
};

static const struct selftest_call watchtower_update[] = {
	{ "GET", "/v1.25/containers/json?" ST_F_RUNNING, NULL },
	{ "GET", "/v1.25/containers/" ST_ID "/json", NULL },
	{ "GET", "/v1.25/images/" ST_IMAGE "/json", NULL },
	{ "POST", "/v1.25/images/create?fromImage=busybox&tag=latest", NULL },
	{ "POST", "/v1.25/containers/" ST_ID "/kill?signal=SIGTERM", NULL },
	{ "DELETE", "/v1.25/containers/" ST_ID "?force=1&v=1", NULL },
	{ "POST", "/v1.25/containers/create?name=" ST_ID, ST_CREATE },
	{ "POST", "/v1.25/networks/" ST_ID "/disconnect", ST_CONNECT },
	{ "POST", "/v1.25/networks/" ST_ID "/connect", ST_CONNECT },
	{ "POST", "/v1.25/containers/" ST_ID "/start", NULL },
	{ "POST", "/v1.25/containers/" ST_ID "/rename?name=dsp-old", NULL },
	{ "DELETE", "/v1.25/images/" ST_IMAGE "?force=1", NULL },
};

static const struct selftest_call watchtower_hooks[] = {
	{ "POST", "/v1.25/containers/" ST_ID "/exec", ST_EXEC },
	{ "POST", "/v1.25/exec/" ST_ID "/start", NULL },
	{ "GET", "/v1.25/exec/" ST_ID "/json", NULL },
};

static const struct selftest_call homepage_status[] = {
	{ "GET", "/containers/json?all=true", NULL },
	{ "GET", "/containers/" ST_ID "/json", NULL },
	{ "GET", "/containers/" ST_ID "/stats?stream=false", NULL },
};

static const struct selftest_call homepage_swarm[] = {
	{ "GET", "/tasks?" ST_F_TASKS, NULL },
};

static const struct selftest_call homepage_actions[] = {
	{ "POST", "/containers/" ST_ID "/start", NULL },
	{ "POST", "/containers/" ST_ID "/stop", NULL },
	{ "POST", "/containers/" ST_ID "/restart", NULL },
};

static const struct selftest_call homepage_logs[] = {
	{ "GET", "/containers/" ST_ID "/logs?stdout=1&stderr=1&tail=100&"
	    "timestamps=1", NULL },
};

static const struct selftest_call dozzle_logs[] = {
	{ "HEAD", "/_ping", NULL },
	{ "GET", "/v1.41/info", NULL },
	{ "GET", "/v1.41/containers/json?all=1&" ST_F_RUNNING, NULL },
	{ "GET", "/v1.41/containers/" ST_ID "/json", NULL },
	{ "GET", "/v1.41/containers/" ST_ID "/logs?follow=1&stdout=1&"
	    "stderr=1&tail=300&timestamps=1", NULL },
	{ "GET", "/v1.41/containers/" ST_ID "/logs?stdout=1&stderr=1&"
	    "since=0&until=1", NULL },
	{ "GET", "/v1.41/containers/" ST_ID "/stats?stream=1", NULL },
	{ "GET", "/v1.41/events", NULL },
};

static const struct selftest_call dozzle_actions[] = {
	{ "POST", "/v1.41/containers/" ST_ID "/start", NULL },
	{ "POST", "/v1.41/containers/" ST_ID "/stop", NULL },
	{ "POST", "/v1.41/containers/" ST_ID "/restart", NULL },
};

static const struct selftest_call dozzle_shell[] = {
	{ "POST", "/v1.41/containers/" ST_ID "/exec", ST_EXEC },
	{ "POST", "/v1.41/exec/" ST_ID "/start", NULL },
	{ "POST", "/v1.41/exec/" ST_ID "/resize?h=24&w=80", NULL },
};

#define ST_USE(client, use, optional, calls) \
	{ client, use, optional, calls, nitems(calls) }

/* Each client's core use first, then the features it may not use. */
static const struct selftest_client selftest_client_table[] = {
	ST_USE("traefik", "docker provider", 0, traefik_docker),
	ST_USE("traefik", "swarm provider", 1, traefik_swarm),
	ST_USE("portainer", "view", 0, portainer_view),
	ST_USE("portainer", "swarm view", 1, portainer_swarm),
	ST_USE("portainer", "management", 1, portainer_manage),
	ST_USE("portainer", "console", 1, portainer_console),
	ST_USE("watchtower", "update", 0, watchtower_update),
	ST_USE("watchtower", "lifecycle hooks", 1, watchtower_hooks),
	ST_USE("homepage", "status", 0, homepage_status),
	ST_USE("homepage", "swarm", 1, homepage_swarm),
	ST_USE("homepage", "actions", 1, homepage_actions),
	ST_USE("homepage", "logs", 1, homepage_logs),
	ST_USE("dozzle", "logs", 0, dozzle_logs),
	ST_USE("dozzle", "actions", 1, dozzle_actions),
	ST_USE("dozzle", "shell", 1, dozzle_shell),
};

const struct selftest_check *
selftest_checks(size_t *n)
{
	*n = nitems(selftest_check_table);
	return (selftest_check_table);
}

const struct selftest_call *
selftest_reads(size_t *n)
{
	*n = nitems(selftest_read_table);
	return (selftest_read_table);
}

const struct selftest_client *
selftest_clients(size_t *n)
{
	*n = nitems(selftest_client_table);
	return (selftest_client_table);
}
