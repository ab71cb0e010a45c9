#include "erp_rest.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "erp_rest_orders.h"
#include "http_client.h"

struct erp_rest {
	struct erp base; /* first: a struct erp * is a struct erp_rest * */
	struct erp_rest_conn conn;
};

struct erp_rest_conn *erp_rest_conn(struct erp *erp)
{
	return &((struct erp_rest *)erp)->conn;
}

/* How a record can fail. A member missing or of the wrong JSON type: the answer is not the API's
 * (a cut or garbled answer, usually passing), so the page is refused as a whole and asked for
 * again. Every member there but a value out of range: that record alone is refused (a reject) and
 * the rest of the page goes on, or one bad record would stop every later change. */
enum erp_check { ERP_OK, ERP_REJECT, ERP_MALFORMED };

/* Quantities beyond a billion units are a broken record, not stock; bounding them keeps every
 * later multiplication and sum inside int64. */
#define ERP_QTY_MAX 1000000000LL

static enum erp_check erp_get_str(json_t *obj, const char *key, char *out, size_t max, char *err, size_t len)
{
	json_t *v = json_object_get(obj, key);
	size_t n = json_string_length(v);
	if (n == 0 || n > max || strlen(json_string_value(v)) != n) {
		snprintf(err, len, "\"%s\" empty, longer than %zu bytes or holding a NUL", key, max);
		return ERP_REJECT;
	}
	memcpy(out, json_string_value(v), n + 1);
	return ERP_OK;
}

/* A number that is not whole (or was beyond int64: erp_widen) is out of range too. */
static enum erp_check erp_get_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, char *err,
				  size_t len)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, len, "\"%s\" is not a whole number in %lld..%lld", key, (long long)min, (long long)max);
		return ERP_REJECT;
	}
	*out = json_integer_value(v);
	return ERP_OK;
}

bool erp_rest_parse_time(const char *s, int64_t *us)
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

/* Every member there with its JSON type: what decides between a malformed answer and a reject. */
static bool erp_item_shaped(json_t *it, char *err, size_t len)
{
	static const struct {
		const char *key;
		bool text;
	} members[] = { { "sku", true },        { "warehouse", true }, { "on_hand", false },  { "reserved", false },
			{ "available", false }, { "version", false },  { "changed_at", true } };
	if (!json_is_object(it)) {
		snprintf(err, len, "not an object");
		return false;
	}
	for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
		json_t *v = json_object_get(it, members[i].key);
		if (members[i].text ? !json_is_string(v) : !json_is_number(v)) {
			snprintf(err, len, "\"%s\" missing or not a %s", members[i].key,
				 members[i].text ? "string" : "number");
			return false;
		}
	}
	return true;
}

static enum erp_check erp_parse_item(json_t *it, struct erp_stock_item *out, char *err, size_t len)
{
	memset(out, 0, sizeof *out);
	if (!erp_item_shaped(it, err, len))
		return ERP_MALFORMED;
	if (erp_get_str(it, "sku", out->sku, ERP_SKU_MAX, err, len) != ERP_OK ||
	    erp_get_str(it, "warehouse", out->warehouse, ERP_WAREHOUSE_MAX, err, len) != ERP_OK ||
	    erp_get_int(it, "on_hand", -ERP_QTY_MAX, ERP_QTY_MAX, &out->on_hand, err, len) != ERP_OK ||
	    erp_get_int(it, "reserved", -ERP_QTY_MAX, ERP_QTY_MAX, &out->reserved, err, len) != ERP_OK ||
	    erp_get_int(it, "available", -ERP_QTY_MAX, ERP_QTY_MAX, &out->available, err, len) != ERP_OK ||
	    /* epoch milliseconds and row versions are versions too: the whole of bigint */
	    erp_get_int(it, "version", 1, INT64_MAX, &out->version, err, len) != ERP_OK)
		return ERP_REJECT;
	if (!erp_rest_parse_time(json_string_value(json_object_get(it, "changed_at")), &out->changed_at_us)) {
		snprintf(err, len, "\"changed_at\" is not RFC 3339 UTC");
		return ERP_REJECT;
	}
	return ERP_OK;
}

/* Whether the integer text s[0..n) (an optional '-', then digits) lies outside int64. */
static bool erp_int_overflows(const char *s, size_t n)
{
	bool neg = *s == '-';
	const char *d = s + neg;
	size_t nd = n - neg;
	while (nd > 1 && *d == '0') {
		d++;
		nd--;
	}
	return nd > 19 || (nd == 19 && memcmp(d, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0);
}

#define ERP_WIDEN_DIGITS_MAX 300 /* a real with more digits would overflow a double */

/* jansson refuses a whole document for one integer beyond int64, and such a number in one record
 * must cost that record, not the page. Each such integer is written as a real (".0" appended; one
 * too long even for a double becomes 1e300), which the record's checks then refuse as not a whole
 * number in range. Returns a malloc'ed copy, or NULL when there is none (or no memory: the body
 * is then parsed as it is). */
static char *erp_widen(const char *body, size_t len, size_t *outlen)
{
	char *out = NULL;
	size_t o = 0, wide = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (!wide || !(out = malloc(len + wide * 8 + 1)))
				return NULL;
		}
		bool text = false;
		for (size_t i = 0; i < len;) {
			size_t at = i;
			char c = body[i];
			bool number = !text && (c == '-' || (c >= '0' && c <= '9'));
			if (number) {
				while (i < len && body[i] && strchr("0123456789+-.eE", body[i]))
					i++;
			} else {
				if (text && c == '\\')
					i++;
				else if (c == '"')
					text = !text;
				i = i + 1 < len ? i + 1 : len;
			}
			bool big = number && !memchr(body + at, '.', i - at) && !memchr(body + at, 'e', i - at) &&
				   !memchr(body + at, 'E', i - at) && erp_int_overflows(body + at, i - at);
			if (pass == 0) {
				wide += big;
			} else if (big && i - at > ERP_WIDEN_DIGITS_MAX) {
				const char *huge = c == '-' ? "-1e300" : "1e300";
				memcpy(out + o, huge, strlen(huge));
				o += strlen(huge);
			} else {
				memcpy(out + o, body + at, i - at);
				o += i - at;
				if (big) {
					memcpy(out + o, ".0", 2);
					o += 2;
				}
			}
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Loads a body as JSON; NULL with the parser's position in err. */
static json_t *erp_load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	size_t wlen = 0;
	char *widened = erp_widen(body, len, &wlen);
	json_t *root = widened ? json_loadb(widened, wlen, 0, &jerr) : json_loadb(body, len, 0, &jerr);
	free(widened);
	if (!root)
		snprintf(err, errlen, "not JSON: %s at line %d column %d", jerr.text, jerr.line, jerr.column);
	return root;
}

/* Keeps record i of a page, refused with why, for the dead-letter topic. */
static bool erp_reject_add(struct erp_stock_page *out, size_t cap, size_t i, json_t *it, const char *why)
{
	if (!out->rejects && !(out->rejects = calloc(cap, sizeof *out->rejects)))
		return false;
	struct erp_stock_reject *r = &out->rejects[out->nrejects];
	memset(r, 0, sizeof *r);
	r->index = i;
	snprintf(r->reason, sizeof r->reason, "%s", why);
	const char *sku = json_string_value(json_object_get(it, "sku"));
	const char *wh = json_string_value(json_object_get(it, "warehouse"));
	if (sku && wh && *sku && *wh && strlen(sku) <= ERP_SKU_MAX && strlen(wh) <= ERP_WAREHOUSE_MAX) {
		memcpy(r->sku, sku, strlen(sku) + 1);
		memcpy(r->warehouse, wh, strlen(wh) + 1);
	}
	r->json = json_dumps(it, JSON_COMPACT);
	if (!r->json)
		return false;
	out->nrejects++;
	return true;
}

/* Fills out->items (and out->rejects) from n records: items[i] of the array, or the single
 * object one when the array is NULL. A malformed record fails them all. */
static bool erp_parse_records(json_t *items, json_t *one, size_t n, struct erp_stock_page *out, char *err,
			      size_t errlen)
{
	out->items = n ? calloc(n, sizeof *out->items) : NULL;
	if (n && !out->items) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char why[ERP_REJECT_REASON_MAX];
		json_t *it = items ? json_array_get(items, i) : one;
		enum erp_check c = erp_parse_item(it, &out->items[out->n], why, sizeof why);
		if (c == ERP_OK) {
			out->n++;
			continue;
		}
		if (c == ERP_MALFORMED)
			snprintf(err, errlen, "item %zu: %s", i, why);
		else if (!erp_reject_add(out, n, i, it, why))
			snprintf(err, errlen, "out of memory");
		else
			continue;
		erp_stock_page_cleanup(out);
		return false;
	}
	return true;
}

/* An optional string member that must fit and hold only printable ASCII, or only digits. */
static bool erp_get_token(json_t *root, const char *key, bool digits, char *out, size_t max)
{
	json_t *v = json_object_get(root, key);
	if (!v)
		return true;
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	if (!n || n > max || json_string_length(v) != n)
		return false;
	for (const char *c = s; *c; c++)
		if (digits ? (*c < '0' || *c > '9') : (*c <= ' ' || *c > '~'))
			return false;
	memcpy(out, s, n + 1);
	return true;
}

bool erp_rest_parse_stock(const char *body, size_t len, struct erp_stock_page *out, char *err, size_t errlen)
{
	bool ok = false;
	memset(out, 0, sizeof *out);
	json_t *root = erp_load(body, len, err, errlen);
	json_t *items = json_object_get(root, "items");
	if (!root)
		return false;
	if (!json_is_array(items) || !json_object_get(root, "next_cursor") ||
	    !erp_get_token(root, "next_cursor", true, out->next_cursor, ERP_CURSOR_MAX)) {
		snprintf(err, errlen, "\"items\" array or \"next_cursor\" (a sequence number) missing");
		goto out;
	}
	if (!erp_get_token(root, "feed_id", false, out->feed_id, ERP_FEED_ID_MAX) ||
	    !erp_get_token(root, "last_cursor", true, out->last_cursor, ERP_CURSOR_MAX)) {
		snprintf(err, errlen,
			 "\"feed_id\" (1..%d printable characters) or \"last_cursor\" (a sequence number) malformed",
			 ERP_FEED_ID_MAX);
		goto out;
	}
	out->has_more = json_is_true(json_object_get(root, "has_more"));
	if (!erp_parse_records(items, NULL, json_array_size(items), out, err, errlen))
		goto out;
	ok = true;
out:
	if (!ok)
		memset(out, 0, sizeof *out);
	json_decref(root);
	return ok;
}

bool erp_rest_parse_items(const char *body, size_t len, struct erp_stock_page *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_t *root = erp_load(body, len, err, errlen);
	if (!root)
		return false;
	json_t *items = json_object_get(root, "items");
	size_t n = json_is_array(items) ? json_array_size(items) : 1;
	bool ok = false;
	if (!json_is_object(root) || (items && !json_is_array(items)) || n == 0 || n > 10000) {
		snprintf(err, errlen, "expected a record object or {\"items\": [1..10000 records]}");
	} else if ((ok = erp_parse_records(items, root, n, out, err, errlen)) && out->nrejects) {
		/* a push is answered at once: its sender learns which record and why */
		snprintf(err, errlen, "item %zu: %s", out->rejects[0].index, out->rejects[0].reason);
		erp_stock_page_cleanup(out);
		ok = false;
	}
	json_decref(root);
	return ok;
}

static bool erp_rest_stock_changes(struct erp *erp, const char *cursor, size_t limit, struct erp_stock_page *out,
				   char *err, size_t errlen)
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
	snprintf(url, sizeof url, "%s/api/v1/stock?since=%s&limit=%zu", r->conn.base_url, *cursor ? cursor : "0",
		 limit);
	struct http_header h[] = { { "Authorization", r->conn.auth_header }, { "Accept", "application/json" } };
	http_response_init(&resp);
	if (!http_request(r->conn.http, "GET", url, h, 2, NULL, 0, &resp)) {
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
	http_client_free(r->conn.http);
	http_client_free(r->conn.once);
	free(r->conn.base_url);
	if (r->conn.auth_header)
		explicit_bzero(r->conn.auth_header, strlen(r->conn.auth_header));
	free(r->conn.auth_header);
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
	r->base.orders = &erp_rest_orders;
	size_t n = strlen(base_url);
	while (n && base_url[n - 1] == '/')
		n--;
	r->conn.base_url = strndup(base_url, n);
	size_t alen = strlen(token) + sizeof "Bearer ";
	r->conn.auth_header = malloc(alen);
	if (r->conn.auth_header)
		snprintf(r->conn.auth_header, alen, "Bearer %s", token);
	struct http_client_opts o = {
		.budget_key = "erp",
		.rate_per_sec = rate_per_sec,
		.metrics_system = "erp",
	};
	r->conn.http = http_client_new(&o);
	/* a create the client repeated after a lost answer would book twice: one attempt, on a
	 * connection of its own (libcurl repeats a request itself on a kept connection found closed),
	 * and the caller looks the document up by its external reference before trying again */
	o.max_attempts = 1;
	o.fresh_connection = true;
	r->conn.once = http_client_new(&o);
	if (!r->conn.base_url || !r->conn.auth_header || !r->conn.http || !r->conn.once) {
		erp_rest_free(&r->base);
		return NULL;
	}
	return &r->base;
}
