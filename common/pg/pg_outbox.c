/* pg_outbox — the outbox half of pg.h: pg_outbox_add queues a message inside the caller's
 * transaction, pg_outbox_relay produces queued rows and deletes those the broker acknowledged. */
#include "pg.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pg_array.h"
#include "shutdown.h"

#define OUTBOX_FLUSH_TIMEOUT_MS 10000
#define OUTBOX_ACK_MAGIC        0x0b0c5e4du

/* Result columns of the relay's SELECT. */
enum { COL_ID, COL_TOPIC, COL_KEY, COL_VALUE, COL_EVENT_ID, COL_TRACEPARENT, COL_SOURCE_TIME, COL_MESSAGE_TYPE };

enum outbox_state { OUTBOX_PENDING, OUTBOX_ACKED, OUTBOX_FAILED };

struct outbox_batch;

/* One per produced row; its address is the message's opaque. */
struct outbox_ack {
	uint32_t magic;
	bool refused; /* kafka_produce said no; only the relay thread touches this */
	struct outbox_batch *batch;
	atomic_int state; /* enum outbox_state */
	atomic_int err;   /* rd_kafka_resp_err_t */
};

/* Shared by one relay call and its messages in flight, and freed by whichever lets go last: a
 * delivery report that comes after the relay stopped waiting still writes to live memory. */
struct outbox_batch {
	atomic_int refs;
	int n;
	struct outbox_ack acks[];
};

struct outbox_tally {
	int acked, failed, pending;
	int first_bad; /* row of the first failed one, -1 none */
	rd_kafka_resp_err_t first_err;
};

struct outbox_metrics {
	struct metric_series *relayed, *errors, *pending;
};

/* How long to wait for acknowledgements: 10 s, less when a stop leaves less (shutdown.h). */
static int outbox_flush_ms(void)
{
	long left = shutdown_work_left_ms();
	return left < OUTBOX_FLUSH_TIMEOUT_MS ? (int)left : OUTBOX_FLUSH_TIMEOUT_MS;
}

static int64_t outbox_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool pg_outbox_add(struct pg *db, const struct outbox_msg *m, char *err, size_t errlen)
{
	if (!m || !m->topic || !*m->topic || !m->event_id || !*m->event_id || (!m->value && m->value_len) ||
	    (!m->key && m->key_len)) {
		err_set(err, errlen, "%s", "pg_outbox_add: topic, event id and value are required");
		return false;
	}
	if (m->key_len > INT_MAX || m->value_len > INT_MAX) {
		err_set(err, errlen, "%s", "pg_outbox_add: key or value too large");
		return false;
	}
	if (!pg_in_transaction(db)) {
		err_set(err, errlen, "%s", "pg_outbox_add: not inside a transaction");
		return false;
	}
	char srctime[24];
	snprintf(srctime, sizeof srctime, "%lld", (long long)(m->source_time_us ? m->source_time_us : outbox_now_us()));
	const char *values[7] = { m->topic,       m->key,  m->value ? m->value : "", m->event_id,
				  m->traceparent, srctime, m->message_type };
	const int lengths[7] = { 0, (int)m->key_len, (int)m->value_len, 0, 0, 0, 0 };
	const int formats[7] = { 0, 1, 1, 0, 0, 0, 0 };
	PGresult *res = pg_query_prepared(
		db, "pg_outbox_add",
		"INSERT INTO outbox (topic, key, value, event_id, traceparent, source_time_us,"
		" message_type) VALUES ($1, $2::bytea, $3::bytea, $4, $5, $6::bigint, $7)",
		7, values, lengths, formats, 0, err, errlen);
	PQclear(res);
	return res != NULL;
}

/* ---- relay ---- */

static struct metric_series *outbox_series(struct metric_family *f)
{
	return f ? metrics_series0(f) : NULL;
}

/* Looked up per call rather than cached, so no handle outlives a metrics_reset. */
static void outbox_metrics_get(struct outbox_metrics *om)
{
	om->relayed = outbox_series(metrics_counter("erpsync_outbox_relayed_total",
						    "Outbox rows produced, acknowledged by Kafka and deleted.", NULL));
	om->errors = outbox_series(metrics_counter("erpsync_outbox_relay_errors_total",
						   "Outbox rows not acknowledged, plus relay runs that failed in "
						   "PostgreSQL or waited for the producer.",
						   NULL));
	om->pending = outbox_series(metrics_gauge("erpsync_outbox_pending",
						  "Outbox rows waiting to be relayed after the last relay run.", NULL));
}

static void outbox_metric_add(struct metric_series *s, int v)
{
	if (s && v > 0)
		metrics_add(s, (double)v);
}

static void outbox_batch_unref(struct outbox_batch *b)
{
	if (atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

static struct outbox_batch *outbox_batch_new(int n)
{
	struct outbox_batch *b = malloc(sizeof *b + (size_t)n * sizeof b->acks[0]);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1); /* the relay call's own */
	b->n = n;
	for (int i = 0; i < n; i++) {
		b->acks[i].magic = OUTBOX_ACK_MAGIC;
		b->acks[i].refused = false;
		b->acks[i].batch = b;
		atomic_init(&b->acks[i].state, OUTBOX_PENDING);
		atomic_init(&b->acks[i].err, RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	return b;
}

static void outbox_on_delivery(void *opaque, rd_kafka_resp_err_t kerr, void *ud)
{
	(void)ud;
	struct outbox_ack *a = opaque;
	if (a->magic != OUTBOX_ACK_MAGIC)
		return; /* not ours: see "The relay owns p's delivery callback" in pg.h */
	atomic_store_explicit(&a->err, kerr, memory_order_relaxed);
	atomic_store_explicit(&a->state, kerr ? OUTBOX_FAILED : OUTBOX_ACKED, memory_order_release);
	outbox_batch_unref(a->batch);
}

static int64_t outbox_int8(const PGresult *rows, int r, int c)
{
	if (PQgetisnull(rows, r, c))
		return 0;
	const unsigned char *p = (const unsigned char *)PQgetvalue(rows, r, c);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static const char *outbox_text(const PGresult *rows, int r, int c)
{
	return PQgetisnull(rows, r, c) ? NULL : PQgetvalue(rows, r, c);
}

static bool outbox_tombstone(const PGresult *rows, int r)
{
	const char *t = outbox_text(rows, r, COL_MESSAGE_TYPE);
	return t && strcmp(t, OUTBOX_TOMBSTONE) == 0;
}

/* The result is binary (bytea as raw bytes, bigint as 8 bytes big-endian): check the shape once. */
static bool outbox_rows_valid(const PGresult *rows)
{
	if (PQnfields(rows) != COL_MESSAGE_TYPE + 1)
		return false;
	for (int r = 0; r < PQntuples(rows); r++) {
		if (PQgetisnull(rows, r, COL_ID) || PQgetlength(rows, r, COL_ID) != 8 ||
		    PQgetisnull(rows, r, COL_TOPIC) || PQgetisnull(rows, r, COL_VALUE) ||
		    PQgetisnull(rows, r, COL_EVENT_ID) ||
		    (!PQgetisnull(rows, r, COL_SOURCE_TIME) && PQgetlength(rows, r, COL_SOURCE_TIME) != 8))
			return false;
	}
	return true;
}

/* Whether row r must wait because an earlier row of its topic and key was refused: sending it
 * would overtake that row. Rows without a key have no order to keep. */
static bool outbox_held(const PGresult *rows, const struct outbox_batch *b, int r)
{
	if (PQgetisnull(rows, r, COL_KEY))
		return false;
	int len = PQgetlength(rows, r, COL_KEY);
	for (int q = 0; q < r; q++) {
		if (b->acks[q].refused && !PQgetisnull(rows, q, COL_KEY) && PQgetlength(rows, q, COL_KEY) == len &&
		    memcmp(PQgetvalue(rows, q, COL_KEY), PQgetvalue(rows, r, COL_KEY), (size_t)len) == 0 &&
		    strcmp(PQgetvalue(rows, q, COL_TOPIC), PQgetvalue(rows, r, COL_TOPIC)) == 0)
			return true;
	}
	return false;
}

/* Hands rows to the producer in id order. A row it refuses (too large, say: that will not change)
 * stays in the outbox, and so do the later rows of its key, while other keys go on: one poison
 * row blocks its own key, not the whole outbox. kerr keeps the first refusal. */
static void outbox_produce(struct kafka_producer *p, const PGresult *rows, struct outbox_batch *b, char *kerr,
			   size_t kerrlen)
{
	char why[256];
	for (int r = 0; r < b->n; r++) {
		if (outbox_held(rows, b, r)) {
			b->acks[r].refused = true; /* so that its successors wait too; stays PENDING */
			continue;
		}
		struct kafka_out m = {
			.topic = outbox_text(rows, r, COL_TOPIC),
			.key = outbox_text(rows, r, COL_KEY),
			.key_len = (size_t)PQgetlength(rows, r, COL_KEY),
			/* a tombstone of a compacted topic: no value at all (NULL), not an empty one */
			.value = outbox_tombstone(rows, r) ? NULL : PQgetvalue(rows, r, COL_VALUE),
			.value_len = outbox_tombstone(rows, r) ? 0 : (size_t)PQgetlength(rows, r, COL_VALUE),
			.event_id = outbox_text(rows, r, COL_EVENT_ID),
			.traceparent = outbox_text(rows, r, COL_TRACEPARENT),
			.source_time_us = outbox_int8(rows, r, COL_SOURCE_TIME),
			.message_type = outbox_text(rows, r, COL_MESSAGE_TYPE),
			.opaque = &b->acks[r],
		};
		atomic_fetch_add(&b->refs, 1); /* the message's, dropped by its delivery report */
		if (!kafka_produce(p, &m, why, sizeof why)) {
			/* Not queued, so no report will come (the relay's own reference keeps b alive). */
			atomic_fetch_sub(&b->refs, 1);
			b->acks[r].refused = true;
			atomic_store(&b->acks[r].state, OUTBOX_FAILED);
			if (!*kerr)
				snprintf(kerr, kerrlen, "%s", why);
		}
	}
}

static bool outbox_same_key(const struct outbox_row_state *a, const struct outbox_row_state *b)
{
	return a->key && b->key && a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0 &&
	       strcmp(a->topic, b->topic) == 0;
}

/* An acknowledged row leaves the outbox unless an earlier row of its topic and key in the same run
 * did not get through: that one is produced again on a later run, and so must this one be, after
 * it, or the older record would be the key's last (the value a compacted topic keeps). The
 * duplicate is absorbed by the consumers' inbox. */
int pg_outbox_settle(const struct outbox_row_state *rows, int n, bool *remove)
{
	int k = 0, bad = 0;
	for (int r = 0; r < n; r++)
		bad += !rows[r].acked;
	for (int r = 0; r < n; r++) {
		remove[r] = rows[r].acked;
		for (int q = 0; bad && remove[r] && q < r; q++)
			if (!rows[q].acked && outbox_same_key(&rows[q], &rows[r]))
				remove[r] = false;
		k += remove[r];
	}
	return k;
}

/* Tallies the reports and lists the ids that leave the outbox (pg_outbox_settle). */
static bool outbox_collect(const PGresult *rows, const struct outbox_batch *b, struct pg_array *ids,
			   struct outbox_tally *t)
{
	*t = (struct outbox_tally){ .first_bad = -1 };
	struct outbox_row_state *st = malloc((size_t)(b->n ? b->n : 1) * sizeof *st);
	bool *remove = malloc((size_t)(b->n ? b->n : 1) * sizeof *remove);
	bool ok = st && remove;
	for (int r = 0; ok && r < b->n; r++)
		st[r] = (struct outbox_row_state){
			.topic = PQgetvalue(rows, r, COL_TOPIC),
			.key = PQgetisnull(rows, r, COL_KEY) ? NULL : PQgetvalue(rows, r, COL_KEY),
			.key_len = (size_t)PQgetlength(rows, r, COL_KEY),
			.acked = atomic_load_explicit(&b->acks[r].state, memory_order_acquire) == OUTBOX_ACKED,
		};
	if (ok)
		(void)pg_outbox_settle(st, b->n, remove);
	for (int r = 0; ok && r < b->n; r++) {
		int state = atomic_load_explicit(&b->acks[r].state, memory_order_acquire);
		if (remove[r]) {
			ok = pg_array_int(ids, outbox_int8(rows, r, COL_ID));
			t->acked++;
			continue;
		}
		if (state == OUTBOX_FAILED)
			t->failed++;
		else
			t->pending++;
		if (t->first_bad < 0) {
			t->first_bad = r;
			t->first_err = (rd_kafka_resp_err_t)atomic_load_explicit(&b->acks[r].err, memory_order_relaxed);
		}
	}
	free(st);
	free(remove);
	return ok;
}

/* Produces the selected rows, waits for the reports and deletes what was acknowledged, inside the
 * relay's transaction. false only when PostgreSQL (or memory) failed. */
static bool outbox_relay_rows(struct pg *db, struct kafka_producer *p, const PGresult *rows, struct outbox_tally *t,
			      char *kerr, size_t kerrlen, char *err, size_t errlen)
{
	struct outbox_batch *b = outbox_batch_new(PQntuples(rows));
	struct pg_array ids;
	pg_array_init(&ids);
	bool ok = false;
	if (!b) {
		err_set(err, errlen, "%s", "outbox relay: out of memory");
		goto out;
	}
	kafka_producer_on_delivery(p, outbox_on_delivery, NULL);
	outbox_produce(p, rows, b, kerr, kerrlen);
	int wait_ms = outbox_flush_ms();
	if (!kafka_producer_flush(p, wait_ms))
		snprintf(kerr + strlen(kerr), kerrlen - strlen(kerr), "%snot all acknowledged within %d ms",
			 *kerr ? "; " : "", wait_ms);
	if (!outbox_collect(rows, b, &ids, t)) {
		err_set(err, errlen, "%s", "outbox relay: out of memory");
		goto out;
	}
	const char *params[1] = { pg_array_get(&ids) };
	if (!params[0]) {
		err_set(err, errlen, "%s", "outbox relay: out of memory");
		goto out;
	}
	ok = true;
	if (t->acked > 0) {
		PGresult *res = pg_query_prepared(db, "pg_outbox_delete",
						  "DELETE FROM outbox WHERE id = ANY($1::bigint[])", 1, params, NULL,
						  NULL, 0, err, errlen);
		ok = res != NULL;
		PQclear(res);
	}
out:
	if (b)
		outbox_batch_unref(b);
	pg_array_cleanup(&ids);
	return ok;
}

/* Rows left after the run: counted only when the batch was full, else what this run left over. */
static void outbox_pending_update(struct pg *db, const struct outbox_metrics *om, int n, int max, int acked)
{
	if (!om->pending)
		return;
	if (n < max) {
		metrics_set(om->pending, (double)(n - acked));
		return;
	}
	char why[256];
	PGresult *res = pg_query(db, "SELECT count(*) FROM outbox", 0, NULL, why, sizeof why);
	if (res && PQntuples(res) == 1)
		metrics_set(om->pending, strtod(PQgetvalue(res, 0, 0), NULL));
	PQclear(res);
}

/* After a run that timed out, its messages are still in the producer's queue, retried by
 * librdkafka, and their rows are still in the outbox. Producing those rows again on every run
 * while the broker is away would queue one more copy of each per run; wait for the earlier ones
 * instead (their rows go out once more afterwards: one duplicate, not one per run). */
static bool outbox_producer_drained(struct kafka_producer *p, char *err, size_t errlen)
{
	rd_kafka_t *rk = kafka_producer_handle(p);
	int wait_ms = outbox_flush_ms();
	if (!rk || rd_kafka_outq_len(rk) == 0 || kafka_producer_flush(p, wait_ms))
		return true;
	if (err && errlen)
		snprintf(err, errlen,
			 "outbox relay: %d messages of an earlier run still undelivered after %d ms; "
			 "not producing more",
			 rd_kafka_outq_len(rk), wait_ms);
	return false;
}

int pg_outbox_relay(struct pg *db, struct kafka_producer *p, int max, char *err, size_t errlen)
{
	struct outbox_metrics om;
	outbox_metrics_get(&om);
	if (!db || !p || max < 1 || pg_in_transaction(db)) {
		err_set(err, errlen, "%s",
			pg_in_transaction(db) ? "pg_outbox_relay: inside a transaction"
					      : "pg_outbox_relay: needs a database, a producer and max >= 1");
		return -1;
	}
	/* One relay at a time among the instances of a service: two would take turns on the rows and
	 * could put a key's records out of order. The lock goes with the session; until another
	 * instance's session lets go, this one relays nothing. */
	char lock[96];
	bool taken;
	snprintf(lock, sizeof lock, "erpsync:outbox-relay:%s", pg_schema(db));
	if (!pg_session_lock(db, lock, &taken))
		return 0;
	if (taken)
		log_info("outbox relay: this instance relays the outbox of schema %s", pg_schema(db));
	if (!outbox_producer_drained(p, err, errlen)) {
		outbox_metric_add(om.errors, 1);
		return -1;
	}
	char limit[16], kerr[512] = "";
	snprintf(limit, sizeof limit, "%d", max);
	const char *params[1] = { limit };
	struct outbox_tally t = { .first_bad = -1 };
	PGresult *rows = NULL;
	int n = 0;
	if (!pg_begin(db, err, errlen))
		goto fail;
	rows = pg_query_prepared(db, "pg_outbox_relay",
				 "SELECT id, topic, key, value, event_id, traceparent, source_time_us, message_type"
				 " FROM outbox ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED",
				 1, params, NULL, NULL, 1, err, errlen);
	if (!rows)
		goto fail;
	if (!outbox_rows_valid(rows)) {
		err_set(err, errlen, "%s", "outbox relay: unexpected row shape (is outbox migrated?)");
		goto fail;
	}
	if (!pg_session_lock(db, lock, &taken)) {
		/* the session was replaced since (a reconnect at BEGIN): it may not hold the lock */
		pg_rollback(db);
		PQclear(rows);
		return 0;
	}
	n = PQntuples(rows);
	if (n > 0 && !outbox_relay_rows(db, p, rows, &t, kerr, sizeof kerr, err, errlen))
		goto fail;
	if (!pg_commit(db, err, errlen))
		goto fail; /* acknowledged rows stay and go out again: duplicates, never a loss */

	outbox_metric_add(om.relayed, t.acked);
	outbox_metric_add(om.errors, t.failed + t.pending);
	outbox_pending_update(db, &om, n, max, t.acked);
	if (t.first_bad >= 0 && err && errlen) {
		int r = t.first_bad;
		snprintf(err, errlen,
			 "outbox relay: %d of %d acknowledged, %d failed, %d unacknowledged; first: topic %s "
			 "event %s: %s",
			 t.acked, n, t.failed, t.pending, PQgetvalue(rows, r, COL_TOPIC),
			 PQgetvalue(rows, r, COL_EVENT_ID), t.first_err ? rd_kafka_err2str(t.first_err) : kerr);
	}
	PQclear(rows);
	return t.first_bad >= 0 ? -1 : t.acked;
fail:
	pg_rollback(db);
	PQclear(rows);
	outbox_metric_add(om.errors, 1);
	return -1;
}
