/* stock_reconcile — the full reconciliation that catches what polling and webhooks missed: on a
 * schedule (STOCK_RECONCILE_INTERVAL, hourly by default) and on demand (POST /admin/reconcile).
 *
 * ERP side (poller thread): every stock record of the ERP is read and compared with stock-sync's
 * state; a record the state lacks or holds an older version of (or one of an earlier feed epoch) is
 * queued as an erp.stock.v1 event (origin RECONCILIATION), so the repair travels the same path as
 * any change; one older than the state is left alone (never rolled back). Shop side (writer
 * thread): every item of each shop is read; a managed SKU whose shop quantity differs from the rule
 * is marked dirty and rewritten, and the SKU -> product mapping is refreshed. Each repair is counted and the run is recorded in
 * stock_sync.reconcile_run. */
#ifndef STOCK_RECONCILE_H
#define STOCK_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

struct erp;
struct pg;
struct shop;
struct shop_config;
struct buf;

struct stock_reconcile;

struct stock_reconcile *stock_reconcile_new(long long interval_ms, const char *topic);
void stock_reconcile_free(struct stock_reconcile *rc);

/* Asks for a run now (thread-safe): what POST /admin/reconcile does. false if one is running or
 * this instance is not the leader (whose poller runs reconciliation). */
bool stock_reconcile_request(struct stock_reconcile *rc);
/* Poller thread: whether this instance is the leader. */
void stock_reconcile_set_leader(struct stock_reconcile *rc, bool leader);
/* The last run as JSON into out (thread-safe): GET /admin/reconcile. */
bool stock_reconcile_status(struct stock_reconcile *rc, struct buf *out) __attribute__((warn_unused_result));

/* Poller thread: whether the ERP side is due (scheduled or requested); if so it is now running. */
bool stock_reconcile_erp_take(struct stock_reconcile *rc);
/* Poller thread: reads the whole ERP and queues what differs. */
void stock_reconcile_erp(struct stock_reconcile *rc, struct pg *db, struct erp *erp);

/* Writer thread: whether the shop side is due (after the ERP side of the same run finished). */
bool stock_reconcile_shop_take(struct stock_reconcile *rc);
/* Writer thread: one shop. */
void stock_reconcile_shop(struct stock_reconcile *rc, struct pg *db, const struct shop_config *conf, struct shop *shop);
/* Writer thread: the run is over (records it). */
void stock_reconcile_shop_done(struct stock_reconcile *rc, struct pg *db);

#endif
