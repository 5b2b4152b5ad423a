/*
 * What the store's unit tests share: a private folder under /tmp removed
 * afterwards, a wait for the store's answers the way an event loop would
 * wait, and a second SQLite connection to look at the database directly.
 */

#ifndef STORE_TEST_H
#define STORE_TEST_H

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_priv.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Milliseconds a test waits for an answer from the store thread. */
#define TEST_WAIT_MSEC		5000

/* Bytes of the paths tests build under their folder. */
#define TEST_PATH_MAX		256

/* A test's private folder, and a store teardown closes if left open. */
struct test_dir {
	char		 path[64];	/* /tmp/dsp-store-XXXXXX */
	char		 db[96];
	struct store	*st;
};

static inline void
test_dir_make(struct test_dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/dsp-store-XXXXXX");
	if (mkdtemp(d->path) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(d->db, sizeof(d->db), "%s/dsp.db", d->path);
}

static inline int
test_dir_unlink_cb(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	return (remove(path));
}

static inline void
test_dir_remove(struct test_dir *d)
{
	if (d->path[0] != '\0')
		nftw(d->path, test_dir_unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
	d->path[0] = '\0';
}

/* cmocka set-up: a fresh folder for each test, in *state. */
static inline int
test_setup(void **state)
{
	struct test_dir	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (-1);
	test_dir_make(d);
	*state = d;
	return (0);
}

/* cmocka tear-down, run after failures too: close and remove. */
static inline int
test_teardown(void **state)
{
	struct test_dir	*d = *state;

	if (d->st != NULL)
		store_close(d->st);
	test_dir_remove(d);
	free(d);
	return (0);
}

#define TEST(f)	cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

/* Open a store on d->db with the defaults, failing the test on error. */
static inline struct store *
test_open(const char *path, const struct store_config *given)
{
	struct store_config	 config;
	struct store		*st;
	char			 err[STORE_ERROR_MAX];

	if (given != NULL)
		config = *given;
	else
		store_config_init(&config, path);
	config.path = path;
	if (store_open(&config, &st, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	return (st);
}

/*
 * Wait on the store's wake-up descriptor and dispatch, as dspd's event
 * loop does, until a callback has set *done.
 */
static inline void
test_wait(struct store *st, const int *done)
{
	struct pollfd	pfd;
	int		waited = 0;

	while (!*done) {
		pfd.fd = store_wakeup_fd(st);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 100) > 0)
			store_dispatch(st);
		waited += 100;
		if (!*done && waited > TEST_WAIT_MSEC)
			fail_msg("no answer from the store thread");
	}
}

/* Poll the store's stats until check says yes, or fail. */
static inline void
test_wait_stats(struct store *st, int (*check)(const struct store_stats *,
    long long), long long want, const char *what)
{
	struct store_stats	s;
	int			waited;

	for (waited = 0; waited <= TEST_WAIT_MSEC; waited += 20) {
		store_stats(st, &s);
		if (check(&s, want))
			return;
		usleep(20 * 1000);
	}
	fail_msg("timed out waiting for %s (written %llu, dropped %llu, "
	    "degraded %d)", what, (unsigned long long)s.written,
	    (unsigned long long)s.dropped, s.degraded);
}

/* A connection of the test's own to the database. */
static inline sqlite3 *
test_db(const char *path)
{
	sqlite3	*db;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		fail_msg("sqlite3_open %s: %s", path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 2000);
	return (db);
}

/* The first column of the first row of a query, as an integer. */
static inline long long
test_int(const char *path, const char *sql)
{
	sqlite3		*db = test_db(path);
	sqlite3_stmt	*s;
	long long	 v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return (v);
}

/* The first column of the first row as text (caller frees), or NULL. */
static inline char *
test_text(const char *path, const char *sql)
{
	sqlite3		*db = test_db(path);
	sqlite3_stmt	*s;
	char		*v = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		v = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return (v);
}

static inline void
test_exec(sqlite3 *db, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

#endif /* STORE_TEST_H */
