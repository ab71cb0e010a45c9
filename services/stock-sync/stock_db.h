/* stock_db — stock-sync's own schema (stock_sync): the ERP cursor, the stock per SKU and
 * warehouse, what each shop must be told (shop_mark, shop_dirty), what it was told (shop_stock), the SKU ->
 * product mapping per shop and the SKUs a shop does not know. */
#ifndef STOCK_DB_H
#define STOCK_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg;
struct shop_config;

#define STOCK_DB_SCHEMA "stock_sync"

bool stock_db_migrate(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The ERP change feed polling follows (stock_feed.h). */
#define STOCK_DB_ERP_FEED "erp"

/* Where stock-sync is in an ERP change feed: the persisted cursor ("" when none yet), the feed id
 * it belongs to ("" when the ERP told none), and the feed epoch: how many times stock-sync found
 * the feed started over. Every stock record it publishes carries the epoch. */
struct stock_feed_pos {
	char cursor[65];
	char feed_id[65];
	int64_t epoch;
};
bool stock_db_feed_get(struct pg *db, const char *source, struct stock_feed_pos *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Inside the caller's transaction. */
bool stock_db_feed_set(struct pg *db, const char *source, const struct stock_feed_pos *pos, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* One consumed record's event id, claimed in the inbox with the others of its batch. */
struct stock_claim {
	const char *event_id;
	const char *topic;
	int32_t partition;
	int64_t offset;
	bool is_new; /* set by stock_db_claim or stock_db_batch_finish: not applied before
				 * (and the first of its id in the batch) */
};

/* Inside the caller's transaction: records every event id in the inbox in one statement and sets
 * is_new for those it had not seen. */
bool stock_db_claim(struct pg *db, struct stock_claim *c, size_t n, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* One decoded stock record. */
struct stock_row {
	const char *sku;
	const char *warehouse;
	int64_t on_hand_milli;
	int64_t reserved_milli;
	int64_t available_milli;
	int64_t version;
	int64_t source_us;
	int64_t feed_epoch; /* a later epoch is newer whatever the versions (stock_feed.h) */
};

/* Inside the caller's transaction: stores, per SKU+warehouse, the newest of the records when it is
 * newer than what is stored (feed epoch, then version), and marks the SKUs it changed dirty for every shop selling
 * from that warehouse. A record applied before changes nothing (versions only grow), so a batch
 * may pass its records without waiting for the claim's answer. */
bool stock_db_store(struct pg *db, const struct stock_row *rows, size_t n, const struct shop_config *shops,
		    size_t nshops, char *err, size_t errlen) __attribute__((warn_unused_result));

/* A batch of stock records applied in one statement that is its own transaction (claim, store,
 * mark, wake the writer), sent without waiting, so the next batch can be gathered meanwhile.
 * For batches of stock records only: other events need the claim's answer first. */
struct stock_db_batch;
struct stock_db_batch *stock_db_batch_new(void);
void stock_db_batch_free(struct stock_db_batch *b); /* NULL-safe */
/* Builds the statement's parameters (each event id once, the newest row per SKU+warehouse). The
 * claims and rows must stay as they are until stock_db_batch_finish. notify: its commit wakes the
 * writer when it marked something (one lane of a batch is enough). */
bool stock_db_batch_build(struct stock_db_batch *b, struct stock_claim *c, size_t n, const struct stock_row *rows,
			  size_t nrows, const struct shop_config *shops, size_t nshops, bool notify)
	__attribute__((warn_unused_result));
/* Sends it (not inside a transaction). Until stock_db_batch_finish the connection is busy: no
 * other statement on db. */
bool stock_db_batch_send(struct pg *db, struct stock_db_batch *b, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Whether the statement sent on db is still running (reads what has arrived; never waits). */
bool stock_db_batch_busy(struct pg *db);
/* Waits for the outcome and sets is_new; false with err when nothing was applied. */
bool stock_db_batch_finish(struct pg *db, struct stock_db_batch *b, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* The SQLSTATE of the batch's last failure ("" when none or unknown). */
const char *stock_db_batch_sqlstate(const struct stock_db_batch *b);

/* Inside the caller's transaction: a SKU+warehouse the ERP deleted (a tombstone on the compacted
 * stock topic) holds nothing any more; its version stays, so that only a newer record brings it
 * back. A tombstone with a version (> 0) applies only when it is not older than the stored
 * version, and raises the stored version to its own. *changed when it held something. */
bool stock_db_zero(struct pg *db, const char *sku, const char *warehouse, int64_t version, bool *changed, char *err,
		   size_t errlen) __attribute__((warn_unused_result));

/* Dirty marks wake the writer through LISTEN/NOTIFY (channel stock_sync_dirty), delivered at the
 * marking transaction's commit. The payload says when the marks were made (the server's clock)
 * and the source time of the oldest change marked, when known.
 * stock_db_dirty_notify: inside a marking transaction whose changes' source times are not known. */
bool stock_db_dirty_notify(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
bool stock_db_dirty_listen(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Waits up to timeout_ms (less when shutdown is requested) for notifications: 1 when some came,
 * with *open_us the earliest moment their coalescing window (window_us long) may open; 0 when none
 * came; -1 when the connection failed. A change opens it at its source time, so that its write
 * follows the change itself by about a window; but never after its mark, nor more than a quarter
 * window before it: a late event (a backlog, a stall upstream) or a source clock running behind
 * cannot take more than that from the coalescing after the mark. */
int stock_db_dirty_wait(struct pg *db, long timeout_ms, int64_t window_us, int64_t *open_us);

/* Dirty marks: whoever changes what a shop may sell appends (shop, SKU, source time) rows to
 * shop_mark in its own transaction; the writer alone folds them into shop_dirty, one row per shop
 * and SKU, which it reads and clears. Folds the marks of shops[0..n) (the others' stay); returns
 * the number of shop_dirty rows made or renewed, -1 on error. */
long long stock_db_fold(struct pg *db, const char *const *shops, size_t n, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* A SKU a shop must be told about, with everything needed to decide what to write. */
struct stock_pending {
	char sku[65];
	int64_t seq;
	int64_t first_source_us;
	int64_t product_id; /* 0: not mapped yet */
	int64_t parent_id;
	int64_t written; /* last quantity written to the shop; -1: never */
	int64_t available_milli;
	int64_t reserved_milli; /* open reservations from orders not yet booked by the ERP */
};

/* Up to max dirty SKUs of a shop, oldest first. *out is malloc'ed. */
bool stock_db_pending(struct pg *db, const struct shop_config *shop, size_t max, struct stock_pending **out, size_t *n,
		      char *err, size_t errlen) __attribute__((warn_unused_result));

/* Outcome of a write cycle, applied in one transaction: mapped/unknown SKUs learned, quantities
 * written, dirty rows done (only if not re-dirtied since: seq must match). */
struct stock_done {
	const char *sku;
	int64_t seq;
	int64_t written; /* -1: nothing written (unknown SKU, or unchanged) */
	bool unknown;    /* the shop does not know the SKU */
};
bool stock_db_done(struct pg *db, const char *shop, const struct stock_done *d, size_t n, char *err, size_t errlen)
	__attribute__((warn_unused_result));

bool stock_db_map_put(struct pg *db, const char *shop, const char *sku, int64_t product_id, int64_t parent_id,
		      char *err, size_t errlen) __attribute__((warn_unused_result));
bool stock_db_map_forget(struct pg *db, const char *shop, const char *sku, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Number of SKUs mapped for shop; -1 on error. */
long long stock_db_map_count(struct pg *db, const char *shop, char *err, size_t errlen);
/* Number of unknown SKUs recorded for shop; -1 on error. */
long long stock_db_unknown_count(struct pg *db, const char *shop, char *err, size_t errlen);

#endif
