/*
 * dsptui's private header: the state of the console, shared by the loop
 * and protocol side (dsptui.c) and the drawing side (screen.c).
 */

#ifndef TUI_H
#define TUI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dspclient.h"

/* Access rows kept for the list and its scroll-back. */
#define TUI_ROWS_MAX		4096
/* Milliseconds between two frames at most ten times a second. */
#define TUI_FRAME_MSEC		100
/* Milliseconds between two status requests (header counters). */
#define TUI_STATUS_MSEC		1000
/* Milliseconds between two groups requests (grants that expire). */
#define TUI_GROUPS_MSEC		5000
/* Milliseconds before trying to reach dspd again. */
#define TUI_RECONNECT_MSEC	1000
/* Milliseconds before trying again a socket that refused us. */
#define TUI_REFUSED_MSEC	5000
/* Messages taken from dspd in one turn of the loop, keys between. */
#define TUI_READ_BATCH		2048
/* Requests in flight at once. */
#define TUI_PENDING_MAX		32
/* Status samples kept, one a second: a minute of denials and a spare. */
#define TUI_SAMPLES		64
/* Seconds of the denials counter in the header. */
#define TUI_DENIALS_WINDOW	60
/* Bytes of a typed answer (filters, the rollback phrase). */
#define TUI_INPUT_MAX		128
/* Bytes of a message on the bottom line. */
#define TUI_MESSAGE_MAX		256
/* Bytes of the reason dspd cannot be reached, shown in the header. */
#define TUI_DOWN_MAX		1024
/* Milliseconds a message stays on the bottom line. */
#define TUI_MESSAGE_MSEC	10000
/* Revisions the history panel asks for. */
#define TUI_HISTORY_LIMIT	200
/* Lines of a text window (help, a record, a diff). */
#define TUI_TEXT_MAX		256
/* What the rollback screen wants typed, the same phrase as dspctl's. */
#define TUI_PHRASE		"switch off the filter"
/*
 * Significant digits of a number in a record: dspd sends 16, so that a
 * time keeps its milliseconds, which prints a duration as 7.4269999999.
 */
#define TUI_REAL_PRECISION	JSON_REAL_PRECISION(10)
/* Milliseconds a reply may take before the request is forgotten. */
#define TUI_REPLY_MSEC		30000

enum tui_panel {
	PANEL_REQUESTS,
	PANEL_GROUPS,
	PANEL_HISTORY,
	PANEL_COUNT
};

/* What covers the panel, if anything. */
enum tui_modal {
	MODAL_NONE,
	MODAL_TEXT,		/* help, a record, a diff */
	MODAL_CONFIRM,		/* y or anything else */
	MODAL_INPUT,		/* a line of text: a filter */
	MODAL_ROLLBACK		/* the guided rollback */
};

/* What a pending request's reply is for. */
enum tui_call {
	CALL_SUBSCRIBE,
	CALL_STATUS,
	CALL_GROUPS,
	CALL_HISTORY,
	CALL_DIFF,
	CALL_CHANGE		/* set, revert, rollback, restore */
};

/* What a confirmation or an input answers. */
enum tui_ask {
	ASK_SET,		/* group access */
	ASK_REVERT,
	ASK_CLIENT,		/* client filter */
	ASK_GROUP		/* group filter */
};

struct tui_pending {
	uint64_t	 id;
	enum tui_call	 call;
	long long	 sent_ms;
	char		 what[64];	/* for messages: "revert to 4" */
};

struct tui_sample {
	long long	 ms;
	long long	 requests;
	long long	 denials;
};

struct tui {
	const char		*socket;
	struct client		*client;	/* NULL: unreachable */
	int			 read_only;
	char			 version[64];
	char			 down[TUI_DOWN_MAX];	/* why not */
	int			 ever_connected;
	long long		 next_connect_ms;
	long long		 next_status_ms;
	long long		 next_groups_ms;

	struct tui_pending	 pending[TUI_PENDING_MAX];
	size_t			 npending;

	json_t			*status;	/* last status result */
	long long		 status_ms;	/* when it came */
	struct tui_sample	 samples[TUI_SAMPLES];
	size_t			 nsamples;
	long long		 revision;
	json_t			*groups;	/* last groups result */
	json_t			*history;	/* last history result */

	json_t			*rows[TUI_ROWS_MAX];	/* a ring */
	uint64_t		 nrows;		/* ever received */
	long long		 skipped;	/* dropped by dspd, lossy */

	enum tui_panel		 panel;
	int			 paused;
	uint64_t		 pause_end;	/* rows shown when paused */
	size_t			 row_cursor;	/* 0: newest shown */
	int			 denied_only;
	char			 filter_client[TUI_INPUT_MAX];
	char			 filter_group[TUI_INPUT_MAX];
	size_t			 group_cursor;
	size_t			 history_cursor;

	enum tui_modal		 modal;
	char			*text[TUI_TEXT_MAX];	/* MODAL_TEXT */
	size_t			 ntext;
	size_t			 text_top;
	char			 title[TUI_MESSAGE_MAX];
	enum tui_ask		 ask;
	char			 question[TUI_MESSAGE_MAX];
	char			 ask_group[32];		/* ASK_SET */
	char			 ask_access[16];
	long long		 ask_revision;		/* ASK_REVERT */
	char			 input[TUI_INPUT_MAX];
	size_t			 inputlen;
	int			 rb_step;	/* 0 explain, 1 phrase */
	size_t			 rb_choice;	/* duration index */

	char			 message[TUI_MESSAGE_MAX];
	long long		 message_ms;
	int			 dirty;
	long long		 last_frame_ms;
	int			 ascii;		/* no UTF-8 here */
	int			 colour;
	int			 quit;
};

/* The durations the rollback screen offers, in seconds. */
extern const long long	 tui_rb_durations[];
extern const size_t	 tui_rb_ndurations;

/* dsptui.c */
long long	 tui_now_ms(void);
const char	*tui_str(const json_t *, const char *);
long long	 tui_int(const json_t *, const char *);
int		 tui_row_shown(const struct tui *, const json_t *);
int		 tui_dangerous(const char *, const char *);
long long	 tui_bypass_left(const struct tui *);
int		 tui_view_rows(const struct tui *, json_t **, size_t);

/* screen.c */
void		 screen_init(struct tui *);
void		 screen_end(void);
void		 screen_draw(struct tui *);
size_t		 screen_list_lines(void);

#endif /* TUI_H */
