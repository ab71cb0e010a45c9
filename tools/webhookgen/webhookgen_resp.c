#include "webhookgen_resp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WEBHOOKGEN_HEAD_MAX 16384

static const char *webhookgen_find(const char *in, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(in + i, needle, k) == 0)
			return in + i;
	return NULL;
}

/* The value of header name in head[0..n) (lines after the status line), its length in *len. */
static const char *webhookgen_header(const char *head, size_t n, const char *name, size_t *len)
{
	size_t k = strlen(name);
	const char *p = memchr(head, '\n', n);
	const char *end = head + n;
	while (p && p + 1 < end) {
		const char *line = p + 1;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			return NULL;
		if ((size_t)(eol - line) > k && line[k] == ':' && strncasecmp(line, name, k) == 0) {
			const char *v = line + k + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = eol;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			*len = (size_t)(ve - v);
			return v;
		}
		p = eol;
	}
	return NULL;
}

static bool webhookgen_has_token(const char *v, size_t len, const char *token)
{
	size_t k = strlen(token);
	for (size_t i = 0; i + k <= len; i++)
		if (strncasecmp(v + i, token, k) == 0)
			return true;
	return false;
}

/* The end of a chunked body starting at body[0..n): its length, or 0 while incomplete, -1 bad. */
static long webhookgen_chunked(const char *body, size_t n)
{
	size_t at = 0;
	for (;;) {
		const char *eol = webhookgen_find(body + at, n - at, "\r\n");
		if (!eol)
			return 0;
		char *end;
		unsigned long size = strtoul(body + at, &end, 16);
		if (end == body + at || size > (1ul << 24))
			return -1;
		at = (size_t)(eol - body) + 2;
		if (size == 0) { /* then trailers, if any, and an empty line */
			if (n - at >= 2 && body[at] == '\r' && body[at + 1] == '\n')
				return (long)at + 2;
			const char *last = webhookgen_find(body + at, n - at, "\r\n\r\n");
			return last ? (long)(last - body) + 4 : 0;
		}
		if (n - at < size + 2)
			return 0;
		at += size + 2;
	}
}

enum webhookgen_frame webhookgen_resp_frame(const char *in, size_t n, struct webhookgen_answer *out)
{
	const char *hend = webhookgen_find(in, n < WEBHOOKGEN_HEAD_MAX ? n : WEBHOOKGEN_HEAD_MAX, "\r\n\r\n");
	if (!hend)
		return n >= WEBHOOKGEN_HEAD_MAX ? WEBHOOKGEN_BAD : WEBHOOKGEN_MORE;
	size_t hlen = (size_t)(hend - in) + 4;
	if (hlen < 12 || strncmp(in, "HTTP/1.", 7) != 0 || in[8] != ' ' || !isdigit((unsigned char)in[9]) ||
	    !isdigit((unsigned char)in[10]) || !isdigit((unsigned char)in[11]))
		return WEBHOOKGEN_BAD;
	out->status = (in[9] - '0') * 100 + (in[10] - '0') * 10 + (in[11] - '0');
	if (out->status < 100)
		return WEBHOOKGEN_BAD;
	size_t vlen;
	const char *conn = webhookgen_header(in, hlen, "Connection", &vlen);
	out->keep_alive = in[7] == '1' ? !(conn && webhookgen_has_token(conn, vlen, "close"))
				       : conn && webhookgen_has_token(conn, vlen, "keep-alive");
	const char *te = webhookgen_header(in, hlen, "Transfer-Encoding", &vlen);
	if (te && webhookgen_has_token(te, vlen, "chunked")) {
		long body = webhookgen_chunked(in + hlen, n - hlen);
		if (body < 0)
			return WEBHOOKGEN_BAD;
		out->length = hlen + (size_t)body;
		return body ? WEBHOOKGEN_DONE : WEBHOOKGEN_MORE;
	}
	const char *cl = webhookgen_header(in, hlen, "Content-Length", &vlen);
	if (!cl)
		return out->status == 204 || out->status == 304 || out->status < 200
			       ? (out->length = hlen, WEBHOOKGEN_DONE)
			       : WEBHOOKGEN_BAD;
	char *end;
	unsigned long len = strtoul(cl, &end, 10);
	if (end == cl || end != cl + vlen || len > (1ul << 24))
		return WEBHOOKGEN_BAD;
	out->length = hlen + len;
	return n >= out->length ? WEBHOOKGEN_DONE : WEBHOOKGEN_MORE;
}

int64_t webhookgen_pct(const int64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}
