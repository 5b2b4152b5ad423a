/*
 * Unit tests of ctl/selftest.c, the calls dspctl selftest asks about:
 * every one is a route the catalogue knows (a typo would make a client
 * look refused for the wrong reason), every body is one the create
 * guard passes, and the operator's checks are refused by the images'
 * defaults, the privileged create even when everything else is allowed.
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
#include "dspclient.h"

/* An environment with none of the images' variables: their defaults. */
static const char *
no_variables(const char *name)
{
	return (NULL);
}

/* A policy that opens everything: each group writable, each kind on. */
static void
open_everything(struct policy *p)
{
	int	 i;

	policy_init(p);
	for (i = GROUP_UNKNOWN + 1; i < GROUP_COUNT; i++)
		p->access[i] = ACCESS_WRITE;
	for (i = KIND_NONE + 1; i < KIND_COUNT; i++)
		p->override[i] = OVERRIDE_ALLOW;
}

static void
context(struct judge_context *ctx, struct policy *p, struct guard_config *g,
    struct head_limits *l)
{
	guard_config_init(g);
	l->head_max = 64 * 1024;
	l->headers_max = 100;
	l->uri_max = 16 * 1024;
	ctx->policy = p;
	ctx->guard = g;
	ctx->limits = l;
	ctx->body_max = 1024 * 1024;
	ctx->bypass = NULL;
}

/* The status a dry run gives; the call must be a route dsp knows. */
static int
judged(const struct judge_context *ctx, const char *method,
    const char *target, const char *body)
{
	struct judge_dry	 d;
	int			 status;

	if (judge_dry_run(ctx, method, target, body, body != NULL ?
	    strlen(body) : 0, &d) != 0)
		fail_msg("%s %s: out of memory", method, target);
	if (d.j.endpoint == NULL)
		fail_msg("%s %s: %s", method, target, d.j.message);
	status = d.j.status;
	judge_dry_clear(&d);
	return (status);
}

static void
test_client_calls_are_known_routes(void **state)
{
	const struct selftest_client	*cl;
	struct judge_context		 ctx;
	struct guard_config		 g;
	struct head_limits		 l;
	struct policy			 p;
	size_t				 n, i, j;

	open_everything(&p);
	context(&ctx, &p, &g, &l);
	cl = selftest_clients(&n);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		assert_true(cl[i].ncalls > 0);
		for (j = 0; j < cl[i].ncalls; j++)
			if (judged(&ctx, cl[i].calls[j].method,
			    cl[i].calls[j].target, cl[i].calls[j].body) != 0)
				fail_msg("%s %s: %s %s refused with everything "
				    "open", cl[i].client, cl[i].use,
				    cl[i].calls[j].method,
				    cl[i].calls[j].target);
	}
	guard_config_free(&g);
}

static void
test_operator_checks(void **state)
{
	const struct selftest_check	*chk;
	const struct selftest_call	*reads;
	struct judge_context		 ctx;
	struct guard_config		 g;
	struct head_limits		 l;
	struct policy			 p, all;
	size_t				 n, i, privileged = 0;
	char				 err[128];

	policy_init(&p);
	assert_int_equal(env_policy(&p, no_variables, err, sizeof(err)), 0);
	open_everything(&all);
	chk = selftest_checks(&n);
	for (i = 0; i < n; i++) {
		assert_false(chk[i].expect_allow);
		context(&ctx, &p, &g, &l);
		assert_int_equal(judged(&ctx, chk[i].method, chk[i].target,
		    chk[i].body), 403);
		guard_config_free(&g);
		/* Only the guard refuses once the policy allows it all. */
		context(&ctx, &all, &g, &l);
		if (judged(&ctx, chk[i].method, chk[i].target,
		    chk[i].body) == 403)
			privileged++;
		guard_config_free(&g);
	}
	assert_int_equal(privileged, 1);

	/* The live read is one the defaults allow. */
	reads = selftest_reads(&n);
	context(&ctx, &p, &g, &l);
	assert_int_equal(judged(&ctx, reads[0].method, reads[0].target,
	    reads[0].body), 0);
	guard_config_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_calls_are_known_routes),
		cmocka_unit_test(test_operator_checks),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
