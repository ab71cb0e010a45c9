#include "order_book.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erp.h"
#include "erp_rest.h"
#include "erpsync/v1/invoice.pb-c.h"
#include "erpsync/v1/shipment.pb-c.h"
#include "event.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "order_db.h"
#include "order_event.h"
#include "order_map.h"
#include "order_relay.h"
#include "order_shops.h"
#include "pg.h"
#include "shop.h"
#include "shop_config.h"
#include "shutdown.h"

#define ORDER_BOOK_SERVICE     "order-sync"
#define ORDER_BOOK_BACKOFF_MIN 100  /* ms before a failed record is tried again */
#define ORDER_BOOK_BACKOFF_MAX 5000 /* ms */
#define ORDER_BOOK_FIND_MAX    8    /* ERP orders of one reference looked at */
#define ORDER_BOOK_REASON      512
#define ORDER_BOOK_QUEUE       256 /* records waiting in one lane */

enum order_step {
	STEP_RETRY = -1, /* a peer or the database failed: keep the record, try again later */
	STEP_DEAD = 0,   /* cannot be done as it is: dead-letter with the reason */
	STEP_DONE = 1,
};

/* What one lane works with: its own PostgreSQL connection, ERP client and shop connections (none
 * of them is shared between threads). */
struct order_lane_ctx {
	struct pg *db;
	struct erp *erp;
	const struct order_shops *shops;
	const struct order_topics *topics;
	struct order_relay *relay;
	struct kafka_consumer *consumer;
	struct kafka_producer *dlq;
	const char *book_statuses;
};

struct order_metrics {
	struct metric_family *m_booked, *m_held, *m_dup, *m_latency, *m_found, *m_applied, *m_retry, *m_notes;
};

/* A lane: a thread that handles the records of the partitions given to it, in order. */
struct order_lane {
	struct order_lane_ctx o;
	struct order_shops own_shops;
	struct order_metrics mx;
	size_t index;
	unsigned attempts;
	char reason[ORDER_BOOK_REASON];
	pthread_t thread;
	bool inited, started;
	pthread_mutex_t mu;
	pthread_cond_t cond;  /* a record queued, or stopping */
	pthread_cond_t space; /* room in the queue */
	rd_kafka_message_t *q[ORDER_BOOK_QUEUE];
	size_t head, n;
	atomic_bool stopping;
};

struct order_book {
	struct order_book_opts o;
	struct order_lane *lanes;
	size_t nlanes;
};

/* ---- helpers ------------------------------------------------------------------------------------- */

static enum order_step order_book_fail(struct order_lane *b, enum order_step s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum order_step order_book_fail(struct order_lane *b, enum order_step s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->reason, sizeof b->reason, fmt, ap);
	va_end(ap);
	return s;
}

/* Claims the record's event id inside a transaction: 1 new, 0 applied before, -1 error. */
static int order_book_claim(struct order_lane *b, const rd_kafka_message_t *m, const char *event_id, char *err,
			    size_t errlen)
{
	return pg_inbox_claim(b->o.db, ORDER_BOOK_SERVICE, event_id, rd_kafka_topic_name(m->rkt), m->partition,
			      m->offset, err, errlen);
}

/* Runs claim + what in one transaction; a record applied before is skipped. */
typedef bool (*order_book_tx_fn)(struct order_lane *b, void *ud, char *err, size_t errlen);
static enum order_step order_book_tx(struct order_lane *b, const rd_kafka_message_t *m, const char *event_id,
				     order_book_tx_fn fn, void *ud)
{
	char err[512];
	if (!pg_ensure(b->o.db, err, sizeof err) || !pg_begin(b->o.db, err, sizeof err))
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	int c = order_book_claim(b, m, event_id, err, sizeof err);
	if (c < 0 || (c == 1 && fn && !fn(b, ud, err, sizeof err))) {
		pg_rollback(b->o.db);
		return order_book_fail(b, pg_sqlstate_refused(pg_last_sqlstate(b->o.db)) ? STEP_DEAD : STEP_RETRY,
				       "database: %s", err);
	}
	if (!pg_commit(b->o.db, err, sizeof err))
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	if (c == 0)
		metrics_inc(metrics_series1(b->mx.m_dup, rd_kafka_topic_name(m->rkt)));
	order_relay_wake(b->o.relay);
	return STEP_DONE;
}

/* The order's row as the booker needs it. */
struct order_state {
	bool found;
	char erp_id[ERP_ID_MAX + 1];
	char erp_number[ERP_NUMBER_MAX + 1];
	char erp_status[ERP_STATUS_MAX + 1];
	char hold[ORDER_BOOK_REASON];
	int64_t version;
	int64_t first_seen_us;
	bool deleted;
	long new_refunds; /* refunds not published yet */
};

static bool order_book_state(struct order_lane *b, const char *shop, const char *id, struct order_state *st, char *err,
			     size_t errlen)
{
	const char *p[] = { shop, id };
	memset(st, 0, sizeof *st);
	if (!pg_ensure(b->o.db, err, errlen))
		return false;
	PGresult *r = pg_query(b->o.db,
			       "SELECT coalesce(erp_id, ''), coalesce(erp_number, ''), coalesce(erp_status, ''),"
			       " coalesce(hold_reason, ''), version, first_seen_us, deleted,"
			       " (SELECT count(*) FROM return_case c WHERE c.shop_id = $1 AND c.external_id = $2"
			       "   AND c.status = 'new')"
			       " FROM orders WHERE shop_id = $1 AND external_id = $2",
			       2, p, err, errlen);
	if (!r)
		return false;
	if (PQntuples(r) == 1) {
		st->found = true;
		snprintf(st->erp_id, sizeof st->erp_id, "%s", PQgetvalue(r, 0, 0));
		snprintf(st->erp_number, sizeof st->erp_number, "%s", PQgetvalue(r, 0, 1));
		snprintf(st->erp_status, sizeof st->erp_status, "%s", PQgetvalue(r, 0, 2));
		snprintf(st->hold, sizeof st->hold, "%s", PQgetvalue(r, 0, 3));
		st->version = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
		st->first_seen_us = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
		st->deleted = PQgetvalue(r, 0, 6)[0] == 't';
		st->new_refunds = strtol(PQgetvalue(r, 0, 7), NULL, 10);
	}
	PQclear(r);
	return true;
}

static bool order_book_status_in(const char *list, const char *status)
{
	size_t n = strlen(status);
	for (const char *p = list; p && *p;) {
		size_t k = strcspn(p, ",");
		if (k == n && strncmp(p, status, n) == 0)
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* ---- shop.orders.v1: booking ------------------------------------------------------------------- */

struct order_book_adopt {
	const Erpsync__V1__OrderEvent *ev;
	const struct erp_doc *doc;
	const char *cause;
	bool adopted; /* this transaction recorded the booking */
};

static bool order_book_adopt_tx(struct order_lane *b, void *ud, char *err, size_t errlen)
{
	struct order_book_adopt *a = ud;
	const Erpsync__V1__Order *so = a->ev->order;
	const char *p[] = { so->shop_id, so->external_id, a->doc->id, a->doc->number, a->doc->status };
	PGresult *r = pg_query(
		b->o.db,
		"UPDATE orders SET erp_id = $3, erp_number = $4, erp_status = $5, booked_at = now(),"
		" erp_version = erp_version + 1 WHERE shop_id = $1 AND external_id = $2 AND erp_id IS NULL"
		" RETURNING erp_version",
		5, p, err, errlen);
	if (!r)
		return false;
	a->adopted = PQntuples(r) == 1;
	uint64_t version = a->adopted ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	if (!a->adopted)
		return true; /* booked meanwhile (another instance, a rebalance): nothing more to say */
	Erpsync__V1__Order o = *so;
	o.erp_id = (char *)a->doc->id;
	o.erp_number = (char *)a->doc->number;
	o.version = version;
	Erpsync__V1__OrderStatus st = order_map_erp_status(a->doc->status);
	if (st != ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED)
		o.status = st;
	o.source_status = (char *)a->doc->status;
	Erpsync__V1__OrderEvent ev = ERPSYNC__V1__ORDER_EVENT__INIT;
	Erpsync__V1__EventMeta meta;
	struct order_event_ids ids;
	order_event_meta(&meta, &ids, a->ev->meta->traceparent, event_now_us(), "erp:rest",
			 ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_DERIVED, a->cause);
	ev.meta = &meta;
	ev.kind = ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_BOOKED;
	ev.order = &o;
	return order_event_queue_order(b->o.db, b->o.topics->erp_orders, &ev, err, errlen);
}

static enum order_step order_book_deferred(struct order_lane *b, const char *shop, const char *id);

static enum order_step order_book_book(struct order_lane *b, const rd_kafka_message_t *m,
				       const Erpsync__V1__OrderEvent *ev, const struct order_state *st)
{
	const Erpsync__V1__Order *o = ev->order;
	if (*st->hold) {
		metrics_inc(metrics_series2(b->mx.m_held, o->shop_id, "totals"));
		return order_book_fail(b, STEP_DEAD, "held: %s", st->hold);
	}
	for (size_t i = 0; i < o->n_lines; i++)
		if (!o->lines[i]->sku || !*o->lines[i]->sku) {
			metrics_inc(metrics_series2(b->mx.m_held, o->shop_id, "no_sku"));
			return order_book_fail(b, STEP_DEAD, "held: line %s (%s) has no SKU", o->lines[i]->line_id,
					       o->lines[i]->name);
		}
	char ref[ERP_REF_MAX + 1], err[512];
	order_map_ref(ref, sizeof ref, o->shop_id, o->external_id);
	struct erp_doc found[ORDER_BOOK_FIND_MAX];
	int n = b->o.erp->orders->find_orders(b->o.erp, ref, found, ORDER_BOOK_FIND_MAX, err, sizeof err);
	if (n < 0)
		return order_book_fail(b, STEP_RETRY, "ERP lookup of %s: %s", ref, err);
	struct erp_doc doc;
	if (n > 0) {
		doc = found[0];
		metrics_inc(metrics_series1(b->mx.m_found, o->shop_id));
		if (n > 1)
			log_warn("order %s: the ERP holds %d orders with this reference (booked outside erpsync?); "
				 "keeping %s",
				 ref, n, doc.id);
		else
			log_info("order %s: already in the ERP as %s (an earlier create's answer was lost)", ref,
				 doc.id);
	} else {
		switch (b->o.erp->orders->create_order(b->o.erp, ref, o, &doc, err, sizeof err)) {
		case ERP_DONE:
			break;
		case ERP_REFUSED:
			metrics_inc(metrics_series2(b->mx.m_held, o->shop_id, "erp_refused"));
			return order_book_fail(b, STEP_DEAD, "held: the ERP refused order %s: %s", ref, err);
		case ERP_FAILED:
			/* done or not: the next try starts with the lookup */
			return order_book_fail(b, STEP_RETRY, "ERP create of %s: %s", ref, err);
		}
	}
	struct order_book_adopt a = { ev, &doc, ev->meta->event_id, false };
	enum order_step s = order_book_tx(b, m, ev->meta->event_id, order_book_adopt_tx, &a);
	if (s != STEP_DONE)
		return s;
	if (a.adopted) {
		metrics_inc(metrics_series1(b->mx.m_booked, o->shop_id));
		if (st->first_seen_us > 0)
			metrics_observe(metrics_series1(b->mx.m_latency, o->shop_id),
					(double)(event_now_us() - st->first_seen_us) / 1e6);
		log_info("order %s booked in the ERP as %s %s", ref, doc.id, doc.number);
	}
	/* after the booking's commit: a deferral either committed before it (the row lock orders them)
	 * and is found here, or saw the booking and was applied at once */
	return order_book_deferred(b, o->shop_id, o->external_id);
}

/* A cancelled order the ERP holds: cancelled there, or a return case when it may not be. */
static bool order_book_cancelled_tx(struct order_lane *b, void *ud, char *err, size_t errlen)
{
	const char **p = ud;
	PGresult *r = pg_query(b->o.db, "UPDATE orders SET erp_status = $3 WHERE shop_id = $1 AND external_id = $2", 3,
			       p, err, errlen);
	PQclear(r);
	return r != NULL;
}

struct order_book_case {
	const Erpsync__V1__OrderEvent *ev;
};

/* Queues a return case for a cancellation the ERP refused (invoiced or shipped). */
static bool order_book_cancel_case_tx(struct order_lane *b, void *ud, char *err, size_t errlen)
{
	const struct order_book_case *c = ud;
	const Erpsync__V1__Order *o = c->ev->order;
	const char *p[] = { o->shop_id, o->external_id };
	PGresult *r = pg_query(
		b->o.db,
		"INSERT INTO return_case (shop_id, external_id, return_id, kind, status, version, snapshot)"
		" VALUES ($1, $2, 'cancellation', 'return', 'requested', 1, '') ON CONFLICT DO NOTHING",
		2, p, err, errlen);
	if (!r)
		return false;
	bool fresh = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (!fresh)
		return true;
	Erpsync__V1__Return ret = ERPSYNC__V1__RETURN__INIT;
	Erpsync__V1__EventMeta meta;
	struct order_event_ids ids;
	char source[96];
	snprintf(source, sizeof source, "shop:%s", o->shop_id);
	order_event_meta(&meta, &ids, c->ev->meta->traceparent, event_now_us(), source,
			 ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_DERIVED, c->ev->meta->event_id);
	ret.meta = &meta;
	ret.shop_id = o->shop_id;
	ret.order_external_id = o->external_id;
	ret.order_number = o->number;
	ret.return_id = (char *)"cancellation";
	ret.kind = ERPSYNC__V1__RETURN_KIND__RETURN_KIND_RETURN;
	ret.status = ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_REQUESTED;
	ret.version = 1;
	ret.requested_at = event_now_us();
	ret.note = (char *)"cancelled in the shop after the ERP invoiced or shipped it";
	Erpsync__V1__ReturnLine *lines = calloc(o->n_lines ? o->n_lines : 1, sizeof *lines);
	Erpsync__V1__ReturnLine **lp = calloc(o->n_lines ? o->n_lines : 1, sizeof *lp);
	Erpsync__V1__Amounts total = ERPSYNC__V1__AMOUNTS__INIT;
	bool ok = lines && lp;
	for (size_t i = 0; ok && i < o->n_lines; i++) {
		erpsync__v1__return_line__init(&lines[i]);
		lines[i].order_line_id = o->lines[i]->line_id;
		lines[i].sku = o->lines[i]->sku;
		lines[i].name = o->lines[i]->name;
		lines[i].quantity_milli = o->lines[i]->quantity_milli;
		lines[i].reason = ERPSYNC__V1__RETURN_REASON__RETURN_REASON_ORDER_CANCELLED;
		lines[i].refund = o->lines[i]->total;
		lines[i].vat_rate = o->lines[i]->vat_rate;
		lines[i].restock = true;
		lp[i] = &lines[i];
	}
	if (o->totals && o->totals->total)
		total = *o->totals->total;
	ret.total_refund = &total;
	ret.n_lines = o->n_lines;
	ret.lines = lp;
	ok = ok && order_event_queue_return(b->o.db, b->o.topics->returns, &ret, err, errlen);
	if (!lines || !lp)
		snprintf(err, errlen, "out of memory");
	free(lines);
	free(lp);
	return ok;
}

static enum order_step order_book_cancel(struct order_lane *b, const rd_kafka_message_t *m,
					 const Erpsync__V1__OrderEvent *ev, const struct order_state *st)
{
	const Erpsync__V1__Order *o = ev->order;
	if (strcmp(st->erp_status, "cancelled") == 0 || strcmp(st->erp_status, "cancel_refused") == 0)
		return order_book_tx(b, m, ev->meta->event_id, NULL, NULL);
	char err[512];
	const char *p[] = { o->shop_id, o->external_id, "cancelled" };
	switch (b->o.erp->orders->cancel_order(b->o.erp, st->erp_id, "cancelled in the shop", err, sizeof err)) {
	case ERP_DONE:
		log_info("order %s|%s: cancelled in the ERP (%s)", o->shop_id, o->external_id, st->erp_id);
		return order_book_tx(b, m, ev->meta->event_id, order_book_cancelled_tx, (void *)p);
	case ERP_FAILED:
		return order_book_fail(b, STEP_RETRY, "ERP cancel of %s: %s", st->erp_id, err);
	case ERP_REFUSED:
		break;
	}
	log_info("order %s|%s: the ERP may not cancel %s any more (%s): a return case instead", o->shop_id,
		 o->external_id, st->erp_id, err);
	struct order_book_case c = { ev };
	enum order_step s = order_book_tx(b, m, ev->meta->event_id, order_book_cancel_case_tx, &c);
	if (s == STEP_DONE) {
		const char *q[] = { o->shop_id, o->external_id, "cancel_refused" };
		char e2[256];
		PGresult *r = pg_query(b->o.db,
				       "UPDATE orders SET erp_status = $3 WHERE shop_id = $1 AND external_id = $2", 3,
				       q, e2, sizeof e2);
		PQclear(r);
	}
	return s;
}

/* ---- refunds: read from the shop, published as returns ---------------------------------------- */

struct order_book_refunds {
	const Erpsync__V1__Order *o;
	const Erpsync__V1__EventMeta *cause;
	struct shop_refund *r;
	size_t n;
};

static const Erpsync__V1__OrderLine *order_book_line(const Erpsync__V1__Order *o, const char *line_id)
{
	for (size_t i = 0; i < o->n_lines; i++)
		if (strcmp(o->lines[i]->line_id, line_id) == 0)
			return o->lines[i];
	return NULL;
}

static bool order_book_refund_one(struct order_lane *b, const struct order_book_refunds *rf,
				  const struct shop_refund *r, char *err, size_t errlen)
{
	const Erpsync__V1__Order *o = rf->o;
	const char *p[] = { o->shop_id, o->external_id, r->refund_id };
	PGresult *q = pg_query(b->o.db,
			       "UPDATE return_case SET status = 'published', version = version + 1, updated_at = now()"
			       " WHERE shop_id = $1 AND external_id = $2 AND return_id = $3 AND status = 'new'"
			       " RETURNING version",
			       3, p, err, errlen);
	if (!q)
		return false;
	bool fresh = PQntuples(q) == 1;
	uint64_t version = fresh ? strtoull(PQgetvalue(q, 0, 0), NULL, 10) : 0;
	PQclear(q);
	if (!fresh)
		return true;
	Erpsync__V1__Return ret = ERPSYNC__V1__RETURN__INIT;
	Erpsync__V1__EventMeta meta;
	struct order_event_ids ids;
	char source[96];
	snprintf(source, sizeof source, "shop:%s", o->shop_id);
	order_event_meta(&meta, &ids, rf->cause->traceparent, r->created_at_us, source,
			 ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_DERIVED, rf->cause->event_id);
	ret.meta = &meta;
	ret.shop_id = o->shop_id;
	ret.order_external_id = o->external_id;
	ret.order_number = o->number;
	ret.return_id = r->refund_id;
	ret.status = ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_REFUNDED;
	ret.version = version;
	ret.requested_at = r->created_at_us;
	ret.note = r->reason;
	bool goods = false;
	size_t nl = r->n_lines;
	Erpsync__V1__ReturnLine *lines = calloc(nl ? nl : 1, sizeof *lines);
	Erpsync__V1__ReturnLine **lp = calloc(nl ? nl : 1, sizeof *lp);
	Erpsync__V1__Amounts *am = calloc(nl + 2, sizeof *am);
	if (!lines || !lp || !am) {
		free(lines);
		free(lp);
		free(am);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	int64_t lines_gross = 0;
	for (size_t i = 0; i < nl; i++) {
		const struct shop_refund_line *l = &r->lines[i];
		const Erpsync__V1__OrderLine *ol = order_book_line(o, l->line_id);
		erpsync__v1__return_line__init(&lines[i]);
		erpsync__v1__amounts__init(&am[i]);
		am[i].currency = o->currency;
		am[i].net_minor = l->net_minor;
		am[i].tax_minor = l->tax_minor;
		am[i].gross_minor = l->net_minor + l->tax_minor;
		lines_gross += am[i].gross_minor;
		lines[i].order_line_id = l->line_id;
		lines[i].sku = ol ? ol->sku : (char *)"";
		lines[i].name = ol ? ol->name : (char *)"";
		lines[i].quantity_milli = l->quantity_milli;
		lines[i].reason = l->quantity_milli > 0 ? ERPSYNC__V1__RETURN_REASON__RETURN_REASON_WITHDRAWAL
							: ERPSYNC__V1__RETURN_REASON__RETURN_REASON_PRICE_ADJUSTMENT;
		lines[i].reason_text = r->reason;
		lines[i].refund = &am[i];
		lines[i].vat_rate = ol ? ol->vat_rate : NULL;
		lines[i].restock = l->quantity_milli > 0;
		goods = goods || l->quantity_milli > 0;
		lp[i] = &lines[i];
	}
	Erpsync__V1__Amounts *ship = &am[nl], *tot = &am[nl + 1];
	erpsync__v1__amounts__init(ship);
	erpsync__v1__amounts__init(tot);
	ship->currency = tot->currency = o->currency;
	ship->net_minor = r->shipping_net_minor;
	ship->tax_minor = r->shipping_tax_minor;
	ship->gross_minor = ship->net_minor + ship->tax_minor;
	if (ship->gross_minor)
		ret.shipping_refund = ship;
	/* the refunded amount is the shop's figure; lines and shipping are its breakdown (a refund by
	 * amount only has no lines) */
	tot->gross_minor = r->amount_minor;
	int64_t tax = 0;
	for (size_t i = 0; i < nl; i++)
		tax += am[i].tax_minor;
	tot->tax_minor = lines_gross + ship->gross_minor == r->amount_minor ? tax + ship->tax_minor : 0;
	tot->net_minor = tot->gross_minor - tot->tax_minor;
	ret.total_refund = tot;
	ret.kind = goods ? ERPSYNC__V1__RETURN_KIND__RETURN_KIND_RETURN
			 : ERPSYNC__V1__RETURN_KIND__RETURN_KIND_REFUND_ONLY;
	ret.n_lines = nl;
	ret.lines = lp;
	Erpsync__V1__Refund money = ERPSYNC__V1__REFUND__INIT, *mp = &money;
	Erpsync__V1__Money amt = ERPSYNC__V1__MONEY__INIT;
	amt.amount_minor = r->amount_minor;
	amt.currency = o->currency;
	money.refund_id = r->refund_id;
	money.status = ERPSYNC__V1__REFUND_STATUS__REFUND_STATUS_COMPLETED;
	money.amount = &amt;
	money.method_kind = o->payment_method_kind;
	money.method = o->payment_method;
	money.refunded_at = r->created_at_us;
	ret.n_refunds = 1;
	ret.refunds = &mp;
	bool ok = order_event_queue_return(b->o.db, b->o.topics->returns, &ret, err, errlen);
	free(lines);
	free(lp);
	free(am);
	return ok;
}

static bool order_book_refunds_tx(struct order_lane *b, void *ud, char *err, size_t errlen)
{
	struct order_book_refunds *rf = ud;
	for (size_t i = 0; i < rf->n; i++)
		if (!order_book_refund_one(b, rf, &rf->r[i], err, errlen))
			return false;
	return true;
}

static enum order_step order_book_shop_order(struct order_lane *b, const rd_kafka_message_t *m,
					     const Erpsync__V1__OrderEvent *ev)
{
	const Erpsync__V1__Order *o = ev->order;
	char err[512];
	struct order_state st;
	if (!order_book_state(b, o->shop_id, o->external_id, &st, err, sizeof err))
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	if (!st.found) /* not taken in by order-sync (another producer's record): not ours to book */
		return order_book_tx(b, m, ev->meta->event_id, NULL, NULL);
	const struct order_shop *os = order_shops_find(b->o.shops, o->shop_id);
	long nref = st.new_refunds;
	if (nref > 0 && os) {
		struct order_book_refunds rf = { o, ev->meta, NULL, 0 };
		if (!os->shop->orders->refunds(os->shop, o->external_id, &rf.r, &rf.n, err, sizeof err))
			return order_book_fail(b, STEP_RETRY, "refunds of %s|%s from the shop: %s", o->shop_id,
					       o->external_id, err);
		char e2[512];
		bool ok = pg_begin(b->o.db, e2, sizeof e2) && order_book_refunds_tx(b, &rf, e2, sizeof e2) &&
			  pg_commit(b->o.db, e2, sizeof e2);
		if (!ok)
			pg_rollback(b->o.db);
		shop_refunds_free(rf.r, rf.n);
		if (!ok)
			return order_book_fail(b, STEP_RETRY, "database: %s", e2);
		order_relay_wake(b->o.relay);
	}
	/* a record older than the row: a newer one follows and decides */
	if ((int64_t)o->version < st.version && !*st.erp_id)
		return order_book_tx(b, m, ev->meta->event_id, NULL, NULL);
	bool gone = ev->kind == ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_DELETED ||
		    o->status == ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_CANCELLED ||
		    o->status == ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_FAILED;
	if (*st.erp_id)
		return gone && (int64_t)o->version >= st.version ? order_book_cancel(b, m, ev, &st)
								 : order_book_tx(b, m, ev->meta->event_id, NULL, NULL);
	if (gone || !order_book_status_in(b->o.book_statuses, o->source_status))
		return order_book_tx(b, m, ev->meta->event_id, NULL, NULL);
	return order_book_book(b, m, ev, &st);
}

/* ---- payments.v1 and returns.v1: registered once the order is booked -------------------------- */

struct order_book_defer {
	const char *topic, *shop, *id, *item;
	const void *value;
	size_t len;
};

static bool order_book_defer_tx(struct order_lane *b, void *ud, char *err, size_t errlen)
{
	const struct order_book_defer *d = ud;
	/* the order's row locked: a booking committing meanwhile is seen, and the record applied now */
	const char *k[] = { d->shop, d->id };
	PGresult *l = pg_query(b->o.db,
			       "SELECT erp_id IS NOT NULL FROM orders WHERE shop_id = $1 AND external_id = $2"
			       " FOR UPDATE",
			       2, k, err, errlen);
	if (!l)
		return false;
	bool booked = PQntuples(l) == 1 && PQgetvalue(l, 0, 0)[0] == 't';
	PQclear(l);
	if (booked) {
		snprintf(err, errlen, "order %s|%s booked meanwhile", d->shop, d->id);
		return false;
	}
	const char *p[] = { d->topic, d->shop, d->id, d->item, d->value };
	const int lens[] = { 0, 0, 0, 0, (int)d->len }, fmts[] = { 0, 0, 0, 0, 1 };
	PGresult *r = pg_query_params(b->o.db,
				      "INSERT INTO deferred (topic, shop_id, external_id, item_id, record)"
				      " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (topic, shop_id, external_id, item_id)"
				      " DO UPDATE SET record = EXCLUDED.record",
				      5, p, lens, fmts, 0, err, errlen);
	PQclear(r);
	return r != NULL;
}

struct order_book_done {
	const char *sql;
	int n;
	const char *p[4];
};

static bool order_book_done_tx(struct order_lane *b, void *ud, char *err, size_t errlen)
{
	const struct order_book_done *d = ud;
	PGresult *r = pg_query(b->o.db, d->sql, d->n, d->p, err, errlen);
	PQclear(r);
	return r != NULL;
}

static enum order_step order_book_payment_apply(struct order_lane *b, const Erpsync__V1__Payment *p,
						const char *erp_order, struct erp_doc *doc)
{
	char ref[ERP_REF_MAX + 1], err[512];
	snprintf(ref, sizeof ref, "%s|%s|%s", p->shop_id, p->order_external_id, p->payment_id);
	switch (b->o.erp->orders->register_payment(b->o.erp, erp_order, ref, p, doc, err, sizeof err)) {
	case ERP_DONE:
		return STEP_DONE;
	case ERP_REFUSED:
		return order_book_fail(b, STEP_DEAD, "the ERP refused payment %s: %s", ref, err);
	case ERP_FAILED:
		break;
	}
	return order_book_fail(b, STEP_RETRY, "ERP payment %s: %s", ref, err);
}

static bool order_book_payment_counts(const Erpsync__V1__Payment *p)
{
	switch (p->status) {
	case ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_PAID:
	case ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_PARTIALLY_PAID:
	case ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_PARTIALLY_REFUNDED:
	case ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_REFUNDED:
		return p->amount && p->amount->amount_minor > 0;
	default:
		return false;
	}
}

static enum order_step order_book_payment(struct order_lane *b, const rd_kafka_message_t *m,
					  const Erpsync__V1__Payment *p)
{
	if (!order_book_payment_counts(p))
		return order_book_tx(b, m, p->meta->event_id, NULL, NULL);
	char err[512];
	struct order_state st;
	if (!order_book_state(b, p->shop_id, p->order_external_id, &st, err, sizeof err))
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	if (!*st.erp_id) {
		struct order_book_defer d = { b->o.topics->payments, p->shop_id, p->order_external_id,
					      p->payment_id,         m->payload, m->len };
		return order_book_tx(b, m, p->meta->event_id, order_book_defer_tx, &d);
	}
	struct erp_doc doc;
	enum order_step s = order_book_payment_apply(b, p, st.erp_id, &doc);
	if (s != STEP_DONE)
		return s;
	struct order_book_done d = {
		"UPDATE payment SET erp_id = $4 WHERE shop_id = $1 AND external_id = $2 AND payment_id = $3",
		4,
		{ p->shop_id, p->order_external_id, p->payment_id, doc.id }
	};
	return order_book_tx(b, m, p->meta->event_id, order_book_done_tx, &d);
}

static enum order_step order_book_return_apply(struct order_lane *b, const Erpsync__V1__Return *r,
					       const char *erp_order, struct erp_doc *doc)
{
	char ref[ERP_REF_MAX + 1], err[512];
	snprintf(ref, sizeof ref, "%s|%s|%s", r->shop_id, r->order_external_id, r->return_id);
	bool complaint = r->kind == ERPSYNC__V1__RETURN_KIND__RETURN_KIND_COMPLAINT;
	enum erp_result res = complaint ? b->o.erp->orders->create_complaint(b->o.erp, erp_order, ref, r, doc, err,
									     sizeof err)
					: b->o.erp->orders->create_return(b->o.erp, erp_order, ref, r, doc, err,
									  sizeof err);
	switch (res) {
	case ERP_DONE:
		log_info("%s %s: in the ERP as %s %s", complaint ? "complaint" : "return", ref, doc->id, doc->number);
		return STEP_DONE;
	case ERP_REFUSED:
		return order_book_fail(b, STEP_DEAD, "the ERP refused %s %s: %s", complaint ? "complaint" : "return",
				       ref, err);
	case ERP_FAILED:
		break;
	}
	return order_book_fail(b, STEP_RETRY, "ERP %s %s: %s", complaint ? "complaint" : "return", ref, err);
}

/* Whether order-sync already has the ERP document of this return (an update of it, or ours again). */
static int order_book_return_known(struct order_lane *b, const Erpsync__V1__Return *r)
{
	const char *p[] = { r->shop_id, r->order_external_id, r->return_id };
	char err[256];
	PGresult *q = pg_query(b->o.db,
			       "SELECT erp_id IS NOT NULL FROM return_case WHERE shop_id = $1 AND external_id = $2"
			       " AND return_id = $3",
			       3, p, err, sizeof err);
	if (!q)
		return -1;
	int known = PQntuples(q) == 1 && PQgetvalue(q, 0, 0)[0] == 't';
	PQclear(q);
	return known;
}

static enum order_step order_book_complaint_note(struct order_lane *b, const rd_kafka_message_t *m,
						 const Erpsync__V1__Return *r);

static enum order_step order_book_return(struct order_lane *b, const rd_kafka_message_t *m,
					 const Erpsync__V1__Return *r)
{
	char err[512];
	if (!pg_ensure(b->o.db, err, sizeof err))
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	int known = order_book_return_known(b, r);
	if (known < 0)
		return order_book_fail(b, STEP_RETRY, "database: return %s", r->return_id);
	if (known) /* a later state of a case the ERP has: a complaint's decision is told to the customer */
		return r->kind == ERPSYNC__V1__RETURN_KIND__RETURN_KIND_COMPLAINT && r->resolution
			       ? order_book_complaint_note(b, m, r)
			       : order_book_tx(b, m, r->meta->event_id, NULL, NULL);
	if (r->status == ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_REJECTED ||
	    r->status == ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_CANCELLED)
		return order_book_tx(b, m, r->meta->event_id, NULL, NULL);
	struct order_state st;
	if (!order_book_state(b, r->shop_id, r->order_external_id, &st, err, sizeof err))
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	if (!*st.erp_id) {
		struct order_book_defer d = { b->o.topics->returns, r->shop_id, r->order_external_id,
					      r->return_id,         m->payload, m->len };
		return order_book_tx(b, m, r->meta->event_id, order_book_defer_tx, &d);
	}
	struct erp_doc doc;
	enum order_step s = order_book_return_apply(b, r, st.erp_id, &doc);
	if (s != STEP_DONE)
		return s;
	const char *kind = r->kind == ERPSYNC__V1__RETURN_KIND__RETURN_KIND_COMPLAINT     ? "complaint"
			   : r->kind == ERPSYNC__V1__RETURN_KIND__RETURN_KIND_REFUND_ONLY ? "refund_only"
											  : "return";
	(void)kind;
	struct order_book_done d = { "INSERT INTO return_case (shop_id, external_id, return_id, kind, status, version,"
				     " snapshot, erp_id) VALUES ($1, $2, $3, 'return', 'registered', 1, '', $4)"
				     " ON CONFLICT (shop_id, external_id, return_id) DO UPDATE SET erp_id = $4,"
				     " status = 'registered', updated_at = now()",
				     4,
				     { r->shop_id, r->order_external_id, r->return_id, doc.id } };
	if (r->kind == ERPSYNC__V1__RETURN_KIND__RETURN_KIND_COMPLAINT)
		d.sql = "INSERT INTO return_case (shop_id, external_id, return_id, kind, status, version, snapshot,"
			" erp_id) VALUES ($1, $2, $3, 'complaint', 'open', 1, '', $4)"
			" ON CONFLICT (shop_id, external_id, return_id) DO UPDATE SET erp_id = $4, kind = 'complaint',"
			" status = 'open', updated_at = now()";
	return order_book_tx(b, m, r->meta->event_id, order_book_done_tx, &d);
}

/* Applies what waited for the order's booking: payments and returns, in the order they came. */
static enum order_step order_book_deferred(struct order_lane *b, const char *shop, const char *id)
{
	char err[512];
	struct order_state st;
	const char *p[] = { shop, id };
	PGresult *r = pg_query(b->o.db,
			       "SELECT topic, item_id, record FROM deferred WHERE shop_id = $1 AND external_id = $2"
			       " ORDER BY queued_at",
			       2, p, err, sizeof err);
	if (!r)
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return STEP_DONE;
	}
	if (!order_book_state(b, shop, id, &st, err, sizeof err)) {
		PQclear(r);
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	}
	enum order_step s = STEP_DONE;
	for (int i = 0; s == STEP_DONE && i < PQntuples(r); i++) {
		const char *topic = PQgetvalue(r, i, 0), *item = PQgetvalue(r, i, 1);
		size_t n = 0;
		unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 2), &n);
		struct erp_doc doc;
		if (strcmp(topic, b->o.topics->payments) == 0) {
			Erpsync__V1__Payment *pay = raw ? erpsync__v1__payment__unpack(NULL, n, raw) : NULL;
			s = pay ? order_book_payment_apply(b, pay, st.erp_id, &doc) : STEP_DONE;
			erpsync__v1__payment__free_unpacked(pay, NULL);
		} else {
			Erpsync__V1__Return *ret = raw ? erpsync__v1__return__unpack(NULL, n, raw) : NULL;
			s = ret ? order_book_return_apply(b, ret, st.erp_id, &doc) : STEP_DONE;
			if (s == STEP_DONE && ret) {
				const char *q[] = { shop, id, ret->return_id, doc.id };
				PGresult *u = pg_query(
					b->o.db,
					"INSERT INTO return_case (shop_id, external_id, return_id, kind, status, "
					"version,"
					" snapshot, erp_id) VALUES ($1, $2, $3, 'return', 'registered', 1, '', $4)"
					" ON CONFLICT (shop_id, external_id, return_id) DO UPDATE SET erp_id = $4,"
					" status = 'registered', updated_at = now()",
					4, q, err, sizeof err);
				PQclear(u);
			}
			erpsync__v1__return__free_unpacked(ret, NULL);
		}
		PQfreemem(raw);
		if (s == STEP_DEAD) {
			log_error("order %s|%s: a deferred %s (%s) was refused: %s", shop, id, topic, item, b->reason);
			s = STEP_DONE; /* logged and counted; the order's own record goes on */
		}
		if (s == STEP_DONE) {
			const char *q[] = { topic, shop, id, item };
			PGresult *d = pg_query(
				b->o.db,
				"DELETE FROM deferred WHERE topic = $1 AND shop_id = $2 AND external_id = $3"
				" AND item_id = $4",
				4, q, err, sizeof err);
			PQclear(d);
		}
	}
	PQclear(r);
	return s;
}

/* ---- notes to the customer: once each ----------------------------------------------------------- */

/* Puts text on the order once for key: looked up in order-sync's notes, then on the order itself
 * (marker), before it is added. */
static enum order_step order_book_note(struct order_lane *b, const rd_kafka_message_t *m, const char *event_id,
				       const char *shop, const char *id, const char *key, const char *marker,
				       const char *text)
{
	char err[512];
	const struct order_shop *os = order_shops_find(b->o.shops, shop);
	if (!os)
		return order_book_fail(b, STEP_DEAD, "shop %s is not configured here", shop);
	if (!pg_ensure(b->o.db, err, sizeof err))
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	const char *p[] = { shop, id, key };
	PGresult *r = pg_query(b->o.db, "SELECT 1 FROM note WHERE shop_id = $1 AND external_id = $2 AND note_key = $3",
			       3, p, err, sizeof err);
	if (!r)
		return order_book_fail(b, STEP_RETRY, "database: %s", err);
	bool had = PQntuples(r) > 0;
	PQclear(r);
	if (!had) {
		enum shop_lookup l = os->shop->orders->find_note(os->shop, id, marker, err, sizeof err);
		if (l == SHOP_LOOKUP_ERROR)
			return order_book_fail(b, STEP_RETRY, "notes of %s|%s: %s", shop, id, err);
		if (l == SHOP_LOOKUP_NOT_FOUND &&
		    !os->shop->orders->add_note(os->shop, id, text, true, err, sizeof err))
			return order_book_fail(b, STEP_RETRY, "note on %s|%s: %s", shop, id, err);
		if (l == SHOP_LOOKUP_NOT_FOUND)
			metrics_inc(metrics_series1(b->mx.m_notes, shop));
	}
	struct order_book_done d = { "INSERT INTO note (shop_id, external_id, note_key) VALUES ($1, $2, $3)"
				     " ON CONFLICT DO NOTHING",
				     3,
				     { shop, id, key, NULL } };
	return order_book_tx(b, m, event_id, had ? NULL : order_book_done_tx, &d);
}

static enum order_step order_book_shipment(struct order_lane *b, const rd_kafka_message_t *m,
					   const Erpsync__V1__ShipmentEvent *ev)
{
	const Erpsync__V1__Shipment *s = ev->shipment;
	const char *shop = s->shop_id, *id = s->order_external_id;
	if (s->status == ERPSYNC__V1__SHIPMENT_STATUS__SHIPMENT_STATUS_DELIVERED) {
		const struct order_shop *os = order_shops_find(b->o.shops, shop);
		char err[512];
		const char *done = os ? shop_config_status_for(os->cfg, "completed") : NULL;
		enum shop_write w = os && done ? os->shop->orders->set_status(os->shop, id, done, err, sizeof err)
					       : SHOP_WRITE_DONE;
		if (w != SHOP_WRITE_DONE)
			return order_book_fail(b, w == SHOP_WRITE_REFUSED ? STEP_DEAD : STEP_RETRY,
					       "status of %s|%s: %s", shop, id, err);
	}
	if (!s->tracking_number || !*s->tracking_number)
		return order_book_tx(b, m, ev->meta->event_id, NULL, NULL);
	char key[256], text[1024];
	snprintf(key, sizeof key, "shipment:%s:%s", s->shipment_ref, s->tracking_number);
	snprintf(text, sizeof text, "Your order has been shipped with %s. Tracking number: %s%s%s", s->carrier,
		 s->tracking_number, s->tracking_url && *s->tracking_url ? " — track it at " : "",
		 s->tracking_url ? s->tracking_url : "");
	return order_book_note(b, m, ev->meta->event_id, shop, id, key, s->tracking_number, text);
}

static enum order_step order_book_invoice(struct order_lane *b, const rd_kafka_message_t *m,
					  const Erpsync__V1__Invoice *inv)
{
	if (!inv->number || !*inv->number)
		return order_book_tx(b, m, inv->meta->event_id, NULL, NULL);
	char key[256], text[1024];
	snprintf(key, sizeof key, "invoice:%s", inv->number);
	snprintf(text, sizeof text, "Invoice %s has been issued for your order.%s%s", inv->number,
		 inv->pdf_url && *inv->pdf_url ? " Download it: " : "", inv->pdf_url ? inv->pdf_url : "");
	return order_book_note(b, m, inv->meta->event_id, inv->shop_id, inv->order_external_id, key, inv->number, text);
}

static const char *order_book_remedy(Erpsync__V1__ComplaintRemedy r)
{
	switch (r) {
	case ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REPAIR:
		return "repair";
	case ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REPLACEMENT:
		return "replacement";
	case ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REFUND:
		return "refund";
	case ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_PRICE_REDUCTION:
		return "price reduction";
	default:
		return "undecided";
	}
}

static enum order_step order_book_complaint_note(struct order_lane *b, const rd_kafka_message_t *m,
						 const Erpsync__V1__Return *r)
{
	bool rejected = r->status == ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_REJECTED;
	char key[256], marker[256], text[2048];
	snprintf(key, sizeof key, "complaint:%s:%s", r->return_id,
		 rejected ? "rejected" : order_book_remedy(r->resolution));
	snprintf(marker, sizeof marker, "Complaint %s", r->return_id);
	snprintf(text, sizeof text, "Complaint %s: %s%s%s%s", r->return_id,
		 rejected ? "not accepted" : "accepted, resolution: ", rejected ? "" : order_book_remedy(r->resolution),
		 r->decision_note && *r->decision_note ? ". " : "", r->decision_note ? r->decision_note : "");
	return order_book_note(b, m, r->meta->event_id, r->shop_id, r->order_external_id, key, key, text);
	(void)marker;
}

/* ---- erp.orders.v1: the ERP's status to the shop ----------------------------------------------- */

static enum order_step order_book_erp_order(struct order_lane *b, const rd_kafka_message_t *m,
					    const Erpsync__V1__OrderEvent *ev)
{
	const Erpsync__V1__Order *o = ev->order;
	if (ev->kind != ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_STATUS_CHANGED)
		return STEP_DONE; /* a booking (order-sync's own) or an update: nothing to do */
	const struct order_shop *os = order_shops_find(b->o.shops, o->shop_id);
	const char *slug = os ? shop_config_status_for(os->cfg, o->source_status) : NULL;
	if (slug) {
		char err[512];
		enum shop_write w = os->shop->orders->set_status(os->shop, o->external_id, slug, err, sizeof err);
		if (w != SHOP_WRITE_DONE)
			return order_book_fail(b, w == SHOP_WRITE_REFUSED ? STEP_DEAD : STEP_RETRY,
					       "status of %s|%s: %s", o->shop_id, o->external_id, err);
		log_info("order %s|%s: ERP status %s -> shop status %s", o->shop_id, o->external_id, o->source_status,
			 slug);
	}
	/* setting a status the order has is a no-op at the shop: no inbox claim needed, and none made
	 * (a transaction per record of order-sync's own bookings was a fifth of the booking's cost) */
	(void)m;
	return STEP_DONE;
}

/* ---- the loop ------------------------------------------------------------------------------------ */

static enum order_step order_book_handle(struct order_lane *b, const rd_kafka_message_t *m)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	const struct order_topics *t = b->o.topics;
	const uint8_t *v = m->payload;
	size_t n = m->len;
	enum order_step s = order_book_fail(b, STEP_DEAD, "not a record order-sync reads");
	if (strcmp(topic, t->shop_orders) == 0 || strcmp(topic, t->erp_orders) == 0) {
		Erpsync__V1__OrderEvent *ev = erpsync__v1__order_event__unpack(NULL, n, v);
		if (!ev || !ev->meta || !ev->meta->event_id || !*ev->meta->event_id || !ev->order ||
		    !*ev->order->shop_id || !*ev->order->external_id)
			s = order_book_fail(b, STEP_DEAD, "not an OrderEvent with meta.event_id, shop_id, external_id");
		else
			s = strcmp(topic, t->shop_orders) == 0 ? order_book_shop_order(b, m, ev)
							       : order_book_erp_order(b, m, ev);
		erpsync__v1__order_event__free_unpacked(ev, NULL);
	} else if (strcmp(topic, t->payments) == 0) {
		Erpsync__V1__Payment *p = erpsync__v1__payment__unpack(NULL, n, v);
		if (!p || !p->meta || !*p->meta->event_id || !*p->shop_id || !*p->order_external_id || !*p->payment_id)
			s = order_book_fail(b, STEP_DEAD, "not a Payment with meta.event_id, shop, order, payment_id");
		else
			s = order_book_payment(b, m, p);
		erpsync__v1__payment__free_unpacked(p, NULL);
	} else if (strcmp(topic, t->returns) == 0) {
		Erpsync__V1__Return *r = erpsync__v1__return__unpack(NULL, n, v);
		if (!r || !r->meta || !*r->meta->event_id || !*r->shop_id || !*r->order_external_id || !*r->return_id)
			s = order_book_fail(b, STEP_DEAD, "not a Return with meta.event_id, shop, order, return_id");
		else
			s = order_book_return(b, m, r);
		erpsync__v1__return__free_unpacked(r, NULL);
	} else if (strcmp(topic, t->shipments) == 0) {
		Erpsync__V1__ShipmentEvent *ev = erpsync__v1__shipment_event__unpack(NULL, n, v);
		if (!ev || !ev->meta || !*ev->meta->event_id || !ev->shipment || !*ev->shipment->shop_id ||
		    !*ev->shipment->order_external_id)
			s = order_book_fail(b, STEP_DEAD, "not a ShipmentEvent with meta.event_id, shop, order");
		else
			s = order_book_shipment(b, m, ev);
		erpsync__v1__shipment_event__free_unpacked(ev, NULL);
	} else if (strcmp(topic, t->invoices) == 0) {
		Erpsync__V1__Invoice *inv = erpsync__v1__invoice__unpack(NULL, n, v);
		if (!inv || !inv->meta || !*inv->meta->event_id || !*inv->shop_id || !*inv->order_external_id)
			s = order_book_fail(b, STEP_DEAD, "not an Invoice with meta.event_id, shop, order");
		else
			s = order_book_invoice(b, m, inv);
		erpsync__v1__invoice__free_unpacked(inv, NULL);
	}
	return s;
}

/* Handles one record until it is done, dead-lettered, or the lane stops (then it is left for the
 * next owner of its partition); true when its offset may be stored. */
static bool order_lane_handle(struct order_lane *b, rd_kafka_message_t *m)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	enum order_step s;
	for (b->attempts = 0;; b->attempts++) {
		if (!pg_ensure(b->o.db, b->reason, sizeof b->reason))
			s = STEP_RETRY;
		else
			s = order_book_handle(b, m);
		if (s != STEP_RETRY)
			break;
		long back = ORDER_BOOK_BACKOFF_MIN << (b->attempts < 6 ? b->attempts : 6);
		if (back > ORDER_BOOK_BACKOFF_MAX)
			back = ORDER_BOOK_BACKOFF_MAX;
		if (b->attempts == 0 || b->attempts % 10 == 9)
			log_warn("%s [%d] @%" PRId64 ": %s; trying again (attempt %u)", topic, m->partition, m->offset,
				 b->reason, b->attempts + 1);
		metrics_inc(metrics_series1(b->mx.m_retry, topic));
		for (long waited = 0; waited < back; waited += 50) {
			if (atomic_load(&b->stopping) || shutdown_requested())
				return false;
			shutdown_sleep_ms(50);
		}
	}
	if (s == STEP_DEAD) {
		log_warn("%s [%d] @%" PRId64 ": dead-lettered: %s", topic, m->partition, m->offset, b->reason);
		while (!kafka_dlq_send(b->o.dlq, m, ORDER_BOOK_SERVICE, b->reason, b->attempts + 1)) {
			if (atomic_load(&b->stopping) || shutdown_requested())
				return false;
			shutdown_sleep_ms(ORDER_BOOK_BACKOFF_MAX);
		}
	} else {
		metrics_inc(metrics_series1(b->mx.m_applied, topic));
	}
	return true;
}

static void *order_lane_main(void *ud)
{
	struct order_lane *b = ud;
	for (;;) {
		pthread_mutex_lock(&b->mu);
		while (b->n == 0 && !atomic_load(&b->stopping))
			pthread_cond_wait(&b->cond, &b->mu);
		if (atomic_load(&b->stopping)) {
			pthread_mutex_unlock(&b->mu);
			break;
		}
		rd_kafka_message_t *m = b->q[b->head];
		b->head = (b->head + 1) % ORDER_BOOK_QUEUE;
		b->n--;
		pthread_cond_signal(&b->space);
		pthread_mutex_unlock(&b->mu);
		if (order_lane_handle(b, m) && !kafka_consumer_store(b->o.consumer, m))
			log_warn("%s [%d] @%" PRId64
				 ": offset not stored (a rebalance?); the inbox absorbs its redelivery",
				 rd_kafka_topic_name(m->rkt), m->partition, m->offset);
		rd_kafka_message_destroy(m);
	}
	return NULL;
}

int order_book_run_once(struct order_book *bk, int timeout_ms)
{
	rd_kafka_message_t *m = kafka_consumer_poll(bk->o.consumer, timeout_ms);
	if (!m)
		return 0;
	/* a partition's records go to one lane, in order; the same partition of every topic to the same
	 * lane, so that one order's records (keyed alike) are handled in the order they were consumed */
	struct order_lane *l = &bk->lanes[(size_t)(m->partition < 0 ? 0 : m->partition) % bk->nlanes];
	pthread_mutex_lock(&l->mu);
	while (l->n == ORDER_BOOK_QUEUE && !shutdown_requested()) {
		struct timespec dl = event_deadline(CLOCK_MONOTONIC, 100);
		pthread_cond_timedwait(&l->space, &l->mu, &dl);
	}
	bool queued = l->n < ORDER_BOOK_QUEUE;
	if (queued) {
		l->q[(l->head + l->n) % ORDER_BOOK_QUEUE] = m;
		l->n++;
		pthread_cond_signal(&l->cond);
	}
	pthread_mutex_unlock(&l->mu);
	if (!queued)
		rd_kafka_message_destroy(m); /* stopping: not stored, delivered again */
	return 1;
}

static void order_lane_cleanup(struct order_lane *l)
{
	if (!l->inited)
		return;
	if (l->started) {
		pthread_mutex_lock(&l->mu);
		atomic_store(&l->stopping, true);
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->mu);
		if (!shutdown_join(l->thread, "order lane"))
			return; /* still in a call past the stop's bound: leave it what it uses */
	}
	for (size_t i = 0; i < l->n; i++)
		rd_kafka_message_destroy(l->q[(l->head + i) % ORDER_BOOK_QUEUE]);
	l->n = 0;
	erp_free(l->o.erp);
	pg_free(l->o.db);
	order_shops_free(&l->own_shops);
	pthread_cond_destroy(&l->space);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
}

static bool order_lane_init(struct order_lane *l, const struct order_book_opts *o, const struct order_metrics *mx,
			    size_t index)
{
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, NULL);
	pthread_cond_init(&l->space, &ca);
	pthread_condattr_destroy(&ca);
	l->inited = true;
	l->index = index;
	l->mx = *mx;
	l->o = (struct order_lane_ctx){ pg_new(o->dsn, ORDER_DB_SCHEMA),
					erp_rest_new(o->erp_url, o->erp_token, o->erp_rate),
					&l->own_shops,
					o->topics,
					o->relay,
					o->consumer,
					o->dlq,
					o->book_statuses };
	if (!l->o.db || !l->o.erp || !l->o.erp->orders || !order_shops_connect(&l->own_shops, o->shop_cfg, o->nshops))
		return false;
	char err[256];
	if (!pg_ensure(l->o.db, err, sizeof err))
		log_warn("order lane %zu: PostgreSQL not reached yet (tried again with its first record): %s", index,
			 err);
	l->started = pthread_create(&l->thread, NULL, order_lane_main, l) == 0;
	return l->started;
}

struct order_book *order_book_new(const struct order_book_opts *o)
{
	static const char *const shop_l[] = { "shop", NULL };
	static const char *const topic_l[] = { "topic", NULL };
	static const char *const held_l[] = { "shop", "reason", NULL };
	static const double lat[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60 };
	struct order_book *bk = calloc(1, sizeof *bk);
	if (!bk)
		return NULL;
	bk->o = *o;
	struct order_metrics mx;
	mx.m_booked = metrics_counter("erpsync_order_booked_total", "Shop orders booked in the ERP", shop_l);
	mx.m_found = metrics_counter("erpsync_order_booking_found_total",
				     "Bookings resolved by finding the order already in the ERP (a lost answer)",
				     shop_l);
	mx.m_held = metrics_counter("erpsync_order_held_total", "Orders held (dead-lettered) by reason", held_l);
	mx.m_dup = metrics_counter("erpsync_order_duplicates_dropped_total",
				   "Records whose event id was applied before", topic_l);
	mx.m_applied = metrics_counter("erpsync_order_records_applied_total", "Records consumed and applied", topic_l);
	mx.m_retry = metrics_counter("erpsync_order_record_retries_total",
				     "Tries of a record that a peer or the database failed", topic_l);
	mx.m_notes = metrics_counter("erpsync_order_notes_added_total", "Notes added to shop orders", shop_l);
	mx.m_latency = metrics_histogram("erpsync_order_shop_to_erp_seconds",
					 "From a shop order's arrival at order-sync to its booking in the ERP", shop_l,
					 lat, sizeof lat / sizeof lat[0]);
	bk->nlanes = o->lanes ? o->lanes : 1;
	bk->lanes = calloc(bk->nlanes, sizeof *bk->lanes);
	bool ok = bk->lanes != NULL;
	for (size_t i = 0; ok && i < bk->nlanes; i++)
		ok = order_lane_init(&bk->lanes[i], o, &mx, i);
	if (!ok) {
		log_error("order lanes: cannot start");
		order_book_free(bk);
		return NULL;
	}
	return bk;
}

void order_book_free(struct order_book *bk)
{
	if (!bk)
		return;
	for (size_t i = 0; bk->lanes && i < bk->nlanes; i++)
		order_lane_cleanup(&bk->lanes[i]);
	free(bk->lanes);
	free(bk);
}
