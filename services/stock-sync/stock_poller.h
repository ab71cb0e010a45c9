/* stock_poller — a thread that polls the ERP's stock changes after a persisted cursor and queues
 * them as erp.stock.v1 records in the outbox, in the same transaction that advances the cursor
 * (only on the instance holding the poller lock), and a second thread that relays the outbox to
 * Kafka. A failed or malformed answer, or one whose cursor does not advance, leaves the cursor
 * where it was; a record with values out of range goes to <topic>.dlq and the rest of its page
 * goes on; a change feed that started over is read again from its start in a new feed epoch
 * (stock_feed.h). */
#ifndef STOCK_POLLER_H
#define STOCK_POLLER_H

#include <stdbool.h>

struct stock_reconcile;

struct stock_poller_opts {
	const char *pg_dsn;
	const char *topic;
	const char *erp_url;
	const char *erp_token;
	double erp_rate;
	long long interval_ms;
	long long page_limit;
	long long inbox_keep_days;         /* applied event ids are kept this long (pruned hourly) */
	struct stock_reconcile *reconcile; /* ERP side of reconciliation runs here; NULL: none */
};

struct stock_poller;

/* Starts the thread; NULL when it cannot. opts' strings must outlive the poller. */
struct stock_poller *stock_poller_start(const struct stock_poller_opts *opts);
/* Joins the thread (it stops on shutdown_requested) and frees. NULL-safe. */
void stock_poller_stop(struct stock_poller *p);

#endif
