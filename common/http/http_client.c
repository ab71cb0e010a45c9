#include "http_client.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"
#include "metrics.h"
#include "shutdown.h"

#ifndef ERPSYNC_VERSION
#define ERPSYNC_VERSION "dev"
#endif

/* A budget waiter re-reads the shared bucket this often: a 429 seen by another client, or a token
 * taken by one, changes how long it has to wait. */
#define HTTP_BUDGET_STEP_MS 50

/* A token bucket shared by every client naming the same budget key; lives until the process ends,
 * so a worker that recreates its client does not get a fresh burst. */
struct http_budget {
	struct http_budget *next;
	char *key;
	double rate; /* tokens per second; 0 = unlimited (a 429 still pauses it) */
	double burst;
	double tokens;
	int64_t refill_ns;       /* tokens are accounted up to this monotonic time */
	int64_t paused_until_ns; /* a 429 stops everyone until then */
};

#define HTTP_HEADERS_MAX (64u << 10)

static pthread_mutex_t http_budget_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_budget *http_budgets;

enum http_class { HTTP_1XX, HTTP_2XX, HTTP_3XX, HTTP_4XX, HTTP_429, HTTP_5XX, HTTP_ERROR, HTTP_NCLASSES };
static const char *const http_class_names[HTTP_NCLASSES] = { "1xx", "2xx", "3xx", "4xx", "429", "5xx", "error" };

struct http_client {
	CURL *curl;
	struct http_client_opts opts; /* defaults applied; strings owned below */
	char *user_agent;
	char *system;
	struct http_budget *budget;
	uint64_t rng;
	struct metric_series *requests[HTTP_NCLASSES];
	struct metric_series *retries;
	struct metric_series *duration;
	struct metric_series *budget_wait;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t http_global_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc = CURLE_FAILED_INIT;

static void http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t http_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- policy: pure functions ------------------------------------------------------------------- */

static void http_opts_resolve(const struct http_client_opts *in, struct http_client_opts *out)
{
	static const struct http_client_opts none;
	*out = in ? *in : none;
	if (out->burst <= 0)
		out->burst = out->rate_per_sec;
	if (out->burst < 1)
		out->burst = 1; /* below one token a request could never start */
	if (out->connect_timeout_ms <= 0)
		out->connect_timeout_ms = 2000;
	if (out->timeout_ms <= 0)
		out->timeout_ms = 10000;
	if (out->max_attempts == 0)
		out->max_attempts = 5;
	if (out->backoff_base_ms <= 0)
		out->backoff_base_ms = 100;
	if (out->backoff_max_ms <= 0)
		out->backoff_max_ms = 5000;
	if (out->max_retry_after_ms <= 0)
		out->max_retry_after_ms = 60000;
	if (!out->user_agent)
		out->user_agent = "erpsync/" ERPSYNC_VERSION;
	if (!out->metrics_system)
		out->metrics_system = "http";
}

/* Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): a uniform wait in
 * [0, min(max, base * 2^attempt)] spreads out clients that failed together better than a fixed
 * exponential step does. attempt 0 is the wait after the first failure. */
long http_backoff_ms(const struct http_client_opts *opts, unsigned attempt, unsigned rnd)
{
	struct http_client_opts o;
	http_opts_resolve(opts, &o);
	long cap = o.backoff_base_ms < o.backoff_max_ms ? o.backoff_base_ms : o.backoff_max_ms;
	for (unsigned i = 0; i < attempt && cap < o.backoff_max_ms; i++)
		cap = cap > o.backoff_max_ms / 2 ? o.backoff_max_ms : cap * 2;
	return (long)((unsigned long)rnd % ((unsigned long)cap + 1));
}

long http_retry_after_ms(const char *value)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!isdigit((unsigned char)*value)) {
		/* curl_getdate reads all three HTTP date forms, independent of the locale. */
		time_t when = curl_getdate(value, NULL);
		if (when == (time_t)-1)
			return -1;
		time_t now = time(NULL);
		if (when <= now)
			return 0;
		return when - now > LONG_MAX / 1000 ? LONG_MAX : (long)(when - now) * 1000;
	}
	errno = 0;
	char *end;
	unsigned long long secs = strtoull(value, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end)
		return -1;
	if (errno == ERANGE || secs > (unsigned long long)(LONG_MAX / 1000))
		return LONG_MAX;
	return (long)secs * 1000;
}

static bool http_transport_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_AGAIN:
		return true;
	default:
		/* A bad URL, a refused certificate or our own write error will not heal by waiting. */
		return false;
	}
}

/* scheme://host/path — no user:password@, no ?query (tokens travel there), no #fragment. */
static void http_log_url(const char *url, char *out, size_t len)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end ? scheme_end + 3 : url;
	size_t authority = strcspn(host, "/?#");
	const char *at = memchr(host, '@', authority);
	size_t head = (size_t)(host - url);
	const char *rest = at ? at + 1 : host;
	snprintf(out, len, "%.*s%.*s", (int)head, url, (int)strcspn(rest, "?#"), rest);
}

/* ---- budgets ---------------------------------------------------------------------------------- */

static struct http_budget *http_budget_get(const char *key, double rate, double burst)
{
	pthread_mutex_lock(&http_budget_lock);
	struct http_budget *b = http_budgets;
	while (b && strcmp(b->key, key) != 0)
		b = b->next;
	if (b) {
		if (b->rate != rate || b->burst != burst)
			log_warn("http: budget %s already exists with rate %g/s burst %g; keeping it", key, b->rate,
				 b->burst);
	} else if ((b = calloc(1, sizeof *b)) && (b->key = strdup(key))) {
		b->rate = rate;
		b->burst = burst;
		b->tokens = burst;
		b->refill_ns = http_now_ns();
		b->next = http_budgets;
		http_budgets = b;
	} else {
		free(b);
		b = NULL;
	}
	pthread_mutex_unlock(&http_budget_lock);
	return b;
}

/* Takes a token: 0, or how many ms to wait before asking again. Called with the lock held. */
static long http_budget_take_locked(struct http_budget *b, int64_t now)
{
	if (now < b->paused_until_ns)
		return (long)((b->paused_until_ns - now + 999999) / 1000000);
	if (b->rate <= 0)
		return 0;
	if (now > b->refill_ns) {
		b->tokens = fmin(b->burst, b->tokens + b->rate * (double)(now - b->refill_ns) / 1e9);
		b->refill_ns = now;
	}
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (long)ceil((1 - b->tokens) / b->rate * 1000);
}

/* After a 429 nobody sharing the key asks until the wait is over, and the bucket restarts empty
 * then, so the resumed traffic ramps up at the rate instead of bursting into the same limit. */
static void http_budget_pause(struct http_budget *b, long wait_ms)
{
	if (!b)
		return;
	pthread_mutex_lock(&http_budget_lock);
	int64_t until = http_now_ns() + (int64_t)wait_ms * 1000000;
	if (until > b->paused_until_ns)
		b->paused_until_ns = until;
	b->tokens = 0;
	if (b->refill_ns < b->paused_until_ns)
		b->refill_ns = b->paused_until_ns;
	pthread_mutex_unlock(&http_budget_lock);
}

/* false when shutdown was requested while waiting. A request that need not wait still goes out
 * after shutdown was requested: finishing in-flight work may need it. */
static bool http_budget_wait(struct http_client *c)
{
	if (!c->budget)
		return true;
	int64_t start = http_now_ns();
	bool ok = true;
	for (;;) {
		pthread_mutex_lock(&http_budget_lock);
		long wait = http_budget_take_locked(c->budget, http_now_ns());
		pthread_mutex_unlock(&http_budget_lock);
		if (wait == 0)
			break;
		if (shutdown_sleep_ms(wait < HTTP_BUDGET_STEP_MS ? wait : HTTP_BUDGET_STEP_MS)) {
			ok = false;
			break;
		}
	}
	int64_t waited = http_now_ns() - start;
	if (waited > 1000000)
		metrics_add(c->budget_wait, (double)waited / 1e9);
	return ok;
}

/* ---- responses -------------------------------------------------------------------------------- */

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body);
	buf_init(&r->headers);
}

static void http_response_clear_headers(struct http_response *r)
{
	free(r->retry_after);
	r->retry_after = NULL;
	buf_reset(&r->headers);
}

void http_response_cleanup(struct http_response *r)
{
	if (!r)
		return;
	http_response_clear_headers(r);
	buf_cleanup(&r->headers);
	buf_cleanup(&r->body);
	http_response_init(r);
}

const char *http_response_header(const struct http_response *r, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = r && r->headers.data ? r->headers.data : "";
	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			break;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;
			while (v < eol && *v == ' ')
				v++;
			snprintf(out, len, "%.*s", (int)(eol - v), v);
			return out;
		}
		p = eol + 1;
	}
	return NULL;
}

static size_t http_on_header(char *data, size_t size, size_t nitems, void *ud)
{
	struct http_response *r = ud;
	size_t len = size * nitems;
	/* A status line starts a new response (after a 100 Continue, say): forget the previous one's. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		http_response_clear_headers(r);
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return len;
	const char *v = colon + 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	/* a peer's headers are bounded like its body: past this the transfer fails */
	if (r->headers.len + len > HTTP_HEADERS_MAX || !buf_append(&r->headers, data, (size_t)(colon - data)) ||
	    !buf_puts(&r->headers, ": ") || !buf_append(&r->headers, v, (size_t)(end - v)) ||
	    !buf_puts(&r->headers, "\n"))
		return 0;
	if ((size_t)(colon - data) == 11 && strncasecmp(data, "Retry-After", 11) == 0) {
		free(r->retry_after);
		r->retry_after = strndup(v, (size_t)(end - v));
		if (!r->retry_after)
			return 0; /* out of memory: abort the transfer */
	}
	return len;
}

/* A peer that answers without end must not take the process's memory: past this the transfer
 * fails (curl reports a write error) and the request counts as failed. */
#define HTTP_BODY_MAX (64u << 20)

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *body = ud;
	size_t len = size * nmemb;
	if (body->len + len > HTTP_BODY_MAX)
		return 0;
	return buf_append(body, data, len) ? len : 0;
}

/* ---- requests --------------------------------------------------------------------------------- */

static bool http_build_headers(const struct http_header *headers, size_t n, bool close, struct curl_slist **out)
{
	/* "Expect:" stops curl's 100-continue round trip before large bodies. */
	struct curl_slist *list = curl_slist_append(NULL, "Expect:");
	bool ok = list != NULL;
	if (ok && close) {
		struct curl_slist *next = curl_slist_append(list, "Connection: close");
		ok = next != NULL;
		if (ok)
			list = next;
	}
	for (size_t i = 0; ok && i < n; i++) {
		const char *name = headers[i].name, *value = headers[i].value ? headers[i].value : "";
		struct buf line = BUF_INIT;
		ok = name && *name && !strpbrk(name, ":\r\n") && !strpbrk(value, "\r\n") &&
		     buf_printf(&line, "%s: %s", name, value);
		struct curl_slist *next = ok ? curl_slist_append(list, line.data) : NULL;
		buf_cleanup(&line);
		ok = next != NULL;
		if (ok)
			list = next;
	}
	if (!ok) {
		curl_slist_free_all(list);
		list = NULL;
	}
	*out = list;
	return ok;
}

static void http_set_method(CURL *curl, const char *method, const char *body, size_t body_len)
{
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else {
		bool has_body = body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
				strcmp(method, "PATCH") == 0;
		if (has_body) {
			/* Not copied: body outlives the transfer, which ends inside http_request. */
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
		}
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	}
}

/* A call in flight when a stop's time for work in flight is over is cut (shutdown.h): curl asks
 * this at least about once a second, however silent the peer. */
static int http_on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ud;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return shutdown_work_left_ms() <= 0;
}

/* One attempt. The handle is reset each time (options only: the connection and DNS caches stay). */
static CURLcode http_perform(struct http_client *c, const char *method, const char *url, struct curl_slist *hdrs,
			     const char *body, size_t body_len, struct http_response *resp)
{
	CURL *curl = c->curl;
	curl_easy_reset(curl);
	c->errbuf[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	long left = shutdown_work_left_ms();
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
			 left < c->opts.timeout_ms ? (left > 0 ? left : 1) : c->opts.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, http_on_progress);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->opts.fresh_connection) {
		curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
	}
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp->body);
	http_set_method(curl, method, body, body_len);

	CURLcode rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	} else {
		resp->status = 0;
		snprintf(resp->error, sizeof resp->error, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	}
	return rc;
}

static enum http_class http_classify(CURLcode rc, long status)
{
	if (rc != CURLE_OK || status < 100 || status > 599)
		return HTTP_ERROR;
	static const enum http_class by_hundred[] = { HTTP_1XX, HTTP_2XX, HTTP_3XX, HTTP_4XX, HTTP_5XX };
	if (status == 429)
		return HTTP_429;
	return by_hundred[status / 100 - 1];
}

static unsigned http_random(struct http_client *c)
{
	/* xorshift64*: jitter needs spread, not secrecy; per client, so no lock. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (unsigned)((c->rng * 2685821657736338717ULL) >> 32);
}

/* Whether to try again, and after how long. A 429 pauses the shared budget even when this
 * request has no attempt left: the others sharing the key must still back off. */
static bool http_should_retry(struct http_client *c, CURLcode rc, const struct http_response *resp, unsigned attempt,
			      long *wait_ms)
{
	bool retry;
	*wait_ms = http_backoff_ms(&c->opts, attempt, http_random(c));
	if (rc != CURLE_OK) {
		retry = http_transport_retryable(rc);
	} else if (resp->status == 429) {
		long ra = http_retry_after_ms(resp->retry_after);
		if (ra >= 0)
			*wait_ms = ra < c->opts.max_retry_after_ms ? ra : c->opts.max_retry_after_ms;
		http_budget_pause(c->budget, *wait_ms);
		retry = true;
	} else {
		retry = resp->status >= 500 || resp->status == 408;
	}
	return retry && attempt + 1 < c->opts.max_attempts;
}

/* Method and URL without its query; never headers or bodies (Authorization, customer data). */
static void http_log_retry(const struct http_client *c, const char *method, const char *logurl,
			   const struct http_response *resp, unsigned attempt, long wait_ms)
{
	char why[300];
	if (resp->status)
		snprintf(why, sizeof why, "status %ld", resp->status);
	else
		snprintf(why, sizeof why, "transport error: %s", resp->error);
	log_warn("http: retrying %s %s after %s (attempt %u of %u), waiting %ld ms", method, logurl, why, attempt + 1,
		 c->opts.max_attempts, wait_ms);
}

static void http_attempt_reset(struct http_response *r)
{
	http_response_clear_headers(r);
	buf_reset(&r->body);
	r->status = 0;
	r->error[0] = '\0';
}

bool http_request(struct http_client *c, const char *method, const char *url, const struct http_header *headers,
		  size_t n, const char *body, size_t body_len, struct http_response *resp)
{
	return http_request_hooked(c, method, url, headers, n, body, body_len, NULL, resp);
}

bool http_request_hooked(struct http_client *c, const char *method, const char *url, const struct http_header *headers,
			 size_t n, const char *body, size_t body_len, const struct http_attempt_hook *hook,
			 struct http_response *resp)
{
	struct curl_slist *hdrs = NULL;
	bool answered = false;
	char logurl[256];

	if (!c || !method || !url || !resp)
		return false;
	if (!headers)
		n = 0;
	resp->attempts = 0;
	http_attempt_reset(resp);
	http_log_url(url, logurl, sizeof logurl);
	for (unsigned attempt = 0;; attempt++) {
		if (hook && hook->before && !hook->before(hook->ud, attempt)) {
			answered = false;
			snprintf(resp->error, sizeof resp->error, "the request was withdrawn before attempt %u",
				 attempt + 1);
			goto out;
		}
		/* built for each attempt when a hook may have changed the values */
		if (!hdrs || hook) {
			curl_slist_free_all(hdrs);
			hdrs = NULL;
			if (!http_build_headers(headers, n, c->opts.fresh_connection, &hdrs)) {
				snprintf(resp->error, sizeof resp->error, "invalid request header (or out of memory)");
				goto out;
			}
		}
		if (!http_budget_wait(c) || shutdown_work_left_ms() <= 0)
			goto shutdown;
		http_attempt_reset(resp);
		resp->attempts++;
		int64_t start = http_now_ns();
		CURLcode rc = http_perform(c, method, url, hdrs, body, body_len, resp);
		metrics_observe(c->duration, (double)(http_now_ns() - start) / 1e9);
		metrics_inc(c->requests[http_classify(rc, resp->status)]);
		answered = rc == CURLE_OK;

		long wait_ms;
		if (!http_should_retry(c, rc, resp, attempt, &wait_ms))
			break;
		http_log_retry(c, method, logurl, resp, attempt, wait_ms);
		metrics_inc(c->retries);
		if (shutdown_sleep_ms(wait_ms))
			goto shutdown;
	}
	goto out;

shutdown:
	answered = false;
	snprintf(resp->error, sizeof resp->error, "shutdown requested");
out:
	curl_slist_free_all(hdrs);
	return answered;
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

static void http_client_metrics(struct http_client *c)
{
	static const char *const both[] = { "system", "code", NULL };
	static const char *const sys[] = { "system", NULL };
	struct metric_family *req = metrics_counter(
		"erpsync_http_client_requests_total",
		"HTTP requests sent to external systems (each attempt), by status class.", both);
	for (int i = 0; i < HTTP_NCLASSES; i++)
		c->requests[i] = metrics_series2(req, c->system, http_class_names[i]);
	c->retries = metrics_series1(metrics_counter("erpsync_http_client_retries_total",
						     "HTTP requests retried after a 5xx, 408, 429 or transport error.",
						     sys),
				     c->system);
	c->duration = metrics_series1(metrics_histogram("erpsync_http_client_request_duration_seconds",
							"Duration of one HTTP attempt.", sys, metrics_latency_buckets,
							metrics_latency_nbuckets),
				      c->system);
	c->budget_wait = metrics_series1(
		metrics_counter("erpsync_http_client_budget_wait_seconds_total",
				"Time spent waiting for the request budget (rate limit or 429 pause).", sys),
		c->system);
}

static uint64_t http_seed(const void *salt)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
		seed = (uint64_t)http_now_ns() ^ (uint64_t)(uintptr_t)salt;
	return seed ? seed : 0x9e3779b97f4a7c15ULL; /* xorshift must not start at 0 */
}

struct http_client *http_client_new(const struct http_client_opts *opts)
{
	pthread_once(&http_global_once, http_global_init);
	if (http_global_rc != CURLE_OK) {
		log_error("http: curl_global_init failed: %s", curl_easy_strerror(http_global_rc));
		return NULL;
	}
	struct http_client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	http_opts_resolve(opts, &c->opts);
	c->user_agent = strdup(c->opts.user_agent);
	c->system = strdup(c->opts.metrics_system);
	c->curl = curl_easy_init();
	if (!c->user_agent || !c->system || !c->curl)
		goto fail;
	if (c->opts.budget_key) {
		c->budget = http_budget_get(c->opts.budget_key, c->opts.rate_per_sec, c->opts.burst);
		if (!c->budget)
			goto fail;
		c->opts.budget_key = c->budget->key;
	}
	c->opts.user_agent = c->user_agent;
	c->opts.metrics_system = c->system;
	c->rng = http_seed(c);
	http_client_metrics(c);
	return c;

fail:
	log_error("http: out of memory creating a client");
	http_client_free(c);
	return NULL;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c->user_agent);
	free(c->system);
	free(c);
}
