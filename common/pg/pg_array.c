#include "pg_array.h"

#include <string.h>

void pg_array_init(struct pg_array *a)
{
	buf_init(&a->b);
	a->any = false;
}

void pg_array_cleanup(struct pg_array *a)
{
	buf_cleanup(&a->b);
	a->any = false;
}

static bool pg_array_sep(struct pg_array *a)
{
	bool ok = buf_puts(&a->b, a->any ? "," : "{");
	a->any = true;
	return ok;
}

bool pg_array_text(struct pg_array *a, const char *s)
{
	if (!pg_array_sep(a) || !buf_append(&a->b, "\"", 1))
		return false;
	/* runs without a character to escape go in one append (batches carry ~10^5 elements) */
	for (;;) {
		size_t run = strcspn(s, "\"\\");
		if (!buf_append(&a->b, s, run))
			return false;
		s += run;
		if (!*s)
			break;
		char esc[2] = { '\\', *s++ };
		if (!buf_append(&a->b, esc, 2))
			return false;
	}
	return buf_append(&a->b, "\"", 1);
}

bool pg_array_int(struct pg_array *a, int64_t v)
{
	char digits[24], *p = digits + sizeof digits;
	/* by hand: printf's machinery was a visible share of building a batch */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return pg_array_sep(a) && buf_append(&a->b, p, (size_t)(digits + sizeof digits - p));
}

const char *pg_array_get(struct pg_array *a)
{
	if (!a->any)
		return "{}";
	/* close, read, and reopen so that appends may continue */
	if (!buf_append(&a->b, "}", 1))
		return NULL;
	a->b.len--;
	return a->b.data;
}
