/* erp_docs — the sandbox ERP's commercial documents in memory: customers, orders, payments, returns
 * and complaint cases, the catalogue of SKUs it sells beyond its stock records, and two change
 * feeds (order statuses, complaint decisions).
 *
 * Documents are JSON objects exactly as the API shows them; the store adds what the ERP assigns
 * (id, number, status, created_at) and hands out deep copies, never its own objects. Ids are
 * "<prefix><n>" with n counting up for the life of the process (a reset does not reuse them), so
 * the id alone finds a document in O(1); external references, NIPs and e-mails are hash-indexed.
 * External references are not unique: a real ERP does not enforce them, and reconciliation must be
 * able to see an order booked twice.
 *
 * The feeds keep every change (not only the latest per document): a reader that stores
 * next_cursor and asks again with it sees each transition once, in order. Creating an order is its
 * first change ("confirmed"), filing a complaint its first ("open").
 *
 * Thread-safe: one mutex around everything. */
#ifndef SANDBOX_ERP_DOCS_H
#define SANDBOX_ERP_DOCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum erp_docs_kind {
	ERP_DOCS_CUSTOMER,
	ERP_DOCS_ORDER,
	ERP_DOCS_PAYMENT,
	ERP_DOCS_RETURN,
	ERP_DOCS_COMPLAINT,
	ERP_DOCS_KINDS
};

enum erp_docs_feed { ERP_DOCS_FEED_ORDERS, ERP_DOCS_FEED_COMPLAINTS, ERP_DOCS_FEEDS };

enum erp_docs_result {
	ERP_DOCS_OK,
	ERP_DOCS_NOT_FOUND, /* the document (or the order it belongs to) does not exist */
	ERP_DOCS_REFUSED,   /* not allowed in its state; err holds a code, errmsg why */
	ERP_DOCS_NOMEM,
};

/* Calls counted per endpoint for GET /sandbox/stats. */
enum erp_docs_call {
	ERP_CALL_POST_ORDERS,
	ERP_CALL_GET_ORDERS_BY_REF,
	ERP_CALL_GET_ORDERS_BY_TIME,
	ERP_CALL_GET_ORDER,
	ERP_CALL_CANCEL_ORDER,
	ERP_CALL_ORDER_CHANGES,
	ERP_CALL_GET_CUSTOMERS,
	ERP_CALL_POST_CUSTOMERS,
	ERP_CALL_GET_PAYMENTS,
	ERP_CALL_POST_PAYMENTS,
	ERP_CALL_GET_RETURNS,
	ERP_CALL_POST_RETURNS,
	ERP_CALL_GET_COMPLAINTS,
	ERP_CALL_POST_COMPLAINTS,
	ERP_CALL_COMPLAINT_CHANGES,
	ERP_CALLS
};

/* What a new document is filed under. */
struct erp_docs_new {
	const char *external_ref; /* all but customers */
	const char *order_id;     /* payments, returns, complaints: must name an order */
	int64_t amount_minor;     /* orders: gross total; returns: refunded total; payments: paid */
	const char *nip;          /* customers */
	const char *email;        /* customers */
};

struct erp_docs;

struct erp_docs *erp_docs_new(void);
void erp_docs_free(struct erp_docs *d); /* NULL-safe */

/* Told every change of a feed (the feed item as GET shows it), with the store's lock held: quick,
 * no I/O, no calls back into the store (the webhook queues a copy). */
typedef void (*erp_docs_listener)(void *ud, enum erp_docs_feed feed, const json_t *item);
void erp_docs_listen(struct erp_docs *d, erp_docs_listener fn, void *ud);

/* Forgets every document, the catalogue and the call counts; ids and feed sequences go on. */
void erp_docs_clear(struct erp_docs *d);

bool erp_docs_sku_add(struct erp_docs *d, const char *sku) __attribute__((warn_unused_result));
bool erp_docs_sku_known(struct erp_docs *d, const char *sku);

/* Files doc (taken, also on failure) as a new document of kind; *out: a copy as stored.
 * NOT_FOUND: the order of a payment, return or complaint does not exist. REFUSED: a return whose
 * refunds would pass the order's gross total (err "refund_exceeds_order"). */
enum erp_docs_result erp_docs_create(struct erp_docs *d, enum erp_docs_kind kind, json_t *doc,
				     const struct erp_docs_new *how, json_t **out, char *err, size_t errlen,
				     char *errmsg, size_t msglen) __attribute__((warn_unused_result));

/* Copies of the documents of kind filed under key, oldest first: by = "external_ref", "nip" or
 * "email" (customers). NULL: out of memory. */
json_t *erp_docs_find(struct erp_docs *d, enum erp_docs_kind kind, const char *by, const char *key);
/* A copy of one document; NULL when there is none. */
json_t *erp_docs_get(struct erp_docs *d, enum erp_docs_kind kind, const char *id);

/* Orders created in [from_us, to_us), oldest first, page (1-based) of per_page. */
json_t *erp_docs_orders_created(struct erp_docs *d, int64_t from_us, int64_t to_us, size_t page, size_t per_page,
				bool *has_more);

/* Moves an order to status with reason. cancel: the API's cancel (an order already cancelled is
 * fine and unchanged; shipped, completed or invoiced ones are REFUSED, err "not_cancellable");
 * otherwise the sandbox switch, which sets any status. *out (may be NULL): the order after. */
enum erp_docs_result erp_docs_order_status(struct erp_docs *d, const char *id, const char *status, const char *reason,
					   bool cancel, json_t **out, char *err, size_t errlen, char *errmsg,
					   size_t msglen) __attribute__((warn_unused_result));
/* Marks an order invoiced (no longer cancellable). */
enum erp_docs_result erp_docs_order_invoiced(struct erp_docs *d, const char *id, json_t **out)
	__attribute__((warn_unused_result));

/* A complaint's decision: status, resolution ("" none), note, refund_minor. */
enum erp_docs_result erp_docs_complaint_decide(struct erp_docs *d, const char *id, const char *status,
					       const char *resolution, const char *note, int64_t refund_minor,
					       json_t **out) __attribute__((warn_unused_result));

/* A page of a feed after since: {"items","next_cursor","has_more","last_cursor"}. */
json_t *erp_docs_changes(struct erp_docs *d, enum erp_docs_feed feed, uint64_t since, size_t limit);

void erp_docs_count_call(struct erp_docs *d, enum erp_docs_call call);
/* {"orders","external_refs","duplicated_external_refs","customers","payments","returns",
 * "complaints","skus","calls_by_endpoint":{...}} */
json_t *erp_docs_stats(struct erp_docs *d);

/* RFC 3339 UTC with microseconds into out[32]. */
void erp_docs_time(int64_t us, char out[32]);

#endif
