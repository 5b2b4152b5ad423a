/*
 * test_canon.c: the canonical form of request targets, as case tables of
 * what a client may send and what dockerd's router would see.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dspd.h"

#define DIGEST	"sha256:0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

/* A target dsp accepts, and the path, version and query it becomes. */
struct good_case {
	const char	*raw;
	size_t		 len;		/* 0: strlen(raw) */
	const char	*path;
	const char	*version;
	const char	*query;		/* NULL: no '?' */
};

static const struct good_case good_cases[] = {
	/* Unversioned, as Traefik's and Homepage's first calls are. */
	{ "/_ping", 0, "/_ping", "", NULL },
	{ "/containers/json?all=true", 0, "/containers/json", "", "all=true" },

	/* Every version spelling dockerd's /v{version:[0-9.]+} accepts. */
	{ "/v1.41/containers/json", 0, "/containers/json", "1.41", NULL },
	{ "/v1.24/containers/json?all=1", 0, "/containers/json", "1.24",
	    "all=1" },
	{ "/v1/info", 0, "/info", "1", NULL },
	{ "/v1.41.0/version", 0, "/version", "1.41.0", NULL },
	{ "/v.../_ping", 0, "/_ping", "...", NULL },
	{ "/v./_ping", 0, "/_ping", ".", NULL },
	{ "/v1..41/_ping", 0, "/_ping", "1..41", NULL },
	{ "/v0/_ping", 0, "/_ping", "0", NULL },
	{ "/v1%2e41/_ping", 0, "/_ping", "1.41", NULL },
	{ "/%761.41/_ping", 0, "/_ping", "1.41", NULL },
	{ "/v1.41", 0, "", "1.41", NULL },
	{ "/v1.41?x=1", 0, "", "1.41", "x=1" },
	{ "/v1234567890123456789012345678901/_ping", 0, "/_ping",
	    "1234567890123456789012345678901", NULL },

	/* Not a version: the path is left whole and matches nothing. */
	{ "/v/_ping", 0, "/v/_ping", "", NULL },
	{ "/V1.41/_ping", 0, "/V1.41/_ping", "", NULL },
	{ "/v1.41x/_ping", 0, "/v1.41x/_ping", "", NULL },
	{ "/v1,41/_ping", 0, "/v1,41/_ping", "", NULL },
	{ "/v1.41/v1.41/_ping", 0, "/v1.41/_ping", "1.41", NULL },

	/* Escapes are decoded once; an encoded '/' is a separator. */
	{ "/c%6fntainers/json", 0, "/containers/json", "", NULL },
	{ "/CONTAINERS/json", 0, "/CONTAINERS/json", "", NULL },
	{ "/images/localhost:5000%2Fa%2Fb:1.0/json", 0,
	    "/images/localhost:5000/a/b:1.0/json", "", NULL },
	{ "/v1.41/images/library%2fbusybox/json", 0,
	    "/images/library/busybox/json", "1.41", NULL },
	{ "/images/busybox@" DIGEST "/json", 0,
	    "/images/busybox@" DIGEST "/json", "", NULL },
	{ "/images/busybox%40sha256%3Aabc/json", 0,
	    "/images/busybox@sha256:abc/json", "", NULL },
	{ "/containers/%252e%252e/json", 0, "/containers/%2e%2e/json", "",
	    NULL },
	{ "/containers/x%3Fy/json", 0, "/containers/x?y/json", "", NULL },
	{ "/containers/.x/json", 0, "/containers/.x/json", "", NULL },
	{ "/containers/x../json", 0, "/containers/x../json", "", NULL },
	{ "/containers/.../json", 0, "/containers/.../json", "", NULL },

	/* The query is kept raw: escapes, '?' and '/' inside it untouched. */
	{ "/_ping?", 0, "/_ping", "", "" },
	{ "/containers/json?filters=%7B%22status%22%3A%5B%22running%22%5D%7D",
	    0, "/containers/json", "",
	    "filters=%7B%22status%22%3A%5B%22running%22%5D%7D" },
	{ "/events?since=1&until=2?x/../y", 0, "/events", "",
	    "since=1&until=2?x/../y" },
	{ "/containers/json?%zz", 0, "/containers/json", "", "%zz" },

	/* Only len bytes are read. */
	{ "/_pingXYZ", 6, "/_ping", "", NULL },
};

/* A target dsp refuses, and the reason it gives. */
struct bad_case {
	const char	*raw;
	size_t		 len;		/* 0: strlen(raw) */
	const char	*why;
};

static const struct bad_case bad_cases[] = {
	{ "", 0, "empty target" },
	{ "*", 0, "asterisk-form target" },
	{ "http://x/_ping", 0, "absolute-form target" },
	{ "HTTP://127.0.0.1:2375/v1.41/_ping", 0, "absolute-form target" },
	{ "unix:///var/run/docker.sock", 0, "absolute-form target" },
	{ "localhost:2375", 0, "authority-form target" },
	{ "_ping", 0, "target not in origin form" },
	{ "/_ping#x", 0, "fragment in target" },
	{ "/containers/json?all=1#x", 0, "fragment in target" },
	{ "/containers/json#", 0, "fragment in target" },

	{ "/containers/../json", 0, "dot segment in path" },
	{ "/containers/x/..", 0, "dot segment in path" },
	{ "/./_ping", 0, "dot segment in path" },
	{ "/v1.41/./_ping", 0, "dot segment in path" },
	{ "/containers/%2e%2e/json", 0, "dot segment in path" },
	{ "/containers/%2E%2e/json", 0, "dot segment in path" },
	{ "/containers/.%2e/json", 0, "dot segment in path" },
	{ "/containers/%2e/json", 0, "dot segment in path" },
	{ "/containers/a%2F..%2Fb/json", 0, "dot segment in path" },
	{ "/images/a%2f.%2fb/json", 0, "dot segment in path" },

	{ "/", 0, "empty segment in path" },
	{ "//_ping", 0, "empty segment in path" },
	{ "/containers//json", 0, "empty segment in path" },
	{ "/containers/json/", 0, "empty segment in path" },
	{ "/v1.41/", 0, "empty segment in path" },
	{ "/v1.41//_ping", 0, "empty segment in path" },
	{ "/images/a%2F%2Fb/json", 0, "empty segment in path" },
	{ "/images/a%2F/json", 0, "empty segment in path" },
	{ "/networks/", 0, "empty segment in path" },

	{ "/containers\\x/json", 0, "backslash in path" },
	{ "/containers/%5cx/json", 0, "backslash in path" },
	{ "/containers/%5C..%5Cx/json", 0, "backslash in path" },

	{ "/containers/%00/json", 0, "encoded control byte in path" },
	{ "/containers/x%0a/json", 0, "encoded control byte in path" },
	{ "/containers/x%0D%0A/json", 0, "encoded control byte in path" },
	{ "/containers/x%1f/json", 0, "encoded control byte in path" },
	{ "/containers/x%7F/json", 0, "encoded control byte in path" },
	{ "/containers/%c3%a9/json", 0, "encoded 8-bit byte in path" },
	{ "/containers/%FF/json", 0, "encoded 8-bit byte in path" },

	{ "/containers/%zz/json", 0, "malformed percent escape" },
	{ "/containers/%2/json", 0, "malformed percent escape" },
	{ "/containers/%g0/json", 0, "malformed percent escape" },
	{ "/_ping%", 0, "malformed percent escape" },
	{ "/_ping%4", 0, "malformed percent escape" },
	{ "/_ping%4?x", 0, "malformed percent escape" },

	{ "/containers/\xc3\xa9/json", 0, "8-bit byte in target" },
	{ "/_ping?x=\xff", 0, "8-bit byte in target" },
	{ "/containers/a b/json", 0, "control byte or space in target" },
	{ "/_ping\0", 7, "control byte or space in target" },
	{ "/_ping\t", 0, "control byte or space in target" },
	{ "/_ping?x=\x01", 0, "control byte or space in target" },
	{ "/_ping\x7f", 0, "control byte or space in target" },

	{ "/v12345678901234567890123456789012/_ping", 0,
	    "version prefix too long" },
};

/* A query, a parameter, its default, and what dockerd reads. */
struct flag_case {
	const char	*query;
	const char	*name;
	int		 def;
	int		 want;
};

static const struct flag_case flag_cases[] = {
	{ NULL, "follow", 0, 0 },
	{ NULL, "stream", 1, 1 },
	{ "", "stream", 1, 1 },
	{ "follow=1&stdout=1&stderr=1&tail=300", "follow", 0, 1 },
	{ "tail=all&follow=1&timestamps=1", "follow", 0, 1 },
	{ "stdout=1&stderr=1&tail=100", "follow", 0, 0 },
	{ "follow=true", "follow", 0, 1 },
	{ "follow=TRUE", "follow", 0, 1 },
	{ "follow=0", "follow", 1, 0 },
	{ "follow=false", "follow", 1, 0 },
	{ "follow=False", "follow", 1, 0 },
	{ "follow=no", "follow", 1, 0 },
	{ "follow=NONE", "follow", 1, 0 },
	{ "stream=false", "stream", 1, 0 },
	{ "stream=0&one-shot=1", "stream", 1, 0 },
	{ "one-shot=1&stream=1", "stream", 0, 1 },

	/* Present but empty is false for dockerd, not the default. */
	{ "stream=", "stream", 1, 0 },
	{ "stream", "stream", 1, 0 },

	/* Any other value is true for dockerd. */
	{ "follow=yes", "follow", 0, 1 },
	{ "follow=2", "follow", 0, 1 },
	{ "stream=%00", "stream", 0, 1 },
	{ "stream=false%00", "stream", 0, 1 },
	{ "stream=falsefalsefalsefalsefalse", "stream", 0, 1 },

	/* The first occurrence counts. */
	{ "follow=1&follow=0", "follow", 0, 1 },
	{ "follow=0&follow=1", "follow", 1, 0 },

	/* Keys and values are decoded, '+' is a space, spaces trimmed. */
	{ "fol%6cow=1", "follow", 0, 1 },
	{ "follow=%31", "follow", 0, 1 },
	{ "stream=%30", "stream", 1, 0 },
	{ "stream=+0+", "stream", 1, 0 },
	{ "stream=%20false%09", "stream", 1, 0 },
	{ "stream=%C2%A0false%E3%80%80", "stream", 1, 0 },
	{ "follow%3D1", "follow", 0, 0 },
	{ "follow%00=1", "follow", 0, 0 },

	/* Pairs Go's url.ParseQuery skips. */
	{ "follow=%zz&follow=1", "follow", 0, 1 },
	{ "follow=1;x=1", "follow", 0, 0 },
	{ "follow=0;x=1&follow=1", "follow", 1, 1 },
	{ "&&follow=1&", "follow", 0, 1 },

	/* Other names are other parameters. */
	{ "followx=1", "follow", 0, 0 },
	{ "xfollow=1", "follow", 0, 0 },
	{ "Follow=1", "follow", 0, 0 },
};

static void
test_good(void **state)
{
	const struct good_case	*c;
	struct target		 t;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
		c = &good_cases[i];
		why = NULL;
		if (canon_target(c->raw, c->len ? c->len : strlen(c->raw), &t,
		    &why) != 0)
			fail_msg("\"%s\" refused: %s", c->raw, why);
		if (strcmp(t.path, c->path) != 0)
			fail_msg("\"%s\": path \"%s\", want \"%s\"", c->raw,
			    t.path, c->path);
		if (strcmp(t.version, c->version) != 0)
			fail_msg("\"%s\": version \"%s\", want \"%s\"", c->raw,
			    t.version, c->version);
		if (c->query == NULL && t.query != NULL)
			fail_msg("\"%s\": query \"%s\", want none", c->raw,
			    t.query);
		if (c->query != NULL && (t.query == NULL ||
		    strcmp(t.query, c->query) != 0))
			fail_msg("\"%s\": query \"%s\", want \"%s\"", c->raw,
			    t.query ? t.query : "(none)", c->query);
		canon_clear(&t);
		assert_null(t.path);
		assert_null(t.query);
	}
}

static void
test_bad(void **state)
{
	const struct bad_case	*c;
	struct target		 t;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		c = &bad_cases[i];
		why = NULL;
		if (canon_target(c->raw, c->len ? c->len : strlen(c->raw), &t,
		    &why) == 0)
			fail_msg("case %zu accepted as \"%s\"", i, t.path);
		if (why == NULL || strcmp(why, c->why) != 0)
			fail_msg("case %zu refused with \"%s\", want \"%s\"", i,
			    why ? why : "(null)", c->why);
		/* A refused target holds nothing to free or to forward. */
		assert_null(t.path);
		assert_null(t.query);
		assert_string_equal(t.version, "");
	}
}

/* A target is put in canonical form again after canon_clear. */
static void
test_reuse(void **state)
{
	struct target	 t;
	const char	*why;

	assert_int_equal(canon_target("/v1.41/info?x", 13, &t, &why), 0);
	canon_clear(&t);
	assert_int_equal(canon_target("/_ping", 6, &t, &why), 0);
	assert_string_equal(t.path, "/_ping");
	assert_string_equal(t.version, "");
	assert_null(t.query);
	canon_clear(&t);
	canon_clear(&t);
}

static void
test_query_flag(void **state)
{
	const struct flag_case	*c;
	size_t			 i;
	int			 got;

	for (i = 0; i < sizeof flag_cases / sizeof flag_cases[0]; i++) {
		c = &flag_cases[i];
		got = canon_query_flag(c->query, c->name, c->def);
		if (got != c->want)
			fail_msg("%s in \"%s\" (default %d): %d, want %d",
			    c->name, c->query ? c->query : "(none)", c->def,
			    got, c->want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_query_flag),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
