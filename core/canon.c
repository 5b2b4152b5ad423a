/*
 * canon.c: the request target in the form dockerd's router matches.
 *
 * dockerd hands its gorilla mux router the path after one round of
 * percent-decoding, so an encoded '/' separates segments there.  dsp
 * decodes the same way and refuses every spelling whose meaning could
 * differ between the two: dot and empty segments (which the router
 * would clean or redirect), backslashes, control and 8-bit bytes, and
 * malformed escapes.
 */

#include <stdlib.h>
#include <string.h>

#include "dspd.h"

static int	canon_hex(int);
static int	canon_scheme(const char *, size_t);
static const char *canon_form(const char *, size_t);
static const char *canon_decode(const char *, size_t, char *);
static const char *canon_segments(const char *);
static size_t	canon_version_len(const char *);
static int	canon_unescape(const char *, size_t, char *, size_t *);
static size_t	canon_space_prefix(const unsigned char *, size_t);
static size_t	canon_space_suffix(const unsigned char *, size_t);
static int	canon_flag_value(const char *, size_t);

/* Return the value of one hexadecimal digit, or -1. */
static int
canon_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Tell whether the target opens with "scheme://", as absolute-form does. */
static int
canon_scheme(const char *raw, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (raw[i] == ':')
			break;
		if ((raw[i] >= 'a' && raw[i] <= 'z') ||
		    (raw[i] >= 'A' && raw[i] <= 'Z'))
			continue;
		if (i > 0 && ((raw[i] >= '0' && raw[i] <= '9') ||
		    raw[i] == '+' || raw[i] == '-' || raw[i] == '.'))
			continue;
		return (0);
	}
	return (i > 0 && len - i >= 3 && memcmp(raw + i, "://", 3) == 0);
}

/*
 * Refuse what is not an origin-form target, and raw bytes no target may
 * hold anywhere, the query included.
 */
static const char *
canon_form(const char *raw, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len == 0)
		return ("empty target");
	if (raw[0] != '/') {
		if (len == 1 && raw[0] == '*')
			return ("asterisk-form target");
		if (canon_scheme(raw, len))
			return ("absolute-form target");
		if (memchr(raw, ':', len) != NULL &&
		    memchr(raw, '/', len) == NULL)
			return ("authority-form target");
		return ("target not in origin form");
	}

	for (i = 0; i < len; i++) {
		c = (unsigned char)raw[i];
		if (c <= 0x20 || c == 0x7f)
			return ("control byte or space in target");
		if (c >= 0x80)
			return ("8-bit byte in target");
		if (c == '#')
			return ("fragment in target");
	}
	return (NULL);
}

/*
 * Decode the raw path once into out (at least len + 1 bytes); a decoded
 * byte is never decoded again, as in dockerd.
 */
static const char *
canon_decode(const char *raw, size_t len, char *out)
{
	size_t		i, o = 0;
	int		hi, lo;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)raw[i];
		if (c == '%') {
			if (len - i < 3)
				return ("malformed percent escape");
			hi = canon_hex((unsigned char)raw[i + 1]);
			lo = canon_hex((unsigned char)raw[i + 2]);
			if (hi < 0 || lo < 0)
				return ("malformed percent escape");
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
			if (c < 0x20 || c == 0x7f)
				return ("encoded control byte in path");
			if (c >= 0x80)
				return ("encoded 8-bit byte in path");
		}
		if (c == '\\')
			return ("backslash in path");
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (NULL);
}

/*
 * Refuse empty and dot segments in the decoded path: gorilla mux would
 * clean them and redirect, so the path checked is not the one served.
 */
static const char *
canon_segments(const char *path)
{
	const char	*seg;
	size_t		 n;

	for (seg = path + 1;; seg += n + 1) {
		n = strcspn(seg, "/");
		if (n == 0)
			return ("empty segment in path");
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return ("dot segment in path");
		if (seg[n] == '\0')
			return (NULL);
	}
}

/*
 * Return the length of a leading "/v[0-9.]+" segment (dockerd's version
 * matcher), or 0 if the first segment is something else.
 */
static size_t
canon_version_len(const char *path)
{
	size_t	n;

	if (path[1] != 'v')
		return (0);
	n = strspn(path + 2, "0123456789.");
	if (n == 0 || (path[2 + n] != '/' && path[2 + n] != '\0'))
		return (0);
	return (n);
}

/*
 * Put the target of a request in canonical form: the decoded path
 * without its version prefix, the version, and the raw query.  On
 * failure *why says why in a static string and target holds nothing.
 */
int
canon_target(const char *raw, size_t len, struct target *target,
    const char **why)
{
	const char	*q, *reason;
	char		*buf = NULL;
	size_t		 plen, vlen;

	memset(target, 0, sizeof *target);
	if ((reason = canon_form(raw, len)) != NULL)
		goto fail;

	q = memchr(raw, '?', len);
	plen = q != NULL ? (size_t)(q - raw) : len;
	if ((buf = malloc(plen + 1)) == NULL) {
		reason = "out of memory";
		goto fail;
	}
	if ((reason = canon_decode(raw, plen, buf)) != NULL)
		goto fail;
	if ((reason = canon_segments(buf)) != NULL)
		goto fail;

	/* The version is read after decoding: the router matches "/v1%2e41". */
	if ((vlen = canon_version_len(buf)) > 0) {
		if (vlen >= sizeof target->version) {
			reason = "version prefix too long";
			goto fail;
		}
		memcpy(target->version, buf + 2, vlen);
		target->version[vlen] = '\0';
		memmove(buf, buf + 2 + vlen, strlen(buf + 2 + vlen) + 1);
	}
	target->path = buf;
	buf = NULL;

	if (q != NULL) {
		plen = len - (size_t)(q - raw) - 1;
		if ((target->query = malloc(plen + 1)) == NULL) {
			reason = "out of memory";
			goto fail;
		}
		memcpy(target->query, q + 1, plen);
		target->query[plen] = '\0';
	}
	return (0);

fail:
	free(buf);
	canon_clear(target);
	*why = reason;
	return (-1);
}

/* Free what canon_target allocated; the target may be reused. */
void
canon_clear(struct target *target)
{
	free(target->path);
	free(target->query);
	memset(target, 0, sizeof *target);
}

/*
 * Decode one query key or value as Go's url.QueryUnescape does ('+' is
 * a space) into out, which holds len + 1 bytes; -1 when malformed.
 */
static int
canon_unescape(const char *s, size_t len, char *out, size_t *outlen)
{
	size_t	i, o = 0;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3)
				return (-1);
			hi = canon_hex((unsigned char)s[i + 1]);
			lo = canon_hex((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return (-1);
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return (0);
}

/*
 * Return the length of the white space that opens s, as Go's
 * unicode.IsSpace sees it in UTF-8: ASCII spaces, U+0085, U+00A0,
 * U+1680, U+2000 to U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
 */
static size_t
canon_space_prefix(const unsigned char *s, size_t len)
{
	if (len >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return (1);
	if (len >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return (2);
	if (len < 3)
		return (0);
	if ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) ||
	    (s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0x80 && s[2] <= 0x8a) ||
	    (s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf)) ||
	    (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
	    (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80))
		return (3);
	return (0);
}

/* Return the length of the white space that ends s (see above). */
static size_t
canon_space_suffix(const unsigned char *s, size_t len)
{
	size_t	k;

	for (k = 1; k <= 3 && k <= len; k++) {
		if (canon_space_prefix(s + len - k, k) == k)
			return (k);
	}
	return (0);
}

/*
 * Read a flag's decoded value as dockerd's httputils.BoolValue does:
 * trimmed, any case; empty, "0", "no", "false" and "none" are false,
 * anything else true.
 */
static int
canon_flag_value(const char *v, size_t len)
{
	static const char	*no[] = { "", "0", "no", "false", "none" };
	const unsigned char	*s = (const unsigned char *)v;
	size_t			 i, j, n;
	unsigned char		 c;

	while ((n = canon_space_prefix(s, len)) > 0) {
		s += n;
		len -= n;
	}
	while ((n = canon_space_suffix(s, len)) > 0)
		len -= n;

	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		if (strlen(no[i]) != len)
			continue;
		for (j = 0; j < len; j++) {
			c = s[j];
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (c != (unsigned char)no[i][j])
				break;
		}
		if (j == len)
			return (0);
	}
	return (1);
}

/*
 * Return the boolean value dockerd gives query parameter name (logs'
 * "follow", stats' "stream"): def when it is absent, otherwise the value
 * of its first occurrence.  Pairs Go's url.ParseQuery skips (one holding
 * a ';' or a malformed escape) are skipped here too.
 */
int
canon_query_flag(const char *query, const char *name, int def)
{
	const char	*pair, *eq, *end;
	char		*buf;
	size_t		 n, klen, vlen;
	int		 value;

	if (query == NULL)
		return (def);

	for (pair = query; *pair != '\0'; pair = end + (*end != '\0')) {
		n = strcspn(pair, "&");
		end = pair + n;
		if (n == 0 || memchr(pair, ';', n) != NULL)
			continue;
		eq = memchr(pair, '=', n);
		klen = eq != NULL ? (size_t)(eq - pair) : n;

		if ((buf = malloc(n + 1)) == NULL)
			return (def);
		if (canon_unescape(pair, klen, buf, &klen) == -1 ||
		    klen != strlen(name) || memcmp(buf, name, klen) != 0) {
			free(buf);
			continue;
		}
		vlen = 0;
		if (eq != NULL && canon_unescape(eq + 1, (size_t)(end - eq - 1),
		    buf, &vlen) == -1) {
			free(buf);
			continue;
		}
		value = canon_flag_value(eq != NULL ? buf : "", vlen);
		free(buf);
		return (value);
	}
	return (def);
}
