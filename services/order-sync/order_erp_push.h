/* order_erp_push — the ERP's order status changes and complaint decisions pushed to order-sync, so
 * that they reach the shop without waiting for the next poll of the feeds:
 *
 *   POST /webhooks/erp/orders   one feed item, X-ERP-Event order.status_changed or
 *                               complaint.decided, signed like the stock push (X-ERP-Timestamp,
 *                               X-ERP-Signature: hex HMAC-SHA256 with ERP_WEBHOOK_SECRET over
 *                               "<timestamp>.<body>"). 202 taken (committed), 401 unsigned, wrongly
 *                               signed or out of ERP_WEBHOOK_TOLERANCE, 400 malformed, 404 when no
 *                               secret is set, 503 database unavailable (the ERP pushes again).
 *
 * A pushed change goes through the same code as a polled one (order_poller_apply): the feed read
 * later finds it applied, and an older change never undoes a newer one. */
#ifndef ORDER_ERP_PUSH_H
#define ORDER_ERP_PUSH_H

#include <stddef.h>

struct httpd;
struct order_relay;
struct order_topics;

struct order_erp_push_opts {
	const char *pg_dsn;
	const struct order_topics *topics;
	struct order_relay *relay;
	const char *secret; /* NULL or "": the route answers 404 */
	long long tolerance_ms;
	size_t max_body;
};

struct order_erp_push;

struct order_erp_push *order_erp_push_new(struct httpd *h, const struct order_erp_push_opts *o);
void order_erp_push_free(struct order_erp_push *p); /* after the server stopped; NULL-safe */

#endif
