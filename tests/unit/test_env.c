/*
 * Unit tests of env.c: the value parsers, and the HAProxy images'
 * variables turned into a policy.
 */

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dspd.h"
#include "fake_env.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Variables of one fake environment, "NAME=value"; NULL ends the list. */
#define ENV_CASE_MAX	16

static void
test_bool(void **state)
{
	static const struct {
		const char	*value;
		int		 rc;
		int		 truth;
	} cases[] = {
		{ "0", 0, 0 }, { "1", 0, 1 },
		{ "true", 0, 1 }, { "TRUE", 0, 1 }, { "True", 0, 1 },
		{ "false", 0, 0 }, { "FaLsE", 0, 0 },
		{ "yes", 0, 1 }, { "YES", 0, 1 }, { "no", 0, 0 }, { "No", 0, 0 },
		{ "on", -1, 0 }, { "off", -1, 0 },
		{ "2", 0, 1 }, { "42", 0, 1 }, { "-1", 0, 1 }, { "+1", 0, 1 },
		{ "00", 0, 0 }, { "-0", 0, 0 }, { "+0", 0, 0 },
		{ "0001", 0, 1 },
		{ "99999999999999999999999999999", 0, 1 },
		{ "00000000000000000000000000000", 0, 0 },
		{ "", -1, 0 }, { "maybe", -1, 0 }, { "y", -1, 0 }, { "t", -1, 0 },
		{ "enabled", -1, 0 }, { " 1", -1, 0 }, { "1 ", -1, 0 },
		{ "1x", -1, 0 }, { "0x1", -1, 0 }, { "1.0", -1, 0 },
		{ "+", -1, 0 }, { "-", -1, 0 }, { "+-1", -1, 0 },
		{ "--1", -1, 0 }, { "yes\n", -1, 0 }, { "truefalse", -1, 0 }
	};
	size_t	i;
	int	truth, rc;

	for (i = 0; i < nitems(cases); i++) {
		truth = -7;
		rc = env_bool(cases[i].value, &truth);
		if (rc != cases[i].rc)
			fail_msg("env_bool(\"%s\") returned %d, want %d",
			    cases[i].value, rc, cases[i].rc);
		if (rc == 0 && truth != cases[i].truth)
			fail_msg("env_bool(\"%s\") gave %d, want %d",
			    cases[i].value, truth, cases[i].truth);
		if (rc != 0 && truth != -7)
			fail_msg("env_bool(\"%s\") wrote on failure",
			    cases[i].value);
	}
	assert_int_equal(env_bool(NULL, &truth), -1);
}

static void
test_duration(void **state)
{
	static const struct {
		const char	*value;
		int		 rc;
		long long	 msec;
	} cases[] = {
		{ "0", 0, 0 }, { "1", 0, 1000 }, { "10", 0, 10000 },
		{ "250ms", 0, 250 }, { "0ms", 0, 0 }, { "10s", 0, 10000 },
		{ "2m", 0, 120000 }, { "1h", 0, 3600000 }, { "24h", 0, 86400000 },
		{ "007s", 0, 7000 },
		{ "9223372036854775807ms", 0, LLONG_MAX },
		{ "9223372036854775s", 0, 9223372036854775000LL },
		{ "9223372036854776s", -1, 0 },
		{ "9223372036854775808ms", -1, 0 },
		{ "9223372036854775807", -1, 0 },
		{ "2562047788015216h", -1, 0 },
		{ "", -1, 0 }, { "s", -1, 0 }, { "ms", -1, 0 }, { "-1", -1, 0 },
		{ "-1s", -1, 0 }, { "+1s", -1, 0 }, { "1.5s", -1, 0 },
		{ "10 s", -1, 0 }, { " 10s", -1, 0 }, { "10s ", -1, 0 },
		{ "10S", -1, 0 }, { "10sec", -1, 0 }, { "1d", -1, 0 },
		{ "1us", -1, 0 }, { "1m30s", -1, 0 }, { "0x10", -1, 0 },
		{ "ten", -1, 0 }
	};
	size_t		i;
	long long	msec;
	int		rc;

	for (i = 0; i < nitems(cases); i++) {
		msec = -7;
		rc = env_duration(cases[i].value, &msec);
		if (rc != cases[i].rc)
			fail_msg("env_duration(\"%s\") returned %d, want %d",
			    cases[i].value, rc, cases[i].rc);
		if (rc == 0 && msec != cases[i].msec)
			fail_msg("env_duration(\"%s\") gave %lld, want %lld",
			    cases[i].value, msec, cases[i].msec);
		if (rc != 0 && msec != -7)
			fail_msg("env_duration(\"%s\") wrote on failure",
			    cases[i].value);
	}
	assert_int_equal(env_duration(NULL, &msec), -1);
}

static void
test_size(void **state)
{
	static const struct {
		const char	*value;
		int		 rc;
		long long	 bytes;
	} cases[] = {
		{ "0", 0, 0 }, { "1", 0, 1 }, { "65536", 0, 65536 },
		{ "64k", 0, 65536 }, { "64K", 0, 65536 }, { "64KiB", 0, 65536 },
		{ "16KiB", 0, 16384 }, { "1m", 0, 1048576 },
		{ "1M", 0, 1048576 }, { "1MiB", 0, 1048576 },
		{ "2g", 0, 2147483648LL }, { "2G", 0, 2147483648LL },
		{ "3GiB", 0, 3221225472LL },
		{ "9223372036854775807", 0, LLONG_MAX },
		{ "9007199254740991k", 0, 9223372036854774784LL },
		{ "9007199254740992k", -1, 0 },
		{ "8589934592G", -1, 0 },
		{ "9223372036854775808", -1, 0 },
		{ "", -1, 0 }, { "k", -1, 0 }, { "-1", -1, 0 }, { "+1", -1, 0 },
		{ "1.5M", -1, 0 }, { "1 K", -1, 0 }, { "1KB", -1, 0 },
		{ "1kb", -1, 0 }, { "1kib", -1, 0 }, { "1Ki", -1, 0 },
		{ "1T", -1, 0 }, { "1B", -1, 0 }, { "1MiBs", -1, 0 },
		{ " 1", -1, 0 }, { "1 ", -1, 0 }, { "lots", -1, 0 }
	};
	size_t		i;
	long long	bytes;
	int		rc;

	for (i = 0; i < nitems(cases); i++) {
		bytes = -7;
		rc = env_size(cases[i].value, &bytes);
		if (rc != cases[i].rc)
			fail_msg("env_size(\"%s\") returned %d, want %d",
			    cases[i].value, rc, cases[i].rc);
		if (rc == 0 && bytes != cases[i].bytes)
			fail_msg("env_size(\"%s\") gave %lld, want %lld",
			    cases[i].value, bytes, cases[i].bytes);
		if (rc != 0 && bytes != -7)
			fail_msg("env_size(\"%s\") wrote on failure",
			    cases[i].value);
	}
	assert_int_equal(env_size(NULL, &bytes), -1);
}

static void
test_log_level(void **state)
{
	static const struct {
		const char	*value;
		int		 rc;
		enum log_level	 level;
	} cases[] = {
		{ "debug", 0, LOG_LEVEL_DEBUG }, { "DEBUG", 0, LOG_LEVEL_DEBUG },
		{ "info", 0, LOG_LEVEL_INFO }, { "Info", 0, LOG_LEVEL_INFO },
		{ "notice", 0, LOG_LEVEL_INFO },
		{ "warning", 0, LOG_LEVEL_WARN }, { "warn", 0, LOG_LEVEL_WARN },
		{ "WARNING", 0, LOG_LEVEL_WARN },
		{ "err", 0, LOG_LEVEL_ERROR }, { "error", 0, LOG_LEVEL_ERROR },
		{ "crit", 0, LOG_LEVEL_ERROR }, { "alert", 0, LOG_LEVEL_ERROR },
		{ "emerg", 0, LOG_LEVEL_ERROR }, { "EMERG", 0, LOG_LEVEL_ERROR },
		{ "", -1, 0 }, { "trace", -1, 0 }, { "verbose", -1, 0 },
		{ "7", -1, 0 }, { "0", -1, 0 }, { "info ", -1, 0 },
		{ " info", -1, 0 }, { "inf", -1, 0 }, { "critical", -1, 0 },
		{ "emergency", -1, 0 }, { "panic", -1, 0 }
	};
	enum log_level	level;
	size_t		i;
	int		rc;

	for (i = 0; i < nitems(cases); i++) {
		level = (enum log_level)99;
		rc = env_log_level(cases[i].value, &level);
		if (rc != cases[i].rc)
			fail_msg("env_log_level(\"%s\") returned %d, want %d",
			    cases[i].value, rc, cases[i].rc);
		if (rc == 0 && level != cases[i].level)
			fail_msg("env_log_level(\"%s\") gave %d, want %d",
			    cases[i].value, (int)level, (int)cases[i].level);
		if (rc != 0 && (int)level != 99)
			fail_msg("env_log_level(\"%s\") wrote on failure",
			    cases[i].value);
	}
	assert_int_equal(env_log_level(NULL, &level), -1);
}

/* Build the policy of an environment, failing the test if it is refused. */
static void
policy_of(const char *const *env, struct policy *p)
{
	char	err[256];

	fake_env = env;
	if (env_policy(p, fake_lookup, err, sizeof(err)) != 0)
		fail_msg("environment refused: %s", err);
}

static void
test_policy_defaults(void **state)
{
	static const char *const	empty[] = { NULL };
	struct policy			p;
	int				g, k;

	memset(&p, 0xa5, sizeof(p));
	policy_of(empty, &p);
	assert_int_equal(p.revision, 0);
	for (g = 0; g < GROUP_COUNT; g++) {
		if (g == GROUP_PING || g == GROUP_VERSION || g == GROUP_EVENTS)
			assert_int_equal(p.access[g], ACCESS_READ);
		else if (p.access[g] != ACCESS_OFF)
			fail_msg("group %s is %s by default",
			    catalogue_group_name((enum endpoint_group)g),
			    policy_access_name(p.access[g]));
	}
	for (k = 0; k < KIND_COUNT; k++)
		assert_int_equal(p.override[k], OVERRIDE_INHERIT);
}

/*
 * Each row: an environment, then the groups it leaves at read and at
 * write (every other group must be off) and the overrides it sets (every
 * other must inherit).
 */
struct env_case {
	const char	*env[ENV_CASE_MAX];
	enum endpoint_group	 read[GROUP_COUNT];	/* GROUP_UNKNOWN ends */
	enum endpoint_group	 write[GROUP_COUNT];
	struct {
		enum action_kind	kind;	/* KIND_NONE ends */
		enum override		override;
	} overrides[6];
};

static const struct env_case env_cases[] = {
	{ { "CONTAINERS=1" },
	  { GROUP_CONTAINERS, GROUP_PING, GROUP_VERSION, GROUP_EVENTS },
	  { 0 }, { { 0 } } },
	{ { "PING=0", "VERSION=false", "EVENTS=no" }, { 0 }, { 0 },
	  { { 0 } } },
	{ { "PING=1", "VERSION=1", "EVENTS=1", "INFO=yes" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS, GROUP_INFO }, { 0 },
	  { { 0 } } },
	{ { "CONTAINERS=1", "POST=1" }, { 0 },
	  { GROUP_CONTAINERS, GROUP_PING, GROUP_VERSION, GROUP_EVENTS },
	  { { 0 } } },
	{ { "POST=1", "EVENTS=0" }, { 0 },
	  { GROUP_PING, GROUP_VERSION }, { { 0 } } },
	{ { "POST=0", "IMAGES=TRUE", "NETWORKS=Yes" },
	  { GROUP_IMAGES, GROUP_NETWORKS, GROUP_PING, GROUP_VERSION,
	    GROUP_EVENTS }, { 0 }, { { 0 } } },
	{ { "AUTH=1", "BUILD=1", "COMMIT=1", "CONFIGS=1", "DISTRIBUTION=1",
	    "EXEC=1", "GRPC=1", "POST=1", "PING=0", "VERSION=0", "EVENTS=0" },
	  { 0 },
	  { GROUP_AUTH, GROUP_BUILD, GROUP_COMMIT, GROUP_CONFIGS,
	    GROUP_DISTRIBUTION, GROUP_EXEC, GROUP_GRPC }, { { 0 } } },
	{ { "NODES=1", "PLUGINS=1", "SECRETS=1", "SERVICES=1", "SESSION=1",
	    "SWARM=1", "SYSTEM=1", "TASKS=1", "VOLUMES=1", "PING=0",
	    "VERSION=0", "EVENTS=0" },
	  { GROUP_NODES, GROUP_PLUGINS, GROUP_SECRETS, GROUP_SERVICES,
	    GROUP_SESSION, GROUP_SWARM, GROUP_SYSTEM, GROUP_TASKS,
	    GROUP_VOLUMES }, { 0 }, { { 0 } } },
	{ { "ALLOW_START=1", "ALLOW_STOP=1" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 },
	  { { KIND_START, OVERRIDE_ALLOW }, { KIND_STOP, OVERRIDE_ALLOW } } },
	{ { "ALLOW_RESTARTS=1" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 },
	  { { KIND_STOP, OVERRIDE_ALLOW }, { KIND_RESTART, OVERRIDE_ALLOW },
	    { KIND_KILL, OVERRIDE_ALLOW } } },
	/* A carve-out set to 0 takes nothing back from another. */
	{ { "ALLOW_RESTARTS=1", "ALLOW_STOP=0", "ALLOW_KILL=0" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 },
	  { { KIND_STOP, OVERRIDE_ALLOW }, { KIND_RESTART, OVERRIDE_ALLOW },
	    { KIND_KILL, OVERRIDE_ALLOW } } },
	{ { "ALLOW_START=0", "ALLOW_STOP=0", "ALLOW_RESTARTS=0",
	    "ALLOW_PAUSE=0", "ALLOW_UNPAUSE=0", "ALLOW_KILL=0" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 }, { { 0 } } },
	{ { "ALLOW_PAUSE=1", "ALLOW_UNPAUSE=yes", "ALLOW_KILL=true" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 },
	  { { KIND_PAUSE, OVERRIDE_ALLOW }, { KIND_UNPAUSE, OVERRIDE_ALLOW },
	    { KIND_KILL, OVERRIDE_ALLOW } } },
	{ { "ALLOW_ARCHIVE=1", "ALLOW_EXPORT=1", "CONTAINERS=1" },
	  { GROUP_CONTAINERS, GROUP_PING, GROUP_VERSION, GROUP_EVENTS },
	  { 0 },
	  { { KIND_ARCHIVE, OVERRIDE_ALLOW },
	    { KIND_EXPORT, OVERRIDE_ALLOW } } },
	/* Archive and export are off already: 0 leaves them inheriting. */
	{ { "ALLOW_ARCHIVE=0", "ALLOW_EXPORT=0" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 }, { { 0 } } },
	{ { "ALLOW_LOGS=0", "ALLOW_TOP=0", "ALLOW_CHANGES=0",
	    "CONTAINERS=1" },
	  { GROUP_CONTAINERS, GROUP_PING, GROUP_VERSION, GROUP_EVENTS },
	  { 0 },
	  { { KIND_LOGS, OVERRIDE_DENY }, { KIND_TOP, OVERRIDE_DENY },
	    { KIND_CHANGES, OVERRIDE_DENY } } },
	{ { "ALLOW_LOGS=1", "ALLOW_TOP=1", "ALLOW_CHANGES=1" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 },
	  { { KIND_LOGS, OVERRIDE_ALLOW }, { KIND_TOP, OVERRIDE_ALLOW },
	    { KIND_CHANGES, OVERRIDE_ALLOW } } },
	/* The variables that are no part of the policy change nothing. */
	{ { "DISABLE_IPV6=1", "LOG_LEVEL=warning",
	    "SOCKET_PATH=/run/podman/podman.sock" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 }, { { 0 } } },
	/* Names are case-sensitive, as in the images. */
	{ { "containers=1", "Post=1", "allow_start=1" },
	  { GROUP_PING, GROUP_VERSION, GROUP_EVENTS }, { 0 }, { { 0 } } }
};

/* Whether a GROUP_UNKNOWN-terminated list holds g. */
static int
group_listed(const enum endpoint_group *list, size_t n, int g)
{
	size_t	i;

	for (i = 0; i < n && list[i] != GROUP_UNKNOWN; i++) {
		if ((int)list[i] == g)
			return (1);
	}
	return (0);
}

static void
test_policy_table(void **state)
{
	const struct env_case	*c;
	struct policy		 p;
	enum access		 want;
	enum override		 wanted;
	size_t			 i, j;
	int			 g, k;

	for (i = 0; i < nitems(env_cases); i++) {
		c = &env_cases[i];
		policy_of(c->env, &p);
		for (g = 0; g < GROUP_COUNT; g++) {
			want = ACCESS_OFF;
			if (group_listed(c->read, nitems(c->read), g))
				want = ACCESS_READ;
			if (group_listed(c->write, nitems(c->write), g))
				want = ACCESS_WRITE;
			if (p.access[g] != want)
				fail_msg("case %zu (%s ...): group %s is %s, "
				    "want %s", i, c->env[0],
				    catalogue_group_name((enum endpoint_group)g),
				    policy_access_name(p.access[g]),
				    policy_access_name(want));
		}
		for (k = 0; k < KIND_COUNT; k++) {
			wanted = OVERRIDE_INHERIT;
			for (j = 0; j < nitems(c->overrides) &&
			    c->overrides[j].kind != KIND_NONE; j++) {
				if ((int)c->overrides[j].kind == k)
					wanted = c->overrides[j].override;
			}
			if (p.override[k] != wanted)
				fail_msg("case %zu (%s ...): override of %s is "
				    "%d, want %d", i, c->env[0],
				    catalogue_kind_name((enum action_kind)k),
				    (int)p.override[k], (int)wanted);
		}
	}
}

/* Bad values: the start stops and the message names the variable. */
static void
test_policy_refused(void **state)
{
	static const struct {
		const char	*env[4];
		const char	*message;	/* the whole err text */
	} cases[] = {
		{ { "CONTAINERS=maybe" }, "CONTAINERS: 'maybe' is not a "
		  "boolean (use 0 or 1, true or false, yes or no)" },
		{ { "CONTAINERS=" }, "CONTAINERS: '' is not a boolean (use 0 "
		  "or 1, true or false, yes or no)" },
		{ { "CONTAINERS=1", "POST=2x" }, "POST: '2x' is not a boolean "
		  "(use 0 or 1, true or false, yes or no)" },
		{ { "PING=y" }, "PING: 'y' is not a boolean (use 0 or 1, true "
		  "or false, yes or no)" },
		{ { "VOLUMES= 1" }, "VOLUMES: ' 1' is not a boolean (use 0 or "
		  "1, true or false, yes or no)" },
		{ { "ALLOW_RESTARTS=always" }, "ALLOW_RESTARTS: 'always' is "
		  "not a boolean (use 0 or 1, true or false, yes or no)" },
		{ { "ALLOW_LOGS=none" }, "ALLOW_LOGS: 'none' is not a boolean "
		  "(use 0 or 1, true or false, yes or no)" },
		{ { "ALLOW_CHANGES=-" }, "ALLOW_CHANGES: '-' is not a boolean "
		  "(use 0 or 1, true or false, yes or no)" },
		{ { "DISABLE_IPV6=ipv4" }, "DISABLE_IPV6: 'ipv4' is not a "
		  "boolean (use 0 or 1, true or false, yes or no)" },
		{ { "LOG_LEVEL=loud" }, "LOG_LEVEL: 'loud' is not a log level "
		  "(use debug, info, notice, warning, err, crit, alert or "
		  "emerg)" },
		{ { "LOG_LEVEL=" }, "LOG_LEVEL: '' is not a log level (use "
		  "debug, info, notice, warning, err, crit, alert or emerg)" },
		/* Control bytes, quotes and backslashes come out escaped. */
		{ { "EXEC=1\n\x1b[2J" }, "EXEC: '1\\x0a\\x1b[2J' is not a "
		  "boolean (use 0 or 1, true or false, yes or no)" },
		{ { "EXEC=it's \\on" }, "EXEC: 'it\\'s \\\\on' is not a "
		  "boolean (use 0 or 1, true or false, yes or no)" },
		{ { "INFO=\xc3\xa9" }, "INFO: '\\xc3\\xa9' is not a boolean "
		  "(use 0 or 1, true or false, yes or no)" },
		/* A long value is cut, and the cut is shown. */
		{ { "SECRETS=0123456789abcdefghijklmnopqrstuvwxyz-long-tail" },
		  "SECRETS: '0123456789abcdefghijklmnopqrstuvwxyz-lon...' is "
		  "not a boolean (use 0 or 1, true or false, yes or no)" }
	};
	struct policy	p, before;
	char		err[256];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		memset(&p, 0x5a, sizeof(p));
		before = p;
		fake_env = cases[i].env;
		if (env_policy(&p, fake_lookup, err, sizeof(err)) != -1)
			fail_msg("case %zu (%s) was accepted", i,
			    cases[i].env[0]);
		if (strcmp(err, cases[i].message) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err,
			    cases[i].message);
		if (memcmp(&p, &before, sizeof(p)) != 0)
			fail_msg("case %zu: the policy was changed", i);
	}
}

/* A short error buffer holds the start of the message, terminated. */
static void
test_policy_refused_short(void **state)
{
	static const char *const	env[] = { "TASKS=sure", NULL };
	struct policy			p;
	char				err[12];

	memset(err, 'x', sizeof(err));
	fake_env = env;
	assert_int_equal(env_policy(&p, fake_lookup, err, sizeof(err)), -1);
	assert_string_equal(err, "TASKS: 'sur");
	assert_int_equal(env_policy(&p, fake_lookup, NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test(test_policy_refused),
		cmocka_unit_test(test_policy_refused_short)
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
