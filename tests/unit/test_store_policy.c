/*
 * Unit tests of the store's policy side: flattening and diffs, commits,
 * history and restore, the environment rule at start, grants that
 * expire (also while dspd was down), the bypass deadline, and a commit
 * that fails without changing anything.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_test.h"

/* A wall-clock time for the tests' grants and deadlines. */
#define NOW0		1700000000LL

/* Bytes of a rendered list of changes. */
#define CHANGES_TEXT	1024

/* The environment's state and snapshot as dspd would pass them. */
#define ENV_A		"{\"profile\":\"default\",\"access\":{\"containers\":" \
			"\"read\",\"exec\":\"off\",\"ping\":\"read\"}," \
			"\"overrides\":{}}"
#define SNAP_A		"CONTAINERS=1\n"
#define ENV_B		"{\"profile\":\"default\",\"access\":{\"containers\":" \
			"\"write\",\"exec\":\"off\",\"ping\":\"read\"," \
			"\"volumes\":\"read\"},\"overrides\":{}}"
#define SNAP_B		"CONTAINERS=1\nPOST=1\nVOLUMES=1\n"

/* What a commit callback saw. */
struct commit_seen {
	int		 done;
	uint64_t	 revision;
	char		*state;
	char		*error;
	char		 changes[CHANGES_TEXT];
};

/* Render changes as "key:before>after;..." with "-" for absent. */
static void
render_changes(const struct store_change *c, size_t n, char *buf,
    size_t len)
{
	size_t	i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s:%s>%s",
		    i > 0 ? ";" : "", c[i].key,
		    c[i].before != NULL ? c[i].before : "-",
		    c[i].after != NULL ? c[i].after : "-");
}

static void
commit_cb(const struct store_commit *c, void *arg)
{
	struct commit_seen	*seen = arg;

	seen->done = 1;
	seen->revision = c->revision;
	seen->state = c->state != NULL ? strdup(c->state) : NULL;
	seen->error = c->error != NULL ? strdup(c->error) : NULL;
	render_changes(c->changes, c->nchanges, seen->changes,
	    sizeof(seen->changes));
}

static void
commit_seen_free(struct commit_seen *seen)
{
	free(seen->state);
	free(seen->error);
	memset(seen, 0, sizeof(*seen));
}

/* Commit a state and wait for the answer; seen must be freed. */
static void
change(struct store *st, const char *state, long long uid,
    const char *actor, const char *source, const char *reason,
    struct commit_seen *seen)
{
	struct store_meta	meta = { uid, actor, source, reason };

	memset(seen, 0, sizeof(*seen));
	assert_int_equal(store_policy_change(st, state, &meta, commit_cb,
	    seen), 0);
	test_wait(st, &seen->done);
}

/* Commit a state that must succeed; its revision number. */
static uint64_t
change_ok(struct store *st, const char *state, const char *actor)
{
	struct commit_seen	seen;
	uint64_t		rev;

	change(st, state, 1000, actor, "dspctl", "test", &seen);
	if (seen.error != NULL)
		fail_msg("commit failed: %s", seen.error);
	rev = seen.revision;
	commit_seen_free(&seen);
	return (rev);
}

/* Reopen the store as a restarted dspd would, then apply the rule. */
static void
restart(struct test_dir *d, const char *env, const char *snap, int always,
    int64_t now, struct store_start *res)
{
	if (d->st != NULL)
		store_close(d->st);
	d->st = test_open(d->db, NULL);
	if (store_policy_start(d->st, env, snap, always, now, res) != 0)
		fail_msg("store_policy_start failed: %s", res->error);
}

/* Whether two JSON texts hold the same value. */
static int
json_same(const char *a, const char *b)
{
	json_t	*ja, *jb;
	int	 same;

	ja = json_loads(a, 0, NULL);
	jb = json_loads(b, 0, NULL);
	same = ja != NULL && jb != NULL && json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return (same);
}

/* A state with one more grant than ENV_A. */
static char *
with_grants(const char *grants)
{
	char	*s;

	if (asprintf(&s, "{\"profile\":\"default\",\"access\":{\"containers\":"
	    "\"read\",\"exec\":\"off\",\"ping\":\"read\"},\"overrides\":{},"
	    "\"grants\":[%s]}", grants) == -1)
		fail_msg("asprintf");
	return (s);
}

/*
 * How two states flatten and differ.  Keys are what people read in
 * dspctl diff and in the environment's warnings.
 */
static void
test_diff_table(void **state)
{
	static const struct {
		const char	*a, *b, *want;
	} cases[] = {
		{ ENV_A, ENV_A, "" },
		/* member order does not matter */
		{ "{\"x\":1,\"y\":2}", "{\"y\":2,\"x\":1}", "" },
		{ ENV_A, ENV_B, "access.containers:read>write;"
		    "access.volumes:->read" },
		{ "{\"overrides\":{}}", "{\"overrides\":{\"start\":\"allow\"}}",
		    "overrides.start:->allow" },
		{ "{\"overrides\":{\"logs\":\"deny\"}}", "{\"overrides\":{}}",
		    "overrides.logs:deny>-" },
		/* grants are named by group or action, until read as UTC */
		{ "{\"grants\":[]}", "{\"grants\":[{\"group\":\"exec\","
		    "\"access\":\"write\",\"until\":1733248800}]}",
		    "grants.exec.access:->write;"
		    "grants.exec.until:->2024-12-03 18:00:00 UTC" },
		{ "{\"grants\":[{\"action\":\"archive\","
		    "\"override\":\"allow\"}]}",
		    "{\"grants\":[{\"action\":\"archive\","
		    "\"override\":\"deny\"}]}",
		    "grants.archive.override:allow>deny" },
		/* two grants of one name fall back to their places */
		{ "{\"grants\":[]}", "{\"grants\":[{\"group\":\"exec\"},"
		    "{\"group\":\"exec\"}]}",
		    "grants.0.group:->exec;grants.1.group:->exec" },
		/* leaves that are not strings read as JSON */
		{ "{\"guard\":{\"max\":1048576,\"on\":true}}",
		    "{\"guard\":{\"max\":2097152,\"on\":false}}",
		    "guard.max:1048576>2097152;guard.on:true>false" },
		{ "{\"guard\":{\"list\":[\"a\",\"b\"]}}",
		    "{\"guard\":{\"list\":[\"a\"]}}", "guard.list.1:b>-" },
	};
	struct store_change	*c;
	char			 got[CHANGES_TEXT];
	size_t			 i, n;

	for (i = 0; i < nitems(cases); i++) {
		if (revision_diff_text(cases[i].a, cases[i].b, &c, &n) != 0)
			fail_msg("case %zu: diff failed", i);
		render_changes(c, n, got, sizeof(got));
		revision_changes_free(c, n);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
			    cases[i].want);
	}
	assert_int_equal(revision_diff_text("[1]", "{}", &c, &n), -1);
}

/* Revisions: commit, history newest first, diff, restore as a new one. */
static void
test_commit_history_diff_restore(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	struct commit_seen	 seen;
	const char		*b = ENV_B;
	char			*rev1;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	assert_int_equal(res.revision, 1);
	assert_true(res.env_applied);
	store_start_free(&res);

	change(d->st, b, 1000, "alice", "dspctl", "deploy", &seen);
	assert_null(seen.error);
	assert_int_equal(seen.revision, 2);
	assert_true(json_same(seen.state, ENV_B));
	assert_string_equal(seen.changes,
	    "access.containers:read>write;access.volumes:->read");
	commit_seen_free(&seen);

	/* What the revisions view shows, newest first. */
	assert_int_equal(test_int(d->db, "SELECT number FROM revisions"), 2);
	rev1 = test_text(d->db, "SELECT actor || ' ' || source || ' ' ||"
	    " reason FROM revisions");
	assert_string_equal(rev1, "alice dspctl deploy");
	free(rev1);
	assert_int_equal(test_int(d->db, "SELECT actor_uid FROM revisions"),
	    1000);
	rev1 = test_text(d->db, "SELECT value FROM policy_now WHERE"
	    " kind = 'access' AND name = 'containers'");
	assert_string_equal(rev1, "write");
	free(rev1);

	/* Restore revision 1 as revision 3: same state, new number. */
	rev1 = test_text(d->db, "SELECT state FROM policy_revision"
	    " WHERE number = 1");
	change(d->st, rev1, 0, "root", "dspctl", "revert to 1", &seen);
	assert_int_equal(seen.revision, 3);
	assert_string_equal(seen.changes,
	    "access.containers:write>read;access.volumes:read>-");
	assert_true(json_same(seen.state, ENV_A));
	commit_seen_free(&seen);
	free(rev1);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM"
	    " policy_revision"), 3);
}

/* What the asynchronous readers answered. */
struct read_seen {
	int		 done;
	char		*error;
	char		 text[CHANGES_TEXT];
	uint64_t	 revision;
	size_t		 n;
};

static void
history_cb(const struct store_revision *r, size_t n, const char *error,
    void *arg)
{
	struct read_seen	*seen = arg;
	size_t			 i, used = 0;

	seen->done = 1;
	seen->n = n;
	seen->error = error != NULL ? strdup(error) : NULL;
	for (i = 0; i < n; i++)
		used += snprintf(seen->text + used, sizeof(seen->text) - used,
		    "%s%llu %s %s %lld", i > 0 ? ";" : "",
		    (unsigned long long)r[i].number, r[i].actor, r[i].source,
		    r[i].actor_uid);
}

static void
diff_cb(const struct store_change *c, size_t n, const char *error,
    void *arg)
{
	struct read_seen	*seen = arg;

	seen->done = 1;
	seen->n = n;
	seen->error = error != NULL ? strdup(error) : NULL;
	render_changes(c, n, seen->text, sizeof(seen->text));
}

static void
state_cb(uint64_t revision, const char *text, const char *error, void *arg)
{
	struct read_seen	*seen = arg;

	seen->done = 1;
	seen->revision = revision;
	seen->error = error != NULL ? strdup(error) : NULL;
	if (text != NULL)
		snprintf(seen->text, sizeof(seen->text), "%s", text);
}

/* The readers: history with paging, diff both ways, one state. */
static void
test_history_diff_state(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	struct read_seen	 seen;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);
	change_ok(d->st, ENV_B, "alice");
	change_ok(d->st, ENV_A, "bob");

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_history(d->st, 0, 10, history_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_null(seen.error);
	assert_string_equal(seen.text, "3 bob dspctl 1000;"
	    "2 alice dspctl 1000;1 env env -1");

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_history(d->st, 3, 1, history_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_string_equal(seen.text, "2 alice dspctl 1000");

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_diff(d->st, 1, 2, diff_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_string_equal(seen.text,
	    "access.containers:read>write;access.volumes:->read");

	/* 0 is the latest: revision 3 equals revision 1. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_diff(d->st, 1, 0, diff_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_null(seen.error);
	assert_int_equal(seen.n, 0);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_diff(d->st, 1, 99, diff_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_non_null(seen.error);
	assert_string_equal(seen.error, "no revision 99");
	free(seen.error);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_revision_state(d->st, 2, state_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_int_equal(seen.revision, 2);
	assert_true(json_same(seen.text, ENV_B));
}

/* Unchanged environment: the database wins, runtime changes survive. */
static void
test_env_unchanged_db_wins(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);
	assert_int_equal(change_ok(d->st, ENV_B, "alice"), 2);

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	assert_string_equal(res.error, "");
	assert_int_equal(res.revision, 2);
	assert_false(res.env_applied);
	assert_int_equal(res.noverridden, 0);
	assert_true(json_same(res.state, ENV_B));
	store_start_free(&res);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM"
	    " policy_revision"), 2);
}

/*
 * Changed environment: applied as a new "env" revision, which names each
 * runtime change it undoes and who made it.  A runtime change the new
 * environment agrees with is not an override.
 */
static void
test_env_changed_overrides(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	char			*reason, *exec_write, *both;

	exec_write = strdup("{\"profile\":\"default\",\"access\":"
	    "{\"containers\":\"read\",\"exec\":\"write\",\"ping\":\"read\"},"
	    "\"overrides\":{}}");
	both = strdup("{\"profile\":\"default\",\"access\":"
	    "{\"containers\":\"write\",\"exec\":\"write\",\"ping\":\"read\"},"
	    "\"overrides\":{}}");
	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);
	assert_int_equal(change_ok(d->st, exec_write, "alice"), 2);
	assert_int_equal(change_ok(d->st, both, "bob"), 3);

	restart(d, ENV_B, SNAP_B, 0, NOW0, &res);
	assert_string_equal(res.error, "");
	assert_true(res.env_applied);
	assert_int_equal(res.revision, 4);
	assert_true(json_same(res.state, ENV_B));
	assert_int_equal(res.noverridden, 1);
	assert_string_equal(res.overridden[0].key, "access.exec");
	assert_string_equal(res.overridden[0].before, "write");
	assert_string_equal(res.overridden[0].after, "off");
	assert_string_equal(res.overridden[0].actor, "alice");
	assert_int_equal(res.overridden[0].revision, 2);
	store_start_free(&res);

	reason = test_text(d->db, "SELECT actor || ' ' || source || ': ' ||"
	    " reason FROM revisions");
	assert_non_null(strstr(reason, "env env: the environment changed"));
	assert_non_null(strstr(reason,
	    "access.exec write -> off (alice, revision 2)"));
	assert_null(strstr(reason, "access.containers"));
	free(reason);

	/* The same environment again: the database wins now. */
	restart(d, ENV_B, SNAP_B, 0, NOW0, &res);
	assert_false(res.env_applied);
	assert_int_equal(res.revision, 4);
	store_start_free(&res);
	free(exec_write);
	free(both);
}

/*
 * Policy source env: the environment wins at every start, runtime
 * changes are overridden even when the variables did not change, and a
 * start with nothing to undo records nothing.
 */
static void
test_env_policy_source_env(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;

	restart(d, ENV_A, SNAP_A, 1, NOW0, &res);
	assert_int_equal(res.revision, 1);
	store_start_free(&res);
	assert_int_equal(change_ok(d->st, ENV_B, "alice"), 2);

	restart(d, ENV_A, SNAP_A, 1, NOW0, &res);
	assert_true(res.env_applied);
	assert_int_equal(res.revision, 3);
	assert_true(json_same(res.state, ENV_A));
	assert_int_equal(res.noverridden, 2);
	assert_string_equal(res.overridden[0].key, "access.containers");
	assert_string_equal(res.overridden[1].key, "access.volumes");
	assert_null(res.overridden[1].after);
	assert_string_equal(res.overridden[1].actor, "alice");
	store_start_free(&res);

	restart(d, ENV_A, SNAP_A, 1, NOW0, &res);
	assert_false(res.env_applied);
	assert_int_equal(res.revision, 3);
	store_start_free(&res);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM"
	    " policy_revision"), 3);
}

/*
 * Grants past their time while dspd was down are off at start, by an
 * "expiry" revision; one not yet due stays, and is the next expiry.
 */
static void
test_expiry_at_start(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	char			*granted, *top;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);
	granted = with_grants("{\"group\":\"exec\",\"access\":\"write\","
	    "\"until\":1700000100},{\"action\":\"archive\",\"override\":"
	    "\"allow\",\"until\":1700001000}");
	assert_int_equal(change_ok(d->st, granted, "alice"), 2);
	assert_int_equal(store_next_expiry(d->st), NOW0 + 100);

	/* A second before: nothing expires. */
	restart(d, ENV_A, SNAP_A, 0, NOW0 + 99, &res);
	assert_int_equal(res.expiry_revision, 0);
	assert_int_equal(res.revision, 2);
	assert_true(json_same(res.state, granted));
	store_start_free(&res);

	/* At its time: the exec grant goes, the archive grant stays. */
	restart(d, ENV_A, SNAP_A, 0, NOW0 + 100, &res);
	assert_string_equal(res.error, "");
	assert_int_equal(res.expiry_revision, 3);
	assert_int_equal(res.revision, 3);
	assert_int_equal(res.nexpired, 2);
	assert_string_equal(res.expired[0].key, "grants.exec.access");
	assert_string_equal(res.expired[0].before, "write");
	assert_null(res.expired[0].after);
	assert_null(strstr(res.state, "\"exec\",\"until\""));
	assert_non_null(strstr(res.state, "archive"));
	store_start_free(&res);
	assert_int_equal(store_next_expiry(d->st), NOW0 + 1000);

	top = test_text(d->db, "SELECT actor || ' ' || source || ': ' ||"
	    " reason FROM revisions");
	assert_string_equal(top, "expiry expiry: grant expired: exec until "
	    "2023-11-14 22:15:00 UTC");
	free(top);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM policy_now"
	    " WHERE kind = 'grant'"), 1);
	free(granted);
}

/* At run time: store_expire removes what is due, and nothing before. */
static void
test_expire_during_run(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	struct commit_seen	 seen;
	char			*granted;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);
	granted = with_grants("{\"group\":\"exec\",\"access\":\"write\","
	    "\"until\":1700000010}");
	change_ok(d->st, granted, "alice");

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_expire(d->st, NOW0 + 9, commit_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_int_equal(seen.revision, 0);
	assert_null(seen.error);
	assert_null(seen.state);
	commit_seen_free(&seen);

	assert_int_equal(store_expire(d->st, NOW0 + 10, commit_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_null(seen.error);
	assert_int_equal(seen.revision, 3);
	assert_string_equal(seen.changes, "grants.exec.access:write>-;"
	    "grants.exec.until:2023-11-14 22:13:30 UTC>-");
	assert_null(strstr(seen.state, "exec\",\"until"));
	commit_seen_free(&seen);
	assert_int_equal(store_next_expiry(d->st), 0);
	free(granted);
}

struct done_seen {
	int	 done;
	char	*error;
};

static void
done_cb(const char *error, void *arg)
{
	struct done_seen	*seen = arg;

	seen->done = 1;
	seen->error = error != NULL ? strdup(error) : NULL;
}

/* A stored bypass holds after a restart only until its deadline. */
static void
test_bypass_deadline(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	struct store_meta	 alice = { 1000, "alice", "dspctl", "bad" };
	struct store_meta	 bob = { 1001, "bob", "dsptui", NULL };
	struct done_seen	 seen;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	assert_null(res.bypass);
	store_start_free(&res);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_bypass_set(d->st, "all", NOW0 + 900, &alice,
	    done_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_null(seen.error);

	restart(d, ENV_A, SNAP_A, 0, NOW0 + 899, &res);
	assert_non_null(res.bypass);
	assert_string_equal(res.bypass->scope, "all");
	assert_int_equal(res.bypass->until, NOW0 + 900);
	assert_string_equal(res.bypass->actor, "alice");
	assert_int_equal(res.bypass->actor_uid, 1000);
	assert_false(res.bypass_ended);
	store_start_free(&res);

	restart(d, ENV_A, SNAP_A, 0, NOW0 + 900, &res);
	assert_null(res.bypass);
	assert_true(res.bypass_ended);
	store_start_free(&res);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM bypass"), 0);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM audit WHERE"
	    " event = 'bypass-expired' AND actor = 'expiry'"), 1);

	restart(d, ENV_A, SNAP_A, 0, NOW0 + 901, &res);
	assert_null(res.bypass);
	assert_false(res.bypass_ended);
	store_start_free(&res);

	/* Ended by hand: recorded with who ended it. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_bypass_set(d->st, "group:exec", NOW0 + 2000,
	    &alice, done_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_bypass_clear(d->st, &bob, done_cb, &seen), 0);
	test_wait(d->st, &seen.done);
	assert_null(seen.error);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM bypass"), 0);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM audit WHERE"
	    " event = 'bypass-end' AND actor = 'bob' AND actor_uid = 1001"
	    " AND detail LIKE 'scope group:exec%'"), 1);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM audit WHERE"
	    " event = 'bypass-start'"), 2);
}

/* States that are not JSON objects are refused, and nothing is stored. */
static void
test_change_refuses_bad_state(void **state)
{
	static const struct {
		const char	*state, *want;
	} cases[] = {
		{ "[1, 2]", "policy not changed: policy state is not a JSON "
		    "object" },
		{ "{\"access\":", "policy not changed: policy state is not "
		    "valid JSON" },
		{ "{\"a\":1,\"a\":2}", "policy not changed: policy state is "
		    "not valid JSON" },
	};
	struct test_dir		*d = *state;
	struct store_start	 res;
	struct commit_seen	 seen;
	size_t			 i;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);
	for (i = 0; i < nitems(cases); i++) {
		change(d->st, cases[i].state, 0, "root", "dspctl", NULL, &seen);
		assert_int_equal(seen.revision, 0);
		assert_non_null(seen.error);
		if (strncmp(seen.error, cases[i].want, strlen(cases[i].want)))
			fail_msg("case %zu: %s", i, seen.error);
		commit_seen_free(&seen);
	}
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM"
	    " policy_revision"), 1);
}

/*
 * A commit while another process holds the database's write lock fails
 * with a clear error and changes nothing; the next one after the lock
 * is gone succeeds and the store is healthy again.
 */
static void
test_failed_commit_changes_nothing(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	struct store_stats	 stats;
	struct commit_seen	 seen;
	sqlite3			*other;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);

	other = test_db(d->db);
	test_exec(other, "BEGIN IMMEDIATE");
	change(d->st, ENV_B, 0, "root", "dspctl", NULL, &seen);
	assert_int_equal(seen.revision, 0);
	assert_non_null(seen.error);
	assert_string_equal(seen.error, "policy not changed: the database is "
	    "locked by another process");
	commit_seen_free(&seen);
	store_stats(d->st, &stats);
	assert_true(stats.degraded);
	assert_string_equal(stats.last_error,
	    "the database is locked by another process");
	test_exec(other, "COMMIT");
	sqlite3_close(other);

	assert_int_equal(test_int(d->db, "SELECT max(number) FROM"
	    " policy_revision"), 1);
	assert_int_equal(change_ok(d->st, ENV_B, "root"), 2);
	store_stats(d->st, &stats);
	assert_false(stats.degraded);
}

/*
 * A start that must record a changed environment while the database is
 * locked still says what to enforce, with the error and revision 0.
 */
static void
test_start_unrecorded(void **state)
{
	struct test_dir		*d = *state;
	struct store_start	 res;
	sqlite3			*other;

	restart(d, ENV_A, SNAP_A, 0, NOW0, &res);
	store_start_free(&res);
	store_close(d->st);
	d->st = test_open(d->db, NULL);

	other = test_db(d->db);
	test_exec(other, "BEGIN IMMEDIATE");
	assert_int_equal(store_policy_start(d->st, ENV_B, SNAP_B, 0, NOW0,
	    &res), 0);
	assert_string_equal(res.error, "policy not recorded: the database is "
	    "locked by another process");
	assert_int_equal(res.revision, 0);
	assert_false(res.env_applied);
	assert_true(json_same(res.state, ENV_B));
	store_start_free(&res);
	test_exec(other, "COMMIT");
	sqlite3_close(other);
	assert_int_equal(test_int(d->db, "SELECT count(*) FROM"
	    " policy_revision"), 1);
	assert_int_equal(store_policy_start(d->st, "not json", SNAP_B, 0,
	    NOW0, &res), -1);
	assert_non_null(strstr(res.error, "not valid JSON"));
	store_start_free(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_table),
		TEST(test_commit_history_diff_restore),
		TEST(test_history_diff_state),
		TEST(test_env_unchanged_db_wins),
		TEST(test_env_changed_overrides),
		TEST(test_env_policy_source_env),
		TEST(test_expiry_at_start),
		TEST(test_expire_during_run),
		TEST(test_bypass_deadline),
		TEST(test_change_refuses_bad_state),
		TEST(test_failed_commit_changes_nothing),
		TEST(test_start_unrecorded),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
