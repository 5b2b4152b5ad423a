/*
 * The control protocol's requests, decoded from one line and checked
 * member by member before dspd acts on any of them.  Nothing here does
 * I/O, so the unit tests and a fuzz target feed it bytes directly.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "dspd.h"

/* Characters of a client's text quoted back in an error message. */
#define PROTOCOL_QUOTE_MAX	32
/* Largest id a JSON number may hold exactly in every client: 2^53 - 1. */
#define PROTOCOL_ID_INT_MAX	9007199254740991LL
/* What a string id may be made of. */
#define PROTOCOL_ID_CHARS	"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-"
/* Members a request takes besides "id" and "request", at most. */
#define PROTOCOL_MEMBERS_MAX	8

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

typedef int	(*protocol_read_fn)(json_t *, struct protocol_request *,
		    struct protocol_error *);

struct protocol_spec {
	const char		*name;
	int			 changes;	/* refused on --control-ro */
	const char		*members[PROTOCOL_MEMBERS_MAX];
	protocol_read_fn	 read;
};

static int	protocol_read_none(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_set(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_history(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_diff(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_revert(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_rollback(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_restore(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_denials(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_subscribe(json_t *, struct protocol_request *,
		    struct protocol_error *);
static int	protocol_read_check(json_t *, struct protocol_request *,
		    struct protocol_error *);

static const struct protocol_spec protocol_specs[PROTOCOL_TYPE_COUNT] = {
	[PROTOCOL_PING] = { DSP_REQ_PING, 0, { NULL }, protocol_read_none },
	[PROTOCOL_STATUS] = { DSP_REQ_STATUS, 0, { NULL },
	    protocol_read_none },
	[PROTOCOL_GROUPS] = { DSP_REQ_GROUPS, 0, { NULL },
	    protocol_read_none },
	[PROTOCOL_SET] = { DSP_REQ_SET, 1,
	    { "access", "overrides", "for", "reason", "source", NULL },
	    protocol_read_set },
	[PROTOCOL_HISTORY] = { DSP_REQ_HISTORY, 0, { "before", "limit", NULL },
	    protocol_read_history },
	[PROTOCOL_DIFF] = { DSP_REQ_DIFF, 0, { "from", "to", NULL },
	    protocol_read_diff },
	[PROTOCOL_REVERT] = { DSP_REQ_REVERT, 1,
	    { "revision", "reason", "source", NULL }, protocol_read_revert },
	[PROTOCOL_ROLLBACK] = { DSP_REQ_ROLLBACK, 1,
	    { "for", "scope", "reason", "source", NULL },
	    protocol_read_rollback },
	[PROTOCOL_RESTORE] = { DSP_REQ_RESTORE, 1, { "reason", "source", NULL },
	    protocol_read_restore },
	[PROTOCOL_DENIALS] = { DSP_REQ_DENIALS, 0,
	    { "since", "until", "client", "group", "limit", "bypass", NULL },
	    protocol_read_denials },
	[PROTOCOL_SUBSCRIBE] = { DSP_REQ_SUBSCRIBE, 0,
	    { "mode", "denied", "client", "group", NULL },
	    protocol_read_subscribe },
	[PROTOCOL_CHECK] = { DSP_REQ_CHECK, 0,
	    { "method", "target", "body", NULL }, protocol_read_check },
};

/* Who may name themselves as the source of a change. */
static const char *const protocol_sources[] = { "dspctl", "dsptui", "control" };

const char *
protocol_type_name(enum protocol_type type)
{
	if ((int)type < 0 || type >= PROTOCOL_TYPE_COUNT)
		return ("unknown");
	return (protocol_specs[type].name);
}

/* Whether a request changes the policy or the bypass. */
int
protocol_type_changes(enum protocol_type type)
{
	if ((int)type < 0 || type >= PROTOCOL_TYPE_COUNT)
		return (1);
	return (protocol_specs[type].changes);
}

/* Copy a client's text for a message: printable ASCII, cut short. */
static const char *
protocol_quote(const char *s, char *out, size_t size)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 4 < size && i < PROTOCOL_QUOTE_MAX;
	    i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] != '\0' && i + 4 <= size) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return (out);
}

static int
protocol_fail(struct protocol_error *err, const char *code, const char *fmt,
    ...) __attribute__((__format__ (printf, 3, 4)));

/* Fill the error and return -1, so that readers can `return fail(...)`. */
static int
protocol_fail(struct protocol_error *err, const char *code, const char *fmt,
    ...)
{
	va_list	 ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * The id, echoed in the reply, so kept to what any client can compare:
 * an integer a double holds exactly, or a short plain string.
 */
static int
protocol_read_id(json_t *v, char *out, size_t size)
{
	const char	*s;
	json_int_t	 n;
	size_t		 len;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
		if (n < 0 || n > PROTOCOL_ID_INT_MAX)
			return (-1);
		snprintf(out, size, "%lld", (long long)n);
		return (0);
	}
	if (!json_is_string(v))
		return (-1);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len > DSP_ID_MAX || len + 3 > size)
		return (-1);
	if (strspn(s, PROTOCOL_ID_CHARS) != len)
		return (-1);
	snprintf(out, size, "\"%s\"", s);
	return (0);
}

/* An optional integer member within [min, max]; 0 if absent, 1 if read. */
static int
protocol_get_int(json_t *root, const char *name, long long min,
    long long max, long long *out, struct protocol_error *err)
{
	json_t	*v;

	if ((v = json_object_get(root, name)) == NULL)
		return (0);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"%s\" must be "
		    "an integer from %lld to %lld", name, min, max));
	*out = (long long)json_integer_value(v);
	return (1);
}

/* An optional boolean member; 0 if absent, 1 if read. */
static int
protocol_get_bool(json_t *root, const char *name, int *out,
    struct protocol_error *err)
{
	json_t	*v;

	if ((v = json_object_get(root, name)) == NULL)
		return (0);
	if (!json_is_boolean(v))
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"%s\" must be "
		    "true or false", name));
	*out = json_is_true(v);
	return (1);
}

/*
 * An optional string member of at most size - 1 bytes.  Control bytes
 * are refused: these strings end up in tables on terminals and in logs.
 */
static int
protocol_get_string(json_t *root, const char *name, char *out, size_t size,
    struct protocol_error *err)
{
	json_t		*v;
	const char	*s;
	size_t		 i, len;

	if ((v = json_object_get(root, name)) == NULL)
		return (0);
	if (!json_is_string(v))
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"%s\" must be "
		    "a string", name));
	s = json_string_value(v);
	len = json_string_length(v);
	if (len >= size)
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"%s\" is longer "
		    "than %zu bytes", name, size - 1));
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"%s\" "
			    "holds a control character", name));
	memcpy(out, s, len + 1);
	return (1);
}

/* A group name as rows carry it: a catalogue group, or "unknown". */
static int
protocol_group(const char *name, enum endpoint_group *out)
{
	enum endpoint_group	 g;

	if (strcmp(name, "unknown") == 0) {
		*out = GROUP_UNKNOWN;
		return (0);
	}
	if ((g = catalogue_group_from_name(name)) == GROUP_UNKNOWN)
		return (-1);
	*out = g;
	return (0);
}

/* An optional group filter, stored under its canonical name. */
static int
protocol_get_group(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	enum endpoint_group	 g;
	char			 q[PROTOCOL_QUOTE_MAX + 4];
	int			 rc;

	if ((rc = protocol_get_string(root, "group", req->group,
	    sizeof(req->group), err)) <= 0)
		return (rc);
	if (protocol_group(req->group, &g) != 0)
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "no group named "
		    "'%s'", protocol_quote(req->group, q, sizeof(q))));
	snprintf(req->group, sizeof(req->group), "%s",
	    catalogue_group_name(g));
	return (1);
}

/* "reason" and "source", which every change may carry. */
static int
protocol_get_meta(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	char	 q[PROTOCOL_QUOTE_MAX + 4];
	size_t	 i;
	int	 rc;

	if (protocol_get_string(root, "reason", req->reason,
	    sizeof(req->reason), err) < 0)
		return (-1);
	if ((rc = protocol_get_string(root, "source", req->source,
	    sizeof(req->source), err)) < 0)
		return (-1);
	if (rc == 0)
		return (0);
	for (i = 0; i < nitems(protocol_sources); i++)
		if (strcmp(req->source, protocol_sources[i]) == 0)
			return (0);
	return (protocol_fail(err, DSP_ERR_ARGUMENT, "source '%s' is not "
	    "dspctl, dsptui or control",
	    protocol_quote(req->source, q, sizeof(q))));
}

static int
protocol_read_none(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	return (0);
}

/* "access": {"containers": "read", ...}; each group named once. */
static int
protocol_read_access(json_t *obj, struct protocol_request *req,
    struct protocol_error *err)
{
	static const char *const names[] = {
		[ACCESS_OFF] = "off", [ACCESS_READ] = "read",
		[ACCESS_WRITE] = "write"
	};
	enum endpoint_group	 g;
	const char		*key, *val;
	char			 q[PROTOCOL_QUOTE_MAX + 4];
	json_t			*v;
	int			 a;

	if (!json_is_object(obj))
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"access\" must "
		    "be an object of group: off, read or write"));
	json_object_foreach(obj, key, v) {
		if (protocol_group(key, &g) != 0 || g == GROUP_UNKNOWN)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "no group "
			    "named '%s'", protocol_quote(key, q, sizeof(q))));
		if (req->access[g] != PROTOCOL_UNCHANGED)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "group "
			    "%s named twice", catalogue_group_name(g)));
		val = json_string_value(v);
		for (a = ACCESS_OFF; val != NULL && a <= ACCESS_WRITE; a++)
			if (strcmp(val, names[a]) == 0)
				break;
		if (val == NULL || a > ACCESS_WRITE)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "access "
			    "of %s must be off, read or write",
			    catalogue_group_name(g)));
		req->access[g] = a;
	}
	return (0);
}

/* "overrides": {"start": "allow", "logs": "inherit", ...}. */
static int
protocol_read_overrides(json_t *obj, struct protocol_request *req,
    struct protocol_error *err)
{
	static const char *const names[] = {
		[OVERRIDE_INHERIT] = "inherit", [OVERRIDE_ALLOW] = "allow",
		[OVERRIDE_DENY] = "deny"
	};
	const char	*key, *val;
	char		 q[PROTOCOL_QUOTE_MAX + 4];
	json_t		*v;
	int		 k, o;

	if (!json_is_object(obj))
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"overrides\" "
		    "must be an object of action: allow, deny or inherit"));
	json_object_foreach(obj, key, v) {
		if ((k = catalogue_kind_from_name(key)) < 0)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "no "
			    "action named '%s'",
			    protocol_quote(key, q, sizeof(q))));
		val = json_string_value(v);
		for (o = OVERRIDE_INHERIT; val != NULL && o <= OVERRIDE_DENY;
		    o++)
			if (strcmp(val, names[o]) == 0)
				break;
		if (val == NULL || o > OVERRIDE_DENY)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "override "
			    "of %s must be allow, deny or inherit", key));
		req->override[k] = o;
	}
	return (0);
}

/* set: at least one group or action, an optional expiry and reason. */
static int
protocol_read_set(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	json_t	*access, *overrides;
	int	 i, any = 0;

	access = json_object_get(root, "access");
	overrides = json_object_get(root, "overrides");
	if (access != NULL && protocol_read_access(access, req, err) != 0)
		return (-1);
	if (overrides != NULL &&
	    protocol_read_overrides(overrides, req, err) != 0)
		return (-1);
	for (i = 0; i < GROUP_COUNT; i++)
		any |= req->access[i] != PROTOCOL_UNCHANGED;
	for (i = 0; i < KIND_COUNT; i++)
		any |= req->override[i] != PROTOCOL_UNCHANGED;
	if (!any)
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "set changes "
		    "nothing: give \"access\" or \"overrides\""));
	if (protocol_get_int(root, "for", 1, DSP_FOR_MAX, &req->seconds,
	    err) < 0)
		return (-1);
	/* A grant replaces for a while; "inherit" has nothing to replace. */
	for (i = 0; req->seconds != 0 && i < KIND_COUNT; i++)
		if (req->override[i] == OVERRIDE_INHERIT)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "an "
			    "override with \"for\" is allow or deny, not "
			    "inherit"));
	return (protocol_get_meta(root, req, err));
}

/* history: "before" a revision, and how many. */
static int
protocol_read_history(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	long long	 n = 0;

	if (protocol_get_int(root, "before", 0, PROTOCOL_ID_INT_MAX, &n,
	    err) < 0)
		return (-1);
	req->before = (uint64_t)n;
	n = DSP_HISTORY_DEFAULT;
	if (protocol_get_int(root, "limit", 1, DSP_HISTORY_MAX, &n, err) < 0)
		return (-1);
	req->limit = (size_t)n;
	return (0);
}

/* diff: "from" a revision "to" another, or to the latest. */
static int
protocol_read_diff(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	long long	 n = 0;
	int		 rc;

	if ((rc = protocol_get_int(root, "from", 1, PROTOCOL_ID_INT_MAX, &n,
	    err)) <= 0)
		return (rc < 0 ? -1 : protocol_fail(err, DSP_ERR_ARGUMENT,
		    "diff needs \"from\", a revision"));
	req->revision = (uint64_t)n;
	n = 0;
	if (protocol_get_int(root, "to", 0, PROTOCOL_ID_INT_MAX, &n, err) < 0)
		return (-1);
	req->revision_to = (uint64_t)n;
	return (0);
}

/* revert: the revision whose state comes back. */
static int
protocol_read_revert(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	long long	 n = 0;
	int		 rc;

	if ((rc = protocol_get_int(root, "revision", 1, PROTOCOL_ID_INT_MAX,
	    &n, err)) <= 0)
		return (rc < 0 ? -1 : protocol_fail(err, DSP_ERR_ARGUMENT,
		    "revert needs \"revision\""));
	req->revision = (uint64_t)n;
	return (protocol_get_meta(root, req, err));
}

/* rollback: "for" seconds, "scope" all or group:NAME. */
static int
protocol_read_rollback(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	enum endpoint_group	 g;
	char			 q[PROTOCOL_QUOTE_MAX + 4];

	req->seconds = DSP_BYPASS_DEFAULT;
	if (protocol_get_int(root, "for", 1, DSP_FOR_MAX, &req->seconds,
	    err) < 0)
		return (-1);
	snprintf(req->scope, sizeof(req->scope), "all");
	if (protocol_get_string(root, "scope", req->scope, sizeof(req->scope),
	    err) < 0)
		return (-1);
	if (strcmp(req->scope, "all") != 0) {
		if (strncmp(req->scope, "group:", 6) != 0 ||
		    protocol_group(req->scope + 6, &g) != 0 ||
		    g == GROUP_UNKNOWN)
			return (protocol_fail(err, DSP_ERR_ARGUMENT, "scope "
			    "'%s' is not all or group:NAME",
			    protocol_quote(req->scope, q, sizeof(q))));
		snprintf(req->scope, sizeof(req->scope), "group:%s",
		    catalogue_group_name(g));
	}
	return (protocol_get_meta(root, req, err));
}

static int
protocol_read_restore(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	return (protocol_get_meta(root, req, err));
}

/* denials: a time window, filters, a row limit, bypass rows or not. */
static int
protocol_read_denials(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	long long	 n;

	n = 0;
	if (protocol_get_int(root, "since", 0, PROTOCOL_ID_INT_MAX, &n,
	    err) < 0)
		return (-1);
	req->since = n;
	n = 0;
	if (protocol_get_int(root, "until", 0, PROTOCOL_ID_INT_MAX, &n,
	    err) < 0)
		return (-1);
	req->until = n;
	if (req->until != 0 && req->until < req->since)
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"until\" is "
		    "before \"since\""));
	n = DSP_DENIALS_DEFAULT;
	if (protocol_get_int(root, "limit", 1, DSP_DENIALS_MAX, &n, err) < 0)
		return (-1);
	req->limit = (size_t)n;
	if (protocol_get_string(root, "client", req->client,
	    sizeof(req->client), err) < 0 ||
	    protocol_get_group(root, req, err) < 0 ||
	    protocol_get_bool(root, "bypass", &req->bypass, err) < 0)
		return (-1);
	return (0);
}

/* subscribe: lossless or lossy, and the filters. */
static int
protocol_read_subscribe(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	char	 mode[16] = "lossless";
	char	 q[PROTOCOL_QUOTE_MAX + 4];

	if (protocol_get_string(root, "mode", mode, sizeof(mode), err) < 0)
		return (-1);
	if (strcmp(mode, "lossy") == 0)
		req->lossy = 1;
	else if (strcmp(mode, "lossless") != 0)
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "mode '%s' is not "
		    "lossless or lossy", protocol_quote(mode, q, sizeof(q))));
	if (protocol_get_bool(root, "denied", &req->denied, err) < 0 ||
	    protocol_get_string(root, "client", req->client,
	    sizeof(req->client), err) < 0 ||
	    protocol_get_group(root, req, err) < 0)
		return (-1);
	return (0);
}

/*
 * check: a method (an HTTP token), a target and an optional body, judged
 * as the request line and body a client would send.  The target and the
 * body stay in the line for the handler to read: only what would not
 * make one request line is refused here, a CR or LF in the target.
 */
static int
protocol_read_check(json_t *root, struct protocol_request *req,
    struct protocol_error *err)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~0123456789"
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	json_t			*target, *body;
	int			 rc;

	if ((rc = protocol_get_string(root, "method", req->method,
	    sizeof(req->method), err)) < 0)
		return (-1);
	if (rc == 0 || req->method[0] == '\0' ||
	    strspn(req->method, tchar) != strlen(req->method))
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "check needs "
		    "\"method\", an HTTP method such as GET"));
	target = json_object_get(root, "target");
	if (!json_is_string(target) || json_string_length(target) == 0)
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "check needs "
		    "\"target\", a request target such as /containers/json"));
	if (strcspn(json_string_value(target), "\r\n") !=
	    json_string_length(target))
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "a target holds "
		    "no CR or LF: the request line would end there"));
	body = json_object_get(root, "body");
	if (body != NULL && !json_is_string(body))
		return (protocol_fail(err, DSP_ERR_ARGUMENT, "\"body\" must "
		    "be a string"));
	req->has_body = body != NULL;
	return (0);
}

/* Whether a member is one that the request takes. */
static int
protocol_member_known(const struct protocol_spec *spec, const char *key)
{
	size_t	 i;

	if (strcmp(key, "id") == 0 || strcmp(key, "request") == 0)
		return (1);
	for (i = 0; i < PROTOCOL_MEMBERS_MAX && spec->members[i] != NULL; i++)
		if (strcmp(key, spec->members[i]) == 0)
			return (1);
	return (0);
}

/* The request named name, or NULL. */
static const struct protocol_spec *
protocol_spec_find(const char *name)
{
	int	 t;

	for (t = 0; t < PROTOCOL_TYPE_COUNT; t++)
		if (strcmp(name, protocol_specs[t].name) == 0)
			return (&protocol_specs[t]);
	return (NULL);
}

/* Put a request in its state before any member is read. */
static void
protocol_request_init(struct protocol_request *req)
{
	int	 i;

	memset(req, 0, sizeof(*req));
	for (i = 0; i < GROUP_COUNT; i++)
		req->access[i] = PROTOCOL_UNCHANGED;
	for (i = 0; i < KIND_COUNT; i++)
		req->override[i] = PROTOCOL_UNCHANGED;
	snprintf(req->source, sizeof(req->source), "control");
}

/*
 * Decode one line (without its newline) into req.  Returns 0, or -1 with
 * err filled: its id is the request's when that much could be read, so
 * the reply can still be matched.
 */
int
protocol_decode(const char *buf, size_t len, struct protocol_request *req,
    struct protocol_error *err)
{
	const struct protocol_spec	*spec;
	json_t				*root = NULL, *v;
	json_error_t			 jerr;
	const char			*name, *key;
	char				 q[PROTOCOL_QUOTE_MAX + 4];
	int				 rc = -1;

	protocol_request_init(req);
	memset(err, 0, sizeof(*err));
	snprintf(err->id, sizeof(err->id), "null");
	if (len > DSP_LINE_MAX) {
		protocol_fail(err, DSP_ERR_TOO_LARGE, "message of %zu bytes, "
		    "over %d", len, DSP_LINE_MAX);
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		protocol_fail(err, DSP_ERR_MALFORMED, "not JSON: %s at "
		    "byte %d", jerr.text, jerr.position);
		goto out;
	}
	if (!json_is_object(root)) {
		protocol_fail(err, DSP_ERR_MALFORMED, "a message is a JSON "
		    "object");
		goto out;
	}
	if ((v = json_object_get(root, "id")) == NULL ||
	    protocol_read_id(v, req->id, sizeof(req->id)) != 0) {
		protocol_fail(err, DSP_ERR_MALFORMED, "\"id\" must be an "
		    "integer from 0 to 2^53-1 or a string of 1 to %d "
		    "characters A-Z a-z 0-9 . _ : -", DSP_ID_MAX);
		goto out;
	}
	memcpy(err->id, req->id, sizeof(err->id));

	if ((name = json_string_value(json_object_get(root,
	    "request"))) == NULL) {
		protocol_fail(err, DSP_ERR_MALFORMED, "\"request\" must name "
		    "the request");
		goto out;
	}
	if ((spec = protocol_spec_find(name)) == NULL) {
		protocol_fail(err, DSP_ERR_UNKNOWN, "no request named '%s'",
		    protocol_quote(name, q, sizeof(q)));
		goto out;
	}
	req->type = (enum protocol_type)(spec - protocol_specs);
	json_object_foreach(root, key, v) {
		if (!protocol_member_known(spec, key)) {
			protocol_fail(err, DSP_ERR_ARGUMENT, "%s takes no "
			    "member '%s'", spec->name,
			    protocol_quote(key, q, sizeof(q)));
			goto out;
		}
	}
	rc = spec->read(root, req, err);
out:
	json_decref(root);
	return (rc);
}
