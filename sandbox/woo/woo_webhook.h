/* woo_webhook — the shop's webhooks (/wp-json/wc/v3/webhooks) and their deliveries.
 *
 * A webhook names one topic (order.created, order.updated, order.deleted), a delivery URL and a
 * secret. When it is created active, the URL gets WooCommerce's ping: a form body "webhook_id=N"
 * without the X-WC-Webhook headers (one attempt). Each order event the store reports becomes one
 * delivery per active webhook of its topic: the body is the order as GET /orders/<id> answers it
 * ({"id":N} for order.deleted), sent with the headers WooCommerce sends (X-WC-Webhook-Source,
 * -Topic, -Resource, -Event, -Signature = base64(HMAC-SHA256(secret, body)), -ID, -Delivery-ID).
 *
 * The store's listener only copies into a bounded queue (a mutex, never I/O); worker threads
 * deliver. A delivery that is not answered 2xx within the timeout is tried again after a back-off
 * (backoff_ms doubling, at most 30 s), keeping its delivery id, up to `attempts` tries in all; then
 * it is given up and counted. When the queue is full the oldest waiting delivery is dropped and
 * counted (overflowed). The fault switch drops the next N deliveries (never sent) or sends each of
 * the next N twice with the same delivery id. */
#ifndef SANDBOX_WOO_WEBHOOK_H
#define SANDBOX_WOO_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "woo_error.h"

#define WOO_WEBHOOK_MAX         100   /* webhooks a shop holds */
#define WOO_WEBHOOK_BACKOFF_MAX 30000 /* ms */

struct woo_webhook_opts {
	const char *source; /* X-WC-Webhook-Source: the shop's home URL, "http://127.0.0.1:19181/" */
	size_t queue_max;   /* deliveries waiting at most (>= 1) */
	unsigned attempts;  /* tries of one delivery, the first included (>= 1) */
	long backoff_ms;    /* wait before the second try */
	long timeout_ms;    /* of one try */
	unsigned threads;   /* delivering threads (>= 1) */
};

struct woo_webhook;

/* Starts the delivery threads; NULL with err. opts' strings are copied. */
struct woo_webhook *woo_webhook_start(const struct woo_webhook_opts *o, char *err, size_t errlen);
/* Stops the threads (a try in flight ends within its timeout) and frees; NULL-safe. */
void woo_webhook_stop(struct woo_webhook *w);

/* REST: {name, status (active|paused|disabled), topic, delivery_url, secret}. New references;
 * NULL with e as WooCommerce answers. */
json_t *woo_webhook_create(struct woo_webhook *w, const json_t *body, struct woo_error *e);
json_t *woo_webhook_list(struct woo_webhook *w);
json_t *woo_webhook_get(struct woo_webhook *w, int64_t id, struct woo_error *e);
json_t *woo_webhook_update(struct woo_webhook *w, int64_t id, const json_t *body, struct woo_error *e);
/* force false: 501 woocommerce_rest_trash_not_supported, as WooCommerce. */
json_t *woo_webhook_delete(struct woo_webhook *w, int64_t id, bool force, struct woo_error *e);

/* The order store's listener (woo_order_listener): queues the deliveries of one event. */
void woo_webhook_event(void *w, const char *topic, int64_t id, const char *body, size_t len);

/* {"mode":"none|drop|duplicate","count":N} (count default 1, -1: until "none"). */
bool woo_webhook_faults_arm(struct woo_webhook *w, const json_t *body, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* {"queued","in_flight","delivered","failed_attempts","gave_up","dropped","duplicated","overflowed",
 * "pings","fault":{"mode","remaining"},"last_error"} (new reference). */
json_t *woo_webhook_stats_json(struct woo_webhook *w);
/* Zeroes the counters and disarms the fault; webhooks and queued deliveries stay. */
void woo_webhook_stats_reset(struct woo_webhook *w);

#endif
