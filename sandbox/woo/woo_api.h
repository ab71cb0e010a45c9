/* woo_api — the sandbox shop's HTTP face: routing of the WooCommerce REST v3 paths, consumer-key
 * authentication, the faults and call counting, and the response helpers the handlers
 * share (JSON bodies, WordPress errors, pagination headers). The sandbox's own controls are in
 * woo_admin, the product and variation endpoints in woo_products. See README.md. */
#ifndef SANDBOX_WOO_API_H
#define SANDBOX_WOO_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "httpd.h"
#include "sandbox_fault.h"
#include "woo_catalog.h"
#include "woo_demo.h"
#include "woo_error.h"
#include "woo_order_store.h"
#include "woo_stats.h"
#include "woo_webhook.h"

#define WOO_API_BASE "/wp-json/wc/v3/"

/* What the handlers share; filled by main and given to httpd as route data (nothing owned). */
struct woo_api {
	struct woo_catalog *catalog;
	struct sandbox_fault *fault; /* the fault switch and per-status counts */
	struct woo_stats *stats;     /* the shop's own call statistics */
	struct woo_order_store *orders;
	struct woo_webhook *hooks;
	const char *consumer_key;
	const char *consumer_secret; /* secret */
	const char *shop_name;
	struct woo_demo_opts demo; /* what POST /sandbox/reset loads again */
};

/* One API call as a handler sees it. */
struct woo_call {
	const struct woo_api *api;
	const struct httpd_req *req;
	struct httpd_resp *resp;
	int64_t ids[2];                   /* the numbers in the path, in order */
	unsigned long changed, unchanged; /* items written with / without a change */
};

/* The faults the shop knows: "none", "500" (WordPress' "critical error" answer), "429" (429
 * with Retry-After) and "slow" (answered normally after delay_ms). */
extern const struct sandbox_fault_modes woo_api_faults;

/* Registers the REST prefix and the sandbox prefix. */
bool woo_api_routes(struct woo_api *api, struct httpd *h) __attribute__((warn_unused_result));

/* true when the consumer key and secret are right (HTTP Basic, or the consumer_key and
 * consumer_secret query parameters); otherwise fills the 401 WooCommerce gives: deny_code and
 * deny_message without credentials, woocommerce_rest_authentication_error for a wrong secret. */
bool woo_api_authorized(const struct woo_api *api, const struct httpd_req *req, struct httpd_resp *resp,
			const char *deny_code, const char *deny_message);

/* Answers status with body as JSON; takes the reference (NULL: 500). */
void woo_api_json(struct httpd_resp *resp, int status, json_t *body);
void woo_api_error(struct httpd_resp *resp, const struct woo_error *e);
/* The request body as JSON (an empty body is {}); NULL after answering rest_invalid_json. */
json_t *woo_api_body(const struct httpd_req *req, struct httpd_resp *resp);
/* X-WP-Total, X-WP-TotalPages and Link (rel="prev"/"next", the request's own URL with page
 * changed) as WordPress sends them for a collection. */
bool woo_api_paginate(const struct httpd_req *req, struct httpd_resp *resp, size_t total, size_t pages, size_t page)
	__attribute__((warn_unused_result));
/* http://<Host>/wp-json/wc/v3/<path>, for Location and Link headers. */
bool woo_api_url(const struct httpd_req *req, struct buf *out, const char *path) __attribute__((warn_unused_result));

#endif
