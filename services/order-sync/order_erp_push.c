#include "order_erp_push.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erp.h"
#include "erp_push.h"
#include "erp_rest_map.h"
#include "event.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "order_db.h"
#include "order_poller.h"
#include "order_relay.h"
#include "pg.h"

struct order_erp_push {
	struct order_erp_push_opts o;
	pthread_mutex_t lock; /* db: pushes are few, one connection serves them */
	struct pg *db;
	struct metric_family *m_push;
};

static void order_erp_push_count(struct order_erp_push *p, const char *result)
{
	metrics_inc(metrics_series1(p->m_push, result));
}

/* Before the body: the route off, or no well-formed signature and timestamp, is refused unread. */
static bool order_erp_push_check(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct order_erp_push *p = req->route_data;
	if (!p->o.secret || !*p->o.secret) {
		httpd_resp_error(resp, 404, "not_found", "the ERP order push is not enabled (ERP_WEBHOOK_SECRET)");
		return false;
	}
	const char *ts = httpd_req_header(req, ERP_PUSH_TIMESTAMP_HEADER);
	const char *sig = httpd_req_header(req, ERP_PUSH_SIGNATURE_HEADER);
	size_t tlen = ts ? strlen(ts) : 0;
	if (tlen == 0 || tlen > 12 || strspn(ts, "0123456789") != tlen || !sig || strlen(sig) != 64 ||
	    strspn(sig, "0123456789abcdefABCDEF") != 64) {
		order_erp_push_count(p, "bad_signature");
		httpd_resp_error(resp, 401, "bad_signature",
				 "X-ERP-Signature does not match X-ERP-Timestamp and the body");
		return false;
	}
	return true;
}

static void order_erp_push_handle(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct order_erp_push *p = req->route_data;
	const char *ts = httpd_req_header(req, ERP_PUSH_TIMESTAMP_HEADER);
	if (!erp_push_verify(p->o.secret, ts, req->body, req->body_len,
			     httpd_req_header(req, ERP_PUSH_SIGNATURE_HEADER))) {
		order_erp_push_count(p, "bad_signature");
		log_warn("ERP order push: wrong X-ERP-Signature; rejected");
		httpd_resp_error(resp, 401, "bad_signature",
				 "X-ERP-Signature does not match X-ERP-Timestamp and the body");
		return;
	}
	if (!erp_push_timestamp_ok(ts, event_now_us() / 1000, p->o.tolerance_ms)) {
		order_erp_push_count(p, "stale_timestamp");
		log_warn("ERP order push: X-ERP-Timestamp %s is out of the accepted window; rejected", ts);
		httpd_resp_error(resp, 401, "stale_timestamp",
				 "X-ERP-Timestamp is outside the accepted window; sign with the current time");
		return;
	}
	const char *event = httpd_req_header(req, ERP_PUSH_EVENT_HEADER);
	bool complaints = event && strcmp(event, ERP_PUSH_EVENT_COMPLAINT) == 0;
	if (!event || (!complaints && strcmp(event, ERP_PUSH_EVENT_ORDER) != 0)) {
		order_erp_push_count(p, "malformed");
		httpd_resp_error(resp, 400, "unknown_event",
				 "X-ERP-Event must be " ERP_PUSH_EVENT_ORDER " or " ERP_PUSH_EVENT_COMPLAINT);
		return;
	}
	char err[512];
	struct erp_change_page page = { 0 };
	if (!erp_rest_map_pushed_change(req->body, req->body_len, complaints, &page, err, sizeof err)) {
		order_erp_push_count(p, "malformed");
		log_warn("ERP order push: malformed body: %s", err);
		httpd_resp_error(resp, 400, "malformed", err);
		erp_change_page_cleanup(&page);
		return;
	}
	pthread_mutex_lock(&p->lock);
	bool ok = pg_ensure(p->db, err, sizeof err) && pg_begin(p->db, err, sizeof err);
	ok = ok && order_poller_apply(p->db, p->o.topics, &page, complaints, err, sizeof err) &&
	     pg_commit(p->db, err, sizeof err);
	if (!ok)
		pg_rollback(p->db);
	pthread_mutex_unlock(&p->lock);
	erp_change_page_cleanup(&page);
	if (!ok) {
		order_erp_push_count(p, "unavailable");
		log_warn("ERP order push: not recorded: %s", err);
		httpd_resp_error(resp, 503, "unavailable", "not recorded; push again");
		return;
	}
	order_relay_wake(p->o.relay);
	order_erp_push_count(p, "accepted");
	resp->status = 202;
	if (!buf_puts(&resp->body, "{\"accepted\":1}"))
		resp->status = 500;
}

struct order_erp_push *order_erp_push_new(struct httpd *h, const struct order_erp_push_opts *o)
{
	static const char *const result[] = { "result", NULL };
	struct order_erp_push *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->o = *o;
	pthread_mutex_init(&p->lock, NULL);
	p->m_push = metrics_counter("erpsync_order_erp_push_total",
				    "ERP order changes pushed: accepted, bad_signature, stale_timestamp, malformed, "
				    "unavailable",
				    result);
	p->db = pg_new(o->pg_dsn, ORDER_DB_SCHEMA);
	const struct httpd_route_opts ro = { o->max_body, order_erp_push_check, true };
	if (!p->db || !httpd_route_with(h, "POST", "/webhooks/erp/orders", order_erp_push_handle, p, &ro)) {
		order_erp_push_free(p);
		return NULL;
	}
	return p;
}

void order_erp_push_free(struct order_erp_push *p)
{
	if (!p)
		return;
	pg_free(p->db);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
