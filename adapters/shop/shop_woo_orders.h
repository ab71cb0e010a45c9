/* shop_woo_orders — the orders concern of the WooCommerce adapter (struct shop_order_ops over
 * /wp-json/wc/v3/orders, its notes and refunds), and the pure parsers it is built on: the shop's
 * tax class setting and WooCommerce's refund objects.
 *
 * list_modified asks GET /orders?modified_after=&modified_before=&dates_are_gmt=true
 * &orderby=modified&order=asc&per_page=100&page=N. WooCommerce keeps whole seconds and its bounds
 * are exclusive (WP_Date_Query without "inclusive"), so the window asked for is widened to whole
 * seconds on both sides: modified_after is the second before after_us's second, modified_before
 * the second after before_us's. Orders just outside (after_us, before_us] may come back; callers
 * dedupe by modification time. */
#ifndef ERPSYNC_SHOP_WOO_ORDERS_H
#define ERPSYNC_SHOP_WOO_ORDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "shop.h"
#include "shop_woo_order.h"

#define SHOP_WOO_TAX_CLASSES_MAX 32
#define SHOP_WOO_TAX_CLASS_LEN   64 /* bytes of a tax class slug */

extern const struct shop_order_ops shop_woo_order_ops;

/* "reduced-rate=8,zero-rate=0,books=5.5" (percent, at most two decimals, 0..100; "standard" is
 * the class "") into a malloc'ed array (shop_woo_tax_classes_free). "" or NULL: none (*out NULL).
 * false with err naming the entry: a class that is not [a-z0-9_-], twice, a bad rate, too many. */
bool shop_woo_tax_classes_parse(const char *text, struct shop_woo_tax_class **out, size_t *n, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void shop_woo_tax_classes_free(struct shop_woo_tax_class *t, size_t n); /* NULL-safe */

/* A page of GET /orders/<id>/refunds (a JSON array of WooCommerce refunds) appended to *out / *n
 * (malloc'ed; shop_refunds_free). Amounts come out positive whatever sign WooCommerce wrote (it
 * writes the items' negative); an item's line_id is its "_refunded_item_id" meta value; refunded
 * shipping lines add up into shipping_net/tax_minor; a refunded fee is a line (its fee line's id)
 * of quantity 0. false with err for a body that is not such an array (then *out is as it was). */
bool shop_woo_refunds_parse(const char *body, size_t len, struct shop_refund **out, size_t *n, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
