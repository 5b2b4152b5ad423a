/*
 * Unit tests of policy.c: the effect rule over the whole catalogue, the
 * verdicts the images' environments give real requests, and the message
 * a denied client reads.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dspd.h"
#include "fake_env.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Variables of one environment, "NAME=value"; NULL ends the list. */
#define ENV_CASE_MAX	6

/* Room for a 403 message in these tests. */
#define EXPLAIN_SIZE	1024

/* The policy of an environment; the test fails if it is refused. */
static void
policy_of(const char *const *env, struct policy *p)
{
	char	err[256];

	fake_env = env;
	if (env_policy(p, fake_lookup, err, sizeof(err)) != 0)
		fail_msg("environment refused: %s", err);
}

/* The catalogue's endpoint for a request the test expects it to know. */
static const struct endpoint *
known(const char *method, const char *path)
{
	const struct endpoint	*ep;
	int			 ambiguous = 0;

	ep = catalogue_match(method, path, &ambiguous);
	if (ep == NULL)
		fail_msg("the catalogue does not know %s %s", method, path);
	return (ep);
}

/*
 * DESIGN step 5: with read access to every group and no override, no
 * endpoint the policy lets through writes or returns a credential.  The
 * same policy must still let reads through, or the rule holds vacuously.
 */
static void
test_read_access_is_harmless(void **state)
{
	const struct endpoint	*entries, *ep;
	struct policy		 p;
	size_t			 n, i, allowed = 0, denied = 0;
	int			 g;

	policy_init(&p);
	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++)
		p.access[g] = ACCESS_READ;

	entries = catalogue_entries(&n);
	assert_non_null(entries);
	/* dockerd's router has over a hundred routes besides its debug ones. */
	assert_true(n >= 100);
	for (i = 0; i < n; i++) {
		ep = &entries[i];
		if (policy_decide(&p, ep) == VERDICT_DENY) {
			denied++;
			continue;
		}
		allowed++;
		if (ep->flags & (ENDPOINT_WRITES | ENDPOINT_CREDENTIAL))
			fail_msg("read access allows %s %s (%s), which %s",
			    ep->method, ep->pattern, ep->action,
			    (ep->flags & ENDPOINT_WRITES) ? "writes" :
			    "returns a credential");
		if (ep->kind == KIND_ARCHIVE || ep->kind == KIND_EXPORT)
			fail_msg("read access allows %s %s (%s) without "
			    "its override", ep->method, ep->pattern,
			    ep->action);
	}
	assert_true(allowed > 0);
	assert_true(denied > 0);
}

/*
 * The other side: with write access everywhere and no override, every
 * endpoint passes but archive and export; and no policy ever answers
 * bypass.
 */
static void
test_write_access_allows_all_but_exfiltration(void **state)
{
	const struct endpoint	*entries, *ep;
	struct policy		 p;
	enum verdict		 v, want;
	size_t			 n, i;
	int			 g;

	policy_init(&p);
	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++)
		p.access[g] = ACCESS_WRITE;

	entries = catalogue_entries(&n);
	for (i = 0; i < n; i++) {
		ep = &entries[i];
		want = VERDICT_ALLOW;
		if (ep->kind == KIND_ARCHIVE || ep->kind == KIND_EXPORT)
			want = VERDICT_DENY;
		v = policy_decide(&p, ep);
		if (v != want)
			fail_msg("write access: %s %s (%s) is %s, want %s",
			    ep->method, ep->pattern, ep->action,
			    policy_verdict_name(v), policy_verdict_name(want));
	}

	policy_init(&p);
	for (i = 0; i < n; i++)
		assert_int_equal(policy_decide(&p, &entries[i]), VERDICT_DENY);
}

/* A request the catalogue does not know is denied whatever the policy. */
static void
test_unknown_is_denied(void **state)
{
	struct policy	p;
	int		g, k;

	policy_init(&p);
	for (g = 0; g < GROUP_COUNT; g++)
		p.access[g] = ACCESS_WRITE;
	for (k = 0; k < KIND_COUNT; k++)
		p.override[k] = OVERRIDE_ALLOW;
	assert_int_equal(policy_decide(&p, NULL), VERDICT_DENY);
}

/* Overrides set at run time, beyond what the environment can express. */
static void
test_runtime_overrides(void **state)
{
	const struct endpoint	*start, *attach, *logs, *archive;
	struct policy		 p;

	start = known("POST", "/containers/abc/start");
	attach = known("POST", "/containers/abc/attach");
	logs = known("GET", "/containers/abc/logs");
	archive = known("GET", "/containers/abc/archive");

	/* A deny beats write access. */
	policy_init(&p);
	p.access[GROUP_CONTAINERS] = ACCESS_WRITE;
	p.access[GROUP_EXEC] = ACCESS_WRITE;
	p.override[KIND_START] = OVERRIDE_DENY;
	p.override[KIND_ATTACH] = OVERRIDE_DENY;
	assert_int_equal(policy_decide(&p, start), VERDICT_DENY);
	assert_int_equal(policy_decide(&p, attach), VERDICT_DENY);
	assert_int_equal(policy_decide(&p, logs), VERDICT_ALLOW);

	/* An allow outside the carve-outs does not open a group that is off. */
	policy_init(&p);
	p.override[KIND_ATTACH] = OVERRIDE_ALLOW;
	p.override[KIND_LOGS] = OVERRIDE_ALLOW;
	p.override[KIND_ARCHIVE] = OVERRIDE_ALLOW;
	assert_int_equal(policy_decide(&p, attach), VERDICT_DENY);
	assert_int_equal(policy_decide(&p, logs), VERDICT_DENY);
	assert_int_equal(policy_decide(&p, archive), VERDICT_DENY);
	p.access[GROUP_CONTAINERS] = ACCESS_READ;
	assert_int_equal(policy_decide(&p, logs), VERDICT_ALLOW);
	assert_int_equal(policy_decide(&p, archive), VERDICT_ALLOW);

	/* A carve-out needs no group at all. */
	policy_init(&p);
	p.override[KIND_START] = OVERRIDE_ALLOW;
	assert_int_equal(policy_decide(&p, start), VERDICT_ALLOW);
}

/* One request under one environment, and the verdict a user expects. */
struct verdict_case {
	const char	*env[ENV_CASE_MAX];
	const char	*method;
	const char	*path;		/* canonical: no version prefix */
	enum verdict	 want;
};

#define ALLOW	VERDICT_ALLOW
#define DENY	VERDICT_DENY

static const struct verdict_case verdict_cases[] = {
	/* The images' defaults: ping, version and events only. */
	{ { NULL }, "GET", "/_ping", ALLOW },
	{ { NULL }, "HEAD", "/_ping", ALLOW },
	{ { NULL }, "GET", "/version", ALLOW },
	{ { NULL }, "GET", "/events", ALLOW },
	{ { NULL }, "GET", "/containers/json", DENY },
	{ { NULL }, "GET", "/containers/abc/json", DENY },
	{ { NULL }, "GET", "/info", DENY },
	{ { NULL }, "GET", "/secrets", DENY },
	{ { NULL }, "GET", "/images/json", DENY },
	{ { NULL }, "POST", "/containers/create", DENY },
	{ { "PING=0" }, "HEAD", "/_ping", DENY },
	{ { "EVENTS=0" }, "GET", "/events", DENY },
	{ { "INFO=1" }, "GET", "/info", ALLOW },

	/* Traefik, Homepage and Dozzle: CONTAINERS=1 and nothing more. */
	{ { "CONTAINERS=1" }, "GET", "/containers/json", ALLOW },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/json", ALLOW },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/logs", ALLOW },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/stats", ALLOW },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/top", ALLOW },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/changes", ALLOW },
	{ { "CONTAINERS=1" }, "POST", "/containers/create", DENY },
	{ { "CONTAINERS=1" }, "DELETE", "/containers/abc", DENY },
	{ { "CONTAINERS=1" }, "POST", "/containers/abc/start", DENY },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/archive", DENY },
	{ { "CONTAINERS=1" }, "HEAD", "/containers/abc/archive", DENY },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/export", DENY },
	{ { "CONTAINERS=1" }, "POST", "/containers/abc/attach", DENY },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/attach/ws", DENY },
	{ { "CONTAINERS=1" }, "POST", "/containers/abc/exec", DENY },

	/* LinuxServer's carve-outs work with POST=0. */
	{ { "CONTAINERS=1", "ALLOW_START=1", "ALLOW_STOP=1", "POST=0" },
	  "POST", "/containers/abc/start", ALLOW },
	{ { "CONTAINERS=1", "ALLOW_START=1", "ALLOW_STOP=1", "POST=0" },
	  "POST", "/containers/abc/stop", ALLOW },
	{ { "CONTAINERS=1", "ALLOW_START=1", "ALLOW_STOP=1", "POST=0" },
	  "POST", "/containers/create", DENY },
	{ { "CONTAINERS=1", "ALLOW_START=1", "ALLOW_STOP=1", "POST=0" },
	  "DELETE", "/containers/abc", DENY },
	{ { "CONTAINERS=1", "ALLOW_START=1", "ALLOW_STOP=1", "POST=0" },
	  "POST", "/containers/abc/kill", DENY },
	{ { "CONTAINERS=1", "ALLOW_START=1", "ALLOW_STOP=1", "POST=0" },
	  "POST", "/containers/abc/restart", DENY },
	{ { "ALLOW_START=1" }, "POST", "/containers/abc/start", ALLOW },
	{ { "ALLOW_START=1" }, "GET", "/containers/abc/json", DENY },
	{ { "CONTAINERS=1", "ALLOW_RESTARTS=1" },
	  "POST", "/containers/abc/restart", ALLOW },
	{ { "CONTAINERS=1", "ALLOW_RESTARTS=1" },
	  "POST", "/containers/abc/stop", ALLOW },
	{ { "CONTAINERS=1", "ALLOW_RESTARTS=1" },
	  "POST", "/containers/abc/kill", ALLOW },
	{ { "CONTAINERS=1", "ALLOW_RESTARTS=1" },
	  "POST", "/containers/abc/start", DENY },
	{ { "CONTAINERS=1", "ALLOW_RESTARTS=1" },
	  "POST", "/containers/abc/pause", DENY },
	{ { "ALLOW_KILL=1" }, "POST", "/containers/abc/kill", ALLOW },
	{ { "ALLOW_KILL=1" }, "POST", "/containers/abc/stop", DENY },
	{ { "ALLOW_PAUSE=1", "ALLOW_UNPAUSE=1" },
	  "POST", "/containers/abc/pause", ALLOW },
	{ { "ALLOW_PAUSE=1", "ALLOW_UNPAUSE=1" },
	  "POST", "/containers/abc/unpause", ALLOW },
	{ { "ALLOW_PAUSE=1" }, "POST", "/containers/abc/unpause", DENY },

	/* Write access, but archive, export and exec stay apart. */
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/create", ALLOW },
	{ { "CONTAINERS=1", "POST=1" }, "DELETE", "/containers/abc", ALLOW },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/abc/start",
	  ALLOW },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/abc/rename",
	  ALLOW },
	{ { "CONTAINERS=1", "POST=1" }, "GET", "/containers/abc/archive",
	  DENY },
	{ { "CONTAINERS=1", "POST=1" }, "PUT", "/containers/abc/archive",
	  DENY },
	{ { "CONTAINERS=1", "POST=1" }, "GET", "/containers/abc/export",
	  DENY },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/abc/exec",
	  DENY },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/abc/attach",
	  DENY },
	{ { "POST=1" }, "POST", "/containers/create", DENY },
	{ { "CONTAINERS=1", "POST=1", "EXEC=1" },
	  "POST", "/containers/abc/exec", ALLOW },
	{ { "CONTAINERS=1", "POST=1", "EXEC=1" },
	  "POST", "/exec/abc/start", ALLOW },
	{ { "CONTAINERS=1", "POST=1", "EXEC=1" },
	  "POST", "/exec/abc/resize", ALLOW },
	{ { "CONTAINERS=1", "POST=1", "EXEC=1" },
	  "GET", "/exec/abc/json", ALLOW },
	{ { "CONTAINERS=1", "POST=1", "EXEC=1" },
	  "POST", "/containers/abc/attach", ALLOW },
	{ { "EXEC=1", "POST=0" }, "POST", "/exec/abc/start", DENY },
	{ { "EXEC=1", "POST=0" }, "GET", "/exec/abc/json", ALLOW },
	{ { "EXEC=1", "POST=0" }, "POST", "/containers/abc/exec", DENY },
	{ { "EXEC=1", "POST=0" }, "GET", "/containers/abc/attach/ws", DENY },

	/* Swarm's join tokens and unlock key are credentials. */
	{ { "SWARM=1", "POST=0" }, "GET", "/swarm", DENY },
	{ { "SWARM=1", "POST=0" }, "GET", "/swarm/unlockkey", DENY },
	{ { "SWARM=1", "POST=1" }, "GET", "/swarm", ALLOW },
	{ { "SWARM=1", "POST=1" }, "GET", "/swarm/unlockkey", ALLOW },

	/* Archive and export come only on their own switch. */
	{ { "ALLOW_ARCHIVE=1", "CONTAINERS=1" },
	  "GET", "/containers/abc/archive", ALLOW },
	{ { "ALLOW_ARCHIVE=1", "CONTAINERS=1" },
	  "HEAD", "/containers/abc/archive", ALLOW },
	{ { "ALLOW_ARCHIVE=1", "CONTAINERS=1" },
	  "PUT", "/containers/abc/archive", DENY },
	{ { "ALLOW_ARCHIVE=1", "CONTAINERS=1" },
	  "GET", "/containers/abc/export", DENY },
	{ { "ALLOW_ARCHIVE=1", "CONTAINERS=1", "POST=1" },
	  "PUT", "/containers/abc/archive", ALLOW },
	{ { "ALLOW_ARCHIVE=1" }, "GET", "/containers/abc/archive", DENY },
	{ { "ALLOW_EXPORT=1", "CONTAINERS=1" },
	  "GET", "/containers/abc/export", ALLOW },
	{ { "IMAGES=1" }, "GET", "/images/json", ALLOW },
	{ { "IMAGES=1" }, "GET", "/images/registry.local:5000/team/app:1.0/json",
	  ALLOW },
	{ { "IMAGES=1" }, "GET", "/images/get", DENY },
	{ { "IMAGES=1" }, "GET", "/images/busybox/get", DENY },
	{ { "IMAGES=1", "ALLOW_EXPORT=1" }, "GET", "/images/get", ALLOW },
	{ { "IMAGES=1", "ALLOW_EXPORT=1" }, "GET", "/images/busybox/get",
	  ALLOW },
	{ { "IMAGES=1", "ALLOW_EXPORT=1" }, "GET", "/containers/abc/export",
	  DENY },

	/* LinuxServer's logs, top and changes switches, honoured when set. */
	{ { "ALLOW_LOGS=0", "CONTAINERS=1" }, "GET", "/containers/abc/logs",
	  DENY },
	{ { "ALLOW_LOGS=0", "CONTAINERS=1" }, "GET", "/containers/abc/json",
	  ALLOW },
	{ { "ALLOW_LOGS=0", "CONTAINERS=1" }, "GET", "/containers/abc/top",
	  ALLOW },
	{ { "ALLOW_LOGS=1" }, "GET", "/containers/abc/logs", DENY },
	{ { "ALLOW_LOGS=1", "CONTAINERS=1" }, "GET", "/containers/abc/logs",
	  ALLOW },
	{ { "ALLOW_TOP=0", "CONTAINERS=1" }, "GET", "/containers/abc/top",
	  DENY },
	{ { "ALLOW_CHANGES=0", "CONTAINERS=1" },
	  "GET", "/containers/abc/changes", DENY }
};

#undef ALLOW
#undef DENY

static void
test_verdicts(void **state)
{
	const struct verdict_case	*c;
	const struct endpoint		*ep;
	struct policy			 p;
	enum verdict			 v;
	size_t				 i;

	for (i = 0; i < nitems(verdict_cases); i++) {
		c = &verdict_cases[i];
		policy_of(c->env, &p);
		ep = known(c->method, c->path);
		v = policy_decide(&p, ep);
		if (v != c->want)
			fail_msg("case %zu: %s %s with %s%s is %s, want %s", i,
			    c->method, c->path,
			    c->env[0] != NULL ? c->env[0] : "the defaults",
			    c->env[0] != NULL && c->env[1] != NULL ?
			    " ..." : "", policy_verdict_name(v),
			    policy_verdict_name(c->want));
	}
}

/* The two messages the brief of this module spells out in full. */
static void
test_explain_exact(void **state)
{
	static const char *const	 none[] = { NULL };
	static const char *const	 containers[] = {
		"CONTAINERS=1", NULL
	};
	const struct endpoint		*ep;
	struct policy			 p;
	char				 got[EXPLAIN_SIZE], want[EXPLAIN_SIZE];
	size_t				 n;

	policy_of(none, &p);
	ep = known("GET", "/containers/json");
	n = policy_explain(&p, ep, "GET", "/containers/json", got,
	    sizeof(got));
	snprintf(want, sizeof(want), "GET /containers/json is denied: "
	    "action %s of group containers needs read access, and "
	    "containers is off; allow it with CONTAINERS=1 or 'dspctl allow "
	    "containers'", ep->action);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));

	policy_of(containers, &p);
	ep = known("POST", "/containers/create");
	n = policy_explain(&p, ep, "POST", "/containers/create", got,
	    sizeof(got));
	snprintf(want, sizeof(want), "POST /containers/create is denied: "
	    "action %s of group containers needs write access, and "
	    "containers is read-only; allow it with CONTAINERS=1 POST=1 or "
	    "'dspctl allow containers --write'", ep->action);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));

	n = policy_explain(&p, NULL, "GET", "/foo", got, sizeof(got));
	assert_string_equal(got, "GET /foo is denied: dsp does not know this "
	    "endpoint");
	assert_int_equal(n, strlen(got));
}

/*
 * Each row: a denied request, the phrases its message must hold beyond
 * the method, path, group and action, and one it must not.
 */
static const struct {
	const char	*env[ENV_CASE_MAX];
	const char	*method;
	const char	*path;
	const char	*needles[4];
	const char	*absent;
} explain_cases[] = {
	{ { NULL }, "GET", "/containers/abc/archive",
	  { "off unless allowed on its own", "ALLOW_ARCHIVE=1 (and "
	    "CONTAINERS=1)", "'dspctl allow --action archive'",
	    "'dspctl allow containers'" }, "POST=1" },
	{ { "CONTAINERS=1" }, "GET", "/containers/abc/archive",
	  { "off unless allowed on its own", "allow it with ALLOW_ARCHIVE=1 "
	    "or 'dspctl allow --action archive'" }, "(and" },
	{ { "ALLOW_ARCHIVE=1", "CONTAINERS=1" }, "PUT",
	  "/containers/abc/archive",
	  { "needs write access", "is read-only", "CONTAINERS=1 POST=1",
	    "'dspctl allow containers --write'" }, "ALLOW_ARCHIVE" },
	{ { "IMAGES=1" }, "GET", "/images/get",
	  { "off unless allowed on its own", "ALLOW_EXPORT=1",
	    "'dspctl allow --action export'" }, "IMAGES=1" },
	{ { "ALLOW_LOGS=0", "CONTAINERS=1" }, "GET", "/containers/abc/logs",
	  { "turned off by ALLOW_LOGS=0", "allow it with ALLOW_LOGS=1 or "
	    "'dspctl allow --action logs'" }, "(and" },
	{ { "ALLOW_TOP=0" }, "GET", "/containers/abc/top",
	  { "turned off by ALLOW_TOP=0", "ALLOW_TOP=1 (and CONTAINERS=1)" },
	  "POST=1" },
	{ { "CONTAINERS=1" }, "POST", "/containers/abc/start",
	  { "needs write access", "ALLOW_START=1 or CONTAINERS=1 POST=1",
	    "'dspctl allow --action start'",
	    "'dspctl allow containers --write'" }, NULL },
	{ { "CONTAINERS=1" }, "POST", "/containers/abc/restart",
	  { "ALLOW_RESTARTS=1", "CONTAINERS=1 POST=1" }, NULL },
	{ { "SWARM=1" }, "GET", "/swarm/unlockkey",
	  { "needs write access because it returns a credential",
	    "swarm is read-only", "SWARM=1 POST=1",
	    "'dspctl allow swarm --write'" }, NULL },
	{ { "EXEC=1" }, "POST", "/exec/abc/start",
	  { "needs write access", "EXEC=1 POST=1",
	    "'dspctl allow exec --write'" }, "CONTAINERS" },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/abc/exec",
	  { "exec is off", "EXEC=1 POST=1" }, NULL },
	{ { NULL }, "GET", "/info",
	  { "info is off", "allow it with INFO=1 or 'dspctl allow info'" },
	  "POST=1" }
};

static void
test_explain_names(void **state)
{
	const struct endpoint	*ep;
	struct policy		 p;
	char			 text[EXPLAIN_SIZE];
	const char		*must[4];
	size_t			 i, j;

	for (i = 0; i < nitems(explain_cases); i++) {
		policy_of(explain_cases[i].env, &p);
		ep = known(explain_cases[i].method, explain_cases[i].path);
		if (policy_decide(&p, ep) != VERDICT_DENY)
			fail_msg("case %zu: %s %s is not denied", i,
			    explain_cases[i].method, explain_cases[i].path);
		policy_explain(&p, ep, explain_cases[i].method,
		    explain_cases[i].path, text, sizeof(text));

		must[0] = explain_cases[i].method;
		must[1] = explain_cases[i].path;
		must[2] = catalogue_group_name(ep->group);
		must[3] = ep->action;
		for (j = 0; j < nitems(must); j++) {
			if (strstr(text, must[j]) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				    text, must[j]);
		}
		if (strncmp(text, must[0], strlen(must[0])) != 0 ||
		    strstr(text, " is denied: ") == NULL)
			fail_msg("case %zu: \"%s\" does not open with the "
			    "request and its verdict", i, text);
		for (j = 0; j < nitems(explain_cases[i].needles); j++) {
			if (explain_cases[i].needles[j] == NULL)
				break;
			if (strstr(text, explain_cases[i].needles[j]) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				    text, explain_cases[i].needles[j]);
		}
		if (explain_cases[i].absent != NULL &&
		    strstr(text, explain_cases[i].absent) != NULL)
			fail_msg("case %zu: \"%s\" holds \"%s\"", i, text,
			    explain_cases[i].absent);
	}
}

/* A short buffer gets the start of the text; the length is the whole. */
static void
test_explain_truncates(void **state)
{
	static const char *const	 none[] = { NULL };
	const struct endpoint		*ep;
	struct policy			 p;
	char				 full[EXPLAIN_SIZE], part[24];
	size_t				 n, m, cut;

	policy_of(none, &p);
	ep = known("POST", "/containers/abc/start");
	n = policy_explain(&p, ep, "POST", "/containers/abc/start", full,
	    sizeof(full));
	assert_true(n > sizeof(part));
	assert_int_equal(n, strlen(full));

	for (cut = 1; cut <= sizeof(part); cut++) {
		memset(part, 'x', sizeof(part));
		m = policy_explain(&p, ep, "POST", "/containers/abc/start",
		    part, cut);
		assert_int_equal(m, n);
		assert_int_equal(strlen(part), cut - 1);
		assert_memory_equal(part, full, cut - 1);
	}
	assert_int_equal(policy_explain(&p, ep, "POST",
	    "/containers/abc/start", NULL, 0), n);
}

static void
test_names(void **state)
{
	assert_string_equal(policy_access_name(ACCESS_OFF), "off");
	assert_string_equal(policy_access_name(ACCESS_READ), "read");
	assert_string_equal(policy_access_name(ACCESS_WRITE), "write");
	assert_string_equal(policy_verdict_name(VERDICT_ALLOW), "allow");
	assert_string_equal(policy_verdict_name(VERDICT_DENY), "deny");
	assert_string_equal(policy_verdict_name(VERDICT_BYPASS), "bypass");
}

/* A policy survives the trip through the store's JSON form unchanged. */
static void
test_json_round_trip(void **state)
{
	static const char *const	 envs[][ENV_CASE_MAX] = {
		{ NULL },
		{ "CONTAINERS=1", "POST=1", "EXEC=1", NULL },
		{ "CONTAINERS=1", "ALLOW_START=1", "ALLOW_LOGS=0", NULL },
		{ "IMAGES=1", "ALLOW_EXPORT=1", "ALLOW_ARCHIVE=1", "PING=0",
		    NULL },
	};
	struct policy	 p, q;
	char		*text, err[256];
	size_t		 i;

	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		policy_of(envs[i], &p);
		text = policy_to_json(&p);
		assert_non_null(text);
		memset(&q, 0xff, sizeof(q));
		q.revision = 7;
		if (policy_from_json(text, 0, &q, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(q.revision, 7);
		q.revision = p.revision;
		assert_memory_equal(&p, &q, sizeof(p));
		free(text);
	}
}

/* A state the daemon does not understand is refused, not half-read. */
static void
test_json_refused(void **state)
{
	static const char *const	 bad[] = {
		"", "[]", "{\"access\": []}",
		"{\"access\": {\"containers\": \"all\"}}",
		"{\"access\": {\"nosuch\": \"read\"}}",
		"{\"overrides\": {\"start\": \"maybe\"}}",
		"{\"overrides\": {\"fly\": \"allow\"}}",
		"{\"access\": {\"info\": \"read\", \"info\": \"off\"}}",
	};
	struct policy	 p, before;
	char		 err[256];
	size_t		 i;

	policy_init(&p);
	p.access[GROUP_INFO] = ACCESS_READ;
	before = p;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (policy_from_json(bad[i], 0, &p, err, sizeof(err)) == 0)
			fail_msg("accepted %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_memory_equal(&p, &before, sizeof(p));
	}
}

/* A grant counts until its time, then counts for nothing. */
static void
test_json_grants(void **state)
{
	const char	*text = "{\"access\": {\"containers\": \"read\"}, "
	    "\"grants\": [{\"group\": \"exec\", \"access\": \"write\", "
	    "\"until\": 1000}, {\"action\": \"archive\", \"override\": "
	    "\"allow\", \"until\": 2000}, {\"group\": \"info\", "
	    "\"access\": \"read\"}]}";
	struct policy	 p;
	char		 err[256];

	policy_init(&p);
	assert_int_equal(policy_from_json(text, 999, &p, err, sizeof(err)), 0);
	assert_int_equal(p.access[GROUP_EXEC], ACCESS_WRITE);
	assert_int_equal(p.override[KIND_ARCHIVE], OVERRIDE_ALLOW);
	assert_int_equal(p.access[GROUP_INFO], ACCESS_READ);
	assert_int_equal(policy_from_json(text, 1000, &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.access[GROUP_EXEC], ACCESS_OFF);
	assert_int_equal(p.override[KIND_ARCHIVE], OVERRIDE_ALLOW);
	assert_int_equal(policy_from_json(text, 5000, &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.override[KIND_ARCHIVE], OVERRIDE_INHERIT);
	assert_int_equal(p.access[GROUP_INFO], ACCESS_READ);
	assert_int_equal(p.access[GROUP_CONTAINERS], ACCESS_READ);
	assert_int_not_equal(policy_from_json("{\"grants\": [{\"group\": "
	    "\"exec\", \"access\": \"all\"}]}", 0, &p, err, sizeof(err)),
	    0);
	assert_int_not_equal(policy_from_json("{\"grants\": {}}", 0, &p,
	    err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_read_access_is_harmless),
		cmocka_unit_test(test_write_access_allows_all_but_exfiltration),
		cmocka_unit_test(test_unknown_is_denied),
		cmocka_unit_test(test_runtime_overrides),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_explain_exact),
		cmocka_unit_test(test_explain_names),
		cmocka_unit_test(test_explain_truncates),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_refused),
		cmocka_unit_test(test_json_grants)
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
