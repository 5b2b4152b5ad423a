/*
 * dspctl: drive a running dspd through its control socket.  Changes
 * are reported only after dspd has committed them; the emergency
 * rollback and dangerous grants ask for a typed confirmation first, a
 * courtesy to the operator: dspd's own check is the peer's credentials.
 */

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dspclient.h"

/* Exit statuses. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_FAILED		1	/* refused, failed or cancelled */
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_UNREACHABLE	3	/* no dspd on the socket */

/* Milliseconds to wait for a reply; a commit may wait on the disk. */
#define CTL_CALL_MSEC		30000
/* How far back denials look when --since is not given, in seconds. */
#define CTL_SINCE_DEFAULT	(24 * 3600)
/* What rollback wants typed before it switches the filter off. */
#define CTL_PHRASE		"switch off the filter"
/* Columns of the widest table. */
#define CTL_COLUMNS_MAX		8
/* Bytes of an answer read from the terminal. */
#define CTL_ANSWER_MAX		256
/* Bytes of a body check sends; the control protocol's line bounds it. */
#define CTL_BODY_MAX		(DSP_LINE_MAX - 1024)
/* Milliseconds selftest's live read may take to connect and answer. */
#define CTL_LIVE_MSEC		5000
/* Bytes of the live read's answer that selftest reads. */
#define CTL_LIVE_MAX		8192

/* Which options a command takes. */
#define O_WRITE		0x001
#define O_FOR		0x002
#define O_REASON	0x004
#define O_GROUP		0x008
#define O_DENIED	0x010
#define O_CLIENT	0x020
#define O_SINCE		0x040
#define O_LIMIT		0x080
#define O_BYPASS	0x100
#define O_LOSSY		0x200
#define O_ACTION	0x400
#define O_BODY		0x800
#define O_PROXY		0x1000

struct ctl_options {
	const char	*socket;
	int		 json;
	int		 yes;
	unsigned int	 given;		/* O_* seen on the command line */
	long long	 seconds;	/* --for */
	long long	 since;		/* --since, seconds back */
	long long	 limit;
	const char	*reason;
	const char	*group;
	const char	*client;
	const char	*action;	/* --action NAME */
	const char	*body;		/* --body FILE */
	const char	*proxy;		/* --proxy ADDR */
	char		**args;		/* operands after the command */
	int		 nargs;
};

struct ctl_command {
	const char	*name;
	int		 min_args;
	int		 max_args;
	unsigned int	 options;
	int		 (*run)(struct client *, struct ctl_options *);
	const char	*usage;
};

/* An aligned table, printed once every row is in. */
struct ctl_table {
	size_t		 ncols;
	const char	*head[CTL_COLUMNS_MAX];
	char		**cells;	/* rows * ncols, owned */
	size_t		 nrows;
};

static int	ctl_status(struct client *, struct ctl_options *);
static int	ctl_groups(struct client *, struct ctl_options *);
static int	ctl_allow(struct client *, struct ctl_options *);
static int	ctl_deny(struct client *, struct ctl_options *);
static int	ctl_history(struct client *, struct ctl_options *);
static int	ctl_diff(struct client *, struct ctl_options *);
static int	ctl_revert(struct client *, struct ctl_options *);
static int	ctl_rollback(struct client *, struct ctl_options *);
static int	ctl_restore(struct client *, struct ctl_options *);
static int	ctl_tail(struct client *, struct ctl_options *);
static int	ctl_denials(struct client *, struct ctl_options *);
static int	ctl_ping(struct client *, struct ctl_options *);
static int	ctl_check(struct client *, struct ctl_options *);
static int	ctl_selftest(struct client *, struct ctl_options *);

static const struct ctl_command ctl_commands[] = {
	{ "status", 0, 0, 0, ctl_status, "status" },
	{ "groups", 0, 0, 0, ctl_groups, "groups" },
	{ "allow", 0, 1, O_WRITE | O_FOR | O_REASON | O_ACTION, ctl_allow,
	    "allow GROUP|--action ACTION [--write] [--for DUR] "
	    "[--reason TEXT]" },
	{ "deny", 0, 1, O_FOR | O_REASON | O_ACTION, ctl_deny,
	    "deny GROUP|--action ACTION [--for DUR] [--reason TEXT]" },
	{ "history", 0, 0, O_LIMIT, ctl_history, "history [--limit N]" },
	{ "diff", 1, 2, 0, ctl_diff, "diff REV [REV]" },
	{ "revert", 1, 1, O_REASON, ctl_revert, "revert REV [--reason TEXT]" },
	{ "rollback", 0, 0, O_FOR | O_GROUP | O_REASON, ctl_rollback,
	    "rollback [--for DUR] [--group GROUP] [--reason TEXT]" },
	{ "restore", 0, 0, O_REASON, ctl_restore, "restore [--reason TEXT]" },
	{ "tail", 0, 0, O_DENIED | O_CLIENT | O_GROUP | O_LOSSY, ctl_tail,
	    "tail [--denied] [--client C] [--group GROUP] [--lossy]" },
	{ "denials", 0, 0, O_SINCE | O_LIMIT | O_BYPASS | O_CLIENT | O_GROUP,
	    ctl_denials, "denials [--since DUR] [--limit N] [--bypass] "
	    "[--client C] [--group GROUP]" },
	{ "ping", 0, 0, 0, ctl_ping, "ping" },
	{ "check", 2, 2, O_BODY, ctl_check,
	    "check METHOD TARGET [--body FILE]" },
	{ "selftest", 0, 0, O_CLIENT | O_PROXY, ctl_selftest,
	    "selftest [--client NAME] [--proxy ADDR]" },
};

/* Groups and actions whose grant hands out much of the host. */
static const char *const ctl_dangerous_groups[] = {
	"exec", "build", "system", "plugins", "session", "swarm", "secrets"
};
static const char *const ctl_dangerous_actions[] = {
	"exec", "attach", "archive", "export"
};

static volatile sig_atomic_t	 ctl_interrupted;

static void
ctl_usage(FILE *out)
{
	size_t	 i;

	fprintf(out, "usage: dspctl [--socket PATH] [--json] [--yes] "
	    "COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		fprintf(out, "  dspctl %s\n", ctl_commands[i].usage);
	fprintf(out, "\nThe socket is --socket, else $DSP_CONTROL, else %s.\n"
	    "Durations: 90s, 15m, 2h, 7d, 1h30m.  Exit status: 0 done, 1 "
	    "refused or\nfailed, 2 usage, 3 dspd not reachable.  See "
	    "dspctl(8).\n", DSP_CONTROL_PATH);
}

static void
ctl_warnx(const char *fmt, ...) __attribute__((__format__ (printf, 1, 2)));

/* One line on standard error, the way every error of dspctl reads. */
static void
ctl_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "dspctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Say what failed and what to do about it; the exit status it earns. */
static int
ctl_report(const struct client_error *err)
{
	const char	*hint = "";

	if (err->failure == CLIENT_UNREACHABLE) {
		ctl_warnx("cannot reach dspd: %s (is dspd running? --socket "
		    "PATH or DSP_CONTROL names another socket)", err->message);
		return (CTL_EXIT_UNREACHABLE);
	}
	if (strcmp(err->code, DSP_ERR_READ_ONLY) == 0)
		hint = " (use the read-write control socket)";
	else if (strcmp(err->code, DSP_ERR_DENIED) == 0)
		hint = " (run as root, or ask for dspd --control-allow-uid "
		    "or --control-allow-gid)";
	else if (strcmp(err->code, DSP_ERR_BUSY) == 0)
		hint = " (try again in a moment)";
	ctl_warnx("%s%s", err->message, hint);
	return (CTL_EXIT_FAILED);
}

/* Ask dspd; on failure report it and return the exit status, else 0. */
static int
ctl_call(struct client *c, const struct ctl_options *o, const char *request,
    json_t *args, json_t **result)
{
	struct client_error	 err;

	if (client_call(c, request, args, CTL_CALL_MSEC, result, &err) != 0)
		return (ctl_report(&err));
	return (CTL_EXIT_OK);
}

/* Print a result for scripts, one line of JSON. */
static int
ctl_print_json(json_t *result)
{
	char	*text;

	text = json_dumps(result, JSON_COMPACT);
	json_decref(result);
	if (text == NULL)
		return (CTL_EXIT_FAILED);
	printf("%s\n", text);
	free(text);
	return (CTL_EXIT_OK);
}

/* Start a table with ncols column heads. */
static void
ctl_table_init(struct ctl_table *t, size_t ncols, ...)
{
	va_list	 ap;
	size_t	 i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		t->head[i] = va_arg(ap, const char *);
	va_end(ap);
}

/* Add a row: ncols strings, copied; NULL prints as "-". */
static void
ctl_table_add(struct ctl_table *t, ...)
{
	va_list		 ap;
	char		**cells;
	const char	*s;
	size_t		 i;

	cells = reallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof(*cells));
	if (cells == NULL)
		return;
	t->cells = cells;
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		s = va_arg(ap, const char *);
		cells[t->nrows * t->ncols + i] = strdup(s != NULL ? s : "-");
	}
	va_end(ap);
	t->nrows++;
}

/* Print with columns aligned on their widest cell, then free. */
static void
ctl_table_print(struct ctl_table *t)
{
	size_t		 w[CTL_COLUMNS_MAX], i, r, len;
	const char	*s;

	for (i = 0; i < t->ncols; i++)
		w[i] = strlen(t->head[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			s = t->cells[r * t->ncols + i];
			if (s != NULL && (len = strlen(s)) > w[i])
				w[i] = len;
		}
	for (r = 0; r <= t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			s = r == 0 ? t->head[i] : t->cells[(r - 1) * t->ncols +
			    i];
			if (s == NULL)
				s = "?";
			if (i + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[i], s);
		}
	}
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* A member as text for a table cell; numbers print as themselves. */
static const char *
ctl_str(const json_t *obj, const char *key, char *buf, size_t size)
{
	const json_t	*v = json_object_get(obj, key);

	if (json_is_string(v))
		return (json_string_value(v));
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return (buf);
	}
	if (json_is_real(v)) {
		snprintf(buf, size, "%.1f", json_real_value(v));
		return (buf);
	}
	if (json_is_boolean(v))
		return (json_is_true(v) ? "yes" : "no");
	return (NULL);
}

static long long
ctl_int(const json_t *obj, const char *key)
{
	return ((long long)json_integer_value(json_object_get(obj, key)));
}

/* status: one line per fact, the bypass first when there is one. */
static int
ctl_status(struct client *c, struct ctl_options *o)
{
	json_t		*r, *store, *bypass, *ctl;
	char		 a[64], b[64], line[256];
	int		 rc;

	if ((rc = ctl_call(c, o, DSP_REQ_STATUS, NULL, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	bypass = json_object_get(r, "bypass");
	if (json_is_object(bypass)) {
		client_format_duration(ctl_int(bypass, "seconds_left"), a,
		    sizeof(a));
		printf("mode        BYPASS of %s, %s left (dspctl restore "
		    "ends it)\n", json_string_value(json_object_get(bypass,
		    "scope")), a);
	} else
		printf("mode        enforcing\n");
	printf("revision    %lld\n", ctl_int(r, "revision"));
	client_format_duration(ctl_int(r, "uptime"), a, sizeof(a));
	printf("uptime      %s (dspd %s)\n", a, json_string_value(
	    json_object_get(r, "version")));
	printf("requests    %lld, %lld denied (%lld in the last minute)\n",
	    ctl_int(r, "requests"), ctl_int(r, "denials"),
	    ctl_int(r, "denials_1m"));
	if (strcmp(json_string_value(json_object_get(r, "engine")), "up") == 0)
		printf("engine      up (%lld ms)\n", ctl_int(r, "engine_ms"));
	else
		printf("engine      DOWN: %s\n", json_string_value(
		    json_object_get(r, "engine_error")));
	store = json_object_get(r, "store");
	if (!json_is_true(json_object_get(store, "database")))
		snprintf(line, sizeof(line), "none (--db none): no history, "
		    "no access log");
	else
		snprintf(line, sizeof(line), "%s, %lld rows written, %lld "
		    "dropped, %lld queued%s%s", json_is_true(json_object_get(
		    store, "healthy")) ? "healthy" : "DEGRADED",
		    ctl_int(store, "written"), ctl_int(store, "dropped"),
		    ctl_int(store, "queued"), json_is_true(json_object_get(
		    store, "healthy")) ? "" : ": ", json_is_true(
		    json_object_get(store, "healthy")) ? "" :
		    json_string_value(json_object_get(store, "last_error")));
	printf("database    %s\n", line);
	ctl = json_object_get(r, "control");
	printf("control     %lld clients, %lld subscribed\n",
	    ctl_int(ctl, "clients"), ctl_int(ctl, "subscribers"));
	client_format_duration(ctl_int(r, "max_bypass"), b, sizeof(b));
	printf("max bypass  %s\n", b);
	json_decref(r);
	return (CTL_EXIT_OK);
}

/* "until 18:30:00 (29m left)" for a grant's deadline. */
static void
ctl_until(long long until, char *buf, size_t size)
{
	char	 when[64], left[32];

	client_format_time((double)until, when, sizeof(when));
	client_format_duration(until - (long long)time(NULL), left,
	    sizeof(left));
	snprintf(buf, size, "until %s (%s left)", when, left);
}

/* The grant on a group or action in a groups reply, as text, or NULL. */
static const char *
ctl_grant(const json_t *grants, const char *member, const char *name,
    char *buf, size_t size)
{
	const json_t	*g;
	const char	*v;
	char		 until[128];
	size_t		 i;

	json_array_foreach(grants, i, g) {
		v = json_string_value(json_object_get(g, member));
		if (v == NULL || strcmp(v, name) != 0)
			continue;
		ctl_until(ctl_int(g, "until"), until, sizeof(until));
		snprintf(buf, size, "%s %s", json_string_value(json_object_get(
		    g, strcmp(member, "group") == 0 ? "access" : "override")),
		    until);
		return (buf);
	}
	return (NULL);
}

/* The create guard's relaxations in a groups reply, one a line. */
static void
ctl_groups_guard(json_t *guard)
{
	struct ctl_table	 t;
	json_t			*v, *item;
	const char		*key;
	char			 list[512];
	size_t			 i, len;

	if (!json_is_object(guard))
		return;
	printf("\n");
	ctl_table_init(&t, 2, "CREATE GUARD", "ALLOWED");
	json_object_foreach(guard, key, v) {
		if (json_is_boolean(v)) {
			ctl_table_add(&t, key, json_is_true(v) ? "yes" : "no");
			continue;
		}
		list[0] = '\0';
		json_array_foreach(v, i, item) {
			len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%s",
			    i > 0 ? "," : "", json_string_value(item));
		}
		ctl_table_add(&t, key, list[0] != '\0' ? list : "-");
	}
	ctl_table_print(&t);
}

/* groups: access per group, then overrides per action, with grants. */
static int
ctl_groups(struct client *c, struct ctl_options *o)
{
	struct ctl_table	 t;
	json_t			*r, *v, *grants;
	const char		*name;
	char			 g[192];
	size_t			 i;
	int			 rc;

	if ((rc = ctl_call(c, o, DSP_REQ_GROUPS, NULL, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	grants = json_object_get(r, "grants");
	ctl_table_init(&t, 4, "GROUP", "VARIABLE", "ACCESS", "GRANT");
	json_array_foreach(json_object_get(r, "groups"), i, v) {
		name = json_string_value(json_object_get(v, "group"));
		ctl_table_add(&t, name, json_string_value(json_object_get(v,
		    "variable")), json_string_value(json_object_get(v,
		    "access")), ctl_grant(grants, "group", name, g,
		    sizeof(g)));
	}
	ctl_table_print(&t);
	printf("\n");
	ctl_table_init(&t, 4, "ACTION", "VARIABLE", "OVERRIDE", "GRANT");
	json_array_foreach(json_object_get(r, "overrides"), i, v) {
		name = json_string_value(json_object_get(v, "action"));
		ctl_table_add(&t, name, json_string_value(json_object_get(v,
		    "variable")), json_string_value(json_object_get(v,
		    "override")), ctl_grant(grants, "action", name, g,
		    sizeof(g)));
	}
	ctl_table_print(&t);
	ctl_groups_guard(json_object_get(r, "guard"));
	printf("\npolicy revision %lld\n", ctl_int(r, "revision"));
	if ((v = json_object_get(r, "bypass")) != NULL) {
		client_format_duration(ctl_int(v, "seconds_left"), g,
		    sizeof(g));
		printf("BYPASS of %s in force, %s left\n", json_string_value(
		    json_object_get(v, "scope")), g);
	}
	json_decref(r);
	return (CTL_EXIT_OK);
}

/*
 * Ask a yes/no question on the terminal; without one, only --yes goes
 * on.  Returns 1 to go on, 0 to stop (already said why).
 */
static int
ctl_confirm(const struct ctl_options *o, const char *expect,
    const char *what)
{
	char	 answer[CTL_ANSWER_MAX];
	size_t	 len;

	if (o->yes)
		return (1);
	if (!isatty(STDIN_FILENO)) {
		ctl_warnx("%s needs a confirmation typed on a terminal, or "
		    "--yes: nothing changed", what);
		return (0);
	}
	printf("Type \"%s\" to go on, anything else cancels: ", expect);
	fflush(stdout);
	if (fgets(answer, sizeof(answer), stdin) == NULL) {
		printf("\n");
		ctl_warnx("%s cancelled (end of input): nothing changed",
		    what);
		return (0);
	}
	len = strcspn(answer, "\r\n");
	answer[len] = '\0';
	if (strcmp(answer, expect) != 0) {
		ctl_warnx("%s cancelled: nothing changed", what);
		return (0);
	}
	return (1);
}

/* Whether name is in a list of names. */
static int
ctl_listed(const char *name, const char *const *list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return (1);
	return (0);
}

/*
 * Find NAME among the groups and actions dspd knows, ignoring case: 1 a
 * group, 2 an action, 0 neither (said so).  Its spelling is put in out.
 * A group wins over an action of the same name (exec) unless --action.
 */
static int
ctl_resolve(struct client *c, const struct ctl_options *o, const char *name,
    char *out, size_t size, int *rc)
{
	json_t		*r, *v;
	const char	*n;
	size_t		 i;
	int		 kind = 0;

	if ((*rc = ctl_call(c, o, DSP_REQ_GROUPS, NULL, &r)) != 0)
		return (0);
	json_array_foreach(json_object_get(r, "groups"), i, v) {
		n = json_string_value(json_object_get(v, "group"));
		if (o->action == NULL && n != NULL &&
		    strcasecmp(n, name) == 0) {
			snprintf(out, size, "%s", n);
			kind = 1;
		}
	}
	json_array_foreach(json_object_get(r, "overrides"), i, v) {
		n = json_string_value(json_object_get(v, "action"));
		if (kind == 0 && n != NULL && strcasecmp(n, name) == 0) {
			snprintf(out, size, "%s", n);
			kind = 2;
		}
	}
	json_decref(r);
	if (kind == 0) {
		ctl_warnx("no %s named '%s' (dspctl groups lists them)",
		    o->action != NULL ? "action" : "group or action", name);
		*rc = CTL_EXIT_USAGE;
	}
	return (kind);
}

/* allow and deny: one group's access or one action's override. */
static int
ctl_change(struct client *c, struct ctl_options *o, int allow)
{
	json_t		*args, *r;
	char		 name[64], what[160], until[128];
	const char	*value;
	int		 kind, rc;

	if ((o->action != NULL) == (o->nargs == 1)) {
		ctl_warnx("name a group, or an action with --action");
		return (CTL_EXIT_USAGE);
	}
	if ((kind = ctl_resolve(c, o, o->action != NULL ? o->action :
	    o->args[0], name, sizeof(name), &rc)) == 0)
		return (rc);
	if (kind == 2 && (o->given & O_WRITE)) {
		ctl_warnx("--write is for groups; %s is an action", name);
		return (CTL_EXIT_USAGE);
	}
	if (kind == 1)
		value = !allow ? "off" : (o->given & O_WRITE) ? "write" :
		    "read";
	else
		value = allow ? "allow" : "deny";
	snprintf(what, sizeof(what), "%s %s", kind == 1 ? "group" : "action",
	    name);

	if (allow && ((o->given & O_WRITE) || (kind == 1 &&
	    ctl_listed(name, ctl_dangerous_groups, sizeof(
	    ctl_dangerous_groups) / sizeof(ctl_dangerous_groups[0]))) ||
	    (kind == 2 && ctl_listed(name, ctl_dangerous_actions, sizeof(
	    ctl_dangerous_actions) / sizeof(ctl_dangerous_actions[0]))))) {
		if (!o->yes && isatty(STDIN_FILENO))
			printf("Allowing %s %s access hands its clients much "
			    "of this host (whoever reaches dspd can\nstart "
			    "a shell as root, read files or build images).\n",
			    what, value);
		if (!ctl_confirm(o, "yes", "allowing this"))
			return (CTL_EXIT_FAILED);
	}

	args = kind == 1 ? json_pack("{s:{s:s}}", "access", name, value) :
	    json_pack("{s:{s:s}}", "overrides", name, value);
	if (args == NULL)
		return (CTL_EXIT_FAILED);
	json_object_set_new(args, "source", json_string("dspctl"));
	if (o->given & O_FOR)
		json_object_set_new(args, "for", json_integer(o->seconds));
	if (o->reason != NULL)
		json_object_set_new(args, "reason", json_string(o->reason));
	if ((rc = ctl_call(c, o, DSP_REQ_SET, args, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	until[0] = '\0';
	if (o->given & O_FOR) {
		ctl_until((long long)time(NULL) + o->seconds, until + 1,
		    sizeof(until) - 1);
		until[0] = ' ';
	}
	printf("%s: %s%s, policy revision %lld\n", what, value, until,
	    ctl_int(r, "revision"));
	json_decref(r);
	return (CTL_EXIT_OK);
}

static int
ctl_allow(struct client *c, struct ctl_options *o)
{
	return (ctl_change(c, o, 1));
}

static int
ctl_deny(struct client *c, struct ctl_options *o)
{
	return (ctl_change(c, o, 0));
}

/* history: the newest revisions, who made them and why. */
static int
ctl_history(struct client *c, struct ctl_options *o)
{
	struct ctl_table	 t;
	json_t			*args = NULL, *r, *v;
	char			 when[64], rev[32], who[96];
	size_t			 i;
	int			 rc;

	if (o->given & O_LIMIT)
		args = json_pack("{s:I}", "limit", (json_int_t)o->limit);
	if ((rc = ctl_call(c, o, DSP_REQ_HISTORY, args, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	ctl_table_init(&t, 5, "REV", "TIME", "WHO", "SOURCE", "REASON");
	json_array_foreach(json_object_get(r, "revisions"), i, v) {
		client_format_time(json_number_value(json_object_get(v,
		    "time")), when, sizeof(when));
		snprintf(rev, sizeof(rev), "%lld", ctl_int(v, "revision"));
		if (json_is_integer(json_object_get(v, "uid")))
			snprintf(who, sizeof(who), "%s (uid %lld)",
			    json_string_value(json_object_get(v, "actor")),
			    ctl_int(v, "uid"));
		else
			snprintf(who, sizeof(who), "%s", json_string_value(
			    json_object_get(v, "actor")));
		ctl_table_add(&t, rev, when, who, json_string_value(
		    json_object_get(v, "source")), json_string_value(
		    json_object_get(v, "reason")));
	}
	ctl_table_print(&t);
	json_decref(r);
	return (CTL_EXIT_OK);
}

/* A revision number operand: a positive integer, or a usage error. */
static int
ctl_revision(const char *s, long long *out)
{
	char	*end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *out <= 0) {
		ctl_warnx("'%s' is not a revision number", s);
		return (-1);
	}
	return (0);
}

/* diff REV [REV]: what changed, key by key. */
static int
ctl_diff(struct client *c, struct ctl_options *o)
{
	struct ctl_table	 t;
	json_t			*args, *r, *v;
	long long		 from, to = 0;
	size_t			 i;
	int			 rc;

	if (ctl_revision(o->args[0], &from) != 0 || (o->nargs > 1 &&
	    ctl_revision(o->args[1], &to) != 0))
		return (CTL_EXIT_USAGE);
	args = json_pack("{s:I, s:I}", "from", (json_int_t)from, "to",
	    (json_int_t)to);
	if ((rc = ctl_call(c, o, DSP_REQ_DIFF, args, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	if (json_array_size(json_object_get(r, "changes")) == 0)
		printf("no differences\n");
	else {
		ctl_table_init(&t, 3, "KEY", "BEFORE", "AFTER");
		json_array_foreach(json_object_get(r, "changes"), i, v)
			ctl_table_add(&t, json_string_value(json_object_get(v,
			    "key")), json_string_value(json_object_get(v,
			    "before")), json_string_value(json_object_get(v,
			    "after")));
		ctl_table_print(&t);
	}
	json_decref(r);
	return (CTL_EXIT_OK);
}

/* revert REV: that revision's state, committed as a new one. */
static int
ctl_revert(struct client *c, struct ctl_options *o)
{
	json_t		*args, *r;
	long long	 rev;
	int		 rc;

	if (ctl_revision(o->args[0], &rev) != 0)
		return (CTL_EXIT_USAGE);
	args = json_pack("{s:I, s:s}", "revision", (json_int_t)rev, "source",
	    "dspctl");
	if (args != NULL && o->reason != NULL)
		json_object_set_new(args, "reason", json_string(o->reason));
	if ((rc = ctl_call(c, o, DSP_REQ_REVERT, args, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	printf("policy revision %lld in force: the state of revision %lld\n",
	    ctl_int(r, "revision"), rev);
	json_decref(r);
	return (CTL_EXIT_OK);
}

/* Tell the operator what a rollback does before asking. */
static void
ctl_rollback_explain(const char *scope, long long seconds)
{
	char	 dur[32], until[128];

	client_format_duration(seconds, dur, sizeof(dur));
	ctl_until((long long)time(NULL) + seconds, until, sizeof(until));
	printf("EMERGENCY ROLLBACK\n\n"
	    "dspd stops enforcing its policy for %s, for %s,\n"
	    "%s:\n"
	    "  - every request the policy would refuse is forwarded to the "
	    "engine;\n"
	    "    each one is still logged, with the verdict the policy "
	    "would have\n"
	    "    given (dspctl denials --bypass lists them afterwards);\n"
	    "  - still checked: who may connect, request framing, the "
	    "canonical\n"
	    "    form of targets, size limits and the body cap;\n"
	    "  - at the deadline, or at dspctl restore, the policy is "
	    "enforced\n"
	    "    again and connections that only the bypass let in (an "
	    "exec\n"
	    "    shell, an attach) are closed.\n"
	    "Meanwhile every client of dspd holds root on this host.\n\n",
	    strcmp(scope, "all") == 0 ? "every group" : scope, dur, until);
}

/* rollback: check the cap, explain, ask for the phrase, then ask dspd. */
static int
ctl_rollback(struct client *c, struct ctl_options *o)
{
	json_t		*args, *st, *r;
	char		 scope[80], dur[32], max[32], until[128];
	long long	 seconds = DSP_BYPASS_DEFAULT, cap;
	int		 rc;

	if (o->given & O_FOR)
		seconds = o->seconds;
	snprintf(scope, sizeof(scope), "%s%s", o->group != NULL ? "group:" :
	    "all", o->group != NULL ? o->group : "");
	if ((rc = ctl_call(c, o, DSP_REQ_STATUS, NULL, &st)) != 0)
		return (rc);
	cap = ctl_int(st, "max_bypass");
	json_decref(st);
	if (seconds > cap) {
		client_format_duration(seconds, dur, sizeof(dur));
		client_format_duration(cap, max, sizeof(max));
		ctl_warnx("a bypass of %s is longer than dspd's --max-bypass "
		    "of %s: nothing changed (ask for less, or restart dspd "
		    "with a larger --max-bypass)", dur, max);
		return (CTL_EXIT_FAILED);
	}
	ctl_rollback_explain(scope, seconds);
	if (!ctl_confirm(o, CTL_PHRASE, "rollback"))
		return (CTL_EXIT_FAILED);

	args = json_pack("{s:I, s:s, s:s}", "for", (json_int_t)seconds,
	    "scope", scope, "source", "dspctl");
	if (args != NULL && o->reason != NULL)
		json_object_set_new(args, "reason", json_string(o->reason));
	if ((rc = ctl_call(c, o, DSP_REQ_ROLLBACK, args, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	ctl_until(ctl_int(r, "until"), until, sizeof(until));
	printf("BYPASS in force for %s %s; dspctl restore ends it\n",
	    json_string_value(json_object_get(r, "scope")), until);
	json_decref(r);
	return (CTL_EXIT_OK);
}

/* restore: end the bypass, saying whether there was one. */
static int
ctl_restore(struct client *c, struct ctl_options *o)
{
	json_t	*args, *r;
	int	 rc;

	args = json_pack("{s:s}", "source", "dspctl");
	if (args != NULL && o->reason != NULL)
		json_object_set_new(args, "reason", json_string(o->reason));
	if ((rc = ctl_call(c, o, DSP_REQ_RESTORE, args, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	if (json_is_true(json_object_get(r, "was_active")))
		printf("bypass ended: policy revision %lld enforced\n",
		    ctl_int(r, "revision"));
	else
		printf("no bypass was in force: policy revision %lld "
		    "enforced\n", ctl_int(r, "revision"));
	json_decref(r);
	return (CTL_EXIT_OK);
}

/* One access row as a line of a live tail. */
static void
ctl_print_row(const json_t *row)
{
	char		 when[64], verdict[32], s[32];
	const char	*v, *pv;

	client_format_time(json_number_value(json_object_get(row, "time")),
	    when, sizeof(when));
	v = json_string_value(json_object_get(row, "verdict"));
	pv = json_string_value(json_object_get(row, "policy_verdict"));
	if (v != NULL && strcmp(v, "bypass") == 0)
		snprintf(verdict, sizeof(verdict), "bypass(%s)", pv != NULL ?
		    pv : "?");
	else
		snprintf(verdict, sizeof(verdict), "%s", v != NULL ? v : "?");
	printf("%s  %-14s %3s  %s %s  %s  %s\n", when, verdict,
	    ctl_str(row, "status", s, sizeof(s)), json_string_value(
	    json_object_get(row, "method")), json_string_value(
	    json_object_get(row, "target")), json_string_value(
	    json_object_get(row, "action")) != NULL ? json_string_value(
	    json_object_get(row, "action")) : json_string_value(
	    json_object_get(row, "group")), json_string_value(
	    json_object_get(row, "client")));
}

static void
ctl_interrupt(int sig)
{
	ctl_interrupted = 1;
}

/* tail: subscribe, then print events until interrupted or cut off. */
static int
ctl_tail(struct client *c, struct ctl_options *o)
{
	struct client_error	 err;
	struct sigaction	 sa;
	json_t			*args, *r, *msg;
	const char		*event;
	int			 rc;

	args = json_pack("{s:s, s:b}", "mode", (o->given & O_LOSSY) ?
	    "lossy" : "lossless", "denied", (o->given & O_DENIED) != 0);
	if (args != NULL && o->client != NULL)
		json_object_set_new(args, "client", json_string(o->client));
	if (args != NULL && o->group != NULL)
		json_object_set_new(args, "group", json_string(o->group));
	if ((rc = ctl_call(c, o, DSP_REQ_SUBSCRIBE, args, &r)) != 0)
		return (rc);
	json_decref(r);

	/* No SA_RESTART: the read must return for ^C. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!ctl_interrupted) {
		rc = client_read(c, -1, &msg, &err);
		if (ctl_interrupted)
			break;
		if (rc < 0)
			return (ctl_report(&err));
		event = json_string_value(json_object_get(msg, "event"));
		if (event != NULL && strcmp(event, DSP_EVENT_ACCESS) == 0) {
			if (o->json)
				ctl_print_json(json_incref(json_object_get(msg,
				    "row")));
			else
				ctl_print_row(json_object_get(msg, "row"));
		} else if (event != NULL &&
		    strcmp(event, DSP_EVENT_DROPPED) == 0)
			fprintf(stderr, "dspctl: %lld events dropped: this "
			    "terminal did not keep up\n", ctl_int(msg,
			    "count"));
		json_decref(msg);
	}
	return (CTL_EXIT_OK);
}

/* denials: refused (or bypassed) requests from the access log. */
static int
ctl_denials(struct client *c, struct ctl_options *o)
{
	struct ctl_table	 t;
	json_t			*args, *r, *v;
	char			 when[64], st[32], req[160], since[64];
	long long		 back = CTL_SINCE_DEFAULT;
	time_t			 now = time(NULL);
	size_t			 i;
	int			 rc;

	if (o->given & O_SINCE)
		back = o->since;
	args = json_pack("{s:I, s:b}", "since", (json_int_t)(now > back ?
	    now - back : 0), "bypass", (o->given & O_BYPASS) != 0);
	if (args != NULL && (o->given & O_LIMIT))
		json_object_set_new(args, "limit", json_integer(o->limit));
	if (args != NULL && o->client != NULL)
		json_object_set_new(args, "client", json_string(o->client));
	if (args != NULL && o->group != NULL)
		json_object_set_new(args, "group", json_string(o->group));
	if ((rc = ctl_call(c, o, DSP_REQ_DENIALS, args, &r)) != 0)
		return (rc);
	if (o->json)
		return (ctl_print_json(r));
	client_format_duration(back, since, sizeof(since));
	if (json_array_size(json_object_get(r, "rows")) == 0) {
		printf("no %s in the last %s\n", (o->given & O_BYPASS) ?
		    "requests let through by a bypass" : "denials", since);
		json_decref(r);
		return (CTL_EXIT_OK);
	}
	ctl_table_init(&t, 6, "TIME", "CLIENT", "STATUS", "ACTION", "VERDICT",
	    "REQUEST");
	json_array_foreach(json_object_get(r, "rows"), i, v) {
		client_format_time(json_number_value(json_object_get(v,
		    "time")), when, sizeof(when));
		snprintf(req, sizeof(req), "%s %s", json_string_value(
		    json_object_get(v, "method")), json_string_value(
		    json_object_get(v, "target")));
		ctl_table_add(&t, when, json_string_value(json_object_get(v,
		    "client")), ctl_str(v, "status", st, sizeof(st)),
		    json_string_value(json_object_get(v, "action")) != NULL ?
		    json_string_value(json_object_get(v, "action")) :
		    json_string_value(json_object_get(v, "group")),
		    json_string_value(json_object_get(v, "policy_verdict")),
		    req);
	}
	ctl_table_print(&t);
	if (json_is_true(json_object_get(r, "truncated")))
		fprintf(stderr, "dspctl: more rows than shown: raise --limit "
		    "or shorten --since\n");
	json_decref(r);
	return (CTL_EXIT_OK);
}

/* ping: 0 only when dspd and the engine behind it both answer. */
static int
ctl_ping(struct client *c, struct ctl_options *o)
{
	json_t	*r;
	int	 rc;

	if ((rc = ctl_call(c, o, DSP_REQ_PING, NULL, &r)) != 0)
		return (rc);
	if (o->json) {
		rc = strcmp(json_string_value(json_object_get(r, "engine")),
		    "up") == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
		ctl_print_json(r);
		return (rc);
	}
	if (strcmp(json_string_value(json_object_get(r, "engine")),
	    "up") != 0) {
		ctl_warnx("dspd is up but the engine does not answer: %s "
		    "(check dockerd and dspd's --socket-path)",
		    json_string_value(json_object_get(r, "engine_error")));
		json_decref(r);
		return (CTL_EXIT_FAILED);
	}
	printf("dspd up, engine up (%lld ms)\n", ctl_int(r, "engine_ms"));
	json_decref(r);
	return (CTL_EXIT_OK);
}

/*
 * Read a body for check from a file, or standard input for "-": at most
 * what one protocol line can carry, text without NUL bytes.
 */
static int
ctl_read_body(const char *path, char **out, size_t *len)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	*out = NULL;
	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		ctl_warnx("--body %s: %s", path, strerror(errno));
		return (-1);
	}
	if ((buf = malloc(CTL_BODY_MAX + 1)) == NULL) {
		if (f != stdin)
			fclose(f);
		ctl_warnx("out of memory");
		return (-1);
	}
	n = fread(buf, 1, CTL_BODY_MAX + 1, f);
	if (f != stdin)
		fclose(f);
	if (n > CTL_BODY_MAX || memchr(buf, '\0', n) != NULL) {
		ctl_warnx("--body %s: %s", path, n > CTL_BODY_MAX ? "longer "
		    "than check takes (the control protocol's line)" :
		    "holds a NUL byte, which no JSON body has");
		free(buf);
		return (-1);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return (0);
}

/* Ask dspd's dry run about one request; its verdict in *result. */
static int
ctl_check_call(struct client *c, const struct ctl_options *o,
    const char *method, const char *target, const char *body, size_t len,
    json_t **result)
{
	json_t	*args;

	args = json_pack("{s:s, s:s}", "method", method, "target", target);
	if (args != NULL && body != NULL &&
	    json_object_set_new(args, "body", json_stringn(body, len)) != 0) {
		json_decref(args);
		ctl_warnx("the body is not UTF-8 text");
		return (CTL_EXIT_USAGE);
	}
	if (args == NULL) {
		ctl_warnx("the method or target is not UTF-8 text");
		return (CTL_EXIT_USAGE);
	}
	return (ctl_call(c, o, DSP_REQ_CHECK, args, result));
}

/* A member that may be null, for printing. */
static const char *
ctl_text(const json_t *obj, const char *key)
{
	const char	*s = json_string_value(json_object_get(obj, key));

	return (s != NULL ? s : "-");
}

/* "refused (403)" or "allowed": what a verdict does to the request. */
static void
ctl_outcome(const json_t *r, char *buf, size_t size)
{
	if (json_is_true(json_object_get(r, "forwarded")))
		snprintf(buf, size, "%s", strcmp(ctl_text(r, "verdict"),
		    "bypass") == 0 ? "allowed by bypass" : "allowed");
	else
		snprintf(buf, size, "refused (%lld)", ctl_int(r, "status"));
}

/* check METHOD TARGET: what the listener would do with that request. */
static int
ctl_check(struct client *c, struct ctl_options *o)
{
	json_t		*r, *v;
	char		*body = NULL, what[64];
	size_t		 len = 0, i;
	int		 rc;

	if (o->body != NULL && ctl_read_body(o->body, &body, &len) != 0)
		return (CTL_EXIT_USAGE);
	rc = ctl_check_call(c, o, o->args[0], o->args[1], body, len, &r);
	free(body);
	if (rc != 0)
		return (rc);
	rc = json_is_true(json_object_get(r, "forwarded")) ? CTL_EXIT_OK :
	    CTL_EXIT_FAILED;
	if (o->json) {
		ctl_print_json(r);
		return (rc);
	}
	ctl_outcome(r, what, sizeof(what));
	printf("verdict  %s%s\n", what, strcmp(ctl_text(r, "verdict"),
	    "bypass") == 0 ? ": the policy refuses it, an emergency bypass "
	    "lets it through" : "");
	printf("request  %s %s\n", ctl_text(r, "method"),
	    ctl_text(r, "target"));
	if (json_is_string(json_object_get(r, "group")))
		printf("action   %s (group %s)\n", ctl_text(r, "action"),
		    ctl_text(r, "group"));
	printf("reason   %s\n", ctl_text(r, "reason"));
	if (json_is_string(json_object_get(r, "guard")))
		printf("field    %s\n", ctl_text(r, "guard"));
	if (json_is_string(json_object_get(r, "fix")))
		printf("fix      %s\n", ctl_text(r, "fix"));
	if ((v = json_object_get(r, "lookups")) != NULL) {
		printf("note     the listener first inspects");
		for (i = 0; i < json_array_size(v); i++)
			printf("%s %s", i > 0 ? "," : "", json_string_value(
			    json_array_get(v, i)));
		printf(" (HostConfig.VolumesFrom) and refuses the request if "
		    "their binds are refused\n");
	}
	json_decref(r);
	return (rc);
}

/*
 * Connect to a listener of dspd: tcp://HOST:PORT, unix:///PATH (a query
 * is ignored), or HOST:PORT and /PATH.  A wildcard address is reached
 * on loopback.  Returns the socket, or -1 with err set.
 */
static int
ctl_proxy_connect(const char *addr, char *err, size_t errlen)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_un	 sun;
	struct timeval		 tv = { CTL_LIVE_MSEC / 1000,
	    (CTL_LIVE_MSEC % 1000) * 1000 };
	char			 host[256], *port, *end;
	const char		*p = addr;
	int			 fd = -1, rc;

	if (strncmp(p, "unix://", 7) == 0 || p[0] == '/') {
		if (p[0] != '/')
			p += 7;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strcspn(p, "?") >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "%s: path too long", addr);
			return (-1);
		}
		memcpy(sun.sun_path, p, strcspn(p, "?"));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv)) == -1 || connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == -1) {
			snprintf(err, errlen, "%s: %s", addr, strerror(errno));
			if (fd != -1)
				close(fd);
			return (-1);
		}
		return (fd);
	}
	if (strncmp(p, "tcp://", 6) == 0)
		p += 6;
	snprintf(host, sizeof(host), "%s", p);
	if (host[0] == '[' && (end = strchr(host, ']')) != NULL) {
		*end = '\0';
		port = end[1] == ':' ? end + 2 : NULL;
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if ((port = strrchr(host, ':')) != NULL)
		*port++ = '\0';
	if (port == NULL || *port == '\0') {
		snprintf(err, errlen, "%s: no port (tcp://HOST:PORT or "
		    "unix:///PATH)", addr);
		return (-1);
	}
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "::1");
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
		return (-1);
	}
	snprintf(err, errlen, "%s: no address", addr);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(err, errlen, "%s: %s", addr, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return (fd);
}

/*
 * The one request selftest sends through the listener, as a client
 * would: the HTTP status it got (0: none, err says why), and dsp's
 * message when dsp refused it.
 */
static int
ctl_live_read(const char *addr, const char *method, const char *target,
    char *err, size_t errlen)
{
	char		 buf[CTL_LIVE_MAX + 1], *body;
	json_t		*msg;
	size_t		 have = 0;
	ssize_t		 n;
	int		 fd, major, minor, status = 0;

	if ((fd = ctl_proxy_connect(addr, err, errlen)) == -1)
		return (0);
	n = snprintf(buf, sizeof(buf), "%s %s HTTP/1.1\r\nHost: dsp\r\n"
	    "User-Agent: dspctl-selftest\r\nConnection: close\r\n\r\n",
	    method, target);
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) {
		snprintf(err, errlen, "%s: sending: %s", addr, strerror(errno));
		close(fd);
		return (0);
	}
	while (have < CTL_LIVE_MAX &&
	    (n = read(fd, buf + have, CTL_LIVE_MAX - have)) > 0)
		have += (size_t)n;
	close(fd);
	buf[have] = '\0';
	if (sscanf(buf, "HTTP/%d.%d %d", &major, &minor, &status) != 3) {
		snprintf(err, errlen, "%s: %s", addr, have == 0 ? "closed "
		    "without an answer" : "not an HTTP answer");
		return (0);
	}
	snprintf(err, errlen, "HTTP %d", status);
	if (status != 200 && (body = strstr(buf, "\r\n\r\n")) != NULL &&
	    (msg = json_loads(body + 4, 0, NULL)) != NULL) {
		if (json_is_string(json_object_get(msg, "message")))
			snprintf(err, errlen, "HTTP %d: %s", status,
			    json_string_value(json_object_get(msg,
			    "message")));
		json_decref(msg);
	}
	return (status);
}

/*
 * The first read of selftest's list that the policy lets through, sent
 * through the listener; the row it makes, and 0 when it failed.
 */
static int
ctl_selftest_live(struct client *c, struct ctl_options *o,
    const char *addr, json_t *rows)
{
	const struct selftest_call	*reads;
	json_t				*r;
	char				 name[96], got[512];
	size_t				 i, n;
	int				 rc, status, found = 0;

	reads = selftest_reads(&n);
	for (i = 0; i < n && !found; i++) {
		if ((rc = ctl_check_call(c, o, reads[i].method,
		    reads[i].target, NULL, 0, &r)) != 0)
			return (-rc);
		found = json_is_true(json_object_get(r, "forwarded"));
		json_decref(r);
	}
	if (!found) {
		json_array_append_new(rows, json_pack("{s:s, s:n, s:n, s:s, "
		    "s:s, s:s, s:s}", "check", "allowed read through the "
		    "listener", "method", "target", "expect", "allowed", "got",
		    "nothing to read: the policy allows no GET /_ping or "
		    "/version", "result", "skip", "message", ""));
		return (1);
	}
	i--;
	snprintf(name, sizeof(name), "allowed read through the listener");
	if (addr == NULL) {
		snprintf(got, sizeof(got), "no listener known: dspd has none, "
		    "or give --proxy ADDR");
		status = 0;
	} else
		status = ctl_live_read(addr, reads[i].method, reads[i].target,
		    got, sizeof(got));
	json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:s?, s:i}", "check", name, "method", reads[i].method,
	    "target", reads[i].target, "expect", "allowed", "got", got,
	    "result", status == 200 ? "pass" : "fail", "listener", addr,
	    "status", status));
	return (status == 200);
}

/* One operator check through the dry run: its row, and 0 if it failed. */
static int
ctl_selftest_check(struct client *c, struct ctl_options *o,
    const struct selftest_check *chk, json_t *rows)
{
	json_t	*r;
	char	 got[64];
	int	 rc, pass;

	if ((rc = ctl_check_call(c, o, chk->method, chk->target, chk->body,
	    chk->body != NULL ? strlen(chk->body) : 0, &r)) != 0)
		return (-rc);
	pass = json_is_true(json_object_get(r, "forwarded")) ==
	    chk->expect_allow;
	ctl_outcome(r, got, sizeof(got));
	json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:O?, s:O?, s:O?}", "check", chk->name, "method", chk->method,
	    "target", chk->target, "expect", chk->expect_allow ? "allowed" :
	    "refused", "got", got, "result", pass ? "pass" : "fail",
	    "message", json_object_get(r, "message"), "reason",
	    json_object_get(r, "reason"), "fix", json_object_get(r, "fix")));
	json_decref(r);
	return (pass);
}

/* One use of one client: each call through the dry run, refusals kept. */
static int
ctl_selftest_client(struct client *c, struct ctl_options *o,
    const struct selftest_client *cl, json_t *rows)
{
	const struct selftest_call	*call;
	json_t				*r, *refused;
	size_t				 i;
	int				 rc;

	if ((refused = json_array()) == NULL)
		return (-CTL_EXIT_FAILED);
	for (i = 0; i < cl->ncalls; i++) {
		call = &cl->calls[i];
		if ((rc = ctl_check_call(c, o, call->method, call->target,
		    call->body, call->body != NULL ? strlen(call->body) : 0,
		    &r)) != 0) {
			json_decref(refused);
			return (-rc);
		}
		if (!json_is_true(json_object_get(r, "forwarded")))
			json_array_append_new(refused, json_pack("{s:s, s:s, "
			    "s:O?, s:O?, s:O?, s:O?}", "method", call->method,
			    "target", call->target, "status",
			    json_object_get(r, "status"), "action",
			    json_object_get(r, "action"), "fix",
			    json_object_get(r, "fix"), "message",
			    json_object_get(r, "message")));
		json_decref(r);
	}
	json_array_append_new(rows, json_pack("{s:s, s:s, s:b, s:b, s:i, "
	    "s:o}", "client", cl->client, "use", cl->use, "optional",
	    cl->optional, "works", json_array_size(refused) == 0, "calls",
	    (int)cl->ncalls, "refused", refused));
	return (0);
}

/* The operator checks as a table. */
static void
ctl_selftest_print_checks(json_t *checks)
{
	struct ctl_table	 t;
	json_t			*v;
	char			 what[256];
	size_t			 i;

	ctl_table_init(&t, 4, "OPERATOR CHECK", "EXPECTED", "GOT", "RESULT");
	json_array_foreach(checks, i, v) {
		if (json_is_string(json_object_get(v, "method")))
			snprintf(what, sizeof(what), "%s: %s %s",
			    ctl_text(v, "check"), ctl_text(v, "method"),
			    ctl_text(v, "target"));
		else
			snprintf(what, sizeof(what), "%s", ctl_text(v,
			    "check"));
		ctl_table_add(&t, what, ctl_text(v, "expect"), ctl_text(v,
		    "got"), ctl_text(v, "result"));
	}
	ctl_table_print(&t);
}

/* The clients, one line per use and one more per refused call. */
static void
ctl_selftest_print_clients(json_t *clients)
{
	json_t		*v, *f;
	char		 use[96];
	size_t		 i, j;

	printf("%-11s %-28s %s\n", "CLIENT", "USE", "RESULT");
	json_array_foreach(clients, i, v) {
		snprintf(use, sizeof(use), "%s%s", ctl_text(v, "use"),
		    json_is_true(json_object_get(v, "optional")) ?
		    " (optional)" : "");
		if (json_is_true(json_object_get(v, "works"))) {
			printf("%-11s %-28s works\n", ctl_text(v, "client"),
			    use);
			continue;
		}
		/* Paths without their queries: filters make lines long. */
		json_array_foreach(json_object_get(v, "refused"), j, f)
			printf("%-11s %-28s %s %s %.*s - %s%s\n", j == 0 ?
			    ctl_text(v, "client") : "", j == 0 ? use : "",
			    j == 0 ? "would be refused:" :
			    "                 ", ctl_text(f, "method"),
			    (int)strcspn(ctl_text(f, "target"), "?"),
			    ctl_text(f, "target"), json_is_string(
			    json_object_get(f, "fix")) ? "set " : "",
			    json_is_string(json_object_get(f, "fix")) ?
			    ctl_text(f, "fix") : ctl_text(f, "message"));
	}
}

/*
 * selftest: the operator's checks (one live read through the listener,
 * the refusals through the dry run), then what each known client would
 * meet.  Only the operator's checks decide the exit status.
 */
static int
ctl_selftest(struct client *c, struct ctl_options *o)
{
	const struct selftest_check	*checks;
	const struct selftest_client	*clients;
	json_t				*st, *crows, *lrows, *out;
	const char			*addr;
	size_t				 i, n, nclients, failed = 0, seen = 0;
	size_t				 skipped = 0;
	int				 rc;

	clients = selftest_clients(&nclients);
	for (i = 0; o->client != NULL && i < nclients; i++)
		seen |= strcasecmp(clients[i].client, o->client) == 0;
	if (o->client != NULL && !seen) {
		ctl_warnx("no client named '%s' (traefik, portainer, "
		    "watchtower, homepage, dozzle)", o->client);
		return (CTL_EXIT_USAGE);
	}
	if ((rc = ctl_call(c, o, DSP_REQ_STATUS, NULL, &st)) != 0)
		return (rc);
	addr = o->proxy != NULL ? o->proxy : json_string_value(
	    json_array_get(json_object_get(st, "listeners"), 0));
	crows = json_array();
	lrows = json_array();
	if ((rc = ctl_selftest_live(c, o, addr, crows)) < 0)
		goto out;
	failed += rc == 0;
	checks = selftest_checks(&n);
	for (i = 0; i < n; i++) {
		if ((rc = ctl_selftest_check(c, o, &checks[i], crows)) < 0)
			goto out;
		failed += rc == 0;
	}
	for (i = 0; i < nclients; i++) {
		if (o->client != NULL &&
		    strcasecmp(clients[i].client, o->client) != 0)
			continue;
		if ((rc = ctl_selftest_client(c, o, &clients[i], lrows)) < 0)
			goto out;
	}
	rc = failed > 0 ? CTL_EXIT_FAILED : CTL_EXIT_OK;

	if (o->json) {
		out = json_pack("{s:O?, s:O?, s:O?, s:s?, s:O, s:O, s:b}",
		    "dspd", json_object_get(st, "version"), "revision",
		    json_object_get(st, "revision"), "mode",
		    json_object_get(st, "mode"), "listener", addr, "checks",
		    crows, "clients", lrows, "passed", failed == 0);
		ctl_print_json(out);
		goto out;
	}
	printf("dspd %s, policy revision %lld, %s; listener %s\n\n",
	    ctl_text(st, "version"), ctl_int(st, "revision"),
	    strcmp(ctl_text(st, "mode"), "bypass") == 0 ?
	    "BYPASS IN FORCE" : "enforcing", addr != NULL ? addr : "unknown");
	ctl_selftest_print_checks(crows);
	printf("\n");
	ctl_selftest_print_clients(lrows);
	for (i = 0; i < json_array_size(crows); i++)
		skipped += strcmp(ctl_text(json_array_get(crows, i),
		    "result"), "skip") == 0;
	printf("\noperator checks: %zu passed, %zu failed, %zu skipped; "
	    "client rows are advice and do not change the exit status\n",
	    json_array_size(crows) - failed - skipped, failed, skipped);
out:
	if (rc < 0)
		rc = -rc;
	json_decref(crows);
	json_decref(lrows);
	json_decref(st);
	return (rc);
}

/* A duration flag's value, in seconds, above zero. */
static int
ctl_duration(const char *flag, const char *value, long long *out)
{
	if (client_parse_duration(value, out) != 0 || *out <= 0) {
		ctl_warnx("%s '%s': not a duration (90s, 15m, 2h, 7d, 1h30m)",
		    flag, value);
		return (-1);
	}
	return (0);
}

/*
 * Read the command line into o; the command found, or NULL (said why).
 * Long only for its one case per option.
 */
static const struct ctl_command *
ctl_parse(int argc, char **argv, struct ctl_options *o, int *status)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "yes", no_argument, NULL, 'y' },
		{ "write", no_argument, NULL, 'w' },
		{ "for", required_argument, NULL, 'f' },
		{ "reason", required_argument, NULL, 'r' },
		{ "group", required_argument, NULL, 'g' },
		{ "denied", no_argument, NULL, 'd' },
		{ "client", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "bypass", no_argument, NULL, 'b' },
		{ "lossy", no_argument, NULL, 'L' },
		{ "action", required_argument, NULL, 'a' },
		{ "body", required_argument, NULL, 'B' },
		{ "proxy", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct ctl_command	*cmd = NULL;
	char				*end;
	size_t				 i;
	int				 ch;

	*status = CTL_EXIT_USAGE;
	memset(o, 0, sizeof(*o));
	o->socket = getenv("DSP_CONTROL");
	if (o->socket == NULL || *o->socket == '\0')
		o->socket = DSP_CONTROL_PATH;
	while ((ch = getopt_long(argc, argv, "s:jyhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'y':
			o->yes = 1;
			break;
		case 'w':
			o->given |= O_WRITE;
			break;
		case 'f':
			o->given |= O_FOR;
			if (ctl_duration("--for", optarg, &o->seconds) != 0)
				return (NULL);
			break;
		case 'r':
			o->given |= O_REASON;
			o->reason = optarg;
			break;
		case 'g':
			o->given |= O_GROUP;
			o->group = optarg;
			break;
		case 'd':
			o->given |= O_DENIED;
			break;
		case 'c':
			o->given |= O_CLIENT;
			o->client = optarg;
			break;
		case 'S':
			o->given |= O_SINCE;
			if (ctl_duration("--since", optarg, &o->since) != 0)
				return (NULL);
			break;
		case 'n':
			o->given |= O_LIMIT;
			errno = 0;
			o->limit = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    o->limit < 1 || o->limit > DSP_DENIALS_MAX) {
				ctl_warnx("--limit '%s': a number from 1 to %d",
				    optarg, DSP_DENIALS_MAX);
				return (NULL);
			}
			break;
		case 'b':
			o->given |= O_BYPASS;
			break;
		case 'L':
			o->given |= O_LOSSY;
			break;
		case 'a':
			o->given |= O_ACTION;
			o->action = optarg;
			break;
		case 'B':
			o->given |= O_BODY;
			o->body = optarg;
			break;
		case 'P':
			o->given |= O_PROXY;
			o->proxy = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			*status = CTL_EXIT_OK;
			return (NULL);
		case 'V':
			printf("dspctl %s, control protocol %d\n",
			    PACKAGE_VERSION, DSP_PROTOCOL_VERSION);
			*status = CTL_EXIT_OK;
			return (NULL);
		default:
			ctl_usage(stderr);
			return (NULL);
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return (NULL);
	}
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(argv[optind], ctl_commands[i].name) == 0)
			cmd = &ctl_commands[i];
	if (cmd == NULL) {
		ctl_warnx("no command '%s' (dspctl --help lists them)",
		    argv[optind]);
		return (NULL);
	}
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	if (o->nargs < cmd->min_args || o->nargs > cmd->max_args ||
	    (o->given & ~cmd->options) != 0) {
		fprintf(stderr, "usage: dspctl %s\n", cmd->usage);
		return (NULL);
	}
	return (cmd);
}

int
main(int argc, char **argv)
{
	const struct ctl_command	*cmd;
	struct ctl_options		 o;
	struct client			*c;
	struct client_error		 err;
	int				 status;

	if ((cmd = ctl_parse(argc, argv, &o, &status)) == NULL)
		return (status);
	signal(SIGPIPE, SIG_IGN);
	if (client_connect(o.socket, &c, &err) != 0)
		return (ctl_report(&err));
	status = cmd->run(c, &o);
	client_close(c);
	return (status);
}
