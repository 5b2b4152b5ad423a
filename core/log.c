/*
 * Logging to standard error as text or JSON lines, or to syslog, and the
 * rate-limited line that each finished exchange writes.
 */

#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dspd.h"

/* Exchange lines one client may log for one verdict in one window. */
#define EXCHANGE_LINES_PER_WINDOW	10
/* Length of a rate-limit window, in seconds. */
#define EXCHANGE_WINDOW_SEC		1
/* Clients and verdicts tracked at once; a collision evicts. */
#define EXCHANGE_SLOTS			256

struct exchange_slot {
	char		 key[72];
	time_t		 window;
	unsigned int	 lines;
	unsigned long	 suppressed;
};

static enum log_format		 log_format = LOG_FORMAT_TEXT;
static int			 log_syslog;
static enum log_level		 log_level = LOG_LEVEL_INFO;
static struct exchange_slot	 log_slots[EXCHANGE_SLOTS];

static const char *const log_level_names[] = {
	"error", "warn", "info", "debug"
};

void
log_init(enum log_format format, int use_syslog, enum log_level level)
{
	log_format = format;
	log_syslog = use_syslog;
	log_level = level;
	if (use_syslog)
		openlog("dspd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_enabled(enum log_level level)
{
	return (level <= log_level);
}

/* Write one finished line; fields is a JSON object of extra keys or NULL. */
static void
log_emit(enum log_level level, const char *msg, json_t *fields)
{
	static const int	 prio[] = {
		LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG
	};
	struct timeval		 tv;
	struct tm		 tm;
	char			 when[64];
	json_t			*obj;
	char			*line;

	if (log_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));

	if (log_format == LOG_FORMAT_TEXT) {
		fprintf(stderr, "%s dspd[%ld]: %s: %s\n", when, (long)getpid(),
		    log_level_names[level], msg);
		return;
	}
	obj = fields != NULL ? json_incref(fields) : json_object();
	json_object_set_new(obj, "time", json_string(when));
	json_object_set_new(obj, "level", json_string(log_level_names[level]));
	json_object_set_new(obj, "msg", json_string(msg));
	line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (line != NULL) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
}

/* Format and write a line, with strerror of errnum when it is not 0. */
static void
log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char	 msg[2048];
	size_t	 len;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(errnum));
	}
	log_emit(level, msg, NULL);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* FNV-1a, to spread clients over the rate-limit slots. */
static unsigned int
log_hash(const char *s)
{
	unsigned int	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h);
}

/*
 * Decide whether this client and verdict may log one more exchange line
 * now; a new window first reports how many lines the last one held back.
 */
static int
log_exchange_allowed(const char *key)
{
	struct exchange_slot	*slot;
	time_t			 now = time(NULL);
	char			 msg[160];

	slot = &log_slots[log_hash(key) % EXCHANGE_SLOTS];
	if (strcmp(slot->key, key) != 0 ||
	    now - slot->window >= EXCHANGE_WINDOW_SEC) {
		if (slot->suppressed > 0) {
			snprintf(msg, sizeof(msg), "%s: %lu similar lines "
			    "suppressed", slot->key, slot->suppressed);
			log_emit(LOG_LEVEL_INFO, msg, NULL);
			slot->suppressed = 0;
		}
		snprintf(slot->key, sizeof(slot->key), "%s", key);
		slot->window = now;
		slot->lines = 0;
	}
	if (slot->lines >= EXCHANGE_LINES_PER_WINDOW) {
		slot->suppressed++;
		return (0);
	}
	slot->lines++;
	return (1);
}

/*
 * The one info line of a finished exchange, rate-limited per client and
 * verdict; the access log, not this line, is the record of every request.
 */
void
log_exchange(const struct session *s, const struct exchange *ex)
{
	struct timeval	 now, d;
	char		 key[72], msg[1024];
	const char	*group, *action, *verdict;
	long long	 msec;
	size_t		 len;
	json_t		*fields;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	verdict = policy_verdict_name(ex->verdict);
	snprintf(key, sizeof(key), "%s %s", s->client_key, verdict);
	if (!log_exchange_allowed(key))
		return;

	gettimeofday(&now, NULL);
	timersub(&now, &ex->start, &d);
	msec = (long long)d.tv_sec * 1000 + d.tv_usec / 1000;
	group = catalogue_group_name(ex->endpoint != NULL ?
	    ex->endpoint->group : GROUP_UNKNOWN);
	action = ex->endpoint != NULL ? ex->endpoint->action : "unknown";
	snprintf(msg, sizeof(msg), "%s %s %s %s %s %s status=%d in=%llu "
	    "out=%llu ms=%lld close=%s", s->client,
	    ex->method != NULL ? ex->method : "-",
	    ex->target != NULL ? ex->target : "-", group, action, verdict,
	    ex->status, (unsigned long long)ex->bytes_in,
	    (unsigned long long)ex->bytes_out, msec,
	    session_close_reason_name(ex->reason));
	if (ex->guard_field[0] != '\0') {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, " guard=%s",
		    ex->guard_field);
	}
	if (log_format != LOG_FORMAT_JSON || log_syslog) {
		log_emit(LOG_LEVEL_INFO, msg, NULL);
		return;
	}
	fields = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, "
	    "s:I, s:s}", "client", s->client,
	    "method", ex->method != NULL ? ex->method : "-",
	    "target", ex->target != NULL ? ex->target : "", "group", group,
	    "action", action, "verdict", verdict, "status", ex->status,
	    "bytes_in", (json_int_t)ex->bytes_in,
	    "bytes_out", (json_int_t)ex->bytes_out,
	    "duration_ms", (json_int_t)msec,
	    "close", session_close_reason_name(ex->reason));
	if (fields != NULL && ex->guard_field[0] != '\0')
		json_object_set_new(fields, "guard",
		    json_string(ex->guard_field));
	log_emit(LOG_LEVEL_INFO, "exchange", fields);
	json_decref(fields);
}
