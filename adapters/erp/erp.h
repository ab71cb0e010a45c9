/* erp — what erpsync asks of any ERP, behind small interfaces so that another ERP is one new file.
 * Only the generic shapes live here; an ERP's own protocol stays in its adapter (erp_rest.h: the
 * REST stock API; erp_push.h: the signed stock push). */
#ifndef ERPSYNC_ERP_H
#define ERPSYNC_ERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/payment.pb-c.h"
#include "erpsync/v1/return.pb-c.h"

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

/* ---- orders, customers, payments, returns, complaints (order-sync) ---------------------------- */

#define ERP_ID_MAX     64
#define ERP_NUMBER_MAX 64
#define ERP_REF_MAX    200 /* "shop-a|1042|refund-77" */
#define ERP_STATUS_MAX 32
#define ERP_TEXT_MAX   1024

/* What a call that writes to the ERP came to. */
enum erp_result {
	ERP_FAILED = -1, /* transport, timeout, 5xx, 429, an answer not of the API's shape: unknown
			  * whether it was done; look it up by its external reference, then retry */
	ERP_REFUSED = 0, /* the ERP will not take it (4xx: unknown SKU, invalid address, not allowed
			  * in this state); err says why. Retrying the same is pointless */
	ERP_DONE = 1,
};

/* A document the ERP holds (order, payment, return, complaint): its id, number and state. */
struct erp_doc {
	char id[ERP_ID_MAX + 1];
	char number[ERP_NUMBER_MAX + 1]; /* "SO/2026/00042"; "" when the ERP numbers none */
	char status[ERP_STATUS_MAX + 1]; /* the ERP's own word: "confirmed", "accepted" */
	char external_ref[ERP_REF_MAX + 1];
	int64_t total_gross_minor; /* orders: the ERP's total; else the amount; 0 when none */
	int64_t created_at_us;
};

/* An order's status changed in the ERP (the change feed: GET after a cursor, or pushed). */
struct erp_order_change {
	char order_id[ERP_ID_MAX + 1];
	char number[ERP_NUMBER_MAX + 1];
	char external_ref[ERP_REF_MAX + 1]; /* "" for an order erpsync did not book */
	char status[ERP_STATUS_MAX + 1];    /* confirmed, ready_to_ship, shipped, completed, cancelled */
	char reason[ERP_TEXT_MAX + 1];
	int64_t changed_at_us;
};

/* A complaint case's decision changed in the ERP. */
struct erp_complaint_change {
	char complaint_id[ERP_ID_MAX + 1];
	char external_ref[ERP_REF_MAX + 1];
	char order_id[ERP_ID_MAX + 1];
	char status[ERP_STATUS_MAX + 1];     /* open, accepted, rejected, resolved */
	char resolution[ERP_STATUS_MAX + 1]; /* repair, replacement, refund, price_reduction; "" undecided */
	char note[ERP_TEXT_MAX + 1];         /* the ERP's words for the customer */
	int64_t refund_minor;                /* an accepted refund: gross, positive; 0 otherwise */
	int64_t changed_at_us;
};

/* A page of a change feed after a cursor; items owned by the page (erp_change_page_cleanup). */
struct erp_change_page {
	struct erp_order_change *orders;         /* order_changes fills these */
	struct erp_complaint_change *complaints; /* complaint_changes fills these */
	size_t n;
	char next_cursor[ERP_CURSOR_MAX + 1];
	bool has_more;
};

void erp_change_page_cleanup(struct erp_change_page *p);

struct erp;
struct erp_catalog_ops; /* erp_catalog.h */

/* What order-sync asks of an ERP. The messages are the contract's (proto/erpsync/v1); external
 * references are erpsync's keys ("<shop>|<order id>", "<shop>|<order id>|<payment id>"), which the
 * ERP keeps on the document so that a call whose answer was lost can be found again. */
struct erp_order_ops {
	/* The ERP's orders that carry external_ref: 0, 1, or more when someone booked one twice
	 * outside erpsync. Fills out[0..min(n, max)); returns n, or -1 with err. */
	int (*find_orders)(struct erp *erp, const char *external_ref, struct erp_doc *out, size_t max, char *err,
			   size_t errlen);
	/* Creates the order with external_ref: lines by SKU, shipping and fees as lines, discounts,
	 * VAT per line, the buyer found by NIP, else by e-mail, else created, both addresses, the
	 * pickup point and the payment method. ERP_REFUSED names the cause (unknown SKU, ...).
	 * Never retried inside: ERP_FAILED means "look it up". */
	enum erp_result (*create_order)(struct erp *erp, const char *external_ref, const Erpsync__V1__Order *o,
					struct erp_doc *out, char *err, size_t errlen);
	/* Cancels the ERP's order; ERP_REFUSED when the ERP does not allow it any more (invoiced,
	 * shipped). Cancelling a cancelled order is ERP_DONE. */
	enum erp_result (*cancel_order)(struct erp *erp, const char *order_id, const char *reason, char *err,
					size_t errlen);
	/* Status changes after cursor ("" = from the start), oldest first, at most limit. */
	bool (*order_changes)(struct erp *erp, const char *cursor, size_t limit, struct erp_change_page *out, char *err,
			      size_t errlen);
	/* Orders created in [from_us, to_us), one page (1-based), for reconciliation; *out malloc'ed. */
	bool (*list_orders)(struct erp *erp, int64_t from_us, int64_t to_us, int page, struct erp_doc **out, size_t *n,
			    bool *more, char *err, size_t errlen);
	/* Registers a payment against the order, once: looked up by external_ref first. */
	enum erp_result (*register_payment)(struct erp *erp, const char *order_id, const char *external_ref,
					    const Erpsync__V1__Payment *p, struct erp_doc *out, char *err,
					    size_t errlen);
	/* A return document (goods and/or money back) for the order, once by external_ref. */
	enum erp_result (*create_return)(struct erp *erp, const char *order_id, const char *external_ref,
					 const Erpsync__V1__Return *r, struct erp_doc *out, char *err, size_t errlen);
	/* A complaint case (r->kind RETURN_KIND_COMPLAINT), once by external_ref. */
	enum erp_result (*create_complaint)(struct erp *erp, const char *order_id, const char *external_ref,
					    const Erpsync__V1__Return *r, struct erp_doc *out, char *err,
					    size_t errlen);
	/* Complaint decisions after cursor, oldest first. */
	bool (*complaint_changes)(struct erp *erp, const char *cursor, size_t limit, struct erp_change_page *out,
				  char *err, size_t errlen);
};

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
	const struct erp_order_ops *orders;    /* NULL when the adapter does not serve orders */
	const struct erp_catalog_ops *catalog; /* erp_catalog.h; NULL when it does not serve pricing */
};

void erp_stock_page_cleanup(struct erp_stock_page *p);
void erp_free(struct erp *erp); /* NULL-safe */

#endif
