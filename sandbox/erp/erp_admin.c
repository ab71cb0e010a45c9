#include "erp_admin.h"

#include <stdio.h>
#include <string.h>

#include "erp_api.h"
#include "erp_check.h"
#include "erp_seed.h"

typedef void (*erp_admin_fn)(const struct erp_api *api, const json_t *body, struct httpd_resp *resp);
/* the handlers of /sandbox/<kind>/<id>/<action> */
typedef void (*erp_admin_doc_fn)(const struct erp_api *api, const char *id, const json_t *body,
				 struct httpd_resp *resp);

static void erp_admin_bad(struct httpd_resp *resp, const char *why)
{
	erp_api_error(resp, 400, "bad_request", why);
}

static json_t *erp_admin_summary(const struct erp_api *api)
{
	return json_pack("{s:I,s:I}", "records", (json_int_t)erp_store_count(api->store), "last_seq",
			 (json_int_t)erp_store_last_seq(api->store));
}

static void erp_admin_stock(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	char err[200];
	size_t applied;
	struct erp_stock last;
	if (!erp_seed_apply(api->store, body, &applied, &last, err, sizeof err)) {
		erp_admin_bad(resp, err);
		return;
	}
	if (json_is_object(body) && !json_object_get(body, "items")) {
		erp_api_json(resp, 200, erp_api_stock_json(&last));
		return;
	}
	json_t *j = erp_admin_summary(api);
	json_object_set_new(j, "applied", json_integer((json_int_t)applied));
	erp_api_json(resp, 200, j);
}

/* An optional integer member; 0 when absent. */
static bool erp_admin_int(const json_t *body, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(body, key);
	*out = v ? json_integer_value(v) : 0;
	return !v || json_is_integer(v);
}

static void erp_admin_adjust(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	char err[200];
	int64_t delta, reserved_delta;
	struct erp_stock rec;
	if (!erp_admin_int(body, "delta", &delta) || !erp_admin_int(body, "reserved_delta", &reserved_delta)) {
		erp_admin_bad(resp, "delta and reserved_delta must be integers");
		return;
	}
	if (!erp_store_adjust(api->store, json_string_value(json_object_get(body, "sku")),
			      json_string_value(json_object_get(body, "warehouse")), delta, reserved_delta, &rec, err,
			      sizeof err)) {
		erp_admin_bad(resp, err);
		return;
	}
	erp_api_json(resp, 200, erp_api_stock_json(&rec));
}

static void erp_admin_faults(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	char err[200];
	if (body && !sandbox_fault_arm(api->fault, body, err, sizeof err)) {
		erp_admin_bad(resp, err);
		return;
	}
	erp_api_json(resp, 200, sandbox_fault_json(api->fault));
}

static void erp_admin_stats(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	(void)body;
	json_t *j = sandbox_fault_stats_json(api->fault);
	json_t *sum = erp_admin_summary(api);
	json_object_update(j, sum);
	json_decref(sum);
	json_object_set_new(j, "webhook", api->push ? erp_webhook_stats_json(api->push) : json_null());
	json_object_set_new(j, "order_webhook",
			    api->order_push ? erp_webhook_stats_json(api->order_push) : json_null());
	json_t *docs = erp_docs_stats(api->docs);
	json_object_update(j, docs);
	json_decref(docs);
	erp_api_json(resp, 200, j);
}

static void erp_admin_reset(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	char err[300];
	(void)body;
	sandbox_fault_reset(api->fault);
	erp_docs_clear(api->docs);
	if (!erp_seed_load(api->store, api->demo, api->seed_file, err, sizeof err)) {
		erp_api_error(resp, 500, "internal_error", err);
		return;
	}
	erp_api_json(resp, 200, erp_admin_summary(api));
}

/* SKUs the ERP sells beyond its stock records: {"sku": "X"} or {"skus": ["X", ...]}. */
static void erp_admin_skus(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	const json_t *one = json_object_get(body, "sku"), *list = json_object_get(body, "skus");
	char err[200];
	size_t n = list ? json_array_size(list) : 1;
	if ((one == NULL) == (list == NULL) || (list && (!json_is_array(list) || n == 0 || n > 100000))) {
		erp_admin_bad(resp, "give {\"sku\": \"X\"} or {\"skus\": [\"X\", ...]} (1..100000)");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *sku = json_string_value(list ? json_array_get(list, i) : one);
		if (!erp_store_key_valid(sku, "WH", err, sizeof err)) {
			erp_admin_bad(resp, err);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!erp_docs_sku_add(api->docs, json_string_value(list ? json_array_get(list, i) : one))) {
			erp_api_error(resp, 500, "internal_error", "out of memory");
			return;
		}
	}
	erp_api_json(resp, 200, json_pack("{s:I}", "added", (json_int_t)n));
}

static void erp_admin_answer(struct httpd_resp *resp, enum erp_docs_result r, json_t *doc, const char *what)
{
	if (r == ERP_DOCS_OK)
		erp_api_json(resp, 200, doc);
	else if (r == ERP_DOCS_NOT_FOUND)
		erp_api_error(resp, 404, "not_found", what);
	else
		erp_api_error(resp, 500, "internal_error", "out of memory");
}

/* {"status": confirmed|ready_to_ship|shipped|completed|cancelled, "reason": "..."}: an ERP user
 * moving the order on (a change of the feed, pushed when the order webhook is on). */
static void erp_admin_order_status(const struct erp_api *api, const char *id, const json_t *body,
				   struct httpd_resp *resp)
{
	const char *status, *reason;
	char why[200], code[64], msg[200];
	if (!erp_check_word(body, "status", "confirmed|ready_to_ship|shipped|completed|cancelled", NULL, &status, why,
			    sizeof why) ||
	    !erp_check_text(body, "reason", 1000, false, &reason, why, sizeof why)) {
		erp_admin_bad(resp, why);
		return;
	}
	json_t *doc = NULL;
	enum erp_docs_result r = erp_docs_order_status(api->docs, id, status, reason, false, &doc, code, sizeof code,
						       msg, sizeof msg);
	erp_admin_answer(resp, r, doc, "no such order");
}

static void erp_admin_order_invoiced(const struct erp_api *api, const char *id, const json_t *body,
				     struct httpd_resp *resp)
{
	(void)body;
	json_t *doc = NULL;
	enum erp_docs_result r = erp_docs_order_invoiced(api->docs, id, &doc);
	erp_admin_answer(resp, r, doc, "no such order");
}

/* {"status": accepted|rejected|resolved, "resolution": refund|repair|replacement|price_reduction,
 * "note": "...", "refund_minor": N} */
static void erp_admin_complaint_decision(const struct erp_api *api, const char *id, const json_t *body,
					 struct httpd_resp *resp)
{
	const char *status, *resolution, *note;
	int64_t refund;
	char why[200];
	if (!erp_check_word(body, "status", "open|accepted|rejected|resolved", NULL, &status, why, sizeof why) ||
	    !erp_check_word(body, "resolution", "refund|repair|replacement|price_reduction", "", &resolution, why,
			    sizeof why) ||
	    !erp_check_text(body, "note", 2000, false, &note, why, sizeof why) ||
	    !erp_check_int(body, "refund_minor", 0, ERP_CHECK_MONEY_MAX, false, 0, &refund, why, sizeof why)) {
		erp_admin_bad(resp, why);
		return;
	}
	json_t *doc = NULL;
	enum erp_docs_result r = erp_docs_complaint_decide(api->docs, id, status, resolution, note, refund, &doc);
	erp_admin_answer(resp, r, doc, "no such complaint");
}

static const struct erp_admin_doc_route {
	const char *prefix; /* "/sandbox/orders/" */
	const char *action; /* "/status" */
	erp_admin_doc_fn fn;
} erp_admin_doc_routes[] = {
	{ "/sandbox/orders/", "/status", erp_admin_order_status },
	{ "/sandbox/orders/", "/invoiced", erp_admin_order_invoiced },
	{ "/sandbox/complaints/", "/decision", erp_admin_complaint_decision },
};

/* POST /sandbox/<kind>/<id>/<action>; false when the path is none of them. */
static bool erp_admin_doc(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp)
{
	for (size_t i = 0; i < sizeof erp_admin_doc_routes / sizeof erp_admin_doc_routes[0]; i++) {
		const struct erp_admin_doc_route *r = &erp_admin_doc_routes[i];
		size_t plen = strlen(r->prefix);
		const char *id = req->path + plen, *slash = strchr(id, '/');
		if (strncmp(req->path, r->prefix, plen) != 0 || !slash || slash == id || slash - id > 64 ||
		    strcmp(slash, r->action) != 0)
			continue;
		if (strcmp(req->method, "POST") != 0) {
			erp_api_error(resp, 405, "method_not_allowed", "only POST is allowed here");
			return true;
		}
		json_t *body = req->body_len ? erp_api_body(req, resp) : json_object();
		if (!body)
			return true;
		char oid[65];
		snprintf(oid, sizeof oid, "%.*s", (int)(slash - id), id);
		r->fn(api, oid, body, resp);
		json_decref(body);
		return true;
	}
	return false;
}

static const struct erp_admin_route {
	const char *method;
	const char *path;
	bool wants_body;
	erp_admin_fn fn;
} erp_admin_routes[] = {
	{ "POST", "/sandbox/stock", true, erp_admin_stock },
	{ "POST", "/sandbox/stock/adjust", true, erp_admin_adjust },
	{ "POST", "/sandbox/faults", true, erp_admin_faults },
	{ "GET", "/sandbox/faults", false, erp_admin_faults },
	{ "GET", "/sandbox/stats", false, erp_admin_stats },
	{ "POST", "/sandbox/reset", false, erp_admin_reset },
	{ "POST", "/sandbox/skus", true, erp_admin_skus },
};

void erp_admin_handle(const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct erp_api *api = req->route_data;
	const struct erp_admin_route *r = NULL;
	bool path_known = false;
	for (size_t i = 0; i < sizeof erp_admin_routes / sizeof erp_admin_routes[0]; i++) {
		if (strcmp(req->path, erp_admin_routes[i].path) != 0)
			continue;
		path_known = true;
		if (strcmp(req->method, erp_admin_routes[i].method) == 0)
			r = &erp_admin_routes[i];
	}
	if (!erp_api_authorized(api, req, resp))
		return;
	if (!r && erp_admin_doc(api, req, resp))
		return;
	if (!r) {
		erp_api_error(resp, path_known ? 405 : 404, path_known ? "method_not_allowed" : "not_found",
			      path_known ? "method not allowed here" : "no such endpoint");
		return;
	}
	json_t *body = NULL;
	if (r->wants_body) {
		json_error_t jerr;
		body = json_loadb(req->body, req->body_len, 0, &jerr);
		if (!json_is_object(body) && !json_is_array(body)) {
			char why[200];
			snprintf(why, sizeof why, "body must be a JSON object: %s", body ? "" : jerr.text);
			json_decref(body);
			erp_admin_bad(resp, why);
			return;
		}
	}
	r->fn(api, body, resp);
	json_decref(body);
}
