/* stock_writer — tells each shop its sellable quantity: every window the shop's dirty SKUs are taken
 * (changes within the window coalesce into one), turned into
 *   sellable = available in the shop's warehouses - open reservations - the shop's buffer (>= 0),
 * what the shop already shows is skipped, and the rest goes through the platform's batch endpoint,
 * the changes that waited longest first. Each shop has a thread and a database connection of its
 * own and runs on its own clock: a main thread (leadership, LISTEN, the fold) tells the shops when a
 * window closed, and a shop still in a cycle (its calls hanging, retried) simply takes the next
 * wake-up when done; a failing shop backs off alone. A SKU leaves the dirty set only after the shop
 * accepted it, so a crash or an outage repeats the write (absolute quantities make that harmless)
 * and never loses it. */
#ifndef STOCK_WRITER_H
#define STOCK_WRITER_H

#include <stddef.h>

struct shop_config;
struct stock_reconcile;

struct stock_writer_opts {
	const char *pg_dsn;
	const struct shop_config *shops;
	size_t nshops;
	long long window_ms;
	long long unknown_recheck_ms;      /* a SKU the shop did not know is asked again after this */
	struct stock_reconcile *reconcile; /* shop side of reconciliation runs here; NULL: none */
};

struct stock_writer;

struct stock_writer *stock_writer_start(const struct stock_writer_opts *opts);
/* Joins the threads (they stop on shutdown_requested) within the stop's bound (shutdown.h) and frees;
 * a thread stuck past it is left to the process's exit. NULL-safe. */
void stock_writer_stop(struct stock_writer *w);

/* sellable units from milli-units available and reserved and a buffer in units; never < 0. */
long long stock_writer_sellable(long long available_milli, long long reserved_milli, long long buffer);

#endif
