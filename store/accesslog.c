/*
 * The access log: rows copied off the caller's structures, written in
 * batched transactions through prepared statements, and deleted by age
 * and by count a small step at a time so that no step holds the write
 * lock for long.
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

/*
 * The text fields of a row, in the order of the INSERT's columns from
 * ACCESSLOG_FIRST_TEXT on and of query.c's SELECT.
 */
const size_t accesslog_text[] = {
	offsetof(struct store_access_row, client),
	offsetof(struct store_access_row, listener),
	offsetof(struct store_access_row, profile),
	offsetof(struct store_access_row, method),
	offsetof(struct store_access_row, target),
	offsetof(struct store_access_row, path),
	offsetof(struct store_access_row, api_version),
	offsetof(struct store_access_row, group),
	offsetof(struct store_access_row, action),
	offsetof(struct store_access_row, verdict),
	offsetof(struct store_access_row, policy_verdict),
	offsetof(struct store_access_row, close_reason),
	offsetof(struct store_access_row, guard)
};
const size_t accesslog_ntext = sizeof(accesslog_text) /
    sizeof(accesslog_text[0]);

/* Parameter number of the first text field in the INSERT. */
#define ACCESSLOG_FIRST_TEXT	7

static const char accesslog_insert_sql[] =
	"INSERT INTO access_log (time, duration_ms, revision, status,"
	" bytes_in, bytes_out, client, listener, profile, method, target,"
	" path, api_version, grp, action, verdict, policy_verdict,"
	" close_reason, guard)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* The oldest rows, by row number: what the count limit removes. */
static const char accesslog_oldest_sql[] =
	"DELETE FROM access_log WHERE id IN"
	" (SELECT id FROM access_log ORDER BY id LIMIT ?)";

/* Rows that started before a time: what the age limit removes. */
static const char accesslog_aged_sql[] =
	"DELETE FROM access_log WHERE id IN"
	" (SELECT id FROM access_log WHERE time < ? ORDER BY time LIMIT ?)";

/* The text field at offset off of a row. */
static const char *
accesslog_field(const struct store_access_row *row, size_t off)
{
	return (*(const char *const *)((const char *)row + off));
}

static void
accesslog_set_field(struct store_access_row *row, size_t off, const char *s)
{
	*(const char **)((char *)row + off) = s;
}

/*
 * Copy a row and its strings into one allocation, so that the caller's
 * buffers may be reused as soon as store_log_access returns.
 */
struct store_row *
accesslog_copy(const struct store_access_row *row)
{
	struct store_row	*r;
	const char		*s;
	size_t			 i, len[sizeof(accesslog_text) /
				     sizeof(accesslog_text[0])];
	size_t			 total = 0;
	char			*p;

	for (i = 0; i < accesslog_ntext; i++) {
		s = accesslog_field(row, accesslog_text[i]);
		len[i] = s != NULL ? strnlen(s, STORE_FIELD_MAX) : 0;
		if (s != NULL)
			total += len[i] + 1;
	}
	if ((r = malloc(sizeof(*r) + total)) == NULL)
		return (NULL);
	r->row = *row;

	p = r->buf;
	for (i = 0; i < accesslog_ntext; i++) {
		s = accesslog_field(row, accesslog_text[i]);
		if (s == NULL)
			continue;
		memcpy(p, s, len[i]);
		p[len[i]] = '\0';
		accesslog_set_field(&r->row, accesslog_text[i], p);
		p += len[i] + 1;
	}
	return (r);
}

/* Prepare the writer's statements on a new read-write connection. */
int
accesslog_prepare(struct store *st)
{
	int	rc;

	rc = sqlite3_prepare_v3(st->db, accesslog_insert_sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &st->insert_row, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(st->db, accesslog_oldest_sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &st->delete_oldest, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(st->db, accesslog_aged_sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &st->delete_aged, NULL);
	if (rc != SQLITE_OK)
		accesslog_finalize(st);
	return (rc);
}

void
accesslog_finalize(struct store *st)
{
	sqlite3_finalize(st->insert_row);
	sqlite3_finalize(st->delete_oldest);
	sqlite3_finalize(st->delete_aged);
	st->insert_row = st->delete_oldest = st->delete_aged = NULL;
}

/* Count the rows once, so that the count limit needs no count(*) later. */
int
accesslog_count(struct store *st)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (st->ro == NULL)
		return (SQLITE_CANTOPEN);
	rc = sqlite3_prepare_v2(st->ro, "SELECT count(*) FROM access_log", -1,
	    &s, NULL);
	if (rc != SQLITE_OK)
		return (rc);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		st->nlogged = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return (rc);
}

/* Bind one row to the INSERT. */
static void
accesslog_bind(sqlite3_stmt *s, const struct store_access_row *row)
{
	const char	*text;
	size_t		 i;

	sqlite3_bind_double(s, 1, (double)row->time_us / 1e6);
	sqlite3_bind_double(s, 2, (double)row->duration_us / 1e3);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)row->revision);
	sqlite3_bind_int(s, 4, row->status);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)row->bytes_in);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)row->bytes_out);
	for (i = 0; i < accesslog_ntext; i++) {
		text = accesslog_field(row, accesslog_text[i]);
		if (text == NULL)
			sqlite3_bind_null(s, ACCESSLOG_FIRST_TEXT + i);
		else
			sqlite3_bind_text(s, ACCESSLOG_FIRST_TEXT + i, text, -1,
			    SQLITE_STATIC);
	}
}

/*
 * Write n rows in one transaction.  Returns an SQLite code; on failure
 * the caller reads the error, then rolls back (SQLite's error state is
 * lost to the ROLLBACK).
 */
int
accesslog_write(struct store *st, struct store_rows *batch, size_t n)
{
	struct store_row	*r;
	int			 rc;

	if ((rc = store_exec(st->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
		return (rc);
	STAILQ_FOREACH(r, batch, entry) {
		accesslog_bind(st->insert_row, &r->row);
		rc = sqlite3_step(st->insert_row);
		sqlite3_reset(st->insert_row);
		sqlite3_clear_bindings(st->insert_row);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if ((rc = store_exec(st->db, "COMMIT")) != SQLITE_OK)
		goto fail;
	st->nlogged += n;
	return (SQLITE_OK);

fail:
	return (rc);
}

/* Run one DELETE step; the rows it removed, or -(SQLite code). */
static long long
accesslog_delete(struct store *st, sqlite3_stmt *s)
{
	long long	n;
	int		rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return (-(long long)rc);
	n = sqlite3_changes64(st->db);
	st->nlogged -= n;
	pthread_mutex_lock(&st->mtx);
	st->stats.deleted += n;
	pthread_mutex_unlock(&st->mtx);
	return (n);
}

/*
 * One retention step: the oldest rows beyond the count limit, else rows
 * past the age limit, STORE_RETAIN_STEP at most.  Returns 1 when more is
 * left to delete, 0 when done, -(SQLite code) on failure.
 */
int
accesslog_retain(struct store *st)
{
	long long	excess, n;
	double		cutoff;

	excess = st->nlogged - st->config.keep_rows;
	if (st->config.keep_rows > 0 && excess > 0) {
		if (excess > STORE_RETAIN_STEP)
			excess = STORE_RETAIN_STEP;
		sqlite3_bind_int64(st->delete_oldest, 1, excess);
		if ((n = accesslog_delete(st, st->delete_oldest)) < 0)
			return ((int)n);
		/* Fewer than counted: someone deleted rows by hand. */
		if (n < excess && accesslog_count(st) != SQLITE_OK)
			st->nlogged = 0;
		return (st->nlogged > st->config.keep_rows);
	}

	if (st->config.keep_days <= 0)
		return (0);
	cutoff = store_wall() - (double)st->config.keep_days * 86400;
	sqlite3_bind_double(st->delete_aged, 1, cutoff);
	sqlite3_bind_int(st->delete_aged, 2, STORE_RETAIN_STEP);
	if ((n = accesslog_delete(st, st->delete_aged)) < 0)
		return ((int)n);
	return (n == STORE_RETAIN_STEP);
}
