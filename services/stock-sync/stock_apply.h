/* stock_apply — the consuming side of stock-sync: erp.stock.v1 records, in batches, applied to
 * PostgreSQL exactly once (inbox) before their offsets are stored. A record that cannot be decoded
 * goes to erp.stock.v1.dlq with the reason; consumption goes on. */
#ifndef STOCK_APPLY_H
#define STOCK_APPLY_H

#include <stdbool.h>
#include <stddef.h>

struct kafka_consumer;
struct kafka_producer;
struct pg;
struct shop_config;

struct stock_apply;

struct stock_apply *stock_apply_new(struct kafka_consumer *c, struct kafka_producer *dlq, struct pg *db,
				    const struct shop_config *shops, size_t nshops, size_t batch_max);
void stock_apply_free(struct stock_apply *a);

/* Polls up to batch_max messages (waiting at most wait_ms for the first, then a few ms for more),
 * applies them, stores offsets. Returns the number of messages handled; -1 when the database
 * failed (the batch is retried by the next call: nothing is stored before it succeeds). */
int stock_apply_run_once(struct stock_apply *a, int wait_ms);

#endif
