/* httpd — a small HTTP server on libmicrohttpd (internal thread pool) for /healthz, /readyz,
 * /metrics, webhooks and the sandbox peers.
 *
 * A handler sees the whole request (the body is collected first, up to max_body bytes — larger
 * bodies get 413 without reaching it) and fills a response. Handlers run on the server's threads:
 * what they touch must be thread-safe. */
#ifndef ERPSYNC_HTTPD_H
#define ERPSYNC_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct httpd;
struct MHD_Connection;

struct httpd_req {
	const char *method;               /* "GET", "POST", ... */
	const char *path;                 /* without the query string */
	const char *body;                 /* NUL-terminated; "" when none */
	size_t body_len;
	struct MHD_Connection *conn;      /* for httpd_req_header / httpd_req_query */
	void *route_data;                 /* the pointer given at httpd_route */
};

struct httpd_resp {
	int status;                       /* default 200 */
	const char *content_type;         /* default "application/json" */
	struct buf body;                  /* handler appends */
	/* extra response headers, "Name: value" each; up to 8 */
	char *headers[8];
	size_t nheaders;
};

/* Returns nothing: the handler sets resp->status and body. */
typedef void (*httpd_handler)(const struct httpd_req *req, struct httpd_resp *resp);

/* Readiness probe: true when the service may take traffic; reason (<= len bytes) says why not. */
typedef bool (*httpd_ready_fn)(void *ud, char *reason, size_t len);

struct httpd_opts {
	const char *bind;                 /* "127.0.0.1" (default) or "0.0.0.0" */
	int port;                         /* 0: pick a free port (see httpd_port) */
	size_t max_body;                  /* default 1 MiB */
	unsigned threads;                 /* default 2 */
	httpd_ready_fn ready;             /* NULL: always ready */
	void *ready_ud;
	bool builtin_routes;              /* serve /healthz, /readyz, /metrics */
};

/* Starts serving. Routes may be added before or after start (added before: no race).
 * NULL with err filled when the port cannot be bound. */
struct httpd *httpd_new(const struct httpd_opts *opts, char *err, size_t errlen);
void httpd_free(struct httpd *h);      /* stops the server; NULL-safe */
int httpd_port(const struct httpd *h);

/* method NULL matches any. A path ending in '*' matches that prefix. First match wins.
 * Up to 64 routes. */
bool httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler fn, void *data)
	__attribute__((warn_unused_result));

const char *httpd_req_header(const struct httpd_req *req, const char *name);  /* case-insensitive */
const char *httpd_req_query(const struct httpd_req *req, const char *name);   /* decoded value */
/* true when a credential the request carries equals secret; takes as long whatever part differs. */
bool httpd_secret_equal(const char *given, const char *secret) __attribute__((warn_unused_result));

/* Response helpers. */
bool httpd_resp_header(struct httpd_resp *resp, const char *name, const char *value)
	__attribute__((warn_unused_result));
/* status + {"code": code, "message": message} — the error body shape the sandbox peers use too. */
void httpd_resp_error(struct httpd_resp *resp, int status, const char *code, const char *message);

#endif
