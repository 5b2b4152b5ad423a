/*
 * route_check.c: the catalogue checked against dockerd's own router.
 *
 * Reads lines "METHOD TARGET PATTERN" on standard input, one per route
 * registration in dockerd's sources (tests/unit/oracle.sh extracts them):
 * PATTERN as dockerd registers it, TARGET a path that fits it.  Each
 * target goes through the canonical form and the catalogue, unversioned
 * and under /v1.41, as a client would send it.  A route the catalogue
 * does not serve is an error unless it is listed below as refused on
 * purpose; so is a listed route that dsp serves after all, and a
 * catalogue entry of API 1.41 that no registration reaches.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dspd.h"

/* The longest input line, in bytes. */
#define ROUTE_CHECK_LINE_MAX	4096

/* The version prefix tried on every target besides none at all. */
#define ROUTE_CHECK_VERSION	"/v1.41"

/* A registration dsp refuses on purpose, and why. */
struct refusal {
	const char	*method;
	const char	*pattern;	/* as registered; "/debug" mounted */
	const char	*reason;
	int		 seen;
};

static struct refusal route_check_refusals[] = {
	{ "OPTIONS", "/{anyroute:.*}",
	    "CORS preflight on any path; no Docker client sends it", 0 },
	{ "GET", "/networks/",
	    "trailing '/' is refused by the canonical form; GET /networks "
	    "lists the same", 0 },
	{ "GET", "/debug/vars", "debug: daemon internals (expvar)", 0 },
	{ "GET", "/debug/pprof/", "debug: profiler index", 0 },
	{ "GET", "/debug/pprof/cmdline", "debug: dockerd's command line", 0 },
	{ "GET", "/debug/pprof/profile", "debug: CPU profile", 0 },
	{ "GET", "/debug/pprof/symbol", "debug: symbol lookup", 0 },
	{ "GET", "/debug/pprof/trace", "debug: execution trace", 0 },
	{ "GET", "/debug/pprof/{name}", "debug: named profiles", 0 },
};

#define ROUTE_CHECK_NREFUSALS \
	(sizeof route_check_refusals / sizeof route_check_refusals[0])

static struct refusal	*route_check_refusal(const char *, const char *);
static const struct endpoint *route_check_serve(const char *, const char *);

/* Find the deliberate refusal of a registration, or NULL. */
static struct refusal *
route_check_refusal(const char *method, const char *pattern)
{
	size_t	i;

	for (i = 0; i < ROUTE_CHECK_NREFUSALS; i++) {
		if (strcmp(route_check_refusals[i].method, method) == 0 &&
		    strcmp(route_check_refusals[i].pattern, pattern) == 0)
			return (&route_check_refusals[i]);
	}
	return (NULL);
}

/* Return the entry serving a raw target, or NULL as dspd would refuse it. */
static const struct endpoint *
route_check_serve(const char *method, const char *raw)
{
	const struct endpoint	*ep;
	struct target		 t;
	const char		*why;
	int			 ambiguous;

	if (canon_target(raw, strlen(raw), &t, &why) != 0)
		return (NULL);
	ep = catalogue_match(method, t.path, &ambiguous);
	canon_clear(&t);
	return (ep);
}

int
main(void)
{
	const struct endpoint	*table, *bare, *versioned;
	struct refusal		*r;
	char			 line[ROUTE_CHECK_LINE_MAX];
	char			 vtarget[ROUTE_CHECK_LINE_MAX + 16];
	char			 method[16], target[ROUTE_CHECK_LINE_MAX];
	char			 pattern[ROUTE_CHECK_LINE_MAX];
	size_t			 n, i, routes = 0, served = 0;
	size_t			 refused = 0, missing = 0, errors = 0;
	unsigned char		*hit;

	table = catalogue_entries(&n);
	if ((hit = calloc(n, 1)) == NULL) {
		perror("route_check");
		return (1);
	}

	while (fgets(line, sizeof line, stdin) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(stdin)) {
			fprintf(stderr, "route_check: line too long\n");
			return (1);
		}
		if (line[0] == '\n' || line[0] == '#')
			continue;
		/* The widths are those of method and ROUTE_CHECK_LINE_MAX. */
		if (sscanf(line, "%15s %4095s %4095s", method, target,
		    pattern) != 3) {
			fprintf(stderr, "route_check: bad line: %s", line);
			return (1);
		}
		routes++;

		snprintf(vtarget, sizeof vtarget, "%s%s", ROUTE_CHECK_VERSION,
		    target);
		bare = route_check_serve(method, target);
		versioned = route_check_serve(method, vtarget);
		if (bare != NULL)
			hit[bare - table] = 1;
		if (versioned != NULL)
			hit[versioned - table] = 1;

		if ((r = route_check_refusal(method, pattern)) != NULL) {
			r->seen = 1;
			if (bare != NULL || versioned != NULL) {
				printf("served although listed as refused: "
				    "%s %s (%s)\n", method, pattern,
				    (bare != NULL ? bare : versioned)->action);
				errors++;
			} else {
				printf("refused on purpose: %s %s: %s\n",
				    method, pattern, r->reason);
				refused++;
			}
		} else if (bare == NULL || versioned == NULL) {
			printf("missing: %s %s (as %s%s)\n", method, pattern,
			    bare == NULL ? target : vtarget,
			    bare == NULL && versioned == NULL ?
			    ", versioned or not" : "");
			missing++;
		} else
			served++;
	}
	if (ferror(stdin)) {
		perror("route_check");
		return (1);
	}

	for (i = 0; i < ROUTE_CHECK_NREFUSALS; i++) {
		if (!route_check_refusals[i].seen) {
			printf("listed as refused but not in the router: "
			    "%s %s\n", route_check_refusals[i].method,
			    route_check_refusals[i].pattern);
			errors++;
		}
	}

	/* An entry of API 1.41 that no registration reaches is made up. */
	for (i = 0; i < n; i++) {
		if (!hit[i] && table[i].since == NULL) {
			printf("catalogue entry not in the router: %s %s\n",
			    table[i].method, table[i].pattern);
			errors++;
		}
	}
	free(hit);

	printf("%zu routes: %zu in the catalogue, %zu refused on purpose",
	    routes, served, refused);
	if (missing > 0)
		printf(", %zu missing", missing);
	if (errors > 0)
		printf(", %zu inconsistencies", errors);
	printf("\n");

	if (routes == 0) {
		fprintf(stderr, "route_check: no routes read\n");
		return (1);
	}
	return (missing > 0 || errors > 0);
}
