/* erp_seed — stock records from outside the API: the demo catalogue, a seed file, and the item
 * lists the admin endpoint POST /sandbox/stock accepts (same JSON in all three places). */
#ifndef SANDBOX_ERP_SEED_H
#define SANDBOX_ERP_SEED_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "erp_store.h"

#define ERP_SEED_WH_MAIN  "WH-MAIN"
#define ERP_SEED_WH_SOUTH "WH-SOUTH"

/* Sets records from body: one item {"sku","warehouse","on_hand","reserved"?}, {"items":[...]} or
 * a bare array of items. Every item is checked before any is stored, so a bad list changes
 * nothing; err names the first bad item. *applied: how many were stored; last (may be NULL): the
 * last record stored. */
bool erp_seed_apply(struct erp_store *st, const json_t *body, size_t *applied, struct erp_stock *last, char *err,
		    size_t errlen) __attribute__((warn_unused_result));

/* Clears the store, then adds demo SKUs "SKU-000001".. in WH-MAIN and WH-SOUTH with fixed,
 * varied quantities, then the items of file (NULL or "": none). */
bool erp_seed_load(struct erp_store *st, long long demo, const char *file, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
