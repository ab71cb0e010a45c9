/* http_client — requests to external systems on libcurl, with the failure handling every adapter
 * needs and none should write again:
 *  - connect and total timeouts;
 *  - retries of 5xx, 408, connection errors and timeouts with exponential backoff and full jitter,
 *    up to max_attempts (a 4xx other than 408/429 is an answer, returned to the caller);
 *  - 429 honours Retry-After (seconds or HTTP date), capped by max_retry_after_ms;
 *  - a request budget per credential (token bucket: rate per second and burst), shared by every
 *    client in the process that names the same budget key (for example "woo:shop-a"), so several
 *    workers using one API key stay inside its limit together; a 429 also pauses that budget.
 * The Authorization value and URLs' query strings are never logged. */
#ifndef ERPSYNC_HTTP_CLIENT_H
#define ERPSYNC_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct http_client;

struct http_client_opts {
	const char *budget_key;     /* NULL: no budget */
	double rate_per_sec;        /* budget refill; 0 = unlimited */
	double burst;               /* bucket size; default = rate_per_sec */
	long connect_timeout_ms;    /* default 2000 */
	long timeout_ms;            /* whole request; default 10000 */
	unsigned max_attempts;      /* including the first; default 5 */
	long backoff_base_ms;       /* default 100 */
	long backoff_max_ms;        /* default 5000 */
	long max_retry_after_ms;    /* default 60000 */
	const char *user_agent;     /* default "erpsync/<version>" */
	const char *metrics_system; /* label "system" of erpsync_http_client_* metrics; default "http" */
	/* Every request on a connection of its own, closed by the peer after its answer ("Connection:
	 * close"). libcurl sends a request again by itself when a kept connection turns out to have
	 * been closed before any answer came: for a create that is not idempotent (with max_attempts 1)
	 * that would be a second document. The peer closing first keeps the TIME_WAIT on its side. */
	bool fresh_connection;
};

struct http_header {
	const char *name;
	const char *value;
};

struct http_response {
	long status; /* 0 when no answer was ever received */
	struct buf body;
	char *retry_after;  /* Retry-After, which the retry policy reads; NULL when absent */
	struct buf headers; /* every header of the final answer, "name: value\n" each */
	unsigned attempts;  /* how many requests were made */
	char error[256];    /* transport error text when status == 0 */
};

struct http_client *http_client_new(const struct http_client_opts *opts);
void http_client_free(struct http_client *c); /* NULL-safe */

void http_response_init(struct http_response *r);
void http_response_cleanup(struct http_response *r);

/* A header of the final answer (the first of that name, case-insensitive), copied into out
 * (truncated to len - 1); NULL when absent. Platform headers (X-WP-Total, Link) are read here by
 * the adapter that needs them. */
const char *http_response_header(const struct http_response *r, const char *name, char *out, size_t len);

/* Called before each attempt of a request, the first included (attempt 0, 1, ...): a signed
 * request signs anew here (a receiver refuses a stale timestamp) and so keeps the client's retry
 * policy instead of repeating it. It may rewrite the values its headers point to (the client
 * rebuilds the header list after it); false stops the request (no answer, error set). */
struct http_attempt_hook {
	bool (*before)(void *ud, unsigned attempt);
	void *ud;
};

/* Makes the request with the retry policy above. true when an HTTP answer was received (any
 * status, after retries) — check resp->status; false on transport failure after every attempt
 * or when shutdown was requested while waiting. body may be NULL. headers: count n. */
bool http_request(struct http_client *c, const char *method, const char *url, const struct http_header *headers,
		  size_t n, const char *body, size_t body_len, struct http_response *resp)
	__attribute__((warn_unused_result));

/* The same, calling hook->before before every attempt (hook may be NULL). */
bool http_request_hooked(struct http_client *c, const char *method, const char *url, const struct http_header *headers,
			 size_t n, const char *body, size_t body_len, const struct http_attempt_hook *hook,
			 struct http_response *resp) __attribute__((warn_unused_result));

/* The wait before retry number attempt + 1 (attempt 0: after the first failure), full jitter:
 * rnd % (min(backoff_max_ms, backoff_base_ms * 2^attempt) + 1). Zero fields of opts (or opts NULL)
 * take the defaults above. Pure: the client passes its own random numbers. */
long http_backoff_ms(const struct http_client_opts *opts, unsigned attempt, unsigned rnd);

/* Parses a Retry-After value (delta seconds or IMF-fixdate) into milliseconds from now; -1 if bad. */
long http_retry_after_ms(const char *value);

#endif
