/*
 * The control sockets: a read-write one for dspctl and dsptui, and an
 * optional read-only one for monitoring.  One JSON object a line each way
 * (ctl/dsp_proto.h).  Who may connect is decided by the peer's
 * credentials, not by the socket file's mode; a bad message costs only
 * that client; a change is answered only once it is committed; access
 * events go out to subscribers without ever holding traffic back.
 */

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dspd.h"

/* Mode of a control socket when its path does not say. */
#define CONTROL_DEFAULT_MODE	0600
/* Connections the kernel queues before dspd accepts them. */
#define CONTROL_BACKLOG		16
/* Control clients at once; more are told so and closed. */
#define CONTROL_CLIENTS_MAX	64
/* Requests of one client in flight; past it dspd stops reading it. */
#define CONTROL_PENDING_MAX	8
/* Bad messages in a row before dspd closes the client. */
#define CONTROL_ERRORS_MAX	8
/* Bytes of replies waiting for a client before dspd stops reading it. */
#define CONTROL_OUT_HIGH	(256 * 1024)
/* Bytes waiting below which reading resumes and lossy events are sent. */
#define CONTROL_OUT_LOW		(64 * 1024)
/* Bytes waiting for a lossless subscriber before it is cut off. */
#define CONTROL_LOSSLESS_MAX	(1024 * 1024)
/* Events a lossy subscriber's queue holds; the oldest go first. */
#define CONTROL_LOSSY_QUEUE	1024
/* Milliseconds a closing client has to read its last lines. */
#define CONTROL_LINGER_MSEC	2000
/* Milliseconds a subscriber cut off as too slow has to read why. */
#define CONTROL_CUT_LINGER_MSEC	10000
/* Milliseconds the engine has to answer a ping. */
#define CONTROL_PROBE_MSEC	2000
/* Bytes of an engine's status line that a ping reads, at most. */
#define CONTROL_PROBE_LINE	256
/* Lines out: ASCII whatever the bytes logged; times to the microsecond. */
#define CONTROL_JSON_FLAGS	(JSON_COMPACT | JSON_ENSURE_ASCII | \
				    JSON_REAL_PRECISION(16))

struct control_socket {
	struct evconnlistener	*ev;
	char			*path;
	int			 lock_fd;
	int			 read_only;
};

/* An event waiting for a lossy subscriber. */
struct control_line {
	TAILQ_ENTRY(control_line) entry;
	size_t			 len;
	char			 data[];
};
TAILQ_HEAD(control_lines, control_line);

struct control_client {
	TAILQ_ENTRY(control_client) entry;
	struct bufferevent	*bev;
	struct event		*linger;
	int			 read_only;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	char			 actor[64];
	unsigned int		 pending;	/* requests in flight */
	unsigned int		 errors;	/* bad messages in a row */
	int			 closing;
	int			 paused;	/* too much output waiting */
	int			 reading;	/* in control_read_lines */
	int			 eof;		/* sent all it will send */
	int			 shut;		/* our side shut, closing */

	int			 subscribed;
	int			 lossy;
	int			 denied;
	char			 sub_id[PROTOCOL_ID_SIZE];
	char			 sub_client[DSP_FILTER_MAX + 1];
	char			 sub_group[32];
	struct control_lines	 queue;		/* lossy: not yet written */
	size_t			 nqueued;
	uint64_t		 dropped;	/* lossy: since last told */
};
TAILQ_HEAD(control_clients, control_client);

/*
 * A request that is answered later: after the engine answers a probe,
 * after the store answers, or after a change commits.  The client may
 * go away meanwhile; the op then finishes without a reply.
 */
struct control_op {
	TAILQ_ENTRY(control_op)	 entry;		/* every op in flight */
	TAILQ_ENTRY(control_op)	 queue;		/* changes waiting their turn */
	struct control_client	*client;	/* NULL once it has gone */
	struct protocol_request	 req;
	struct store_meta	 meta;
	char			 actor[64];
	struct bufferevent	*probe;
	struct event		*probe_timer;
	struct timeval		 probe_start;
};
TAILQ_HEAD(control_ops, control_op);

static struct {
	struct event_base	*base;
	const struct config	*config;
	struct control_socket	 sockets[2];
	size_t			 nsockets;
	struct event		*accept_retry;
	struct control_clients	 clients;
	size_t			 nclients;
	size_t			 nsubscribers;
	struct control_ops	 ops;		/* in flight */
	struct control_ops	 changes;	/* waiting; first is running */
	int			 changing;	/* a change is in flight */
	int			 in_next;	/* control_change_next runs */
	int			 open;
} control = {
	.clients = TAILQ_HEAD_INITIALIZER(control.clients),
	.ops = TAILQ_HEAD_INITIALIZER(control.ops),
	.changes = TAILQ_HEAD_INITIALIZER(control.changes)
};

static void	control_client_free(struct control_client *);
static void	control_client_update(struct control_client *);
static void	control_read_lines(struct control_client *);
static void	control_change_next(void);

/* Append one line to a client's output; fmt gives it without "\n". */
static void
control_write(struct control_client *c, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

static void
control_write(struct control_client *c, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	va_list		 ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
}

/* Send the reply to request id, taking the reference to result. */
static void
control_reply(struct control_client *c, const char *id, json_t *result)
{
	char	*text;

	if (c == NULL || c->closing) {
		json_decref(result);
		return;
	}
	text = result != NULL ? json_dumps(result, CONTROL_JSON_FLAGS) : NULL;
	json_decref(result);
	if (text == NULL) {
		control_write(c, "{\"id\":%s,\"error\":{\"code\":\"%s\","
		    "\"message\":\"out of memory\"}}", id, DSP_ERR_FAILED);
		return;
	}
	control_write(c, "{\"id\":%s,\"result\":%s}", id, text);
	free(text);
	control_client_update(c);
}

static void
control_error(struct control_client *c, const char *id, const char *code,
    const char *fmt, ...) __attribute__((__format__ (printf, 4, 5)));

/* Send an error reply to request id ("null" when it had none). */
static void
control_error(struct control_client *c, const char *id, const char *code,
    const char *fmt, ...)
{
	json_t	*err;
	char	 msg[512], *text;
	va_list	 ap;

	if (c == NULL || c->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = json_pack("{s:s, s:s}", "code", code, "message", msg);
	text = err != NULL ? json_dumps(err, CONTROL_JSON_FLAGS) : NULL;
	json_decref(err);
	if (text == NULL)
		control_write(c, "{\"id\":%s,\"error\":{\"code\":\"%s\","
		    "\"message\":\"?\"}}", id, code);
	else
		control_write(c, "{\"id\":%s,\"error\":%s}", id, text);
	free(text);
	control_client_update(c);
}

/*
 * A JSON string for text that dspd did not write itself: bytes that are
 * not UTF-8 become '?', so that a reply is never lost to one bad byte.
 */
static json_t *
control_text(const char *s)
{
	json_t	*v;
	char	*copy;
	size_t	 i;

	if (s == NULL)
		return (json_null());
	if ((v = json_string(s)) != NULL)
		return (v);
	if ((copy = strdup(s)) == NULL)
		return (json_null());
	for (i = 0; copy[i] != '\0'; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	v = json_string(copy);
	free(copy);
	return (v != NULL ? v : json_null());
}

/*
 * Everything for a closing client is written: shut our side and wait for
 * the client's end, so that what it still sends cannot turn the close
 * into a reset that loses our last lines.
 */
static void
control_client_flushed(struct control_client *c)
{
	if (c->eof) {
		control_client_free(c);
		return;
	}
	if (!c->shut) {
		shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		c->shut = 1;
	}
}

/* Close a client after what is queued for it is written, or in msec. */
static void
control_client_finish(struct control_client *c, int msec)
{
	struct timeval	 tv = { msec / 1000, (msec % 1000) * 1000 };

	if (c->closing)
		return;
	c->closing = 1;
	evtimer_add(c->linger, &tv);
	/* Input is read on, into the void, until the client's end. */
	if (!c->eof)
		bufferevent_enable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		control_client_flushed(c);
		return;
	}
	/* The write callback comes again once everything is written. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

/* Say why, then close. */
static void
control_client_cut(struct control_client *c, const char *why, int msec)
{
	json_t	*v;
	char	*text;

	if (c->closing)
		return;
	v = control_text(why);
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	json_decref(v);
	control_write(c, "{\"event\":\"%s\",\"reason\":%s}", DSP_EVENT_CLOSED,
	    text != NULL ? text : "\"?\"");
	free(text);
	control_client_finish(c, msec);
}

/*
 * Read from a client only while it keeps up with its replies and has few
 * requests in flight: back-pressure instead of unbounded buffers.
 */
static void
control_client_update(struct control_client *c)
{
	size_t	 out;

	if (c->closing)
		return;
	out = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (out > CONTROL_OUT_HIGH)
		c->paused = 1;
	else if (out <= CONTROL_OUT_LOW)
		c->paused = 0;
	if (c->paused || c->pending >= CONTROL_PENDING_MAX)
		bufferevent_disable(c->bev, EV_READ);
	else
		bufferevent_enable(c->bev, EV_READ);
}

/* Free a client; requests of its still in flight finish unanswered. */
static void
control_client_free(struct control_client *c)
{
	struct control_line	*l;
	struct control_op	*op;

	TAILQ_FOREACH(op, &control.ops, entry)
		if (op->client == c)
			op->client = NULL;
	while ((l = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, l, entry);
		free(l);
	}
	if (c->subscribed)
		control.nsubscribers--;
	TAILQ_REMOVE(&control.clients, c, entry);
	control.nclients--;
	if (c->linger != NULL)
		event_free(c->linger);
	bufferevent_free(c->bev);
	free(c);
}

static void
control_linger_cb(evutil_socket_t fd, short events, void *arg)
{
	control_client_free(arg);
}

/* Write one event to a lossy subscriber now, telling of drops first. */
static void
control_lossy_write(struct control_client *c, const char *data, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (c->dropped > 0) {
		control_write(c, "{\"event\":\"%s\",\"subscription\":%s,"
		    "\"count\":%llu}", DSP_EVENT_DROPPED, c->sub_id,
		    (unsigned long long)c->dropped);
		c->dropped = 0;
	}
	if (data != NULL)
		evbuffer_add(out, data, len);
}

/* Move queued events to a lossy subscriber while its output is short. */
static void
control_lossy_refill(struct control_client *c)
{
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct control_line	*l;

	while (evbuffer_get_length(out) < CONTROL_OUT_LOW &&
	    (l = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, l, entry);
		c->nqueued--;
		control_lossy_write(c, l->data, l->len);
		free(l);
	}
	if (c->dropped > 0 && TAILQ_EMPTY(&c->queue) &&
	    evbuffer_get_length(out) < CONTROL_OUT_LOW)
		control_lossy_write(c, NULL, 0);
}

/* The output drained below the low mark, or wholly when closing. */
static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client	*c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			control_client_flushed(c);
		return;
	}
	if (c->lossy)
		control_lossy_refill(c);
	control_client_update(c);
	control_read_lines(c);
}

/*
 * The client shut its sending side: answer what it asked, then close.
 * A subscription ends too, or a client that went away unseen would
 * hold its place until an event came to fail on it.
 */
static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client	*c = arg;

	if (what & BEV_EVENT_ERROR) {
		control_client_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		bufferevent_disable(bev, EV_READ);
		if (!c->closing)
			control_read_lines(c);
		else if (c->shut)
			control_client_free(c);
	}
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);

	if (c->closing)
		evbuffer_drain(in, evbuffer_get_length(in));
	else
		control_read_lines(c);
}

/* Build the store's who-and-why of a change from its request. */
static void
control_op_meta(struct control_op *op)
{
	const struct control_client	*c = op->client;

	snprintf(op->actor, sizeof(op->actor), "%s", c != NULL ? c->actor :
	    "?");
	op->meta.uid = c != NULL ? (long long)c->uid : -1;
	op->meta.actor = op->actor;
	op->meta.source = op->req.source;
	op->meta.reason = op->req.reason[0] != '\0' ? op->req.reason : NULL;
}

/* A request answered later, counted against its client's share. */
static struct control_op *
control_op_new(struct control_client *c, const struct protocol_request *req)
{
	struct control_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return (NULL);
	op->client = c;
	op->req = *req;
	control_op_meta(op);
	TAILQ_INSERT_TAIL(&control.ops, op, entry);
	c->pending++;
	control_client_update(c);
	return (op);
}

/* The op is answered: free it and let its client send more. */
static void
control_op_done(struct control_op *op)
{
	struct control_client	*c = op->client;

	TAILQ_REMOVE(&control.ops, op, entry);
	if (op->probe != NULL)
		bufferevent_free(op->probe);
	if (op->probe_timer != NULL)
		event_free(op->probe_timer);
	free(op);
	if (c != NULL && !c->closing) {
		c->pending--;
		control_client_update(c);
		control_read_lines(c);
	}
}

/* Close a client that has sent its last line once it has its replies. */
static void
control_client_check_eof(struct control_client *c)
{
	if (c->eof && c->pending == 0 && !c->closing)
		control_client_finish(c, CONTROL_LINGER_MSEC);
}

/* The error a failed call into the runtime or the store gives. */
static void
control_op_fail(struct control_op *op, int err)
{
	control_error(op->client, op->req.id, err == EAGAIN ? DSP_ERR_BUSY :
	    DSP_ERR_FAILED, "%s not started: %s",
	    protocol_type_name(op->req.type), strerror(err));
	control_op_done(op);
}

/* The store's health and counters, for status. */
static json_t *
control_store_json(const struct runtime_status *st)
{
	if (!st->has_store)
		return (json_pack("{s:b}", "database", 0));
	return (json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "database", 1, "healthy", !st->store.degraded, "degraded_since",
	    (json_int_t)st->store.degraded_since, "queued",
	    (json_int_t)st->store.queued, "written",
	    (json_int_t)st->store.written, "dropped",
	    (json_int_t)st->store.dropped, "deleted",
	    (json_int_t)st->store.deleted, "faults",
	    (json_int_t)st->store.faults, "last_error",
	    control_text(st->store.last_error)));
}

/* The addresses the listeners are bound to, as the ready file has them. */
static json_t *
control_listeners_json(void)
{
	json_t		*list;
	const char	*name;
	size_t		 i;

	if ((list = json_array()) == NULL)
		return (json_null());
	for (i = 0; (name = listener_name(i)) != NULL; i++)
		json_array_append_new(list, control_text(name));
	return (list);
}

/* Add what status tells besides the engine's answer. */
static void
control_status_json(json_t *r)
{
	struct runtime_status	 st;
	char			 scope[64];
	long long		 left = 0;
	int			 bypass;

	runtime_status(&st);
	bypass = runtime_bypass_active(scope, sizeof(scope), &left);
	json_object_set_new(r, "version", json_string(DSPD_VERSION));
	json_object_set_new(r, "mode", json_string(bypass ? "bypass" :
	    "enforcing"));
	json_object_set_new(r, "bypass", bypass ? json_pack("{s:s, s:I}",
	    "scope", scope, "seconds_left", (json_int_t)left) : json_null());
	json_object_set_new(r, "revision", json_integer(st.revision));
	json_object_set_new(r, "uptime", json_integer(st.uptime));
	json_object_set_new(r, "requests", json_integer(
	    (json_int_t)st.requests));
	json_object_set_new(r, "denials", json_integer(
	    (json_int_t)st.denials));
	json_object_set_new(r, "denials_1m", json_integer(
	    (json_int_t)st.denials_recent));
	json_object_set_new(r, "max_bypass", json_integer(
	    control.config->max_bypass_sec));
	json_object_set_new(r, "store", control_store_json(&st));
	json_object_set_new(r, "control", json_pack("{s:I, s:I}", "clients",
	    (json_int_t)control.nclients, "subscribers",
	    (json_int_t)control.nsubscribers));
	json_object_set_new(r, "listeners", control_listeners_json());
}

/* status and ping: what dspd knows, and whether the engine answered. */
static void
control_probe_reply(struct control_op *op, const char *engine_error)
{
	struct timeval	 now, d;
	json_t		*r;

	gettimeofday(&now, NULL);
	timersub(&now, &op->probe_start, &d);
	r = json_object();
	json_object_set_new(r, "engine", json_string(engine_error == NULL ?
	    "up" : "down"));
	if (engine_error != NULL)
		json_object_set_new(r, "engine_error",
		    json_string(engine_error));
	else
		json_object_set_new(r, "engine_ms", json_integer(
		    (json_int_t)d.tv_sec * 1000 + d.tv_usec / 1000));
	if (op->req.type == PROTOCOL_PING)
		json_object_set_new(r, "dspd", json_string("up"));
	else
		control_status_json(r);
	control_reply(op->client, op->req.id, r);
	control_op_done(op);
}

/* The engine's status line arrived, or enough bytes without one. */
static void
control_probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_op	*op = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line, msg[96];
	size_t			 n;
	int			 major, minor, status;

	line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CONTROL_PROBE_LINE)
			control_probe_reply(op, "not an HTTP answer");
		return;
	}
	if (sscanf(line, "HTTP/%d.%d %d", &major, &minor, &status) != 3) {
		free(line);
		control_probe_reply(op, "not an HTTP answer");
		return;
	}
	free(line);
	if (status != 200) {
		snprintf(msg, sizeof(msg), "GET /_ping answered %d", status);
		control_probe_reply(op, msg);
		return;
	}
	control_probe_reply(op, NULL);
}

/* The engine's socket refused the connection or closed it early. */
static void
control_probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	char	 msg[128];
	int	 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_ERROR)
		snprintf(msg, sizeof(msg), "%s", err != 0 ? strerror(err) :
		    "cannot connect");
	else
		snprintf(msg, sizeof(msg), "closed without an answer");
	control_probe_reply(arg, msg);
}

static void
control_probe_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	char	 msg[64];

	snprintf(msg, sizeof(msg), "no answer to GET /_ping in %d ms",
	    CONTROL_PROBE_MSEC);
	control_probe_reply(arg, msg);
}

/* Ask the engine GET /_ping, the way a container health check would. */
static void
control_probe_start(struct control_op *op)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { CONTROL_PROBE_MSEC / 1000,
	    (CONTROL_PROBE_MSEC % 1000) * 1000 };
	const char		*path = control.config->socket_path;

	gettimeofday(&op->probe_start, NULL);
	if (path == NULL || listener_unix_addr(path, &sun) != 0) {
		control_probe_reply(op, "engine socket path too long");
		return;
	}
	op->probe = bufferevent_socket_new(control.base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	op->probe_timer = evtimer_new(control.base, control_probe_timeout_cb,
	    op);
	if (op->probe == NULL || op->probe_timer == NULL) {
		control_probe_reply(op, "out of memory");
		return;
	}
	bufferevent_setcb(op->probe, control_probe_read_cb, NULL,
	    control_probe_event_cb, op);
	bufferevent_enable(op->probe, EV_READ | EV_WRITE);
	evbuffer_add_printf(bufferevent_get_output(op->probe),
	    "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n");
	evtimer_add(op->probe_timer, &tv);
	if (bufferevent_socket_connect(op->probe, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0)
		control_probe_reply(op, strerror(errno));
}

/* groups: every group's access and every action's override in force. */
static void
control_groups(struct control_client *c, const struct protocol_request *req)
{
	const struct policy	*p = runtime_policy();
	static const char *const overrides[] = {
		[OVERRIDE_INHERIT] = "inherit", [OVERRIDE_ALLOW] = "allow",
		[OVERRIDE_DENY] = "deny"
	};
	json_t			*r, *groups, *kinds, *state, *grants;
	char			*text, scope[64];
	long long		 left = 0;
	int			 g, k;

	groups = json_array();
	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++)
		json_array_append_new(groups, json_pack("{s:s, s:s, s:s}",
		    "group", catalogue_group_name((enum endpoint_group)g),
		    "variable",
		    catalogue_group_variable((enum endpoint_group)g),
		    "access", policy_access_name(p->access[g])));
	kinds = json_array();
	for (k = KIND_NONE + 1; k < KIND_COUNT; k++)
		json_array_append_new(kinds, json_pack("{s:s, s:s?, s:s}",
		    "action", catalogue_kind_name((enum action_kind)k),
		    "variable", policy_kind_variable((enum action_kind)k),
		    "override", overrides[p->override[k]]));
	grants = NULL;
	if ((text = runtime_policy_json()) != NULL) {
		state = json_loads(text, 0, NULL);
		grants = json_incref(json_object_get(state, "grants"));
		json_decref(state);
		free(text);
	}
	r = json_pack("{s:I, s:o, s:o, s:o}", "revision",
	    (json_int_t)p->revision, "groups", groups, "overrides", kinds,
	    "grants", json_is_array(grants) ? grants : json_array());
	if (grants != NULL && !json_is_array(grants))
		json_decref(grants);
	if (r != NULL && runtime_bypass_active(scope, sizeof(scope), &left))
		json_object_set_new(r, "bypass", json_pack("{s:s, s:I}",
		    "scope", scope, "seconds_left", (json_int_t)left));
	/* The create guard's relaxations are part of the policy too. */
	if (r != NULL && (text = guard_config_to_json(
	    &dspd.config->guard)) != NULL) {
		json_object_set_new(r, "guard", json_loads(text, 0, NULL));
		free(text);
	}
	control_reply(c, req->id, r);
}

/* Take out of a state's grants those of one group or one action. */
static void
control_grants_remove(json_t *grants, const char *member, const char *name)
{
	json_t	*g;
	size_t	 i = 0;

	while (i < json_array_size(grants)) {
		g = json_array_get(grants, i);
		if (json_is_object(g) && json_string_value(json_object_get(g,
		    member)) != NULL && strcmp(json_string_value(
		    json_object_get(g, member)), name) == 0)
			json_array_remove(grants, i);
		else
			i++;
	}
}

/* Take out of a state's grants those already due: they are over. */
static void
control_grants_expire(json_t *state, time_t now)
{
	json_t	*grants = json_object_get(state, "grants"), *until;
	size_t	 i = 0;

	while (i < json_array_size(grants)) {
		until = json_object_get(json_array_get(grants, i), "until");
		if (json_is_number(until) &&
		    json_number_value(until) <= (double)now)
			json_array_remove(grants, i);
		else
			i++;
	}
	if (json_is_array(grants) && json_array_size(grants) == 0)
		json_object_del(state, "grants");
}

/* The state in force, parsed. */
static json_t *
control_state_now(char *err, size_t errlen)
{
	json_t	*state;
	char	*text;

	if ((text = runtime_policy_json()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	state = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	if (!json_is_object(state)) {
		json_decref(state);
		snprintf(err, errlen, "the policy in force does not parse");
		return (NULL);
	}
	return (state);
}

/*
 * The state a set request asks for, from the one in force.  Without
 * "for" the change is permanent and replaces any grant on the same group
 * or action; with it, a grant that the store ends at its "until".
 */
static char *
control_set_state(const struct protocol_request *req, char *err,
    size_t errlen)
{
	static const char *const access[] = { "off", "read", "write" };
	static const char *const overrides[] = { "inherit", "allow", "deny" };
	json_t		*state, *acc, *ovr, *grants;
	char		*text;
	const char	*name;
	time_t		 now = time(NULL);
	int		 g, k;

	if ((state = control_state_now(err, errlen)) == NULL)
		return (NULL);
	if (!json_is_object(acc = json_object_get(state, "access")))
		json_object_set_new(state, "access", acc = json_object());
	if (!json_is_object(ovr = json_object_get(state, "overrides")))
		json_object_set_new(state, "overrides", ovr = json_object());
	if (!json_is_array(grants = json_object_get(state, "grants")))
		json_object_set_new(state, "grants", grants = json_array());

	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++) {
		if (req->access[g] == PROTOCOL_UNCHANGED)
			continue;
		name = catalogue_group_name((enum endpoint_group)g);
		control_grants_remove(grants, "group", name);
		if (req->seconds == 0)
			json_object_set_new(acc, name,
			    json_string(access[req->access[g]]));
		else
			json_array_append_new(grants, json_pack("{s:s, s:s, "
			    "s:I}", "group", name, "access",
			    access[req->access[g]], "until",
			    (json_int_t)(now + req->seconds)));
	}
	for (k = KIND_NONE + 1; k < KIND_COUNT; k++) {
		if (req->override[k] == PROTOCOL_UNCHANGED)
			continue;
		name = catalogue_kind_name((enum action_kind)k);
		control_grants_remove(grants, "action", name);
		if (req->seconds != 0)
			json_array_append_new(grants, json_pack("{s:s, s:s, "
			    "s:I}", "action", name, "override",
			    overrides[req->override[k]], "until",
			    (json_int_t)(now + req->seconds)));
		else if (req->override[k] == OVERRIDE_INHERIT)
			json_object_del(ovr, name);
		else
			json_object_set_new(ovr, name,
			    json_string(overrides[req->override[k]]));
	}
	control_grants_expire(state, now);
	text = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(state);
	if (text == NULL)
		snprintf(err, errlen, "out of memory");
	return (text);
}

/*
 * Check a state as the runtime will, so that a refusal says why; a
 * state that the runtime cannot read would only give EINVAL.
 */
static int
control_state_check(struct control_op *op, const char *state)
{
	struct policy	 p;
	char		 err[256];

	policy_init(&p);
	if (policy_from_json(state, (int64_t)time(NULL), &p, err,
	    sizeof(err)) == 0)
		return (0);
	control_error(op->client, op->req.id, DSP_ERR_ARGUMENT, "%s", err);
	return (-1);
}

/* A change committed, or failed: answer, then start the next one. */
static void
control_change_cb(uint64_t revision, const char *error, void *arg)
{
	struct control_op	*op = arg;
	json_t			*r;
	char			 scope[64];
	long long		 left;

	if (error != NULL) {
		control_error(op->client, op->req.id, DSP_ERR_FAILED, "%s",
		    error);
		log_warnx("control: %s by %s failed: %s",
		    protocol_type_name(op->req.type), op->actor, error);
	} else {
		log_info("control: %s by %s (uid %lld, %s)%s%s, policy "
		    "revision %llu", protocol_type_name(op->req.type),
		    op->actor, op->meta.uid, op->req.source,
		    op->meta.reason != NULL ? ": " : "",
		    op->meta.reason != NULL ? op->meta.reason : "",
		    (unsigned long long)revision);
		r = json_pack("{s:I}", "revision", (json_int_t)revision);
		if (op->req.type == PROTOCOL_RESTORE && r != NULL)
			json_object_set_new(r, "was_active", json_true());
		if (op->req.type == PROTOCOL_ROLLBACK && r != NULL &&
		    runtime_bypass_active(scope, sizeof(scope), &left)) {
			json_object_set_new(r, "scope", json_string(scope));
			json_object_set_new(r, "until", json_integer(
			    (json_int_t)time(NULL) + left));
		}
		control_reply(op->client, op->req.id, r);
	}
	control_op_done(op);
	control.changing = 0;
	control_change_next();
}

/* The state of the revision to go back to arrived: commit it anew. */
static void
control_revert_state_cb(uint64_t revision, const char *state,
    const char *error, void *arg)
{
	struct control_op	*op = arg;
	json_t			*j;
	char			*text = NULL;

	if (error != NULL) {
		control_error(op->client, op->req.id, strncmp(error,
		    "no revision", 11) == 0 ? DSP_ERR_NOT_FOUND :
		    DSP_ERR_FAILED, "%s", error);
		goto fail;
	}
	/* Grants whose time has passed stay over. */
	if ((j = json_loads(state, 0, NULL)) != NULL) {
		control_grants_expire(j, time(NULL));
		text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(j);
	}
	if (text == NULL) {
		control_error(op->client, op->req.id, DSP_ERR_FAILED,
		    "revision %llu does not parse",
		    (unsigned long long)revision);
		goto fail;
	}
	if (control_state_check(op, text) != 0)
		goto fail;
	if (op->meta.reason == NULL) {
		snprintf(op->req.reason, sizeof(op->req.reason),
		    "revert to revision %llu", (unsigned long long)revision);
		op->meta.reason = op->req.reason;
	}
	if (runtime_policy_change(text, &op->meta, control_change_cb,
	    op) != 0) {
		control_error(op->client, op->req.id, DSP_ERR_FAILED,
		    "revision %llu cannot be put in force: %s",
		    (unsigned long long)revision, strerror(errno));
		goto fail;
	}
	free(text);
	return;

fail:
	free(text);
	control_op_done(op);
	control.changing = 0;
	control_change_next();
}

/* Start one change; -1 when it failed at once (already answered). */
static int
control_change_start(struct control_op *op)
{
	const struct protocol_request	*req = &op->req;
	char				*state, err[256];
	int				 rc;

	switch (req->type) {
	case PROTOCOL_SET:
		if ((state = control_set_state(req, err, sizeof(err))) ==
		    NULL) {
			control_error(op->client, req->id, DSP_ERR_FAILED,
			    "%s", err);
			control_op_done(op);
			return (-1);
		}
		if (control_state_check(op, state) != 0) {
			free(state);
			control_op_done(op);
			return (-1);
		}
		rc = runtime_policy_change(state, &op->meta,
		    control_change_cb, op);
		free(state);
		break;
	case PROTOCOL_REVERT:
		rc = store_revision_state(runtime_store(), req->revision,
		    control_revert_state_cb, op);
		break;
	case PROTOCOL_ROLLBACK:
		rc = runtime_bypass_set(req->scope, req->seconds, &op->meta,
		    control_change_cb, op);
		break;
	case PROTOCOL_RESTORE:
		rc = runtime_bypass_clear(&op->meta, control_change_cb, op);
		break;
	default:
		rc = -1;
		errno = EINVAL;
		break;
	}
	if (rc != 0) {
		control_op_fail(op, errno);
		return (-1);
	}
	return (0);
}

/*
 * Run the queued changes one at a time: each starts from the state the
 * one before it committed, so two clients never undo each other.  The
 * runtime may call back before returning (no database), hence in_next.
 */
static void
control_change_next(void)
{
	struct control_op	*op;

	if (control.in_next)
		return;
	control.in_next = 1;
	while (control.open && !control.changing &&
	    (op = TAILQ_FIRST(&control.changes)) != NULL) {
		TAILQ_REMOVE(&control.changes, op, queue);
		control.changing = 1;
		if (control_change_start(op) != 0)
			control.changing = 0;
	}
	control.in_next = 0;
}

/* history: the newest revisions first. */
static void
control_history_cb(const struct store_revision *revs, size_t n,
    const char *error, void *arg)
{
	struct control_op	*op = arg;
	json_t			*list;
	size_t			 i;

	if (error != NULL) {
		control_error(op->client, op->req.id, DSP_ERR_FAILED, "%s",
		    error);
		control_op_done(op);
		return;
	}
	list = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:I, s:f, s:o, s:o, "
		    "s:o, s:o, s:o}", "revision", (json_int_t)revs[i].number,
		    "time", revs[i].time, "profile",
		    control_text(revs[i].profile), "uid",
		    revs[i].actor_uid < 0 ? json_null() :
		    json_integer(revs[i].actor_uid), "actor",
		    control_text(revs[i].actor), "source",
		    control_text(revs[i].source), "reason",
		    control_text(revs[i].reason)));
	control_reply(op->client, op->req.id, json_pack("{s:o}", "revisions",
	    list));
	control_op_done(op);
}

/* diff: each changed key with its value before and after. */
static void
control_diff_cb(const struct store_change *ch, size_t n, const char *error,
    void *arg)
{
	struct control_op	*op = arg;
	json_t			*list;
	size_t			 i;

	if (error != NULL) {
		control_error(op->client, op->req.id, strncmp(error,
		    "no revision", 11) == 0 ? DSP_ERR_NOT_FOUND :
		    DSP_ERR_FAILED, "%s", error);
		control_op_done(op);
		return;
	}
	list = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:o, s:o, s:o}",
		    "key", control_text(ch[i].key), "before",
		    control_text(ch[i].before), "after",
		    control_text(ch[i].after)));
	control_reply(op->client, op->req.id, json_pack("{s:I, s:I, s:o}",
	    "from", (json_int_t)op->req.revision, "to",
	    (json_int_t)op->req.revision_to, "changes", list));
	control_op_done(op);
}

/* One access row as events and denials carry it. */
static json_t *
control_row_json(const struct store_access_row *row)
{
	json_t	*r;

	r = json_object();
	if (r == NULL)
		return (NULL);
	if (row->id > 0)
		json_object_set_new(r, "id", json_integer(row->id));
	json_object_set_new(r, "time", json_real((double)row->time_us / 1e6));
	json_object_set_new(r, "duration_ms",
	    json_real((double)row->duration_us / 1e3));
	json_object_set_new(r, "client", control_text(row->client));
	json_object_set_new(r, "listener", control_text(row->listener));
	json_object_set_new(r, "profile", control_text(row->profile));
	json_object_set_new(r, "method", control_text(row->method));
	json_object_set_new(r, "target", control_text(row->target));
	json_object_set_new(r, "path", control_text(row->path));
	json_object_set_new(r, "api_version", control_text(row->api_version));
	json_object_set_new(r, "group", control_text(row->group));
	json_object_set_new(r, "action", control_text(row->action));
	json_object_set_new(r, "verdict", control_text(row->verdict));
	json_object_set_new(r, "policy_verdict",
	    control_text(row->policy_verdict));
	json_object_set_new(r, "revision", json_integer(
	    (json_int_t)row->revision));
	json_object_set_new(r, "status", json_integer(row->status));
	json_object_set_new(r, "bytes_in", json_integer(
	    (json_int_t)row->bytes_in));
	json_object_set_new(r, "bytes_out", json_integer(
	    (json_int_t)row->bytes_out));
	json_object_set_new(r, "close_reason",
	    control_text(row->close_reason));
	json_object_set_new(r, "guard", control_text(row->guard));
	return (r);
}

/* denials: the rows the store found, newest first. */
static void
control_denials_cb(const struct store_access_row *rows, size_t n,
    int truncated, const char *error, void *arg)
{
	struct control_op	*op = arg;
	json_t			*list, *row;
	size_t			 i;

	if (error != NULL) {
		control_error(op->client, op->req.id, DSP_ERR_FAILED, "%s",
		    error);
		control_op_done(op);
		return;
	}
	list = json_array();
	for (i = 0; i < n; i++)
		if ((row = control_row_json(&rows[i])) != NULL)
			json_array_append_new(list, row);
	control_reply(op->client, op->req.id, json_pack("{s:o, s:b}", "rows",
	    list, "truncated", truncated));
	control_op_done(op);
}

/* Hand a request that the store answers to the store. */
static void
control_store_request(struct control_client *c,
    const struct protocol_request *req)
{
	struct store		*st = runtime_store();
	struct store_query	 q;
	struct control_op	*op;
	int			 rc;

	if (st == NULL) {
		control_error(c, req->id, DSP_ERR_NO_DATABASE, "dspd runs "
		    "without a database (--db none): no history, no log");
		return;
	}
	if ((op = control_op_new(c, req)) == NULL) {
		control_error(c, req->id, DSP_ERR_FAILED, "out of memory");
		return;
	}
	switch (req->type) {
	case PROTOCOL_HISTORY:
		rc = store_history(st, req->before, req->limit,
		    control_history_cb, op);
		break;
	case PROTOCOL_DIFF:
		rc = store_diff(st, req->revision, req->revision_to,
		    control_diff_cb, op);
		break;
	default:
		memset(&q, 0, sizeof(q));
		q.since = req->since;
		q.until = req->until;
		q.client = req->client[0] != '\0' ? req->client : NULL;
		q.group = req->group[0] != '\0' ? req->group : NULL;
		q.verdict = req->bypass ? "bypass" : "deny";
		q.limit = req->limit;
		rc = store_query(st, &q, control_denials_cb, op);
		break;
	}
	if (rc != 0)
		control_op_fail(op, errno);
}

/* Queue a change behind the others; it is answered once committed. */
static void
control_change_request(struct control_client *c,
    const struct protocol_request *req)
{
	struct control_op	*op;

	if (req->type == PROTOCOL_REVERT && runtime_store() == NULL) {
		control_error(c, req->id, DSP_ERR_NO_DATABASE, "dspd runs "
		    "without a database (--db none): no revision to go back "
		    "to");
		return;
	}
	if (req->type == PROTOCOL_ROLLBACK &&
	    req->seconds > control.config->max_bypass_sec) {
		control_error(c, req->id, DSP_ERR_TOO_LONG, "a bypass of %lld "
		    "s is longer than dspd's --max-bypass of %lld s",
		    req->seconds, control.config->max_bypass_sec);
		return;
	}
	if (req->type == PROTOCOL_RESTORE &&
	    !runtime_bypass_active(NULL, 0, NULL)) {
		control_reply(c, req->id, json_pack("{s:I, s:b}", "revision",
		    (json_int_t)runtime_policy()->revision, "was_active", 0));
		return;
	}
	if ((op = control_op_new(c, req)) == NULL) {
		control_error(c, req->id, DSP_ERR_FAILED, "out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&control.changes, op, queue);
	control_change_next();
}

/* subscribe: access events from now on, filtered. */
static void
control_subscribe(struct control_client *c,
    const struct protocol_request *req)
{
	if (c->subscribed) {
		control_error(c, req->id, DSP_ERR_CONFLICT, "already "
		    "subscribed as %s", c->sub_id);
		return;
	}
	c->subscribed = 1;
	c->lossy = req->lossy;
	c->denied = req->denied;
	memcpy(c->sub_id, req->id, sizeof(c->sub_id));
	memcpy(c->sub_client, req->client, sizeof(c->sub_client));
	memcpy(c->sub_group, req->group, sizeof(c->sub_group));
	control.nsubscribers++;
	control_reply(c, req->id, json_pack("{s:o, s:s}", "subscription",
	    json_loads(req->id, JSON_DECODE_ANY, NULL), "mode",
	    req->lossy ? "lossy" : "lossless"));
}

/*
 * The setting that would allow a refused request, out of the refusal's
 * own text: the policy's 403 ends with "; allow it with ...", the create
 * guard's with "; ... allows it".  NULL when nothing would.
 */
static json_t *
control_check_fix(const struct judgement *j)
{
	static const char	 policy_mark[] = "; allow it with ";
	const char		*at, *last = NULL;

	if (j->status != 403)
		return (json_null());
	if (j->stage == JUDGE_STAGE_POLICY) {
		at = strstr(j->message, policy_mark);
		return (at != NULL ? control_text(at + strlen(policy_mark)) :
		    json_null());
	}
	for (at = j->message; (at = strstr(at, "; ")) != NULL; at += 2)
		last = at;
	return (last != NULL ? control_text(last + 2) : json_null());
}

/* A dry run's verdict as check replies it. */
static json_t *
control_check_json(const struct judge_dry *d, const char *method,
    const char *target)
{
	const struct judgement	*j = &d->j;
	const struct endpoint	*ep = j->endpoint;
	json_t			*r, *lookups;
	char			 why[JUDGE_MESSAGE_SIZE];
	size_t			 i;
	int			 classified;

	classified = j->stage == JUDGE_STAGE_POLICY ||
	    j->stage == JUDGE_STAGE_GUARD;
	if (j->status != 0)
		snprintf(why, sizeof(why), "%s", strncmp(j->message, "dsp: ",
		    5) == 0 ? j->message + 5 : j->message);
	else
		policy_explain(runtime_policy(), ep, d->method, d->canon.path,
		    why, sizeof(why));
	r = json_object();
	if (r == NULL)
		return (NULL);
	json_object_set_new(r, "method", control_text(d->method[0] != '\0' ?
	    d->method : method));
	json_object_set_new(r, "target", control_text(target));
	json_object_set_new(r, "path", control_text(d->canon.path));
	json_object_set_new(r, "api_version", classified ?
	    control_text(d->canon.version) : json_null());
	json_object_set_new(r, "group", classified ? json_string(ep != NULL ?
	    catalogue_group_name(ep->group) : "unknown") : json_null());
	json_object_set_new(r, "action", control_text(ep != NULL ?
	    ep->action : NULL));
	json_object_set_new(r, "verdict", json_string(policy_verdict_name(
	    j->verdict)));
	json_object_set_new(r, "policy_verdict", json_string(
	    policy_verdict_name(j->policy_verdict)));
	json_object_set_new(r, "forwarded", json_boolean(j->status == 0));
	json_object_set_new(r, "status", j->status != 0 ?
	    json_integer(j->status) : json_null());
	json_object_set_new(r, "stage", json_string(judge_stage_name(
	    j->stage)));
	json_object_set_new(r, "reason", control_text(why));
	json_object_set_new(r, "message", j->status != 0 ?
	    control_text(j->message) : json_null());
	json_object_set_new(r, "fix", control_check_fix(j));
	json_object_set_new(r, "guard", d->guard.field[0] != '\0' ?
	    control_text(d->guard.field) : json_null());
	if (j->lookup && (lookups = json_array()) != NULL) {
		for (i = 0; i < d->guard.nlookups; i++)
			json_array_append_new(lookups,
			    control_text(d->guard.lookups[i]));
		json_object_set_new(r, "lookups", lookups);
	}
	json_object_set_new(r, "revision", json_integer(
	    (json_int_t)runtime_policy()->revision));
	return (r);
}

/*
 * check: judge a method, target and body with the policy, guard and
 * bypass in force, the way the listener judges what a client sends, and
 * say what it would do.  Nothing goes to the engine and nothing changes,
 * so the read-only socket answers it too.  The target and body are read
 * again from the line, which protocol_decode has checked.
 */
static void
control_check(struct control_client *c, const struct protocol_request *req,
    const char *line, size_t len)
{
	struct judge_context	 ctx;
	struct judge_dry	 d;
	json_t			*root, *body = NULL, *r;
	const char		*target;

	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	target = json_string_value(json_object_get(root, "target"));
	if (req->has_body)
		body = json_object_get(root, "body");
	if (target == NULL) {
		json_decref(root);
		control_error(c, req->id, DSP_ERR_FAILED, "out of memory");
		return;
	}
	session_judge_context(&ctx);
	if (judge_dry_run(&ctx, req->method, target, json_string_value(body),
	    json_string_length(body), &d) != 0) {
		judge_dry_clear(&d);
		json_decref(root);
		control_error(c, req->id, DSP_ERR_FAILED, "out of memory");
		return;
	}
	r = control_check_json(&d, req->method, target);
	judge_dry_clear(&d);
	json_decref(root);
	if (r == NULL)
		control_error(c, req->id, DSP_ERR_FAILED, "out of memory");
	else
		control_reply(c, req->id, r);
}

/* Act on one decoded request. */
static void
control_dispatch(struct control_client *c, const struct protocol_request *req)
{
	struct control_op	*op;

	if (c->read_only && protocol_type_changes(req->type)) {
		control_error(c, req->id, DSP_ERR_READ_ONLY, "%s is a change; "
		    "this control socket is read-only",
		    protocol_type_name(req->type));
		return;
	}
	switch (req->type) {
	case PROTOCOL_PING:
	case PROTOCOL_STATUS:
		if ((op = control_op_new(c, req)) == NULL)
			control_error(c, req->id, DSP_ERR_FAILED, "out of "
			    "memory");
		else
			control_probe_start(op);
		break;
	case PROTOCOL_GROUPS:
		control_groups(c, req);
		break;
	case PROTOCOL_HISTORY:
	case PROTOCOL_DIFF:
	case PROTOCOL_DENIALS:
		control_store_request(c, req);
		break;
	case PROTOCOL_SET:
	case PROTOCOL_REVERT:
	case PROTOCOL_ROLLBACK:
	case PROTOCOL_RESTORE:
		control_change_request(c, req);
		break;
	case PROTOCOL_SUBSCRIBE:
		control_subscribe(c, req);
		break;
	case PROTOCOL_CHECK:	/* answered by control_handle_line */
	case PROTOCOL_TYPE_COUNT:
		break;
	}
}

/* Decode one line and act on it, or answer why not. */
static void
control_handle_line(struct control_client *c, const char *line, size_t len)
{
	struct protocol_request	 req;
	struct protocol_error	 err;

	if (protocol_decode(line, len, &req, &err) != 0) {
		/* Logged low: a client must not be able to flood the log. */
		log_debug("control: %s: %s: %s", c->actor, err.code,
		    err.message);
		control_error(c, err.id, err.code, "%s", err.message);
		if (++c->errors >= CONTROL_ERRORS_MAX)
			control_client_cut(c, "too many bad messages",
			    CONTROL_LINGER_MSEC);
		return;
	}
	c->errors = 0;
	if (req.type == PROTOCOL_CHECK)
		control_check(c, &req, line, len);
	else
		control_dispatch(c, &req);
}

/*
 * Take every whole line the client has sent, as long as it may send
 * more.  A line over the limit cannot be resynchronised safely (its end
 * may never come), so it closes the client.
 */
static void
control_read_lines(struct control_client *c)
{
	struct evbuffer		*in;
	struct evbuffer_ptr	 eol;
	size_t			 len, eol_len;
	char			*line;
	int			 drained = 0;

	/* A reply sent at once may bring us back here: the line is not
	 * drained yet, so the inner call would read it a second time. */
	if (c == NULL || c->reading)
		return;
	in = bufferevent_get_input(c->bev);
	c->reading = 1;
	while (!c->closing && !c->paused && c->pending < CONTROL_PENDING_MAX) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) > DSP_LINE_MAX) {
				control_error(c, "null", DSP_ERR_TOO_LARGE,
				    "a message is at most %d bytes",
				    DSP_LINE_MAX);
				control_client_cut(c, "message too large",
				    CONTROL_LINGER_MSEC);
			} else
				drained = 1;
			break;
		}
		len = (size_t)eol.pos;
		if (len > DSP_LINE_MAX) {
			control_error(c, "null", DSP_ERR_TOO_LARGE, "a message "
			    "of %zu bytes is over %d", len, DSP_LINE_MAX);
			control_client_cut(c, "message too large",
			    CONTROL_LINGER_MSEC);
			break;
		}
		line = (char *)evbuffer_pullup(in, (ev_ssize_t)(len + 1));
		if (line == NULL) {
			control_client_cut(c, "out of memory",
			    CONTROL_LINGER_MSEC);
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > 0)
			control_handle_line(c, line, len);
		if (!c->closing)
			evbuffer_drain(in, (size_t)eol.pos + 1);
	}
	c->reading = 0;
	/* Last: it may free c. */
	if (drained)
		control_client_check_eof(c);
}

/* Whether the peer's credentials are on one allow-list. */
static int
control_peer_listed(int fd, const struct ucred *cred,
    const struct control_allow *allow)
{
	gid_t		 groups[NGROUPS_MAX];
	socklen_t	 len = sizeof(groups);
	size_t		 i, j, n = 0;

	for (i = 0; i < allow->nuid; i++)
		if (allow->uid[i] == cred->uid)
			return (1);
	if (allow->ngid == 0)
		return (0);
	/* Supplementary groups count, as they do for the file's mode. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		n = len / sizeof(gid_t);
	for (i = 0; i < allow->ngid; i++) {
		if (allow->gid[i] == cred->gid)
			return (1);
		for (j = 0; j < n; j++)
			if (allow->gid[i] == groups[j])
				return (1);
	}
	return (0);
}

/*
 * Whether the peer's credentials let it use this control socket: root,
 * the users and groups of --control-allow-*, and on the read-only socket
 * those of --control-ro-allow-* too, who must never reach the other one
 * whatever its file mode says.
 */
static int
control_peer_allowed(int fd, const struct ucred *cred, int read_only)
{
	const struct config	*cf = control.config;

	if (cred->uid == 0 || control_peer_listed(fd, cred,
	    &cf->control_allow))
		return (1);
	return (read_only && control_peer_listed(fd, cred,
	    &cf->control_ro_allow));
}

/* The user name a revision records for a uid. */
static void
control_actor(uid_t uid, char *out, size_t size)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, size, "%s", pw.pw_name);
	else
		snprintf(out, size, "uid %lu", (unsigned long)uid);
}

/* Refuse a connection with one line saying why. */
static void
control_refuse(int fd, const char *code, const char *message)
{
	char	 line[512];
	int	 n;
	ssize_t	 w;

	n = snprintf(line, sizeof(line), "{\"id\":null,\"error\":{\"code\":"
	    "\"%s\",\"message\":\"%s\"}}\n", code, message);
	if (n > 0 && (size_t)n < sizeof(line))
		w = write(fd, line, (size_t)n);
	(void)w;
	close(fd);
}

/* A client for an admitted connection, or NULL (fd closed). */
static struct control_client *
control_client_new(int fd, const struct control_socket *s,
    const struct ucred *cred)
{
	struct control_client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return (NULL);
	}
	evutil_make_socket_nonblocking(fd);
	c->bev = bufferevent_socket_new(control.base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	c->linger = evtimer_new(control.base, control_linger_cb, c);
	if (c->bev == NULL || c->linger == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->linger != NULL)
			event_free(c->linger);
		free(c);
		return (NULL);
	}
	c->read_only = s->read_only;
	c->uid = cred->uid;
	c->gid = cred->gid;
	c->pid = cred->pid;
	control_actor(cred->uid, c->actor, sizeof(c->actor));
	TAILQ_INIT(&c->queue);
	TAILQ_INSERT_TAIL(&control.clients, c, entry);
	control.nclients++;
	bufferevent_setcb(c->bev, control_read_cb, control_write_cb,
	    control_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CONTROL_OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return (c);
}

/* A new connection: check who it is, greet it, and start reading. */
static void
control_accept_cb(struct evconnlistener *ev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control_socket	*s = arg;
	struct control_client	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	char			 msg[128];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (!control_peer_allowed(fd, &cred, s->read_only)) {
		log_warnx("control: uid %lu gid %lu pid %ld refused on %s",
		    (unsigned long)cred.uid, (unsigned long)cred.gid,
		    (long)cred.pid, s->path);
		snprintf(msg, sizeof(msg), "uid %lu may not use dspd's control "
		    "socket (see %s)", (unsigned long)cred.uid, s->read_only ?
		    "--control-allow-uid, --control-ro-allow-uid" :
		    "--control-allow-uid");
		control_refuse(fd, DSP_ERR_DENIED, msg);
		return;
	}
	if (control.nclients >= CONTROL_CLIENTS_MAX) {
		control_refuse(fd, DSP_ERR_BUSY, "too many control clients");
		return;
	}
	if ((c = control_client_new(fd, s, &cred)) == NULL)
		return;
	log_debug("control: %s (uid %lu pid %ld) connected%s", c->actor,
	    (unsigned long)cred.uid, (long)cred.pid,
	    c->read_only ? " read-only" : "");
	control_write(c, "{\"dsp\":\"%s\",\"version\":\"%s\",\"protocol\":%d,"
	    "\"access\":\"%s\"}", DSP_GREETING_NAME, DSPD_VERSION,
	    DSP_PROTOCOL_VERSION, c->read_only ? "read" : "write");
}

static void
control_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	size_t	 i;

	for (i = 0; i < control.nsockets; i++)
		evconnlistener_enable(control.sockets[i].ev);
}

/* Out of descriptors: wait a little instead of spinning on accept. */
static void
control_accept_error_cb(struct evconnlistener *ev, void *arg)
{
	struct timeval	 tv = { 0, ACCEPT_RETRY_MSEC * 1000 };
	size_t		 i;

	log_warnx("control: accept: %s", strerror(EVUTIL_SOCKET_ERROR()));
	for (i = 0; i < control.nsockets; i++)
		evconnlistener_disable(control.sockets[i].ev);
	evtimer_add(control.accept_retry, &tv);
}

/* Split "PATH[?mode=0660&group=NAME]" into its parts. */
static int
control_parse_spec(const char *spec, char *path, size_t pathlen,
    mode_t *mode, gid_t *gid, char *err, size_t errlen)
{
	struct group	*gr;
	char		 opts[256], *opt, *save, *end;
	const char	*q;
	unsigned long	 m;
	size_t		 plen;

	*mode = CONTROL_DEFAULT_MODE;
	*gid = (gid_t)-1;
	q = strchr(spec, '?');
	plen = q != NULL ? (size_t)(q - spec) : strlen(spec);
	if (plen == 0 || spec[0] != '/' || plen >= pathlen) {
		snprintf(err, errlen, "control socket %s: not an absolute path "
		    "of at most %zu bytes", spec, pathlen - 1);
		return (-1);
	}
	memcpy(path, spec, plen);
	path[plen] = '\0';
	if (q == NULL)
		return (0);
	snprintf(opts, sizeof(opts), "%s", q + 1);
	for (opt = strtok_r(opts, "&", &save); opt != NULL;
	    opt = strtok_r(NULL, "&", &save)) {
		if (strncmp(opt, "mode=", 5) == 0) {
			m = strtoul(opt + 5, &end, 8);
			if (opt[5] == '\0' || *end != '\0' || m > 0777)
				goto bad;
			*mode = (mode_t)m;
			/*
			 * A socket any local user may connect to leaves only
			 * the peer check between them and root's policy.
			 */
			if (*mode & S_IWOTH) {
				snprintf(err, errlen, "control socket %s: mode "
				    "%04o lets every local user connect; give "
				    "the users a group (mode=0660&group=NAME)",
				    path, (unsigned int)*mode);
				return (-1);
			}
		} else if (strncmp(opt, "group=", 6) == 0) {
			if ((gr = getgrnam(opt + 6)) != NULL)
				*gid = gr->gr_gid;
			else {
				*gid = (gid_t)strtoul(opt + 6, &end, 10);
				if (opt[6] == '\0' || *end != '\0')
					goto bad;
			}
		} else
			goto bad;
	}
	return (0);

bad:
	snprintf(err, errlen, "control socket %s: bad option '%s' (mode=OCTAL "
	    "or group=NAME)", spec, opt);
	return (-1);
}

/*
 * Remove a socket left by a dspd that died; refuse one that another
 * process answers on, and anything that is not a socket.
 */
static int
control_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, rc;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is not a "
		    "socket", path);
		return (-1);
	}
	if (listener_unix_addr(path, &sun) != 0) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "control socket %s: another process "
		    "answers on it", path);
		return (-1);
	}
	if (unlink(path) == -1) {
		snprintf(err, errlen, "control socket %s: removing the stale "
		    "socket: %s", path, strerror(errno));
		return (-1);
	}
	log_info("control socket %s: removed a stale socket", path);
	return (0);
}

/*
 * Make sure no other dspd serves this path: a lock beside the socket,
 * held for dspd's life, closes the race between two starting at once;
 * then a socket left by a dead dspd is removed, anything else refused.
 */
static int
control_claim(const char *path, int *lock_fd, char *err, size_t errlen)
{
	char	 lock[PATH_MAX], dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		/* Only the last folder: /run/dsp is on a fresh tmpfs. */
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "control socket %s: mkdir %s: %s",
			    path, dir, strerror(errno));
			return (-1);
		}
	}
	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    sizeof(lock)) {
		snprintf(err, errlen, "control socket %s: path too long", path);
		return (-1);
	}
	*lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*lock_fd == -1) {
		snprintf(err, errlen, "control socket %s: %s: %s", path, lock,
		    strerror(errno));
		return (-1);
	}
	if (flock(*lock_fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "control socket %s: another dspd holds "
		    "it (%s)", path, lock);
		goto fail;
	}
	if (control_stale(path, err, errlen) != 0)
		goto fail;
	return (0);

fail:
	close(*lock_fd);
	*lock_fd = -1;
	return (-1);
}

/* Create, bind and listen on one control socket. */
static int
control_listen(const char *spec, int read_only, char *err, size_t errlen)
{
	struct control_socket	*s = &control.sockets[control.nsockets];
	struct sockaddr_un	 sun;
	char			 path[sizeof(sun.sun_path)];
	mode_t			 mode;
	gid_t			 gid;
	int			 fd = -1;

	if (control_parse_spec(spec, path, sizeof(path), &mode, &gid, err,
	    errlen) != 0)
		return (-1);
	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	if (control_claim(path, &s->lock_fd, err, errlen) != 0)
		return (-1);
	if ((fd = listener_bind_unix(path, mode, gid, CONTROL_BACKLOG)) == -1)
		goto syserr;
	evutil_make_socket_nonblocking(fd);
	s->ev = evconnlistener_new(control.base, control_accept_cb, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (s->ev == NULL || (s->path = strdup(path)) == NULL) {
		errno = ENOMEM;
		goto syserr_unlink;
	}
	evconnlistener_set_error_cb(s->ev, control_accept_error_cb);
	s->read_only = read_only;
	control.nsockets++;
	log_info("control socket %s%s, mode %04o", path,
	    read_only ? " (read-only)" : "", (unsigned int)mode);
	return (0);

syserr_unlink:
	unlink(path);
syserr:
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (s->ev != NULL)
		evconnlistener_free(s->ev);
	else if (fd != -1)
		close(fd);
	s->ev = NULL;
	close(s->lock_fd);
	s->lock_fd = -1;
	return (-1);
}

/*
 * Open the control sockets that the configuration names (none when
 * --control none and no --control-ro); on failure nothing stays open.
 */
int
control_open(struct event_base *base, const struct config *cf, char *err,
    size_t errlen)
{
	control.base = base;
	control.config = cf;
	control.nsockets = 0;
	control.open = 1;
	if ((control.accept_retry = evtimer_new(base, control_resume_cb,
	    NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if ((cf->control_path != NULL && control_listen(cf->control_path, 0,
	    err, errlen) != 0) || (cf->control_ro_path != NULL &&
	    control_listen(cf->control_ro_path, 1, err, errlen) != 0)) {
		control_close();
		return (-1);
	}
	return (0);
}

/*
 * Close the sockets and every client.  Requests waiting on the store are
 * left to finish without a reply: their callbacks may still come while
 * the store shuts down.
 */
void
control_close(void)
{
	struct control_client	*c;
	struct control_op	*op, *next;
	struct control_socket	*s;
	size_t			 i;

	control.open = 0;
	while ((op = TAILQ_FIRST(&control.changes)) != NULL) {
		TAILQ_REMOVE(&control.changes, op, queue);
		TAILQ_REMOVE(&control.ops, op, entry);
		free(op);
	}
	for (op = TAILQ_FIRST(&control.ops); op != NULL; op = next) {
		next = TAILQ_NEXT(op, entry);
		op->client = NULL;
		if (op->probe_timer != NULL)
			control_op_done(op);
	}
	while ((c = TAILQ_FIRST(&control.clients)) != NULL) {
		if (!c->closing) {
			control_write(c, "{\"event\":\"%s\",\"reason\":\"dspd "
			    "is stopping\"}", DSP_EVENT_CLOSED);
			/* One try, without waiting: the loop is over. */
			evbuffer_write(bufferevent_get_output(c->bev),
			    bufferevent_getfd(c->bev));
		}
		control_client_free(c);
	}
	for (i = 0; i < control.nsockets; i++) {
		s = &control.sockets[i];
		evconnlistener_free(s->ev);
		unlink(s->path);
		free(s->path);
		close(s->lock_fd);
	}
	control.nsockets = 0;
	if (control.accept_retry != NULL) {
		event_free(control.accept_retry);
		control.accept_retry = NULL;
	}
}

/* Whether a row passes a subscriber's filters. */
static int
control_row_matches(const struct control_client *c,
    const struct store_access_row *row)
{
	size_t	 n;

	if (c->denied && (row->verdict == NULL ||
	    strcmp(row->verdict, "deny") != 0) &&
	    (row->policy_verdict == NULL ||
	    strcmp(row->policy_verdict, "deny") != 0))
		return (0);
	if (c->sub_group[0] != '\0' && (row->group == NULL ||
	    strcmp(row->group, c->sub_group) != 0))
		return (0);
	if (c->sub_client[0] == '\0')
		return (1);
	if (row->client == NULL)
		return (0);
	/* "192.0.2.7" matches each port, "uid=1000" each pid. */
	n = strlen(c->sub_client);
	return (strncmp(row->client, c->sub_client, n) == 0 &&
	    (row->client[n] == '\0' || row->client[n] == ':' ||
	    row->client[n] == ' '));
}

/* Queue an event for a lossy subscriber, dropping the oldest if full. */
static void
control_lossy_add(struct control_client *c, const char *line, size_t len)
{
	struct control_line	*l;

	if (TAILQ_EMPTY(&c->queue) && evbuffer_get_length(
	    bufferevent_get_output(c->bev)) < CONTROL_OUT_LOW) {
		control_lossy_write(c, line, len);
		return;
	}
	if (c->nqueued >= CONTROL_LOSSY_QUEUE) {
		l = TAILQ_FIRST(&c->queue);
		TAILQ_REMOVE(&c->queue, l, entry);
		c->nqueued--;
		c->dropped++;
		free(l);
	}
	if ((l = malloc(sizeof(*l) + len)) == NULL) {
		c->dropped++;
		return;
	}
	l->len = len;
	memcpy(l->data, line, len);
	TAILQ_INSERT_TAIL(&c->queue, l, entry);
	c->nqueued++;
}

/*
 * Give an event to a lossless subscriber, or cut it off if too much is
 * waiting.  What it has not been sent yet is thrown away at once, past
 * the end of the line in flight: that frees dspd's memory now, and puts
 * the reason where the client reads it next.
 */
static void
control_lossless_add(struct control_client *c, const char *line, size_t len)
{
	struct evbuffer		*out = bufferevent_get_output(c->bev), *keep;
	struct evbuffer_ptr	 eol;
	size_t			 eol_len;

	evbuffer_add(out, line, len);
	if (evbuffer_get_length(out) <= CONTROL_LOSSLESS_MAX)
		return;
	log_info("control: %s cut off: a lossless subscriber left %d bytes "
	    "unread", c->actor, CONTROL_LOSSLESS_MAX);
	eol = evbuffer_search_eol(out, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos >= 0 && (keep = evbuffer_new()) != NULL) {
		evbuffer_remove_buffer(out, keep, (size_t)eol.pos + 1);
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add_buffer(out, keep);
		evbuffer_free(keep);
	}
	control_client_cut(c, "too slow: a lossless subscriber must keep up "
	    "(subscribe lossy to lose events instead)",
	    CONTROL_CUT_LINGER_MSEC);
}

/*
 * An exchange ended: tell every subscriber whose filters it passes.  A
 * lossless subscriber that lets too much pile up is cut off rather than
 * allowed to grow dspd's memory; a lossy one loses its oldest events.
 */
void
control_publish(const struct store_access_row *row)
{
	struct control_client	*c, *next;
	json_t			*r;
	char			*text, *line;
	size_t			 len;
	int			 n;

	if (control.nsubscribers == 0)
		return;
	if ((r = control_row_json(row)) == NULL)
		return;
	text = json_dumps(r, CONTROL_JSON_FLAGS);
	json_decref(r);
	if (text == NULL)
		return;
	for (c = TAILQ_FIRST(&control.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->subscribed || c->closing ||
		    !control_row_matches(c, row))
			continue;
		n = asprintf(&line, "{\"event\":\"%s\",\"subscription\":%s,"
		    "\"row\":%s}\n", DSP_EVENT_ACCESS, c->sub_id, text);
		if (n < 0)
			continue;
		len = (size_t)n;
		if (c->lossy)
			control_lossy_add(c, line, len);
		else
			control_lossless_add(c, line, len);
		free(line);
	}
	free(text);
}
