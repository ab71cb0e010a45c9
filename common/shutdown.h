/* shutdown — SIGTERM/SIGINT set a flag that every loop polls; a second signal while stopping
 * leaves the process at once (exit 130) for an operator who means it. A stop that a worker began
 * (shutdown_request, say after a fatal error) is not a signal: the operator's first SIGTERM then
 * still gets the bounded stop. SIGPIPE is ignored.
 *
 * One bound for the whole stop (SHUTDOWN_TIMEOUT, shutdown_set_timeout): its deadline is fixed
 * when the stop begins, and every stage takes its time from it. Work in flight (a call to a shop
 * or the ERP, an SQL statement, the thread doing it) has the first half: past it, such waits give
 * up (shutdown_work_left_ms). The rest is for what must come last: committing the consumer's
 * offsets and flushing the producers (shutdown_left_ms). */
#ifndef ERPSYNC_SHUTDOWN_H
#define ERPSYNC_SHUTDOWN_H

#include <pthread.h>
#include <stdbool.h>

void shutdown_install(void);
bool shutdown_requested(void);
void shutdown_request(void); /* for tests and for fatal errors found by a worker thread */
/* Sleeps up to ms milliseconds, waking early when shutdown is requested; true if it was. */
bool shutdown_sleep_ms(long ms);

/* The bound of the whole stop, in ms (default 10,000). Set once at start-up, before any thread. */
void shutdown_set_timeout(long ms);
/* Milliseconds left until the stop's deadline (0 once it has passed); LONG_MAX while not stopping. */
long shutdown_left_ms(void);
/* Milliseconds left for work in flight (the first half of the bound; 0 once it has passed);
 * LONG_MAX while not stopping. */
long shutdown_work_left_ms(void);

/* Joins t, within the stop's bound once stopping has begun (the work half and half of the rest: what
 * follows a join still needs time); before that it waits as long as t runs. false, logged with
 * what, when t did not end in time: what it uses must then be left to the process's exit. */
bool shutdown_join(pthread_t t, const char *what);

#endif
