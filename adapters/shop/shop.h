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

/* What a change asked of a shop came to. */
enum shop_write {
	SHOP_WRITE_FAILED = -1, /* transport, timeout, 5xx, 429 after the client's retries: try again later */
	SHOP_WRITE_REFUSED = 0, /* the shop will not take it (4xx: no such order, a status it does not
				 * know); err says why. Trying the same again is pointless */
	SHOP_WRITE_DONE = 1,
};

struct shop;
struct shop_order;       /* shop_order.h */
struct shop_catalog_ops; /* shop_catalog.h */
enum shop_order_parsed;

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

/* What a webhook delivery is, before its body is read. */
enum shop_delivery {
	SHOP_DELIVERY_REFUSED = 0, /* unsigned, or not signed by this shop: 401, nothing recorded */
	SHOP_DELIVERY_PING,        /* the platform's test call when a webhook is created: 200, nothing to do */
	SHOP_DELIVERY_SIGNED,      /* signed by the shop: read the body */
};

/* One page of orders from list_modified. Orders the platform parser refused are not failures:
 * they are in rejects, with the reason and the body, for the dead-letter topic. */
struct shop_order_reject {
	char *external_id; /* "" when the body has no id */
	char *reason;
	char *body; /* the order as the shop sent it, compact JSON */
};

struct shop_order_page {
	struct shop_order **orders;
	size_t n;
	struct shop_order_reject *rejects;
	size_t nrejects;
	int total_pages; /* as the shop said (X-WP-TotalPages); 0 when it did not */
};

void shop_order_page_cleanup(struct shop_order_page *p); /* frees what the page holds; NULL-safe */

/* One line of a refund: how much of an order line went back, and the money for it. */
struct shop_refund_line {
	char *line_id;          /* the order line's id */
	int64_t quantity_milli; /* thousandths of the unit, positive; 0 for money only */
	int64_t net_minor;      /* refunded, positive */
	int64_t tax_minor;
};

/* A refund of an order as the shop recorded it. Amounts are positive. */
struct shop_refund {
	char *refund_id;
	char *reason;
	int64_t amount_minor;  /* gross: what went back to the customer */
	int64_t created_at_us; /* unix micros UTC; 0 when the shop did not say */
	struct shop_refund_line *lines;
	size_t n_lines;
	int64_t shipping_net_minor; /* delivery cost refunded */
	int64_t shipping_tax_minor;
};

void shop_refunds_free(struct shop_refund *r, size_t n); /* NULL-safe */

/* Orders: what order-sync asks of a shop. Order ids are the shop's, as decimal text. */
struct shop_order_ops {
	/* Whether a webhook delivery is the shop's: signature is the header's value (NULL when
	 * absent), body the exact raw bytes received. */
	enum shop_delivery (*webhook_check)(struct shop *s, const char *signature, const char *body, size_t len);
	/* The platform's order body (a webhook's, or one order of a listing) read with this shop's
	 * settings (tax classes, NIP and locker meta keys): shop_order.h. */
	enum shop_order_parsed (*parse)(struct shop *s, const char *body, size_t len, struct shop_order **out,
					char *err, size_t errlen);
	/* One page (1-based) of the orders modified in (after_us, before_us] (unix micros UTC;
	 * before_us 0: up to now), oldest modification first. false with err on any transport or
	 * HTTP problem, or an answer that is not the API's shape. */
	bool (*list_modified)(struct shop *s, int64_t after_us, int64_t before_us, int page,
			      struct shop_order_page *out, char *err, size_t errlen);
	/* One order; SHOP_LOOKUP_NOT_FOUND when the shop has no such order (deleted). A body the
	 * parser refuses is an error naming the reason. */
	enum shop_lookup (*get)(struct shop *s, const char *external_id, struct shop_order **out, char *err,
				size_t errlen);
	/* Every refund of the order, with its lines (malloc'ed: shop_refunds_free). */
	bool (*refunds)(struct shop *s, const char *external_id, struct shop_refund **out, size_t *n, char *err,
			size_t errlen);
	/* Sets the order's status (the platform's own name: "processing", "completed", "cancelled").
	 * Setting the status the order already has is a success. */
	enum shop_write (*set_status)(struct shop *s, const char *external_id, const char *status, char *err,
				      size_t errlen);
	/* Adds a note to the order; to_customer: the shop shows it to the customer and e-mails it. */
	enum shop_write (*add_note)(struct shop *s, const char *external_id, const char *text, bool to_customer,
				    char *err, size_t errlen);
	/* Whether a note containing marker is on the order (looked up before add_note, so that a
	 * note whose addition was not confirmed is not added twice). */
	enum shop_lookup (*find_note)(struct shop *s, const char *external_id, const char *marker, char *err,
				      size_t errlen);
};

/* A connected shop. Each concern is a table of its own, NULL when the platform's adapter does not
 * serve it (orders, catalogue and notes join stock as their services arrive): a service checks
 * the concerns it needs at start-up and names the shop and the concern when one is missing. */
struct shop {
	const char *kind; /* the platform, as SHOP_<ID>_KIND names it */
	const char *id;   /* the shop's id in erpsync ("shop-a"): logs and metric labels */
	const struct shop_stock_ops *stock;
	const struct shop_order_ops *orders;
	const struct shop_catalog_ops *catalog; /* shop_catalog.h: pricing */
	void (*free)(struct shop *s);
};

/* What every platform's constructor is given (shop_registry.c maps a kind to its constructor). */
struct shop_connect_opts {
	const char *shop_id;
	const char *base_url; /* https://shop.example.com */
	const char *key;      /* API key or consumer key */
	const char *secret;   /* secret */
	double rate_per_sec;  /* request budget of this credential; 0 = none */
	/* Orders (NULL: the platform's defaults). */
	const char *webhook_secret;     /* key the shop signs its webhooks with (secret); NULL/"": refuse all */
	const char *nip_meta_key;       /* where the buyer's NIP is kept */
	const char *locker_meta_key;    /* where a shipping line keeps the parcel locker */
	const char *tax_classes;        /* "class=rate_percent,...": "reduced-rate=8,zero-rate=0" */
	const char *shipping_tax_class; /* the tax class delivery is charged in; "" = standard */
};

/* The adapter of kind for one shop; NULL with err when the kind is unknown or out of memory. */
struct shop *shop_connect(const char *kind, const struct shop_connect_opts *o, char *err, size_t errlen);
/* Whether a constructor is registered for kind; the registered kinds, "a|b" (for config enums). */
bool shop_kind_known(const char *kind);
const char *shop_kinds(void);

void shop_free(struct shop *s); /* NULL-safe */

#endif
