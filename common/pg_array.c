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
	for (const char *p = s; *p; p++) {
		if ((*p == '"' || *p == '\\') && !buf_append(&a->b, "\\", 1))
			return false;
		if (!buf_append(&a->b, p, 1))
			return false;
	}
	return buf_append(&a->b, "\"", 1);
}

bool pg_array_int(struct pg_array *a, int64_t v)
{
	return pg_array_sep(a) && buf_printf(&a->b, "%lld", (long long)v);
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
