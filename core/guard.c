/*
 * The create guard: reads the bodies of the requests that create or
 * change containers, execs, services, volumes and plugins, and refuses
 * those that would hand the client the host: privileged mode, the host's
 * namespaces, added capabilities, devices, dropped confinement,
 * kernel-wide sysctls, and binds of the host's system paths.
 *
 * A body is read the way dockerd's Go decoder reads it: a key matches a
 * field case-insensitively, with Go's folds of U+017F and U+212A, and
 * every place Go would decode a field from is checked, including the
 * HostConfig fields that a container create may carry at its top level.
 * Whatever dsp cannot read as dockerd would is refused, never guessed.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dspd.h"

/* Room for a refused value in a message, escaped; longer ones are cut. */
#define GUARD_QUOTE_SIZE	160
/* Room for the reason part of a message. */
#define GUARD_REASON_SIZE	320
/* Containers one create may take volumes from (VolumesFrom), at most. */
#define GUARD_LOOKUP_MAX	32
/* Paths --allow-bind may list, at most. */
#define GUARD_ALLOW_BIND_MAX	64
/* Bytes of a host path put in canonical form: the kernel's PATH_MAX. */
#define GUARD_PATH_MAX		4096
/* Bytes of a container name in VolumesFrom, as dockerd's names go. */
#define GUARD_NAME_MAX		255

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The rule a refusal falls under, and so the setting that relaxes it. */
enum guard_rule {
	RULE_NONE,
	RULE_PRIVILEGED,
	RULE_HOST_NAMESPACES,
	RULE_CAP,
	RULE_DEVICES,
	RULE_UNCONFINED,
	RULE_SYSCTLS,
	RULE_BIND
};

/* The body shapes the guard knows, one per create-class action. */
enum guard_body {
	BODY_CONTAINER_CREATE,
	BODY_CONTAINER_UPDATE,
	BODY_EXEC_CREATE,
	BODY_SERVICE,
	BODY_VOLUME_CREATE,
	BODY_PLUGIN
};

static const struct {
	const char	*action;
	enum guard_body	 body;
} guard_actions[] = {
	{ "containers.create", BODY_CONTAINER_CREATE },
	{ "containers.update", BODY_CONTAINER_UPDATE },
	{ "exec.create", BODY_EXEC_CREATE },
	{ "services.create", BODY_SERVICE },
	{ "services.update", BODY_SERVICE },
	{ "volumes.create", BODY_VOLUME_CREATE },
	{ "plugins.pull", BODY_PLUGIN },
	{ "plugins.upgrade", BODY_PLUGIN }
};

/*
 * Linux capabilities in the order of their numbers, which index the
 * allow_caps bits.
 */
static const char *const guard_caps[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
	"KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE",
	"NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
	"SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
	"AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE",
	"MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
	"PERFMON", "BPF", "CHECKPOINT_RESTORE"
};

/*
 * The capabilities every container of dockerd has: adding one changes
 * nothing, and hardened compose files drop ALL and add some of them back.
 */
static const char *const guard_default_caps[] = {
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
	"SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE",
	"SYS_CHROOT", "KILL", "AUDIT_WRITE"
};

/*
 * Host paths no bind may reach by default: the bind of one of them, of a
 * path under one, or of a parent of one (the root holds them all).  The
 * issue's list, plus the directories of the host's programs and
 * libraries and root's crontabs, each as much root as /etc when written.
 * The sockets come first so that a message names them as what they are.
 */
static const struct {
	const char	*path;
	const char	*what;
} guard_protected[] = {
	{ "/var/run/docker.sock", "the Docker socket" },
	{ "/run/docker.sock", "the Docker socket" },
	{ "/etc", NULL },
	{ "/proc", NULL },
	{ "/sys", NULL },
	{ "/dev", NULL },
	{ "/boot", NULL },
	{ "/root", NULL },
	{ "/var/lib/docker", NULL },
	{ "/var/lib/containerd", NULL },
	{ "/run", NULL },
	{ "/var/run", NULL },
	{ "/var/spool/cron", NULL },
	{ "/usr", NULL },
	{ "/bin", NULL },
	{ "/sbin", NULL },
	{ "/lib", NULL },
	{ "/lib32", NULL },
	{ "/lib64", NULL },
	{ "/libx32", NULL }
};

/*
 * The paths dockerd masks and makes read-only in every container (Engine
 * 20.10's defaults).  A create may repeat them, as Watchtower and
 * Portainer do when they re-create a container from its inspect, but not
 * leave one out: an empty ReadonlyPaths makes /proc/sys writable.
 */
static const char *const guard_masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware"
};
static const char *const guard_readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
};

/*
 * The sysctls that runc knows to be inside a container's IPC namespace;
 * fs.mqueue.* are too, net.* are in the network namespace.
 */
static const char *const guard_ipc_sysctls[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni",
	"kernel.shm_rmid_forced"
};

/* File systems of the local volume driver that reach no host path. */
static const char *const guard_remote_fs[] = {
	"nfs", "nfs4", "cifs", "smb3", "tmpfs"
};

/* Disk file systems: the device they mount is a host path, judged so. */
static const char *const guard_disk_fs[] = {
	"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "exfat", "ntfs",
	"ntfs3", "f2fs", "iso9660", "udf", "squashfs"
};

static const struct guard_option_spec guard_option_table[] = {
	{ "allow-privileged", "DSP_ALLOW_PRIVILEGED", GUARD_ARG_BOOL, NULL,
	    "off",
	    "let containers and exec run privileged",
	    "a privileged container is root on the host: every device, "
	    "every capability, no seccomp or AppArmor" },
	{ "allow-host-namespaces", "DSP_ALLOW_HOST_NAMESPACES",
	    GUARD_ARG_BOOL, NULL, "off",
	    "let containers share the host's namespaces",
	    "the host's PID namespace shows and signals every host process; "
	    "its network reaches every service on the host's loopback" },
	{ "allow-cap", "DSP_ALLOW_CAP", GUARD_ARG_LIST, "CAP", "none",
	    "let containers add capability CAP (ALL: any)",
	    "SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH "
	    "and BPF each lead out of the container" },
	{ "allow-devices", "DSP_ALLOW_DEVICES", GUARD_ARG_BOOL, NULL, "off",
	    "let containers and plugins use host devices",
	    "a disk device is the host's whole file system" },
	{ "allow-unconfined", "DSP_ALLOW_UNCONFINED", GUARD_ARG_BOOL, NULL,
	    "off",
	    "let containers drop seccomp, AppArmor, SELinux",
	    "removes the layers that stop most kernel exploits and "
	    "/proc-based escapes" },
	{ "allow-sysctls", "DSP_ALLOW_SYSCTLS", GUARD_ARG_BOOL, NULL, "off",
	    "let containers set kernel-wide sysctls",
	    "kernel-wide settings (kernel.core_pattern runs a program as "
	    "root); only runc's own check would remain" },
	{ "allow-bind", "DSP_ALLOW_BIND", GUARD_ARG_LIST, "PATH",
	    "any path but the protected ones",
	    "bind only host paths under PATH (repeatable)",
	    "a container that can write under PATH can plant a symlink "
	    "there that a later bind follows anywhere on the host" }
};

/* Where a walk through one body stands. */
struct guard_walk {
	const struct guard_config	*conf;
	struct guard_result		*res;
	const char			*intro;	/* before the field */
	int				 oom;
	int				 shared_net; /* not its own netns */
	int				 shared_ipc;
	int				 shared_uts;
};

static int	guard_mount(struct guard_walk *, json_t *, const char *);
static int	guard_plugin_privileges(struct guard_walk *, json_t *,
		    const char *);

/*
 * snprintf for the guard's fields and messages, which are cut short on
 * purpose when a client's names or values are long.
 */
static void __attribute__((__format__ (printf, 3, 4)))
guard_fmt(char *out, size_t size, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

/* ASCII case-insensitive equality, the same in every locale. */
static int
guard_ascii_eq(const char *a, const char *b)
{
	unsigned char	ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'a' && ca <= 'z')
			ca -= 'a' - 'A';
		if (cb >= 'a' && cb <= 'z')
			cb -= 'a' - 'A';
		if (ca != cb)
			return (0);
		if (ca == '\0')
			return (1);
	}
}

/* Whether s starts with prefix, ASCII case-insensitively. */
static int
guard_ascii_prefix(const char *s, const char *prefix)
{
	size_t	n = strlen(prefix);
	char	buf[32];

	if (strlen(s) < n || n >= sizeof(buf))
		return (0);
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (guard_ascii_eq(buf, prefix));
}

static int
guard_in_list(const char *s, const char *const *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return (1);
	return (0);
}

/*
 * The next byte of a key as Go folds it before matching a field name:
 * ASCII letters in upper case, U+017F (long s) as 'S', U+212A (Kelvin
 * sign) as 'K'.  Returns 0 at the end, and -1 on any other non-ASCII
 * character: no field of Docker's types, all ASCII, can match such a key.
 */
static int
guard_fold_next(const unsigned char **p)
{
	const unsigned char	*s = *p;
	int			 c;

	if (s[0] == '\0')
		return (0);
	if (s[0] < 0x80) {
		c = s[0];
		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		*p = s + 1;
		return (c);
	}
	if (s[0] == 0xc5 && s[1] == 0xbf) {
		*p = s + 2;
		return ('S');
	}
	if (s[0] == 0xe2 && s[1] == 0x84 && s[2] == 0xaa) {
		*p = s + 3;
		return ('K');
	}
	return (-1);
}

/* Whether Go's decoder would fill the field name from key. */
static int
guard_key_is(const char *key, const char *name)
{
	const unsigned char	*k = (const unsigned char *)key;
	const unsigned char	*n = (const unsigned char *)name;
	int			 a, b;

	do {
		a = guard_fold_next(&k);
		b = guard_fold_next(&n);
		if (a != b || a == -1)
			return (0);
	} while (a != 0);
	return (1);
}

/* Order keys by their folded form, for finding two that fold alike. */
static int
guard_fold_cmp(const void *va, const void *vb)
{
	const unsigned char	*a = *(const unsigned char *const *)va;
	const unsigned char	*b = *(const unsigned char *const *)vb;
	int			 ca, cb;

	do {
		ca = guard_fold_next(&a);
		cb = guard_fold_next(&b);
	} while (ca == cb && ca > 0);
	return (ca - cb);
}

/* Whether a key folds only to ASCII, and so could name a field. */
static int
guard_foldable(const char *key)
{
	const unsigned char	*k = (const unsigned char *)key;
	int			 c;

	while ((c = guard_fold_next(&k)) > 0)
		continue;
	return (c == 0);
}

/* Render a value for a message: quoted and escaped, cut short. */
static void
guard_quote(json_t *v, char *out, size_t size)
{
	char	*dump;
	size_t	 len;

	if (size < 3) {
		out[0] = '\0';
		return;
	}
	if (v == NULL) {
		guard_fmt(out, size, "null");
		return;
	}
	if (json_is_string(v)) {
		out[0] = '"';
		len = http_escape(out + 1, size - 2, json_string_value(v),
		    json_string_length(v));
		out[1 + len] = '"';
		out[2 + len] = '\0';
		return;
	}
	dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (dump == NULL) {
		guard_fmt(out, size, "(value)");
		return;
	}
	http_escape(out, size, dump, strlen(dump));
	free(dump);
}

/* Drop the lookups gathered so far: a verdict other than lookup is set. */
static void
guard_drop_lookups(struct guard_result *res)
{
	size_t	i;

	for (i = 0; i < res->nlookups; i++)
		free(res->lookups[i]);
	free(res->lookups);
	res->lookups = NULL;
	res->nlookups = 0;
}

/* Mark the body malformed (400), naming the field and what is wrong. */
static int
guard_malformed(struct guard_walk *w, const char *field, const char *why)
{
	struct guard_result	*res = w->res;

	guard_drop_lookups(res);
	res->verdict = GUARD_MALFORMED;
	guard_fmt(res->field, sizeof(res->field), "%s", field);
	if (*field != '\0')
		guard_fmt(res->message, sizeof(res->message),
		    "dsp: malformed body: %s%s: %s", w->intro, field, why);
	else
		guard_fmt(res->message, sizeof(res->message),
		    "dsp: malformed body: %s", why);
	return (-1);
}

/* The switch that relaxes a rule, by its flag's name. */
static const struct guard_option_spec *
guard_option_named(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(guard_option_table); i++) {
		if (strcmp(guard_option_table[i].name, name) == 0)
			return (&guard_option_table[i]);
	}
	return (NULL);
}

/* The part of a refusal that names the setting that would allow it. */
static void
guard_relaxation(const struct guard_config *conf, enum guard_rule rule,
    const char *arg, char *out, size_t size)
{
	const struct guard_option_spec	*o = NULL;

	switch (rule) {
	case RULE_NONE:
		guard_fmt(out, size, "no setting of dsp allows it");
		return;
	case RULE_CAP:
		guard_fmt(out, size, "--allow-cap %s or DSP_ALLOW_CAP=%s "
		    "allows it", arg, arg);
		return;
	case RULE_BIND:
		if (conf->nallow_bind > 0)
			guard_fmt(out, size, "adding --allow-bind %s (or %s "
			    "to DSP_ALLOW_BIND) allows it", arg, arg);
		else
			guard_fmt(out, size, "--allow-bind %s or "
			    "DSP_ALLOW_BIND=%s allows it, and then binds only "
			    "from the paths listed", arg, arg);
		return;
	case RULE_PRIVILEGED:
		o = guard_option_named("allow-privileged");
		break;
	case RULE_HOST_NAMESPACES:
		o = guard_option_named("allow-host-namespaces");
		break;
	case RULE_DEVICES:
		o = guard_option_named("allow-devices");
		break;
	case RULE_UNCONFINED:
		o = guard_option_named("allow-unconfined");
		break;
	case RULE_SYSCTLS:
		o = guard_option_named("allow-sysctls");
		break;
	}
	guard_fmt(out, size, "--%s or %s=1 allows it", o->name, o->env);
}

/*
 * Refuse the body (403): the message names the field, its value, why,
 * and the setting that would allow it.
 */
static int
guard_refuse(struct guard_walk *w, enum guard_rule rule, const char *field,
    json_t *value, const char *why, const char *arg)
{
	struct guard_result	*res = w->res;
	char			 quoted[GUARD_QUOTE_SIZE];
	char			 relax[GUARD_REASON_SIZE];

	guard_drop_lookups(res);
	res->verdict = GUARD_REFUSE;
	guard_fmt(res->field, sizeof(res->field), "%s", field);
	guard_quote(value, quoted, sizeof(quoted));
	guard_relaxation(w->conf, rule, arg, relax, sizeof(relax));
	guard_fmt(res->message, sizeof(res->message),
	    "dsp: %s%s=%s refused: %s; %s", w->intro, field, quoted, why,
	    relax);
	return (-1);
}

/*
 * Take v as a Go struct: an object (or null, which Go skips) no two of
 * whose keys fold to the same name, since Go would let the last one win
 * where dsp might have read the first.
 */
static int
guard_struct(struct guard_walk *w, json_t *v, const char *field,
    json_t **out)
{
	const char	**keys, *key;
	json_t		 *value;
	size_t		  n = 0, i;
	char		  why[GUARD_REASON_SIZE], quoted[GUARD_QUOTE_SIZE];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_object(v))
		return (guard_malformed(w, field, "an object was expected"));
	if (json_object_size(v) < 2) {
		*out = v;
		return (0);
	}

	keys = calloc(json_object_size(v), sizeof(*keys));
	if (keys == NULL) {
		w->oom = 1;
		return (-1);
	}
	json_object_foreach(v, key, value) {
		if (guard_foldable(key))
			keys[n++] = key;
	}
	qsort(keys, n, sizeof(*keys), guard_fold_cmp);
	for (i = 1; i < n; i++) {
		if (guard_fold_cmp(&keys[i - 1], &keys[i]) != 0)
			continue;
		value = json_string(keys[i]);
		guard_quote(value, quoted, sizeof(quoted));
		json_decref(value);
		guard_fmt(why, sizeof(why), "two keys fold to the same name "
		    "for dockerd (%s)", quoted);
		free(keys);
		return (guard_malformed(w, field, why));
	}
	free(keys);
	*out = v;
	return (0);
}

/* The value Go would decode into the field name of obj, NULL if none. */
static json_t *
guard_member(json_t *obj, const char *name)
{
	const char	*key;
	json_t		*value;

	if (obj == NULL)
		return (NULL);
	json_object_foreach(obj, key, value) {
		if (guard_key_is(key, name))
			return (json_is_null(value) ? NULL : value);
	}
	return (NULL);
}

/* Join a field path: prefix and name, cut to the result's field size. */
static void
guard_path(char *out, size_t size, const char *prefix, const char *name)
{
	guard_fmt(out, size, "%s%s", prefix, name);
}

static void
guard_path_index(char *out, size_t size, const char *prefix, size_t i)
{
	guard_fmt(out, size, "%s[%zu]", prefix, i);
}

/* Read a Go bool field; false when absent or null. */
static int
guard_bool(struct guard_walk *w, json_t *obj, const char *name,
    const char *prefix, int *out, json_t **value)
{
	char	 field[GUARD_FIELD_SIZE];
	json_t	*v = guard_member(obj, name);

	*out = 0;
	*value = v;
	if (v == NULL)
		return (0);
	if (!json_is_boolean(v)) {
		guard_path(field, sizeof(field), prefix, name);
		return (guard_malformed(w, field, "a boolean was expected"));
	}
	*out = json_is_true(v);
	return (0);
}

/* Read a Go string field; "" when absent or null. */
static int
guard_string(struct guard_walk *w, json_t *obj, const char *name,
    const char *prefix, const char **out, json_t **value)
{
	char	 field[GUARD_FIELD_SIZE];
	json_t	*v = guard_member(obj, name);

	*out = "";
	if (value != NULL)
		*value = v;
	if (v == NULL)
		return (0);
	if (!json_is_string(v)) {
		guard_path(field, sizeof(field), prefix, name);
		return (guard_malformed(w, field, "a string was expected"));
	}
	*out = json_string_value(v);
	return (0);
}

/* Read a Go slice field: an array, or NULL when absent or null. */
static int
guard_array(struct guard_walk *w, json_t *obj, const char *name,
    const char *prefix, json_t **out)
{
	char	 field[GUARD_FIELD_SIZE];
	json_t	*v = guard_member(obj, name);

	*out = NULL;
	if (v == NULL)
		return (0);
	if (!json_is_array(v)) {
		guard_path(field, sizeof(field), prefix, name);
		return (guard_malformed(w, field, "an array was expected"));
	}
	*out = v;
	return (0);
}

/* Read a Go map field: an object with any keys, NULL when absent. */
static int
guard_map(struct guard_walk *w, json_t *obj, const char *name,
    const char *prefix, json_t **out)
{
	char	 field[GUARD_FIELD_SIZE];
	json_t	*v = guard_member(obj, name);

	*out = NULL;
	if (v == NULL)
		return (0);
	if (!json_is_object(v)) {
		guard_path(field, sizeof(field), prefix, name);
		return (guard_malformed(w, field, "an object was expected"));
	}
	*out = v;
	return (0);
}

/* An element of a []string: Go leaves "" for null. */
static int
guard_item_string(struct guard_walk *w, json_t *item, const char *field,
    const char **out)
{
	*out = "";
	if (item == NULL || json_is_null(item))
		return (0);
	if (!json_is_string(item))
		return (guard_malformed(w, field, "a string was expected"));
	*out = json_string_value(item);
	return (0);
}

/* The text of a string already checked, "" for Go's null. */
static const char *
guard_str(json_t *v)
{
	return (json_is_string(v) ? json_string_value(v) : "");
}

/* Whether a path is p itself or lies below it; every path is under /. */
static int
guard_under(const char *s, const char *p)
{
	size_t	n = strlen(p);

	if (strcmp(p, "/") == 0)
		return (1);
	return (strncmp(s, p, n) == 0 && (s[n] == '\0' || s[n] == '/'));
}

/*
 * Put a host path in canonical form: // collapsed, . and .. resolved by
 * name, no trailing /.  That is what dockerd does to a bind source
 * (path.Clean) before the kernel sees it.  A path that is empty, not
 * absolute, holds control bytes or a backslash, or is too long is odd:
 * -1.
 *
 * XXX The form is lexical.  dsp cannot see the host's file system, so a
 * symlink on the host (which a container with a writable bind may plant)
 * leads where no canonical form shows; the README says so.
 */
int
guard_canon_path(const char *in, char *out, size_t size)
{
	const char	*p, *seg;
	size_t		 o = 0, n;

	if (size < 2 || in[0] != '/')
		return (-1);
	for (p = in; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return (-1);
	}
	if ((size_t)(p - in) >= GUARD_PATH_MAX)
		return (-1);

	p = in;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (o + 1 + n + 1 > size)
			return (-1);
		out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return (0);
}

/*
 * Judge one host path a bind (or a local volume) would mount.  With an
 * --allow-bind list only paths under it pass; without one, any path but
 * the protected ones, those under them and their parents.
 */
static int
guard_bind_path(struct guard_walk *w, const char *field, json_t *value,
    const char *source)
{
	const struct guard_config	*conf = w->conf;
	char				 path[GUARD_PATH_MAX];
	char				 why[GUARD_REASON_SIZE];
	char				 shown[GUARD_QUOTE_SIZE];
	const char			*p, *what;
	size_t				 i;

	if (guard_canon_path(source, path, sizeof(path)) != 0)
		return (guard_refuse(w, RULE_NONE, field, value, "the host "
		    "path is not a plain absolute path", NULL));
	http_escape(shown, sizeof(shown), path, strlen(path));

	if (conf->nallow_bind > 0) {
		for (i = 0; i < conf->nallow_bind; i++) {
			if (guard_under(path, conf->allow_bind[i]))
				return (0);
		}
		guard_fmt(why, sizeof(why), "host path %s is under no "
		    "--allow-bind path", shown);
		return (guard_refuse(w, RULE_BIND, field, value, why, shown));
	}

	for (i = 0; i < nitems(guard_protected); i++) {
		p = guard_protected[i].path;
		what = guard_protected[i].what;
		if (strcmp(path, "/") == 0)
			guard_fmt(why, sizeof(why), "host path / is the host's "
			    "root");
		else if (strcmp(path, p) == 0 && what != NULL)
			guard_fmt(why, sizeof(why), "host path %s is %s",
			    shown, what);
		else if (strcmp(path, p) == 0)
			guard_fmt(why, sizeof(why), "host path %s is "
			    "protected", shown);
		else if (guard_under(path, p))
			guard_fmt(why, sizeof(why), "host path %s is under "
			    "the protected %s", shown, p);
		else if (guard_under(p, path))
			guard_fmt(why, sizeof(why), "host path %s holds the "
			    "protected %s", shown, p);
		else
			continue;
		return (guard_refuse(w, RULE_BIND, field, value, why, shown));
	}
	return (0);
}

/*
 * One HostConfig.Binds entry, "source:target[:mode]" as dockerd splits
 * it: a source starting with '/' is a host path, anything else names a
 * volume, and a lone target is an anonymous volume.
 */
static int
guard_bind_spec(struct guard_walk *w, const char *field, json_t *value,
    const char *spec)
{
	const char	*colon;
	char		*source;
	int		 rc;

	colon = strchr(spec, ':');
	if (colon == NULL || spec[0] != '/')
		return (0);
	source = strndup(spec, (size_t)(colon - spec));
	if (source == NULL) {
		w->oom = 1;
		return (-1);
	}
	rc = guard_bind_path(w, field, value, source);
	free(source);
	return (rc);
}

/*
 * Put a capability name as dockerd does (upper case by Go's rules, which
 * take U+017F to 'S' and U+0131 to 'I'; "CAP_" dropped) and find it.
 * Returns its number, -2 for ALL, -1 when unknown.
 */
static int
guard_cap_number(const char *name, char *norm, size_t size)
{
	const unsigned char	*s = (const unsigned char *)name;
	size_t			 o = 0, i;
	int			 c;

	while (*s != '\0') {
		if (s[0] == 0xc5 && s[1] == 0xbf) {
			c = 'S';
			s += 2;
		} else if (s[0] == 0xc4 && s[1] == 0xb1) {
			c = 'I';
			s += 2;
		} else if (s[0] < 0x80) {
			c = *s++;
			if (c >= 'a' && c <= 'z')
				c -= 'a' - 'A';
		} else
			return (-1);
		if (o + 1 >= size)
			return (-1);
		norm[o++] = (char)c;
	}
	norm[o] = '\0';
	if (strcmp(norm, "ALL") == 0)
		return (-2);
	if (strncmp(norm, "CAP_", 4) == 0)
		memmove(norm, norm + 4, o - 4 + 1);
	for (i = 0; i < nitems(guard_caps); i++) {
		if (strcmp(norm, guard_caps[i]) == 0)
			return ((int)i);
	}
	return (-1);
}

/* One added capability: those of every container pass, others if allowed. */
static int
guard_cap(struct guard_walk *w, const char *field, json_t *value,
    const char *name)
{
	const struct guard_config	*conf = w->conf;
	char				 norm[64], why[GUARD_REASON_SIZE];
	int				 n;

	n = guard_cap_number(name, norm, sizeof(norm));
	if (n >= 0 && guard_in_list(norm, guard_default_caps,
	    nitems(guard_default_caps)))
		return (0);
	if (conf->allow_all_caps)
		return (0);
	if (n >= 0 && (conf->allow_caps & ((uint64_t)1 << n)) != 0)
		return (0);
	if (n == -2) {
		guard_fmt(why, sizeof(why), "adds every capability");
		guard_fmt(norm, sizeof(norm), "ALL");
	} else if (n == -1) {
		guard_fmt(why, sizeof(why), "adds a capability dsp does not "
		    "know");
		return (guard_refuse(w, RULE_NONE, field, value, why, NULL));
	} else
		guard_fmt(why, sizeof(why), "adds capability %s", norm);
	return (guard_refuse(w, RULE_CAP, field, value, why, norm));
}

/* A capability list: CapAdd is a string or an array (Go's StrSlice). */
static int
guard_cap_list(struct guard_walk *w, json_t *obj, const char *name,
    const char *prefix, int strslice)
{
	char		 field[GUARD_FIELD_SIZE], item[GUARD_FIELD_SIZE];
	json_t		*v = guard_member(obj, name), *e;
	const char	*s;
	size_t		 i;

	guard_path(field, sizeof(field), prefix, name);
	if (v == NULL)
		return (0);
	if (strslice && json_is_string(v))
		return (guard_cap(w, field, v, json_string_value(v)));
	if (!json_is_array(v))
		return (guard_malformed(w, field, strslice ?
		    "a string or an array was expected" :
		    "an array was expected"));
	json_array_foreach(v, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_item_string(w, e, item, &s) != 0)
			return (-1);
		if (guard_cap(w, item, e, s) != 0)
			return (-1);
	}
	return (0);
}

/*
 * A namespace mode: "host" is the host's, "container:NAME" another
 * container's.  dockerd compares them exactly; dsp ignores case, which
 * can only refuse more.
 */
static int
guard_ns_mode(struct guard_walk *w, json_t *obj, const char *name,
    const char *prefix, const char *what, int joins, int *shared)
{
	char		 field[GUARD_FIELD_SIZE], why[GUARD_REASON_SIZE];
	const char	*mode;
	json_t		*v;
	int		 host, join;

	if (guard_string(w, obj, name, prefix, &mode, &v) != 0)
		return (-1);
	host = guard_ascii_eq(mode, "host");
	join = joins && guard_ascii_prefix(mode, "container:");
	if (!host && !join)
		return (0);
	if (shared != NULL)
		*shared = 1;
	if (w->conf->allow_host_namespaces)
		return (0);
	guard_path(field, sizeof(field), prefix, name);
	if (host)
		guard_fmt(why, sizeof(why), "shares the host's %s namespace",
		    what);
	else
		guard_fmt(why, sizeof(why), "joins the %s namespace of another "
		    "container", what);
	return (guard_refuse(w, RULE_HOST_NAMESPACES, field, v, why, NULL));
}

/* The namespace fields of a HostConfig, read before anything else. */
static int
guard_namespaces(struct guard_walk *w, json_t *hc, const char *prefix)
{
	if (guard_ns_mode(w, hc, "NetworkMode", prefix, "network", 1,
	    &w->shared_net) != 0 ||
	    guard_ns_mode(w, hc, "PidMode", prefix, "PID", 1, NULL) != 0 ||
	    guard_ns_mode(w, hc, "IpcMode", prefix, "IPC", 1,
	    &w->shared_ipc) != 0 ||
	    guard_ns_mode(w, hc, "UTSMode", prefix, "UTS", 0,
	    &w->shared_uts) != 0 ||
	    guard_ns_mode(w, hc, "UsernsMode", prefix, "user", 0, NULL) != 0)
		return (-1);
	return (0);
}

/* A list that must be empty unless the rule is relaxed. */
static int
guard_empty_list(struct guard_walk *w, json_t *obj, const char *name,
    const char *prefix, int allowed, enum guard_rule rule, const char *why)
{
	char	 field[GUARD_FIELD_SIZE];
	json_t	*arr;

	if (guard_array(w, obj, name, prefix, &arr) != 0)
		return (-1);
	if (arr == NULL || json_array_size(arr) == 0 || allowed)
		return (0);
	guard_fmt(field, sizeof(field), "%s%s[0]", prefix, name);
	return (guard_refuse(w, rule, field, json_array_get(arr, 0), why,
	    NULL));
}

/*
 * Whether a security option keeps the container confined: no new
 * privileges, the default AppArmor profile, an SELinux level.  Any other
 * seccomp profile, AppArmor profile or label may be an unconfined one.
 */
static int
guard_secopt_safe(const char *opt)
{
	static const char *const safe[] = {
		"no-new-privileges",
		"no-new-privileges=1", "no-new-privileges=t",
		"no-new-privileges=T", "no-new-privileges=true",
		"no-new-privileges=TRUE", "no-new-privileges=True",
		"no-new-privileges:1", "no-new-privileges:t",
		"no-new-privileges:T", "no-new-privileges:true",
		"no-new-privileges:TRUE", "no-new-privileges:True",
		"apparmor=docker-default", "apparmor:docker-default",
		"seccomp=builtin", "seccomp:builtin"
	};

	if (strncmp(opt, "label=level:", 12) == 0 ||
	    strncmp(opt, "label:level:", 12) == 0)
		return (1);
	return (guard_in_list(opt, safe, nitems(safe)));
}

static int
guard_security_opts(struct guard_walk *w, json_t *hc, const char *prefix)
{
	char		 field[GUARD_FIELD_SIZE], item[GUARD_FIELD_SIZE];
	json_t		*arr, *e;
	const char	*s;
	size_t		 i;

	if (guard_array(w, hc, "SecurityOpt", prefix, &arr) != 0)
		return (-1);
	if (arr == NULL)
		return (0);
	guard_path(field, sizeof(field), prefix, "SecurityOpt");
	json_array_foreach(arr, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_item_string(w, e, item, &s) != 0)
			return (-1);
		if (w->conf->allow_unconfined || guard_secopt_safe(s))
			continue;
		return (guard_refuse(w, RULE_UNCONFINED, item, e, "may lift "
		    "seccomp, AppArmor, SELinux or no-new-privileges", NULL));
	}
	return (0);
}

/* MaskedPaths or ReadonlyPaths: null, or every default path kept. */
static int
guard_kept_paths(struct guard_walk *w, json_t *hc, const char *name,
    const char *prefix, const char *const *defaults, size_t ndefaults)
{
	char		 field[GUARD_FIELD_SIZE], item[GUARD_FIELD_SIZE];
	char		 why[GUARD_REASON_SIZE];
	json_t		*arr, *e;
	const char	*s;
	size_t		 i, j;

	if (guard_array(w, hc, name, prefix, &arr) != 0)
		return (-1);
	if (arr == NULL)
		return (0);
	guard_path(field, sizeof(field), prefix, name);
	json_array_foreach(arr, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_item_string(w, e, item, &s) != 0)
			return (-1);
	}
	if (w->conf->allow_unconfined)
		return (0);
	for (j = 0; j < ndefaults; j++) {
		json_array_foreach(arr, i, e) {
			if (json_is_string(e) &&
			    strcmp(json_string_value(e), defaults[j]) == 0)
				break;
		}
		if (i < json_array_size(arr))
			continue;
		guard_fmt(why, sizeof(why), "leaves out %s, which dockerd "
		    "protects in every container", defaults[j]);
		return (guard_refuse(w, RULE_UNCONFINED, field, arr, why,
		    NULL));
	}
	return (0);
}

/*
 * Whether a sysctl stays inside the container's own namespaces, as runc
 * counts them: IPC ones, fs.mqueue.*, net.*, kernel.domainname, and each
 * only while the container has that namespace to itself.
 */
static int
guard_sysctl_private(const struct guard_walk *w, const char *key)
{
	const char	*p;
	int		 dot = 1;

	for (p = key; *p != '\0'; p++) {
		if (*p == '.') {
			if (dot)
				return (0);
			dot = 1;
			continue;
		}
		dot = 0;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return (0);
	}
	if (dot)
		return (0);

	if (strncmp(key, "net.", 4) == 0)
		return (!w->shared_net);
	if (strncmp(key, "fs.mqueue.", 10) == 0 ||
	    guard_in_list(key, guard_ipc_sysctls, nitems(guard_ipc_sysctls)))
		return (!w->shared_ipc);
	if (strcmp(key, "kernel.domainname") == 0)
		return (!w->shared_uts);
	return (0);
}

static int
guard_sysctls(struct guard_walk *w, json_t *obj, const char *prefix)
{
	char		 field[GUARD_FIELD_SIZE], shown[GUARD_FIELD_SIZE];
	const char	*key;
	json_t		*map, *value;

	if (guard_map(w, obj, "Sysctls", prefix, &map) != 0)
		return (-1);
	if (map == NULL)
		return (0);
	json_object_foreach(map, key, value) {
		http_escape(shown, sizeof(shown), key, strlen(key));
		guard_fmt(field, sizeof(field), "%sSysctls.%s", prefix, shown);
		if (!json_is_string(value) && !json_is_null(value))
			return (guard_malformed(w, field,
			    "a string was expected"));
		if (w->conf->allow_sysctls || guard_sysctl_private(w, key))
			continue;
		return (guard_refuse(w, RULE_SYSCTLS, field, value, "sets a "
		    "sysctl outside the container's own namespaces", NULL));
	}
	return (0);
}

static int
guard_binds(struct guard_walk *w, json_t *hc, const char *prefix)
{
	char		 field[GUARD_FIELD_SIZE], item[GUARD_FIELD_SIZE];
	json_t		*arr, *e;
	const char	*s;
	size_t		 i;

	if (guard_array(w, hc, "Binds", prefix, &arr) != 0)
		return (-1);
	if (arr == NULL)
		return (0);
	guard_path(field, sizeof(field), prefix, "Binds");
	json_array_foreach(arr, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_item_string(w, e, item, &s) != 0)
			return (-1);
		if (guard_bind_spec(w, item, e, s) != 0)
			return (-1);
	}
	return (0);
}

static int
guard_mounts(struct guard_walk *w, json_t *obj, const char *prefix)
{
	char	 field[GUARD_FIELD_SIZE], item[GUARD_FIELD_SIZE];
	json_t	*arr, *e;
	size_t	 i;

	if (guard_array(w, obj, "Mounts", prefix, &arr) != 0)
		return (-1);
	if (arr == NULL)
		return (0);
	guard_path(field, sizeof(field), prefix, "Mounts");
	json_array_foreach(arr, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_mount(w, e, item) != 0)
			return (-1);
	}
	return (0);
}

/*
 * The options of a volume of the local driver, which mounts whatever
 * they say on the host: a bind of a host path ("o" holding bind or
 * rbind), a disk device, or a network or memory file system.  Any other
 * file system type (proc, sysfs, cgroup, overlay, ...) is refused: each
 * reaches the host's kernel state or its files.
 */
static int
guard_local_opts(struct guard_walk *w, json_t *opts, const char *prefix)
{
	char		 field[GUARD_FIELD_SIZE], why[GUARD_REASON_SIZE];
	char		 shown[GUARD_FIELD_SIZE];
	const char	*key, *type = NULL, *o = NULL, *device = NULL;
	const char	*p, *end;
	json_t		*value, *type_v = NULL, *device_v = NULL;
	int		 bind = 0;

	json_object_foreach(opts, key, value) {
		http_escape(shown, sizeof(shown), key, strlen(key));
		guard_fmt(field, sizeof(field), "%s%s", prefix, shown);
		if (!json_is_string(value) && !json_is_null(value))
			return (guard_malformed(w, field,
			    "a string was expected"));
		if (!json_is_string(value))
			continue;
		if (strcmp(key, "type") == 0) {
			type = json_string_value(value);
			type_v = value;
		} else if (strcmp(key, "o") == 0)
			o = json_string_value(value);
		else if (strcmp(key, "device") == 0) {
			device = json_string_value(value);
			device_v = value;
		}
	}
	if (type == NULL && o == NULL && device == NULL)
		return (0);

	for (p = o; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (((size_t)(end - p) == 4 && strncmp(p, "bind", 4) == 0) ||
		    ((size_t)(end - p) == 5 && strncmp(p, "rbind", 5) == 0))
			bind = 1;
	}
	guard_path(field, sizeof(field), prefix, "device");
	if (bind)
		return (guard_bind_path(w, field, device_v, device ? device :
		    ""));
	if (type != NULL && guard_in_list(type, guard_remote_fs,
	    nitems(guard_remote_fs)))
		return (0);
	if (type != NULL && guard_in_list(type, guard_disk_fs,
	    nitems(guard_disk_fs)))
		return (guard_bind_path(w, field, device_v, device ? device :
		    ""));
	guard_path(field, sizeof(field), prefix, "type");
	guard_fmt(why, sizeof(why), "a local volume of this file system type "
	    "reaches the host's kernel state or files");
	return (guard_refuse(w, RULE_NONE, field, type_v, why, NULL));
}

/* The driver options of a volume, read only for the local driver. */
static int
guard_volume_driver(struct guard_walk *w, const char *driver, json_t *opts,
    const char *prefix)
{
	if (opts == NULL || (driver[0] != '\0' &&
	    !guard_ascii_eq(driver, "local")))
		return (0);
	return (guard_local_opts(w, opts, prefix));
}

/*
 * One element of Mounts: a bind's Source is a host path; a volume's
 * driver options may mount one.
 */
static int
guard_mount(struct guard_walk *w, json_t *v, const char *field)
{
	char		 prefix[GUARD_FIELD_SIZE], sub[GUARD_FIELD_SIZE];
	const char	*type, *source, *name;
	json_t		*m, *source_v, *vo, *dc, *opts;

	if (guard_struct(w, v, field, &m) != 0)
		return (-1);
	if (m == NULL)
		return (0);
	guard_fmt(prefix, sizeof(prefix), "%s.", field);
	if (guard_string(w, m, "Type", prefix, &type, NULL) != 0 ||
	    guard_string(w, m, "Source", prefix, &source, &source_v) != 0)
		return (-1);
	if (guard_ascii_eq(type, "bind")) {
		guard_path(sub, sizeof(sub), prefix, "Source");
		return (guard_bind_path(w, sub, source_v, source));
	}
	if (!guard_ascii_eq(type, "volume"))
		return (0);

	guard_path(sub, sizeof(sub), prefix, "VolumeOptions");
	if (guard_struct(w, guard_member(m, "VolumeOptions"), sub, &vo) != 0)
		return (-1);
	guard_fmt(prefix, sizeof(prefix), "%s.", sub);
	guard_path(sub, sizeof(sub), prefix, "DriverConfig");
	if (guard_struct(w, guard_member(vo, "DriverConfig"), sub, &dc) != 0)
		return (-1);
	guard_fmt(prefix, sizeof(prefix), "%s.", sub);
	if (guard_string(w, dc, "Name", prefix, &name, NULL) != 0 ||
	    guard_map(w, dc, "Options", prefix, &opts) != 0)
		return (-1);
	guard_path(sub, sizeof(sub), prefix, "Options.");
	return (guard_volume_driver(w, name, opts, sub));
}

/*
 * VolumesFrom entries, "NAME[:MODE]": the container's mounts must be
 * read from the engine before the create may go on.
 */
static int
guard_volumes_from(struct guard_walk *w, json_t *hc, const char *prefix)
{
	struct guard_result	*res = w->res;
	char			 field[GUARD_FIELD_SIZE];
	char			 item[GUARD_FIELD_SIZE];
	json_t			*arr, *e;
	const char		*s, *p;
	char			**grown;
	size_t			 i, n;

	if (guard_array(w, hc, "VolumesFrom", prefix, &arr) != 0)
		return (-1);
	if (arr == NULL)
		return (0);
	guard_path(field, sizeof(field), prefix, "VolumesFrom");
	json_array_foreach(arr, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_item_string(w, e, item, &s) != 0)
			return (-1);
		if (*s == '/')
			s++;
		n = strcspn(s, ":");
		if (n == 0 || n > GUARD_NAME_MAX)
			return (guard_malformed(w, item, "not a container "
			    "name"));
		for (p = s; p < s + n; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9'))
				continue;
			if (p > s && (*p == '_' || *p == '.' || *p == '-'))
				continue;
			return (guard_malformed(w, item, "not a container "
			    "name"));
		}
		if (res->nlookups == GUARD_LOOKUP_MAX)
			return (guard_malformed(w, item, "too many containers "
			    "to take volumes from"));
		grown = reallocarray(res->lookups, res->nlookups + 1,
		    sizeof(*res->lookups));
		if (grown == NULL) {
			w->oom = 1;
			return (-1);
		}
		res->lookups = grown;
		if ((res->lookups[res->nlookups] = strndup(s, n)) == NULL) {
			w->oom = 1;
			return (-1);
		}
		res->nlookups++;
	}
	return (0);
}

/*
 * Everything in a HostConfig but its namespaces: privileged mode,
 * capabilities, devices, confinement, sysctls, binds, mounts and the
 * containers it takes volumes from.
 */
static int
guard_host_config(struct guard_walk *w, json_t *hc, const char *prefix)
{
	const struct guard_config	*conf = w->conf;
	char				 field[GUARD_FIELD_SIZE];
	json_t				*v;
	int				 on;

	if (guard_bool(w, hc, "Privileged", prefix, &on, &v) != 0)
		return (-1);
	if (on && !conf->allow_privileged) {
		guard_path(field, sizeof(field), prefix, "Privileged");
		return (guard_refuse(w, RULE_PRIVILEGED, field, v, "a "
		    "privileged container is root on the host", NULL));
	}
	/* Capabilities replaced the default set in API 1.40 (Engine 19.03). */
	if (guard_cap_list(w, hc, "CapAdd", prefix, 1) != 0 ||
	    guard_cap_list(w, hc, "Capabilities", prefix, 0) != 0)
		return (-1);
	if (guard_empty_list(w, hc, "Devices", prefix, conf->allow_devices,
	    RULE_DEVICES, "gives the container a host device") != 0 ||
	    guard_empty_list(w, hc, "DeviceCgroupRules", prefix,
	    conf->allow_devices, RULE_DEVICES, "lets the container use host "
	    "devices") != 0 ||
	    guard_empty_list(w, hc, "DeviceRequests", prefix,
	    conf->allow_devices, RULE_DEVICES, "gives the container host "
	    "devices such as GPUs") != 0)
		return (-1);
	if (guard_security_opts(w, hc, prefix) != 0 ||
	    guard_kept_paths(w, hc, "MaskedPaths", prefix, guard_masked_paths,
	    nitems(guard_masked_paths)) != 0 ||
	    guard_kept_paths(w, hc, "ReadonlyPaths", prefix,
	    guard_readonly_paths, nitems(guard_readonly_paths)) != 0)
		return (-1);
	if (guard_sysctls(w, hc, prefix) != 0)
		return (-1);
	if (guard_binds(w, hc, prefix) != 0 ||
	    guard_mounts(w, hc, prefix) != 0 ||
	    guard_volumes_from(w, hc, prefix) != 0)
		return (-1);
	return (0);
}

/*
 * A container create.  dockerd decodes the body into a wrapper that
 * embeds both Config and a HostConfig, so HostConfig's fields count at
 * the top level too (dockerd uses them when "HostConfig" is absent): both
 * places are checked.
 */
static int
guard_container_create(struct guard_walk *w, json_t *body)
{
	json_t		*top, *hc, *nc, *ec, *value;
	const char	*key;

	if (guard_struct(w, body, "(body)", &top) != 0)
		return (-1);
	if (guard_struct(w, guard_member(top, "HostConfig"), "HostConfig",
	    &hc) != 0)
		return (-1);

	if (guard_namespaces(w, hc, "HostConfig.") != 0 ||
	    guard_namespaces(w, top, "") != 0)
		return (-1);
	if (guard_struct(w, guard_member(top, "NetworkingConfig"),
	    "NetworkingConfig", &nc) != 0 ||
	    guard_map(w, nc, "EndpointsConfig", "NetworkingConfig.", &ec) != 0)
		return (-1);
	if (ec != NULL && !w->conf->allow_host_namespaces) {
		json_object_foreach(ec, key, value) {
			if (strcmp(key, "host") != 0)
				continue;
			return (guard_refuse(w, RULE_HOST_NAMESPACES,
			    "NetworkingConfig.EndpointsConfig.host", value,
			    "connects the container to the host's network",
			    NULL));
		}
	}

	if (guard_host_config(w, hc, "HostConfig.") != 0 ||
	    guard_host_config(w, top, "") != 0)
		return (-1);
	return (0);
}

/* A container update: the resources it may change include devices. */
static int
guard_container_update(struct guard_walk *w, json_t *body)
{
	const struct guard_config	*conf = w->conf;
	json_t				*top;

	if (guard_struct(w, body, "(body)", &top) != 0)
		return (-1);
	if (guard_empty_list(w, top, "Devices", "", conf->allow_devices,
	    RULE_DEVICES, "gives the container a host device") != 0 ||
	    guard_empty_list(w, top, "DeviceCgroupRules", "",
	    conf->allow_devices, RULE_DEVICES, "lets the container use host "
	    "devices") != 0 ||
	    guard_empty_list(w, top, "DeviceRequests", "",
	    conf->allow_devices, RULE_DEVICES, "gives the container host "
	    "devices such as GPUs") != 0)
		return (-1);
	return (0);
}

static int
guard_exec_create(struct guard_walk *w, json_t *body)
{
	json_t	*top, *v;
	int	 on;

	if (guard_struct(w, body, "(body)", &top) != 0)
		return (-1);
	if (guard_bool(w, top, "Privileged", "", &on, &v) != 0)
		return (-1);
	if (on && !w->conf->allow_privileged)
		return (guard_refuse(w, RULE_PRIVILEGED, "Privileged", v, "a "
		    "privileged process is root on the host", NULL));
	return (0);
}

/* A service's network attachments: the "host" network is the host's. */
static int
guard_service_networks(struct guard_walk *w, json_t *obj,
    const char *prefix)
{
	char		 field[GUARD_FIELD_SIZE], item[GUARD_FIELD_SIZE];
	char		 sub[GUARD_FIELD_SIZE];
	json_t		*arr, *e, *att, *v;
	const char	*target;
	size_t		 i;

	if (guard_array(w, obj, "Networks", prefix, &arr) != 0)
		return (-1);
	if (arr == NULL)
		return (0);
	guard_path(field, sizeof(field), prefix, "Networks");
	json_array_foreach(arr, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_struct(w, e, item, &att) != 0)
			return (-1);
		guard_fmt(sub, sizeof(sub), "%s.", item);
		if (guard_string(w, att, "Target", sub, &target, &v) != 0)
			return (-1);
		if (!guard_ascii_eq(target, "host"))
			continue;
		w->shared_net = 1;
		if (w->conf->allow_host_namespaces)
			continue;
		guard_path(item, sizeof(item), sub, "Target");
		return (guard_refuse(w, RULE_HOST_NAMESPACES, item, v,
		    "attaches the service to the host's network", NULL));
	}
	return (0);
}

/*
 * A service's Privileges: SELinux, and in later APIs the seccomp and
 * AppArmor modes, each of which can drop the container's confinement.
 */
static int
guard_privileges(struct guard_walk *w, json_t *priv, const char *prefix)
{
	char		 sub[GUARD_FIELD_SIZE], field[GUARD_FIELD_SIZE];
	json_t		*sel, *sec, *aa, *v;
	const char	*s;
	int		 on;

	if (w->conf->allow_unconfined)
		return (0);
	guard_path(field, sizeof(field), prefix, "SELinuxContext");
	if (guard_struct(w, guard_member(priv, "SELinuxContext"), field,
	    &sel) != 0)
		return (-1);
	guard_fmt(sub, sizeof(sub), "%s.", field);
	if (guard_bool(w, sel, "Disable", sub, &on, &v) != 0)
		return (-1);
	guard_path(field, sizeof(field), sub, "Disable");
	if (on)
		return (guard_refuse(w, RULE_UNCONFINED, field, v, "turns "
		    "SELinux confinement off", NULL));
	if (guard_string(w, sel, "Type", sub, &s, &v) != 0)
		return (-1);
	guard_path(field, sizeof(field), sub, "Type");
	if (*s != '\0')
		return (guard_refuse(w, RULE_UNCONFINED, field, v, "an SELinux "
		    "type of the client's choice may be unconfined", NULL));

	guard_path(field, sizeof(field), prefix, "Seccomp");
	if (guard_struct(w, guard_member(priv, "Seccomp"), field, &sec) != 0)
		return (-1);
	guard_fmt(sub, sizeof(sub), "%s.", field);
	if (guard_string(w, sec, "Mode", sub, &s, &v) != 0)
		return (-1);
	guard_path(field, sizeof(field), sub, "Mode");
	if (guard_ascii_eq(s, "unconfined") || guard_ascii_eq(s, "custom"))
		return (guard_refuse(w, RULE_UNCONFINED, field, v, "drops or "
		    "replaces the default seccomp profile", NULL));

	guard_path(field, sizeof(field), prefix, "AppArmor");
	if (guard_struct(w, guard_member(priv, "AppArmor"), field, &aa) != 0)
		return (-1);
	guard_fmt(sub, sizeof(sub), "%s.", field);
	if (guard_string(w, aa, "Mode", sub, &s, &v) != 0)
		return (-1);
	guard_path(field, sizeof(field), sub, "Mode");
	if (guard_ascii_eq(s, "disabled"))
		return (guard_refuse(w, RULE_UNCONFINED, field, v, "turns "
		    "AppArmor off", NULL));
	return (0);
}

/*
 * A service's container spec: privileges, capabilities, mounts and
 * sysctls.  Swarm has no privileged mode, devices or namespace modes.
 */
static int
guard_container_spec(struct guard_walk *w, json_t *cs, const char *prefix)
{
	char	 field[GUARD_FIELD_SIZE], sub[GUARD_FIELD_SIZE];
	json_t	*priv;

	guard_path(field, sizeof(field), prefix, "Privileges");
	if (guard_struct(w, guard_member(cs, "Privileges"), field, &priv) != 0)
		return (-1);
	guard_fmt(sub, sizeof(sub), "%s.", field);
	if (guard_privileges(w, priv, sub) != 0)
		return (-1);
	if (guard_cap_list(w, cs, "CapabilityAdd", prefix, 0) != 0 ||
	    guard_mounts(w, cs, prefix) != 0 ||
	    guard_sysctls(w, cs, prefix) != 0)
		return (-1);
	return (0);
}

/* A service spec, for create and update alike. */
static int
guard_service(struct guard_walk *w, json_t *body)
{
	json_t	*top, *tt, *cs, *ps;

	if (guard_struct(w, body, "(body)", &top) != 0)
		return (-1);
	if (guard_struct(w, guard_member(top, "TaskTemplate"), "TaskTemplate",
	    &tt) != 0)
		return (-1);
	if (guard_service_networks(w, tt, "TaskTemplate.") != 0 ||
	    guard_service_networks(w, top, "") != 0)
		return (-1);
	if (guard_struct(w, guard_member(tt, "ContainerSpec"),
	    "TaskTemplate.ContainerSpec", &cs) != 0)
		return (-1);
	if (guard_container_spec(w, cs, "TaskTemplate.ContainerSpec.") != 0)
		return (-1);
	if (guard_struct(w, guard_member(tt, "PluginSpec"),
	    "TaskTemplate.PluginSpec", &ps) != 0)
		return (-1);
	return (guard_plugin_privileges(w, guard_member(ps, "Privileges"),
	    "TaskTemplate.PluginSpec.Privileges"));
}

/* A volume create: the local driver's options may mount a host path. */
static int
guard_volume_create(struct guard_walk *w, json_t *body)
{
	json_t		*top, *opts;
	const char	*driver;

	if (guard_struct(w, body, "(body)", &top) != 0)
		return (-1);
	if (guard_string(w, top, "Driver", "", &driver, NULL) != 0 ||
	    guard_map(w, top, "DriverOpts", "", &opts) != 0)
		return (-1);
	return (guard_volume_driver(w, driver, opts, "DriverOpts."));
}

/*
 * What a plugin privilege gives, by its name as dockerd computes them
 * from the plugin's config: its network, host namespaces, mounts,
 * devices, capabilities.  dockerd installs the plugin only if the list
 * sent is exactly the plugin's, so the list is what the plugin will get.
 */
static int
guard_plugin_rule(struct guard_walk *w, const char *name, json_t *name_v,
    json_t *values, const char *prefix)
{
	const struct guard_config	*conf = w->conf;
	char				 nfield[GUARD_FIELD_SIZE];
	char				 vfield[GUARD_FIELD_SIZE];
	char				 item[GUARD_FIELD_SIZE];
	json_t				*e;
	size_t				 i;
	int				 network, mount, caps;

	guard_path(nfield, sizeof(nfield), prefix, "Name");
	guard_path(vfield, sizeof(vfield), prefix, "Value");
	if (strcmp(name, "host pid namespace") == 0 ||
	    strcmp(name, "host ipc namespace") == 0) {
		if (conf->allow_host_namespaces)
			return (0);
		return (guard_refuse(w, RULE_HOST_NAMESPACES, nfield, name_v,
		    "the plugin would share a namespace of the host", NULL));
	}
	if (strcmp(name, "device") == 0 ||
	    strcmp(name, "allow-all-devices") == 0) {
		if (conf->allow_devices)
			return (0);
		return (guard_refuse(w, RULE_DEVICES, nfield, name_v, "the "
		    "plugin would use host devices", NULL));
	}
	network = strcmp(name, "network") == 0;
	mount = strcmp(name, "mount") == 0;
	caps = strcmp(name, "capabilities") == 0;
	if (!network && !mount && !caps)
		return (guard_refuse(w, RULE_NONE, nfield, name_v, "dsp does "
		    "not know this plugin privilege", NULL));

	json_array_foreach(values, i, e) {
		guard_path_index(item, sizeof(item), vfield, i);
		if (mount && guard_bind_path(w, item, e, guard_str(e)) != 0)
			return (-1);
		if (caps && guard_cap(w, item, e, guard_str(e)) != 0)
			return (-1);
		if (!network || strcmp(guard_str(e), "host") != 0 ||
		    conf->allow_host_namespaces)
			continue;
		return (guard_refuse(w, RULE_HOST_NAMESPACES, item, e,
		    "the plugin would use the host's network", NULL));
	}
	return (0);
}

/* One element of a plugin's privileges: {Name, Description, Value}. */
static int
guard_plugin_privilege(struct guard_walk *w, json_t *v, const char *field)
{
	char		 prefix[GUARD_FIELD_SIZE], vfield[GUARD_FIELD_SIZE];
	char		 item[GUARD_FIELD_SIZE];
	json_t		*p, *values, *e, *name_v;
	const char	*name, *s;
	size_t		 i;

	if (guard_struct(w, v, field, &p) != 0)
		return (-1);
	if (p == NULL)
		return (0);
	guard_fmt(prefix, sizeof(prefix), "%s.", field);
	if (guard_string(w, p, "Name", prefix, &name, &name_v) != 0 ||
	    guard_array(w, p, "Value", prefix, &values) != 0)
		return (-1);
	guard_path(vfield, sizeof(vfield), prefix, "Value");
	json_array_foreach(values, i, e) {
		guard_path_index(item, sizeof(item), vfield, i);
		if (guard_item_string(w, e, item, &s) != 0)
			return (-1);
	}
	return (guard_plugin_rule(w, name, name_v, values, prefix));
}

static int
guard_plugin_privileges(struct guard_walk *w, json_t *v, const char *field)
{
	char	 item[GUARD_FIELD_SIZE];
	json_t	*e;
	size_t	 i;

	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_array(v))
		return (guard_malformed(w, field[0] != '\0' ? field : "(body)",
		    "an array was expected"));
	json_array_foreach(v, i, e) {
		guard_path_index(item, sizeof(item), field, i);
		if (guard_plugin_privilege(w, e, item) != 0)
			return (-1);
	}
	return (0);
}

/* Whether a body holds nothing but JSON's white space. */
static int
guard_blank(const char *body, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\n' &&
		    body[i] != '\r')
			return (0);
	}
	return (1);
}

/*
 * Parse a body as dsp reads every body: duplicate keys and NUL in strings
 * refused, any value at the top (Go decodes null and scalars too), and
 * integers read as reals, since dsp reads none of them and Go accepts
 * uint64 values jansson's integers cannot hold.
 */
static json_t *
guard_parse(struct guard_walk *w, const char *body, size_t len)
{
	json_error_t	 err;
	json_t		*root;
	char		 why[GUARD_REASON_SIZE], text[GUARD_QUOTE_SIZE];

	if (guard_blank(body, len)) {
		guard_malformed(w, "", "the body is empty; dockerd wants JSON");
		return (NULL);
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
	    JSON_DECODE_INT_AS_REAL, &err);
	if (root == NULL) {
		http_escape(text, sizeof(text), err.text, strlen(err.text));
		guard_fmt(why, sizeof(why), "not JSON as dsp reads it (%s, at "
		    "byte %d)", text, err.position);
		guard_malformed(w, "", why);
	}
	return (root);
}

static void
guard_walk_init(struct guard_walk *w, const struct guard_config *conf,
    struct guard_result *res)
{
	memset(res, 0, sizeof(*res));
	res->verdict = GUARD_PASS;
	memset(w, 0, sizeof(*w));
	w->conf = conf;
	w->res = res;
	w->intro = "";
}

/*
 * Check the body of a create-class request against the guard's rules.
 * The result says pass, refuse (403), malformed (400), or lookup: the
 * containers named in lookups must be inspected and each checked with
 * guard_check_inherited before the request may pass.  Returns -1 only
 * when out of memory.
 */
int
guard_check(const struct guard_config *conf, const struct endpoint *ep,
    const char *body, size_t len, struct guard_result *res)
{
	struct guard_walk	 w;
	json_t			*root;
	size_t			 i;
	int			 rc = 0;

	guard_walk_init(&w, conf, res);
	if (ep == NULL || (ep->flags & ENDPOINT_BODY_GUARD) == 0)
		return (0);
	for (i = 0; i < nitems(guard_actions); i++) {
		if (strcmp(ep->action, guard_actions[i].action) == 0)
			break;
	}
	if (i == nitems(guard_actions)) {
		/* A catalogue entry the guard has no reader for: fail shut. */
		guard_refuse(&w, RULE_NONE, "(body)", NULL, "dsp has no check "
		    "for the body of this action", NULL);
		return (0);
	}

	if ((root = guard_parse(&w, body, len)) == NULL)
		return (0);
	if (json_is_null(root)) {
		json_decref(root);
		return (0);
	}
	switch (guard_actions[i].body) {
	case BODY_CONTAINER_CREATE:
		guard_container_create(&w, root);
		break;
	case BODY_CONTAINER_UPDATE:
		guard_container_update(&w, root);
		break;
	case BODY_EXEC_CREATE:
		guard_exec_create(&w, root);
		break;
	case BODY_SERVICE:
		guard_service(&w, root);
		break;
	case BODY_VOLUME_CREATE:
		guard_volume_create(&w, root);
		break;
	case BODY_PLUGIN:
		guard_plugin_privileges(&w, root, "");
		break;
	}
	json_decref(root);

	if (w.oom) {
		guard_result_clear(res);
		rc = -1;
	} else if (res->verdict == GUARD_PASS && res->nlookups > 0)
		res->verdict = GUARD_LOOKUP;
	return (rc);
}

/* The binds of an inspected container's Mounts list. */
static int
guard_inspect_mounts(struct guard_walk *w, json_t *top)
{
	char		 item[GUARD_FIELD_SIZE], prefix[GUARD_FIELD_SIZE];
	json_t		*mounts, *e, *m, *source_v;
	const char	*type, *source;
	size_t		 i;

	if (guard_array(w, top, "Mounts", "", &mounts) != 0)
		return (-1);
	json_array_foreach(mounts, i, e) {
		guard_path_index(item, sizeof(item), "Mounts", i);
		guard_fmt(prefix, sizeof(prefix), "%s.", item);
		if (guard_struct(w, e, item, &m) != 0 ||
		    guard_string(w, m, "Type", prefix, &type, NULL) != 0 ||
		    guard_string(w, m, "Source", prefix, &source,
		    &source_v) != 0)
			return (-1);
		if (!guard_ascii_eq(type, "bind"))
			continue;
		guard_path(item, sizeof(item), prefix, "Source");
		if (guard_bind_path(w, item, source_v, source) != 0)
			return (-1);
	}
	return (0);
}

/*
 * Check a container that a create takes volumes from, given the
 * engine's inspect of it: its binds and mounts are judged as if the
 * create asked for them itself.  The verdict is pass or refuse; an
 * inspect dsp cannot read refuses too.  Returns -1 only when out of
 * memory.
 */
int
guard_check_inherited(const struct guard_config *conf,
    const char *inspect_json, size_t len, struct guard_result *res)
{
	struct guard_walk	 w;
	json_t			*root, *top = NULL, *hc, *name_v;
	const char		*name = "";
	char			 intro[GUARD_QUOTE_SIZE + 64];
	char			 why[GUARD_QUOTE_SIZE];

	guard_walk_init(&w, conf, res);
	if ((root = guard_parse(&w, inspect_json, len)) == NULL)
		goto unreadable;
	if (guard_struct(&w, root, "(body)", &top) != 0 || top == NULL ||
	    guard_string(&w, top, "Name", "", &name, NULL) != 0) {
		json_decref(root);
		goto unreadable;
	}
	if ((name_v = json_string(name[0] == '/' ? name + 1 : name)) == NULL)
		w.oom = 1;
	else {
		guard_quote(name_v, why, sizeof(why));
		json_decref(name_v);
		guard_fmt(intro, sizeof(intro), "HostConfig.VolumesFrom names "
		    "container %s, whose ", why);
		w.intro = intro;
		if (guard_struct(&w, guard_member(top, "HostConfig"),
		    "HostConfig", &hc) == 0 &&
		    guard_binds(&w, hc, "HostConfig.") == 0 &&
		    guard_mounts(&w, hc, "HostConfig.") == 0)
			guard_inspect_mounts(&w, top);
	}
	json_decref(root);
	if (w.oom) {
		guard_result_clear(res);
		return (-1);
	}
	if (res->verdict == GUARD_PASS)
		return (0);
	if (res->verdict == GUARD_REFUSE)
		goto field;

unreadable:
	guard_fmt(why, sizeof(why), "%s", res->message +
	    strlen("dsp: malformed body: "));
	guard_fmt(res->message, sizeof(res->message), "dsp: "
	    "HostConfig.VolumesFrom refused: dsp could not read the engine's "
	    "inspect of the container (%s)", why);
field:
	/* The create is what is refused, whatever its source holds. */
	res->verdict = GUARD_REFUSE;
	guard_fmt(res->field, sizeof(res->field), "HostConfig.VolumesFrom");
	return (0);
}

void
guard_result_clear(struct guard_result *res)
{
	guard_drop_lookups(res);
	memset(res, 0, sizeof(*res));
}

void
guard_config_init(struct guard_config *conf)
{
	memset(conf, 0, sizeof(*conf));
}

void
guard_config_free(struct guard_config *conf)
{
	size_t	i;

	for (i = 0; i < conf->nallow_bind; i++)
		free(conf->allow_bind[i]);
	free(conf->allow_bind);
	memset(conf, 0, sizeof(*conf));
}

const struct guard_option_spec *
guard_options(size_t *n)
{
	*n = nitems(guard_option_table);
	return (guard_option_table);
}

/* Add one item of a list option: a capability or a host path. */
static int
guard_option_item(struct guard_config *conf,
    const struct guard_option_spec *o, const char *label, const char *item,
    char *err, size_t errlen)
{
	char	 norm[64], path[GUARD_PATH_MAX], quoted[GUARD_QUOTE_SIZE];
	char	**grown;
	int	 n;

	http_escape(quoted, sizeof(quoted), item, strlen(item));
	if (strcmp(o->name, "allow-cap") == 0) {
		n = guard_cap_number(item, norm, sizeof(norm));
		if (n == -1) {
			guard_fmt(err, errlen, "%s: unknown capability \"%s\"",
			    label, quoted);
			return (-1);
		}
		if (n == -2)
			conf->allow_all_caps = 1;
		else
			conf->allow_caps |= (uint64_t)1 << n;
		return (0);
	}

	if (guard_canon_path(item, path, sizeof(path)) != 0) {
		guard_fmt(err, errlen, "%s: not an absolute path \"%s\"", label,
		    quoted);
		return (-1);
	}
	if (conf->nallow_bind == GUARD_ALLOW_BIND_MAX) {
		guard_fmt(err, errlen, "%s: more than %d paths", label,
		    GUARD_ALLOW_BIND_MAX);
		return (-1);
	}
	grown = reallocarray(conf->allow_bind, conf->nallow_bind + 1,
	    sizeof(*conf->allow_bind));
	if (grown == NULL)
		goto oom;
	conf->allow_bind = grown;
	if ((conf->allow_bind[conf->nallow_bind] = strdup(path)) == NULL)
		goto oom;
	conf->nallow_bind++;
	return (0);

oom:
	guard_fmt(err, errlen, "%s: out of memory", label);
	return (-1);
}

/* Set a switch: a bare flag turns it on, a value is a boolean. */
static int
guard_option_switch(struct guard_config *conf,
    const struct guard_option_spec *o, const char *label, int from_env,
    const char *value, char *err, size_t errlen)
{
	char	 quoted[GUARD_QUOTE_SIZE];
	int	*flag, on;

	if (strcmp(o->name, "allow-privileged") == 0)
		flag = &conf->allow_privileged;
	else if (strcmp(o->name, "allow-host-namespaces") == 0)
		flag = &conf->allow_host_namespaces;
	else if (strcmp(o->name, "allow-devices") == 0)
		flag = &conf->allow_devices;
	else if (strcmp(o->name, "allow-unconfined") == 0)
		flag = &conf->allow_unconfined;
	else
		flag = &conf->allow_sysctls;

	if (value == NULL && !from_env) {
		*flag = 1;
		return (0);
	}
	if (value == NULL || env_bool(value, &on) != 0) {
		http_escape(quoted, sizeof(quoted), value ? value : "",
		    value ? strlen(value) : 0);
		guard_fmt(err, errlen, "%s: not a boolean \"%s\"", label,
		    quoted);
		return (-1);
	}
	*flag = on;
	return (0);
}

/* Add each item of a comma-separated list; empty items are skipped. */
static int
guard_option_list(struct guard_config *conf,
    const struct guard_option_spec *o, const char *label, const char *value,
    char *err, size_t errlen)
{
	const char	*p, *end;
	char		 item[GUARD_PATH_MAX];

	for (p = value; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		if ((size_t)(end - p) >= sizeof(item)) {
			guard_fmt(err, errlen, "%s: item too long", label);
			return (-1);
		}
		memcpy(item, p, (size_t)(end - p));
		item[end - p] = '\0';
		if (guard_option_item(conf, o, label, item, err, errlen) != 0)
			return (-1);
	}
	return (0);
}

/*
 * Apply one option to a guard config.  option is the flag's name (with or
 * without its dashes) or its environment twin.  A switch given as a flag
 * may have no value; otherwise the value is a boolean as dspd reads them.
 * A list takes one item from a flag, and a comma-separated list from the
 * environment.  Returns -1 with a one-line message in err on a bad value.
 */
int
guard_option(struct guard_config *conf, const char *option,
    const char *value, char *err, size_t errlen)
{
	const struct guard_option_spec	*o = NULL;
	const char			*name = option;
	char				 label[64];
	char				 quoted[GUARD_QUOTE_SIZE];
	size_t				 i;
	int				 from_env = 0;

	if (strncmp(name, "--", 2) == 0)
		name += 2;
	for (i = 0; i < nitems(guard_option_table) && o == NULL; i++) {
		if (strcmp(name, guard_option_table[i].name) == 0)
			o = &guard_option_table[i];
		else if (strcmp(name, guard_option_table[i].env) == 0) {
			o = &guard_option_table[i];
			from_env = 1;
		}
	}
	if (o == NULL) {
		http_escape(quoted, sizeof(quoted), option, strlen(option));
		guard_fmt(err, errlen, "unknown guard option %s", quoted);
		return (-1);
	}
	if (from_env)
		guard_fmt(label, sizeof(label), "%s", o->env);
	else
		guard_fmt(label, sizeof(label), "--%s", o->name);

	if (o->arg == GUARD_ARG_BOOL)
		return (guard_option_switch(conf, o, label, from_env, value,
		    err, errlen));
	if (value == NULL) {
		guard_fmt(err, errlen, "%s: a value is needed", label);
		return (-1);
	}
	if (from_env)
		return (guard_option_list(conf, o, label, value, err, errlen));
	return (guard_option_item(conf, o, label, value, err, errlen));
}

/* The switch of a boolean option, by its name. */
static int
guard_switch_value(const struct guard_config *conf, const char *name)
{
	if (strcmp(name, "allow-privileged") == 0)
		return (conf->allow_privileged);
	if (strcmp(name, "allow-host-namespaces") == 0)
		return (conf->allow_host_namespaces);
	if (strcmp(name, "allow-devices") == 0)
		return (conf->allow_devices);
	if (strcmp(name, "allow-unconfined") == 0)
		return (conf->allow_unconfined);
	return (conf->allow_sysctls);
}

/*
 * The relaxations as the JSON object a policy revision keeps, keyed by
 * option name: {"allow-privileged": false, "allow-cap": ["NET_ADMIN"],
 * "allow-bind": ["/srv"], ...}.  Returns an allocated string.
 */
char *
guard_config_to_json(const struct guard_config *conf)
{
	json_t	*obj, *list;
	char	*out;
	size_t	 i, n;

	if ((obj = json_object()) == NULL)
		return (NULL);
	for (i = 0; i < nitems(guard_option_table); i++) {
		if (guard_option_table[i].arg == GUARD_ARG_BOOL) {
			json_object_set_new(obj, guard_option_table[i].name,
			    json_boolean(guard_switch_value(conf,
			    guard_option_table[i].name)));
			continue;
		}
		list = json_array();
		if (strcmp(guard_option_table[i].name, "allow-cap") == 0) {
			if (conf->allow_all_caps)
				json_array_append_new(list, json_string("ALL"));
			for (n = 0; n < nitems(guard_caps); n++)
				if (conf->allow_caps & ((uint64_t)1 << n))
					json_array_append_new(list,
					    json_string(guard_caps[n]));
		} else {
			for (n = 0; n < conf->nallow_bind; n++)
				json_array_append_new(list,
				    json_string(conf->allow_bind[n]));
		}
		json_object_set_new(obj, guard_option_table[i].name, list);
	}
	out = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	return (out);
}

/*
 * Read the relaxations back from a revision's JSON object, through the
 * same checks as the command line; *conf is replaced only on success.
 */
int
guard_config_from_json(struct guard_config *conf, const char *text,
    char *err, size_t errlen)
{
	struct guard_config	 c;
	json_t			*obj, *v, *item;
	const char		*key;
	size_t			 i;
	int			 rc = -1;

	guard_config_init(&c);
	obj = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (obj == NULL || !json_is_object(obj)) {
		guard_fmt(err, errlen, "guard state is not a JSON object");
		goto out;
	}
	json_object_foreach(obj, key, v) {
		if (json_is_boolean(v)) {
			if (guard_option(&c, key, json_is_true(v) ? "1" : "0",
			    err, errlen) != 0)
				goto out;
			continue;
		}
		if (!json_is_array(v)) {
			guard_fmt(err, errlen, "guard state: %.64s is neither "
			    "a boolean nor a list", key);
			goto out;
		}
		json_array_foreach(v, i, item) {
			if (!json_is_string(item) || guard_option(&c, key,
			    json_string_value(item), err, errlen) != 0) {
				if (json_is_string(item))
					goto out;
				guard_fmt(err, errlen, "guard state: %.64s "
				    "holds a non-string", key);
				goto out;
			}
		}
	}
	guard_config_free(conf);
	*conf = c;
	rc = 0;
out:
	if (rc != 0)
		guard_config_free(&c);
	json_decref(obj);
	return (rc);
}
