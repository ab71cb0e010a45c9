#include "order_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "httpd.h"
#include "httpd_admin.h"
#include "log.h"
#include "metrics.h"
#include "order_complaint.h"
#include "order_db.h"
#include "order_event.h"
#include "order_intake.h"
#include "order_reconcile.h"
#include "order_relay.h"
#include "order_shops.h"
#include "pg.h"
#include "shop.h"
#include "shop_config.h"
#include "shop_order.h"
#include "shop_woo_webhook.h"

#define ORDER_HTTP_PREFIX   "/webhooks/shop/"
#define ORDER_HTTP_POOL_MAX 16  /* idle PostgreSQL connections kept for the workers */
#define ORDER_HTTP_REASON   480 /* bytes of a refusal's reason in the answer */

struct order_http {
	struct order_http_opts o;
	struct httpd_admin *admin;
	pthread_mutex_t lock; /* the pool */
	struct pg *idle[ORDER_HTTP_POOL_MAX];
	size_t nidle;
	struct metric_family *m_webhook; /* by shop and outcome */
	struct metric_family *m_latency;
};

/* A connection for one request: an idle one, or a new one. */
static struct pg *order_http_db_take(struct order_http *oh, char *err, size_t errlen)
{
	struct pg *db = NULL;
	pthread_mutex_lock(&oh->lock);
	if (oh->nidle)
		db = oh->idle[--oh->nidle];
	pthread_mutex_unlock(&oh->lock);
	if (!db && !(db = pg_new(oh->o.pg_dsn, ORDER_DB_SCHEMA))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!pg_ensure(db, err, errlen)) {
		pg_free(db);
		return NULL;
	}
	return db;
}

static void order_http_db_give(struct order_http *oh, struct pg *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&oh->lock);
	if (oh->nidle < ORDER_HTTP_POOL_MAX) {
		oh->idle[oh->nidle++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&oh->lock);
	pg_free(db);
}

static const char *order_http_shop_id(const struct httpd_req *req)
{
	return req->path + strlen(ORDER_HTTP_PREFIX);
}

static void order_http_count(struct order_http *oh, const char *shop, const char *outcome, int64_t started_us)
{
	metrics_inc(metrics_series2(oh->m_webhook, shop, outcome));
	metrics_observe(metrics_series1(oh->m_latency, shop), (double)(event_monotonic_us() - started_us) / 1e6);
}

/* Before the body: a shop erpsync does not serve is 404 without reading it. */
static bool order_http_webhook_check(const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct order_http *oh = req->route_data;
	if (!order_shops_find(oh->o.shops, order_http_shop_id(req))) {
		httpd_resp_error(resp, 404, "unknown_shop", "no shop with this id is configured (ERPSYNC_SHOPS)");
		return false;
	}
	return true;
}

static void order_http_answer(struct httpd_resp *resp, int status, const char *result, const char *id)
{
	json_t *o = json_pack("{s:s, s:s}", "result", result, "order", id ? id : "");
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	resp->status = status;
	if (!s || !buf_puts(&resp->body, s))
		resp->status = 500;
	free(s);
}

/* order.deleted carries only {"id": N}. */
static bool order_http_deleted_id(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *id = json_object_get(root, "id");
	bool ok = json_is_integer(id) && json_integer_value(id) > 0;
	if (ok)
		snprintf(out, outlen, "%lld", (long long)json_integer_value(id));
	json_decref(root);
	return ok;
}

static void order_http_webhook(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct order_http *oh = req->route_data;
	int64_t started = event_monotonic_us();
	const struct order_shop *os = order_shops_find(oh->o.shops, order_http_shop_id(req));
	const char *shop_id = os->cfg->id;
	const char *sig = httpd_req_header(req, SHOP_WOO_WEBHOOK_SIGNATURE_HEADER);
	switch (os->shop->orders->webhook_check(os->shop, sig, req->body, req->body_len)) {
	case SHOP_DELIVERY_PING:
		order_http_count(oh, shop_id, "ping", started);
		order_http_answer(resp, 200, "ping", NULL);
		return;
	case SHOP_DELIVERY_REFUSED:
		log_warn("shop %s: webhook %s signature; refused", shop_id, sig ? "with a wrong" : "without a");
		order_http_count(oh, shop_id, "unauthorized", started);
		httpd_resp_error(resp, 401, "unauthorized", "missing or wrong X-WC-Webhook-Signature");
		return;
	case SHOP_DELIVERY_SIGNED:
		break;
	}
	const char *topic = httpd_req_header(req, SHOP_WOO_WEBHOOK_TOPIC_HEADER);
	const char *delivery = httpd_req_header(req, SHOP_WOO_WEBHOOK_DELIVERY_HEADER);
	if (delivery && (!*delivery || strlen(delivery) > 128))
		delivery = NULL; /* not an id we can keep: the order's modification time still dedupes */
	char err[512] = "";
	struct shop_order *so = NULL;
	char deleted_id[32];
	bool deleted = topic && strcmp(topic, "order.deleted") == 0;
	if (deleted && !order_http_deleted_id(req->body, req->body_len, deleted_id, sizeof deleted_id)) {
		order_http_count(oh, shop_id, "refused", started);
		httpd_resp_error(resp, 422, "not_an_order", "order.deleted without a positive integer id");
		return;
	}
	if (!deleted) {
		switch (os->shop->orders->parse(os->shop, req->body, req->body_len, &so, err, sizeof err)) {
		case SHOP_ORDER_PARSED:
			break;
		case SHOP_ORDER_MALFORMED:
			order_http_count(oh, shop_id, "malformed", started);
			httpd_resp_error(resp, 400, "malformed", err);
			return;
		case SHOP_ORDER_REFUSED:
			log_warn("shop %s: webhook refused: %s", shop_id, err);
			order_http_count(oh, shop_id, "refused", started);
			httpd_resp_error(resp, 422, "not_an_order", err);
			return;
		case SHOP_ORDER_FAILED:
			order_http_count(oh, shop_id, "unavailable", started);
			httpd_resp_error(resp, 503, "unavailable", "out of memory; deliver again");
			return;
		}
	}
	struct pg *db = order_http_db_take(oh, err, sizeof err);
	enum order_intake_result res = ORDER_INTAKE_FAILED;
	if (db && deleted) {
		res = order_intake_deleted(db, oh->o.topics, shop_id, deleted_id, delivery, err, sizeof err);
	} else if (db) {
		const struct order_intake_in in = { shop_id,
						    so,
						    delivery,
						    false,
						    ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_WEBHOOK,
						    httpd_req_header(req, "traceparent"),
						    false };
		res = order_intake(db, oh->o.topics, &in, err, sizeof err);
	}
	order_http_db_give(oh, db);
	const char *id = deleted ? deleted_id : so->external_id;
	switch (res) {
	case ORDER_INTAKE_TAKEN:
		order_relay_wake(oh->o.relay);
		order_http_count(oh, shop_id, "taken", started);
		order_http_answer(resp, 200, "taken", id);
		break;
	case ORDER_INTAKE_DUPLICATE:
		order_http_count(oh, shop_id, "duplicate", started);
		order_http_answer(resp, 200, "duplicate", id);
		break;
	case ORDER_INTAKE_FAILED:
		log_warn("shop %s: webhook for order %s not recorded: %s", shop_id, id, err);
		order_http_count(oh, shop_id, "unavailable", started);
		httpd_resp_error(resp, 503, "unavailable", "not recorded; deliver again");
		break;
	}
	shop_order_free(so);
}

/* Before the body: who may use /admin/... (httpd_admin.h). */
static bool order_http_admin_check(const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct order_http *oh = req->route_data;
	return httpd_admin_check(oh->admin, req, resp);
}

static void order_http_reconcile(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct order_http *oh = req->route_data;
	if (strcmp(req->method, "POST") == 0) {
		if (!order_reconcile_request(oh->o.reconcile)) {
			httpd_resp_error(
				resp, 409, "busy",
				"a reconciliation is running or requested, or this instance is not the leader");
			return;
		}
		log_info("order reconciliation requested over HTTP");
		resp->status = 202;
	}
	if (!order_reconcile_status(oh->o.reconcile, &resp->body))
		resp->status = 500;
}

static void order_http_order(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct order_http *oh = req->route_data;
	const char *rest = req->path + strlen("/admin/orders/");
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/') || slash - rest > 64) {
		httpd_resp_error(resp, 404, "not_found", "use /admin/orders/<shop>/<order id>");
		return;
	}
	char shop[65];
	snprintf(shop, sizeof shop, "%.*s", (int)(slash - rest), rest);
	char err[256];
	struct pg *db = order_http_db_take(oh, err, sizeof err);
	const char *p[] = { shop, slash + 1 };
	PGresult *r =
		db ? pg_query(db,
			      "SELECT json_build_object('shop', o.shop_id, 'order', o.external_id, 'status', o.status,"
			      " 'version', o.version, 'modified_us', o.modified_us, 'hold_reason', o.hold_reason,"
			      " 'deleted', o.deleted, 'erp_id', o.erp_id, 'erp_number', o.erp_number,"
			      " 'erp_status', o.erp_status, 'booked_at', o.booked_at,"
			      " 'notes', (SELECT coalesce(json_agg(n.note_key ORDER BY n.added_at), '[]') FROM note n"
			      "   WHERE n.shop_id = o.shop_id AND n.external_id = o.external_id),"
			      " 'returns', (SELECT coalesce(json_agg(json_build_object('id', c.return_id, 'kind',"
			      "   c.kind, 'status', c.status, 'erp_id', c.erp_id) ORDER BY c.return_id), '[]')"
			      "   FROM return_case c WHERE c.shop_id = o.shop_id AND c.external_id = o.external_id)"
			      ")::text FROM orders o WHERE o.shop_id = $1 AND o.external_id = $2",
			      2, p, err, sizeof err)
		   : NULL;
	order_http_db_give(oh, db);
	if (!r) {
		httpd_resp_error(resp, 503, "unavailable", "database unavailable");
		return;
	}
	if (PQntuples(r) != 1)
		httpd_resp_error(resp, 404, "not_found", "order-sync has not seen this order");
	else if (!buf_puts(&resp->body, PQgetvalue(r, 0, 0)))
		resp->status = 500;
	PQclear(r);
}

static void order_http_complaint(const struct httpd_req *req, struct httpd_resp *resp)
{
	struct order_http *oh = req->route_data;
	char err[512];
	struct pg *db = order_http_db_take(oh, err, sizeof err);
	if (!db) {
		httpd_resp_error(resp, 503, "unavailable", "database unavailable");
		return;
	}
	int status = order_complaint_file(db, oh->o.topics, oh->o.shops, req->body, req->body_len, &resp->body, err,
					  sizeof err);
	order_http_db_give(oh, db);
	if (status >= 300) {
		httpd_resp_error(resp, status, status == 503 ? "unavailable" : "invalid_complaint", err);
		return;
	}
	order_relay_wake(oh->o.relay);
	resp->status = status;
}

static bool order_http_routes(struct order_http *oh, struct httpd *h)
{
	const struct httpd_route_opts webhook = { oh->o.max_body, order_http_webhook_check, true };
	const struct httpd_route_opts admin_get = { 0, order_http_admin_check, false };
	const struct httpd_route_opts admin_get_db = { 0, order_http_admin_check, true };
	const struct httpd_route_opts admin_post = { 4096, order_http_admin_check, false };
	const struct httpd_route_opts admin_post_db = { 65536, order_http_admin_check, true };
	return httpd_route_with(h, "POST", ORDER_HTTP_PREFIX "*", order_http_webhook, oh, &webhook) &&
	       httpd_route_with(h, "GET", "/admin/reconcile", order_http_reconcile, oh, &admin_get) &&
	       httpd_route_with(h, "POST", "/admin/reconcile", order_http_reconcile, oh, &admin_post) &&
	       httpd_route_with(h, "GET", "/admin/orders/*", order_http_order, oh, &admin_get_db) &&
	       httpd_route_with(h, "POST", "/admin/complaints", order_http_complaint, oh, &admin_post_db);
}

struct order_http *order_http_new(struct httpd *h, const struct order_http_opts *o, char *err, size_t errlen)
{
	static const char *const labels[] = { "shop", "outcome", NULL };
	static const char *const shop_label[] = { "shop", NULL };
	static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5 };
	struct order_http *oh = calloc(1, sizeof *oh);
	if (!oh) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	oh->o = *o;
	pthread_mutex_init(&oh->lock, NULL);
	oh->m_webhook = metrics_counter(
		"erpsync_order_webhooks_total",
		"Shop order webhooks by outcome (taken, duplicate, ping, unauthorized, malformed, "
		"refused, unavailable)",
		labels);
	oh->m_latency = metrics_histogram("erpsync_order_webhook_seconds",
					  "Time to answer a shop order webhook (signature, commit)", shop_label,
					  buckets, sizeof buckets / sizeof buckets[0]);
	oh->admin = httpd_admin_new(o->admin_token, o->http_bind, httpd_port(h), o->allowed_hosts, err, errlen);
	if (!oh->admin || !order_http_routes(oh, h)) {
		if (oh->admin)
			snprintf(err, errlen, "cannot add routes");
		order_http_free(oh);
		return NULL;
	}
	return oh;
}

void order_http_free(struct order_http *oh)
{
	if (!oh)
		return;
	for (size_t i = 0; i < oh->nidle; i++)
		pg_free(oh->idle[i]);
	httpd_admin_free(oh->admin);
	pthread_mutex_destroy(&oh->lock);
	free(oh);
}
