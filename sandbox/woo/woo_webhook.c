#include "woo_webhook.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "event.h"
#include "http_client.h"
#include "log.h"
#include "shop_woo_webhook.h"
#include "shutdown.h"
#include "woo_date.h"

#define WOO_WEBHOOK_THREADS_MAX 16
#define WOO_WEBHOOK_IDLE_MS     500
#define WOO_WEBHOOK_URL_MAX     2048
#define WOO_WEBHOOK_SECRET_MAX  256
#define WOO_WEBHOOK_NAME_MAX    200
#define WOO_WEBHOOK_USER_AGENT  "WooCommerce/9.4.0 Hookshot (WordPress/6.7.1)"

struct woo_hook {
	int64_t id;
	char name[WOO_WEBHOOK_NAME_MAX + 1];
	char status[16];
	char topic[32];
	char *url;
	char *secret;
	int64_t created_s, modified_s;
};

struct woo_delivery {
	struct woo_delivery *next;
	int64_t hook_id;
	char *url, *secret; /* copies: the webhook may go while this waits */
	char topic[32];
	char id[33]; /* X-WC-Webhook-Delivery-ID, the same on every try */
	char *body;
	size_t len;
	bool ping;
	unsigned tries;
	int64_t due_ms; /* monotonic */
};

enum woo_webhook_fault { WOO_HOOK_FAULT_NONE, WOO_HOOK_FAULT_DROP, WOO_HOOK_FAULT_DUPLICATE };
static const char *const woo_hook_fault_names[] = { "none", "drop", "duplicate" };

struct woo_webhook {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct woo_webhook_opts o;
	char *source;
	struct woo_hook *hooks[WOO_WEBHOOK_MAX];
	size_t nhooks;
	int64_t next_hook_id;
	struct woo_delivery *head, *tail;
	size_t queued, in_flight;
	unsigned long long delivered, failed_attempts, gave_up, dropped, duplicated, overflowed, pings, seq;
	enum woo_webhook_fault fault;
	long long fault_left; /* -1: until disarmed */
	char last_error[512];
	uint64_t rnd;
	bool stop;
	pthread_t threads[WOO_WEBHOOK_THREADS_MAX];
	unsigned nthreads;
};

static const char *const woo_hook_topics[][2] = {
	{ "order.created", "woocommerce_new_order" },
	{ "order.updated", "woocommerce_update_order" },
	{ "order.deleted", "woocommerce_delete_order" },
};

static int64_t woo_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t woo_rand(struct woo_webhook *w)
{
	w->rnd = w->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
	return w->rnd >> 11;
}

/* ---- the queue ---- */

static void woo_delivery_free(struct woo_delivery *d)
{
	if (!d)
		return;
	free(d->url);
	free(d->secret);
	free(d->body);
	free(d);
}

static void woo_queue_push_locked(struct woo_webhook *w, struct woo_delivery *d)
{
	if (w->queued >= w->o.queue_max && w->head) {
		struct woo_delivery *old = w->head;
		w->head = old->next;
		if (!w->head)
			w->tail = NULL;
		w->queued--;
		w->overflowed++;
		woo_delivery_free(old);
	}
	d->next = NULL;
	if (w->tail)
		w->tail->next = d;
	else
		w->head = d;
	w->tail = d;
	w->queued++;
	pthread_cond_signal(&w->cond);
}

/* Unlinks the first delivery that is due; else NULL and *wait_ms until the earliest is. */
static struct woo_delivery *woo_queue_take_locked(struct woo_webhook *w, long *wait_ms)
{
	int64_t now = woo_mono_ms(), soonest = now + WOO_WEBHOOK_IDLE_MS;
	for (struct woo_delivery **pp = &w->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		struct woo_delivery *d = *pp;
		if (d->due_ms <= now) {
			*pp = d->next;
			if (w->tail == d)
				w->tail = prev;
			w->queued--;
			return d;
		}
		if (d->due_ms < soonest)
			soonest = d->due_ms;
	}
	*wait_ms = (long)(soonest - now);
	return NULL;
}

static struct woo_delivery *woo_delivery_new(struct woo_webhook *w, const struct woo_hook *h, const char *topic,
					     const char *body, size_t len, bool ping)
{
	struct woo_delivery *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->hook_id = h->id;
	d->url = strdup(h->url);
	d->secret = strdup(h->secret);
	d->body = malloc(len + 1);
	d->len = len;
	d->ping = ping;
	d->due_ms = woo_mono_ms();
	snprintf(d->topic, sizeof d->topic, "%s", topic);
	/* unique per delivery: a sequence number and a random part */
	snprintf(d->id, sizeof d->id, "%016llx%016llx", ++w->seq, (unsigned long long)woo_rand(w));
	if (!d->url || !d->secret || !d->body) {
		woo_delivery_free(d);
		return NULL;
	}
	memcpy(d->body, body, len);
	d->body[len] = '\0';
	return d;
}

static struct woo_delivery *woo_delivery_copy(const struct woo_delivery *d)
{
	struct woo_delivery *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	*c = *d;
	c->url = strdup(d->url);
	c->secret = strdup(d->secret);
	c->body = malloc(d->len + 1);
	if (!c->url || !c->secret || !c->body) {
		woo_delivery_free(c);
		return NULL;
	}
	memcpy(c->body, d->body, d->len + 1);
	return c;
}

/* The fault's share of one delivery. */
static enum woo_webhook_fault woo_fault_take_locked(struct woo_webhook *w)
{
	enum woo_webhook_fault f = w->fault;
	if (f == WOO_HOOK_FAULT_NONE)
		return f;
	if (w->fault_left > 0 && --w->fault_left == 0)
		w->fault = WOO_HOOK_FAULT_NONE;
	return f;
}

void woo_webhook_event(void *ud, const char *topic, int64_t id, const char *body, size_t len)
{
	struct woo_webhook *w = ud;
	(void)id;
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->nhooks; i++) {
		const struct woo_hook *h = w->hooks[i];
		if (strcmp(h->status, "active") != 0 || strcmp(h->topic, topic) != 0)
			continue;
		enum woo_webhook_fault f = woo_fault_take_locked(w);
		if (f == WOO_HOOK_FAULT_DROP) {
			w->dropped++;
			continue;
		}
		struct woo_delivery *d = woo_delivery_new(w, h, topic, body, len, false);
		struct woo_delivery *twin = d && f == WOO_HOOK_FAULT_DUPLICATE ? woo_delivery_copy(d) : NULL;
		if (!d) {
			snprintf(w->last_error, sizeof w->last_error, "out of memory: a delivery was lost");
			continue;
		}
		woo_queue_push_locked(w, d);
		if (twin) {
			woo_queue_push_locked(w, twin);
			w->duplicated++;
		}
	}
	pthread_mutex_unlock(&w->lock);
}

/* ---- delivering ---- */

/* One try of d; true when the receiver answered 2xx. why says what went wrong. */
static bool woo_deliver(struct woo_webhook *w, struct http_client *c, const struct woo_delivery *d, char *why,
			size_t whylen)
{
	char sig[SHOP_WOO_WEBHOOK_SIGNATURE_MAX], hook_id[24], resource[32];
	struct http_response resp;
	struct http_header h[8];
	size_t n = 0;
	const char *dot = strchr(d->topic, '.');
	snprintf(resource, sizeof resource, "%.*s", dot ? (int)(dot - d->topic) : 0, d->topic);
	snprintf(hook_id, sizeof hook_id, "%lld", (long long)d->hook_id);
	if (d->ping) {
		h[n++] = (struct http_header){ "Content-Type", "application/x-www-form-urlencoded" };
	} else {
		if (!shop_woo_webhook_sign(d->secret, d->body, d->len, sig)) {
			snprintf(why, whylen, "cannot sign");
			return false;
		}
		h[n++] = (struct http_header){ "Content-Type", "application/json" };
		h[n++] = (struct http_header){ "X-WC-Webhook-Source", w->source };
		h[n++] = (struct http_header){ SHOP_WOO_WEBHOOK_TOPIC_HEADER, d->topic };
		h[n++] = (struct http_header){ "X-WC-Webhook-Resource", resource };
		h[n++] = (struct http_header){ "X-WC-Webhook-Event", dot ? dot + 1 : "" };
		h[n++] = (struct http_header){ SHOP_WOO_WEBHOOK_SIGNATURE_HEADER, sig };
		h[n++] = (struct http_header){ "X-WC-Webhook-ID", hook_id };
		h[n++] = (struct http_header){ SHOP_WOO_WEBHOOK_DELIVERY_HEADER, d->id };
	}
	http_response_init(&resp);
	bool ok = http_request(c, "POST", d->url, h, n, d->body, d->len, &resp);
	if (!ok)
		snprintf(why, whylen, "%.200s", resp.error);
	else if (resp.status < 200 || resp.status > 299)
		snprintf(why, whylen, "answered HTTP %ld", resp.status);
	ok = ok && resp.status >= 200 && resp.status <= 299;
	http_response_cleanup(&resp);
	return ok;
}

static void woo_deliver_done_locked(struct woo_webhook *w, struct woo_delivery *d, bool ok, const char *why)
{
	d->tries++;
	if (ok) {
		if (d->ping)
			w->pings++;
		else
			w->delivered++;
		woo_delivery_free(d);
		return;
	}
	w->failed_attempts++;
	snprintf(w->last_error, sizeof w->last_error, "%s delivery %s to webhook %lld, try %u: %s", d->topic, d->id,
		 (long long)d->hook_id, d->tries, why);
	if (d->ping || d->tries >= w->o.attempts) {
		w->gave_up++;
		log_warn("webhook %lld: gave up %s delivery %s after %u tries: %s", (long long)d->hook_id, d->topic,
			 d->id, d->tries, why);
		woo_delivery_free(d);
		return;
	}
	long wait = w->o.backoff_ms;
	for (unsigned i = 1; i < d->tries && wait < WOO_WEBHOOK_BACKOFF_MAX; i++)
		wait *= 2;
	d->due_ms = woo_mono_ms() + (wait < WOO_WEBHOOK_BACKOFF_MAX ? wait : WOO_WEBHOOK_BACKOFF_MAX);
	/* back at the end: a failing receiver does not hold up the deliveries behind it */
	woo_queue_push_locked(w, d);
}

static void *woo_webhook_main(void *arg)
{
	struct woo_webhook *w = arg;
	struct http_client_opts ho = {
		.timeout_ms = w->o.timeout_ms,
		.connect_timeout_ms = w->o.timeout_ms < 2000 ? w->o.timeout_ms : 2000,
		.max_attempts = 1, /* the queue retries, so that one receiver cannot stall the others */
		.user_agent = WOO_WEBHOOK_USER_AGENT,
		.metrics_system = "sandbox_woo_webhook",
	};
	struct http_client *c = http_client_new(&ho);
	char why[300];
	pthread_mutex_lock(&w->lock);
	while (c && !w->stop && !shutdown_requested()) {
		long wait_ms = WOO_WEBHOOK_IDLE_MS;
		struct woo_delivery *d = woo_queue_take_locked(w, &wait_ms);
		if (!d) {
			struct timespec until = event_deadline(CLOCK_MONOTONIC, wait_ms > 0 ? wait_ms : 1);
			pthread_cond_timedwait(&w->cond, &w->lock, &until);
			continue;
		}
		w->in_flight++;
		pthread_mutex_unlock(&w->lock);
		why[0] = '\0';
		bool ok = woo_deliver(w, c, d, why, sizeof why);
		pthread_mutex_lock(&w->lock);
		w->in_flight--;
		woo_deliver_done_locked(w, d, ok, why);
	}
	pthread_mutex_unlock(&w->lock);
	if (!c)
		log_error("webhook: cannot create an HTTP client: deliveries stop");
	http_client_free(c);
	return NULL;
}

/* ---- start and stop ---- */

static void woo_hook_free(struct woo_hook *h)
{
	if (!h)
		return;
	free(h->url);
	free(h->secret);
	free(h);
}

static void woo_webhook_free(struct woo_webhook *w)
{
	while (w->head) {
		struct woo_delivery *d = w->head;
		w->head = d->next;
		woo_delivery_free(d);
	}
	for (size_t i = 0; i < w->nhooks; i++)
		woo_hook_free(w->hooks[i]);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->source);
	free(w);
}

struct woo_webhook *woo_webhook_start(const struct woo_webhook_opts *o, char *err, size_t errlen)
{
	if (!o->source || o->queue_max < 1 || o->attempts < 1 || o->threads < 1 ||
	    o->threads > WOO_WEBHOOK_THREADS_MAX || o->timeout_ms < 1 || o->backoff_ms < 0) {
		snprintf(err, errlen, "webhook: bad options");
		return NULL;
	}
	struct woo_webhook *w = calloc(1, sizeof *w);
	pthread_condattr_t ca;
	if (!w || !(w->source = strdup(o->source))) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->o = *o;
	w->o.source = w->source;
	w->next_hook_id = 1;
	w->rnd = (uint64_t)event_now_us();
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	for (; w->nthreads < o->threads; w->nthreads++) {
		if (pthread_create(&w->threads[w->nthreads], NULL, woo_webhook_main, w) != 0) {
			snprintf(err, errlen, "webhook: cannot start a delivery thread");
			woo_webhook_stop(w);
			return NULL;
		}
	}
	return w;
}

void woo_webhook_stop(struct woo_webhook *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	if (w->queued)
		log_info("webhook: %zu deliveries were still queued at stop", w->queued);
	woo_webhook_free(w);
}

/* ---- the REST resource ---- */

static json_t *woo_hook_json(const struct woo_hook *h)
{
	char created[WOO_DATE_LEN], modified[WOO_DATE_LEN];
	const char *hook = "";
	for (size_t i = 0; i < sizeof woo_hook_topics / sizeof woo_hook_topics[0]; i++)
		if (strcmp(woo_hook_topics[i][0], h->topic) == 0)
			hook = woo_hook_topics[i][1];
	const char *dot = strchr(h->topic, '.');
	woo_date_format(h->created_s, created);
	woo_date_format(h->modified_s, modified);
	return json_pack("{s:I,s:s,s:s,s:s,s:s#,s:s,s:[s],s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)h->id, "name",
			 h->name, "status", h->status, "topic", h->topic, "resource", h->topic, (int)(dot - h->topic),
			 "event", dot + 1, "hooks", hook, "delivery_url", h->url, "date_created", created,
			 "date_created_gmt", created, "date_modified", modified, "date_modified_gmt", modified);
}

static bool woo_hook_status_ok(const char *s)
{
	return s && (strcmp(s, "active") == 0 || strcmp(s, "paused") == 0 || strcmp(s, "disabled") == 0);
}

static bool woo_hook_topic_ok(const char *t)
{
	for (size_t i = 0; t && i < sizeof woo_hook_topics / sizeof woo_hook_topics[0]; i++)
		if (strcmp(woo_hook_topics[i][0], t) == 0)
			return true;
	return false;
}

static bool woo_hook_url_ok(const char *u)
{
	return u && strlen(u) <= WOO_WEBHOOK_URL_MAX &&
	       ((strncasecmp(u, "http://", 7) == 0 && u[7]) || (strncasecmp(u, "https://", 8) == 0 && u[8]));
}

/* Checks the fields of a create (all) or update (those given) body. */
static bool woo_hook_check(const json_t *body, bool create, struct woo_error *e)
{
	const json_t *st = json_object_get(body, "status"), *t = json_object_get(body, "topic");
	const json_t *u = json_object_get(body, "delivery_url"), *sec = json_object_get(body, "secret");
	const json_t *name = json_object_get(body, "name");
	if ((create || t) && !woo_hook_topic_ok(json_string_value(t))) {
		woo_error_set(e, 400, "woocommerce_rest_webhook_invalid_topic",
			      "Webhook topic is required and must be valid.");
		return false;
	}
	if ((create || u) && !woo_hook_url_ok(json_string_value(u))) {
		woo_error_set(e, 400, "woocommerce_rest_webhook_invalid_delivery_url",
			      "Webhook delivery URL must be a valid URL starting with http:// or https://.");
		return false;
	}
	if (st && !woo_hook_status_ok(json_string_value(st))) {
		woo_error_param(e, "status", "rest_not_in_enum", "status is not one of active, paused, and disabled.");
		return false;
	}
	if (sec && (!json_is_string(sec) || json_string_length(sec) > WOO_WEBHOOK_SECRET_MAX)) {
		woo_error_param(e, "secret", "rest_invalid_type", "secret is not of type string.");
		return false;
	}
	if (name && (!json_is_string(name) || json_string_length(name) > WOO_WEBHOOK_NAME_MAX)) {
		woo_error_param(e, "name", "rest_invalid_type", "name is not of type string.");
		return false;
	}
	return true;
}

/* Applies the given fields of body to h; false: out of memory. */
static bool woo_hook_apply(struct woo_hook *h, const json_t *body)
{
	const char *v;
	if ((v = json_string_value(json_object_get(body, "name"))))
		snprintf(h->name, sizeof h->name, "%s", v);
	if ((v = json_string_value(json_object_get(body, "status"))))
		snprintf(h->status, sizeof h->status, "%s", v);
	if ((v = json_string_value(json_object_get(body, "topic"))))
		snprintf(h->topic, sizeof h->topic, "%s", v);
	if ((v = json_string_value(json_object_get(body, "delivery_url")))) {
		free(h->url);
		h->url = strdup(v);
	}
	if ((v = json_string_value(json_object_get(body, "secret"))) && *v) {
		free(h->secret);
		h->secret = strdup(v);
	}
	h->modified_s = (int64_t)time(NULL);
	return h->url && h->secret;
}

static struct woo_hook *woo_hook_find_locked(struct woo_webhook *w, int64_t id, size_t *at)
{
	for (size_t i = 0; i < w->nhooks; i++) {
		if (w->hooks[i]->id == id) {
			if (at)
				*at = i;
			return w->hooks[i];
		}
	}
	return NULL;
}

static void woo_hook_invalid(struct woo_error *e, int status)
{
	woo_error_set(e, status, "woocommerce_rest_webhook_invalid_id", "Invalid ID.");
}

/* WooCommerce makes a secret when none is given (wp_generate_password). */
static char *woo_hook_secret(struct woo_webhook *w)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char s[41];
	for (size_t i = 0; i + 1 < sizeof s; i++)
		s[i] = alnum[woo_rand(w) % (sizeof alnum - 1)];
	s[sizeof s - 1] = '\0';
	return strdup(s);
}

json_t *woo_webhook_create(struct woo_webhook *w, const json_t *body, struct woo_error *e)
{
	struct woo_hook *h = NULL;
	json_t *out = NULL;
	char ping[40];
	if (!woo_hook_check(body, true, e))
		return NULL;
	pthread_mutex_lock(&w->lock);
	if (w->nhooks == WOO_WEBHOOK_MAX) {
		woo_error_set(e, 400, "woocommerce_rest_cannot_create", "The sandbox holds %d webhooks.",
			      WOO_WEBHOOK_MAX);
		goto out;
	}
	if (!(h = calloc(1, sizeof *h)) || !(h->secret = woo_hook_secret(w)) || !woo_hook_apply(h, body))
		goto oom;
	h->id = w->next_hook_id++;
	h->created_s = h->modified_s;
	if (!h->status[0])
		snprintf(h->status, sizeof h->status, "active");
	if (!h->name[0]) {
		char date[WOO_DATE_LEN];
		woo_date_format(h->created_s, date);
		snprintf(h->name, sizeof h->name, "Webhook created on %s", date);
	}
	if (!(out = woo_hook_json(h)))
		goto oom;
	w->hooks[w->nhooks++] = h;
	if (strcmp(h->status, "active") == 0) { /* WC_Webhook::deliver_ping */
		snprintf(ping, sizeof ping, "webhook_id=%lld", (long long)h->id);
		struct woo_delivery *d = woo_delivery_new(w, h, h->topic, ping, strlen(ping), true);
		if (d)
			woo_queue_push_locked(w, d);
	}
	h = NULL;
	goto out;
oom:
	woo_error_set(e, 500, "internal_server_error", "out of memory");
out:
	pthread_mutex_unlock(&w->lock);
	woo_hook_free(h);
	return out;
}

json_t *woo_webhook_list(struct woo_webhook *w)
{
	json_t *a = json_array();
	pthread_mutex_lock(&w->lock);
	for (size_t i = w->nhooks; a && i > 0; i--) /* newest first: orderby date desc */
		json_array_append_new(a, woo_hook_json(w->hooks[i - 1]));
	pthread_mutex_unlock(&w->lock);
	return a;
}

json_t *woo_webhook_get(struct woo_webhook *w, int64_t id, struct woo_error *e)
{
	json_t *out = NULL;
	pthread_mutex_lock(&w->lock);
	const struct woo_hook *h = woo_hook_find_locked(w, id, NULL);
	if (h)
		out = woo_hook_json(h);
	else
		woo_hook_invalid(e, 404);
	pthread_mutex_unlock(&w->lock);
	return out;
}

json_t *woo_webhook_update(struct woo_webhook *w, int64_t id, const json_t *body, struct woo_error *e)
{
	json_t *out = NULL;
	if (!woo_hook_check(body, false, e))
		return NULL;
	pthread_mutex_lock(&w->lock);
	struct woo_hook *h = woo_hook_find_locked(w, id, NULL);
	if (!h)
		woo_hook_invalid(e, 400);
	else if (!woo_hook_apply(h, body) || !(out = woo_hook_json(h)))
		woo_error_set(e, 500, "internal_server_error", "out of memory");
	pthread_mutex_unlock(&w->lock);
	return out;
}

json_t *woo_webhook_delete(struct woo_webhook *w, int64_t id, bool force, struct woo_error *e)
{
	json_t *out = NULL;
	size_t at = 0;
	pthread_mutex_lock(&w->lock);
	struct woo_hook *h = woo_hook_find_locked(w, id, &at);
	if (!h) {
		woo_hook_invalid(e, 404);
	} else if (!force) {
		woo_error_set(e, 501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.");
	} else {
		out = woo_hook_json(h);
		memmove(&w->hooks[at], &w->hooks[at + 1], (w->nhooks - at - 1) * sizeof w->hooks[0]);
		w->nhooks--;
		woo_hook_free(h);
	}
	pthread_mutex_unlock(&w->lock);
	return out;
}

/* ---- switches and statistics ---- */

bool woo_webhook_faults_arm(struct woo_webhook *w, const json_t *body, char *err, size_t errlen)
{
	const char *mode = json_string_value(json_object_get(body, "mode"));
	const json_t *count = json_object_get(body, "count");
	long long n = count ? json_integer_value(count) : 1;
	size_t m = 0;
	while (mode && m < 3 && strcmp(woo_hook_fault_names[m], mode) != 0)
		m++;
	if (!mode || m == 3) {
		snprintf(err, errlen, "mode must be one of none, drop, duplicate");
		return false;
	}
	if (count && (!json_is_integer(count) || n < -1)) {
		snprintf(err, errlen, "count must be an integer >= -1 (-1: until mode none)");
		return false;
	}
	pthread_mutex_lock(&w->lock);
	w->fault = n == 0 ? WOO_HOOK_FAULT_NONE : (enum woo_webhook_fault)m;
	w->fault_left = w->fault == WOO_HOOK_FAULT_NONE ? 0 : n;
	pthread_mutex_unlock(&w->lock);
	return true;
}

json_t *woo_webhook_stats_json(struct woo_webhook *w)
{
	pthread_mutex_lock(&w->lock);
	json_t *j = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:s,s:I},s:s}", "webhooks", (json_int_t)w->nhooks,
		"queued", (json_int_t)w->queued, "in_flight", (json_int_t)w->in_flight, "delivered",
		(json_int_t)w->delivered, "failed_attempts", (json_int_t)w->failed_attempts, "gave_up",
		(json_int_t)w->gave_up, "dropped", (json_int_t)w->dropped, "duplicated", (json_int_t)w->duplicated,
		"overflowed", (json_int_t)w->overflowed, "pings", (json_int_t)w->pings, "fault", "mode",
		woo_hook_fault_names[w->fault], "remaining", (json_int_t)w->fault_left, "last_error", w->last_error);
	pthread_mutex_unlock(&w->lock);
	return j;
}

void woo_webhook_stats_reset(struct woo_webhook *w)
{
	pthread_mutex_lock(&w->lock);
	w->delivered = w->failed_attempts = w->gave_up = w->dropped = w->duplicated = w->overflowed = w->pings = 0;
	w->fault = WOO_HOOK_FAULT_NONE;
	w->fault_left = 0;
	w->last_error[0] = '\0';
	pthread_mutex_unlock(&w->lock);
}
