/* shop_catalog — what pricing asks of a shop: regular and sale prices (with the platform's own sale
 * dates where it has them), the 30-day lowest price in a product meta field, product content, and
 * coupons. Money is integer minor units of the shop's currency; the adapter writes it in the
 * platform's decimal form. */
#ifndef ERPSYNC_SHOP_CATALOG_H
#define ERPSYNC_SHOP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erpsync/v1/product.pb-c.h"
#include "erpsync/v1/promotion.pb-c.h"
#include "shop.h"

#define SHOP_CATALOG_BATCH_MAX  100 /* items one write call takes (WooCommerce's batch limit) */
#define SHOP_CATALOG_REASON_MAX 160

/* The fields of a product a write carries (a bit each); the fields not named are not sent, so a
 * field the shop team owns is never touched. */
enum shop_field {
	SHOP_FIELD_PRICE = 1u << 0,             /* regular price */
	SHOP_FIELD_SALE = 1u << 1,              /* sale price, and its window when the write has one */
	SHOP_FIELD_LOWEST_30D = 1u << 2,        /* the product meta field with the 30-day lowest price */
	SHOP_FIELD_NAME = 1u << 3,              /* content->name */
	SHOP_FIELD_DESCRIPTION = 1u << 4,       /* content->description_html */
	SHOP_FIELD_SHORT_DESCRIPTION = 1u << 5, /* content->short_description_html */
	SHOP_FIELD_ATTRIBUTES = 1u << 6,        /* content->attributes */
	SHOP_FIELD_CATEGORIES = 1u << 7,        /* content->categories, paths "A > B": the adapter finds
						 * or creates each category */
	SHOP_FIELD_IMAGES = 1u << 8,            /* content->images */
	SHOP_FIELD_GTIN = 1u << 9,              /* content->gtin (EAN) */
	SHOP_FIELD_WEIGHT = 1u << 10,           /* content->weight_g */
	SHOP_FIELD_DIMENSIONS = 1u << 11,       /* content->length_mm, width_mm, height_mm */
	SHOP_FIELD_STATUS = 1u << 12,           /* content->active: published, else hidden (draft) */
};

/* One product or variation to write. */
struct shop_product_write {
	const char *sku;
	int64_t id;                                 /* the shop's item id (lookup_skus) */
	int64_t parent_id;                          /* non-zero: a variation of that product */
	unsigned fields;                            /* enum shop_field bits: what is written */
	const char *currency;                       /* ISO 4217 of the amounts (their decimals); the shop's currency */
	int64_t regular_minor;                      /* SHOP_FIELD_PRICE */
	int64_t sale_minor;                         /* SHOP_FIELD_SALE: the sale price; < 0: no sale (the sale price and
				  * its dates are cleared) */
	int64_t sale_from_us;                       /* SHOP_FIELD_SALE: the platform's own sale window, unix micros UTC;
				  * 0 = none (the sale runs from now / without end) */
	int64_t sale_to_us;                         /* exclusive */
	const char *lowest_meta_key;                /* SHOP_FIELD_LOWEST_30D: the meta field's key */
	int64_t lowest_minor;                       /* its value; < 0: the field is emptied */
	const Erpsync__V1__ProductContent *content; /* the content fields; NULL when none is named */
};

/* What one item of a write came to. */
struct shop_put_result {
	enum shop_write result; /* FAILED: its call failed (retry later); REFUSED: the shop would not take
				 * this item (reason says why), the others are not affected */
	int64_t written_us;     /* event_now_us when the shop confirmed it; 0 otherwise */
	char reason[SHOP_CATALOG_REASON_MAX];
};

/* A coupon as pricing writes it: the ERP's promotion with what only the shop knows resolved. */
struct shop_coupon {
	const Erpsync__V1__Promotion *promotion; /* code, type, percent or amount, limits, spends, flags;
						  * include/exclude categories by path */
	const char *currency;                    /* of amount/min_spend/max_spend: the shop's currency */
	const int64_t *product_ids;              /* include_skus as shop item ids (skus the shop lacks left out) */
	size_t n_product_ids;
	const int64_t *excluded_product_ids;
	size_t n_excluded_product_ids;
	int64_t expires_us; /* the platform's expiry date (valid_to), 0 = none */
	bool enabled;       /* false: kept in the shop but unusable (before valid_from, inactive) */
};

struct shop_catalog_ops {
	/* The items that carry skus[0..n), in as few calls as the platform allows (WooCommerce: the
	 * products listing filtered by up to 100 comma-separated SKUs, then variations). found[i] false
	 * for a SKU the shop does not have. *calls counts the requests made. */
	bool (*lookup_skus)(struct shop *s, const char *const *skus, size_t n, struct shop_item *out, bool *found,
			    unsigned *calls, char *err, size_t errlen);
	/* Writes w[0..n), SHOP_CATALOG_BATCH_MAX items per call at most (variations grouped by parent:
	 * products/<parent>/variations/batch). res[i] says what became of w[i]. false when a call
	 * failed after the client's retries (its items are SHOP_WRITE_FAILED; calls after it are not
	 * made, their items FAILED too). *calls counts the requests. */
	bool (*products_put)(struct shop *s, const struct shop_product_write *w, size_t n, struct shop_put_result *res,
			     unsigned *calls, char *err, size_t errlen);
	/* The coupon with code (case-insensitive), so that a create whose answer was lost is not made
	 * twice; *id receives its id. A coupon in the bin is NOT_FOUND. */
	enum shop_lookup (*coupon_find)(struct shop *s, const char *code, int64_t *id, char *err, size_t errlen);
	/* Creates the coupon (*id == 0) or updates coupon *id, everything it has; *id receives the
	 * id. Updating a coupon deleted in the shop since is REFUSED. */
	enum shop_write (*coupon_put)(struct shop *s, const struct shop_coupon *c, int64_t *id, char *err,
				      size_t errlen);
	/* Removes the coupon (to the bin); one already gone is DONE. */
	enum shop_write (*coupon_delete)(struct shop *s, int64_t id, char *err, size_t errlen);
};

#endif
