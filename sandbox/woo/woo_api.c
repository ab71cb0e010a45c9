#include "woo_api.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "shutdown.h"
#include "woo_admin.h"
#include "woo_orders.h"
#include "woo_products.h"

#define WOO_CONTENT_TYPE "application/json; charset=UTF-8"
#define WOO_CRED_MAX     256

/* Indexes into woo_api_faults.modes. */
enum woo_fault_mode {
	WOO_FAULT_NONE = SANDBOX_FAULT_NONE,
	WOO_FAULT_500,
	WOO_FAULT_429,
	WOO_FAULT_SLOW,
};

static const char *const woo_fault_names[] = { "none", "500", "429", "slow" };

const struct sandbox_fault_modes woo_api_faults = {
	woo_fault_names,
	sizeof woo_fault_names / sizeof woo_fault_names[0],
	NULL,
	0,
};

/* WordPress' answer when PHP dies (wp_die for a REST request after a fatal error). */
#define WOO_CRITICAL_MESSAGE                                                                          \
	"<p>There has been a critical error on this website.</p><p><a "                               \
	"href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about " \
	"troubleshooting WordPress.</a></p>"

void woo_api_json(struct httpd_resp *resp, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	buf_reset(&resp->body);
	resp->content_type = WOO_CONTENT_TYPE;
	if (!text || !buf_puts(&resp->body, text)) {
		free(text);
		httpd_resp_error(resp, 500, "internal_server_error", "out of memory");
		return;
	}
	free(text);
	resp->status = status;
}

void woo_api_error(struct httpd_resp *resp, const struct woo_error *e)
{
	woo_api_json(resp, e->status, woo_error_json(e));
}

json_t *woo_api_body(const struct httpd_req *req, struct httpd_resp *resp)
{
	if (req->body_len == 0)
		return json_object();
	json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
	if (!json_is_object(body)) {
		struct woo_error e;
		json_decref(body);
		woo_error_set(&e, 400, "rest_invalid_json", "Invalid JSON body passed.");
		woo_api_error(resp, &e);
		return NULL;
	}
	return body;
}

bool woo_api_authorized(const struct woo_api *api, const struct httpd_req *req, struct httpd_resp *resp,
			const char *deny_code, const char *deny_message)
{
	char basic[WOO_CRED_MAX];
	const char *key = NULL, *secret = NULL;
	const char *auth = httpd_req_header(req, "Authorization");
	/* WooCommerce reads the Basic user first and falls back to the query parameters */
	if (auth && strncasecmp(auth, "Basic ", 6) == 0 && base64_decode(auth + 6, basic, sizeof basic, NULL)) {
		char *colon = strchr(basic, ':');
		if (colon) {
			*colon = '\0';
			key = basic;
			secret = colon + 1;
		}
	}
	if (!key) {
		key = httpd_req_query(req, "consumer_key");
		secret = httpd_req_query(req, "consumer_secret");
	}
	struct woo_error e;
	if (key && secret && strcmp(key, api->consumer_key) == 0) {
		if (httpd_secret_equal(secret, api->consumer_secret))
			return true;
		woo_error_set(&e, 401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.");
	} else {
		/* an unknown key is no user at all: the permission check answers */
		woo_error_set(&e, 401, deny_code, "%s", deny_message);
	}
	woo_api_error(resp, &e);
	return false;
}

bool woo_api_url(const struct httpd_req *req, struct buf *out, const char *path)
{
	const char *host = httpd_req_header(req, "Host");
	return buf_printf(out, "http://%s" WOO_API_BASE "%s", host ? host : "localhost", path);
}

static bool woo_url_escape(struct buf *b, const char *s)
{
	bool ok = true;
	for (const unsigned char *p = (const unsigned char *)s; ok && *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			     *p == '-' || *p == '_' || *p == '.' || *p == '~';
		ok = plain ? buf_append(b, p, 1) : buf_printf(b, "%%%02X", *p);
	}
	return ok;
}

struct woo_query_copy {
	struct buf *url;
	size_t page;
	bool page_seen;
	bool ok;
};

/* Copies one query argument into the link, the page number replaced (add_query_arg does so). */
static enum MHD_Result woo_query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct woo_query_copy *q = cls;
	(void)kind;
	bool first = strchr(q->url->data, '?') == NULL;
	q->ok = q->ok && buf_puts(q->url, first ? "?" : "&") && woo_url_escape(q->url, key);
	if (strcmp(key, "page") == 0) {
		q->page_seen = true;
		q->ok = q->ok && buf_printf(q->url, "=%zu", q->page);
	} else if (value) {
		q->ok = q->ok && buf_puts(q->url, "=") && woo_url_escape(q->url, value);
	}
	return q->ok ? MHD_YES : MHD_NO;
}

static bool woo_link(const struct httpd_req *req, struct buf *link, size_t page, const char *rel)
{
	struct buf url = BUF_INIT;
	struct woo_query_copy q = { &url, page, false, true };
	const char *path = req->path + strlen(WOO_API_BASE);
	q.ok = woo_api_url(req, &url, path);
	if (q.ok)
		MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, woo_query_arg, &q);
	if (q.ok && !q.page_seen)
		q.ok = buf_printf(&url, "%spage=%zu", strchr(url.data, '?') ? "&" : "?", page);
	q.ok = q.ok && buf_printf(link, "%s<%s>; rel=\"%s\"", link->len ? ", " : "", url.data, rel);
	buf_cleanup(&url);
	return q.ok;
}

bool woo_api_paginate(const struct httpd_req *req, struct httpd_resp *resp, size_t total, size_t pages, size_t page)
{
	char n[24];
	struct buf link = BUF_INIT;
	bool ok = true;
	snprintf(n, sizeof n, "%zu", total);
	ok = httpd_resp_header(resp, "X-WP-Total", n);
	snprintf(n, sizeof n, "%zu", pages);
	ok = ok && httpd_resp_header(resp, "X-WP-TotalPages", n);
	/* one Link header, values joined by ", " (WP_HTTP_Response::header without replace) */
	if (ok && page > 1)
		ok = woo_link(req, &link, page - 1 > pages ? pages : page - 1, "prev");
	if (ok && pages > page)
		ok = woo_link(req, &link, page + 1, "next");
	if (ok && link.len)
		ok = httpd_resp_header(resp, "Link", link.data);
	buf_cleanup(&link);
	return ok;
}

/* WP_REST_Server::READABLE, CREATABLE and EDITABLE. */
enum { WOO_M_READ = 1, WOO_M_CREATE = 2, WOO_M_EDIT = 4, WOO_M_DELETE = 8 };

struct woo_route {
	unsigned methods;
	const char *pattern; /* after /wp-json/wc/v3/; "{id}" is a number */
	void (*fn)(struct woo_call *call);
	const char *label;     /* for the statistics */
	const char *deny_code; /* answered without valid credentials */
	const char *deny_message;
	bool batch;
};

#define WOO_DENY_LIST   "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
#define WOO_DENY_VIEW   "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."
#define WOO_DENY_EDIT   "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
#define WOO_DENY_CREATE "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
#define WOO_DENY_DELETE "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."
#define WOO_DENY_BATCH  "woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."

static const struct woo_route woo_routes[] = {
	{ WOO_M_READ, "products", woo_products_list, "GET /products", WOO_DENY_LIST, false },
	{ WOO_M_CREATE, "products", woo_products_create, "POST /products", WOO_DENY_CREATE, false },
	{ WOO_M_EDIT, "products/batch", woo_products_batch, "POST /products/batch", WOO_DENY_BATCH, true },
	{ WOO_M_READ, "products/{id}", woo_products_get, "GET /products/{id}", WOO_DENY_VIEW, false },
	{ WOO_M_EDIT, "products/{id}", woo_products_update, "PUT /products/{id}", WOO_DENY_EDIT, false },
	{ WOO_M_READ, "products/{id}/variations", woo_products_variations_list, "GET /products/{id}/variations",
	  WOO_DENY_LIST, false },
	{ WOO_M_EDIT, "products/{id}/variations/batch", woo_products_variations_batch,
	  "POST /products/{id}/variations/batch", WOO_DENY_BATCH, true },
	{ WOO_M_READ, "products/{id}/variations/{id}", woo_products_variation_get, "GET /products/{id}/variations/{id}",
	  WOO_DENY_VIEW, false },
	{ WOO_M_EDIT, "products/{id}/variations/{id}", woo_products_variation_update,
	  "PUT /products/{id}/variations/{id}", WOO_DENY_EDIT, false },
	{ WOO_M_READ, "orders", woo_orders_list, "GET /orders", WOO_DENY_LIST, false },
	{ WOO_M_READ, "orders/{id}", woo_orders_get, "GET /orders/{id}", WOO_DENY_VIEW, false },
	{ WOO_M_EDIT, "orders/{id}", woo_orders_update, "PUT /orders/{id}", WOO_DENY_EDIT, false },
	{ WOO_M_DELETE, "orders/{id}", woo_orders_delete, "DELETE /orders/{id}", WOO_DENY_DELETE, false },
	{ WOO_M_READ, "orders/{id}/notes", woo_orders_notes_list, "GET /orders/{id}/notes", WOO_DENY_LIST, false },
	{ WOO_M_CREATE, "orders/{id}/notes", woo_orders_notes_create, "POST /orders/{id}/notes", WOO_DENY_CREATE,
	  false },
	{ WOO_M_READ, "orders/{id}/refunds", woo_orders_refunds_list, "GET /orders/{id}/refunds", WOO_DENY_LIST,
	  false },
	{ WOO_M_CREATE, "orders/{id}/refunds", woo_orders_refunds_create, "POST /orders/{id}/refunds", WOO_DENY_CREATE,
	  false },
	{ WOO_M_READ, "webhooks", woo_orders_webhooks_list, "GET /webhooks", WOO_DENY_LIST, false },
	{ WOO_M_CREATE, "webhooks", woo_orders_webhooks_create, "POST /webhooks", WOO_DENY_CREATE, false },
	{ WOO_M_READ, "webhooks/{id}", woo_orders_webhooks_get, "GET /webhooks/{id}", WOO_DENY_VIEW, false },
	{ WOO_M_EDIT, "webhooks/{id}", woo_orders_webhooks_update, "PUT /webhooks/{id}", WOO_DENY_EDIT, false },
	{ WOO_M_DELETE, "webhooks/{id}", woo_orders_webhooks_delete, "DELETE /webhooks/{id}", WOO_DENY_DELETE, false },
};

static unsigned woo_method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return WOO_M_READ;
	if (strcmp(m, "POST") == 0)
		return WOO_M_CREATE | WOO_M_EDIT;
	if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0)
		return WOO_M_EDIT;
	if (strcmp(m, "DELETE") == 0)
		return WOO_M_DELETE;
	return 0;
}

/* Matches path against pattern segment by segment, collecting the "{id}" numbers. */
static bool woo_match(const char *pattern, const char *path, int64_t ids[2])
{
	size_t nids = 0;
	while (*pattern && *path) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t digits = strspn(path, "0123456789");
			if (digits == 0 || digits > 18 || nids == 2)
				return false;
			ids[nids++] = strtoll(path, NULL, 10);
			pattern += 4;
			path += digits;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *pattern == '\0' && (*path == '\0' || strcmp(path, "/") == 0);
}

/* The fault's share of this call; true when the fault already answered it. */
static bool woo_apply_fault(const struct sandbox_fault_shot *f, struct httpd_resp *resp)
{
	struct woo_error e;
	char secs[24];
	switch ((enum woo_fault_mode)f->mode) {
	case WOO_FAULT_500:
		woo_api_json(resp, 500,
			     json_pack("{s:s,s:s,s:{s:i},s:[]}", "code", "internal_server_error", "message",
				       WOO_CRITICAL_MESSAGE, "data", "status", 500, "additional_errors"));
		return true;
	case WOO_FAULT_429:
		snprintf(secs, sizeof secs, "%ld", f->retry_after_s);
		woo_error_set(&e, 429, "rest_too_many_requests", "Too many requests. Please try again later.");
		woo_api_error(resp, &e);
		if (!httpd_resp_header(resp, "Retry-After", secs))
			httpd_resp_error(resp, 500, "internal_server_error", "out of memory");
		return true;
	case WOO_FAULT_SLOW:
		(void)shutdown_sleep_ms(f->delay_ms);
		return false;
	case WOO_FAULT_NONE:
		return false;
	}
	return false;
}

static void woo_api_handle(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct woo_call call = { req->route_data, req, resp, { 0, 0 }, 0, 0 };
	const char *path = req->path + strlen(WOO_API_BASE);
	const struct woo_route *r = NULL;
	unsigned m = woo_method_bit(req->method);
	for (size_t i = 0; !r && i < sizeof woo_routes / sizeof woo_routes[0]; i++)
		if ((woo_routes[i].methods & m) && woo_match(woo_routes[i].pattern, path, call.ids))
			r = &woo_routes[i];
	if (!r) {
		struct woo_error e;
		woo_error_set(&e, 404, "rest_no_route", "No route was found matching the URL and request method.");
		woo_api_error(resp, &e);
	} else if (woo_api_authorized(call.api, req, resp, r->deny_code, r->deny_message)) {
		struct sandbox_fault_shot f = sandbox_fault_take(call.api->fault);
		if (!woo_apply_fault(&f, resp))
			r->fn(&call);
	}
	sandbox_fault_count(call.api->fault, resp->status);
	woo_stats_count(call.api->stats, r ? r->label : NULL, r && r->batch, call.changed, call.unchanged);
}

bool woo_api_routes(struct woo_api *api, struct httpd *h)
{
	return httpd_route(h, NULL, WOO_API_BASE "*", woo_api_handle, api) &&
	       httpd_route(h, NULL, "/sandbox/*", woo_admin_handle, api);
}
