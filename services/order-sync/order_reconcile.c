#include "order_reconcile.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "erp.h"
#include "erp_rest.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "order_db.h"
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

#define ORDER_RECONCILE_TICK_MS      200
#define ORDER_RECONCILE_FINDINGS_MAX 200 /* findings kept for GET /admin/reconcile */
#define ORDER_RECONCILE_ERP_PAGES    10000

struct order_reconcile {
	struct order_reconcile_opts o;
	struct pg *db;
	struct erp *erp;
	struct pg_leader leader;
	pthread_t thread;
	bool started;
	atomic_bool stopping, requested, running;
	int64_t next_us; /* monotonic */
	pthread_mutex_t mu;
	char *last; /* JSON of the last run */
	struct metric_family *m_findings;
	struct metric_family *m_runs;
};

static int order_reconcile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct erp_doc *)a)->external_ref, ((const struct erp_doc *)b)->external_ref);
}

/* How many ERP orders carry ref, and the first. */
static size_t order_reconcile_count(const struct erp_doc *v, size_t n, const char *ref, const struct erp_doc **first)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(v[mid].external_ref, ref) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t k = 0;
	while (lo + k < n && strcmp(v[lo + k].external_ref, ref) == 0)
		k++;
	*first = k ? &v[lo] : NULL;
	return k;
}

static bool order_reconcile_status_in(const char *list, const char *status)
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

struct order_reconcile_run {
	int64_t id;
	size_t shop_orders, erp_orders, missing, duplicated, mismatched, booked;
	json_t *findings;
};

static void order_reconcile_finding(struct order_reconcile *r, struct order_reconcile_run *run, const char *kind,
				    const char *shop, const char *id, const char *detail)
{
	log_warn("reconciliation: %s order %s|%s: %s", kind, shop, id, detail);
	metrics_inc(metrics_series2(r->m_findings, shop, kind));
	if (json_array_size(run->findings) < ORDER_RECONCILE_FINDINGS_MAX)
		json_array_append_new(run->findings, json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "shop", shop,
							       "order", id, "detail", detail));
	char rid[24];
	snprintf(rid, sizeof rid, "%" PRId64, run->id);
	const char *p[] = { rid, kind, shop, id, detail };
	char err[256];
	PGresult *q = pg_query(r->db,
			       "INSERT INTO reconcile_finding (run_id, kind, shop_id, external_id, detail)"
			       " VALUES ($1, $2, $3, $4, $5)",
			       5, p, err, sizeof err);
	if (!q)
		log_warn("reconciliation: finding not stored: %s", err);
	PQclear(q);
}

static bool order_reconcile_shop(struct order_reconcile *r, struct order_reconcile_run *run,
				 const struct order_shop *os, const struct erp_doc *erp, size_t nerp, int64_t from_us)
{
	char err[512];
	for (int page = 1; !shutdown_requested(); page++) {
		struct shop_order_page pg = { 0 };
		if (!os->shop->orders->list_modified(os->shop, from_us, 0, page, &pg, err, sizeof err)) {
			log_warn("reconciliation: shop %s: %s", os->cfg->id, err);
			return false;
		}
		for (size_t i = 0; i < pg.n; i++) {
			const struct shop_order *so = pg.orders[i];
			if (!order_reconcile_status_in(r->o.book_statuses, so->status))
				continue;
			run->shop_orders++;
			char ref[ERP_REF_MAX + 1], detail[640];
			order_map_ref(ref, sizeof ref, os->cfg->id, so->external_id);
			const struct erp_doc *first;
			size_t k = order_reconcile_count(erp, nerp, ref, &first);
			if (k == 0) {
				run->missing++;
				const struct order_intake_in in = {
					os->cfg->id,
					so,
					NULL,
					false,
					ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_RECONCILIATION,
					NULL,
					true
				};
				enum order_intake_result res = order_intake(r->db, r->o.topics, &in, err, sizeof err);
				run->booked += res == ORDER_INTAKE_TAKEN;
				snprintf(detail, sizeof detail, "not in the ERP; %s",
					 res == ORDER_INTAKE_TAKEN ? "taken in again to be booked" : err);
				order_reconcile_finding(r, run, "missing", os->cfg->id, so->external_id, detail);
			} else if (k > 1) {
				run->duplicated++;
				snprintf(detail, sizeof detail, "%zu ERP orders carry this reference (first %s)", k,
					 first->id);
				order_reconcile_finding(r, run, "duplicated", os->cfg->id, so->external_id, detail);
			} else if (first->total_gross_minor != so->totals.total_minor) {
				run->mismatched++;
				snprintf(detail, sizeof detail,
					 "ERP %s total %" PRId64 " minor units != shop total %" PRId64, first->id,
					 first->total_gross_minor, so->totals.total_minor);
				order_reconcile_finding(r, run, "mismatched", os->cfg->id, so->external_id, detail);
			}
		}
		bool more = page < pg.total_pages;
		shop_order_page_cleanup(&pg);
		if (!more)
			break;
	}
	return true;
}

static void order_reconcile_run(struct order_reconcile *r)
{
	char err[512];
	int64_t now = event_now_us(), from = now - r->o.window_ms * 1000;
	struct order_reconcile_run run = { 0 };
	run.findings = json_array();
	char fs[24], ts[24];
	snprintf(fs, sizeof fs, "%" PRId64, from);
	snprintf(ts, sizeof ts, "%" PRId64, now);
	const char *p[] = { fs, ts };
	PGresult *q = pg_query(r->db,
			       "INSERT INTO reconcile_run (window_from_us, window_to_us) VALUES ($1, $2) RETURNING id",
			       2, p, err, sizeof err);
	if (!q) {
		log_warn("reconciliation: %s", err);
		json_decref(run.findings);
		return;
	}
	run.id = strtoll(PQgetvalue(q, 0, 0), NULL, 10);
	PQclear(q);
	/* every ERP order of the window (a little wider: an order placed just before it was created there
	 * a moment later), sorted by reference */
	struct erp_doc *erp = NULL;
	size_t nerp = 0;
	bool ok = true;
	for (int page = 1; ok && page < ORDER_RECONCILE_ERP_PAGES; page++) {
		struct erp_doc *part = NULL;
		size_t n = 0;
		bool more = false;
		ok = r->erp->orders->list_orders(r->erp, from - 3600LL * 1000000, now + 3600LL * 1000000, page, &part,
						 &n, &more, err, sizeof err);
		struct erp_doc *grown = ok && n ? realloc(erp, (nerp + n) * sizeof *erp) : erp;
		if (ok && n && !grown) {
			ok = false;
			snprintf(err, sizeof err, "out of memory");
		}
		if (ok && n) {
			erp = grown;
			memcpy(erp + nerp, part, n * sizeof *erp);
			nerp += n;
		}
		free(part);
		if (!more)
			break;
	}
	if (ok) {
		qsort(erp, nerp, sizeof *erp, order_reconcile_cmp);
		run.erp_orders = nerp;
		for (size_t i = 0; ok && i < r->o.shops->n; i++)
			ok = order_reconcile_shop(r, &run, &r->o.shops->v[i], erp, nerp, from);
	} else {
		log_warn("reconciliation: ERP orders: %s", err);
	}
	free(erp);
	if (run.booked)
		order_relay_wake(r->o.relay);
	char id[24], c[6][24];
	snprintf(id, sizeof id, "%" PRId64, run.id);
	size_t counts[6] = { run.shop_orders, run.erp_orders, run.missing, run.duplicated, run.mismatched, run.booked };
	for (int i = 0; i < 6; i++)
		snprintf(c[i], sizeof c[i], "%zu", counts[i]);
	const char *u[] = { id, c[0], c[1], c[2], c[3], c[4], c[5], ok ? NULL : err };
	q = pg_query(r->db,
		     "UPDATE reconcile_run SET finished_at = now(), shop_orders = $2, erp_orders = $3, missing = $4,"
		     " duplicated = $5, mismatched = $6, booked = $7, error = $8 WHERE id = $1",
		     8, u, err, sizeof err);
	PQclear(q);
	metrics_inc(metrics_series1(r->m_runs, ok ? "ok" : "failed"));
	log_info("reconciliation %" PRId64 ": %zu shop orders, %zu ERP orders: %zu missing (%zu taken in again), %zu "
		 "duplicated, %zu mismatched%s",
		 run.id, run.shop_orders, run.erp_orders, run.missing, run.booked, run.duplicated, run.mismatched,
		 ok ? "" : " (incomplete)");
	json_t *j = json_pack("{s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "run", (json_int_t)run.id,
			      "window_from_us", (json_int_t)from, "window_to_us", (json_int_t)now, "complete", ok,
			      "shop_orders", (json_int_t)run.shop_orders, "erp_orders", (json_int_t)run.erp_orders,
			      "missing", (json_int_t)run.missing, "duplicated", (json_int_t)run.duplicated,
			      "mismatched", (json_int_t)run.mismatched, "booked", (json_int_t)run.booked, "findings",
			      run.findings);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text) {
		pthread_mutex_lock(&r->mu);
		free(r->last);
		r->last = text;
		pthread_mutex_unlock(&r->mu);
	}
}

static void *order_reconcile_main(void *ud)
{
	struct order_reconcile *r = ud;
	while (!shutdown_requested() && !atomic_load(&r->stopping)) {
		char err[256];
		bool due = atomic_load(&r->requested) || event_monotonic_us() >= r->next_us;
		if (due && pg_ensure(r->db, err, sizeof err) && pg_leader_hold(r->db, &r->leader)) {
			atomic_store(&r->running, true);
			atomic_store(&r->requested, false);
			order_reconcile_run(r);
			atomic_store(&r->running, false);
			r->next_us = event_monotonic_us() + r->o.interval_ms * 1000;
		} else if (due && !atomic_load(&r->requested)) {
			r->next_us = event_monotonic_us() + r->o.interval_ms * 1000;
		}
		shutdown_sleep_ms(ORDER_RECONCILE_TICK_MS);
	}
	return NULL;
}

bool order_reconcile_request(struct order_reconcile *r)
{
	if (!r || atomic_load(&r->running))
		return false;
	bool expected = false;
	return atomic_compare_exchange_strong(&r->requested, &expected, true);
}

bool order_reconcile_status(struct order_reconcile *r, struct buf *out)
{
	pthread_mutex_lock(&r->mu);
	bool ok = buf_printf(out, "{\"running\":%s,\"requested\":%s,\"last\":%s}",
			     atomic_load(&r->running) ? "true" : "false", atomic_load(&r->requested) ? "true" : "false",
			     r->last ? r->last : "null");
	pthread_mutex_unlock(&r->mu);
	return ok;
}

struct order_reconcile *order_reconcile_start(const struct order_reconcile_opts *o)
{
	static const char *const labels[] = { "shop", "kind", NULL };
	static const char *const result[] = { "result", NULL };
	struct order_reconcile *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->o = *o;
	pthread_mutex_init(&r->mu, NULL);
	r->leader.role = "order-sync:reconcile";
	r->m_findings = metrics_counter("erpsync_order_reconcile_findings_total",
					"Reconciliation findings: missing, duplicated, mismatched orders", labels);
	r->m_runs = metrics_counter("erpsync_order_reconcile_runs_total", "Reconciliation runs", result);
	r->next_us = event_monotonic_us() + o->interval_ms * 1000;
	r->db = pg_new(o->dsn, ORDER_DB_SCHEMA);
	r->erp = r->db ? erp_rest_new(o->erp_url, o->erp_token, o->erp_rate) : NULL;
	if (!r->erp || !r->erp->orders || pthread_create(&r->thread, NULL, order_reconcile_main, r) != 0) {
		log_error("reconciliation: cannot start");
		order_reconcile_stop(r);
		return NULL;
	}
	r->started = true;
	return r;
}

void order_reconcile_stop(struct order_reconcile *r)
{
	if (!r)
		return;
	atomic_store(&r->stopping, true);
	if (r->started && !shutdown_join(r->thread, "order reconciliation"))
		return;
	erp_free(r->erp);
	pg_free(r->db);
	free(r->last);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
