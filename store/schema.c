/*
 * The database schema, its forward migrations and the views people query.
 *
 * PRAGMA user_version holds the schema version.  Each migration takes the
 * database from one version to the next in one transaction, so a crash
 * leaves either version, never half of one.  dspd refuses a database
 * whose version is newer than the one it knows.  Times are unix seconds
 * (REAL, UTC): datetime(time, 'unixepoch') reads them, and
 * unixepoch('now', '-1 day') compares with them.
 *
 * Schema 1:
 *
 * policy_revision: one row per policy change, never updated or deleted.
 *	number		revision number, from 1
 *	time		when it was committed
 *	profile		the profile the state is for ("default")
 *	actor_uid	unix uid of who made it, NULL for env and expiry
 *	actor		user name, or "env", "expiry"
 *	source		env, dspctl, dsptui, rollback, expiry
 *	reason		free text; an env revision lists the runtime
 *			changes it overrode
 *	state		the whole policy after the change, as JSON:
 *			{"profile", "access": {group: off|read|write},
 *			"overrides": {action: allow|deny}, "grants":
 *			[{"group"|"action", "access"|"override", "until"}]}
 *
 * env_applied: the one row of the environment dspd applied last.
 *	snapshot	the policy variables as text, compared at start
 *	revision	the revision that environment gave
 *	time		when it was applied
 *
 * bypass: the emergency bypass in force, at most one row.
 *	scope		"all", "group:NAME" or "profile:NAME"
 *	since, until	start and wall-clock deadline
 *	actor_uid, actor, reason
 *
 * audit: events that are not policy revisions.
 *	time, actor_uid, actor, source
 *	event		bypass-start, bypass-end, bypass-expired
 *	detail		free text
 *
 * access_log: one row per finished exchange or stream.
 *	id		row number, growing
 *	time		when the request started
 *	duration_ms	until the exchange ended
 *	client		"ADDRESS:PORT" or "uid=U pid=P" on a unix socket
 *	listener	the listener's address in URL form
 *	profile		the client's profile
 *	method, target	as the client sent them
 *	path		canonical path, version prefix removed
 *	api_version	"1.41" when the target had a version prefix
 *	grp		endpoint group ("containers", "exec", "unknown")
 *	action		catalogue action ("containers.list")
 *	verdict		allow, deny, bypass
 *	policy_verdict	the policy's verdict alone (differs under bypass)
 *	revision	policy revision that decided
 *	status		HTTP status sent to the client, 0 if none
 *	bytes_in	bytes from the client
 *	bytes_out	bytes to the client
 *	close_reason	complete, client, engine, drain, bypass-ended, error
 *	guard		the body-guard field that refused the request, or NULL
 *
 * Views:
 *	denials		access_log rows with verdict deny, newest first, with
 *			time_utc as text ("2024-12-03 18:00:00.123")
 *	revisions	policy_revision without the state, newest first,
 *			time_utc as text
 *	policy_now	the latest revision unpacked: one row per group
 *			(kind "access"), action override (kind "override")
 *			and grant (kind "grant", with until_utc)
 */

#include <stdio.h>
#include <string.h>

#include "store_priv.h"

/* Migration i takes user_version i to i + 1. */
static const char *const schema_migrations[] = {
	/* 0 to 1: everything. */
	"CREATE TABLE policy_revision ("
	"  number INTEGER PRIMARY KEY,"
	"  time REAL NOT NULL,"
	"  profile TEXT NOT NULL DEFAULT 'default',"
	"  actor_uid INTEGER,"
	"  actor TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  reason TEXT,"
	"  state TEXT NOT NULL CHECK (json_valid(state)));"
	"CREATE TABLE env_applied ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  snapshot TEXT NOT NULL,"
	"  revision INTEGER,"
	"  time REAL NOT NULL);"
	"CREATE TABLE bypass ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  scope TEXT NOT NULL,"
	"  since REAL NOT NULL,"
	"  until REAL NOT NULL,"
	"  actor_uid INTEGER,"
	"  actor TEXT NOT NULL,"
	"  reason TEXT);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  time REAL NOT NULL,"
	"  actor_uid INTEGER,"
	"  actor TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  detail TEXT);"
	"CREATE TABLE access_log ("
	"  id INTEGER PRIMARY KEY,"
	"  time REAL NOT NULL,"
	"  duration_ms REAL NOT NULL,"
	"  client TEXT,"
	"  listener TEXT,"
	"  profile TEXT,"
	"  method TEXT,"
	"  target TEXT,"
	"  path TEXT,"
	"  api_version TEXT,"
	"  grp TEXT,"
	"  action TEXT,"
	"  verdict TEXT,"
	"  policy_verdict TEXT,"
	"  revision INTEGER,"
	"  status INTEGER,"
	"  bytes_in INTEGER,"
	"  bytes_out INTEGER,"
	"  close_reason TEXT,"
	"  guard TEXT);"
	"CREATE INDEX access_log_time ON access_log(time);"
	"CREATE INDEX access_log_denied ON access_log(time)"
	"  WHERE verdict = 'deny';"
	"CREATE VIEW denials AS"
	"  SELECT id, strftime('%Y-%m-%d %H:%M:%f', time, 'unixepoch')"
	"    AS time_utc, time, client, listener, profile, method, target,"
	"    path, api_version, grp, action, revision, status, guard"
	"  FROM access_log WHERE verdict = 'deny' ORDER BY time DESC;"
	"CREATE VIEW revisions AS"
	"  SELECT number, strftime('%Y-%m-%d %H:%M:%S', time, 'unixepoch')"
	"    AS time_utc, profile, actor, actor_uid, source, reason"
	"  FROM policy_revision ORDER BY number DESC;"
	"CREATE VIEW policy_now AS"
	"  WITH latest AS ("
	"    SELECT number, profile, state FROM policy_revision AS r"
	"    WHERE number = (SELECT max(number) FROM policy_revision"
	"      WHERE profile = r.profile))"
	"  SELECT latest.profile AS profile, latest.number AS revision,"
	"    'access' AS kind, a.key AS name, a.value AS value,"
	"    NULL AS until_utc"
	"  FROM latest, json_each(latest.state, '$.access') AS a"
	"  UNION ALL"
	"  SELECT latest.profile, latest.number, 'override', o.key, o.value,"
	"    NULL"
	"  FROM latest, json_each(latest.state, '$.overrides') AS o"
	"  UNION ALL"
	"  SELECT latest.profile, latest.number, 'grant',"
	"    coalesce(json_extract(g.value, '$.group'),"
	"      json_extract(g.value, '$.action')),"
	"    coalesce(json_extract(g.value, '$.access'),"
	"      json_extract(g.value, '$.override')),"
	"    strftime('%Y-%m-%d %H:%M:%S', json_extract(g.value, '$.until'),"
	"      'unixepoch')"
	"  FROM latest, json_each(latest.state, '$.grants') AS g;"
};

_Static_assert(sizeof(schema_migrations) / sizeof(schema_migrations[0]) ==
    SCHEMA_VERSION, "one migration per schema version");

/* The database's schema version; an unreadable file is an error. */
int
schema_version(sqlite3 *db, int *version)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return (rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return (rc);
}

/*
 * Bring the database forward to version target, one transaction per
 * step.  Returns an SQLite code; err says which step failed and why.
 */
int
schema_migrate(sqlite3 *db, int target, char *err, size_t errlen)
{
	char	 sql[64];
	int	 version, rc;

	if ((rc = schema_version(db, &version)) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return (rc);
	}
	if (target > SCHEMA_VERSION)
		target = SCHEMA_VERSION;
	for (; version < target; version++) {
		if ((rc = store_exec(db, "BEGIN IMMEDIATE")) != SQLITE_OK)
			goto fail;
		if ((rc = store_exec(db, schema_migrations[version])) !=
		    SQLITE_OK)
			goto fail_rollback;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    version + 1);
		if ((rc = store_exec(db, sql)) != SQLITE_OK)
			goto fail_rollback;
		if ((rc = store_exec(db, "COMMIT")) != SQLITE_OK)
			goto fail_rollback;
	}
	return (SQLITE_OK);

fail_rollback:
	snprintf(err, errlen, "migration to schema %d failed: %s",
	    version + 1, sqlite3_errmsg(db));
	store_exec(db, "ROLLBACK");
	return (rc);

fail:
	snprintf(err, errlen, "migration to schema %d failed: %s",
	    version + 1, sqlite3_errmsg(db));
	return (rc);
}
