/*
 * The raw request head scan that runs before llhttp sees a byte, and the
 * small pieces of HTTP that dspd writes itself.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "dspd.h"

/* Method and version around the target: "OPTIONS " and " HTTP/1.1". */
#define REQUEST_LINE_EXTRA	32

void
http_scan_init(struct head_scan *scan)
{
	memset(scan, 0, sizeof(*scan));
}

/*
 * Check the request line's target against the URI cap; the line runs from
 * start for len bytes, without its CRLF.
 */
static int
http_target_too_long(const char *line, size_t len, size_t uri_max)
{
	const char	*sp1, *sp2;

	sp1 = memchr(line, ' ', len);
	if (sp1 == NULL)
		return (len > uri_max);
	sp1++;
	sp2 = memchr(sp1, ' ', len - (size_t)(sp1 - line));
	if (sp2 == NULL)
		sp2 = line + len;
	return ((size_t)(sp2 - sp1) > uri_max);
}

/*
 * Whether a request line (without its CRLF) is other than method, one
 * space, target, one space, version.  llhttp takes runs of spaces and a
 * missing version, and Go's server, dockerd's, refuses them: dsp must not
 * forward a line that the engine reads otherwise than it did.
 */
static int
http_request_line_bad(const char *line, size_t len)
{
	const char	*sp1, *sp2, *end = line + len;

	if (memchr(line, '\t', len) != NULL)
		return (1);
	if ((sp1 = memchr(line, ' ', len)) == NULL || sp1 == line)
		return (1);
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL ||
	    sp2 == sp1 + 1 || sp2 + 1 == end)
		return (1);
	return (memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)) != NULL);
}

/*
 * Scan a growing request head for the bytes llhttp accepts but which two
 * HTTP implementations may read differently: a line feed without carriage
 * return, a carriage return alone, a folded header line, control bytes,
 * a request line not made of three parts with one space between each.
 * It resumes where the previous call stopped; on HEAD_COMPLETE *head_len
 * is the length of the head including its blank line.
 */
enum head_result
http_scan_head(struct head_scan *scan, const char *buf, size_t len,
    const struct head_limits *limits, size_t *head_len, const char **why)
{
	size_t		 pos, line_len;
	unsigned char	 c;

	*why = NULL;
	for (pos = scan->pos; pos < len; pos++) {
		if (pos >= limits->head_max) {
			*why = "request head too large";
			return (HEAD_TOO_LARGE);
		}
		c = (unsigned char)buf[pos];
		if (scan->lines == 0 && pos - scan->line_start >
		    limits->uri_max + REQUEST_LINE_EXTRA) {
			*why = "request target too long";
			return (HEAD_URI_TOO_LONG);
		}

		if (c == '\r') {
			if (pos + 1 == len)
				break;	/* line feed still to come */
			if (buf[pos + 1] != '\n') {
				*why = "carriage return without line feed";
				return (HEAD_BAD);
			}
			continue;
		}
		if (c == '\n') {
			if (pos == scan->line_start || buf[pos - 1] != '\r') {
				*why = "line feed without carriage return";
				return (HEAD_BAD);
			}
			line_len = pos - 1 - scan->line_start;
			if (line_len == 0) {
				if (scan->lines == 0) {
					*why = "empty request line";
					return (HEAD_BAD);
				}
				scan->pos = pos + 1;
				*head_len = pos + 1;
				return (HEAD_COMPLETE);
			}
			if (scan->lines == 0 && http_target_too_long(
			    buf + scan->line_start, line_len,
			    limits->uri_max)) {
				*why = "request target too long";
				return (HEAD_URI_TOO_LONG);
			}
			if (scan->lines == 0 && http_request_line_bad(
			    buf + scan->line_start, line_len)) {
				*why = "the request line is not method, "
				    "target and version with one space "
				    "between each";
				return (HEAD_BAD);
			}
			if (scan->lines > limits->headers_max) {
				*why = "too many header lines";
				return (HEAD_TOO_LARGE);
			}
			scan->lines++;
			scan->line_start = pos + 1;
			continue;
		}
		if (pos == scan->line_start && (c == ' ' || c == '\t')) {
			*why = scan->lines == 0 ?
			    "request line starts with white space" :
			    "folded header line";
			return (HEAD_BAD);
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "control byte in request head";
			return (HEAD_BAD);
		}
	}
	scan->pos = pos;
	return (HEAD_INCOMPLETE);
}

/*
 * Whether a header line of a scanned head (CRLF line ends, no folding)
 * has the given field name, compared without case; sets *value past the
 * colon and leading blanks.
 */
static int
http_line_is(const char *line, size_t len, const char *name,
    const char **value, size_t *vlen)
{
	size_t	 n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return (0);
	*value = line + n + 1;
	*vlen = len - n - 1;
	while (*vlen > 0 && (**value == ' ' || **value == '\t')) {
		(*value)++;
		(*vlen)--;
	}
	while (*vlen > 0 && ((*value)[*vlen - 1] == ' ' ||
	    (*value)[*vlen - 1] == '\t'))
		(*vlen)--;
	return (1);
}

/*
 * Copy the value of the first header called name out of a scanned head;
 * returns 0, or -1 when there is no such header or it does not fit.
 */
int
http_head_value(const char *head, size_t len, const char *name, char *buf,
    size_t size)
{
	const char	*line, *end, *value;
	size_t		 vlen;

	line = memchr(head, '\n', len);	/* skip the request line */
	while (line != NULL && (size_t)(++line - head) < len) {
		end = memchr(line, '\r', len - (size_t)(line - head));
		if (end == NULL || end == line)
			break;
		if (http_line_is(line, (size_t)(end - line), name, &value,
		    &vlen)) {
			if (vlen >= size)
				return (-1);
			memcpy(buf, value, vlen);
			buf[vlen] = '\0';
			return (0);
		}
		line = end + 1;
	}
	return (-1);
}

/*
 * The head of a request whose body dspd held whole and forwards as it
 * checked it: the framing the client chose (Content-Length,
 * Transfer-Encoding) and any Expect are dropped, and one Content-Length
 * of the held body is added.  Returns an allocated head.
 */
char *
http_head_with_length(const char *head, size_t len, size_t body_len,
    size_t *out_len)
{
	static const char *const dropped[] = {
		"content-length", "transfer-encoding", "expect"
	};
	const char	*line, *end, *value;
	char		*out;
	size_t		 o, i, vlen, n;
	int		 drop;

	/* The head ends with its blank line; room for one more header. */
	if (len < 4 || (out = malloc(len + 48)) == NULL)
		return (NULL);
	line = head;
	o = 0;
	while ((size_t)(line - head) < len) {
		end = memchr(line, '\n', len - (size_t)(line - head));
		if (end == NULL)
			break;
		n = (size_t)(end + 1 - line);
		if (n == 2)
			break;		/* the blank line */
		drop = 0;
		for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
			if (line != head && http_line_is(line, n - 2,
			    dropped[i], &value, &vlen))
				drop = 1;
		if (!drop) {
			memcpy(out + o, line, n);
			o += n;
		}
		line = end + 1;
	}
	o += (size_t)snprintf(out + o, 48, "Content-Length: %zu\r\n\r\n",
	    body_len);
	*out_len = o;
	return (out);
}

/*
 * Copy untrusted bytes as printable ASCII, other bytes as \xNN, cut short
 * with "..." when they do not fit; returns the length written.
 */
size_t
http_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;
	unsigned char		 c;

	if (size == 0)
		return (0);
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 + 4 > size)
				goto cut;
			dst[o++] = (char)c;
		} else {
			if (o + 4 + 4 > size)
				goto cut;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return (o);

cut:
	if (size >= 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return (o);
}

/*
 * The Docker-style error body {"message": "..."} that docker clients
 * print; returns an allocated string, or NULL when out of memory.
 */
char *
http_json_message(const char *message, size_t *len)
{
	json_t	*obj;
	char	*out;

	obj = json_pack("{s:s}", "message", message);
	if (obj == NULL) {
		/* Not UTF-8: callers escape untrusted bytes, so a bug. */
		obj = json_pack("{s:s}", "message", "dsp: unprintable error");
		if (obj == NULL)
			return (NULL);
	}
	out = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (out != NULL && len != NULL)
		*len = strlen(out);
	return (out);
}

/* The reason phrase of the statuses dspd writes itself. */
const char *
http_reason(int status)
{
	switch (status) {
	case 400:
		return ("Bad Request");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 408:
		return ("Request Timeout");
	case 413:
		return ("Payload Too Large");
	case 414:
		return ("URI Too Long");
	case 431:
		return ("Request Header Fields Too Large");
	case 500:
		return ("Internal Server Error");
	case 502:
		return ("Bad Gateway");
	case 503:
		return ("Service Unavailable");
	case 504:
		return ("Gateway Timeout");
	default:
		return ("Error");
	}
}
