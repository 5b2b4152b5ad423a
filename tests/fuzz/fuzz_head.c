/*
 * Fuzz target: what a client sends, taken the way core/session.c takes
 * it.  Each request head is scanned raw as it grows, parsed by llhttp in
 * strict mode, its target put in canonical form, matched against the
 * catalogue and decided under several policies; its body is then framed
 * by llhttp, held and given a new head when the endpoint's body is
 * checked, and the bytes after it are the next request.  An input that
 * opens with '/' is a bare request target instead, tried with each
 * method.  Every check is an assert: a failure is a crash to libFuzzer.
 */

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "dspd.h"

/* Requests read from one input; more pipelining reaches nothing new. */
#define FUZZ_REQUESTS_MAX	4
/* Bytes of a held body: a small --body-max, so that the cap is reached. */
#define FUZZ_BODY_MAX		512
/* Iovecs session_parse_move takes from an evbuffer at once. */
#define FUZZ_IOV_MAX		8

enum {
	POLICY_ENV,		/* the images' defaults */
	POLICY_READ,		/* every group readable, no override */
	POLICY_ALL,		/* every group writable, every kind allowed */
	POLICY_CARVE,		/* every group off, every kind allowed */
	POLICY_NO_KINDS,	/* every group writable, every kind denied */
	POLICY_COUNT
};

/* One request as the session's llhttp callbacks collect it. */
struct fuzz_request {
	char		*target;
	size_t		 target_len;
	int		 headers_done;
	int		 done;
	int		 hold;		/* the body is held, as for the guard */
	int		 body_over;
	char		 body[FUZZ_BODY_MAX];
	size_t		 body_len;
};

/* Where the chunks of a client's input end, as reads hand them over. */
struct fuzz_rng {
	uint32_t	 state;
};

static const char *const fuzz_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"
};

/* dspd's defaults, and small ones so that every cap is reached. */
static const struct head_limits fuzz_limits[] = {
	{ 64 * 1024, 100, 16 * 1024 },
	{ 300, 4, 64 }
};

static struct policy		 fuzz_policies[POLICY_COUNT];
static llhttp_settings_t	 fuzz_settings;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t
fuzz_rng_next(struct fuzz_rng *r)
{
	r->state ^= r->state << 13;
	r->state ^= r->state >> 17;
	r->state ^= r->state << 5;
	return (r->state);
}

/* Seed the chunk sizes from the input, so that a crash replays. */
static void
fuzz_rng_init(struct fuzz_rng *r, const uint8_t *data, size_t len)
{
	size_t	i;

	r->state = 2166136261u;
	for (i = 0; i < len; i++)
		r->state = (r->state ^ data[i]) * 16777619u;
	if (r->state == 0)
		r->state = 1;
}

static const char *
fuzz_env_none(const char *name)
{
	(void)name;
	return (NULL);
}

static int
fuzz_on_url(llhttp_t *p, const char *at, size_t len)
{
	struct fuzz_request	*rq = p->data;
	char			*t;

	if ((t = realloc(rq->target, rq->target_len + len + 1)) == NULL)
		return (-1);
	memcpy(t + rq->target_len, at, len);
	rq->target_len += len;
	t[rq->target_len] = '\0';
	rq->target = t;
	return (0);
}

static int
fuzz_on_headers_complete(llhttp_t *p)
{
	struct fuzz_request	*rq = p->data;

	rq->headers_done = 1;
	return (0);
}

/* A held body is kept de-chunked and capped, as session_on_body does. */
static int
fuzz_on_body(llhttp_t *p, const char *at, size_t len)
{
	struct fuzz_request	*rq = p->data;

	if (!rq->hold)
		return (0);
	if (rq->body_len + len > sizeof(rq->body)) {
		rq->body_over = 1;
		return (-1);
	}
	memcpy(rq->body + rq->body_len, at, len);
	rq->body_len += len;
	return (0);
}

static int
fuzz_on_message_complete(llhttp_t *p)
{
	struct fuzz_request	*rq = p->data;

	rq->done = 1;
	return (HPE_PAUSED);
}

/* The policies every path is decided under, built once. */
static void
fuzz_init(void)
{
	static int	 done;
	struct policy	*p;
	int		 i;

	if (done)
		return;
	done = 1;
	assert(env_policy(&fuzz_policies[POLICY_ENV], fuzz_env_none, NULL,
	    0) == 0);
	for (p = &fuzz_policies[POLICY_READ]; p < fuzz_policies +
	    POLICY_COUNT; p++)
		policy_init(p);
	for (i = GROUP_UNKNOWN + 1; i < GROUP_COUNT; i++) {
		fuzz_policies[POLICY_READ].access[i] = ACCESS_READ;
		fuzz_policies[POLICY_ALL].access[i] = ACCESS_WRITE;
		fuzz_policies[POLICY_NO_KINDS].access[i] = ACCESS_WRITE;
	}
	for (i = KIND_NONE + 1; i < KIND_COUNT; i++) {
		fuzz_policies[POLICY_ALL].override[i] = OVERRIDE_ALLOW;
		fuzz_policies[POLICY_CARVE].override[i] = OVERRIDE_ALLOW;
		fuzz_policies[POLICY_NO_KINDS].override[i] = OVERRIDE_DENY;
	}

	llhttp_settings_init(&fuzz_settings);
	fuzz_settings.on_url = fuzz_on_url;
	fuzz_settings.on_headers_complete = fuzz_on_headers_complete;
	fuzz_settings.on_body = fuzz_on_body;
	fuzz_settings.on_message_complete = fuzz_on_message_complete;
}

/*
 * A head the scan accepted holds only what it promises: CRLF line ends,
 * no control byte, no folded line, the caps kept.
 */
static void
fuzz_check_scanned(const char *head, size_t len,
    const struct head_limits *lim)
{
	size_t		 i, lines = 0, line_start = 0;
	unsigned char	 c;

	assert(len >= 4 && len <= lim->head_max);
	assert(memcmp(head + len - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i < len; i++) {
		c = (unsigned char)head[i];
		if (c == '\r')
			assert(i + 1 < len && head[i + 1] == '\n');
		else if (c == '\n') {
			assert(i > 0 && head[i - 1] == '\r');
			if (lines == 0)
				assert(i - 1 - line_start <= lim->uri_max +
				    32);
			lines++;
			line_start = i + 1;
		} else {
			assert(c >= 0x20 || c == '\t');
			assert(c != 0x7f);
			assert(i != line_start || (c != ' ' && c != '\t'));
		}
	}
	/* The request line, the header lines, the blank line. */
	assert(lines >= 2 && lines - 2 <= lim->headers_max);
}

/*
 * Scan the input as it would arrive, a chunk at a time and resuming where
 * the last call stopped, and check that the answer is the one a single
 * scan of all of it gives.
 */
static enum head_result
fuzz_scan(const char *buf, size_t len, const struct head_limits *lim,
    struct fuzz_rng *rng, size_t *head_len)
{
	struct head_scan	 scan, once;
	enum head_result	 r = HEAD_INCOMPLETE, r1;
	const char		*why = NULL, *why1;
	size_t			 have = 0, hl = 0, hl1 = 0, cap;

	cap = len < lim->head_max ? len : lim->head_max;
	http_scan_init(&scan);
	while (have < cap) {
		have += 1 + fuzz_rng_next(rng) % 64;
		if (have > cap)
			have = cap;
		r = http_scan_head(&scan, buf, have, lim, &hl, &why);
		assert(scan.pos <= have);
		if (r != HEAD_INCOMPLETE)
			break;
		assert(why == NULL);
	}

	http_scan_init(&once);
	r1 = http_scan_head(&once, buf, cap, lim, &hl1, &why1);
	assert(r == r1);
	if (r == HEAD_COMPLETE) {
		assert(hl == hl1 && hl <= cap);
		fuzz_check_scanned(buf, hl, lim);
		*head_len = hl;
	} else if (r != HEAD_INCOMPLETE)
		assert(why != NULL && why1 != NULL && strcmp(why, why1) == 0);
	return (r);
}

/*
 * A target canon_target accepted: a path dockerd's router reads as dsp
 * did, with no dot, empty or unprintable segment, and a raw query.
 */
static void
fuzz_check_target(const struct target *t)
{
	const char	*p = t->path, *seg;
	size_t		 i, n;

	assert(p != NULL);
	for (i = 0; t->version[i] != '\0'; i++)
		assert((t->version[i] >= '0' && t->version[i] <= '9') ||
		    t->version[i] == '.');
	if (t->query != NULL)
		for (i = 0; t->query[i] != '\0'; i++)
			assert((unsigned char)t->query[i] > 0x20 &&
			    (unsigned char)t->query[i] < 0x7f &&
			    t->query[i] != '#');
	if (p[0] == '\0') {
		/* "/v1.41" alone: a version and nothing after it. */
		assert(t->version[0] != '\0');
		return;
	}
	assert(p[0] == '/');
	for (i = 0; p[i] != '\0'; i++)
		assert((unsigned char)p[i] >= 0x20 &&
		    (unsigned char)p[i] < 0x7f && p[i] != '\\');
	for (seg = p + 1;; seg += n + 1) {
		n = strcspn(seg, "/");
		assert(n > 0);
		assert(!(n == 1 && seg[0] == '.'));
		assert(!(n == 2 && seg[0] == '.' && seg[1] == '.'));
		if (seg[n] == '\0')
			break;
	}
}

/*
 * A path made only of bytes that need no escape reads the same when it
 * is sent again: canonical form is a fixed point.
 */
static void
fuzz_check_fixed_point(const struct target *t)
{
	static const char	 plain[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/";
	struct target		 again;
	const char		*why;
	char			*raw;
	size_t			 len;

	if (t->path[strspn(t->path, plain)] != '\0')
		return;
	len = 2 + strlen(t->version) + strlen(t->path);
	if ((raw = malloc(len + 1)) == NULL)
		return;
	if (t->version[0] != '\0') {
		memcpy(raw, "/v", 2);
		memcpy(raw + 2, t->version, strlen(t->version));
		memcpy(raw + 2 + strlen(t->version), t->path,
		    strlen(t->path) + 1);
	} else
		memcpy(raw, t->path, strlen(t->path) + 1);
	assert(canon_target(raw, strlen(raw), &again, &why) == 0);
	assert(strcmp(again.path, t->path) == 0);
	assert(strcmp(again.version, t->version) == 0);
	canon_clear(&again);
	free(raw);
}

/*
 * The explanation of a verdict: the same whatever the buffer, cut
 * cleanly when short, and saying the verdict the policy gave.
 */
static void
fuzz_check_explain(const struct policy *p, const struct endpoint *ep,
    const char *method, const char *path, enum verdict v, size_t cut)
{
	char	*full, *shortbuf, *json, *expect;
	size_t	 n, len, elen;

	n = policy_explain(p, ep, method, path, NULL, 0);
	if ((full = malloc(n + 1)) == NULL)
		return;
	assert(policy_explain(p, ep, method, path, full, n + 1) == n);
	assert(strlen(full) == n);

	if ((shortbuf = malloc(cut + 1)) != NULL) {
		assert(policy_explain(p, ep, method, path, shortbuf, cut) ==
		    n);
		if (cut > 0) {
			len = strlen(shortbuf);
			assert(len == (n < cut ? n : cut - 1));
			assert(memcmp(shortbuf, full, len) == 0);
		}
		free(shortbuf);
	}

	elen = strlen(method) + strlen(path) + 16;
	if ((expect = malloc(elen)) != NULL) {
		len = (size_t)snprintf(expect, elen, "%s %s is %s", method,
		    path, v == VERDICT_ALLOW ? "allowed" : "denied");
		assert(n >= len && memcmp(full, expect, len) == 0);
		free(expect);
	}

	/* The 403 body: canonical paths are ASCII, so JSON always works. */
	if ((json = http_json_message(full, &len)) != NULL) {
		assert(strstr(json, "unprintable") == NULL ||
		    strstr(full, "unprintable") != NULL);
		free(json);
	}
	free(full);
}

/* Decide one endpoint under every policy and check what each says. */
static void
fuzz_decide(const struct endpoint *ep, const char *method, const char *path,
    size_t cut)
{
	const struct policy	*p;
	enum verdict		 v;
	int			 i;

	for (i = 0; i < POLICY_COUNT; i++) {
		p = &fuzz_policies[i];
		v = policy_decide(p, ep);
		assert(v == VERDICT_ALLOW || v == VERDICT_DENY);
		assert(policy_decide(p, ep) == v);
		if (ep == NULL)
			assert(v == VERDICT_DENY);
		else if (i == POLICY_ALL)
			assert(v == VERDICT_ALLOW);
		if (v == VERDICT_ALLOW && i == POLICY_READ)
			assert(!(ep->flags & (ENDPOINT_WRITES |
			    ENDPOINT_CREDENTIAL)));
		if (v == VERDICT_ALLOW && i == POLICY_CARVE)
			assert(policy_kind_carve_out(ep->kind));
		if (v == VERDICT_ALLOW && i == POLICY_NO_KINDS)
			assert(ep->kind == KIND_NONE);
		fuzz_check_explain(p, ep, method, path, v, cut);
	}
}

/* Match a canonical path and check that the entry found serves it. */
static const struct endpoint *
fuzz_match(const char *method, const char *path)
{
	const struct endpoint	*ep;
	int			 amb, amb2;

	ep = catalogue_match(method, path, &amb);
	assert(catalogue_match(method, path, &amb2) == ep && amb2 == amb);
	if (amb)
		assert(ep == NULL);
	if (ep == NULL)
		return (NULL);
	assert(strcmp(ep->method, method) == 0 ||
	    (strcmp(method, "HEAD") == 0 && strcmp(ep->method, "GET") == 0));
	assert(catalogue_match_in(ep, 1, ep->method, path, NULL) == ep);
	assert((int)ep->group > GROUP_UNKNOWN && ep->group < GROUP_COUNT);
	assert((int)ep->kind >= KIND_NONE && ep->kind < KIND_COUNT);
	return (ep);
}

/*
 * From a raw target to the verdicts, as session_decide goes; returns the
 * endpoint, or NULL when the target is refused or unknown.
 */
static const struct endpoint *
fuzz_target(const char *method, const char *raw, size_t len, size_t cut)
{
	const struct endpoint	*ep;
	struct target		 t;
	const char		*why = NULL;
	char			 esc[64];
	size_t			 n;

	n = http_escape(esc, (cut % sizeof(esc)) + 1, raw, len);
	assert(n == strlen(esc) && n <= cut % sizeof(esc));

	if (canon_target(raw, len, &t, &why) != 0) {
		assert(why != NULL);
		assert(t.path == NULL && t.query == NULL);
		return (NULL);
	}
	fuzz_check_target(&t);
	fuzz_check_fixed_point(&t);
	ep = fuzz_match(method, t.path);
	fuzz_decide(ep, method, t.path, cut);
	if (ep != NULL)
		(void)canon_query_flag(t.query, "follow", 0);
	canon_clear(&t);
	return (ep);
}

/*
 * Run the parser over bytes as session_parse_move does: pieces of at most
 * room bytes in all, and on a pause only what came before it counts.
 * Returns the parser's result; *moved is never more than was given.
 */
static llhttp_errno_t
fuzz_parse_move(llhttp_t *p, const char *buf, size_t len,
    struct fuzz_rng *rng, size_t *moved)
{
	llhttp_errno_t	 err = HPE_OK;
	const char	*at;
	size_t		 room, piece, used, total = 0;
	int		 i;

	room = 1 + fuzz_rng_next(rng) % 512;
	for (i = 0; i < FUZZ_IOV_MAX && err == HPE_OK && total < room &&
	    total < len; i++) {
		piece = 1 + fuzz_rng_next(rng) % 128;
		if (piece > len - total)
			piece = len - total;
		if (piece > room - total)
			piece = room - total;
		err = llhttp_execute(p, buf + total, piece);
		used = piece;
		if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
			at = llhttp_get_error_pos(p);
			assert(at >= buf + total && at <= buf + total + piece);
			used = (size_t)(at - (buf + total));
		} else if (err != HPE_OK)
			break;
		total += used;
	}
	assert(total <= len && total <= room);
	*moved = total;
	return (err);
}

/*
 * A held body goes on behind a new head with one Content-Length: that
 * head and body must read, to llhttp, as the same request with exactly
 * the body that was held.
 */
static void
fuzz_check_reframed(const char *head, size_t head_len,
    const struct fuzz_request *rq)
{
	struct fuzz_request	 again;
	llhttp_t		 p;
	llhttp_errno_t		 err;
	char			*out, *all;
	size_t			 len;

	if ((out = http_head_with_length(head, head_len, rq->body_len,
	    &len)) == NULL)
		return;
	assert(len >= 4 && memcmp(out + len - 4, "\r\n\r\n", 4) == 0);
	if ((all = malloc(len + rq->body_len)) == NULL) {
		free(out);
		return;
	}
	memcpy(all, out, len);
	memcpy(all + len, rq->body, rq->body_len);

	memset(&again, 0, sizeof(again));
	again.hold = 1;
	llhttp_init(&p, HTTP_REQUEST, &fuzz_settings);
	p.data = &again;
	err = llhttp_execute(&p, all, len + rq->body_len);
	assert(err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE);
	assert(again.done);
	assert(llhttp_get_error_pos(&p) == all + len + rq->body_len);
	assert(again.target_len == rq->target_len &&
	    memcmp(again.target, rq->target, rq->target_len) == 0);
	assert(again.body_len == rq->body_len &&
	    memcmp(again.body, rq->body, rq->body_len) == 0);
	free(again.target);
	free(all);
	free(out);
}

/*
 * A header's value as http_head_value copies it: whole or not at all,
 * without the blanks around it, and never running past its line.
 */
static void
fuzz_check_value(const char *head, size_t len, const char *name,
    size_t size)
{
	char	 value[128];
	size_t	 n;

	memset(value, 'x', sizeof(value));
	if (http_head_value(head, len, name, value, size) != 0)
		return;
	n = strlen(value);
	assert(n < size);
	assert(strpbrk(value, "\r\n") == NULL);
	if (n > 0)
		assert(value[0] != ' ' && value[0] != '\t' &&
		    value[n - 1] != ' ' && value[n - 1] != '\t');
}

/*
 * One request from buf: head, decision, body.  Returns the bytes it took,
 * or 0 when the connection would close after it.
 */
static size_t
fuzz_request(const char *buf, size_t len, const struct head_limits *lim,
    struct fuzz_rng *rng)
{
	const struct endpoint	*ep;
	struct fuzz_request	 rq;
	llhttp_t		 p;
	llhttp_errno_t		 err;
	const char		*method, *at;
	size_t			 head_len = 0, off, moved;
	int			 keep;

	if (fuzz_scan(buf, len, lim, rng, &head_len) != HEAD_COMPLETE)
		return (0);
	fuzz_check_value(buf, head_len, "expect", 1 + fuzz_rng_next(rng) % 32);
	fuzz_check_value(buf, head_len, "content-length", 128);

	memset(&rq, 0, sizeof(rq));
	llhttp_init(&p, HTTP_REQUEST, &fuzz_settings);
	p.data = &rq;
	err = llhttp_execute(&p, buf, head_len);
	if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
		free(rq.target);
		return (0);
	}
	/*
	 * llhttp must see the head end where the scan did: bytes it left
	 * over would go to the engine unchecked.
	 */
	assert(rq.headers_done);
	if (err != HPE_OK) {
		at = llhttp_get_error_pos(&p);
		assert(at == buf + head_len);
	}
	if (rq.target == NULL) {
		free(rq.target);
		return (0);
	}
	/* session_decide reads the target with strlen. */
	assert(strlen(rq.target) == rq.target_len);

	method = llhttp_method_name((llhttp_method_t)llhttp_get_method(&p));
	keep = llhttp_should_keep_alive(&p) && !p.upgrade;
	ep = fuzz_target(method, rq.target, rq.target_len,
	    fuzz_rng_next(rng) % 256);

	/* The body: held and re-framed for the guard, else streamed. */
	rq.hold = ep != NULL && (ep->flags & ENDPOINT_BODY_GUARD);
	off = head_len;
	while (!rq.done && off < len) {
		err = fuzz_parse_move(&p, buf + off, len - off, rng, &moved);
		off += moved;
		assert(off <= len);
		if (err != HPE_OK && err != HPE_PAUSED &&
		    err != HPE_PAUSED_UPGRADE) {
			free(rq.target);
			return (0);
		}
	}
	if (rq.done && rq.hold && !rq.body_over)
		fuzz_check_reframed(buf, head_len, &rq);
	free(rq.target);
	if (!rq.done || !keep)
		return (0);
	return (off);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data;
	struct fuzz_rng	 rng;
	size_t		 i, off, n;
	int		 k;

	fuzz_init();
	fuzz_rng_init(&rng, data, size);

	if (size > 0 && buf[0] == '/') {
		for (i = 0; i < sizeof(fuzz_methods) / sizeof(fuzz_methods[0]);
		    i++)
			(void)fuzz_target(fuzz_methods[i], buf, size,
			    fuzz_rng_next(&rng) % 256);
		return (0);
	}

	for (i = 0; i < sizeof(fuzz_limits) / sizeof(fuzz_limits[0]); i++) {
		off = 0;
		for (k = 0; k < FUZZ_REQUESTS_MAX && off < size; k++) {
			n = fuzz_request(buf + off, size - off,
			    &fuzz_limits[i], &rng);
			if (n == 0)
				break;
			off += n;
		}
	}
	return (0);
}
