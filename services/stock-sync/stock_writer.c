#include "stock_writer.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "hash.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "pg_leader.h"
#include "shop.h"
#include "shop_config.h"
#include "shutdown.h"
#include "stock_db.h"
#include "stock_reconcile.h"

#define STOCK_WRITER_BATCH          1000
#define STOCK_WRITER_BACKOFF_MAX_MS 30000
#define STOCK_WRITER_UNKNOWN_CACHE  4096
#define STOCK_WRITER_LEARN_RETRY_US (30LL * 1000000)
#define STOCK_WRITER_IDLE_MS        100 /* a shop thread looks at the stop this often when idle */

/* Fine around the coalescing window (200 ms by default), where the latencies of a healthy
 * service are, so that percentiles read from the histogram mean something (METRICS_MAX_BUCKETS). */
static const double stock_writer_latency_buckets[] = {
	0.05, 0.1, 0.15, 0.2, 0.21, 0.22, 0.23, 0.24, 0.25, 0.27, 0.3, 0.4, 0.5, 1, 2.5, 10,
};
_Static_assert(sizeof stock_writer_latency_buckets / sizeof stock_writer_latency_buckets[0] <= METRICS_MAX_BUCKETS,
	       "too many latency buckets");

struct stock_writer;

/* One shop, served by a thread of its own on a connection of its own: it takes its dirty SKUs when
 * the writer tells it a window closed, and again at once while it has more than a cycle takes, on
 * its own clock. A shop whose calls hang or fail holds up only itself. */
struct stock_writer_shop {
	struct stock_writer *w;
	const struct shop_config *conf;
	struct shop *shop;
	struct pg *db;       /* the shop's own connection: its cycle runs beside the others' */
	bool mapped;         /* the full listing was learned */
	int64_t learn_at_us; /* next attempt at the listing after a failure */
	/* SKUs the shop did not know when last asked: asked again after STOCK_UNKNOWN_RECHECK, so a
	 * burst of changes to unknown SKUs costs one lookup each, not one per change */
	struct {
		uint64_t hash;
		int64_t asked_us;
	} unknown_cache[STOCK_WRITER_UNKNOWN_CACHE];
	int64_t retry_at_us; /* back-off after a failed call or connection */
	long long backoff_ms;
	bool db_failed;       /* the back-off is for the shop's database connection */
	int64_t lookup_at_us; /* no SKU lookups before this: they failed (their SKUs stay dirty) */
	long long lookup_backoff_ms;
	struct metric_series *writes, *noop, *calls_ok, *calls_failed, *unknown, *latency, *rejected;
	pthread_t thread;
	bool started;
	atomic_bool ended;     /* the thread returned */
	pthread_mutex_t cycle; /* held by the shop's thread through a cycle (take, write, record) */
	pthread_mutex_t lock;  /* wake, reconcile */
	pthread_cond_t cond;
	bool wake;      /* a coalescing window closed: take the dirty SKUs */
	bool reconcile; /* this shop's part of a reconciliation run is due */
};

struct stock_writer {
	struct stock_writer_opts o;
	pthread_t thread;
	bool started;
	struct pg *db; /* leadership, LISTEN, the fold */
	struct stock_writer_shop *shops;
	struct pg_leader leader;
	atomic_bool leading; /* this instance holds the writer's lock: shops may write */
	pthread_mutex_t rc_lock;
	size_t rc_left; /* shops of the reconciliation run under way not done yet */
};

long long stock_writer_sellable(long long available_milli, long long reserved_milli, long long buffer)
{
	long long free_milli;
	/* both come from sums PostgreSQL computes as numeric, read saturated at the ends of int64: a
	 * difference beyond them is as far as it can go, not a wrap to the other sign */
	if (__builtin_sub_overflow(available_milli, reserved_milli, &free_milli))
		free_milli = reserved_milli > 0 ? LLONG_MIN : LLONG_MAX;
	if (free_milli <= 0)
		return 0;
	long long units = free_milli / 1000 - buffer;
	return units > 0 ? units : 0;
}

/* Learns every SKU -> product/variation id the shop has, page by page, up to the pages a listing
 * may have (SHOP_LIST_PAGES_MAX): SKUs beyond them are looked up one by one. */
static bool stock_writer_learn(struct stock_writer_shop *s)
{
	char err[512];
	size_t total = 0;
	bool more = true;
	for (int page = 1; more && !shutdown_requested(); page++) {
		if (page > SHOP_LIST_PAGES_MAX) {
			log_warn(
				"shop %s: the listing goes on past %d pages; SKUs beyond them are looked up one by one",
				s->conf->id, SHOP_LIST_PAGES_MAX);
			break;
		}
		struct shop_item *items;
		size_t n;
		if (!s->shop->stock->list_items(s->shop, page, &items, &n, &more, err, sizeof err)) {
			log_warn("shop %s: listing page %d failed: %s", s->conf->id, page, err);
			return false;
		}
		bool ok = pg_begin(s->db, err, sizeof err);
		for (size_t i = 0; ok && i < n; i++)
			ok = stock_db_map_put(s->db, s->conf->id, items[i].sku, items[i].id, items[i].parent_id, err,
					      sizeof err);
		ok = ok && pg_commit(s->db, err, sizeof err);
		free(items);
		if (!ok) {
			pg_rollback(s->db);
			log_warn("shop %s: storing the listing failed: %s", s->conf->id, err);
			return false;
		}
		total += n;
	}
	log_info("shop %s: learned %zu SKUs from the shop's listing", s->conf->id, total);
	return true;
}

static uint64_t stock_writer_hash(const char *sku)
{
	uint64_t h = hash_fnv1a64(sku, strlen(sku));
	return h ? h : 1;
}

/* Maps a SKU the listing did not have (added to the shop since). */
static enum shop_lookup stock_writer_lookup(struct stock_writer *w, struct stock_writer_shop *s,
					    struct stock_pending *p)
{
	char err[512];
	struct shop_item it;
	uint64_t h = stock_writer_hash(p->sku);
	size_t slot = (size_t)(h % STOCK_WRITER_UNKNOWN_CACHE);
	int64_t now = event_monotonic_us();
	if (s->unknown_cache[slot].hash == h && now - s->unknown_cache[slot].asked_us < w->o.unknown_recheck_ms * 1000)
		return SHOP_LOOKUP_NOT_FOUND;
	enum shop_lookup r = s->shop->stock->lookup_sku(s->shop, p->sku, &it, err, sizeof err);
	if (r == SHOP_LOOKUP_NOT_FOUND) {
		s->unknown_cache[slot].hash = h;
		s->unknown_cache[slot].asked_us = now;
	}
	if (r == SHOP_LOOKUP_ERROR) {
		log_warn("shop %s: lookup of SKU %s failed: %s", s->conf->id, p->sku, err);
		return r;
	}
	if (r == SHOP_LOOKUP_FOUND) {
		p->product_id = it.id;
		p->parent_id = it.parent_id;
		if (!stock_db_map_put(s->db, s->conf->id, p->sku, it.id, it.parent_id, err, sizeof err))
			log_warn("shop %s: storing mapping of %s failed: %s", s->conf->id, p->sku, err);
	}
	return r;
}

static void stock_writer_lookup_backoff(struct stock_writer_shop *s, bool failed);

/* Decides each pending SKU: unknown, unchanged, or to be written (into writes[]). A failed lookup
 * (after its retries) ends the lookups of the cycle: the shop's API is failing, and the SKUs not
 * looked up stay dirty until the lookups' back-off is over; *lookup_failed says so. */
static size_t stock_writer_plan(struct stock_writer *w, struct stock_writer_shop *s, struct stock_pending *p, size_t n,
				struct stock_done *done, size_t *ndone, struct shop_stock_write *writes, size_t *map,
				bool *lookup_failed)
{
	size_t nw = 0;
	bool lookups = event_monotonic_us() >= s->lookup_at_us, looked_up = false;
	*lookup_failed = false;
	for (size_t i = 0; i < n; i++) {
		if (!p[i].product_id) {
			if (!lookups || *lookup_failed)
				continue; /* stays dirty: looked up after the lookups' back-off */
			enum shop_lookup r = stock_writer_lookup(w, s, &p[i]);
			if (r == SHOP_LOOKUP_ERROR) {
				*lookup_failed = true;
				continue;
			}
			looked_up = true;
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
	if (*lookup_failed || looked_up)
		stock_writer_lookup_backoff(s, *lookup_failed);
	return nw;
}

/* Lookups back off apart from writes: a shop that writes but cannot look up goes on writing. */
static void stock_writer_lookup_backoff(struct stock_writer_shop *s, bool failed)
{
	if (!failed) {
		s->lookup_backoff_ms = 0;
		s->lookup_at_us = 0;
		return;
	}
	s->lookup_backoff_ms = s->lookup_backoff_ms ? s->lookup_backoff_ms * 2 : 500;
	if (s->lookup_backoff_ms > STOCK_WRITER_BACKOFF_MAX_MS)
		s->lookup_backoff_ms = STOCK_WRITER_BACKOFF_MAX_MS;
	s->lookup_at_us = event_monotonic_us() + s->lookup_backoff_ms * 1000;
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

/* One cycle of a shop: what it took, planned, wrote. */
struct stock_writer_job {
	struct stock_writer *w;
	struct stock_writer_shop *s;
	struct stock_pending *p;
	size_t n; /* dirty SKUs taken */
	struct stock_done *done;
	size_t ndone;
	struct shop_stock_write *writes;
	size_t *map;         /* writes[k] is p[map[k]] */
	int64_t *written_us; /* when the shop confirmed writes[k] (wall clock), 0: not taken */
	size_t nw;
	unsigned calls;
	bool ok;
	bool lookup_failed; /* a lookup failed (the cycle's lookups stopped there) */
	char err[512];
	int64_t start_us, taken_us, put_us, put_end_us; /* monotonic, for the debug log */
};

static void stock_writer_job_free(struct stock_writer_job *j)
{
	free(j->p);
	free(j->done);
	free(j->writes);
	free(j->map);
	free(j->written_us);
	*j = (struct stock_writer_job){ 0 };
}

/* Takes the shop's dirty SKUs, the oldest change first (a SKU changed again keeps its first
 * change's time, so a busy SKU cannot be pushed back behind newer ones), and decides what to
 * write; false when there is nothing to do. */
static bool stock_writer_take(struct stock_writer_job *j)
{
	struct stock_writer *w = j->w;
	struct stock_writer_shop *s = j->s;
	char err[512];
	j->start_us = event_monotonic_us();
	if (!stock_db_pending(s->db, s->conf, STOCK_WRITER_BATCH, &j->p, &j->n, err, sizeof err)) {
		log_warn("shop %s: reading pending stock failed: %s", s->conf->id, err);
		stock_writer_job_free(j);
		return false;
	}
	if (!j->n) {
		stock_writer_job_free(j);
		return false;
	}
	j->done = calloc(j->n, sizeof *j->done);
	j->writes = calloc(j->n, sizeof *j->writes);
	j->map = calloc(j->n, sizeof *j->map);
	j->written_us = calloc(j->n, sizeof *j->written_us);
	if (!j->done || !j->writes || !j->map || !j->written_us) {
		log_warn("shop %s: out of memory", s->conf->id);
		stock_writer_job_free(j);
		return false;
	}
	j->nw = stock_writer_plan(w, s, j->p, j->n, j->done, &j->ndone, j->writes, j->map, &j->lookup_failed);
	j->taken_us = event_monotonic_us();
	return true;
}

/* Writes the quantities to the shop. */
static void stock_writer_put(struct stock_writer_job *j)
{
	struct shop *shop = j->s->shop;
	j->put_us = event_monotonic_us();
	j->ok = j->nw == 0 ||
		shop->stock->stock_put(shop, j->writes, j->nw, j->written_us, &j->calls, j->err, sizeof j->err);
	j->put_end_us = event_monotonic_us();
}

/* Records the outcome: the written quantities, the SKUs left dirty, the metrics. */
static void stock_writer_record(struct stock_writer_job *j)
{
	char err[512];
	struct stock_writer_shop *s = j->s;
	metrics_add(s->calls_ok, j->ok || !j->calls ? j->calls : j->calls - 1);
	if (!j->ok) {
		metrics_inc(s->calls_failed);
		log_warn("shop %s: stock write failed, will retry: %s", s->conf->id, j->err);
	}
	/* a cycle that could only look up and failed is a failed call too: without the back-off the
	 * next cycle would start at once and ask again, with every retry */
	bool lookups_only = j->ok && j->lookup_failed && j->nw == 0;
	if (lookups_only)
		metrics_inc(s->calls_failed);
	stock_writer_backoff(s, !j->ok || lookups_only);
	if (lookups_only)
		log_warn("shop %s: lookups failed, nothing written; next attempt in %lld ms", s->conf->id,
			 s->backoff_ms);
	for (size_t k = 0; k < j->nw; k++) {
		struct stock_pending *x = &j->p[j->map[k]];
		if (!j->written_us[k]) {
			if (j->ok) {
				/* the shop refused the id: the mapping is stale; relearn it next cycle */
				metrics_inc(s->rejected);
				if (!stock_db_map_forget(s->db, s->conf->id, x->sku, err, sizeof err))
					log_warn("shop %s: %s", s->conf->id, err);
			}
			continue;
		}
		j->done[j->ndone++] = (struct stock_done){ x->sku, x->seq, j->writes[k].quantity, false };
		metrics_inc(s->writes);
		if (x->first_source_us > 0 && j->written_us[k] > x->first_source_us)
			metrics_observe(s->latency, (double)(j->written_us[k] - x->first_source_us) / 1e6);
	}
	if (j->ndone && !stock_db_done(s->db, s->conf->id, j->done, j->ndone, err, sizeof err))
		log_warn("shop %s: recording writes failed (they will be repeated): %s", s->conf->id, err);
	long long unknown = stock_db_unknown_count(s->db, s->conf->id, err, sizeof err);
	if (unknown >= 0)
		metrics_set(s->unknown, (double)unknown);
	log_debug("shop %s: %zu dirty SKUs, %zu written in %u calls; took %lld ms, wrote %lld ms (after %lld ms),"
		  " recorded %lld ms",
		  s->conf->id, j->n, j->nw, j->calls, (long long)(j->taken_us - j->start_us) / 1000,
		  (long long)(j->put_end_us - j->put_us) / 1000, (long long)(j->put_us - j->taken_us) / 1000,
		  (long long)(event_monotonic_us() - j->put_end_us) / 1000);
}

/* The marks made since the last fold become the shops' dirty SKUs. When that fails the SKUs
 * already dirty are served, and the marks wait for the next fold.
 *
 * Only for the shops not in the middle of a cycle (whose cycle lock is free; it is held through the
 * fold): a fold must never renew the dirty row of a SKU whose write is under way, or the row
 * would keep the time of the change already written as its first (stock_db_done keeps a row
 * renewed since its take). A busy shop's marks wait in shop_mark for a later fold, which also
 * keeps a shop whose calls hang from holding up the others' folds. */
static void stock_writer_fold(struct stock_writer *w)
{
	char err[512];
	const char *ids[SHOP_CONFIG_MAX];
	bool held[SHOP_CONFIG_MAX] = { false };
	size_t n = 0;
	for (size_t i = 0; i < w->o.nshops && i < SHOP_CONFIG_MAX; i++)
		if ((held[i] = pthread_mutex_trylock(&w->shops[i].cycle) == 0))
			ids[n++] = w->shops[i].conf->id;
	int64_t start = event_monotonic_us();
	long long folded = n ? stock_db_fold(w->db, ids, n, err, sizeof err) : 0;
	for (size_t i = 0; i < w->o.nshops && i < SHOP_CONFIG_MAX; i++)
		if (held[i])
			pthread_mutex_unlock(&w->shops[i].cycle);
	if (folded < 0)
		log_warn("stock writer: folding dirty marks failed: %s", err);
	else if (folded > 0)
		log_debug("folded dirty marks into %lld dirty SKUs in %lld ms", folded,
			  (long long)(event_monotonic_us() - start) / 1000);
}

/* One cycle of a shop: its listing while not learned, then take, write, record. true when the
 * shop had more dirty SKUs than one cycle takes. */
static bool stock_writer_shop_cycle(struct stock_writer_shop *s)
{
	struct stock_writer_job j = { .w = s->w, .s = s };
	char err[512];
	if (!pg_ensure(s->db, err, sizeof err)) {
		/* its SKUs stay dirty; the shop's back-off spaces the attempts (and these lines) */
		stock_writer_backoff(s, true);
		s->db_failed = true;
		log_warn("shop %s: no database connection, its SKUs wait %lld ms: %s", s->conf->id, s->backoff_ms, err);
		return false;
	}
	if (s->db_failed) {
		/* the back-off was the database's, not the shop's */
		stock_writer_backoff(s, false);
		s->db_failed = false;
	}
	/* the listing saves a lookup per SKU; when it fails, writes go on (unmapped SKUs are looked
	 * up one by one) and it is tried again later */
	if (!s->mapped && event_monotonic_us() >= s->learn_at_us) {
		s->mapped = stock_writer_learn(s);
		if (!s->mapped)
			s->learn_at_us = event_monotonic_us() + STOCK_WRITER_LEARN_RETRY_US;
	}
	if (!stock_writer_take(&j))
		return false;
	stock_writer_put(&j);
	stock_writer_record(&j);
	bool more = j.n == STOCK_WRITER_BATCH;
	stock_writer_job_free(&j);
	return more;
}

/* Tells a shop's thread a window closed (wake) or its part of a reconciliation is due. */
static void stock_writer_shop_signal(struct stock_writer_shop *s, bool wake, bool reconcile)
{
	pthread_mutex_lock(&s->lock);
	s->wake = s->wake || wake;
	s->reconcile = s->reconcile || reconcile;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Waits (a little) for a signal and takes it. */
static void stock_writer_shop_await(struct stock_writer_shop *s, bool *wake, bool *reconcile)
{
	pthread_mutex_lock(&s->lock);
	if (!s->wake && !s->reconcile) {
		struct timespec ts = event_deadline(CLOCK_MONOTONIC, STOCK_WRITER_IDLE_MS);
		(void)pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	*wake = s->wake;
	*reconcile = s->reconcile;
	s->wake = s->reconcile = false;
	pthread_mutex_unlock(&s->lock);
}

/* The shop's part of a reconciliation run: read the shop, mark what differs. The last shop to be
 * done ends the run. It does not write to the shop, so it runs whichever instance writes: the
 * writer's leader folds the marks. */
static void stock_writer_shop_reconcile(struct stock_writer_shop *s)
{
	struct stock_writer *w = s->w;
	char err[512];
	if (pg_ensure(s->db, err, sizeof err))
		stock_reconcile_shop(w->o.reconcile, s->db, s->conf, s->shop);
	else
		log_warn("reconciliation: shop %s skipped, no database connection: %s", s->conf->id, err);
	pthread_mutex_lock(&w->rc_lock);
	bool last = w->rc_left == 1;
	if (!last)
		w->rc_left--;
	pthread_mutex_unlock(&w->rc_lock);
	if (!last)
		return;
	/* the run stays "under way" until recorded, so that no second one starts meanwhile */
	stock_reconcile_shop_done(w->o.reconcile, s->db);
	pthread_mutex_lock(&w->rc_lock);
	w->rc_left = 0;
	pthread_mutex_unlock(&w->rc_lock);
}

static bool stock_writer_shop_resting(const struct stock_writer_shop *s)
{
	return s->retry_at_us && event_monotonic_us() < s->retry_at_us;
}

static void *stock_writer_shop_main(void *arg)
{
	struct stock_writer_shop *s = arg;
	struct stock_writer *w = s->w;
	while (!shutdown_requested()) {
		bool wake, reconcile;
		stock_writer_shop_await(s, &wake, &reconcile);
		if (reconcile)
			stock_writer_shop_reconcile(s);
		/* a shop in back-off lets the wake-ups go by; the writer wakes it every window */
		bool more = wake;
		while (more && !shutdown_requested() && atomic_load(&w->leading) && !stock_writer_shop_resting(s)) {
			pthread_mutex_lock(&s->cycle);
			more = stock_writer_shop_cycle(s);
			pthread_mutex_unlock(&s->cycle);
		}
	}
	atomic_store(&s->ended, true);
	return NULL;
}

/* The shop side of a reconciliation run, once its ERP side is over on this instance (the poller's
 * leader), whether or not this instance writes to the shops: each shop's thread reads its shop. */
static void stock_writer_reconcile_start(struct stock_writer *w)
{
	if (!w->o.reconcile)
		return;
	pthread_mutex_lock(&w->rc_lock);
	bool running = w->rc_left > 0;
	pthread_mutex_unlock(&w->rc_lock);
	if (running || !stock_reconcile_shop_take(w->o.reconcile))
		return;
	if (!w->o.nshops) {
		stock_reconcile_shop_done(w->o.reconcile, w->db);
		return;
	}
	pthread_mutex_lock(&w->rc_lock);
	w->rc_left = w->o.nshops;
	pthread_mutex_unlock(&w->rc_lock);
	for (size_t i = 0; i < w->o.nshops; i++)
		stock_writer_shop_signal(&w->shops[i], false, true);
}

/* Waits for the moment to take the dirty SKUs.
 *
 * STOCK_COALESCE_WINDOW: changes to a SKU within the window become one write. The window opens
 * with the first change since the last take, and the dirty SKUs are taken when it closes. It
 * opens at that change's own (source) time, so that a change waits for its write about a window
 * plus the write itself, wherever it falls: a fixed period would add up to another window
 * whenever a change just missed a take. Changes are announced by LISTEN/NOTIFY when they are
 * marked; stock_db_dirty_wait says how late and backlogged changes open it. Without any change
 * for a window the SKUs are taken all the same: marks made without an announcement
 * (reconciliation, the lanes of a batch but the first) and shops out of back-off are served
 * then. */
static void stock_writer_wait(struct stock_writer *w)
{
	int64_t window = w->o.window_ms * 1000, open = 0;
	int r = stock_db_dirty_wait(w->db, 0, window, &open);
	if (r == 0)
		r = stock_db_dirty_wait(w->db, (long)w->o.window_ms, window, &open);
	if (r < 0)
		shutdown_sleep_ms(w->o.window_ms);
	if (r <= 0)
		return;
	int64_t now = event_now_us();
	if (open > now)
		open = now;
	int64_t close = open + window;
	log_debug("coalescing window opened %lld ms ago", (long long)(now - open) / 1000);
	/* marks are folded as they are announced, while the window is open anyway, so that the fold
	 * when it closes has only the last few to do (it delays the writes) */
	stock_writer_fold(w);
	while (!shutdown_requested() && (now = event_now_us()) < close) {
		long left_ms = (long)((close - now + 999) / 1000);
		int64_t later;
		r = stock_db_dirty_wait(w->db, left_ms, window, &later);
		if (r < 0)
			shutdown_sleep_ms(left_ms);
		else if (r > 0 && event_now_us() < close)
			stock_writer_fold(w);
	}
}

/* LISTENs on the current connection (again after a reconnect: a new backend). */
static void stock_writer_listen(struct stock_writer *w, int *pid)
{
	char err[512];
	int now = PQbackendPID(pg_conn(w->db));
	if (now == *pid)
		return;
	if (stock_db_dirty_listen(w->db, err, sizeof err))
		*pid = now;
	else
		log_warn("stock writer: cannot listen for dirty marks (taking them every window): %s", err);
}

static void *stock_writer_main(void *arg)
{
	struct stock_writer *w = arg;
	char err[512];
	int listen_pid = 0;
	while (!shutdown_requested()) {
		if (!pg_ensure(w->db, err, sizeof err)) {
			atomic_store(&w->leading, false); /* the lock went with the session */
			shutdown_sleep_ms(w->o.window_ms);
			continue;
		}
		stock_writer_reconcile_start(w);
		/* one writer per group: two would race each other's writes to the same shop */
		if (!pg_leader_hold(w->db, &w->leader)) {
			atomic_store(&w->leading, false);
			listen_pid = 0;
			shutdown_sleep_ms(1000);
			continue;
		}
		atomic_store(&w->leading, true);
		stock_writer_listen(w, &listen_pid);
		stock_writer_wait(w);
		if (shutdown_requested())
			break;
		/* the marks made since the last fold (mostly folded while the window was open), then
		 * every shop takes its dirty SKUs: those in the middle of a cycle when it is over */
		stock_writer_fold(w);
		for (size_t i = 0; i < w->o.nshops; i++)
			stock_writer_shop_signal(&w->shops[i], true, false);
	}
	atomic_store(&w->leading, false);
	return NULL;
}

static bool stock_writer_shop_init(struct stock_writer *w, struct stock_writer_shop *s, const struct shop_config *conf,
				   const char *dsn)
{
	static const char *const shop_label[] = { "shop", NULL };
	static const char *const shop_result[] = { "shop", "result", NULL };
	pthread_condattr_t ca;
	s->w = w;
	s->conf = conf;
	pthread_mutex_init(&s->cycle, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	char err[256];
	s->shop = shop_config_connect(conf, err, sizeof err);
	if (s->shop && !s->shop->stock) {
		snprintf(err, sizeof err, "shop %s: its %s adapter does not serve stock", conf->id, s->shop->kind);
		shop_free(s->shop);
		s->shop = NULL;
	}
	if (!s->shop)
		log_error("%s", err);
	s->db = pg_new(dsn, STOCK_DB_SCHEMA);
	s->writes = metrics_series1(
		metrics_counter("erpsync_stock_shop_writes_total", "SKU quantities written to a shop", shop_label),
		conf->id);
	s->noop = metrics_series1(metrics_counter("erpsync_stock_shop_noop_total",
						  "SKU writes skipped because the shop already shows that quantity",
						  shop_label),
				  conf->id);
	struct metric_family *calls = metrics_counter("erpsync_stock_shop_calls_total",
						      "Stock write calls to a shop by result", shop_result);
	s->calls_ok = metrics_series2(calls, conf->id, "ok");
	s->calls_failed = metrics_series2(calls, conf->id, "failed");
	s->rejected = metrics_series1(metrics_counter("erpsync_stock_shop_rejected_total",
						      "SKU writes the shop refused (stale product id)", shop_label),
				      conf->id);
	s->unknown = metrics_series1(metrics_gauge("erpsync_stock_unknown_skus",
						   "SKUs the shop does not know (listed in stock_sync.unknown_sku)",
						   shop_label),
				     conf->id);
	s->latency = metrics_series1(
		metrics_histogram("erpsync_stock_e2e_latency_seconds", "From the ERP change to the shop write",
				  shop_label, stock_writer_latency_buckets,
				  sizeof stock_writer_latency_buckets / sizeof stock_writer_latency_buckets[0]),
		conf->id);
	return s->shop && s->db;
}

static void stock_writer_free(struct stock_writer *w)
{
	for (size_t i = 0; w->shops && i < w->o.nshops; i++) {
		struct stock_writer_shop *s = &w->shops[i];
		shop_free(s->shop);
		pg_free(s->db);
		if (s->conf) {
			pthread_mutex_destroy(&s->cycle);
			pthread_mutex_destroy(&s->lock);
			pthread_cond_destroy(&s->cond);
		}
	}
	free(w->shops);
	pg_free(w->db);
	pthread_mutex_destroy(&w->rc_lock);
	free(w);
}

struct stock_writer *stock_writer_start(const struct stock_writer_opts *opts)
{
	struct stock_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->o = *opts;
	w->leader.role = "stock-sync:writer";
	pthread_mutex_init(&w->rc_lock, NULL);
	w->db = pg_new(opts->pg_dsn, STOCK_DB_SCHEMA);
	w->shops = calloc(opts->nshops ? opts->nshops : 1, sizeof *w->shops);
	bool ok = w->db && w->shops;
	for (size_t i = 0; ok && i < opts->nshops; i++)
		ok = stock_writer_shop_init(w, &w->shops[i], &opts->shops[i], opts->pg_dsn);
	for (size_t i = 0; ok && i < opts->nshops; i++)
		ok = (w->shops[i].started = pthread_create(&w->shops[i].thread, NULL, stock_writer_shop_main,
							   &w->shops[i]) == 0);
	if (ok && (w->started = pthread_create(&w->thread, NULL, stock_writer_main, w) == 0))
		return w;
	log_error("stock writer: cannot start");
	bool joined = true;
	shutdown_request();
	for (size_t i = 0; w->shops && i < opts->nshops; i++)
		if (w->shops[i].started)
			joined = shutdown_join(w->shops[i].thread, "stock writer: a shop's thread") && joined;
	if (joined)
		stock_writer_free(w);
	return NULL;
}

void stock_writer_stop(struct stock_writer *w)
{
	if (!w)
		return;
	bool joined = !w->started || shutdown_join(w->thread, "stock writer: its main thread");
	for (size_t i = 0; i < w->o.nshops; i++) {
		struct stock_writer_shop *s = &w->shops[i];
		char what[96];
		snprintf(what, sizeof what, "stock writer: shop %s (%s)", s->conf->id,
			 atomic_load(&s->ended) ? "ending" : "still in a call");
		if (s->started)
			joined = shutdown_join(s->thread, what) && joined;
	}
	if (joined)
		stock_writer_free(w);
}
