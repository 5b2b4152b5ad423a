/*
 * The HAProxy images' environment variables turned into a policy, and the
 * parsers for the values dspd takes from its command line and environment:
 * booleans, durations, sizes and log levels.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dspd.h"

/* Bytes of a refused value quoted in an error message; more are cut. */
#define ENV_QUOTE_MAX		40

/* Room for a quoted value: four bytes per escaped byte, the cut mark. */
#define ENV_QUOTE_SIZE		(ENV_QUOTE_MAX * 4 + 8)

/* A unit suffix and what one of it is worth. */
struct env_unit {
	const char	*suffix;
	long long	 scale;
};

/* Durations in milliseconds; a bare number counts seconds. */
static const struct env_unit env_duration_units[] = {
	{ "", 1000 },
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 }
};

/* Sizes in bytes, binary multiples whichever spelling is used. */
static const struct env_unit env_size_units[] = {
	{ "", 1 },
	{ "k", 1024 },
	{ "K", 1024 },
	{ "KiB", 1024 },
	{ "m", 1024 * 1024 },
	{ "M", 1024 * 1024 },
	{ "MiB", 1024 * 1024 },
	{ "g", 1024 * 1024 * 1024 },
	{ "G", 1024 * 1024 * 1024 },
	{ "GiB", 1024 * 1024 * 1024 }
};

static const struct {
	const char	*name;
	enum log_level	 level;
} env_log_levels[] = {
	{ "debug", LOG_LEVEL_DEBUG },
	{ "info", LOG_LEVEL_INFO },
	{ "notice", LOG_LEVEL_INFO },
	{ "warning", LOG_LEVEL_WARN },
	{ "warn", LOG_LEVEL_WARN },
	{ "err", LOG_LEVEL_ERROR },
	{ "error", LOG_LEVEL_ERROR },
	{ "crit", LOG_LEVEL_ERROR },
	{ "alert", LOG_LEVEL_ERROR },
	{ "emerg", LOG_LEVEL_ERROR }
};

/* The images' section variables that are on when unset. */
static const enum endpoint_group env_default_on[] = {
	GROUP_PING,
	GROUP_VERSION,
	GROUP_EVENTS
};

/*
 * The ALLOW_* variables and the kinds each one reaches.  ALLOW_RESTARTS
 * covers stop and kill as well, as the images' rule for it does.  The
 * carve-outs only add: 0 leaves the group's access in charge.  LinuxServer's
 * logs, top and changes switches are honoured both ways once set, since
 * there 0 takes the action away from CONTAINERS=1.
 */
static const struct env_override {
	const char		*variable;
	enum action_kind	 kinds[3];	/* KIND_NONE ends the list */
	int			 zero_denies;
} env_overrides[] = {
	{ "ALLOW_START", { KIND_START }, 0 },
	{ "ALLOW_STOP", { KIND_STOP }, 0 },
	{ "ALLOW_RESTARTS", { KIND_STOP, KIND_RESTART, KIND_KILL }, 0 },
	{ "ALLOW_KILL", { KIND_KILL }, 0 },
	{ "ALLOW_PAUSE", { KIND_PAUSE }, 0 },
	{ "ALLOW_UNPAUSE", { KIND_UNPAUSE }, 0 },
	{ "ALLOW_ARCHIVE", { KIND_ARCHIVE }, 0 },
	{ "ALLOW_EXPORT", { KIND_EXPORT }, 0 },
	{ "ALLOW_LOGS", { KIND_LOGS }, 1 },
	{ "ALLOW_TOP", { KIND_TOP }, 1 },
	{ "ALLOW_CHANGES", { KIND_CHANGES }, 1 }
};

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Read a run of decimal digits without sign into *out; *end is left on
 * the first byte after them.  Fails on no digit or on overflow.
 */
static int
env_digits(const char *s, long long *out, const char **end)
{
	long long	v = 0;
	int		d;

	if (*s < '0' || *s > '9')
		return (-1);
	for (; *s >= '0' && *s <= '9'; s++) {
		d = *s - '0';
		if (v > (LLONG_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	*out = v;
	*end = s;
	return (0);
}

/* A number followed by exactly one of the units, scaled without overflow. */
static int
env_scaled(const char *value, const struct env_unit *units, size_t n,
    long long *out)
{
	const char	*end;
	long long	 v;
	size_t		 i;

	if (value == NULL || env_digits(value, &v, &end) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > LLONG_MAX / units[i].scale)
			return (-1);
		*out = v * units[i].scale;
		return (0);
	}
	return (-1);
}

/*
 * A boolean as the images' users write them: 0 and 1, true and false, yes
 * and no in any case, or any integer, true when not zero.
 */
int
env_bool(const char *value, int *out)
{
	static const struct {
		const char	*word;
		int		 truth;
	} words[] = {
		{ "true", 1 }, { "false", 0 },
		{ "yes", 1 }, { "no", 0 }
	};
	const char	*s;
	size_t		 i;
	int		 truth = 0;

	if (value == NULL || *value == '\0')
		return (-1);
	for (i = 0; i < nitems(words); i++) {
		if (strcasecmp(value, words[i].word) == 0) {
			*out = words[i].truth;
			return (0);
		}
	}

	/* Any length of digits is fine: only zero or not matters. */
	s = value;
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		if (*s != '0')
			truth = 1;
	}
	*out = truth;
	return (0);
}

/* A duration ("250ms", "10s", "2m", "1h", or seconds) in milliseconds. */
int
env_duration(const char *value, long long *msec)
{
	return (env_scaled(value, env_duration_units,
	    nitems(env_duration_units), msec));
}

/* A size in bytes, bare or with a binary k, M or G suffix. */
int
env_size(const char *value, long long *bytes)
{
	return (env_scaled(value, env_size_units, nitems(env_size_units),
	    bytes));
}

/* A syslog level name, folded onto dspd's four levels. */
int
env_log_level(const char *value, enum log_level *level)
{
	size_t	i;

	if (value == NULL)
		return (-1);
	for (i = 0; i < nitems(env_log_levels); i++) {
		if (strcasecmp(value, env_log_levels[i].name) == 0) {
			*level = env_log_levels[i].level;
			return (0);
		}
	}
	return (-1);
}

/*
 * Quote a refused value for a message: printable ASCII as it is, quote
 * and backslash escaped, any other byte as \xNN, cut after ENV_QUOTE_MAX
 * bytes, since the value may be anything the environment held.
 */
static void
env_quote(const char *value, char *out, size_t size)
{
	const unsigned char	*s = (const unsigned char *)value;
	size_t			 len = 0, i;

	for (i = 0; s[i] != '\0' && i < ENV_QUOTE_MAX; i++) {
		if (len + 5 >= size)
			break;
		if (s[i] == '\'' || s[i] == '\\') {
			out[len++] = '\\';
			out[len++] = (char)s[i];
		} else if (s[i] >= 0x20 && s[i] < 0x7f)
			out[len++] = (char)s[i];
		else
			len += (size_t)snprintf(out + len, size - len,
			    "\\x%02x", s[i]);
	}
	out[len] = '\0';
	if (s[i] != '\0' && len + 4 <= size)
		memcpy(out + len, "...", 4);
}

/* Write the message for a refused value of one variable. */
static void
env_refuse(char *err, size_t errlen, const char *variable,
    const char *value, const char *what)
{
	char	quoted[ENV_QUOTE_SIZE];

	if (err == NULL || errlen == 0)
		return;
	env_quote(value, quoted, sizeof(quoted));
	snprintf(err, errlen, "%s: '%s' %s", variable, quoted, what);
}

/*
 * Read one boolean variable: *out keeps its default when it is unset.
 * Returns 1 when set, 0 when unset, -1 when refused.
 */
static int
env_read_bool(env_lookup_fn lookup, const char *variable, int *out,
    char *err, size_t errlen)
{
	const char	*value;

	value = lookup(variable);
	if (value == NULL)
		return (0);
	if (env_bool(value, out) != 0) {
		env_refuse(err, errlen, variable, value, "is not a boolean "
		    "(use 0 or 1, true or false, yes or no)");
		return (-1);
	}
	return (1);
}

/* Set the overrides of one ALLOW_* variable from its value. */
static void
env_apply_override(struct policy *p, const struct env_override *o, int on)
{
	size_t	i;

	for (i = 0; i < nitems(o->kinds) && o->kinds[i] != KIND_NONE; i++) {
		if (on)
			p->override[o->kinds[i]] = OVERRIDE_ALLOW;
		else if (o->zero_denies)
			p->override[o->kinds[i]] = OVERRIDE_DENY;
	}
}

/* The getenv that stands in when the caller gives no lookup. */
static const char *
env_getenv(const char *name)
{
	return (getenv(name));
}

/*
 * Build a policy from the HAProxy images' variables, read through lookup
 * (the process environment when NULL).  Every one of the thirty that has
 * a fixed form is checked, so a bad DISABLE_IPV6 or LOG_LEVEL stops the
 * start as a bad CONTAINERS does.  On failure err names the variable and
 * the policy is left as it was.
 */
int
env_policy(struct policy *out, env_lookup_fn lookup, char *err,
    size_t errlen)
{
	struct policy		 p;
	const char		*variable, *value;
	enum log_level		 level;
	size_t			 i;
	int			 g, on, post = 0, ipv6 = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (lookup == NULL)
		lookup = env_getenv;
	policy_init(&p);

	for (i = 0; i < nitems(env_default_on); i++)
		p.access[env_default_on[i]] = ACCESS_READ;
	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++) {
		variable = catalogue_group_variable((enum endpoint_group)g);
		if (variable == NULL)
			continue;
		on = (p.access[g] != ACCESS_OFF);
		if (env_read_bool(lookup, variable, &on, err, errlen) < 0)
			return (-1);
		p.access[g] = on ? ACCESS_READ : ACCESS_OFF;
	}

	if (env_read_bool(lookup, "POST", &post, err, errlen) < 0)
		return (-1);
	if (post) {
		for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++) {
			if (p.access[g] == ACCESS_READ)
				p.access[g] = ACCESS_WRITE;
		}
	}

	for (i = 0; i < nitems(env_overrides); i++) {
		on = 0;
		switch (env_read_bool(lookup, env_overrides[i].variable, &on,
		    err, errlen)) {
		case -1:
			return (-1);
		case 1:
			env_apply_override(&p, &env_overrides[i], on);
			break;
		}
	}

	/* Read elsewhere; checked here so that no bad value starts dspd. */
	if (env_read_bool(lookup, "DISABLE_IPV6", &ipv6, err, errlen) < 0)
		return (-1);
	value = lookup("LOG_LEVEL");
	if (value != NULL && env_log_level(value, &level) != 0) {
		env_refuse(err, errlen, "LOG_LEVEL", value, "is not a log "
		    "level (use debug, info, notice, warning, err, crit, "
		    "alert or emerg)");
		return (-1);
	}

	*out = p;
	return (0);
}
