/*
 * One client connection: admission, the request head, the decision, the
 * relay of one exchange at a time to the engine and back, the two-way
 * splice after a 101, and the replies dspd writes itself.
 */

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include <event2/http.h>

#include "dspd.h"

/*
 * When a burst of connections is over, the C library keeps what they
 * freed for its own reuse, scattered between blocks still in use, and
 * dspd's resident size stays at the burst's.  Once the sessions fall to
 * a quarter of a peak of at least TRIM_PEAK_MIN, the free pages go back
 * to the system TRIM_DELAY_SEC later, so at most once per that delay.
 */
#define TRIM_PEAK_MIN		64
#define TRIM_DELAY_SEC		2

/* Bytes one read of session_pull may take from the engine. */
#define PULL_MAX		(64 * 1024)
/* Bytes buffered from a client while an exchange is in flight. */
#define CLIENT_READ_HIGH_WATER	RELAY_HIGH_WATER

static llhttp_settings_t	 request_settings;
static llhttp_settings_t	 response_settings;
/* Bytes on their way to a socket; session_send empties it each time. */
static struct evbuffer		*session_stage;

static void	session_client_read_cb(struct bufferevent *, void *);
static void	session_client_write_cb(struct bufferevent *, void *);
static void	session_client_event_cb(struct bufferevent *, short, void *);
static void	session_timer_cb(evutil_socket_t, short, void *);
static void	session_trim_cb(evutil_socket_t, short, void *);
static void	session_trim_later(void);
static void	session_free(struct session *, enum close_reason);
static void	session_read_head(struct session *);
static void	session_relay_request(struct session *);
static void	session_relay_response(struct session *);
static void	session_exchange_done(struct session *);
static void	session_splice(struct session *);
static void	session_response_eof(struct session *);
static void	session_hold(struct session *);
static void	session_guard(struct session *);
static void	session_lookup_next(struct session *);
static void	session_lookup_send(struct session *);
static void	session_lookup_read(struct session *);
static llhttp_errno_t session_parse_move(llhttp_t *, struct evbuffer *,
		    struct evbuffer *, size_t, size_t *);
static void	session_hold_body(struct session *);
static void	session_refuse_body(struct session *, int, const char *);

const char *
session_close_reason_name(enum close_reason reason)
{
	static const char *const names[] = {
		"complete", "client-closed", "engine-closed", "drain", "error",
		"timeout", "bypass-ended"
	};

	return (names[reason]);
}

/* Collect the request target, which llhttp may hand over in pieces. */
static int
session_on_url(llhttp_t *p, const char *at, size_t len)
{
	struct session	*s = p->data;
	size_t		 have;
	char		*t;

	have = s->ex.target != NULL ? strlen(s->ex.target) : 0;

	if ((t = realloc(s->ex.target, have + len + 1)) == NULL)
		return (-1);
	memcpy(t + have, at, len);
	t[have + len] = '\0';
	s->ex.target = t;
	return (0);
}

/* Keep a held body's decoded bytes, up to the cap. */
static int
session_on_body(llhttp_t *p, const char *at, size_t len)
{
	struct session	*s = p->data;

	if (s->body == NULL)
		return (0);	/* streamed: raw bytes move as they are */
	if (evbuffer_get_length(s->body) + len > dspd.config->body_max) {
		s->body_over = 1;
		return (-1);
	}
	return (evbuffer_add(s->body, at, len) == 0 ? 0 : -1);
}

/* A request ends here: stop so that pipelined bytes stay unread. */
static int
session_on_request_complete(llhttp_t *p)
{
	struct session	*s = p->data;

	s->ex.request_done = 1;
	return (HPE_PAUSED);
}

/* Responses to HEAD have no body, whatever their length says. */
static int
session_on_response_headers(llhttp_t *p)
{
	struct session	*s = p->data;

	if (p->status_code >= 100 && p->status_code < 200)
		return (0);
	s->ex.status = p->status_code;
	return (s->ex.head_method ? 1 : 0);
}

/* The decoded body of a lookup's answer, which dspd reads itself. */
static int
session_on_response_body(llhttp_t *p, const char *at, size_t len)
{
	struct session	*s = p->data;

	if (s->state != SESSION_LOOKUP || s->lookup_body == NULL)
		return (0);
	if (evbuffer_get_length(s->lookup_body) + len > LOOKUP_BODY_MAX)
		return (-1);
	return (evbuffer_add(s->lookup_body, at, len) == 0 ? 0 : -1);
}

/* A 1xx other than 101 is interim; anything else ends the response. */
static int
session_on_response_complete(llhttp_t *p)
{
	struct session	*s = p->data;

	if (p->status_code >= 100 && p->status_code < 200 &&
	    p->status_code != 101)
		return (0);
	s->ex.status = p->status_code;
	s->ex.response_done = 1;
	return (HPE_PAUSED);
}

static void
session_init_settings(void)
{
	static int	 done;

	if (done)
		return;
	llhttp_settings_init(&request_settings);
	request_settings.on_url = session_on_url;
	request_settings.on_body = session_on_body;
	request_settings.on_message_complete = session_on_request_complete;
	llhttp_settings_init(&response_settings);
	response_settings.on_headers_complete = session_on_response_headers;
	response_settings.on_message_complete = session_on_response_complete;
	response_settings.on_body = session_on_response_body;
	done = 1;
}

/* Arm the session's one timer, or stop it with msec < 0. */
static void
session_timer(struct session *s, long long msec)
{
	struct timeval	 tv;

	if (msec < 0) {
		evtimer_del(s->timer);
		return;
	}
	tv.tv_sec = msec / 1000;
	tv.tv_usec = (msec % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

/* Forget the exchange in flight after its line has been logged. */
static void
session_exchange_clear(struct session *s)
{
	free(s->ex.method);
	free(s->ex.target);
	canon_clear(&s->ex.canon);
	memset(&s->ex, 0, sizeof(s->ex));
	s->in_exchange = 0;
	if (s->body != NULL) {
		evbuffer_free(s->body);
		s->body = NULL;
	}
	s->body_over = 0;
	guard_result_clear(&s->guard);
	s->lookup_next = 0;
}

/* Log the exchange in flight, if any, with how it ended. */
static void
session_exchange_log(struct session *s, enum close_reason reason)
{
	if (!s->in_exchange)
		return;
	s->ex.reason = reason;
	log_exchange(s, &s->ex);
	runtime_exchange_end(s, &s->ex);
	session_exchange_clear(s);
}

/*
 * Send what session_stage holds on bev: to the socket at once when
 * nothing waits before it, and only what the socket does not take
 * through bev's output buffer.  Each buffer handed to a bufferevent
 * costs a turn of the event loop and two changes of what epoll watches
 * before it is written, which is most of the cost of a small exchange.
 * A failed write leaves the bytes to bev, whose own write reports the
 * error.  No write callback follows what went at once: only the last
 * bytes of a message, which nothing waits to follow, go this way.
 */
static void
session_send(struct bufferevent *bev)
{
	struct evbuffer	*out = bufferevent_get_output(bev);

	if (evbuffer_get_length(out) == 0)
		(void)evbuffer_write(session_stage, bufferevent_getfd(bev));
	if (evbuffer_get_length(session_stage) > 0)
		evbuffer_add_buffer(out, session_stage);
}

/*
 * Send the piece of a relayed message that session_stage holds: its
 * end at once, the rest through bev.  A stream's pieces wait for the
 * write event and leave in one write with what gathered meanwhile,
 * since libevent reads at most 4 KiB at a time; written one by one,
 * a 256 MiB export came a third slower.
 */
static void
session_send_end(struct bufferevent *bev, int ended)
{
	if (ended)
		session_send(bev);
	else	/* empties session_stage too */
		evbuffer_add_buffer(bufferevent_get_output(bev), session_stage);
}

/*
 * Read up to want bytes more of what the engine has sent on bev, into
 * its input.  A bufferevent of libevent 2.1 reads at most 4 KiB for each
 * readable event (2.2 can be told more), so a large body cost a turn of
 * the event loop, two epoll changes and a write to the client for every
 * 4 KiB.  The end of the stream and errors are left for the
 * bufferevent's own next read to report.  Returns the bytes read.
 */
static size_t
session_pull(struct bufferevent *bev, size_t want)
{
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	ssize_t			 n;
	size_t			 left;
	int			 nv, i;

	if (want > PULL_MAX)
		want = PULL_MAX;
	if (want == 0 || (nv = evbuffer_reserve_space(in, (ev_ssize_t)want,
	    v, 2)) <= 0)
		return (0);
	for (i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if ((n = readv(bufferevent_getfd(bev), iov, nv)) <= 0) {
		evbuffer_commit_space(in, v, 0);
		return (0);
	}
	for (i = 0, left = (size_t)n; i < nv; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	evbuffer_commit_space(in, v, nv);
	return ((size_t)n);
}

/*
 * Write a reply of dspd's own: a status and a Docker-style JSON message.
 * With close set the connection ends once it is written.
 */
static void
session_reply(struct session *s, int status, const char *message, int close)
{
	struct evbuffer	*out = bufferevent_get_output(s->client_bev);
	char		*body;
	size_t		 len = 0;

	if ((body = http_json_message(message, &len)) == NULL) {
		session_free(s, CLOSE_ERROR);
		return;
	}
	evbuffer_add_printf(session_stage, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "%s\r\n%s", status, http_reason(status), len,
	    close ? "Connection: close\r\n" : "", body);
	free(body);
	s->ex.status = status;
	s->ex.response_started = 1;
	s->ex.response_done = 1;
	s->ex.bytes_out += evbuffer_get_length(session_stage);
	/* A closing reply waits for the write callback that ends it. */
	if (close) {
		evbuffer_add_buffer(out, session_stage);
		s->state = SESSION_CLOSING;
	} else
		session_send(s->client_bev);
}

/* Reply and close, for what dspd refuses before forwarding anything. */
static void
session_refuse(struct session *s, int status, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static void
session_refuse(struct session *s, int status, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	session_reply(s, status, msg, 1);
	if (s->state == SESSION_CLOSING) {
		bufferevent_disable(s->client_bev, EV_READ);
		session_timer(s, dspd.config->idle_timeout_ms);
	}
}

/* Wait for the next request head on a connection kept alive. */
static void
session_await_head(struct session *s)
{
	free(s->head);
	s->head = NULL;
	s->head_have = 0;
	s->head_started = 0;
	http_scan_init(&s->scan);
	s->state = SESSION_HEAD;
	session_timer(s, dspd.config->idle_timeout_ms);
	bufferevent_enable(s->client_bev, EV_READ);
}

/* Admission by network for TCP clients, by credentials for unix ones. */
static int
session_admit(struct session *s, int fd, struct sockaddr *sa)
{
	const struct config	*cf = dspd.config;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	char			 addr[INET6_ADDRSTRLEN];
	size_t			 i;

	if (sa->sa_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
			return (-1);
		snprintf(s->client, sizeof(s->client), "uid=%u,pid=%d",
		    (unsigned int)cred.uid, (int)cred.pid);
		snprintf(s->client_key, sizeof(s->client_key), "uid=%u",
		    (unsigned int)cred.uid);
		if (cf->nallow_uid == 0 && cf->nallow_gid == 0)
			return (0);
		for (i = 0; i < cf->nallow_uid; i++)
			if (cf->allow_uid[i] == cred.uid)
				return (0);
		for (i = 0; i < cf->nallow_gid; i++)
			if (cf->allow_gid[i] == cred.gid)
				return (0);
		return (-1);
	}

	if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    addr, sizeof(addr));
		snprintf(s->client, sizeof(s->client), "[%s]:%u", addr,
		    ntohs(((struct sockaddr_in6 *)sa)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
		    addr, sizeof(addr));
		snprintf(s->client, sizeof(s->client), "%s:%u", addr,
		    ntohs(((struct sockaddr_in *)sa)->sin_port));
	}
	snprintf(s->client_key, sizeof(s->client_key), "%s", addr);
	if (cf->nallow_from == 0)
		return (0);
	for (i = 0; i < cf->nallow_from; i++)
		if (config_cidr_match(&cf->allow_from[i], sa))
			return (0);
	return (-1);
}

/* A new client connection from a listener. */
void
session_accept(struct listener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen)
{
	struct session	*s;
	int		 refuse = 0, one = 1;

	if (dspd.draining) {
		close(fd);
		return;
	}
	if (dspd.nsessions - dspd.nturned >= (size_t)dspd.config->max_clients) {
		/* Answering costs a little; past a point, just close. */
		if (dspd.nturned >= TURNED_AWAY_MAX) {
			close(fd);
			return;
		}
		log_warnx("client cap of %lld reached, refusing a connection",
		    dspd.config->max_clients);
		refuse = 503;
	}
	session_init_settings();
	if (session_stage == NULL && (session_stage = evbuffer_new()) == NULL) {
		close(fd);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		return;
	}
	if (refuse == 0 && session_admit(s, fd, sa) != 0) {
		log_warnx("client %s not admitted by %s", s->client,
		    sa->sa_family == AF_UNIX ? "--allow-uid/--allow-gid" :
		    "--allow-from");
		refuse = 403;
	}
	evutil_make_socket_nonblocking(fd);
	/*
	 * A response goes out in pieces as the engine sends them; with
	 * Nagle's algorithm each piece after the first waits for the
	 * client's delayed acknowledgement, 40 ms on Linux, which a client
	 * waiting for the end of a response pays on every request.
	 */
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	s->client_bev = bufferevent_socket_new(dspd.base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	s->timer = evtimer_new(dspd.base, session_timer_cb, s);
	if (s->client_bev == NULL || s->timer == NULL) {
		if (s->client_bev != NULL)
			bufferevent_free(s->client_bev);
		else
			close(fd);
		if (s->timer != NULL)
			event_free(s->timer);
		free(s);
		return;
	}
	s->id = ++dspd.next_id;
	snprintf(s->listener_name, sizeof(s->listener_name), "%s", l->name);
	bufferevent_setcb(s->client_bev, session_client_read_cb,
	    session_client_write_cb, session_client_event_cb, s);
	bufferevent_setwatermark(s->client_bev, EV_READ, 0,
	    CLIENT_READ_HIGH_WATER);
	bufferevent_setwatermark(s->client_bev, EV_WRITE,
	    RELAY_HIGH_WATER / 2, 0);
	TAILQ_INSERT_TAIL(&dspd.sessions, s, entry);
	if (++dspd.nsessions > dspd.npeak)
		dspd.npeak = dspd.nsessions;
	if (refuse != 0) {
		/*
		 * Said and then closed with a lingering read, so that the
		 * request the client is sending does not turn the answer
		 * into a reset.
		 */
		s->turned_away = 1;
		dspd.nturned++;
		s->in_exchange = 1;
		gettimeofday(&s->ex.start, NULL);
		session_refuse_body(s, refuse, refuse == 503 ?
		    "dsp: too many client connections, try again later" :
		    "dsp: this client is not admitted");
		return;
	}
	log_debug("client %s connected on %s", s->client, l->name);
	session_await_head(s);
}

/* Free a session and its engine connection; ends the drain when last. */
static void
session_free(struct session *s, enum close_reason reason)
{
	session_exchange_log(s, reason);
	upstream_close(s);
	if (s->client_bev != NULL)
		bufferevent_free(s->client_bev);
	event_free(s->timer);
	free(s->head);
	if (s->body != NULL)
		evbuffer_free(s->body);
	if (s->lookup_body != NULL)
		evbuffer_free(s->lookup_body);
	guard_result_clear(&s->guard);
	TAILQ_REMOVE(&dspd.sessions, s, entry);
	dspd.nsessions--;
	if (s->turned_away)
		dspd.nturned--;
	free(s);
	if (dspd.draining && dspd.nsessions == 0)
		event_base_loopexit(dspd.base, NULL);
	else if (dspd.npeak >= TRIM_PEAK_MIN &&
	    dspd.nsessions <= dspd.npeak / 4)
		session_trim_later();
}

/* Give freed memory back to the system soon, once (see TRIM_PEAK_MIN). */
static void
session_trim_later(void)
{
	struct timeval	 tv = { TRIM_DELAY_SEC, 0 };

	if (dspd.trim_timer == NULL &&
	    (dspd.trim_timer = evtimer_new(dspd.base, session_trim_cb,
	    NULL)) == NULL)
		return;
	if (!evtimer_pending(dspd.trim_timer, NULL))
		evtimer_add(dspd.trim_timer, &tv);
}

static void
session_trim_cb(evutil_socket_t fd, short events, void *arg)
{
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
	dspd.npeak = dspd.nsessions;
}

/*
 * Close a session once what it has to say to the client is written; the
 * exchange in flight is logged now, with how it ended.
 */
static void
session_close_when_written(struct session *s, enum close_reason reason)
{
	session_exchange_log(s, reason);
	s->state = SESSION_CLOSING;
	bufferevent_disable(s->client_bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->client_bev)) == 0) {
		session_free(s, CLOSE_COMPLETE);
		return;
	}
	session_timer(s, dspd.config->idle_timeout_ms);
}

/*
 * A refused request with a body: say why, then read and drop what the
 * client still sends for a while, so that it reads the reply rather than
 * a reset.
 */
static void
session_linger(struct session *s)
{
	s->state = SESSION_LINGER;
	s->linger_discarded = 0;
	session_timer(s, LINGER_MAX_MSEC);
	bufferevent_enable(s->client_bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(s->client_bev),
	    evbuffer_get_length(bufferevent_get_input(s->client_bev)));
}

/* Whether the request in flight will stay open without end. */
static int
session_is_stream(const struct exchange *ex)
{
	const struct endpoint	*ep = ex->endpoint;

	if (ep == NULL || !(ep->flags & ENDPOINT_STREAM))
		return (0);
	if (strcmp(ep->action, "containers.logs") == 0)
		return (canon_query_flag(ex->canon.query, "follow", 0));
	if (strcmp(ep->action, "containers.stats") == 0)
		return (canon_query_flag(ex->canon.query, "stream", 1));
	return (1);
}

/* The request head is whole and allowed: hand it to the engine. */
static void
session_forward(struct session *s)
{
	char	 msg[256];

	if (s->up_bev != NULL && s->up_connected && !s->up_eof) {
		session_upstream_connected(s);
		return;
	}
	upstream_close(s);
	s->state = SESSION_CONNECT;
	if (upstream_connect(s) != 0) {
		snprintf(msg, sizeof(msg), "dsp: the Docker engine at %s is "
		    "not reachable: %s", dspd.config->socket_path,
		    strerror(errno));
		log_warnx("%s", msg);
		metrics_engine_error(METRICS_ENGINE_CONNECT);
		session_reply(s, 502, msg, !s->ex.request_done);
		session_exchange_done(s);
		return;
	}
	session_timer(s, dspd.config->connect_timeout_ms);
}

/*
 * What the judge needs of dspd's configuration, as it stands now; the
 * control socket's dry run takes the same.
 */
void
session_judge_context(struct judge_context *ctx)
{
	ctx->policy = &dspd.config->policy;
	ctx->guard = &dspd.config->guard;
	ctx->limits = &dspd.config->limits;
	ctx->body_max = dspd.config->body_max;
	ctx->bypass = runtime_bypass_covers;
}

/*
 * Decide on a complete, scanned head: parse it, put its target in
 * canonical form, classify it, and refuse or forward.
 */
static void
session_decide(struct session *s, size_t head_len)
{
	const struct config	*cf = dspd.config;
	struct judge_context	 ctx;
	struct judgement	 j;
	llhttp_errno_t		 err;
	int			 has_body;

	memset(&s->ex, 0, sizeof(s->ex));
	s->in_exchange = 1;
	gettimeofday(&s->ex.start, NULL);
	s->ex.bytes_in = head_len;
	s->head_len = head_len;
	llhttp_init(&s->req_parser, HTTP_REQUEST, &request_settings);
	s->req_parser.data = s;
	err = llhttp_execute(&s->req_parser, s->head, head_len);
	if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
		s->ex.method = strdup("-");
		session_refuse(s, 400, "dsp: malformed request: %s",
		    llhttp_get_error_reason(&s->req_parser));
		return;
	}
	s->ex.method = strdup(llhttp_method_name(
	    (llhttp_method_t)llhttp_get_method(&s->req_parser)));
	s->ex.head_method = llhttp_get_method(&s->req_parser) == HTTP_HEAD;
	s->ex.wants_upgrade = s->req_parser.upgrade;
	s->ex.keep_alive = llhttp_should_keep_alive(&s->req_parser);
	if (s->ex.method == NULL || s->ex.target == NULL) {
		session_refuse(s, 400, "dsp: malformed request");
		return;
	}
	has_body = !s->ex.request_done;

	/* The same judge answers dspctl check: see judge.c. */
	session_judge_context(&ctx);
	judge_target(&ctx, s->ex.method, s->ex.target, &s->ex.canon, &j);
	if (j.status == 400) {
		session_refuse(s, 400, "%s", j.message);
		return;
	}
	s->ex.endpoint = j.endpoint;
	s->ex.revision = cf->policy.revision;
	s->ex.policy_verdict = j.policy_verdict;
	s->ex.verdict = j.verdict;
	s->ex.stream = session_is_stream(&s->ex);

	if (j.status != 0) {
		if (has_body) {
			session_refuse_body(s, j.status, j.message);
			return;
		}
		session_reply(s, j.status, j.message, 0);
		session_exchange_done(s);
		return;
	}

	if (s->ex.endpoint->flags & ENDPOINT_BODY_GUARD) {
		session_hold(s);
		return;
	}
	s->state = SESSION_RELAY;
	session_forward(s);
}

/*
 * Refuse a request whose body is still coming: the reply says why and
 * the connection closes after a lingering read of what the client sends.
 */
static void
session_refuse_body(struct session *s, int status, const char *message)
{
	session_reply(s, status, message, 1);
	bufferevent_disable(s->client_bev, EV_READ);
	s->state = SESSION_LINGER;
	session_timer(s, dspd.config->idle_timeout_ms);
}

/*
 * A create-class request: its body is read whole (de-chunked, capped)
 * before anything goes to the engine, so that what is checked is what
 * is sent.
 */
static void
session_hold(struct session *s)
{
	char	 expect[32], msg[160];

	if ((s->body = evbuffer_new()) == NULL) {
		session_free(s, CLOSE_ERROR);
		return;
	}
	s->state = SESSION_HOLD;
	if (!s->ex.request_done && (s->req_parser.flags & F_CONTENT_LENGTH) &&
	    s->req_parser.content_length > dspd.config->body_max) {
		snprintf(msg, sizeof(msg), "dsp: the request body is larger "
		    "than %zu bytes (--body-max)", dspd.config->body_max);
		session_refuse_body(s, 413, msg);
		return;
	}
	/* The client waits for a go-ahead that the engine will not give. */
	if (!s->ex.request_done && http_head_value(s->head, s->head_len,
	    "expect", expect, sizeof(expect)) == 0 &&
	    strcasecmp(expect, "100-continue") == 0)
		evbuffer_add_printf(bufferevent_get_output(s->client_bev),
		    "HTTP/1.1 100 Continue\r\n\r\n");
	session_timer(s, dspd.config->head_timeout_ms);
	session_hold_body(s);
}

/* Take in more of a held body; forward it once it is whole. */
static void
session_hold_body(struct session *s)
{
	struct evbuffer		*in;
	struct evbuffer_iovec	 v[8];
	llhttp_errno_t		 err = HPE_OK;
	char			 msg[160];
	size_t			 used, total = 0;
	int			 n, i;

	in = bufferevent_get_input(s->client_bev);
	n = evbuffer_peek(in, -1, NULL, v, 8);
	if (n > 8)
		n = 8;
	for (i = 0; i < n && !s->ex.request_done; i++) {
		used = v[i].iov_len;
		err = llhttp_execute(&s->req_parser, v[i].iov_base, used);
		if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)
			used = (size_t)(llhttp_get_error_pos(&s->req_parser) -
			    (const char *)v[i].iov_base);
		else if (err != HPE_OK)
			break;
		total += used;
	}
	evbuffer_drain(in, total);
	s->ex.bytes_in += total;
	if (s->body_over) {
		snprintf(msg, sizeof(msg), "dsp: the request body is larger "
		    "than %zu bytes (--body-max)", dspd.config->body_max);
		session_refuse_body(s, 413, msg);
		return;
	}
	if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
		snprintf(msg, sizeof(msg), "dsp: malformed request body: %s",
		    llhttp_get_error_reason(&s->req_parser));
		session_refuse_body(s, 400, msg);
		return;
	}
	if (!s->ex.request_done)
		return;
	session_timer(s, -1);
	session_guard(s);
}

/* The create guard said no: answer with its message, keep the client. */
static void
session_guard_refuse(struct session *s, int status, const char *field,
    const char *message)
{
	snprintf(s->ex.guard_field, sizeof(s->ex.guard_field), "%s", field);
	s->ex.verdict = VERDICT_DENY;
	s->ex.policy_verdict = VERDICT_DENY;
	log_info("client %s: %s", s->client, message);
	/* A body dsp cannot read the engine's way ends the connection. */
	session_reply(s, status, message, status == 400);
	session_exchange_done(s);
}

/*
 * The held body is whole: the create guard reads it before the engine
 * does; what it refers to elsewhere (volumes of other containers) is
 * looked up first.
 */
static void
session_guard(struct session *s)
{
	struct guard_result	*g = &s->guard;
	struct judge_context	 ctx;
	struct judgement	 j;
	size_t			 len = evbuffer_get_length(s->body);
	const char		*body;

	body = len > 0 ? (const char *)evbuffer_pullup(s->body, -1) : "";
	memset(&j, 0, sizeof(j));
	j.verdict = s->ex.verdict;
	j.policy_verdict = s->ex.policy_verdict;
	session_judge_context(&ctx);
	if (body == NULL || judge_body(&ctx, s->ex.endpoint, body, len, g,
	    &j) != 0) {
		session_refuse(s, 500, "dsp: out of memory");
		return;
	}
	if (j.status != 0) {
		session_guard_refuse(s, j.status, g->field, j.message);
		return;
	}
	if (g->verdict == GUARD_REFUSE) {
		/* Let through by the bypass, and on record as what it was. */
		snprintf(s->ex.guard_field, sizeof(s->ex.guard_field), "%s",
		    g->field);
		s->ex.policy_verdict = j.policy_verdict;
		s->ex.verdict = j.verdict;
	}
	if (j.lookup) {
		s->lookup_next = 0;
		session_lookup_next(s);
		return;
	}
	s->state = SESSION_RELAY;
	session_forward(s);
}

/*
 * Ask the engine about the next container the body takes volumes from,
 * on the connection the request itself will use; when none is left the
 * request goes on.
 */
static void
session_lookup_next(struct session *s)
{
	char	 msg[256];

	if (s->lookup_next >= s->guard.nlookups) {
		s->state = SESSION_RELAY;
		session_forward(s);
		return;
	}
	s->state = SESSION_LOOKUP;
	if (s->up_bev != NULL && s->up_connected && !s->up_eof) {
		session_lookup_send(s);
		return;
	}
	upstream_close(s);
	if (upstream_connect(s) != 0) {
		snprintf(msg, sizeof(msg), "dsp: the Docker engine at %s is "
		    "not reachable: %s", dspd.config->socket_path,
		    strerror(errno));
		log_warnx("%s", msg);
		metrics_engine_error(METRICS_ENGINE_CONNECT);
		session_reply(s, 502, msg, 0);
		session_exchange_done(s);
		return;
	}
	session_timer(s, dspd.config->connect_timeout_ms);
}

/* Send the inspect of one looked-up container to the engine. */
static void
session_lookup_send(struct session *s)
{
	struct evbuffer	*up = bufferevent_get_output(s->up_bev);
	const char	*name = s->guard.lookups[s->lookup_next];
	char		*quoted;

	session_timer(s, -1);
	if ((quoted = evhttp_encode_uri(name)) == NULL ||
	    (s->lookup_body == NULL &&
	    (s->lookup_body = evbuffer_new()) == NULL)) {
		free(quoted);
		session_refuse(s, 500, "dsp: out of memory");
		return;
	}
	evbuffer_drain(s->lookup_body, evbuffer_get_length(s->lookup_body));
	llhttp_init(&s->res_parser, HTTP_RESPONSE, &response_settings);
	s->res_parser.data = s;
	s->ex.response_done = 0;
	s->ex.status = 0;
	evbuffer_add_printf(up, "GET /containers/%s/json HTTP/1.1\r\n"
	    "Host: dsp\r\n\r\n", quoted);
	free(quoted);
}

/* Read the engine's answer to a lookup; judge it once it is whole. */
static void
session_lookup_read(struct session *s)
{
	struct evbuffer		*up = bufferevent_get_input(s->up_bev);
	struct guard_result	 inherited;
	const char		*body;
	size_t			 moved, len;
	llhttp_errno_t		 err;
	int			 status, rc;

	err = session_parse_move(&s->res_parser, up, NULL,
	    evbuffer_get_length(up), &moved);
	if (err != HPE_OK && err != HPE_PAUSED) {
		metrics_engine_error(METRICS_ENGINE_MALFORMED);
		upstream_close(s);
		session_refuse(s, 502, "dsp: the Docker engine sent a "
		    "malformed response");
		return;
	}
	if (!s->ex.response_done)
		return;
	status = s->ex.status;
	s->ex.response_done = 0;
	s->ex.status = 0;
	if (!llhttp_should_keep_alive(&s->res_parser) ||
	    evbuffer_get_length(up) > 0)
		upstream_close(s);

	len = evbuffer_get_length(s->lookup_body);
	if (status == 200) {
		body = (const char *)evbuffer_pullup(s->lookup_body, -1);
		memset(&inherited, 0, sizeof(inherited));
		rc = guard_check_inherited(&dspd.config->guard,
		    body != NULL ? body : "", len, &inherited);
		if (rc != 0) {
			session_refuse(s, 500, "dsp: out of memory");
			return;
		}
		if (inherited.verdict != GUARD_PASS) {
			session_guard_refuse(s, 403, inherited.field,
			    inherited.message);
			guard_result_clear(&inherited);
			return;
		}
		guard_result_clear(&inherited);
	}
	/* Any other answer: the engine will refuse the create itself. */
	s->lookup_next++;
	session_lookup_next(s);
}

/* Take in the client's bytes while a request head is being read. */
static void
session_read_head(struct session *s)
{
	const struct config	*cf = dspd.config;
	struct evbuffer		*in;
	struct evbuffer_ptr	 ptr;
	size_t			 avail, want, head_len = 0;
	const char		*why;
	enum head_result	 r;

	in = bufferevent_get_input(s->client_bev);
	avail = evbuffer_get_length(in);
	if (avail <= s->head_have)
		return;
	if (s->head == NULL &&
	    (s->head = malloc(cf->limits.head_max)) == NULL) {
		session_free(s, CLOSE_ERROR);
		return;
	}
	want = avail - s->head_have;
	if (want > cf->limits.head_max - s->head_have)
		want = cf->limits.head_max - s->head_have;
	if (want > 0) {
		evbuffer_ptr_set(in, &ptr, s->head_have, EVBUFFER_PTR_SET);
		evbuffer_copyout_from(in, &ptr, s->head + s->head_have, want);
		s->head_have += want;
	}
	if (!s->head_started) {
		s->head_started = 1;
		session_timer(s, cf->head_timeout_ms);
	}

	r = http_scan_head(&s->scan, s->head, s->head_have, &cf->limits,
	    &head_len, &why);
	switch (r) {
	case HEAD_INCOMPLETE:
		if (s->head_have < cf->limits.head_max)
			return;
		why = "request head too large";
		/* FALLTHROUGH */
	case HEAD_TOO_LARGE:
		s->in_exchange = 1;
		gettimeofday(&s->ex.start, NULL);
		session_refuse(s, 431, "dsp: %s", why);
		return;
	case HEAD_URI_TOO_LONG:
		s->in_exchange = 1;
		gettimeofday(&s->ex.start, NULL);
		session_refuse(s, 414, "dsp: %s", why);
		return;
	case HEAD_BAD:
		s->in_exchange = 1;
		gettimeofday(&s->ex.start, NULL);
		session_refuse(s, 400, "dsp: malformed request: %s", why);
		return;
	case HEAD_COMPLETE:
		break;
	}
	session_timer(s, -1);
	evbuffer_drain(in, head_len);
	session_decide(s, head_len);
}

/*
 * Feed bytes from src through a parser and move what it consumed to dst
 * (or drop it when dst is NULL); returns the parser's result and how many
 * bytes moved.
 */
static llhttp_errno_t
session_parse_move(llhttp_t *p, struct evbuffer *src, struct evbuffer *dst,
    size_t limit, size_t *moved)
{
	struct evbuffer_iovec	 v[8];
	llhttp_errno_t		 err = HPE_OK;
	size_t			 used, total = 0;
	int			 n, i;

	n = evbuffer_peek(src, (ev_ssize_t)limit, NULL, v, 8);
	if (n > 8)
		n = 8;
	for (i = 0; i < n && err == HPE_OK && total < limit; i++) {
		used = v[i].iov_len;
		if (used > limit - total)
			used = limit - total;
		err = llhttp_execute(p, v[i].iov_base, used);
		if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)
			used = (size_t)(llhttp_get_error_pos(p) -
			    (const char *)v[i].iov_base);
		else if (err != HPE_OK)
			break;
		total += used;
	}
	if (total > 0 && dst != NULL)
		evbuffer_remove_buffer(src, dst, total);
	else if (total > 0)
		evbuffer_drain(src, total);
	*moved = total;
	return (err);
}

/* Move the request body to the engine as far as its buffer allows. */
static void
session_relay_request(struct session *s)
{
	struct evbuffer	*in = bufferevent_get_input(s->client_bev);
	struct evbuffer	*up;
	size_t		 room, moved;
	llhttp_errno_t	 err;

	if (s->ex.request_done || s->up_bev == NULL || !s->up_connected)
		return;
	up = bufferevent_get_output(s->up_bev);
	if (evbuffer_get_length(up) >= RELAY_HIGH_WATER)
		return;		/* its write callback comes back */
	room = RELAY_HIGH_WATER - evbuffer_get_length(up);
	err = session_parse_move(&s->req_parser, in, session_stage, room,
	    &moved);
	s->ex.bytes_in += moved;
	session_send_end(s->up_bev, s->ex.request_done);
	if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
		log_info("client %s: malformed request body: %s", s->client,
		    llhttp_get_error_reason(&s->req_parser));
		if (!s->ex.response_started)
			session_refuse(s, 400, "dsp: malformed request body: "
			    "%s", llhttp_get_error_reason(&s->req_parser));
		else
			session_free(s, CLOSE_ERROR);
		return;
	}
	/*
	 * A body that stops coming holds a connection to the engine: it
	 * gets the idle time between bytes, then the exchange ends.
	 */
	if (!s->ex.request_done)
		session_timer(s, dspd.config->idle_timeout_ms);
	else
		session_timer(s, -1);
	if (s->ex.request_done && s->ex.response_done)
		session_exchange_done(s);
}

/* The engine accepted the connection: send the head and what follows. */
void
session_upstream_connected(struct session *s)
{
	char		*head;
	size_t		 len;

	session_timer(s, -1);
	if (s->state == SESSION_LOOKUP) {
		session_lookup_send(s);
		return;
	}
	s->state = SESSION_RELAY;
	llhttp_init(&s->res_parser, HTTP_RESPONSE, &response_settings);
	s->res_parser.data = s;
	if (s->body == NULL) {
		evbuffer_add(session_stage, s->head, s->head_len);
		session_send_end(s->up_bev, s->ex.request_done);
		session_relay_request(s);
		return;
	}
	head = http_head_with_length(s->head, s->head_len,
	    evbuffer_get_length(s->body), &len);
	if (head == NULL) {
		session_free(s, CLOSE_ERROR);
		return;
	}
	/* A held body is sent whole, the end of its request. */
	evbuffer_add(session_stage, head, len);
	free(head);
	evbuffer_add_buffer(session_stage, s->body);
	session_send(s->up_bev);
}

/* The engine's buffer drained: more of the request body may go. */
void
session_upstream_drained(struct session *s)
{
	if (s->state == SESSION_RELAY)
		session_relay_request(s);
	else if (s->state == SESSION_SPLICE)
		session_splice(s);
}

void
session_upstream_readable(struct session *s)
{
	if (s->state == SESSION_LOOKUP)
		session_lookup_read(s);
	else if (s->state == SESSION_RELAY)
		session_relay_response(s);
	else if (s->state == SESSION_SPLICE)
		session_splice(s);
	else if (s->up_bev != NULL) {
		/* The engine spoke out of turn: never reuse it. */
		upstream_close(s);
	}
}

/* A 101 came back for an upgrade request: relay bytes both ways. */
static void
session_start_splice(struct session *s)
{
	s->state = SESSION_SPLICE;
	s->ex.stream = 1;
	bufferevent_enable(s->client_bev, EV_READ);
	bufferevent_enable(s->up_bev, EV_READ);
	session_splice(s);
}

/* Move the response to the client as far as its buffer allows. */
static void
session_relay_response(struct session *s)
{
	struct evbuffer	*up = bufferevent_get_input(s->up_bev);
	struct evbuffer	*out = bufferevent_get_output(s->client_bev);
	size_t		 room, moved;
	llhttp_errno_t	 err;

	if (s->ex.response_done) {
		/* Bytes after a complete response: never reuse this one. */
		upstream_close(s);
		return;
	}
	if (evbuffer_get_length(out) >= RELAY_HIGH_WATER)
		return;		/* its write callback comes back */
	room = RELAY_HIGH_WATER - evbuffer_get_length(out);
	err = session_parse_move(&s->res_parser, up, session_stage, room,
	    &moved);
	/* A body still coming: take in one go what else the engine sent. */
	if (err == HPE_OK && !s->ex.response_done && moved < room &&
	    evbuffer_get_length(up) == 0 && session_pull(s->up_bev,
	    room - moved) > 0) {
		s->ex.bytes_out += moved;
		room -= moved;
		err = session_parse_move(&s->res_parser, up, session_stage,
		    room, &moved);
	}
	s->ex.bytes_out += moved;
	if (moved > 0)
		s->ex.response_started = 1;
	session_send_end(s->client_bev, s->ex.response_done);
	if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
		log_warnx("engine sent a malformed response to %s: %s",
		    s->client, llhttp_get_error_reason(&s->res_parser));
		metrics_engine_error(METRICS_ENGINE_MALFORMED);
		if (!s->ex.response_started) {
			upstream_close(s);
			session_refuse(s, 502, "dsp: the Docker engine sent a "
			    "malformed response");
		} else
			session_free(s, CLOSE_ERROR);
		return;
	}
	if (!s->ex.response_done) {
		if (s->up_eof && evbuffer_get_length(up) == 0)
			session_response_eof(s);
		return;
	}

	if (s->ex.status == 101) {
		if (!s->ex.wants_upgrade || !s->ex.request_done) {
			session_free(s, CLOSE_ERROR);
			return;
		}
		session_start_splice(s);
		return;
	}
	if (evbuffer_get_length(up) > 0 || s->up_eof ||
	    !llhttp_should_keep_alive(&s->res_parser))
		upstream_close(s);
	if (!s->ex.request_done) {
		/* The engine answered before the body ended: no way back. */
		s->ex.keep_alive = 0;
	}
	session_exchange_done(s);
}

/*
 * The response has been handed over: keep the connection for the next
 * request, or close it once written.
 */
static void
session_exchange_done(struct session *s)
{
	int	 keep = s->ex.keep_alive && s->ex.request_done &&
		    !s->client_eof && !dspd.draining &&
		    s->state != SESSION_CLOSING;

	session_exchange_log(s, CLOSE_COMPLETE);
	if (!keep) {
		session_close_when_written(s, CLOSE_COMPLETE);
		return;
	}
	session_await_head(s);
	if (evbuffer_get_length(bufferevent_get_input(s->client_bev)) > 0)
		session_read_head(s);
}

/* The engine connection ended or failed. */
void
session_upstream_closed(struct session *s, int err)
{
	char	 msg[256];

	if (s->state == SESSION_LOOKUP) {
		snprintf(msg, sizeof(msg), "dsp: the Docker engine at %s "
		    "closed the connection while dsp checked the request%s%s",
		    dspd.config->socket_path, err ? ": " : "",
		    err ? strerror(err) : "");
		log_warnx("%s", msg);
		metrics_engine_error(METRICS_ENGINE_CLOSED);
		upstream_close(s);
		session_reply(s, 502, msg, 0);
		session_exchange_done(s);
		return;
	}
	if (s->state == SESSION_CONNECT) {
		snprintf(msg, sizeof(msg), "dsp: the Docker engine at %s is "
		    "not reachable: %s", dspd.config->socket_path,
		    strerror(err != 0 ? err : ECONNREFUSED));
		log_warnx("%s", msg);
		metrics_engine_error(METRICS_ENGINE_CONNECT);
		upstream_close(s);
		session_reply(s, 502, msg, !s->ex.request_done);
		session_exchange_done(s);
		return;
	}
	if (s->state == SESSION_SPLICE) {
		s->up_eof = 1;
		if (err != 0) {
			session_free(s, CLOSE_ENGINE);
			return;
		}
		session_splice(s);
		return;
	}
	if (s->state != SESSION_RELAY || s->ex.response_done) {
		upstream_close(s);	/* an idle kept connection ended */
		return;
	}

	s->up_eof = 1;
	s->up_error = err;
	session_relay_response(s);
}

/*
 * The engine closed while a response was due and all its bytes have
 * been passed on: a response without a length ends here, anything else
 * was cut short.
 */
static void
session_response_eof(struct session *s)
{
	char		 msg[256];
	int		 err = s->up_error;
	llhttp_errno_t	 finish;

	if (err == 0 && s->ex.response_started) {
		/* The parser pauses at a message's end: that is success. */
		finish = llhttp_finish(&s->res_parser);
		if ((finish == HPE_OK || finish == HPE_PAUSED) &&
		    s->ex.response_done) {
			upstream_close(s);
			s->ex.keep_alive = 0;
			session_exchange_done(s);
			return;
		}
	}
	upstream_close(s);
	if (!s->ex.response_started) {
		snprintf(msg, sizeof(msg), "dsp: the Docker engine closed the "
		    "connection before answering%s%s", err ? ": " : "",
		    err ? strerror(err) : "");
		log_warnx("%s", msg);
		metrics_engine_error(METRICS_ENGINE_CLOSED);
		session_reply(s, 502, msg, 1);
		s->ex.keep_alive = 0;
		session_exchange_done(s);
		return;
	}
	/* Cut short: the client still gets what came before the end. */
	metrics_engine_error(METRICS_ENGINE_CLOSED);
	session_close_when_written(s, CLOSE_ENGINE);
}

/*
 * Relay bytes both ways after a 101, honouring half-close: an end of
 * input on one side becomes a shutdown of writes on the other once
 * everything before it has been written.
 */
static void
session_splice(struct session *s)
{
	struct evbuffer	*cin = bufferevent_get_input(s->client_bev);
	struct evbuffer	*cout = bufferevent_get_output(s->client_bev);
	struct evbuffer	*uin = bufferevent_get_input(s->up_bev);
	struct evbuffer	*uout = bufferevent_get_output(s->up_bev);
	size_t		 n;

	if ((n = evbuffer_get_length(uin)) > 0 &&
	    evbuffer_get_length(cout) < RELAY_HIGH_WATER) {
		if (n > RELAY_HIGH_WATER - evbuffer_get_length(cout))
			n = RELAY_HIGH_WATER - evbuffer_get_length(cout);
		evbuffer_remove_buffer(uin, cout, n);
		s->ex.bytes_out += n;
	}
	if ((n = evbuffer_get_length(cin)) > 0 &&
	    evbuffer_get_length(uout) < RELAY_HIGH_WATER) {
		if (n > RELAY_HIGH_WATER - evbuffer_get_length(uout))
			n = RELAY_HIGH_WATER - evbuffer_get_length(uout);
		evbuffer_remove_buffer(cin, uout, n);
		s->ex.bytes_in += n;
	}

	if (s->client_eof && !s->up_shut && evbuffer_get_length(cin) == 0 &&
	    evbuffer_get_length(uout) == 0) {
		shutdown(bufferevent_getfd(s->up_bev), SHUT_WR);
		s->up_shut = 1;
	}
	if (s->up_eof && !s->client_shut && evbuffer_get_length(uin) == 0 &&
	    evbuffer_get_length(cout) == 0) {
		shutdown(bufferevent_getfd(s->client_bev), SHUT_WR);
		s->client_shut = 1;
	}
	if (s->client_shut && s->up_shut)
		session_free(s, CLOSE_COMPLETE);
}

static void
session_client_read_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n;

	switch (s->state) {
	case SESSION_HEAD:
		session_read_head(s);
		break;
	case SESSION_HOLD:
		session_hold_body(s);
		break;
	case SESSION_RELAY:
		session_relay_request(s);
		break;
	case SESSION_SPLICE:
		session_splice(s);
		break;
	case SESSION_LINGER:
		n = evbuffer_get_length(in);
		evbuffer_drain(in, n);
		s->linger_discarded += n;
		if (s->linger_discarded >= LINGER_MAX_BYTES)
			session_free(s, CLOSE_COMPLETE);
		break;
	case SESSION_CONNECT:
	case SESSION_LOOKUP:
	case SESSION_CLOSING:
		break;	/* left in the buffer until the exchange ends */
	}
}

static void
session_client_write_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*out = bufferevent_get_output(bev);

	switch (s->state) {
	case SESSION_RELAY:
		if (s->up_bev != NULL)
			session_relay_response(s);
		break;
	case SESSION_SPLICE:
		session_splice(s);
		break;
	case SESSION_CLOSING:
		if (evbuffer_get_length(out) == 0)
			session_free(s, CLOSE_COMPLETE);
		break;
	case SESSION_LINGER:
		if (evbuffer_get_length(out) == 0 && !s->client_shut) {
			shutdown(bufferevent_getfd(bev), SHUT_WR);
			s->client_shut = 1;
			session_linger(s);
		}
		break;
	default:
		break;
	}
}

static void
session_client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (what & BEV_EVENT_ERROR) {
		session_free(s, CLOSE_CLIENT);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	s->client_eof = 1;
	switch (s->state) {
	case SESSION_SPLICE:
		session_splice(s);
		return;
	case SESSION_RELAY:
		/*
		 * A client may half-close after a finite request; a stream
		 * has no end, so a closed client ends it.
		 */
		if (s->ex.request_done && !s->ex.stream)
			return;
		session_free(s, CLOSE_CLIENT);
		return;
	case SESSION_CLOSING:
		if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			return;
		break;
	default:
		break;
	}
	session_free(s, CLOSE_CLIENT);
}

/* The session's timer: idle, head deadline, connect or linger time. */
static void
session_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session	*s = arg;
	char		 msg[256];

	switch (s->state) {
	case SESSION_HEAD:
		if (!s->head_started) {
			session_free(s, CLOSE_TIMEOUT);
			return;
		}
		s->in_exchange = 1;
		gettimeofday(&s->ex.start, NULL);
		log_info("client %s: no whole request head within %lld ms",
		    s->client, dspd.config->head_timeout_ms);
		session_refuse(s, 408, "dsp: the request head did not arrive "
		    "in time");
		return;
	case SESSION_HOLD:
		log_info("client %s: no whole request body within %lld ms",
		    s->client, dspd.config->head_timeout_ms);
		session_refuse_body(s, 408, "dsp: the request body did not "
		    "arrive in time");
		return;
	case SESSION_LOOKUP:
	case SESSION_CONNECT:
		snprintf(msg, sizeof(msg), "dsp: the Docker engine at %s did "
		    "not accept a connection within %lld ms",
		    dspd.config->socket_path, dspd.config->connect_timeout_ms);
		log_warnx("%s", msg);
		metrics_engine_error(METRICS_ENGINE_TIMEOUT);
		upstream_close(s);
		session_reply(s, 502, msg, !s->ex.request_done);
		session_exchange_done(s);
		return;
	case SESSION_RELAY:
		if (s->ex.request_done)
			return;
		log_info("client %s: request body stalled for %lld ms",
		    s->client, dspd.config->idle_timeout_ms);
		upstream_close(s);
		if (!s->ex.response_started)
			session_refuse(s, 408, "dsp: the request body stopped "
			    "coming");
		else
			session_free(s, CLOSE_TIMEOUT);
		return;
	case SESSION_LINGER:
	case SESSION_CLOSING:
		session_free(s, CLOSE_COMPLETE);
		return;
	default:
		return;
	}
}

/*
 * SIGTERM: close idle connections, streams and spliced sessions now; an
 * exchange with an end in sight finishes and then closes.
 */
void
session_drain_all(void)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&dspd.sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state == SESSION_SPLICE || s->state == SESSION_HEAD ||
		    s->ex.stream)
			session_free(s, CLOSE_DRAIN);
	}
}

/*
 * The bypass ended: a session whose exchange only the bypass let in (a
 * shell opened during it) does not outlive it.
 */
void
session_close_bypassed(void)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&dspd.sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->in_exchange && s->ex.verdict == VERDICT_BYPASS)
			session_free(s, CLOSE_BYPASS_ENDED);
	}
}

void
session_close_all(void)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&dspd.sessions)) != NULL)
		session_free(s, CLOSE_DRAIN);
	if (dspd.trim_timer != NULL) {
		event_free(dspd.trim_timer);
		dspd.trim_timer = NULL;
	}
	if (session_stage != NULL) {
		evbuffer_free(session_stage);
		session_stage = NULL;
	}
}
