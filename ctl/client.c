/*
 * The control socket's client side: connect, check that the peer is a
 * dspd speaking our protocol version, then requests out and replies and
 * events in, one JSON object a line.  Blocking, with timeouts; a program
 * with a loop of its own (dsptui) polls client_fd and reads with 0.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dspclient.h"

/* Bytes read from the socket at a time. */
#define CLIENT_READ_CHUNK	65536
/* Longest duration a flag may give: a hundred years, in seconds. */
#define CLIENT_DURATION_MAX	(100LL * 365 * 24 * 3600)

struct client {
	int		 fd;
	char		*buf;		/* read, not yet taken as lines */
	size_t		 len;
	size_t		 size;
	uint64_t	 next_id;
	int		 read_only;
	char		 version[64];
	json_t		*ahead;		/* messages read while waiting */
	char		 closed_reason[256];	/* from a "closed" event */
};

static int
client_fail(struct client_error *err, enum client_failure failure,
    const char *fmt, ...) __attribute__((__format__ (printf, 3, 4)));

/* Fill err and return -1. */
static int
client_fail(struct client_error *err, enum client_failure failure,
    const char *fmt, ...)
{
	va_list	 ap;

	err->failure = failure;
	err->code[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return (-1);
}

/* Milliseconds on a clock that does not jump. */
static long long
client_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Wait for input until the deadline (-1: none) and add it to the buffer;
 * at the end of input the descriptor is closed.  Returns 1 when there is
 * something new to look at, 0 on timeout, -1 on error.
 */
static int
client_fill(struct client *c, long long deadline, struct client_error *err)
{
	struct pollfd	 pfd;
	char		*p;
	ssize_t		 r;
	long long	 left;
	int		 rc;

	left = deadline < 0 ? -1 : deadline - client_now_ms();
	if (deadline >= 0 && left < 0)
		left = 0;
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, (int)(left > 0x7fffffff ? 0x7fffffff : left));
	if (rc == -1 && errno == EINTR)
		return (client_fail(err, CLIENT_TIMEOUT, "interrupted"));
	if (rc == -1)
		return (client_fail(err, CLIENT_CLOSED, "poll: %s",
		    strerror(errno)));
	if (rc == 0)
		return (0);
	if (c->size - c->len < CLIENT_READ_CHUNK) {
		if ((p = realloc(c->buf, c->size + CLIENT_READ_CHUNK)) == NULL)
			return (client_fail(err, CLIENT_PROTOCOL,
			    "out of memory"));
		c->buf = p;
		c->size += CLIENT_READ_CHUNK;
	}
	r = read(c->fd, c->buf + c->len, c->size - c->len);
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return (1);
	if (r <= 0) {
		/* A "closed" event said more than a reset will. */
		if (r == -1 && c->closed_reason[0] == '\0')
			snprintf(c->closed_reason, sizeof(c->closed_reason),
			    "%s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		return (1);
	}
	c->len += (size_t)r;
	return (1);
}

/*
 * Take the next whole line out of the buffer, reading as needed until
 * the deadline (-1: none).  Returns 1 with the line (NUL ended, owned by
 * the caller), 0 on timeout, -1 on error or end.
 */
static int
client_read_line(struct client *c, long long deadline, char **line,
    size_t *linelen, struct client_error *err)
{
	char	*nl;
	size_t	 n;
	int	 rc;

	for (;;) {
		if (c->len > 0 &&
		    (nl = memchr(c->buf, '\n', c->len)) != NULL) {
			n = (size_t)(nl - c->buf);
			if ((*line = malloc(n + 1)) == NULL)
				return (client_fail(err, CLIENT_PROTOCOL,
				    "out of memory"));
			memcpy(*line, c->buf, n);
			(*line)[n] = '\0';
			*linelen = n;
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return (1);
		}
		if (c->len > CLIENT_REPLY_MAX)
			return (client_fail(err, CLIENT_PROTOCOL, "dspd sent "
			    "a message over %d bytes", CLIENT_REPLY_MAX));
		if (c->fd == -1)
			return (client_fail(err, CLIENT_CLOSED, "dspd closed "
			    "the connection%s%s", c->closed_reason[0] ? ": " :
			    "", c->closed_reason));
		if ((rc = client_fill(c, deadline, err)) != 1)
			return (rc);
	}
}

/* Read one message as an object; 1, 0 on timeout, or -1. */
static int
client_read_message(struct client *c, long long deadline, json_t **msg,
    struct client_error *err)
{
	json_error_t	 jerr;
	json_t		*reason;
	char		*line = NULL;
	size_t		 len = 0;
	int		 rc;

	if ((rc = client_read_line(c, deadline, &line, &len, err)) != 1)
		return (rc);
	*msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	free(line);
	if (*msg == NULL || !json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		return (client_fail(err, CLIENT_PROTOCOL, "dspd sent a line "
		    "that is not a JSON object: %s", jerr.text));
	}
	if ((reason = json_object_get(*msg, "reason")) != NULL &&
	    json_is_string(reason) && json_string_value(json_object_get(*msg,
	    "event")) != NULL && strcmp(json_string_value(json_object_get(
	    *msg, "event")), DSP_EVENT_CLOSED) == 0)
		snprintf(c->closed_reason, sizeof(c->closed_reason), "%s",
		    json_string_value(reason));
	return (1);
}

/* Fill err from an error reply's "error" member. */
static int
client_refused(const json_t *error, struct client_error *err)
{
	const char	*code, *message;

	code = json_string_value(json_object_get(error, "code"));
	message = json_string_value(json_object_get(error, "message"));
	client_fail(err, CLIENT_REFUSED, "%s", message != NULL ? message :
	    "refused");
	snprintf(err->code, sizeof(err->code), "%s", code != NULL ? code :
	    "");
	return (-1);
}

/* Check the greeting: a dspd, our protocol version, or why we are out. */
static int
client_greeting(struct client *c, struct client_error *err)
{
	json_t		*g, *error;
	const char	*name, *version, *access;
	json_int_t	 protocol;
	int		 rc;

	rc = client_read_message(c, client_now_ms() + CLIENT_GREETING_MSEC,
	    &g, err);
	if (rc == 0)
		return (client_fail(err, CLIENT_UNREACHABLE, "no greeting "
		    "from dspd in %d ms", CLIENT_GREETING_MSEC));
	if (rc < 0) {
		if (err->failure == CLIENT_CLOSED)
			err->failure = CLIENT_UNREACHABLE;
		return (-1);
	}
	if ((error = json_object_get(g, "error")) != NULL) {
		client_refused(error, err);
		json_decref(g);
		return (-1);
	}
	name = json_string_value(json_object_get(g, "dsp"));
	version = json_string_value(json_object_get(g, "version"));
	access = json_string_value(json_object_get(g, "access"));
	protocol = json_integer_value(json_object_get(g, "protocol"));
	if (name == NULL || strcmp(name, DSP_GREETING_NAME) != 0) {
		json_decref(g);
		return (client_fail(err, CLIENT_PROTOCOL, "the socket's peer "
		    "is not dspd"));
	}
	if (protocol != DSP_PROTOCOL_VERSION) {
		json_decref(g);
		return (client_fail(err, CLIENT_PROTOCOL, "dspd %s speaks "
		    "control protocol %lld, this client %d: use the dspctl "
		    "of the same release", version != NULL ? version : "?",
		    (long long)protocol, DSP_PROTOCOL_VERSION));
	}
	snprintf(c->version, sizeof(c->version), "%s", version != NULL ?
	    version : "");
	c->read_only = access != NULL && strcmp(access, "write") != 0;
	json_decref(g);
	return (0);
}

/* Take over a connected socket and check its greeting. */
int
client_open_fd(int fd, struct client **out, struct client_error *err)
{
	struct client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return (client_fail(err, CLIENT_PROTOCOL, "out of memory"));
	}
	c->fd = fd;
	if ((c->ahead = json_array()) == NULL ||
	    client_greeting(c, err) != 0) {
		if (c->ahead == NULL)
			client_fail(err, CLIENT_PROTOCOL, "out of memory");
		client_close(c);
		return (-1);
	}
	*out = c;
	return (0);
}

/* Connect to dspd's control socket at path. */
int
client_connect(const char *path, struct client **out,
    struct client_error *err)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (client_fail(err, CLIENT_UNREACHABLE, "%s: path longer "
		    "than %zu bytes", path, sizeof(sun.sun_path) - 1));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (client_fail(err, CLIENT_UNREACHABLE, "socket: %s",
		    strerror(errno)));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		/* The file's mode said no: dspd is there, we may not talk. */
		if (saved == EACCES || saved == EPERM) {
			client_fail(err, CLIENT_REFUSED, "%s: %s", path,
			    strerror(saved));
			snprintf(err->code, sizeof(err->code), "%s",
			    DSP_ERR_DENIED);
			return (-1);
		}
		return (client_fail(err, CLIENT_UNREACHABLE, "%s: %s", path,
		    strerror(saved)));
	}
	return (client_open_fd(fd, out, err));
}

void
client_close(struct client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	json_decref(c->ahead);
	free(c->buf);
	free(c);
}

/* The descriptor to poll for input; -1 once dspd has closed. */
int
client_fd(const struct client *c)
{
	return (c->fd);
}

/* Whether the greeting said this socket refuses changes. */
int
client_read_only(const struct client *c)
{
	return (c->read_only);
}

const char *
client_server_version(const struct client *c)
{
	return (c->version);
}

/*
 * Send a request; args (taken, may be NULL) holds its members.  The id it
 * was given is stored in *id.
 */
int
client_send(struct client *c, const char *request, json_t *args,
    uint64_t *id, struct client_error *err)
{
	char	*text;
	size_t	 len, off;
	ssize_t	 w;

	if (args == NULL && (args = json_object()) == NULL)
		return (client_fail(err, CLIENT_PROTOCOL, "out of memory"));
	if (c->fd == -1) {
		json_decref(args);
		return (client_fail(err, CLIENT_CLOSED, "dspd closed the "
		    "connection%s%s", c->closed_reason[0] ? ": " : "",
		    c->closed_reason));
	}
	*id = ++c->next_id;
	json_object_set_new(args, "id", json_integer((json_int_t)*id));
	json_object_set_new(args, "request", json_string(request));
	text = json_dumps(args, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(args);
	if (text == NULL)
		return (client_fail(err, CLIENT_PROTOCOL, "out of memory"));
	len = strlen(text);
	if (len > DSP_LINE_MAX) {
		free(text);
		return (client_fail(err, CLIENT_PROTOCOL, "request of %zu "
		    "bytes, over the protocol's %d", len, DSP_LINE_MAX));
	}
	text[len++] = '\n';	/* over the NUL: the length is what counts */
	for (off = 0; off < len; off += (size_t)w) {
		w = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w == -1) {
			free(text);
			return (client_fail(err, CLIENT_CLOSED, "sending to "
			    "dspd: %s", strerror(errno)));
		}
	}
	free(text);
	return (0);
}

/*
 * Read the next reply or event, waiting up to timeout_ms (-1: forever,
 * 0: only what has arrived).  Returns 1 with *msg, 0 if nothing came in
 * time, -1 with err.
 */
int
client_read(struct client *c, int timeout_ms, json_t **msg,
    struct client_error *err)
{
	if (json_array_size(c->ahead) > 0) {
		*msg = json_incref(json_array_get(c->ahead, 0));
		json_array_remove(c->ahead, 0);
		return (1);
	}
	return (client_read_message(c, timeout_ms < 0 ? -1 :
	    client_now_ms() + timeout_ms, msg, err));
}

/*
 * Send a request and wait for its reply; events and other replies that
 * come first are kept for client_read.  On success *result holds the
 * reply's "result" (a new reference).
 */
int
client_call(struct client *c, const char *request, json_t *args,
    int timeout_ms, json_t **result, struct client_error *err)
{
	json_t		*msg, *error;
	uint64_t	 id;
	long long	 deadline;
	int		 rc;

	*result = NULL;
	if (client_send(c, request, args, &id, err) != 0)
		return (-1);
	deadline = timeout_ms < 0 ? -1 : client_now_ms() + timeout_ms;
	for (;;) {
		rc = client_read_message(c, deadline, &msg, err);
		if (rc == 0)
			return (client_fail(err, CLIENT_TIMEOUT, "no answer "
			    "from dspd to %s in %d s", request,
			    timeout_ms / 1000));
		if (rc < 0)
			return (-1);
		if (json_integer_value(json_object_get(msg, "id")) !=
		    (json_int_t)id || !json_is_integer(json_object_get(msg,
		    "id"))) {
			/* An event, or an error about no request of ours. */
			json_array_append_new(c->ahead, msg);
			continue;
		}
		if ((error = json_object_get(msg, "error")) != NULL) {
			client_refused(error, err);
			json_decref(msg);
			return (-1);
		}
		*result = json_incref(json_object_get(msg, "result"));
		json_decref(msg);
		if (*result == NULL)
			return (client_fail(err, CLIENT_PROTOCOL, "dspd's "
			    "reply to %s has no result", request));
		return (0);
	}
}

/*
 * A duration as flags take it: "90", "90s", "15m", "2h", "7d", "1w" or a
 * sum such as "1h30m", in seconds.  Returns -1 on anything else.
 */
int
client_parse_duration(const char *s, long long *out)
{
	static const struct {
		char		 unit;
		long long	 scale;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 }
	};
	long long	 total = 0, n, scale;
	size_t		 i;
	int		 parts = 0;

	if (s == NULL || *s == '\0')
		return (-1);
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return (-1);
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (*s - '0');
			if (n > CLIENT_DURATION_MAX)
				return (-1);
		}
		scale = 0;
		if (*s == '\0' && parts == 0)
			scale = 1;	/* a bare number counts seconds */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (*s == units[i].unit)
				scale = units[i].scale;
		if (scale == 0)
			return (-1);
		if (*s != '\0')
			s++;
		if (n > (CLIENT_DURATION_MAX - total) / scale)
			return (-1);
		total += n * scale;
		parts++;
	}
	*out = total;
	return (0);
}

/* A duration for people: its two largest units ("1h 30m", "45s"). */
size_t
client_format_duration(long long sec, char *buf, size_t size)
{
	static const struct {
		const char	*unit;
		long long	 scale;
	} units[] = {
		{ "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 }
	};
	const char	*sign = "";
	long long	 hi, lo;
	size_t		 i;
	int		 n;

	if (sec < 0) {
		sign = "-";
		sec = sec == LLONG_MIN ? LLONG_MAX : -sec;
	}
	for (i = 0; i < 3 && sec < units[i].scale; i++)
		;
	hi = sec / units[i].scale;
	lo = i < 3 ? (sec % units[i].scale) / units[i + 1].scale : 0;
	if (lo != 0)
		n = snprintf(buf, size, "%s%lld%s %lld%s", sign, hi,
		    units[i].unit, lo, units[i + 1].unit);
	else
		n = snprintf(buf, size, "%s%lld%s", sign, hi, units[i].unit);
	return (n < 0 ? 0 : (size_t)n);
}

/* A time for people, in the local zone: "2026-12-03 18:00:05". */
size_t
client_format_time(double t, char *buf, size_t size)
{
	struct tm	 tm;
	time_t		 when = (time_t)t;

	if (size == 0)
		return (0);
	if (localtime_r(&when, &tm) == NULL) {
		buf[0] = '\0';
		return (0);
	}
	return (strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm));
}
