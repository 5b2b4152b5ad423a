/*
 * Fuzz target: canon_query_flag, which tells dspd whether a logs or stats
 * request is a stream.  Rather than a second copy of Go's query parsing,
 * it checks properties any correct reading has: an absent flag gives the
 * default, a present one does not depend on it, the first occurrence
 * wins over any later one, and a pair added in front or behind with a
 * plain, an escaped or a padded spelling reads as dockerd would read it.
 *
 * Input: the flag's name, a NUL byte, the raw query; without a NUL the
 * whole input is the query and the name is "follow".
 */

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dspd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Whether name can be written in a query as it is, with no escape. */
static int
fuzz_plain_name(const char *name)
{
	static const char	 plain[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";

	return (name[0] != '\0' && name[strspn(name, plain)] == '\0');
}

/* The flag in the fuzzed query with name=value put in front or behind. */
static int
fuzz_flag_with(const char *q, const char *name, const char *value,
    int front, int def)
{
	char	*s;
	size_t	 n;
	int	 r;

	n = strlen(q) + strlen(name) + strlen(value) + 3;
	if ((s = malloc(n)) == NULL)
		return (-1);
	if (front)
		snprintf(s, n, "%s%s%s&%s", name, value[0] != '\0' ? "=" : "",
		    value, q);
	else
		snprintf(s, n, "%s&%s=%s", q, name, value);
	r = canon_query_flag(s, name, def);
	free(s);
	return (r);
}

/* The same, with the name spelled with every byte escaped. */
static int
fuzz_flag_escaped(const char *q, const char *name, const char *value,
    int def)
{
	char	*s, *o;
	size_t	 i;
	int	 r;

	if ((s = malloc(strlen(q) + 3 * strlen(name) + strlen(value) +
	    3)) == NULL)
		return (-1);
	o = s + sprintf(s, "%s&", q);
	for (i = 0; name[i] != '\0'; i++)
		o += sprintf(o, "%%%02X", (unsigned char)name[i]);
	sprintf(o, "=%s", value);
	r = canon_query_flag(s, name, def);
	free(s);
	return (r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*buf, *q;
	const char	*name, *nul;
	int		 r0, r1, v;

	if ((buf = malloc(size + 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	buf[size] = '\0';
	nul = memchr(data, '\0', size);
	if (nul != NULL) {
		name = buf;
		q = buf + (nul - (const char *)data) + 1;
	} else {
		name = "follow";
		q = buf;
	}

	assert(canon_query_flag(NULL, name, 0) == 0);
	assert(canon_query_flag(NULL, name, 1) == 1);
	r0 = canon_query_flag(q, name, 0);
	r1 = canon_query_flag(q, name, 1);
	assert(r0 == 0 || r0 == 1);
	assert(r1 == 0 || r1 == 1);
	/* Present: the default plays no part; absent: it is the answer. */
	assert(!(r0 == 1 && r1 == 0));

	if (!fuzz_plain_name(name)) {
		free(buf);
		return (0);
	}

	/* A pair in front is the first occurrence and wins. */
	assert(fuzz_flag_with(q, name, "1", 1, 0) == 1);
	assert(fuzz_flag_with(q, name, "0", 1, 1) == 0);
	assert(fuzz_flag_with(q, name, "+FaLsE%20", 1, 1) == 0);
	assert(fuzz_flag_with(q, name, "", 1, 1) == 0);

	if (r0 == r1) {
		/* Present: one more pair behind it changes nothing. */
		v = r0 ? 0 : 1;
		assert(fuzz_flag_with(q, name, v ? "1" : "0", 0, !r0) == r0);
	} else {
		/* Absent: a pair behind it is the one read. */
		assert(fuzz_flag_with(q, name, "1", 0, 0) == 1);
		assert(fuzz_flag_with(q, name, "no", 0, 1) == 0);
		assert(fuzz_flag_escaped(q, name, "1", 0) == 1);
		assert(fuzz_flag_escaped(q, name, "%20none", 1) == 0);
	}
	free(buf);
	return (0);
}
