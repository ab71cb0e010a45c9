#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"

static char log_service[64] = "erpsync";
static enum log_level log_min = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const log_names[] = { "debug", "info", "warn", "error" };

void log_init(const char *service, enum log_level min)
{
	snprintf(log_service, sizeof log_service, "%s", service ? service : "erpsync");
	log_min = min;
}

bool log_level_parse(const char *s, enum log_level *out)
{
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static bool log_str_field(struct buf *b, const char *key, const char *value)
{
	if (!value || !*value)
		return true;
	return buf_printf(b, ",\"%s\":", key) && buf_json_str(b, value);
}

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
	if (level < log_min)
		return;

	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000L);

	struct buf b = BUF_INIT;
	bool ok = buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"service\":", when, log_names[level]) &&
		  buf_json_str(&b, log_service) && buf_puts(&b, ",\"message\":") && buf_json_str(&b, msg);
	if (ok && ctx) {
		ok = log_str_field(&b, "topic", ctx->topic) &&
		     (ctx->partition < 0 || buf_printf(&b, ",\"partition\":%d", (int)ctx->partition)) &&
		     (ctx->offset < 0 || buf_printf(&b, ",\"offset\":%lld", (long long)ctx->offset)) &&
		     log_str_field(&b, "shop", ctx->shop) && log_str_field(&b, "order_id", ctx->order_id) &&
		     log_str_field(&b, "sku", ctx->sku) && log_str_field(&b, "event_id", ctx->event_id) &&
		     log_str_field(&b, "trace_id", ctx->trace_id);
	}
	ok = ok && buf_puts(&b, "}\n");

	pthread_mutex_lock(&log_lock);
	if (ok)
		fwrite(b.data, 1, b.len, stderr);
	else
		fputs("{\"level\":\"error\",\"message\":\"log line lost: out of memory\"}\n", stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
	buf_cleanup(&b);
}
