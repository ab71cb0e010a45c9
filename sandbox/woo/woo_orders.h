/* woo_orders — the order endpoints of the sandbox shop: /orders (list, get, update, delete),
 * /orders/<id>/notes, /orders/<id>/refunds and /webhooks as WooCommerce REST v3 answers them, and
 * the sandbox's own order controls (/sandbox/orders, /sandbox/orders/batch, /sandbox/statuses,
 * /sandbox/webhooks/...). The data lives in woo_order_store and woo_webhook. See README.md. */
#ifndef SANDBOX_WOO_ORDERS_H
#define SANDBOX_WOO_ORDERS_H

#include <jansson.h>

#include "httpd.h"

struct woo_api;
struct woo_call;

#define WOO_ORDERS_BATCH_MAX 1000 /* orders of one POST /sandbox/orders/batch */

void woo_orders_list(struct woo_call *call);
void woo_orders_get(struct woo_call *call);
void woo_orders_update(struct woo_call *call);
void woo_orders_delete(struct woo_call *call);
void woo_orders_notes_list(struct woo_call *call);
void woo_orders_notes_create(struct woo_call *call);
void woo_orders_refunds_list(struct woo_call *call);
void woo_orders_refunds_create(struct woo_call *call);
void woo_orders_webhooks_list(struct woo_call *call);
void woo_orders_webhooks_create(struct woo_call *call);
void woo_orders_webhooks_get(struct woo_call *call);
void woo_orders_webhooks_update(struct woo_call *call);
void woo_orders_webhooks_delete(struct woo_call *call);

/* /sandbox/... (woo_admin's handler shape: body is the parsed request, NULL for a GET). */
void woo_orders_admin_create(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			     struct httpd_resp *resp);
void woo_orders_admin_batch(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			    struct httpd_resp *resp);
void woo_orders_admin_statuses(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
			       struct httpd_resp *resp);
void woo_orders_admin_hook_faults(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
				  struct httpd_resp *resp);
void woo_orders_admin_hook_stats(const struct woo_api *api, const struct httpd_req *req, const json_t *body,
				 struct httpd_resp *resp);

#endif
