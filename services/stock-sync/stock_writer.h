/* stock_writer — a thread that tells each shop its sellable quantity: every window it takes the
 * shop's dirty SKUs (changes within the window coalesce into one), computes
 *   sellable = available in the shop's warehouses - open reservations - the shop's buffer (>= 0),
 * skips what the shop already shows, and writes the rest through the platform's batch endpoint,
 * the changes that waited longest first. The shops are served side by side, each on a database
 * connection of its own. A SKU leaves the dirty set only after the shop accepted it, so a crash or
 * an outage repeats the write (absolute quantities make that harmless) and never loses it. */
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
	long long unknown_recheck_ms;        /* a SKU the shop did not know is asked again after this */
	struct stock_reconcile *reconcile;   /* shop side of reconciliation runs here; NULL: none */
};

struct stock_writer;

struct stock_writer *stock_writer_start(const struct stock_writer_opts *opts);
void stock_writer_stop(struct stock_writer *w);   /* joins (stops on shutdown_requested); NULL-safe */

/* sellable units from milli-units available and reserved and a buffer in units; never < 0. */
long long stock_writer_sellable(long long available_milli, long long reserved_milli, long long buffer);

#endif
