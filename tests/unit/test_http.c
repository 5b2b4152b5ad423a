/*
 * Unit tests of the raw request head scan and dspd's own reply pieces.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "dspd.h"

static const struct head_limits limits = { 1024, 8, 128 };

struct scan_case {
	const char		*head;
	size_t			 len;		/* the text may hold a NUL */
	enum head_result	 want;
	size_t			 head_len;	/* when complete */
};

#define GET	"GET /_ping HTTP/1.1\r\n"
#define CASE(text, want, head_len)	{ text, sizeof(text) - 1, want, head_len }

static const struct scan_case scan_cases[] = {
	CASE(GET "Host: x\r\n\r\n", HEAD_COMPLETE, 32),
	CASE(GET "\r\n", HEAD_COMPLETE, 23),
	CASE(GET "Host: x\r\n\r\nGET /next", HEAD_COMPLETE, 32),
	CASE(GET "Host: x\r\n", HEAD_INCOMPLETE, 0),
	CASE(GET "Host: x\r", HEAD_INCOMPLETE, 0),
	CASE("GET /_ping", HEAD_INCOMPLETE, 0),
	CASE(GET "X: a\tb\r\n\r\n", HEAD_COMPLETE, 31),
	CASE(GET "X: caf\xc3\xa9\r\n\r\n", HEAD_COMPLETE, 33),
	/* Bytes two HTTP readers may take differently. */
	CASE("GET /_ping HTTP/1.1\nHost: x\r\n\r\n", HEAD_BAD, 0),
	CASE(GET "Host: x\n\r\n", HEAD_BAD, 0),
	CASE(GET "Host: x\r\n\n", HEAD_BAD, 0),
	CASE(GET "Host: x\rX: y\r\n\r\n", HEAD_BAD, 0),
	CASE(GET "X: a\r\n b\r\n\r\n", HEAD_BAD, 0),
	CASE(GET "X: a\r\n\tb\r\n\r\n", HEAD_BAD, 0),
	CASE(GET "X: a\0b\r\n\r\n", HEAD_BAD, 0),
	CASE(GET "X: a\x7f\r\n\r\n", HEAD_BAD, 0),
	CASE(GET "X: a\x1b[2J\r\n\r\n", HEAD_BAD, 0),
	CASE(" GET /_ping HTTP/1.1\r\n\r\n", HEAD_BAD, 0),
	CASE("\r\nGET /_ping HTTP/1.1\r\n\r\n", HEAD_BAD, 0),
	/* A request line is three parts with one space between each. */
	CASE("GET /_ping  HTTP/1.1\r\n\r\n", HEAD_BAD, 0),
	CASE("GET  /_ping HTTP/1.1\r\n\r\n", HEAD_BAD, 0),
	CASE("GET /_ping HTTP/1.1 \r\n\r\n", HEAD_BAD, 0),
	CASE("GET /_ping HTTP/1.1 x\r\n\r\n", HEAD_BAD, 0),
	CASE("GET\t/_ping HTTP/1.1\r\n\r\n", HEAD_BAD, 0),
	CASE("GET /_ping\tHTTP/1.1\r\n\r\n", HEAD_BAD, 0),
	CASE("GET /_ping\r\n\r\n", HEAD_BAD, 0),
	CASE("GET /a b HTTP/1.1\r\n\r\n", HEAD_BAD, 0),
	/* Caps. */
	CASE(GET "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\n"
	    "H: 1\r\n\r\n", HEAD_COMPLETE, 71),
	CASE(GET "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\n"
	    "H: 1\r\nI: 1\r\n\r\n", HEAD_TOO_LARGE, 0),
};

/* Run a scan over the whole text at once. */
static enum head_result
scan_all(const char *buf, size_t len, size_t *head_len)
{
	struct head_scan	 scan;
	const char		*why;

	http_scan_init(&scan);
	return (http_scan_head(&scan, buf, len, &limits, head_len, &why));
}

static void
test_scan_table(void **state)
{
	const struct scan_case	*c;
	size_t			 i, len, head_len;
	enum head_result	 r;

	for (i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
		c = &scan_cases[i];
		len = c->len;
		head_len = 0;
		r = scan_all(c->head, len, &head_len);
		if (r != c->want)
			fail_msg("case %zu: got %d, want %d", i, r, c->want);
		if (r == HEAD_COMPLETE)
			assert_int_equal(head_len, c->head_len);
	}
}

/* The same verdicts whichever way the bytes are split across reads. */
static void
test_scan_byte_by_byte(void **state)
{
	const struct scan_case	*c;
	struct head_scan	 scan;
	const char		*why;
	size_t			 i, n, len, head_len;
	enum head_result	 r;

	for (i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
		c = &scan_cases[i];
		len = c->len;
		http_scan_init(&scan);
		r = HEAD_INCOMPLETE;
		for (n = 1; n <= len && r == HEAD_INCOMPLETE; n++)
			r = http_scan_head(&scan, c->head, n, &limits,
			    &head_len, &why);
		if (r != c->want)
			fail_msg("case %zu split: got %d, want %d", i, r,
			    c->want);
		if (r == HEAD_COMPLETE)
			assert_int_equal(head_len, c->head_len);
		if (r == HEAD_BAD)
			assert_non_null(why);
	}
}

static void
test_scan_head_cap(void **state)
{
	char		 buf[2048];
	size_t		 head_len;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, GET "X: ", strlen(GET "X: "));
	assert_int_equal(scan_all(buf, limits.head_max, &head_len),
	    HEAD_INCOMPLETE);
	assert_int_equal(scan_all(buf, sizeof(buf), &head_len),
	    HEAD_TOO_LARGE);
}

static void
test_scan_uri_cap(void **state)
{
	char		 buf[512];
	size_t		 head_len, n;

	/* A target of exactly the cap passes, one byte more does not. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\n\r\n",
	    (int)limits.uri_max - 1, 0);
	assert_int_equal(scan_all(buf, n, &head_len), HEAD_COMPLETE);
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\n\r\n",
	    (int)limits.uri_max, 0);
	assert_int_equal(scan_all(buf, n, &head_len), HEAD_URI_TOO_LONG);
	/* A request line that never ends is cut off early. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	assert_int_equal(scan_all(buf, sizeof(buf), &head_len),
	    HEAD_URI_TOO_LONG);
}

static void
test_json_message(void **state)
{
	json_t		*j;
	char		*s;
	size_t		 len = 0;

	s = http_json_message("dsp: say \"no\"\n", &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "message")),
	    "dsp: say \"no\"\n");
	json_decref(j);
	free(s);
}

static void
test_escape(void **state)
{
	char	 out[16];

	assert_int_equal(http_escape(out, sizeof(out), "ab\x01\\", 4), 10);
	assert_string_equal(out, "ab\\x01\\x5c");
	http_escape(out, sizeof(out), "0123456789abcdefghij", 20);
	assert_string_equal(out, "0123456789ab...");
	assert_string_equal(http_reason(403), "Forbidden");
	assert_string_equal(http_reason(502), "Bad Gateway");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_table),
		cmocka_unit_test(test_scan_byte_by_byte),
		cmocka_unit_test(test_scan_head_cap),
		cmocka_unit_test(test_scan_uri_cap),
		cmocka_unit_test(test_json_message),
		cmocka_unit_test(test_escape),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
