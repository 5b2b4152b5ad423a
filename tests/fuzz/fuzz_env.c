/*
 * Fuzz target: the value parsers of env.c (booleans, durations, sizes,
 * log levels) against what the README promises of each, and env_policy
 * fed a fuzzed environment, against the images' rules: a section
 * variable opens its group for reading, POST=1 makes the open groups
 * writable, the ALLOW_* variables set their actions' overrides, and a
 * value that does not parse stops the start with the variable's name and
 * the policy untouched.
 *
 * Input: environment entries "NAME=VALUE" separated by NUL bytes; the
 * first entry that names a variable is the one read, as with getenv.
 */

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dspd.h"

/* Entries read from one input; the variables number about thirty. */
#define FUZZ_ENTRIES_MAX	64
/* Room for env_policy's message; the fuzzed length is cut from it. */
#define FUZZ_ERR_SIZE		512

struct fuzz_entry {
	const char	*name;
	size_t		 name_len;
	const char	*value;
};

/* A unit suffix and its worth, from the README's tables. */
struct fuzz_unit {
	const char	*suffix;
	long long	 scale;
};

static const struct fuzz_unit fuzz_durations[] = {
	{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
	{ "h", 3600000 }
};

static const struct fuzz_unit fuzz_sizes[] = {
	{ "", 1 }, { "k", 1024 }, { "K", 1024 }, { "KiB", 1024 },
	{ "m", 1048576 }, { "M", 1048576 }, { "MiB", 1048576 },
	{ "g", 1073741824 }, { "G", 1073741824 }, { "GiB", 1073741824 }
};

static const char *const fuzz_levels[] = {
	"debug", "info", "notice", "warning", "warn", "err", "error", "crit",
	"alert", "emerg"
};

static struct fuzz_entry	 fuzz_env[FUZZ_ENTRIES_MAX];
static size_t			 fuzz_nenv;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* getenv over the fuzzed entries. */
static const char *
fuzz_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < fuzz_nenv; i++) {
		if (fuzz_env[i].name_len == strlen(name) &&
		    memcmp(fuzz_env[i].name, name, fuzz_env[i].name_len) == 0)
			return (fuzz_env[i].value);
	}
	return (NULL);
}

/* The README's boolean: 0/1, true/false, yes/no any case, integers. */
static int
fuzz_model_bool(const char *v, int *truth)
{
	const char	*s = v;

	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) {
		*truth = 1;
		return (0);
	}
	if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) {
		*truth = 0;
		return (0);
	}
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '\0' || s[strspn(s, "0123456789")] != '\0')
		return (-1);
	*truth = s[strspn(s, "0")] != '\0';
	return (0);
}

/* Digits and exactly one unit, with no overflow on the way. */
static int
fuzz_model_scaled(const char *v, const struct fuzz_unit *units, size_t n,
    long long *out)
{
	long long	 x = 0;
	size_t		 digits, i;

	digits = strspn(v, "0123456789");
	if (digits == 0)
		return (-1);
	for (i = 0; i < digits; i++) {
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, v[i] - '0', &x))
			return (-1);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(v + digits, units[i].suffix) != 0)
			continue;
		if (__builtin_mul_overflow(x, units[i].scale, out))
			return (-1);
		return (0);
	}
	return (-1);
}

/* Check each value parser on one string against its model. */
static void
fuzz_check_parsers(const char *v)
{
	enum log_level	 level;
	long long	 got, want;
	size_t		 i;
	int		 b, mb, ok;

	b = -1;
	ok = env_bool(v, &b) == 0;
	assert(ok == (fuzz_model_bool(v, &mb) == 0));
	if (ok)
		assert(b == mb);

	ok = env_duration(v, &got) == 0;
	assert(ok == (fuzz_model_scaled(v, fuzz_durations,
	    nitems(fuzz_durations), &want) == 0));
	if (ok)
		assert(got == want && got >= 0);

	ok = env_size(v, &got) == 0;
	assert(ok == (fuzz_model_scaled(v, fuzz_sizes, nitems(fuzz_sizes),
	    &want) == 0));
	if (ok)
		assert(got == want && got >= 0);

	ok = env_log_level(v, &level) == 0;
	for (i = 0; i < nitems(fuzz_levels); i++)
		if (strcasecmp(v, fuzz_levels[i]) == 0)
			break;
	assert(ok == (i < nitems(fuzz_levels)));
	if (ok)
		assert(level >= LOG_LEVEL_ERROR && level <= LOG_LEVEL_DEBUG);
}

/* A boolean variable as the images read it: its default when unset. */
static int
fuzz_var(const char *name, int def)
{
	const char	*v = fuzz_lookup(name);
	int		 truth;

	if (v == NULL)
		return (def);
	assert(fuzz_model_bool(v, &truth) == 0);
	return (truth);
}

/* Whether a variable is set to a value env_policy must refuse. */
static int
fuzz_refused(const char *name)
{
	const char	*v = fuzz_lookup(name);
	enum log_level	 level;
	int		 truth;

	if (v == NULL)
		return (0);
	if (strcmp(name, "LOG_LEVEL") == 0)
		return (env_log_level(v, &level) != 0);
	return (fuzz_model_bool(v, &truth) != 0);
}

/* The override the images' rules give one action kind. */
static enum override
fuzz_model_override(enum action_kind k)
{
	const char	*var = policy_kind_variable(k);
	int		 restarts = fuzz_var("ALLOW_RESTARTS", 0);

	if (var == NULL)
		return (OVERRIDE_INHERIT);
	if (fuzz_var(var, 0) ||
	    ((k == KIND_STOP || k == KIND_KILL) && restarts))
		return (OVERRIDE_ALLOW);
	/* LinuxServer's logs, top and changes: 0 turns them off. */
	if ((k == KIND_LOGS || k == KIND_TOP || k == KIND_CHANGES) &&
	    fuzz_lookup(var) != NULL)
		return (OVERRIDE_DENY);
	return (OVERRIDE_INHERIT);
}

/* The policy env_policy built, against the images' rules. */
static void
fuzz_check_policy(const struct policy *p)
{
	const char	*var;
	int		 g, k, on, post, def;

	post = fuzz_var("POST", 0);
	assert(p->access[GROUP_UNKNOWN] == ACCESS_OFF);
	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++) {
		var = catalogue_group_variable((enum endpoint_group)g);
		assert(var != NULL);
		def = g == GROUP_PING || g == GROUP_VERSION ||
		    g == GROUP_EVENTS;
		on = fuzz_var(var, def);
		assert(p->access[g] == (!on ? ACCESS_OFF :
		    post ? ACCESS_WRITE : ACCESS_READ));
	}
	for (k = KIND_NONE + 1; k < KIND_COUNT; k++)
		assert(p->override[k] ==
		    fuzz_model_override((enum action_kind)k));
	assert(p->override[KIND_NONE] == OVERRIDE_INHERIT);
}

/* A refusal names a variable set to a value that does not parse. */
static void
fuzz_check_refusal(const char *err, size_t errlen)
{
	char	 name[64];
	size_t	 n;

	if (errlen == 0)
		return;
	assert(strlen(err) < errlen);
	if (errlen < 80)
		return;		/* the name may have been cut */
	n = strcspn(err, ":");
	assert(n > 0 && n < sizeof(name) && err[n] == ':');
	memcpy(name, err, n);
	name[n] = '\0';
	assert(fuzz_refused(name));
}

/* Split the input into NUL-separated entries, names before the '='. */
static void
fuzz_split(char *buf, size_t len)
{
	char	*s, *end = buf + len, *eq;

	fuzz_nenv = 0;
	for (s = buf; s < end && fuzz_nenv < FUZZ_ENTRIES_MAX;
	    s += strlen(s) + 1) {
		fuzz_check_parsers(s);
		if ((eq = strchr(s, '=')) == NULL)
			continue;
		fuzz_env[fuzz_nenv].name = s;
		fuzz_env[fuzz_nenv].name_len = (size_t)(eq - s);
		fuzz_env[fuzz_nenv].value = eq + 1;
		fuzz_check_parsers(eq + 1);
		fuzz_nenv++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy	 p, q, untouched;
	char		*buf, err[FUZZ_ERR_SIZE];
	size_t		 errlen;
	uint32_t	 h = 2166136261u;
	size_t		 i;
	int		 r;

	if ((buf = malloc(size + 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	buf[size] = '\0';
	fuzz_split(buf, size);

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	errlen = h % sizeof(err);

	memset(&p, 0xa5, sizeof(p));
	untouched = p;
	memset(err, 'x', sizeof(err));
	r = env_policy(&p, fuzz_lookup, err, errlen);
	if (r != 0) {
		assert(r == -1);
		assert(memcmp(&p, &untouched, sizeof(p)) == 0);
		fuzz_check_refusal(err, errlen);
	} else {
		if (errlen > 0)
			assert(err[0] == '\0');
		assert(p.revision == 0);
		fuzz_check_policy(&p);
		/* The same environment gives the same policy. */
		assert(env_policy(&q, fuzz_lookup, NULL, 0) == 0);
		assert(memcmp(&p, &q, sizeof(p)) == 0);
	}
	free(buf);
	return (0);
}
