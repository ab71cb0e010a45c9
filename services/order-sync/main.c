/* order-sync — every shop order into the ERP exactly once, with payments, returns and complaints,
 * and its whole life back to the shop. Wiring only: the runtime (common/service.h) does the rest;
 * README.md says what the service does. */
#include <stdlib.h>
#include <string.h>

#include "erp.h"
#include "erp_rest.h"
#include "log.h"
#include "order_book.h"
#include "order_db.h"
#include "order_erp_push.h"
#include "order_event.h"
#include "order_http.h"
#include "order_poller.h"
#include "order_reconcile.h"
#include "order_relay.h"
#include "order_shops.h"
#include "service.h"
#include "shop_config.h"

#define SERVICE "order-sync"
/* threads answering webhooks: each holds a PostgreSQL connection while it commits, and commits of
 * several go to disk together */
#define ORDER_HTTP_WORKERS 8

struct order_config {
	struct service_settings base; /* first: the runtime's rows address it */
	long long book_lanes;
	char *book_statuses;
	long long erp_poll_interval;
	long long erp_rate;
	char *erp_token;
	char *erp_url;
	char *erp_webhook_secret;
	long long erp_webhook_tolerance;
	char *group_id;
	long long inbox_keep_days;
	long long poll_interval;
	long long reconcile_interval;
	long long reconcile_window;
	char *t_erp_orders;
	char *t_invoices;
	char *t_payments;
	char *t_returns;
	char *t_shipments;
	char *t_shop_orders;
	/* ERPSYNC_SHOPS and SHOP_<ID>_*, loaded beside the table */
	struct shop_config *shops;
	size_t nshops;
};

#define CONFIG_TARGET struct order_config
static const struct config_key order_config_table[] = {
	SERVICE_CONFIG_ROWS("19102"),
	CONFIG_STR("ERP_TOKEN", NULL, CONFIG_REQUIRED | CONFIG_SECRET, erp_token, "Bearer token of the ERP API"),
	CONFIG_INT("ERP_RATE", "50", 1, 10000, erp_rate, "request budget towards the ERP, requests per second"),
	CONFIG_URL_("ERP_URL", "http://127.0.0.1:19180", CONFIG_OPTIONAL, erp_url,
		    "base URL of the ERP's REST API (logged without user:password@ or ?query)"),
	CONFIG_STR("ERP_WEBHOOK_SECRET", NULL, CONFIG_SECRET, erp_webhook_secret,
		   "HMAC-SHA256 key of the ERP's pushed order status changes and complaint decisions (POST "
		   "/webhooks/erp/orders); unset: that push is off, the feeds are still polled"),
	CONFIG_DUR(
		"ERP_WEBHOOK_TOLERANCE", "5m", 1000, 86400000, erp_webhook_tolerance,
		"a pushed change whose signed X-ERP-Timestamp is further than this from the host's clock is refused"),
	CONFIG_INT("INBOX_KEEP_DAYS", "14", 1, 3650, inbox_keep_days,
		   "applied event ids and webhook delivery ids are kept this long; keep it longer than the consumed "
		   "topics' retention and the shops' webhook retries"),
	CONFIG_INT("ORDER_BOOK_LANES", "4", 1, 64, book_lanes,
		   "threads handling consumed records (booking, payments, returns, notes), each its own partitions, "
		   "its own connections to PostgreSQL, the ERP and the shops"),
	CONFIG_STR("ORDER_BOOK_STATUSES", "processing,on-hold,completed", CONFIG_OPTIONAL, book_statuses,
		   "shop order statuses (comma-separated slugs) in which an order is booked in the ERP"),
	CONFIG_DUR("ORDER_ERP_POLL_INTERVAL", "2s", 100, 3600000, erp_poll_interval,
		   "how often the ERP is asked for order status changes and complaint decisions"),
	CONFIG_STR("ORDER_ERP_ORDERS_TOPIC", "erp.orders.v1", CONFIG_OPTIONAL, t_erp_orders,
		   "orders as the ERP holds them: bookings and status changes"),
	CONFIG_STR("ORDER_GROUP_ID", SERVICE, CONFIG_OPTIONAL, group_id, "Kafka consumer group"),
	CONFIG_STR("ORDER_INVOICES_TOPIC", "invoices.v1", CONFIG_OPTIONAL, t_invoices,
		   "invoices issued: their number and link go to the customer as a note"),
	CONFIG_STR("ORDER_PAYMENTS_TOPIC", "payments.v1", CONFIG_OPTIONAL, t_payments,
		   "payments of shop orders: registered in the ERP"),
	CONFIG_DUR("ORDER_POLL_INTERVAL", "60s", 1000, 86400000, poll_interval,
		   "how often each shop is asked for orders modified since the last poll (the backstop for "
		   "lost webhooks)"),
	CONFIG_DUR("ORDER_RECONCILE_INTERVAL", "1h", 10000, 604800000, reconcile_interval,
		   "how often shop orders are reconciled with ERP orders (also POST /admin/reconcile)"),
	CONFIG_DUR("ORDER_RECONCILE_WINDOW", "168h", 60000, 2678400000LL, reconcile_window,
		   "how far back a reconciliation looks (orders modified in the shop since then)"),
	CONFIG_STR("ORDER_RETURNS_TOPIC", "returns.v1", CONFIG_OPTIONAL, t_returns,
		   "returns, refunds and complaints: return documents and complaint cases in the ERP"),
	CONFIG_STR("ORDER_SHIPMENTS_TOPIC", "shipments.v1", CONFIG_OPTIONAL, t_shipments,
		   "shipments: tracking notes to the customer, orders completed on delivery"),
	CONFIG_STR("ORDER_SHOP_ORDERS_TOPIC", "shop.orders.v1", CONFIG_OPTIONAL, t_shop_orders,
		   "orders as the shops hold them (its dead letters, held orders, go to <topic>.dlq)"),
	CONFIG_KEY_END,
};

/* What runs while the service runs. */
struct order_app {
	struct order_topics topics;
	struct order_shops shops;
	struct erp *erp;
	struct order_relay *relay;
	struct order_reconcile *reconcile;
	struct order_http *http;
	struct order_erp_push *push;
	struct order_book *book;
	struct order_poller *poller;
};

static bool order_load_shops(void *cfg)
{
	struct order_config *c = cfg;
	return shop_config_load(&c->shops, &c->nshops, SHOP_CONFIG_ORDERS);
}

static void order_log_shops(const void *cfg)
{
	const struct order_config *c = cfg;
	shop_config_log(c->shops, c->nshops);
}

static void order_free_shops(void *cfg)
{
	struct order_config *c = cfg;
	shop_config_free(c->shops, c->nshops);
}

static const char *order_group_id(const void *cfg)
{
	return ((const struct order_config *)cfg)->group_id;
}

static size_t order_topics(const void *cfg, const char **topics, size_t max)
{
	const struct order_config *c = cfg;
	const char *mine[] = { c->t_shop_orders, c->t_erp_orders, c->t_payments,
			       c->t_returns,     c->t_shipments,  c->t_invoices };
	size_t n = sizeof mine / sizeof mine[0] < max ? sizeof mine / sizeof mine[0] : max;
	memcpy(topics, mine, n * sizeof *topics);
	return n;
}

static void order_stop(void *ud)
{
	struct order_app *app = ud;
	order_poller_stop(app->poller);
	order_reconcile_stop(app->reconcile);
	order_book_free(app->book);
	order_http_free(app->http); /* the server, and with it every handler, stopped before */
	order_erp_push_free(app->push);
	order_relay_stop(app->relay);
	erp_free(app->erp);
	order_shops_free(&app->shops);
	free(app);
}

static void *order_start(struct service *svc, const void *cfg)
{
	const struct order_config *c = cfg;
	const char *dsn = c->base.pg_dsn;
	struct order_app *app = calloc(1, sizeof *app);
	if (!app)
		return NULL;
	app->topics = (struct order_topics){ c->t_shop_orders, c->t_erp_orders, c->t_payments,
					     c->t_returns,     c->t_shipments,  c->t_invoices };
	char err[256] = "out of memory";
	if (!order_shops_connect(&app->shops, c->shops, c->nshops))
		goto failed;
	app->erp = erp_rest_new(c->erp_url, c->erp_token, (double)c->erp_rate);
	if (!app->erp || !app->erp->orders) {
		log_error("the ERP adapter does not serve orders");
		goto failed;
	}
	app->relay = order_relay_start(dsn, ORDER_DB_SCHEMA);
	const struct order_reconcile_opts ro = { dsn,
						 &app->topics,
						 &app->shops,
						 app->relay,
						 c->erp_url,
						 c->erp_token,
						 (double)c->erp_rate,
						 c->book_statuses,
						 c->reconcile_interval,
						 c->reconcile_window };
	app->reconcile = app->relay ? order_reconcile_start(&ro) : NULL;
	if (!app->reconcile)
		goto failed;
	const struct order_http_opts ho = { dsn,
					    &app->topics,
					    &app->shops,
					    app->relay,
					    app->reconcile,
					    c->base.admin_token,
					    c->base.http_bind,
					    c->base.http_allowed_hosts,
					    (size_t)c->base.http_max_body };
	app->http = order_http_new(service_httpd(svc), &ho, err, sizeof err);
	if (!app->http) {
		log_error("cannot serve the webhooks and /admin/...: %s", err);
		goto failed;
	}
	const struct order_erp_push_opts eo = { dsn,
						&app->topics,
						app->relay,
						c->erp_webhook_secret,
						c->erp_webhook_tolerance,
						(size_t)c->base.http_max_body };
	app->push = order_erp_push_new(service_httpd(svc), &eo);
	if (!app->push) {
		log_error("cannot serve the ERP's order push");
		goto failed;
	}
	const struct order_book_opts bo = { service_consumer(svc),
					    service_dlq(svc),
					    dsn,
					    c->erp_url,
					    c->erp_token,
					    (double)c->erp_rate,
					    c->shops,
					    c->nshops,
					    &app->topics,
					    app->relay,
					    c->book_statuses,
					    (size_t)c->book_lanes };
	app->book = order_book_new(&bo);
	const struct order_poller_opts po = { dsn,
					      &app->topics,
					      &app->shops,
					      app->relay,
					      service_dlq(svc),
					      c->erp_url,
					      c->erp_token,
					      (double)c->erp_rate,
					      c->poll_interval,
					      c->erp_poll_interval,
					      c->inbox_keep_days };
	app->poller = app->book ? order_poller_start(&po) : NULL;
	if (!app->poller)
		goto failed;
	log_info("started: %zu shop(s), polling them every %lld ms and the ERP every %lld ms", c->nshops,
		 c->poll_interval, c->erp_poll_interval);
	return app;
failed:
	order_stop(app);
	return NULL;
}

static int order_run_once(void *ud, int timeout_ms)
{
	return order_book_run_once(((struct order_app *)ud)->book, timeout_ms);
}

static const struct service_def order_service = {
	.name = SERVICE,
	.schema = ORDER_DB_SCHEMA,
	.http_workers = ORDER_HTTP_WORKERS,
	.config = order_config_table,
	.config_size = sizeof(struct order_config),
	.load_more = order_load_shops,
	.log_more = order_log_shops,
	.reference_more = shop_config_print_reference,
	.free_more = order_free_shops,
	.migrate = order_db_migrate,
	.group_id = order_group_id,
	.topics = order_topics,
	.start = order_start,
	.run_once = order_run_once,
	.stop = order_stop,
};

int main(int argc, char **argv)
{
	return service_main(&order_service, argc, argv);
}
