/*
 * The store's private header: the state shared by the files of store/,
 * which run on the store thread except where a comment says otherwise.
 * Only store/ and its unit tests include it (it pulls in sqlite3.h).
 */

#ifndef STORE_PRIV_H
#define STORE_PRIV_H

#include <sys/queue.h>

#include <pthread.h>

#include <jansson.h>
#include <sqlite3.h>

#include "store.h"

/* The schema this build writes; PRAGMA user_version holds it. */
#define SCHEMA_VERSION		1

/* Access rows written in one transaction, at most. */
#define STORE_BATCH_ROWS	512
/* Milliseconds SQLite waits for another process's lock before failing. */
#define STORE_BUSY_MSEC		250
/*
 * Milliseconds an access row may wait in the queue for others to share
 * its transaction: a commit per row or two costs the store thread more
 * CPU than the proxy spends on the request.  A full batch, a query of
 * the log, store_flush and closing write at once.
 */
#define STORE_FLUSH_MSEC	100
/* Milliseconds between tries to write again while degraded. */
#define STORE_RETRY_MSEC	1000
/* Seconds between two notices while the store stays degraded. */
#define STORE_NOTIFY_SEC	60
/* Rows one retention step deletes, at most. */
#define STORE_RETAIN_STEP	1000
/* Milliseconds between two checks for rows past their age. */
#define STORE_RETAIN_MSEC	1000
/* Requests (not rows) waiting for the store thread, at most. */
#define STORE_JOBS_MAX		256
/* Milliseconds store_close gives queued rows before dropping them. */
#define STORE_CLOSE_MSEC	2000

enum store_job_type {
	JOB_START,
	JOB_CHANGE,
	JOB_EXPIRE,
	JOB_HISTORY,
	JOB_DIFF,
	JOB_STATE,
	JOB_BYPASS_SET,
	JOB_BYPASS_CLEAR,
	JOB_QUERY,
	JOB_NOTICE		/* posted by the store thread itself */
};

/*
 * One request to the store thread and, once done, its answer.  Inputs are
 * copies owned by the job; outputs are freed with the job after its
 * callback ran.
 */
struct store_job {
	STAILQ_ENTRY(store_job)	 entry;
	enum store_job_type	 type;
	int			 sync;		/* a caller waits for it */
	int			 finished;
	union {
		store_commit_cb	 commit;
		store_history_cb history;
		store_diff_cb	 diff;
		store_state_cb	 state;
		store_done_cb	 done;
		store_rows_cb	 rows;
	} cb;
	void			*arg;

	/* Inputs. */
	char			*text;		/* state, env state, scope */
	char			*text2;		/* env snapshot */
	long long		 uid;
	char			*actor;
	char			*source;
	char			*reason;
	uint64_t		 rev_a;
	uint64_t		 rev_b;
	int64_t			 now;		/* unix seconds */
	int64_t			 until;
	size_t			 limit;
	int			 flag;
	struct store_query	 query;		/* strings point below */
	char			*q_client;
	char			*q_group;
	char			*q_verdict;

	/* Outputs. */
	char			*error;
	uint64_t		 revision;
	char			*state;
	struct store_change	*changes;
	size_t			 nchanges;
	struct store_revision	*revs;
	size_t			 nrevs;
	struct store_access_row	*rows;
	struct store_row	**rowbufs;	/* what rows point into */
	size_t			 nrows;
	int			 truncated;
	struct store_start	*start;
	struct store_stats	 stats;
};
STAILQ_HEAD(store_jobs, store_job);

/* A queued access row and the bytes its strings point into. */
struct store_row {
	STAILQ_ENTRY(store_row)	 entry;
	struct store_access_row	 row;
	char			 buf[];
};
STAILQ_HEAD(store_rows, store_row);

/* A state flattened to sorted (key, value) pairs, for diffs. */
struct flat_entry {
	char		*key;
	char		*value;
};

struct flat {
	struct flat_entry	*v;
	size_t			 n;
	size_t			 size;
};

struct store {
	/* Set before the thread starts; read-only afterwards. */
	struct store_config	 config;	/* path is path below */
	char			*path;
	char			*lock_path;
	int			 lock_fd;
	int			 wake_fd;
	pthread_t		 thread;

	/* Under mtx. */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;		/* wakes the store thread */
	pthread_cond_t		 done_cond;	/* wakes blocking callers */
	struct store_jobs	 jobs;
	size_t			 njobs;
	struct store_rows	 rows;
	struct store_jobs	 done;
	int			 stopping;
	int			 opened;	/* the thread's open finished */
	int			 open_failed;
	char			 open_error[STORE_ERROR_MAX];
	uint64_t		 rows_in;	/* rows ever queued */
	uint64_t		 rows_out;	/* of those, written or lost */
	long long		 rows_since;	/* when the queue last filled */
	uint64_t		 flush_to;	/* store_flush waits for it */
	struct store_stats	 stats;
	int64_t			 next_expiry;

	/* The store thread's own. */
	sqlite3			*db;		/* read-write, or NULL */
	sqlite3			*ro;		/* read-only, for queries */
	sqlite3_stmt		*insert_row;
	sqlite3_stmt		*delete_oldest;
	sqlite3_stmt		*delete_aged;
	long long		 nlogged;	/* rows in access_log */
	json_t			*state;		/* latest revision's, or NULL */
	uint64_t		 revision;
	long long		 retry_at;	/* monotonic ms */
	long long		 retain_at;
	long long		 notify_at;
	int			 retain_more;
	long long		 query_deadline;
};

/* store.c */
long long	 store_msec(void);
double		 store_wall(void);
void		 store_describe(struct store *, sqlite3 *, int, char *,
		     size_t);
void		 store_fault(struct store *, sqlite3 *, int);
void		 store_healthy(struct store *);
int		 store_reconnect(struct store *);
int		 store_exec(sqlite3 *, const char *);
void		 store_set_expiry(struct store *, int64_t);
void		 store_job_free(struct store_job *);

/* schema.c */
int		 schema_version(sqlite3 *, int *);
int		 schema_migrate(sqlite3 *, int, char *, size_t);

/* revision.c */
int		 revision_flatten(const json_t *, struct flat *);
void		 revision_flat_free(struct flat *);
int		 revision_diff_flat(const struct flat *, const struct flat *,
		     struct store_change **, size_t *);
int		 revision_diff_text(const char *, const char *,
		     struct store_change **, size_t *);
void		 revision_changes_free(struct store_change *, size_t);
json_t		*revision_parse(const char *, char *, size_t);
int		 revision_remove_expired(const json_t *, int64_t, json_t **,
		     char *, size_t);
int64_t		 revision_next_expiry(const json_t *);
int		 revision_load(struct store *, char *, size_t);
void		 revision_run(struct store *, struct store_job *);
void		 revision_revs_free(struct store_revision *, size_t);
void		 revision_bypass_free(struct store_bypass *);

/* accesslog.c */
extern const size_t accesslog_text[];
extern const size_t accesslog_ntext;
struct store_row *accesslog_copy(const struct store_access_row *);
int		 accesslog_prepare(struct store *);
void		 accesslog_finalize(struct store *);
int		 accesslog_count(struct store *);
int		 accesslog_write(struct store *, struct store_rows *, size_t);
int		 accesslog_retain(struct store *);

/* query.c */
int		 query_open(struct store *, char *, size_t);
void		 query_run(struct store *, struct store_job *);
void		 query_free(struct store_job *);

#endif /* STORE_PRIV_H */
