#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
	buf_init_max(b, 0);
}

void buf_init_max(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Empty again, keeping the maximum the owner chose for it. */
static void buf_forget(struct buf *b)
{
	buf_init_max(b, b->max);
}

void buf_cleanup(struct buf *b)
{
	free(b->data);
	buf_forget(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* The most bytes len may reach. No object may be larger than PTRDIFF_MAX (pointer differences
 * into it must fit), and the bound keeps max + 1 and the doubling in buf_reserve from wrapping. */
static size_t buf_max(const struct buf *b)
{
	size_t max = b->max ? b->max : BUF_MAX_DEFAULT;
	return max < PTRDIFF_MAX ? max : PTRDIFF_MAX - 1;
}

/* Room for extra more bytes and the NUL, or false with the buffer untouched. */
static bool buf_reserve(struct buf *b, size_t extra)
{
	size_t max = buf_max(b);
	/* compared by subtraction: len + extra + 1 may wrap around and look small */
	if (b->len > max || extra > max - b->len)
		return false;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap <= (max + 1) / 2 ? cap * 2 : max + 1;
	if (cap > max + 1)
		cap = max + 1; /* a maximum below the first block's size */
	char *p = realloc(b->data, cap);
	if (!p)
		return false;
	b->data = p;
	b->cap = cap;
	return true;
}

bool buf_append(struct buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len))
		return false;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return true;
}

bool buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char tmp[256];
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof tmp)
		return buf_append(b, tmp, (size_t)n);
	if (!buf_reserve(b, (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

/* The two-character escape of c inside a JSON string, or NULL (itself, or \u00XX below 0x20). */
static const char *buf_json_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

/* Bytes s takes as a JSON string literal, quotes included; SIZE_MAX when that does not fit size_t
 * (buf_reserve refuses it). */
static size_t buf_json_len(const unsigned char *s)
{
	size_t n = 2;
	for (; *s; s++) {
		if (n > SIZE_MAX - 6)
			return SIZE_MAX;
		n += buf_json_escape(*s) ? 2 : *s < 0x20 ? 6 : 1;
	}
	return n;
}

/* Measured first and reserved once: a string that does not fit leaves nothing behind, not an
 * opening quote and half the text. */
bool buf_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = buf_json_len(u);
	if (!buf_reserve(b, n))
		return false;
	char *out = b->data + b->len;
	*out++ = '"';
	for (; *u; u++) {
		const char *esc = buf_json_escape(*u);
		if (esc) {
			memcpy(out, esc, 2);
			out += 2;
		} else if (*u < 0x20) {
			const char e[6] = { '\\', 'u', '0', '0', hex[*u >> 4], hex[*u & 15] };
			memcpy(out, e, sizeof e);
			out += sizeof e;
		} else {
			*out++ = (char)*u;
		}
	}
	*out = '"';
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

char *buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	buf_forget(b);
	return p;
}
