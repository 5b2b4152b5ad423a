/*
 * Read-only queries of the access log for the control socket: their own
 * connection, which cannot write, and caps on rows and on time so that
 * one question cannot hold the store thread.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

/* Statements run between two looks at the clock during a query. */
#define QUERY_PROGRESS_OPS	1000

/* Columns in the order accesslog.c's text table lists the strings. */
static const char query_sql[] =
	"SELECT id, time, duration_ms, revision, status, bytes_in, bytes_out,"
	" client, listener, profile, method, target, path, api_version, grp,"
	" action, verdict, policy_verdict, close_reason, guard"
	" FROM access_log"
	" WHERE (?1 IS NULL OR time >= ?1) AND (?2 IS NULL OR time < ?2)"
	" AND (?3 IS NULL OR client = ?3) AND (?4 IS NULL OR grp = ?4)"
	" AND (?5 IS NULL OR verdict = ?5)"
	" ORDER BY time DESC LIMIT ?6";

/* Column of the first text field in query_sql. */
#define QUERY_FIRST_TEXT	7

/* Seconds (or milliseconds) as stored, back to whole microseconds. */
static int64_t
query_micro(double v, double scale)
{
	v *= scale;
	return ((int64_t)(v < 0 ? v - 0.5 : v + 0.5));
}

/* Open the read-only connection that queries and policy reads use. */
int
query_open(struct store *st, char *err, size_t errlen)
{
	int	rc;

	rc = sqlite3_open_v2(st->config.path, &st->ro, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", st->config.path,
		    st->ro != NULL ? sqlite3_errmsg(st->ro) :
		    sqlite3_errstr(rc));
		return (-1);
	}
	sqlite3_extended_result_codes(st->ro, 1);
	sqlite3_busy_timeout(st->ro, STORE_BUSY_MSEC);
	store_exec(st->ro, "PRAGMA query_only = 1");
	return (0);
}

/* Stop a query that has run past its deadline. */
static int
query_progress_cb(void *arg)
{
	struct store	*st = arg;

	return (store_msec() > st->query_deadline);
}

static void
query_bind_text(sqlite3_stmt *s, int i, const char *text)
{
	if (text == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

/* One result row, copied the way a logged row is. */
static struct store_row *
query_row(sqlite3_stmt *s)
{
	struct store_access_row	 row;
	size_t			 i;

	memset(&row, 0, sizeof(row));
	row.id = sqlite3_column_int64(s, 0);
	row.time_us = query_micro(sqlite3_column_double(s, 1), 1e6);
	row.duration_us = query_micro(sqlite3_column_double(s, 2), 1e3);
	row.revision = (uint64_t)sqlite3_column_int64(s, 3);
	row.status = sqlite3_column_int(s, 4);
	row.bytes_in = (uint64_t)sqlite3_column_int64(s, 5);
	row.bytes_out = (uint64_t)sqlite3_column_int64(s, 6);
	for (i = 0; i < accesslog_ntext; i++)
		*(const char **)((char *)&row + accesslog_text[i]) =
		    (const char *)sqlite3_column_text(s, QUERY_FIRST_TEXT + i);
	return (accesslog_copy(&row));
}

/*
 * Run a query job: newest rows first, at most the job's limit (capped)
 * and STORE_QUERY_MSEC of work; truncated says a cap cut the answer.
 */
void
query_run(struct store *st, struct store_job *job)
{
	const struct store_query	*q = &job->query;
	sqlite3_stmt			*s = NULL;
	size_t				 limit;
	int				 rc;

	limit = q->limit;
	if (limit == 0 || limit > STORE_QUERY_ROWS_MAX)
		limit = STORE_QUERY_ROWS_MAX;
	job->rows = calloc(limit, sizeof(*job->rows));
	job->rowbufs = calloc(limit, sizeof(*job->rowbufs));
	if (job->rows == NULL || job->rowbufs == NULL) {
		job->error = strdup("out of memory");
		return;
	}

	rc = sqlite3_prepare_v2(st->ro, query_sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	if (q->since != 0)
		sqlite3_bind_double(s, 1, (double)q->since);
	if (q->until != 0)
		sqlite3_bind_double(s, 2, (double)q->until);
	query_bind_text(s, 3, q->client);
	query_bind_text(s, 4, q->group);
	query_bind_text(s, 5, q->verdict);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)limit + 1);

	st->query_deadline = store_msec() + STORE_QUERY_MSEC;
	sqlite3_progress_handler(st->ro, QUERY_PROGRESS_OPS,
	    query_progress_cb, st);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (job->nrows == limit) {
			job->truncated = 1;
			break;
		}
		if ((job->rowbufs[job->nrows] = query_row(s)) == NULL) {
			job->error = strdup("out of memory");
			break;
		}
		job->rows[job->nrows] = job->rowbufs[job->nrows]->row;
		job->nrows++;
	}
	sqlite3_progress_handler(st->ro, 0, NULL, NULL);
	if (rc == SQLITE_INTERRUPT)
		job->truncated = 1;
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	return;

fail:
	if (job->error == NULL)
		job->error = strdup(sqlite3_errmsg(st->ro));
	sqlite3_finalize(s);
}

void
query_free(struct store_job *job)
{
	size_t	i;

	for (i = 0; i < job->nrows; i++)
		free(job->rowbufs[i]);
	free(job->rowbufs);
	free(job->rows);
}
