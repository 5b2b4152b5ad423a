/*
 * Unit tests of protocol.c: control-socket lines that dspd must refuse,
 * with the error code and id a client would get back, and lines it must
 * accept, with what the request then asks for.
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

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Decode a NUL-ended line; its length is strlen, as the server's is. */
static int
decode(const char *line, struct protocol_request *req,
    struct protocol_error *err)
{
	return (protocol_decode(line, strlen(line), req, err));
}

static void
test_refused(void **state)
{
	static const struct {
		const char	*line;
		const char	*code;
		const char	*id;	/* echoed in the error */
	} cases[] = {
		/* Not a JSON object. */
		{ "", DSP_ERR_MALFORMED, "null" },
		{ "ping", DSP_ERR_MALFORMED, "null" },
		{ "{", DSP_ERR_MALFORMED, "null" },
		{ "[]", DSP_ERR_MALFORMED, "null" },
		{ "\"ping\"", DSP_ERR_MALFORMED, "null" },
		{ "7", DSP_ERR_MALFORMED, "null" },
		{ "{\"id\":1,\"request\":\"ping\"} {}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":1,\"request\":\"ping\"}x", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":1,\"id\":2,\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":1,\"request\":\"ping\",\"request\":\"status\"}",
		    DSP_ERR_MALFORMED, "null" },
		{ "{\"id\":1,\"request\":\"pi\\u0000ng\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":1,\"request\":\"\xff\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":1,\"request\":\"\xc0\xaf\"}", DSP_ERR_MALFORMED,
		    "null" },
		/* The id. */
		{ "{\"request\":\"ping\"}", DSP_ERR_MALFORMED, "null" },
		{ "{\"id\":null,\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":-1,\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":1.5,\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":9007199254740992,\"request\":\"ping\"}",
		    DSP_ERR_MALFORMED, "null" },
		{ "{\"id\":true,\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":[1],\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":\"\",\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":\"a b\",\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":\"a\\\"b\",\"request\":\"ping\"}", DSP_ERR_MALFORMED,
		    "null" },
		{ "{\"id\":\"12345678901234567890123456789012345678901234567890"
		    "12345678901234x\",\"request\":\"ping\"}",
		    DSP_ERR_MALFORMED, "null" },
		/* The request's name. */
		{ "{\"id\":3}", DSP_ERR_MALFORMED, "3" },
		{ "{\"id\":3,\"request\":7}", DSP_ERR_MALFORMED, "3" },
		{ "{\"id\":3,\"request\":\"PING\"}", DSP_ERR_UNKNOWN, "3" },
		{ "{\"id\":3,\"request\":\"shutdown\"}", DSP_ERR_UNKNOWN, "3" },
		{ "{\"id\":\"x\",\"request\":\"\"}", DSP_ERR_UNKNOWN, "\"x\"" },
		/* Members a request does not take. */
		{ "{\"id\":4,\"request\":\"ping\",\"x\":1}", DSP_ERR_ARGUMENT,
		    "4" },
		{ "{\"id\":4,\"request\":\"status\",\"for\":1}",
		    DSP_ERR_ARGUMENT, "4" },
		{ "{\"id\":4,\"request\":\"restore\",\"scope\":\"all\"}",
		    DSP_ERR_ARGUMENT, "4" },
		{ "{\"id\":4,\"request\":\"set\",\"access\":{\"exec\":"
		    "\"read\"},\"group\":\"exec\"}", DSP_ERR_ARGUMENT, "4" },
		/* set. */
		{ "{\"id\":5,\"request\":\"set\"}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{}}",
		    DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":\"read\"}",
		    DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"nope\":"
		    "\"read\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"unknown\":"
		    "\"read\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":"
		    "\"all\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":1}}",
		    DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":"
		    "\"READ\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\","
		    "\"EXEC\":\"off\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\","
		    "\"exec\":\"off\"}}", DSP_ERR_MALFORMED, "null" },
		{ "{\"id\":5,\"request\":\"set\",\"overrides\":{\"start\":"
		    "\"yes\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"overrides\":{\"reboot\":"
		    "\"allow\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"overrides\":{\"none\":"
		    "\"allow\"}}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"overrides\":[]}",
		    DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"for\":0}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"for\":-60}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"for\":60.5}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"for\":\"30m\"}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"for\":31622401}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"reason\":7}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"overrides\":{\"start\":"
		    "\"inherit\"},\"for\":60}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"reason\":\"a\\nb\"}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"reason\":\"\\u001b[31m\"}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"source\":\"env\"}", DSP_ERR_ARGUMENT, "5" },
		{ "{\"id\":5,\"request\":\"set\",\"access\":{\"exec\":\"read\"},"
		    "\"source\":\"expiry\"}", DSP_ERR_ARGUMENT, "5" },
		/* history, diff, revert. */
		{ "{\"id\":6,\"request\":\"history\",\"limit\":0}",
		    DSP_ERR_ARGUMENT, "6" },
		{ "{\"id\":6,\"request\":\"history\",\"limit\":1001}",
		    DSP_ERR_ARGUMENT, "6" },
		{ "{\"id\":6,\"request\":\"history\",\"before\":-1}",
		    DSP_ERR_ARGUMENT, "6" },
		{ "{\"id\":6,\"request\":\"diff\"}", DSP_ERR_ARGUMENT, "6" },
		{ "{\"id\":6,\"request\":\"diff\",\"from\":0}", DSP_ERR_ARGUMENT,
		    "6" },
		{ "{\"id\":6,\"request\":\"diff\",\"from\":\"3\"}",
		    DSP_ERR_ARGUMENT, "6" },
		{ "{\"id\":6,\"request\":\"diff\",\"from\":3,\"to\":-1}",
		    DSP_ERR_ARGUMENT, "6" },
		{ "{\"id\":6,\"request\":\"revert\"}", DSP_ERR_ARGUMENT, "6" },
		{ "{\"id\":6,\"request\":\"revert\",\"revision\":0}",
		    DSP_ERR_ARGUMENT, "6" },
		/* rollback. */
		{ "{\"id\":7,\"request\":\"rollback\",\"scope\":\"none\"}",
		    DSP_ERR_ARGUMENT, "7" },
		{ "{\"id\":7,\"request\":\"rollback\",\"scope\":\"group:\"}",
		    DSP_ERR_ARGUMENT, "7" },
		{ "{\"id\":7,\"request\":\"rollback\",\"scope\":"
		    "\"group:unknown\"}", DSP_ERR_ARGUMENT, "7" },
		{ "{\"id\":7,\"request\":\"rollback\",\"scope\":"
		    "\"group:nope\"}", DSP_ERR_ARGUMENT, "7" },
		{ "{\"id\":7,\"request\":\"rollback\",\"scope\":"
		    "\"profile:default\"}", DSP_ERR_ARGUMENT, "7" },
		{ "{\"id\":7,\"request\":\"rollback\",\"for\":0}",
		    DSP_ERR_ARGUMENT, "7" },
		/* denials. */
		{ "{\"id\":8,\"request\":\"denials\",\"limit\":1001}",
		    DSP_ERR_ARGUMENT, "8" },
		{ "{\"id\":8,\"request\":\"denials\",\"since\":200,\"until\":"
		    "100}", DSP_ERR_ARGUMENT, "8" },
		{ "{\"id\":8,\"request\":\"denials\",\"group\":\"nope\"}",
		    DSP_ERR_ARGUMENT, "8" },
		{ "{\"id\":8,\"request\":\"denials\",\"bypass\":1}",
		    DSP_ERR_ARGUMENT, "8" },
		{ "{\"id\":8,\"request\":\"denials\",\"client\":\"" "x\\ty\"}",
		    DSP_ERR_ARGUMENT, "8" },
		/* subscribe. */
		{ "{\"id\":9,\"request\":\"subscribe\",\"mode\":\"fast\"}",
		    DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"subscribe\",\"denied\":\"yes\"}",
		    DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"subscribe\",\"group\":7}",
		    DSP_ERR_ARGUMENT, "9" },
		/* check: a method token, a target that is one line. */
		{ "{\"id\":9,\"request\":\"check\",\"target\":\"/_ping\"}",
		    DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"check\",\"method\":\"GET\"}",
		    DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"check\",\"method\":\"G T\","
		    "\"target\":\"/_ping\"}", DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"check\",\"method\":\"\","
		    "\"target\":\"/_ping\"}", DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"check\",\"method\":\"GET\","
		    "\"target\":\"\"}", DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"check\",\"method\":\"GET\","
		    "\"target\":\"/a\\r\\nHost: b\"}", DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"check\",\"method\":\"GET\","
		    "\"target\":\"/a\",\"body\":{}}", DSP_ERR_ARGUMENT, "9" },
		{ "{\"id\":9,\"request\":\"check\",\"method\":\"GET\","
		    "\"target\":\"/a\",\"headers\":[]}", DSP_ERR_ARGUMENT,
		    "9" },
	};
	struct protocol_request	 req;
	struct protocol_error	 err;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		if (decode(cases[i].line, &req, &err) != -1)
			fail_msg("accepted: %s", cases[i].line);
		if (err.code == NULL || strcmp(err.code, cases[i].code) != 0)
			fail_msg("%s: code %s, want %s", cases[i].line,
			    err.code != NULL ? err.code : "(none)",
			    cases[i].code);
		if (strcmp(err.id, cases[i].id) != 0)
			fail_msg("%s: id %s, want %s", cases[i].line, err.id,
			    cases[i].id);
		if (err.message[0] == '\0')
			fail_msg("%s: no message", cases[i].line);
	}
}

/* A reason or filter of exactly the limit passes; one byte more fails. */
static void
test_string_limits(void **state)
{
	struct protocol_request	 req;
	struct protocol_error	 err;
	char			 line[1024], text[DSP_REASON_MAX + 2];

	memset(text, 'r', DSP_REASON_MAX);
	text[DSP_REASON_MAX] = '\0';
	snprintf(line, sizeof(line), "{\"id\":1,\"request\":\"restore\","
	    "\"reason\":\"%s\"}", text);
	assert_int_equal(decode(line, &req, &err), 0);
	assert_int_equal(strlen(req.reason), DSP_REASON_MAX);
	snprintf(line, sizeof(line), "{\"id\":1,\"request\":\"restore\","
	    "\"reason\":\"%sr\"}", text);
	assert_int_equal(decode(line, &req, &err), -1);
	assert_string_equal(err.code, DSP_ERR_ARGUMENT);

	memset(text, 'c', DSP_FILTER_MAX);
	text[DSP_FILTER_MAX] = '\0';
	snprintf(line, sizeof(line), "{\"id\":1,\"request\":\"denials\","
	    "\"client\":\"%s\"}", text);
	assert_int_equal(decode(line, &req, &err), 0);
	assert_string_equal(req.client, text);
	snprintf(line, sizeof(line), "{\"id\":1,\"request\":\"denials\","
	    "\"client\":\"%sc\"}", text);
	assert_int_equal(decode(line, &req, &err), -1);

	/* A reason is text for people: any language, no control bytes. */
	assert_int_equal(decode("{\"id\":1,\"request\":\"restore\",\"reason\":"
	    "\"d\xc3\xa9p\xc3\xb4t \xe2\x9c\x93\"}", &req, &err), 0);
	assert_string_equal(req.reason, "d\xc3\xa9p\xc3\xb4t \xe2\x9c\x93");
}

/* A line of exactly DSP_LINE_MAX bytes is read; one more is too large. */
static void
test_line_limit(void **state)
{
	struct protocol_request	 req;
	struct protocol_error	 err;
	const char		*msg = "{\"id\":42,\"request\":\"ping\"}";
	char			*line;

	line = malloc(DSP_LINE_MAX + 2);
	assert_non_null(line);
	memset(line, ' ', DSP_LINE_MAX + 1);
	memcpy(line, msg, strlen(msg));
	assert_int_equal(protocol_decode(line, DSP_LINE_MAX, &req, &err), 0);
	assert_int_equal(req.type, PROTOCOL_PING);
	assert_string_equal(req.id, "42");
	assert_int_equal(protocol_decode(line, DSP_LINE_MAX + 1, &req, &err),
	    -1);
	assert_string_equal(err.code, DSP_ERR_TOO_LARGE);
	free(line);
}

static void
test_ids(void **state)
{
	static const struct {
		const char	*id;	/* as sent */
		const char	*echo;	/* as the reply carries it */
	} cases[] = {
		{ "0", "0" },
		{ "7", "7" },
		{ "9007199254740991", "9007199254740991" },
		{ "\"a\"", "\"a\"" },
		{ "\"req-1.2:x_y\"", "\"req-1.2:x_y\"" },
		{ "\"1234567890123456789012345678901234567890123456789012345"
		    "678901234\"", "\"1234567890123456789012345678901234567890"
		    "123456789012345678901234\"" },
	};
	struct protocol_request	 req;
	struct protocol_error	 err;
	char			 line[256];
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		snprintf(line, sizeof(line), "{\"request\":\"ping\",\"id\":%s}",
		    cases[i].id);
		if (decode(line, &req, &err) != 0)
			fail_msg("%s refused: %s", line, err.message);
		assert_string_equal(req.id, cases[i].echo);
		/* An error about a later member still echoes the id. */
		snprintf(line, sizeof(line), "{\"request\":\"ping\",\"id\":%s,"
		    "\"z\":0}", cases[i].id);
		assert_int_equal(decode(line, &req, &err), -1);
		assert_string_equal(err.id, cases[i].echo);
	}
}

/* Each name decodes to its type, and the changes are the four that are. */
static void
test_types(void **state)
{
	static const struct {
		const char		*name;
		enum protocol_type	 type;
		int			 changes;
	} cases[] = {
		{ "ping", PROTOCOL_PING, 0 },
		{ "status", PROTOCOL_STATUS, 0 },
		{ "groups", PROTOCOL_GROUPS, 0 },
		{ "history", PROTOCOL_HISTORY, 0 },
		{ "denials", PROTOCOL_DENIALS, 0 },
		{ "subscribe", PROTOCOL_SUBSCRIBE, 0 },
		{ "restore", PROTOCOL_RESTORE, 1 },
		{ "rollback", PROTOCOL_ROLLBACK, 1 },
	};
	struct protocol_request	 req;
	struct protocol_error	 err;
	char			 line[128];
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		snprintf(line, sizeof(line), "{\"id\":1,\"request\":\"%s\"}",
		    cases[i].name);
		if (decode(line, &req, &err) != 0)
			fail_msg("%s refused: %s", line, err.message);
		assert_int_equal(req.type, cases[i].type);
		assert_string_equal(protocol_type_name(req.type),
		    cases[i].name);
		assert_int_equal(protocol_type_changes(req.type),
		    cases[i].changes);
	}
	assert_int_equal(protocol_type_changes(PROTOCOL_SET), 1);
	assert_int_equal(protocol_type_changes(PROTOCOL_REVERT), 1);
	assert_int_equal(protocol_type_changes(PROTOCOL_DIFF), 0);
	/* Whatever dspd does not know is treated as a change: refused RO. */
	assert_int_equal(protocol_type_changes(PROTOCOL_TYPE_COUNT), 1);
}

static void
test_set(void **state)
{
	struct protocol_request	 req;
	struct protocol_error	 err;
	int			 g, k;

	assert_int_equal(decode("{\"id\":\"s1\",\"request\":\"set\","
	    "\"access\":{\"containers\":\"read\",\"EXEC\":\"write\","
	    "\"build\":\"off\"},\"overrides\":{\"start\":\"allow\","
	    "\"logs\":\"deny\"},\"for\":1800,"
	    "\"reason\":\"deploy #42\",\"source\":\"dspctl\"}", &req, &err),
	    0);
	assert_int_equal(req.type, PROTOCOL_SET);
	assert_string_equal(req.id, "\"s1\"");
	for (g = 0; g < GROUP_COUNT; g++) {
		if (g == GROUP_CONTAINERS)
			assert_int_equal(req.access[g], ACCESS_READ);
		else if (g == GROUP_EXEC)
			assert_int_equal(req.access[g], ACCESS_WRITE);
		else if (g == GROUP_BUILD)
			assert_int_equal(req.access[g], ACCESS_OFF);
		else
			assert_int_equal(req.access[g], PROTOCOL_UNCHANGED);
	}
	for (k = 0; k < KIND_COUNT; k++) {
		if (k == KIND_START)
			assert_int_equal(req.override[k], OVERRIDE_ALLOW);
		else if (k == KIND_LOGS)
			assert_int_equal(req.override[k], OVERRIDE_DENY);
		else
			assert_int_equal(req.override[k], PROTOCOL_UNCHANGED);
	}
	assert_int_equal(req.seconds, 1800);
	assert_string_equal(req.reason, "deploy #42");
	assert_string_equal(req.source, "dspctl");

	/* Without "for" the change is permanent; the source is "control". */
	assert_int_equal(decode("{\"id\":2,\"request\":\"set\",\"overrides\":"
	    "{\"exec\":\"deny\",\"archive\":\"inherit\"}}", &req, &err), 0);
	assert_int_equal(req.override[KIND_ARCHIVE], OVERRIDE_INHERIT);
	assert_int_equal(req.seconds, 0);
	assert_string_equal(req.reason, "");
	assert_string_equal(req.source, "control");
	assert_int_equal(req.override[KIND_EXEC], OVERRIDE_DENY);
	assert_int_equal(req.access[GROUP_EXEC], PROTOCOL_UNCHANGED);

	/* The longest grant a set may ask for. */
	assert_int_equal(decode("{\"id\":2,\"request\":\"set\",\"access\":"
	    "{\"exec\":\"read\"},\"for\":31622400}", &req, &err), 0);
	assert_int_equal(req.seconds, DSP_FOR_MAX);
}

static void
test_queries(void **state)
{
	struct protocol_request	 req;
	struct protocol_error	 err;

	assert_int_equal(decode("{\"id\":1,\"request\":\"history\"}", &req,
	    &err), 0);
	assert_int_equal(req.limit, DSP_HISTORY_DEFAULT);
	assert_int_equal(req.before, 0);
	assert_int_equal(decode("{\"id\":1,\"request\":\"history\",\"limit\":"
	    "1000,\"before\":12}", &req, &err), 0);
	assert_int_equal(req.limit, 1000);
	assert_int_equal(req.before, 12);

	assert_int_equal(decode("{\"id\":1,\"request\":\"diff\",\"from\":3}",
	    &req, &err), 0);
	assert_int_equal(req.revision, 3);
	assert_int_equal(req.revision_to, 0);
	assert_int_equal(decode("{\"id\":1,\"request\":\"diff\",\"from\":3,"
	    "\"to\":9}", &req, &err), 0);
	assert_int_equal(req.revision_to, 9);

	assert_int_equal(decode("{\"id\":1,\"request\":\"revert\",\"revision\":"
	    "4,\"reason\":\"undo\"}", &req, &err), 0);
	assert_int_equal(req.revision, 4);
	assert_string_equal(req.reason, "undo");

	assert_int_equal(decode("{\"id\":1,\"request\":\"denials\"}", &req,
	    &err), 0);
	assert_int_equal(req.limit, DSP_DENIALS_DEFAULT);
	assert_int_equal(req.since, 0);
	assert_int_equal(req.bypass, 0);
	assert_string_equal(req.group, "");
	assert_string_equal(req.client, "");
	assert_int_equal(decode("{\"id\":1,\"request\":\"denials\",\"since\":"
	    "1700000000,\"until\":1700003600,\"client\":\"127.0.0.1:4000\","
	    "\"group\":\"Containers\",\"limit\":1000,\"bypass\":true}", &req,
	    &err), 0);
	assert_int_equal(req.since, 1700000000);
	assert_int_equal(req.until, 1700003600);
	assert_string_equal(req.client, "127.0.0.1:4000");
	assert_string_equal(req.group, "containers");
	assert_int_equal(req.limit, 1000);
	assert_int_equal(req.bypass, 1);
	/* Rows of unknown paths are in group "unknown": a valid filter. */
	assert_int_equal(decode("{\"id\":1,\"request\":\"denials\",\"group\":"
	    "\"unknown\"}", &req, &err), 0);
	assert_string_equal(req.group, "unknown");
}

static void
test_rollback_subscribe(void **state)
{
	struct protocol_request	 req;
	struct protocol_error	 err;

	assert_int_equal(decode("{\"id\":1,\"request\":\"rollback\"}", &req,
	    &err), 0);
	assert_int_equal(req.seconds, DSP_BYPASS_DEFAULT);
	assert_string_equal(req.scope, "all");
	assert_int_equal(decode("{\"id\":1,\"request\":\"rollback\",\"for\":"
	    "60,\"scope\":\"group:EXEC\",\"reason\":\"outage\",\"source\":"
	    "\"dsptui\"}", &req, &err), 0);
	assert_int_equal(req.seconds, 60);
	assert_string_equal(req.scope, "group:exec");
	assert_string_equal(req.reason, "outage");
	assert_string_equal(req.source, "dsptui");

	assert_int_equal(decode("{\"id\":1,\"request\":\"subscribe\"}", &req,
	    &err), 0);
	assert_int_equal(req.lossy, 0);
	assert_int_equal(req.denied, 0);
	assert_int_equal(decode("{\"id\":1,\"request\":\"subscribe\",\"mode\":"
	    "\"lossy\",\"denied\":true,\"client\":\"uid=1000\",\"group\":"
	    "\"exec\"}", &req, &err), 0);
	assert_int_equal(req.lossy, 1);
	assert_int_equal(req.denied, 1);
	assert_string_equal(req.client, "uid=1000");
	assert_string_equal(req.group, "exec");
	assert_int_equal(decode("{\"id\":1,\"request\":\"subscribe\",\"mode\":"
	    "\"lossless\"}", &req, &err), 0);
	assert_int_equal(req.lossy, 0);
}

/* Whitespace around a message is JSON's business, not an error. */
/* check: read only, its method kept, a body noted, control bytes left. */
static void
test_check(void **state)
{
	struct protocol_request	 req;
	struct protocol_error	 err;

	assert_int_equal(decode("{\"id\":3,\"request\":\"check\","
	    "\"method\":\"POST\",\"target\":\"/containers/create\","
	    "\"body\":\"{}\"}", &req, &err), 0);
	assert_int_equal(req.type, PROTOCOL_CHECK);
	assert_string_equal(req.method, "POST");
	assert_int_equal(req.has_body, 1);
	assert_int_equal(protocol_type_changes(PROTOCOL_CHECK), 0);
	/* The scan, not the decoder, refuses a control byte in a target. */
	assert_int_equal(decode("{\"id\":3,\"request\":\"check\","
	    "\"method\":\"GET\",\"target\":\"/a\\u0001b\"}", &req, &err),
	    0);
	assert_int_equal(req.has_body, 0);
}

static void
test_whitespace(void **state)
{
	struct protocol_request	 req;
	struct protocol_error	 err;

	assert_int_equal(decode("  {\"id\" : 1 ,\n\"request\":\"status\"}\t ",
	    &req, &err), 0);
	assert_int_equal(req.type, PROTOCOL_STATUS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_rollback_subscribe),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_whitespace),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
