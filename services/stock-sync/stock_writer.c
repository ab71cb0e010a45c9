#include "stock_writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "shop.h"
#include "shop_config.h"
#include "shutdown.h"
#include "stock_db.h"
#include "stock_reconcile.h"

#define STOCK_WRITER_BATCH 1000
#define STOCK_WRITER_BACKOFF_MAX_MS 30000

struct stock_writer_shop {
	const struct shop_config *conf;
	struct shop *shop;
	bool mapped;                /* the full listing was learned */
	int64_t retry_at_us;        /* back-off after a failed call */
	long long backoff_ms;
	struct metric_series *writes, *noop, *calls_ok, *calls_failed, *unknown, *latency, *rejected;
};

struct stock_writer {
	struct stock_writer_opts o;
	pthread_t thread;
	struct pg *db;
	struct stock_writer_shop *shops;
};

long long stock_writer_sellable(long long available_milli, long long reserved_milli, long long buffer)
{
	long long free_milli = available_milli - reserved_milli;
	if (free_milli <= 0)
		return 0;
	long long units = free_milli / 1000 - buffer;
	return units > 0 ? units : 0;
}

/* Learns every SKU -> product/variation id the shop has, page by page. */
static bool stock_writer_learn(struct stock_writer *w, struct stock_writer_shop *s)
{
	char err[512];
	size_t total = 0;
	bool more = true;
	for (int page = 1; more && !shutdown_requested(); page++) {
		struct shop_item *items;
		size_t n;
		if (!s->shop->ops->list_items(s->shop, page, &items, &n, &more, err, sizeof err)) {
			log_warn("shop %s: listing page %d failed: %s", s->conf->id, page, err);
			return false;
		}
		bool ok = pg_begin(w->db, err, sizeof err);
		for (size_t i = 0; ok && i < n; i++)
			ok = stock_db_map_put(w->db, s->conf->id, items[i].sku, items[i].id, items[i].parent_id,
					      err, sizeof err);
		ok = ok && pg_commit(w->db, err, sizeof err);
		free(items);
		if (!ok) {
			pg_rollback(w->db);
			log_warn("shop %s: storing the listing failed: %s", s->conf->id, err);
			return false;
		}
		total += n;
	}
	log_info("shop %s: learned %zu SKUs from the shop's listing", s->conf->id, total);
	return true;
}

/* Maps a SKU the listing did not have (added to the shop since). */
static enum shop_lookup stock_writer_lookup(struct stock_writer *w, struct stock_writer_shop *s,
					    struct stock_pending *p)
{
	char err[512];
	struct shop_item it;
	enum shop_lookup r = s->shop->ops->lookup_sku(s->shop, p->sku, &it, err, sizeof err);
	if (r == SHOP_LOOKUP_ERROR) {
		log_warn("shop %s: lookup of SKU %s failed: %s", s->conf->id, p->sku, err);
		return r;
	}
	if (r == SHOP_LOOKUP_FOUND) {
		p->product_id = it.id;
		p->parent_id = it.parent_id;
		if (!stock_db_map_put(w->db, s->conf->id, p->sku, it.id, it.parent_id, err, sizeof err))
			log_warn("shop %s: storing mapping of %s failed: %s", s->conf->id, p->sku, err);
	}
	return r;
}

/* Decides each pending SKU: unknown, unchanged, or to be written (into writes[]). */
static size_t stock_writer_plan(struct stock_writer *w, struct stock_writer_shop *s,
				struct stock_pending *p, size_t n, struct stock_done *done, size_t *ndone,
				struct shop_stock_write *writes, size_t *map)
{
	size_t nw = 0;
	for (size_t i = 0; i < n; i++) {
		if (!p[i].product_id) {
			enum shop_lookup r = stock_writer_lookup(w, s, &p[i]);
			if (r == SHOP_LOOKUP_ERROR)
				continue;      /* stays dirty: tried again next cycle */
			if (r == SHOP_LOOKUP_NOT_FOUND) {
				done[(*ndone)++] = (struct stock_done){ p[i].sku, p[i].seq, -1, true };
				struct log_ctx ctx = LOG_CTX_INIT;
				ctx.shop = s->conf->id;
				ctx.sku = p[i].sku;
				log_ctx_warn(&ctx, "shop does not know this SKU; recorded, others go on");
				continue;
			}
		}
		long long q = stock_writer_sellable(p[i].available_milli, p[i].reserved_milli, s->conf->buffer);
		if (q == p[i].written) {
			metrics_inc(s->noop);
			done[(*ndone)++] = (struct stock_done){ p[i].sku, p[i].seq, -1, false };
			continue;
		}
		map[nw] = i;
		writes[nw++] = (struct shop_stock_write){ p[i].sku, p[i].product_id, p[i].parent_id, q };
	}
	return nw;
}

static void stock_writer_backoff(struct stock_writer_shop *s, bool failed)
{
	if (!failed) {
		s->backoff_ms = 0;
		s->retry_at_us = 0;
		return;
	}
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 500;
	if (s->backoff_ms > STOCK_WRITER_BACKOFF_MAX_MS)
		s->backoff_ms = STOCK_WRITER_BACKOFF_MAX_MS;
	s->retry_at_us = event_monotonic_us() + s->backoff_ms * 1000;
}

/* One cycle for one shop; returns how many dirty SKUs it took (0: nothing to do). */
static size_t stock_writer_cycle(struct stock_writer *w, struct stock_writer_shop *s)
{
	char err[512];
	struct stock_pending *p = NULL;
	size_t n = 0, ndone = 0;
	struct stock_done *done = NULL;
	struct shop_stock_write *writes = NULL;
	size_t *map = NULL;
	bool *accepted = NULL;

	if (!stock_db_pending(w->db, s->conf, STOCK_WRITER_BATCH, &p, &n, err, sizeof err)) {
		log_warn("shop %s: reading pending stock failed: %s", s->conf->id, err);
		goto out;
	}
	if (!n)
		goto out;
	done = calloc(n, sizeof *done);
	writes = calloc(n, sizeof *writes);
	map = calloc(n, sizeof *map);
	accepted = calloc(n, sizeof *accepted);
	if (!done || !writes || !map || !accepted)
		goto out;
	size_t nw = stock_writer_plan(w, s, p, n, done, &ndone, writes, map);
	unsigned calls = 0;
	bool ok = nw == 0 || s->shop->ops->stock_put(s->shop, writes, nw, accepted, &calls, err, sizeof err);
	metrics_add(s->calls_ok, ok ? calls : calls - 1);
	if (!ok) {
		metrics_inc(s->calls_failed);
		log_warn("shop %s: stock write failed, will retry: %s", s->conf->id, err);
	}
	stock_writer_backoff(s, !ok);
	int64_t now = event_now_us();
	for (size_t k = 0; k < nw; k++) {
		struct stock_pending *x = &p[map[k]];
		if (!accepted[k]) {
			if (ok) {
				/* the shop refused the id: the mapping is stale; relearn it next cycle */
				metrics_inc(s->rejected);
				if (!stock_db_map_forget(w->db, s->conf->id, x->sku, err, sizeof err))
					log_warn("shop %s: %s", s->conf->id, err);
			}
			continue;
		}
		done[ndone++] = (struct stock_done){ x->sku, x->seq, writes[k].quantity, false };
		metrics_inc(s->writes);
		if (x->first_source_us > 0 && now > x->first_source_us)
			metrics_observe(s->latency, (double)(now - x->first_source_us) / 1e6);
	}
	if (ndone && !stock_db_done(w->db, s->conf->id, done, ndone, err, sizeof err))
		log_warn("shop %s: recording writes failed (they will be repeated): %s", s->conf->id, err);
	long long unknown = stock_db_unknown_count(w->db, s->conf->id, err, sizeof err);
	if (unknown >= 0)
		metrics_set(s->unknown, (double)unknown);
out:
	free(p);
	free(done);
	free(writes);
	free(map);
	free(accepted);
	return n;
}

static void *stock_writer_main(void *arg)
{
	struct stock_writer *w = arg;
	char err[512];
	while (!shutdown_requested()) {
		int64_t start = event_monotonic_us();
		bool full = false;
		if (pg_ensure(w->db, err, sizeof err)) {
			bool reconcile = w->o.reconcile && stock_reconcile_shop_take(w->o.reconcile);
			for (size_t i = 0; reconcile && i < w->o.nshops; i++)
				stock_reconcile_shop(w->o.reconcile, w->db, w->shops[i].conf, w->shops[i].shop);
			if (reconcile)
				stock_reconcile_shop_done(w->o.reconcile, w->db);
			for (size_t i = 0; i < w->o.nshops; i++) {
				struct stock_writer_shop *s = &w->shops[i];
				if (s->retry_at_us && event_monotonic_us() < s->retry_at_us)
					continue;
				if (!s->mapped)
					s->mapped = stock_writer_learn(w, s);
				if (s->mapped && stock_writer_cycle(w, s) == STOCK_WRITER_BATCH)
					full = true;
			}
		}
		if (full)
			continue;
		long long left = w->o.window_ms - (event_monotonic_us() - start) / 1000;
		if (left > 0)
			shutdown_sleep_ms(left);
	}
	return NULL;
}

static bool stock_writer_shop_init(struct stock_writer_shop *s, const struct shop_config *conf)
{
	static const char *const shop_label[] = { "shop", NULL };
	static const char *const shop_result[] = { "shop", "result", NULL };
	s->conf = conf;
	s->shop = shop_config_connect(conf);
	s->writes = metrics_series1(metrics_counter("erpsync_stock_shop_writes_total",
		"SKU quantities written to a shop", shop_label), conf->id);
	s->noop = metrics_series1(metrics_counter("erpsync_stock_shop_noop_total",
		"SKU writes skipped because the shop already shows that quantity", shop_label), conf->id);
	struct metric_family *calls = metrics_counter("erpsync_stock_shop_calls_total",
		"Stock write calls to a shop by result", shop_result);
	s->calls_ok = metrics_series2(calls, conf->id, "ok");
	s->calls_failed = metrics_series2(calls, conf->id, "failed");
	s->rejected = metrics_series1(metrics_counter("erpsync_stock_shop_rejected_total",
		"SKU writes the shop refused (stale product id)", shop_label), conf->id);
	s->unknown = metrics_series1(metrics_gauge("erpsync_stock_unknown_skus",
		"SKUs the shop does not know (listed in stock_sync.unknown_sku)", shop_label), conf->id);
	s->latency = metrics_series1(metrics_histogram("erpsync_stock_e2e_latency_seconds",
		"From the ERP change to the shop write", shop_label, metrics_latency_buckets,
		metrics_latency_nbuckets), conf->id);
	return s->shop != NULL;
}

struct stock_writer *stock_writer_start(const struct stock_writer_opts *opts)
{
	struct stock_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->o = *opts;
	w->db = pg_new(opts->pg_dsn, STOCK_DB_SCHEMA);
	w->shops = calloc(opts->nshops, sizeof *w->shops);
	bool ok = w->db && w->shops;
	for (size_t i = 0; ok && i < opts->nshops; i++)
		ok = stock_writer_shop_init(&w->shops[i], &opts->shops[i]);
	if (ok && pthread_create(&w->thread, NULL, stock_writer_main, w) == 0)
		return w;
	log_error("stock writer: cannot start");
	for (size_t i = 0; w->shops && i < opts->nshops; i++)
		shop_free(w->shops[i].shop);
	free(w->shops);
	pg_free(w->db);
	free(w);
	return NULL;
}

void stock_writer_stop(struct stock_writer *w)
{
	if (!w)
		return;
	pthread_join(w->thread, NULL);
	for (size_t i = 0; i < w->o.nshops; i++)
		shop_free(w->shops[i].shop);
	free(w->shops);
	pg_free(w->db);
	free(w);
}
