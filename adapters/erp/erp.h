/* erp — what erpsync asks of any ERP, behind small interfaces so that another ERP is one new file.
 * Only the generic shapes live here; an ERP's own protocol stays in its adapter (erp_rest.h: the
 * REST stock API; erp_push.h: the signed stock push). */
#ifndef ERPSYNC_ERP_H
#define ERPSYNC_ERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERP_SKU_MAX           64
#define ERP_WAREHOUSE_MAX     32
#define ERP_CURSOR_MAX        64
#define ERP_FEED_ID_MAX       64
#define ERP_REJECT_REASON_MAX 160

struct erp_stock_item {
	char sku[ERP_SKU_MAX + 1];
	char warehouse[ERP_WAREHOUSE_MAX + 1];
	int64_t on_hand;
	int64_t reserved;      /* allocated inside the ERP (picking, transfers) */
	int64_t available;     /* on_hand - reserved, as the ERP sees it */
	int64_t version;       /* monotonic per SKU and warehouse at the ERP: 1..INT64_MAX */
	int64_t changed_at_us; /* when the change happened in the ERP, unix microseconds */
};

/* A record whose members are all there, but with values erpsync cannot take (an empty or too
 * long SKU or warehouse, a quantity beyond a billion units, a version outside 1..INT64_MAX, a time
 * that is not RFC 3339 UTC). It is left out of the page's items and kept here with its reason, for
 * the dead-letter topic; the rest of the page goes on. */
struct erp_stock_reject {
	size_t index;              /* its place in the page */
	char sku[ERP_SKU_MAX + 1]; /* "" unless it has a SKU and a warehouse that fit */
	char warehouse[ERP_WAREHOUSE_MAX + 1];
	char reason[ERP_REJECT_REASON_MAX];
	char *json; /* the record, encoded again as compact JSON */
};

/* One page of changes after a cursor. items and rejects are owned by the page:
 * erp_stock_page_cleanup. */
struct erp_stock_page {
	struct erp_stock_item *items;
	size_t n;
	struct erp_stock_reject *rejects;
	size_t nrejects;
	char next_cursor[ERP_CURSOR_MAX + 1];
	bool has_more;
	/* Which change feed the cursor belongs to, and the feed's newest change: a cursor kept from
	 * another feed, or beyond the newest change, is void (the ERP started its sequence over).
	 * "" when the ERP does not tell. */
	char feed_id[ERP_FEED_ID_MAX + 1];
	char last_cursor[ERP_CURSOR_MAX + 1];
};

struct erp;

struct erp_ops {
	const char *kind;
	/* Changes after cursor ("" or "0" = from the beginning), oldest first, at most limit.
	 * false with err on any transport or HTTP problem, or an answer that is not the API's shape
	 * (a record lacking a member, or one of the wrong JSON type, included): the page is then empty
	 * and the caller must not advance its cursor. A record with values out of range is not a
	 * failure: it is in out->rejects. */
	bool (*stock_changes)(struct erp *erp, const char *cursor, size_t limit, struct erp_stock_page *out, char *err,
			      size_t errlen);
	void (*free)(struct erp *erp);
};

struct erp {
	const struct erp_ops *ops;
};

void erp_stock_page_cleanup(struct erp_stock_page *p);
void erp_free(struct erp *erp); /* NULL-safe */

#endif
