/* erp_catalog — what pricing asks of an ERP: prices per price list and currency with their sale
 * windows and VAT, product content, and promotions/coupons, each as a change feed after a cursor
 * (the same contract as the stock feed: feed_id, last_cursor, tombstones when the ERP deletes),
 * and the same three as a signed push (erp_push.h: X-ERP-Event price.changed, product.changed,
 * promotion.changed).
 *
 * The adapter parses faithfully: a record whose shape is right but whose values break a business
 * rule (a negative price, a sale price above the regular one, a VAT rate of 17 %, an image URL
 * that is ftp://) comes through as it is, for pricing's rules to reject. Only values the adapter
 * cannot represent at all (a price that is not a decimal number, a date that is not RFC 3339, a
 * key that is empty or too long) are rejects here. */
#ifndef ERPSYNC_ERP_CATALOG_H
#define ERPSYNC_ERP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erp.h"
#include "erpsync/v1/price.pb-c.h"
#include "erpsync/v1/product.pb-c.h"
#include "erpsync/v1/promotion.pb-c.h"

#define ERP_CATALOG_KEY_MAX 64 /* a SKU or a promotion id */

#define ERP_PUSH_EVENT_PRICE     "price.changed"
#define ERP_PUSH_EVENT_PRODUCT   "product.changed"
#define ERP_PUSH_EVENT_PROMOTION "promotion.changed"

enum erp_catalog_kind {
	ERP_CATALOG_PRICES = 0,
	ERP_CATALOG_PRODUCTS = 1,
	ERP_CATALOG_PROMOTIONS = 2,
};
#define ERP_CATALOG_KINDS 3

/* One changed record. Exactly one of price/product/promotion is set (the page's kind), unless
 * deleted: the ERP deleted the record and only key, version and changed_at_us are known.
 * Messages are heap-allocated with protobuf-c's default allocator, every string and array in them
 * too, so that protobuf_c_message_free_unpacked frees one (erp_catalog_page_cleanup does). Their
 * meta is left unset: the service fills it. Price: every ERP price list is one ScopedPrice
 * (price_list, list_price with its currency, sale price and window); the ERP's default list is
 * also copied into list_price/sale_price/sale_from/sale_to of the Price itself. */
struct erp_catalog_item {
	char key[ERP_CATALOG_KEY_MAX + 1]; /* SKU, or promotion id */
	int64_t version;                   /* monotonic per record at the ERP: 1..INT64_MAX */
	int64_t changed_at_us;             /* when the change happened in the ERP, unix microseconds */
	bool deleted;
	Erpsync__V1__Price *price;
	Erpsync__V1__ProductContent *product;
	Erpsync__V1__Promotion *promotion;
};

/* A record erpsync cannot even represent: left out of items, kept with its reason for the
 * dead-letter topic (as struct erp_stock_reject). */
struct erp_catalog_reject {
	size_t index;
	char key[ERP_CATALOG_KEY_MAX + 1]; /* "" when it has none that fits */
	char reason[ERP_REJECT_REASON_MAX];
	char *json; /* the record, encoded again as compact JSON */
};

struct erp_catalog_page {
	enum erp_catalog_kind kind;
	struct erp_catalog_item *items;
	size_t n;
	struct erp_catalog_reject *rejects;
	size_t nrejects;
	char next_cursor[ERP_CURSOR_MAX + 1];
	bool has_more;
	char feed_id[ERP_FEED_ID_MAX + 1]; /* as struct erp_stock_page */
	char last_cursor[ERP_CURSOR_MAX + 1];
};

struct erp_catalog_ops {
	/* Changes of kind after cursor ("" or "0" = from the beginning), oldest first, at most limit
	 * (1..1000). false with err on a transport or HTTP problem or an answer not of the API's
	 * shape: the page is then empty and the caller keeps its cursor. */
	bool (*changes)(struct erp *erp, enum erp_catalog_kind kind, const char *cursor, size_t limit,
			struct erp_catalog_page *out, char *err, size_t errlen);
};

/* Parses a pushed body of kind (one record, or {"items": [records]}, the feed's item shape) into
 * a page whose cursor fields stay empty. */
bool erp_catalog_push_parse(enum erp_catalog_kind kind, const char *body, size_t len, struct erp_catalog_page *out,
			    char *err, size_t errlen) __attribute__((warn_unused_result));

/* The kind a push's X-ERP-Event names; false for any other event. */
bool erp_catalog_push_kind(const char *event, enum erp_catalog_kind *kind);

void erp_catalog_page_cleanup(struct erp_catalog_page *p); /* NULL-safe; leaves it empty */

#endif
