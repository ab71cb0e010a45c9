#include "erp_admin.h"

#include <stdio.h>
#include <string.h>

#include "erp_api.h"
#include "erp_seed.h"

typedef void (*erp_admin_fn)(const struct erp_api *api, const json_t *body, struct httpd_resp *resp);

static void erp_admin_bad(struct httpd_resp *resp, const char *why)
{
	httpd_resp_error(resp, 400, "bad_request", why);
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
	erp_api_json(resp, 200, j);
}

static void erp_admin_reset(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	char err[300];
	(void)body;
	sandbox_fault_reset(api->fault);
	if (!erp_seed_load(api->store, api->demo, api->seed_file, err, sizeof err)) {
		httpd_resp_error(resp, 500, "internal_error", err);
		return;
	}
	erp_api_json(resp, 200, erp_admin_summary(api));
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
	if (!r) {
		httpd_resp_error(resp, path_known ? 405 : 404, path_known ? "method_not_allowed" : "not_found",
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
