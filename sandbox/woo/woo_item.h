/* woo_item — one WooCommerce product or variation: its fields, the rules WooCommerce applies when
 * they are written, and its JSON. Pure logic, no locking (woo_catalog holds the lock).
 *
 * The rules followed (WC_REST_Products_Controller / WC_Product_Data_Store_CPT):
 *  - stock_quantity is kept only while manage_stock is true; otherwise it is null;
 *  - with manage_stock, stock_status follows the quantity: > 0 instock, else onbackorder when
 *    backorders are allowed, else outofstock (a stock_status sent along is overridden);
 *  - without manage_stock, stock_status is whatever was set (default instock);
 *  - a variable product has no price or stock of its own; its stock_status follows its variations;
 *  - price is sale_price when set, else regular_price; prices are decimal strings. */
#ifndef SANDBOX_WOO_ITEM_H
#define SANDBOX_WOO_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "woo_error.h"

#define WOO_SKU_MAX   100 /* wc_product_meta_lookup.sku is varchar(100) */
#define WOO_PRICE_MAX 23

enum woo_type { WOO_SIMPLE, WOO_VARIABLE, WOO_VARIATION };
enum woo_stock_status { WOO_INSTOCK, WOO_OUTOFSTOCK, WOO_ONBACKORDER };
enum woo_backorders { WOO_BACKORDERS_NO, WOO_BACKORDERS_NOTIFY, WOO_BACKORDERS_YES };

struct woo_item {
	int64_t id;
	int64_t parent_id; /* variations: the variable product; else 0 */
	enum woo_type type;
	char sku[WOO_SKU_MAX + 1]; /* "" = none */
	char *name;                /* owned */
	char regular_price[WOO_PRICE_MAX + 1];
	char sale_price[WOO_PRICE_MAX + 1];
	bool manage_stock;
	bool has_quantity; /* stock_quantity is not null */
	int64_t stock_quantity;
	enum woo_stock_status stock_status;
	enum woo_backorders backorders;
	int64_t created_us, modified_us;
	int64_t *variations; /* variable products: variation ids, ascending (owned) */
	size_t nvariations, variations_cap;
	unsigned long stock_writes; /* writes that set stock_quantity (duplicates included) */
};

/* Which fields a write carries (WOO_F_* bits) and their parsed values; strings point into the
 * request JSON, which must outlive the patch. */
enum {
	WOO_F_NAME = 1 << 0,
	WOO_F_SKU = 1 << 1,
	WOO_F_REGULAR_PRICE = 1 << 2,
	WOO_F_SALE_PRICE = 1 << 3,
	WOO_F_MANAGE_STOCK = 1 << 4,
	WOO_F_STOCK_QUANTITY = 1 << 5,
	WOO_F_STOCK_STATUS = 1 << 6,
	WOO_F_BACKORDERS = 1 << 7,
	WOO_F_TYPE = 1 << 8,
};

struct woo_patch {
	unsigned set;
	const char *name;
	const char *sku;
	const char *regular_price;
	const char *sale_price;
	bool manage_stock;
	bool quantity_null; /* "stock_quantity": null */
	int64_t stock_quantity;
	enum woo_stock_status stock_status;
	enum woo_backorders backorders;
	enum woo_type type; /* creation only: simple or variable */
};

/* Parses the writable fields of obj (others are ignored, as WooCommerce ignores them). false with
 * a rest_invalid_param error naming the first bad field. */
bool woo_patch_parse(const json_t *obj, struct woo_patch *p, struct woo_error *e) __attribute__((warn_unused_result));

/* A new item of type with id (parent_id for variations); NULL when out of memory. */
struct woo_item *woo_item_new(int64_t id, enum woo_type type, int64_t parent_id, int64_t now_us);
void woo_item_free(struct woo_item *it); /* NULL-safe */

/* Applies p (SKU uniqueness is the catalogue's business, checked before). Returns the number of
 * fields whose value changed; counts a stock write when stock_quantity was taken. -1 when out
 * of memory (the item is unchanged). */
int woo_item_apply(struct woo_item *it, const struct woo_patch *p, int64_t now_us);

/* Recomputes stock_status from the quantity when stock is managed. */
void woo_item_derive_status(struct woo_item *it);

/* Adds / removes a variation id of a variable product (kept ascending). */
bool woo_item_add_variation(struct woo_item *it, int64_t id) __attribute__((warn_unused_result));
void woo_item_remove_variation(struct woo_item *it, int64_t id);

/* The item as /products shows it (variations too: type "variation"), or as the
 * /products/<id>/variations endpoints show a variation (no "variations" member). */
json_t *woo_item_json(const struct woo_item *it, bool variation_view);

#endif
