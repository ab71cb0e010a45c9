#include "erp_rest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"

struct erp_rest {
	struct erp base;           /* first: a struct erp * is a struct erp_rest * */
	char *base_url;
	char *auth_header;         /* "Bearer <token>" */
	struct http_client *http;
};

/* A string member that must exist and fit; its name is reported when it does not. */
static bool erp_copy_str(json_t *obj, const char *key, char *out, size_t max, char *err, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s || !*s || strlen(s) > max) {
		snprintf(err, len, "\"%s\" missing, empty or longer than %zu", key, max);
		return false;
	}
	memcpy(out, s, strlen(s) + 1);
	return true;
}

/* Quantities beyond a billion units are a broken record, not stock; bounding them keeps every
 * later multiplication and sum inside int64. */
#define ERP_QTY_MAX 1000000000LL

static bool erp_get_int(json_t *obj, const char *key, int64_t *out, char *err, size_t len)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) > ERP_QTY_MAX || json_integer_value(v) < -ERP_QTY_MAX) {
		snprintf(err, len, "\"%s\" missing, not an integer or beyond a billion", key);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

/* RFC 3339 UTC ("2026-11-26T14:00:00.123456Z") -> unix microseconds. */
static bool erp_parse_time(const char *s, int64_t *us)
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
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return false;
	*us = (int64_t)timegm(&tm) * 1000000 + frac;
	return true;
}

static bool erp_parse_item(json_t *it, struct erp_stock_item *out, char *err, size_t len)
{
	if (!json_is_object(it)) {
		snprintf(err, len, "item is not an object");
		return false;
	}
	if (!erp_copy_str(it, "sku", out->sku, ERP_SKU_MAX, err, len) ||
	    !erp_copy_str(it, "warehouse", out->warehouse, ERP_WAREHOUSE_MAX, err, len) ||
	    !erp_get_int(it, "on_hand", &out->on_hand, err, len) ||
	    !erp_get_int(it, "reserved", &out->reserved, err, len) ||
	    !erp_get_int(it, "available", &out->available, err, len) ||
	    !erp_get_int(it, "version", &out->version, err, len))
		return false;
	if (out->version < 1) {
		snprintf(err, len, "\"version\" must be at least 1");
		return false;
	}
	if (!erp_parse_time(json_string_value(json_object_get(it, "changed_at")), &out->changed_at_us)) {
		snprintf(err, len, "\"changed_at\" missing or not RFC 3339 UTC");
		return false;
	}
	return true;
}

/* Loads a body as JSON; NULL with the parser's position in err. */
static json_t *erp_load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	if (!root)
		snprintf(err, errlen, "not JSON: %s at line %d column %d", jerr.text, jerr.line, jerr.column);
	return root;
}

/* Fills out->items from n records: items[i] of the array, or the single object one when the
 * array is NULL. All or nothing. */
static bool erp_parse_records(json_t *items, json_t *one, size_t n, struct erp_stock_page *out, char *err,
			      size_t errlen)
{
	out->items = n ? calloc(n, sizeof *out->items) : NULL;
	if (n && !out->items) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char why[160];
		if (!erp_parse_item(items ? json_array_get(items, i) : one, &out->items[i], why, sizeof why)) {
			snprintf(err, errlen, "item %zu: %s", i, why);
			erp_stock_page_cleanup(out);
			return false;
		}
	}
	out->n = n;
	return true;
}

bool erp_rest_parse_stock(const char *body, size_t len, struct erp_stock_page *out, char *err,
			  size_t errlen)
{
	bool ok = false;
	memset(out, 0, sizeof *out);
	json_t *root = erp_load(body, len, err, errlen);
	json_t *items = json_object_get(root, "items");
	json_t *cursor = json_object_get(root, "next_cursor");
	if (!root)
		return false;
	const char *c = json_string_value(cursor);
	if (!json_is_array(items) || !c || !*c || strlen(c) > ERP_CURSOR_MAX || strspn(c, "0123456789") != strlen(c)) {
		snprintf(err, errlen, "\"items\" array or \"next_cursor\" (a sequence number) missing");
		goto out;
	}
	if (!erp_parse_records(items, NULL, json_array_size(items), out, err, errlen))
		goto out;
	snprintf(out->next_cursor, sizeof out->next_cursor, "%s", json_string_value(cursor));
	out->has_more = json_is_true(json_object_get(root, "has_more"));
	ok = true;
out:
	json_decref(root);
	return ok;
}

bool erp_rest_parse_items(const char *body, size_t len, struct erp_stock_page *out, char *err,
			  size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_t *root = erp_load(body, len, err, errlen);
	if (!root)
		return false;
	json_t *items = json_object_get(root, "items");
	size_t n = json_is_array(items) ? json_array_size(items) : 1;
	bool ok = false;
	if (!json_is_object(root) || (items && !json_is_array(items)) || n == 0 || n > 10000)
		snprintf(err, errlen, "expected a record object or {\"items\": [1..10000 records]}");
	else
		ok = erp_parse_records(items, root, n, out, err, errlen);
	json_decref(root);
	return ok;
}

static bool erp_rest_stock_changes(struct erp *erp, const char *cursor, size_t limit,
				   struct erp_stock_page *out, char *err, size_t errlen)
{
	struct erp_rest *r = (struct erp_rest *)erp;
	struct http_response resp;
	char url[1024];
	bool ok = false;

	memset(out, 0, sizeof *out);
	for (const char *c = cursor; *c; c++) {
		if (*c < '0' || *c > '9') {
			snprintf(err, errlen, "cursor \"%s\" is not a sequence number", cursor);
			return false;
		}
	}
	snprintf(url, sizeof url, "%s/api/v1/stock?since=%s&limit=%zu", r->base_url, *cursor ? cursor : "0",
		 limit);
	struct http_header h[] = { { "Authorization", r->auth_header }, { "Accept", "application/json" } };
	http_response_init(&resp);
	if (!http_request(r->http, "GET", url, h, 2, NULL, 0, &resp)) {
		snprintf(err, errlen, "ERP unreachable: %s", resp.error);
		goto out;
	}
	if (resp.status != 200) {
		snprintf(err, errlen, "ERP answered HTTP %ld", resp.status);
		goto out;
	}
	ok = erp_rest_parse_stock(resp.body.data ? resp.body.data : "", resp.body.len, out, err, errlen);
out:
	http_response_cleanup(&resp);
	return ok;
}

static void erp_rest_free(struct erp *erp)
{
	struct erp_rest *r = (struct erp_rest *)erp;
	http_client_free(r->http);
	free(r->base_url);
	free(r->auth_header);
	free(r);
}

static const struct erp_ops erp_rest_ops = {
	.kind = "rest",
	.stock_changes = erp_rest_stock_changes,
	.free = erp_rest_free,
};

struct erp *erp_rest_new(const char *base_url, const char *token, double rate_per_sec)
{
	struct erp_rest *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->base.ops = &erp_rest_ops;
	size_t n = strlen(base_url);
	while (n && base_url[n - 1] == '/')
		n--;
	r->base_url = strndup(base_url, n);
	size_t alen = strlen(token) + sizeof "Bearer ";
	r->auth_header = malloc(alen);
	if (r->auth_header)
		snprintf(r->auth_header, alen, "Bearer %s", token);
	struct http_client_opts o = {
		.budget_key = "erp", .rate_per_sec = rate_per_sec, .metrics_system = "erp",
	};
	r->http = http_client_new(&o);
	if (!r->base_url || !r->auth_header || !r->http) {
		erp_rest_free(&r->base);
		return NULL;
	}
	return &r->base;
}
