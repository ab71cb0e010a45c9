#include "erp_webhook.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "erp_api.h"
#include "erp_push.h"
#include "event.h"
#include "http_client.h"
#include "log.h"
#include "metrics.h"
#include "shutdown.h"

/* Refusals and drops are logged one by one up to ERP_WEBHOOK_LOG_FIRST, then every
 * ERP_WEBHOOK_LOG_EVERY-th, so a receiver refusing everything cannot flood the log. */
#define ERP_WEBHOOK_LOG_FIRST 10
#define ERP_WEBHOOK_LOG_EVERY 1000
/* The thread re-checks the process-wide shutdown flag at least this often while idle. */
#define ERP_WEBHOOK_IDLE_MS 200

/* A queued delivery: a stock record (rendered when sent) or a change already rendered. */
struct erp_webhook_item {
	const char *event; /* static: ERP_PUSH_EVENT_* */
	struct erp_stock s;
	char *body;     /* NULL for a stock record */
	char what[136]; /* for the log: "SKU-1/WH-MAIN version 3", "order ord_7 shipped" */
};

struct erp_webhook {
	char *url;
	char *secret;
	pthread_t thread;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;  /* a record was queued, or stop */
	bool stop;
	struct erp_webhook_item *ring; /* the queue: len records from head, oldest first */
	size_t cap, head, len;
	unsigned long long sent, retried, rejected, dropped;
	char last_error[300];
	struct http_client *http; /* the delivery thread's only */
	struct metric_series *m_sent, *m_retried, *m_rejected, *m_dropped, *m_queue;
};

static bool erp_webhook_log_due(unsigned long long n)
{
	return n <= ERP_WEBHOOK_LOG_FIRST || n % ERP_WEBHOOK_LOG_EVERY == 0;
}

/* Takes it->body. */
static void erp_webhook_queue(struct erp_webhook *p, struct erp_webhook_item *it)
{
	unsigned long long dropped = 0;
	pthread_mutex_lock(&p->lock);
	if (p->len == p->cap) {
		/* full: the oldest waiting record gives way to the newest */
		free(p->ring[p->head].body);
		p->head = (p->head + 1) % p->cap;
		p->len--;
		dropped = ++p->dropped;
		metrics_inc(p->m_dropped);
	}
	p->ring[(p->head + p->len) % p->cap] = *it;
	p->len++;
	metrics_set(p->m_queue, (double)p->len);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (dropped && erp_webhook_log_due(dropped))
		log_warn("webhook: queue full (%zu records); the oldest waiting change was dropped (%llu dropped so "
			 "far)",
			 p->cap, dropped);
}

void erp_webhook_record(void *push, const struct erp_stock *s)
{
	struct erp_webhook_item it = { ERP_PUSH_EVENT_STOCK, *s, NULL, "" };
	snprintf(it.what, sizeof it.what, "%s/%s version %lld", s->sku, s->warehouse, (long long)s->version);
	erp_webhook_queue(push, &it);
}

void erp_webhook_change(void *push, enum erp_docs_feed feed, const json_t *item)
{
	bool order = feed == ERP_DOCS_FEED_ORDERS;
	struct erp_webhook_item it;
	memset(&it, 0, sizeof it);
	it.event = order ? ERP_PUSH_EVENT_ORDER : ERP_PUSH_EVENT_COMPLAINT;
	snprintf(it.what, sizeof it.what, "%s %s %s", order ? "order" : "complaint",
		 json_string_value(json_object_get(item, order ? "order_id" : "complaint_id")),
		 json_string_value(json_object_get(item, "status")));
	it.body = json_dumps(item, JSON_COMPACT);
	if (!it.body) {
		log_error("webhook: cannot queue %s (out of memory); dropped", it.what);
		return;
	}
	erp_webhook_queue(push, &it);
}

/* Waits up to ms for a stop; true when the thread must end. Called with the lock held. */
static bool erp_webhook_wait_locked(struct erp_webhook *p, long ms)
{
	struct timespec until = event_deadline(CLOCK_MONOTONIC, ms);
	if (!p->stop && !shutdown_requested())
		pthread_cond_timedwait(&p->cond, &p->lock, &until);
	return p->stop || shutdown_requested();
}

/* Sleeps ms between attempts, waking for a stop; true when the thread must end. */
static bool erp_webhook_backoff(struct erp_webhook *p, long ms)
{
	bool end = false;
	pthread_mutex_lock(&p->lock);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long left = ms; left > 0 && !end;) {
		end = erp_webhook_wait_locked(p, left < ERP_WEBHOOK_IDLE_MS ? left : ERP_WEBHOOK_IDLE_MS);
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
	}
	pthread_mutex_unlock(&p->lock);
	return end;
}

static void erp_webhook_note(struct erp_webhook *p, const char *why, unsigned long long *counter,
			     struct metric_series *m, unsigned long long *now)
{
	pthread_mutex_lock(&p->lock);
	snprintf(p->last_error, sizeof p->last_error, "%s", why);
	*now = ++*counter;
	pthread_mutex_unlock(&p->lock);
	metrics_inc(m);
}

/* One delivery's signature, made anew before every attempt of the HTTP client (its own retries
 * included): the receiver refuses a timestamp older than its tolerance. */
struct erp_webhook_signing {
	const char *secret;
	const char *body;
	size_t len;
	char ts[ERP_PUSH_TIMESTAMP_MAX];
	char sig[ERP_PUSH_SIGNATURE_MAX];
	bool signed_ok;
};

static bool erp_webhook_sign_attempt(void *ud, unsigned attempt)
{
	struct erp_webhook_signing *g = ud;
	(void)attempt;
	g->signed_ok = erp_push_sign(g->secret, (long long)time(NULL), g->body, g->len, g->ts, g->sig);
	return g->signed_ok;
}

/* Delivers one record, retrying until it is delivered or refused; false when the thread must end
 * first (the record is then lost: counted as dropped). */
static bool erp_webhook_deliver(struct erp_webhook *p, struct erp_webhook_item *it)
{
	json_t *j = it->body ? NULL : erp_api_stock_json(&it->s);
	char *body = it->body ? it->body : j ? json_dumps(j, JSON_COMPACT) : NULL;
	char why[300];
	unsigned long long n;
	bool alive = true;
	it->body = NULL; /* now owned here */
	json_decref(j);
	if (!body) {
		erp_webhook_note(p, "cannot build the record (out of memory)", &p->rejected, p->m_rejected, &n);
		log_error("webhook: cannot build the record of %s; dropped", it->what);
		return true;
	}
	struct erp_webhook_signing signing = { p->secret, body, strlen(body), "", "", false };
	const struct http_header h[] = { { "Content-Type", "application/json" },
					 { ERP_PUSH_SIGNATURE_HEADER, signing.sig },
					 { ERP_PUSH_TIMESTAMP_HEADER, signing.ts },
					 { ERP_PUSH_EVENT_HEADER, it->event } };
	const struct http_attempt_hook hook = { erp_webhook_sign_attempt, &signing };
	long backoff = ERP_WEBHOOK_BACKOFF_MIN_MS;
	for (unsigned attempt = 1;; attempt++) {
		struct http_response resp;
		http_response_init(&resp);
		bool answered = http_request_hooked(p->http, "POST", p->url, h, 4, body, strlen(body), &hook, &resp);
		if (!answered && !signing.signed_ok) {
			http_response_cleanup(&resp);
			erp_webhook_note(p, "cannot sign the record (out of memory)", &p->rejected, p->m_rejected, &n);
			log_error("webhook: cannot sign the record of %s; dropped", it->what);
			break;
		}
		long status = answered ? resp.status : 0;
		if (status >= 200 && status <= 299) {
			http_response_cleanup(&resp);
			pthread_mutex_lock(&p->lock);
			p->sent++;
			pthread_mutex_unlock(&p->lock);
			metrics_inc(p->m_sent);
			if (attempt > 1)
				log_info("webhook: %s delivered after %u attempts", it->what, attempt);
			break;
		}
		if (!answered)
			snprintf(why, sizeof why, "transport error: %s", resp.error);
		else
			snprintf(why, sizeof why, "HTTP %ld", status);
		bool retry = !answered || status >= 500 || status == 408 || status == 429;
		long wait = backoff;
		if (status == 429) {
			long ra = http_retry_after_ms(resp.retry_after);
			if (ra >= 0)
				wait = ra < ERP_WEBHOOK_BACKOFF_MAX_MS ? ra : ERP_WEBHOOK_BACKOFF_MAX_MS;
		}
		http_response_cleanup(&resp);
		if (!retry) {
			erp_webhook_note(p, why, &p->rejected, p->m_rejected, &n);
			if (erp_webhook_log_due(n))
				log_warn("webhook: the receiver refused %s (%s); dropped, not retried (%llu refused so "
					 "far)",
					 it->what, why, n);
			break;
		}
		erp_webhook_note(p, why, &p->retried, p->m_retried, &n);
		log_warn("webhook: delivery of %s failed (attempt %u: %s); retrying in %ld ms", it->what, attempt, why,
			 wait);
		if (erp_webhook_backoff(p, wait)) {
			pthread_mutex_lock(&p->lock);
			p->dropped++;
			pthread_mutex_unlock(&p->lock);
			metrics_inc(p->m_dropped);
			alive = false;
			break;
		}
		backoff = backoff * 2 < ERP_WEBHOOK_BACKOFF_MAX_MS ? backoff * 2 : ERP_WEBHOOK_BACKOFF_MAX_MS;
	}
	free(body);
	return alive;
}

static void *erp_webhook_main(void *arg)
{
	struct erp_webhook *p = arg;
	for (;;) {
		struct erp_webhook_item rec;
		bool end = false;
		pthread_mutex_lock(&p->lock);
		while (!end && p->len == 0)
			end = erp_webhook_wait_locked(p, ERP_WEBHOOK_IDLE_MS);
		end = end || p->stop || shutdown_requested();
		if (!end) {
			rec = p->ring[p->head];
			p->head = (p->head + 1) % p->cap;
			p->len--;
			metrics_set(p->m_queue, (double)p->len);
		}
		pthread_mutex_unlock(&p->lock);
		if (end || !erp_webhook_deliver(p, &rec))
			break;
	}
	return NULL;
}

static void erp_webhook_free(struct erp_webhook *p)
{
	for (size_t i = 0; p->ring && i < p->len; i++)
		free(p->ring[(p->head + i) % p->cap].body);
	http_client_free(p->http);
	free(p->ring);
	free(p->url);
	if (p->secret)
		memset(p->secret, 0, strlen(p->secret));
	free(p->secret);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct erp_webhook *erp_webhook_start(const struct erp_webhook_opts *o, char *err, size_t errlen)
{
	static const char *const result_label[] = { "result", NULL };
	if (!o->url || (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)) {
		snprintf(err, errlen, "the webhook URL must start with http:// or https://");
		return NULL;
	}
	if (!o->secret || !*o->secret) {
		snprintf(err, errlen, "the webhook needs a secret (SANDBOX_ERP_WEBHOOK_SECRET)");
		return NULL;
	}
	struct erp_webhook *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->cap = o->queue_max ? o->queue_max : 1;
	p->ring = calloc(p->cap, sizeof *p->ring);
	p->url = strdup(o->url);
	p->secret = strdup(o->secret);
	struct http_client_opts ho = { .connect_timeout_ms = 2000,
				       .timeout_ms = ERP_WEBHOOK_TIMEOUT_MS,
				       .max_attempts = 1,
				       .user_agent = "sandbox-erp-webhook",
				       .metrics_system = "erp-webhook" };
	p->http = http_client_new(&ho);
	struct metric_family *total = metrics_counter(
		"erpsync_sandbox_erp_webhook_total",
		"Stock changes pushed to the webhook, by result (retried: failed attempts)", result_label);
	p->m_sent = metrics_series1(total, "sent");
	p->m_retried = metrics_series1(total, "retried");
	p->m_rejected = metrics_series1(total, "rejected");
	p->m_dropped = metrics_series1(total, "dropped");
	p->m_queue = metrics_series0(
		metrics_gauge("erpsync_sandbox_erp_webhook_queue", "Stock changes waiting for the webhook", NULL));
	if (!p->ring || !p->url || !p->secret || !p->http) {
		snprintf(err, errlen, "out of memory");
		erp_webhook_free(p);
		return NULL;
	}
	if (pthread_create(&p->thread, NULL, erp_webhook_main, p) != 0) {
		snprintf(err, errlen, "cannot start the webhook thread");
		erp_webhook_free(p);
		return NULL;
	}
	return p;
}

void erp_webhook_stop(struct erp_webhook *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	if (p->len)
		log_warn("webhook: %zu queued changes were not delivered before stopping", p->len);
	log_info("webhook: %llu delivered, %llu failed attempts retried, %llu refused, %llu dropped", p->sent,
		 p->retried, p->rejected, p->dropped + p->len);
	erp_webhook_free(p);
}

json_t *erp_webhook_stats_json(struct erp_webhook *p)
{
	pthread_mutex_lock(&p->lock);
	json_t *j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "queued", (json_int_t)p->len, "queue_max",
			      (json_int_t)p->cap, "sent", (json_int_t)p->sent, "retried", (json_int_t)p->retried,
			      "rejected", (json_int_t)p->rejected, "dropped", (json_int_t)p->dropped, "last_error",
			      p->last_error);
	pthread_mutex_unlock(&p->lock);
	return j;
}
