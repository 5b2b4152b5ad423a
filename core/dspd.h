/*
 * dspd: the private header of the filtering proxy.  Pure modules
 * (canonical form, catalogue, policy, environment, head scan) come first
 * and build without libevent, so the unit tests and fuzz targets link
 * them alone; the daemon's own structures follow.
 */

#ifndef DSPD_H
#define DSPD_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* canon.c: the request target put in the form dockerd's router sees. */

struct target {
	char	*path;		/* decoded once, version prefix removed */
	char	 version[32];	/* what followed "/v" ("1.41"), or "" */
	char	*query;		/* raw query without the '?', or NULL */
};

int		 canon_target(const char *, size_t, struct target *,
		     const char **);
void		 canon_clear(struct target *);
int		 canon_query_flag(const char *, const char *, int);

/* catalogue.c: (method, canonical path) to endpoint group and action. */

enum endpoint_group {
	GROUP_UNKNOWN = 0,
	GROUP_AUTH,
	GROUP_BUILD,
	GROUP_COMMIT,
	GROUP_CONFIGS,
	GROUP_CONTAINERS,
	GROUP_DISTRIBUTION,
	GROUP_EVENTS,
	GROUP_EXEC,
	GROUP_GRPC,
	GROUP_IMAGES,
	GROUP_INFO,
	GROUP_NETWORKS,
	GROUP_NODES,
	GROUP_PING,
	GROUP_PLUGINS,
	GROUP_SECRETS,
	GROUP_SERVICES,
	GROUP_SESSION,
	GROUP_SWARM,
	GROUP_SYSTEM,
	GROUP_TASKS,
	GROUP_VERSION,
	GROUP_VOLUMES,
	GROUP_COUNT
};

/*
 * Actions that a policy can switch on or off one by one, whatever their
 * group's access says.
 */
enum action_kind {
	KIND_NONE = 0,
	KIND_START,
	KIND_STOP,
	KIND_RESTART,
	KIND_KILL,
	KIND_PAUSE,
	KIND_UNPAUSE,
	KIND_ARCHIVE,
	KIND_EXPORT,
	KIND_ATTACH,
	KIND_EXEC,
	KIND_LOGS,
	KIND_TOP,
	KIND_CHANGES,
	KIND_COUNT
};

enum effect {
	EFFECT_READ,
	EFFECT_WRITE
};

#define ENDPOINT_WRITES		0x01	/* changes the host or a container */
#define ENDPOINT_CREDENTIAL	0x02	/* returns a secret, key or token */
#define ENDPOINT_BODY_GUARD	0x04	/* create-class body, held and read */
#define ENDPOINT_STREAM		0x08	/* may stay open without end */
#define ENDPOINT_UPGRADE	0x10	/* may switch protocols with 101 */

struct endpoint {
	const char		*method;
	const char		*pattern;	/* "{id}" one segment, "{name*}" several */
	const char		*action;	/* "containers.inspect" */
	enum endpoint_group	 group;
	enum action_kind	 kind;
	unsigned int		 flags;
	const char		*since;		/* API version that added it, or NULL */
};

const struct endpoint	*catalogue_match(const char *, const char *, int *);
const struct endpoint	*catalogue_match_in(const struct endpoint *, size_t,
			     const char *, const char *, int *);
enum effect		 catalogue_effect(const struct endpoint *);
const char		*catalogue_group_name(enum endpoint_group);
const char		*catalogue_group_variable(enum endpoint_group);
enum endpoint_group	 catalogue_group_from_name(const char *);
const char		*catalogue_kind_name(enum action_kind);
const struct endpoint	*catalogue_entries(size_t *);

/* policy.c: access per group, overrides per action, and the verdict. */

enum access {
	ACCESS_OFF = 0,
	ACCESS_READ,
	ACCESS_WRITE
};

enum override {
	OVERRIDE_INHERIT = 0,
	OVERRIDE_ALLOW,
	OVERRIDE_DENY
};

enum verdict {
	VERDICT_ALLOW,
	VERDICT_DENY,
	VERDICT_BYPASS
};

struct policy {
	unsigned int	 revision;
	enum access	 access[GROUP_COUNT];
	enum override	 override[KIND_COUNT];
};

void		 policy_init(struct policy *);
enum verdict	 policy_decide(const struct policy *, const struct endpoint *);
size_t		 policy_explain(const struct policy *, const struct endpoint *,
		     const char *, const char *, char *, size_t);
const char	*policy_access_name(enum access);
const char	*policy_verdict_name(enum verdict);
int		 policy_kind_carve_out(enum action_kind);
int		 policy_kind_default_off(enum action_kind);
const char	*policy_kind_variable(enum action_kind);

/* env.c: the HAProxy images' variables and dspd's value parsers. */

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

typedef const char *(*env_lookup_fn)(const char *);

int		 env_bool(const char *, int *);
int		 env_duration(const char *, long long *);
int		 env_size(const char *, long long *);
int		 env_log_level(const char *, enum log_level *);
int		 env_policy(struct policy *, env_lookup_fn, char *, size_t);

/* http.c: the raw request head scan and the replies dspd writes itself. */

struct head_limits {
	size_t		 head_max;	/* bytes, request line to blank line */
	size_t		 headers_max;	/* header lines */
	size_t		 uri_max;	/* bytes of the request target */
};

/* Where a scan of a growing head stopped, so that no byte is read twice. */
struct head_scan {
	size_t		 pos;		/* bytes checked so far */
	size_t		 line_start;	/* offset of the line being checked */
	size_t		 lines;		/* lines ended so far */
};

enum head_result {
	HEAD_INCOMPLETE,
	HEAD_COMPLETE,
	HEAD_BAD,		/* 400 */
	HEAD_TOO_LARGE,		/* 431 */
	HEAD_URI_TOO_LONG	/* 414 */
};

void		 http_scan_init(struct head_scan *);
enum head_result http_scan_head(struct head_scan *, const char *, size_t,
		     const struct head_limits *, size_t *, const char **);
char		*http_json_message(const char *, size_t *);
int		 http_head_value(const char *, size_t, const char *, char *,
		     size_t);
char		*http_head_with_length(const char *, size_t, size_t, size_t *);
const char	*http_reason(int);
size_t		 http_escape(char *, size_t, const char *, size_t);

/*
 * The daemon.  Everything below needs libevent and is not linked into
 * the unit tests.
 */
#ifdef DSPD_DAEMON

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <llhttp.h>

#define DSPD_VERSION		PACKAGE_VERSION

/* Bytes buffered toward one side before reading from the other pauses. */
#define RELAY_HIGH_WATER	(256 * 1024)
/* Bytes of a denied request's body read and thrown away, at most. */
#define LINGER_MAX_BYTES	(256 * 1024 * 1024)
/* Milliseconds a denied request's body is read and thrown away, at most. */
#define LINGER_MAX_MSEC		2000
/* Connections refused with a reply at once; past it they are just closed. */
#define TURNED_AWAY_MAX		64
/* Milliseconds between tries to accept again after running out of fds. */
#define ACCEPT_RETRY_MSEC	500

/* config.c */

struct cidr {
	int			 family;	/* AF_INET or AF_INET6 */
	unsigned char		 addr[16];
	unsigned int		 bits;
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON
};

struct config {
	char			**listen;
	size_t			 nlisten;
	char			*socket_path;
	char			*ready_file;
	struct cidr		*allow_from;
	size_t			 nallow_from;
	uid_t			*allow_uid;
	size_t			 nallow_uid;
	gid_t			*allow_gid;
	size_t			 nallow_gid;
	enum log_format		 log_format;
	int			 use_syslog;
	enum log_level		 log_level;
	struct head_limits	 limits;
	long long		 head_timeout_ms;
	long long		 idle_timeout_ms;
	long long		 connect_timeout_ms;
	long long		 drain_timeout_ms;
	size_t			 body_max;	/* bytes of a held body */
	long long		 max_clients;
	int			 disable_ipv6;
	struct policy		 policy;
};

int		 config_load(struct config *, int, char **);
void		 config_free(struct config *);
int		 config_cidr_parse(const char *, struct cidr *);
int		 config_cidr_match(const struct cidr *, const struct sockaddr *);

/* log.c */

void		 log_init(enum log_format, int, enum log_level);
void		 log_warn(const char *, ...)
		     __attribute__((__format__ (printf, 1, 2)));
void		 log_warnx(const char *, ...)
		     __attribute__((__format__ (printf, 1, 2)));
void		 log_error(const char *, ...)
		     __attribute__((__format__ (printf, 1, 2)));
void		 log_info(const char *, ...)
		     __attribute__((__format__ (printf, 1, 2)));
void		 log_debug(const char *, ...)
		     __attribute__((__format__ (printf, 1, 2)));
void		 fatal(const char *, ...)
		     __attribute__((__format__ (printf, 1, 2), __noreturn__));
void		 fatalx(const char *, ...)
		     __attribute__((__format__ (printf, 1, 2), __noreturn__));
struct exchange;
struct session;
void		 log_exchange(const struct session *, const struct exchange *);
int		 log_enabled(enum log_level);

/* listener.c */

struct listener {
	TAILQ_ENTRY(listener)	 entry;
	struct evconnlistener	*ev;
	int			 family;
	char			*name;		/* bound address, URL form */
	char			*unix_path;	/* removed at exit */
};
TAILQ_HEAD(listeners, listener);

int		 listener_open_all(struct event_base *, const struct config *);
int		 listener_write_ready(const char *);
void		 listener_pause_all(void);
void		 listener_close_all(void);

/* session.c: one client connection and the exchange in flight on it. */

enum close_reason {
	CLOSE_COMPLETE,
	CLOSE_CLIENT,
	CLOSE_ENGINE,
	CLOSE_DRAIN,
	CLOSE_ERROR,
	CLOSE_TIMEOUT
};

/* One request and its response, from first byte to end. */
struct exchange {
	struct timeval		 start;
	char			*method;
	char			*target;	/* as sent, escaped for logs */
	struct target		 canon;
	const struct endpoint	*endpoint;
	enum verdict		 verdict;
	enum verdict		 policy_verdict;
	unsigned int		 revision;
	int			 status;
	uint64_t		 bytes_in;	/* from the client */
	uint64_t		 bytes_out;	/* to the client */
	enum close_reason	 reason;
	int			 stream;	/* no end expected */
	int			 wants_upgrade;
	int			 request_done;
	int			 response_done;
	int			 response_started;
	int			 keep_alive;
	int			 head_method;
};

enum session_state {
	SESSION_HEAD,		/* waiting for or reading a request head */
	SESSION_CONNECT,	/* head checked, connecting to the engine */
	SESSION_HOLD,		/* reading a body to check before sending */
	SESSION_RELAY,		/* request body and response in flight */
	SESSION_SPLICE,		/* 101 seen: two-way byte relay */
	SESSION_LINGER,		/* refused with a body: discarding input */
	SESSION_CLOSING		/* writing what is left, then free */
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	uint64_t		 id;
	char			 client[96];	/* address:port, or unix peer */
	char			 client_key[64]; /* address or uid, for limits */
	struct bufferevent	*client_bev;
	struct bufferevent	*up_bev;
	int			 up_connected;
	enum session_state	 state;
	struct event		*timer;
	llhttp_t		 req_parser;
	llhttp_t		 res_parser;
	char			*head;
	size_t			 head_have;
	size_t			 head_len;	/* of the request in flight */
	struct head_scan	 scan;
	int			 head_started;
	struct exchange		 ex;
	struct evbuffer		*body;		/* held whole, de-chunked */
	int			 body_over;	/* held body passed --body-max */
	int			 in_exchange;
	int			 turned_away;	/* over the cap or not admitted */
	int			 client_eof;
	int			 up_eof;
	int			 up_error;	/* errno of the engine's end */
	int			 client_shut;	/* writes to client shut down */
	int			 up_shut;	/* writes to engine shut down */
	size_t			 linger_discarded;
};
TAILQ_HEAD(sessions, session);

struct daemon {
	struct event_base	*base;
	struct config		*config;
	struct sessions		 sessions;
	size_t			 nsessions;	/* all, turned away too */
	size_t			 nturned;	/* refused, saying why */
	uint64_t		 next_id;
	int			 draining;
	struct event		*drain_timer;
};

extern struct daemon	 dspd;

void		 session_accept(struct listener *, evutil_socket_t,
		     struct sockaddr *, int);
void		 session_drain_all(void);
const char	*session_close_reason_name(enum close_reason);
void		 session_close_all(void);

/* upstream.c: the connection to the engine's socket. */

int		 upstream_connect(struct session *);
void		 upstream_close(struct session *);
void		 session_upstream_connected(struct session *);
void		 session_upstream_readable(struct session *);
void		 session_upstream_drained(struct session *);
void		 session_upstream_closed(struct session *, int);

#endif /* DSPD_DAEMON */

#endif /* DSPD_H */
