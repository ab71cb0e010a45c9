/* erp_push — the sandbox ERP's optional webhook: every stock change is also POSTed to a URL, one
 * JSON record per call (the shape of an item of GET /api/v1/stock), with the header
 *   X-ERP-Signature: hex HMAC-SHA256(secret, raw body)
 *
 * The store's change listener only copies the record into a bounded queue (a mutex, never I/O),
 * so API handlers never wait for the receiver; one background thread delivers the queue in change
 * order. A delivery that fails (transport error, timeout, 5xx, 408, 429) is retried with
 * exponential backoff (ERP_PUSH_BACKOFF_MIN_MS doubling to ERP_PUSH_BACKOFF_MAX_MS; a 429's
 * Retry-After is honoured, up to the maximum) until it succeeds. Any other 4xx is the receiver
 * refusing the record (wrong secret, say): logged, counted and dropped, since repeating it would
 * not help. When the queue is full the oldest waiting record is dropped and counted: a later
 * change of the same SKU carries newer numbers, and a receiver can poll or reconcile.
 *
 * Metrics: erpsync_sandbox_erp_webhook_total{result="sent|retried|rejected|dropped"},
 * erpsync_sandbox_erp_webhook_queue (records waiting); GET /sandbox/stats shows the same. */
#ifndef SANDBOX_ERP_PUSH_H
#define SANDBOX_ERP_PUSH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "erp_store.h"

#define ERP_PUSH_BACKOFF_MIN_MS 250
#define ERP_PUSH_BACKOFF_MAX_MS 5000
#define ERP_PUSH_TIMEOUT_MS 5000

struct erp_push_opts {
	const char *url;          /* http:// or https:// */
	const char *secret;       /* HMAC key; non-empty */
	size_t queue_max;         /* records held at most (>= 1) */
};

struct erp_push;

/* Starts the delivery thread; NULL with err when the options are bad or it cannot start. opts'
 * strings are copied. */
struct erp_push *erp_push_start(const struct erp_push_opts *opts, char *err, size_t errlen);
/* Stops the thread (an attempt in flight ends within its timeout) and frees; records still
 * queued are dropped and logged. NULL-safe. */
void erp_push_stop(struct erp_push *p);

/* Queues a copy of the record; never blocks on I/O. The erp_store listener signature. */
void erp_push_record(void *push, const struct erp_stock *s);

/* {"queued","sent","retried","rejected","dropped","last_error"} (new reference). */
json_t *erp_push_stats_json(struct erp_push *p);

/* Hex HMAC-SHA256 of "<timestamp>.<body>" under secret into hex (65 bytes), timestamp in unix
 * seconds (sent as X-ERP-Timestamp); false when it cannot be computed. */
bool erp_push_sign(const char *secret, long long timestamp, const char *body, size_t len, char hex[65]);

#endif
