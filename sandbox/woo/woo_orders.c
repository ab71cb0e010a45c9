#include "woo_orders.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woo_api.h"
#include "woo_date.h"
#include "woo_order_store.h"
#include "woo_webhook.h"

#define WOO_ORDERS_PER_PAGE_DEFAULT 10
#define WOO_ORDERS_PER_PAGE_MAX     100
#define WOO_ORDERS_PAGE_MAX         1000000000LL

static void woo_orders_answer(struct woo_call *call, int status, json_t *j, const struct woo_error *e)
{
	if (j)
		woo_api_json(call->resp, status, j);
	else
		woo_api_error(call->resp, e);
}

/* ---- GET /orders ---- */

static bool woo_orders_int(const struct httpd_req *req, const char *name, long long def, long long min, long long max,
			   long long *out, struct woo_error *e)
{
	const char *s = httpd_req_query(req, name);
	char *end = NULL;
	*out = def;
	if (!s)
		return true;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || errno || *end) {
		woo_error_param(e, name, "rest_invalid_type", "%s is not of type integer.", name);
		return false;
	}
	if (v < min || v > max) {
		if (max == WOO_ORDERS_PAGE_MAX)
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

static bool woo_orders_date(const struct httpd_req *req, const char *name, bool *has, int64_t *out, struct woo_error *e)
{
	const char *s = httpd_req_query(req, name);
	*has = s != NULL;
	if (s && !woo_date_parse(s, out)) {
		woo_error_param(e, name, "rest_invalid_date", "Invalid date.");
		return false;
	}
	return true;
}

static bool woo_orders_sort(const struct httpd_req *req, struct woo_order_query *q, struct woo_error *e)
{
	const char *order = httpd_req_query(req, "order"), *by = httpd_req_query(req, "orderby");
	const char *gmt = httpd_req_query(req, "dates_are_gmt");
	if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
		woo_error_param(e, "order", "rest_not_in_enum", "order is not one of asc and desc.");
		return false;
	}
	q->descending = !order || strcmp(order, "desc") == 0;
	if (!by || strcmp(by, "date") == 0 || strcmp(by, "title") == 0 || strcmp(by, "slug") == 0 ||
	    strcmp(by, "include") == 0)
		q->orderby = WOO_ORDERBY_DATE; /* an order's title and slug follow its date */
	else if (strcmp(by, "id") == 0)
		q->orderby = WOO_ORDERBY_ID;
	else if (strcmp(by, "modified") == 0)
		q->orderby = WOO_ORDERBY_MODIFIED;
	else {
		woo_error_param(e, "orderby", "rest_not_in_enum",
				"orderby is not one of date, id, include, title, slug, and modified.");
		return false;
	}
	if (gmt && strcmp(gmt, "true") != 0 && strcmp(gmt, "false") != 0 && strcmp(gmt, "1") != 0 &&
	    strcmp(gmt, "0") != 0) {
		woo_error_param(e, "dates_are_gmt", "rest_invalid_type", "dates_are_gmt is not of type boolean.");
		return false;
	}
	return true;
}

static bool woo_orders_status_query(const struct woo_api *api, const char *status, struct woo_error *e)
{
	for (const char *p = status; p && *p;) {
		const char *comma = strchr(p, ',');
		char one[WOO_ORDER_STATUS_MAX + 1];
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		snprintf(one, sizeof one, "%.*s", (int)(n < WOO_ORDER_STATUS_MAX ? n : WOO_ORDER_STATUS_MAX), p);
		if (n > WOO_ORDER_STATUS_MAX || (strcmp(one, "any") != 0 && strcmp(one, "trash") != 0 &&
						 !woo_order_store_status_known(api->orders, one))) {
			woo_error_param(e, "status", "rest_not_in_enum",
					"status[0] is not one of any, trash and the "
					"order statuses.");
			return false;
		}
		p = comma ? comma + 1 : NULL;
	}
	return true;
}

void woo_orders_list(struct woo_call *call)
{
	struct woo_error e;
	struct woo_order_query q = { 0 };
	long long page, per_page;
	size_t total = 0;
	const struct httpd_req *req = call->req;
	q.status = httpd_req_query(req, "status");
	if (!woo_orders_int(req, "page", 1, 1, WOO_ORDERS_PAGE_MAX, &page, &e) ||
	    !woo_orders_int(req, "per_page", WOO_ORDERS_PER_PAGE_DEFAULT, 1, WOO_ORDERS_PER_PAGE_MAX, &per_page, &e) ||
	    !woo_orders_sort(req, &q, &e) || !woo_orders_date(req, "after", &q.has_after, &q.after_s, &e) ||
	    !woo_orders_date(req, "before", &q.has_before, &q.before_s, &e) ||
	    !woo_orders_date(req, "modified_after", &q.has_modified_after, &q.modified_after_s, &e) ||
	    !woo_orders_date(req, "modified_before", &q.has_modified_before, &q.modified_before_s, &e) ||
	    !woo_orders_status_query(call->api, q.status, &e)) {
		woo_api_error(call->resp, &e);
		return;
	}
	q.page = (size_t)page;
	q.per_page = (size_t)per_page;
	woo_api_json(call->resp, 200, json_object()); /* content type and status; the body is replaced */
	buf_reset(&call->resp->body);
	if (!woo_order_store_list(call->api->orders, &q, &call->resp->body, &total) ||
	    !woo_api_paginate(req, call->resp, total, (total + q.per_page - 1) / q.per_page, q.page))
		httpd_resp_error(call->resp, 500, "internal_server_error", "out of memory");
}

/* ---- one order ---- */

void woo_orders_get(struct woo_call *call)
{
	struct woo_error e;
	woo_api_json(call->resp, 200, json_object());
	buf_reset(&call->resp->body);
	if (!woo_order_store_get(call->api->orders, call->ids[0], &call->resp->body, &e))
		woo_api_error(call->resp, &e);
}

void woo_orders_update(struct woo_call *call)
{
	struct woo_error e;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	json_t *o = woo_order_store_update(call->api->orders, call->ids[0], body, &e);
	json_decref(body);
	woo_orders_answer(call, 200, o, &e);
}

void woo_orders_delete(struct woo_call *call)
{
	struct woo_error e;
	const char *force = httpd_req_query(call->req, "force");
	bool f = force && (strcmp(force, "true") == 0 || strcmp(force, "1") == 0);
	woo_orders_answer(call, 200, woo_order_store_delete(call->api->orders, call->ids[0], f, &e), &e);
}

/* ---- notes and refunds ---- */

void woo_orders_notes_list(struct woo_call *call)
{
	struct woo_error e;
	woo_orders_answer(call, 200, woo_order_store_notes(call->api->orders, call->ids[0], &e), &e);
}

void woo_orders_notes_create(struct woo_call *call)
{
	struct woo_error e;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	json_t *n = woo_order_store_note_add(call->api->orders, call->ids[0], body, &e);
	json_decref(body);
	woo_orders_answer(call, 201, n, &e);
}

void woo_orders_refunds_list(struct woo_call *call)
{
	struct woo_error e;
	woo_orders_answer(call, 200, woo_order_store_refunds(call->api->orders, call->ids[0], &e), &e);
}

void woo_orders_refunds_create(struct woo_call *call)
{
	struct woo_error e;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	json_t *r = woo_order_store_refund_add(call->api->orders, call->ids[0], body, &e);
	json_decref(body);
	woo_orders_answer(call, 201, r, &e);
}

/* ---- webhooks ---- */

void woo_orders_webhooks_list(struct woo_call *call)
{
	json_t *a = woo_webhook_list(call->api->hooks);
	size_t n = json_array_size(a);
	woo_api_json(call->resp, 200, a);
	if (!woo_api_paginate(call->req, call->resp, n, n ? 1 : 0, 1))
		httpd_resp_error(call->resp, 500, "internal_server_error", "out of memory");
}

void woo_orders_webhooks_create(struct woo_call *call)
{
	struct woo_error e;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	json_t *h = woo_webhook_create(call->api->hooks, body, &e);
	json_decref(body);
	woo_orders_answer(call, 201, h, &e);
}

void woo_orders_webhooks_get(struct woo_call *call)
{
	struct woo_error e;
	woo_orders_answer(call, 200, woo_webhook_get(call->api->hooks, call->ids[0], &e), &e);
}

void woo_orders_webhooks_update(struct woo_call *call)
{
	struct woo_error e;
	json_t *body = woo_api_body(call->req, call->resp);
	if (!body)
		return;
	json_t *h = woo_webhook_update(call->api->hooks, call->ids[0], body, &e);
	json_decref(body);
	woo_orders_answer(call, 200, h, &e);
}

void woo_orders_webhooks_delete(struct woo_call *call)
{
	struct woo_error e;
	const char *force = httpd_req_query(call->req, "force");
	bool f = force && (strcmp(force, "true") == 0 || strcmp(force, "1") == 0);
	woo_orders_answer(call, 200, woo_webhook_delete(call->api->hooks, call->ids[0], f, &e), &e);
}

/* ---- /sandbox ---- */

static void woo_orders_bad(struct httpd_resp *resp, const char *why)
{
	struct woo_error e;
	woo_error_set(&e, 400, "sandbox_bad_request", "%s", why);
	woo_api_error(resp, &e);
}

void woo_orders_admin_create(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			     struct httpd_resp *resp)
{
	struct woo_error e;
	(void)req;
	json_t *o = woo_order_store_create(api->orders, body, &e);
	if (o)
		woo_api_json(resp, 201, o);
	else
		woo_api_error(resp, &e);
}

void woo_orders_admin_batch(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			    struct httpd_resp *resp)
{
	const json_t *list = json_object_get(body, "orders");
	(void)req;
	if (!json_is_array(list) || json_array_size(list) > WOO_ORDERS_BATCH_MAX) {
		woo_orders_bad(resp, "the body is {\"orders\":[...]} with at most 1000 orders");
		return;
	}
	json_t *made = json_array(), *errors = json_array();
	size_t i;
	const json_t *spec;
	json_array_foreach(list, i, spec)
	{
		struct woo_error e;
		json_t *o = woo_order_store_create(api->orders, spec, &e);
		if (o)
			json_array_append_new(made, json_pack("{s:O,s:O}", "id", json_object_get(o, "id"), "number",
							      json_object_get(o, "number")));
		else
			json_array_append_new(
				errors, json_pack("{s:I,s:o}", "index", (json_int_t)i, "error", woo_error_json(&e)));
		json_decref(o);
	}
	int status = json_array_size(errors) ? 400 : 201;
	woo_api_json(resp, status, json_pack("{s:o,s:o}", "orders", made, "errors", errors));
}

void woo_orders_admin_statuses(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			       struct httpd_resp *resp)
{
	struct woo_error e;
	if (strcmp(req->method, "POST") == 0 &&
	    !woo_order_store_status_add(api->orders, json_string_value(json_object_get(body, "slug")), &e)) {
		woo_api_error(resp, &e);
		return;
	}
	woo_api_json(resp, 200, woo_order_store_statuses_json(api->orders));
}

void woo_orders_admin_hook_faults(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
				  struct httpd_resp *resp)
{
	char err[160];
	(void)req;
	if (!woo_webhook_faults_arm(api->hooks, body, err, sizeof err)) {
		woo_orders_bad(resp, err);
		return;
	}
	woo_api_json(resp, 200, woo_webhook_stats_json(api->hooks));
}

void woo_orders_admin_hook_stats(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
				 struct httpd_resp *resp)
{
	(void)req;
	(void)body;
	woo_api_json(resp, 200, woo_webhook_stats_json(api->hooks));
}
