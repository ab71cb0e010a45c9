/* shop — what erpsync asks of a shop platform, behind one small interface so that another
 * platform is one new file. shop_woo.c speaks WooCommerce REST v3. */
#ifndef ERPSYNC_SHOP_H
#define ERPSYNC_SHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOP_SKU_MAX 64
/* Pages of a listing (list_items) a shop may have; a page past it is refused, so that a shop whose
 * listing never ends cannot keep a caller's paging loop going for ever. */
#define SHOP_LIST_PAGES_MAX 10000

/* A sellable item as the shop knows it: a simple product (parent_id 0) or a variation. */
struct shop_item {
	char sku[SHOP_SKU_MAX + 1];
	int64_t id;
	int64_t parent_id;
	int64_t stock_quantity;
	bool manage_stock;
};

struct shop_stock_write {
	const char *sku;
	int64_t id;
	int64_t parent_id;
	int64_t quantity;
};

enum shop_lookup { SHOP_LOOKUP_ERROR = -1, SHOP_LOOKUP_NOT_FOUND = 0, SHOP_LOOKUP_FOUND = 1 };

struct shop;

struct shop_ops {
	const char *kind;
	/* The item that carries sku, product or variation. */
	enum shop_lookup (*lookup_sku)(struct shop *s, const char *sku, struct shop_item *out,
				       char *err, size_t errlen);
	/* Writes absolute stock quantities, in as few calls as the platform allows, in the order of
	 * w[] as far as the platform's grouping lets (put first what has waited longest).
	 * written_us[i] is the wall-clock time (event_now_us) at which the shop confirmed w[i], 0 when
	 * it did not take it (an item the shop rejects, e.g. deleted since, does not fail the others).
	 * false when a whole call failed after its retries: then written_us[] says which calls before
	 * it got through. *calls counts the requests made. */
	bool (*stock_put)(struct shop *s, const struct shop_stock_write *w, size_t n, int64_t *written_us,
			  unsigned *calls, char *err, size_t errlen);
	/* One page (1-based) of every sellable item, for reconciliation. *items is malloc'ed. */
	bool (*list_items)(struct shop *s, int page, struct shop_item **items, size_t *n, bool *more,
			   char *err, size_t errlen);
	void (*free)(struct shop *s);
};

struct shop {
	const struct shop_ops *ops;
	const char *id;          /* the shop's id in erpsync ("shop-a"): logs and metric labels */
};

void shop_free(struct shop *s);   /* NULL-safe */

struct shop_woo_opts {
	const char *shop_id;
	const char *base_url;         /* https://shop.example.com (the /wp-json/wc/v3 part is added) */
	const char *consumer_key;
	const char *consumer_secret;  /* secret */
	double rate_per_sec;          /* request budget of this credential; 0 = none */
	unsigned batch_max;           /* items per batch call; WooCommerce accepts at most 100 */
};

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

#endif
