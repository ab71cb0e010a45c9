/* sandbox_main — the start every sandbox peer shares: `--config-reference`, its table loaded (with
 * a peer's own checks beside it, every problem reported at once), the log level it names, the
 * effective configuration logged, signals installed; and the wait until it is told to stop. */
#ifndef SANDBOX_MAIN_H
#define SANDBOX_MAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* log_level_offset: offsetof(the peer's config struct, its LOG_LEVEL string). check (may be NULL)
 * runs after the table is loaded, logs its own problems and returns false on any. Returns -1 when
 * the peer should go on, else the exit status: 0 (the reference was printed), 2 (bad settings). */
int sandbox_main_start(const char *name, const struct config_key *keys, void *cfg, size_t log_level_offset,
		       bool (*check)(const void *cfg), int argc, char **argv);

/* Returns when SIGTERM or SIGINT came. */
void sandbox_main_wait(void);

#endif
