/*
 * Counters and gauges for Prometheus, served in its text format at
 * /metrics when --metrics names an address.  Every label value comes
 * from a fixed set (the catalogue's groups and actions, the verdicts,
 * status classes), never from what a client sent, so the number of
 * series is bounded whatever the traffic.  Counters live in fixed arrays
 * indexed by the action of a catalogue entry; nothing is allocated per
 * request.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/http.h>

#include "dspd.h"

/* Distinct (group, action) pairs of the catalogue, "unknown" included. */
#define METRICS_ACTIONS_MAX	256
/* Catalogue entries the table maps to actions, at most. */
#define METRICS_ENTRIES_MAX	512
/* Seconds a scraper has to send its request and read the answer. */
#define METRICS_TIMEOUT_SEC	10
/* Bytes of a scrape request's head; a scraper sends a few lines. */
#define METRICS_HEAD_MAX	8192
/* Bytes of a scrape request's body: a GET has none. */
#define METRICS_BODY_MAX	1024
/* Connections the kernel queues for the metrics socket. */
#define METRICS_BACKLOG		16
/* Mode of a unix metrics socket: dspd's group may scrape. */
#define METRICS_UNIX_MODE	0660
/* The methods answered; others get 405. */
#define METRICS_METHODS		(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

/* Verdict labels; NONE is a request refused before any decision. */
enum metrics_verdict {
	MV_ALLOW,
	MV_DENY,
	MV_BYPASS,
	MV_NONE,
	MV_COUNT
};

/* Status labels: no status (client gone first), then the classes. */
#define METRICS_STATUS_COUNT	6

/* Upper bounds of the duration histogram's buckets, in microseconds. */
static const uint64_t metrics_bounds_us[] = {
	1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
	300000000, 3600000000ULL
};
#define METRICS_BUCKETS	\
	(sizeof(metrics_bounds_us) / sizeof(metrics_bounds_us[0]))

static const char *const metrics_verdict_names[MV_COUNT] = {
	"allow", "deny", "bypass", "none"
};
static const char *const metrics_status_names[METRICS_STATUS_COUNT] = {
	"none", "1xx", "2xx", "3xx", "4xx", "5xx"
};
static const char *const metrics_engine_names[METRICS_ENGINE_COUNT] = {
	"connect", "timeout", "closed", "malformed"
};

static struct {
	int			 on;
	struct evhttp		*http;
	char			*unix_path;	/* removed at close */
	time_t			 started;

	/* Slot 0 is the unknown action: no entry matched, or none tried. */
	const struct endpoint	*entries;
	size_t			 nentries;
	uint16_t		 action_of[METRICS_ENTRIES_MAX];
	size_t			 nactions;
	const char		*action_name[METRICS_ACTIONS_MAX];
	enum endpoint_group	 action_group[METRICS_ACTIONS_MAX];

	uint64_t		 requests[METRICS_ACTIONS_MAX][MV_COUNT]
				     [METRICS_STATUS_COUNT];
	uint64_t		 denials[METRICS_ACTIONS_MAX];
	uint64_t		 bytes_in[GROUP_COUNT];
	uint64_t		 bytes_out[GROUP_COUNT];
	uint64_t		 buckets[GROUP_COUNT][METRICS_BUCKETS + 1];
	uint64_t		 sum_us[GROUP_COUNT];
	uint64_t		 engine_errors[METRICS_ENGINE_COUNT];
} metrics;

/*
 * Give each distinct (group, action) of the catalogue a slot, so that
 * entries sharing an action (GET and HEAD of one route) share a series.
 */
static int
metrics_map_actions(char *err, size_t len)
{
	const struct endpoint	*ep;
	size_t			 i, j;

	metrics.entries = catalogue_entries(&metrics.nentries);
	if (metrics.nentries > METRICS_ENTRIES_MAX) {
		snprintf(err, len, "metrics: %zu catalogue entries, room for "
		    "%d", metrics.nentries, METRICS_ENTRIES_MAX);
		return (-1);
	}
	metrics.action_name[0] = "unknown";
	metrics.action_group[0] = GROUP_UNKNOWN;
	metrics.nactions = 1;
	for (i = 0; i < metrics.nentries; i++) {
		ep = &metrics.entries[i];
		for (j = 1; j < metrics.nactions; j++)
			if (metrics.action_group[j] == ep->group &&
			    strcmp(metrics.action_name[j], ep->action) == 0)
				break;
		if (j == metrics.nactions) {
			if (j == METRICS_ACTIONS_MAX) {
				snprintf(err, len, "metrics: more than %d "
				    "actions", METRICS_ACTIONS_MAX);
				return (-1);
			}
			metrics.action_name[j] = ep->action;
			metrics.action_group[j] = ep->group;
			metrics.nactions++;
		}
		metrics.action_of[i] = (uint16_t)j;
	}
	return (0);
}

/* The slot of an endpoint; 0 for none or one not from the catalogue. */
static size_t
metrics_slot(const struct endpoint *ep)
{
	if (ep == NULL || ep < metrics.entries ||
	    ep >= metrics.entries + metrics.nentries)
		return (0);
	return (metrics.action_of[ep - metrics.entries]);
}

static enum endpoint_group
metrics_group(const struct endpoint *ep)
{
	if (ep == NULL || (int)ep->group < 0 || ep->group >= GROUP_COUNT)
		return (GROUP_UNKNOWN);
	return (ep->group);
}

/*
 * A request the catalogue never saw and the policy never judged (a
 * malformed head, a client not admitted) has the zero verdict and no
 * endpoint; a path the catalogue does not know is always a denial.
 */
static enum metrics_verdict
metrics_verdict(const struct exchange *ex)
{
	switch (ex->verdict) {
	case VERDICT_DENY:
		return (MV_DENY);
	case VERDICT_BYPASS:
		return (MV_BYPASS);
	case VERDICT_ALLOW:
		return (ex->endpoint != NULL ? MV_ALLOW : MV_NONE);
	}
	return (MV_NONE);
}

static size_t
metrics_status(int status)
{
	if (status < 100 || status > 599)
		return (0);
	return ((size_t)(status / 100));
}

/* A finished exchange, with its duration in microseconds. */
void
metrics_exchange(const struct exchange *ex, int64_t duration_us)
{
	enum endpoint_group	 g = metrics_group(ex->endpoint);
	enum metrics_verdict	 v = metrics_verdict(ex);
	size_t			 slot = metrics_slot(ex->endpoint), b;
	uint64_t		 us;

	if (!metrics.on)
		return;
	us = duration_us > 0 ? (uint64_t)duration_us : 0;
	metrics.requests[slot][v][metrics_status(ex->status)]++;
	if (v == MV_DENY)
		metrics.denials[slot]++;
	metrics.bytes_in[g] += ex->bytes_in;
	metrics.bytes_out[g] += ex->bytes_out;
	for (b = 0; b < METRICS_BUCKETS; b++)
		if (us <= metrics_bounds_us[b])
			break;
	metrics.buckets[g][b]++;
	metrics.sum_us[g] += us;
}

/* dspd failed to talk to the engine, and said so to a client. */
void
metrics_engine_error(enum metrics_engine_error kind)
{
	if (kind < METRICS_ENGINE_COUNT)
		metrics.engine_errors[kind]++;
}

/*
 * Whether the engine's socket takes a connection now.  A unix socket
 * answers connect at once (accepted, refused, missing, or EAGAIN when
 * its queue is full, which still means someone listens), so this never
 * holds the loop.
 */
static int
metrics_engine_up(void)
{
	struct sockaddr_un	 sun;
	int			 fd, rc;

	if (listener_unix_addr(dspd.config->socket_path, &sun) != 0)
		return (0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (0);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (rc == -1 && (errno == EAGAIN || errno == EINPROGRESS))
		rc = 0;
	close(fd);
	return (rc == 0);
}

static void
metrics_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
metrics_sample(struct evbuffer *out, const char *name, uint64_t value)
{
	evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)value);
}

/* Requests and denials by group and action; series that moved only. */
static void
metrics_write_requests(struct evbuffer *out)
{
	size_t	 a, v, st;

	metrics_family(out, "dsp_requests_total", "counter",
	    "Finished exchanges by endpoint group, action, verdict and "
	    "status class.");
	for (a = 0; a < metrics.nactions; a++)
		for (v = 0; v < MV_COUNT; v++)
			for (st = 0; st < METRICS_STATUS_COUNT; st++) {
				if (metrics.requests[a][v][st] == 0)
					continue;
				evbuffer_add_printf(out, "dsp_requests_total"
				    "{group=\"%s\",action=\"%s\","
				    "verdict=\"%s\",status=\"%s\"} %llu\n",
				    catalogue_group_name(
				    metrics.action_group[a]),
				    metrics.action_name[a],
				    metrics_verdict_names[v],
				    metrics_status_names[st],
				    (unsigned long long)
				    metrics.requests[a][v][st]);
			}

	metrics_family(out, "dsp_denials_total", "counter",
	    "Requests refused by the policy or the create guard, by group "
	    "and action.");
	for (a = 0; a < metrics.nactions; a++) {
		if (metrics.denials[a] == 0)
			continue;
		evbuffer_add_printf(out, "dsp_denials_total{group=\"%s\","
		    "action=\"%s\"} %llu\n",
		    catalogue_group_name(metrics.action_group[a]),
		    metrics.action_name[a],
		    (unsigned long long)metrics.denials[a]);
	}
}

/* Bytes each way and the duration histogram, by group. */
static void
metrics_write_traffic(struct evbuffer *out)
{
	uint64_t	 cum;
	size_t		 g, b;
	const char	*name;

	metrics_family(out, "dsp_request_bytes_total", "counter",
	    "Bytes received from clients (heads, bodies, upgraded streams), "
	    "by group.");
	for (g = 0; g < GROUP_COUNT; g++)
		if (metrics.bytes_in[g] != 0)
			evbuffer_add_printf(out, "dsp_request_bytes_total"
			    "{group=\"%s\"} %llu\n", catalogue_group_name(g),
			    (unsigned long long)metrics.bytes_in[g]);
	metrics_family(out, "dsp_response_bytes_total", "counter",
	    "Bytes sent to clients, by group.");
	for (g = 0; g < GROUP_COUNT; g++)
		if (metrics.bytes_out[g] != 0)
			evbuffer_add_printf(out, "dsp_response_bytes_total"
			    "{group=\"%s\"} %llu\n", catalogue_group_name(g),
			    (unsigned long long)metrics.bytes_out[g]);

	metrics_family(out, "dsp_request_duration_seconds", "histogram",
	    "Time from a request head to the end of its exchange (streams "
	    "included), by group.");
	for (g = 0; g < GROUP_COUNT; g++) {
		cum = 0;
		for (b = 0; b <= METRICS_BUCKETS; b++)
			cum += metrics.buckets[g][b];
		if (cum == 0)
			continue;
		name = catalogue_group_name(g);
		cum = 0;
		for (b = 0; b < METRICS_BUCKETS; b++) {
			cum += metrics.buckets[g][b];
			evbuffer_add_printf(out, "dsp_request_duration_seconds"
			    "_bucket{group=\"%s\",le=\"%g\"} %llu\n", name,
			    (double)metrics_bounds_us[b] / 1e6,
			    (unsigned long long)cum);
		}
		cum += metrics.buckets[g][METRICS_BUCKETS];
		evbuffer_add_printf(out, "dsp_request_duration_seconds_bucket"
		    "{group=\"%s\",le=\"+Inf\"} %llu\n", name,
		    (unsigned long long)cum);
		evbuffer_add_printf(out, "dsp_request_duration_seconds_sum"
		    "{group=\"%s\"} %llu.%06llu\n", name,
		    (unsigned long long)(metrics.sum_us[g] / 1000000),
		    (unsigned long long)(metrics.sum_us[g] % 1000000));
		evbuffer_add_printf(out, "dsp_request_duration_seconds_count"
		    "{group=\"%s\"} %llu\n", name, (unsigned long long)cum);
	}
}

/*
 * Connections and streams open now, counted by walking the sessions:
 * a gauge kept by hand could drift, the list cannot.
 */
static void
metrics_write_open(struct evbuffer *out)
{
	struct session	*s;
	uint32_t	 streams[METRICS_ACTIONS_MAX];
	uint64_t	 tcp = 0, unx = 0;
	size_t		 a;

	memset(streams, 0, sizeof(streams));
	TAILQ_FOREACH(s, &dspd.sessions, entry) {
		if (strncmp(s->listener_name, "unix://", 7) == 0)
			unx++;
		else
			tcp++;
		if (s->in_exchange && s->ex.stream &&
		    s->ex.verdict != VERDICT_DENY &&
		    (s->state == SESSION_RELAY || s->state == SESSION_SPLICE))
			streams[metrics_slot(s->ex.endpoint)]++;
	}
	metrics_family(out, "dsp_connections", "gauge",
	    "Client connections open, by transport.");
	evbuffer_add_printf(out, "dsp_connections{transport=\"tcp\"} %llu\n"
	    "dsp_connections{transport=\"unix\"} %llu\n",
	    (unsigned long long)tcp, (unsigned long long)unx);
	metrics_family(out, "dsp_streams", "gauge",
	    "Streams open (events, logs that follow, stats, attach, exec), "
	    "by group and action.");
	for (a = 0; a < metrics.nactions; a++)
		if (streams[a] != 0)
			evbuffer_add_printf(out, "dsp_streams{group=\"%s\","
			    "action=\"%s\"} %u\n",
			    catalogue_group_name(metrics.action_group[a]),
			    metrics.action_name[a], (unsigned int)streams[a]);
}

/* The engine, the store, the policy and the bypass, read at scrape. */
static void
metrics_write_state(struct evbuffer *out)
{
	struct runtime_status	 st;
	long long		 left = 0;
	int			 bypass;
	size_t			 k;

	runtime_status(&st);
	metrics_family(out, "dsp_engine_up", "gauge",
	    "Whether the engine's socket accepted a connection at this "
	    "scrape.");
	metrics_sample(out, "dsp_engine_up", metrics_engine_up());
	metrics_family(out, "dsp_engine_errors_total", "counter",
	    "Failures talking to the engine that a client was told of, by "
	    "kind.");
	for (k = 0; k < METRICS_ENGINE_COUNT; k++)
		evbuffer_add_printf(out, "dsp_engine_errors_total"
		    "{kind=\"%s\"} %llu\n", metrics_engine_names[k],
		    (unsigned long long)metrics.engine_errors[k]);

	if (st.has_store) {
		metrics_family(out, "dsp_store_queue_rows", "gauge",
		    "Access rows waiting for the store's writer.");
		metrics_sample(out, "dsp_store_queue_rows", st.store.queued);
		metrics_family(out, "dsp_store_rows_written_total", "counter",
		    "Access rows written to the database.");
		metrics_sample(out, "dsp_store_rows_written_total",
		    st.store.written);
		metrics_family(out, "dsp_store_rows_dropped_total", "counter",
		    "Access rows lost: queue full or write failed.");
		metrics_sample(out, "dsp_store_rows_dropped_total",
		    st.store.dropped);
		metrics_family(out, "dsp_store_degraded", "gauge",
		    "Whether the database cannot be written now.");
		metrics_sample(out, "dsp_store_degraded",
		    st.store.degraded != 0);
	}

	metrics_family(out, "dsp_policy_revision", "gauge",
	    "The policy revision in force.");
	metrics_sample(out, "dsp_policy_revision", st.revision);
	bypass = runtime_bypass_active(NULL, 0, &left);
	metrics_family(out, "dsp_bypass_active", "gauge",
	    "Whether an emergency bypass (dspctl rollback) is in force.");
	metrics_sample(out, "dsp_bypass_active", bypass);
	metrics_family(out, "dsp_bypass_remaining_seconds", "gauge",
	    "Seconds until the bypass in force ends; 0 when none.");
	metrics_sample(out, "dsp_bypass_remaining_seconds",
	    bypass && left > 0 ? (uint64_t)left : 0);
}

/* The whole exposition, in the Prometheus text format 0.0.4. */
static void
metrics_write(struct evbuffer *out)
{
	metrics_family(out, "dsp_build_info", "gauge",
	    "dspd's version, as a label; always 1.");
	evbuffer_add_printf(out, "dsp_build_info{version=\"%s\"} 1\n",
	    DSPD_VERSION);
	metrics_family(out, "dsp_start_time_seconds", "gauge",
	    "When dspd started, in seconds since the epoch.");
	metrics_sample(out, "dsp_start_time_seconds",
	    (uint64_t)metrics.started);
	metrics_write_requests(out);
	metrics_write_traffic(out);
	metrics_write_open(out);
	metrics_write_state(out);
}

/*
 * A short plain-text reply; evhttp's own error pages are HTML and drop
 * the headers set before them (Allow).
 */
static void
metrics_reply(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*out;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(out, "%s\n", text);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

/* Answer GET /metrics, and / with a pointer to it; nothing else. */
static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evbuffer		*out;
	const char		*path;

	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (!(evhttp_request_get_command(req) & METRICS_METHODS)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		metrics_reply(req, 405, "Method Not Allowed",
		    "only GET and HEAD");
		return;
	}
	if (path != NULL && strcmp(path, "/") == 0) {
		metrics_reply(req, HTTP_OK, "OK", "dspd " DSPD_VERSION
		    ": metrics at /metrics");
		return;
	}
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		metrics_reply(req, HTTP_NOTFOUND, "Not Found",
		    "not found; metrics at /metrics");
		return;
	}
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	metrics_write(out);
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

/* Bind tcp://HOST:PORT ([v6]:PORT); the bound address is logged. */
static int
metrics_bind_tcp(const char *spec, char *err, size_t len)
{
	struct evhttp_bound_socket	*bound;
	struct sockaddr_storage		 ss;
	socklen_t			 sslen = sizeof(ss);
	char				 host[256], addr[INET6_ADDRSTRLEN];
	const char			*colon, *h = spec;
	char				*end;
	unsigned long			 port;
	size_t				 hlen;

	if (*h == '[') {
		if ((colon = strstr(h, "]:")) == NULL)
			goto bad;
		h++;
		hlen = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(h, ':')) == NULL)
			goto bad;
		hlen = (size_t)(colon - h);
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (hlen == 0 || hlen >= sizeof(host) || colon[1] == '\0' ||
	    *end != '\0' || errno != 0 || port > 65535)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	bound = evhttp_bind_socket_with_handle(metrics.http, host,
	    (uint16_t)port);
	if (bound == NULL) {
		snprintf(err, len, "metrics tcp://%s: cannot listen: %s", spec,
		    strerror(errno));
		return (-1);
	}
	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &sslen) == -1) {
		snprintf(err, len, "metrics tcp://%s: %s", spec,
		    strerror(errno));
		return (-1);
	}
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    addr, sizeof(addr));
		log_info("metrics on tcp://[%s]:%u/metrics", addr,
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    addr, sizeof(addr));
		log_info("metrics on tcp://%s:%u/metrics", addr,
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	return (0);

bad:
	snprintf(err, len, "metrics tcp://%s: not HOST:PORT", spec);
	return (-1);
}

/*
 * Bind unix:///PATH.  A socket file left by a dspd that died is removed;
 * one that a live process answers on is not.
 */
static int
metrics_bind_unix(const char *path, char *err, size_t len)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	if (path[0] != '/' || listener_unix_addr(path, &sun) != 0) {
		snprintf(err, len, "metrics unix://%s: not an absolute path "
		    "of at most %zu bytes", path, sizeof(sun.sun_path) - 1);
		return (-1);
	}
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			goto syserr;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			errno = EADDRINUSE;
			goto syserr;
		}
		close(fd);
		unlink(path);
	}
	if ((fd = listener_bind_unix(path, METRICS_UNIX_MODE, (gid_t)-1,
	    METRICS_BACKLOG)) == -1)
		goto syserr;
	evutil_make_socket_nonblocking(fd);
	if (evhttp_accept_socket_with_handle(metrics.http, fd) == NULL) {
		close(fd);
		unlink(path);
		goto syserr;
	}
	if ((metrics.unix_path = strdup(path)) == NULL) {
		unlink(path);
		snprintf(err, len, "out of memory");
		return (-1);
	}
	log_info("metrics on unix://%s", path);
	return (0);

syserr:
	snprintf(err, len, "metrics unix://%s: %s", path, strerror(errno));
	return (-1);
}

/*
 * Set the counters up, and serve them when --metrics names an address;
 * without one nothing listens and nothing is counted.
 */
int
metrics_open(struct event_base *base, const struct config *cf, char *err,
    size_t len)
{
	const char	*addr = cf->metrics;
	int		 rc;

	memset(&metrics, 0, sizeof(metrics));
	metrics.started = time(NULL);
	if (addr == NULL)
		return (0);
	if (metrics_map_actions(err, len) != 0)
		return (-1);
	if ((metrics.http = evhttp_new(base)) == NULL) {
		snprintf(err, len, "out of memory");
		return (-1);
	}
	/* Any method reaches the callback, which answers 405 itself. */
	evhttp_set_allowed_methods(metrics.http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(metrics.http, METRICS_TIMEOUT_SEC);
	evhttp_set_max_headers_size(metrics.http, METRICS_HEAD_MAX);
	evhttp_set_max_body_size(metrics.http, METRICS_BODY_MAX);
	evhttp_set_gencb(metrics.http, metrics_request_cb, NULL);
	if (strncmp(addr, "tcp://", 6) == 0)
		rc = metrics_bind_tcp(addr + 6, err, len);
	else if (strncmp(addr, "unix://", 7) == 0)
		rc = metrics_bind_unix(addr + 7, err, len);
	else {
		snprintf(err, len, "metrics %s: use tcp://HOST:PORT or "
		    "unix:///PATH", addr);
		rc = -1;
	}
	if (rc != 0) {
		metrics_close();
		return (-1);
	}
	metrics.on = 1;
	return (0);
}

/* Stop serving; scrapes in flight are cut. */
void
metrics_close(void)
{
	if (metrics.http != NULL)
		evhttp_free(metrics.http);
	metrics.http = NULL;
	if (metrics.unix_path != NULL) {
		unlink(metrics.unix_path);
		free(metrics.unix_path);
		metrics.unix_path = NULL;
	}
	metrics.on = 0;
}
