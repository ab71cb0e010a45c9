/* woo_catalog — the sandbox shop's products and variations in memory, indexed by id and by SKU
 * (balanced trees: O(log n) for 100k items), with products kept in id order for paging.
 *
 * Every function takes the catalogue's mutex for its whole duration, so an answer is built from
 * one consistent state; what leaves the catalogue is JSON (new references), never pointers into
 * it. Errors come back as WooCommerce's own codes and messages (struct woo_error). */
#ifndef SANDBOX_WOO_CATALOG_H
#define SANDBOX_WOO_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "woo_error.h"
#include "woo_item.h"

#define WOO_ID_FIRST 1001

struct woo_catalog;

struct woo_catalog *woo_catalog_new(void);
void woo_catalog_free(struct woo_catalog *c); /* NULL-safe */

/* Forgets every item; ids start again at WOO_ID_FIRST. */
void woo_catalog_clear(struct woo_catalog *c);
size_t woo_catalog_count(struct woo_catalog *c);

/* Where a call is addressed: parent 0 = /products/<id>, else /products/<parent>/variations/<id>.
 * in_batch: one item of a batch call (a variation under the wrong parent is then an invalid id,
 * not the 401 a single PUT gets from WooCommerce's permission check). */
struct woo_target {
	int64_t parent;
	int64_t id;
	bool in_batch;
};

/* GET one item. NULL with e (404 ..._invalid_id) when there is none at target. */
json_t *woo_catalog_get(struct woo_catalog *c, struct woo_target t, struct woo_error *e);

/* Creates an item from body (a product, or with t.parent a variation of that variable product).
 * t.id 0 = next free id; a given id must be free (sandbox admin only). */
json_t *woo_catalog_create(struct woo_catalog *c, struct woo_target t, const json_t *body, struct woo_error *e);
/* Partial update of the item at target with body's fields; *changed (may be NULL) = fields
 * whose value changed (0 for a write of the same values). */
json_t *woo_catalog_update(struct woo_catalog *c, struct woo_target t, const json_t *body, int *changed,
			   struct woo_error *e);
/* Adds an item built elsewhere (the demo catalogue), taking ownership whatever the outcome; its
 * id must be free and its SKU unused, a variation's parent must exist. */
bool woo_catalog_insert(struct woo_catalog *c, struct woo_item *it, struct woo_error *e)
	__attribute__((warn_unused_result));
/* Deletes permanently (force=true); a variable product takes its variations along. Returns the
 * item as it was. */
json_t *woo_catalog_delete(struct woo_catalog *c, struct woo_target t, struct woo_error *e);

/* A page of a collection: products (parent 0) or the variations of parent; sku (NULL: no
 * filter) is WooCommerce's ?sku= (a comma-separated list, matched exactly, also against
 * variations, which then appear in /products answers with their parent_id). */
struct woo_list_query {
	int64_t parent;
	const char *sku;
	bool descending;
	size_t page; /* 1-based */
	size_t per_page;
};
struct woo_list_page {
	json_t *items; /* array (new reference) */
	size_t total;
	size_t pages;
};
bool woo_catalog_list(struct woo_catalog *c, const struct woo_list_query *q, struct woo_list_page *out)
	__attribute__((warn_unused_result));

/* {"<sku>": stock_quantity or null, ...} for every item that has a SKU, in SKU order. */
json_t *woo_catalog_stock_json(struct woo_catalog *c);
/* {"sku":..., "stock_writes":N} for sku; for NULL {"<sku>": N, ...} of every SKU written at
 * least once. NULL when sku is unknown. */
json_t *woo_catalog_writes_json(struct woo_catalog *c, const char *sku);

#endif
