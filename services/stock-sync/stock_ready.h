/* stock_ready — what "ready" means for stock-sync, checked on health's thread (common/health.h)
 * every second, so that /readyz answers from the last result: PostgreSQL answers, the migrations
 * are applied, a Kafka broker answers and the consumer is a member of its group. */
#ifndef STOCK_READY_H
#define STOCK_READY_H

#include <stdbool.h>
#include <stddef.h>

struct health;
struct kafka_consumer;
struct stock_ready;

/* Does not connect yet. consumer stays the caller's and must outlive the health thread. */
struct stock_ready *stock_ready_new(const char *dsn, struct kafka_consumer *consumer);
void stock_ready_free(struct stock_ready *r);    /* after health_free; NULL-safe */

/* The migrations are applied (any thread). */
void stock_ready_migrated(struct stock_ready *r);

/* A health_check_fn (ud: the struct stock_ready). */
bool stock_ready_check(struct health *h, void *ud, char *reason, size_t len);

#endif
