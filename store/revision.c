/*
 * Policy revisions: states flattened and diffed, commits, history, the
 * environment rule at start, grants that expire, and the stored bypass.
 * Everything here runs on the store thread.  Reads go through the
 * read-only connection, which works while writes fail; writes through
 * the read-write one, each change in one transaction.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_priv.h"

/* Bytes of a flattened key; deeper or longer keys are cut. */
#define REVISION_KEY_MAX	256
/* Levels of nesting a state is flattened through; deeper is one leaf. */
#define REVISION_DEPTH_MAX	8
/* Bytes of a revision's reason that the store writes itself. */
#define REVISION_REASON_MAX	2048
/* Bytes of a time as text, "2024-12-03 18:00:00 UTC". */
#define REVISION_TIME_MAX	32

static const char revision_insert_sql[] =
	"INSERT INTO policy_revision (time, profile, actor_uid, actor,"
	" source, reason, state) VALUES (?, ?, ?, ?, ?, ?, ?)";

/* A unix time as UTC text. */
static void
revision_time_text(double t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		secs = (time_t)t;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
}

/* Append to a growing text, cutting it (with "...") at its size. */
static void
revision_append(char *buf, size_t size, const char *s)
{
	size_t	len = strlen(buf), n = strlen(s);

	if (len + n < size) {
		memcpy(buf + len, s, n + 1);
		return;
	}
	if (size > 4 && len < size - 4)
		snprintf(buf + len, size - len, "%.*s...",
		    (int)(size - len - 4), s);
}

void
revision_flat_free(struct flat *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int
revision_flat_add(struct flat *f, const char *key, char *value)
{
	struct flat_entry	*v;
	size_t			 size;

	if (value == NULL)
		return (-1);
	if (f->n == f->size) {
		size = f->size == 0 ? 32 : f->size * 2;
		if ((v = reallocarray(f->v, size, sizeof(*v))) == NULL) {
			free(value);
			return (-1);
		}
		f->v = v;
		f->size = size;
	}
	if ((f->v[f->n].key = strdup(key)) == NULL) {
		free(value);
		return (-1);
	}
	f->v[f->n++].value = value;
	return (0);
}

/*
 * A leaf as text: strings as they are, an "until" as UTC time (people
 * read these in diffs and warnings), anything else as compact JSON.
 */
static char *
revision_leaf(const char *name, const json_t *v)
{
	char	buf[REVISION_TIME_MAX];

	if (json_is_string(v))
		return (strdup(json_string_value(v)));
	if (name != NULL && strcmp(name, "until") == 0 && json_is_number(v)) {
		revision_time_text(json_number_value(v), buf, sizeof(buf));
		return (strdup(buf));
	}
	return (json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
	    JSON_SORT_KEYS));
}

/*
 * The name a list element goes by in keys: its "group" or "action", or
 * its index when it has neither or shares the name with another element.
 */
static const char *
revision_element_name(const json_t *list, size_t i, const char **member)
{
	const json_t	*e, *other;
	const char	*name = NULL;
	size_t		 j;

	*member = NULL;
	e = json_array_get(list, i);
	if (json_is_string(json_object_get(e, "group")))
		*member = "group";
	else if (json_is_string(json_object_get(e, "action")))
		*member = "action";
	if (*member == NULL)
		return (NULL);
	name = json_string_value(json_object_get(e, *member));
	json_array_foreach(list, j, other) {
		if (j != i && json_is_string(json_object_get(other, *member)) &&
		    strcmp(json_string_value(json_object_get(other, *member)),
		    name) == 0) {
			*member = NULL;
			return (NULL);
		}
	}
	return (name);
}

/* Flatten v under the key in key[0..len). */
static int
revision_flatten_at(const json_t *v, char *key, size_t len, int depth,
    const char *skip, struct flat *f)
{
	const char	*name, *member, *k, *last;
	const json_t	*child;
	char		 index[24];
	size_t		 i;

	if (depth > REVISION_DEPTH_MAX ||
	    (!json_is_object(v) && !json_is_array(v))) {
		last = strrchr(key, '.');
		return (revision_flat_add(f, key,
		    revision_leaf(last != NULL ? last + 1 : key, v)));
	}

	if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, child) {
			if (skip != NULL && strcmp(k, skip) == 0)
				continue;
			snprintf(key + len, REVISION_KEY_MAX - len, "%s%s",
			    len > 0 ? "." : "", k);
			if (revision_flatten_at(child, key, strlen(key),
			    depth + 1, NULL, f) != 0)
				return (-1);
			key[len] = '\0';
		}
		return (0);
	}
	json_array_foreach(v, i, child) {
		if ((name = revision_element_name(v, i, &member)) == NULL) {
			snprintf(index, sizeof(index), "%zu", i);
			name = index;
		}
		snprintf(key + len, REVISION_KEY_MAX - len, "%s%s",
		    len > 0 ? "." : "", name);
		if (revision_flatten_at(child, key, strlen(key), depth + 1,
		    member, f) != 0)
			return (-1);
		key[len] = '\0';
	}
	return (0);
}

static int
revision_flat_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct flat_entry *)a)->key,
	    ((const struct flat_entry *)b)->key));
}

/* A state as sorted (key, text) pairs; see store.h for the key rules. */
int
revision_flatten(const json_t *state, struct flat *f)
{
	char	key[REVISION_KEY_MAX] = "";

	memset(f, 0, sizeof(*f));
	if (revision_flatten_at(state, key, 0, 0, NULL, f) != 0) {
		revision_flat_free(f);
		return (-1);
	}
	if (f->n > 0)
		qsort(f->v, f->n, sizeof(*f->v), revision_flat_cmp);
	return (0);
}

/* The text of key in a flattened state, or NULL. */
static const char *
revision_flat_get(const struct flat *f, const char *key)
{
	struct flat_entry	 want, *e;

	want.key = (char *)(uintptr_t)key;
	e = bsearch(&want, f->v, f->n, sizeof(*f->v), revision_flat_cmp);
	return (e != NULL ? e->value : NULL);
}

static int
revision_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

void
revision_changes_free(struct store_change *c, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(c[i].key);
		free(c[i].before);
		free(c[i].after);
		free(c[i].actor);
	}
	free(c);
}

/* Append one change, copying its strings. */
static int
revision_change_add(struct store_change **v, size_t *n, const char *key,
    const char *before, const char *after, const char *actor,
    uint64_t revision)
{
	struct store_change	*c;

	if ((c = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return (-1);
	*v = c;
	c = &c[*n];
	memset(c, 0, sizeof(*c));
	c->revision = revision;
	if ((c->key = strdup(key)) == NULL ||
	    (before != NULL && (c->before = strdup(before)) == NULL) ||
	    (after != NULL && (c->after = strdup(after)) == NULL) ||
	    (actor != NULL && (c->actor = strdup(actor)) == NULL)) {
		free(c->key);
		free(c->before);
		free(c->after);
		return (-1);
	}
	(*n)++;
	return (0);
}

/* The keys whose text differs between two flattened states, in order. */
int
revision_diff_flat(const struct flat *a, const struct flat *b,
    struct store_change **out, size_t *nout)
{
	size_t	i = 0, j = 0;
	int	cmp, rc = 0;

	*out = NULL;
	*nout = 0;
	while (rc == 0 && (i < a->n || j < b->n)) {
		if (i == a->n)
			cmp = 1;
		else if (j == b->n)
			cmp = -1;
		else
			cmp = strcmp(a->v[i].key, b->v[j].key);
		if (cmp < 0) {
			rc = revision_change_add(out, nout, a->v[i].key,
			    a->v[i].value, NULL, NULL, 0);
			i++;
		} else if (cmp > 0) {
			rc = revision_change_add(out, nout, b->v[j].key, NULL,
			    b->v[j].value, NULL, 0);
			j++;
		} else {
			if (!revision_same(a->v[i].value, b->v[j].value))
				rc = revision_change_add(out, nout,
				    a->v[i].key, a->v[i].value, b->v[j].value,
				    NULL, 0);
			i++;
			j++;
		}
	}
	if (rc != 0) {
		revision_changes_free(*out, *nout);
		*out = NULL;
		*nout = 0;
	}
	return (rc);
}

/* Diff two states given as JSON objects. */
static int
revision_diff_json(const json_t *a, const json_t *b, struct store_change **out,
    size_t *nout)
{
	struct flat	fa, fb;
	int		rc = -1;

	*out = NULL;
	*nout = 0;
	if (revision_flatten(a, &fa) != 0)
		return (-1);
	if (revision_flatten(b, &fb) == 0) {
		rc = revision_diff_flat(&fa, &fb, out, nout);
		revision_flat_free(&fb);
	}
	revision_flat_free(&fa);
	return (rc);
}

/* Diff two states given as JSON text; -1 if either is not an object. */
int
revision_diff_text(const char *a, const char *b, struct store_change **out,
    size_t *nout)
{
	json_t	*ja, *jb;
	char	 err[STORE_ERROR_MAX];
	int	 rc = -1;

	*out = NULL;
	*nout = 0;
	ja = revision_parse(a, err, sizeof(err));
	jb = revision_parse(b, err, sizeof(err));
	if (ja != NULL && jb != NULL)
		rc = revision_diff_json(ja, jb, out, nout);
	json_decref(ja);
	json_decref(jb);
	return (rc);
}

/* A state from JSON text: an object, without duplicate keys. */
json_t *
revision_parse(const char *text, char *err, size_t errlen)
{
	json_error_t	 e;
	json_t		*v;

	if ((v = json_loads(text, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		snprintf(err, errlen, "policy state is not valid JSON: %s",
		    e.text);
		return (NULL);
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "policy state is not a JSON object");
		json_decref(v);
		return (NULL);
	}
	return (v);
}

/* Whether a grant's time has come at now. */
static int
revision_grant_due(const json_t *grant, int64_t now)
{
	const json_t	*until = json_object_get(grant, "until");

	return (json_is_number(until) &&
	    json_number_value(until) <= (double)now);
}

/*
 * A copy of state without the grants due at now, in *out; the number
 * removed is returned and, when reason is given, each removed grant is
 * named there ("exec until 2024-12-03 18:00:00 UTC").
 */
int
revision_remove_expired(const json_t *state, int64_t now, json_t **out,
    char *reason, size_t reasonlen)
{
	json_t		*grants, *g;
	const char	*name;
	char		 when[REVISION_TIME_MAX], line[REVISION_KEY_MAX];
	size_t		 i;
	int		 removed = 0;

	if (reason != NULL && reasonlen > 0)
		reason[0] = '\0';
	if ((*out = json_deep_copy(state)) == NULL)
		return (-1);
	grants = json_object_get(*out, "grants");
	if (!json_is_array(grants))
		return (0);
	for (i = 0; i < json_array_size(grants); ) {
		g = json_array_get(grants, i);
		if (!revision_grant_due(g, now)) {
			i++;
			continue;
		}
		if (reason != NULL) {
			name = json_string_value(json_object_get(g, "group"));
			if (name == NULL)
				name = json_string_value(json_object_get(g,
				    "action"));
			revision_time_text(json_number_value(
			    json_object_get(g, "until")), when, sizeof(when));
			snprintf(line, sizeof(line), "%s%s until %s",
			    removed > 0 ? ", " : "grant expired: ",
			    name != NULL ? name : "(unnamed)", when);
			revision_append(reason, reasonlen, line);
		}
		json_array_remove(grants, i);
		removed++;
	}
	return (removed);
}

/* The earliest "until" among the grants, 0 when none has one. */
int64_t
revision_next_expiry(const json_t *state)
{
	const json_t	*g, *until;
	size_t		 i;
	double		 best = 0;

	json_array_foreach(json_object_get(state, "grants"), i, g) {
		until = json_object_get(g, "until");
		if (json_is_number(until) &&
		    (best == 0 || json_number_value(until) < best))
			best = json_number_value(until);
	}
	/* Rounded up: a timer armed for it must not fire before it. */
	return ((int64_t)best + ((double)(int64_t)best < best));
}

void
revision_revs_free(struct store_revision *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(r[i].profile);
		free(r[i].actor);
		free(r[i].source);
		free(r[i].reason);
	}
	free(r);
}

void
revision_bypass_free(struct store_bypass *b)
{
	if (b == NULL)
		return;
	free(b->scope);
	free(b->actor);
	free(b->reason);
	free(b);
}

/* A copy of a text column, NULL for NULL. */
static char *
revision_column(sqlite3_stmt *s, int i)
{
	const unsigned char	*t = sqlite3_column_text(s, i);

	return (t != NULL ? strdup((const char *)t) : NULL);
}

/* The state of revision number (0: the latest) and its number. */
static int
revision_fetch(struct store *st, uint64_t number, json_t **state,
    uint64_t *found, char *err, size_t errlen)
{
	sqlite3_stmt	*s;
	int		 rc;

	*state = NULL;
	rc = sqlite3_prepare_v2(st->ro, number == 0 ?
	    "SELECT number, state FROM policy_revision"
	    " ORDER BY number DESC LIMIT 1" :
	    "SELECT number, state FROM policy_revision WHERE number = ?",
	    -1, &s, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(st->ro));
		return (-1);
	}
	if (number != 0)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)number);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = (uint64_t)sqlite3_column_int64(s, 0);
		*state = revision_parse((const char *)sqlite3_column_text(s,
		    1), err, errlen);
		rc = *state != NULL ? SQLITE_OK : SQLITE_CORRUPT;
	} else if (rc == SQLITE_DONE) {
		*found = 0;
		if (number != 0)
			snprintf(err, errlen, "no revision %llu",
			    (unsigned long long)number);
		rc = number != 0 ? SQLITE_NOTFOUND : SQLITE_OK;
	} else
		snprintf(err, errlen, "%s", sqlite3_errmsg(st->ro));
	sqlite3_finalize(s);
	return (rc == SQLITE_OK ? 0 : -1);
}

/* Make the latest revision the one the store thread keeps in memory. */
static void
revision_cache(struct store *st, json_t *state, uint64_t number)
{
	if (st->state != NULL)
		json_decref(st->state);
	st->state = state;
	st->revision = number;
	store_set_expiry(st, state != NULL ? revision_next_expiry(state) : 0);
}

/* Load the latest revision at open. */
int
revision_load(struct store *st, char *err, size_t errlen)
{
	json_t		*state;
	uint64_t	 number;
	char		 why[STORE_ERROR_MAX];

	if (revision_fetch(st, 0, &state, &number, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: latest policy revision: %s",
		    st->config.path, why);
		return (-1);
	}
	revision_cache(st, state, number);
	return (0);
}

/* Start a write, reconnecting first if the last one failed. */
static int
revision_begin(struct store *st)
{
	int	rc = SQLITE_OK;

	if (st->stats.degraded || st->db == NULL)
		rc = store_reconnect(st);
	if (rc == SQLITE_OK)
		rc = store_exec(st->db, "BEGIN IMMEDIATE");
	return (rc);
}

/*
 * Commit if every step went well, else roll back.  A failure puts the
 * store in the degraded state and says why in why.
 */
static int
revision_end(struct store *st, int rc, char *why, size_t whylen)
{
	if (rc == SQLITE_OK)
		rc = store_exec(st->db, "COMMIT");
	if (rc == SQLITE_OK) {
		store_healthy(st);
		return (rc);
	}
	store_describe(st, st->db, rc, why, whylen);
	store_fault(st, st->db, rc);
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		store_exec(st->db, "ROLLBACK");
	return (rc);
}

/* Bind a uid, NULL when there is none. */
static void
revision_bind_uid(sqlite3_stmt *s, int i, long long uid)
{
	if (uid >= 0)
		sqlite3_bind_int64(s, i, uid);
	else
		sqlite3_bind_null(s, i);
}

/* Insert one revision inside the open transaction. */
static int
revision_insert(struct store *st, const json_t *state, long long uid,
    const char *actor, const char *source, const char *reason,
    uint64_t *number)
{
	sqlite3_stmt	*s;
	const char	*profile;
	char		*text;
	int		 rc;

	profile = json_string_value(json_object_get(state, "profile"));
	if ((text = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return (SQLITE_NOMEM);
	rc = sqlite3_prepare_v2(st->db, revision_insert_sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		free(text);
		return (rc);
	}
	sqlite3_bind_double(s, 1, store_wall());
	sqlite3_bind_text(s, 2, profile != NULL ? profile : "default", -1,
	    SQLITE_STATIC);
	revision_bind_uid(s, 3, uid);
	sqlite3_bind_text(s, 4, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, source, -1, SQLITE_STATIC);
	if (reason != NULL && reason[0] != '\0')
		sqlite3_bind_text(s, 6, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	free(text);
	if (rc != SQLITE_DONE)
		return (rc);
	*number = (uint64_t)sqlite3_last_insert_rowid(st->db);
	return (SQLITE_OK);
}

/* Step a write statement once and finalize it; an SQLite code. */
static int
revision_step(sqlite3_stmt *s)
{
	int	rc;

	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* An audit event inside the open transaction. */
static int
revision_audit(struct store *st, long long uid, const char *actor,
    const char *source, const char *event, const char *detail)
{
	sqlite3_stmt	*s;
	int		 rc;

	rc = sqlite3_prepare_v2(st->db, "INSERT INTO audit (time, actor_uid,"
	    " actor, source, event, detail) VALUES (?, ?, ?, ?, ?, ?)", -1, &s,
	    NULL);
	if (rc != SQLITE_OK)
		return (rc);
	sqlite3_bind_double(s, 1, store_wall());
	revision_bind_uid(s, 2, uid);
	sqlite3_bind_text(s, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, detail, -1, SQLITE_STATIC);
	return (revision_step(s));
}

/*
 * Record which revision the environment last gave, and with a snapshot
 * (NULL: keep the stored one) the environment's text as well.
 */
static int
revision_env_save(struct store *st, const char *snapshot, uint64_t number)
{
	sqlite3_stmt	*s;
	int		 rc;

	rc = sqlite3_prepare_v2(st->db, snapshot != NULL ?
	    "INSERT OR REPLACE INTO env_applied (id, revision, time, snapshot)"
	    " VALUES (1, ?, ?, ?)" :
	    "UPDATE env_applied SET revision = ?, time = ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return (rc);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)number);
	sqlite3_bind_double(s, 2, store_wall());
	if (snapshot != NULL)
		sqlite3_bind_text(s, 3, snapshot, -1, SQLITE_STATIC);
	return (revision_step(s));
}

/* Commit a new state from the caller (dspctl, dsptui, a revert). */
static void
revision_change(struct store *st, struct store_job *job)
{
	json_t		*state, *empty = NULL;
	uint64_t	 number = 0;
	char		 why[STORE_ERROR_MAX];
	int		 rc;

	if ((state = revision_parse(job->text, why, sizeof(why))) == NULL)
		goto fail;
	if (job->actor == NULL || job->source == NULL) {
		snprintf(why, sizeof(why), "a change needs an actor and a "
		    "source");
		goto fail;
	}
	if (st->state == NULL)
		empty = json_object();
	if (revision_diff_json(st->state != NULL ? st->state : empty, state,
	    &job->changes, &job->nchanges) != 0) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}

	rc = revision_begin(st);
	if (rc == SQLITE_OK)
		rc = revision_insert(st, state, job->uid, job->actor,
		    job->source, job->reason, &number);
	if (revision_end(st, rc, why, sizeof(why)) != SQLITE_OK)
		goto fail;

	job->revision = number;
	job->state = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
	revision_cache(st, state, number);
	json_decref(empty);
	return;

fail:
	revision_changes_free(job->changes, job->nchanges);
	job->changes = NULL;
	job->nchanges = 0;
	if (asprintf(&job->error, "policy not changed: %s", why) == -1)
		job->error = NULL;
	json_decref(state);
	json_decref(empty);
}

/* Switch off the grants due at job->now with an "expiry" revision. */
static void
revision_expire(struct store *st, struct store_job *job)
{
	json_t		*state = NULL;
	uint64_t	 number = 0;
	char		 reason[REVISION_REASON_MAX];
	char		 why[STORE_ERROR_MAX];
	int		 n, rc;

	if (st->state == NULL)
		return;
	n = revision_remove_expired(st->state, job->now, &state, reason,
	    sizeof(reason));
	if (n <= 0) {
		json_decref(state);
		if (n < 0)
			job->error = strdup("grants not expired: out of "
			    "memory");
		return;
	}
	if (revision_diff_json(st->state, state, &job->changes,
	    &job->nchanges) != 0) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}

	rc = revision_begin(st);
	if (rc == SQLITE_OK)
		rc = revision_insert(st, state, -1, "expiry", "expiry", reason,
		    &number);
	if (revision_end(st, rc, why, sizeof(why)) != SQLITE_OK)
		goto fail;
	job->revision = number;
	job->state = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
	revision_cache(st, state, number);
	return;

fail:
	revision_changes_free(job->changes, job->nchanges);
	job->changes = NULL;
	job->nchanges = 0;
	if (asprintf(&job->error, "grants not expired: %s", why) == -1)
		job->error = NULL;
	json_decref(state);
}

/* Revisions, newest first, older than job->rev_a when it is set. */
static void
revision_history(struct store *st, struct store_job *job)
{
	struct store_revision	*r;
	sqlite3_stmt		*s;
	size_t			 limit = job->limit;
	int			 rc;

	if (limit == 0 || limit > STORE_HISTORY_MAX)
		limit = STORE_HISTORY_MAX;
	rc = sqlite3_prepare_v2(st->ro, "SELECT number, time, profile,"
	    " actor_uid, actor, source, reason FROM policy_revision"
	    " WHERE ?1 = 0 OR number < ?1 ORDER BY number DESC LIMIT ?2", -1,
	    &s, NULL);
	if (rc != SQLITE_OK) {
		job->error = strdup(sqlite3_errmsg(st->ro));
		return;
	}
	if ((job->revs = calloc(limit, sizeof(*job->revs))) == NULL) {
		job->error = strdup("out of memory");
		sqlite3_finalize(s);
		return;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)job->rev_a);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = &job->revs[job->nrevs++];
		r->number = (uint64_t)sqlite3_column_int64(s, 0);
		r->time = sqlite3_column_double(s, 1);
		r->profile = revision_column(s, 2);
		r->actor_uid = sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(s, 3);
		r->actor = revision_column(s, 4);
		r->source = revision_column(s, 5);
		r->reason = revision_column(s, 6);
	}
	if (rc != SQLITE_DONE)
		job->error = strdup(sqlite3_errmsg(st->ro));
	sqlite3_finalize(s);
}

/* What changed between two revisions. */
static void
revision_diff_job(struct store *st, struct store_job *job)
{
	json_t		*a = NULL, *b = NULL;
	uint64_t	 na, nb;
	char		 why[STORE_ERROR_MAX];

	if (revision_fetch(st, job->rev_a, &a, &na, why, sizeof(why)) != 0 ||
	    revision_fetch(st, job->rev_b, &b, &nb, why, sizeof(why)) != 0)
		job->error = strdup(why);
	else if (a == NULL || b == NULL)
		job->error = strdup("no revision yet");
	else if (revision_diff_json(a, b, &job->changes, &job->nchanges) != 0)
		job->error = strdup("out of memory");
	json_decref(a);
	json_decref(b);
}

/* One revision's whole state, as text. */
static void
revision_state_job(struct store *st, struct store_job *job)
{
	json_t		*state = NULL;
	uint64_t	 number;
	char		 why[STORE_ERROR_MAX];

	if (revision_fetch(st, job->rev_a, &state, &number, why,
	    sizeof(why)) != 0)
		job->error = strdup(why);
	else if (state == NULL)
		job->error = strdup("no revision yet");
	else {
		job->revision = number;
		job->state = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
	}
	json_decref(state);
}

/* The stored bypass, or NULL; -1 when it cannot be read. */
static int
revision_bypass_load(struct store *st, struct store_bypass **out)
{
	struct store_bypass	*b;
	sqlite3_stmt		*s;
	int			 rc;

	*out = NULL;
	rc = sqlite3_prepare_v2(st->ro, "SELECT scope, since, until,"
	    " actor_uid, actor, reason FROM bypass WHERE id = 1", -1, &s,
	    NULL);
	if (rc != SQLITE_OK)
		return (-1);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    (b = calloc(1, sizeof(*b))) != NULL) {
		b->scope = revision_column(s, 0);
		b->since = (int64_t)sqlite3_column_double(s, 1);
		b->until = (int64_t)sqlite3_column_double(s, 2);
		b->actor_uid = sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(s, 3);
		b->actor = revision_column(s, 4);
		b->reason = revision_column(s, 5);
		*out = b;
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Store the bypass row inside the open transaction. */
static int
revision_bypass_store(struct store *st, const struct store_job *job)
{
	sqlite3_stmt	*s;
	int		 rc;

	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO bypass (id,"
	    " scope, since, until, actor_uid, actor, reason)"
	    " VALUES (1, ?, ?, ?, ?, ?, ?)", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return (rc);
	sqlite3_bind_text(s, 1, job->text, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 2, store_wall());
	sqlite3_bind_double(s, 3, (double)job->until);
	revision_bind_uid(s, 4, job->uid);
	sqlite3_bind_text(s, 5, job->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, job->reason, -1, SQLITE_STATIC);
	return (revision_step(s));
}

/* Record a bypass and its start in the audit trail. */
static void
revision_bypass_set(struct store *st, struct store_job *job)
{
	char	why[STORE_ERROR_MAX], when[REVISION_TIME_MAX];
	char	detail[REVISION_KEY_MAX];
	int	rc;

	if (job->actor == NULL || job->source == NULL) {
		job->error = strdup("bypass not recorded: no actor or source");
		return;
	}
	revision_time_text((double)job->until, when, sizeof(when));
	snprintf(detail, sizeof(detail), "scope %s until %s", job->text,
	    when);
	rc = revision_begin(st);
	if (rc == SQLITE_OK)
		rc = revision_bypass_store(st, job);
	if (rc == SQLITE_OK)
		rc = revision_audit(st, job->uid, job->actor, job->source,
		    "bypass-start", detail);
	if (revision_end(st, rc, why, sizeof(why)) != SQLITE_OK &&
	    asprintf(&job->error, "bypass not recorded: %s", why) == -1)
		job->error = NULL;
}

/* Remove the stored bypass, with an audit event if there was one. */
static int
revision_bypass_remove(struct store *st, long long uid, const char *actor,
    const char *source, const char *event, const struct store_bypass *b)
{
	char	detail[REVISION_KEY_MAX];
	int	rc;

	rc = store_exec(st->db, "DELETE FROM bypass");
	if (rc == SQLITE_OK && b != NULL) {
		snprintf(detail, sizeof(detail), "scope %s, started by %s",
		    b->scope != NULL ? b->scope : "?",
		    b->actor != NULL ? b->actor : "?");
		rc = revision_audit(st, uid, actor, source, event, detail);
	}
	return (rc);
}

static void
revision_bypass_clear(struct store *st, struct store_job *job)
{
	struct store_bypass	*b;
	char			 why[STORE_ERROR_MAX];
	int			 rc;

	if (job->actor == NULL || job->source == NULL) {
		job->error = strdup("bypass end not recorded: no actor or "
		    "source");
		return;
	}
	if (revision_bypass_load(st, &b) != 0) {
		if (asprintf(&job->error, "bypass end not recorded: %s",
		    sqlite3_errmsg(st->ro)) == -1)
			job->error = NULL;
		return;
	}
	rc = revision_begin(st);
	if (rc == SQLITE_OK)
		rc = revision_bypass_remove(st, job->uid, job->actor,
		    job->source, "bypass-end", b);
	if (revision_end(st, rc, why, sizeof(why)) != SQLITE_OK &&
	    asprintf(&job->error, "bypass end not recorded: %s", why) == -1)
		job->error = NULL;
	revision_bypass_free(b);
}

/* The environment applied last: its snapshot text and revision. */
static int
revision_env_load(struct store *st, char **snapshot, uint64_t *number)
{
	sqlite3_stmt	*s;
	int		 rc;

	*snapshot = NULL;
	*number = 0;
	rc = sqlite3_prepare_v2(st->ro, "SELECT snapshot, revision FROM"
	    " env_applied WHERE id = 1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return (-1);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*snapshot = revision_column(s, 0);
		*number = (uint64_t)sqlite3_column_int64(s, 1);
		rc = *snapshot != NULL ? SQLITE_DONE : SQLITE_NOMEM;
	}
	sqlite3_finalize(s);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/*
 * Who last set each key, walking the revisions after base: a JSON object
 * of key to [actor, revision].  prev starts as the base's flattening.
 */
static json_t *
revision_authors(struct store *st, uint64_t base, struct flat *prev)
{
	struct store_change	*c;
	struct flat		 cur;
	sqlite3_stmt		*s;
	json_t			*who, *state;
	const char		*actor;
	char			 err[STORE_ERROR_MAX];
	size_t			 n, i;
	int			 rc;

	if ((who = json_object()) == NULL)
		return (NULL);
	rc = sqlite3_prepare_v2(st->ro, "SELECT number, actor, state FROM"
	    " policy_revision WHERE number > ? ORDER BY number", -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)base);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = revision_parse((const char *)sqlite3_column_text(s, 2),
		    err, sizeof(err));
		if (state == NULL || revision_flatten(state, &cur) != 0) {
			json_decref(state);
			goto fail;
		}
		json_decref(state);
		if (revision_diff_flat(prev, &cur, &c, &n) != 0) {
			revision_flat_free(&cur);
			goto fail;
		}
		actor = (const char *)sqlite3_column_text(s, 1);
		for (i = 0; i < n; i++)
			json_object_set_new(who, c[i].key, json_pack("[sI]",
			    actor != NULL ? actor : "?",
			    (json_int_t)sqlite3_column_int64(s, 0)));
		revision_changes_free(c, n);
		revision_flat_free(prev);
		*prev = cur;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	return (who);

fail:
	sqlite3_finalize(s);
	json_decref(who);
	return (NULL);
}

/*
 * The runtime changes a new environment state undoes: keys that changed
 * after the environment was last applied (revision base) and whose value
 * the new environment sets otherwise, with who changed them.
 */
static int
revision_overridden(struct store *st, uint64_t base, const json_t *latest,
    const json_t *env, struct store_change **out, size_t *nout)
{
	struct store_change	*runtime = NULL;
	struct flat		 fbase, flatest, fenv, walk;
	json_t			*bstate = NULL, *who = NULL, *w;
	uint64_t		 found = 0;
	char			 err[STORE_ERROR_MAX];
	const char		*before, *after;
	size_t			 n = 0, i;
	int			 rc = -1;

	*out = NULL;
	*nout = 0;
	memset(&fbase, 0, sizeof(fbase));
	memset(&flatest, 0, sizeof(flatest));
	memset(&fenv, 0, sizeof(fenv));
	memset(&walk, 0, sizeof(walk));
	if (base != 0 && revision_fetch(st, base, &bstate, &found, err,
	    sizeof(err)) != 0)
		base = 0;
	if (bstate == NULL && (bstate = json_object()) == NULL)
		return (-1);
	if (revision_flatten(bstate, &fbase) != 0 ||
	    revision_flatten(bstate, &walk) != 0 ||
	    revision_flatten(latest, &flatest) != 0 ||
	    revision_flatten(env, &fenv) != 0)
		goto out;
	if ((who = revision_authors(st, base, &walk)) == NULL)
		goto out;
	if (revision_diff_flat(&fbase, &flatest, &runtime, &n) != 0)
		goto out;

	rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		before = revision_flat_get(&flatest, runtime[i].key);
		after = revision_flat_get(&fenv, runtime[i].key);
		if (revision_same(before, after))
			continue;
		w = json_object_get(who, runtime[i].key);
		rc = revision_change_add(out, nout, runtime[i].key, before,
		    after, json_string_value(json_array_get(w, 0)),
		    (uint64_t)json_integer_value(json_array_get(w, 1)));
	}
	if (rc != 0) {
		revision_changes_free(*out, *nout);
		*out = NULL;
		*nout = 0;
	}

out:
	revision_changes_free(runtime, n);
	revision_flat_free(&fbase);
	revision_flat_free(&flatest);
	revision_flat_free(&fenv);
	revision_flat_free(&walk);
	json_decref(bstate);
	json_decref(who);
	return (rc);
}

/* The reason of an env revision: why, then what it overrode. */
static void
revision_env_reason(const char *why, const struct store_change *c, size_t n,
    char *buf, size_t len)
{
	char	line[REVISION_KEY_MAX * 2];
	size_t	i;

	snprintf(buf, len, "%s", why);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%s%s %s -> %s (%s, revision "
		    "%llu)", i == 0 ? "; overrides " : ", ", c[i].key,
		    c[i].before != NULL ? c[i].before : "(none)",
		    c[i].after != NULL ? c[i].after : "(none)",
		    c[i].actor != NULL ? c[i].actor : "?",
		    (unsigned long long)c[i].revision);
		revision_append(buf, len, line);
	}
}

/* What the environment rule decided at start, before anything is written. */
struct start_plan {
	json_t		*env;		/* the environment's state */
	json_t		*final;		/* the state to enforce */
	const char	*rule;		/* why env wins, or NULL: the db wins */
	int		 snap_changed;	/* the variables differ from before */
	int		 nexp;		/* grants removed as expired */
	int		 ended;		/* the stored bypass is over */
	char		 exp_reason[REVISION_REASON_MAX];
};

/*
 * Write what the plan says, in one transaction: the env revision and
 * snapshot, the expiry revision, the end of a bypass.  On failure nothing
 * is written and res says why; the plan's state is still what to enforce.
 */
static void
revision_start_record(struct store *st, struct store_job *job,
    struct start_plan *p)
{
	struct store_start	*res = job->start;
	char			 reason[REVISION_REASON_MAX];
	char			 why[STORE_ERROR_MAX];
	uint64_t		 env_number = 0, exp_number = 0, number;
	int			 rc;

	rc = revision_begin(st);
	if (rc == SQLITE_OK && p->rule != NULL) {
		revision_env_reason(p->rule, res->overridden,
		    res->noverridden, reason, sizeof(reason));
		rc = revision_insert(st, p->env, -1, "env", "env", reason,
		    &env_number);
	}
	if (rc == SQLITE_OK && (p->rule != NULL || p->snap_changed))
		rc = revision_env_save(st, p->snap_changed ? job->text2 : NULL,
		    p->rule != NULL ? env_number : st->revision);
	if (rc == SQLITE_OK && p->nexp > 0)
		rc = revision_insert(st, p->final, -1, "expiry", "expiry",
		    p->exp_reason, &exp_number);
	if (rc == SQLITE_OK && p->ended)
		rc = revision_bypass_remove(st, -1, "expiry", "expiry",
		    "bypass-expired", res->bypass);
	if (revision_end(st, rc, why, sizeof(why)) != SQLITE_OK) {
		snprintf(res->error, sizeof(res->error),
		    "policy not recorded: %.200s", why);
		if (p->rule != NULL || p->nexp > 0)
			res->revision = 0;
		return;
	}

	number = exp_number != 0 ? exp_number : p->rule != NULL ?
	    env_number : st->revision;
	res->env_applied = p->rule != NULL;
	res->expiry_revision = exp_number;
	res->revision = number;
	revision_cache(st, json_incref(p->final), number);
}

/*
 * Apply the environment rule:
 *   - no revision yet: the environment's state (the first start);
 *   - policy source env: the environment's, recorded only if it differs
 *     from the latest revision;
 *   - the environment changed since it was last applied: the
 *     environment's, as a new revision that lists the runtime changes
 *     it overrides;
 *   - else the latest revision, so runtime changes survive restarts.
 * Returns -1 when the database cannot be read or memory ran out.
 */
static int
revision_start_rule(struct store *st, struct store_job *job,
    struct start_plan *p)
{
	struct store_start	*res = job->start;
	char			*snapshot = NULL;
	uint64_t		 env_rev;

	if (revision_env_load(st, &snapshot, &env_rev) != 0) {
		snprintf(res->error, sizeof(res->error), "%s",
		    sqlite3_errmsg(st->ro));
		return (-1);
	}
	p->snap_changed = snapshot == NULL ||
	    strcmp(snapshot, job->text2) != 0;
	free(snapshot);
	if (st->state == NULL)
		p->rule = "first start: policy from the environment";
	else if (job->flag && !json_equal(p->env, st->state))
		p->rule = "policy source env: the environment applied at start";
	else if (!job->flag && p->snap_changed)
		p->rule = "the environment changed since it was last applied";
	if (p->rule != NULL && st->state != NULL && revision_overridden(st,
	    env_rev, st->state, p->env, &res->overridden,
	    &res->noverridden) != 0) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return (-1);
	}
	return (0);
}

/*
 * Decide the policy to enforce at start: the environment rule, then the
 * grants due at job->now removed by an "expiry" revision, then a stored
 * bypass past its deadline ended.  What changed is written in one
 * transaction; if that fails, the decided state is still returned to be
 * enforced, with the error and revision 0.
 */
static void
revision_start(struct store *st, struct store_job *job)
{
	struct store_start	*res = job->start;
	struct start_plan	 p;
	const json_t		*chosen;

	memset(&p, 0, sizeof(p));
	p.env = revision_parse(job->text, res->error, sizeof(res->error));
	if (p.env == NULL)
		return;
	if (revision_bypass_load(st, &res->bypass) != 0) {
		snprintf(res->error, sizeof(res->error), "%s",
		    sqlite3_errmsg(st->ro));
		goto out;
	}
	if (revision_start_rule(st, job, &p) != 0)
		goto out;

	chosen = p.rule != NULL ? p.env : st->state;
	p.nexp = revision_remove_expired(chosen, job->now, &p.final,
	    p.exp_reason, sizeof(p.exp_reason));
	if (p.nexp < 0 || (p.nexp > 0 && revision_diff_json(chosen, p.final,
	    &res->expired, &res->nexpired) != 0)) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	p.ended = res->bypass != NULL && res->bypass->until <= job->now;

	res->revision = st->revision;
	if (p.rule != NULL || p.nexp > 0 || p.ended || p.snap_changed)
		revision_start_record(st, job, &p);
	if (p.ended) {
		res->bypass_ended = 1;
		revision_bypass_free(res->bypass);
		res->bypass = NULL;
	}
	res->state = json_dumps(p.final, JSON_COMPACT | JSON_SORT_KEYS);

out:
	json_decref(p.final);
	json_decref(p.env);
}

/* Run one policy request on the store thread. */
void
revision_run(struct store *st, struct store_job *job)
{
	switch (job->type) {
	case JOB_START:
		revision_start(st, job);
		break;
	case JOB_CHANGE:
		revision_change(st, job);
		break;
	case JOB_EXPIRE:
		revision_expire(st, job);
		break;
	case JOB_HISTORY:
		revision_history(st, job);
		break;
	case JOB_DIFF:
		revision_diff_job(st, job);
		break;
	case JOB_STATE:
		revision_state_job(st, job);
		break;
	case JOB_BYPASS_SET:
		revision_bypass_set(st, job);
		break;
	case JOB_BYPASS_CLEAR:
		revision_bypass_clear(st, job);
		break;
	case JOB_QUERY:
	case JOB_NOTICE:
		break;
	}
}
