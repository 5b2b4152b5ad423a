/*
 * dsptui's drawing: one frame of the whole screen from the state, drawn
 * into ncurses' virtual screen and sent with a single refresh, so that
 * the terminal only receives what changed since the last frame.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "tui.h"

/* Colour pairs, when the terminal has colours. */
#define PAIR_DENY	1	/* a denied request, write access */
#define PAIR_BYPASS	2	/* the bypass in the header */
#define PAIR_WARN	3	/* a request let through by the bypass */
#define PAIR_DOWN	4	/* dspd unreachable */

/* Lines above the list (header, tabs, panel line, column heads), below. */
#define SCREEN_TOP	4
#define SCREEN_BOTTOM	1
/* Milliseconds an Escape waits for the rest of a key's sequence. */
#define SCREEN_ESCDELAY	25
/* Status samples (about a second each) the request rate averages. */
#define SCREEN_RATE_SAMPLES	5
/* Bytes of one drawn line. */
#define SCREEN_LINE_MAX	2048

static int	screen_colour;

/* Start curses: keys one at a time, no echo, colours if any. */
void
screen_init(struct tui *t)
{
	initscr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(SCREEN_ESCDELAY);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_DENY, COLOR_RED, -1);
		init_pair(PAIR_BYPASS, COLOR_WHITE, COLOR_RED);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_DOWN, COLOR_WHITE, COLOR_RED);
		screen_colour = 1;
	}
	t->colour = screen_colour;
}

void
screen_end(void)
{
	endwin();
}

/* Lines of the list between the panel's heads and the bottom line. */
size_t
screen_list_lines(void)
{
	int	 n = LINES - SCREEN_TOP - SCREEN_BOTTOM;

	return (n > 1 ? (size_t)n : 1);
}

/* An attribute, with a colour pair where the terminal has colours. */
static attr_t
screen_attr(int pair, attr_t plain)
{
	if (screen_colour)
		return (COLOR_PAIR(pair) | (plain & A_BOLD));
	return (plain);
}

/*
 * Copy s for the screen: control bytes become '?', and so does every
 * byte past ASCII when the locale is not UTF-8 or keep_utf8 is off.
 */
static void
screen_clean(const struct tui *t, const char *s, char *out, size_t size,
    int keep_utf8)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && (t->ascii ||
		    !keep_utf8)))
			out[i] = '?';
		else
			out[i] = (char)c;
	}
	out[i] = '\0';
}

/* Text at y, x, cut to width columns (ASCII), in attr; returns x after. */
static int
screen_put(const struct tui *t, int y, int x, int width, const char *s,
    attr_t attr)
{
	char	 buf[SCREEN_LINE_MAX];

	if (width <= 0 || x >= COLS)
		return (x);
	if (x + width > COLS)
		width = COLS - x;
	screen_clean(t, s, buf, sizeof(buf), 0);
	attrset(attr);
	mvaddnstr(y, x, buf, width);
	attrset(A_NORMAL);
	return (x + ((int)strlen(buf) < width ? (int)strlen(buf) : width));
}

/* A cell padded to its column: text cut or padded to width, then a space. */
static int
screen_cell(const struct tui *t, int y, int x, int width, const char *s,
    attr_t attr)
{
	char	 buf[SCREEN_LINE_MAX];

	snprintf(buf, sizeof(buf), "%-*.*s ", width, width, s);
	return (screen_put(t, y, x, width + 1, buf, attr));
}

/* Requests a second over the last few samples. */
static double
screen_rate(const struct tui *t)
{
	const struct tui_sample	*a, *b;
	size_t			 back;

	if (t->nsamples < 2)
		return (0);
	back = t->nsamples > SCREEN_RATE_SAMPLES ? SCREEN_RATE_SAMPLES :
	    t->nsamples - 1;
	a = &t->samples[t->nsamples - 1 - back];
	b = &t->samples[t->nsamples - 1];
	if (b->ms <= a->ms)
		return (0);
	return ((double)(b->requests - a->requests) * 1000.0 /
	    (double)(b->ms - a->ms));
}

/*
 * Denials in the last minute: dspd's own count, or, from a dspd that
 * does not send one, what the samples since connecting show.
 */
static long long
screen_denials(const struct tui *t)
{
	const struct tui_sample	*last;
	const json_t		*recent;
	size_t			 i;

	recent = json_object_get(t->status, "denials_1m");
	if (json_is_integer(recent))
		return ((long long)json_integer_value(recent));
	if (t->nsamples == 0)
		return (0);
	last = &t->samples[t->nsamples - 1];
	for (i = 0; i < t->nsamples; i++)
		if (last->ms - t->samples[i].ms <= TUI_DENIALS_WINDOW * 1000)
			break;
	return (last->denials - t->samples[i].denials);
}

/* Line 0: version, mode, engine, revision, rates, store health. */
static void
screen_header(struct tui *t)
{
	const json_t	*st = t->status, *store;
	char		 buf[SCREEN_LINE_MAX], left[32];
	long long	 bl;
	int		 x;

	if (t->client == NULL) {
		snprintf(buf, sizeof(buf), " dsptui: %s", t->down[0] != '\0' ?
		    t->down : "connecting");
		screen_put(t, 0, 0, COLS, buf, screen_attr(PAIR_DOWN,
		    A_REVERSE | A_BOLD) | A_REVERSE);
		return;
	}
	snprintf(buf, sizeof(buf), "dspd %s ", t->version);
	x = screen_put(t, 0, 0, COLS, buf, A_BOLD);
	if (st == NULL) {
		screen_put(t, 0, x, COLS - x, "connected, waiting for status",
		    A_NORMAL);
		return;
	}
	if ((bl = tui_bypass_left(t)) >= 0) {
		client_format_duration(bl, left, sizeof(left));
		snprintf(buf, sizeof(buf), " BYPASS %s left ", left);
		x = screen_put(t, 0, x, COLS - x, buf, screen_attr(PAIR_BYPASS,
		    A_BOLD) | A_REVERSE | A_BOLD);
	} else
		x = screen_put(t, 0, x, COLS - x, "ENFORCE", A_BOLD);
	if (strcmp(tui_str(st, "engine"), "up") == 0)
		x = screen_put(t, 0, x, COLS - x, " engine up", A_NORMAL);
	else
		x = screen_put(t, 0, x, COLS - x, " ENGINE DOWN",
		    screen_attr(PAIR_DENY, A_BOLD));
	store = json_object_get(st, "store");
	snprintf(buf, sizeof(buf), " rev %lld  %.0f req/s  %lld denied/1m  ",
	    tui_int(st, "revision"), screen_rate(t), screen_denials(t));
	x = screen_put(t, 0, x, COLS - x, buf, A_NORMAL);
	if (!json_is_true(json_object_get(store, "database")))
		screen_put(t, 0, x, COLS - x, "db none", A_NORMAL);
	else if (json_is_true(json_object_get(store, "healthy")))
		screen_put(t, 0, x, COLS - x, "db ok", A_NORMAL);
	else
		screen_put(t, 0, x, COLS - x, "DB DEGRADED",
		    screen_attr(PAIR_DENY, A_BOLD));
}

/* Line 1: the panels, and the read-only notice. */
static void
screen_tabs(struct tui *t)
{
	static const char *const names[PANEL_COUNT] = {
		"1 Requests", "2 Groups", "3 History"
	};
	int	 i, x = 0;

	for (i = 0; i < PANEL_COUNT; i++) {
		x = screen_put(t, 1, x, COLS - x, names[i], (int)t->panel == i ?
		    A_REVERSE | A_BOLD : A_NORMAL);
		x = screen_put(t, 1, x, COLS - x, " ", A_NORMAL);
	}
	if (t->client != NULL && t->read_only)
		screen_put(t, 1, x + 1, COLS - x - 1, "read-only: changes need "
		    "the other socket", A_BOLD);
	else
		screen_put(t, 1, x + 1, COLS - x - 1, "b rollback  ? keys  "
		    "q quit", A_NORMAL);
}

/* "14:02:03" for a row's time. */
static void
screen_clock(double when, char *buf, size_t size)
{
	struct tm	 tm;
	time_t		 t = (time_t)when;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, "%H:%M:%S",
	    &tm) == 0)
		snprintf(buf, size, "?");
}

/*
 * Text for a column of width cells: a longer target keeps its start and
 * ends in '>' so a cut path is not read as whole; a client address that
 * does not fit loses its port first, which only tells connections apart.
 */
static const char *
screen_fit(const char *s, int width, int is_client, char *buf, size_t len)
{
	const char	*colon;
	size_t		 n = strlen(s);

	if (width <= 1 || n <= (size_t)width || len <= (size_t)width)
		return (s);
	if (is_client && (colon = strrchr(s, ':')) != NULL &&
	    (size_t)(colon - s) <= (size_t)width) {
		snprintf(buf, len, "%.*s", (int)(colon - s), s);
		return (buf);
	}
	snprintf(buf, len, "%.*s>", width - 1, s);
	return (buf);
}

/* One access row on line y; selected rows are in reverse. */
static void
screen_row(struct tui *t, int y, const json_t *row, int width_target,
    int selected)
{
	const char	*v = tui_str(row, "verdict");
	const char	*pv = tui_str(row, "policy_verdict");
	const char	*mark = " ";
	char		 when[16], st[16], dur[16];
	char		 client[SCREEN_LINE_MAX], target[SCREEN_LINE_MAX];
	double		 ms = json_number_value(json_object_get(row,
			    "duration_ms"));
	attr_t		 attr = A_NORMAL;
	int		 x;

	if (strcmp(v, "deny") == 0) {
		mark = t->ascii ? "!" : "\xe2\x9c\x97";	/* U+2717 */
		attr = screen_attr(PAIR_DENY, A_BOLD);
	} else if (strcmp(v, "bypass") == 0 && strcmp(pv, "deny") == 0) {
		mark = "~";
		attr = screen_attr(PAIR_WARN, A_BOLD);
	}
	if (selected)
		attr |= A_REVERSE;
	screen_clock(json_number_value(json_object_get(row, "time")), when,
	    sizeof(when));
	snprintf(st, sizeof(st), "%lld", tui_int(row, "status"));
	if (ms < 10)
		snprintf(dur, sizeof(dur), "%.1fms", ms);
	else if (ms < 10000)
		snprintf(dur, sizeof(dur), "%.0fms", ms);
	else if (ms < 10000000)
		snprintf(dur, sizeof(dur), "%.0fs", ms / 1000);
	else	/* a long stream: six cells at most, as the column */
		snprintf(dur, sizeof(dur), "%.0fh", ms / 3600000);

	/* The marker is its own cell: multibyte in UTF-8, one column. */
	attrset(attr);
	mvaddstr(y, 0, mark);
	addstr(" ");
	x = 2;
	x = screen_cell(t, y, x, 8, when, attr);
	x = screen_cell(t, y, x, 15, screen_fit(tui_str(row, "client"), 15, 1,
	    client, sizeof(client)), attr);
	x = screen_cell(t, y, x, 6, tui_str(row, "method"), attr);
	x = screen_cell(t, y, x, width_target, screen_fit(tui_str(row,
	    "target"), width_target, 0, target, sizeof(target)), attr);
	x = screen_cell(t, y, x, 10, tui_str(row, "group"), attr);
	x = screen_cell(t, y, x, 7, v, attr);
	x = screen_cell(t, y, x, 3, st, attr);
	screen_cell(t, y, x, 6, dur, attr);
}

/* The live list, newest at the bottom, with its filters and counters. */
static void
screen_requests(struct tui *t)
{
	static json_t	*view[TUI_ROWS_MAX];
	char		 info[SCREEN_LINE_MAX], head[SCREEN_LINE_MAX];
	size_t		 lines = screen_list_lines(), off = 0, k, j;
	int		 n, wt;

	n = tui_view_rows(t, view, TUI_ROWS_MAX);
	if (t->row_cursor >= (size_t)n && n > 0)
		t->row_cursor = (size_t)n - 1;
	if (t->row_cursor >= lines)
		off = t->row_cursor - lines + 1;
	snprintf(info, sizeof(info), "%s  %llu requests seen, %lld skipped "
	    "(lossy)%s%s%s%s%s", t->paused ? "PAUSED (End: live)" : "live",
	    (unsigned long long)t->nrows, t->skipped,
	    t->denied_only || t->filter_client[0] || t->filter_group[0] ?
	    "  filter:" : "", t->denied_only ? " denied" : "",
	    t->filter_client[0] ? " client=" : "", t->filter_client,
	    t->filter_group[0] ? " group=" : "");
	screen_put(t, 2, 0, COLS, info, t->paused ? A_BOLD : A_NORMAL);
	if (t->filter_group[0] != '\0')
		screen_put(t, 2, (int)strlen(info), COLS - (int)strlen(info),
		    t->filter_group, A_NORMAL);

	/* The target takes what the other columns and the spaces leave. */
	wt = COLS - 2 - 9 - 16 - 7 - 11 - 8 - 4 - 7 - 1;
	if (wt < 6)
		wt = 6;
	snprintf(head, sizeof(head), "  %-8s %-15s %-6s %-*s %-10s %-7s %-3s "
	    "%s", "TIME", "CLIENT", "METHOD", wt, "TARGET", "GROUP",
	    "VERDICT", "ST", "TOOK");
	screen_put(t, 3, 0, COLS, head, A_UNDERLINE);

	k = (size_t)n - off < lines ? (size_t)n - off : lines;
	for (j = 0; j < k; j++)
		screen_row(t, SCREEN_TOP + (int)(k - 1 - j), view[off + j], wt,
		    t->paused && off + j == t->row_cursor);
	if (n == 0)
		screen_put(t, SCREEN_TOP, 2, COLS - 2, t->nrows == 0 ?
		    "no requests yet" : "no request passes the filters",
		    A_NORMAL);
}

/* First entry shown so that the cursor stays in a window of lines. */
static size_t
screen_window(size_t cursor, size_t lines)
{
	return (cursor >= lines ? cursor - lines + 1 : 0);
}

/* "until 14:30:00, 29m left" for a group's grant, or "". */
static void
screen_grant(const struct tui *t, const char *group, char *buf,
    size_t size)
{
	const json_t	*g;
	char		 when[64], left[32];
	size_t		 i;

	buf[0] = '\0';
	json_array_foreach(json_object_get(t->groups, "grants"), i, g) {
		if (strcmp(tui_str(g, "group"), group) != 0)
			continue;
		client_format_time((double)tui_int(g, "until"), when,
		    sizeof(when));
		client_format_duration(tui_int(g, "until") - time(NULL), left,
		    sizeof(left));
		snprintf(buf, size, "%s until %s, %s left", tui_str(g,
		    "access"), when + (strlen(when) > 11 ? 11 : 0), left);
		return;
	}
}

/* The groups panel: every group, its access and any grant. */
static void
screen_groups(struct tui *t)
{
	const json_t	*groups = json_object_get(t->groups, "groups"), *g;
	char		 line[SCREEN_LINE_MAX], grant[128];
	const char	*access;
	size_t		 lines = screen_list_lines(), top, i, n;
	attr_t		 attr;

	n = json_array_size(groups);
	if (t->group_cursor >= n && n > 0)
		t->group_cursor = n - 1;
	snprintf(line, sizeof(line), "policy revision %lld: space toggles "
	    "read, w write%s", tui_int(t->groups, "revision"), t->read_only ?
	    " (not on this read-only socket)" : "");
	screen_put(t, 2, 0, COLS, line, A_NORMAL);
	snprintf(line, sizeof(line), "  %-14s %-14s %-7s %s", "GROUP",
	    "VARIABLE", "ACCESS", "GRANT");
	screen_put(t, 3, 0, COLS, line, A_UNDERLINE);
	if (t->groups == NULL) {
		screen_put(t, SCREEN_TOP, 2, COLS - 2, "waiting for dspd",
		    A_NORMAL);
		return;
	}
	top = screen_window(t->group_cursor, lines);
	for (i = top; i < n && i - top < lines; i++) {
		g = json_array_get(groups, i);
		access = tui_str(g, "access");
		screen_grant(t, tui_str(g, "group"), grant, sizeof(grant));
		snprintf(line, sizeof(line), "%c %-14s %-14s %-7s %s",
		    tui_dangerous(tui_str(g, "group"), "read") ? '*' : ' ',
		    tui_str(g, "group"), tui_str(g, "variable"), access,
		    grant);
		attr = A_NORMAL;
		if (strcmp(access, "write") == 0)
			attr = screen_attr(PAIR_DENY, A_BOLD);
		else if (strcmp(access, "read") == 0)
			attr = A_BOLD;
		if (i == t->group_cursor)
			attr |= A_REVERSE;
		screen_put(t, SCREEN_TOP + (int)(i - top), 0, COLS, line,
		    attr);
	}
}

/* The history panel: revisions, who, when, from where, why. */
static void
screen_history(struct tui *t)
{
	const json_t	*revs, *r;
	char		 line[SCREEN_LINE_MAX], when[64], who[64];
	size_t		 lines = screen_list_lines(), top, i, n;

	revs = json_object_get(t->history, "revisions");
	n = json_array_size(revs);
	if (t->history_cursor >= n && n > 0)
		t->history_cursor = n - 1;
	screen_put(t, 2, 0, COLS, "Enter: what it changed   r: revert to it",
	    A_NORMAL);
	snprintf(line, sizeof(line), "%5s %-14s %-14s %-8s %s", "REV", "TIME",
	    "WHO", "FROM", "WHY");
	screen_put(t, 3, 0, COLS, line, A_UNDERLINE);
	if (t->history == NULL) {
		screen_put(t, SCREEN_TOP, 2, COLS - 2, "no history (dspd runs "
		    "without a database, or has not answered)", A_NORMAL);
		return;
	}
	top = screen_window(t->history_cursor, lines);
	for (i = top; i < n && i - top < lines; i++) {
		r = json_array_get(revs, i);
		client_format_time(json_number_value(json_object_get(r,
		    "time")), when, sizeof(when));
		if (json_is_integer(json_object_get(r, "uid")))
			snprintf(who, sizeof(who), "%s(%lld)", tui_str(r,
			    "actor"), tui_int(r, "uid"));
		else
			snprintf(who, sizeof(who), "%s", tui_str(r, "actor"));
		/* The year goes: "12-03 18:00:05" leaves room for why. */
		snprintf(line, sizeof(line), "%5lld %-14s %-14.14s %-8s %s",
		    tui_int(r, "revision"), when + (strlen(when) > 5 ? 5 : 0),
		    who, tui_str(r, "source"),
		    tui_str(r, "reason"));
		screen_put(t, SCREEN_TOP + (int)(i - top), 0, COLS, line,
		    i == t->history_cursor ? A_REVERSE : A_NORMAL);
	}
}

/* Words of text from line y, at most width columns each; lines used. */
static int
screen_wrap(const struct tui *t, int y, int width, const char *text,
    attr_t attr)
{
	char	 buf[SCREEN_LINE_MAX];
	size_t	 len, cut;
	int	 n = 0;

	while (*text != '\0' && y + n < LINES - SCREEN_BOTTOM) {
		len = strlen(text);
		cut = len;
		if ((int)len > width) {
			for (cut = (size_t)width; cut > 0 && text[cut] != ' ';
			    cut--)
				;
			if (cut == 0)
				cut = (size_t)width;
		}
		snprintf(buf, sizeof(buf), "%.*s", (int)cut, text);
		screen_put(t, y + n, 1, width, buf, attr);
		text += cut;
		while (*text == ' ')
			text++;
		n++;
	}
	return (n);
}

/* Help, a request's record or a diff over the panel. */
static void
screen_text(struct tui *t)
{
	char	 buf[SCREEN_LINE_MAX];
	size_t	 lines = screen_list_lines() + 1, i;
	int	 y = 3;

	screen_put(t, 2, 0, COLS, t->title, A_REVERSE | A_BOLD);
	for (i = t->text_top; i < t->ntext && (size_t)(y - 3) < lines; i++) {
		screen_clean(t, t->text[i], buf, sizeof(buf), 1);
		move(y, 0);
		clrtoeol();
		mvaddnstr(y++, 1, buf, COLS - 1);
	}
}

/* The rollback screen: what it does, the duration, then the phrase. */
static void
screen_rollback(struct tui *t)
{
	static const char *const explain[] = {
		"While it lasts, dspd stops enforcing its policy for every "
		"group:",
		" - requests the policy would refuse reach the engine; each "
		"is logged with",
		"   the verdict the policy would have given, to review "
		"afterwards;",
		" - still checked: who may connect, request framing, "
		"canonical targets,",
		"   size limits and the body cap;",
		" - at the deadline, or on R, the policy is enforced again "
		"and connections",
		"   only the bypass let in (an exec shell, an attach) are "
		"closed.",
		"Meanwhile every client of dspd holds root on this host.",
	};
	char		 buf[SCREEN_LINE_MAX], d[32];
	long long	 cap = tui_int(t->status, "max_bypass");
	size_t		 i;
	int		 y = 2, x;

	screen_put(t, y++, 0, COLS, "EMERGENCY ROLLBACK: switch the filter "
	    "off", screen_attr(PAIR_BYPASS, A_BOLD) | A_REVERSE | A_BOLD);
	for (i = 0; i < sizeof(explain) / sizeof(explain[0]); i++)
		screen_put(t, y++, 0, COLS, explain[i], A_NORMAL);
	y++;
	x = screen_put(t, y, 0, COLS, "How long (Left/Right, 1-4): ",
	    t->rb_step == 0 ? A_BOLD : A_NORMAL);
	for (i = 0; i < tui_rb_ndurations; i++) {
		client_format_duration(tui_rb_durations[i], d, sizeof(d));
		snprintf(buf, sizeof(buf), i == t->rb_choice ? "[%s]" :
		    " %s ", d);
		x = screen_put(t, y, x, COLS - x, buf, i == t->rb_choice ?
		    A_REVERSE | A_BOLD : A_NORMAL);
		x = screen_put(t, y, x, COLS - x, " ", A_NORMAL);
	}
	if (cap > 0) {
		client_format_duration(cap, d, sizeof(d));
		snprintf(buf, sizeof(buf), " (dspd allows %s)", d);
		screen_put(t, y, x, COLS - x, buf, A_NORMAL);
	}
	y += 2;
	if (t->rb_step == 0) {
		screen_put(t, y, 0, COLS, "Enter: go on.  Any other key: "
		    "cancel, nothing changes.", A_BOLD);
		return;
	}
	snprintf(buf, sizeof(buf), "Type \"%s\" and Enter; anything else "
	    "cancels:", TUI_PHRASE);
	screen_put(t, y++, 0, COLS, buf, A_BOLD);
	snprintf(buf, sizeof(buf), "> %s", t->input);
	x = screen_put(t, y, 0, COLS, buf, A_NORMAL);
	move(y, x);
	curs_set(1);
}

/* The bottom line: a message, a question being typed, or the keys. */
static void
screen_bottom(struct tui *t)
{
	char		 buf[SCREEN_LINE_MAX];
	const char	*keys;
	int		 y = LINES - 1, x;

	if (t->modal == MODAL_INPUT) {
		snprintf(buf, sizeof(buf), "%s%s", t->question, t->input);
		x = screen_put(t, y, 0, COLS, buf, A_BOLD);
		move(y, x < COLS ? x : COLS - 1);
		curs_set(1);
		return;
	}
	if (t->message[0] != '\0') {
		screen_put(t, y, 0, COLS, t->message, A_BOLD);
		return;
	}
	if (t->modal == MODAL_TEXT)
		keys = "Up/Down scroll   any other key closes";
	else if (tui_bypass_left(t) >= 0)
		keys = "BYPASS in force: R restores the policy now";
	else if (t->panel == PANEL_REQUESTS)
		keys = "p pause  Up/Down scroll  Enter record  d denied  "
		    "c client  g group  x clear";
	else if (t->panel == PANEL_GROUPS)
		keys = "Up/Down select  space read on/off  w write on/off  "
		    "* asks first";
	else
		keys = "Up/Down select  Enter diff  r revert";
	screen_put(t, y, 0, COLS, keys, A_NORMAL);
}

/* One frame: everything drawn, then one refresh. */
void
screen_draw(struct tui *t)
{
	erase();
	curs_set(0);
	screen_header(t);
	screen_tabs(t);
	switch (t->modal) {
	case MODAL_TEXT:
		screen_text(t);
		break;
	case MODAL_ROLLBACK:
		screen_rollback(t);
		break;
	case MODAL_CONFIRM:
		screen_wrap(t, 3, COLS - 2, t->question, A_BOLD | A_REVERSE);
		break;
	default:
		if (t->client == NULL && t->down[0] != '\0') {
			screen_wrap(t, 3, COLS - 2, t->down, A_BOLD);
			break;
		}
		if (t->panel == PANEL_REQUESTS)
			screen_requests(t);
		else if (t->panel == PANEL_GROUPS)
			screen_groups(t);
		else
			screen_history(t);
		break;
	}
	if (t->modal != MODAL_ROLLBACK)
		screen_bottom(t);
	refresh();
}
