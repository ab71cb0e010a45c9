/* httpd — a small HTTP server on libmicrohttpd (internal thread pool) for /healthz, /readyz,
 * /metrics, webhooks and the sandbox peers.
 *
 * A request is routed as soon as its headers are in, before any of its body is read: an unknown path
 * is 404, a wrong method 405, a declared body over the route's limit 413, and the route's check (say,
 * a token) may refuse it too — none of them reads the body, and the connection is closed after the
 * answer. A chunked body that passes the limit is answered 413 and the connection closed. Otherwise
 * the handler sees the whole request and fills a response.
 *
 * Handlers run on the server's threads, which also serve every other connection: a handler that may
 * wait on I/O (a database, a lock held over one) is declared blocking and runs on a worker thread of
 * its own, so that /healthz never queues behind it. What handlers touch must be thread-safe. */
#ifndef ERPSYNC_HTTPD_H
#define ERPSYNC_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct httpd;
struct MHD_Connection;
struct sockaddr;

struct httpd_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* without the query string */
	const char *body;   /* NUL-terminated; "" when none, and always in a route's check */
	size_t body_len;
	struct MHD_Connection *conn; /* for httpd_req_header / httpd_req_query */
	void *route_data;            /* the pointer given at httpd_route */
};

struct httpd_resp {
	int status;               /* default 200 */
	const char *content_type; /* default "application/json" */
	struct buf body;          /* handler appends */
	/* extra response headers, "Name: value" each; up to 8 */
	char *headers[8];
	size_t nheaders;
	/* close the connection without answering: a sandbox peer losing the answer of a call it
	 * carried out, as a crashed proxy or a cut line would */
	bool drop;
};

/* Returns nothing: the handler sets resp->status and body. */
typedef void (*httpd_handler)(const struct httpd_req *req, struct httpd_resp *resp);

/* A route's gate, run once the request line and headers are in, before any of the body is read:
 * returns true to go on, or fills resp with an error status and returns false — the body is then
 * never read. Runs on a server thread: headers and memory only, never I/O. */
typedef bool (*httpd_check)(const struct httpd_req *req, struct httpd_resp *resp);

struct httpd_route_opts {
	size_t max_body;   /* bytes of body accepted (more: 413); 0: none */
	httpd_check check; /* NULL: none */
	bool blocking;     /* the handler may wait on I/O: it runs on a worker thread */
};

/* Readiness probe: true when the service may take traffic; reason (<= len bytes) says why not. */
typedef bool (*httpd_ready_fn)(void *ud, char *reason, size_t len);

struct httpd_opts {
	const char *bind; /* "127.0.0.1" (default) or "0.0.0.0" */
	int port;         /* 0: pick a free port (see httpd_port) */
	size_t max_body;  /* body limit of the routes added by httpd_route; default 1 MiB */
	unsigned threads; /* server threads; default 2 */
	unsigned workers; /* threads running blocking routes' handlers; default 2 */
	/* Connections served at once (default 256); more wait in the listen queue. With several server
	 * threads each takes its share, so the cap is reached a little sooner than exactly. */
	unsigned max_connections;
	unsigned max_connections_per_ip; /* 0: no cap; beyond it a new connection is closed at once */
	unsigned client_timeout_s;       /* a connection that sends nothing this long is closed; default 30 */
	/* Answers /readyz: called on a server thread, so it must answer from state, never do I/O. */
	httpd_ready_fn ready; /* NULL: always ready */
	void *ready_ud;
	bool builtin_routes; /* serve /healthz, /readyz, /metrics */
};

/* Starts serving. Routes may be added before or after start (added before: no race).
 * NULL with err filled when the port cannot be bound. */
struct httpd *httpd_new(const struct httpd_opts *opts, char *err, size_t errlen);
void httpd_free(struct httpd *h); /* stops the server; NULL-safe */
int httpd_port(const struct httpd *h);

/* method NULL matches any. A path ending in '*' matches that prefix. First match wins.
 * Up to 64 routes. httpd_route: a body up to the server's max_body, no check, not blocking. */
bool httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler fn, void *data)
	__attribute__((warn_unused_result));
bool httpd_route_with(struct httpd *h, const char *method, const char *path, httpd_handler fn, void *data,
		      const struct httpd_route_opts *ro) __attribute__((warn_unused_result));

const char *httpd_req_header(const struct httpd_req *req, const char *name); /* case-insensitive */
const char *httpd_req_query(const struct httpd_req *req, const char *name);  /* decoded value */
/* The address of the connection's peer (the TCP client, not whatever a header claims); NULL if
 * unknown. */
const struct sockaddr *httpd_req_peer(const struct httpd_req *req);
/* true when a credential the request carries equals secret; takes as long whatever part differs. */
bool httpd_secret_equal(const char *given, const char *secret) __attribute__((warn_unused_result));

/* Response helpers. */
bool httpd_resp_header(struct httpd_resp *resp, const char *name, const char *value)
	__attribute__((warn_unused_result));
/* status + {"code": code, "message": message} — the error body shape the sandbox peers use too. */
void httpd_resp_error(struct httpd_resp *resp, int status, const char *code, const char *message);

#endif
