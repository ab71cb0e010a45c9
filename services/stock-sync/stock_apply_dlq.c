/* stock_apply_dlq — the dead letters of stock-sync's consumer: a batch's undecodable records sent to
 * <topic>.dlq (a stock record let go once decoded is encoded again), and a batch PostgreSQL keeps
 * refusing applied one record at a time, the records refused alone dead-lettered. */
#include "stock_apply.h"
#include "stock_apply_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "erpsync/v1/stock.pb-c.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "stock_db.h"

#define STOCK_APPLY_SERVICE "stock-sync"

/* Sends a dead record to the DLQ with reason; true when acknowledged. A stock record whose message
 * was let go once decoded (PostgreSQL refused it later) is encoded again from what was decoded:
 * its event id, source time, SKU, warehouse, quantities and version, keyed SKU|warehouse as its
 * producers key it. */
static bool stock_apply_dlq_send(struct stock_apply *a, const struct stock_apply_batch *b,
				 const struct stock_apply_item *it, const char *reason)
{
	struct log_ctx ctx = { .topic = it->topic, .partition = it->partition, .offset = it->offset };
	bool ok = false;
	log_ctx_warn(&ctx, "dead-lettering record: %s", reason);
	if (it->msg) {
		ok = kafka_dlq_send(a->dlq, it->msg, STOCK_APPLY_SERVICE, reason, 1);
	} else if (it->kind == STOCK_KIND_STOCK) {
		Erpsync__V1__EventMeta meta = ERPSYNC__V1__EVENT_META__INIT;
		Erpsync__V1__StockLevel l = ERPSYNC__V1__STOCK_LEVEL__INIT;
		meta.event_id = (char *)(b->arena.data + it->id_at);
		meta.occurred_at = it->occurred_at;
		l.meta = &meta;
		l.sku = (char *)(b->arena.data + it->sku_at);
		l.warehouse = (char *)(b->arena.data + it->wh_at);
		l.on_hand_milli = it->on_hand_milli;
		l.reserved_milli = it->reserved_milli;
		l.available_milli = it->available_milli;
		l.version = (uint64_t)it->version;
		l.feed_epoch = (uint64_t)it->feed_epoch;
		size_t len = erpsync__v1__stock_level__get_packed_size(&l);
		uint8_t *value = malloc(len ? len : 1);
		char key[128];
		int klen = snprintf(key, sizeof key, "%s|%s", l.sku, l.warehouse);
		if (value && klen > 0) {
			erpsync__v1__stock_level__pack(&l, value);
			const struct kafka_dlq_record r = { it->topic,
							    it->partition,
							    it->offset,
							    key,
							    (size_t)klen < sizeof key ? (size_t)klen : sizeof key - 1,
							    value,
							    len,
							    NULL };
			ok = kafka_dlq_send_record(a->dlq, &r, STOCK_APPLY_SERVICE, reason, 1);
		}
		free(value);
	}
	if (ok)
		metrics_inc(metrics_series1(a->m_dlq, it->topic));
	else
		log_ctx_error(&ctx, "dead-letter topic did not acknowledge; will retry");
	return ok;
}

/* Sends the batch's dead records to the DLQ; false when one was not acknowledged. */
bool stock_apply_dlq_batch(struct stock_apply *a, struct stock_apply_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct stock_apply_item *it = &b->items[i];
		if (!it->dead || it->dead_sent)
			continue;
		if (!stock_apply_dlq_send(a, b, it, it->dead))
			return false;
		it->dead_sent = true;
	}
	return true;
}

/* One record alone, in a transaction of its own: claimed, and applied when new. false with the
 * error (and *refused when PostgreSQL refused the record itself) when nothing was applied. */
static bool stock_apply_one(struct stock_apply *a, struct stock_apply_batch *b, struct stock_apply_item *it,
			    struct stock_claim *c, bool *refused, char *err, size_t errlen)
{
	struct pg *db = a->db[0];
	bool ok = pg_ensure(db, err, errlen) && pg_begin(db, err, errlen) && stock_db_claim(db, c, 1, err, errlen);
	if (ok && c->is_new) {
		if (it->kind == STOCK_KIND_STOCK) {
			const struct stock_row row = stock_apply_decode_row(b, it);
			ok = stock_db_store(db, &row, 1, a->shops, a->nshops, err, errlen);
		} else {
			ok = stock_apply_event(a, db, b, it, err, errlen);
		}
		ok = ok && stock_db_dirty_notify(db, err, errlen);
	}
	ok = ok && pg_commit(db, err, errlen);
	if (!ok) {
		*refused = pg_sqlstate_refused(pg_last_sqlstate(db));
		pg_rollback(db);
		metrics_deferred_discard(&a->counted);
	} else {
		metrics_deferred_commit(&a->counted);
	}
	return ok;
}

/* A record PostgreSQL refused alone: dead-lettered with the database's error. */
static void stock_apply_refuse(struct stock_apply *a, struct stock_apply_batch *b, struct stock_apply_item *it,
			       const char *err)
{
	char reason[600];
	snprintf(reason, sizeof reason, "refused by PostgreSQL: %s", err);
	it->ok = false;
	it->dead = "refused by PostgreSQL (the log has its error)"; /* if it has to be sent again */
	it->dead_sent = stock_apply_dlq_send(a, b, it, reason);
}

/* A batch PostgreSQL refused STOCK_APPLY_REFUSALS times running goes one record at a time, each in
 * a transaction of its own; a record refused alone goes to the DLQ with the database's reason, and
 * the others are applied (those committed before are found claimed). false when something else
 * failed: the batch stays to go again. */
bool stock_apply_dlq_isolate(struct stock_apply *a, struct stock_apply_batch *b)
{
	char err[512];
	b->nclaims = b->nrows = 0;
	b->stock_only = false;
	for (size_t i = 0; i < b->n; i++) {
		struct stock_apply_item *it = &b->items[i];
		if (!it->ok)
			continue;
		struct stock_claim c = { .event_id = stock_apply_decode_event_id(b, it),
					 .topic = it->topic,
					 .partition = it->partition,
					 .offset = it->offset };
		bool refused = false;
		if (stock_apply_one(a, b, it, &c, &refused, err, sizeof err)) {
			b->claims[b->nclaims++] = c;
			continue;
		}
		if (!refused) {
			log_error("applying one record failed, will retry: %s", err);
			return false;
		}
		stock_apply_refuse(a, b, it, err);
	}
	return stock_apply_dlq_batch(a, b);
}
