/*
 * Fuzz target: the engine's response, framed by llhttp the way
 * core/session.c drives it.  Its callbacks are copied here because the
 * session's are static to the daemon: a response to HEAD skips its body,
 * a 1xx other than 101 is interim, and the parser pauses at the end of
 * the final response so that nothing after it is taken.  The bytes come
 * in chunks as reads hand them over and are moved through a buffer with
 * little room, and every count of bytes taken must stay inside what was
 * given; the outcome must not depend on where the chunks end.
 *
 * Input: one byte of flags (bit 0: the request was HEAD), then the
 * engine's bytes.
 */

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <llhttp.h>

#include "dspd.h"

/* Iovecs session_parse_move takes from an evbuffer at once. */
#define FUZZ_IOV_MAX		8
/* Chunks one input may arrive in, at most. */
#define FUZZ_CHUNKS_MAX		64

/* What the session's response callbacks record. */
struct fuzz_response {
	int		 head_method;
	int		 status;
	int		 done;
	int		 interim;	/* 1xx responses passed over */
};

/* The outcome of one run over the input. */
struct fuzz_outcome {
	size_t		 taken;		/* bytes moved to the client */
	int		 done;
	int		 status;
	int		 failed;	/* llhttp refused the bytes */
	int		 finished;	/* ended well at the engine's close */
	int		 interim;
};

static llhttp_settings_t	 fuzz_settings;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_on_headers_complete(llhttp_t *p)
{
	struct fuzz_response	*r = p->data;

	if (p->status_code >= 100 && p->status_code < 200)
		return (0);
	r->status = p->status_code;
	return (r->head_method ? 1 : 0);
}

static int
fuzz_on_message_complete(llhttp_t *p)
{
	struct fuzz_response	*r = p->data;

	if (p->status_code >= 100 && p->status_code < 200 &&
	    p->status_code != 101) {
		r->interim++;
		return (0);
	}
	r->status = p->status_code;
	r->done = 1;
	return (HPE_PAUSED);
}

static void
fuzz_init(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	llhttp_settings_init(&fuzz_settings);
	fuzz_settings.on_headers_complete = fuzz_on_headers_complete;
	fuzz_settings.on_message_complete = fuzz_on_message_complete;
}

/*
 * session_parse_move over the bytes that have arrived: pieces cut where
 * the chunks end, at most FUZZ_IOV_MAX of them and room bytes in all.
 * Returns the parser's result; *moved is never more than was given.
 */
static llhttp_errno_t
fuzz_parse_move(llhttp_t *p, const char *buf, const size_t *ends,
    size_t nends, size_t off, size_t arrived, size_t room, size_t *moved)
{
	llhttp_errno_t	 err = HPE_OK;
	const char	*at, *base;
	size_t		 i, k, piece, used, total = 0;

	for (k = 0; k < nends && ends[k] <= off; k++)
		;
	for (i = 0; i < FUZZ_IOV_MAX && k < nends && ends[k] <= arrived &&
	    err == HPE_OK && total < room; i++, k++) {
		base = buf + off + total;
		piece = ends[k] - (off + total);
		if (piece > room - total)
			piece = room - total;
		err = llhttp_execute(p, base, piece);
		used = piece;
		if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
			at = llhttp_get_error_pos(p);
			assert(at >= base && at <= base + piece);
			used = (size_t)(at - base);
		} else if (err != HPE_OK)
			break;
		total += used;
	}
	assert(total <= room && off + total <= arrived);
	*moved = total;
	return (err);
}

/*
 * Feed the response as the session does until it is done, refused, or
 * all of it has come and the engine has closed.
 */
static void
fuzz_run(const char *buf, size_t len, int head_method, const size_t *ends,
    size_t nends, const size_t *rooms, struct fuzz_outcome *out)
{
	struct fuzz_response	 r;
	llhttp_t		 p;
	llhttp_errno_t		 err, fin;
	size_t			 off = 0, arrived = 0, moved, k = 0, turn = 0;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	r.head_method = head_method;
	llhttp_init(&p, HTTP_RESPONSE, &fuzz_settings);
	p.data = &r;

	while (!r.done) {
		/* Another read, or the client drained its buffer. */
		if (k < nends && (arrived == off || turn % 2 == 0))
			arrived = ends[k++];
		if (off == arrived && k == nends)
			break;
		err = fuzz_parse_move(&p, buf, ends, nends, off, arrived,
		    rooms[turn % nends], &moved);
		turn++;
		off += moved;
		if (err != HPE_OK && err != HPE_PAUSED &&
		    err != HPE_PAUSED_UPGRADE) {
			out->failed = 1;
			break;
		}
		/* A pause is only ever the end of the final response. */
		if (err != HPE_OK)
			assert(r.done);
	}
	assert(off <= len);
	if (!r.done && !out->failed) {
		/* session_response_eof: a body without length ends here. */
		fin = llhttp_finish(&p);
		out->finished = (fin == HPE_OK || fin == HPE_PAUSED) && r.done;
	}
	if (r.done)
		assert(r.status < 100 || r.status >= 200 || r.status == 101);
	out->taken = off;
	out->done = r.done;
	out->status = r.status;
	out->interim = r.interim;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf;
	struct fuzz_outcome	 once, split;
	size_t			 ends[FUZZ_CHUNKS_MAX], rooms[FUZZ_CHUNKS_MAX];
	size_t			 len, nends, i, at;
	uint32_t		 h;
	int			 head_method;

	fuzz_init();
	if (size < 1)
		return (0);
	head_method = data[0] & 1;
	buf = (const char *)data + 1;
	len = size - 1;

	/* All of it in one read, into a client buffer with room for all. */
	ends[0] = len;
	rooms[0] = len + 1;
	fuzz_run(buf, len, head_method, ends, 1, rooms, &once);

	/* In chunks and through small room, both derived from the bytes. */
	h = 2166136261u;
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	at = 0;
	for (nends = 0; nends < FUZZ_CHUNKS_MAX - 1 && at < len; nends++) {
		h ^= h << 13;
		h ^= h >> 17;
		h ^= h << 5;
		at += 1 + h % 97;
		ends[nends] = at < len ? at : len;
		rooms[nends] = 1 + (h >> 8) % 300;
	}
	if (nends == 0 || ends[nends - 1] < len) {
		rooms[nends] = 1 + h % 300;
		ends[nends++] = len;
	}
	fuzz_run(buf, len, head_method, ends, nends, rooms, &split);

	/* Bytes passed on before llhttp refused some depend on the chunks. */
	assert(once.failed || once.taken == split.taken);
	assert(once.done == split.done);
	assert(once.status == split.status);
	assert(once.failed == split.failed);
	assert(once.finished == split.finished);
	assert(once.interim == split.interim);
	return (0);
}
