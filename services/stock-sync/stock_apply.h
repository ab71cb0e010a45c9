/* stock_apply — the consuming side of stock-sync. Records of every topic it reads (ERP stock, shop
 * orders, ERP orders, returns) are taken in batches and applied in one PostgreSQL transaction each,
 * exactly once (inbox), before their offsets are stored. A record that cannot be decoded goes to
 * <topic>.dlq with the reason; consumption goes on. */
#ifndef STOCK_APPLY_H
#define STOCK_APPLY_H

#include <stdbool.h>
#include <stddef.h>

struct kafka_consumer;
struct kafka_producer;
struct pg;
struct shop_config;

struct stock_apply_topics {
	const char *stock;       /* erp.stock.v1 */
	const char *shop_orders; /* shop.orders.v1 */
	const char *erp_orders;  /* erp.orders.v1 */
	const char *returns;     /* returns.v1 */
	const char *alerts;      /* stock.alerts.v1 (produced, through the outbox) */
};

struct stock_apply;

#define STOCK_APPLY_LANES_MAX 8

/* db is lane 0's connection (the caller keeps it); lanes - 1 more are opened with dsn. */
struct stock_apply *stock_apply_new(struct kafka_consumer *c, struct kafka_producer *dlq, struct pg *db,
				    const char *dsn, size_t lanes, const struct shop_config *shops, size_t nshops,
				    size_t batch_max, const struct stock_apply_topics *topics);
void stock_apply_free(struct stock_apply *a);

/* Polls up to batch_max messages (waiting at most wait_ms for the first, then a few ms for more),
 * applies them, stores offsets. Returns the number of messages handled; -1 when the database
 * failed (the batch is retried by the next call: nothing is stored before it succeeds). */
int stock_apply_run_once(struct stock_apply *a, int wait_ms);

#endif
