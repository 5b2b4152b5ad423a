/*
 * The store: dspd's policy revisions and access log in one SQLite file,
 * run on a thread of its own.  This header is what core/ sees; it needs
 * neither sqlite3.h nor libevent.
 *
 * Threads.  store_open starts the store thread, which makes every sqlite3
 * call.  The caller (the event loop) queues work and gets its answers
 * through store_dispatch, which it calls when store_wakeup_fd is
 * readable; every callback runs inside store_dispatch, on the caller's
 * thread.  Pointers handed to a callback are valid until it returns.
 * store_open, store_policy_start, store_flush and store_close block and
 * are meant for start and shutdown.  The asynchronous calls return 0
 * when the work is queued, or -1 (errno EAGAIN: too much work pending;
 * ESHUTDOWN: the store is closing) and then never call back.
 *
 * A policy state crosses this interface as a JSON object:
 *
 *	{"profile": "default",
 *	 "access": {"containers": "read", "exec": "off", ...},
 *	 "overrides": {"start": "allow", "logs": "deny", ...},
 *	 "grants": [{"group": "exec", "access": "write", "until": 1733250000},
 *	            {"action": "archive", "override": "allow", "until": ...}],
 *	 "guard": {...}}
 *
 * The store checks only that it is an object; meaning is the caller's.
 * It keeps the whole state of every revision, reads "profile" (default
 * "default"), and treats "grants" as a list whose elements may carry
 * "until" (unix seconds): at or after that time the element is removed by
 * an expiry revision.  Diffs flatten a state into keys: objects by member
 * ("access.containers"), list elements by their "group" or "action"
 * member, else by index ("grants.exec.until", "guard.list.0"); values
 * are the strings themselves, other leaves compact JSON, an "until" UTC
 * time as text.
 */

#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of an error text in stats and results, NUL included. */
#define STORE_ERROR_MAX		256

/* Defaults of struct store_config. */
#define STORE_KEEP_DAYS		30
#define STORE_KEEP_ROWS		1000000
#define STORE_QUEUE_ROWS	16384	/* access rows waiting, at most */

/* Rows a query returns at most, whatever it asks for. */
#define STORE_QUERY_ROWS_MAX	1000
/* Milliseconds a query may run before it stops with what it has. */
#define STORE_QUERY_MSEC	2000
/* Revisions one history request returns at most. */
#define STORE_HISTORY_MAX	1000

struct store;
struct store_stats;

/* Called from store_dispatch when the store's health changes. */
typedef void	(*store_notify_cb)(const struct store_stats *, void *);

struct store_config {
	const char	*path;		/* database file */
	int		 access_log;	/* 0: access rows are not written */
	long long	 keep_days;	/* older rows go; 0: no limit */
	long long	 keep_rows;	/* rows kept at most; 0: no limit */
	size_t		 queue_rows;	/* access rows queued at most */
	store_notify_cb	 notify;	/* or NULL */
	void		*notify_arg;
};

/*
 * Health and counters.  degraded is set while the database cannot be
 * written (read-only, locked by another process, disk full, I/O error);
 * rows are then dropped and counted, and writing is retried every second.
 * The notify callback runs when the store becomes degraded, when it
 * recovers, and at most once a minute while it stays degraded.
 */
struct store_stats {
	uint64_t	 queued;	/* rows waiting now */
	uint64_t	 written;	/* rows written since open */
	uint64_t	 dropped;	/* lost: queue full or write failed */
	uint64_t	 dropped_write;	/* of dropped, lost to a failed write */
	uint64_t	 deleted;	/* rows removed by retention */
	int		 degraded;
	int64_t		 degraded_since; /* unix seconds, 0 when healthy */
	uint64_t	 faults;	/* times it became degraded */
	char		 last_error[STORE_ERROR_MAX];
};

/*
 * One access-log row, one per finished exchange.  Logging copies every
 * string (each cut at STORE_FIELD_MAX bytes); NULL strings are stored as
 * NULL.  Query results fill id as well.
 */
#define STORE_FIELD_MAX		8192

struct store_access_row {
	int64_t		 id;		/* ignored when logging */
	int64_t		 time_us;	/* exchange start, since the epoch */
	int64_t		 duration_us;
	const char	*client;	/* "192.0.2.7:40112", "uid=0 pid=42" */
	const char	*listener;	/* "tcp://127.0.0.1:2375" */
	const char	*profile;
	const char	*method;
	const char	*target;	/* as sent */
	const char	*path;		/* canonical, version prefix removed */
	const char	*api_version;	/* "1.41", or "" */
	const char	*group;		/* "containers", "unknown" */
	const char	*action;	/* "containers.list" */
	const char	*verdict;	/* allow, deny, bypass */
	const char	*policy_verdict; /* the policy's alone */
	uint64_t	 revision;
	int		 status;	/* 0: no response was sent */
	uint64_t	 bytes_in;	/* from the client */
	uint64_t	 bytes_out;	/* to the client */
	const char	*close_reason;	/* complete, client, engine, ... */
	const char	*guard;		/* body-guard field refused, or NULL */
};

/* Who makes a change, and why.  uid is -1 when there is no user. */
struct store_meta {
	long long	 uid;
	const char	*actor;		/* user name, "env", "expiry" */
	const char	*source;	/* env dspctl dsptui rollback expiry */
	const char	*reason;	/* or NULL */
};

/*
 * One changed key between two states.  before or after is NULL where the
 * key is absent.  actor and revision name the change that set "before",
 * where known (the environment rule's overridden list), else NULL and 0.
 */
struct store_change {
	char		*key;
	char		*before;
	char		*after;
	char		*actor;
	uint64_t	 revision;
};

struct store_revision {
	uint64_t	 number;
	double		 time;		/* unix seconds */
	char		*profile;
	long long	 actor_uid;	/* -1: none */
	char		*actor;
	char		*source;
	char		*reason;	/* or NULL */
};

/* An emergency bypass as stored; until is a wall-clock deadline. */
struct store_bypass {
	char		*scope;		/* "all", "group:exec", "profile:x" */
	int64_t		 since;		/* unix seconds */
	int64_t		 until;
	long long	 actor_uid;
	char		*actor;
	char		*reason;
};

/* What store_policy_start decided; free with store_start_free. */
struct store_start {
	char			*state;		/* the policy to enforce */
	uint64_t		 revision;	/* 0 if not stored */
	int			 env_applied;	/* a new "env" revision */
	struct store_change	*overridden;	/* runtime changes env undid */
	size_t			 noverridden;
	uint64_t		 expiry_revision; /* 0: no grant had expired */
	struct store_change	*expired;	/* what that revision removed */
	size_t			 nexpired;
	struct store_bypass	*bypass;	/* still in force, or NULL */
	int			 bypass_ended;	/* a stored one had passed */
	char			 error[STORE_ERROR_MAX]; /* or "" */
};

/* The outcome of a commit: revision 0 and error set when it failed. */
struct store_commit {
	uint64_t			 revision;
	const char			*state;	/* as committed, or NULL */
	const struct store_change	*changes; /* from the previous one */
	size_t				 nchanges;
	const char			*error;	/* NULL on success */
};

/* Which access rows a query wants; newest first. */
struct store_query {
	int64_t		 since;		/* unix seconds; 0: no bound */
	int64_t		 until;		/* unix seconds; 0: no bound */
	const char	*client;	/* exact match, or NULL */
	const char	*group;
	const char	*verdict;
	size_t		 limit;		/* capped by STORE_QUERY_ROWS_MAX */
};

/*
 * The calls, with their parameters in order.  One thread (dspd's event
 * loop) makes them; store_close is never called from a callback.
 *
 * store_open(config, &store, err, errlen)
 * store_flush(store, timeout_ms): waits for the rows queued so far; -1 on
 *	timeout.
 * store_log_access(store, row): copies and queues; never blocks.
 * store_query(store, query, cb, arg)
 * store_policy_start(store, env_state, env_snapshot, env_always, now,
 *	&result): env_snapshot is a canonical text of the variables that
 *	feed the policy, env_always is --policy-source env.  Call
 *	store_start_free(&result) whatever it returned.
 * store_policy_change(store, state, meta, cb, arg)
 * store_expire(store, now, cb, arg): when the timer set for
 *	store_next_expiry() fires; revision 0 means nothing was due yet,
 *	so arm again.
 * store_history(store, before, limit, cb, arg)
 * store_diff(store, rev_a, rev_b, cb, arg): 0 is the latest revision.
 * store_revision_state(store, rev, cb, arg): for revert, which then
 *	commits the state with store_policy_change.
 * store_bypass_set(store, scope, until, meta, cb, arg)
 * store_bypass_clear(store, meta, cb, arg): at dspctl restore, or with
 *	actor and source "expiry" at the deadline.
 */
typedef void	(*store_commit_cb)(const struct store_commit *, void *);
typedef void	(*store_history_cb)(const struct store_revision *, size_t,
		    const char *, void *);
typedef void	(*store_diff_cb)(const struct store_change *, size_t,
		    const char *, void *);
typedef void	(*store_state_cb)(uint64_t, const char *, const char *,
		    void *);
typedef void	(*store_done_cb)(const char *, void *);
typedef void	(*store_rows_cb)(const struct store_access_row *, size_t, int,
		    const char *, void *);

void		 store_config_init(struct store_config *, const char *);
int		 store_open(const struct store_config *, struct store **,
		     char *, size_t);
void		 store_close(struct store *);
int		 store_wakeup_fd(struct store *);
void		 store_dispatch(struct store *);
int		 store_flush(struct store *, long long);
void		 store_stats(struct store *, struct store_stats *);
int		 store_schema_version(void);

int		 store_log_access(struct store *,
		     const struct store_access_row *);
int		 store_query(struct store *, const struct store_query *,
		     store_rows_cb, void *);

int		 store_policy_start(struct store *, const char *, const char *,
		     int, int64_t, struct store_start *);
void		 store_start_free(struct store_start *);
int		 store_policy_change(struct store *, const char *,
		     const struct store_meta *, store_commit_cb, void *);
int		 store_expire(struct store *, int64_t, store_commit_cb, void *);
int64_t		 store_next_expiry(struct store *);
int		 store_history(struct store *, uint64_t, size_t,
		     store_history_cb, void *);
int		 store_diff(struct store *, uint64_t, uint64_t, store_diff_cb,
		     void *);
int		 store_revision_state(struct store *, uint64_t, store_state_cb,
		     void *);
int		 store_bypass_set(struct store *, const char *, int64_t,
		     const struct store_meta *, store_done_cb, void *);
int		 store_bypass_clear(struct store *, const struct store_meta *,
		     store_done_cb, void *);

#endif /* STORE_H */
