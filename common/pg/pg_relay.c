#include "pg_relay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "event.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"
#include "shutdown.h"

#define PG_RELAY_IDLE_MS 200
#define PG_RELAY_MAX     2000 /* rows a call relays */
#define PG_RELAY_BACKOFF 500  /* ms after a failed call */
/* After a call that relayed something, wakes are gathered for this long (ms): under load every
 * webhook's commit wakes the relay, and a call per wake was a transaction (and a WAL flush) for
 * a handful of rows; this bounds the calls to ~1000/PG_RELAY_GATHER_MS a second and adds at
 * most that to a record's way to Kafka. */
#define PG_RELAY_GATHER_MS 10

struct pg_relay {
	struct pg *db;
	struct kafka_producer *producer;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool woken, stopping, started;
	const char *service;
};

void pg_relay_wake(struct pg_relay *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->woken = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

static void *pg_relay_main(void *ud)
{
	struct pg_relay *r = ud;
	long wait_ms = 0, gather_ms = 0;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		if (gather_ms > 0) {
			struct timespec dl = event_deadline(CLOCK_MONOTONIC, gather_ms);
			while (!r->stopping && pthread_cond_timedwait(&r->cond, &r->mu, &dl) == 0)
				;
			wait_ms -= gather_ms;
		}
		if (!r->woken && !r->stopping && wait_ms > 0) {
			struct timespec dl = event_deadline(CLOCK_MONOTONIC, wait_ms);
			pthread_cond_timedwait(&r->cond, &r->mu, &dl);
		}
		bool stopping = r->stopping;
		r->woken = false;
		pthread_mutex_unlock(&r->mu);
		char err[256];
		int n = pg_ensure(r->db, err, sizeof err)
				? pg_outbox_relay(r->db, r->producer, PG_RELAY_MAX, err, sizeof err)
				: -1;
		if (n < 0) {
			if (!stopping)
				log_warn("outbox relay: %s", err);
			wait_ms = PG_RELAY_BACKOFF;
		} else {
			wait_ms = n == PG_RELAY_MAX ? 0 : PG_RELAY_IDLE_MS;
		}
		gather_ms = n > 0 && n < PG_RELAY_MAX ? PG_RELAY_GATHER_MS : 0;
		if (stopping && (n <= 0 || shutdown_work_left_ms() <= 0))
			break;
	}
	return NULL;
}

struct pg_relay *pg_relay_start(const char *dsn, const char *schema, const char *service)
{
	struct pg_relay *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->service = service;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	char err[256] = "out of memory";
	r->db = pg_new(dsn, schema);
	r->producer = r->db ? kafka_producer_new(r->service, err, sizeof err) : NULL;
	if (!r->producer || pthread_create(&r->thread, NULL, pg_relay_main, r) != 0) {
		log_error("outbox relay: cannot start: %s", err);
		pg_relay_stop(r);
		return NULL;
	}
	r->started = true;
	return r;
}

void pg_relay_stop(struct pg_relay *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stopping = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->mu);
		if (!shutdown_join(r->thread, "outbox relay"))
			return; /* still running past the bound: leave it what it uses */
	}
	if (r->producer && !kafka_producer_flush(r->producer, (int)shutdown_left_ms()))
		log_warn("outbox relay: producer not drained at stop (the rows stay in the outbox)");
	kafka_producer_free(r->producer);
	pg_free(r->db);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
