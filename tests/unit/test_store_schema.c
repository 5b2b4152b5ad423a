/*
 * Unit tests of the store's opening: the folder it creates, migrations
 * from an empty file and from every earlier schema, a database from a
 * newer dsp, a file that is not a database, and the lock file that keeps
 * a second dspd away.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_test.h"

/* The tables and views every current database has. */
static const char *const schema_objects[] = {
	"policy_revision", "env_applied", "bypass", "audit", "access_log",
	"denials", "revisions", "policy_now"
};

/* Fail unless the database at path is at the current schema, usable. */
static void
assert_current(const char *path)
{
	char	sql[256];
	char	*mode;
	size_t	i;

	assert_int_equal(test_int(path, "PRAGMA user_version"),
	    store_schema_version());
	for (i = 0; i < nitems(schema_objects); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema"
		    " WHERE name = '%s'", schema_objects[i]);
		if (test_int(path, sql) != 1)
			fail_msg("%s is missing", schema_objects[i]);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s",
		    schema_objects[i]);
		assert_true(test_int(path, sql) >= 0);
	}
	mode = test_text(path, "PRAGMA journal_mode");
	assert_non_null(mode);
	assert_string_equal(mode, "wal");
	free(mode);
}

/* A database that does not exist yet, in folders that do not either. */
static void
test_open_creates(void **state)
{
	struct test_dir	*d = *state;
	struct store	*st;
	struct stat	 sb;
	char		 path[TEST_PATH_MAX], folder[TEST_PATH_MAX / 2];

	snprintf(folder, sizeof(folder), "%s/var/lib/dsp", d->path);
	snprintf(path, sizeof(path), "%s/dsp.db", folder);

	st = test_open(path, NULL);
	store_close(st);

	assert_int_equal(stat(folder, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_current(path);
}

/*
 * From every earlier schema, including an empty file (version 0), the
 * store migrates forward and the data already there stays.
 */
static void
test_migrate_from_each_version(void **state)
{
	struct test_dir	*d = *state;
	struct store	*st;
	sqlite3		*db;
	char		 err[STORE_ERROR_MAX], path[TEST_PATH_MAX];
	int		 from;

	for (from = 0; from < store_schema_version(); from++) {
		snprintf(path, sizeof(path), "%s/from-%d.db", d->path, from);
		db = test_db(path);
		if (schema_migrate(db, from, err, sizeof(err)) != SQLITE_OK)
			fail_msg("building schema %d: %s", from, err);
		assert_int_equal(test_int(path, "PRAGMA user_version"), from);
		sqlite3_close(db);

		st = test_open(path, NULL);
		store_close(st);
		assert_current(path);

		/* A second open finds nothing to do and loses nothing. */
		db = test_db(path);
		test_exec(db, "INSERT INTO audit (time, actor, source, event)"
		    " VALUES (1, 'test', 'test', 'marker')");
		sqlite3_close(db);
		st = test_open(path, NULL);
		store_close(st);
		assert_int_equal(test_int(path, "SELECT count(*) FROM audit"
		    " WHERE event = 'marker'"), 1);
	}
}

/* A zero-length file is a database of schema 0. */
static void
test_migrate_empty_file(void **state)
{
	struct test_dir	*d = *state;
	struct store	*st;
	FILE		*f;

	if ((f = fopen(d->db, "w")) == NULL)
		fail_msg("%s: %s", d->db, strerror(errno));
	fclose(f);
	st = test_open(d->db, NULL);
	store_close(st);
	assert_current(d->db);
}

/*
 * A migration that fails leaves the database as it was: a table in the
 * way of version 1 makes it fail half-way, and nothing of it remains.
 */
static void
test_migration_is_atomic(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	struct store		*st;
	sqlite3			*db;
	char			 err[STORE_ERROR_MAX];

	db = test_db(d->db);
	test_exec(db, "CREATE TABLE access_log (x)");
	sqlite3_close(db);

	store_config_init(&config, d->db);
	assert_int_equal(store_open(&config, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "migration to schema 1 failed"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(test_int(d->db, "PRAGMA user_version"), 0);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name = 'policy_revision'"), 0);
}

/* A database from a newer dsp is refused and left untouched. */
static void
test_newer_schema_refused(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	struct store		*st;
	sqlite3			*db;
	char			 err[STORE_ERROR_MAX], want[128], sql[64];
	int			 newer = store_schema_version() + 1;

	db = test_db(d->db);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", newer);
	test_exec(db, sql);
	test_exec(db, "CREATE TABLE future (x)");
	sqlite3_close(db);

	store_config_init(&config, d->db);
	assert_int_equal(store_open(&config, &st, err, sizeof(err)), -1);
	assert_null(st);
	snprintf(want, sizeof(want), "database from a newer dsp (schema %d, "
	    "this dspd knows %d)", newer, store_schema_version());
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n'));
	assert_int_equal(test_int(d->db, "PRAGMA user_version"), newer);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM sqlite_schema"),
	    1);
}

/* Something that is not an SQLite file: refused with SQLite's reason. */
static void
test_not_a_database(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	struct store		*st;
	char			 err[STORE_ERROR_MAX];
	FILE			*f;
	int			 i;

	if ((f = fopen(d->db, "w")) == NULL)
		fail_msg("%s: %s", d->db, strerror(errno));
	for (i = 0; i < 200; i++)
		fputs("this is a text file, not a database\n", f);
	fclose(f);
	store_config_init(&config, d->db);
	assert_int_equal(store_open(&config, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a database"));
	assert_non_null(strstr(err, d->db));
}

/*
 * A second opener of the same database is refused with one line naming
 * the holder's pid, and succeeds once the first has closed.
 */
static void
test_lock_refuses_second(void **state)
{
	struct test_dir		*d = *state;
	struct store_config	 config;
	struct store		*first, *second;
	char			 err[STORE_ERROR_MAX], want[64];

	first = test_open(d->db, NULL);

	store_config_init(&config, d->db);
	assert_int_equal(store_open(&config, &second, err, sizeof(err)), -1);
	assert_null(second);
	snprintf(want, sizeof(want), "in use by another dspd (pid %ld",
	    (long)getpid());
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n'));

	store_close(first);
	assert_int_equal(store_open(&config, &second, err, sizeof(err)), 0);
	store_close(second);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_open_creates),
		TEST(test_migrate_from_each_version),
		TEST(test_migrate_empty_file),
		TEST(test_migration_is_atomic),
		TEST(test_newer_schema_refused),
		TEST(test_not_a_database),
		TEST(test_lock_refuses_second),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
