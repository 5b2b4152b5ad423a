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
	const char		*pattern;	/* {id}: 1 segment, {p*}: any */
	const char		*action;	/* "containers.inspect" */
	enum endpoint_group	 group;
	enum action_kind	 kind;
	unsigned int		 flags;
	const char		*since;		/* API version added, or NULL */
};

const struct endpoint	*catalogue_match(const char *, const char *, int *);
const struct endpoint	*catalogue_match_in(const struct endpoint *, size_t,
			     const char *, const char *, int *);
enum effect		 catalogue_effect(const struct endpoint *);
const char		*catalogue_group_name(enum endpoint_group);
const char		*catalogue_group_variable(enum endpoint_group);
enum endpoint_group	 catalogue_group_from_name(const char *);
const char		*catalogue_kind_name(enum action_kind);
int			 catalogue_kind_from_name(const char *);
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
char		*policy_to_json(const struct policy *);
int		 policy_from_json(const char *, int64_t, struct policy *,
		     char *, size_t);
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
 * guard.c: the create guard, which reads the bodies of create-class
 * requests and refuses those that would hand the client the host.
 */

#define GUARD_FIELD_SIZE	128
#define GUARD_MESSAGE_SIZE	768

/* The guard's relaxations; all off (everything refused) by default. */
struct guard_config {
	int		  allow_privileged;
	int		  allow_host_namespaces;
	int		  allow_devices;
	int		  allow_unconfined;
	int		  allow_sysctls;
	int		  allow_all_caps;
	uint64_t	  allow_caps;	/* bit n: capability number n */
	char		**allow_bind;	/* canonical; none: protected list */
	size_t		  nallow_bind;
};

enum guard_verdict {
	GUARD_PASS,
	GUARD_REFUSE,		/* 403 */
	GUARD_MALFORMED,	/* 400 */
	GUARD_LOOKUP		/* inspect lookups[], then check each */
};

/*
 * field names what was refused ("HostConfig.Binds[0]"); message is the
 * whole text for the client, "dsp: ...".
 */
struct guard_result {
	enum guard_verdict	 verdict;
	char			 field[GUARD_FIELD_SIZE];
	char			 message[GUARD_MESSAGE_SIZE];
	char			**lookups;	/* VolumesFrom names */
	size_t			 nlookups;
};

enum guard_arg {
	GUARD_ARG_BOOL,		/* a switch; its twin takes a boolean */
	GUARD_ARG_LIST		/* repeatable; twin comma-separated */
};

struct guard_option_spec {
	const char	*name;		/* long flag without "--" */
	const char	*env;		/* environment twin */
	enum guard_arg	 arg;
	const char	*metavar;	/* "PATH", "CAP", or NULL */
	const char	*default_text;
	const char	*help;		/* one line for --help */
	const char	*risk;		/* what allowing it hands a client */
};

void		 guard_config_init(struct guard_config *);
void		 guard_config_free(struct guard_config *);
int		 guard_check(const struct guard_config *,
		     const struct endpoint *, const char *, size_t,
		     struct guard_result *);
int		 guard_check_inherited(const struct guard_config *,
		     const char *, size_t, struct guard_result *);
void		 guard_result_clear(struct guard_result *);
int		 guard_option(struct guard_config *, const char *,
		     const char *, char *, size_t);
const struct guard_option_spec *guard_options(size_t *);
int		 guard_canon_path(const char *, char *, size_t);
char		*guard_config_to_json(const struct guard_config *);
int		 guard_config_from_json(struct guard_config *, const char *,
		     char *, size_t);

/*
 * judge.c: the verdict on one request, shared by the listener and the
 * control socket's dry run.
 */

/* Bytes of the reply dsp writes itself when it refuses a request. */
#define JUDGE_MESSAGE_SIZE	1024

/* What the judge runs on a request, and whether it is a bypass now. */
struct judge_context {
	const struct policy		*policy;
	const struct guard_config	*guard;
	const struct head_limits	*limits;
	size_t				 body_max;	/* bytes */
	int				(*bypass)(const struct endpoint *);
};

/* The step that settled the verdict. */
enum judge_stage {
	JUDGE_STAGE_HEAD,	/* raw scan and llhttp: 400, 414, 431 */
	JUDGE_STAGE_TARGET,	/* canonical form: 400 */
	JUDGE_STAGE_POLICY,	/* catalogue and policy: 403 */
	JUDGE_STAGE_GUARD	/* the create guard: 400, 403, 413 */
};

struct judgement {
	int			 status;	/* 0: forward; else its reply */
	enum verdict		 verdict;	/* bypass: let through anyway */
	enum verdict		 policy_verdict;
	const struct endpoint	*endpoint;	/* NULL: unknown to dsp */
	enum judge_stage	 stage;
	int			 lookup;	/* guard waits on inspects */
	char			 message[JUDGE_MESSAGE_SIZE]; /* if status */
};

/* A dry run's request as the listener would have read it. */
struct judge_dry {
	struct judgement	 j;
	char			 method[32];	/* as llhttp names it */
	char			*target;
	struct target		 canon;
	struct guard_result	 guard;
};

void		 judge_target(const struct judge_context *, const char *,
		     const char *, struct target *, struct judgement *);
int		 judge_body(const struct judge_context *,
		     const struct endpoint *, const char *, size_t,
		     struct guard_result *, struct judgement *);
int		 judge_dry_run(const struct judge_context *, const char *,
		     const char *, const char *, size_t, struct judge_dry *);
void		 judge_dry_clear(struct judge_dry *);
const char	*judge_stage_name(enum judge_stage);

/*
 * protocol.c: one line of the control protocol decoded and checked into a
 * request, or refused with an error code and a message.
 */

#include "../ctl/dsp_proto.h"

enum protocol_type {
	PROTOCOL_PING,
	PROTOCOL_STATUS,
	PROTOCOL_GROUPS,
	PROTOCOL_SET,
	PROTOCOL_HISTORY,
	PROTOCOL_DIFF,
	PROTOCOL_REVERT,
	PROTOCOL_ROLLBACK,
	PROTOCOL_RESTORE,
	PROTOCOL_DENIALS,
	PROTOCOL_SUBSCRIBE,
	PROTOCOL_CHECK,
	PROTOCOL_TYPE_COUNT
};

/* Room for an id as compact JSON: a quoted string id, or a number. */
#define PROTOCOL_ID_SIZE	(DSP_ID_MAX + 3)
/* A member of a set request that leaves its group or action alone. */
#define PROTOCOL_UNCHANGED	(-1)

struct protocol_request {
	enum protocol_type	 type;
	char			 id[PROTOCOL_ID_SIZE];	/* echoed as is */
	int			 access[GROUP_COUNT];	/* or UNCHANGED */
	int			 override[KIND_COUNT];	/* or UNCHANGED */
	long long		 seconds;	/* "for"; 0: no expiry */
	char			 reason[DSP_REASON_MAX + 1];	/* "": none */
	char			 source[16];	/* dspctl, dsptui, control */
	char			 scope[32];	/* "all" or "group:NAME" */
	uint64_t		 revision;	/* revert; diff from */
	uint64_t		 revision_to;	/* diff to; 0: the latest */
	uint64_t		 before;	/* history: older; 0: all */
	size_t			 limit;
	int64_t			 since;		/* unix seconds; 0: no bound */
	int64_t			 until;
	char			 client[DSP_FILTER_MAX + 1];	/* "": any */
	char			 group[32];	/* "": any */
	int			 bypass;	/* denials admitted by bypass */
	int			 denied;	/* subscribe: refusals only */
	int			 lossy;
	char			 method[DSP_CHECK_METHOD_MAX + 1]; /* check */
	int			 has_body;	/* check */
};

struct protocol_error {
	const char		*code;		/* DSP_ERR_* */
	char			 id[PROTOCOL_ID_SIZE];	/* "null" if unread */
	char			 message[256];
};

int		 protocol_decode(const char *, size_t,
		     struct protocol_request *, struct protocol_error *);
const char	*protocol_type_name(enum protocol_type);
int		 protocol_type_changes(enum protocol_type);

/*
 * The daemon.  Everything below needs libevent and is not linked into
 * the unit tests.
 */
#ifdef DSPD_DAEMON

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

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
/* Bytes of the engine's inspect that the create guard reads, at most. */
#define LOOKUP_BODY_MAX		(4 * 1024 * 1024)
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

/* Who besides root may use a control socket, by the peer's credentials. */
struct control_allow {
	uid_t			*uid;
	size_t			 nuid;
	gid_t			*gid;	/* primary or supplementary */
	size_t			 ngid;
};

struct config {
	char			**listen;
	size_t			 nlisten;
	int			 listen_default; /* no --listen, DSP_LISTEN */
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
	struct guard_config	 guard;
	char			*db_path;	/* NULL: no database */
	int			 access_log;
	long long		 log_keep_days;
	long long		 log_keep_rows;
	int			 policy_source_env;
	char			*control_path;	/* NULL: none */
	char			*control_ro_path;
	struct control_allow	 control_allow;		/* both sockets */
	struct control_allow	 control_ro_allow;	/* --control-ro's */
	long long		 max_bypass_sec;
	int			 run_as;	/* --user given */
	uid_t			 run_uid;
	gid_t			 run_gid;	/* the user's own group */
	int			 run_group_set;	/* --group given */
	gid_t			 run_group;
	char			*metrics;	/* ADDR; NULL: not served */
	long long		 max_clients;
	int			 disable_ipv6;
	struct policy		 policy;
};

int		 config_load(struct config *, int, char **);
void		 config_free(struct config *);
int		 config_cidr_parse(const char *, struct cidr *);
int		 config_cidr_match(const struct cidr *,
		     const struct sockaddr *);

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

int		 listener_take_passed(char *, size_t);
int		 listener_open_all(struct event_base *, const struct config *);
int		 listener_write_ready(const char *);
const char	*listener_name(size_t);
int		 listener_bind_unix(const char *, mode_t, gid_t, int);
int		 listener_unix_addr(const char *, struct sockaddr_un *);
void		 listener_pause_all(void);
void		 listener_close_all(void);

/* session.c: one client connection and the exchange in flight on it. */

enum close_reason {
	CLOSE_COMPLETE,
	CLOSE_CLIENT,
	CLOSE_ENGINE,
	CLOSE_DRAIN,
	CLOSE_ERROR,
	CLOSE_TIMEOUT,
	CLOSE_BYPASS_ENDED
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
	char			 guard_field[GUARD_FIELD_SIZE]; /* refused */
};

enum session_state {
	SESSION_HEAD,		/* waiting for or reading a request head */
	SESSION_CONNECT,	/* head checked, connecting to the engine */
	SESSION_HOLD,		/* reading a body to check before sending */
	SESSION_LOOKUP,		/* asking the engine what a body refers to */
	SESSION_RELAY,		/* request body and response in flight */
	SESSION_SPLICE,		/* 101 seen: two-way byte relay */
	SESSION_LINGER,		/* refused with a body: discarding input */
	SESSION_CLOSING		/* writing what is left, then free */
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	uint64_t		 id;
	char			 client[96];	/* address:port, or unix peer */
	char			 client_key[64];	/* address or uid */
	char			 listener_name[128];
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
	struct guard_result	 guard;		/* the create guard's verdict */
	size_t			 lookup_next;	/* of guard.lookups */
	struct evbuffer		*lookup_body;	/* the answer being read */
	int			 body_over;	/* held body over --body-max */
	int			 in_exchange;
	int			 turned_away;	/* over cap or not admitted */
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
	size_t			 npeak;		/* most sessions since a trim */
	struct event		*trim_timer;	/* gives freed memory back */
	uint64_t		 next_id;
	int			 draining;
	struct event		*drain_timer;
};

extern struct daemon	 dspd;

void		 session_accept(struct listener *, evutil_socket_t,
		     struct sockaddr *, int);
void		 session_drain_all(void);
void		 session_close_bypassed(void);
const char	*session_close_reason_name(enum close_reason);
void		 session_close_all(void);
void		 session_judge_context(struct judge_context *);

/* runtime.c: the policy in force, the store, bypass, access records. */

#include "store.h"

struct runtime_status {
	long long		 uptime;	/* seconds */
	uint64_t		 requests;
	uint64_t		 denials;
	uint64_t		 denials_recent;	/* in the last minute */
	unsigned int		 revision;
	int			 has_store;
	struct store_stats	 store;
	char			 bypass_scope[64];	/* "" when none */
	long long		 bypass_left;		/* seconds */
};

typedef void	(*runtime_change_cb)(uint64_t, const char *, void *);

int		 runtime_open(struct event_base *, struct config *, char *,
		     size_t);
void		 runtime_close(void);
const struct policy *runtime_policy(void);
char		*runtime_policy_json(void);
struct store	*runtime_store(void);
int		 runtime_policy_change(const char *, const struct store_meta *,
		     runtime_change_cb, void *);
int		 runtime_bypass_set(const char *, long long,
		     const struct store_meta *, runtime_change_cb, void *);
int		 runtime_bypass_clear(const struct store_meta *,
		     runtime_change_cb, void *);
int		 runtime_bypass_active(char *, size_t, long long *);
int		 runtime_bypass_covers(const struct endpoint *);
void		 runtime_status(struct runtime_status *);
void		 runtime_exchange_end(const struct session *,
		     const struct exchange *);

/* control.c: the control sockets that dspctl, dsptui and scripts use. */

int		 control_open(struct event_base *, const struct config *,
		     char *, size_t);
void		 control_close(void);
void		 control_publish(const struct store_access_row *);

/* metrics.c: counters for Prometheus, served when --metrics is given. */

enum metrics_engine_error {
	METRICS_ENGINE_CONNECT,		/* socket missing or refusing */
	METRICS_ENGINE_TIMEOUT,		/* not accepted in --connect-timeout */
	METRICS_ENGINE_CLOSED,		/* closed before or while answering */
	METRICS_ENGINE_MALFORMED,	/* a response dspd cannot parse */
	METRICS_ENGINE_COUNT
};

int		 metrics_open(struct event_base *, const struct config *,
		     char *, size_t);
void		 metrics_close(void);
void		 metrics_exchange(const struct exchange *, int64_t);
void		 metrics_engine_error(enum metrics_engine_error);

/* upstream.c: the connection to the engine's socket. */

int		 upstream_connect(struct session *);
void		 upstream_close(struct session *);
void		 session_upstream_connected(struct session *);
void		 session_upstream_readable(struct session *);
void		 session_upstream_drained(struct session *);
void		 session_upstream_closed(struct session *, int);

#endif /* DSPD_DAEMON */

#endif /* DSPD_H */
