#include "woo_admin.h"

#include <stdio.h>
#include <string.h>

#include "woo_api.h"
#include "woo_orders.h"

typedef void (*woo_admin_fn)(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			     struct httpd_resp *resp);

static void woo_admin_bad(struct httpd_resp *resp, const char *why)
{
	struct woo_error e;
	woo_error_set(&e, 400, "sandbox_bad_request", "%s", why);
	woo_api_error(resp, &e);
}

static void woo_admin_faults(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			     struct httpd_resp *resp)
{
	char err[200];
	(void)req;
	if (body && !sandbox_fault_arm(api->fault, body, err, sizeof err)) {
		woo_admin_bad(resp, err);
		return;
	}
	woo_api_json(resp, 200, sandbox_fault_json(api->fault));
}

static void woo_admin_stats(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			    struct httpd_resp *resp)
{
	(void)req;
	(void)body;
	json_t *j = sandbox_fault_stats_json(api->fault);
	if (j && !woo_stats_add_json(api->stats, j)) {
		json_decref(j);
		j = NULL;
	}
	if (j) {
		json_object_set_new(j, "shop", json_string(api->shop_name));
		json_object_set_new(j, "items", json_integer((json_int_t)woo_catalog_count(api->catalog)));
		json_object_set_new(j, "orders", json_integer((json_int_t)woo_order_store_count(api->orders)));
	}
	woo_api_json(resp, 200, j);
}

static void woo_admin_stock(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			    struct httpd_resp *resp)
{
	(void)req;
	(void)body;
	woo_api_json(resp, 200, woo_catalog_stock_json(api->catalog));
}

static void woo_admin_writes(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			     struct httpd_resp *resp)
{
	(void)body;
	const char *sku = httpd_req_query(req, "sku");
	json_t *j = woo_catalog_writes_json(api->catalog, sku && *sku ? sku : NULL);
	if (!j && sku && *sku) {
		struct woo_error e;
		woo_error_set(&e, 404, "sandbox_unknown_sku", "No product or variation has this SKU.");
		woo_api_error(resp, &e);
		return;
	}
	woo_api_json(resp, 200, j);
}

static void woo_admin_reset(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			    struct httpd_resp *resp)
{
	char err[200];
	(void)req;
	(void)body;
	sandbox_fault_reset(api->fault);
	woo_stats_reset(api->stats);
	woo_order_store_clear(api->orders);
	woo_webhook_stats_reset(api->hooks);
	if (!woo_demo_load(api->catalog, &api->demo, err, sizeof err)) {
		httpd_resp_error(resp, 500, "internal_server_error", err);
		return;
	}
	woo_api_json(resp, 200, json_pack("{s:I}", "items", (json_int_t)woo_catalog_count(api->catalog)));
}

/* Creates one product (with "id" if given) and the variation objects of its "variations"
 * array; a product with variations is variable unless it says otherwise. */
static void woo_admin_create_one(const struct woo_api *api, size_t index, const json_t *spec, json_t *created,
				 json_t *errors)
{
	struct woo_error e;
	const json_t *vars = json_object_get(spec, "variations");
	json_t *body = json_deep_copy(spec);
	if (body && json_array_size(vars) && !json_object_get(body, "type"))
		json_object_set_new(body, "type", json_string("variable"));
	struct woo_target t = { 0, json_integer_value(json_object_get(spec, "id")), false };
	json_t *p = body ? woo_catalog_create(api->catalog, t, body, &e) : NULL;
	if (!body)
		woo_error_set(&e, 500, "internal_server_error", "out of memory");
	json_decref(body);
	if (!p) {
		json_array_append_new(errors,
				      json_pack("{s:I,s:o}", "index", (json_int_t)index, "error", woo_error_json(&e)));
		return;
	}
	int64_t parent = json_integer_value(json_object_get(p, "id"));
	size_t i;
	const json_t *v;
	json_array_foreach(vars, i, v)
	{
		struct woo_target vt = { parent, json_integer_value(json_object_get(v, "id")), false };
		json_t *made = woo_catalog_create(api->catalog, vt, v, &e);
		if (!made)
			json_array_append_new(errors,
					      json_pack("{s:I,s:I,s:o}", "index", (json_int_t)index, "variation",
							(json_int_t)i, "error", woo_error_json(&e)));
		json_decref(made);
	}
	/* read back: the product now lists its variations */
	json_decref(p);
	p = woo_catalog_get(api->catalog, (struct woo_target){ .id = parent }, &e);
	json_array_append_new(created, p);
}

static void woo_admin_products(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			       struct httpd_resp *resp)
{
	(void)req;
	const json_t *list = json_is_array(body) ? body : json_object_get(body, "products");
	json_t *created = json_array(), *errors = json_array();
	if (!list) {
		woo_admin_create_one(api, 0, body, created, errors);
	} else {
		size_t i;
		const json_t *spec;
		json_array_foreach(list, i, spec) woo_admin_create_one(api, i, spec, created, errors);
	}
	int status = json_array_size(errors) ? 400 : 201;
	woo_api_json(resp, status, json_pack("{s:o,s:o}", "products", created, "errors", errors));
}

static const struct woo_admin_route {
	const char *method;
	const char *path;
	bool wants_body;
	woo_admin_fn fn;
} woo_admin_routes[] = {
	{ "POST", "/sandbox/faults", true, woo_admin_faults },
	{ "GET", "/sandbox/faults", false, woo_admin_faults },
	{ "GET", "/sandbox/stats", false, woo_admin_stats },
	{ "GET", "/sandbox/stock", false, woo_admin_stock },
	{ "GET", "/sandbox/writes", false, woo_admin_writes },
	{ "POST", "/sandbox/reset", false, woo_admin_reset },
	{ "POST", "/sandbox/products", true, woo_admin_products },
	{ "POST", "/sandbox/orders", true, woo_orders_admin_create },
	{ "POST", "/sandbox/orders/batch", true, woo_orders_admin_batch },
	{ "POST", "/sandbox/statuses", true, woo_orders_admin_statuses },
	{ "GET", "/sandbox/statuses", false, woo_orders_admin_statuses },
	{ "POST", "/sandbox/webhooks/faults", true, woo_orders_admin_hook_faults },
	{ "GET", "/sandbox/webhooks/stats", false, woo_orders_admin_hook_stats },
};

void woo_admin_handle(const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct woo_api *api = req->route_data;
	const struct woo_admin_route *r = NULL;
	bool path_known = false;
	for (size_t i = 0; i < sizeof woo_admin_routes / sizeof woo_admin_routes[0]; i++) {
		if (strcmp(req->path, woo_admin_routes[i].path) != 0)
			continue;
		path_known = true;
		if (strcmp(req->method, woo_admin_routes[i].method) == 0)
			r = &woo_admin_routes[i];
	}
	if (!woo_api_authorized(api, req, resp, "woocommerce_rest_cannot_view",
				"Sorry, you cannot view this resource."))
		return;
	if (!r) {
		struct woo_error e;
		woo_error_set(&e, path_known ? 405 : 404, path_known ? "sandbox_method_not_allowed" : "rest_no_route",
			      "%s", path_known ? "Method not allowed here." : "No such sandbox endpoint.");
		woo_api_error(resp, &e);
		return;
	}
	json_t *body = NULL;
	if (r->wants_body) {
		body = json_loadb(req->body, req->body_len, 0, NULL);
		if (!json_is_object(body) && !json_is_array(body)) {
			json_decref(body);
			woo_admin_bad(resp, "the body must be a JSON object or array");
			return;
		}
	}
	r->fn(api, req, body, resp);
	json_decref(body);
}
