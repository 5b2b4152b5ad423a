/*
 * The policy in force and what stands behind it: the SQLite store that
 * keeps its revisions and the access log, the environment rule at start,
 * grants that expire, the emergency bypass, and the record each finished
 * exchange leaves.  The event loop never calls sqlite3: the store runs on
 * its own thread and answers through store_dispatch.
 */

#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "dspd.h"

/* Seconds between retries of an expiry revision the store refused. */
#define EXPIRY_RETRY_SEC	5

struct runtime_change {
	runtime_change_cb	 cb;
	void			*arg;
};

/* Seconds over which status counts recent denials, one slot a second. */
#define RUNTIME_RECENT_SECS	60

/* Denials counted in one second of the monotonic clock. */
struct runtime_slot {
	time_t		 sec;
	uint64_t	 denials;
};

static struct {
	struct config	*config;
	struct store	*store;
	struct event	*wake;
	struct event	*expiry;
	struct event	*bypass_end;
	char		*state;		/* policy in force, JSON */
	time_t		 started;
	uint64_t	 requests;
	uint64_t	 denials;
	struct runtime_slot recent[RUNTIME_RECENT_SECS];
	char		 bypass_scope[64];	/* "" when not in force */
	time_t		 bypass_until;
} runtime;

static void	runtime_arm_expiry(void);
static void	runtime_bypass_end_cb(evutil_socket_t, short, void *);
static void	runtime_bypass_start(const char *, time_t);
static int	runtime_state_guard(const char *, struct guard_config *,
		    char *, size_t);

const struct policy *
runtime_policy(void)
{
	return (&runtime.config->policy);
}

char *
runtime_policy_json(void)
{
	return (runtime.state != NULL ? strdup(runtime.state) : NULL);
}

struct store *
runtime_store(void)
{
	return (runtime.store);
}

/*
 * The state a revision keeps: the policy and, under "guard", the create
 * guard's relaxations.  Returns an allocated JSON text.
 */
static char *
runtime_state_json(const struct policy *p, const struct guard_config *g)
{
	char	*ptext, *gtext, *out = NULL;
	json_t	*root = NULL, *guard = NULL;

	ptext = policy_to_json(p);
	gtext = guard_config_to_json(g);
	if (ptext != NULL && gtext != NULL &&
	    (root = json_loads(ptext, 0, NULL)) != NULL &&
	    (guard = json_loads(gtext, 0, NULL)) != NULL &&
	    json_object_set_new(root, "guard", guard) == 0) {
		guard = NULL;
		out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	}
	json_decref(root);
	json_decref(guard);
	free(ptext);
	free(gtext);
	return (out);
}

/*
 * Read the guard's relaxations out of a state: 1 when it has them, 0 when
 * it predates them (the command line's stay), -1 on an error.
 */
static int
runtime_state_guard(const char *state, struct guard_config *g, char *err,
    size_t len)
{
	json_t	*root, *obj;
	char	*text;
	int	 rc;

	if ((root = json_loads(state, 0, NULL)) == NULL) {
		snprintf(err, len, "policy state is not JSON");
		return (-1);
	}
	if ((obj = json_object_get(root, "guard")) == NULL) {
		json_decref(root);
		return (0);
	}
	text = json_dumps(obj, JSON_COMPACT);
	rc = text != NULL ? guard_config_from_json(g, text, err, len) : -1;
	free(text);
	json_decref(root);
	return (rc == 0 ? 1 : -1);
}

/*
 * Compile a state and put it in force; the old one stays on failure.  The
 * state in force itself may be given, to compile it again at a later time.
 */
static int
runtime_swap(const char *state, uint64_t revision, char *err, size_t len)
{
	struct policy		 p = runtime.config->policy;
	struct guard_config	 guard;
	char			*copy;
	int			 have_guard;

	if (policy_from_json(state, (int64_t)time(NULL), &p, err, len) != 0)
		return (-1);
	guard_config_init(&guard);
	if ((have_guard = runtime_state_guard(state, &guard, err, len)) < 0)
		return (-1);
	if (state == runtime.state)
		copy = runtime.state;
	else if ((copy = strdup(state)) == NULL) {
		snprintf(err, len, "out of memory");
		guard_config_free(&guard);
		return (-1);
	}
	p.revision = (unsigned int)revision;
	runtime.config->policy = p;
	if (have_guard) {
		guard_config_free(&runtime.config->guard);
		runtime.config->guard = guard;
	}
	if (copy != runtime.state) {
		free(runtime.state);
		runtime.state = copy;
	}
	return (0);
}

static void
runtime_wake_cb(evutil_socket_t fd, short events, void *arg)
{
	store_dispatch(runtime.store);
}

/* The store's health changed, or stays bad: say so, at most once a minute. */
static void
runtime_notify_cb(const struct store_stats *st, void *arg)
{
	if (st->degraded)
		log_warnx("store degraded: %s; %llu access rows lost so far",
		    st->last_error, (unsigned long long)st->dropped);
	else
		log_info("store writing again; %llu access rows were lost",
		    (unsigned long long)st->dropped);
}

/* A commit of the store came back: swap the policy in, then tell. */
static void
runtime_commit_cb(const struct store_commit *c, void *arg)
{
	struct runtime_change	*rc = arg;
	char			 err[256];
	const char		*error = c->error;

	if (error == NULL && runtime_swap(c->state, c->revision, err,
	    sizeof(err)) != 0)
		error = err;	/* stored but not understood: a bug */
	if (error == NULL)
		log_info("policy revision %llu in force",
		    (unsigned long long)c->revision);
	else
		log_warnx("policy change failed: %s", error);
	if (rc->cb != NULL)
		rc->cb(error == NULL ? c->revision : 0, error, rc->arg);
	free(rc);
	runtime_arm_expiry();
}

/*
 * Validate a new state, commit it as a revision, and only then put it in
 * force; cb hears the revision or why not.
 */
int
runtime_policy_change(const char *state, const struct store_meta *meta,
    runtime_change_cb cb, void *arg)
{
	struct runtime_change	*rc;
	struct policy		 p;
	struct guard_config	 g;
	char			 err[256];
	uint64_t		 rev;

	guard_config_init(&g);
	if (policy_from_json(state, (int64_t)time(NULL), &p, err,
	    sizeof(err)) != 0 || runtime_state_guard(state, &g, err,
	    sizeof(err)) < 0) {
		errno = EINVAL;
		return (-1);
	}
	guard_config_free(&g);
	if (runtime.store == NULL) {
		/* No database: the change lives as long as this dspd. */
		rev = (uint64_t)runtime.config->policy.revision + 1;
		if (runtime_swap(state, rev, err, sizeof(err)) != 0)
			return (-1);
		log_info("policy revision %llu in force (not stored)",
		    (unsigned long long)rev);
		if (cb != NULL)
			cb(rev, NULL, arg);
		return (0);
	}
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return (-1);
	rc->cb = cb;
	rc->arg = arg;
	if (store_policy_change(runtime.store, state, meta, runtime_commit_cb,
	    rc) != 0) {
		free(rc);
		return (-1);
	}
	return (0);
}

static void
runtime_expiry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct runtime_change	*rc;
	struct timeval		 tv = { EXPIRY_RETRY_SEC, 0 };
	char			 err[256];

	/*
	 * The grant ends now, whether or not the store can record it: the
	 * state is compiled again, which leaves out what has run out.
	 */
	if (runtime.state != NULL && runtime_swap(runtime.state,
	    runtime.config->policy.revision, err, sizeof(err)) != 0)
		log_warnx("expiry: %s", err);
	if ((rc = calloc(1, sizeof(*rc))) == NULL ||
	    store_expire(runtime.store, (int64_t)time(NULL),
	    runtime_commit_cb, rc) != 0) {
		free(rc);
		evtimer_add(runtime.expiry, &tv);
	}
}

/* Wake when the next grant runs out, so that its revision is on time. */
static void
runtime_arm_expiry(void)
{
	struct timeval	 tv;
	int64_t		 next, now = (int64_t)time(NULL);

	if (runtime.store == NULL || runtime.expiry == NULL)
		return;
	evtimer_del(runtime.expiry);
	if ((next = store_next_expiry(runtime.store)) <= 0)
		return;
	tv.tv_sec = next > now ? (time_t)(next - now) : 0;
	tv.tv_usec = 0;
	evtimer_add(runtime.expiry, &tv);
}

/*
 * Open the database, apply the environment rule, and put the resulting
 * policy in force before the first client is accepted.  Without a
 * database the environment's policy is the policy.
 */
int
runtime_open(struct event_base *base, struct config *cf, char *err,
    size_t len)
{
	struct store_config	 sc;
	struct store_start	 res;
	char			*env_state, bypass_scope[64] = "";
	time_t			 bypass_until = 0;
	size_t			 i;
	int			 rc = -1;

	memset(&runtime, 0, sizeof(runtime));
	if ((runtime.bypass_end = evtimer_new(base, runtime_bypass_end_cb,
	    NULL)) == NULL) {
		snprintf(err, len, "out of memory");
		return (-1);
	}
	runtime.config = cf;
	runtime.started = time(NULL);
	if ((env_state = runtime_state_json(&cf->policy, &cf->guard)) == NULL) {
		snprintf(err, len, "out of memory");
		return (-1);
	}
	if (cf->db_path == NULL) {
		runtime.state = env_state;
		log_info("no database: policy from the environment, no access "
		    "log");
		return (0);
	}

	store_config_init(&sc, cf->db_path);
	sc.access_log = cf->access_log;
	sc.keep_days = cf->log_keep_days;
	sc.keep_rows = cf->log_keep_rows;
	sc.notify = runtime_notify_cb;
	if (store_open(&sc, &runtime.store, err, len) != 0)
		goto out;
	/*
	 * The environment's policy is its own snapshot: two spellings of
	 * the same settings (1 and true) are no change.
	 */
	memset(&res, 0, sizeof(res));
	if (store_policy_start(runtime.store, env_state, env_state,
	    cf->policy_source_env, (int64_t)time(NULL), &res) != 0) {
		snprintf(err, len, "%s: %s", cf->db_path, res.error[0] ?
		    res.error : "cannot read the policy");
		goto out;
	}
	for (i = 0; i < res.noverridden; i++)
		log_warnx("environment overrides a runtime change: %s was %s "
		    "(set by %s in revision %llu), now %s",
		    res.overridden[i].key, res.overridden[i].before ?
		    res.overridden[i].before : "unset",
		    res.overridden[i].actor ? res.overridden[i].actor : "?",
		    (unsigned long long)res.overridden[i].revision,
		    res.overridden[i].after ? res.overridden[i].after :
		    "unset");
	for (i = 0; i < res.nexpired; i++)
		log_info("grant expired while dspd was stopped: %s",
		    res.expired[i].key);
	if (res.error[0] != '\0')
		log_warnx("policy not stored: %s", res.error);
	if (runtime_swap(res.state, res.revision, err, len) != 0) {
		store_start_free(&res);
		goto out;
	}
	if (res.bypass != NULL) {
		snprintf(bypass_scope, sizeof(bypass_scope), "%s",
		    res.bypass->scope);
		bypass_until = (time_t)res.bypass->until;
	}
	log_info("policy revision %llu from %s%s",
	    (unsigned long long)res.revision, cf->db_path,
	    res.env_applied ? " (environment applied)" : "");
	store_start_free(&res);

	runtime.wake = event_new(base, store_wakeup_fd(runtime.store),
	    EV_READ | EV_PERSIST, runtime_wake_cb, NULL);
	runtime.expiry = evtimer_new(base, runtime_expiry_cb, NULL);
	if (runtime.wake == NULL || runtime.expiry == NULL ||
	    event_add(runtime.wake, NULL) != 0) {
		snprintf(err, len, "cannot watch the store");
		goto out;
	}
	runtime_arm_expiry();
	if (bypass_scope[0] != '\0')
		runtime_bypass_start(bypass_scope, bypass_until);
	rc = 0;
out:
	free(env_state);
	return (rc);
}

/* Write what is queued and close the database; after the drain. */
void
runtime_close(void)
{
	if (runtime.wake != NULL)
		event_free(runtime.wake);
	if (runtime.expiry != NULL)
		event_free(runtime.expiry);
	if (runtime.bypass_end != NULL)
		event_free(runtime.bypass_end);
	if (runtime.store != NULL) {
		store_dispatch(runtime.store);
		store_close(runtime.store);
	}
	free(runtime.state);
	memset(&runtime, 0, sizeof(runtime));
}

/* Seconds of the monotonic clock, which wall-clock steps do not move. */
static time_t
runtime_monotonic_sec(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}

/* Count a denial in the slot of the current second. */
static void
runtime_recent_denial(void)
{
	struct runtime_slot	*slot;
	time_t			 now = runtime_monotonic_sec();

	slot = &runtime.recent[now % RUNTIME_RECENT_SECS];
	if (slot->sec != now) {
		slot->sec = now;
		slot->denials = 0;
	}
	slot->denials++;
}

/* Denials in the last RUNTIME_RECENT_SECS seconds. */
static uint64_t
runtime_recent_denials(void)
{
	time_t		 now = runtime_monotonic_sec();
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < RUNTIME_RECENT_SECS; i++)
		if (now - runtime.recent[i].sec < RUNTIME_RECENT_SECS)
			n += runtime.recent[i].denials;
	return (n);
}

/*
 * An exchange ended: count it, show it to the control socket's
 * subscribers, and hand its record to the store's queue, which drops and
 * counts rather than wait when it is full.
 */
void
runtime_exchange_end(const struct session *s, const struct exchange *ex)
{
	struct store_access_row	 row;
	struct timeval		 now, d;

	runtime.requests++;
	if (ex->verdict == VERDICT_DENY || ex->status == 403) {
		runtime.denials++;
		runtime_recent_denial();
	}
	gettimeofday(&now, NULL);
	timersub(&now, &ex->start, &d);
	memset(&row, 0, sizeof(row));
	row.time_us = (int64_t)ex->start.tv_sec * 1000000 + ex->start.tv_usec;
	row.duration_us = (int64_t)d.tv_sec * 1000000 + d.tv_usec;
	metrics_exchange(ex, row.duration_us);
	row.client = s->client;
	row.listener = s->listener_name;
	row.profile = "default";
	row.method = ex->method;
	row.target = ex->target;
	row.path = ex->canon.path;
	row.api_version = ex->canon.path != NULL ? ex->canon.version : NULL;
	row.group = catalogue_group_name(ex->endpoint != NULL ?
	    ex->endpoint->group : GROUP_UNKNOWN);
	row.action = ex->endpoint != NULL ? ex->endpoint->action : NULL;
	row.verdict = policy_verdict_name(ex->verdict);
	row.policy_verdict = policy_verdict_name(ex->policy_verdict);
	row.revision = ex->revision;
	row.status = ex->status;
	row.bytes_in = ex->bytes_in;
	row.bytes_out = ex->bytes_out;
	row.close_reason = session_close_reason_name(ex->reason);
	row.guard = ex->guard_field[0] != '\0' ? ex->guard_field : NULL;
	control_publish(&row);
	if (runtime.store != NULL)
		store_log_access(runtime.store, &row);
}

/* Counters and health for status requests. */
void
runtime_status(struct runtime_status *st)
{
	memset(st, 0, sizeof(*st));
	st->uptime = (long long)(time(NULL) - runtime.started);
	st->requests = runtime.requests;
	st->denials = runtime.denials;
	st->denials_recent = runtime_recent_denials();
	st->revision = runtime.config->policy.revision;
	st->has_store = runtime.store != NULL;
	if (runtime.store != NULL)
		store_stats(runtime.store, &st->store);
	if (runtime.bypass_scope[0] != '\0') {
		snprintf(st->bypass_scope, sizeof(st->bypass_scope), "%s",
		    runtime.bypass_scope);
		st->bypass_left = (long long)(runtime.bypass_until -
		    time(NULL));
	}
}

/* Whether the emergency bypass in force covers an endpoint. */
int
runtime_bypass_covers(const struct endpoint *ep)
{
	const char	*scope = runtime.bypass_scope;

	if (scope[0] == '\0' || time(NULL) >= runtime.bypass_until)
		return (0);
	if (strcmp(scope, "all") == 0)
		return (1);
	return (strncmp(scope, "group:", 6) == 0 && ep != NULL &&
	    strcmp(scope + 6, catalogue_group_name(ep->group)) == 0);
}

int
runtime_bypass_active(char *scope, size_t len, long long *left)
{
	time_t	 now = time(NULL);

	if (runtime.bypass_scope[0] == '\0' || now >= runtime.bypass_until)
		return (0);
	if (scope != NULL)
		snprintf(scope, len, "%s", runtime.bypass_scope);
	if (left != NULL)
		*left = (long long)(runtime.bypass_until - now);
	return (1);
}

/* Put a bypass in force in memory, with the timer that ends it. */
static void
runtime_bypass_start(const char *scope, time_t until)
{
	struct timeval	 tv;
	time_t		 now = time(NULL);

	snprintf(runtime.bypass_scope, sizeof(runtime.bypass_scope), "%s",
	    scope);
	runtime.bypass_until = until;
	tv.tv_sec = until > now ? until - now : 0;
	tv.tv_usec = 0;
	evtimer_add(runtime.bypass_end, &tv);
	log_warnx("BYPASS in force for %s until %lld: the policy's denials "
	    "are let through", scope, (long long)until);
}

/* End the bypass in memory and close what it alone let in. */
static void
runtime_bypass_stop(const char *who)
{
	if (runtime.bypass_scope[0] == '\0')
		return;
	log_warnx("bypass of %s ended by %s", runtime.bypass_scope, who);
	runtime.bypass_scope[0] = '\0';
	runtime.bypass_until = 0;
	evtimer_del(runtime.bypass_end);
	session_close_bypassed();
}

struct runtime_bypass_op {
	runtime_change_cb	 cb;
	void			*arg;
	char			 scope[64];
	time_t			 until;	/* 0: a clear */
	char			 who[64];
};

static void
runtime_bypass_done_cb(const char *error, void *arg)
{
	struct runtime_bypass_op	*op = arg;

	if (error == NULL) {
		if (op->until != 0)
			runtime_bypass_start(op->scope, op->until);
		else
			runtime_bypass_stop(op->who);
	} else
		log_warnx("bypass change failed: %s", error);
	if (op->cb != NULL)
		op->cb(runtime.config->policy.revision, error, op->arg);
	free(op);
}

/* Queue a bypass change in the store, or make it at once without one. */
static int
runtime_bypass_queue(struct runtime_bypass_op *op,
    const struct store_meta *meta)
{
	int	 rc;

	if (runtime.store == NULL) {
		runtime_bypass_done_cb(NULL, op);
		return (0);
	}
	if (op->until != 0)
		rc = store_bypass_set(runtime.store, op->scope,
		    (int64_t)op->until, meta, runtime_bypass_done_cb, op);
	else
		rc = store_bypass_clear(runtime.store, meta,
		    runtime_bypass_done_cb, op);
	if (rc != 0)
		free(op);
	return (rc);
}

/*
 * The emergency rollback: for seconds (capped by --max-bypass, a cap
 * only the command line sets) the policy's denials in scope are let
 * through, each still logged with the verdict the policy gave.
 */
int
runtime_bypass_set(const char *scope, long long seconds,
    const struct store_meta *meta, runtime_change_cb cb, void *arg)
{
	struct runtime_bypass_op	*op;

	if (strcmp(scope, "all") != 0 && (strncmp(scope, "group:", 6) != 0 ||
	    catalogue_group_from_name(scope + 6) == GROUP_UNKNOWN)) {
		errno = EINVAL;
		return (-1);
	}
	if (seconds <= 0 || seconds > runtime.config->max_bypass_sec)
		seconds = runtime.config->max_bypass_sec;
	if ((op = calloc(1, sizeof(*op))) == NULL)
		return (-1);
	op->cb = cb;
	op->arg = arg;
	snprintf(op->scope, sizeof(op->scope), "%s", scope);
	op->until = time(NULL) + (time_t)seconds;
	return (runtime_bypass_queue(op, meta));
}

int
runtime_bypass_clear(const struct store_meta *meta, runtime_change_cb cb,
    void *arg)
{
	struct runtime_bypass_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return (-1);
	op->cb = cb;
	op->arg = arg;
	snprintf(op->who, sizeof(op->who), "%s", meta != NULL &&
	    meta->actor != NULL ? meta->actor : "?");
	return (runtime_bypass_queue(op, meta));
}

/* The bypass reached its deadline. */
static void
runtime_bypass_end_cb(evutil_socket_t fd, short events, void *arg)
{
	struct store_meta	 meta = { -1, "expiry", "expiry", NULL };

	if (runtime_bypass_clear(&meta, NULL, NULL) != 0)
		runtime_bypass_stop("expiry");
}
