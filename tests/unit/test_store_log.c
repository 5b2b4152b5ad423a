/*
 * Unit tests of the access log: rows written in batches with every field
 * kept, queries with their caps, a full queue that drops and counts,
 * retention by rows and by age, rows queued at close, and the degraded
 * store (locked by another process, a file size limit, a read-only file)
 * that counts what it could not write and recovers.
 */

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <grp.h>
#include <pwd.h>

#include <cmocka.h>

#include "store_test.h"

/* Microseconds in a day. */
#define DAY_USEC	(86400LL * 1000000)

/* Bytes of the long targets that fill a file size limit quickly. */
#define LONG_TARGET	8000

/* Room for the strings of one test row. */
struct row_text {
	char	client[64];
	char	target[LONG_TARGET + 1];
};

/* The wall clock in microseconds, as dspd stamps rows. */
static int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Row number i: its client and byte counts say which one it is. */
static void
row_make(struct store_access_row *r, struct row_text *t, int i,
    int64_t time_us, const char *verdict, const char *group)
{
	memset(r, 0, sizeof(*r));
	snprintf(t->client, sizeof(t->client), "192.0.2.%d:%d", i % 250,
	    40000 + i);
	snprintf(t->target, sizeof(t->target), "/v1.41/%s/json?n=%d", group,
	    i);
	r->time_us = time_us;
	r->duration_us = 1500 + i;
	r->client = t->client;
	r->listener = "tcp://127.0.0.1:2375";
	r->profile = "default";
	r->method = "GET";
	r->target = t->target;
	r->path = strchr(t->target + 1, '/');
	r->api_version = "1.41";
	r->group = group;
	r->action = strcmp(group, "exec") == 0 ? "exec.inspect" :
	    "containers.list";
	r->verdict = verdict;
	r->policy_verdict = "deny";
	r->revision = 7;
	r->status = strcmp(verdict, "deny") == 0 ? 403 : 200;
	r->bytes_in = 100 + i;
	r->bytes_out = 2000 + i;
	r->close_reason = "complete";
}

/* Log rows first..last-1, each a second after the one before. */
static int
log_rows(struct store *st, int first, int last, int64_t t0,
    const char *verdict, const char *group)
{
	struct store_access_row	r;
	struct row_text		t;
	int			i, dropped = 0;

	for (i = first; i < last; i++) {
		row_make(&r, &t, i, t0 + (int64_t)(i - first) * 1000000,
		    verdict, group);
		if (store_log_access(st, &r) != 0)
			dropped++;
	}
	return (dropped);
}

static int
stats_degraded(const struct store_stats *s, long long want)
{
	return (s->degraded == want);
}

static int
stats_written(const struct store_stats *s, long long want)
{
	return ((long long)s->written >= want);
}

static int
stats_dropped(const struct store_stats *s, long long want)
{
	return ((long long)s->dropped >= want);
}

/* Poll a count in the database until it is want, or fail. */
static void
wait_count(const char *path, const char *sql, long long want)
{
	long long	got = -1;
	int		waited;

	for (waited = 0; waited <= TEST_WAIT_MSEC; waited += 50) {
		if ((got = test_int(path, sql)) == want)
			return;
		usleep(50 * 1000);
	}
	fail_msg("%s: %lld, want %lld", sql, got, want);
}

/* What the notify callback was told, in order. */
struct notices {
	int	n;
	int	degraded[16];
	char	error[STORE_ERROR_MAX];
};

static void
notify_cb(const struct store_stats *s, void *arg)
{
	struct notices	*seen = arg;

	if (seen->n < (int)nitems(seen->degraded))
		seen->degraded[seen->n++] = s->degraded;
	if (s->degraded)
		snprintf(seen->error, sizeof(seen->error), "%s", s->last_error);
}

/* More rows than several batches: all written, every field kept. */
static void
test_rows_written_in_batches(void **state)
{
	struct test_dir		*d = *state;
	struct store_stats	 s;
	struct store_access_row	 r;
	struct row_text		 t;
	int64_t			 t0 = now_us() - 3600 * 1000000LL;
	const int		 n = STORE_BATCH_ROWS * 3 + 17;
	char			*text;

	d->st = test_open(d->db, NULL);
	assert_int_equal(log_rows(d->st, 0, n, t0, "allow", "containers"), 0);
	row_make(&r, &t, n, t0, "deny", "exec");
	r.guard = "HostConfig.Privileged";
	r.api_version = "";
	assert_int_equal(store_log_access(d->st, &r), 0);
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);

	store_stats(d->st, &s);
	assert_int_equal(s.written, n + 1);
	assert_int_equal(s.dropped, 0);
	assert_int_equal(s.queued, 0);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM access_log"),
	    n + 1);
	assert_int_equal(test_int(d->db, "SELECT count(DISTINCT client) FROM"
	    " access_log"), n + 1);

	text = test_text(d->db, "SELECT client || '|' || listener || '|' ||"
	    " profile || '|' || method || '|' || target || '|' || path || '|'"
	    " || api_version || '|' || grp || '|' || action || '|' || verdict"
	    " || '|' || policy_verdict || '|' || revision || '|' || status ||"
	    " '|' || bytes_in || '|' || bytes_out || '|' || close_reason ||"
	    " '|' || duration_ms || '|' || coalesce(guard, 'NULL')"
	    " FROM access_log WHERE bytes_in = 142");
	assert_string_equal(text, "192.0.2.42:40042|tcp://127.0.0.1:2375|"
	    "default|GET|/v1.41/containers/json?n=42|/containers/json?n=42|"
	    "1.41|containers|containers.list|allow|deny|7|200|142|2042|"
	    "complete|1.542|NULL");
	free(text);

	/* Time: the row's start, to the microsecond. */
	assert_int_equal(test_int(d->db, "SELECT CAST(round(time * 1e6) AS"
	    " INTEGER) FROM access_log WHERE bytes_in = 100"), t0);

	text = test_text(d->db, "SELECT grp || ' ' || status || ' ' || guard"
	    " || ' [' || api_version || ']' FROM denials");
	assert_string_equal(text, "exec 403 HostConfig.Privileged []");
	free(text);
}

/* What a query callback got. */
struct query_seen {
	int	 done;
	int	 truncated;
	size_t	 n;
	char	*error;
	char	 first_client[64];
	char	 last_client[64];
	int64_t	 first_time;
	int64_t	 first_duration;
	int	 first_status;
	int	 guard_null;
	int	 newest_first;
};

static void
rows_cb(const struct store_access_row *rows, size_t n, int truncated,
    const char *error, void *arg)
{
	struct query_seen	*seen = arg;
	size_t			 i;

	seen->done = 1;
	seen->n = n;
	seen->truncated = truncated;
	seen->error = error != NULL ? strdup(error) : NULL;
	seen->newest_first = 1;
	for (i = 1; i < n; i++)
		if (rows[i].time_us > rows[i - 1].time_us)
			seen->newest_first = 0;
	if (n == 0)
		return;
	snprintf(seen->first_client, sizeof(seen->first_client), "%s",
	    rows[0].client);
	snprintf(seen->last_client, sizeof(seen->last_client), "%s",
	    rows[n - 1].client);
	seen->first_time = rows[0].time_us;
	seen->first_duration = rows[0].duration_us;
	seen->first_status = rows[0].status;
	seen->guard_null = rows[0].guard == NULL;
}

static void
query(struct store *st, const struct store_query *q, struct query_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	assert_int_equal(store_query(st, q, rows_cb, seen), 0);
	test_wait(st, &seen->done);
	if (seen->error != NULL)
		fail_msg("query: %s", seen->error);
}

/* Queries: filters, newest first, the row cap and what a row holds. */
static void
test_query_filters_and_caps(void **state)
{
	struct test_dir		*d = *state;
	struct store_query	 q;
	struct query_seen	 seen;
	int64_t			 t0 = now_us() - 7200 * 1000000LL;

	d->st = test_open(d->db, NULL);
	log_rows(d->st, 0, 1200, t0, "allow", "containers");
	log_rows(d->st, 2000, 2010, t0 + 3600 * 1000000LL, "deny", "exec");
	log_rows(d->st, 3000, 3005, t0, "deny", "containers");
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);

	memset(&q, 0, sizeof(q));
	q.verdict = "deny";
	q.group = "exec";
	query(d->st, &q, &seen);
	assert_int_equal(seen.n, 10);
	assert_false(seen.truncated);
	assert_true(seen.newest_first);
	assert_string_equal(seen.first_client, "192.0.2.9:42009");
	assert_string_equal(seen.last_client, "192.0.2.0:42000");
	assert_int_equal(seen.first_time, t0 + 3600 * 1000000LL + 9000000);
	assert_int_equal(seen.first_duration, 1500 + 2009);
	assert_int_equal(seen.first_status, 403);
	assert_true(seen.guard_null);

	/* since: only the exec denials started an hour later. */
	memset(&q, 0, sizeof(q));
	q.verdict = "deny";
	q.since = (t0 + 1800 * 1000000LL) / 1000000;
	query(d->st, &q, &seen);
	assert_int_equal(seen.n, 10);

	memset(&q, 0, sizeof(q));
	q.client = "192.0.2.3:43003";
	query(d->st, &q, &seen);
	assert_int_equal(seen.n, 1);

	memset(&q, 0, sizeof(q));
	q.verdict = "deny";
	q.limit = 3;
	query(d->st, &q, &seen);
	assert_int_equal(seen.n, 3);
	assert_true(seen.truncated);

	/* No limit asked, or too much: STORE_QUERY_ROWS_MAX. */
	memset(&q, 0, sizeof(q));
	q.limit = 1000000;
	query(d->st, &q, &seen);
	assert_int_equal(seen.n, STORE_QUERY_ROWS_MAX);
	assert_true(seen.truncated);
	assert_true(seen.newest_first);
}

/*
 * A full queue drops rows and counts them without blocking.  The store
 * thread is kept from writing by another process's lock: its first
 * batch fails (the store turns degraded and retries a second later), and
 * meanwhile the queue of ten fills.
 */
static void
test_full_queue_drops(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	struct store_stats	 s;
	struct notices		 seen;
	sqlite3			*other;
	int64_t			 t0 = now_us();

	memset(&seen, 0, sizeof(seen));
	store_config_init(&config, d->db);
	config.queue_rows = 10;
	config.notify = notify_cb;
	config.notify_arg = &seen;
	d->st = test_open(d->db, &config);

	other = test_db(d->db);
	test_exec(other, "BEGIN IMMEDIATE");
	assert_int_equal(log_rows(d->st, 0, 1, t0, "allow", "ping"), 0);
	test_wait_stats(d->st, stats_dropped, 1, "the first row dropped");
	store_stats(d->st, &s);
	assert_true(s.degraded);
	assert_int_equal(s.dropped_write, 1);
	assert_string_equal(s.last_error,
	    "the database is locked by another process");

	assert_int_equal(log_rows(d->st, 1, 16, t0, "allow", "ping"), 5);
	store_stats(d->st, &s);
	assert_int_equal(s.queued, 10);
	assert_int_equal(s.dropped, 6);

	test_exec(other, "COMMIT");
	sqlite3_close(other);
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);
	store_stats(d->st, &s);
	assert_int_equal(s.written, 10);
	assert_int_equal(s.dropped, 6);
	assert_int_equal(s.dropped_write, 1);
	assert_false(s.degraded);
	assert_int_equal(s.faults, 1);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM access_log"),
	    10);

	/* The caller heard of the fault and of the recovery, in order. */
	store_dispatch(d->st);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.degraded[0], 1);
	assert_int_equal(seen.degraded[1], 0);
	assert_string_equal(seen.error,
	    "the database is locked by another process");
}

/* --access-log off: rows are accepted and nothing is written. */
static void
test_access_log_off(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	struct store_stats	 s;

	store_config_init(&config, d->db);
	config.access_log = 0;
	d->st = test_open(d->db, &config);
	assert_int_equal(log_rows(d->st, 0, 50, now_us(), "allow", "ping"), 0);
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);
	store_stats(d->st, &s);
	assert_int_equal(s.written, 0);
	assert_int_equal(s.dropped, 0);
	store_close(d->st);
	d->st = NULL;
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM access_log"),
	    0);
}

/* Retention by rows: the oldest go, the newest keep_rows stay. */
static void
test_retention_rows(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	struct store_stats	 s;

	store_config_init(&config, d->db);
	config.keep_rows = 100;
	d->st = test_open(d->db, &config);
	log_rows(d->st, 0, 250, now_us(), "allow", "ping");
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);
	wait_count(d->db, "SELECT count(*) FROM access_log", 100);
	assert_int_equal(test_int(d->db, "SELECT min(bytes_in) FROM"
	    " access_log"), 100 + 150);
	assert_int_equal(test_int(d->db, "SELECT max(bytes_in) FROM"
	    " access_log"), 100 + 249);
	store_stats(d->st, &s);
	assert_int_equal(s.deleted, 150);

	/* The count survives a restart: the limit still holds after it. */
	store_close(d->st);
	d->st = test_open(d->db, &config);
	log_rows(d->st, 1000, 1010, now_us(), "allow", "ping");
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);
	wait_count(d->db, "SELECT count(*) FROM access_log", 100);
	assert_int_equal(test_int(d->db, "SELECT min(bytes_in) FROM"
	    " access_log"), 100 + 160);
}

/*
 * Retention by age: rows older than keep_days go, in steps of
 * STORE_RETAIN_STEP, and younger ones stay.
 */
static void
test_retention_age(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	const int		 old = STORE_RETAIN_STEP * 2 + 500;

	store_config_init(&config, d->db);
	config.keep_days = 30;
	d->st = test_open(d->db, &config);
	log_rows(d->st, 0, old, now_us() - 40 * DAY_USEC, "deny", "ping");
	log_rows(d->st, 10000, 10020, now_us() - 29 * DAY_USEC, "allow",
	    "ping");
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);
	wait_count(d->db, "SELECT count(*) FROM access_log", 20);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM access_log"
	    " WHERE time < unixepoch('now', '-30 days')"), 0);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM denials"), 0);
}

/* Rows still queued when the store closes are written, not lost. */
static void
test_close_writes_queued(void **state)
{
	struct test_dir		*d = *state;

	d->st = test_open(d->db, NULL);
	log_rows(d->st, 0, 3000, now_us(), "allow", "ping");
	store_close(d->st);
	d->st = NULL;
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM access_log"),
	    3000);
}

/* The file size limit before a test lowered it, put back at tear-down. */
static struct rlimit	saved_fsize;
static int		fsize_lowered;

static int
fsize_teardown(void **state)
{
	if (fsize_lowered)
		setrlimit(RLIMIT_FSIZE, &saved_fsize);
	fsize_lowered = 0;
	return (test_teardown(state));
}

struct commit_seen {
	int	 done;
	uint64_t revision;
	char	 error[STORE_ERROR_MAX];
};

static void
commit_cb(const struct store_commit *c, void *arg)
{
	struct commit_seen	*seen = arg;

	seen->done = 1;
	seen->revision = c->revision;
	snprintf(seen->error, sizeof(seen->error), "%s",
	    c->error != NULL ? c->error : "");
}

/*
 * A file size limit (as prlimit --fsize sets): writes fail with EFBIG,
 * the store turns degraded without the process dying of SIGXFSZ, rows
 * are counted as dropped, a policy change fails and changes nothing,
 * and everything resumes once the limit is lifted.
 */
static void
test_degraded_file_size(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	struct store_stats	 s;
	struct store_meta	 meta = { 0, "root", "dspctl", NULL };
	struct commit_seen	 seen;
	struct rlimit		 low;
	struct stat		 sb;
	struct store_access_row	 r;
	struct row_text		 t;
	char			 wal[TEST_PATH_MAX], *big;
	off_t			 biggest;
	int			 i;

	d->st = test_open(d->db, NULL);
	assert_int_equal(store_policy_start(d->st, "{\"access\":{}}", "A", 0,
	    0, &res), 0);
	store_start_free(&res);
	log_rows(d->st, 0, 10, now_us(), "allow", "ping");
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);

	snprintf(wal, sizeof(wal), "%s-wal", d->db);
	biggest = stat(d->db, &sb) == 0 ? sb.st_size : 0;
	if (stat(wal, &sb) == 0 && sb.st_size > biggest)
		biggest = sb.st_size;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
	low = saved_fsize;
	low.rlim_cur = biggest + 16 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	fsize_lowered = 1;

	for (i = 0; i < 64; i++) {
		row_make(&r, &t, 100 + i, now_us(), "allow", "ping");
		memset(t.target, 'x', LONG_TARGET);
		t.target[LONG_TARGET] = '\0';
		store_log_access(d->st, &r);
	}
	assert_int_equal(store_flush(d->st, TEST_WAIT_MSEC), 0);
	store_stats(d->st, &s);
	assert_true(s.degraded);
	assert_string_equal(s.last_error, "the database could not be written: "
	    "file size limit reached");
	assert_true(s.dropped_write > 0);
	assert_int_equal(s.written + s.dropped, 10 + 64);

	/* A policy change bigger than the room left fails cleanly. */
	if (asprintf(&big, "{\"access\":{\"exec\":\"write\"},\"pad\":"
	    "\"%0*d\"}", 64 * 1024, 0) == -1)
		fail_msg("asprintf");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_policy_change(d->st, big, &meta, commit_cb,
	    &seen), 0);
	test_wait(d->st, &seen.done);
	free(big);
	assert_int_equal(seen.revision, 0);
	assert_non_null(strstr(seen.error, "policy not changed: "));

	setrlimit(RLIMIT_FSIZE, &saved_fsize);
	fsize_lowered = 0;
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM"
	    " policy_revision"), 1);

	/* Lifted: the next rows are written and the store is healthy. */
	log_rows(d->st, 1000, 1010, now_us(), "allow", "ping");
	test_wait_stats(d->st, stats_written, s.written + 10, "writes again");
	store_stats(d->st, &s);
	assert_false(s.degraded);
}

/* A child's check: say what failed and leave with a status. */
#define CHILD_CHECK(cond, code) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "read-only child: %s (line %d)\n",	\
		    #cond, __LINE__);					\
		return (code);						\
	}								\
} while (0)

/* Poll stats in the child until check says yes; 0 on success. */
static int
child_wait(struct store *st, int (*check)(const struct store_stats *,
    long long), long long want)
{
	struct store_stats	s;
	int			waited;

	for (waited = 0; waited <= TEST_WAIT_MSEC; waited += 20) {
		store_stats(st, &s);
		if (check(&s, want))
			return (0);
		usleep(20 * 1000);
	}
	return (-1);
}

/* The read-only scenario, as a user whose file modes count. */
static int
read_only_child(const char *db, const struct passwd *pw)
{
	struct store_config	 config;
	struct store_start	 res;
	struct store_stats	 s;
	struct store		*st;
	char			 err[STORE_ERROR_MAX];

	if (pw != NULL)
		CHILD_CHECK(setgroups(0, NULL) == 0 &&
		    setgid(pw->pw_gid) == 0 && setuid(pw->pw_uid) == 0, 2);
	store_config_init(&config, db);
	CHILD_CHECK(store_open(&config, &st, err, sizeof(err)) == 0, 3);
	CHILD_CHECK(store_policy_start(st, "{}", "", 0, 0, &res) == 0, 3);
	store_start_free(&res);
	store_close(st);
	CHILD_CHECK(chmod(db, 0444) == 0, 4);

	/* It opens, degraded: dspd runs and serves on what it holds. */
	CHILD_CHECK(store_open(&config, &st, err, sizeof(err)) == 0, 5);
	store_stats(st, &s);
	CHILD_CHECK(s.degraded, 6);
	CHILD_CHECK(strcmp(s.last_error, "the database is read-only") == 0, 6);
	log_rows(st, 0, 5, now_us(), "deny", "exec");
	CHILD_CHECK(child_wait(st, stats_dropped, 5) == 0, 7);

	CHILD_CHECK(chmod(db, 0644) == 0, 8);
	log_rows(st, 5, 10, now_us(), "deny", "exec");
	CHILD_CHECK(child_wait(st, stats_written, 5) == 0, 9);
	CHILD_CHECK(child_wait(st, stats_degraded, 0) == 0, 9);
	store_stats(st, &s);
	CHILD_CHECK(s.dropped == 5 && s.dropped_write == 5, 10);
	store_close(st);
	return (0);
}

/*
 * An unwritable database file: the store opens degraded, drops and
 * counts rows, and writes again once the file is writable.  Root ignores
 * file modes, so as root the scenario runs in a child as "nobody".
 */
static void
test_degraded_read_only(void **state)
{
	struct test_dir		*d = *state;
	struct passwd		*pw = NULL;
	pid_t			 pid;
	int			 status;

	if (geteuid() == 0) {
		if ((pw = getpwnam("nobody")) == NULL) {
			print_message("skipped: running as root and there is "
			    "no user \"nobody\" to run as\n");
			skip();
		}
		if (chown(d->path, pw->pw_uid, pw->pw_gid) != 0)
			fail_msg("chown %s: %s", d->path, strerror(errno));
	}
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(read_only_child(d->db, pw));
	if (waitpid(pid, &status, 0) != pid)
		fail_msg("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the read-only scenario failed (status %d)", status);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM access_log"),
	    5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_rows_written_in_batches),
		TEST(test_query_filters_and_caps),
		TEST(test_full_queue_drops),
		TEST(test_access_log_off),
		TEST(test_retention_rows),
		TEST(test_retention_age),
		TEST(test_close_writes_queued),
		cmocka_unit_test_setup_teardown(test_degraded_file_size,
		    test_setup, fsize_teardown),
		TEST(test_degraded_read_only),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
