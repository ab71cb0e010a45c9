/* health — readiness kept as state, so that answering /readyz never waits on I/O and never opens
 * a connection of its own: a thread runs the service's check every interval and health_ready
 * answers from the last result.
 *
 * A check that hangs (a database that takes connections and never answers) is a finding too: the
 * check names each step before its I/O (health_step), and while one step has run longer than the
 * step limit, health_ready reports it ("PostgreSQL has not answered for 4 s") whatever the last
 * result said. */
#ifndef ERPSYNC_HEALTH_H
#define ERPSYNC_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

struct health;

/* true when ready, else reason (<= len bytes) says why not. Runs on the health thread. */
typedef bool (*health_check_fn)(struct health *h, void *ud, char *reason, size_t len);

/* Starts the thread; the first check runs at once. NULL when out of memory or threads. */
struct health *health_new(health_check_fn check, void *ud, long step_limit_ms, long interval_ms);
/* Stops the thread (waits for a check under way to return); NULL-safe. */
void health_free(struct health *h);

/* From the check: the step about to start, a static string ("PostgreSQL", "Kafka"). */
void health_step(struct health *h, const char *what);

/* The last result, an httpd_ready_fn (ud is the struct health). Any thread; no I/O. */
bool health_ready(void *ud, char *reason, size_t len);

#endif
