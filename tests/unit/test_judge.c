/*
 * Unit tests of judge.c: the dry run of whole requests under the images'
 * environments (status, verdict, the step that decided, the message a
 * client would read), the bypass over a policy and over a guard refusal,
 * and the caps of the head and the body.
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
#define ENV_CASE_MAX	4

static enum endpoint_group	 bypass_group = GROUP_COUNT;

/* A bypass of one group, as runtime_bypass_covers answers for it. */
static int
fake_bypass(const struct endpoint *ep)
{
	return (ep != NULL && ep->group == bypass_group);
}

struct judge_env {
	struct policy		 policy;
	struct guard_config	 guard;
	struct head_limits	 limits;
	struct judge_context	 ctx;
};

/* dspd's defaults under an environment; the test fails if refused. */
static void
env_of(const char *const *env, struct judge_env *e)
{
	char	 err[256];

	fake_env = env;
	policy_init(&e->policy);
	if (env_policy(&e->policy, fake_lookup, err, sizeof(err)) != 0)
		fail_msg("environment refused: %s", err);
	guard_config_init(&e->guard);
	e->limits.head_max = 64 * 1024;
	e->limits.headers_max = 100;
	e->limits.uri_max = 16 * 1024;
	e->ctx.policy = &e->policy;
	e->ctx.guard = &e->guard;
	e->ctx.limits = &e->limits;
	e->ctx.body_max = 1024 * 1024;
	e->ctx.bypass = fake_bypass;
}

#define PRIVILEGED	"{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":true}}"

static const struct {
	const char	*env[ENV_CASE_MAX];
	const char	*method;
	const char	*target;
	const char	*body;
	int		 status;	/* 0: forwarded */
	enum judge_stage stage;
	const char	*action;	/* NULL: none known */
	const char	*message;	/* a part of it, when refused */
} cases[] = {
	{ { NULL }, "GET", "/_ping", NULL, 0, JUDGE_STAGE_POLICY,
	    "ping.check", NULL },
	{ { NULL }, "HEAD", "/v1.41/_ping", NULL, 0, JUDGE_STAGE_POLICY,
	    "ping.check", NULL },
	{ { NULL }, "GET", "/containers/json", NULL, 403, JUDGE_STAGE_POLICY,
	    "containers.list", "allow it with CONTAINERS=1 or" },
	{ { "CONTAINERS=1" }, "GET", "/v1.24/containers/x/json", NULL, 0,
	    JUDGE_STAGE_POLICY, "containers.inspect", NULL },
	{ { "CONTAINERS=1" }, "POST", "/containers/create", "{}", 403,
	    JUDGE_STAGE_POLICY, "containers.create",
	    "allow it with CONTAINERS=1 POST=1" },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/create",
	    "{\"Image\":\"x\"}", 0, JUDGE_STAGE_GUARD, "containers.create",
	    NULL },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/create",
	    PRIVILEGED, 403, JUDGE_STAGE_GUARD, "containers.create",
	    "--allow-privileged" },
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/create",
	    "{\"Image\":1,", 400, JUDGE_STAGE_GUARD, "containers.create",
	    "malformed" },
	/* A create without a body is judged as the empty body it is. */
	{ { "CONTAINERS=1", "POST=1" }, "POST", "/containers/create", NULL,
	    400, JUDGE_STAGE_GUARD, "containers.create", "body is empty" },
	{ { "CONTAINERS=1" }, "GET", "/containers/x/archive", NULL, 403,
	    JUDGE_STAGE_POLICY, "containers.archive", "ALLOW_ARCHIVE=1" },
	{ { NULL }, "GET", "/debug/pprof/heap", NULL, 403, JUDGE_STAGE_POLICY,
	    NULL, "dsp does not know this endpoint" },
	{ { NULL }, "GET", "/containers/../_ping", NULL, 400,
	    JUDGE_STAGE_TARGET, NULL, "refused request target" },
	{ { NULL }, "GET", "/_ping#x", NULL, 400, JUDGE_STAGE_TARGET, NULL,
	    "refused request target" },
	{ { NULL }, "GET", "/a b", NULL, 400, JUDGE_STAGE_HEAD, NULL,
	    "dsp: malformed request: " },
	{ { NULL }, "GET", "/_p\x7fing", NULL, 400, JUDGE_STAGE_HEAD, NULL,
	    "control byte" },
	{ { NULL }, "get", "/_ping", NULL, 400, JUDGE_STAGE_HEAD, NULL,
	    "dsp: malformed request: " },
	/* Spaces that would make the request line other than asked. */
	{ { NULL }, "GET", "/_ping ", NULL, 400, JUDGE_STAGE_HEAD, NULL,
	    "one space between each" },
	{ { NULL }, "GET", "/_ping  x", NULL, 400, JUDGE_STAGE_HEAD, NULL,
	    "one space between each" },
	/* A version prefix alone is named as it was sent. */
	{ { NULL }, "POST", "/v1.41", NULL, 403, JUDGE_STAGE_POLICY, NULL,
	    "POST /v1.41 is denied: dsp does not know this endpoint" },
};

static void
test_dry_runs(void **state)
{
	struct judge_env	 e;
	struct judge_dry	 d;
	const char		*action;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		env_of(cases[i].env, &e);
		if (judge_dry_run(&e.ctx, cases[i].method, cases[i].target,
		    cases[i].body, cases[i].body != NULL ?
		    strlen(cases[i].body) : 0, &d) != 0)
			fail_msg("case %zu: out of memory", i);
		action = d.j.endpoint != NULL ? d.j.endpoint->action : NULL;
		if (d.j.status != cases[i].status ||
		    d.j.stage != cases[i].stage)
			fail_msg("case %zu (%s %s): status %d at %s, not %d "
			    "at %s: %s", i, cases[i].method, cases[i].target,
			    d.j.status, judge_stage_name(d.j.stage),
			    cases[i].status, judge_stage_name(cases[i].stage),
			    d.j.message);
		if ((action == NULL) != (cases[i].action == NULL) ||
		    (action != NULL && strcmp(action, cases[i].action) != 0))
			fail_msg("case %zu: action %s, not %s", i,
			    action != NULL ? action : "none",
			    cases[i].action != NULL ? cases[i].action : "none");
		if (cases[i].status == 0) {
			assert_int_equal(d.j.verdict, VERDICT_ALLOW);
			assert_string_equal(d.j.message, "");
		} else {
			assert_int_equal(d.j.verdict, VERDICT_DENY);
			assert_int_equal(strncmp(d.j.message, "dsp: ", 5), 0);
			if (strstr(d.j.message, cases[i].message) == NULL)
				fail_msg("case %zu: message '%s' lacks '%s'",
				    i, d.j.message, cases[i].message);
		}
		judge_dry_clear(&d);
		guard_config_free(&e.guard);
	}
}

/* The 403 of a dry run is the text judge_target gives the listener. */
static void
test_dry_run_says_what_the_listener_says(void **state)
{
	static const char *const env[] = { "CONTAINERS=1", NULL };
	struct judge_env	 e;
	struct judge_dry	 d;
	struct judgement	 j;
	struct target		 canon;

	env_of(env, &e);
	assert_int_equal(judge_dry_run(&e.ctx, "DELETE", "/v1.41/containers/x",
	    NULL, 0, &d), 0);
	memset(&canon, 0, sizeof(canon));
	judge_target(&e.ctx, "DELETE", "/v1.41/containers/x", &canon, &j);
	assert_int_equal(j.status, 403);
	assert_string_equal(d.j.message, j.message);
	assert_string_equal(d.canon.path, "/containers/x");
	assert_string_equal(d.canon.version, "1.41");
	assert_string_equal(d.method, "DELETE");
	canon_clear(&canon);
	judge_dry_clear(&d);
	guard_config_free(&e.guard);
}

/* A bypass lets a policy refusal and a guard refusal through, on record. */
static void
test_bypass(void **state)
{
	static const char *const env[] = { "CONTAINERS=1", NULL };
	struct judge_env	 e;
	struct judge_dry	 d;

	env_of(env, &e);
	bypass_group = GROUP_CONTAINERS;
	assert_int_equal(judge_dry_run(&e.ctx, "POST", "/containers/create",
	    PRIVILEGED, strlen(PRIVILEGED), &d), 0);
	assert_int_equal(d.j.status, 0);
	assert_int_equal(d.j.verdict, VERDICT_BYPASS);
	assert_int_equal(d.j.policy_verdict, VERDICT_DENY);
	assert_int_equal(d.guard.verdict, GUARD_REFUSE);
	assert_string_equal(d.guard.field, "HostConfig.Privileged");
	judge_dry_clear(&d);

	/* Another group's refusal is not covered. */
	assert_int_equal(judge_dry_run(&e.ctx, "GET", "/info", NULL, 0, &d),
	    0);
	assert_int_equal(d.j.status, 403);
	assert_int_equal(d.j.verdict, VERDICT_DENY);
	judge_dry_clear(&d);
	bypass_group = GROUP_COUNT;
	guard_config_free(&e.guard);
}

/* The listener's caps: target length, head size, held body size. */
static void
test_caps(void **state)
{
	static const char *const env[] = { "CONTAINERS=1", "POST=1", NULL };
	struct judge_env	 e;
	struct judge_dry	 d;
	char			 target[200];

	env_of(env, &e);
	e.limits.uri_max = 64;
	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	assert_int_equal(judge_dry_run(&e.ctx, "GET", target, NULL, 0, &d), 0);
	assert_int_equal(d.j.status, 414);
	judge_dry_clear(&d);

	e.limits.uri_max = 16 * 1024;
	e.limits.head_max = 64;
	assert_int_equal(judge_dry_run(&e.ctx, "GET", target, NULL, 0, &d), 0);
	assert_int_equal(d.j.status, 431);
	judge_dry_clear(&d);

	e.limits.head_max = 64 * 1024;
	e.ctx.body_max = 8;
	assert_int_equal(judge_dry_run(&e.ctx, "POST", "/containers/create",
	    "{\"Image\":\"x\"}", 13, &d), 0);
	assert_int_equal(d.j.status, 413);
	assert_non_null(strstr(d.j.message, "--body-max"));
	judge_dry_clear(&d);

	/* A body where none is held is not the guard's business. */
	assert_int_equal(judge_dry_run(&e.ctx, "POST", "/containers/x/start",
	    "{\"Image\":\"x\"}", 13, &d), 0);
	assert_int_equal(d.j.status, 0);
	judge_dry_clear(&d);
	guard_config_free(&e.guard);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dry_runs),
		cmocka_unit_test(test_dry_run_says_what_the_listener_says),
		cmocka_unit_test(test_bypass),
		cmocka_unit_test(test_caps),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
