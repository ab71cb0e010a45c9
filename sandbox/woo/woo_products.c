#include "woo_products.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WOO_PER_PAGE_DEFAULT 10
#define WOO_PER_PAGE_MAX     100
#define WOO_PAGE_MAX         1000000000LL

/* The orderby values WooCommerce accepts; the sandbox orders every one of them by id. */
static const char *const woo_orderby[] = { "date", "modified", "id",         "include", "title",
					   "slug", "price",    "popularity", "rating",  "menu_order" };

/* An integer query parameter as WordPress validates it: its type, then its bounds. */
static bool woo_query_int(const struct httpd_req *req, const char *name, long long def, long long min, long long max,
			  long long *out, struct woo_error *e)
{
	const char *s = httpd_req_query(req, name);
	char *end = NULL;
	if (!s) {
		*out = def;
		return true;
	}
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || errno || *end) {
		woo_error_param(e, name, "rest_invalid_type", "%s is not of type integer.", name);
		return false;
	}
	if (v < min || v > max) {
		if (max == WOO_PAGE_MAX)
			woo_error_param(e, name, "rest_out_of_bounds", "%s must be greater than or equal to %lld", name,
					min);
		else
			woo_error_param(e, name, "rest_out_of_bounds",
					"%s must be between %lld (inclusive) and %lld (inclusive)", name, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool woo_query_order(const struct httpd_req *req, bool *descending, struct woo_error *e)
{
	const char *order = httpd_req_query(req, "order");
	const char *orderby = httpd_req_query(req, "orderby");
	bool known = !orderby;
	for (size_t i = 0; !known && i < sizeof woo_orderby / sizeof woo_orderby[0]; i++)
		known = strcmp(orderby, woo_orderby[i]) == 0;
	if (!known) {
		woo_error_param(e, "orderby", "rest_not_in_enum",
				"orderby is not one of date, modified, id, include, title, slug, price, "
				"popularity, rating, and menu_order.");
		return false;
	}
	if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
		woo_error_param(e, "order", "rest_not_in_enum", "order is not one of asc and desc.");
		return false;
	}
	*descending = !order || strcmp(order, "desc") == 0;
	return true;
}

static void woo_list(struct woo_call *call, int64_t parent)
{
	struct woo_error e;
	struct woo_list_page page;
	long long pageno, per_page;
	struct woo_list_query q = { .parent = parent };
	if (!woo_query_int(call->req, "page", 1, 1, WOO_PAGE_MAX, &pageno, &e) ||
	    !woo_query_int(call->req, "per_page", WOO_PER_PAGE_DEFAULT, 1, WOO_PER_PAGE_MAX, &per_page, &e) ||
	    !woo_query_order(call->req, &q.descending, &e)) {
		woo_api_error(call->resp, &e);
		return;
	}
	const char *sku = httpd_req_query(call->req, "sku");
	q.sku = sku && *sku ? sku : NULL; /* WooCommerce: ! empty( $request['sku'] ) */
	q.page = (size_t)pageno;
	q.per_page = (size_t)per_page;
	if (!woo_catalog_list(call->api->catalog, &q, &page)) {
		httpd_resp_error(call->resp, 500, "internal_server_error", "out of memory");
		return;
	}
	woo_api_json(call->resp, 200, page.items);
	if (!woo_api_paginate(call->req, call->resp, page.total, page.pages, q.page))
		httpd_resp_error(call->resp, 500, "internal_server_error", "out of memory");
}

void woo_products_list(struct woo_call *call)
{
	woo_list(call, 0);
}

void woo_products_variations_list(struct woo_call *call)
{
	woo_list(call, call->ids[0]);
}

static void woo_get(struct woo_call *call, struct woo_target t)
{
	struct woo_error e;
	json_t *j = woo_catalog_get(call->api->catalog, t, &e);
	if (j)
		woo_api_json(call->resp, 200, j);
	else
		woo_api_error(call->resp, &e);
}

void woo_products_get(struct woo_call *call)
{
	woo_get(call, (struct woo_target){ .id = call->ids[0] });
}

void woo_products_variation_get(struct woo_call *call)
{
	woo_get(call, (struct woo_target){ .parent = call->ids[0], .id = call->ids[1] });
}

/* One update, counted as a write with or without a change. NULL with e on failure. */
static json_t *woo_update_one(struct woo_call *call, struct woo_target t, const json_t *body, struct woo_error *e)
{
	int changed = 0;
	json_t *j = woo_catalog_update(call->api->catalog, t, body, &changed, e);
	if (j && changed)
		call->changed++;
	else if (j)
		call->unchanged++;
	return j;
}

static void woo_update(struct woo_call *call, struct woo_target t)
{
	struct woo_error e;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	json_t *j = woo_update_one(call, t, body, &e);
	if (j)
		woo_api_json(call->resp, 200, j);
	else
		woo_api_error(call->resp, &e);
	json_decref(body);
}

void woo_products_update(struct woo_call *call)
{
	woo_update(call, (struct woo_target){ .id = call->ids[0] });
}

void woo_products_variation_update(struct woo_call *call)
{
	woo_update(call, (struct woo_target){ .parent = call->ids[0], .id = call->ids[1] });
}

/* create_item refuses a body that names an id. */
static json_t *woo_create_one(struct woo_call *call, int64_t parent, const json_t *body, struct woo_error *e)
{
	const json_t *id = json_object_get(body, "id");
	if (id && !(json_is_integer(id) && json_integer_value(id) == 0)) {
		woo_error_set(e, 400,
			      parent ? "woocommerce_rest_product_variation_exists" : "woocommerce_rest_product_exists",
			      "Cannot create existing %s.", parent ? "product_variation" : "product");
		return NULL;
	}
	json_t *j = woo_catalog_create(call->api->catalog, (struct woo_target){ .parent = parent }, body, e);
	if (j)
		call->changed++;
	return j;
}

void woo_products_create(struct woo_call *call)
{
	struct woo_error e;
	struct buf location = BUF_INIT;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	json_t *j = woo_create_one(call, 0, body, &e);
	if (!j) {
		woo_api_error(call->resp, &e);
		goto out;
	}
	char path[48];
	snprintf(path, sizeof path, "products/%lld", (long long)json_integer_value(json_object_get(j, "id")));
	woo_api_json(call->resp, 201, j);
	if (!woo_api_url(call->req, &location, path) || !httpd_resp_header(call->resp, "Location", location.data))
		httpd_resp_error(call->resp, 500, "internal_server_error", "out of memory");
out:
	buf_cleanup(&location);
	json_decref(body);
}

/* A batch item's failure, in place of the object: {"id":...,"error":{code,message,data}}. */
static json_t *woo_batch_error(json_t *id, const struct woo_error *e)
{
	return json_pack("{s:o,s:o}", "id", id ? id : json_null(), "error", woo_error_json(e));
}

/* absint( $item['id'] ): a number or a numeric string; 0 otherwise. */
static int64_t woo_batch_id(const json_t *v)
{
	const char *s = json_string_value(v);
	long long n = json_is_integer(v) ? json_integer_value(v) : s ? strtoll(s, NULL, 10) : 0;
	return n == LLONG_MIN ? 0 : n < 0 ? -n : n;
}

static json_t *woo_batch_create(struct woo_call *call, int64_t parent, const json_t *items)
{
	json_t *out = json_array();
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		struct woo_error e;
		json_t *j = woo_create_one(call, parent, it, &e);
		json_array_append_new(out, j ? j : woo_batch_error(json_integer(0), &e));
	}
	return out;
}

static json_t *woo_batch_update(struct woo_call *call, int64_t parent, const json_t *items)
{
	json_t *out = json_array();
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		struct woo_error e;
		json_t *id = json_object_get(it, "id");
		struct woo_target t = { parent, woo_batch_id(id), true };
		json_t *j = t.id ? woo_update_one(call, t, it, &e) : NULL;
		if (!t.id)
			woo_error_set(&e, 400,
				      parent ? "woocommerce_rest_product_variation_invalid_id"
					     : "woocommerce_rest_product_invalid_id",
				      "Invalid ID.");
		json_array_append_new(out, j ? j : woo_batch_error(json_incref(id), &e));
	}
	return out;
}

static json_t *woo_batch_delete(struct woo_call *call, int64_t parent, const json_t *items)
{
	json_t *out = json_array();
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		struct woo_error e;
		struct woo_target t = { parent, woo_batch_id(it), true };
		if (t.id == 0)
			continue; /* batch_items skips a 0 id */
		json_t *j = woo_catalog_delete(call->api->catalog, t, &e);
		if (j)
			call->changed++;
		json_array_append_new(out, j ? j : woo_batch_error(json_integer(t.id), &e));
	}
	return out;
}

static const struct woo_batch_section {
	const char *name;
	json_t *(*run)(struct woo_call *call, int64_t parent, const json_t *items);
} woo_batch_sections[] = {
	{ "create", woo_batch_create },
	{ "update", woo_batch_update },
	{ "delete", woo_batch_delete },
};

/* Checks the sections' types and the item limit before anything is written, as
 * check_batch_limit does. */
static bool woo_batch_check(const json_t *body, struct woo_error *e)
{
	size_t total = 0;
	for (size_t s = 0; s < 3; s++) {
		const char *name = woo_batch_sections[s].name;
		const json_t *items = json_object_get(body, name);
		if (items && !json_is_array(items) && !json_is_null(items)) {
			woo_error_param(e, name, "rest_invalid_type", "%s is not of type array.", name);
			return false;
		}
		total += json_array_size(items);
	}
	if (total > WOO_BATCH_LIMIT) {
		woo_error_set(e, 413, "woocommerce_rest_request_entity_too_large",
			      "Unable to accept more than %d items for this request.", WOO_BATCH_LIMIT);
		return false;
	}
	return true;
}

static void woo_batch(struct woo_call *call, int64_t parent)
{
	struct woo_error e;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	if (!woo_batch_check(body, &e)) {
		woo_api_error(call->resp, &e);
		json_decref(body);
		return;
	}
	json_t *out = json_object();
	for (size_t s = 0; out && s < 3; s++) {
		const json_t *items = json_object_get(body, woo_batch_sections[s].name);
		/* array_filter drops empty sections, so their keys are absent from the answer */
		if (json_array_size(items) == 0)
			continue;
		json_t *res = woo_batch_sections[s].run(call, parent, items);
		if (json_object_set_new(out, woo_batch_sections[s].name, res) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	if (out && json_object_size(out) == 0) {
		json_decref(out);
		out = json_array(); /* PHP's empty array */
	}
	woo_api_json(call->resp, 200, out);
	json_decref(body);
}

void woo_products_batch(struct woo_call *call)
{
	woo_batch(call, 0);
}

void woo_products_variations_batch(struct woo_call *call)
{
	woo_batch(call, call->ids[0]);
}
