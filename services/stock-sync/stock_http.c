#include "stock_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erp_push.h"
#include "event.h"
#include "httpd.h"
#include "httpd_admin.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "stock_db.h"
#include "stock_event.h"
#include "stock_reconcile.h"

struct stock_http {
	struct stock_http_opts o;
	pthread_mutex_t lock; /* guards db */
	struct pg *db;
	struct httpd_admin *admin;
	struct metric_family *m_webhook;
};

static void stock_http_count(struct stock_http *sh, const char *result)
{
	metrics_inc(metrics_series1(sh->m_webhook, result));
}

/* Queues every record of a verified push in one transaction: all or nothing. */
static bool stock_http_queue(struct stock_http *sh, const struct erp_stock_page *page, char *err, size_t errlen)
{
	bool ok = false;
	struct stock_feed_pos feed; /* a push counts in the epoch of the feed polling follows */
	pthread_mutex_lock(&sh->lock);
	if (!pg_ensure(sh->db, err, errlen) || !pg_begin(sh->db, err, errlen))
		goto out;
	if (!stock_db_feed_get(sh->db, STOCK_DB_ERP_FEED, &feed, err, errlen)) {
		pg_rollback(sh->db);
		goto out;
	}
	for (size_t i = 0; i < page->n; i++) {
		if (!stock_event_queue(sh->db, sh->o.topic, &page->items[i], feed.epoch,
				       ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_WEBHOOK, err, errlen)) {
			pg_rollback(sh->db);
			goto out;
		}
	}
	ok = pg_commit(sh->db, err, errlen);
	if (!ok)
		pg_rollback(sh->db);
out:
	pthread_mutex_unlock(&sh->lock);
	return ok;
}

/* Before the body is read: a push that cannot be signed right — the webhook off, the signature or
 * the timestamp missing or malformed — is refused without reading (or holding) what it sends. */
static bool stock_http_webhook_check(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct stock_http *sh = req->route_data;
	if (!sh->o.webhook_secret || !*sh->o.webhook_secret) {
		httpd_resp_error(resp, 404, "not_found", "the ERP webhook is not enabled (ERP_WEBHOOK_SECRET)");
		return false;
	}
	const char *ts = httpd_req_header(req, ERP_PUSH_TIMESTAMP_HEADER);
	const char *sig = httpd_req_header(req, ERP_PUSH_SIGNATURE_HEADER);
	size_t tlen = ts ? strlen(ts) : 0;
	/* hex of an HMAC-SHA256: 64 digits */
	if (tlen == 0 || tlen > 12 || strspn(ts, "0123456789") != tlen || !sig || strlen(sig) != 64 ||
	    strspn(sig, "0123456789abcdefABCDEF") != 64) {
		stock_http_count(sh, "bad_signature");
		log_warn("ERP webhook: missing or malformed X-ERP-Signature or X-ERP-Timestamp; rejected");
		httpd_resp_error(resp, 401, "bad_signature",
				 "X-ERP-Signature does not match X-ERP-Timestamp and the body");
		return false;
	}
	return true;
}

static void stock_http_webhook(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct stock_http *sh = req->route_data;
	char err[512];
	struct erp_stock_page page;
	const char *ts = httpd_req_header(req, ERP_PUSH_TIMESTAMP_HEADER);
	if (!erp_push_verify(sh->o.webhook_secret, ts, req->body, req->body_len,
			     httpd_req_header(req, ERP_PUSH_SIGNATURE_HEADER))) {
		stock_http_count(sh, "bad_signature");
		log_warn("ERP webhook: missing or wrong X-ERP-Signature or X-ERP-Timestamp; rejected");
		httpd_resp_error(resp, 401, "bad_signature",
				 "X-ERP-Signature does not match X-ERP-Timestamp and the body");
		return;
	}
	/* checked after the signature: only a signed timestamp says anything about the sender's clock */
	if (!erp_push_timestamp_ok(ts, event_now_us() / 1000, sh->o.webhook_tolerance_ms)) {
		stock_http_count(sh, "stale_timestamp");
		log_warn("ERP webhook: X-ERP-Timestamp %s is more than %lld s from this host's clock (a replay, or "
			 "clocks apart); rejected",
			 ts, sh->o.webhook_tolerance_ms / 1000);
		httpd_resp_error(resp, 401, "stale_timestamp",
				 "X-ERP-Timestamp is outside the accepted window; sign with the current time");
		return;
	}
	if (!erp_push_parse(req->body, req->body_len, &page, err, sizeof err)) {
		stock_http_count(sh, "malformed");
		log_warn("ERP webhook: malformed body: %s", err);
		httpd_resp_error(resp, 400, "malformed", err);
		return;
	}
	if (!stock_http_queue(sh, &page, err, sizeof err)) {
		stock_http_count(sh, "unavailable");
		log_warn("ERP webhook: could not queue %zu records: %s", page.n, err);
		httpd_resp_error(resp, 503, "unavailable", "database unavailable; retry later");
	} else {
		stock_http_count(sh, "accepted");
		resp->status = 202;
		if (!buf_printf(&resp->body, "{\"accepted\":%zu}", page.n))
			resp->status = 500;
	}
	erp_stock_page_cleanup(&page);
}

/* Before the body: who may use /admin/... (httpd_admin.h). */
static bool stock_http_admin_check(const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct stock_http *sh = req->route_data;
	return httpd_admin_check(sh->admin, req, resp);
}

static void stock_http_reconcile(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct stock_http *sh = req->route_data;
	if (strcmp(req->method, "POST") == 0) {
		if (!stock_reconcile_request(sh->o.reconcile)) {
			httpd_resp_error(
				resp, 409, "busy_or_not_leader",
				"a reconciliation is running or requested, or this instance is not the leader");
			return;
		}
		log_info("reconciliation requested over HTTP");
		resp->status = 202;
	}
	if (!stock_reconcile_status(sh->o.reconcile, &resp->body))
		resp->status = 500;
}

static void stock_http_unknown(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct stock_http *sh = req->route_data;
	char err[512];
	pthread_mutex_lock(&sh->lock);
	PGresult *r = pg_ensure(sh->db, err, sizeof err)
			      ? pg_query(sh->db,
					 "SELECT COALESCE(json_object_agg(shop, skus), '{}')::text FROM (SELECT shop,"
					 " json_agg(json_build_object('sku', sku, 'first_seen', first_seen, "
					 "'last_seen', last_seen,"
					 " 'times', times) ORDER BY sku) AS skus FROM unknown_sku GROUP BY shop) t",
					 0, NULL, err, sizeof err)
			      : NULL;
	pthread_mutex_unlock(&sh->lock);
	if (!r) {
		httpd_resp_error(resp, 503, "unavailable", "database unavailable");
		return;
	}
	if (!buf_puts(&resp->body, PQgetvalue(r, 0, 0)))
		resp->status = 500;
	PQclear(r);
}

/* The webhook and the unknown-SKU list wait on PostgreSQL (under sh->lock): they run on the
 * server's workers, never where /healthz is answered. The reconcile routes only touch memory. */
static bool stock_http_routes(struct stock_http *sh, struct httpd *h)
{
	const struct httpd_route_opts webhook = { sh->o.max_body, stock_http_webhook_check, true };
	const struct httpd_route_opts admin_get = { 0, stock_http_admin_check, false };
	const struct httpd_route_opts admin_get_db = { 0, stock_http_admin_check, true };
	/* the POST takes no body; a small JSON one is let through and ignored */
	const struct httpd_route_opts admin_post = { 4096, stock_http_admin_check, false };
	return httpd_route_with(h, "POST", "/webhooks/erp/stock", stock_http_webhook, sh, &webhook) &&
	       httpd_route_with(h, "GET", "/admin/reconcile", stock_http_reconcile, sh, &admin_get) &&
	       httpd_route_with(h, "POST", "/admin/reconcile", stock_http_reconcile, sh, &admin_post) &&
	       httpd_route_with(h, "GET", "/admin/unknown-skus", stock_http_unknown, sh, &admin_get_db);
}

struct stock_http *stock_http_new(struct httpd *h, const struct stock_http_opts *o, char *err, size_t errlen)
{
	static const char *const result_label[] = { "result", NULL };
	struct stock_http *sh = calloc(1, sizeof *sh);
	if (!sh) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sh->o = *o;
	pthread_mutex_init(&sh->lock, NULL);
	sh->db = pg_new(o->pg_dsn, STOCK_DB_SCHEMA);
	sh->m_webhook = metrics_counter("erpsync_stock_erp_webhook_total", "ERP stock pushes by result", result_label);
	if (!sh->db) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	sh->admin = httpd_admin_new(o->admin_token, o->http_bind, httpd_port(h), o->allowed_hosts, err, errlen);
	if (!sh->admin)
		goto fail;
	if (!stock_http_routes(sh, h)) {
		snprintf(err, errlen, "cannot add the routes");
		goto fail;
	}
	return sh;

fail:
	stock_http_free(sh);
	return NULL;
}

void stock_http_free(struct stock_http *sh)
{
	if (!sh)
		return;
	pg_free(sh->db);
	httpd_admin_free(sh->admin);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}
