#include "stock_reconcile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "erp.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "pg_array.h"
#include "shop.h"
#include "shop_config.h"
#include "shutdown.h"
#include "stock_db.h"
#include "stock_event.h"
#include "stock_feed.h"

#define STOCK_RECONCILE_PAGE 1000
/* A bound on one run's ERP read (a hundred million records), whatever the ERP answers. */
#define STOCK_RECONCILE_PAGES_MAX    100000
#define STOCK_RECONCILE_STALE_LOGGED 10 /* per run; the rest are counted only */

enum stock_reconcile_phase { RECONCILE_IDLE, RECONCILE_ERP, RECONCILE_SHOPS };

struct stock_reconcile {
	pthread_mutex_t lock;
	long long interval_ms;
	const char *topic;
	enum stock_reconcile_phase phase;
	bool requested;
	bool leader;
	const char *trigger;
	int64_t next_us; /* monotonic time of the next scheduled run */
	/* the run under way, then the last one */
	int64_t started_us, finished_us;
	long long erp_drift, shop_drift, erp_records, shop_items;
	char error[256]; /* what failed last, for GET /admin/reconcile */
	struct metric_family *m_drift, *m_runs, *m_stale, *m_stuck;
};

struct stock_reconcile *stock_reconcile_new(long long interval_ms, const char *topic)
{
	static const char *const side_label[] = { "side", NULL };
	struct stock_reconcile *rc = calloc(1, sizeof *rc);
	if (!rc)
		return NULL;
	pthread_mutex_init(&rc->lock, NULL);
	rc->interval_ms = interval_ms;
	rc->topic = topic;
	rc->next_us = event_monotonic_us() + interval_ms * 1000;
	rc->m_drift = metrics_counter("erpsync_stock_reconcile_repairs_total",
				      "Differences found and repaired by reconciliation", side_label);
	rc->m_runs = metrics_counter("erpsync_stock_reconcile_runs_total", "Reconciliation runs finished", NULL);
	rc->m_stale = metrics_counter("erpsync_stock_reconcile_erp_stale_total",
				      "ERP records reconciliation read older than the state holds (left alone)", NULL);
	rc->m_stuck = metrics_counter("erpsync_stock_reconcile_erp_cursor_stuck_total",
				      "Reconciliation ERP reads stopped because the ERP's cursor did not advance",
				      NULL);
	return rc;
}

void stock_reconcile_free(struct stock_reconcile *rc)
{
	if (!rc)
		return;
	pthread_mutex_destroy(&rc->lock);
	free(rc);
}

bool stock_reconcile_request(struct stock_reconcile *rc)
{
	pthread_mutex_lock(&rc->lock);
	bool ok = rc->leader && rc->phase == RECONCILE_IDLE && !rc->requested;
	if (ok)
		rc->requested = true;
	pthread_mutex_unlock(&rc->lock);
	return ok;
}

void stock_reconcile_set_leader(struct stock_reconcile *rc, bool leader)
{
	pthread_mutex_lock(&rc->lock);
	rc->leader = leader;
	pthread_mutex_unlock(&rc->lock);
}

bool stock_reconcile_status(struct stock_reconcile *rc, struct buf *out)
{
	static const char *const phases[] = { "idle", "erp", "shops" };
	pthread_mutex_lock(&rc->lock);
	bool ok = buf_printf(out, "{\"state\":\"%s\",\"leader\":%s,\"requested\":%s,\"trigger\":", phases[rc->phase],
			     rc->leader ? "true" : "false", rc->requested ? "true" : "false") &&
		  buf_json_str(out, rc->trigger ? rc->trigger : "") &&
		  buf_printf(out,
			     ",\"started_unix_us\":%lld,\"finished_unix_us\":%lld,\"erp_records\":%lld,"
			     "\"erp_repairs\":%lld,\"shop_items\":%lld,\"shop_repairs\":%lld,\"error\":",
			     (long long)rc->started_us, (long long)rc->finished_us, rc->erp_records, rc->erp_drift,
			     rc->shop_items, rc->shop_drift) &&
		  buf_json_str(out, rc->error) && buf_puts(out, "}");
	pthread_mutex_unlock(&rc->lock);
	return ok;
}

bool stock_reconcile_erp_take(struct stock_reconcile *rc)
{
	pthread_mutex_lock(&rc->lock);
	bool due = rc->phase == RECONCILE_IDLE && (rc->requested || event_monotonic_us() >= rc->next_us);
	if (due) {
		rc->trigger = rc->requested ? "request" : "schedule";
		rc->requested = false;
		rc->phase = RECONCILE_ERP;
		rc->started_us = event_now_us();
		rc->finished_us = 0;
		rc->erp_drift = rc->shop_drift = rc->erp_records = rc->shop_items = 0;
		rc->error[0] = '\0';
	}
	pthread_mutex_unlock(&rc->lock);
	return due;
}

/* One ERP page, compared with the state in the feed epoch polling is in: a record the state lacks,
 * holds an older version of, or holds from an earlier epoch is queued as an event, the same path
 * as any change. One the state holds at this version or a newer one, with another quantity, is a
 * page older than what was applied (a change applied between the read and the comparison, a
 * lagging ERP replica): it is left alone and counted, never written back over newer stock. Only a
 * feed restart, detected by the poller, lets lower versions in (a new epoch). *stale gets how many
 * were left alone. Returns the number queued, -1 on error. */
static long long stock_reconcile_erp_page(struct stock_reconcile *rc, struct pg *db, int64_t epoch,
					  const struct erp_stock_page *page, long long *stale, char *err, size_t errlen)
{
	struct pg_array skus, whs, avail, vers;
	long long queued = -1;
	PGresult *r = NULL;
	char ep[24];
	pg_array_init(&skus);
	pg_array_init(&whs);
	pg_array_init(&avail);
	pg_array_init(&vers);
	for (size_t i = 0; i < page->n; i++)
		if (!pg_array_text(&skus, page->items[i].sku) || !pg_array_text(&whs, page->items[i].warehouse) ||
		    !pg_array_int(&avail, page->items[i].available * 1000) ||
		    !pg_array_int(&vers, page->items[i].version))
			goto out;
	snprintf(ep, sizeof ep, "%lld", (long long)epoch);
	const char *p[] = { pg_array_get(&skus), pg_array_get(&whs), pg_array_get(&avail), pg_array_get(&vers), ep };
	r = pg_query(
		db,
		"SELECT x.i, s.sku IS NULL OR s.feed_epoch < $5::bigint OR s.version < x.v,"
		"  s.sku || '|' || s.warehouse || ' at version ' || s.version"
		" FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS x(sku, wh, av, v, "
		"i)"
		"  LEFT JOIN stock s ON s.sku = x.sku AND s.warehouse = x.wh"
		" WHERE s.sku IS NULL OR s.feed_epoch < $5::bigint OR s.version < x.v OR s.available_milli <> x.av",
		5, p, err, errlen);
	if (!r || !pg_begin(db, err, errlen))
		goto out;
	queued = 0;
	for (int k = 0; k < PQntuples(r); k++) {
		long idx = strtol(PQgetvalue(r, k, 0), NULL, 10) - 1;
		if (idx < 0 || (size_t)idx >= page->n)
			continue;
		const struct erp_stock_item *it = &page->items[idx];
		if (strcmp(PQgetvalue(r, k, 1), "t") != 0) {
			if (*stale < STOCK_RECONCILE_STALE_LOGGED)
				log_info("reconciliation: the ERP answered %s|%s at version %lld, stock-sync holds %s "
					 "with"
					 " another quantity: an older page, left alone",
					 it->sku, it->warehouse, (long long)it->version, PQgetvalue(r, k, 2));
			(*stale)++;
			continue;
		}
		if (!stock_event_queue(db, rc->topic, it, epoch, ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_RECONCILIATION,
				       err, errlen)) {
			pg_rollback(db);
			queued = -1;
			goto out;
		}
		queued++;
	}
	if (!pg_commit(db, err, errlen))
		queued = -1;
out:
	PQclear(r);
	pg_array_cleanup(&skus);
	pg_array_cleanup(&whs);
	pg_array_cleanup(&avail);
	pg_array_cleanup(&vers);
	return queued;
}

static void stock_reconcile_fail(struct stock_reconcile *rc, const char *what, const char *err)
{
	pthread_mutex_lock(&rc->lock);
	snprintf(rc->error, sizeof rc->error, "%.40s: %.200s", what, err);
	pthread_mutex_unlock(&rc->lock);
	log_warn("reconciliation: %s: %s", what, err);
}

/* Whether the ERP read may go on after a page: still the feed polling follows (a feed that
 * started over is the poller's to read again first, in a new epoch), and a cursor that moved on
 * (an ERP repeating a cursor with more to come would be read for ever). */
static bool stock_reconcile_erp_check(struct stock_reconcile *rc, const struct stock_feed_pos *pos, const char *cursor,
				      const struct erp_stock_page *page)
{
	char why[320];
	if (stock_feed_restarted(pos->feed_id, cursor, page, why, sizeof why)) {
		stock_reconcile_fail(rc, "reading the ERP", why);
		return false;
	}
	if (!stock_feed_advances(cursor, page)) {
		snprintf(why, sizeof why,
			 "ERP answered next_cursor %s after %s with %zu records: the cursor did not advance",
			 page->next_cursor, cursor, page->n + page->nrejects);
		metrics_inc(metrics_series0(rc->m_stuck));
		stock_reconcile_fail(rc, "reading the ERP", why);
		return false;
	}
	return true;
}

void stock_reconcile_erp(struct stock_reconcile *rc, struct pg *db, struct erp *erp)
{
	char cursor[ERP_CURSOR_MAX + 1] = "0", err[512];
	long long records = 0, drift = 0, stale = 0;
	struct stock_feed_pos pos;
	bool more = true;
	if (!stock_db_feed_get(db, STOCK_DB_ERP_FEED, &pos, err, sizeof err)) {
		stock_reconcile_fail(rc, "reading the ERP cursor", err);
		more = false;
	}
	for (long pages = 0; more && !shutdown_requested(); pages++) {
		struct erp_stock_page page;
		if (pages == STOCK_RECONCILE_PAGES_MAX) {
			snprintf(err, sizeof err, "more than %d pages; the rest is left for the next run",
				 STOCK_RECONCILE_PAGES_MAX);
			stock_reconcile_fail(rc, "reading the ERP", err);
			break;
		}
		if (!erp->ops->stock_changes(erp, cursor, STOCK_RECONCILE_PAGE, &page, err, sizeof err)) {
			stock_reconcile_fail(rc, "reading the ERP", err);
			break;
		}
		long long q = stock_reconcile_erp_check(rc, &pos, cursor, &page)
				      ? stock_reconcile_erp_page(rc, db, pos.epoch, &page, &stale, err, sizeof err)
				      : -2;
		more = page.has_more && q >= 0;
		records += q >= -1 ? (long long)page.n : 0;
		snprintf(cursor, sizeof cursor, "%s", page.next_cursor);
		erp_stock_page_cleanup(&page);
		if (q == -1)
			stock_reconcile_fail(rc, "comparing with the ERP", err);
		if (q < 0)
			break;
		drift += q;
	}
	metrics_add(metrics_series1(rc->m_drift, "erp"), (double)drift);
	metrics_add(metrics_series0(rc->m_stale), (double)stale);
	pthread_mutex_lock(&rc->lock);
	rc->erp_records = records;
	rc->erp_drift = drift;
	rc->phase = RECONCILE_SHOPS;
	pthread_mutex_unlock(&rc->lock);
	log_info("reconciliation: ERP side read %lld records, %lld differed and were queued, %lld older than the"
		 " state were left alone",
		 records, drift, stale);
}

bool stock_reconcile_shop_take(struct stock_reconcile *rc)
{
	pthread_mutex_lock(&rc->lock);
	bool due = rc->phase == RECONCILE_SHOPS;
	pthread_mutex_unlock(&rc->lock);
	return due;
}

/* Marks dirty the managed SKUs of one page whose shop quantity is not what the rule gives, and
 * refreshes their mapping. Returns how many differed, -1 on error. */
static long long stock_reconcile_shop_page(struct pg *db, const struct shop_config *conf, const struct shop_item *items,
					   size_t n, char *err, size_t errlen)
{
	struct pg_array skus, ids, parents, qtys, wh;
	long long drift = -1;
	PGresult *r = NULL;
	pg_array_init(&skus);
	pg_array_init(&ids);
	pg_array_init(&parents);
	pg_array_init(&qtys);
	pg_array_init(&wh);
	for (size_t i = 0; i < n; i++)
		if (!pg_array_text(&skus, items[i].sku) || !pg_array_int(&ids, items[i].id) ||
		    !pg_array_int(&parents, items[i].parent_id) ||
		    !pg_array_int(&qtys, items[i].manage_stock ? items[i].stock_quantity : -1))
			goto out;
	for (size_t i = 0; i < conf->nwarehouses; i++)
		if (!pg_array_text(&wh, conf->warehouses[i]))
			goto out;
	char buffer[24];
	snprintf(buffer, sizeof buffer, "%lld", conf->buffer);
	const char *p[] = { conf->id,
			    pg_array_get(&skus),
			    pg_array_get(&ids),
			    pg_array_get(&parents),
			    pg_array_get(&qtys),
			    pg_array_get(&wh),
			    buffer };
	/* sellable as stock_writer_sellable computes it, in SQL over the page */
	r = pg_query(db,
		     "WITH x AS (SELECT DISTINCT ON (sku) * FROM unnest($2::text[], $3::bigint[], $4::bigint[],"
		     "  $5::bigint[]) AS x(sku, id, parent, q) ORDER BY sku, id),"
		     " m AS (INSERT INTO sku_map (shop, sku, product_id, parent_id) SELECT $1, sku, id, parent FROM x"
		     "  ON CONFLICT (shop, sku) DO UPDATE SET product_id = excluded.product_id,"
		     "  parent_id = excluded.parent_id),"
		     " e AS (SELECT x.sku, x.q,"
		     "  GREATEST(0, div(GREATEST(0, a.av - COALESCE(r.held, 0)), 1000) - $7::bigint) AS want"
		     "  FROM x JOIN (SELECT sku, sum(available_milli) av FROM stock WHERE warehouse = ANY($6::text[])"
		     "              AND sku = ANY($2::text[]) GROUP BY sku) a ON a.sku = x.sku"
		     "  LEFT JOIN (SELECT sku, sum(qty_milli) held FROM reservation WHERE sku = ANY($2::text[])"
		     "             GROUP BY sku) r ON r.sku = x.sku),"
		     " d AS (SELECT sku FROM e WHERE q IS DISTINCT FROM want),"
		     " w AS (DELETE FROM shop_stock s USING d WHERE s.shop = $1 AND s.sku = d.sku)"
		     " INSERT INTO shop_mark (shop, sku, source_us)"
		     "  SELECT $1, sku, (extract(epoch FROM now()) * 1000000)::bigint FROM d",
		     7, p, err, errlen);
	if (r)
		drift = strtoll(PQcmdTuples(r), NULL, 10);
out:
	PQclear(r);
	pg_array_cleanup(&skus);
	pg_array_cleanup(&ids);
	pg_array_cleanup(&parents);
	pg_array_cleanup(&qtys);
	pg_array_cleanup(&wh);
	return drift;
}

void stock_reconcile_shop(struct stock_reconcile *rc, struct pg *db, const struct shop_config *conf, struct shop *shop)
{
	char err[512];
	long long drift = 0, seen = 0;
	bool more = true;
	for (int page = 1; more && !shutdown_requested(); page++) {
		struct shop_item *items;
		size_t n;
		if (!shop->stock->list_items(shop, page, &items, &n, &more, err, sizeof err)) {
			stock_reconcile_fail(rc, conf->id, err);
			break;
		}
		long long d = stock_reconcile_shop_page(db, conf, items, n, err, sizeof err);
		free(items);
		if (d < 0) {
			stock_reconcile_fail(rc, conf->id, err);
			break;
		}
		drift += d;
		seen += (long long)n;
	}
	static const char *const shop_label[] = { "shop", NULL };
	metrics_add(
		metrics_series1(metrics_counter("erpsync_stock_reconcile_shop_repairs_total",
						"SKUs reconciliation found wrong in a shop and rewrote", shop_label),
				conf->id),
		(double)drift);
	metrics_add(metrics_series1(rc->m_drift, "shop"), (double)drift);
	pthread_mutex_lock(&rc->lock);
	rc->shop_drift += drift;
	rc->shop_items += seen;
	pthread_mutex_unlock(&rc->lock);
	log_info("reconciliation: shop %s: %lld items read, %lld differed from the rule and are rewritten", conf->id,
		 seen, drift);
}

void stock_reconcile_shop_done(struct stock_reconcile *rc, struct pg *db)
{
	char err[256], e1[24], e2[24], start[24];
	pthread_mutex_lock(&rc->lock);
	rc->phase = RECONCILE_IDLE;
	rc->finished_us = event_now_us();
	rc->next_us = event_monotonic_us() + rc->interval_ms * 1000;
	snprintf(e1, sizeof e1, "%lld", rc->erp_drift);
	snprintf(e2, sizeof e2, "%lld", rc->shop_drift);
	snprintf(start, sizeof start, "%lld", (long long)rc->started_us);
	char error[sizeof rc->error];
	memcpy(error, rc->error, sizeof error); /* a new run may clear rc->error once unlocked */
	const char *p[] = { start, rc->trigger ? rc->trigger : "schedule", e1, e2, error[0] ? error : NULL };
	pthread_mutex_unlock(&rc->lock);
	metrics_inc(metrics_series0(rc->m_runs));
	PGresult *r = pg_query(
		db,
		"INSERT INTO reconcile_run (started_at, finished_at, trigger, erp_drift, shop_drift, error)"
		" VALUES (to_timestamp($1::bigint / 1e6), now(), $2, $3, $4, $5)",
		5, p, err, sizeof err);
	if (!r)
		log_warn("reconciliation: recording the run failed: %s", err);
	PQclear(r);
}
