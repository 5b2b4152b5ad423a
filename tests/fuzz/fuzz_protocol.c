/*
 * Fuzz target: protocol_decode, which reads every line a control client
 * sends.  Whatever the bytes, it must return 0 or -1 and nothing else;
 * a refusal carries a known code, a message and an id dspd can echo
 * (null, or one that parses back as the client sent it); an accepted
 * request holds only what its checks allow (a change that changes
 * something, limits in range, strings within their sizes and free of
 * control bytes, a scope that names a group); and the same line always
 * decodes the same way.
 *
 * Input: one line as the server hands it over, newline removed.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dspd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Whether s, of at most size bytes with its NUL, is plain text. */
static void
fuzz_check_text(const char *s, size_t size)
{
	size_t	 len = strnlen(s, size);

	assert(len < size);
	for (; *s != '\0'; s++)
		assert((unsigned char)*s >= 0x20 && *s != 0x7f);
}

/* An id as echoed: an integer in range, or a short plain string. */
static void
fuzz_check_id(const char *id)
{
	json_t	*v;

	v = json_loads(id, JSON_DECODE_ANY, NULL);
	assert(v != NULL);
	if (json_is_integer(v))
		assert(json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= 9007199254740991LL);
	else {
		assert(json_is_string(v));
		assert(json_string_length(v) >= 1 &&
		    json_string_length(v) <= DSP_ID_MAX);
		assert(strspn(json_string_value(v), "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") ==
		    json_string_length(v));
	}
	json_decref(v);
}

static void
fuzz_check_error(const struct protocol_error *err, size_t size)
{
	static const char *const codes[] = {
		DSP_ERR_MALFORMED, DSP_ERR_TOO_LARGE, DSP_ERR_UNKNOWN,
		DSP_ERR_ARGUMENT
	};
	size_t	 i;

	assert(err->code != NULL);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(err->code, codes[i]) == 0)
			break;
	assert(i < sizeof(codes) / sizeof(codes[0]));
	assert(err->message[0] != '\0');
	assert(strnlen(err->message, sizeof(err->message)) <
	    sizeof(err->message));
	if (strcmp(err->id, "null") != 0)
		fuzz_check_id(err->id);
	if (size > DSP_LINE_MAX)
		assert(strcmp(err->code, DSP_ERR_TOO_LARGE) == 0);
}

static void
fuzz_check_request(const struct protocol_request *req)
{
	enum endpoint_group	 g;
	int			 i, any = 0;

	assert((int)req->type >= 0 && req->type < PROTOCOL_TYPE_COUNT);
	fuzz_check_id(req->id);
	fuzz_check_text(req->reason, sizeof(req->reason));
	fuzz_check_text(req->client, sizeof(req->client));
	assert(strcmp(req->source, "dspctl") == 0 ||
	    strcmp(req->source, "dsptui") == 0 ||
	    strcmp(req->source, "control") == 0);
	for (i = 0; i < GROUP_COUNT; i++) {
		assert(req->access[i] == PROTOCOL_UNCHANGED ||
		    (req->access[i] >= ACCESS_OFF &&
		    req->access[i] <= ACCESS_WRITE));
		assert(i != GROUP_UNKNOWN ||
		    req->access[i] == PROTOCOL_UNCHANGED);
		any |= req->access[i] != PROTOCOL_UNCHANGED;
	}
	for (i = 0; i < KIND_COUNT; i++) {
		assert(req->override[i] == PROTOCOL_UNCHANGED ||
		    (req->override[i] >= OVERRIDE_INHERIT &&
		    req->override[i] <= OVERRIDE_DENY));
		assert(i != KIND_NONE ||
		    req->override[i] == PROTOCOL_UNCHANGED);
		assert(req->seconds == 0 || req->type != PROTOCOL_SET ||
		    req->override[i] != OVERRIDE_INHERIT);
		any |= req->override[i] != PROTOCOL_UNCHANGED;
	}
	assert(req->seconds >= 0 && req->seconds <= DSP_FOR_MAX);
	switch (req->type) {
	case PROTOCOL_SET:
		assert(any);
		break;
	case PROTOCOL_ROLLBACK:
		assert(req->seconds >= 1);
		if (strcmp(req->scope, "all") != 0) {
			assert(strncmp(req->scope, "group:", 6) == 0);
			g = catalogue_group_from_name(req->scope + 6);
			assert(g != GROUP_UNKNOWN);
			assert(strcmp(req->scope + 6,
			    catalogue_group_name(g)) == 0);
		}
		break;
	case PROTOCOL_HISTORY:
		assert(req->limit >= 1 && req->limit <= DSP_HISTORY_MAX);
		break;
	case PROTOCOL_DENIALS:
		assert(req->limit >= 1 && req->limit <= DSP_DENIALS_MAX);
		assert(req->until == 0 || req->until >= req->since);
		break;
	case PROTOCOL_DIFF:
	case PROTOCOL_REVERT:
		assert(req->revision >= 1);
		break;
	default:
		assert(!any);
		break;
	}
	if (req->group[0] != '\0')
		assert(strcmp(req->group, "unknown") == 0 ||
		    strcmp(catalogue_group_name(catalogue_group_from_name(
		    req->group)), req->group) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct protocol_request	 req, again;
	struct protocol_error	 err, err2;
	int			 rc;

	rc = protocol_decode((const char *)data, size, &req, &err);
	assert(rc == 0 || rc == -1);
	if (rc == 0)
		fuzz_check_request(&req);
	else
		fuzz_check_error(&err, size);
	assert(protocol_decode((const char *)data, size, &again, &err2) ==
	    rc);
	if (rc == 0)
		assert(memcmp(&req, &again, sizeof(req)) == 0);
	else
		assert(strcmp(err.code, err2.code) == 0 &&
		    strcmp(err.id, err2.id) == 0 &&
		    strcmp(err.message, err2.message) == 0);
	return (0);
}
