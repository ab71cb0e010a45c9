#include "erp_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "erp_api.h"

bool erp_check_text(const json_t *obj, const char *key, size_t max, bool required, const char **out, char *why,
		    size_t len)
{
	const json_t *v = json_object_get(obj, key);
	*out = "";
	if (!v || json_is_null(v)) {
		if (required)
			snprintf(why, len, "\"%s\" is required", key);
		return !required;
	}
	const char *s = json_string_value(v);
	if (!s || json_string_length(v) != strlen(s) || strlen(s) > max || (required && !*s)) {
		snprintf(why, len, "\"%s\" must be a %sstring of at most %zu bytes", key, required ? "non-empty " : "",
			 max);
		return false;
	}
	*out = s;
	return true;
}

bool erp_check_word(const json_t *obj, const char *key, const char *words, const char *def, const char **out, char *why,
		    size_t len)
{
	const char *s;
	if (!erp_check_text(obj, key, 64, def == NULL, &s, why, len))
		return false;
	if (!*s && def) {
		*out = def;
		return true;
	}
	size_t n = strlen(s);
	for (const char *w = words; *w;) {
		size_t wl = strcspn(w, "|");
		if (wl == n && strncmp(w, s, n) == 0) {
			*out = s;
			return true;
		}
		w += wl + (w[wl] == '|');
	}
	snprintf(why, len, "\"%s\" must be one of %s", key, words);
	return false;
}

bool erp_check_int(const json_t *obj, const char *key, int64_t min, int64_t max, bool required, int64_t def,
		   int64_t *out, char *why, size_t len)
{
	const json_t *v = json_object_get(obj, key);
	if (!v && !required) {
		*out = def;
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(why, len, "\"%s\" must be an integer %lld..%lld", key, (long long)min, (long long)max);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

bool erp_check_address(const json_t *obj, const char *key, char *why, size_t len)
{
	const json_t *a = json_object_get(obj, key);
	const char *k;
	const json_t *v;
	if (!a || json_is_null(a))
		return true;
	if (!json_is_object(a)) {
		snprintf(why, len, "\"%s\" must be an address object", key);
		return false;
	}
	json_object_foreach((json_t *)a, k, v)
	{
		const char *s = json_string_value(v);
		if (!s || json_string_length(v) != strlen(s) || strlen(s) > 200) {
			snprintf(why, len, "\"%s.%s\" must be a string of at most 200 bytes", key, k);
			return false;
		}
	}
	return true;
}

bool erp_check_time(const char *s, int64_t *us)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!p)
		return false;
	int64_t frac = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return false;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return false;
	*us = (int64_t)timegm(&tm) * 1000000 + frac;
	return true;
}

bool erp_check_query_u64(const struct httpd_req *req, const char *name, uint64_t def, uint64_t min, uint64_t max,
			 uint64_t *out)
{
	const char *s = httpd_req_query(req, name);
	char *end = NULL;
	if (!s) {
		*out = def;
		return true;
	}
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

void erp_check_items(struct httpd_resp *resp, json_t *arr)
{
	erp_api_json(resp, 200, arr ? json_pack("{s:o}", "items", arr) : NULL);
}
