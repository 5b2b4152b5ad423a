/*
 * Unit tests of ctl/client.c: the durations dspctl's flags take and the
 * way it prints them, and the client's side of the protocol against a
 * scripted peer on a socket pair: the greeting check, replies matched to
 * requests by id, events kept for later, errors reported with dspd's code.
 */

#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dspclient.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define CLOSED		"{\"event\":\"closed\",\"reason\":\"too slow\"}\n"
#define GREETING	"{\"dsp\":\"dspd\",\"version\":\"9.9\"," \
			"\"protocol\":1,\"access\":\"write\"}\n"

static void
test_parse_duration(void **state)
{
	static const struct {
		const char	*text;
		int		 rc;
		long long	 seconds;
	} cases[] = {
		{ "0", 0, 0 }, { "90", 0, 90 }, { "90s", 0, 90 },
		{ "15m", 0, 900 }, { "2h", 0, 7200 }, { "7d", 0, 604800 },
		{ "1w", 0, 604800 }, { "1h30m", 0, 5400 },
		{ "1d2h3m4s", 0, 93784 }, { "30m30m", 0, 3600 },
		{ "3153600000", 0, 3153600000LL },
		{ "3153600001", -1, 0 }, { "36501d", -1, 0 },
		{ "", -1, 0 }, { "m", -1, 0 }, { "-5m", -1, 0 },
		{ "+5m", -1, 0 }, { "5 m", -1, 0 }, { " 5m", -1, 0 },
		{ "5m ", -1, 0 }, { "5M", -1, 0 }, { "5ms", -1, 0 },
		{ "1.5h", -1, 0 }, { "1h30", -1, 0 }, { "5x", -1, 0 },
		{ "0x10", -1, 0 }, { "99999999999999999999", -1, 0 },
	};
	long long	 out;
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(cases); i++) {
		out = -7;
		rc = client_parse_duration(cases[i].text, &out);
		if (rc != cases[i].rc)
			fail_msg("\"%s\": returned %d, want %d", cases[i].text,
			    rc, cases[i].rc);
		if (rc == 0 && out != cases[i].seconds)
			fail_msg("\"%s\": %lld s, want %lld", cases[i].text,
			    out, cases[i].seconds);
		if (rc != 0 && out != -7)
			fail_msg("\"%s\": wrote on failure", cases[i].text);
	}
	assert_int_equal(client_parse_duration(NULL, &out), -1);
}

static void
test_format_duration(void **state)
{
	static const struct {
		long long	 seconds;
		const char	*text;
	} cases[] = {
		{ 0, "0s" }, { 1, "1s" }, { 59, "59s" }, { 60, "1m" },
		{ 61, "1m 1s" }, { 900, "15m" }, { 3599, "59m 59s" },
		{ 3600, "1h" }, { 5400, "1h 30m" }, { 5401, "1h 30m" },
		{ 86399, "23h 59m" }, { 86400, "1d" }, { 93784, "1d 2h" },
		{ 31622400, "366d" }, { -90, "-1m 30s" },
	};
	char		 buf[32], joined[32];
	long long	 back;
	size_t		 i, j, k;

	for (i = 0; i < nitems(cases); i++) {
		client_format_duration(cases[i].seconds, buf, sizeof(buf));
		if (strcmp(buf, cases[i].text) != 0)
			fail_msg("%lld s: \"%s\", want \"%s\"",
			    cases[i].seconds, buf, cases[i].text);
	}
	/* What is printed reads back, exactly where nothing was cut. */
	for (i = 0; i < nitems(cases); i++) {
		if (cases[i].seconds < 0)
			continue;
		client_format_duration(cases[i].seconds, buf, sizeof(buf));
		for (j = k = 0; buf[j] != '\0'; j++)
			if (buf[j] != ' ')
				joined[k++] = buf[j];
		joined[k] = '\0';
		assert_int_equal(client_parse_duration(joined, &back), 0);
		if (cases[i].seconds % 60 == 0 || cases[i].seconds < 3600)
			assert_int_equal(back, cases[i].seconds);
	}
}

static void
test_format_time(void **state)
{
	char	 buf[64];

	setenv("TZ", "UTC", 1);
	client_format_time(1733250000.75, buf, sizeof(buf));
	assert_string_equal(buf, "2024-12-03 18:20:00");
	client_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01 00:00:00");
}

/* A connected pair: [0] the client's, [1] the scripted dspd's. */
static void
pair(int fds[2], const char *script)
{
	ssize_t	 w;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	if (script != NULL) {
		w = write(fds[1], script, strlen(script));
		assert_int_equal(w, (ssize_t)strlen(script));
	}
}

static void
test_greeting(void **state)
{
	static const struct {
		const char		*script;
		int			 rc;
		enum client_failure	 failure;
		const char		*code;
		const char		*in_message;
	} cases[] = {
		{ GREETING, 0, 0, "", NULL },
		{ "{\"dsp\":\"dspd\",\"version\":\"1\",\"protocol\":1,"
		    "\"access\":\"read\"}\n", 0, 0, "", NULL },
		{ "{\"dsp\":\"dspd\",\"version\":\"2.0\",\"protocol\":2}\n",
		    -1, CLIENT_PROTOCOL, "", "protocol 2" },
		{ "{\"dsp\":\"dspd\",\"version\":\"1\"}\n", -1,
		    CLIENT_PROTOCOL, "", "protocol 0" },
		{ "{\"dsp\":\"other\",\"protocol\":1}\n", -1, CLIENT_PROTOCOL,
		    "", "not dspd" },
		{ "HTTP/1.1 400 Bad Request\r\n\r\n", -1, CLIENT_PROTOCOL, "",
		    "not a JSON object" },
		{ "{\"id\":null,\"error\":{\"code\":\"not_allowed\","
		    "\"message\":\"uid 1000 may not\"}}\n", -1, CLIENT_REFUSED,
		    "not_allowed", "uid 1000 may not" },
		{ "", -1, CLIENT_UNREACHABLE, "", "closed" },
	};
	struct client		*c;
	struct client_error	 err;
	size_t			 i;
	int			 fds[2];

	for (i = 0; i < nitems(cases); i++) {
		pair(fds, cases[i].script);
		/* The peer has said all it will: the client sees the end. */
		shutdown(fds[1], SHUT_WR);
		memset(&err, 0, sizeof(err));
		c = NULL;
		if (client_open_fd(fds[0], &c, &err) != cases[i].rc)
			fail_msg("case %zu: rc, want %d (%s)", i,
			    cases[i].rc, err.message);
		if (cases[i].rc == 0) {
			assert_int_equal(client_read_only(c), i == 1);
			client_close(c);
		} else {
			assert_int_equal(err.failure, cases[i].failure);
			assert_string_equal(err.code, cases[i].code);
			if (strstr(err.message, cases[i].in_message) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				    err.message, cases[i].in_message);
		}
		close(fds[1]);
	}
}

/* Read what the client sent, as one string. */
static void
sent(int fd, char *buf, size_t size)
{
	ssize_t	 n;

	n = read(fd, buf, size - 1);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void
test_call(void **state)
{
	struct client		*c;
	struct client_error	 err;
	json_t			*result, *msg;
	char			 buf[4096];
	int			 fds[2];

	/* An event and a reply to another id come before ours. */
	pair(fds, GREETING
	    "{\"event\":\"access\",\"subscription\":9,\"row\":{\"n\":1}}\n"
	    "{\"id\":99,\"result\":{}}\n"
	    "{\"id\":1,\"result\":{\"revision\":12}}\n"
	    "{\"id\":2,\"error\":{\"code\":\"read_only\",\"message\":"
	    "\"set is a change\"}}\n");
	assert_int_equal(client_open_fd(fds[0], &c, &err), 0);
	assert_string_equal(client_server_version(c), "9.9");

	assert_int_equal(client_call(c, "set", json_pack("{s:{s:s}}",
	    "access", "containers", "read"), 1000, &result, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(result,
	    "revision")), 12);
	json_decref(result);
	sent(fds[1], buf, sizeof(buf));
	msg = json_loads(buf, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(msg);
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 1);
	assert_string_equal(json_string_value(json_object_get(msg,
	    "request")), "set");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    msg, "access"), "containers")), "read");
	json_decref(msg);
	assert_int_equal(buf[strlen(buf) - 1], '\n');

	/* An error reply carries dspd's code and message. */
	assert_int_equal(client_call(c, "set", NULL, 1000, &result, &err), -1);
	assert_int_equal(err.failure, CLIENT_REFUSED);
	assert_string_equal(err.code, "read_only");
	assert_string_equal(err.message, "set is a change");
	assert_null(result);

	/* What came before the replies waits, in order. */
	assert_int_equal(client_read(c, 0, &msg, &err), 1);
	assert_string_equal(json_string_value(json_object_get(msg, "event")),
	    "access");
	json_decref(msg);
	assert_int_equal(client_read(c, 0, &msg, &err), 1);
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 99);
	json_decref(msg);
	assert_int_equal(client_read(c, 0, &msg, &err), 0);

	/* No answer in time, then dspd goes away with a reason. */
	assert_int_equal(client_call(c, "ping", NULL, 50, &result, &err), -1);
	assert_int_equal(err.failure, CLIENT_TIMEOUT);
	assert_int_equal(write(fds[1], CLOSED, strlen(CLOSED)),
	    (ssize_t)strlen(CLOSED));
	close(fds[1]);
	assert_int_equal(client_read(c, 1000, &msg, &err), 1);
	json_decref(msg);
	assert_int_equal(client_read(c, 1000, &msg, &err), -1);
	assert_int_equal(err.failure, CLIENT_CLOSED);
	if (strstr(err.message, "too slow") == NULL)
		fail_msg("no reason in \"%s\"", err.message);
	client_close(c);
}

/* A request over the protocol's limit is refused before it is sent. */
static void
test_send_limit(void **state)
{
	struct client		*c;
	struct client_error	 err;
	uint64_t		 id;
	char			*big;
	int			 fds[2];

	pair(fds, GREETING);
	assert_int_equal(client_open_fd(fds[0], &c, &err), 0);
	big = malloc(DSP_LINE_MAX + 1);
	assert_non_null(big);
	memset(big, 'x', DSP_LINE_MAX);
	big[DSP_LINE_MAX] = '\0';
	assert_int_equal(client_send(c, "restore", json_pack("{s:s}",
	    "reason", big), &id, &err), -1);
	assert_int_equal(err.failure, CLIENT_PROTOCOL);
	free(big);
	client_close(c);
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_send_limit),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
