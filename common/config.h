/* config — one table per service declares every environment variable it reads: name, type,
 * default, bounds, whether it is required or secret, and a line of help. The same table drives
 * parsing, validation, the effective-config log line (secrets redacted) and the README's reference
 * (`<service> --config-reference` prints it as Markdown).
 *
 * Every problem is reported, not just the first; main() then exits with status 2.
 * librdkafka properties pass through: KAFKA_<PROPERTY> -> <property>, lower-cased, '_' -> '.',
 * "__" -> '_' (KAFKA_BOOTSTRAP_SERVERS -> bootstrap.servers); an unknown one is an error naming it. */
#ifndef ERPSYNC_CONFIG_H
#define ERPSYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

enum config_type {
	CONFIG_STRING,   /* char * (heap copy, owned by the target struct: config_free releases) */
	CONFIG_INT,      /* long long */
	CONFIG_BOOL,     /* bool: true/false/1/0/yes/no/on/off */
	CONFIG_DURATION, /* long long milliseconds: "250ms", "5s", "2m", "1h", or plain ms */
	CONFIG_ENUM,     /* char * restricted to the '|'-separated list in .choices */
	CONFIG_URL,      /* char * like a string, logged redacted (config_url_redact): a URL may
			    * carry user:password@ or a token in its query */
};

struct config_key {
	const char *env; /* environment variable, e.g. "STOCK_POLL_INTERVAL" */
	enum config_type type;
	const char *def;    /* default as text; NULL = no default */
	long long min, max; /* bounds for INT and DURATION (ms); min == max == 0: unbounded */
	bool required;
	bool secret;         /* redacted in logs and in --config-reference defaults */
	size_t offset;       /* offsetof(target struct, field) */
	const char *choices; /* CONFIG_ENUM: "a|b|c" */
	const char *help;
};

#define CONFIG_KEY_END                                                       \
	{                                                                    \
		NULL, CONFIG_STRING, NULL, 0, 0, false, false, 0, NULL, NULL \
	}

/* Flags of a row: CONFIG_OPTIONAL (0), CONFIG_REQUIRED, CONFIG_SECRET, or both or'ed. */
#define CONFIG_OPTIONAL 0
#define CONFIG_REQUIRED 1
#define CONFIG_SECRET   2

/* One readable row per key. Before a table, `#define CONFIG_TARGET struct <its struct>` names the
 * struct the fields belong to; keep the rows sorted by variable name:
 *
 *   CONFIG_STR("ERP_TOKEN", NULL, CONFIG_REQUIRED | CONFIG_SECRET, erp_token, "Bearer token ..."),
 *   CONFIG_URL_("ERP_URL", "http://127.0.0.1:19180", CONFIG_OPTIONAL, erp_url, "base URL ..."),
 *   CONFIG_INT("ERP_RATE", "20", 1, 10000, erp_rate, "request budget towards the ERP, per second"),
 *   CONFIG_DUR("STOCK_POLL_INTERVAL", "5s", 100, 3600000, poll_interval, "how often ..."),
 *   CONFIG_ONE_OF("LOG_LEVEL", "info", "debug|info|warn|error", log_level, "lowest level logged"),
 */
#define CONFIG_ROW_(env_, type_, def_, min_, max_, flags_, field_, choices_, help_)                   \
	{                                                                                             \
		.env = (env_), .type = (type_), .def = (def_), .min = (min_), .max = (max_),          \
		.required = ((flags_)&CONFIG_REQUIRED) != 0, .secret = ((flags_)&CONFIG_SECRET) != 0, \
		.offset = offsetof(CONFIG_TARGET, field_), .choices = (choices_), .help = (help_)     \
	}
#define CONFIG_STR(env, def, flags, field, help)  CONFIG_ROW_(env, CONFIG_STRING, def, 0, 0, flags, field, NULL, help)
#define CONFIG_URL_(env, def, flags, field, help) CONFIG_ROW_(env, CONFIG_URL, def, 0, 0, flags, field, NULL, help)
#define CONFIG_INT(env, def, min, max, field, help) \
	CONFIG_ROW_(env, CONFIG_INT, def, min, max, CONFIG_OPTIONAL, field, NULL, help)
#define CONFIG_DUR(env, def, min, max, field, help) \
	CONFIG_ROW_(env, CONFIG_DURATION, def, min, max, CONFIG_OPTIONAL, field, NULL, help)
#define CONFIG_FLAG(env, def, field, help) CONFIG_ROW_(env, CONFIG_BOOL, def, 0, 0, CONFIG_OPTIONAL, field, NULL, help)
#define CONFIG_ONE_OF(env, def, choices, field, help) \
	CONFIG_ROW_(env, CONFIG_ENUM, def, 0, 0, CONFIG_OPTIONAL, field, choices, help)

/* Fills target from the environment. On any problem writes each one as a log line and returns
 * false. A service calls it, config_kafka_check and any other loader all before giving up, so
 * that one start reports every problem. */
bool config_load(const struct config_key *table, void *target) __attribute__((warn_unused_result));
/* Logs the effective configuration as one line, secrets shown as "***". */
void config_log(const struct config_key *table, const void *target);
/* Frees the strings config_load allocated in target. */
void config_free(const struct config_key *table, void *target);
/* Prints the table as a Markdown table (for README). */
void config_print_reference(const struct config_key *table, const char *service);

/* Applies every KAFKA_* variable to conf. false with err naming the first bad variable. */
bool config_kafka_apply(rd_kafka_conf_t *conf, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Checks every KAFKA_* variable against librdkafka, logging each problem; false if any. */
bool config_kafka_check(void) __attribute__((warn_unused_result));

/* url as it may be logged: user:password@ becomes ***@, a query ?*** and a fragment is left
 * out; scheme, host, port and path stay. Cut to fit len. */
void config_url_redact(const char *url, char *out, size_t len);

/* Parses "250ms", "5s", "2m", "1h" or a plain number of ms. false when malformed. */
bool config_parse_duration(const char *s, long long *ms) __attribute__((warn_unused_result));

#endif
