#include "erp_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "erp_admin.h"
#include "erp_cases.h"
#include "erp_orders.h"
#include "shutdown.h"

#define ERP_API_PREFIX    "/api/v1/"
#define ERP_LIMIT_DEFAULT 500
#define ERP_LIMIT_MAX     1000

/* Indexes into erp_api_faults.modes and .variants. */
enum erp_fault_mode {
	ERP_FAULT_NONE = SANDBOX_FAULT_NONE,
	ERP_FAULT_500,
	ERP_FAULT_429,
	ERP_FAULT_SLOW,
	ERP_FAULT_MALFORMED,
	ERP_FAULT_REPEAT,
	ERP_FAULT_LOST_ANSWER,
	ERP_FAULT_TIMEOUT_AFTER_COMMIT,
};
enum erp_malformed { ERP_MALFORMED_TRUNCATED, ERP_MALFORMED_MISSING_FIELDS };

static const char *const erp_fault_names[] = { "none",      "500",    "429",         "slow",
					       "malformed", "repeat", "lost_answer", "timeout_after_commit" };
static const char *const erp_malformed_names[] = { "truncated", "missing_fields" };

const struct sandbox_fault_modes erp_api_faults = {
	erp_fault_names,
	sizeof erp_fault_names / sizeof erp_fault_names[0],
	erp_malformed_names,
	sizeof erp_malformed_names / sizeof erp_malformed_names[0],
};

const unsigned erp_api_write_faults = (1u << ERP_FAULT_LOST_ANSWER) | (1u << ERP_FAULT_TIMEOUT_AFTER_COMMIT);

void erp_api_error(struct httpd_resp *resp, int status, const char *code, const char *message)
{
	json_t *j = json_pack("{s:s,s:s,s:s}", "error", code, "code", code, "message", message ? message : "");
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	httpd_resp_error(resp, status, code, message); /* the stock API's shape, if out of memory */
	if (text) {
		buf_reset(&resp->body);
		if (!buf_puts(&resp->body, text))
			httpd_resp_error(resp, status, code, message);
	}
	free(text);
}

json_t *erp_api_body(const struct httpd_req *req, struct httpd_resp *resp)
{
	json_error_t jerr;
	json_t *body = json_loadb(req->body, req->body_len, 0, &jerr);
	if (json_is_object(body))
		return body;
	char why[256];
	snprintf(why, sizeof why, "the body must be a JSON object%s%s", body ? "" : ": ", body ? "" : jerr.text);
	json_decref(body);
	erp_api_error(resp, 400, "bad_request", why);
	return NULL;
}

void erp_api_json(struct httpd_resp *resp, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	buf_reset(&resp->body);
	if (!text || !buf_puts(&resp->body, text)) {
		free(text);
		httpd_resp_error(resp, 500, "internal_error", "out of memory");
		return;
	}
	free(text);
	resp->status = status;
}

bool erp_api_authorized(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp)
{
	const char *h = httpd_req_header(req, "Authorization");
	if (h && strncasecmp(h, "Bearer ", 7) == 0 && httpd_secret_equal(h + 7, api->token))
		return true;
	erp_api_error(resp, 401, "unauthorized", "missing or invalid bearer token");
	if (!httpd_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"erp\""))
		erp_api_error(resp, 500, "internal_error", "out of memory");
	return false;
}

json_t *erp_api_stock_json(const struct erp_stock *s)
{
	char when[40];
	struct tm tm;
	time_t secs = (time_t)(s->changed_at_us / 1000000);
	gmtime_r(&secs, &tm);
	size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof when - n, ".%06lldZ", (long long)(s->changed_at_us % 1000000));
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s}", "sku", s->sku, "warehouse", s->warehouse, "on_hand",
			 (json_int_t)s->on_hand, "reserved", (json_int_t)s->reserved, "available",
			 (json_int_t)(s->on_hand - s->reserved), "version", (json_int_t)s->version, "changed_seq",
			 (json_int_t)s->changed_seq, "changed_at", when);
}

static json_t *erp_stock_array(const struct erp_stock *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		if (json_array_append_new(arr, erp_api_stock_json(&v[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* A decimal query parameter within [min, max]; def when absent. */
static bool erp_query_u64(const struct httpd_req *req, const char *name, uint64_t def, uint64_t min, uint64_t max,
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

static void erp_get_changes(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp)
{
	uint64_t since, limit;
	bool has_more;
	char cursor[24], last[24];
	if (!erp_query_u64(req, "since", 0, 0, UINT64_MAX, &since)) {
		erp_api_error(resp, 400, "bad_request", "since must be a change sequence number");
		return;
	}
	if (!erp_query_u64(req, "limit", ERP_LIMIT_DEFAULT, 1, ERP_LIMIT_MAX, &limit)) {
		erp_api_error(resp, 400, "bad_request", "limit must be an integer 1..1000");
		return;
	}
	const char *wh = httpd_req_query(req, "warehouse");
	struct erp_stock *v = malloc(limit * sizeof *v);
	if (!v) {
		erp_api_error(resp, 500, "internal_error", "out of memory");
		return;
	}
	size_t n = erp_store_changes(api->store, since, limit, wh && *wh ? wh : NULL, v, &has_more);
	/* read after the changes: the sequence only grows, so it is never below next_cursor */
	snprintf(last, sizeof last, "%llu", (unsigned long long)erp_store_last_seq(api->store));
	snprintf(cursor, sizeof cursor, "%llu", (unsigned long long)(n ? v[n - 1].changed_seq : since));
	erp_api_json(resp, 200,
		     json_pack("{s:o,s:s,s:b,s:s,s:s}", "items", erp_stock_array(v, n), "next_cursor", cursor,
			       "has_more", has_more, "feed_id", erp_store_feed_id(api->store), "last_cursor", last));
	free(v);
}

static void erp_get_sku(const struct erp_api *api, const char *sku, struct httpd_resp *resp)
{
	struct erp_stock v[ERP_STORE_WAREHOUSES_MAX];
	size_t n = erp_store_sku(api->store, sku, v, ERP_STORE_WAREHOUSES_MAX);
	if (n == 0) {
		erp_api_error(resp, 404, "not_found", "no stock record for this SKU");
		return;
	}
	if (n > ERP_STORE_WAREHOUSES_MAX)
		n = ERP_STORE_WAREHOUSES_MAX;
	erp_api_json(resp, 200, json_pack("{s:s,s:o}", "sku", sku, "items", erp_stock_array(v, n)));
}

static void erp_get_warehouses(const struct erp_api *api, struct httpd_resp *resp)
{
	struct erp_warehouse w[ERP_STORE_WAREHOUSES_MAX];
	size_t n = erp_store_warehouses(api->store, w, ERP_STORE_WAREHOUSES_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:I}", "code", w[i].code, "skus", (json_int_t)w[i].skus));
	erp_api_json(resp, 200, json_pack("{s:o}", "items", arr));
}

/* The malformed fault: items that lost fields a client needs, or, where there are no such
 * items, a body cut in half. */
static void erp_break_body(struct httpd_resp *resp, enum erp_malformed how)
{
	bool broken = false;
	if (how == ERP_MALFORMED_MISSING_FIELDS) {
		json_t *root = json_loads(resp->body.data ? resp->body.data : "", 0, NULL);
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(root, "items"), i, it)
		{
			broken |= json_object_del(it, i == 0 ? "sku" : "available") == 0;
			if (i % 2)
				json_object_del(it, "warehouse");
		}
		if (broken)
			erp_api_json(resp, resp->status, root);
		else
			json_decref(root);
	}
	if (!broken && resp->body.len > 1) {
		resp->body.len /= 2;
		resp->body.data[resp->body.len] = '\0';
	}
}

static void erp_route(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp)
{
	const char *rest = req->path + strlen(ERP_API_PREFIX);
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool known = strcmp(rest, "stock") == 0 || strcmp(rest, "warehouses") == 0 ||
		     (strncmp(rest, "stock/", 6) == 0 && rest[6] && !strchr(rest + 6, '/'));
	if (!known) {
		if (!erp_orders_route(api, req, rest, resp) && !erp_cases_route(api, req, rest, resp))
			erp_api_error(resp, 404, "not_found", "no such endpoint");
	} else if (!get) {
		erp_api_error(resp, 405, "method_not_allowed", "only GET is allowed here");
		if (!httpd_resp_header(resp, "Allow", "GET"))
			erp_api_error(resp, 500, "internal_error", "out of memory");
	} else if (strcmp(rest, "stock") == 0) {
		erp_get_changes(api, req, resp);
	} else if (strcmp(rest, "warehouses") == 0) {
		erp_get_warehouses(api, resp);
	} else {
		erp_get_sku(api, rest + 6, resp);
	}
}

/* The repeat fault: the changes as usual, but a cursor that does not move (next_cursor = since)
 * and has_more true, as a broken ERP paging for ever would answer. */
static void erp_repeat_cursor(const struct httpd_req *req, struct httpd_resp *resp)
{
	const char *since = httpd_req_query(req, "since");
	json_t *root = json_loads(resp->body.data ? resp->body.data : "", 0, NULL);
	if (json_is_object(root) && json_object_get(root, "next_cursor") &&
	    json_object_set_new(root, "next_cursor", json_string(since && *since ? since : "0")) == 0 &&
	    json_object_set_new(root, "has_more", json_true()) == 0)
		erp_api_json(resp, resp->status, root);
	else
		json_decref(root);
}

/* Takes the armed fault's share; true when the fault already answered the call. */
static bool erp_apply_fault(const struct sandbox_fault_shot *f, struct httpd_resp *resp)
{
	char secs[24];
	switch ((enum erp_fault_mode)f->mode) {
	case ERP_FAULT_500:
		erp_api_error(resp, 500, "internal_error", "simulated ERP failure");
		return true;
	case ERP_FAULT_429:
		snprintf(secs, sizeof secs, "%ld", f->retry_after_s);
		erp_api_error(resp, 429, "rate_limited", "too many requests, retry later");
		if (!httpd_resp_header(resp, "Retry-After", secs))
			erp_api_error(resp, 500, "internal_error", "out of memory");
		return true;
	case ERP_FAULT_SLOW:
		(void)shutdown_sleep_ms(f->delay_ms);
		return false;
	case ERP_FAULT_NONE:
	case ERP_FAULT_MALFORMED:
	case ERP_FAULT_REPEAT:
	case ERP_FAULT_LOST_ANSWER:
	case ERP_FAULT_TIMEOUT_AFTER_COMMIT:
		return false;
	}
	return false;
}

static void erp_api_handle(const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct erp_api *api = req->route_data;
	if (erp_api_authorized(api, req, resp)) {
		struct sandbox_fault_shot f = sandbox_fault_take_call(api->fault, req->method, req->path);
		if (!erp_apply_fault(&f, resp)) {
			erp_route(api, req, resp);
			if (f.mode == ERP_FAULT_MALFORMED && resp->status == 200)
				erp_break_body(resp, (enum erp_malformed)f.variant);
			if (f.mode == ERP_FAULT_REPEAT && resp->status == 200)
				erp_repeat_cursor(req, resp);
			/* the write is done; its answer never arrives, or too late */
			if (f.mode == ERP_FAULT_LOST_ANSWER)
				resp->drop = true;
			if (f.mode == ERP_FAULT_TIMEOUT_AFTER_COMMIT)
				(void)shutdown_sleep_ms(f.delay_ms);
		}
	}
	sandbox_fault_count(api->fault, resp->status);
}

bool erp_api_routes(struct erp_api *api, struct httpd *h)
{
	return httpd_route(h, NULL, ERP_API_PREFIX "*", erp_api_handle, api) &&
	       httpd_route(h, NULL, "/sandbox/*", erp_admin_handle, api);
}
