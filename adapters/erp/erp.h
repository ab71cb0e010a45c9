/* erp — what erpsync asks of any ERP, behind small interfaces so that another ERP is one new file.
 * Only the generic shapes live here; an ERP's own protocol stays in its adapter (erp_rest.h: the
 * REST stock API; erp_push.h: the signed stock push). */
#ifndef ERPSYNC_ERP_H
#define ERPSYNC_ERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERP_SKU_MAX 64
#define ERP_WAREHOUSE_MAX 32
#define ERP_CURSOR_MAX 64

struct erp_stock_item {
	char sku[ERP_SKU_MAX + 1];
	char warehouse[ERP_WAREHOUSE_MAX + 1];
	int64_t on_hand;
	int64_t reserved;          /* allocated inside the ERP (picking, transfers) */
	int64_t available;         /* on_hand - reserved, as the ERP sees it */
	int64_t version;           /* monotonic per SKU and warehouse at the ERP */
	int64_t changed_at_us;     /* when the change happened in the ERP, unix microseconds */
};

/* One page of changes after a cursor. items is owned by the page: erp_stock_page_cleanup. */
struct erp_stock_page {
	struct erp_stock_item *items;
	size_t n;
	char next_cursor[ERP_CURSOR_MAX + 1];
	bool has_more;
};

struct erp;

struct erp_ops {
	const char *kind;
	/* Changes after cursor ("" or "0" = from the beginning), oldest first, at most limit.
	 * false with err on any transport, HTTP or format problem: the page is then empty and the
	 * caller must not advance its cursor. */
	bool (*stock_changes)(struct erp *erp, const char *cursor, size_t limit,
			      struct erp_stock_page *out, char *err, size_t errlen);
	void (*free)(struct erp *erp);
};

struct erp {
	const struct erp_ops *ops;
};

void erp_stock_page_cleanup(struct erp_stock_page *p);
void erp_free(struct erp *erp);   /* NULL-safe */

#endif
