#include "stock_apply.h"
#include "stock_apply_internal.h"

#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "hash.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "shutdown.h"
#include "stock_db.h"
#include "stock_orders.h"

#define STOCK_APPLY_GATHER_MS  5
#define STOCK_APPLY_TOPICS_MAX 8    /* topics counted per batch (four are consumed) */
#define STOCK_APPLY_TOPUP_MS   2    /* waits (at a time) for more records while a batch is in flight */
#define STOCK_APPLY_SPLIT_MIN  1000 /* a smaller batch is one statement: splitting costs more than it saves */
#define STOCK_APPLY_REFUSALS   3    /* refused this many times running: its records go one by one */

/* How a batch travels (measured in docs/benchmarks.md):
 *
 * A batch of stock records only (the bulk of the traffic) is one statement that is its own
 * transaction (stock_db_batch_*): claim every event id, store the newest version of each
 * SKU+warehouse, mark the changed SKUs dirty per shop and wake the writer. It is sent without
 * waiting; while PostgreSQL works on it the next batch is taken from the consumer, decoded and
 * made ready to send, so the database is rarely idle waiting for us.
 *
 * A batch that holds order or return events goes the careful way: BEGIN, claim, store, each new
 * event applied in order, COMMIT.
 *
 * A batch of stock records is split by SKU over a few database connections (lanes), one
 * statement each, sent at the same time: one PostgreSQL backend works on one core, and the claim
 * of thousands of event ids is most of the work. Each statement is a transaction of its own over
 * its own SKUs: no two lanes lock the same stock row (dirty marks are only appended), and an
 * event's claim commits with its record. The batch is done when every lane committed; a lane that
 * failed goes again (the others are not sent twice); a lane that committed takes its part of the
 * next batch at once (stock_apply_overlap). Offsets are stored only then, so a crash in between redelivers
 * the batch, and the lanes that had committed find their event ids claimed.
 *
 * Either way offsets are stored only after the commit, in order, and a batch whose transaction
 * failed is kept and retried as it is before anything later.
 *
 * Memory: a stock record is copied out of its message as soon as it is decoded (its strings into
 * the batch's arena), and the message is let go unless it is still needed: for the dead-letter
 * topic, or as the last of its partition in the batch (whose offset is stored). librdkafka frees a
 * fetched buffer when the last message in it is gone, so a batch does not pin them all. */

static bool stock_apply_slot_init(struct stock_apply_batch *b, size_t max, size_t lanes)
{
	b->items = calloc(max, sizeof *b->items);
	b->claims = calloc(max, sizeof *b->claims);
	b->rows = calloc(max, sizeof *b->rows);
	buf_init(&b->arena);
	bool ok = b->items && b->claims && b->rows;
	for (size_t k = 0; k < lanes; k++)
		ok = (b->stmt[k] = stock_db_batch_new()) != NULL && ok;
	return ok;
}

struct stock_apply *stock_apply_new(struct kafka_consumer *c, struct kafka_producer *dlq, struct pg *db,
				    const char *dsn, size_t lanes, const struct shop_config *shops, size_t nshops,
				    size_t batch_max, const struct stock_apply_topics *topics)
{
	static const char *const topic_label[] = { "topic", NULL };
	static const double sizes[] = { 1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000 };
	struct stock_apply *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->consumer = c;
	a->dlq = dlq;
	a->nlanes = lanes < 1 ? 1 : lanes > STOCK_APPLY_LANES_MAX ? STOCK_APPLY_LANES_MAX : lanes;
	a->db[0] = db;
	a->shops = shops;
	a->nshops = nshops;
	a->batch_max = batch_max;
	a->topics = *topics;
	a->orders = (struct stock_orders){ shops, nshops, topics->alerts, &a->counted };
	a->next = &a->slot[0];
	a->m_applied = metrics_counter("erpsync_stock_events_applied_total", "Events applied to stock-sync's state",
				       topic_label);
	a->m_duplicate = metrics_counter("erpsync_stock_events_duplicate_total",
					 "Events skipped because their event id was applied before", topic_label);
	a->m_dlq = metrics_counter("erpsync_stock_events_dead_lettered_total",
				   "Events that could not be decoded or applied and went to the DLQ", topic_label);
	a->m_failed = metrics_counter("erpsync_stock_apply_failures_total",
				      "Batches whose database transaction failed (retried)", NULL);
	a->m_batch = metrics_histogram("erpsync_stock_apply_batch_size", "Messages per applied batch", NULL, sizes,
				       sizeof sizes / sizeof sizes[0]);
	static const double lag[] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 10, 60 };
	a->m_lag = metrics_series0(metrics_histogram("erpsync_stock_apply_lag_seconds",
						     "From a stock change at the source to its commit in stock-sync",
						     NULL, lag, sizeof lag / sizeof lag[0]));
	bool ok = stock_apply_slot_init(&a->slot[0], batch_max, a->nlanes) &&
		  stock_apply_slot_init(&a->slot[1], batch_max, a->nlanes);
	for (size_t k = 1; ok && k < a->nlanes; k++) {
		char err[256];
		ok = (a->db[k] = pg_new(dsn, STOCK_DB_SCHEMA)) != NULL;
		if (ok && !pg_ensure(a->db[k], err, sizeof err))
			log_warn("apply lane %zu: not connected yet (tried again with its first batch): %s", k, err);
	}
	if (!ok) {
		stock_apply_free(a);
		return NULL;
	}
	return a;
}

static void stock_apply_release(struct stock_apply_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		stock_apply_decode_free_event(&b->items[i]);
		if (b->items[i].msg)
			rd_kafka_message_destroy(b->items[i].msg);
	}
	b->n = b->nclaims = b->nrows = b->nlast = 0;
	b->lanes_sent = b->lanes_done = b->refused = 0;
	b->built = false;
	buf_reset(&b->arena);
}

/* Fills the batch up to batch_max: waits up to wait_ms for the first record, then takes what the
 * consumer already holds; when it runs dry, waits for more until linger_ms after the first. A
 * backlog thus goes in full batches, a trickle with little delay. */
static void stock_apply_gather(struct stock_apply *a, struct stock_apply_batch *b, int wait_ms, int linger_ms)
{
	int64_t deadline = b->n ? event_monotonic_us() + (int64_t)linger_ms * 1000 : 0;
	while (b->n < a->batch_max) {
		int timeout = wait_ms;
		if (deadline) {
			int64_t left = (deadline - event_monotonic_us()) / 1000;
			timeout = left > 0 ? (int)left : 0;
		}
		rd_kafka_message_t *m = kafka_consumer_poll(a->consumer, 0);
		if (!m && timeout > 0)
			m = kafka_consumer_poll(a->consumer, timeout);
		if (!m)
			break;
		if (!deadline)
			deadline = event_monotonic_us() + (int64_t)linger_ms * 1000;
		stock_apply_decode_message(a, b, m);
	}
	kafka_consumer_nudge(a->consumer);
}

/* The lane of a SKU (FNV-1a): the same SKU always goes the same lane. */
static size_t stock_apply_lane(const char *sku, size_t lanes)
{
	return hash_fnv1a32(sku, strlen(sku)) % lanes;
}

/* The claims of the applicable records and the rows of the stock records among them; notes
 * whether every applicable record is a stock record. A batch of stock records only is laid out by
 * lane (lane k's claims and rows at [lane_at[k], lane_at[k+1]), claims[i] the claim of rows[i]);
 * any other batch goes on lane 0, its claims in the order of its records (claims[k] belongs to
 * the k-th applicable one). The arena does not grow after this (the batch is complete), so
 * pointers into it hold. */
static void stock_apply_prepare(struct stock_apply *a, struct stock_apply_batch *b)
{
	size_t count[STOCK_APPLY_LANES_MAX] = { 0 }, at[STOCK_APPLY_LANES_MAX];
	size_t lanes = 1;
	b->stock_only = true;
	for (size_t i = 0; i < b->n && b->stock_only; i++)
		b->stock_only = !b->items[i].ok || b->items[i].kind == STOCK_KIND_STOCK;
	if (b->stock_only && b->n >= STOCK_APPLY_SPLIT_MIN)
		lanes = a->nlanes;
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].ok)
			count[lanes > 1 ? stock_apply_lane(b->arena.data + b->items[i].sku_at, lanes) : 0]++;
	b->lane_at[0] = 0;
	for (size_t k = 0; k < a->nlanes; k++) {
		at[k] = b->lane_at[k];
		b->lane_at[k + 1] = b->lane_at[k] + (k < lanes ? count[k] : 0);
	}
	b->nclaims = b->nrows = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct stock_apply_item *it = &b->items[i];
		if (!it->ok)
			continue;
		size_t k = it->kind == STOCK_KIND_STOCK && lanes > 1
				   ? stock_apply_lane(b->arena.data + it->sku_at, lanes)
				   : 0;
		size_t c = b->stock_only ? at[k]++ : b->nclaims;
		b->claims[c] = (struct stock_claim){
			.event_id = stock_apply_decode_event_id(b, it),
			.topic = it->topic,
			.partition = it->partition,
			.offset = it->offset,
		};
		b->nclaims++;
		if (it->kind != STOCK_KIND_STOCK)
			continue;
		b->rows[b->stock_only ? c : b->nrows] = stock_apply_decode_row(b, it);
		b->nrows++;
	}
}

/* Makes b ready to go: dead letters sent, claims and rows listed, and for a batch of stock records
 * its statement built. false when the DLQ did not acknowledge or memory ran out. */
static bool stock_apply_ready(struct stock_apply *a, struct stock_apply_batch *b)
{
	if (b->built)
		return true;
	if (!stock_apply_dlq_batch(a, b))
		return false;
	stock_apply_prepare(a, b);
	bool notified = false; /* one lane wakes the writer (stock_db.c says why) */
	for (size_t k = 0; b->stock_only && k < a->nlanes; k++) {
		size_t from = b->lane_at[k], n = b->lane_at[k + 1] - from;
		if (n && !stock_db_batch_build(b->stmt[k], b->claims + from, n, b->rows + from, n, a->shops, a->nshops,
					       !notified)) {
			log_error("building the statement of %zu records: out of memory", n);
			return false;
		}
		notified = notified || n > 0;
	}
	b->built = true;
	return true;
}

/* Inside the caller's transaction: an order or return event, or a tombstone. */
bool stock_apply_event(struct stock_apply *a, struct pg *db, const struct stock_apply_batch *b,
		       const struct stock_apply_item *it, char *err, size_t errlen)
{
	bool changed = false;
	switch (it->kind) {
	case STOCK_KIND_TOMBSTONE:
		return stock_db_zero(db, b->arena.data + it->sku_at, b->arena.data + it->wh_at, it->version, &changed,
				     err, errlen) &&
		       (!changed ||
			stock_orders_mark(db, &a->orders, b->arena.data + it->sku_at, it->occurred_at, err, errlen));
	case STOCK_KIND_SHOP_ORDER:
		return stock_orders_shop_event(db, &a->orders, it->v.order, err, errlen);
	case STOCK_KIND_ERP_ORDER:
		return stock_orders_erp_event(db, &a->orders, it->v.order, err, errlen);
	case STOCK_KIND_RETURN:
		return stock_orders_return(db, &a->orders, it->v.ret, err, errlen);
	default:
		return true;
	}
}

/* Whether rows[from, to) hold a record of the tombstone's SKU+warehouse. */
static bool stock_apply_row_pending(const struct stock_apply_batch *b, size_t from, size_t to,
				    const struct stock_apply_item *t)
{
	const char *sku = b->arena.data + t->sku_at, *wh = b->arena.data + t->wh_at;
	for (size_t r = from; r < to; r++)
		if (strcmp(b->rows[r].sku, sku) == 0 && strcmp(b->rows[r].warehouse, wh) == 0)
			return true;
	return false;
}

/* Inside the transaction: the stock records and tombstones first, in the order of the topic, then
 * the new order and return events one by one, in order.
 *
 * Stock records are stored whether their event is new or not: a record applied before can change
 * nothing, because stored versions only grow and a record is taken only when its version is newer
 * than the stored one. That is also what lets a batch of stock records go in one statement
 * without waiting for the claim's answer.
 *
 * A tombstone takes effect where it stands: the records of its SKU+warehouse before it are stored
 * first (one statement for those gathered so far), those after it after it. An ERP that deletes a
 * SKU+warehouse and creates it again publishes both back to back, often into one batch: the new
 * record wins, as it would have in two batches. */
static bool stock_apply_records(struct stock_apply *a, struct stock_apply_batch *b, bool *any_new, char *err,
				size_t errlen)
{
	size_t k = 0, row = 0, from = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct stock_apply_item *it = &b->items[i];
		if (!it->ok)
			continue;
		bool fresh = b->claims[k++].is_new;
		if (it->kind == STOCK_KIND_STOCK)
			row++;
		if (it->kind != STOCK_KIND_TOMBSTONE || !fresh)
			continue;
		if (stock_apply_row_pending(b, from, row, it)) {
			if (!stock_db_store(a->db[0], b->rows + from, row - from, a->shops, a->nshops, err, errlen))
				return false;
			from = row;
		}
		*any_new = true;
		if (!stock_apply_event(a, a->db[0], b, it, err, errlen))
			return false;
	}
	if (row > from && !stock_db_store(a->db[0], b->rows + from, row - from, a->shops, a->nshops, err, errlen))
		return false;
	k = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct stock_apply_item *it = &b->items[i];
		if (!it->ok || !b->claims[k++].is_new)
			continue;
		*any_new = true;
		if (it->kind != STOCK_KIND_STOCK && it->kind != STOCK_KIND_TOMBSTONE &&
		    !stock_apply_event(a, a->db[0], b, it, err, errlen))
			return false;
	}
	return true;
}

static bool stock_apply_tx(struct stock_apply *a, struct stock_apply_batch *b, char *err, size_t errlen)
{
	bool any_new = false;
	struct pg *db = a->db[0];
	if (!pg_ensure(db, err, errlen) || !pg_begin(db, err, errlen))
		return false;
	if (!stock_db_claim(db, b->claims, b->nclaims, err, errlen) ||
	    !stock_apply_records(a, b, &any_new, err, errlen) || (any_new && !stock_db_dirty_notify(db, err, errlen)) ||
	    !pg_commit(db, err, errlen)) {
		pg_rollback(db);
		metrics_deferred_discard(&a->counted);
		return false;
	}
	metrics_deferred_commit(&a->counted);
	return true;
}

/* Counts the batch's events per topic: one metrics look-up per topic, not per event. */
static void stock_apply_count(struct stock_apply *a, const struct stock_apply_batch *b)
{
	struct stock_apply_tally {
		const char *topic;
		double applied, duplicate;
	} t[STOCK_APPLY_TOPICS_MAX];
	size_t nt = 0;
	for (size_t i = 0; i < b->nclaims; i++) {
		const struct stock_claim *c = &b->claims[i];
		size_t k = 0;
		while (k < nt && t[k].topic != c->topic)
			k++;
		if (k == nt) {
			if (nt == STOCK_APPLY_TOPICS_MAX) {
				metrics_inc(metrics_series1(c->is_new ? a->m_applied : a->m_duplicate, c->topic));
				continue;
			}
			t[nt++] = (struct stock_apply_tally){ c->topic, 0, 0 };
		}
		if (c->is_new)
			t[k].applied++;
		else
			t[k].duplicate++;
	}
	for (size_t k = 0; k < nt; k++) {
		if (t[k].applied > 0)
			metrics_add(metrics_series1(a->m_applied, t[k].topic), t[k].applied);
		if (t[k].duplicate > 0)
			metrics_add(metrics_series1(a->m_duplicate, t[k].topic), t[k].duplicate);
	}
}

/* The batch committed (or held nothing to apply): count it, store its offsets in order (the kept
 * messages: the last of each partition and the dead-lettered ones), let go. */
static int stock_apply_done(struct stock_apply *a, struct stock_apply_batch *b)
{
	stock_apply_count(a, b);
	int64_t now = event_now_us();
	for (size_t i = 0; i < b->nrows; i++)
		if (b->rows[i].source_us > 0 && now > b->rows[i].source_us)
			metrics_observe(a->m_lag, (double)(now - b->rows[i].source_us) / 1e6);
	for (size_t i = 0; i < b->n; i++) {
		const rd_kafka_message_t *m = b->items[i].msg;
		if (m && !kafka_consumer_store(a->consumer, m))
			log_error("offset store failed for %s [%d] @%lld", b->items[i].topic, (int)m->partition,
				  (long long)m->offset);
	}
	int handled = (int)b->n;
	metrics_observe(metrics_series0(a->m_batch), (double)handled);
	if (b->sent_us)
		log_debug("applied %d records (%zu stock rows) in %lld ms", handled, b->nrows,
			  (long long)(event_monotonic_us() - b->sent_us) / 1000);
	b->sent_us = 0;
	stock_apply_release(b);
	return handled;
}

/* A failed try; sqlstate says whether PostgreSQL refused the data (counted towards isolating it). */
static void stock_apply_failed(struct stock_apply *a, struct stock_apply_batch *b, const char *err,
			       const char *sqlstate)
{
	metrics_inc(metrics_series0(a->m_failed));
	b->refused = pg_sqlstate_refused(sqlstate) ? b->refused + 1 : 0;
	log_error("applying %zu records failed, will retry%s: %s", b->nclaims,
		  b->refused >= STOCK_APPLY_REFUSALS ? " one record at a time" : "", err);
}

/* The lanes that hold records of b. */
static unsigned stock_apply_lanes_used(const struct stock_apply *a, const struct stock_apply_batch *b)
{
	unsigned used = 0;
	for (size_t k = 0; k < a->nlanes; k++)
		if (b->lane_at[k + 1] > b->lane_at[k])
			used |= 1u << k;
	return used;
}

/* Reads the outcome of lane k of b (sent), waiting for it; notes it committed or failed. */
static bool stock_apply_lane_finish(struct stock_apply *a, struct stock_apply_batch *b, size_t k)
{
	char err[512] = "";
	b->lanes_sent &= ~(1u << k);
	if (stock_db_batch_finish(a->db[k], b->stmt[k], err, sizeof err)) {
		b->lanes_done |= 1u << k;
		return true;
	}
	stock_apply_failed(a, b, err, stock_db_batch_sqlstate(b->stmt[k]));
	return false;
}

/* Reads the outcome of every lane of b still sent. */
static void stock_apply_settle(struct stock_apply *a, struct stock_apply_batch *b)
{
	for (size_t k = 0; k < a->nlanes; k++)
		if (b->lanes_sent & (1u << k))
			(void)stock_apply_lane_finish(a, b, k);
}

/* Waits (up to 50 ms) until one of the lanes in mask has something to read. */
static void stock_apply_lanes_wait(struct stock_apply *a, unsigned mask)
{
	struct pollfd pfd[STOCK_APPLY_LANES_MAX];
	nfds_t n = 0;
	for (size_t k = 0; k < a->nlanes; k++) {
		int fd = (mask & (1u << k)) ? PQsocket(pg_conn(a->db[k])) : -1;
		if (fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	if (n)
		(void)poll(pfd, n, 50);
}

/* Reads the lanes of the batch in flight as each answers, and a lane that committed takes its part
 * of the next batch at once when that is ready, instead of idling until the slowest lane of this
 * one has answered too (in a catch-up, a fifth of the lanes' sampled time). The next batch's
 * offsets are still stored after this one's: a batch lands when all of its lanes have committed,
 * in order. A lane of the next batch goes only on a connection whose lane of this one committed,
 * so a lane of this one that failed goes again on a free connection. */
static void stock_apply_overlap(struct stock_apply *a)
{
	char err[512];
	struct stock_apply_batch *f = a->flight, *n = a->next;
	unsigned todo = n->built && n->stock_only && n->nclaims && n->refused < STOCK_APPLY_REFUSALS && !a->redo
				? stock_apply_lanes_used(a, n) & ~n->lanes_done & ~n->lanes_sent
				: 0;
	while (f->lanes_sent) {
		unsigned busy = 0;
		for (size_t k = 0; k < a->nlanes; k++) {
			unsigned bit = 1u << k;
			if (!(f->lanes_sent & bit))
				continue;
			if (stock_db_batch_busy(a->db[k])) {
				busy |= bit;
				continue;
			}
			if (!stock_apply_lane_finish(a, f, k))
				todo = 0; /* this batch goes again before anything of the next */
			if (!(todo & bit))
				continue;
			todo &= ~bit;
			if (!n->sent_us)
				n->sent_us = event_monotonic_us();
			if (stock_db_batch_send(a->db[k], n->stmt[k], err, sizeof err))
				n->lanes_sent |= bit;
			else
				stock_apply_failed(a, n, err, NULL); /* sent again with the rest */
		}
		if (busy && busy == f->lanes_sent) {
			if (shutdown_work_left_ms() > 0) {
				stock_apply_lanes_wait(a, busy);
				continue;
			}
			/* stopping, and the time for waits is over (shutdown.h): the lanes that have not
			 * answered are given up (their outcome unknown: the batch is redelivered later) */
			for (size_t k = 0; k < a->nlanes; k++)
				if (busy & (1u << k))
					(void)stock_apply_lane_finish(a, f, k);
		}
	}
}

/* Reads the outcome of every lane of the batch in flight; a batch with a lane that failed (or
 * could not be sent) is kept to go again, its committed lanes noted. */
static int stock_apply_land(struct stock_apply *a)
{
	struct stock_apply_batch *b = a->flight;
	a->flight = NULL;
	stock_apply_settle(a, b);
	if (b->lanes_done != stock_apply_lanes_used(a, b)) {
		a->redo = b;
		return -1;
	}
	return stock_apply_done(a, b);
}

/* Applies b: a batch of stock records is sent and left in flight (landed at once unless may_fly),
 * any other in a transaction of its own now. 0 when in flight, else the records handled; -1 when
 * it failed (b is kept as it is). */
static int stock_apply_batch(struct stock_apply *a, struct stock_apply_batch *b, bool may_fly)
{
	char err[512];
	if (b->refused >= STOCK_APPLY_REFUSALS) {
		b->sent_us = 0;
		return stock_apply_dlq_isolate(a, b) ? stock_apply_done(a, b) : -1;
	}
	if (!stock_apply_ready(a, b))
		return -1;
	if (!b->nclaims)
		return stock_apply_done(a, b);
	if (!b->sent_us)
		b->sent_us = event_monotonic_us();
	if (b->stock_only) {
		/* every lane not committed nor sent yet (stock_apply_overlap may have sent some); one
		 * that cannot be sent counts as failed when landing */
		unsigned todo = stock_apply_lanes_used(a, b) & ~b->lanes_done & ~b->lanes_sent;
		for (size_t k = 0; k < a->nlanes; k++) {
			if (!(todo & (1u << k)))
				continue;
			if (stock_db_batch_send(a->db[k], b->stmt[k], err, sizeof err))
				b->lanes_sent |= 1u << k;
			else
				stock_apply_failed(a, b, err, NULL);
		}
		a->flight = b;
		return may_fly && b->lanes_sent ? 0 : stock_apply_land(a);
	}
	if (!stock_apply_tx(a, b, err, sizeof err)) {
		stock_apply_failed(a, b, err, pg_last_sqlstate(a->db[0]));
		return -1;
	}
	return stock_apply_done(a, b);
}

/* Whether every lane of the batch in flight is still working. */
static bool stock_apply_flying(const struct stock_apply *a)
{
	for (size_t k = 0; k < a->nlanes; k++)
		if ((a->flight->lanes_sent & (1u << k)) && !stock_db_batch_busy(a->db[k]))
			return false;
	return a->flight->lanes_sent != 0;
}

static struct stock_apply_batch *stock_apply_other(struct stock_apply *a, const struct stock_apply_batch *b)
{
	return b == &a->slot[0] ? &a->slot[1] : &a->slot[0];
}

int stock_apply_run_once(struct stock_apply *a, int wait_ms)
{
	int handled = 0, r;
	if (a->flight) {
		/* The database works on one batch: take the next and make it ready meanwhile. What the
		 * consumer holds at this moment may be a fraction of a batch (its queue refills a fetch
		 * at a time), and a batch of 1,500 records stores and marks nearly as many SKUs as one
		 * of 6,000: so while the lanes work, the next batch keeps taking what arrives. */
		stock_apply_gather(a, a->next, 0, 0);
		while (!a->next->built && a->next->n < a->batch_max && stock_apply_flying(a) && !shutdown_requested())
			stock_apply_gather(a, a->next, STOCK_APPLY_TOPUP_MS, STOCK_APPLY_TOPUP_MS);
		if (a->next->n)
			(void)stock_apply_ready(a, a->next); /* on failure: tried again below */
		stock_apply_overlap(a);
		if ((r = stock_apply_land(a)) < 0)
			return -1;
		handled += r;
	}
	if (a->redo) {
		/* a batch that failed goes again, alone, before anything later: the next batch's lanes
		 * already sent are read first, so that every connection is free for it */
		struct stock_apply_batch *b = a->redo;
		a->redo = NULL;
		stock_apply_settle(a, a->next);
		if ((r = stock_apply_batch(a, b, false)) < 0) {
			a->redo = b;
			return -1;
		}
		handled += r;
	}
	struct stock_apply_batch *b = a->next;
	if (!b->built)
		stock_apply_gather(a, b, handled || b->n ? 0 : wait_ms, STOCK_APPLY_GATHER_MS);
	if (b->n == 0)
		return handled;
	if ((r = stock_apply_batch(a, b, true)) < 0) {
		/* tried again by the next call: as next, or as redo when a lane of it failed */
		if (a->redo == b)
			a->next = stock_apply_other(a, b);
		return -1;
	}
	if (a->flight == b)
		a->next = stock_apply_other(a, b);
	handled += r;
	if (!a->flight && event_monotonic_us() - a->gauges_at_us > 1000000) {
		a->gauges_at_us = event_monotonic_us();
		stock_orders_gauges(a->db[0]);
	}
	return handled;
}

void stock_apply_free(struct stock_apply *a)
{
	if (!a)
		return;
	/* the batch in flight commits or not; its offsets are stored if it did, and then the next
	 * batch's if all of its lanes had been sent and committed */
	if (a->flight)
		(void)stock_apply_land(a);
	if (a->next && a->next->lanes_sent) {
		stock_apply_settle(a, a->next);
		if (!a->redo && a->next->lanes_done == stock_apply_lanes_used(a, a->next))
			(void)stock_apply_done(a, a->next);
	}
	for (int i = 0; i < 2; i++) {
		stock_apply_release(&a->slot[i]);
		free(a->slot[i].items);
		free(a->slot[i].claims);
		free(a->slot[i].rows);
		buf_cleanup(&a->slot[i].arena);
		for (size_t k = 0; k < STOCK_APPLY_LANES_MAX; k++)
			stock_db_batch_free(a->slot[i].stmt[k]);
	}
	for (size_t k = 1; k < a->nlanes; k++)
		pg_free(a->db[k]);
	metrics_deferred_free(&a->counted);
	free(a);
}
