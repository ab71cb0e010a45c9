/* shutdown — SIGTERM/SIGINT set a flag that every loop polls; a second signal while stopping
 * leaves the process at once (exit 130) for an operator who means it. SIGPIPE is ignored. */
#ifndef ERPSYNC_SHUTDOWN_H
#define ERPSYNC_SHUTDOWN_H

#include <stdbool.h>

void shutdown_install(void);
bool shutdown_requested(void);
void shutdown_request(void);     /* for tests and for fatal errors found by a worker thread */
/* Sleeps up to ms milliseconds, waking early when shutdown is requested; true if it was. */
bool shutdown_sleep_ms(long ms);

#endif
