/* erp_webhook — the sandbox ERP's optional webhooks: every stock change (or, on a second instance,
 * every order status change and complaint decision) is also POSTed to a URL, one JSON record per
 * call (the shape of an item of GET /api/v1/stock, /order-changes, /complaint-changes), with the
 * headers (adapters/erp/erp_push.h)
 *   X-ERP-Event:     stock.changed | order.status_changed | complaint.decided
 *   X-ERP-Timestamp, X-ERP-Signature: hex HMAC-SHA256(secret, "<timestamp>.<raw body>")
 *
 * The store's change listener only copies the record into a bounded queue (a mutex, never I/O),
 * so API handlers never wait for the receiver; one background thread delivers the queue in change
 * order. A delivery that fails (transport error, timeout, 5xx, 408, 429) is retried with
 * exponential backoff (ERP_WEBHOOK_BACKOFF_MIN_MS doubling to ERP_WEBHOOK_BACKOFF_MAX_MS; a 429's
 * Retry-After is honoured, up to the maximum) until it succeeds. Any other 4xx is the receiver
 * refusing the record (wrong secret, say): logged, counted and dropped, since repeating it would
 * not help. When the queue is full the oldest waiting record is dropped and counted: a later
 * change of the same SKU carries newer numbers, and a receiver can poll or reconcile.
 *
 * Metrics: erpsync_sandbox_erp_webhook_total{result="sent|retried|rejected|dropped"},
 * erpsync_sandbox_erp_webhook_queue (records waiting); GET /sandbox/stats shows the same. */
#ifndef SANDBOX_ERP_WEBHOOK_H
#define SANDBOX_ERP_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "erp_docs.h"
#include "erp_store.h"

#define ERP_WEBHOOK_BACKOFF_MIN_MS 250
#define ERP_WEBHOOK_BACKOFF_MAX_MS 5000
#define ERP_WEBHOOK_TIMEOUT_MS     5000

struct erp_webhook_opts {
	const char *url;    /* http:// or https:// */
	const char *secret; /* HMAC key; non-empty */
	size_t queue_max;   /* records held at most (>= 1) */
};

struct erp_webhook;

/* Starts the delivery thread; NULL with err when the options are bad or it cannot start. opts'
 * strings are copied. */
struct erp_webhook *erp_webhook_start(const struct erp_webhook_opts *opts, char *err, size_t errlen);
/* Stops the thread (an attempt in flight ends within its timeout) and frees; records still
 * queued are dropped and logged. NULL-safe. */
void erp_webhook_stop(struct erp_webhook *p);

/* Queues a copy of the record; never blocks on I/O. The erp_store listener signature. */
void erp_webhook_record(void *push, const struct erp_stock *s);
/* Queues a copy of a feed's change (an order's status, a complaint's decision); the erp_docs
 * listener signature. */
void erp_webhook_change(void *push, enum erp_docs_feed feed, const json_t *item);

/* {"queued","sent","retried","rejected","dropped","last_error"} (new reference). */
json_t *erp_webhook_stats_json(struct erp_webhook *p);

#endif
