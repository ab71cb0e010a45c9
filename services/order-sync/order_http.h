/* order_http — order-sync's own HTTP endpoints beside /healthz, /readyz and /metrics:
 *
 *   POST /webhooks/shop/<shop>   the shop's order webhooks (order.created, order.updated,
 *                                order.deleted), WooCommerce's shape: X-WC-Webhook-Signature is
 *                                base64 HMAC-SHA256 of the raw body with SHOP_<ID>_WEBHOOK_SECRET.
 *                                200 taken or duplicate (only once committed), 200 the creation
 *                                ping, 401 unsigned or wrongly signed (nothing recorded), 404 an
 *                                unknown shop, 413 over HTTP_MAX_BODY, 400 not JSON, 422 JSON but
 *                                not an order (the reason in the body), 503 database unavailable
 *                                (the shop delivers again).
 *   POST /admin/complaints       a complaint (warranty claim) on an order: order_complaint.h
 *   POST /admin/reconcile        reconcile shop and ERP orders now; GET: the last run's findings
 *   GET  /admin/orders/<shop>/<id>  what order-sync knows of one order
 *
 * Who may use /admin/... is httpd_admin's policy (ADMIN_TOKEN, loopback otherwise). */
#ifndef ORDER_HTTP_H
#define ORDER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct httpd;
struct order_relay;
struct order_reconcile;
struct order_shops;
struct order_topics;

struct order_http_opts {
	const char *pg_dsn;
	const struct order_topics *topics;
	const struct order_shops *shops;
	struct order_relay *relay; /* woken after each commit */
	struct order_reconcile *reconcile;
	const char *admin_token;
	const char *http_bind;
	const char *allowed_hosts;
	size_t max_body;
};

struct order_http;

struct order_http *order_http_new(struct httpd *h, const struct order_http_opts *o, char *err, size_t errlen);
void order_http_free(struct order_http *oh); /* after the server stopped */

#endif
