/* shop_woo — WooCommerce REST v3 (/wp-json/wc/v3): Basic auth with the consumer key and secret,
 * products and variations looked up by SKU, stock written through the batch endpoints (at most
 * 100 items a call), every item listed page by page for reconciliation. */
#ifndef ERPSYNC_SHOP_WOO_H
#define ERPSYNC_SHOP_WOO_H

#include <stddef.h>

#include "shop.h"

struct shop_woo_opts {
	const char *shop_id;
	const char *base_url; /* https://shop.example.com (the /wp-json/wc/v3 part is added) */
	const char *consumer_key;
	const char *consumer_secret; /* secret */
	double rate_per_sec;         /* request budget of this credential; 0 = none */
	unsigned batch_max;          /* items per batch call; WooCommerce accepts at most 100 */
	/* Orders (NULL: WooCommerce's and Poland's defaults; shop_woo_order.h). */
	const char *webhook_secret;     /* secret; NULL/"": every delivery refused */
	const char *nip_meta_key;       /* "_billing_nip" */
	const char *locker_meta_key;    /* "_paczkomat_id" */
	const char *tax_classes;        /* "reduced-rate=8,zero-rate=0" (shop_woo_tax_classes_parse) */
	const char *shipping_tax_class; /* "" = standard */
};

/* NULL when out of memory or when tax_classes does not parse (the configuration checks it first). */
struct shop *shop_woo_new(const struct shop_woo_opts *o);

/* One WooCommerce batch call: the writes idx[start..end), all under one parent. */
struct shop_woo_call {
	size_t start, end;
};

/* Plans the batch calls for w[0..n): products in /products/batch, variations in their parent's
 * variations/batch, at most batch_max a call, each call in the order of w[] and the calls in the
 * order of their earliest write. Fills idx[n] and calls[] (at most n); returns the calls. */
size_t shop_woo_plan(const struct shop_stock_write *w, size_t n, unsigned batch_max, size_t *idx,
		     struct shop_woo_call *calls);

/* The registry's constructor: the generic options, WooCommerce's batch limit. */
struct shop *shop_woo_connect(const struct shop_connect_opts *o);

#endif
