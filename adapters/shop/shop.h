/* shop — what erpsync asks of any shop platform, by concern, so that another platform is one new
 * file and a registry line (shop_registry.c). What one platform needs stays in its own file
 * (shop_woo.h: WooCommerce REST v3). */
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

/* Stock: what stock-sync asks of a shop. */
struct shop_stock_ops {
	/* The item that carries sku, product or variation. */
	enum shop_lookup (*lookup_sku)(struct shop *s, const char *sku, struct shop_item *out, char *err,
				       size_t errlen);
	/* Writes absolute stock quantities, in as few calls as the platform allows, in the order of
	 * w[] as far as the platform's grouping lets (put first what has waited longest).
	 * written_us[i] is the wall-clock time (event_now_us) at which the shop confirmed w[i], 0 when
	 * it did not take it (an item the shop rejects, e.g. deleted since, does not fail the others).
	 * false when a whole call failed after its retries: then written_us[] says which calls before
	 * it got through. *calls counts the requests made. */
	bool (*stock_put)(struct shop *s, const struct shop_stock_write *w, size_t n, int64_t *written_us,
			  unsigned *calls, char *err, size_t errlen);
	/* One page (1-based) of every sellable item, for reconciliation. *items is malloc'ed. */
	bool (*list_items)(struct shop *s, int page, struct shop_item **items, size_t *n, bool *more, char *err,
			   size_t errlen);
};

/* A connected shop. Each concern is a table of its own, NULL when the platform's adapter does not
 * serve it (orders, catalogue and notes join stock as their services arrive): a service checks
 * the concerns it needs at start-up and names the shop and the concern when one is missing. */
struct shop {
	const char *kind; /* the platform, as SHOP_<ID>_KIND names it */
	const char *id;   /* the shop's id in erpsync ("shop-a"): logs and metric labels */
	const struct shop_stock_ops *stock;
	void (*free)(struct shop *s);
};

/* What every platform's constructor is given (shop_registry.c maps a kind to its constructor). */
struct shop_connect_opts {
	const char *shop_id;
	const char *base_url; /* https://shop.example.com */
	const char *key;      /* API key or consumer key */
	const char *secret;   /* secret */
	double rate_per_sec;  /* request budget of this credential; 0 = none */
};

/* The adapter of kind for one shop; NULL with err when the kind is unknown or out of memory. */
struct shop *shop_connect(const char *kind, const struct shop_connect_opts *o, char *err, size_t errlen);
/* Whether a constructor is registered for kind; the registered kinds, "a|b" (for config enums). */
bool shop_kind_known(const char *kind);
const char *shop_kinds(void);

void shop_free(struct shop *s); /* NULL-safe */

#endif
