/* log — one JSON object per line on stderr: time, level, service, message, and the context a line
 * has (topic/partition/offset, order, SKU, trace id). Never pass secrets or whole customer records. */
#ifndef ERPSYNC_LOG_H
#define ERPSYNC_LOG_H

#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Optional context of a line; zero-initialise and set what applies (partition < 0 = none). */
struct log_ctx {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *shop;
	const char *order_id;
	const char *sku;
	const char *event_id;
	const char *trace_id;
};

#define LOG_CTX_INIT                          \
	{                                     \
		.partition = -1, .offset = -1 \
	}

/* service is copied; min is the lowest level written. Safe to call again (tests). */
void log_init(const char *service, enum log_level min);
/* "debug", "info", "warn", "error" -> level; false when unknown. */
_Bool log_level_parse(const char *s, enum log_level *out);

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes a ready JSON object (from the caller) as the "fields" member — for structured extras. */
#define log_debug(...)          log_write(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...)           log_write(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...)           log_write(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...)          log_write(LOG_ERROR, NULL, __VA_ARGS__)
#define log_ctx_info(ctx, ...)  log_write(LOG_INFO, (ctx), __VA_ARGS__)
#define log_ctx_warn(ctx, ...)  log_write(LOG_WARN, (ctx), __VA_ARGS__)
#define log_ctx_error(ctx, ...) log_write(LOG_ERROR, (ctx), __VA_ARGS__)

#endif
