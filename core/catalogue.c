/*
 * catalogue.c: every route of dockerd's API router, with its group, its
 * action and what it does.
 *
 * The table covers the router of Engine API 1.41 (Docker 20.10) and the
 * routes later versions added, each with the version that added it.
 * Patterns are anchored at both ends.  A "{...}" segment ("{id}") stands
 * for one path segment; "{name*}" for one or more, because image, plugin
 * and distribution names hold '/' ("localhost:5000/team/app:1.0").  dockerd
 * itself lets "{name:.*}" span segments for containers, volumes and
 * networks too, but no such name can hold '/', so dsp refuses those
 * paths instead of guessing.
 */

#include <string.h>

#include "dspd.h"

#define WR	ENDPOINT_WRITES
#define CRED	ENDPOINT_CREDENTIAL
#define GUARD	ENDPOINT_BODY_GUARD
#define STREAM	ENDPOINT_STREAM
#define UPGR	ENDPOINT_UPGRADE

static const struct endpoint catalogue_table[] = {
	/* Ping, version, info, events, auth, disk usage: the system router. */
	{ "GET", "/_ping", "ping.check", GROUP_PING, KIND_NONE, 0, NULL },
	{ "HEAD", "/_ping", "ping.check", GROUP_PING, KIND_NONE, 0, NULL },
	{ "GET", "/version", "version.inspect", GROUP_VERSION, KIND_NONE, 0,
	    NULL },
	{ "GET", "/info", "info.inspect", GROUP_INFO, KIND_NONE, 0, NULL },
	{ "GET", "/events", "events.watch", GROUP_EVENTS, KIND_NONE, STREAM,
	    NULL },
	{ "POST", "/auth", "auth.login", GROUP_AUTH, KIND_NONE, WR, NULL },
	{ "GET", "/system/df", "system.df", GROUP_SYSTEM, KIND_NONE, 0, NULL },

	/* Containers. */
	{ "GET", "/containers/json", "containers.list", GROUP_CONTAINERS,
	    KIND_NONE, 0, NULL },
	{ "POST", "/containers/create", "containers.create", GROUP_CONTAINERS,
	    KIND_NONE, WR | GUARD, NULL },
	{ "POST", "/containers/prune", "containers.prune", GROUP_CONTAINERS,
	    KIND_NONE, WR, NULL },
	{ "GET", "/containers/{id}/json", "containers.inspect",
	    GROUP_CONTAINERS, KIND_NONE, 0, NULL },
	{ "GET", "/containers/{id}/top", "containers.top", GROUP_CONTAINERS,
	    KIND_TOP, 0, NULL },
	{ "GET", "/containers/{id}/logs", "containers.logs", GROUP_CONTAINERS,
	    KIND_LOGS, STREAM, NULL },
	{ "GET", "/containers/{id}/changes", "containers.changes",
	    GROUP_CONTAINERS, KIND_CHANGES, 0, NULL },
	{ "GET", "/containers/{id}/stats", "containers.stats", GROUP_CONTAINERS,
	    KIND_NONE, STREAM, NULL },
	{ "GET", "/containers/{id}/export", "containers.export",
	    GROUP_CONTAINERS, KIND_EXPORT, 0, NULL },
	{ "HEAD", "/containers/{id}/archive", "containers.archive_stat",
	    GROUP_CONTAINERS, KIND_ARCHIVE, 0, NULL },
	{ "GET", "/containers/{id}/archive", "containers.archive",
	    GROUP_CONTAINERS, KIND_ARCHIVE, 0, NULL },
	{ "PUT", "/containers/{id}/archive", "containers.archive_put",
	    GROUP_CONTAINERS, KIND_ARCHIVE, WR, NULL },
	/* Still copies files out for API versions before 1.24. */
	{ "POST", "/containers/{id}/copy", "containers.copy", GROUP_CONTAINERS,
	    KIND_ARCHIVE, WR, NULL },
	{ "POST", "/containers/{id}/start", "containers.start",
	    GROUP_CONTAINERS, KIND_START, WR, NULL },
	{ "POST", "/containers/{id}/stop", "containers.stop", GROUP_CONTAINERS,
	    KIND_STOP, WR, NULL },
	{ "POST", "/containers/{id}/restart", "containers.restart",
	    GROUP_CONTAINERS, KIND_RESTART, WR, NULL },
	{ "POST", "/containers/{id}/kill", "containers.kill", GROUP_CONTAINERS,
	    KIND_KILL, WR, NULL },
	{ "POST", "/containers/{id}/pause", "containers.pause",
	    GROUP_CONTAINERS, KIND_PAUSE, WR, NULL },
	{ "POST", "/containers/{id}/unpause", "containers.unpause",
	    GROUP_CONTAINERS, KIND_UNPAUSE, WR, NULL },
	{ "POST", "/containers/{id}/wait", "containers.wait", GROUP_CONTAINERS,
	    KIND_NONE, WR | STREAM, NULL },
	{ "POST", "/containers/{id}/resize", "containers.resize",
	    GROUP_CONTAINERS, KIND_NONE, WR, NULL },
	{ "POST", "/containers/{id}/rename", "containers.rename",
	    GROUP_CONTAINERS, KIND_NONE, WR, NULL },
	{ "POST", "/containers/{id}/update", "containers.update",
	    GROUP_CONTAINERS, KIND_NONE, WR | GUARD, NULL },
	{ "DELETE", "/containers/{id}", "containers.delete", GROUP_CONTAINERS,
	    KIND_NONE, WR, NULL },
	/* Checkpoints: experimental daemons only. */
	{ "GET", "/containers/{id}/checkpoints", "containers.checkpoint_list",
	    GROUP_CONTAINERS, KIND_NONE, 0, NULL },
	{ "POST", "/containers/{id}/checkpoints",
	    "containers.checkpoint_create", GROUP_CONTAINERS, KIND_NONE, WR,
	    NULL },
	{ "DELETE", "/containers/{id}/checkpoints/{checkpoint}",
	    "containers.checkpoint_delete", GROUP_CONTAINERS, KIND_NONE, WR,
	    NULL },

	/*
	 * Attach and exec: they run or feed processes in a container, so
	 * they form one group whatever their path.  The websocket attach is
	 * a GET that writes to the container's stdin.
	 */
	{ "POST", "/containers/{id}/attach", "exec.attach", GROUP_EXEC,
	    KIND_ATTACH, WR | STREAM | UPGR, NULL },
	{ "GET", "/containers/{id}/attach/ws", "exec.attach_ws", GROUP_EXEC,
	    KIND_ATTACH, WR | STREAM | UPGR, NULL },
	{ "POST", "/containers/{id}/exec", "exec.create", GROUP_EXEC, KIND_EXEC,
	    WR | GUARD, NULL },
	{ "POST", "/exec/{id}/start", "exec.start", GROUP_EXEC, KIND_EXEC,
	    WR | STREAM | UPGR, NULL },
	{ "POST", "/exec/{id}/resize", "exec.resize", GROUP_EXEC, KIND_NONE, WR,
	    NULL },
	{ "GET", "/exec/{id}/json", "exec.inspect", GROUP_EXEC, KIND_NONE, 0,
	    NULL },

	/* Images; an export writes every layer of an image to the client. */
	{ "GET", "/images/json", "images.list", GROUP_IMAGES, KIND_NONE, 0,
	    NULL },
	{ "GET", "/images/search", "images.search", GROUP_IMAGES, KIND_NONE, 0,
	    NULL },
	{ "GET", "/images/get", "images.export", GROUP_IMAGES, KIND_EXPORT, 0,
	    NULL },
	{ "GET", "/images/{name*}/get", "images.export", GROUP_IMAGES,
	    KIND_EXPORT, 0, NULL },
	{ "GET", "/images/{name*}/json", "images.inspect", GROUP_IMAGES,
	    KIND_NONE, 0, NULL },
	{ "GET", "/images/{name*}/history", "images.history", GROUP_IMAGES,
	    KIND_NONE, 0, NULL },
	{ "GET", "/images/{name*}/attestations", "images.attestations",
	    GROUP_IMAGES, KIND_NONE, 0, "1.55" },
	{ "POST", "/images/create", "images.create", GROUP_IMAGES, KIND_NONE,
	    WR, NULL },
	{ "POST", "/images/load", "images.load", GROUP_IMAGES, KIND_NONE, WR,
	    NULL },
	{ "POST", "/images/prune", "images.prune", GROUP_IMAGES, KIND_NONE, WR,
	    NULL },
	{ "POST", "/images/{name*}/push", "images.push", GROUP_IMAGES,
	    KIND_NONE, WR, NULL },
	{ "POST", "/images/{name*}/tag", "images.tag", GROUP_IMAGES, KIND_NONE,
	    WR, NULL },
	{ "DELETE", "/images/{name*}", "images.delete", GROUP_IMAGES, KIND_NONE,
	    WR, NULL },
	{ "POST", "/commit", "commit.create", GROUP_COMMIT, KIND_NONE, WR,
	    NULL },
	{ "GET", "/distribution/{name*}/json", "distribution.inspect",
	    GROUP_DISTRIBUTION, KIND_NONE, 0, NULL },

	/* BuildKit's session and gRPC endpoints switch to h2c with a 101. */
	/*
	 * XXX a build's query can ask for the host's network (networkmode)
	 * for its RUN steps; the guard reads bodies, not build queries.
	 */
	{ "POST", "/build", "build.image", GROUP_BUILD, KIND_NONE, WR, NULL },
	{ "POST", "/build/prune", "build.prune", GROUP_BUILD, KIND_NONE, WR,
	    NULL },
	{ "POST", "/build/cancel", "build.cancel", GROUP_BUILD, KIND_NONE, WR,
	    NULL },
	{ "POST", "/session", "session.start", GROUP_SESSION, KIND_NONE,
	    WR | STREAM | UPGR, NULL },
	{ "POST", "/grpc", "grpc.serve", GROUP_GRPC, KIND_NONE,
	    WR | STREAM | UPGR, NULL },

	/* Networks. */
	{ "GET", "/networks", "networks.list", GROUP_NETWORKS, KIND_NONE, 0,
	    NULL },
	{ "GET", "/networks/{id}", "networks.inspect", GROUP_NETWORKS,
	    KIND_NONE, 0, NULL },
	{ "POST", "/networks/create", "networks.create", GROUP_NETWORKS,
	    KIND_NONE, WR, NULL },
	{ "POST", "/networks/prune", "networks.prune", GROUP_NETWORKS,
	    KIND_NONE, WR, NULL },
	{ "POST", "/networks/{id}/connect", "networks.connect", GROUP_NETWORKS,
	    KIND_NONE, WR, NULL },
	{ "POST", "/networks/{id}/disconnect", "networks.disconnect",
	    GROUP_NETWORKS, KIND_NONE, WR, NULL },
	{ "DELETE", "/networks/{id}", "networks.delete", GROUP_NETWORKS,
	    KIND_NONE, WR, NULL },

	/* Volumes. */
	{ "GET", "/volumes", "volumes.list", GROUP_VOLUMES, KIND_NONE, 0,
	    NULL },
	{ "GET", "/volumes/{name}", "volumes.inspect", GROUP_VOLUMES, KIND_NONE,
	    0, NULL },
	{ "POST", "/volumes/create", "volumes.create", GROUP_VOLUMES, KIND_NONE,
	    WR | GUARD, NULL },
	{ "POST", "/volumes/prune", "volumes.prune", GROUP_VOLUMES, KIND_NONE,
	    WR, NULL },
	{ "PUT", "/volumes/{name}", "volumes.update", GROUP_VOLUMES, KIND_NONE,
	    WR, "1.42" },
	{ "DELETE", "/volumes/{name}", "volumes.delete", GROUP_VOLUMES,
	    KIND_NONE, WR, NULL },

	/* Plugins; pull and upgrade grant the plugin its privileges. */
	{ "GET", "/plugins", "plugins.list", GROUP_PLUGINS, KIND_NONE, 0,
	    NULL },
	{ "GET", "/plugins/privileges", "plugins.privileges", GROUP_PLUGINS,
	    KIND_NONE, 0, NULL },
	{ "GET", "/plugins/{name*}/json", "plugins.inspect", GROUP_PLUGINS,
	    KIND_NONE, 0, NULL },
	{ "POST", "/plugins/pull", "plugins.pull", GROUP_PLUGINS, KIND_NONE,
	    WR | GUARD, NULL },
	/*
	 * XXX plugins create installs from a tar whose config holds its own
	 * privileges, and plugins set can change a plugin's mount sources
	 * and devices: the create guard sees neither, so write access to
	 * PLUGINS is as strong as root.
	 */
	{ "POST", "/plugins/create", "plugins.create", GROUP_PLUGINS, KIND_NONE,
	    WR, NULL },
	{ "POST", "/plugins/{name*}/enable", "plugins.enable", GROUP_PLUGINS,
	    KIND_NONE, WR, NULL },
	{ "POST", "/plugins/{name*}/disable", "plugins.disable", GROUP_PLUGINS,
	    KIND_NONE, WR, NULL },
	{ "POST", "/plugins/{name*}/upgrade", "plugins.upgrade", GROUP_PLUGINS,
	    KIND_NONE, WR | GUARD, NULL },
	{ "POST", "/plugins/{name*}/push", "plugins.push", GROUP_PLUGINS,
	    KIND_NONE, WR, NULL },
	{ "POST", "/plugins/{name*}/set", "plugins.set", GROUP_PLUGINS,
	    KIND_NONE, WR, NULL },
	{ "DELETE", "/plugins/{name*}", "plugins.delete", GROUP_PLUGINS,
	    KIND_NONE, WR, NULL },

	/*
	 * Swarm.  Inspect returns the join tokens and unlockkey the key that
	 * decrypts the raft log: reading them is as strong as writing.
	 */
	{ "GET", "/swarm", "swarm.inspect", GROUP_SWARM, KIND_NONE, CRED,
	    NULL },
	{ "GET", "/swarm/unlockkey", "swarm.unlockkey", GROUP_SWARM, KIND_NONE,
	    CRED, NULL },
	{ "POST", "/swarm/init", "swarm.init", GROUP_SWARM, KIND_NONE, WR,
	    NULL },
	{ "POST", "/swarm/join", "swarm.join", GROUP_SWARM, KIND_NONE, WR,
	    NULL },
	{ "POST", "/swarm/leave", "swarm.leave", GROUP_SWARM, KIND_NONE, WR,
	    NULL },
	{ "POST", "/swarm/update", "swarm.update", GROUP_SWARM, KIND_NONE, WR,
	    NULL },
	{ "POST", "/swarm/unlock", "swarm.unlock", GROUP_SWARM, KIND_NONE, WR,
	    NULL },

	{ "GET", "/services", "services.list", GROUP_SERVICES, KIND_NONE, 0,
	    NULL },
	{ "GET", "/services/{id}", "services.inspect", GROUP_SERVICES,
	    KIND_NONE, 0, NULL },
	{ "GET", "/services/{id}/logs", "services.logs", GROUP_SERVICES,
	    KIND_NONE, STREAM, NULL },
	{ "POST", "/services/create", "services.create", GROUP_SERVICES,
	    KIND_NONE, WR | GUARD, NULL },
	{ "POST", "/services/{id}/update", "services.update", GROUP_SERVICES,
	    KIND_NONE, WR | GUARD, NULL },
	{ "DELETE", "/services/{id}", "services.delete", GROUP_SERVICES,
	    KIND_NONE, WR, NULL },

	{ "GET", "/nodes", "nodes.list", GROUP_NODES, KIND_NONE, 0, NULL },
	{ "GET", "/nodes/{id}", "nodes.inspect", GROUP_NODES, KIND_NONE, 0,
	    NULL },
	{ "POST", "/nodes/{id}/update", "nodes.update", GROUP_NODES, KIND_NONE,
	    WR, NULL },
	{ "DELETE", "/nodes/{id}", "nodes.delete", GROUP_NODES, KIND_NONE, WR,
	    NULL },

	{ "GET", "/tasks", "tasks.list", GROUP_TASKS, KIND_NONE, 0, NULL },
	{ "GET", "/tasks/{id}", "tasks.inspect", GROUP_TASKS, KIND_NONE, 0,
	    NULL },
	{ "GET", "/tasks/{id}/logs", "tasks.logs", GROUP_TASKS, KIND_NONE,
	    STREAM, NULL },

	{ "GET", "/secrets", "secrets.list", GROUP_SECRETS, KIND_NONE, 0,
	    NULL },
	{ "GET", "/secrets/{id}", "secrets.inspect", GROUP_SECRETS, KIND_NONE,
	    0, NULL },
	{ "POST", "/secrets/create", "secrets.create", GROUP_SECRETS, KIND_NONE,
	    WR, NULL },
	{ "POST", "/secrets/{id}/update", "secrets.update", GROUP_SECRETS,
	    KIND_NONE, WR, NULL },
	{ "DELETE", "/secrets/{id}", "secrets.delete", GROUP_SECRETS, KIND_NONE,
	    WR, NULL },

	{ "GET", "/configs", "configs.list", GROUP_CONFIGS, KIND_NONE, 0,
	    NULL },
	{ "GET", "/configs/{id}", "configs.inspect", GROUP_CONFIGS, KIND_NONE,
	    0, NULL },
	{ "POST", "/configs/create", "configs.create", GROUP_CONFIGS, KIND_NONE,
	    WR, NULL },
	{ "POST", "/configs/{id}/update", "configs.update", GROUP_CONFIGS,
	    KIND_NONE, WR, NULL },
	{ "DELETE", "/configs/{id}", "configs.delete", GROUP_CONFIGS, KIND_NONE,
	    WR, NULL },
};

#define CATALOGUE_SIZE \
	(sizeof catalogue_table / sizeof catalogue_table[0])

/* Group names, in enum order; the HAProxy variable is the name upper-cased. */
static const struct {
	const char	*name;
	const char	*variable;
} catalogue_groups[GROUP_COUNT] = {
	[GROUP_UNKNOWN] =	{ "unknown", NULL },
	[GROUP_AUTH] =		{ "auth", "AUTH" },
	[GROUP_BUILD] =		{ "build", "BUILD" },
	[GROUP_COMMIT] =	{ "commit", "COMMIT" },
	[GROUP_CONFIGS] =	{ "configs", "CONFIGS" },
	[GROUP_CONTAINERS] =	{ "containers", "CONTAINERS" },
	[GROUP_DISTRIBUTION] =	{ "distribution", "DISTRIBUTION" },
	[GROUP_EVENTS] =	{ "events", "EVENTS" },
	[GROUP_EXEC] =		{ "exec", "EXEC" },
	[GROUP_GRPC] =		{ "grpc", "GRPC" },
	[GROUP_IMAGES] =	{ "images", "IMAGES" },
	[GROUP_INFO] =		{ "info", "INFO" },
	[GROUP_NETWORKS] =	{ "networks", "NETWORKS" },
	[GROUP_NODES] =		{ "nodes", "NODES" },
	[GROUP_PING] =		{ "ping", "PING" },
	[GROUP_PLUGINS] =	{ "plugins", "PLUGINS" },
	[GROUP_SECRETS] =	{ "secrets", "SECRETS" },
	[GROUP_SERVICES] =	{ "services", "SERVICES" },
	[GROUP_SESSION] =	{ "session", "SESSION" },
	[GROUP_SWARM] =		{ "swarm", "SWARM" },
	[GROUP_SYSTEM] =	{ "system", "SYSTEM" },
	[GROUP_TASKS] =		{ "tasks", "TASKS" },
	[GROUP_VERSION] =	{ "version", "VERSION" },
	[GROUP_VOLUMES] =	{ "volumes", "VOLUMES" },
};

static const char *catalogue_kinds[KIND_COUNT] = {
	[KIND_NONE] =		"none",
	[KIND_START] =		"start",
	[KIND_STOP] =		"stop",
	[KIND_RESTART] =	"restart",
	[KIND_KILL] =		"kill",
	[KIND_PAUSE] =		"pause",
	[KIND_UNPAUSE] =	"unpause",
	[KIND_ARCHIVE] =	"archive",
	[KIND_EXPORT] =		"export",
	[KIND_ATTACH] =		"attach",
	[KIND_EXEC] =		"exec",
	[KIND_LOGS] =		"logs",
	[KIND_TOP] =		"top",
	[KIND_CHANGES] =	"changes",
};

static int	catalogue_segments(const char *, const char *);
static int	catalogue_same_name(const char *, const char *);

/*
 * Match the rest of a pattern against the rest of a path, both at a '/'
 * or at their end.  A "{...*}" segment takes one or more non-empty path
 * segments, trying the shortest first; any other "{...}" takes one.
 */
static int
catalogue_segments(const char *p, const char *s)
{
	const char	*pe, *se;
	size_t		 plen, slen;

	for (;;) {
		if (*p == '\0' || *s == '\0')
			return (*p == '\0' && *s == '\0');
		if (*p != '/' || *s != '/')
			return (0);
		p++;
		s++;
		plen = strcspn(p, "/");
		slen = strcspn(s, "/");
		pe = p + plen;
		se = s + slen;

		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0)
				return (0);
			if (plen >= 3 && p[plen - 2] == '*') {
				for (;;) {
					if (catalogue_segments(pe, se))
						return (1);
					if (*se == '\0' || se[1] == '/' ||
					    se[1] == '\0')
						return (0);
					se += 1 + strcspn(se + 1, "/");
				}
			}
		} else if (plen != slen || memcmp(p, s, plen) != 0)
			return (0);
		p = pe;
		s = se;
	}
}

/*
 * Find the entry of table that serves (method, path), path being in
 * canonical form.  HEAD falls back to the GET entries when no HEAD entry
 * matches.  Two matching entries of different actions make the path
 * ambiguous: NULL, with *ambiguous set.
 */
const struct endpoint *
catalogue_match_in(const struct endpoint *table, size_t n, const char *method,
    const char *path, int *ambiguous)
{
	const struct endpoint	*found = NULL;
	const char		*want = method;
	size_t			 i;
	int			 twice = 0;

	if (ambiguous != NULL)
		*ambiguous = 0;

	for (;;) {
		for (i = 0; i < n; i++) {
			if (strcmp(table[i].method, want) != 0 ||
			    !catalogue_segments(table[i].pattern, path))
				continue;
			if (found != NULL &&
			    strcmp(found->action, table[i].action) != 0)
				twice = 1;
			if (found == NULL)
				found = &table[i];
		}
		if (found != NULL || strcmp(want, "HEAD") != 0)
			break;
		want = "GET";
	}

	if (twice) {
		if (ambiguous != NULL)
			*ambiguous = 1;
		return (NULL);
	}
	return (found);
}

/* Find the catalogue entry that serves (method, canonical path). */
const struct endpoint *
catalogue_match(const char *method, const char *path, int *ambiguous)
{
	return (catalogue_match_in(catalogue_table, CATALOGUE_SIZE, method,
	    path, ambiguous));
}

/* Classify an entry by effect: a credential is worth as much as a write. */
enum effect
catalogue_effect(const struct endpoint *ep)
{
	if (ep->flags & (ENDPOINT_WRITES | ENDPOINT_CREDENTIAL))
		return (EFFECT_WRITE);
	return (EFFECT_READ);
}

const char *
catalogue_group_name(enum endpoint_group group)
{
	if ((int)group < 0 || group >= GROUP_COUNT)
		return ("unknown");
	return (catalogue_groups[group].name);
}

/* Return the HAProxy images' variable of a group, NULL for unknown. */
const char *
catalogue_group_variable(enum endpoint_group group)
{
	if ((int)group < 0 || group >= GROUP_COUNT)
		return (NULL);
	return (catalogue_groups[group].variable);
}

/* Compare two names in ASCII, ignoring case whatever the locale says. */
static int
catalogue_same_name(const char *a, const char *b)
{
	unsigned char	ca, cb;

	do {
		ca = (unsigned char)*a++;
		cb = (unsigned char)*b++;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return (0);
	} while (ca != '\0');
	return (1);
}

/* Find a group by its name in any case; GROUP_UNKNOWN if none. */
enum endpoint_group
catalogue_group_from_name(const char *name)
{
	int	g;

	for (g = GROUP_UNKNOWN + 1; g < GROUP_COUNT; g++) {
		if (catalogue_same_name(name, catalogue_groups[g].name))
			return ((enum endpoint_group)g);
	}
	return (GROUP_UNKNOWN);
}

const char *
catalogue_kind_name(enum action_kind kind)
{
	if ((int)kind < 0 || kind >= KIND_COUNT)
		return ("none");
	return (catalogue_kinds[kind]);
}

/* Return the whole table, for the tests, the oracle and the control socket. */
const struct endpoint *
catalogue_entries(size_t *n)
{
	*n = CATALOGUE_SIZE;
	return (catalogue_table);
}

/* The kind of action a name gives ("start"), or -1 when none has it. */
int
catalogue_kind_from_name(const char *name)
{
	int	 k;

	for (k = KIND_NONE + 1; k < KIND_COUNT; k++)
		if (strcmp(catalogue_kind_name((enum action_kind)k), name) == 0)
			return (k);
	return (-1);
}
