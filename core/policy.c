/*
 * The policy: an access level per endpoint group, an override per action
 * kind, the verdict for one endpoint, and the sentence that tells a denied
 * client what would have let its request through.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "dspd.h"

/* Why an endpoint got its verdict; decide and explain share one answer. */
enum policy_reason {
	REASON_GROUP_ALLOWS,	/* the group's access covers the effect */
	REASON_CARVE_OUT,	/* an override ALLOW on a carve-out kind */
	REASON_UNKNOWN,		/* no endpoint, or one outside every group */
	REASON_OVERRIDE_DENY,	/* the kind is switched off on its own */
	REASON_DEFAULT_OFF,	/* archive or export without its override */
	REASON_GROUP_DENIES	/* the group's access is below the effect */
};

/* Text being built for policy_explain, counted like snprintf counts. */
struct policy_text {
	char	*buf;
	size_t	 size;
	size_t	 len;		/* what the whole text needs, NUL excluded */
};

/*
 * The variable that switches each kind on, in the images' names.  Attach
 * and exec have none: no image split them out of their groups.
 */
static const char *policy_kind_variables[KIND_COUNT] = {
	[KIND_START] = "ALLOW_START",
	[KIND_STOP] = "ALLOW_STOP",
	[KIND_RESTART] = "ALLOW_RESTARTS",
	[KIND_KILL] = "ALLOW_KILL",
	[KIND_PAUSE] = "ALLOW_PAUSE",
	[KIND_UNPAUSE] = "ALLOW_UNPAUSE",
	[KIND_ARCHIVE] = "ALLOW_ARCHIVE",
	[KIND_EXPORT] = "ALLOW_EXPORT",
	[KIND_LOGS] = "ALLOW_LOGS",
	[KIND_TOP] = "ALLOW_TOP",
	[KIND_CHANGES] = "ALLOW_CHANGES"
};

void
policy_init(struct policy *p)
{
	int	i;

	p->revision = 0;
	for (i = 0; i < GROUP_COUNT; i++)
		p->access[i] = ACCESS_OFF;
	for (i = 0; i < KIND_COUNT; i++)
		p->override[i] = OVERRIDE_INHERIT;
}

/*
 * Whether an override ALLOW on this kind lets the action through by
 * itself.  These are the container lifecycle actions that the LinuxServer
 * image allows ahead of its POST gate, so they work with POST=0 and with
 * the group off.
 */
int
policy_kind_carve_out(enum action_kind kind)
{
	switch (kind) {
	case KIND_START:
	case KIND_STOP:
	case KIND_RESTART:
	case KIND_KILL:
	case KIND_PAUSE:
	case KIND_UNPAUSE:
		return (1);
	default:
		return (0);
	}
}

/*
 * Whether the kind stays off until its own override allows it: archive
 * and export copy a container's or an image's files out through a GET, so
 * read access to the group must not be enough.
 */
int
policy_kind_default_off(enum action_kind kind)
{
	return (kind == KIND_ARCHIVE || kind == KIND_EXPORT);
}

/* The variable that switches a kind on, or NULL when there is none. */
const char *
policy_kind_variable(enum action_kind kind)
{
	if ((int)kind <= KIND_NONE || kind >= KIND_COUNT)
		return (NULL);
	return (policy_kind_variables[kind]);
}

/* The access an endpoint needs: its effect, not its method, decides. */
static enum access
policy_needed(const struct endpoint *ep)
{
	if (catalogue_effect(ep) == EFFECT_WRITE)
		return (ACCESS_WRITE);
	return (ACCESS_READ);
}

/* Run the checks in their order and say which one settled the verdict. */
static enum policy_reason
policy_reason(const struct policy *p, const struct endpoint *ep)
{
	enum override	ov;

	if (ep == NULL || (int)ep->group <= GROUP_UNKNOWN ||
	    ep->group >= GROUP_COUNT || (int)ep->kind < KIND_NONE ||
	    ep->kind >= KIND_COUNT)
		return (REASON_UNKNOWN);

	ov = OVERRIDE_INHERIT;
	if (ep->kind != KIND_NONE)
		ov = p->override[ep->kind];
	if (ov == OVERRIDE_DENY)
		return (REASON_OVERRIDE_DENY);
	if (ov == OVERRIDE_ALLOW && policy_kind_carve_out(ep->kind))
		return (REASON_CARVE_OUT);
	if (ov == OVERRIDE_INHERIT && policy_kind_default_off(ep->kind))
		return (REASON_DEFAULT_OFF);

	if (p->access[ep->group] < policy_needed(ep))
		return (REASON_GROUP_DENIES);
	return (REASON_GROUP_ALLOWS);
}

/*
 * The policy's verdict for one endpoint; NULL is a path the catalogue
 * does not know.  Bypass is never decided here: it replaces this verdict
 * in the daemon, which keeps this one for the log.
 */
enum verdict
policy_decide(const struct policy *p, const struct endpoint *ep)
{
	switch (policy_reason(p, ep)) {
	case REASON_GROUP_ALLOWS:
	case REASON_CARVE_OUT:
		return (VERDICT_ALLOW);
	default:
		return (VERDICT_DENY);
	}
}

static void policy_add(struct policy_text *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Append to the text, cutting at the buffer's end but counting it all. */
static void
policy_add(struct policy_text *t, const char *fmt, ...)
{
	va_list	ap;
	int	n;
	char	*at = NULL;
	size_t	room = 0;

	if (t->buf != NULL && t->len < t->size) {
		at = t->buf + t->len;
		room = t->size - t->len;
	}
	va_start(ap, fmt);
	n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
}

/* How a group's access reads in a sentence: "containers is off". */
static const char *
policy_access_phrase(enum access a)
{
	switch (a) {
	case ACCESS_OFF:
		return ("is off");
	case ACCESS_READ:
		return ("is read-only");
	case ACCESS_WRITE:
		return ("has write access");
	}
	return ("is off");
}

/* The environment settings that give a group the access it needs. */
static void
policy_add_group_env(struct policy_text *t, const struct endpoint *ep)
{
	const char	*var;

	var = catalogue_group_variable(ep->group);
	if (var == NULL)
		var = "?";
	if (policy_needed(ep) == ACCESS_WRITE)
		policy_add(t, "%s=1 POST=1", var);
	else
		policy_add(t, "%s=1", var);
}

/* The dspctl command that gives a group the access it needs. */
static void
policy_add_group_ctl(struct policy_text *t, const struct endpoint *ep)
{
	policy_add(t, "'dspctl allow %s%s'", catalogue_group_name(ep->group),
	    policy_needed(ep) == ACCESS_WRITE ? " --write" : "");
}

/* The dspctl command that switches one kind on. */
static void
policy_add_kind_ctl(struct policy_text *t, enum action_kind kind)
{
	const char	*name;

	name = catalogue_kind_name(kind);
	policy_add(t, "'dspctl allow --action %s'", name != NULL ? name : "?");
}

/*
 * The remedy when the kind's own switch is what is missing; the group's
 * access is named as well when it would still fall short afterwards.
 */
static void
policy_add_kind_remedy(struct policy_text *t, const struct policy *p,
    const struct endpoint *ep)
{
	const char	*var;
	int		 group_too;

	var = policy_kind_variable(ep->kind);
	group_too = !policy_kind_carve_out(ep->kind) &&
	    p->access[ep->group] < policy_needed(ep);

	policy_add(t, "; allow it with ");
	if (var != NULL) {
		policy_add(t, "%s=1", var);
		if (group_too) {
			policy_add(t, " (and ");
			policy_add_group_env(t, ep);
			policy_add(t, ")");
		}
		policy_add(t, " or ");
	}
	policy_add_kind_ctl(t, ep->kind);
	if (group_too) {
		policy_add(t, " (and ");
		policy_add_group_ctl(t, ep);
		policy_add(t, ")");
	}
}

/*
 * The remedy when the group's access is what is missing; a carve-out kind
 * offers its own variable as the narrower way.
 */
static void
policy_add_group_remedy(struct policy_text *t, const struct endpoint *ep)
{
	const char	*var = NULL;

	if (policy_kind_carve_out(ep->kind))
		var = policy_kind_variable(ep->kind);

	policy_add(t, "; allow it with ");
	if (var != NULL)
		policy_add(t, "%s=1 or ", var);
	policy_add_group_env(t, ep);
	if (var != NULL) {
		policy_add(t, ", or ");
		policy_add_kind_ctl(t, ep->kind);
	}
	policy_add(t, " or ");
	policy_add_group_ctl(t, ep);
}

/*
 * Write the message of a 403 for this endpoint into buf: the method, the
 * path, the group and the action, why they are refused, and both the
 * environment settings and the dspctl command that would allow them.  The
 * text is plain, the caller quotes it for JSON.  Returns the length the
 * whole text needs, as snprintf does; buf always ends with a NUL when size
 * is not zero.
 */
size_t
policy_explain(const struct policy *p, const struct endpoint *ep,
    const char *method, const char *path, char *buf, size_t size)
{
	struct policy_text	 t;
	enum policy_reason	 why;
	const char		*group, *action, *var;

	t.buf = buf;
	t.size = size;
	t.len = 0;
	if (buf != NULL && size > 0)
		buf[0] = '\0';
	if (method == NULL)
		method = "?";
	if (path == NULL)
		path = "?";

	why = policy_reason(p, ep);
	if (why == REASON_UNKNOWN) {
		policy_add(&t, "%s %s is denied: dsp does not know this "
		    "endpoint", method, path);
		return (t.len);
	}

	group = catalogue_group_name(ep->group);
	action = ep->action != NULL ? ep->action : "?";
	if (why == REASON_GROUP_ALLOWS || why == REASON_CARVE_OUT) {
		policy_add(&t, "%s %s is allowed: action %s of group %s",
		    method, path, action, group);
		if (why == REASON_CARVE_OUT)
			policy_add(&t, ", which is allowed on its own");
		return (t.len);
	}

	policy_add(&t, "%s %s is denied: action %s of group %s ", method,
	    path, action, group);
	switch (why) {
	case REASON_OVERRIDE_DENY:
		/*
		 * Only LinuxServer's variables turn a kind off when set to
		 * 0; any other kind was turned off at run time.
		 */
		var = policy_kind_variable(ep->kind);
		if (var != NULL && !policy_kind_carve_out(ep->kind) &&
		    !policy_kind_default_off(ep->kind))
			policy_add(&t, "is turned off by %s=0", var);
		else
			policy_add(&t, "is turned off on its own");
		policy_add_kind_remedy(&t, p, ep);
		break;
	case REASON_DEFAULT_OFF:
		policy_add(&t, "is off unless allowed on its own");
		policy_add_kind_remedy(&t, p, ep);
		break;
	default:
		policy_add(&t, "needs %s access",
		    policy_access_name(policy_needed(ep)));
		if (ep->flags & ENDPOINT_CREDENTIAL)
			policy_add(&t, " because it returns a credential");
		else if ((ep->flags & ENDPOINT_WRITES) &&
		    (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
			policy_add(&t, " because it writes although it is a %s",
			    method);
		policy_add(&t, ", and %s %s", group,
		    policy_access_phrase(p->access[ep->group]));
		policy_add_group_remedy(&t, ep);
		break;
	}
	return (t.len);
}

const char *
policy_access_name(enum access a)
{
	switch (a) {
	case ACCESS_OFF:
		return ("off");
	case ACCESS_READ:
		return ("read");
	case ACCESS_WRITE:
		return ("write");
	}
	return ("?");
}

const char *
policy_verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ALLOW:
		return ("allow");
	case VERDICT_DENY:
		return ("deny");
	case VERDICT_BYPASS:
		return ("bypass");
	}
	return ("?");
}

/*
 * The policy as the JSON object the store keeps for each revision:
 * {"profile": "default", "access": {"containers": "read", ...},
 *  "overrides": {"start": "allow", ...}}, every group named, overrides
 * only where set.  Returns an allocated string, or NULL out of memory.
 */
char *
policy_to_json(const struct policy *p)
{
	static const char *const override_names[] = {
		[OVERRIDE_INHERIT] = NULL,
		[OVERRIDE_ALLOW] = "allow",
		[OVERRIDE_DENY] = "deny"
	};
	json_t	*root, *access, *overrides;
	char	*out;
	int	 g, k;

	root = json_object();
	access = json_object();
	overrides = json_object();
	if (root == NULL || access == NULL || overrides == NULL)
		goto fail;
	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++)
		json_object_set_new(access,
		    catalogue_group_name((enum endpoint_group)g),
		    json_string(policy_access_name(p->access[g])));
	for (k = KIND_NONE + 1; k < KIND_COUNT; k++) {
		if (override_names[p->override[k]] == NULL)
			continue;
		json_object_set_new(overrides,
		    catalogue_kind_name((enum action_kind)k),
		    json_string(override_names[p->override[k]]));
	}
	json_object_set_new(root, "profile", json_string("default"));
	json_object_set_new(root, "access", access);
	json_object_set_new(root, "overrides", overrides);
	out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	return (out);

fail:
	json_decref(root);
	json_decref(access);
	json_decref(overrides);
	return (NULL);
}

/* Read one access word. */
static int
policy_access_from_name(const char *val, enum access *a)
{
	if (val == NULL)
		return (-1);
	if (strcmp(val, "off") == 0)
		*a = ACCESS_OFF;
	else if (strcmp(val, "read") == 0)
		*a = ACCESS_READ;
	else if (strcmp(val, "write") == 0)
		*a = ACCESS_WRITE;
	else
		return (-1);
	return (0);
}

/*
 * Apply the grants of a state: each gives a group an access, or an
 * action an override, until a time; one whose time has come counts for
 * nothing even before the store records its end.
 */
static int
policy_apply_grants(struct policy *p, json_t *grants, int64_t now, char *err,
    size_t errlen)
{
	json_t		*g, *until;
	const char	*name;
	enum access	 a;
	size_t		 i;
	int		 k, grp;

	if (grants == NULL)
		return (0);
	if (!json_is_array(grants)) {
		snprintf(err, errlen, "policy state: grants must be a list");
		return (-1);
	}
	json_array_foreach(grants, i, g) {
		until = json_object_get(g, "until");
		if (until != NULL && !json_is_integer(until)) {
			snprintf(err, errlen, "policy state: grant %zu has a "
			    "bad until", i);
			return (-1);
		}
		if ((name = json_string_value(json_object_get(g, "group")))
		    != NULL) {
			grp = catalogue_group_from_name(name);
			if (grp == GROUP_UNKNOWN || policy_access_from_name(
			    json_string_value(json_object_get(g, "access")),
			    &a) != 0) {
				snprintf(err, errlen, "policy state: bad grant "
				    "for group '%.64s'", name);
				return (-1);
			}
			if (until == NULL || json_integer_value(until) > now)
				p->access[grp] = a;
			continue;
		}
		name = json_string_value(json_object_get(g, "action"));
		k = name != NULL ? catalogue_kind_from_name(name) : -1;
		name = json_string_value(json_object_get(g, "override"));
		if (k < 0 || name == NULL || (strcmp(name, "allow") != 0 &&
		    strcmp(name, "deny") != 0)) {
			snprintf(err, errlen, "policy state: grant %zu names "
			    "no group or action", i);
			return (-1);
		}
		if (until == NULL || json_integer_value(until) > now)
			p->override[k] = strcmp(name, "allow") == 0 ?
			    OVERRIDE_ALLOW : OVERRIDE_DENY;
	}
	return (0);
}

/*
 * Read a policy from the JSON object the store keeps (policy_to_json's
 * form, with "grants" that last until a time): a group the object leaves
 * out is off, a grant whose time is past now is ignored.  Returns -1 with
 * err set on anything it does not understand, and leaves *out as it was.
 */
int
policy_from_json(const char *text, int64_t now, struct policy *out,
    char *err, size_t errlen)
{
	struct policy	 p;
	json_t		*root, *access, *overrides, *v;
	json_error_t	 jerr;
	const char	*key, *val;
	int		 g, k, rc = -1;

	policy_init(&p);
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, errlen, "policy state is not a JSON object");
		goto out;
	}
	access = json_object_get(root, "access");
	overrides = json_object_get(root, "overrides");
	if ((access != NULL && !json_is_object(access)) ||
	    (overrides != NULL && !json_is_object(overrides))) {
		snprintf(err, errlen, "policy state: access and overrides "
		    "must be objects");
		goto out;
	}
	json_object_foreach(access, key, v) {
		g = catalogue_group_from_name(key);
		val = json_string_value(v);
		if (g == GROUP_UNKNOWN || policy_access_from_name(val,
		    &p.access[g]) != 0) {
			snprintf(err, errlen, "policy state: bad access entry "
			    "'%.64s'", key);
			goto out;
		}
	}
	json_object_foreach(overrides, key, v) {
		k = catalogue_kind_from_name(key);
		val = json_string_value(v);
		if (k < 0 || val == NULL || (strcmp(val, "allow") != 0 &&
		    strcmp(val, "deny") != 0)) {
			snprintf(err, errlen, "policy state: bad override "
			    "'%.64s'", key);
			goto out;
		}
		p.override[k] = strcmp(val, "allow") == 0 ? OVERRIDE_ALLOW :
		    OVERRIDE_DENY;
	}
	if (policy_apply_grants(&p, json_object_get(root, "grants"), now,
	    err, errlen) != 0)
		goto out;
	p.revision = out->revision;
	*out = p;
	rc = 0;
out:
	json_decref(root);
	return (rc);
}
