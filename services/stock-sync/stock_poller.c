#include "stock_poller.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erp_rest.h"
#include "event.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "pg_leader.h"
#include "shutdown.h"
#include "stock_db.h"
#include "stock_event.h"
#include "stock_feed.h"
#include "stock_reconcile.h"

#define STOCK_POLLER_RELAY_MAX 2000
/* A backlog is read over several cycles: one cycle reads at most this many pages (500,000 changes
 * at the default page size), then the reconciliation and the inbox pruning get their turn. */
#define STOCK_POLLER_PAGES_MAX 1000

struct stock_poller {
	struct stock_poller_opts o;
	pthread_t thread, relay_thread;
	bool relay_started;
	struct pg *db;
	struct pg *relay_db;
	struct erp *erp;
	struct kafka_producer *producer;
	struct metric_family *m_polls, *m_changes, *m_resets, *m_rejected;
	struct pg_leader leader;
};

/* What became of one page. */
enum stock_poller_step { STOCK_POLL_FAILED, STOCK_POLL_DONE, STOCK_POLL_RESTART };

/* Sends a record the ERP answered but stock-sync cannot take to <topic>.dlq: the record as JSON,
 * keyed SKU|warehouse when it has them, the reason in dlq-error, and where in which feed it was
 * read. It never was on a topic: no source partition or offset. */
static bool stock_poller_dead_letter(struct stock_poller *p, const char *cursor, const struct erp_stock_page *page,
				     const struct erp_stock_reject *r)
{
	char key[ERP_SKU_MAX + ERP_WAREHOUSE_MAX + 2] = "";
	if (*r->sku)
		snprintf(key, sizeof key, "%s|%s", r->sku, r->warehouse);
	rd_kafka_headers_t *h = rd_kafka_headers_new(4);
	if (!h)
		return false;
	rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
	rd_kafka_header_add(h, "erp-cursor", -1, *cursor ? cursor : "0", -1);
	if (*page->feed_id)
		rd_kafka_header_add(h, "erp-feed-id", -1, page->feed_id, -1);
	const struct kafka_dlq_record d = { p->o.topic,      -1, -1, *key ? key : NULL, strlen(key), r->json,
					    strlen(r->json), h };
	bool ok = kafka_dlq_send_record(p->producer, &d, "stock-sync", r->reason, 1);
	rd_kafka_headers_destroy(h);
	if (ok)
		metrics_inc(metrics_series0(p->m_rejected));
	return ok;
}

/* The page's records and its cursor, committed together, in the feed and epoch of pos. */
static bool stock_poller_commit(struct stock_poller *p, const struct stock_feed_pos *pos,
				const struct erp_stock_page *page, char *err, size_t errlen)
{
	struct stock_feed_pos next = *pos;
	snprintf(next.cursor, sizeof next.cursor, "%s", page->next_cursor);
	if (*page->feed_id)
		snprintf(next.feed_id, sizeof next.feed_id, "%s", page->feed_id);
	if (!pg_begin(p->db, err, errlen))
		return false;
	for (size_t i = 0; i < page->n; i++)
		if (!stock_event_queue(p->db, p->o.topic, &page->items[i], pos->epoch,
				       ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_POLL, err, errlen))
			goto fail;
	if (!stock_db_feed_set(p->db, STOCK_DB_ERP_FEED, &next, err, errlen) || !pg_commit(p->db, err, errlen))
		goto fail;
	return true;
fail:
	pg_rollback(p->db);
	return false;
}

/* The ERP's feed started over: the cursor goes back to its start in a new epoch, in which the
 * feed's versions are taken even where they are below those stock-sync holds. */
static bool stock_poller_restart(struct stock_poller *p, const struct stock_feed_pos *pos,
				 const struct erp_stock_page *page, const char *reason, const char *why, char *err,
				 size_t errlen)
{
	struct stock_feed_pos next = { .cursor = "0", .epoch = pos->epoch + 1 };
	snprintf(next.feed_id, sizeof next.feed_id, "%s", page->feed_id);
	if (!pg_begin(p->db, err, errlen))
		return false;
	if (!stock_db_feed_set(p->db, STOCK_DB_ERP_FEED, &next, err, errlen) || !pg_commit(p->db, err, errlen)) {
		pg_rollback(p->db);
		return false;
	}
	metrics_inc(metrics_series1(p->m_resets, reason));
	log_warn("ERP change feed started over: %s; reading the feed again from its start (feed epoch %lld), its"
		 " versions taken even where lower than before",
		 why, (long long)next.epoch);
	return true;
}

/* One page after pos's cursor: read, checked, its bad records dead-lettered, its changes and the
 * new cursor committed together. STOCK_POLL_FAILED: nothing committed (err says why). A restart
 * is taken once a cycle (may_restart): an ERP whose feed id flips between answers (two replicas
 * that disagree) must not be read from its start over and over. */
static enum stock_poller_step stock_poller_page(struct stock_poller *p, const struct stock_feed_pos *pos,
						bool may_restart, struct erp_stock_page *page, char *err, size_t errlen)
{
	const char *cursor = pos->cursor;
	char why[320];
	if (!p->erp->ops->stock_changes(p->erp, cursor, (size_t)p->o.page_limit, page, err, errlen)) {
		metrics_inc(metrics_series1(p->m_polls, "erp_error"));
		return STOCK_POLL_FAILED;
	}
	const char *reason = stock_feed_restarted(pos->feed_id, cursor, page, why, sizeof why);
	if (reason && !may_restart) {
		snprintf(err, errlen, "the ERP's change feed changed again within one poll: %s", why);
		metrics_inc(metrics_series1(p->m_polls, "erp_error"));
		return STOCK_POLL_FAILED;
	}
	if (reason) {
		if (stock_poller_restart(p, pos, page, reason, why, err, errlen))
			return STOCK_POLL_RESTART;
		metrics_inc(metrics_series1(p->m_polls, "db_error"));
		return STOCK_POLL_FAILED;
	}
	/* a cursor that goes back would re-read (harmless) but one that jumps over nothing and back
	 * again forever means a broken ERP: refuse it rather than loop or skip */
	if (page->n + page->nrejects == 0 && !page->has_more && stock_feed_cursor_cmp(page->next_cursor, cursor) < 0) {
		snprintf(err, errlen, "ERP answered cursor %s, behind %s", page->next_cursor, cursor);
		metrics_inc(metrics_series1(p->m_polls, "erp_error"));
		return STOCK_POLL_FAILED;
	}
	/* one that repeats itself with more to come would be read for ever, its records queued again
	 * each time */
	if (!stock_feed_advances(cursor, page)) {
		snprintf(err, errlen,
			 "ERP answered next_cursor %s after %s with %zu records%s: the cursor did not advance",
			 page->next_cursor, *cursor ? cursor : "0", page->n + page->nrejects,
			 page->has_more ? " and more to come" : "");
		metrics_inc(metrics_series1(p->m_polls, "cursor_stuck"));
		return STOCK_POLL_FAILED;
	}
	for (size_t i = 0; i < page->nrejects; i++) {
		if (!stock_poller_dead_letter(p, cursor, page, &page->rejects[i])) {
			snprintf(err, errlen, "record %zu (%s) could not be dead-lettered", page->rejects[i].index,
				 page->rejects[i].reason);
			metrics_inc(metrics_series1(p->m_polls, "dlq_error"));
			return STOCK_POLL_FAILED;
		}
	}
	if (!stock_poller_commit(p, pos, page, err, errlen)) {
		metrics_inc(metrics_series1(p->m_polls, "db_error"));
		return STOCK_POLL_FAILED;
	}
	metrics_inc(metrics_series1(p->m_polls, "ok"));
	metrics_add(metrics_series0(p->m_changes), (double)page->n);
	return STOCK_POLL_DONE;
}

static void stock_poller_poll(struct stock_poller *p)
{
	char err[512];
	int pages = 0;
	bool restarted = false;
	for (; pages < STOCK_POLLER_PAGES_MAX && !shutdown_requested(); pages++) {
		struct erp_stock_page page;
		struct stock_feed_pos pos;
		/* a reconnect in between drops the leader lock: poll on only while it is held */
		if (!pg_ensure(p->db, err, sizeof err) || !pg_leader_hold(p->db, &p->leader) ||
		    !stock_db_feed_get(p->db, STOCK_DB_ERP_FEED, &pos, err, sizeof err)) {
			log_warn("ERP poll skipped: database: %s", err);
			return;
		}
		enum stock_poller_step step = stock_poller_page(p, &pos, !restarted, &page, err, sizeof err);
		restarted = restarted || step == STOCK_POLL_RESTART;
		bool more = step == STOCK_POLL_RESTART || (step == STOCK_POLL_DONE && page.has_more);
		if (step == STOCK_POLL_FAILED)
			log_warn("ERP poll after cursor \"%s\" failed; cursor kept: %s", pos.cursor, err);
		else if (step == STOCK_POLL_DONE && page.n + page.nrejects)
			log_info("ERP poll: %zu changes, %zu dead-lettered, cursor %s -> %s", page.n, page.nrejects,
				 pos.cursor, page.next_cursor);
		erp_stock_page_cleanup(&page);
		if (!more)
			return;
	}
	if (pages == STOCK_POLLER_PAGES_MAX)
		log_info("ERP poll: %d pages read in this cycle; the rest follows in the next", pages);
}

static void *stock_poller_main(void *arg)
{
	struct stock_poller *p = arg;
	char err[512];
	int64_t next_poll = 0, next_prune = 0;
	while (!shutdown_requested()) {
		int64_t now = event_monotonic_us();
		bool leader = pg_ensure(p->db, err, sizeof err) && pg_leader_hold(p->db, &p->leader);
		if (leader && now >= next_poll) {
			stock_poller_poll(p);
			next_poll = event_monotonic_us() + p->o.interval_ms * 1000;
		}
		if (p->o.reconcile)
			stock_reconcile_set_leader(p->o.reconcile, leader);
		if (leader && p->o.reconcile && stock_reconcile_erp_take(p->o.reconcile))
			stock_reconcile_erp(p->o.reconcile, p->db, p->erp);
		if (leader && now >= next_prune) {
			int pruned = pg_inbox_prune(p->db, (int)p->o.inbox_keep_days, err, sizeof err);
			if (pruned < 0)
				log_warn("inbox prune failed: %s", err);
			else if (pruned > 0)
				log_info("inbox: pruned %d event ids older than %lld days", pruned,
					 p->o.inbox_keep_days);
			next_prune = now + 3600LL * 1000000;
		}
		long long wait = (next_poll - event_monotonic_us()) / 1000;
		shutdown_sleep_ms(wait < 50 ? 50 : wait > 1000 ? 1000 : wait);
	}
	return NULL;
}

/* The outbox relay has its own thread and connection: what the ERP webhook, polling and the
 * oversell check queue goes out within ~50 ms, whatever a slow ERP poll is doing meanwhile. */
static void *stock_poller_relay_main(void *arg)
{
	struct stock_poller *p = arg;
	char err[512], fatal[256];
	while (!shutdown_requested()) {
		if (kafka_producer_fatal(p->producer, fatal, sizeof fatal)) {
			log_error("outbox producer fatal error, stopping: %s", fatal);
			shutdown_request();
			break;
		}
		int n = pg_ensure(p->relay_db, err, sizeof err)
				? pg_outbox_relay(p->relay_db, p->producer, STOCK_POLLER_RELAY_MAX, err, sizeof err)
				: -1;
		if (n < 0)
			log_warn("outbox relay failed: %s", err);
		if (n < STOCK_POLLER_RELAY_MAX)
			shutdown_sleep_ms(n < 0 ? 500 : 50);
	}
	return NULL;
}

struct stock_poller *stock_poller_start(const struct stock_poller_opts *opts)
{
	static const char *const result_label[] = { "result", NULL };
	static const char *const reason_label[] = { "reason", NULL };
	char err[512];
	struct stock_poller *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->o = *opts;
	p->leader.role = "stock-sync:poller";
	p->db = pg_new(opts->pg_dsn, STOCK_DB_SCHEMA);
	p->relay_db = pg_new(opts->pg_dsn, STOCK_DB_SCHEMA);
	p->erp = erp_rest_new(opts->erp_url, opts->erp_token, opts->erp_rate);
	p->producer = kafka_producer_new("stock-sync", err, sizeof err);
	p->m_polls = metrics_counter("erpsync_stock_erp_polls_total", "ERP stock polls by result", result_label);
	p->m_changes = metrics_counter("erpsync_stock_erp_changes_total",
				       "Stock changes read from the ERP and queued for erp.stock.v1", NULL);
	p->m_resets = metrics_counter(
		"erpsync_stock_erp_feed_resets_total",
		"Times the ERP's change feed was found started over and read again from its start", reason_label);
	p->m_rejected = metrics_counter("erpsync_stock_erp_records_rejected_total",
					"ERP records with values stock-sync cannot take, sent to the dead-letter topic",
					NULL);
	if (!p->db || !p->relay_db || !p->erp || !p->producer) {
		log_error("stock poller: cannot start: %s", p->producer ? "out of memory" : err);
		goto fail;
	}
	if (pthread_create(&p->relay_thread, NULL, stock_poller_relay_main, p) != 0)
		goto fail;
	p->relay_started = true;
	if (pthread_create(&p->thread, NULL, stock_poller_main, p) != 0)
		goto fail;
	return p;
fail:
	if (p->relay_started) {
		shutdown_request();
		pthread_join(p->relay_thread, NULL);
	}
	pg_free(p->db);
	pg_free(p->relay_db);
	erp_free(p->erp);
	kafka_producer_free(p->producer);
	free(p);
	return NULL;
}

void stock_poller_stop(struct stock_poller *p)
{
	if (!p)
		return;
	bool joined = shutdown_join(p->thread, "stock poller");
	joined = shutdown_join(p->relay_thread, "stock poller: its outbox relay") && joined;
	if (!joined)
		return; /* a thread still uses what follows: left to the process's exit */
	kafka_producer_free(p->producer);
	erp_free(p->erp);
	pg_free(p->db);
	pg_free(p->relay_db);
	free(p);
}
