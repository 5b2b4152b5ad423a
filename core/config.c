/*
 * dspd's command line and its environment twins: every flag --foo-bar
 * can also be given as DSP_FOO_BAR, and the HAProxy images' own names
 * (SOCKET_PATH, LOG_LEVEL and the policy variables) are read as well.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dspd.h"

enum option_id {
	OPT_LISTEN,
	OPT_SOCKET_PATH,
	OPT_READY_FILE,
	OPT_ALLOW_FROM,
	OPT_ALLOW_UID,
	OPT_ALLOW_GID,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
	OPT_SYSLOG,
	OPT_HEAD_MAX,
	OPT_HEADERS_MAX,
	OPT_URI_MAX,
	OPT_HEAD_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_MAX_CLIENTS,
	OPT_DRAIN_TIMEOUT,
	OPT_BODY_MAX,
	OPT_DB,
	OPT_ACCESS_LOG,
	OPT_LOG_KEEP_DAYS,
	OPT_LOG_KEEP_ROWS,
	OPT_POLICY_SOURCE,
	OPT_CONTROL,
	OPT_CONTROL_RO,
	OPT_CONTROL_ALLOW_UID,
	OPT_CONTROL_ALLOW_GID,
	OPT_CONTROL_RO_ALLOW_UID,
	OPT_CONTROL_RO_ALLOW_GID,
	OPT_USER,
	OPT_GROUP,
	OPT_MAX_BYPASS,
	OPT_METRICS,
	OPT_COUNT,
	OPT_HELP = 'h',
	OPT_VERSION = 'V'
};

/* getopt values of the create guard's options, which guard.c describes. */
#define GUARD_OPTION_BASE	512
#define GUARD_OPTIONS_MAX	32
/* getopt's table: dspd's options, the guard's, help, version, the end. */
#define LONGOPTS_MAX		(OPT_COUNT + GUARD_OPTIONS_MAX + 3)

enum option_kind {
	KIND_LIST,	/* repeatable; comma-separated in the environment */
	KIND_VALUE,
	KIND_SWITCH	/* no argument; a boolean in the environment */
};

struct option_spec {
	const char		*name;
	enum option_kind	 kind;
	const char		*env;		/* DSP_ twin */
	const char		*alias;		/* the images' name */
	const char		*def;
	const char		*arg;
	const char		*help;
};

static const struct option_spec config_options[OPT_COUNT] = {
	[OPT_LISTEN] = { "listen", KIND_LIST, "DSP_LISTEN", NULL,
	    "tcp://127.0.0.1:2375", "ADDR",
	    "listen on tcp://HOST:PORT or unix:///PATH[?mode=0660&group=G]" },
	[OPT_SOCKET_PATH] = { "socket-path", KIND_VALUE, "DSP_SOCKET_PATH",
	    "SOCKET_PATH", "/var/run/docker.sock", "PATH",
	    "the Docker engine's unix socket" },
	[OPT_READY_FILE] = { "ready-file", KIND_VALUE, "DSP_READY_FILE", NULL,
	    NULL, "PATH", "write the bound addresses here once accepting" },
	[OPT_ALLOW_FROM] = { "allow-from", KIND_LIST, "DSP_ALLOW_FROM", NULL,
	    NULL, "CIDR", "admit TCP clients from this network only" },
	[OPT_ALLOW_UID] = { "allow-uid", KIND_LIST, "DSP_ALLOW_UID", NULL,
	    NULL, "UID", "admit unix-socket clients running as this user" },
	[OPT_ALLOW_GID] = { "allow-gid", KIND_LIST, "DSP_ALLOW_GID", NULL,
	    NULL, "GID", "admit unix-socket clients of this group" },
	[OPT_LOG_FORMAT] = { "log-format", KIND_VALUE, "DSP_LOG_FORMAT", NULL,
	    "text", "FORMAT", "text or json lines on standard error" },
	[OPT_LOG_LEVEL] = { "log-level", KIND_VALUE, "DSP_LOG_LEVEL",
	    "LOG_LEVEL", "info", "LEVEL",
	    "debug, info, notice, warning, err, crit, alert or emerg" },
	[OPT_SYSLOG] = { "syslog", KIND_SWITCH, "DSP_SYSLOG", NULL, "0", NULL,
	    "log to syslog instead of standard error" },
	[OPT_HEAD_MAX] = { "head-max", KIND_VALUE, "DSP_HEAD_MAX", NULL,
	    "64KiB", "SIZE", "largest request head" },
	[OPT_HEADERS_MAX] = { "headers-max", KIND_VALUE, "DSP_HEADERS_MAX",
	    NULL, "100", "N", "most header lines in a request" },
	[OPT_URI_MAX] = { "uri-max", KIND_VALUE, "DSP_URI_MAX", NULL, "16KiB",
	    "SIZE", "longest request target" },
	[OPT_HEAD_TIMEOUT] = { "head-timeout", KIND_VALUE, "DSP_HEAD_TIMEOUT",
	    NULL, "10s", "DUR", "time to send a whole request head" },
	[OPT_IDLE_TIMEOUT] = { "idle-timeout", KIND_VALUE, "DSP_IDLE_TIMEOUT",
	    NULL, "60s", "DUR", "idle time allowed between requests" },
	[OPT_CONNECT_TIMEOUT] = { "connect-timeout", KIND_VALUE,
	    "DSP_CONNECT_TIMEOUT", NULL, "5s", "DUR",
	    "time to connect to the engine" },
	[OPT_MAX_CLIENTS] = { "max-clients", KIND_VALUE, "DSP_MAX_CLIENTS",
	    NULL, "4096", "N", "client connections at once" },
	[OPT_DRAIN_TIMEOUT] = { "drain-timeout", KIND_VALUE,
	    "DSP_DRAIN_TIMEOUT", NULL, "5s", "DUR",
	    "time given to finite exchanges at SIGTERM" },
	[OPT_BODY_MAX] = { "body-max", KIND_VALUE, "DSP_BODY_MAX", NULL,
	    "1MiB", "SIZE", "largest create-class body, held and checked" },
	[OPT_DB] = { "db", KIND_VALUE, "DSP_DB", NULL, "/var/lib/dsp/dsp.db",
	    "PATH", "the SQLite database of policy and access log, or none" },
	[OPT_ACCESS_LOG] = { "access-log", KIND_VALUE, "DSP_ACCESS_LOG",
	    NULL, "on", "on|off", "write a row per exchange to the database" },
	[OPT_LOG_KEEP_DAYS] = { "log-keep-days", KIND_VALUE,
	    "DSP_LOG_KEEP_DAYS", NULL, "30", "N",
	    "delete access rows older than N days (0: keep)" },
	[OPT_LOG_KEEP_ROWS] = { "log-keep-rows", KIND_VALUE,
	    "DSP_LOG_KEEP_ROWS", NULL, "1000000", "N",
	    "keep at most N access rows (0: no limit)" },
	[OPT_POLICY_SOURCE] = { "policy-source", KIND_VALUE,
	    "DSP_POLICY_SOURCE", NULL, "db", "db|env",
	    "env: apply the environment at every start" },
	[OPT_CONTROL] = { "control", KIND_VALUE, "DSP_CONTROL_SOCKET", NULL,
	    "/run/dsp/control.sock", "PATH",
	    "the control socket (write access is root), or none" },
	[OPT_CONTROL_RO] = { "control-ro", KIND_VALUE, "DSP_CONTROL_RO",
	    NULL, NULL, "PATH", "a read-only control socket for monitoring" },
	[OPT_CONTROL_ALLOW_UID] = { "control-allow-uid", KIND_LIST,
	    "DSP_CONTROL_ALLOW_UID", NULL, NULL, "UID",
	    "a user allowed on the control sockets besides root" },
	[OPT_CONTROL_ALLOW_GID] = { "control-allow-gid", KIND_LIST,
	    "DSP_CONTROL_ALLOW_GID", NULL, NULL, "GID",
	    "a group allowed on the control sockets" },
	[OPT_CONTROL_RO_ALLOW_UID] = { "control-ro-allow-uid", KIND_LIST,
	    "DSP_CONTROL_RO_ALLOW_UID", NULL, NULL, "UID",
	    "a user allowed on the read-only control socket only" },
	[OPT_CONTROL_RO_ALLOW_GID] = { "control-ro-allow-gid", KIND_LIST,
	    "DSP_CONTROL_RO_ALLOW_GID", NULL, NULL, "GID",
	    "a group allowed on the read-only control socket only" },
	[OPT_USER] = { "user", KIND_VALUE, "DSP_USER", NULL, NULL, "USER",
	    "run as this user once the listeners are bound" },
	[OPT_GROUP] = { "group", KIND_VALUE, "DSP_GROUP", NULL, NULL, "GROUP",
	    "with --user, its one extra group (the engine socket's)" },
	[OPT_MAX_BYPASS] = { "max-bypass", KIND_VALUE, "DSP_MAX_BYPASS", NULL,
	    "1h", "DUR", "longest emergency bypass a rollback may ask for" },
	[OPT_METRICS] = { "metrics", KIND_VALUE, "DSP_METRICS", NULL, NULL,
	    "ADDR", "serve Prometheus metrics here (tcp:// or unix://)" },
};

/* The values given for one option, from argv or the environment. */
struct option_values {
	char		**v;
	size_t		 n;
	int		 from_argv;
	const char	*from_env;	/* the variable read, for errors */
};

static void
config_usage(FILE *out)
{
	const struct option_spec	*o;
	const struct guard_option_spec	*guard;
	char				 flag[48];
	size_t				 j, nguard;
	int				 i;

	fprintf(out, "usage: dspd [options]\n\n"
	    "A filtering proxy for the Docker Engine API.  Every option has\n"
	    "an environment twin, given in brackets with the default.\n\n");
	for (i = 0; i < OPT_COUNT; i++) {
		o = &config_options[i];
		snprintf(flag, sizeof(flag), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %s%-26s %s\n",
		    i == OPT_LISTEN ? "-l, " : "    ", flag, o->help);
		fprintf(out, "  %-30s [%s%s%s%s%s]\n", "", o->env,
		    o->alias ? " or " : "", o->alias ? o->alias : "",
		    o->def ? ", default " : "", o->def ? o->def : "");
	}
	guard = guard_options(&nguard);
	fprintf(out, "\nThe create guard refuses bodies that take the host; "
	    "each relaxation\nbelow is off by default (see dspd(8) for the "
	    "risk of each):\n");
	for (j = 0; j < nguard; j++) {
		snprintf(flag, sizeof(flag), "--%s%s%s", guard[j].name,
		    guard[j].metavar ? " " : "",
		    guard[j].metavar ? guard[j].metavar : "");
		fprintf(out, "      %-26s %s\n", flag, guard[j].help);
		fprintf(out, "  %-30s [%s]\n", "", guard[j].env);
	}
	fprintf(out, "\n  -h, --help                     this text\n"
	    "  -V, --version                  dspd's version\n\n"
	    "Policy, from the HAProxy socket proxies' variables (1 opens a "
	    "group for\nreading; POST=1 opens the open groups for writing):\n"
	    "  AUTH BUILD COMMIT CONFIGS CONTAINERS DISTRIBUTION EVENTS=1 EXEC "
	    "GRPC\n  IMAGES INFO NETWORKS NODES PING=1 PLUGINS SECRETS "
	    "SERVICES SESSION SWARM\n  SYSTEM TASKS VERSION=1 VOLUMES POST\n"
	    "  ALLOW_START ALLOW_STOP ALLOW_RESTARTS ALLOW_PAUSE ALLOW_UNPAUSE "
	    "ALLOW_KILL\n  (work without POST), ALLOW_ARCHIVE ALLOW_EXPORT "
	    "(off by default), and when\n  set ALLOW_LOGS ALLOW_TOP "
	    "ALLOW_CHANGES.  DISABLE_IPV6 listens on IPv4 only.\n\n"
	    "Sockets a service manager passes (systemd's LISTEN_FDS) are "
	    "served as well;\nwithout --listen or DSP_LISTEN, they replace "
	    "the default.  See dspd(8).\n");
}

/* Append a copy of value to an option's values. */
static int
config_add_value(struct option_values *ov, const char *value)
{
	char	**v;

	v = reallocarray(ov->v, ov->n + 1, sizeof(*v));
	if (v == NULL)
		return (-1);
	ov->v = v;
	if ((ov->v[ov->n] = strdup(value)) == NULL)
		return (-1);
	ov->n++;
	return (0);
}

/* Fill an option not given on the command line from its variables. */
static int
config_from_env(const struct option_spec *o, struct option_values *ov)
{
	const char	*env, *from;
	char		*copy, *item, *save;
	int		 rc = 0;

	from = o->env;
	env = getenv(o->env);
	if (env == NULL && o->alias != NULL) {
		from = o->alias;
		env = getenv(o->alias);
	}
	if (env == NULL) {
		if (o->def != NULL)
			return (config_add_value(ov, o->def));
		return (0);
	}
	ov->from_env = from;
	if (o->kind != KIND_LIST)
		return (config_add_value(ov, env));
	if ((copy = strdup(env)) == NULL)
		return (-1);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*item))
			item++;
		if (*item != '\0' && (rc = config_add_value(ov, item)) != 0)
			break;
	}
	free(copy);
	return (rc);
}

/* Parse an address with an optional /bits into a network. */
int
config_cidr_parse(const char *s, struct cidr *c)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long	 bits;
	unsigned int	 max;

	if (strlen(s) >= sizeof(buf))
		return (-1);
	snprintf(buf, sizeof(buf), "%s", s);
	memset(c, 0, sizeof(*c));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return (-1);
	c->bits = max;
	if (slash != NULL) {
		errno = 0;
		bits = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || errno != 0 || bits > max)
			return (-1);
		c->bits = (unsigned int)bits;
	}
	return (0);
}

/* Whether a client address lies in a network; IPv4-mapped counts as v4. */
int
config_cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const unsigned char	*a;
	unsigned int		 full, rest;
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (sa->sa_family == AF_INET) {
		if (c->family != AF_INET)
			return (0);
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a = (const unsigned char *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (c->family == AF_INET) {
			if (memcmp(a, mapped, sizeof(mapped)) != 0)
				return (0);
			a += sizeof(mapped);
		}
	} else
		return (0);

	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(a, c->addr, full) != 0)
		return (0);
	if (rest != 0 && ((a[full] ^ c->addr[full]) &
	    (unsigned char)(0xff << (8 - rest))) != 0)
		return (0);
	return (1);
}

/* A user or group given by number or name. */
static int
config_id(const char *s, int group, unsigned int *id)
{
	struct passwd	*pw;
	struct group	*gr;
	char		*end;
	unsigned long	 n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (*s != '\0' && *end == '\0' && errno == 0 && n < 0xffffffffUL) {
		*id = (unsigned int)n;
		return (0);
	}
	if (group) {
		if ((gr = getgrnam(s)) == NULL)
			return (-1);
		*id = gr->gr_gid;
	} else {
		if ((pw = getpwnam(s)) == NULL)
			return (-1);
		*id = pw->pw_uid;
	}
	return (0);
}

/* A count that must be at least 1. */
static int
config_count(const char *s, long long *out)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || n < 1)
		return (-1);
	*out = n;
	return (0);
}

/* Add a user to an allow-list of the control sockets; -1 out of memory. */
static int
config_allow_uid(struct control_allow *allow, uid_t uid)
{
	uid_t	*v;

	if ((v = reallocarray(allow->uid, allow->nuid + 1, sizeof(*v))) ==
	    NULL)
		return (-1);
	v[allow->nuid++] = uid;
	allow->uid = v;
	return (0);
}

/* Add a group to an allow-list of the control sockets. */
static int
config_allow_gid(struct control_allow *allow, gid_t gid)
{
	gid_t	*v;

	if ((v = reallocarray(allow->gid, allow->ngid + 1, sizeof(*v))) ==
	    NULL)
		return (-1);
	v[allow->ngid++] = gid;
	allow->gid = v;
	return (0);
}

/* Turn the collected strings of one option into its config field. */
static int
config_apply(struct config *cf, enum option_id id, struct option_values *ov)
{
	const char		*bad = NULL, *what = NULL;
	struct passwd		*pw;
	struct control_allow	*allow;
	long long		 n;
	size_t			 i;
	unsigned int		 uid_or_gid;
	int			 b, is_gid;

	if (ov->n == 0)
		return (0);
	switch (id) {
	case OPT_LISTEN:
		cf->listen = ov->v;
		cf->nlisten = ov->n;
		ov->v = NULL;
		ov->n = 0;
		return (0);
	case OPT_SOCKET_PATH:
		free(cf->socket_path);
		cf->socket_path = strdup(ov->v[0]);
		return (cf->socket_path == NULL ? -1 : 0);
	case OPT_READY_FILE:
		free(cf->ready_file);
		cf->ready_file = strdup(ov->v[0]);
		return (cf->ready_file == NULL ? -1 : 0);
	case OPT_ALLOW_FROM:
		cf->allow_from = calloc(ov->n, sizeof(*cf->allow_from));
		if (cf->allow_from == NULL)
			return (-1);
		for (i = 0; i < ov->n; i++) {
			if (config_cidr_parse(ov->v[i],
			    &cf->allow_from[i]) != 0) {
				bad = ov->v[i];
				what = "an address or network";
				goto fail;
			}
		}
		cf->nallow_from = ov->n;
		return (0);
	case OPT_ALLOW_UID:
	case OPT_ALLOW_GID:
		for (i = 0; i < ov->n; i++) {
			if (config_id(ov->v[i], id == OPT_ALLOW_GID,
			    &uid_or_gid) != 0) {
				bad = ov->v[i];
				what = id == OPT_ALLOW_GID ? "a known group" :
				    "a known user";
				goto fail;
			}
			if (id == OPT_ALLOW_UID) {
				cf->allow_uid = reallocarray(cf->allow_uid,
				    cf->nallow_uid + 1, sizeof(uid_t));
				if (cf->allow_uid == NULL)
					return (-1);
				cf->allow_uid[cf->nallow_uid++] = uid_or_gid;
			} else {
				cf->allow_gid = reallocarray(cf->allow_gid,
				    cf->nallow_gid + 1, sizeof(gid_t));
				if (cf->allow_gid == NULL)
					return (-1);
				cf->allow_gid[cf->nallow_gid++] = uid_or_gid;
			}
		}
		return (0);
	case OPT_LOG_FORMAT:
		if (strcasecmp(ov->v[0], "text") == 0)
			cf->log_format = LOG_FORMAT_TEXT;
		else if (strcasecmp(ov->v[0], "json") == 0)
			cf->log_format = LOG_FORMAT_JSON;
		else {
			what = "text or json";
			break;
		}
		return (0);
	case OPT_LOG_LEVEL:
		if (env_log_level(ov->v[0], &cf->log_level) != 0) {
			what = "a log level (debug, info, notice, warning, "
			    "err, crit, alert, emerg)";
			break;
		}
		return (0);
	case OPT_SYSLOG:
		if (env_bool(ov->v[0], &b) != 0) {
			what = "a boolean";
			break;
		}
		cf->use_syslog = b;
		return (0);
	case OPT_HEAD_MAX:
	case OPT_URI_MAX:
		if (env_size(ov->v[0], &n) != 0 || n < 64 ||
		    n > 16 * 1024 * 1024) {
			what = "a size from 64 bytes to 16MiB";
			break;
		}
		if (id == OPT_HEAD_MAX)
			cf->limits.head_max = (size_t)n;
		else
			cf->limits.uri_max = (size_t)n;
		return (0);
	case OPT_DB:
	case OPT_CONTROL:
	case OPT_CONTROL_RO:
		if (strcmp(ov->v[0], "none") != 0 && ov->v[0][0] != '/') {
			what = "an absolute path or none";
			break;
		}
		if (id == OPT_DB)
			cf->db_path = strcmp(ov->v[0], "none") == 0 ? NULL :
			    strdup(ov->v[0]);
		else if (id == OPT_CONTROL)
			cf->control_path = strcmp(ov->v[0], "none") == 0 ?
			    NULL : strdup(ov->v[0]);
		else
			cf->control_ro_path = strcmp(ov->v[0], "none") == 0 ?
			    NULL : strdup(ov->v[0]);
		return (0);
	case OPT_ACCESS_LOG:
		if (strcasecmp(ov->v[0], "on") == 0)
			cf->access_log = 1;
		else if (strcasecmp(ov->v[0], "off") == 0)
			cf->access_log = 0;
		else {
			what = "on or off";
			break;
		}
		return (0);
	case OPT_LOG_KEEP_DAYS:
	case OPT_LOG_KEEP_ROWS:
		if (config_count(ov->v[0], &n) != 0 &&
		    strcmp(ov->v[0], "0") != 0) {
			what = "a count (0 for no limit)";
			break;
		}
		if (strcmp(ov->v[0], "0") == 0)
			n = 0;
		if (id == OPT_LOG_KEEP_DAYS)
			cf->log_keep_days = n;
		else
			cf->log_keep_rows = n;
		return (0);
	case OPT_POLICY_SOURCE:
		if (strcasecmp(ov->v[0], "env") == 0)
			cf->policy_source_env = 1;
		else if (strcasecmp(ov->v[0], "db") == 0)
			cf->policy_source_env = 0;
		else {
			what = "db or env";
			break;
		}
		return (0);
	case OPT_METRICS:
		if (strncmp(ov->v[0], "tcp://", 6) != 0 &&
		    strncmp(ov->v[0], "unix:///", 8) != 0) {
			what = "tcp://HOST:PORT or unix:///PATH";
			break;
		}
		free(cf->metrics);
		cf->metrics = strdup(ov->v[0]);
		return (cf->metrics == NULL ? -1 : 0);
	case OPT_MAX_BYPASS:
		if (env_duration(ov->v[0], &n) != 0 || n < 1000) {
			what = "a duration of at least 1s";
			break;
		}
		cf->max_bypass_sec = n / 1000;
		return (0);
	case OPT_USER:
		if ((pw = getpwnam(ov->v[0])) == NULL &&
		    config_id(ov->v[0], 0, &uid_or_gid) == 0)
			pw = getpwuid(uid_or_gid);
		if (pw == NULL) {
			what = "a user in the password database";
			break;
		}
		cf->run_as = 1;
		cf->run_uid = pw->pw_uid;
		cf->run_gid = pw->pw_gid;
		return (0);
	case OPT_GROUP:
		if (config_id(ov->v[0], 1, &uid_or_gid) != 0) {
			what = "a known group";
			break;
		}
		cf->run_group_set = 1;
		cf->run_group = uid_or_gid;
		return (0);
	case OPT_CONTROL_ALLOW_UID:
	case OPT_CONTROL_ALLOW_GID:
	case OPT_CONTROL_RO_ALLOW_UID:
	case OPT_CONTROL_RO_ALLOW_GID:
		is_gid = id == OPT_CONTROL_ALLOW_GID ||
		    id == OPT_CONTROL_RO_ALLOW_GID;
		allow = id == OPT_CONTROL_ALLOW_UID ||
		    id == OPT_CONTROL_ALLOW_GID ? &cf->control_allow :
		    &cf->control_ro_allow;
		for (i = 0; i < ov->n; i++) {
			unsigned int	 id2;

			if (config_id(ov->v[i], is_gid, &id2) != 0) {
				bad = ov->v[i];
				what = is_gid ? "a known group" :
				    "a known user";
				goto fail;
			}
			if ((is_gid ? config_allow_gid(allow, id2) :
			    config_allow_uid(allow, id2)) != 0)
				return (-1);
		}
		return (0);
	case OPT_BODY_MAX:
		if (env_size(ov->v[0], &n) != 0 || n < 1024 ||
		    n > 64 * 1024 * 1024) {
			what = "a size from 1KiB to 64MiB";
			break;
		}
		cf->body_max = (size_t)n;
		return (0);
	case OPT_HEADERS_MAX:
	case OPT_MAX_CLIENTS:
		if (config_count(ov->v[0], &n) != 0 || n > 1000000) {
			what = "a count from 1 to 1000000";
			break;
		}
		if (id == OPT_HEADERS_MAX)
			cf->limits.headers_max = (size_t)n;
		else
			cf->max_clients = n;
		return (0);
	case OPT_HEAD_TIMEOUT:
	case OPT_IDLE_TIMEOUT:
	case OPT_CONNECT_TIMEOUT:
	case OPT_DRAIN_TIMEOUT:
		if (env_duration(ov->v[0], &n) != 0 || n == 0) {
			what = "a duration such as 500ms, 10s, 2m or 1h";
			break;
		}
		if (id == OPT_HEAD_TIMEOUT)
			cf->head_timeout_ms = n;
		else if (id == OPT_IDLE_TIMEOUT)
			cf->idle_timeout_ms = n;
		else if (id == OPT_CONNECT_TIMEOUT)
			cf->connect_timeout_ms = n;
		else
			cf->drain_timeout_ms = n;
		return (0);
	default:
		return (0);
	}
	bad = ov->v[0];

fail:
	if (ov->from_argv)
		fprintf(stderr, "dspd: --%s: '%s' is not %s\n",
		    config_options[id].name, bad, what);
	else
		fprintf(stderr, "dspd: %s: '%s' is not %s\n",
		    ov->from_env != NULL ? ov->from_env : "default", bad, what);
	return (-2);
}

/* getenv with the type the policy reader wants. */
static const char *
config_getenv(const char *name)
{
	return (getenv(name));
}

/*
 * Read the command line, then the environment for what it did not say,
 * then the policy variables; on a bad value print what and where, and
 * return -1 so that dspd exits with status 1.
 */
int
config_load(struct config *cf, int argc, char **argv)
{
	struct option			 longopts[LONGOPTS_MAX];
	const struct guard_option_spec	*guard;
	size_t				 nguard, j;
	struct option_values		 vals[OPT_COUNT];
	char				 err[512];
	char				 guard_seen[GUARD_OPTIONS_MAX];
	const char			*env;
	int				 ch, i, rc = -1;

	memset(cf, 0, sizeof(*cf));
	memset(vals, 0, sizeof(vals));
	memset(guard_seen, 0, sizeof(guard_seen));
	guard_config_init(&cf->guard);
	guard = guard_options(&nguard);
	if (nguard > GUARD_OPTIONS_MAX)
		nguard = GUARD_OPTIONS_MAX;
	for (i = 0; i < OPT_COUNT; i++) {
		longopts[i].name = config_options[i].name;
		longopts[i].has_arg = config_options[i].kind == KIND_SWITCH ?
		    no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + i;
	}
	for (j = 0; j < nguard; j++) {
		longopts[i].name = guard[j].name;
		longopts[i].has_arg = guard[j].arg == GUARD_ARG_BOOL ?
		    no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = GUARD_OPTION_BASE + (int)j;
		i++;
	}
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };

	while ((ch = getopt_long(argc, argv, "l:hV", longopts, NULL)) != -1) {
		if (ch == 'l')
			ch = 256 + OPT_LISTEN;
		switch (ch) {
		case 'h':
			config_usage(stdout);
			exit(0);
		case 'V':
			printf("dspd %s\n", DSPD_VERSION);
			exit(0);
		case '?':
			config_usage(stderr);
			goto out;
		default:
			if (ch >= GUARD_OPTION_BASE) {
				j = (size_t)(ch - GUARD_OPTION_BASE);
				guard_seen[j] = 1;
				if (guard_option(&cf->guard, guard[j].name,
				    optarg, err, sizeof(err)) != 0) {
					fprintf(stderr, "dspd: %s\n", err);
					goto out;
				}
				break;
			}
			i = ch - 256;
			vals[i].from_argv = 1;
			if (config_options[i].kind != KIND_LIST &&
			    vals[i].n > 0)
				free(vals[i].v[--vals[i].n]); /* last wins */
			if (config_add_value(&vals[i],
			    config_options[i].kind == KIND_SWITCH ? "1" :
			    optarg) != 0)
				goto nomem;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dspd: unexpected argument '%s'\n",
		    argv[optind]);
		goto out;
	}

	cf->limits.head_max = 64 * 1024;
	cf->limits.headers_max = 100;
	cf->limits.uri_max = 16 * 1024;
	for (i = 0; i < OPT_COUNT; i++) {
		if (vals[i].n == 0 &&
		    config_from_env(&config_options[i], &vals[i]) != 0)
			goto nomem;
		/* Passed sockets replace the default address only. */
		if (i == OPT_LISTEN)
			cf->listen_default = !vals[i].from_argv &&
			    vals[i].from_env == NULL;
		switch (config_apply(cf, i, &vals[i])) {
		case 0:
			break;
		case -2:
			goto out;
		default:
			goto nomem;
		}
	}

	for (j = 0; j < nguard; j++) {
		if (guard_seen[j] || (env = getenv(guard[j].env)) == NULL)
			continue;
		if (guard_option(&cf->guard, guard[j].env, env, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "dspd: %s\n", err);
			goto out;
		}
	}

	if (cf->run_group_set && !cf->run_as) {
		fprintf(stderr, "dspd: --group (DSP_GROUP) needs --user\n");
		goto out;
	}
	if (env_policy(&cf->policy, config_getenv, err, sizeof(err)) != 0) {
		fprintf(stderr, "dspd: %s\n", err);
		goto out;
	}
	if ((env = getenv("DISABLE_IPV6")) != NULL)
		env_bool(env, &cf->disable_ipv6);	/* checked above */
	/*
	 * dspd's own user owns its database already; it may also use the
	 * control sockets, which is how a container's health check, running
	 * as that user, reaches dspctl ping.
	 */
	if (geteuid() != 0) {
		if (config_allow_uid(&cf->control_allow, geteuid()) != 0)
			goto nomem;
	}
	rc = 0;
	goto out;

nomem:
	fprintf(stderr, "dspd: out of memory\n");
out:
	for (i = 0; i < OPT_COUNT; i++) {
		for (j = 0; j < vals[i].n; j++)
			free(vals[i].v[j]);
		free(vals[i].v);
	}
	if (rc != 0)
		config_free(cf);
	return (rc);
}

void
config_free(struct config *cf)
{
	size_t	 i;

	for (i = 0; i < cf->nlisten; i++)
		free(cf->listen[i]);
	free(cf->listen);
	free(cf->socket_path);
	free(cf->ready_file);
	free(cf->allow_from);
	free(cf->allow_uid);
	free(cf->allow_gid);
	free(cf->db_path);
	free(cf->control_path);
	free(cf->control_ro_path);
	free(cf->control_allow.uid);
	free(cf->control_allow.gid);
	free(cf->control_ro_allow.uid);
	free(cf->control_ro_allow.gid);
	free(cf->metrics);
	guard_config_free(&cf->guard);
}
