/*
 * test_catalogue.c: requests as clients send them, through the canonical
 * form into the catalogue, and the rules every catalogue entry obeys.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dspd.h"

#define HEX64	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define DIGEST	"sha256:" HEX64

/* The longest path a sample built from a pattern may take, in bytes. */
#define SAMPLE_MAX	512

enum outcome {
	SERVED,		/* the catalogue knows it */
	UNKNOWN,	/* canonical, but no entry serves it */
	REFUSED		/* the canonical form refuses it */
};

struct route_case {
	const char		*method;
	const char		*target;
	enum outcome		 outcome;
	enum endpoint_group	 group;
	const char		*action;
};

static const struct route_case route_cases[] = {
	/* Ping in every spelling the router takes, with HEAD as clients do. */
	{ "HEAD", "/_ping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/_ping", SERVED, GROUP_PING, "ping.check" },
	{ "HEAD", "/v1.41/_ping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/v1.24/_ping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/v1/_ping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/v1.41.0/_ping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/v.../_ping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/v1%2e41/_ping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/%5fping", SERVED, GROUP_PING, "ping.check" },
	{ "GET", "/v1.44/version", SERVED, GROUP_VERSION, "version.inspect" },
	{ "GET", "/info", SERVED, GROUP_INFO, "info.inspect" },
	{ "GET", "/v1.41/events?filters=%7B%22type%22%3A%7B%22container%22"
	    "%3Atrue%7D%7D",
	    SERVED, GROUP_EVENTS, "events.watch" },
	{ "POST", "/v1.41/auth", SERVED, GROUP_AUTH, "auth.login" },
	{ "GET", "/system/df?type=image", SERVED, GROUP_SYSTEM, "system.df" },

	/* Containers, versioned or not, by name or by full ID. */
	{ "GET", "/containers/json?all=1", SERVED, GROUP_CONTAINERS,
	    "containers.list" },
	{ "GET", "/v1.25/containers/json", SERVED, GROUP_CONTAINERS,
	    "containers.list" },
	{ "GET", "/c%6fntainers/json", SERVED, GROUP_CONTAINERS,
	    "containers.list" },
	{ "GET", "/v1.41/containers/traefik/json", SERVED, GROUP_CONTAINERS,
	    "containers.inspect" },
	{ "HEAD", "/containers/traefik/json", SERVED, GROUP_CONTAINERS,
	    "containers.inspect" },
	{ "GET", "/containers/json/json", SERVED, GROUP_CONTAINERS,
	    "containers.inspect" },
	{ "GET", "/v1.41/containers/" HEX64 "/logs?follow=1&stdout=1",
	    SERVED, GROUP_CONTAINERS, "containers.logs" },
	{ "GET", "/containers/web/stats?stream=false", SERVED,
	    GROUP_CONTAINERS, "containers.stats" },
	{ "GET", "/containers/web/top", SERVED, GROUP_CONTAINERS,
	    "containers.top" },
	{ "GET", "/containers/web/changes", SERVED, GROUP_CONTAINERS,
	    "containers.changes" },
	{ "GET", "/containers/web/export", SERVED, GROUP_CONTAINERS,
	    "containers.export" },
	{ "HEAD", "/containers/web/export", SERVED, GROUP_CONTAINERS,
	    "containers.export" },
	{ "GET", "/containers/web/archive?path=/etc", SERVED, GROUP_CONTAINERS,
	    "containers.archive" },
	{ "HEAD", "/containers/web/archive?path=/etc", SERVED,
	    GROUP_CONTAINERS, "containers.archive_stat" },
	{ "PUT", "/containers/web/archive?path=/tmp", SERVED, GROUP_CONTAINERS,
	    "containers.archive_put" },
	{ "POST", "/v1.23/containers/web/copy", SERVED, GROUP_CONTAINERS,
	    "containers.copy" },
	{ "POST", "/containers/create?name=web", SERVED, GROUP_CONTAINERS,
	    "containers.create" },
	{ "POST", "/containers/web/start", SERVED, GROUP_CONTAINERS,
	    "containers.start" },
	{ "POST", "/containers/web/stop?t=10", SERVED, GROUP_CONTAINERS,
	    "containers.stop" },
	{ "POST", "/containers/web/restart", SERVED, GROUP_CONTAINERS,
	    "containers.restart" },
	{ "POST", "/v1.25/containers/web/kill?signal=SIGTERM", SERVED,
	    GROUP_CONTAINERS, "containers.kill" },
	{ "POST", "/containers/web/pause", SERVED, GROUP_CONTAINERS,
	    "containers.pause" },
	{ "POST", "/containers/web/unpause", SERVED, GROUP_CONTAINERS,
	    "containers.unpause" },
	{ "POST", "/containers/web/wait?condition=removed", SERVED,
	    GROUP_CONTAINERS, "containers.wait" },
	{ "POST", "/containers/web/resize?h=24&w=80", SERVED, GROUP_CONTAINERS,
	    "containers.resize" },
	{ "POST", "/containers/web/rename?name=old", SERVED, GROUP_CONTAINERS,
	    "containers.rename" },
	{ "POST", "/containers/web/update", SERVED, GROUP_CONTAINERS,
	    "containers.update" },
	{ "DELETE", "/containers/web?force=1&v=1", SERVED, GROUP_CONTAINERS,
	    "containers.delete" },
	{ "POST", "/containers/prune", SERVED, GROUP_CONTAINERS,
	    "containers.prune" },
	{ "GET", "/containers/web/checkpoints", SERVED, GROUP_CONTAINERS,
	    "containers.checkpoint_list" },
	{ "DELETE", "/containers/web/checkpoints/cp1", SERVED,
	    GROUP_CONTAINERS, "containers.checkpoint_delete" },

	/* Attach and exec create sit under /containers but belong to exec. */
	{ "POST", "/containers/web/attach?stream=1&stdin=1", SERVED,
	    GROUP_EXEC, "exec.attach" },
	{ "GET", "/v1.41/containers/web/attach/ws?stream=1", SERVED,
	    GROUP_EXEC, "exec.attach_ws" },
	{ "POST", "/v1.41/containers/web/exec", SERVED, GROUP_EXEC,
	    "exec.create" },
	{ "POST", "/v1.41/exec/" HEX64 "/start", SERVED, GROUP_EXEC,
	    "exec.start" },
	{ "POST", "/exec/abc/resize?h=24&w=80", SERVED, GROUP_EXEC,
	    "exec.resize" },
	{ "GET", "/exec/abc/json", SERVED, GROUP_EXEC, "exec.inspect" },

	/* Image names hold '/', ':', '@' and registry ports. */
	{ "GET", "/images/json", SERVED, GROUP_IMAGES, "images.list" },
	{ "GET", "/images/localhost:5000/a/b:1.0/json", SERVED, GROUP_IMAGES,
	    "images.inspect" },
	{ "GET", "/v1.25/images/localhost:5000%2Fa%2Fb:1.0/json", SERVED,
	    GROUP_IMAGES, "images.inspect" },
	{ "GET", "/images/busybox@" DIGEST "/json", SERVED, GROUP_IMAGES,
	    "images.inspect" },
	{ "GET", "/images/ghcr.io/owner/app@" DIGEST "/json", SERVED,
	    GROUP_IMAGES, "images.inspect" },
	{ "GET", "/images/" DIGEST "/json", SERVED, GROUP_IMAGES,
	    "images.inspect" },
	{ "GET", "/images/json/json", SERVED, GROUP_IMAGES, "images.inspect" },
	{ "GET", "/images/busybox/history", SERVED, GROUP_IMAGES,
	    "images.history" },
	{ "GET", "/images/search?term=nginx", SERVED, GROUP_IMAGES,
	    "images.search" },
	{ "GET", "/images/get?names=busybox", SERVED, GROUP_IMAGES,
	    "images.export" },
	{ "HEAD", "/images/get?names=busybox", SERVED, GROUP_IMAGES,
	    "images.export" },
	{ "GET", "/images/library/busybox:latest/get", SERVED, GROUP_IMAGES,
	    "images.export" },
	{ "GET", "/images/get/get", SERVED, GROUP_IMAGES, "images.export" },
	{ "GET", "/images/reg:5000/app/attestations", SERVED, GROUP_IMAGES,
	    "images.attestations" },
	{ "POST", "/images/create?fromImage=busybox&tag=latest", SERVED,
	    GROUP_IMAGES, "images.create" },
	{ "POST", "/images/load", SERVED, GROUP_IMAGES, "images.load" },
	{ "POST", "/images/prune", SERVED, GROUP_IMAGES, "images.prune" },
	{ "POST", "/images/localhost:5000/a/b/push?tag=1.0", SERVED,
	    GROUP_IMAGES, "images.push" },
	{ "POST", "/images/busybox/tag?repo=localhost:5000/b&tag=2", SERVED,
	    GROUP_IMAGES, "images.tag" },
	{ "DELETE", "/images/localhost:5000/a/b:1.0?force=1", SERVED,
	    GROUP_IMAGES, "images.delete" },
	{ "DELETE", "/images/sha256:abc", SERVED, GROUP_IMAGES,
	    "images.delete" },
	{ "POST", "/commit?container=web&repo=x", SERVED, GROUP_COMMIT,
	    "commit.create" },
	{ "GET", "/distribution/docker.io/library/busybox:latest/json", SERVED,
	    GROUP_DISTRIBUTION, "distribution.inspect" },

	{ "POST", "/v1.41/build?t=x", SERVED, GROUP_BUILD, "build.image" },
	{ "POST", "/build/prune", SERVED, GROUP_BUILD, "build.prune" },
	{ "POST", "/build/cancel?id=x", SERVED, GROUP_BUILD, "build.cancel" },
	{ "POST", "/session", SERVED, GROUP_SESSION, "session.start" },
	{ "POST", "/v1.41/grpc", SERVED, GROUP_GRPC, "grpc.serve" },

	{ "GET", "/networks", SERVED, GROUP_NETWORKS, "networks.list" },
	{ "GET", "/networks?filters=%7B%22scope%22%3A%7B%22swarm%22%3Atrue"
	    "%7D%7D",
	    SERVED, GROUP_NETWORKS, "networks.list" },
	{ "GET", "/networks/bridge", SERVED, GROUP_NETWORKS,
	    "networks.inspect" },
	{ "POST", "/networks/create", SERVED, GROUP_NETWORKS,
	    "networks.create" },
	{ "POST", "/networks/front/connect", SERVED, GROUP_NETWORKS,
	    "networks.connect" },
	{ "POST", "/networks/front/disconnect", SERVED, GROUP_NETWORKS,
	    "networks.disconnect" },
	{ "POST", "/networks/prune", SERVED, GROUP_NETWORKS, "networks.prune" },
	{ "DELETE", "/networks/front", SERVED, GROUP_NETWORKS,
	    "networks.delete" },

	{ "GET", "/volumes", SERVED, GROUP_VOLUMES, "volumes.list" },
	{ "GET", "/volumes/data", SERVED, GROUP_VOLUMES, "volumes.inspect" },
	{ "POST", "/volumes/create", SERVED, GROUP_VOLUMES, "volumes.create" },
	{ "PUT", "/v1.42/volumes/data?version=3", SERVED, GROUP_VOLUMES,
	    "volumes.update" },
	{ "DELETE", "/volumes/data", SERVED, GROUP_VOLUMES, "volumes.delete" },
	{ "POST", "/volumes/prune", SERVED, GROUP_VOLUMES, "volumes.prune" },

	{ "GET", "/plugins", SERVED, GROUP_PLUGINS, "plugins.list" },
	{ "GET", "/plugins/privileges?remote=vieux/sshfs", SERVED,
	    GROUP_PLUGINS, "plugins.privileges" },
	{ "GET", "/plugins/privileges/json", SERVED, GROUP_PLUGINS,
	    "plugins.inspect" },
	{ "POST", "/plugins/pull?remote=vieux/sshfs", SERVED, GROUP_PLUGINS,
	    "plugins.pull" },
	{ "GET", "/plugins/vieux/sshfs:latest/json", SERVED, GROUP_PLUGINS,
	    "plugins.inspect" },
	{ "POST", "/plugins/vieux/sshfs:latest/enable", SERVED, GROUP_PLUGINS,
	    "plugins.enable" },
	{ "POST", "/plugins/vieux/sshfs:latest/upgrade", SERVED, GROUP_PLUGINS,
	    "plugins.upgrade" },
	{ "DELETE", "/plugins/vieux/sshfs:latest", SERVED, GROUP_PLUGINS,
	    "plugins.delete" },

	/* Swarm: inspect and the unlock key are credentials. */
	{ "GET", "/swarm", SERVED, GROUP_SWARM, "swarm.inspect" },
	{ "HEAD", "/swarm", SERVED, GROUP_SWARM, "swarm.inspect" },
	{ "GET", "/swarm/unlockkey", SERVED, GROUP_SWARM, "swarm.unlockkey" },
	{ "POST", "/swarm/init", SERVED, GROUP_SWARM, "swarm.init" },
	{ "POST", "/swarm/unlock", SERVED, GROUP_SWARM, "swarm.unlock" },
	{ "GET", "/v1.41/services?status=true", SERVED, GROUP_SERVICES,
	    "services.list" },
	{ "GET", "/services/web", SERVED, GROUP_SERVICES, "services.inspect" },
	{ "GET", "/services/web/logs?follow=1", SERVED, GROUP_SERVICES,
	    "services.logs" },
	{ "POST", "/services/web/update?version=4", SERVED, GROUP_SERVICES,
	    "services.update" },
	{ "GET", "/nodes/n1", SERVED, GROUP_NODES, "nodes.inspect" },
	{ "GET", "/tasks?filters=%7B%7D", SERVED, GROUP_TASKS, "tasks.list" },
	{ "GET", "/tasks/t1/logs", SERVED, GROUP_TASKS, "tasks.logs" },
	{ "GET", "/secrets/s1", SERVED, GROUP_SECRETS, "secrets.inspect" },
	{ "POST", "/configs/create", SERVED, GROUP_CONFIGS, "configs.create" },

	/* Canonical, but nothing serves it. */
	{ "GET", "/debug/vars", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/debug/pprof/heap", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "POST", "/debug/pprof/profile", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "OPTIONS", "/_ping", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "OPTIONS", "/v1.41/containers/json", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/containers/a/b/json", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "POST", "/containers/a%2Fb/start", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/containers/json/json/json", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/networks/a/b", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "DELETE", "/volumes/a/b", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/exec/a/b/json", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/containers", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/containers/web", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "POST", "/containers/json", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "PATCH", "/containers/web/update", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "HEAD", "/swarm/init", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "get", "/_ping", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/_PING", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/_ping/x", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/v1.41", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/v/_ping", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/V1.41/_ping", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/v1.41x/_ping", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/v1.41/v1.41/_ping", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/images", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/images/busybox", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "GET", "/distribution/json", UNKNOWN, GROUP_UNKNOWN, NULL },
	{ "CONNECT", "/_ping", UNKNOWN, GROUP_UNKNOWN, NULL },

	/* Refused by the canonical form before the catalogue sees it. */
	{ "GET", "/debug/pprof/", REFUSED, GROUP_UNKNOWN, NULL },
	{ "GET", "/networks/", REFUSED, GROUP_UNKNOWN, NULL },
	{ "GET", "/images//json", REFUSED, GROUP_UNKNOWN, NULL },
	{ "GET", "/containers/../_ping", REFUSED, GROUP_UNKNOWN, NULL },
	{ "GET", "/containers/web/%2e%2e/%2e%2e/info", REFUSED, GROUP_UNKNOWN,
	    NULL },
	{ "GET", "http://x/_ping", REFUSED, GROUP_UNKNOWN, NULL },
	{ "OPTIONS", "*", REFUSED, GROUP_UNKNOWN, NULL },
};

static const char *
outcome_name(enum outcome o)
{
	switch (o) {
	case SERVED:
		return ("served");
	case UNKNOWN:
		return ("unknown");
	case REFUSED:
		return ("refused");
	}
	return ("?");
}

static void
test_routes(void **state)
{
	const struct route_case	*c;
	const struct endpoint	*ep;
	struct target		 t;
	const char		*why;
	enum outcome		 got;
	size_t			 i;
	int			 ambiguous;

	for (i = 0; i < sizeof route_cases / sizeof route_cases[0]; i++) {
		c = &route_cases[i];
		ep = NULL;
		ambiguous = 0;
		if (canon_target(c->target, strlen(c->target), &t, &why) != 0)
			got = REFUSED;
		else {
			ep = catalogue_match(c->method, t.path, &ambiguous);
			got = ep != NULL ? SERVED : UNKNOWN;
			canon_clear(&t);
		}
		if (ambiguous)
			fail_msg("%s %s: ambiguous", c->method, c->target);
		if (got != c->outcome)
			fail_msg("%s %s: %s, want %s", c->method, c->target,
			    outcome_name(got), outcome_name(c->outcome));
		if (ep == NULL)
			continue;
		if (ep->group != c->group || strcmp(ep->action, c->action) != 0)
			fail_msg("%s %s: %s (%s), want %s (%s)", c->method,
			    c->target, ep->action,
			    catalogue_group_name(ep->group), c->action,
			    catalogue_group_name(c->group));
	}
}

/* Per-action facts a policy relies on, looked up through the catalogue. */
struct fact_case {
	const char		*method;
	const char		*path;
	enum effect		 effect;
	enum action_kind	 kind;
	unsigned int		 flags;
};

static const struct fact_case fact_cases[] = {
	{ "GET", "/containers/json", EFFECT_READ, KIND_NONE, 0 },
	{ "HEAD", "/_ping", EFFECT_READ, KIND_NONE, 0 },
	{ "GET", "/swarm", EFFECT_WRITE, KIND_NONE, ENDPOINT_CREDENTIAL },
	{ "GET", "/swarm/unlockkey", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_CREDENTIAL },
	{ "GET", "/containers/x/attach/ws", EFFECT_WRITE, KIND_ATTACH,
	    ENDPOINT_WRITES | ENDPOINT_STREAM | ENDPOINT_UPGRADE },
	{ "POST", "/containers/x/attach", EFFECT_WRITE, KIND_ATTACH,
	    ENDPOINT_WRITES | ENDPOINT_STREAM | ENDPOINT_UPGRADE },
	{ "POST", "/containers/x/exec", EFFECT_WRITE, KIND_EXEC,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/exec/x/start", EFFECT_WRITE, KIND_EXEC,
	    ENDPOINT_WRITES | ENDPOINT_STREAM | ENDPOINT_UPGRADE },
	{ "GET", "/containers/x/archive", EFFECT_READ, KIND_ARCHIVE, 0 },
	{ "HEAD", "/containers/x/archive", EFFECT_READ, KIND_ARCHIVE, 0 },
	{ "PUT", "/containers/x/archive", EFFECT_WRITE, KIND_ARCHIVE,
	    ENDPOINT_WRITES },
	{ "GET", "/containers/x/export", EFFECT_READ, KIND_EXPORT, 0 },
	{ "GET", "/images/get", EFFECT_READ, KIND_EXPORT, 0 },
	{ "GET", "/images/a/b:1/get", EFFECT_READ, KIND_EXPORT, 0 },
	{ "GET", "/containers/x/logs", EFFECT_READ, KIND_LOGS,
	    ENDPOINT_STREAM },
	{ "GET", "/containers/x/stats", EFFECT_READ, KIND_NONE,
	    ENDPOINT_STREAM },
	{ "GET", "/events", EFFECT_READ, KIND_NONE, ENDPOINT_STREAM },
	{ "POST", "/containers/x/wait", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_STREAM },
	{ "GET", "/containers/x/top", EFFECT_READ, KIND_TOP, 0 },
	{ "GET", "/containers/x/changes", EFFECT_READ, KIND_CHANGES, 0 },
	{ "POST", "/containers/x/start", EFFECT_WRITE, KIND_START,
	    ENDPOINT_WRITES },
	{ "POST", "/containers/x/stop", EFFECT_WRITE, KIND_STOP,
	    ENDPOINT_WRITES },
	{ "POST", "/containers/x/restart", EFFECT_WRITE, KIND_RESTART,
	    ENDPOINT_WRITES },
	{ "POST", "/containers/x/kill", EFFECT_WRITE, KIND_KILL,
	    ENDPOINT_WRITES },
	{ "POST", "/containers/x/pause", EFFECT_WRITE, KIND_PAUSE,
	    ENDPOINT_WRITES },
	{ "POST", "/containers/x/unpause", EFFECT_WRITE, KIND_UNPAUSE,
	    ENDPOINT_WRITES },
	{ "POST", "/containers/create", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/containers/x/update", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/services/create", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/services/x/update", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/volumes/create", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/plugins/pull", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/plugins/a/b:1/upgrade", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_BODY_GUARD },
	{ "POST", "/session", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_STREAM | ENDPOINT_UPGRADE },
	{ "POST", "/grpc", EFFECT_WRITE, KIND_NONE,
	    ENDPOINT_WRITES | ENDPOINT_STREAM | ENDPOINT_UPGRADE },
	{ "POST", "/build", EFFECT_WRITE, KIND_NONE, ENDPOINT_WRITES },
	{ "DELETE", "/images/a/b:1", EFFECT_WRITE, KIND_NONE, ENDPOINT_WRITES },
};

static void
test_facts(void **state)
{
	const struct fact_case	*c;
	const struct endpoint	*ep;
	size_t			 i;
	int			 ambiguous;

	for (i = 0; i < sizeof fact_cases / sizeof fact_cases[0]; i++) {
		c = &fact_cases[i];
		ep = catalogue_match(c->method, c->path, &ambiguous);
		if (ep == NULL)
			fail_msg("%s %s: no entry", c->method, c->path);
		if (catalogue_effect(ep) != c->effect)
			fail_msg("%s %s: effect %d, want %d", c->method,
			    c->path, catalogue_effect(ep), c->effect);
		if (ep->kind != c->kind)
			fail_msg("%s %s: kind %s, want %s", c->method, c->path,
			    catalogue_kind_name(ep->kind),
			    catalogue_kind_name(c->kind));
		if (ep->flags != c->flags)
			fail_msg("%s %s: flags %#x, want %#x", c->method,
			    c->path, ep->flags, c->flags);
	}
}

/*
 * Build a path from a pattern: one-segment variables get one, "{...*}"
 * gets a name holding '/', ':' and a registry port when several is set.
 */
static void
sample_path(const char *pattern, int several, char *out, size_t outsz)
{
	const char	*p = pattern, *close;
	size_t		 o = 0;
	int		 n;

	out[0] = '\0';
	while (*p != '\0') {
		if (*p != '{') {
			assert_true(o + 1 < outsz);
			out[o++] = *p++;
			out[o] = '\0';
			continue;
		}
		close = strchr(p, '}');
		assert_non_null(close);
		if (close[-1] == '*' && several)
			n = snprintf(out + o, outsz - o,
			    "reg.example:5000/team/app:1.0");
		else
			n = snprintf(out + o, outsz - o, "s%zu", o);
		assert_true(n > 0 && (size_t)n < outsz - o);
		o += (size_t)n;
		p = close + 1;
	}
}

static int
is_write_method(const char *method)
{
	return (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "DELETE") == 0);
}

/* Check one entry's pattern: anchored, canonical, variables well formed. */
static void
check_pattern(const struct endpoint *ep)
{
	const char	*seg, *end;
	size_t		 n;

	if (ep->pattern[0] != '/')
		fail_msg("%s %s: not anchored at '/'", ep->method, ep->pattern);
	for (seg = ep->pattern + 1;; seg = end + 1) {
		end = seg + strcspn(seg, "/");
		n = (size_t)(end - seg);
		if (n == 0)
			fail_msg("%s %s: empty segment", ep->method,
			    ep->pattern);
		if (seg[0] == '{' && (n < 3 || seg[n - 1] != '}'))
			fail_msg("%s %s: bad variable", ep->method,
			    ep->pattern);
		if (seg[0] != '{' && memchr(seg, '{', n) != NULL)
			fail_msg("%s %s: variable inside a segment",
			    ep->method, ep->pattern);
		/* Only image, plugin and distribution names hold '/'. */
		if (seg[0] == '{' && seg[n - 2] == '*' &&
		    ep->group != GROUP_IMAGES && ep->group != GROUP_PLUGINS &&
		    ep->group != GROUP_DISTRIBUTION)
			fail_msg("%s %s: several segments outside names",
			    ep->method, ep->pattern);
		if (*end == '\0')
			break;
	}
}

/* Check what one entry's flags, kind, group and action say together. */
static void
check_entry(const struct endpoint *ep)
{
	const char	*kname = catalogue_kind_name(ep->kind);
	const char	*gname = catalogue_group_name(ep->group);
	char		 want[64];

	if (ep->group <= GROUP_UNKNOWN || ep->group >= GROUP_COUNT)
		fail_msg("%s %s: no group", ep->method, ep->pattern);
	if (strncmp(ep->action, gname, strlen(gname)) != 0 ||
	    ep->action[strlen(gname)] != '.' ||
	    ep->action[strlen(gname) + 1] == '\0')
		fail_msg("%s %s: action %s outside group %s", ep->method,
		    ep->pattern, ep->action, gname);

	if (strcmp(ep->method, "GET") != 0 && strcmp(ep->method, "HEAD") != 0 &&
	    !is_write_method(ep->method))
		fail_msg("%s %s: method", ep->method, ep->pattern);
	if (is_write_method(ep->method) && !(ep->flags & ENDPOINT_WRITES))
		fail_msg("%s %s: does not write", ep->method, ep->pattern);
	/* A GET can only write once it has switched protocols. */
	if (!is_write_method(ep->method) && (ep->flags & ENDPOINT_WRITES) &&
	    !(ep->flags & ENDPOINT_UPGRADE))
		fail_msg("%s %s: writing GET", ep->method, ep->pattern);
	if ((ep->flags & ENDPOINT_BODY_GUARD) &&
	    (strcmp(ep->method, "POST") != 0 ||
	    !(ep->flags & ENDPOINT_WRITES)))
		fail_msg("%s %s: guarded body on no write", ep->method,
		    ep->pattern);
	if ((ep->flags & ENDPOINT_UPGRADE) &&
	    (ep->flags & (ENDPOINT_STREAM | ENDPOINT_WRITES)) !=
	    (ENDPOINT_STREAM | ENDPOINT_WRITES))
		fail_msg("%s %s: upgrade that neither streams nor writes",
		    ep->method, ep->pattern);
	if (catalogue_effect(ep) == EFFECT_READ &&
	    (ep->flags & (ENDPOINT_WRITES | ENDPOINT_CREDENTIAL |
	    ENDPOINT_BODY_GUARD | ENDPOINT_UPGRADE)))
		fail_msg("%s %s: read that writes", ep->method, ep->pattern);
	if ((ep->flags & ENDPOINT_CREDENTIAL) &&
	    catalogue_effect(ep) != EFFECT_WRITE)
		fail_msg("%s %s: credential readable", ep->method,
		    ep->pattern);

	switch (ep->kind) {
	case KIND_NONE:
		break;
	case KIND_START:
	case KIND_STOP:
	case KIND_RESTART:
	case KIND_KILL:
	case KIND_PAUSE:
	case KIND_UNPAUSE:
		snprintf(want, sizeof want, "/containers/{id}/%s", kname);
		if (strcmp(ep->method, "POST") != 0 ||
		    strcmp(ep->pattern, want) != 0)
			fail_msg("%s %s: kind %s", ep->method, ep->pattern,
			    kname);
		break;
	case KIND_LOGS:
	case KIND_TOP:
	case KIND_CHANGES:
		snprintf(want, sizeof want, "/containers/{id}/%s", kname);
		if (strcmp(ep->method, "GET") != 0 ||
		    strcmp(ep->pattern, want) != 0)
			fail_msg("%s %s: kind %s", ep->method, ep->pattern,
			    kname);
		break;
	case KIND_ARCHIVE:
		if (ep->group != GROUP_CONTAINERS)
			fail_msg("%s %s: archive", ep->method, ep->pattern);
		break;
	case KIND_EXPORT:
		if (ep->group != GROUP_CONTAINERS && ep->group != GROUP_IMAGES)
			fail_msg("%s %s: export", ep->method, ep->pattern);
		break;
	case KIND_ATTACH:
	case KIND_EXEC:
		if (ep->group != GROUP_EXEC)
			fail_msg("%s %s: kind %s outside exec", ep->method,
			    ep->pattern, kname);
		break;
	default:
		fail_msg("%s %s: kind %d", ep->method, ep->pattern, ep->kind);
	}

	if (ep->since != NULL &&
	    (strspn(ep->since, "0123456789.") != strlen(ep->since) ||
	    strncmp(ep->since, "1.", 2) != 0 || strlen(ep->since) < 4 ||
	    strcmp(ep->since, "1.42") < 0))
		fail_msg("%s %s: since %s", ep->method, ep->pattern,
		    ep->since);
}

/*
 * Every entry obeys the rules above, is unique, and a path built from its
 * pattern reaches it, and only it, through the canonical form.
 */
static void
test_table(void **state)
{
	const struct endpoint	*table, *ep, *got;
	struct target		 t;
	char			 path[SAMPLE_MAX], target[SAMPLE_MAX + 8];
	const char		*why;
	size_t			 n, i, j;
	int			 several, ambiguous, seen[GROUP_COUNT];

	memset(seen, 0, sizeof seen);
	table = catalogue_entries(&n);
	assert_true(n > 100);

	for (i = 0; i < n; i++) {
		ep = &table[i];
		check_pattern(ep);
		check_entry(ep);
		seen[ep->group]++;
		for (j = 0; j < i; j++) {
			if (strcmp(table[j].method, ep->method) == 0 &&
			    strcmp(table[j].pattern, ep->pattern) == 0)
				fail_msg("%s %s: twice", ep->method,
				    ep->pattern);
		}

		for (several = 0; several < 2; several++) {
			sample_path(ep->pattern, several, path, sizeof path);
			snprintf(target, sizeof target, "/v1.41%s", path);
			if (canon_target(target, strlen(target), &t, &why) != 0)
				fail_msg("%s: %s", target, why);
			assert_string_equal(t.path, path);
			got = catalogue_match(ep->method, t.path, &ambiguous);
			canon_clear(&t);
			if (got != ep)
				fail_msg("%s %s reaches %s (ambiguous %d)",
				    ep->method, path, got ? got->action :
				    "nothing", ambiguous);
		}
	}

	for (i = GROUP_UNKNOWN + 1; i < GROUP_COUNT; i++) {
		if (seen[i] == 0)
			fail_msg("group %s has no entry",
			    catalogue_group_name((enum endpoint_group)i));
	}
}

/* The credential and body-guard sets are the ones DESIGN.md names. */
static void
test_sets(void **state)
{
	static const char	*guarded[] = { "containers.create",
	    "containers.update", "exec.create", "services.create",
	    "services.update", "volumes.create", "plugins.pull",
	    "plugins.upgrade" };
	static const char	*credential[] = { "swarm.inspect",
	    "swarm.unlockkey" };
	const struct endpoint	*table;
	size_t			 n, i, k, nguard = 0, ncred = 0;
	int			 listed;

	table = catalogue_entries(&n);
	for (i = 0; i < n; i++) {
		if (table[i].flags & ENDPOINT_BODY_GUARD) {
			nguard++;
			for (listed = 0, k = 0; k < 8; k++)
				listed |= !strcmp(table[i].action, guarded[k]);
			if (!listed)
				fail_msg("%s guarded", table[i].action);
		}
		if (table[i].flags & ENDPOINT_CREDENTIAL) {
			ncred++;
			for (listed = 0, k = 0; k < 2; k++)
				listed |= !strcmp(table[i].action,
				    credential[k]);
			if (!listed)
				fail_msg("%s credential", table[i].action);
		}
	}
	assert_int_equal(nguard, sizeof guarded / sizeof guarded[0]);
	assert_int_equal(ncred, sizeof credential / sizeof credential[0]);
}

/* Names of groups and kinds, both ways. */
static void
test_names(void **state)
{
	const char	*name, *var;
	char		 upper[32];
	size_t		 i, k;
	int		 g;

	assert_string_equal(catalogue_group_name(GROUP_UNKNOWN), "unknown");
	assert_null(catalogue_group_variable(GROUP_UNKNOWN));
	assert_string_equal(catalogue_group_name(GROUP_CONTAINERS),
	    "containers");
	assert_string_equal(catalogue_group_variable(GROUP_CONTAINERS),
	    "CONTAINERS");
	assert_string_equal(catalogue_group_variable(GROUP_PING), "PING");

	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++) {
		name = catalogue_group_name((enum endpoint_group)g);
		var = catalogue_group_variable((enum endpoint_group)g);
		assert_non_null(var);
		assert_true(strlen(name) < sizeof upper);
		for (i = 0; name[i] != '\0'; i++) {
			assert_true(name[i] >= 'a' && name[i] <= 'z');
			upper[i] = (char)(name[i] - 'a' + 'A');
		}
		upper[i] = '\0';
		assert_string_equal(var, upper);
		assert_int_equal(catalogue_group_from_name(name), g);
		assert_int_equal(catalogue_group_from_name(var), g);
		for (k = 0; k < (size_t)g; k++)
			assert_true(strcmp(name, catalogue_group_name(
			    (enum endpoint_group)k)) != 0);
	}
	assert_int_equal(catalogue_group_from_name("Exec"), GROUP_EXEC);
	assert_int_equal(catalogue_group_from_name("unknown"), GROUP_UNKNOWN);
	assert_int_equal(catalogue_group_from_name("container"),
	    GROUP_UNKNOWN);
	assert_int_equal(catalogue_group_from_name("containersx"),
	    GROUP_UNKNOWN);
	assert_int_equal(catalogue_group_from_name("POST"), GROUP_UNKNOWN);
	assert_int_equal(catalogue_group_from_name(""), GROUP_UNKNOWN);

	assert_string_equal(catalogue_kind_name(KIND_START), "start");
	assert_string_equal(catalogue_kind_name(KIND_ARCHIVE), "archive");
	assert_string_equal(catalogue_kind_name(KIND_EXPORT), "export");
	assert_string_equal(catalogue_kind_name(KIND_RESTART), "restart");
	for (g = 0; g < KIND_COUNT; g++) {
		name = catalogue_kind_name((enum action_kind)g);
		assert_true(name != NULL && name[0] != '\0');
		for (k = 0; k < (size_t)g; k++)
			assert_true(strcmp(name, catalogue_kind_name(
			    (enum action_kind)k)) != 0);
	}
}

/* Two actions on one path make it ambiguous; one action twice does not. */
static void
test_ambiguous(void **state)
{
	static const struct endpoint	table[] = {
		{ "GET", "/things/{name*}/json", "things.inspect",
		    GROUP_IMAGES, KIND_NONE, 0, NULL },
		{ "GET", "/things/{id}/{name*}", "things.other",
		    GROUP_IMAGES, KIND_NONE, 0, NULL },
		{ "GET", "/stuff/{id}", "stuff.get", GROUP_IMAGES, KIND_NONE,
		    0, NULL },
		{ "GET", "/stuff/{name*}", "stuff.get", GROUP_IMAGES,
		    KIND_NONE, 0, NULL },
		{ "HEAD", "/stuff/{id}", "stuff.head", GROUP_IMAGES,
		    KIND_NONE, 0, NULL },
	};
	const struct endpoint	*ep;
	size_t			 n = sizeof table / sizeof table[0];
	int			 ambiguous;

	ep = catalogue_match_in(table, n, "GET", "/things/a/json", &ambiguous);
	assert_null(ep);
	assert_int_equal(ambiguous, 1);
	ep = catalogue_match_in(table, n, "HEAD", "/things/a/json",
	    &ambiguous);
	assert_null(ep);
	assert_int_equal(ambiguous, 1);

	ep = catalogue_match_in(table, n, "GET", "/things/a/b/json",
	    &ambiguous);
	assert_null(ep);
	assert_int_equal(ambiguous, 1);
	ep = catalogue_match_in(table, n, "GET", "/things/a/b/c", &ambiguous);
	assert_ptr_equal(ep, &table[1]);
	assert_int_equal(ambiguous, 0);

	ep = catalogue_match_in(table, n, "GET", "/stuff/a", &ambiguous);
	assert_ptr_equal(ep, &table[2]);
	assert_int_equal(ambiguous, 0);
	ep = catalogue_match_in(table, n, "HEAD", "/stuff/a", &ambiguous);
	assert_ptr_equal(ep, &table[4]);
	ep = catalogue_match_in(table, n, "HEAD", "/stuff/a/b", &ambiguous);
	assert_ptr_equal(ep, &table[3]);

	ep = catalogue_match_in(table, n, "GET", "/things/json", &ambiguous);
	assert_null(ep);
	assert_int_equal(ambiguous, 0);
	assert_null(catalogue_match_in(table, n, "GET", "/stuff", NULL));
	assert_null(catalogue_match_in(table, n, "GET", "/stuff/", NULL));
	assert_null(catalogue_match_in(table, n, "GET", "/stuff/a//b", NULL));
	assert_null(catalogue_match_in(table, n, "GET", "", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_facts),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ambiguous),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
