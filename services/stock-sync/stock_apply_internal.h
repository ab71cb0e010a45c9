/* stock_apply_internal — shared by stock_apply.c (batches, lanes, the send/land state machine),
 * stock_apply_decode.c (records into batch items) and stock_apply_dlq.c (dead letters, refused
 * records one by one); not for the rest of stock-sync. The apply thread alone uses all of it. */
#ifndef ERPSYNC_STOCK_APPLY_INTERNAL_H
#define ERPSYNC_STOCK_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "buf.h"
#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/return.pb-c.h"
#include "metrics.h"
#include "stock_apply.h"
#include "stock_db.h"
#include "stock_orders.h"

#define STOCK_APPLY_PARTS_MAX 64 /* partitions whose last message a batch keeps */

/* A tombstone (no value) on the compacted stock topic: the ERP deleted that SKU+warehouse. */
enum stock_apply_kind {
	STOCK_KIND_STOCK,
	STOCK_KIND_SHOP_ORDER,
	STOCK_KIND_ERP_ORDER,
	STOCK_KIND_RETURN,
	STOCK_KIND_TOMBSTONE
};

struct stock_apply_item {
	rd_kafka_message_t *msg; /* NULL once let go */
	enum stock_apply_kind kind;
	const char *topic; /* one of the configured names */
	int32_t partition;
	int64_t offset;
	union {
		Erpsync__V1__OrderEvent *order;
		Erpsync__V1__Return *ret;
		void *any;
	} v;              /* decoded order or return event */
	bool ok;          /* decoded and valid: to be applied */
	const char *dead; /* why not: it goes to the DLQ */
	bool dead_sent;   /* the DLQ acknowledged it */
	/* a stock record or tombstone: its strings are offsets into the batch's arena */
	size_t id_at, sku_at, wh_at;
	int64_t on_hand_milli, reserved_milli, available_milli, version, occurred_at, feed_epoch;
};

struct stock_apply_last {
	const char *topic;
	int32_t partition;
	size_t item;
};

struct stock_apply_batch {
	struct stock_apply_item *items;
	struct stock_claim *claims; /* of the applicable items, in order */
	struct stock_row *rows;     /* of its stock records */
	size_t n, nclaims, nrows;
	struct buf arena;
	struct stock_apply_last last[STOCK_APPLY_PARTS_MAX];
	size_t nlast;
	struct stock_db_batch *stmt[STOCK_APPLY_LANES_MAX];
	size_t lane_at[STOCK_APPLY_LANES_MAX + 1]; /* lane k: claims and rows [lane_at[k], lane_at[k+1]) */
	unsigned lanes_sent, lanes_done;           /* bit k: lane k's statement sent, committed */
	unsigned refused;                          /* failures running in which PostgreSQL refused the data */
	bool built;                                /* stmt holds this batch, ready to send */
	bool stock_only;
	int64_t sent_us;
};

struct stock_apply {
	struct kafka_consumer *consumer;
	struct kafka_producer *dlq;
	struct pg *db[STOCK_APPLY_LANES_MAX]; /* db[0] is the caller's, the others are ours */
	size_t nlanes;
	const struct shop_config *shops;
	size_t nshops;
	size_t batch_max;
	struct stock_apply_topics topics;
	struct stock_orders orders;
	struct metrics_deferred counted; /* the event transaction's counters, applied at commit */
	struct stock_apply_batch slot[2];
	struct stock_apply_batch *next;   /* being gathered, or waiting to be applied */
	struct stock_apply_batch *flight; /* sent; its outcome not read yet */
	struct stock_apply_batch *redo;   /* failed; goes before next */
	int64_t gauges_at_us;
	struct metric_family *m_applied, *m_duplicate, *m_dlq, *m_failed, *m_batch;
	struct metric_series *m_lag;
};

/* ---- stock_apply_decode.c ---- */

/* Takes one message into the batch (b->items[b->n++], which owns m from then on). An undecodable
 * one stays in the batch with its reason: it goes to the DLQ, and its offset is stored with the
 * others, in order, after the batch. */
void stock_apply_decode_message(struct stock_apply *a, struct stock_apply_batch *b, rd_kafka_message_t *m);
/* Frees the decoded order or return event of it, if any (a stock record or tombstone has none). */
void stock_apply_decode_free_event(struct stock_apply_item *it);
/* The event id of an applicable item (in the batch's arena or in its decoded event). */
const char *stock_apply_decode_event_id(const struct stock_apply_batch *b, const struct stock_apply_item *it);
/* The stored form of a stock record (its strings in the batch's arena). */
struct stock_row stock_apply_decode_row(const struct stock_apply_batch *b, const struct stock_apply_item *it);

/* ---- stock_apply_dlq.c ---- */

/* Sends the batch's dead records to the DLQ; false when one was not acknowledged. */
bool stock_apply_dlq_batch(struct stock_apply *a, struct stock_apply_batch *b) __attribute__((warn_unused_result));
/* Applies b one record at a time, dead-lettering those PostgreSQL refuses alone; false when
 * something else failed (b stays to go again). */
bool stock_apply_dlq_isolate(struct stock_apply *a, struct stock_apply_batch *b) __attribute__((warn_unused_result));

/* ---- stock_apply.c ---- */

/* Inside the caller's transaction on db: an order or return event, or a tombstone. */
bool stock_apply_event(struct stock_apply *a, struct pg *db, const struct stock_apply_batch *b,
		       const struct stock_apply_item *it, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
