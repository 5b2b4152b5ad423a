/*
 * Fuzz target: the create guard (core/guard.c) on the bodies it reads.
 * Each body is checked for one create-class action, under the default
 * rules, with every relaxation on, and with an --allow-bind list; then
 * read as the engine's inspect of a container a create takes volumes
 * from, and as a host path.  Properties: a verdict always, the same one
 * twice, a message a client can be sent (JSON-safe, cut cleanly),
 * relaxations that only ever let more through, and host paths whose
 * canonical form is a fixed point without dot or empty segments.
 *
 * Input: one byte choosing the action, one byte of relaxations, the body.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dspd.h"

/* The actions whose bodies the guard reads, as the seeds number them. */
static const char *const fuzz_actions[] = {
	"containers.create", "containers.update", "exec.create",
	"services.create", "services.update", "volumes.create",
	"plugins.pull", "plugins.upgrade"
};

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct endpoint	*fuzz_endpoints[nitems(fuzz_actions)];

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Find each action's catalogue entry once. */
static void
fuzz_init(void)
{
	static int		 done;
	const struct endpoint	*table;
	size_t			 n, i, k;

	if (done)
		return;
	done = 1;
	table = catalogue_entries(&n);
	for (k = 0; k < nitems(fuzz_actions); k++) {
		for (i = 0; i < n; i++)
			if (strcmp(table[i].action, fuzz_actions[k]) == 0)
				break;
		assert(i < n && (table[i].flags & ENDPOINT_BODY_GUARD));
		fuzz_endpoints[k] = &table[i];
	}
}

/* A result a client can be given: terminated, JSON-safe, complete. */
static void
fuzz_check_result(const struct guard_result *r)
{
	char	*json;
	size_t	 i, len;

	assert(r->verdict == GUARD_PASS || r->verdict == GUARD_REFUSE ||
	    r->verdict == GUARD_MALFORMED || r->verdict == GUARD_LOOKUP);
	assert(memchr(r->field, '\0', sizeof(r->field)) != NULL);
	assert(memchr(r->message, '\0', sizeof(r->message)) != NULL);
	if (r->verdict == GUARD_LOOKUP) {
		assert(r->nlookups > 0);
		for (i = 0; i < r->nlookups; i++)
			assert(r->lookups[i] != NULL);
	}
	if (r->verdict == GUARD_PASS || r->verdict == GUARD_LOOKUP)
		return;

	assert(strncmp(r->message, "dsp: ", 5) == 0);
	/* A message cut inside a UTF-8 sequence would not go out as JSON. */
	json = http_json_message(r->message, &len);
	assert(json != NULL);
	assert(strstr(json, "unprintable") == NULL ||
	    strstr(r->message, "unprintable") != NULL);
	free(json);
}

/* Two results that say the same. */
static void
fuzz_check_same(const struct guard_result *a, const struct guard_result *b)
{
	size_t	i;

	assert(a->verdict == b->verdict);
	assert(strcmp(a->field, b->field) == 0);
	assert(strcmp(a->message, b->message) == 0);
	assert(a->nlookups == b->nlookups);
	for (i = 0; i < a->nlookups; i++)
		assert(strcmp(a->lookups[i], b->lookups[i]) == 0);
}

/* Check one body under one configuration, twice; the verdict. */
static enum guard_verdict
fuzz_check(const struct guard_config *conf, const struct endpoint *ep,
    const char *body, size_t len)
{
	struct guard_result	 r, again;
	enum guard_verdict	 v;

	assert(guard_check(conf, ep, body, len, &r) == 0);
	fuzz_check_result(&r);
	assert(guard_check(conf, ep, body, len, &again) == 0);
	fuzz_check_same(&r, &again);
	v = r.verdict;
	guard_result_clear(&r);
	guard_result_clear(&again);
	return (v);
}

/*
 * A host path's canonical form: absolute, no empty, "." or ".." segment,
 * no trailing '/', and the same when put in canonical form again.
 */
static void
fuzz_check_path(const char *in)
{
	char	 out[4096], again[4096];
	size_t	 n;

	if (guard_canon_path(in, out, sizeof(out)) != 0)
		return;
	n = strlen(out);
	assert(out[0] == '/');
	assert(n == 1 || out[n - 1] != '/');
	assert(strstr(out, "//") == NULL);
	assert(strstr(out, "/./") == NULL && strstr(out, "/../") == NULL);
	assert(!(n >= 2 && strcmp(out + n - 2, "/.") == 0));
	assert(!(n >= 3 && strcmp(out + n - 3, "/..") == 0));
	assert(guard_canon_path(out, again, sizeof(again)) == 0);
	assert(strcmp(out, again) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct endpoint	*ep;
	struct guard_config	 strict, relaxed, binds;
	struct guard_result	 r;
	enum guard_verdict	 vs, vr;
	const char		*body;
	char			*str, err[256];
	size_t			 len;
	int			 bits;

	fuzz_init();
	if (size < 2)
		return (0);
	ep = fuzz_endpoints[data[0] % nitems(fuzz_endpoints)];
	bits = data[1];
	body = (const char *)data + 2;
	len = size - 2;

	guard_config_init(&strict);
	guard_config_init(&relaxed);
	relaxed.allow_privileged = bits & 1;
	relaxed.allow_host_namespaces = (bits >> 1) & 1;
	relaxed.allow_devices = (bits >> 2) & 1;
	relaxed.allow_unconfined = (bits >> 3) & 1;
	relaxed.allow_sysctls = (bits >> 4) & 1;
	relaxed.allow_all_caps = (bits >> 5) & 1;
	relaxed.allow_caps = (bits >> 6) & 1 ? ~(uint64_t)0 : 0;

	/* Relaxing a rule never refuses what the strict rules let by. */
	vs = fuzz_check(&strict, ep, body, len);
	vr = fuzz_check(&relaxed, ep, body, len);
	if (vs == GUARD_PASS || vs == GUARD_LOOKUP)
		assert(vr == vs);

	guard_config_init(&binds);
	assert(guard_option(&binds, "--allow-bind", "/srv/data", err,
	    sizeof(err)) == 0);
	(void)fuzz_check(&binds, ep, body, len);
	guard_config_free(&binds);

	/* The body as the engine's inspect of a container. */
	assert(guard_check_inherited(&strict, body, len, &r) == 0);
	fuzz_check_result(&r);
	assert(r.verdict == GUARD_PASS || r.verdict == GUARD_REFUSE);
	if (r.verdict == GUARD_REFUSE)
		assert(strcmp(r.field, "HostConfig.VolumesFrom") == 0);
	guard_result_clear(&r);

	/* The body as a host path, and as an --allow-bind value. */
	if ((str = malloc(len + 1)) != NULL) {
		memcpy(str, body, len);
		str[len] = '\0';
		fuzz_check_path(str);
		guard_config_init(&binds);
		if (guard_option(&binds, "--allow-bind", str, err,
		    sizeof(err)) != 0)
			assert(memchr(err, '\0', sizeof(err)) != NULL);
		guard_config_free(&binds);
		free(str);
	}
	guard_config_free(&strict);
	guard_config_free(&relaxed);
	return (0);
}
