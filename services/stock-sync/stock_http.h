/* stock_http — stock-sync's own HTTP endpoints beside /healthz, /readyz and /metrics:
 *
 *   POST /webhooks/erp/stock   stock changes pushed by the ERP: one record or {"items":[...]},
 *                              signed X-ERP-Signature: hex HMAC-SHA256(ERP_WEBHOOK_SECRET, raw body).
 *                              202 queued, 400 malformed (nothing queued), 401 bad signature,
 *                              503 database unavailable (the ERP retries), 404 when no secret is set,
 *                              413 over HTTP_MAX_BODY. A push without a well-formed signature and
 *                              timestamp is refused before its body is read.
 *   POST /admin/reconcile      start a full reconciliation now (202; 409 while one runs)
 *   GET  /admin/reconcile      the last run
 *   GET  /admin/unknown-skus   SKUs a shop does not know, per shop
 *
 * Who may use /admin/... is httpd_admin's policy: "Authorization: Bearer <ADMIN_TOKEN>" when a token
 * is set, else loopback callers only; the Host must be this service's (HTTP_ALLOWED_HOSTS), and no
 * cross-site request changes state.
 *
 * The webhook and the unknown-SKU list share one PostgreSQL connection under a mutex and run on the
 * server's worker threads. */
#ifndef STOCK_HTTP_H
#define STOCK_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct httpd;
struct stock_reconcile;

struct stock_http_opts {
	const char *pg_dsn;
	const char *topic;          /* where pushed records are published (through the outbox) */
	const char *webhook_secret; /* NULL or "": the webhook is off */
	const char *admin_token;    /* Bearer token of /admin/...; NULL or "": loopback callers only */
	const char *http_bind;      /* where h listens: its address is one of the service's own hosts */
	const char *allowed_hosts;  /* further Host names of /admin/... (comma-separated); NULL: none */
	struct stock_reconcile *reconcile;
	long long webhook_tolerance_ms; /* how far X-ERP-Timestamp may be from this host's clock */
	size_t max_body;                /* largest pushed body */
};

struct stock_http;

/* Adds the routes to h (started: its port is one of the service's own hosts). NULL with err. */
struct stock_http *stock_http_new(struct httpd *h, const struct stock_http_opts *o, char *err, size_t errlen);
void stock_http_free(struct stock_http *sh); /* after httpd_free */

#endif
