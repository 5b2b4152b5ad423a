/*
 * Fuzz target: the dry run of the control socket's check request
 * (judge_dry_run in core/judge.c), which takes a method, a target and a
 * body from a control client, writes the head a client would send, scans
 * and parses it as the listener does, and judges it.  Properties: it
 * never fails but out of memory; a refusal has a status dspd sends and a
 * message; a request let through has an endpoint and a verdict that
 * allows it, decided by the policy or the guard; what the control
 * protocol lets through (a token for the method, no CR or LF in the
 * target) is judged as asked, nothing smuggled into the head it writes;
 * the verdict on the target it read is the one judge_target gives that
 * target directly; the same input judged twice gets the same answer; a
 * bypass of every group refuses nothing but what the head, the target
 * or the body's reading refuse.
 *
 * Input: one byte choosing the policy, then method, target and body
 * separated by NUL bytes; without a second NUL there is no body.
 */

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dspd.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The policies the dry runs are judged under. */
enum fuzz_policy {
	POLICY_DEFAULTS,	/* the HAProxy images' defaults */
	POLICY_WRITE,		/* every group writable, every action */
	POLICY_COUNT
};

/* dspd's default head limits, and small ones so that each cap is met. */
static const struct head_limits fuzz_limits[] = {
	{ 64 * 1024, 100, 16 * 1024 },
	{ 200, 4, 48 }
};

/* dspd's default --body-max, and a small one. */
static const size_t fuzz_body_max[] = { 1024 * 1024, 64 };

static struct policy		 fuzz_policies[POLICY_COUNT];
static struct guard_config	 fuzz_guard;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *
fuzz_env_none(const char *name)
{
	(void)name;
	return (NULL);
}

static int
fuzz_bypass_all(const struct endpoint *ep)
{
	(void)ep;
	return (1);
}

/* The policies and the default guard, built once. */
static void
fuzz_init(void)
{
	static int	 done;
	int		 i;

	if (done)
		return;
	done = 1;
	assert(env_policy(&fuzz_policies[POLICY_DEFAULTS], fuzz_env_none,
	    NULL, 0) == 0);
	policy_init(&fuzz_policies[POLICY_WRITE]);
	for (i = GROUP_UNKNOWN + 1; i < GROUP_COUNT; i++)
		fuzz_policies[POLICY_WRITE].access[i] = ACCESS_WRITE;
	for (i = KIND_NONE + 1; i < KIND_COUNT; i++)
		fuzz_policies[POLICY_WRITE].override[i] = OVERRIDE_ALLOW;
	guard_config_init(&fuzz_guard);
}

/* What any answer of a dry run must be, whatever the input. */
static void
fuzz_check_answer(const struct judge_dry *d)
{
	const struct judgement	*j = &d->j;
	char			 after[sizeof(d->method) + 2];

	if (j->status != 0) {
		assert(j->status == 400 || j->status == 403 ||
		    j->status == 413 || j->status == 414 || j->status == 431);
		assert(strnlen(j->message, sizeof(j->message)) <
		    sizeof(j->message));
		assert(strncmp(j->message, "dsp: ", 5) == 0);
		assert(j->verdict == VERDICT_DENY);
	} else {
		/* A bypass may cover what dsp does not know; the policy not. */
		assert(j->endpoint != NULL || j->verdict == VERDICT_BYPASS);
		assert(j->verdict == VERDICT_ALLOW ||
		    j->verdict == VERDICT_BYPASS);
		assert(j->stage == JUDGE_STAGE_POLICY ||
		    j->stage == JUDGE_STAGE_GUARD);
	}
	if (j->stage >= JUDGE_STAGE_TARGET) {
		/* The head parsed: llhttp named a method and read a target. */
		assert(d->target != NULL && d->method[0] != '\0');
	}
	/* A path, or "/v1.41" alone: a version and nothing after it. */
	if (j->stage >= JUDGE_STAGE_POLICY)
		assert(d->canon.path != NULL && (d->canon.path[0] == '/' ||
		    (d->canon.path[0] == '\0' && d->canon.version[0] != '\0')));
	/* A refusal by the policy names the method and then a path. */
	if (j->status == 403 && j->stage == JUDGE_STAGE_POLICY) {
		snprintf(after, sizeof(after), "%s  ", d->method);
		assert(strstr(j->message, after) == NULL);
	}
}

/* The verdict on the parsed target is the one a direct judgement gives. */
static void
fuzz_check_target(const struct judge_context *ctx, const struct judge_dry *d)
{
	struct judgement	 j;
	struct target		 canon;

	if (d->j.stage < JUDGE_STAGE_TARGET)
		return;
	judge_target(ctx, d->method, d->target, &canon, &j);
	if (d->j.stage == JUDGE_STAGE_TARGET)
		assert(j.status == 400 && j.stage == JUDGE_STAGE_TARGET);
	else {
		assert(j.endpoint == d->j.endpoint);
		/* A refusal by the guard is on record as the policy's. */
		if (d->j.stage == JUDGE_STAGE_POLICY || d->j.status == 0)
			assert(j.policy_verdict == d->j.policy_verdict);
		else
			assert(d->j.policy_verdict == VERDICT_DENY);
		assert(strcmp(canon.path, d->canon.path) == 0);
	}
	canon_clear(&canon);
}

/*
 * What the control protocol lets through (a method of HTTP token bytes,
 * a target without CR or LF) is judged as asked: the head that parsed
 * holds that method and that target, and nothing was smuggled in.
 */
static void
fuzz_check_asked(const char *method, const char *target,
    const struct judge_dry *d)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~0123456789"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz";

	if (method[0] == '\0' || strspn(method, tchar) != strlen(method) ||
	    strcspn(target, "\r\n") != strlen(target))
		return;
	if (d->j.stage < JUDGE_STAGE_TARGET)
		return;
	assert(strcmp(d->method, method) == 0);
	assert(strcmp(d->target, target) == 0);
}

/* Two dry runs of the same request say the same. */
static void
fuzz_check_repeat(const struct judge_context *ctx, const char *method,
    const char *target, const char *body, size_t len,
    const struct judge_dry *first)
{
	struct judge_dry	 again;

	assert(judge_dry_run(ctx, method, target, body, len, &again) == 0);
	assert(again.j.status == first->j.status);
	assert(again.j.verdict == first->j.verdict);
	assert(again.j.stage == first->j.stage);
	assert(again.j.endpoint == first->j.endpoint);
	assert(strcmp(again.j.message, first->j.message) == 0);
	judge_dry_clear(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct judge_context	 ctx;
	struct judge_dry	 d, bypassed;
	const char		*target, *body = NULL;
	char			*buf, *nul;
	size_t			 len = 0;
	uint8_t			 sel;

	fuzz_init();
	if (size < 2)
		return (0);
	sel = data[0];
	if ((buf = malloc(size)) == NULL)
		return (0);
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	/* method NUL target [NUL body]: the body may hold NUL bytes. */
	if ((nul = memchr(buf, '\0', size - 1)) == NULL || nul ==
	    buf + size - 1) {
		free(buf);
		return (0);
	}
	target = nul + 1;
	nul = memchr(target, '\0', (size_t)(buf + size - 1 - target));
	if (nul != NULL && nul < buf + size - 1) {
		body = nul + 1;
		len = (size_t)(buf + size - 1 - body);
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.policy = &fuzz_policies[(sel & 1) % POLICY_COUNT];
	ctx.guard = &fuzz_guard;
	ctx.limits = &fuzz_limits[(sel >> 1) & 1];
	ctx.body_max = fuzz_body_max[(sel >> 2) & 1];
	if (judge_dry_run(&ctx, buf, target, body, len, &d) != 0) {
		free(buf);
		return (0);	/* out of memory */
	}
	fuzz_check_answer(&d);
	fuzz_check_asked(buf, target, &d);
	fuzz_check_target(&ctx, &d);
	fuzz_check_repeat(&ctx, buf, target, body, len, &d);

	/*
	 * A bypass of everything lets through what the policy or the guard
	 * refused; a body it cannot read or that is too large still is not.
	 */
	ctx.bypass = fuzz_bypass_all;
	assert(judge_dry_run(&ctx, buf, target, body, len, &bypassed) == 0);
	fuzz_check_answer(&bypassed);
	assert(bypassed.j.status != 403);
	if (d.j.status == 403)
		assert(bypassed.j.status == 0 ? bypassed.j.verdict ==
		    VERDICT_BYPASS : bypassed.j.stage == JUDGE_STAGE_GUARD);
	else
		assert(bypassed.j.status == d.j.status);
	judge_dry_clear(&bypassed);
	judge_dry_clear(&d);
	free(buf);
	return (0);
}
