/* woo_refund — a refund of an order as WooCommerce makes it (POST /orders/<id>/refunds through
 * wc_create_refund) and stores it (GET /orders/<id>/refunds): amounts are decimal strings, the
 * refund's items mirror the order's with negative quantities and totals and point back at them
 * through the "_refunded_item_id" meta entry. Pure JSON: no store, no lock, any thread.
 *
 * A request: {"amount":"12.30","reason":"...","line_items":[{"id":311,"quantity":1,
 * "refund_total":"10.00","refund_tax":[{"id":1,"refund_total":"2.30"}]}]}. As in WooCommerce an
 * "id" may name any item of the order: a product line, a shipping line or a fee; without "amount"
 * the refund is the sum of its items. */
#ifndef SANDBOX_WOO_REFUND_H
#define SANDBOX_WOO_REFUND_H

#include <stdint.h>

#include <jansson.h>

#include "woo_error.h"

#define WOO_REFUND_ITEMS_MAX 1000 /* items of one refund request */
#define WOO_REFUND_MONEY_LEN 32

struct woo_refund_ids {
	int64_t refund_id;     /* the refund's own id (WooCommerce: a post id, from the orders' sequence) */
	int64_t *next_item_id; /* item ids, taken and advanced */
	int64_t now_s;
};

/* The refund object for req against order (as GET /orders/<id> shows it) and the refunds made
 * before (refund objects, any order). NULL with e: 400 woocommerce_rest_invalid_order_refund for a
 * request that is not one (an unknown item, more pieces than are left, an amount <= 0), 500
 * woocommerce_rest_cannot_create_order_refund "Invalid refund amount." for more money than is left
 * (what wc_create_refund answers). *left_minor: what may still be refunded after this one. */
json_t *woo_refund_build(const json_t *order, const json_t *previous, const json_t *req,
			 const struct woo_refund_ids *ids, int64_t *left_minor, struct woo_error *e);

/* minor units into WooCommerce's text: -1050 -> "-10.50". */
void woo_refund_money_text(int64_t minor, char out[WOO_REFUND_MONEY_LEN]);

#endif
