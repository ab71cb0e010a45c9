#include "order_poller.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erp.h"
#include "erp_rest.h"
#include "event.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "order_db.h"
#include "order_event.h"
#include "order_intake.h"
#include "order_map.h"
#include "order_relay.h"
#include "order_shops.h"
#include "pg.h"
#include "pg_leader.h"
#include "shop.h"
#include "shop_config.h"
#include "shop_order.h"
#include "shutdown.h"

#define ORDER_POLLER_TICK_MS   100
#define ORDER_POLLER_ERP_LIMIT 500
#define ORDER_POLLER_CURSOR    64
#define ORDER_POLLER_PRUNE_US  (3600LL * 1000000) /* how often old inbox and delivery rows go */
#define ORDER_POLLER_PRUNE_MAX 100                /* batches of 10,000 delivery ids a prune removes */

struct order_poller {
	struct order_poller_opts o;
	struct pg *db;
	struct erp *erp;
	struct pg_leader leader;
	pthread_t thread;
	bool started;
	atomic_bool stopping;
	int64_t next_shop_us, next_erp_us, next_prune_us; /* monotonic */
	struct metric_family *m_polled, *m_changes;
};

/* ---- the shops: orders modified since the cursor -------------------------------------------------- */

static void order_poller_reject(struct order_poller *p, const char *shop, const struct shop_order_reject *r)
{
	char key[256];
	int klen = order_map_ref(key, sizeof key, shop, r->external_id);
	const struct kafka_dlq_record rec = {
		p->o.topics->shop_orders, -1, -1, key, (size_t)(klen > 0 ? klen : 0), r->body, strlen(r->body), NULL
	};
	log_warn("shop %s: polled order %s cannot be taken in: %s", shop, r->external_id, r->reason);
	if (!kafka_dlq_send_record(p->o.dlq, &rec, "order-sync", r->reason, 1))
		log_error("shop %s: order %s not dead-lettered (the next poll finds it again)", shop, r->external_id);
}

static bool order_poller_shop(struct order_poller *p, const struct order_shop *os)
{
	char name[ORDER_POLLER_CURSOR], err[512];
	snprintf(name, sizeof name, "shop:%s:modified", os->cfg->id);
	char *cur = NULL;
	if (!order_db_cursor_get(p->db, name, &cur, err, sizeof err)) {
		log_warn("shop %s: poll cursor: %s", os->cfg->id, err);
		return false;
	}
	int64_t after = cur ? strtoll(cur, NULL, 10) : 0, newest = after;
	free(cur);
	size_t taken = 0, seen = 0;
	bool ok = true;
	for (int page = 1; ok && !shutdown_requested(); page++) {
		struct shop_order_page pg = { 0 };
		if (!os->shop->orders->list_modified(os->shop, after, 0, page, &pg, err, sizeof err)) {
			log_warn("shop %s: polling orders: %s", os->cfg->id, err);
			ok = false;
			break;
		}
		for (size_t i = 0; ok && i < pg.n; i++) {
			const struct order_intake_in in = {
				os->cfg->id, pg.orders[i], NULL, false, ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_POLL,
				NULL,        false
			};
			enum order_intake_result r = order_intake(p->db, p->o.topics, &in, err, sizeof err);
			if (r == ORDER_INTAKE_FAILED) {
				log_warn("shop %s: polled order %s not taken in: %s", os->cfg->id,
					 pg.orders[i]->external_id, err);
				ok = false;
			} else {
				taken += r == ORDER_INTAKE_TAKEN;
				seen++;
				if (pg.orders[i]->updated_at_us > newest)
					newest = pg.orders[i]->updated_at_us;
			}
		}
		for (size_t i = 0; ok && i < pg.nrejects; i++)
			order_poller_reject(p, os->cfg->id, &pg.rejects[i]);
		bool more = page < pg.total_pages;
		shop_order_page_cleanup(&pg);
		if (!more)
			break;
	}
	if (taken)
		order_relay_wake(p->o.relay);
	metrics_add(metrics_series1(p->m_polled, os->cfg->id), (double)taken);
	if (taken)
		log_info("shop %s: the poll found %zu order change(s) no webhook had brought (%zu listed)", os->cfg->id,
			 taken, seen);
	if (ok && newest > after) {
		char v[24];
		snprintf(v, sizeof v, "%" PRId64, newest);
		if (!order_db_cursor_set(p->db, name, v, err, sizeof err))
			log_warn("shop %s: poll cursor not saved: %s", os->cfg->id, err);
	}
	return ok;
}

/* ---- the ERP: status changes and complaint decisions ------------------------------------------- */

/* Splits "<shop>|<order id>" (a reference erpsync gave); false when it is not one. */
static bool order_poller_ref(const char *ref, char *shop, size_t shoplen, const char **id)
{
	const char *bar = strchr(ref, '|');
	if (!bar || bar == ref || !bar[1] || (size_t)(bar - ref) >= shoplen)
		return false;
	memcpy(shop, ref, (size_t)(bar - ref));
	shop[bar - ref] = '\0';
	*id = bar + 1;
	return strchr(*id, '|') == NULL;
}

/* Inside a transaction: the order's new ERP status recorded and published; nothing when unchanged,
 * and nothing for an order not booked yet (its booking takes the ERP's status as it is then: the
 * booker alone records bookings, and with them applies what waited for them). */
static bool order_poller_status(struct pg *db, const struct order_topics *t, const struct erp_order_change *c,
				char *err, size_t errlen)
{
	char shop[65];
	const char *id;
	if (!order_poller_ref(c->external_ref, shop, sizeof shop, &id))
		return true; /* not booked by erpsync */
	char changed[24];
	snprintf(changed, sizeof changed, "%" PRId64, c->changed_at_us);
	const char *q[] = { shop, id, c->status, c->order_id, c->number, changed };
	/* a change older than the one applied (the feed read after a push of a later one) is not
	 * applied again: the shop's status never steps back */
	PGresult *r = pg_query(db,
			       "UPDATE orders SET erp_status = $3, erp_version = erp_version + 1,"
			       " erp_number = coalesce(erp_number, nullif($5, '')), erp_changed_us = $6::bigint"
			       " WHERE shop_id = $1 AND external_id = $2 AND erp_status IS DISTINCT FROM $3"
			       " AND erp_id = $4 AND erp_changed_us < $6::bigint"
			       " RETURNING snapshot, erp_version, erp_id, coalesce(erp_number, ''),"
			       " (SELECT o.erp_status FROM orders o WHERE o.shop_id = $1 AND o.external_id = $2)",
			       6, q, err, errlen);
	if (!r)
		return false;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return true;
	}
	size_t n = 0;
	unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
	Erpsync__V1__Order *o = raw ? erpsync__v1__order__unpack(NULL, n, raw) : NULL;
	PQfreemem(raw);
	bool ok = o != NULL;
	if (ok) {
		Erpsync__V1__OrderStatus old = o->status;
		o->version = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
		char *erp_id = PQgetvalue(r, 0, 2), *erp_number = PQgetvalue(r, 0, 3);
		char *saved_id = o->erp_id, *saved_number = o->erp_number, *saved_status = o->source_status;
		o->erp_id = erp_id;
		o->erp_number = erp_number;
		o->status = order_map_erp_status(c->status);
		o->source_status = (char *)c->status;
		Erpsync__V1__OrderEvent ev = ERPSYNC__V1__ORDER_EVENT__INIT;
		Erpsync__V1__OrderStatusChanged sc = ERPSYNC__V1__ORDER_STATUS_CHANGED__INIT;
		Erpsync__V1__EventMeta meta;
		struct order_event_ids ids;
		order_event_meta(&meta, &ids, NULL, c->changed_at_us, "erp:rest",
				 ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_POLL, NULL);
		sc.old_status = old;
		sc.new_status = o->status;
		sc.reason = (char *)c->reason;
		sc.changed_at = c->changed_at_us;
		ev.meta = &meta;
		ev.kind = ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_STATUS_CHANGED;
		ev.order = o;
		ev.status_change = &sc;
		ok = order_event_queue_order(db, t->erp_orders, &ev, err, errlen);
		o->erp_id = saved_id;
		o->erp_number = saved_number;
		o->source_status = saved_status;
		log_info("order %s: ERP status %s", c->external_ref, c->status);
	} else {
		snprintf(err, errlen, "order %s: its kept state does not decode", c->external_ref);
	}
	erpsync__v1__order__free_unpacked(o, NULL);
	PQclear(r);
	return ok;
}

static Erpsync__V1__ComplaintRemedy order_poller_remedy(const char *s)
{
	if (strcmp(s, "repair") == 0)
		return ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REPAIR;
	if (strcmp(s, "replacement") == 0)
		return ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REPLACEMENT;
	if (strcmp(s, "refund") == 0)
		return ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REFUND;
	if (strcmp(s, "price_reduction") == 0)
		return ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_PRICE_REDUCTION;
	return ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_UNSPECIFIED;
}

/* Inside a transaction: a complaint's decision recorded and published (the updated case; an
 * accepted refund also as a return of its own, which then flows like any return). */
static bool order_poller_complaint(struct pg *db, const struct order_topics *t, const struct erp_complaint_change *c,
				   char *err, size_t errlen)
{
	const char *q[] = { c->complaint_id, c->status };
	PGresult *r = pg_query(db,
			       "UPDATE return_case SET status = $2, version = version + 1, updated_at = now()"
			       " WHERE kind = 'complaint' AND erp_id = $1 AND status IS DISTINCT FROM $2"
			       " RETURNING shop_id, external_id, return_id, snapshot, version",
			       2, q, err, errlen);
	if (!r)
		return false;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return true;
	}
	size_t n = 0;
	unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 3), &n);
	Erpsync__V1__Return *ret = raw && n ? erpsync__v1__return__unpack(NULL, n, raw) : NULL;
	PQfreemem(raw);
	bool ok = true;
	if (!ret) {
		log_warn("complaint %s: no kept case to update (filed outside order-sync?)", c->complaint_id);
	} else {
		Erpsync__V1__EventMeta meta;
		struct order_event_ids ids;
		order_event_meta(&meta, &ids, NULL, c->changed_at_us, "erp:rest",
				 ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_POLL, NULL);
		Erpsync__V1__EventMeta *saved_meta = ret->meta;
		char *saved_note = ret->decision_note, *saved_erp = ret->erp_id;
		ret->meta = &meta;
		ret->version = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
		bool accepted = strcmp(c->status, "accepted") == 0 || strcmp(c->status, "resolved") == 0;
		ret->status = accepted ? ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_APPROVED
			      : strcmp(c->status, "rejected") == 0
				      ? ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_REJECTED
				      : ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_REQUESTED;
		ret->resolution = order_poller_remedy(c->resolution);
		ret->decision_note = (char *)c->note;
		ret->erp_id = (char *)c->complaint_id;
		ok = order_event_queue_return(db, t->returns, ret, err, errlen);
		if (ok && accepted && ret->resolution == ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REFUND &&
		    c->refund_minor > 0) {
			/* the refund the complaint ended in, as a return of its own (once: its id) */
			char rid[160];
			snprintf(rid, sizeof rid, "%s-refund", ret->return_id);
			const char *ins[] = { ret->shop_id, ret->order_external_id, rid };
			PGresult *x = pg_query(db,
					       "INSERT INTO return_case (shop_id, external_id, return_id, kind, status,"
					       " version, snapshot) VALUES ($1, $2, $3, 'return', 'requested', 1, '')"
					       " ON CONFLICT DO NOTHING",
					       3, ins, err, errlen);
			ok = x != NULL;
			bool fresh = ok && strcmp(PQcmdTuples(x), "1") == 0;
			PQclear(x);
			if (fresh) {
				Erpsync__V1__EventMeta m2;
				struct order_event_ids ids2;
				order_event_meta(&m2, &ids2, meta.traceparent, c->changed_at_us, "erp:rest",
						 ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_DERIVED, meta.event_id);
				Erpsync__V1__Return back = *ret;
				Erpsync__V1__Amounts tot = ERPSYNC__V1__AMOUNTS__INIT;
				tot.currency = ret->total_refund && ret->total_refund->currency
						       ? ret->total_refund->currency
						       : (char *)"PLN";
				tot.gross_minor = c->refund_minor;
				tot.net_minor = c->refund_minor;
				back.meta = &m2;
				back.return_id = rid;
				back.kind = ERPSYNC__V1__RETURN_KIND__RETURN_KIND_RETURN;
				back.status = ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_APPROVED;
				back.total_refund = &tot;
				back.version = 1;
				back.erp_id = (char *)"";
				back.resolution = ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_UNSPECIFIED;
				ok = order_event_queue_return(db, t->returns, &back, err, errlen);
			}
		}
		ret->meta = saved_meta;
		ret->decision_note = saved_note;
		ret->erp_id = saved_erp;
		log_info("complaint %s (%s|%s): %s %s", c->complaint_id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
			 c->status, c->resolution);
	}
	erpsync__v1__return__free_unpacked(ret, NULL);
	PQclear(r);
	return ok;
}

bool order_poller_apply(struct pg *db, const struct order_topics *t, const struct erp_change_page *page,
			bool complaints, char *err, size_t errlen)
{
	bool ok = true;
	for (size_t i = 0; ok && i < page->n; i++)
		ok = complaints ? order_poller_complaint(db, t, &page->complaints[i], err, errlen)
				: order_poller_status(db, t, &page->orders[i], err, errlen);
	return ok;
}

/* One feed: pages after its cursor, each page and its cursor in one transaction. */
static bool order_poller_feed(struct order_poller *p, bool complaints)
{
	const char *name = complaints ? "erp:complaint-changes" : "erp:order-changes";
	char err[512];
	for (int pages = 0; pages < 100 && !shutdown_requested(); pages++) {
		char *cur = NULL;
		if (!order_db_cursor_get(p->db, name, &cur, err, sizeof err))
			break;
		struct erp_change_page page = { 0 };
		bool ok = complaints ? p->erp->orders->complaint_changes(p->erp, cur ? cur : "", ORDER_POLLER_ERP_LIMIT,
									 &page, err, sizeof err)
				     : p->erp->orders->order_changes(p->erp, cur ? cur : "", ORDER_POLLER_ERP_LIMIT,
								     &page, err, sizeof err);
		free(cur);
		if (!ok) {
			log_warn("ERP %s: %s", name, err);
			return false;
		}
		ok = pg_begin(p->db, err, sizeof err) &&
		     order_poller_apply(p->db, p->o.topics, &page, complaints, err, sizeof err);
		ok = ok &&
		     (!*page.next_cursor || order_db_cursor_set(p->db, name, page.next_cursor, err, sizeof err)) &&
		     pg_commit(p->db, err, sizeof err);
		if (!ok) {
			pg_rollback(p->db);
			log_warn("ERP %s: not recorded: %s", name, err);
			erp_change_page_cleanup(&page);
			return false;
		}
		metrics_add(metrics_series1(p->m_changes, complaints ? "complaint" : "order"), (double)page.n);
		if (page.n)
			order_relay_wake(p->o.relay);
		bool more = page.has_more && page.n > 0;
		erp_change_page_cleanup(&page);
		if (!more)
			break;
	}
	return true;
}

/* Old inbox rows and webhook delivery ids: a redelivery older than INBOX_KEEP_DAYS is not expected. */
static void order_poller_prune(struct order_poller *p)
{
	char err[256], days[24];
	int n = pg_inbox_prune(p->db, (int)p->o.keep_days, err, sizeof err);
	if (n < 0)
		log_warn("inbox prune: %s", err);
	snprintf(days, sizeof days, "%lld", p->o.keep_days);
	const char *q[] = { days };
	long total = 0;
	for (int i = 0; i < ORDER_POLLER_PRUNE_MAX && !shutdown_requested(); i++) {
		PGresult *r = pg_query(
			p->db,
			"DELETE FROM delivery WHERE ctid IN (SELECT ctid FROM delivery WHERE received_at <"
			" now() - make_interval(days => $1::int) LIMIT 10000)",
			1, q, err, sizeof err);
		if (!r) {
			log_warn("delivery prune: %s", err);
			break;
		}
		long k = strtol(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		total += k;
		if (k < 10000)
			break;
	}
	if (n > 0 || total > 0)
		log_info("pruned %d applied event ids and %ld webhook delivery ids older than %lld days", n, total,
			 p->o.keep_days);
}

static void *order_poller_main(void *ud)
{
	struct order_poller *p = ud;
	while (!shutdown_requested() && !atomic_load(&p->stopping)) {
		char err[256];
		int64_t now = event_monotonic_us();
		bool due_shop = now >= p->next_shop_us, due_erp = now >= p->next_erp_us;
		if ((due_shop || due_erp) && pg_ensure(p->db, err, sizeof err) && pg_leader_hold(p->db, &p->leader)) {
			if (due_erp) {
				(void)order_poller_feed(p, false);
				(void)order_poller_feed(p, true);
				p->next_erp_us = event_monotonic_us() + p->o.erp_interval_ms * 1000;
			}
			for (size_t i = 0; due_shop && i < p->o.shops->n; i++)
				(void)order_poller_shop(p, &p->o.shops->v[i]);
			if (due_shop)
				p->next_shop_us = event_monotonic_us() + p->o.shop_interval_ms * 1000;
			if (event_monotonic_us() >= p->next_prune_us) {
				order_poller_prune(p);
				p->next_prune_us = event_monotonic_us() + ORDER_POLLER_PRUNE_US;
			}
		}
		shutdown_sleep_ms(ORDER_POLLER_TICK_MS);
	}
	return NULL;
}

struct order_poller *order_poller_start(const struct order_poller_opts *o)
{
	static const char *const shop_l[] = { "shop", NULL };
	static const char *const feed_l[] = { "feed", NULL };
	struct order_poller *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->o = *o;
	p->leader.role = "order-sync:poller";
	p->m_polled = metrics_counter("erpsync_order_polled_total",
				      "Order changes found by polling the shop that no webhook had brought", shop_l);
	p->m_changes = metrics_counter("erpsync_order_erp_changes_total", "ERP changes read from its feeds", feed_l);
	p->db = pg_new(o->dsn, ORDER_DB_SCHEMA);
	p->erp = p->db ? erp_rest_new(o->erp_url, o->erp_token, o->erp_rate) : NULL;
	p->next_shop_us = event_monotonic_us() + 2 * 1000000; /* the first poll once started up */
	p->next_prune_us = event_monotonic_us() + 60 * 1000000LL;
	if (!p->erp || !p->erp->orders || pthread_create(&p->thread, NULL, order_poller_main, p) != 0) {
		log_error("poller: cannot start");
		order_poller_stop(p);
		return NULL;
	}
	p->started = true;
	return p;
}

void order_poller_stop(struct order_poller *p)
{
	if (!p)
		return;
	atomic_store(&p->stopping, true);
	if (p->started && !shutdown_join(p->thread, "order poller"))
		return;
	erp_free(p->erp);
	pg_free(p->db);
	free(p);
}
