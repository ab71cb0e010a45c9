#include "stock_ready.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "health.h"
#include "kafka.h"
#include "pg.h"
#include "stock_db.h"

/* below health's step limit (main.c), so that a broker that is down reads "Kafka unreachable", not
 * "Kafka has not answered" */
#define STOCK_READY_KAFKA_TIMEOUT_MS 2000

struct stock_ready {
	struct pg *db;                    /* the check's own connection, kept between checks */
	struct kafka_consumer *consumer;
	atomic_bool migrated;
};

struct stock_ready *stock_ready_new(const char *dsn, struct kafka_consumer *consumer)
{
	struct stock_ready *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->consumer = consumer;
	atomic_init(&r->migrated, false);
	r->db = pg_new(dsn, STOCK_DB_SCHEMA);
	if (!r->db) {
		free(r);
		return NULL;
	}
	return r;
}

void stock_ready_free(struct stock_ready *r)
{
	if (!r)
		return;
	pg_free(r->db);
	free(r);
}

void stock_ready_migrated(struct stock_ready *r)
{
	atomic_store(&r->migrated, true);
}

/* One kept connection rather than one per check: a check a second would otherwise start a
 * PostgreSQL backend a second. pg_exec reconnects when the connection was lost. */
bool stock_ready_check(struct health *h, void *ud, char *reason, size_t len)
{
	struct stock_ready *r = ud;
	char err[256];
	health_step(h, "PostgreSQL");
	if (!pg_exec(r->db, "SELECT 1", err, sizeof err)) {
		snprintf(reason, len, "PostgreSQL unreachable");
		return false;
	}
	if (!atomic_load(&r->migrated)) {
		snprintf(reason, len, "database migrations not applied yet");
		return false;
	}
	health_step(h, "Kafka");
	if (!kafka_reachable(kafka_consumer_handle(r->consumer), STOCK_READY_KAFKA_TIMEOUT_MS)) {
		snprintf(reason, len, "Kafka unreachable");
		return false;
	}
	if (!kafka_consumer_joined(r->consumer)) {
		snprintf(reason, len, "not yet a member of its Kafka consumer group");
		return false;
	}
	return true;
}
