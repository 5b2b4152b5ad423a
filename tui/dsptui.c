/*
 * dsptui: the console of dspd.  It talks to dspd only through the
 * control socket, with the client library dspctl uses: a lossy
 * subscription feeds the live list, status and groups are asked for on
 * timers, changes are sent as requests and shown once dspd has
 * committed them.  One poll() loop waits on the terminal and the
 * socket; the screen is redrawn on a frame timer, only when something
 * changed, so heavy traffic costs frames, never one refresh a request.
 */

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "tui.h"

/* Groups whose access hands out much of the host, as dspctl lists them. */
static const char *const tui_dangerous_groups[] = {
	"exec", "build", "system", "plugins", "session", "swarm", "secrets"
};

const long long	tui_rb_durations[] = { 300, 900, 1800, 3600 };
const size_t	tui_rb_ndurations = sizeof(tui_rb_durations) /
		    sizeof(tui_rb_durations[0]);
/* The rollback screen's first choice: dspd's default bypass. */
#define TUI_RB_DEFAULT	1

static volatile sig_atomic_t	 tui_interrupted;

static void	tui_message(struct tui *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

/* Milliseconds on a clock that does not jump. */
long long
tui_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A string member, or "" when missing, so cells never print "(null)". */
const char *
tui_str(const json_t *obj, const char *key)
{
	const char	*s = json_string_value(json_object_get(obj, key));

	return (s != NULL ? s : "");
}

long long
tui_int(const json_t *obj, const char *key)
{
	const json_t	*v = json_object_get(obj, key);

	if (json_is_real(v))
		return ((long long)json_real_value(v));
	return ((long long)json_integer_value(v));
}

/* Whether the list shows a row under the filters in force. */
int
tui_row_shown(const struct tui *t, const json_t *row)
{
	const char	*v = tui_str(row, "verdict");

	if (t->denied_only && strcmp(v, "deny") != 0 &&
	    strcmp(tui_str(row, "policy_verdict"), "deny") != 0)
		return (0);
	if (t->filter_client[0] != '\0' && strstr(tui_str(row, "client"),
	    t->filter_client) == NULL)
		return (0);
	if (t->filter_group[0] != '\0' && strcmp(tui_str(row, "group"),
	    t->filter_group) != 0)
		return (0);
	return (1);
}

/* Whether giving a group this access asks for a confirmation first. */
int
tui_dangerous(const char *group, const char *access)
{
	size_t	 i;

	if (strcmp(access, "write") == 0)
		return (1);
	if (strcmp(access, "off") == 0)
		return (0);
	for (i = 0; i < sizeof(tui_dangerous_groups) /
	    sizeof(tui_dangerous_groups[0]); i++)
		if (strcmp(group, tui_dangerous_groups[i]) == 0)
			return (1);
	return (0);
}

/* Seconds left of the bypass in force, counted down since status; -1. */
long long
tui_bypass_left(const struct tui *t)
{
	const json_t	*b;
	long long	 left;

	if (t->client == NULL || t->status == NULL)
		return (-1);
	b = json_object_get(t->status, "bypass");
	if (!json_is_object(b))
		return (-1);
	left = tui_int(b, "seconds_left") - (tui_now_ms() - t->status_ms) /
	    1000;
	return (left < 0 ? 0 : left);
}

/* Put a message on the bottom line for a while. */
static void
tui_message(struct tui *t, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(t->message, sizeof(t->message), fmt, ap);
	va_end(ap);
	t->message_ms = tui_now_ms();
	t->dirty = 1;
}

/* Forget the text window's lines. */
static void
tui_text_clear(struct tui *t)
{
	size_t	 i;

	for (i = 0; i < t->ntext; i++)
		free(t->text[i]);
	t->ntext = 0;
	t->text_top = 0;
}

static void
tui_text_add(struct tui *t, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

/* Add a line to the text window; past TUI_TEXT_MAX lines are dropped. */
static void
tui_text_add(struct tui *t, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	if (t->ntext >= TUI_TEXT_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) != -1)
		t->text[t->ntext++] = line;
	va_end(ap);
}

/* Drop the connection and say why; the loop reconnects on its timer. */
static void
tui_disconnect(struct tui *t, const char *why)
{
	client_close(t->client);
	t->client = NULL;
	t->npending = 0;
	t->nsamples = 0;
	snprintf(t->down, sizeof(t->down), "dspd went away (%s): "
	    "reconnecting", why);
	t->next_connect_ms = tui_now_ms() + TUI_RECONNECT_MSEC;
	t->dirty = 1;
}

/* Send a request and remember what its reply is for. */
static int
tui_send(struct tui *t, enum tui_call call, const char *request,
    json_t *args, const char *what)
{
	struct client_error	 err;
	struct tui_pending	*p;
	uint64_t		 id;

	if (t->client == NULL) {
		json_decref(args);
		tui_message(t, "not connected to dspd: nothing sent");
		return (-1);
	}
	if (t->npending >= TUI_PENDING_MAX) {
		json_decref(args);
		tui_message(t, "dspd has not answered %zu requests: nothing "
		    "sent", t->npending);
		return (-1);
	}
	if (client_send(t->client, request, args, &id, &err) != 0) {
		tui_disconnect(t, err.message);
		return (-1);
	}
	p = &t->pending[t->npending++];
	p->id = id;
	p->call = call;
	p->sent_ms = tui_now_ms();
	snprintf(p->what, sizeof(p->what), "%s", what != NULL ? what :
	    request);
	return (0);
}

/* Whether a request of this kind waits for its reply. */
static int
tui_waiting(const struct tui *t, enum tui_call call)
{
	size_t	 i;

	for (i = 0; i < t->npending; i++)
		if (t->pending[i].call == call)
			return (1);
	return (0);
}

/* Ask for what the panels show, after connecting or a change. */
static void
tui_refresh_all(struct tui *t)
{
	long long	 now = tui_now_ms();

	if (!tui_waiting(t, CALL_STATUS))
		tui_send(t, CALL_STATUS, DSP_REQ_STATUS, NULL, NULL);
	if (!tui_waiting(t, CALL_GROUPS))
		tui_send(t, CALL_GROUPS, DSP_REQ_GROUPS, NULL, NULL);
	if (!tui_waiting(t, CALL_HISTORY))
		tui_send(t, CALL_HISTORY, DSP_REQ_HISTORY, json_pack("{s:i}",
		    "limit", TUI_HISTORY_LIMIT), NULL);
	t->next_status_ms = now + TUI_STATUS_MSEC;
	t->next_groups_ms = now + TUI_GROUPS_MSEC;
}

/*
 * Say why the socket would not let us in: which socket and which group
 * the file's mode wants, or that dspd's own credential check said no.
 */
static void
tui_refused(struct tui *t, const struct client_error *err)
{
	struct stat	 st;
	struct group	*gr;
	char		 group[64] = "?";

	memset(&st, 0, sizeof(st));
	if (stat(t->socket, &st) == 0) {
		if ((gr = getgrgid(st.st_gid)) != NULL)
			snprintf(group, sizeof(group), "%s", gr->gr_name);
		else
			snprintf(group, sizeof(group), "%lu",
			    (unsigned long)st.st_gid);
	}
	if (strncmp(err->message, t->socket, strlen(t->socket)) != 0)
		snprintf(t->down, sizeof(t->down), "dspd refuses uid %lu on "
		    "%s: %s (run as root or ask for --control-allow-uid or "
		    "--control-allow-gid; socket group %s)",
		    (unsigned long)getuid(), t->socket, err->message, group);
	else if (st.st_mode & S_IWGRP)
		snprintf(t->down, sizeof(t->down), "no permission on %s: "
		    "needs group %s (or root)", t->socket, group);
	else
		snprintf(t->down, sizeof(t->down), "no permission on %s: "
		    "only its owner may connect, needs root (or dspd --control "
		    "PATH?mode=0660&group=NAME and that group)", t->socket);
}

/*
 * Try to reach dspd; on success subscribe and ask for everything.
 * XXX client_connect waits for the greeting, up to CLIENT_GREETING_MSEC:
 * a dspd that accepts and never greets freezes the screen that long; a
 * connect in two halves in ctl/client.c would let the loop wait for it.
 */
static void
tui_connect(struct tui *t)
{
	struct client_error	 err;
	json_t			*args;

	t->dirty = 1;
	if (client_connect(t->socket, &t->client, &err) != 0) {
		t->client = NULL;
		if (strcmp(err.code, DSP_ERR_DENIED) == 0) {
			tui_refused(t, &err);
			t->next_connect_ms = tui_now_ms() + TUI_REFUSED_MSEC;
			return;
		}
		snprintf(t->down, sizeof(t->down), "%s (%s): %s",
		    t->ever_connected ? "dspd went away" :
		    "dspd unreachable", err.message, "reconnecting");
		t->next_connect_ms = tui_now_ms() + TUI_RECONNECT_MSEC;
		return;
	}
	t->down[0] = '\0';
	t->ever_connected = 1;
	t->read_only = client_read_only(t->client);
	snprintf(t->version, sizeof(t->version), "%s",
	    client_server_version(t->client));
	t->npending = 0;
	t->nsamples = 0;
	json_decref(t->status);
	t->status = NULL;
	args = json_pack("{s:s}", "mode", "lossy");
	tui_send(t, CALL_SUBSCRIBE, DSP_REQ_SUBSCRIBE, args, NULL);
	tui_refresh_all(t);
}

/* Keep the status counters of the last minute for the header's rates. */
static void
tui_sample(struct tui *t, long long requests, long long denials)
{
	struct tui_sample	*s;

	/* A restarted dspd counts from zero again. */
	if (t->nsamples > 0 && (requests < t->samples[t->nsamples - 1].requests
	    || denials < t->samples[t->nsamples - 1].denials))
		t->nsamples = 0;
	if (t->nsamples == TUI_SAMPLES) {
		memmove(&t->samples[0], &t->samples[1],
		    (TUI_SAMPLES - 1) * sizeof(t->samples[0]));
		t->nsamples--;
	}
	s = &t->samples[t->nsamples++];
	s->ms = tui_now_ms();
	s->requests = requests;
	s->denials = denials;
}

/* A status reply: header facts; a new revision refreshes the panels. */
static void
tui_status_in(struct tui *t, json_t *r)
{
	long long	 rev = tui_int(r, "revision");

	json_decref(t->status);
	t->status = json_incref(r);
	t->status_ms = tui_now_ms();
	tui_sample(t, tui_int(r, "requests"), tui_int(r, "denials"));
	if (rev != t->revision) {
		t->revision = rev;
		if (!tui_waiting(t, CALL_GROUPS))
			tui_send(t, CALL_GROUPS, DSP_REQ_GROUPS, NULL, NULL);
		if (!tui_waiting(t, CALL_HISTORY))
			tui_send(t, CALL_HISTORY, DSP_REQ_HISTORY, json_pack(
			    "{s:i}", "limit", TUI_HISTORY_LIMIT), NULL);
	}
}

/* A diff reply: the changes, key by key, in the text window. */
static void
tui_diff_in(struct tui *t, json_t *r)
{
	json_t	*v;
	size_t	 i;

	tui_text_clear(t);
	snprintf(t->title, sizeof(t->title), "diff: revision %lld -> %lld",
	    tui_int(r, "from"), tui_int(r, "to"));
	json_array_foreach(json_object_get(r, "changes"), i, v)
		tui_text_add(t, "%-28s %s -> %s", tui_str(v, "key"),
		    json_is_string(json_object_get(v, "before")) ?
		    tui_str(v, "before") : "-",
		    json_is_string(json_object_get(v, "after")) ?
		    tui_str(v, "after") : "-");
	if (t->ntext == 0)
		tui_text_add(t, "no differences");
	t->modal = MODAL_TEXT;
}

/* A change was committed (or refused): say so, then ask what changed. */
static void
tui_change_in(struct tui *t, const struct tui_pending *p, json_t *r)
{
	char	 left[32];

	if (json_object_get(r, "until") != NULL) {
		client_format_duration(tui_int(r, "until") - time(NULL), left,
		    sizeof(left));
		tui_message(t, "BYPASS in force for %s, %s: R restores now",
		    tui_str(r, "scope"), left);
	} else if (json_object_get(r, "was_active") != NULL)
		tui_message(t, "%s: policy revision %lld enforced",
		    json_is_true(json_object_get(r, "was_active")) ?
		    "bypass ended" : "no bypass was in force",
		    tui_int(r, "revision"));
	else
		tui_message(t, "%s: policy revision %lld in force", p->what,
		    tui_int(r, "revision"));
	tui_refresh_all(t);
}

/* An error reply, with what to do about it. */
static void
tui_error_in(struct tui *t, const struct tui_pending *p, json_t *e)
{
	const char	*code = tui_str(e, "code");

	if (strcmp(code, DSP_ERR_READ_ONLY) == 0)
		tui_message(t, "%s refused: this socket is read-only, changes "
		    "need the other socket", p->what);
	else
		tui_message(t, "%s refused: %s", p->what, tui_str(e,
		    "message"));
}

/* A reply: find what it answers and act on it. */
static void
tui_reply_in(struct tui *t, json_t *msg)
{
	struct tui_pending	 p;
	json_t			*r, *e;
	size_t			 i;

	if (!json_is_integer(json_object_get(msg, "id")))
		return;
	for (i = 0; i < t->npending; i++)
		if (t->pending[i].id == (uint64_t)json_integer_value(
		    json_object_get(msg, "id")))
			break;
	if (i == t->npending)
		return;
	p = t->pending[i];
	t->pending[i] = t->pending[--t->npending];
	t->dirty = 1;
	if ((e = json_object_get(msg, "error")) != NULL) {
		tui_error_in(t, &p, e);
		return;
	}
	r = json_object_get(msg, "result");
	switch (p.call) {
	case CALL_SUBSCRIBE:
		break;
	case CALL_STATUS:
		tui_status_in(t, r);
		break;
	case CALL_GROUPS:
		json_decref(t->groups);
		t->groups = json_incref(r);
		break;
	case CALL_HISTORY:
		json_decref(t->history);
		t->history = json_incref(r);
		break;
	case CALL_DIFF:
		tui_diff_in(t, r);
		break;
	case CALL_CHANGE:
		tui_change_in(t, &p, r);
		break;
	}
}

/* An access row into the ring, the oldest out. */
static void
tui_row_in(struct tui *t, json_t *row)
{
	size_t	 slot = t->nrows % TUI_ROWS_MAX;

	if (!json_is_object(row))
		return;
	json_decref(t->rows[slot]);
	t->rows[slot] = json_incref(row);
	t->nrows++;
	if (!t->paused && t->panel == PANEL_REQUESTS)
		t->dirty = 1;
}

/* One message from dspd: an event or a reply. */
static void
tui_message_in(struct tui *t, json_t *msg)
{
	const char	*event = json_string_value(json_object_get(msg,
			    "event"));

	if (event == NULL)
		tui_reply_in(t, msg);
	else if (strcmp(event, DSP_EVENT_ACCESS) == 0)
		tui_row_in(t, json_object_get(msg, "row"));
	else if (strcmp(event, DSP_EVENT_DROPPED) == 0) {
		t->skipped += tui_int(msg, "count");
		t->dirty = 1;
	}
}

/*
 * Take what dspd sent, at most a batch so that keys are read between
 * batches under heavy traffic.  Returns 1 if more may be waiting.
 */
static int
tui_read(struct tui *t)
{
	struct client_error	 err;
	json_t			*msg;
	int			 n, rc;

	for (n = 0; n < TUI_READ_BATCH && t->client != NULL; n++) {
		rc = client_read(t->client, 0, &msg, &err);
		if (rc == 0)
			return (0);
		if (rc < 0) {
			tui_disconnect(t, err.failure == CLIENT_CLOSED ?
			    "connection closed" : err.message);
			return (0);
		}
		tui_message_in(t, msg);
		json_decref(msg);
	}
	return (t->client != NULL);
}

/* Forget requests dspd never answered, so that the timers go on. */
static void
tui_expire(struct tui *t, long long now)
{
	size_t	 i;

	for (i = 0; i < t->npending; ) {
		if (now - t->pending[i].sent_ms > TUI_REPLY_MSEC) {
			tui_message(t, "no answer from dspd to %s",
			    t->pending[i].what);
			t->pending[i] = t->pending[--t->npending];
		} else
			i++;
	}
}

/* The timers: reconnect, status, groups; and the grants' countdown. */
static void
tui_timers(struct tui *t, long long now)
{
	if (t->client == NULL) {
		if (now >= t->next_connect_ms)
			tui_connect(t);
		return;
	}
	tui_expire(t, now);
	if (now >= t->next_status_ms) {
		if (!tui_waiting(t, CALL_STATUS))
			tui_send(t, CALL_STATUS, DSP_REQ_STATUS, NULL, NULL);
		t->next_status_ms = now + TUI_STATUS_MSEC;
	}
	if (t->client != NULL && now >= t->next_groups_ms) {
		if (!tui_waiting(t, CALL_GROUPS))
			tui_send(t, CALL_GROUPS, DSP_REQ_GROUPS, NULL, NULL);
		t->next_groups_ms = now + TUI_GROUPS_MSEC;
	}
}

/* Milliseconds poll() may sleep before a timer or a frame is due. */
static int
tui_wait_ms(const struct tui *t, long long now)
{
	long long	 due;

	if (t->client == NULL)
		due = t->next_connect_ms;
	else
		due = t->next_status_ms < t->next_groups_ms ?
		    t->next_status_ms : t->next_groups_ms;
	if (t->dirty && t->last_frame_ms + TUI_FRAME_MSEC < due)
		due = t->last_frame_ms + TUI_FRAME_MSEC;
	if (due <= now)
		return (0);
	return ((int)(due - now));
}

/* Rows of the list, newest first from the view's end, filtered. */
int
tui_view_rows(const struct tui *t, json_t **out, size_t max)
{
	uint64_t	 end, first, s;
	size_t		 n = 0;
	json_t		*row;

	end = t->paused ? t->pause_end : t->nrows;
	first = t->nrows > TUI_ROWS_MAX ? t->nrows - TUI_ROWS_MAX : 0;
	for (s = end; s > first && n < max; s--) {
		row = t->rows[(s - 1) % TUI_ROWS_MAX];
		if (row != NULL && tui_row_shown(t, row))
			out[n++] = row;
	}
	return ((int)n);
}

/* Open a row's full record in the text window. */
static void
tui_open_row(struct tui *t, json_t *row)
{
	const char	*key;
	json_t		*v;
	char		 when[64], *text;

	tui_text_clear(t);
	snprintf(t->title, sizeof(t->title), "request %s %s",
	    tui_str(row, "method"), tui_str(row, "target"));
	json_object_foreach(row, key, v) {
		if (strcmp(key, "time") == 0) {
			client_format_time(json_number_value(v), when,
			    sizeof(when));
			tui_text_add(t, "%-16s %s.%03d", key, when,
			    (int)((json_number_value(v) -
			    (long long)json_number_value(v)) * 1000));
		} else if (json_is_string(v))
			tui_text_add(t, "%-16s %s", key, json_string_value(v));
		else if ((text = json_dumps(v, JSON_ENCODE_ANY |
		    TUI_REAL_PRECISION)) != NULL) {
			tui_text_add(t, "%-16s %s", key, text);
			free(text);
		}
	}
	t->modal = MODAL_TEXT;
}

/* The keys, in the text window. */
static void
tui_help(struct tui *t)
{
	static const char *const lines[] = {
		"everywhere",
		"  1 2 3, Tab    requests, groups, history panel",
		"  b             emergency rollback (guided, asks first)",
		"  R             restore: end the bypass now",
		"  ?             these keys;  q  quit",
		"requests",
		"  p, space      pause or resume the live list",
		"  Up Down PgUp PgDn  scroll back (pauses);  End  live again",
		"  Enter         the selected request's full record",
		"  d             denied only;  c  by client;  g  by group",
		"  x             clear the filters",
		"groups",
		"  Up Down       select a group",
		"  space         toggle read access (off <-> read)",
		"  w             toggle write access (read <-> write)",
		"                EXEC, BUILD, SYSTEM... and write ask first",
		"history",
		"  Enter         what the revision changed",
		"  r             revert to the selected revision (asks first)",
		"",
		"A denied request is marked with ! (or a cross in UTF-8)",
		"and shown in red where the terminal has colours.",
		"Changes are recorded as made from dsptui by your uid.",
	};
	size_t	 i;

	tui_text_clear(t);
	snprintf(t->title, sizeof(t->title), "dsptui keys (q closes)");
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		tui_text_add(t, "%s", lines[i]);
	t->modal = MODAL_TEXT;
}

/* Whether a change may be sent; says why not on a read-only socket. */
static int
tui_may_change(struct tui *t)
{
	if (t->client == NULL) {
		tui_message(t, "not connected to dspd: nothing changed");
		return (0);
	}
	if (t->read_only) {
		tui_message(t, "read-only socket %s: changes need the other "
		    "socket", t->socket);
		return (0);
	}
	return (1);
}

/* Send a group's new access as a revision made from the TUI. */
static void
tui_set_access(struct tui *t, const char *group, const char *access)
{
	json_t	*args;
	char	 what[64], reason[128];

	snprintf(what, sizeof(what), "%s %s", group, access);
	snprintf(reason, sizeof(reason), "%s set to %s in dsptui", group,
	    access);
	args = json_pack("{s:{s:s}, s:s, s:s}", "access", group, access,
	    "source", "dsptui", "reason", reason);
	tui_send(t, CALL_CHANGE, DSP_REQ_SET, args, what);
}

/* The selected group's name and access, or -1 if none. */
static int
tui_selected_group(struct tui *t, const char **group, const char **access)
{
	json_t	*g;

	g = json_array_get(json_object_get(t->groups, "groups"),
	    t->group_cursor);
	if (g == NULL)
		return (-1);
	*group = tui_str(g, "group");
	*access = tui_str(g, "access");
	return (0);
}

/* space or w on the groups panel: ask first when it is dangerous. */
static void
tui_toggle(struct tui *t, int write)
{
	const char	*group, *access, *want;

	if (tui_selected_group(t, &group, &access) != 0 ||
	    !tui_may_change(t))
		return;
	if (write)
		want = strcmp(access, "write") == 0 ? "read" : "write";
	else
		want = strcmp(access, "off") == 0 ? "read" : "off";
	if (!tui_dangerous(group, want)) {
		tui_set_access(t, group, want);
		return;
	}
	snprintf(t->ask_group, sizeof(t->ask_group), "%s", group);
	snprintf(t->ask_access, sizeof(t->ask_access), "%s", want);
	snprintf(t->question, sizeof(t->question), "Give %s %s access? "
	    "Its clients may then take over this host. y: yes, any other "
	    "key: no", group, want);
	t->ask = ASK_SET;
	t->modal = MODAL_CONFIRM;
}

/* The revision selected on the history panel, or 0. */
static long long
tui_selected_revision(struct tui *t)
{
	json_t	*r;

	r = json_array_get(json_object_get(t->history, "revisions"),
	    t->history_cursor);
	return (r != NULL ? tui_int(r, "revision") : 0);
}

/* Enter on the history panel: what that revision changed. */
static void
tui_diff(struct tui *t)
{
	long long	 rev = tui_selected_revision(t);

	if (rev == 0)
		return;
	if (rev == 1) {
		tui_message(t, "revision 1 is the first: nothing before it");
		return;
	}
	tui_send(t, CALL_DIFF, DSP_REQ_DIFF, json_pack("{s:I, s:I}", "from",
	    (json_int_t)(rev - 1), "to", (json_int_t)rev), "diff");
}

/* r on the history panel: ask, then revert. */
static void
tui_revert_ask(struct tui *t)
{
	long long	 rev = tui_selected_revision(t);

	if (rev == 0 || !tui_may_change(t))
		return;
	t->ask_revision = rev;
	snprintf(t->question, sizeof(t->question), "Put the state of "
	    "revision %lld in force again? y: yes, any other key: no", rev);
	t->ask = ASK_REVERT;
	t->modal = MODAL_CONFIRM;
}

/* A confirmation was answered. */
static void
tui_confirm_key(struct tui *t, int ch)
{
	char	 what[64];

	t->modal = MODAL_NONE;
	t->dirty = 1;
	if (ch != 'y' && ch != 'Y') {
		tui_message(t, "cancelled: nothing changed");
		return;
	}
	if (t->ask == ASK_SET)
		tui_set_access(t, t->ask_group, t->ask_access);
	else if (t->ask == ASK_REVERT) {
		snprintf(what, sizeof(what), "revert to %lld",
		    t->ask_revision);
		tui_send(t, CALL_CHANGE, DSP_REQ_REVERT, json_pack("{s:I, "
		    "s:s, s:s}", "revision", (json_int_t)t->ask_revision,
		    "source", "dsptui", "reason", "reverted in dsptui"), what);
	}
}

/* Open a one-line question for a filter. */
static void
tui_ask_input(struct tui *t, enum tui_ask ask, const char *question)
{
	t->ask = ask;
	snprintf(t->question, sizeof(t->question), "%s", question);
	t->input[0] = '\0';
	t->inputlen = 0;
	t->modal = MODAL_INPUT;
}

/*
 * Edit the typed line; Enter returns 1, Escape -1 (the line is
 * cleared), anything else 0.
 */
static int
tui_edit(struct tui *t, int ch)
{
	t->dirty = 1;
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
		return (1);
	if (ch == 27) {
		t->input[0] = '\0';
		t->inputlen = 0;
		return (-1);
	}
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && t->inputlen > 0)
		t->input[--t->inputlen] = '\0';
	else if (ch == 21) {		/* ^U, as a shell line */
		t->inputlen = 0;
		t->input[0] = '\0';
	} else if (ch >= 0x20 && ch < 0x7f &&
	    t->inputlen + 1 < sizeof(t->input)) {
		t->input[t->inputlen++] = (char)ch;
		t->input[t->inputlen] = '\0';
	}
	return (0);
}

/* A key while a filter is being typed. */
static void
tui_input_key(struct tui *t, int ch)
{
	int	 rc;

	if ((rc = tui_edit(t, ch)) == 0)
		return;
	t->modal = MODAL_NONE;
	if (rc < 0)
		return;
	if (t->ask == ASK_CLIENT)
		snprintf(t->filter_client, sizeof(t->filter_client), "%s",
		    t->input);
	else
		snprintf(t->filter_group, sizeof(t->filter_group), "%s",
		    t->input);
	t->row_cursor = 0;
}

/* b: open the rollback screen at its first step. */
static void
tui_rollback_open(struct tui *t)
{
	if (!tui_may_change(t))
		return;
	t->rb_step = 0;
	t->rb_choice = TUI_RB_DEFAULT;
	t->input[0] = '\0';
	t->inputlen = 0;
	t->modal = MODAL_ROLLBACK;
}

/* A key on the rollback screen; every way out but the phrase cancels. */
static void
tui_rollback_key(struct tui *t, int ch)
{
	char	 what[64];
	int	 rc;

	t->dirty = 1;
	if (t->rb_step == 0) {
		if (ch == KEY_LEFT && t->rb_choice > 0)
			t->rb_choice--;
		else if (ch == KEY_RIGHT && t->rb_choice + 1 <
		    tui_rb_ndurations)
			t->rb_choice++;
		else if (ch >= '1' && ch < '1' + (int)tui_rb_ndurations)
			t->rb_choice = (size_t)(ch - '1');
		else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
			t->rb_step = 1;
		else {
			t->modal = MODAL_NONE;
			tui_message(t, "rollback cancelled: nothing changed");
		}
		return;
	}
	if ((rc = tui_edit(t, ch)) == 0)
		return;
	t->modal = MODAL_NONE;
	if (rc < 0 || strcmp(t->input, TUI_PHRASE) != 0) {
		tui_message(t, "rollback cancelled%s: nothing changed",
		    rc < 0 ? "" : ", the phrase did not match");
		return;
	}
	snprintf(what, sizeof(what), "rollback");
	tui_send(t, CALL_CHANGE, DSP_REQ_ROLLBACK, json_pack("{s:I, s:s, s:s, "
	    "s:s}", "for", (json_int_t)tui_rb_durations[t->rb_choice],
	    "scope", "all", "source", "dsptui", "reason",
	    "emergency rollback from dsptui"), what);
}

/* R: end the bypass at once; it only makes the policy stricter. */
static void
tui_restore(struct tui *t)
{
	if (!tui_may_change(t))
		return;
	tui_send(t, CALL_CHANGE, DSP_REQ_RESTORE, json_pack("{s:s, s:s}",
	    "source", "dsptui", "reason", "restored from dsptui"), "restore");
}

/* Move a cursor by delta within n entries. */
static void
tui_move(size_t *cursor, long delta, size_t n)
{
	long	 c = (long)*cursor + delta;

	if (c >= (long)n)
		c = (long)n - 1;
	if (c < 0)
		c = 0;
	*cursor = (size_t)c;
}

/* A key on the requests panel. */
static void
tui_requests_key(struct tui *t, int ch)
{
	json_t	*view[TUI_ROWS_MAX];
	int	 n;
	long	 page = (long)screen_list_lines();

	n = tui_view_rows(t, view, TUI_ROWS_MAX);
	switch (ch) {
	case 'p':
	case ' ':
		t->paused = !t->paused;
		t->pause_end = t->nrows;
		t->row_cursor = 0;
		break;
	case KEY_UP:
	case 'k':
	case KEY_PPAGE:
	case KEY_DOWN:
	case 'j':
	case KEY_NPAGE:
		if (!t->paused) {
			t->paused = 1;
			t->pause_end = t->nrows;
			n = tui_view_rows(t, view, TUI_ROWS_MAX);
		}
		tui_move(&t->row_cursor, ch == KEY_UP || ch == 'k' ? 1 :
		    ch == KEY_PPAGE ? page : ch == KEY_NPAGE ? -page : -1,
		    (size_t)n);
		break;
	case KEY_END:
	case 'G':
		t->paused = 0;
		t->row_cursor = 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (n > 0 && t->row_cursor < (size_t)n)
			tui_open_row(t, view[t->row_cursor]);
		break;
	case 'd':
		t->denied_only = !t->denied_only;
		t->row_cursor = 0;
		break;
	case 'c':
		tui_ask_input(t, ASK_CLIENT, "show the client (part of its "
		    "address or uid=N, empty for all): ");
		break;
	case 'g':
		tui_ask_input(t, ASK_GROUP, "show the group (containers, "
		    "exec..., empty for all): ");
		break;
	case 'x':
		t->denied_only = 0;
		t->filter_client[0] = t->filter_group[0] = '\0';
		t->row_cursor = 0;
		break;
	}
}

/* A key on the groups or history panel. */
static void
tui_list_key(struct tui *t, int ch)
{
	size_t	*cursor, n;
	long	 page = (long)screen_list_lines();

	if (t->panel == PANEL_GROUPS) {
		cursor = &t->group_cursor;
		n = json_array_size(json_object_get(t->groups, "groups"));
	} else {
		cursor = &t->history_cursor;
		n = json_array_size(json_object_get(t->history,
		    "revisions"));
	}
	switch (ch) {
	case KEY_UP:
	case 'k':
		tui_move(cursor, -1, n);
		break;
	case KEY_DOWN:
	case 'j':
		tui_move(cursor, 1, n);
		break;
	case KEY_PPAGE:
		tui_move(cursor, -page, n);
		break;
	case KEY_NPAGE:
		tui_move(cursor, page, n);
		break;
	case ' ':
		if (t->panel == PANEL_GROUPS)
			tui_toggle(t, 0);
		break;
	case 'w':
		if (t->panel == PANEL_GROUPS)
			tui_toggle(t, 1);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (t->panel == PANEL_HISTORY)
			tui_diff(t);
		break;
	case 'r':
		if (t->panel == PANEL_HISTORY)
			tui_revert_ask(t);
		break;
	}
}

/* A key on the text window: scroll, or close. */
static void
tui_text_key(struct tui *t, int ch)
{
	long	 page = (long)screen_list_lines();

	switch (ch) {
	case KEY_UP:
	case 'k':
		tui_move(&t->text_top, -1, t->ntext);
		break;
	case KEY_DOWN:
	case 'j':
		tui_move(&t->text_top, 1, t->ntext);
		break;
	case KEY_PPAGE:
		tui_move(&t->text_top, -page, t->ntext);
		break;
	case KEY_NPAGE:
	case ' ':
		tui_move(&t->text_top, page, t->ntext);
		break;
	default:
		t->modal = MODAL_NONE;
		break;
	}
}

/* One key, wherever it lands. */
static void
tui_key(struct tui *t, int ch)
{
	t->dirty = 1;
	if (ch == KEY_RESIZE) {
		clearok(curscr, TRUE);
		return;
	}
	switch (t->modal) {
	case MODAL_TEXT:
		tui_text_key(t, ch);
		return;
	case MODAL_CONFIRM:
		tui_confirm_key(t, ch);
		return;
	case MODAL_INPUT:
		tui_input_key(t, ch);
		return;
	case MODAL_ROLLBACK:
		tui_rollback_key(t, ch);
		return;
	case MODAL_NONE:
		break;
	}
	switch (ch) {
	case 'q':
		t->quit = 1;
		return;
	case '?':
		tui_help(t);
		return;
	case '1':
	case '2':
	case '3':
		t->panel = (enum tui_panel)(ch - '1');
		return;
	case '\t':
		t->panel = (enum tui_panel)((t->panel + 1) % PANEL_COUNT);
		return;
	case 'b':
		tui_rollback_open(t);
		return;
	case 'R':
		tui_restore(t);
		return;
	case 12:	/* ^L */
		clearok(curscr, TRUE);
		return;
	}
	if (t->panel == PANEL_REQUESTS)
		tui_requests_key(t, ch);
	else
		tui_list_key(t, ch);
}

static void
tui_interrupt(int sig)
{
	tui_interrupted = 1;
}

static void
tui_usage(FILE *out)
{
	fprintf(out, "usage: dsptui [--socket PATH] [--ascii]\n"
	    "The socket is --socket, else $DSP_CONTROL, else %s.\n"
	    "Press ? in dsptui for its keys.  See dsptui(1).\n",
	    DSP_CONTROL_PATH);
}

/* The command line; returns -1 to exit with *status. */
static int
tui_options(struct tui *t, int argc, char **argv, int *status)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	t->socket = getenv("DSP_CONTROL");
	if (t->socket == NULL || *t->socket == '\0')
		t->socket = DSP_CONTROL_PATH;
	while ((ch = getopt_long(argc, argv, "s:ahV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			t->socket = optarg;
			break;
		case 'a':
			t->ascii = 1;
			break;
		case 'h':
			tui_usage(stdout);
			*status = 0;
			return (-1);
		case 'V':
			printf("dsptui %s, control protocol %d\n",
			    PACKAGE_VERSION, DSP_PROTOCOL_VERSION);
			*status = 0;
			return (-1);
		default:
			tui_usage(stderr);
			*status = 2;
			return (-1);
		}
	}
	if (optind != argc) {
		tui_usage(stderr);
		*status = 2;
		return (-1);
	}
	return (0);
}

/* Wait for the terminal or dspd, then read keys and messages. */
static void
tui_turn(struct tui *t, int more)
{
	struct pollfd	 pfd[2];
	nfds_t		 n = 1;
	int		 ch;

	pfd[0].fd = STDIN_FILENO;
	pfd[0].events = POLLIN;
	if (t->client != NULL && client_fd(t->client) != -1) {
		pfd[1].fd = client_fd(t->client);
		pfd[1].events = POLLIN;
		n = 2;
	}
	/* A resize interrupts the wait; ncurses then hands KEY_RESIZE. */
	if (poll(pfd, n, more ? 0 : tui_wait_ms(t, tui_now_ms())) == -1 &&
	    errno != EINTR)
		t->quit = 1;
	while (!t->quit && (ch = getch()) != ERR)
		tui_key(t, ch);
}

/* The loop: keys, messages, timers, and a frame when one is due. */
static void
tui_loop(struct tui *t)
{
	long long	 now;
	int		 more = 0;

	while (!t->quit && !tui_interrupted) {
		now = tui_now_ms();
		tui_timers(t, now);
		if (t->dirty && now - t->last_frame_ms >= TUI_FRAME_MSEC) {
			screen_draw(t);
			t->dirty = 0;
			t->last_frame_ms = now;
		}
		tui_turn(t, more);
		more = t->client != NULL ? tui_read(t) : 0;
		/* The bottom line's message goes after its time. */
		if (t->message[0] != '\0' && tui_now_ms() - t->message_ms >
		    TUI_MESSAGE_MSEC) {
			t->message[0] = '\0';
			t->dirty = 1;
		}
	}
}

int
main(int argc, char **argv)
{
	struct tui		 t;
	struct sigaction	 sa;
	const char		*cs;
	int			 status = 0;
	size_t			 i;

	memset(&t, 0, sizeof(t));
	setlocale(LC_ALL, "");
	if (tui_options(&t, argc, argv, &status) != 0)
		return (status);
	cs = nl_langinfo(CODESET);
	if (cs == NULL || strcmp(cs, "UTF-8") != 0)
		t.ascii = 1;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "dsptui: needs a terminal (dspctl serves "
		    "scripts)\n");
		return (1);
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tui_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	screen_init(&t);
	t.dirty = 1;
	tui_connect(&t);
	tui_loop(&t);
	screen_end();

	client_close(t.client);
	for (i = 0; i < TUI_ROWS_MAX; i++)
		json_decref(t.rows[i]);
	json_decref(t.status);
	json_decref(t.groups);
	json_decref(t.history);
	tui_text_clear(&t);
	return (0);
}
