/* woo_order_store — the sandbox shop's orders in memory, with their notes and refunds.
 *
 * An order is kept as the compact JSON GET /orders/<id> answers (so a listing copies text and
 * parses nothing), beside the fields it is looked up and ordered by. Two sorted arrays index it:
 * by id, and by (date_modified, id) — an update moves the order to the end of the second, and a
 * modified_after query is a binary search. 100,000 orders cost their text plus about 100 bytes.
 *
 * One rwlock covers the store: readers list and get at once, writers are short (no I/O). Every
 * change calls the listener with the topic and the order's new text while the lock is held, so
 * events leave in the order the changes were made; the listener must only copy and queue.
 * Errors are WooCommerce's codes and messages (struct woo_error). */
#ifndef SANDBOX_WOO_ORDER_STORE_H
#define SANDBOX_WOO_ORDER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "woo_error.h"

#define WOO_ORDER_ID_FIRST       5001
#define WOO_ORDER_STATUS_MAX     32 /* bytes of a status slug, "wc-" not included */
#define WOO_ORDER_STATUSES_EXTRA 32 /* slugs plugins may register */
#define WOO_ORDER_NOTES_MAX      1000
#define WOO_ORDER_NOTE_MAX       65536 /* bytes of one note */
#define WOO_ORDER_STORE_MAX      10000000

/* topic: "order.created", "order.updated", "order.deleted"; body: what the webhook carries. */
typedef void (*woo_order_listener)(void *ud, const char *topic, int64_t id, const char *body, size_t len);

struct woo_order_store;

struct woo_order_store *woo_order_store_new(woo_order_listener fn, void *ud) __attribute__((warn_unused_result));
void woo_order_store_free(struct woo_order_store *s);  /* NULL-safe */
void woo_order_store_clear(struct woo_order_store *s); /* forgets every order; registered statuses stay */
size_t woo_order_store_count(struct woo_order_store *s);
/* The clock the store dates changes by (unix seconds; NULL: the wall clock). For tests; call before
 * the store is shared. */
void woo_order_store_clock(struct woo_order_store *s, int64_t (*now_s)(void));

/* Registers a status slug as a plugin would (register_post_status "wc-<slug>"); [a-z0-9_-], 1..20. */
bool woo_order_store_status_add(struct woo_order_store *s, const char *slug, struct woo_error *e)
	__attribute__((warn_unused_result));
/* Whether slug is one of WooCommerce's statuses or a registered one. */
bool woo_order_store_status_known(struct woo_order_store *s, const char *slug);
/* {"statuses":[every slug]} (new reference). */
json_t *woo_order_store_statuses_json(struct woo_order_store *s);

/* Creates an order from a WooCommerce-shaped body (borrowed): the store assigns id (unless the
 * body's is free), number, order_key, the dates; fires order.created. New reference, or NULL with e. */
json_t *woo_order_store_create(struct woo_order_store *s, const json_t *body, struct woo_error *e);

/* The order's text appended to out; false with e (404 woocommerce_rest_shop_order_invalid_id). */
bool woo_order_store_get(struct woo_order_store *s, int64_t id, struct buf *out, struct woo_error *e)
	__attribute__((warn_unused_result));

/* PUT: status (WooCommerce's slugs and registered ones), customer_note, transaction_id. A change
 * bumps date_modified, adds WooCommerce's status note and fires order.updated. */
json_t *woo_order_store_update(struct woo_order_store *s, int64_t id, const json_t *body, struct woo_error *e);

/* DELETE: force removes it, else it goes to the trash (status "trash"); either fires order.deleted.
 * Returns the order as it was (new reference). */
json_t *woo_order_store_delete(struct woo_order_store *s, int64_t id, bool force, struct woo_error *e);

enum woo_order_orderby { WOO_ORDERBY_DATE, WOO_ORDERBY_MODIFIED, WOO_ORDERBY_ID };

struct woo_order_query {
	size_t page, per_page;
	bool descending;
	enum woo_order_orderby orderby;
	const char *status; /* comma-separated slugs, "any" (all but trash) or NULL */
	/* each bound is exclusive, unix seconds, used when its has_ flag is set */
	bool has_after, has_before, has_modified_after, has_modified_before;
	int64_t after_s, before_s, modified_after_s, modified_before_s;
};

/* One page as a JSON array into out; *total: orders matching the query. false: out of memory. */
bool woo_order_store_list(struct woo_order_store *s, const struct woo_order_query *q, struct buf *out, size_t *total)
	__attribute__((warn_unused_result));

/* Notes, oldest first as stored, answered newest first as WooCommerce lists them. */
json_t *woo_order_store_notes(struct woo_order_store *s, int64_t id, struct woo_error *e);
/* {"note", "customer_note", "added_by_user"}; 201's body. A note does not change date_modified. */
json_t *woo_order_store_note_add(struct woo_order_store *s, int64_t id, const json_t *body, struct woo_error *e);

/* Refunds, newest first; woo_refund.h says what a request may hold. A refund adds {id, reason,
 * total} to the order's refunds[], sets it "refunded" when nothing is left, fires order.updated. */
json_t *woo_order_store_refunds(struct woo_order_store *s, int64_t id, struct woo_error *e);
json_t *woo_order_store_refund_add(struct woo_order_store *s, int64_t id, const json_t *body, struct woo_error *e);

#endif
