#include "stock_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/return.pb-c.h"
#include "erpsync/v1/stock.pb-c.h"
#include "event.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "stock_db.h"
#include "stock_orders.h"

#define STOCK_APPLY_SERVICE "stock-sync"
#define STOCK_APPLY_GATHER_MS 5

enum stock_apply_kind { STOCK_KIND_STOCK, STOCK_KIND_SHOP_ORDER, STOCK_KIND_ERP_ORDER, STOCK_KIND_RETURN };

struct stock_apply_item {
	rd_kafka_message_t *msg;
	enum stock_apply_kind kind;
	union {
		Erpsync__V1__StockLevel *level;
		Erpsync__V1__OrderEvent *order;
		Erpsync__V1__Return *ret;
		void *any;
	} v;                                /* NULL when it cannot be applied */
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
	struct stock_apply_topics topics;
	struct stock_orders orders;
	/* a batch that failed to apply is kept and retried as it is */
	struct stock_apply_item *items;
	struct stock_claim *claims;
	struct stock_row *rows;
	size_t n;
	int64_t gauges_at_us;
	struct metric_family *m_applied, *m_duplicate, *m_dlq, *m_failed, *m_batch;
};

struct stock_apply *stock_apply_new(struct kafka_consumer *c, struct kafka_producer *dlq, struct pg *db,
				    const struct shop_config *shops, size_t nshops, size_t batch_max,
				    const struct stock_apply_topics *topics)
{
	static const char *const topic_label[] = { "topic", NULL };
	static const double sizes[] = { 1, 10, 50, 100, 250, 500, 1000, 2000, 5000 };
	struct stock_apply *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->consumer = c;
	a->dlq = dlq;
	a->db = db;
	a->shops = shops;
	a->nshops = nshops;
	a->batch_max = batch_max;
	a->topics = *topics;
	a->orders = (struct stock_orders){ shops, nshops, topics->alerts };
	a->items = calloc(batch_max, sizeof *a->items);
	a->claims = calloc(batch_max, sizeof *a->claims);
	a->rows = calloc(batch_max, sizeof *a->rows);
	a->m_applied = metrics_counter("erpsync_stock_events_applied_total",
				       "Events applied to stock-sync's state", topic_label);
	a->m_duplicate = metrics_counter("erpsync_stock_events_duplicate_total",
					 "Events skipped because their event id was applied before", topic_label);
	a->m_dlq = metrics_counter("erpsync_stock_events_dead_lettered_total",
				   "Events that could not be decoded or applied and went to the DLQ", topic_label);
	a->m_failed = metrics_counter("erpsync_stock_apply_failures_total",
				      "Batches whose database transaction failed (retried)", NULL);
	a->m_batch = metrics_histogram("erpsync_stock_apply_batch_size", "Messages per applied batch",
				       NULL, sizes, sizeof sizes / sizeof sizes[0]);
	if (!a->items || !a->claims || !a->rows) {
		stock_apply_free(a);
		return NULL;
	}
	return a;
}

static void stock_apply_item_free(struct stock_apply_item *it)
{
	if (!it->v.any)
		return;
	switch (it->kind) {
	case STOCK_KIND_STOCK:
		erpsync__v1__stock_level__free_unpacked(it->v.level, NULL);
		break;
	case STOCK_KIND_SHOP_ORDER:
	case STOCK_KIND_ERP_ORDER:
		erpsync__v1__order_event__free_unpacked(it->v.order, NULL);
		break;
	case STOCK_KIND_RETURN:
		erpsync__v1__return__free_unpacked(it->v.ret, NULL);
		break;
	}
	it->v.any = NULL;
}

static void stock_apply_release(struct stock_apply *a)
{
	for (size_t i = 0; i < a->n; i++) {
		stock_apply_item_free(&a->items[i]);
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
	free(a->claims);
	free(a->rows);
	free(a);
}

/* Why a stock record cannot be applied, or NULL when it can. */
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

/* Decodes one message by its topic. */
static void stock_apply_decode(struct stock_apply *a, struct stock_apply_item *it)
{
	const rd_kafka_message_t *m = it->msg;
	const char *topic = rd_kafka_topic_name(m->rkt);
	if (strcmp(topic, a->topics.stock) == 0) {
		it->kind = STOCK_KIND_STOCK;
		it->v.level = erpsync__v1__stock_level__unpack(NULL, m->len, m->payload);
		it->dead = it->v.level ? stock_apply_invalid(it->v.level)
				       : "value is not a valid erpsync.v1.StockLevel protobuf";
	} else if (strcmp(topic, a->topics.returns) == 0) {
		it->kind = STOCK_KIND_RETURN;
		it->v.ret = erpsync__v1__return__unpack(NULL, m->len, m->payload);
		it->dead = it->v.ret ? stock_orders_return_invalid(it->v.ret)
				     : "value is not a valid erpsync.v1.Return protobuf";
	} else {
		it->kind = strcmp(topic, a->topics.erp_orders) == 0 ? STOCK_KIND_ERP_ORDER : STOCK_KIND_SHOP_ORDER;
		it->v.order = erpsync__v1__order_event__unpack(NULL, m->len, m->payload);
		it->dead = it->v.order ? stock_orders_invalid(it->v.order)
				       : "value is not a valid erpsync.v1.OrderEvent protobuf";
	}
	if (it->dead)
		stock_apply_item_free(it);
}

/* Takes one message into the batch. An undecodable one stays in the batch with its reason: it
 * goes to the DLQ, and its offset is stored with the others, in order, after the batch. */
static void stock_apply_take(struct stock_apply *a, rd_kafka_message_t *m)
{
	struct stock_apply_item *it = &a->items[a->n++];
	memset(it, 0, sizeof *it);
	it->msg = m;
	stock_apply_decode(a, it);
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

static const char *stock_apply_event_id(const struct stock_apply_item *it)
{
	switch (it->kind) {
	case STOCK_KIND_STOCK:
		return it->v.level->meta->event_id;
	case STOCK_KIND_RETURN:
		return it->v.ret->meta->event_id;
	default:
		return it->v.order->meta->event_id;
	}
}

/* Claims of the applicable records (claims[k] belongs to items[idx]), returns how many. */
static size_t stock_apply_fill_claims(struct stock_apply *a)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct stock_apply_item *it = &a->items[i];
		if (!it->v.any)
			continue;
		a->claims[n++] = (struct stock_claim){
			.event_id = stock_apply_event_id(it),
			.topic = rd_kafka_topic_name(it->msg->rkt),
			.partition = it->msg->partition,
			.offset = it->msg->offset,
		};
	}
	return n;
}

/* Applies the new records of the batch, in order: stock records in one statement first, then
 * order and return events one by one. Inside the transaction. */
static bool stock_apply_new_records(struct stock_apply *a, char *err, size_t errlen)
{
	size_t k = 0, nrows = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct stock_apply_item *it = &a->items[i];
		if (!it->v.any || !a->claims[k++].is_new || it->kind != STOCK_KIND_STOCK)
			continue;
		const Erpsync__V1__StockLevel *l = it->v.level;
		a->rows[nrows++] = (struct stock_row){ l->sku, l->warehouse, l->on_hand_milli, l->reserved_milli,
						       l->available_milli, (int64_t)l->version, l->meta->occurred_at };
	}
	if (nrows && !stock_db_store(a->db, a->rows, nrows, a->shops, a->nshops, err, errlen))
		return false;
	k = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct stock_apply_item *it = &a->items[i];
		if (!it->v.any || !a->claims[k++].is_new)
			continue;
		bool ok = true;
		if (it->kind == STOCK_KIND_SHOP_ORDER)
			ok = stock_orders_shop_event(a->db, &a->orders, it->v.order, err, errlen);
		else if (it->kind == STOCK_KIND_ERP_ORDER)
			ok = stock_orders_erp_event(a->db, &a->orders, it->v.order, err, errlen);
		else if (it->kind == STOCK_KIND_RETURN)
			ok = stock_orders_return(a->db, it->v.ret, err, errlen);
		if (!ok)
			return false;
	}
	return true;
}

static bool stock_apply_tx(struct stock_apply *a, size_t nclaims, char *err, size_t errlen)
{
	if (!pg_ensure(a->db, err, errlen) || !pg_begin(a->db, err, errlen))
		return false;
	if (!stock_db_claim(a->db, a->claims, nclaims, err, errlen) || !stock_apply_new_records(a, err, errlen) ||
	    !pg_commit(a->db, err, errlen)) {
		pg_rollback(a->db);
		return false;
	}
	return true;
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
	size_t nclaims = stock_apply_fill_claims(a);
	if (nclaims && !stock_apply_tx(a, nclaims, err, sizeof err)) {
		metrics_inc(metrics_series0(a->m_failed));
		log_error("applying %zu records failed, will retry: %s", nclaims, err);
		return -1;
	}
	for (size_t i = 0; i < nclaims; i++)
		metrics_inc(metrics_series1(a->claims[i].is_new ? a->m_applied : a->m_duplicate, a->claims[i].topic));
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
	if (event_monotonic_us() - a->gauges_at_us > 1000000) {
		a->gauges_at_us = event_monotonic_us();
		stock_orders_gauges(a->db);
	}
	return (int)handled;
}
