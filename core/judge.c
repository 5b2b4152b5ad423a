/*
 * The verdict on one request: its target put in canonical form and
 * classified, the policy's decision and the bypass, and the create
 * guard's reading of a held body.  The listener (session.c) and the
 * control socket's dry run (dspctl check) both call these functions, so
 * that what a dry run says is what a client gets.  judge_dry_run also
 * takes a request the way the listener takes its bytes: it writes the
 * head a client would send, scans it raw and has llhttp parse it.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "dspd.h"

/* Bytes of a request target quoted back in a 400, escaped. */
#define JUDGE_QUOTE_SIZE	512

/* What llhttp's callbacks collect while a dry run's head is parsed. */
struct judge_parse {
	char	*target;
	size_t	 len;
	int	 oom;
};

static void	judge_set(struct judgement *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

/* A refusal of dsp's own: the status and the reply's text. */
static void
judge_set(struct judgement *j, int status, const char *fmt, ...)
{
	va_list	 ap;

	j->status = status;
	j->verdict = VERDICT_DENY;
	j->policy_verdict = VERDICT_DENY;
	va_start(ap, fmt);
	vsnprintf(j->message, sizeof(j->message), fmt, ap);
	va_end(ap);
}

/*
 * Judge a parsed request line: a target dsp cannot read the way dockerd
 * will is a 400, a path the policy refuses (and no bypass covers) a 403
 * whose message says what would allow it.  canon is filled for the
 * caller, who clears it.  Status 0 means the request goes on.
 */
void
judge_target(const struct judge_context *ctx, const char *method,
    const char *target, struct target *canon, struct judgement *j)
{
	char		 esc[JUDGE_QUOTE_SIZE];
	char		 bare[sizeof(canon->version) + 2];
	const char	*reason, *shown;
	int		 ambiguous = 0;

	memset(j, 0, sizeof(*j));
	if (canon_target(target, strlen(target), canon, &reason) != 0) {
		http_escape(esc, sizeof(esc), target, strlen(target));
		judge_set(j, 400, "dsp: refused request target %s: %s", esc,
		    reason);
		j->stage = JUDGE_STAGE_TARGET;
		return;
	}
	j->endpoint = catalogue_match(method, canon->path, &ambiguous);
	j->policy_verdict = policy_decide(ctx->policy, j->endpoint);
	j->verdict = j->policy_verdict;
	if (j->verdict == VERDICT_DENY && ctx->bypass != NULL &&
	    ctx->bypass(j->endpoint))
		j->verdict = VERDICT_BYPASS;
	j->stage = JUDGE_STAGE_POLICY;
	if (j->verdict != VERDICT_DENY)
		return;
	j->status = 403;
	memcpy(j->message, "dsp: ", 5);
	/* A version prefix alone ("/v1.41") leaves no path to name. */
	shown = canon->path;
	if (shown[0] == '\0') {
		snprintf(bare, sizeof(bare), "/v%s", canon->version);
		shown = bare;
	}
	policy_explain(ctx->policy, j->endpoint, method, shown,
	    j->message + 5, sizeof(j->message) - 5);
}

/*
 * Judge a held create-class body with the create guard.  A refusal is a
 * 403 unless a bypass covers the endpoint (then it passes, on record as
 * refused by the policy); a body dsp cannot read as dockerd would is a
 * 400; j->lookup says the containers in g->lookups must be inspected
 * first.  The verdict of an allowed request is left as judge_target set
 * it.  Returns -1 only when out of memory.
 */
int
judge_body(const struct judge_context *ctx, const struct endpoint *ep,
    const char *body, size_t len, struct guard_result *g,
    struct judgement *j)
{
	j->stage = JUDGE_STAGE_GUARD;
	if (guard_check(ctx->guard, ep, body, len, g) != 0)
		return (-1);
	switch (g->verdict) {
	case GUARD_PASS:
		break;
	case GUARD_REFUSE:
		if (ctx->bypass != NULL && ctx->bypass(ep)) {
			j->policy_verdict = VERDICT_DENY;
			j->verdict = VERDICT_BYPASS;
			break;
		}
		judge_set(j, 403, "%s", g->message);
		break;
	case GUARD_MALFORMED:
		judge_set(j, 400, "%s", g->message);
		break;
	case GUARD_LOOKUP:
		j->lookup = 1;
		break;
	}
	return (0);
}

static int
judge_on_url(llhttp_t *p, const char *at, size_t len)
{
	struct judge_parse	*jp = p->data;
	char			*t;

	if ((t = realloc(jp->target, jp->len + len + 1)) == NULL) {
		jp->oom = 1;
		return (-1);
	}
	memcpy(t + jp->len, at, len);
	jp->len += len;
	t[jp->len] = '\0';
	jp->target = t;
	return (0);
}

/*
 * Scan and parse a dry run's head as the listener does; on success the
 * method llhttp read and the target go to out.  Returns -1 out of
 * memory, else 0 with out->j.status set when the head is refused.
 */
static int
judge_head(const struct judge_context *ctx, const char *head, size_t len,
    struct judge_dry *out)
{
	struct head_scan	 scan;
	struct judge_parse	 jp;
	llhttp_settings_t	 settings;
	llhttp_t		 parser;
	llhttp_errno_t		 err;
	const char		*why;
	size_t			 head_len = 0;

	out->j.stage = JUDGE_STAGE_HEAD;
	http_scan_init(&scan);
	switch (http_scan_head(&scan, head, len, ctx->limits, &head_len,
	    &why)) {
	case HEAD_COMPLETE:
		break;
	case HEAD_INCOMPLETE:
		judge_set(&out->j, 431, "dsp: request head too large");
		return (0);
	case HEAD_TOO_LARGE:
		judge_set(&out->j, 431, "dsp: %s", why);
		return (0);
	case HEAD_URI_TOO_LONG:
		judge_set(&out->j, 414, "dsp: %s", why);
		return (0);
	case HEAD_BAD:
		judge_set(&out->j, 400, "dsp: malformed request: %s", why);
		return (0);
	}

	memset(&jp, 0, sizeof(jp));
	llhttp_settings_init(&settings);
	settings.on_url = judge_on_url;
	llhttp_init(&parser, HTTP_REQUEST, &settings);
	parser.data = &jp;
	err = llhttp_execute(&parser, head, head_len);
	if (jp.oom) {
		free(jp.target);
		return (-1);
	}
	if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
		free(jp.target);
		judge_set(&out->j, 400, "dsp: malformed request: %s",
		    llhttp_get_error_reason(&parser));
		return (0);
	}
	if (jp.target == NULL) {
		judge_set(&out->j, 400, "dsp: malformed request");
		return (0);
	}
	snprintf(out->method, sizeof(out->method), "%s", llhttp_method_name(
	    (llhttp_method_t)llhttp_get_method(&parser)));
	out->target = jp.target;
	return (0);
}

/*
 * A dry run: judge method, target and body (NULL: none) exactly as the
 * listener would judge the request a client sends with them, without
 * sending anything anywhere.  The head is what a client writes: the
 * request line, a Host, and for a body its type and length.  Containers
 * a body takes volumes from are not inspected: out->j.lookup says that
 * the listener would inspect them before deciding.  Returns -1 only
 * when out of memory; judge_dry_clear frees out either way.
 */
int
judge_dry_run(const struct judge_context *ctx, const char *method,
    const char *target, const char *body, size_t body_len,
    struct judge_dry *out)
{
	char	*head;
	int	 n, rc;

	memset(out, 0, sizeof(*out));
	if (body != NULL)
		n = asprintf(&head, "%s %s HTTP/1.1\r\nHost: dsp\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		    "\r\n", method, target, body_len);
	else
		n = asprintf(&head, "%s %s HTTP/1.1\r\nHost: dsp\r\n\r\n",
		    method, target);
	if (n < 0)
		return (-1);
	rc = judge_head(ctx, head, (size_t)n, out);
	free(head);
	if (rc != 0 || out->j.status != 0)
		return (rc);

	judge_target(ctx, out->method, out->target, &out->canon, &out->j);
	if (out->j.status != 0 || out->j.endpoint == NULL ||
	    (out->j.endpoint->flags & ENDPOINT_BODY_GUARD) == 0)
		return (0);
	if (body != NULL && body_len > ctx->body_max) {
		judge_set(&out->j, 413, "dsp: the request body is larger than "
		    "%zu bytes (--body-max)", ctx->body_max);
		out->j.stage = JUDGE_STAGE_GUARD;
		return (0);
	}
	return (judge_body(ctx, out->j.endpoint, body != NULL ? body : "",
	    body != NULL ? body_len : 0, &out->guard, &out->j));
}

void
judge_dry_clear(struct judge_dry *d)
{
	free(d->target);
	canon_clear(&d->canon);
	guard_result_clear(&d->guard);
	memset(d, 0, sizeof(*d));
}

const char *
judge_stage_name(enum judge_stage stage)
{
	switch (stage) {
	case JUDGE_STAGE_HEAD:
		return ("head");
	case JUDGE_STAGE_TARGET:
		return ("target");
	case JUDGE_STAGE_POLICY:
		return ("policy");
	case JUDGE_STAGE_GUARD:
		return ("guard");
	}
	return ("?");
}
