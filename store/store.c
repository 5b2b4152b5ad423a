/*
 * The store thread and the calls the event loop makes: a lock file beside
 * the database, a bounded queue of access rows and a list of requests
 * going in, finished requests coming back through an eventfd, and the
 * degraded state that a failing database puts the store in.
 */

#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_priv.h"

/* Bytes of a lock file's content read back for the holder's pid. */
#define STORE_PID_TEXT		32
/* Bytes under the file size limit that count as having reached it. */
#define STORE_SIZE_SLACK	(64 * 1024)

static void	 store_wake(struct store *);

void
store_config_init(struct store_config *config, const char *path)
{
	memset(config, 0, sizeof(*config));
	config->path = path;
	config->access_log = 1;
	config->keep_days = STORE_KEEP_DAYS;
	config->keep_rows = STORE_KEEP_ROWS;
	config->queue_rows = STORE_QUEUE_ROWS;
}

int
store_schema_version(void)
{
	return (SCHEMA_VERSION);
}

/* Milliseconds on the monotonic clock, for the store thread's timers. */
long long
store_msec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wall-clock time in unix seconds, as the database records it. */
double
store_wall(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Run SQL that returns nothing the caller needs. */
int
store_exec(sqlite3 *db, const char *sql)
{
	return (sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/*
 * Whether a file of the database reached the process's file size limit
 * (prlimit --fsize).  SQLite loses the write's errno (EFBIG) on the way
 * out, so the sizes are compared with the limit instead.
 */
static int
store_at_size_limit(const char *path)
{
	struct rlimit	rl;
	struct stat	sb;
	char		wal[PATH_MAX];
	off_t		near;

	if (path == NULL || getrlimit(RLIMIT_FSIZE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return (0);
	near = (off_t)rl.rlim_cur - STORE_SIZE_SLACK;
	if (stat(path, &sb) == 0 && sb.st_size >= near)
		return (1);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	return (stat(wal, &sb) == 0 && sb.st_size >= near);
}

/* Whether the file system holding path has no room left for us. */
static int
store_disk_full(const char *path)
{
	struct statvfs	sv;

	return (path != NULL && statvfs(path, &sv) == 0 && sv.f_bavail == 0);
}

/*
 * Say in words why a write failed.  The faults an operator can cause and
 * clear get a sentence that names the fault; the rest SQLite's message.
 */
void
store_describe(struct store *st, sqlite3 *db, int rc, char *buf,
    size_t len)
{
	const char	*path = st->config.path;
	int		 sys;

	sys = db != NULL ? sqlite3_system_errno(db) : 0;
	switch (rc & 0xff) {
	case SQLITE_READONLY:
		snprintf(buf, len, "the database is read-only");
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(buf, len, "the database is locked by another process");
		break;
	case SQLITE_FULL:
		if (store_at_size_limit(path))
			snprintf(buf, len, "the database could not be written: "
			    "file size limit reached");
		else
			snprintf(buf, len, "the disk is full");
		break;
	case SQLITE_IOERR:
		if (sys == EFBIG || store_at_size_limit(path))
			snprintf(buf, len, "the database could not be written: "
			    "file size limit reached");
		else if (sys == ENOSPC || store_disk_full(path))
			snprintf(buf, len, "the disk is full");
		else if (sys != 0)
			snprintf(buf, len, "the database could not be written: "
			    "%s", strerror(sys));
		else
			snprintf(buf, len, "the database could not be written: "
			    "%s", sqlite3_errstr(rc));
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		snprintf(buf, len, "the database cannot be opened for writing");
		break;
	default:
		if (db != NULL)
			snprintf(buf, len, "%s", sqlite3_errmsg(db));
		else
			snprintf(buf, len, "%s", sqlite3_errstr(rc));
		break;
	}
}

/* Queue a notice of the store's health for the caller; mtx is held. */
static void
store_post_notice(struct store *st)
{
	struct store_job	*job;

	if (st->config.notify == NULL)
		return;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return;
	job->type = JOB_NOTICE;
	job->stats = st->stats;
	STAILQ_INSERT_TAIL(&st->done, job, entry);
	store_wake(st);
}

/*
 * The database refused a write: mark the store degraded, remember why,
 * and try again in STORE_RETRY_MSEC.  The first fault of a run of them
 * is told at once; store_main repeats it once a minute.
 */
void
store_fault(struct store *st, sqlite3 *db, int rc)
{
	char	why[STORE_ERROR_MAX];

	store_describe(st, db, rc, why, sizeof(why));
	st->retry_at = store_msec() + STORE_RETRY_MSEC;

	pthread_mutex_lock(&st->mtx);
	snprintf(st->stats.last_error, sizeof(st->stats.last_error), "%s",
	    why);
	if (!st->stats.degraded) {
		st->stats.degraded = 1;
		st->stats.degraded_since = (int64_t)store_wall();
		st->stats.faults++;
		st->notify_at = store_msec() + STORE_NOTIFY_SEC * 1000LL;
		store_post_notice(st);
	}
	pthread_mutex_unlock(&st->mtx);
}

/* A write went through: leave the degraded state if the store was in it. */
void
store_healthy(struct store *st)
{
	pthread_mutex_lock(&st->mtx);
	if (st->stats.degraded) {
		st->stats.degraded = 0;
		st->stats.degraded_since = 0;
		store_post_notice(st);
	}
	pthread_mutex_unlock(&st->mtx);
}

/* The earliest grant expiry of the latest state, for store_next_expiry. */
void
store_set_expiry(struct store *st, int64_t when)
{
	pthread_mutex_lock(&st->mtx);
	st->next_expiry = when;
	pthread_mutex_unlock(&st->mtx);
}

/* Close the read-write connection and its statements. */
static void
store_disconnect(struct store *st)
{
	accesslog_finalize(st);
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	st->db = NULL;
}

/* Settings every read-write connection gets. */
static void
store_tune(sqlite3 *db)
{
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, STORE_BUSY_MSEC);
	store_exec(db, "PRAGMA synchronous = NORMAL");
}

/*
 * Give the -wal and -shm files the database's mode again.  SQLite
 * creates them with the mode the database has at that moment, so after
 * a start on a read-only database they stay read-only once the database
 * is writable again, and writing could never resume.  Only their owner
 * can change them; other files are left alone.
 */
static void
store_fix_modes(const char *path)
{
	static const char *const suffixes[] = { "-wal", "-shm" };
	struct stat		 sb, aux_sb;
	char			 aux[PATH_MAX];
	size_t			 i;

	if (stat(path, &sb) != 0 || access(path, W_OK) != 0)
		return;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(aux, sizeof(aux), "%s%s", path, suffixes[i]);
		/* Not ours, chmod fails: the next write will say so. */
		if (stat(aux, &aux_sb) == 0 && access(aux, W_OK) != 0)
			(void)chmod(aux, sb.st_mode & 0666);
	}
}

/*
 * Open both connections again, after a fault.  A file that became
 * writable, a lock that was released or a disk that has room again only
 * show on fresh connections; the read-only one is reopened too, since
 * connections of one process share the -shm mapping, which stays
 * read-only while any connection that opened it so remains.  Returns an
 * SQLite code; st->db is NULL unless the new connection can write.
 */
int
store_reconnect(struct store *st)
{
	sqlite3	*db = NULL;
	char	 err[STORE_ERROR_MAX];
	int	 rc;

	store_disconnect(st);
	if (st->ro != NULL)
		sqlite3_close_v2(st->ro);
	st->ro = NULL;
	store_fix_modes(st->config.path);

	rc = sqlite3_open_v2(st->config.path, &db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		store_tune(db);
		if (sqlite3_db_readonly(db, "main") == 1)
			rc = SQLITE_READONLY;
	}
	if (rc == SQLITE_OK) {
		st->db = db;
		if ((rc = accesslog_prepare(st)) != SQLITE_OK)
			store_disconnect(st);
	} else
		sqlite3_close_v2(db);

	/* Reads keep working on whatever connection opens. */
	if (query_open(st, err, sizeof(err)) != 0) {
		sqlite3_close_v2(st->ro);
		st->ro = NULL;
	}
	return (rc);
}

/*
 * The store thread's first work: open, check the version, migrate, and
 * load what the thread keeps in memory.  A database that opens but cannot
 * be written starts the store degraded rather than failing.
 */
static int
store_connect(struct store *st, char *err, size_t errlen)
{
	const char	*path = st->config.path;
	char		 why[STORE_ERROR_MAX];
	int		 rc, version, readonly;

	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, st->db != NULL ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		return (-1);
	}
	store_tune(st->db);
	if (schema_version(st->db, &version) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		return (-1);
	}
	if (version > SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: database from a newer dsp (schema "
		    "%d, this dspd knows %d)", path, version, SCHEMA_VERSION);
		return (-1);
	}
	readonly = sqlite3_db_readonly(st->db, "main") == 1;
	if (version < SCHEMA_VERSION && readonly) {
		snprintf(err, errlen, "%s: read-only, cannot migrate schema %d "
		    "to %d", path, version, SCHEMA_VERSION);
		return (-1);
	}
	if (!readonly)
		store_exec(st->db, "PRAGMA journal_mode = WAL");
	if (version < SCHEMA_VERSION &&
	    schema_migrate(st->db, SCHEMA_VERSION, why, sizeof(why)) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %.200s", path, why);
		return (-1);
	}

	if (query_open(st, err, errlen) != 0)
		return (-1);
	if (accesslog_count(st) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->ro));
		return (-1);
	}
	if (revision_load(st, err, errlen) != 0)
		return (-1);

	if (readonly) {
		store_disconnect(st);
		store_fault(st, NULL, SQLITE_READONLY);
	} else if ((rc = accesslog_prepare(st)) != SQLITE_OK) {
		store_fault(st, st->db, rc);
		store_disconnect(st);
	}
	return (0);
}

/*
 * Undo store_connect, on the store thread.  The read-write connection
 * closes last: the last connection to close checkpoints the WAL into the
 * database and removes it, which a read-only one cannot do.
 */
static void
store_unconnect(struct store *st)
{
	if (st->ro != NULL)
		sqlite3_close_v2(st->ro);
	st->ro = NULL;
	store_disconnect(st);
	if (st->state != NULL)
		json_decref(st->state);
	st->state = NULL;
}

/* Tell the caller's event loop that answers are waiting. */
static void
store_wake(struct store *st)
{
	uint64_t	one = 1;
	ssize_t		n;

	/* A full counter still reads as readable; nothing else can fail. */
	n = write(st->wake_fd, &one, sizeof(one));
	(void)n;
}

/* Hand a finished request back: to a blocked caller or to dispatch. */
static void
store_finish(struct store *st, struct store_job *job)
{
	if (job->sync) {
		job->finished = 1;
		pthread_cond_broadcast(&st->done_cond);
		return;
	}
	STAILQ_INSERT_TAIL(&st->done, job, entry);
	store_wake(st);
}

/* Take up to STORE_BATCH_ROWS rows off the queue; mtx is held. */
static size_t
store_take_rows(struct store *st, struct store_rows *batch)
{
	struct store_row	*r;
	size_t			 n = 0;

	STAILQ_INIT(batch);
	while (n < STORE_BATCH_ROWS && (r = STAILQ_FIRST(&st->rows)) != NULL) {
		STAILQ_REMOVE_HEAD(&st->rows, entry);
		STAILQ_INSERT_TAIL(batch, r, entry);
		n++;
	}
	st->stats.queued -= n;
	return (n);
}

static void
store_free_rows(struct store_rows *rows)
{
	struct store_row	*r;

	while ((r = STAILQ_FIRST(rows)) != NULL) {
		STAILQ_REMOVE_HEAD(rows, entry);
		free(r);
	}
}

/*
 * Write one batch, reconnecting first if the last write failed.  Returns
 * 0 when the rows are in the database; otherwise they are lost and the
 * store is degraded.
 */
static int
store_write_batch(struct store *st, struct store_rows *batch, size_t n)
{
	int	rc = SQLITE_OK;

	if (st->stats.degraded || st->db == NULL)
		rc = store_reconnect(st);
	if (rc == SQLITE_OK)
		rc = accesslog_write(st, batch, n);
	store_free_rows(batch);
	if (rc != SQLITE_OK) {
		store_fault(st, st->db, rc);
		if (st->db != NULL && !sqlite3_get_autocommit(st->db))
			store_exec(st->db, "ROLLBACK");
		return (-1);
	}
	store_healthy(st);
	if (st->config.keep_rows > 0 && st->nlogged > st->config.keep_rows)
		st->retain_more = 1;
	return (0);
}

/* One retention step, unless the database cannot be written now. */
static void
store_retain(struct store *st)
{
	int	rc;

	st->retain_more = 0;
	st->retain_at = store_msec() + STORE_RETAIN_MSEC;
	if (st->stats.degraded || st->db == NULL)
		return;
	rc = accesslog_retain(st);
	if (rc < 0)
		store_fault(st, st->db, -rc);
	else if (rc > 0)
		st->retain_more = 1;
}

/*
 * Run one request on the store thread.  The read-only connection can be
 * missing after a failed reconnect: it is opened again first, and
 * requests that read fail with a reason if it cannot be.
 */
static void
store_run(struct store *st, struct store_job *job)
{
	char	err[STORE_ERROR_MAX];
	int	reads;

	reads = job->type != JOB_CHANGE && job->type != JOB_EXPIRE &&
	    job->type != JOB_BYPASS_SET;
	if (reads && st->ro == NULL && query_open(st, err, sizeof(err)) != 0) {
		sqlite3_close_v2(st->ro);
		st->ro = NULL;
		if (job->type == JOB_START)
			snprintf(job->start->error, sizeof(job->start->error),
			    "%s", err);
		else
			job->error = strdup(err);
		return;
	}
	if (job->type == JOB_QUERY)
		query_run(st, job);
	else
		revision_run(st, job);
}

/* Wait on cond until the monotonic time at, in milliseconds. */
static void
store_wait_until(pthread_cond_t *cond, pthread_mutex_t *mtx, long long at)
{
	struct timespec	ts;

	ts.tv_sec = at / 1000;
	ts.tv_nsec = (at % 1000) * 1000000;
	pthread_cond_timedwait(cond, mtx, &ts);
}

/*
 * Whether the queued rows are to be written now; mtx is held.  They wait
 * for the retry time while degraded, otherwise for company: a full
 * batch, STORE_FLUSH_MSEC, or someone who waits for them.
 */
static int
store_rows_due(struct store *st, long long now)
{
	if (STAILQ_EMPTY(&st->rows))
		return (0);
	if (st->stopping)
		return (1);
	if (st->stats.degraded)
		return (now >= st->retry_at);
	return (st->stats.queued >= STORE_BATCH_ROWS ||
	    now - st->rows_since >= STORE_FLUSH_MSEC ||
	    st->flush_to > st->rows_out);
}

/*
 * When the store thread must next wake up by itself; mtx is held.
 * Rows wait for the retry time while degraded, or for the end of their
 * flush time; the notice repeats.
 */
static long long
store_next_wake(struct store *st)
{
	long long	at = st->retain_at;

	if (!st->stats.degraded && !STAILQ_EMPTY(&st->rows) &&
	    st->rows_since + STORE_FLUSH_MSEC < at)
		at = st->rows_since + STORE_FLUSH_MSEC;
	if (st->stats.degraded) {
		if (!STAILQ_EMPTY(&st->rows) && st->retry_at < at)
			at = st->retry_at;
		if (st->notify_at < at)
			at = st->notify_at;
	}
	return (at);
}

/*
 * Write one batch of queued rows and count the outcome; mtx is held on
 * entry and on return.  When closing on a failing database, the rest of
 * the queue is dropped at once rather than tried batch by batch.
 */
static void
store_drain(struct store *st)
{
	struct store_rows	batch;
	size_t			n;
	int			ok;

	n = store_take_rows(st, &batch);
	pthread_mutex_unlock(&st->mtx);
	ok = store_write_batch(st, &batch, n) == 0;
	pthread_mutex_lock(&st->mtx);
	if (!ok && st->stopping) {
		n += store_take_rows(st, &batch);
		store_free_rows(&batch);
	}
	if (ok)
		st->stats.written += n;
	else {
		st->stats.dropped += n;
		st->stats.dropped_write += n;
	}
	st->rows_out += n;
	pthread_cond_broadcast(&st->done_cond);
}

/* Tell store_open how opening went; mtx is held. */
static void
store_opened(struct store *st, int failed, const char *err)
{
	st->opened = 1;
	if (failed) {
		st->open_failed = 1;
		snprintf(st->open_error, sizeof(st->open_error), "%s", err);
	}
	pthread_cond_broadcast(&st->done_cond);
}

/*
 * The store thread.  Requests go first (a policy change must not wait
 * behind a flood of rows), then a batch of rows, then retention, one
 * step at a time, so that neither starves the other.
 */
static void *
store_main(void *arg)
{
	struct store		*st = arg;
	struct store_job	*job;
	char			 err[STORE_ERROR_MAX] = "";
	long long		 now;
	int			 failed;

	failed = store_connect(st, err, sizeof(err)) != 0;
	pthread_mutex_lock(&st->mtx);
	store_opened(st, failed, err);
	while (!failed) {
		if ((job = STAILQ_FIRST(&st->jobs)) != NULL) {
			/* A query of the log sees the rows queued before it. */
			if (job->type == JOB_QUERY && !st->stats.degraded &&
			    !STAILQ_EMPTY(&st->rows)) {
				store_drain(st);
				continue;
			}
			STAILQ_REMOVE_HEAD(&st->jobs, entry);
			st->njobs--;
			pthread_mutex_unlock(&st->mtx);
			store_run(st, job);
			pthread_mutex_lock(&st->mtx);
			store_finish(st, job);
			continue;
		}

		now = store_msec();
		if (store_rows_due(st, now)) {
			store_drain(st);
			continue;
		}
		if (st->stopping)
			break;

		if (st->retain_more || now >= st->retain_at) {
			pthread_mutex_unlock(&st->mtx);
			store_retain(st);
			pthread_mutex_lock(&st->mtx);
			continue;
		}
		if (st->stats.degraded && now >= st->notify_at) {
			st->notify_at = now + STORE_NOTIFY_SEC * 1000LL;
			store_post_notice(st);
		}
		store_wait_until(&st->cond, &st->mtx, store_next_wake(st));
	}
	pthread_mutex_unlock(&st->mtx);
	store_unconnect(st);
	return (NULL);
}

/* Create the database's folder and the missing ones above it, mode 0700. */
static int
store_mkdirs(const char *path, char *err, size_t errlen)
{
	char	*dir, *p;
	int	 rc = 0;

	if ((dir = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		goto out;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (*p == '/')
			*p = '\0';
		else
			p = NULL;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir,
			    strerror(errno));
			rc = -1;
			goto out;
		}
		if (p == NULL)
			break;
		*p = '/';
	}
out:
	free(dir);
	return (rc);
}

/*
 * Create a missing database file as mode 0600 before SQLite does (0644):
 * the access log says who did what.  SQLite gives its -wal and -shm
 * files the database's mode.
 */
static int
store_create(const char *path, char *err, size_t errlen)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd != -1) {
		close(fd);
		return (0);
	}
	if (errno == EEXIST)
		return (0);
	snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return (-1);
}

/*
 * Take the lock file beside the database, or say who holds it.  A lock
 * file the user cannot write (a read-only folder) is still locked read
 * only: flock needs no write access.
 */
static int
store_lock(struct store *st, char *err, size_t errlen)
{
	char	 buf[STORE_PID_TEXT];
	ssize_t	 n;
	long	 pid;
	int	 fd;

	fd = open(st->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1 && (errno == EACCES || errno == EROFS))
		fd = open(st->lock_path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", st->lock_path,
		    strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "%s: %s", st->lock_path,
			    strerror(errno));
			close(fd);
			return (-1);
		}
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		pid = strtol(buf, NULL, 10);
		if (pid > 0)
			snprintf(err, errlen, "%s: in use by another dspd "
			    "(pid %ld, lock file %s)", st->config.path, pid,
			    st->lock_path);
		else
			snprintf(err, errlen, "%s: in use by another dspd "
			    "(lock file %s)", st->config.path, st->lock_path);
		close(fd);
		return (-1);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, n, 0) != n)
		n = 0;	/* the pid is a courtesy for the next opener */
	st->lock_fd = fd;
	return (0);
}

/* Start the thread with every signal blocked but the faults, SIGXFSZ too. */
static int
store_spawn(struct store *st)
{
	sigset_t	all, old;
	int		rc;

	/*
	 * A write past RLIMIT_FSIZE raises SIGXFSZ in the writing thread,
	 * and its default action ends the process.  Blocked here, the
	 * write fails with EFBIG instead and the store turns degraded.
	 */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&st->thread, NULL, store_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return (rc);
}

/* Free what store_open allocated; the thread is not running. */
static void
store_free(struct store *st)
{
	struct store_job	*job;

	while ((job = STAILQ_FIRST(&st->done)) != NULL) {
		STAILQ_REMOVE_HEAD(&st->done, entry);
		store_job_free(job);
	}
	store_free_rows(&st->rows);
	if (st->wake_fd != -1)
		close(st->wake_fd);
	if (st->lock_fd != -1)
		close(st->lock_fd);
	pthread_cond_destroy(&st->cond);
	pthread_cond_destroy(&st->done_cond);
	pthread_mutex_destroy(&st->mtx);
	free(st->path);
	free(st->lock_path);
	free(st);
}

/* A store with its queues and copies of the paths, not yet running. */
static struct store *
store_new(const struct store_config *config)
{
	struct store		*st;
	pthread_condattr_t	 attr;
	size_t			 len;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return (NULL);
	st->config = *config;
	st->lock_fd = st->wake_fd = -1;
	if (st->config.queue_rows == 0)
		st->config.queue_rows = STORE_QUEUE_ROWS;
	pthread_mutex_init(&st->mtx, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &attr);
	pthread_cond_init(&st->done_cond, &attr);
	pthread_condattr_destroy(&attr);
	STAILQ_INIT(&st->jobs);
	STAILQ_INIT(&st->rows);
	STAILQ_INIT(&st->done);

	len = strlen(config->path) + sizeof(".lock");
	st->config.path = st->path = strdup(config->path);
	if (st->path == NULL || (st->lock_path = malloc(len)) == NULL) {
		store_free(st);
		return (NULL);
	}
	snprintf(st->lock_path, len, "%s.lock", config->path);
	return (st);
}

/*
 * Open the database at config->path (creating it and its folder), lock
 * it, migrate it and start the store thread.  On failure err holds one
 * line saying why.
 */
int
store_open(const struct store_config *config, struct store **out, char *err,
    size_t errlen)
{
	struct store	*st;

	*out = NULL;
	if ((st = store_new(config)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (store_mkdirs(config->path, err, errlen) != 0 ||
	    store_lock(st, err, errlen) != 0 ||
	    store_create(config->path, err, errlen) != 0)
		goto fail;
	if ((st->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (store_spawn(st) != 0) {
		snprintf(err, errlen, "cannot start the store thread");
		goto fail;
	}

	pthread_mutex_lock(&st->mtx);
	while (!st->opened)
		pthread_cond_wait(&st->done_cond, &st->mtx);
	pthread_mutex_unlock(&st->mtx);
	if (st->open_failed) {
		pthread_join(st->thread, NULL);
		snprintf(err, errlen, "%s", st->open_error);
		goto fail;
	}
	*out = st;
	return (0);

fail:
	store_free(st);
	return (-1);
}

/*
 * Stop the store thread after it has run the requests and written the
 * rows already queued (on a failing database the rows are dropped), then
 * close everything.  Callbacks not yet dispatched are not called.
 */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mtx);
	st->stopping = 1;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->mtx);
	pthread_join(st->thread, NULL);
	store_free(st);
}

int
store_wakeup_fd(struct store *st)
{
	return (st->wake_fd);
}

/* Call the callback a finished request asked for. */
static void
store_callback(struct store *st, struct store_job *job)
{
	struct store_commit	c;

	switch (job->type) {
	case JOB_CHANGE:
	case JOB_EXPIRE:
		c.revision = job->revision;
		c.state = job->state;
		c.changes = job->changes;
		c.nchanges = job->nchanges;
		c.error = job->error;
		job->cb.commit(&c, job->arg);
		break;
	case JOB_HISTORY:
		job->cb.history(job->revs, job->nrevs, job->error, job->arg);
		break;
	case JOB_DIFF:
		job->cb.diff(job->changes, job->nchanges, job->error,
		    job->arg);
		break;
	case JOB_STATE:
		job->cb.state(job->revision, job->state, job->error, job->arg);
		break;
	case JOB_BYPASS_SET:
	case JOB_BYPASS_CLEAR:
		job->cb.done(job->error, job->arg);
		break;
	case JOB_QUERY:
		job->cb.rows(job->rows, job->nrows, job->truncated, job->error,
		    job->arg);
		break;
	case JOB_NOTICE:
		if (st->config.notify != NULL)
			st->config.notify(&job->stats, st->config.notify_arg);
		break;
	case JOB_START:
		break;
	}
}

/*
 * Run the callbacks of every finished request, on the caller's thread.
 * Call it when store_wakeup_fd is readable; a spurious call is harmless.
 */
void
store_dispatch(struct store *st)
{
	struct store_jobs	 done;
	struct store_job	*job;
	uint64_t		 count;
	ssize_t			 n;

	n = read(st->wake_fd, &count, sizeof(count));
	(void)n;

	STAILQ_INIT(&done);
	pthread_mutex_lock(&st->mtx);
	STAILQ_CONCAT(&done, &st->done);
	pthread_mutex_unlock(&st->mtx);

	while ((job = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, entry);
		store_callback(st, job);
		store_job_free(job);
	}
}

/*
 * Wait until the rows queued before this call are written or dropped, at
 * most timeout milliseconds.  Returns 0, or -1 on timeout.
 */
int
store_flush(struct store *st, long long timeout)
{
	long long	deadline;
	uint64_t	target;
	int		rc = 0;

	deadline = store_msec() + timeout;
	pthread_mutex_lock(&st->mtx);
	target = st->rows_in;
	if (st->flush_to < target)
		st->flush_to = target;
	pthread_cond_signal(&st->cond);
	while (st->rows_out < target) {
		if (store_msec() >= deadline) {
			rc = -1;
			break;
		}
		store_wait_until(&st->done_cond, &st->mtx, deadline);
	}
	pthread_mutex_unlock(&st->mtx);
	return (rc);
}

void
store_stats(struct store *st, struct store_stats *out)
{
	pthread_mutex_lock(&st->mtx);
	*out = st->stats;
	pthread_mutex_unlock(&st->mtx);
}

int64_t
store_next_expiry(struct store *st)
{
	int64_t	when;

	pthread_mutex_lock(&st->mtx);
	when = st->next_expiry;
	pthread_mutex_unlock(&st->mtx);
	return (when);
}

/*
 * Queue one access row.  Never blocks on the database: when the queue is
 * full the row is dropped and counted.  Returns 0 when queued (or when
 * the access log is off), -1 when dropped.
 */
int
store_log_access(struct store *st, const struct store_access_row *row)
{
	struct store_row	*r;

	if (!st->config.access_log)
		return (0);
	r = accesslog_copy(row);

	pthread_mutex_lock(&st->mtx);
	if (r == NULL || st->stopping ||
	    st->stats.queued >= st->config.queue_rows) {
		st->stats.dropped++;
		pthread_mutex_unlock(&st->mtx);
		free(r);
		return (-1);
	}
	/*
	 * The store thread sleeps until the first row's flush time, so only
	 * that row and the one that fills a batch need to wake it.
	 */
	if (STAILQ_EMPTY(&st->rows)) {
		st->rows_since = store_msec();
		pthread_cond_signal(&st->cond);
	} else if (st->stats.queued + 1 == STORE_BATCH_ROWS)
		pthread_cond_signal(&st->cond);
	STAILQ_INSERT_TAIL(&st->rows, r, entry);
	st->stats.queued++;
	st->rows_in++;
	pthread_mutex_unlock(&st->mtx);
	return (0);
}

/* A request with its inputs copied, or NULL when memory ran out. */
static struct store_job *
store_job_new(enum store_job_type type, const struct store_meta *meta)
{
	struct store_job	*job;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return (NULL);
	job->type = type;
	job->uid = -1;
	if (meta == NULL)
		return (job);
	job->uid = meta->uid;
	if ((meta->actor != NULL && (job->actor = strdup(meta->actor)) ==
	    NULL) ||
	    (meta->source != NULL && (job->source = strdup(meta->source)) ==
	    NULL) ||
	    (meta->reason != NULL && (job->reason = strdup(meta->reason)) ==
	    NULL)) {
		store_job_free(job);
		return (NULL);
	}
	return (job);
}

/* Free a request, its inputs and its answer. */
void
store_job_free(struct store_job *job)
{
	free(job->text);
	free(job->text2);
	free(job->actor);
	free(job->source);
	free(job->reason);
	free(job->q_client);
	free(job->q_group);
	free(job->q_verdict);
	free(job->error);
	free(job->state);
	revision_changes_free(job->changes, job->nchanges);
	revision_revs_free(job->revs, job->nrevs);
	query_free(job);
	free(job);
}

/*
 * Hand a request to the store thread.  Returns -1 with errno EAGAIN when
 * too many wait, ESHUTDOWN when the store is closing, ENOMEM for a job
 * that could not be built; the job is then freed.
 */
static int
store_submit(struct store *st, struct store_job *job)
{
	int	error = 0;

	if (job == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	pthread_mutex_lock(&st->mtx);
	if (st->stopping)
		error = ESHUTDOWN;
	else if (st->njobs >= STORE_JOBS_MAX)
		error = EAGAIN;
	else {
		STAILQ_INSERT_TAIL(&st->jobs, job, entry);
		st->njobs++;
		pthread_cond_signal(&st->cond);
	}
	pthread_mutex_unlock(&st->mtx);
	if (error != 0) {
		store_job_free(job);
		errno = error;
		return (-1);
	}
	return (0);
}

/* Run a request on the store thread and wait for it, for start-up. */
static int
store_call(struct store *st, struct store_job *job)
{
	job->sync = 1;
	pthread_mutex_lock(&st->mtx);
	if (st->stopping) {
		pthread_mutex_unlock(&st->mtx);
		errno = ESHUTDOWN;
		return (-1);
	}
	STAILQ_INSERT_TAIL(&st->jobs, job, entry);
	st->njobs++;
	pthread_cond_signal(&st->cond);
	while (!job->finished)
		pthread_cond_wait(&st->done_cond, &st->mtx);
	pthread_mutex_unlock(&st->mtx);
	return (0);
}

/*
 * Decide the policy to enforce at start (the environment rule, expired
 * grants, a stored bypass; see revision.c) and record what changed.
 * Blocks; call it before the event loop runs.  Returns -1 only when the
 * environment's state is not a JSON object or memory ran out; a database
 * that cannot be written leaves result->error set and result->revision 0.
 */
int
store_policy_start(struct store *st, const char *env_state,
    const char *env_snapshot, int env_always, int64_t now,
    struct store_start *result)
{
	struct store_job	*job;
	int			 rc;

	memset(result, 0, sizeof(*result));
	if ((job = store_job_new(JOB_START, NULL)) == NULL)
		return (-1);
	job->text = strdup(env_state);
	job->text2 = strdup(env_snapshot);
	job->flag = env_always;
	job->now = now;
	job->start = result;
	if (job->text == NULL || job->text2 == NULL) {
		store_job_free(job);
		return (-1);
	}
	rc = store_call(st, job);
	if (rc == 0 && result->state == NULL)
		rc = -1;
	store_job_free(job);
	return (rc);
}

void
store_start_free(struct store_start *r)
{
	free(r->state);
	revision_changes_free(r->overridden, r->noverridden);
	revision_changes_free(r->expired, r->nexpired);
	revision_bypass_free(r->bypass);
	memset(r, 0, sizeof(*r));
}

/*
 * Commit a new state as the next revision.  The callback gets its number,
 * or an error and revision 0 when nothing changed in the database.
 */
int
store_policy_change(struct store *st, const char *state,
    const struct store_meta *meta, store_commit_cb cb, void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_CHANGE, meta)) != NULL) {
		job->cb.commit = cb;
		job->arg = arg;
		if ((job->text = strdup(state)) == NULL) {
			store_job_free(job);
			job = NULL;
		}
	}
	return (store_submit(st, job));
}

/*
 * Remove the grants whose time has come (until <= now) with an "expiry"
 * revision.  Revision 0 and no error in the callback: nothing was due.
 */
int
store_expire(struct store *st, int64_t now, store_commit_cb cb, void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_EXPIRE, NULL)) != NULL) {
		job->cb.commit = cb;
		job->arg = arg;
		job->now = now;
	}
	return (store_submit(st, job));
}

/* Revisions older than before (0: from the newest), newest first. */
int
store_history(struct store *st, uint64_t before, size_t limit,
    store_history_cb cb, void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_HISTORY, NULL)) != NULL) {
		job->cb.history = cb;
		job->arg = arg;
		job->rev_a = before;
		job->limit = limit;
	}
	return (store_submit(st, job));
}

/* What changed from revision a to revision b (0 is the latest). */
int
store_diff(struct store *st, uint64_t a, uint64_t b, store_diff_cb cb,
    void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_DIFF, NULL)) != NULL) {
		job->cb.diff = cb;
		job->arg = arg;
		job->rev_a = a;
		job->rev_b = b;
	}
	return (store_submit(st, job));
}

/* The state of one revision (0 is the latest), to restore or revert. */
int
store_revision_state(struct store *st, uint64_t rev, store_state_cb cb,
    void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_STATE, NULL)) != NULL) {
		job->cb.state = cb;
		job->arg = arg;
		job->rev_a = rev;
	}
	return (store_submit(st, job));
}

/* Record a bypass in force until the wall-clock time until. */
int
store_bypass_set(struct store *st, const char *scope, int64_t until,
    const struct store_meta *meta, store_done_cb cb, void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_BYPASS_SET, meta)) != NULL) {
		job->cb.done = cb;
		job->arg = arg;
		job->until = until;
		if ((job->text = strdup(scope)) == NULL) {
			store_job_free(job);
			job = NULL;
		}
	}
	return (store_submit(st, job));
}

/* Record the end of the bypass, whoever or whatever ended it. */
int
store_bypass_clear(struct store *st, const struct store_meta *meta,
    store_done_cb cb, void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_BYPASS_CLEAR, meta)) != NULL) {
		job->cb.done = cb;
		job->arg = arg;
	}
	return (store_submit(st, job));
}

/* Access rows matching a filter, from the read-only connection. */
int
store_query(struct store *st, const struct store_query *q, store_rows_cb cb,
    void *arg)
{
	struct store_job	*job;

	if ((job = store_job_new(JOB_QUERY, NULL)) == NULL)
		return (store_submit(st, NULL));
	job->cb.rows = cb;
	job->arg = arg;
	job->query = *q;
	if ((q->client != NULL &&
	    (job->q_client = strdup(q->client)) == NULL) ||
	    (q->group != NULL &&
	    (job->q_group = strdup(q->group)) == NULL) ||
	    (q->verdict != NULL &&
	    (job->q_verdict = strdup(q->verdict)) == NULL)) {
		store_job_free(job);
		job = NULL;
	} else {
		job->query.client = job->q_client;
		job->query.group = job->q_group;
		job->query.verdict = job->q_verdict;
	}
	return (store_submit(st, job));
}
