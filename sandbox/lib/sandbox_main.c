#include "sandbox_main.h"

#include <string.h>

#include "log.h"
#include "shutdown.h"

int sandbox_main_start(const char *name, const struct config_key *keys, void *cfg, size_t log_level_offset,
		       bool (*check)(const void *cfg), int argc, char **argv)
{
	enum log_level level = LOG_INFO;
	if (argc > 1 && strcmp(argv[1], "--config-reference") == 0) {
		config_print_reference(keys, name);
		return 0;
	}
	log_init(name, LOG_INFO);
	bool ok = config_load(keys, cfg);
	ok = (!check || check(cfg)) && ok; /* also after a bad table: every problem in one start */
	if (!ok)
		return 2;
	const char *const *log_level = (const char *const *)(const void *)((const char *)cfg + log_level_offset);
	(void)log_level_parse(*log_level, &level);
	log_init(name, level);
	config_log(keys, cfg);
	shutdown_install();
	return -1;
}

void sandbox_main_wait(void)
{
	while (!shutdown_requested())
		shutdown_sleep_ms(1000);
}
