#include "stock_orders.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erpsync/v1/stock.pb-c.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "pg_array.h"
#include "shop_config.h"
#include "stock_event.h"
#include "stock_writer.h"

#define STOCK_ORDERS_MAX_LINES 1000

/* One SKU of an order with its quantity summed over the order's lines. */
struct stock_orders_line {
	const char *sku;
	int64_t qty_milli;
};

bool stock_orders_status_holds(Erpsync__V1__OrderStatus s)
{
	switch (s) {
	case ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PENDING_PAYMENT:
	case ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_ON_HOLD:
	case ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING:
	case ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_READY_TO_SHIP:
		return true;
	default:
		return false;
	}
}

/* Why a line cannot be applied, or NULL. An empty SKU is allowed: such a line holds nothing. */
static const char *stock_orders_line_invalid(const char *sku, int64_t qty_milli)
{
	if (qty_milli < 0 || qty_milli > STOCK_QTY_MAX_MILLI)
		return "line quantity negative or beyond a billion units";
	if (sku && *sku && !stock_event_text_ok(sku, 64))
		return "sku longer than 64 bytes or not UTF-8";
	return NULL;
}

const char *stock_orders_invalid(const Erpsync__V1__OrderEvent *ev)
{
	if (!ev->meta || !stock_event_text_ok(ev->meta->event_id, 128))
		return "meta.event_id missing, longer than 128 bytes or not UTF-8";
	if (!ev->order)
		return "order missing";
	if (!stock_event_text_ok(ev->order->shop_id, 64) || !stock_event_text_ok(ev->order->external_id, 128))
		return "order.shop_id or order.external_id missing, too long or not UTF-8";
	if (ev->order->number && *ev->order->number && !stock_event_text_ok(ev->order->number, 128))
		return "order.number too long or not UTF-8";
	/* stored as bigint: beyond it PostgreSQL would refuse the whole batch, three times, before the
	 * record was found alone */
	if (ev->order->version > INT64_MAX)
		return "order.version beyond 9223372036854775807 (2^63-1)";
	if (ev->order->n_lines > STOCK_ORDERS_MAX_LINES)
		return "more than 1000 order lines";
	for (size_t i = 0; i < ev->order->n_lines; i++) {
		const char *why = stock_orders_line_invalid(ev->order->lines[i]->sku,
							    ev->order->lines[i]->quantity_milli);
		if (why)
			return why;
	}
	return NULL;
}

const char *stock_orders_return_invalid(const Erpsync__V1__Return *r)
{
	if (!r->meta || !stock_event_text_ok(r->meta->event_id, 128))
		return "meta.event_id missing, longer than 128 bytes or not UTF-8";
	if (!stock_event_text_ok(r->shop_id, 64) || !stock_event_text_ok(r->return_id, 128))
		return "shop_id or return_id missing, too long or not UTF-8";
	if (r->restock_warehouse && *r->restock_warehouse && !stock_event_text_ok(r->restock_warehouse, 32))
		return "restock_warehouse too long or not UTF-8";
	if (r->version > INT64_MAX)
		return "version beyond 9223372036854775807 (2^63-1)";
	if (r->n_lines > STOCK_ORDERS_MAX_LINES)
		return "more than 1000 return lines";
	for (size_t i = 0; i < r->n_lines; i++) {
		const char *why = stock_orders_line_invalid(r->lines[i]->sku, r->lines[i]->quantity_milli);
		if (why)
			return why;
	}
	return NULL;
}

static const struct shop_config *stock_orders_shop(const struct stock_orders *so, const char *id)
{
	for (size_t i = 0; i < so->nshops; i++)
		if (strcmp(so->shops[i].id, id) == 0)
			return &so->shops[i];
	return NULL;
}

/* Sums the order's lines per SKU (lines without a SKU hold nothing: there is nothing to hold). */
static size_t stock_orders_lines(const Erpsync__V1__Order *o, struct stock_orders_line *out)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n_lines; i++) {
		const Erpsync__V1__OrderLine *l = o->lines[i];
		if (!l->sku || !*l->sku || l->quantity_milli <= 0)
			continue;
		size_t k = 0;
		while (k < n && strcmp(out[k].sku, l->sku) != 0)
			k++;
		if (k == n)
			out[n++] = (struct stock_orders_line){ l->sku, 0 };
		out[k].qty_milli += l->quantity_milli;
	}
	return n;
}

/* Marks skus dirty for every shop: a reservation changes what every shop may sell. */
static bool stock_orders_dirty(struct pg *db, const struct stock_orders *so, const struct pg_array *skus,
			       int64_t source_us, char *err, size_t errlen)
{
	struct pg_array shops;
	char t[24];
	bool ok = false;
	pg_array_init(&shops);
	for (size_t i = 0; i < so->nshops; i++)
		if (!pg_array_text(&shops, so->shops[i].id))
			goto out;
	snprintf(t, sizeof t, "%lld", (long long)(source_us > 0 ? source_us : event_now_us()));
	const char *p[] = { pg_array_get(&shops), pg_array_get((struct pg_array *)skus), t };
	PGresult *r = pg_query(db,
			       "INSERT INTO shop_mark (shop, sku, source_us)"
			       " SELECT s, k, $3::bigint FROM unnest($1::text[]) s,"
			       "  (SELECT DISTINCT k FROM unnest($2::text[]) k) ks",
			       3, p, err, errlen);
	ok = r != NULL;
	PQclear(r);
out:
	pg_array_cleanup(&shops);
	return ok;
}

bool stock_orders_mark(struct pg *db, const struct stock_orders *so, const char *sku, int64_t source_us, char *err,
		       size_t errlen)
{
	struct pg_array skus;
	pg_array_init(&skus);
	bool ok = pg_array_text(&skus, sku);
	if (!ok)
		snprintf(err, errlen, "out of memory");
	ok = ok && stock_orders_dirty(db, so, &skus, source_us, err, errlen);
	pg_array_cleanup(&skus);
	return ok;
}

/* Queues one oversell (or unknown SKU) alert for the outbox. */
static bool stock_orders_alert(struct pg *db, const struct stock_orders *so, const Erpsync__V1__Order *o,
			       const struct stock_orders_line *l, int64_t sellable_milli, bool known,
			       const char *traceparent, char *err, size_t errlen)
{
	char msg[256], key[80];
	char *shop_ids[SHOP_CONFIG_MAX];
	struct stock_event_ids ids;
	Erpsync__V1__EventMeta meta;
	stock_event_meta(&meta, &ids, traceparent, event_now_us(), "erpsync",
			 ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_DERIVED);
	Erpsync__V1__StockAlert a = ERPSYNC__V1__STOCK_ALERT__INIT;
	a.meta = &meta;
	a.kind = known ? ERPSYNC__V1__STOCK_ALERT_KIND__STOCK_ALERT_KIND_OVERSELL
		       : ERPSYNC__V1__STOCK_ALERT_KIND__STOCK_ALERT_KIND_UNKNOWN_SKU;
	a.sku = (char *)l->sku;
	a.warehouse = (char *)"";
	a.shop_id = o->shop_id;
	for (size_t i = 0; i < so->nshops; i++)
		shop_ids[i] = so->shops[i].id;
	a.n_shop_ids = so->nshops;
	a.shop_ids = shop_ids;
	a.order_external_id = o->external_id;
	a.order_number = o->number;
	a.ordered_milli = l->qty_milli;
	a.sellable_milli = sellable_milli;
	a.shortfall_milli = l->qty_milli - sellable_milli;
	snprintf(msg, sizeof msg, "order %s in shop %s asks for %.3f of %s; %.3f was sellable when it was placed",
		 o->external_id, o->shop_id, (double)l->qty_milli / 1000.0, l->sku, (double)sellable_milli / 1000.0);
	a.message = msg;
	size_t len = erpsync__v1__stock_alert__get_packed_size(&a);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	erpsync__v1__stock_alert__pack(&a, buf);
	int klen = snprintf(key, sizeof key, "%s|", l->sku);
	struct outbox_msg m = { .topic = so->alerts_topic,
				.key = key,
				.key_len = (size_t)klen,
				.value = buf,
				.value_len = len,
				.event_id = ids.id,
				.traceparent = ids.traceparent,
				.source_time_us = meta.occurred_at,
				.message_type = "erpsync.v1.StockAlert" };
	bool ok = pg_outbox_add(db, &m, err, errlen);
	free(buf);
	if (ok) {
		static const char *const shop_label[] = { "shop", NULL };
		metrics_deferred_add(
			so->counted,
			metrics_series1(metrics_counter("erpsync_stock_oversell_alerts_total",
							"Orders for more than was sellable when they were placed",
							shop_label),
					o->shop_id),
			1);
		struct log_ctx ctx = LOG_CTX_INIT;
		ctx.shop = o->shop_id;
		ctx.order_id = o->external_id;
		ctx.sku = l->sku;
		log_ctx_warn(&ctx, "oversell: %s", msg);
	}
	return ok;
}

/* Compares one line with what its shop could sell before this order; alerts once per line. */
static bool stock_orders_check(struct pg *db, const struct stock_orders *so, const Erpsync__V1__Order *o,
			       const struct stock_orders_line *l, const char *tp, char *err, size_t errlen)
{
	const struct shop_config *shop = stock_orders_shop(so, o->shop_id);
	struct pg_array wh;
	bool ok = false;
	PGresult *r = NULL, *ins = NULL;
	pg_array_init(&wh);
	if (!shop) {
		log_warn("order %s names shop %s, which is not configured: no oversell check", o->external_id,
			 o->shop_id);
		return true;
	}
	for (size_t i = 0; i < shop->nwarehouses; i++)
		if (!pg_array_text(&wh, shop->warehouses[i]))
			goto out;
	const char *p[] = { l->sku, pg_array_get(&wh), o->shop_id, o->external_id };
	r = pg_query(db,
		     "SELECT (SELECT sum(available_milli) FROM stock WHERE sku = $1 AND warehouse = ANY($2::text[])),"
		     "  COALESCE((SELECT sum(qty_milli) FROM reservation WHERE sku = $1"
		     "            AND NOT (shop = $3 AND order_id = $4)), 0)",
		     4, p, err, errlen);
	if (!r)
		goto out;
	bool known = !PQgetisnull(r, 0, 0);
	long long avail = known ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	long long held = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	int64_t sellable = (int64_t)stock_writer_sellable(avail, held, shop->buffer) * 1000;
	ok = true;
	if (l->qty_milli <= sellable)
		goto out;
	char q[24], s[24];
	snprintf(q, sizeof q, "%lld", (long long)l->qty_milli);
	snprintf(s, sizeof s, "%lld", (long long)sellable);
	const char *pi[] = { o->shop_id, o->external_id, l->sku, q, s };
	ins = pg_query(db,
		       "INSERT INTO oversell_alert (shop, order_id, sku, ordered_milli, sellable_milli)"
		       " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
		       5, pi, err, errlen);
	ok = ins &&
	     (strcmp(PQcmdTuples(ins), "1") != 0 || stock_orders_alert(db, so, o, l, sellable, known, tp, err, errlen));
out:
	PQclear(r);
	PQclear(ins);
	pg_array_cleanup(&wh);
	return ok;
}

/* Closes an order: its reservations go, and it will not open again. */
static bool stock_orders_close(struct pg *db, const struct stock_orders *so, const Erpsync__V1__Order *o,
			       const char *reason, int64_t source_us, char *err, size_t errlen)
{
	const char *p[] = { o->shop_id, o->external_id, reason };
	struct pg_array skus;
	bool ok = false;
	pg_array_init(&skus);
	PGresult *st = pg_query(
		db,
		"INSERT INTO order_state (shop, order_id, closed, closed_reason) VALUES ($1, $2, true, $3)"
		" ON CONFLICT (shop, order_id) DO UPDATE SET closed = true, closed_reason = $3, updated_at = now()",
		3, p, err, errlen);
	PGresult *del = st ? pg_query(db, "DELETE FROM reservation WHERE shop = $1 AND order_id = $2 RETURNING sku", 2,
				      p, err, errlen)
			   : NULL;
	if (!del)
		goto out;
	for (int i = 0; i < PQntuples(del); i++)
		if (!pg_array_text(&skus, PQgetvalue(del, i, 0)))
			goto out;
	ok = PQntuples(del) == 0 || stock_orders_dirty(db, so, &skus, source_us, err, errlen);
out:
	PQclear(st);
	PQclear(del);
	pg_array_cleanup(&skus);
	return ok;
}

/* Sets the order's reservations to its lines (an edited order holds what it now asks for). */
static bool stock_orders_hold(struct pg *db, const struct stock_orders *so, const Erpsync__V1__Order *o,
			      const struct stock_orders_line *lines, size_t n, int64_t source_us, char *err,
			      size_t errlen)
{
	struct pg_array skus, qtys;
	bool ok = false;
	PGresult *r = NULL;
	pg_array_init(&skus);
	pg_array_init(&qtys);
	for (size_t i = 0; i < n; i++)
		if (!pg_array_text(&skus, lines[i].sku) || !pg_array_int(&qtys, lines[i].qty_milli))
			goto out;
	const char *p[] = { o->shop_id, o->external_id, pg_array_get(&skus), pg_array_get(&qtys) };
	r = pg_query(db,
		     "WITH l AS (SELECT * FROM unnest($3::text[], $4::bigint[]) AS l(sku, q)),"
		     " d AS (DELETE FROM reservation r WHERE r.shop = $1 AND r.order_id = $2"
		     "  AND r.sku <> ALL($3::text[]) RETURNING r.sku),"
		     " i AS (INSERT INTO reservation (shop, order_id, sku, qty_milli) SELECT $1, $2, sku, q FROM l"
		     "  ON CONFLICT (shop, order_id, sku) DO UPDATE SET qty_milli = excluded.qty_milli"
		     "  WHERE reservation.qty_milli <> excluded.qty_milli RETURNING sku)"
		     " SELECT sku FROM d UNION SELECT sku FROM i",
		     4, p, err, errlen);
	if (!r)
		goto out;
	struct pg_array changed;
	pg_array_init(&changed);
	ok = true;
	for (int i = 0; ok && i < PQntuples(r); i++)
		ok = pg_array_text(&changed, PQgetvalue(r, i, 0));
	ok = ok && (PQntuples(r) == 0 || stock_orders_dirty(db, so, &changed, source_us, err, errlen));
	pg_array_cleanup(&changed);
out:
	PQclear(r);
	pg_array_cleanup(&skus);
	pg_array_cleanup(&qtys);
	return ok;
}

/* Counts a record dropped because a newer one of the same order or return was applied. */
static void stock_orders_stale(const struct stock_orders *so, const char *kind)
{
	static const char *const label[] = { "kind", NULL };
	metrics_deferred_add(
		so->counted,
		metrics_series1(
			metrics_counter("erpsync_stock_stale_events_total",
					"Order and return records dropped as not newer than the version applied",
					label),
			kind),
		1);
}

enum stock_orders_state {
	STOCK_ORDER_ERROR, /* err says why */
	STOCK_ORDER_NEW,   /* first seen now */
	STOCK_ORDER_OPEN,
	STOCK_ORDER_CLOSED, /* booked or cancelled: never holds again */
	STOCK_ORDER_STALE,  /* this record's version is not newer than the last applied */
};

/* Where an order we may have seen stands. The order's row is created if missing and locked until
 * the transaction ends, so two instances applying events of one order (after a rebalance) take
 * turns: a close is never overtaken by a hold. Versions count per topic (erp: erp.orders.v1, else
 * shop.orders.v1); a record's version, when newer, is recorded. */
static enum stock_orders_state stock_orders_state(struct pg *db, const struct stock_orders *so,
						  const Erpsync__V1__Order *o, bool erp, char *err, size_t errlen)
{
	char ver[24];
	snprintf(ver, sizeof ver, "%llu", (unsigned long long)o->version);
	const char *p[] = { o->shop_id, o->external_id, ver };
	PGresult *ins = pg_query(db,
				 "INSERT INTO order_state (shop, order_id, closed) VALUES ($1, $2, false)"
				 " ON CONFLICT DO NOTHING RETURNING 1",
				 2, p, err, errlen);
	if (!ins)
		return STOCK_ORDER_ERROR;
	bool created = PQntuples(ins) == 1;
	PQclear(ins);
	PGresult *r = pg_query(db,
			       erp ? "SELECT closed, erp_version FROM order_state"
				     " WHERE shop = $1 AND order_id = $2 FOR UPDATE"
				   : "SELECT closed, shop_version FROM order_state"
				     " WHERE shop = $1 AND order_id = $2 FOR UPDATE",
			       2, p, err, errlen);
	if (!r)
		return STOCK_ORDER_ERROR;
	enum stock_orders_state s = created                                 ? STOCK_ORDER_NEW
				    : strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? STOCK_ORDER_CLOSED
									    : STOCK_ORDER_OPEN;
	unsigned long long applied = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	if (o->version == 0)
		return s;
	if (o->version <= applied) {
		stock_orders_stale(so, erp ? "erp_order" : "shop_order");
		return STOCK_ORDER_STALE;
	}
	PGresult *up = pg_query(db,
				erp ? "UPDATE order_state SET erp_version = $3 WHERE shop = $1 AND order_id = $2"
				    : "UPDATE order_state SET shop_version = $3 WHERE shop = $1 AND order_id = $2",
				3, p, err, errlen);
	PQclear(up);
	return up ? s : STOCK_ORDER_ERROR;
}

bool stock_orders_shop_event(struct pg *db, const struct stock_orders *so, const Erpsync__V1__OrderEvent *ev, char *err,
			     size_t errlen)
{
	const Erpsync__V1__Order *o = ev->order;
	enum stock_orders_state state = stock_orders_state(db, so, o, false, err, errlen);
	int64_t src = ev->meta->occurred_at;
	if (state == STOCK_ORDER_ERROR)
		return false;
	if (state == STOCK_ORDER_STALE)
		return true;
	if (state == STOCK_ORDER_CLOSED)
		return true; /* booked or cancelled already: a late shop update must not hold stock again */
	if (!stock_orders_status_holds(o->status) ||
	    ev->kind == ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_DELETED)
		return stock_orders_close(db, so, o, "shop status", src, err, errlen);
	struct stock_orders_line *lines = calloc(o->n_lines ? o->n_lines : 1, sizeof *lines);
	if (!lines) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	size_t n = stock_orders_lines(o, lines);
	bool ok = true;
	/* sellable "at the time it was placed": checked once, before this order holds anything */
	for (size_t i = 0; ok && state == STOCK_ORDER_NEW && i < n; i++)
		ok = stock_orders_check(db, so, o, &lines[i], ev->meta->traceparent, err, errlen);
	ok = ok && stock_orders_hold(db, so, o, lines, n, src, err, errlen);
	free(lines);
	return ok;
}

bool stock_orders_erp_event(struct pg *db, const struct stock_orders *so, const Erpsync__V1__OrderEvent *ev, char *err,
			    size_t errlen)
{
	const Erpsync__V1__Order *o = ev->order;
	enum stock_orders_state state = stock_orders_state(db, so, o, true, err, errlen);
	if (state == STOCK_ORDER_ERROR)
		return false;
	if (state == STOCK_ORDER_STALE)
		return true;
	/* Once the ERP has booked the order its own stock figures include it; holding it here as well
	 * would count it twice. A cancellation in the ERP ends the hold too. */
	if (ev->kind == ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_BOOKED || (o->erp_id && *o->erp_id))
		return stock_orders_close(db, so, o, "booked in the ERP", ev->meta->occurred_at, err, errlen);
	if (!stock_orders_status_holds(o->status) && o->status != ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED)
		return stock_orders_close(db, so, o, "ERP status", ev->meta->occurred_at, err, errlen);
	return true;
}

/* Whether the return's record is newer than the last applied (then recorded as applied): false
 * with err empty when it is not, false with err on a database error. Locks the return's row. */
static bool stock_orders_return_newer(struct pg *db, const struct stock_orders *so, const Erpsync__V1__Return *r,
				      char *err, size_t errlen)
{
	char ver[24];
	snprintf(ver, sizeof ver, "%llu", (unsigned long long)r->version);
	const char *p[] = { r->shop_id, r->return_id, ver };
	/* version 0 (none set) always applies, and does not lower what was recorded */
	PGresult *res = pg_query(
		db,
		"INSERT INTO return_state AS s (shop, return_id, version) VALUES ($1, $2, $3)"
		" ON CONFLICT (shop, return_id) DO UPDATE SET version = GREATEST(s.version, excluded.version),"
		"  updated_at = now() WHERE excluded.version = 0 OR s.version < excluded.version RETURNING 1",
		3, p, err, errlen);
	if (!res)
		return false;
	bool newer = PQntuples(res) == 1;
	PQclear(res);
	if (!newer)
		stock_orders_stale(so, "return");
	return newer;
}

bool stock_orders_return(struct pg *db, const struct stock_orders *so, const Erpsync__V1__Return *r, char *err,
			 size_t errlen)
{
	struct pg_array skus;
	err[0] = '\0';
	if (!stock_orders_return_newer(db, so, r, err, errlen))
		return !err[0];
	pg_array_init(&skus);
	bool ok = true;
	for (size_t i = 0; ok && i < r->n_lines; i++) {
		const Erpsync__V1__ReturnLine *l = r->lines[i];
		if (!l->restock || !l->sku || !*l->sku || l->quantity_milli <= 0)
			continue;
		char q[24];
		snprintf(q, sizeof q, "%lld", (long long)l->quantity_milli);
		const char *p[] = { r->shop_id, r->return_id,
				    l->sku,     r->restock_warehouse ? r->restock_warehouse : "",
				    q,          r->received_at > 0 ? "t" : "f" };
		PGresult *res = pg_query(
			db,
			"INSERT INTO expected_return (shop, return_id, sku, warehouse, qty_milli, received)"
			" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (shop, return_id, sku) DO UPDATE SET"
			" warehouse = excluded.warehouse, qty_milli = excluded.qty_milli, received = excluded.received,"
			" updated_at = now()",
			6, p, err, errlen);
		ok = res && pg_array_text(&skus, l->sku);
		if (res && !ok)
			snprintf(err, errlen, "out of memory");
		PQclear(res);
	}
	/* a newer record is the whole return: lines it no longer lists are no longer expected */
	const char *listed = ok ? pg_array_get(&skus) : NULL;
	if (ok && !listed) {
		snprintf(err, errlen, "out of memory");
		ok = false;
	}
	if (ok) {
		const char *p[] = { r->shop_id, r->return_id, listed };
		PGresult *res = pg_query(
			db, "DELETE FROM expected_return WHERE shop = $1 AND return_id = $2 AND sku <> ALL($3::text[])",
			3, p, err, errlen);
		ok = res != NULL;
		PQclear(res);
	}
	pg_array_cleanup(&skus);
	return ok;
}

void stock_orders_gauges(struct pg *db)
{
	char err[256];
	PGresult *r = pg_query(
		db,
		"SELECT (SELECT count(*) FROM reservation), (SELECT COALESCE(sum(qty_milli), 0) FROM reservation),"
		" (SELECT count(*) FROM expected_return WHERE NOT received)",
		0, NULL, err, sizeof err);
	if (!r)
		return;
	metrics_set(metrics_series0(metrics_gauge("erpsync_stock_reservations_open",
						  "Order lines holding stock until the ERP books them", NULL)),
		    strtod(PQgetvalue(r, 0, 0), NULL));
	metrics_set(
		metrics_series0(metrics_gauge("erpsync_stock_reserved_units", "Units held by open reservations", NULL)),
		strtod(PQgetvalue(r, 0, 1), NULL) / 1000.0);
	metrics_set(metrics_series0(metrics_gauge("erpsync_stock_returns_expected",
						  "Return lines announced for restock, not yet received", NULL)),
		    strtod(PQgetvalue(r, 0, 2), NULL));
	PQclear(r);
}
