#include "order_intake.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "hash.h"
#include "log.h"
#include "order_event.h"
#include "order_map.h"
#include "pg.h"
#include "shop_order.h"

#define ORDER_INTAKE_TRIES 3 /* a transaction two writers raced on (the same new order) is tried again */

/* The order's row, locked; *found false when there is none. */
struct order_row {
	bool found;
	int64_t modified_us;
	int64_t version;
	char status[64];
	char payment_hash[32];
	char content_hash[32];
	bool deleted;
};

/* The row's columns as both statements below return them, after the delivery's flag. */
#define ORDER_INTAKE_ROW_COLS "modified_us, version, status, coalesce(payment_hash, ''), deleted, content_hash"

/* Records the delivery id and, when it is new, locks and reads the order's row: one round trip.
 * The lock's CTE waits for the delivery's insert (its EXISTS is an init plan, evaluated before
 * the scan), so a delivery seen before locks nothing, as two statements did. */
static const char order_intake_claim_sql[] =
	"WITH d AS (INSERT INTO delivery (shop_id, delivery_id) VALUES ($1, $3) ON CONFLICT DO NOTHING"
	" RETURNING 1),"
	" o AS (SELECT " ORDER_INTAKE_ROW_COLS " FROM orders"
	" WHERE shop_id = $1 AND external_id = $2 AND EXISTS (SELECT FROM d) FOR UPDATE)"
	" SELECT EXISTS (SELECT FROM d), o.* FROM (SELECT) AS one LEFT JOIN o ON true";
static const char order_intake_lock_sql[] = "SELECT true, " ORDER_INTAKE_ROW_COLS " FROM orders"
					    " WHERE shop_id = $1 AND external_id = $2 FOR UPDATE";

/* *fresh: the delivery id was not seen before (always, without one); then *row is the order's row,
 * locked (row->found false when there is none). */
static bool order_intake_claim(struct pg *db, const char *shop_id, const char *external_id, const char *delivery_id,
			       bool *fresh, struct order_row *row, char *err, size_t errlen)
{
	const char *p[] = { shop_id, external_id, delivery_id };
	PGresult *r = delivery_id ? pg_query_prepared(db, "order_intake_claim", order_intake_claim_sql, 3, p, NULL,
						      NULL, 0, err, errlen)
				  : pg_query_prepared(db, "order_intake_lock", order_intake_lock_sql, 2, p, NULL, NULL,
						      0, err, errlen);
	if (!r)
		return false;
	memset(row, 0, sizeof *row);
	*fresh = !delivery_id || (PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't');
	if (*fresh && PQntuples(r) == 1 && !PQgetisnull(r, 0, 1)) {
		row->found = true;
		row->modified_us = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		row->version = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		snprintf(row->status, sizeof row->status, "%s", PQgetvalue(r, 0, 3));
		snprintf(row->payment_hash, sizeof row->payment_hash, "%s", PQgetvalue(r, 0, 4));
		row->deleted = PQgetvalue(r, 0, 5)[0] == 't';
		snprintf(row->content_hash, sizeof row->content_hash, "%s", PQgetvalue(r, 0, 6));
	}
	PQclear(r);
	return true;
}

static bool order_intake_delivery(struct pg *db, const char *shop_id, const char *delivery_id, bool *fresh, char *err,
				  size_t errlen)
{
	const char *p[] = { shop_id, delivery_id };
	PGresult *r = pg_query_prepared(
		db, "order_intake_delivery",
		"INSERT INTO delivery (shop_id, delivery_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, p, NULL, NULL,
		0, err, errlen);
	if (!r)
		return false;
	*fresh = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	return true;
}

/* Stores the order's row and queues its event; payment_hash "" = no payment. */
static bool order_intake_store(struct pg *db, const struct order_topics *t, const struct order_intake_in *in,
			       Erpsync__V1__OrderEvent *ev, const struct order_row *row, const char *hold,
			       const char *payment_hash, const char *hash, char *err, size_t errlen)
{
	Erpsync__V1__Order *o = ev->order;
	size_t len = erpsync__v1__order__get_packed_size(o);
	uint8_t *snap = malloc(len ? len : 1);
	if (!snap) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	erpsync__v1__order__pack(o, snap);
	char modified[24], version[24], first[24];
	snprintf(modified, sizeof modified, "%" PRId64, o->updated_at);
	snprintf(version, sizeof version, "%" PRIu64, o->version);
	snprintf(first, sizeof first, "%" PRId64, event_now_us());
	const char *p[] = { o->shop_id, o->external_id,          modified,           hash,
			    version,    o->source_status,        (const char *)snap, first,
			    hold,       in->deleted ? "t" : "f", payment_hash };
	const int lens[] = { 0, 0, 0, 0, 0, 0, (int)len, 0, 0, 0, 0 };
	const int fmts[] = { 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
	PGresult *r = pg_query_prepared(
		db, row->found ? "order_intake_update" : "order_intake_insert",
		row->found ? "UPDATE orders SET modified_us = $3, content_hash = $4, version = $5, status = $6,"
			     " snapshot = $7, first_seen_us = least(first_seen_us, $8::bigint), hold_reason = $9,"
			     " deleted = $10, payment_hash = nullif($11, ''),"
			     " updated_at = now() WHERE shop_id = $1 AND external_id = $2"
			   : "INSERT INTO orders (shop_id, external_id, modified_us, content_hash, version, status,"
			     " snapshot, first_seen_us, hold_reason, deleted, payment_hash)"
			     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''))",
		11, p, lens, fmts, 0, err, errlen);
	free(snap);
	if (!r)
		return false;
	PQclear(r);
	return order_event_queue_order(db, t->shop_orders, ev, err, errlen);
}

/* Queues the order's Payment when it differs from the one published last. */
static bool order_intake_payment(struct pg *db, const struct order_topics *t, const struct order_intake_in *in,
				 const Erpsync__V1__Order *o, const Erpsync__V1__EventMeta *cause, char *hash_out,
				 size_t hash_len, const char *old_hash, char *err, size_t errlen)
{
	int64_t refunded = 0;
	for (size_t i = 0; i < in->order->n_refunds; i++)
		refunded += in->order->refunds[i].amount_minor;
	Erpsync__V1__Payment pay;
	Erpsync__V1__Money amount, back;
	hash_out[0] = '\0';
	if (!order_map_payment(NULL, o, in->order->transaction_id, refunded, &pay, &amount, &back))
		return true;
	size_t len = erpsync__v1__payment__get_packed_size(&pay);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	erpsync__v1__payment__pack(&pay, buf);
	snprintf(hash_out, hash_len, "%016" PRIx64, hash_fnv1a64(buf, len));
	free(buf);
	if (strcmp(hash_out, old_hash) == 0)
		return true;
	const char *p[] = { pay.shop_id, pay.order_external_id, pay.payment_id, hash_out };
	PGresult *r = pg_query_prepared(
		db, "order_intake_payment",
		"INSERT INTO payment (shop_id, external_id, payment_id, state_hash, version)"
		" VALUES ($1, $2, $3, $4, 1) ON CONFLICT (shop_id, external_id, payment_id) DO UPDATE"
		" SET state_hash = EXCLUDED.state_hash, version = payment.version + 1, updated_at = now()"
		" RETURNING version",
		4, p, NULL, NULL, 0, err, errlen);
	if (!r)
		return false;
	pay.version = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	pg_pipeline_defer(db); /* the payment's outbox row goes out with the COMMIT */
	struct order_event_ids ids;
	Erpsync__V1__EventMeta meta;
	char source[96];
	snprintf(source, sizeof source, "shop:%s", pay.shop_id);
	order_event_meta(&meta, &ids, cause->traceparent, o->paid_at > 0 ? o->paid_at : o->updated_at, source,
			 cause->origin, cause->event_id);
	pay.meta = &meta;
	return order_event_queue_payment(db, t->payments, &pay, err, errlen);
}

/* What the order says, without its version: equal for the same content. */
static bool order_intake_hash(Erpsync__V1__Order *o, char *out, size_t len)
{
	uint64_t version = o->version;
	o->version = 0;
	size_t n = erpsync__v1__order__get_packed_size(o);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf) {
		erpsync__v1__order__pack(o, buf);
		snprintf(out, len, "%016" PRIx64, hash_fnv1a64(buf, n));
	}
	free(buf);
	o->version = version;
	return buf != NULL;
}

static enum order_intake_result order_intake_once(struct pg *db, const struct order_topics *t,
						  const struct order_intake_in *in, struct order_msg *m,
						  const char *hold, char *err, size_t errlen)
{
	if (!pg_begin_pipeline(db, err, errlen))
		return ORDER_INTAKE_FAILED;
	bool fresh;
	struct order_row row;
	if (!order_intake_claim(db, in->shop_id, in->order->external_id, in->delivery_id, &fresh, &row, err, errlen))
		goto failed;
	Erpsync__V1__Order *o = &m->order;
	/* not newer than what is kept: a late one (older modification time), or a repeat (the same
	 * time and the same content: WooCommerce's times are whole seconds, so two changes within one
	 * second differ only by their content) */
	char hash[32];
	if (!order_intake_hash(o, hash, sizeof hash)) {
		snprintf(err, errlen, "out of memory");
		goto failed;
	}
	bool stale = row.found && !in->force && !in->deleted &&
		     (o->updated_at < row.modified_us ||
		      (o->updated_at == row.modified_us && strcmp(hash, row.content_hash) == 0));
	if (!fresh || stale || (row.found && row.deleted)) {
		if (!pg_commit(db, err, errlen))
			return ORDER_INTAKE_FAILED;
		return ORDER_INTAKE_DUPLICATE;
	}
	o->version = (uint64_t)row.version + 1;
	Erpsync__V1__OrderEvent ev = ERPSYNC__V1__ORDER_EVENT__INIT;
	Erpsync__V1__OrderStatusChanged sc = ERPSYNC__V1__ORDER_STATUS_CHANGED__INIT;
	Erpsync__V1__EventMeta meta;
	struct order_event_ids ids;
	char source[96];
	snprintf(source, sizeof source, "shop:%s", in->shop_id);
	order_event_meta(&meta, &ids, in->traceparent, o->updated_at, source, in->origin, NULL);
	ev.meta = &meta;
	ev.order = o;
	if (in->deleted) {
		ev.kind = ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_DELETED;
	} else if (!row.found) {
		ev.kind = ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_PLACED;
	} else if (strcmp(row.status, o->source_status) != 0) {
		ev.kind = ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_STATUS_CHANGED;
		sc.old_status = order_map_status(row.status);
		sc.new_status = o->status;
		sc.changed_at = o->updated_at;
		ev.status_change = &sc;
	} else {
		ev.kind = ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_UPDATED;
	}
	char payment_hash[32];
	if (!order_intake_payment(db, t, in, o, &meta, payment_hash, sizeof payment_hash,
				  row.found ? row.payment_hash : "", err, errlen))
		goto failed;
	/* nothing after this reads an answer: the rest goes out with the COMMIT, in one round trip */
	pg_pipeline_defer(db);
	/* refunds not seen before: their lines are read from the shop when the record is consumed */
	for (size_t i = 0; i < in->order->n_refunds; i++) {
		const char *rp[] = { in->shop_id, in->order->external_id, in->order->refunds[i].refund_id };
		PGresult *rr = pg_query_prepared(
			db, "order_intake_refund",
			"INSERT INTO return_case (shop_id, external_id, return_id, kind, status, version,"
			" snapshot) VALUES ($1, $2, $3, 'refund', 'new', 0, '') ON CONFLICT DO NOTHING",
			3, rp, NULL, NULL, 0, err, errlen);
		if (!rr)
			goto failed;
		PQclear(rr);
	}
	if (!order_intake_store(db, t, in, &ev, &row, hold, payment_hash, hash, err, errlen))
		goto failed;
	if (!pg_commit(db, err, errlen))
		return ORDER_INTAKE_FAILED;
	return ORDER_INTAKE_TAKEN;
failed:
	pg_rollback(db);
	return ORDER_INTAKE_FAILED;
}

enum order_intake_result order_intake(struct pg *db, const struct order_topics *t, const struct order_intake_in *in,
				      char *err, size_t errlen)
{
	struct order_msg m;
	if (!order_map_build(&m, in->shop_id, in->order)) {
		order_msg_cleanup(&m);
		snprintf(err, errlen, "out of memory");
		return ORDER_INTAKE_FAILED;
	}
	char why[512] = "";
	const char *hold = shop_order_check_totals(in->order, why, sizeof why) ? NULL : why;
	enum order_intake_result res = ORDER_INTAKE_FAILED;
	for (int i = 0; i < ORDER_INTAKE_TRIES && res == ORDER_INTAKE_FAILED; i++) {
		res = order_intake_once(db, t, in, &m, hold, err, errlen);
		/* two writers took in the same new order at once: the loser finds the row next time */
		if (res == ORDER_INTAKE_FAILED && strcmp(pg_last_sqlstate(db), "23505") != 0 &&
		    strcmp(pg_last_sqlstate(db), "40001") != 0 && strcmp(pg_last_sqlstate(db), "40P01") != 0)
			break;
	}
	order_msg_cleanup(&m);
	return res;
}

enum order_intake_result order_intake_deleted(struct pg *db, const struct order_topics *t, const char *shop_id,
					      const char *external_id, const char *delivery_id, char *err,
					      size_t errlen)
{
	if (!pg_begin(db, err, errlen))
		return ORDER_INTAKE_FAILED;
	bool fresh = true;
	if (delivery_id && !order_intake_delivery(db, shop_id, delivery_id, &fresh, err, errlen))
		goto failed;
	const char *p[] = { shop_id, external_id };
	PGresult *r =
		fresh ? pg_query(db,
				 "UPDATE orders SET deleted = true, version = version + 1, updated_at = now()"
				 " WHERE shop_id = $1 AND external_id = $2 AND NOT deleted RETURNING snapshot, version",
				 2, p, err, errlen)
		      : NULL;
	if (fresh && !r)
		goto failed;
	if (!fresh || PQntuples(r) == 0) {
		PQclear(r);
		return pg_commit(db, err, errlen) ? ORDER_INTAKE_DUPLICATE : ORDER_INTAKE_FAILED;
	}
	size_t n = 0;
	unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
	uint64_t version = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	Erpsync__V1__Order *o = raw ? erpsync__v1__order__unpack(NULL, n, raw) : NULL;
	PQfreemem(raw);
	if (!o) {
		snprintf(err, errlen, "order %s|%s: its kept state does not decode", shop_id, external_id);
		goto failed;
	}
	o->version = version;
	Erpsync__V1__OrderEvent ev = ERPSYNC__V1__ORDER_EVENT__INIT;
	Erpsync__V1__EventMeta meta;
	struct order_event_ids ids;
	char source[96];
	snprintf(source, sizeof source, "shop:%s", shop_id);
	order_event_meta(&meta, &ids, NULL, event_now_us(), source, ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_WEBHOOK,
			 NULL);
	ev.meta = &meta;
	ev.kind = ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_DELETED;
	ev.order = o;
	bool ok = order_event_queue_order(db, t->shop_orders, &ev, err, errlen);
	erpsync__v1__order__free_unpacked(o, NULL);
	if (!ok)
		goto failed;
	return pg_commit(db, err, errlen) ? ORDER_INTAKE_TAKEN : ORDER_INTAKE_FAILED;
failed:
	pg_rollback(db);
	return ORDER_INTAKE_FAILED;
}
