#include "stock_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erpsync/v1/stock.pb-c.h"
#include "event.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "stock_db.h"

#define STOCK_APPLY_SERVICE "stock-sync"
#define STOCK_APPLY_GATHER_MS 5

struct stock_apply_item {
	rd_kafka_message_t *msg;
	Erpsync__V1__StockLevel *level;     /* NULL when it cannot be applied */
	const char *dead;                   /* why it cannot: it goes to the DLQ */
	bool dead_sent;                     /* the DLQ acknowledged it */
};

struct stock_apply {
	struct kafka_consumer *consumer;
	struct kafka_producer *dlq;
	struct pg *db;
	const struct shop_config *shops;
	size_t nshops;
	size_t batch_max;
	/* a batch that failed to apply is kept and retried as it is */
	struct stock_apply_item *items;
	struct stock_row *rows;
	size_t n;
	struct metric_family *m_applied, *m_duplicate, *m_dlq, *m_failed, *m_batch;
};

struct stock_apply *stock_apply_new(struct kafka_consumer *c, struct kafka_producer *dlq, struct pg *db,
				    const struct shop_config *shops, size_t nshops, size_t batch_max)
{
	static const char *const topic_label[] = { "topic", NULL };
	struct stock_apply *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->consumer = c;
	a->dlq = dlq;
	a->db = db;
	a->shops = shops;
	a->nshops = nshops;
	a->batch_max = batch_max;
	a->items = calloc(batch_max, sizeof *a->items);
	a->rows = calloc(batch_max, sizeof *a->rows);
	a->m_applied = metrics_counter("erpsync_stock_events_applied_total",
				       "Stock events applied to stock-sync's state", topic_label);
	a->m_duplicate = metrics_counter("erpsync_stock_events_duplicate_total",
					 "Stock events skipped because their event id was applied before", topic_label);
	a->m_dlq = metrics_counter("erpsync_stock_events_dead_lettered_total",
				   "Stock events that could not be decoded and went to the DLQ", topic_label);
	a->m_failed = metrics_counter("erpsync_stock_apply_failures_total",
				      "Batches whose database transaction failed (retried)", NULL);
	static const double sizes[] = { 1, 10, 50, 100, 250, 500, 1000, 2000 };
	a->m_batch = metrics_histogram("erpsync_stock_apply_batch_size", "Messages per applied batch",
				       NULL, sizes, sizeof sizes / sizeof sizes[0]);
	if (!a->items || !a->rows) {
		stock_apply_free(a);
		return NULL;
	}
	return a;
}

static void stock_apply_release(struct stock_apply *a)
{
	for (size_t i = 0; i < a->n; i++) {
		if (a->items[i].level)
			erpsync__v1__stock_level__free_unpacked(a->items[i].level, NULL);
		rd_kafka_message_destroy(a->items[i].msg);
	}
	a->n = 0;
}

void stock_apply_free(struct stock_apply *a)
{
	if (!a)
		return;
	stock_apply_release(a);
	free(a->items);
	free(a->rows);
	free(a);
}

/* Why a record cannot be applied, or NULL when it can. */
static const char *stock_apply_invalid(const Erpsync__V1__StockLevel *l)
{
	if (!l->meta || !l->meta->event_id || !*l->meta->event_id)
		return "meta.event_id missing";
	if (!l->sku || !*l->sku || strlen(l->sku) > 64)
		return "sku missing or longer than 64";
	if (!l->warehouse || !*l->warehouse || strlen(l->warehouse) > 32)
		return "warehouse missing or longer than 32";
	if (l->version == 0 || l->version > INT64_MAX)
		return "version missing or out of range";
	return NULL;
}

/* Decodes one message into the batch. An undecodable one is kept in the batch with its reason:
 * it goes to the DLQ, and its offset is stored with the others, in order, after the batch. */
static void stock_apply_take(struct stock_apply *a, rd_kafka_message_t *m)
{
	struct stock_apply_item *it = &a->items[a->n++];
	it->msg = m;
	it->dead = NULL;
	it->dead_sent = false;
	it->level = erpsync__v1__stock_level__unpack(NULL, m->len, m->payload);
	if (!it->level)
		it->dead = "value is not a valid erpsync.v1.StockLevel protobuf";
	else
		it->dead = stock_apply_invalid(it->level);
	if (it->dead && it->level) {
		erpsync__v1__stock_level__free_unpacked(it->level, NULL);
		it->level = NULL;
	}
}

/* Sends the batch's undecodable records to the DLQ; false when one was not acknowledged. */
static bool stock_apply_dead_letter(struct stock_apply *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct stock_apply_item *it = &a->items[i];
		if (!it->dead || it->dead_sent)
			continue;
		const rd_kafka_message_t *m = it->msg;
		struct log_ctx ctx = { .topic = rd_kafka_topic_name(m->rkt), .partition = m->partition,
				       .offset = m->offset };
		log_ctx_warn(&ctx, "dead-lettering record: %s", it->dead);
		if (!kafka_dlq_send(a->dlq, m, STOCK_APPLY_SERVICE, it->dead, 1)) {
			log_ctx_error(&ctx, "dead-letter topic did not acknowledge; will retry");
			return false;
		}
		it->dead_sent = true;
		metrics_inc(metrics_series1(a->m_dlq, ctx.topic));
	}
	return true;
}

static void stock_apply_gather(struct stock_apply *a, int wait_ms)
{
	int64_t deadline = 0;
	while (a->n < a->batch_max) {
		int timeout = wait_ms;
		if (deadline) {
			int64_t left = (deadline - event_monotonic_us()) / 1000;
			if (left <= 0)
				break;
			timeout = (int)left;
		}
		rd_kafka_message_t *m = kafka_consumer_poll(a->consumer, timeout);
		if (!m)
			break;
		if (!deadline)
			deadline = event_monotonic_us() + STOCK_APPLY_GATHER_MS * 1000;
		stock_apply_take(a, m);
	}
}

/* Rows of the applicable records; returns how many. */
static size_t stock_apply_fill_rows(struct stock_apply *a)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++) {
		const Erpsync__V1__StockLevel *l = a->items[i].level;
		const rd_kafka_message_t *m = a->items[i].msg;
		if (!l)
			continue;
		a->rows[n++] = (struct stock_row){
			.event_id = l->meta->event_id,
			.topic = rd_kafka_topic_name(m->rkt),
			.partition = m->partition,
			.offset = m->offset,
			.sku = l->sku,
			.warehouse = l->warehouse,
			.on_hand_milli = l->on_hand_milli,
			.reserved_milli = l->reserved_milli,
			.available_milli = l->available_milli,
			.version = (int64_t)l->version,
			.source_us = l->meta->occurred_at,
		};
	}
	return n;
}

int stock_apply_run_once(struct stock_apply *a, int wait_ms)
{
	char err[512];
	if (a->n == 0)
		stock_apply_gather(a, wait_ms);
	if (a->n == 0)
		return 0;
	if (!stock_apply_dead_letter(a))
		return -1;
	size_t nrows = stock_apply_fill_rows(a);
	if (nrows && (!pg_ensure(a->db, err, sizeof err) ||
		      !stock_db_apply(a->db, a->rows, nrows, a->shops, a->nshops, err, sizeof err))) {
		metrics_inc(metrics_series0(a->m_failed));
		log_error("applying %zu stock records failed, will retry: %s", nrows, err);
		return -1;
	}
	for (size_t i = 0; i < nrows; i++)
		metrics_inc(metrics_series1(a->rows[i].is_new ? a->m_applied : a->m_duplicate, a->rows[i].topic));
	/* every record of the batch is now applied or dead-lettered: store offsets, in order */
	for (size_t i = 0; i < a->n; i++) {
		const rd_kafka_message_t *m = a->items[i].msg;
		if (!kafka_consumer_store(a->consumer, m))
			log_error("offset store failed for %s [%d] @%lld", rd_kafka_topic_name(m->rkt),
				  (int)m->partition, (long long)m->offset);
	}
	size_t handled = a->n;
	metrics_observe(metrics_series0(a->m_batch), (double)handled);
	stock_apply_release(a);
	return (int)handled;
}
