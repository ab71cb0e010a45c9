/* woo_demo — the sandbox shop's starting catalogue: SKU-000001.. as simple products with ids
 * 1000 + n, every Nth of them instead a variation (same id) of a variable product that has no SKU
 * of its own (ids after the demo range), and some SKUs left out to test unknown SKUs. */
#ifndef SANDBOX_WOO_DEMO_H
#define SANDBOX_WOO_DEMO_H

#include <stdbool.h>
#include <stddef.h>

#include "woo_catalog.h"

#define WOO_DEMO_ID_BASE 1000

struct woo_demo_opts {
	long long count;          /* demo SKUs */
	long long variable_every; /* every Nth SKU is a variation; 0: none */
	long long per_parent;     /* variations per variable product */
	const char *skip_skus;    /* comma-separated SKUs the shop does not have; NULL: none */
};

/* true when sku is one of the comma-separated skip list. Pure. */
bool woo_demo_skipped(const char *skip_list, const char *sku);

/* Empties the catalogue and fills it with the demo products. */
bool woo_demo_load(struct woo_catalog *c, const struct woo_demo_opts *o, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
