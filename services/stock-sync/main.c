/* stock-sync — ERP stock to every shop, reservation-aware. Wiring only: the runtime
 * (common/service.h) does the rest; README.md says what the service does. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "service.h"
#include "shop_config.h"
#include "stock_apply.h"
#include "stock_db.h"
#include "stock_http.h"
#include "stock_poller.h"
#include "stock_reconcile.h"
#include "stock_writer.h"

#define SERVICE "stock-sync"
/* /readyz answers from a check run this often; a step of it (PostgreSQL, Kafka) that takes longer
 * than the limit is reported as not answering. */
#define STOCK_READY_INTERVAL_MS   1000
#define STOCK_READY_STEP_LIMIT_MS 3000

struct stock_config {
	struct service_settings base; /* first: the runtime's rows address it */
	long long apply_lanes;
	long long batch_max;
	long long erp_rate;
	char *erp_token;
	char *erp_url;
	long long inbox_keep_days;
	char *alerts_topic;
	long long window;
	char *erp_orders_topic;
	char *group_id;
	long long poll_interval;
	long long poll_limit;
	char *orders_topic;
	long long reconcile_interval;
	char *returns_topic;
	char *topic;
	long long unknown_recheck;
	char *webhook_secret;
	long long webhook_tolerance;
	/* ERPSYNC_SHOPS and SHOP_<ID>_*, loaded beside the table */
	struct shop_config *shops;
	size_t nshops;
};

#define CONFIG_TARGET struct stock_config
static const struct config_key stock_config_table[] = {
	SERVICE_CONFIG_ROWS("19101"),
	CONFIG_STR("ERP_TOKEN", NULL, CONFIG_REQUIRED | CONFIG_SECRET, erp_token, "Bearer token of the ERP API"),
	CONFIG_INT("ERP_RATE", "20", 1, 10000, erp_rate, "request budget towards the ERP, requests per second"),
	CONFIG_URL_("ERP_URL", "http://127.0.0.1:19180", CONFIG_OPTIONAL, erp_url,
		    "base URL of the ERP's REST stock API (logged without user:password@ or ?query)"),
	CONFIG_STR("ERP_WEBHOOK_SECRET", NULL, CONFIG_SECRET, webhook_secret,
		   "HMAC-SHA256 key of pushed ERP stock changes (POST /webhooks/erp/stock); unset: webhook off"),
	CONFIG_DUR(
		"ERP_WEBHOOK_TOLERANCE", "5m", 1000, 86400000, webhook_tolerance,
		"a pushed change whose signed X-ERP-Timestamp is further than this from the host's clock is refused"),
	CONFIG_INT("INBOX_KEEP_DAYS", "14", 1, 3650, inbox_keep_days,
		   "applied event ids are kept this long; keep it longer than the consumed topics' retention"),
	CONFIG_STR("STOCK_ALERTS_TOPIC", "stock.alerts.v1", CONFIG_OPTIONAL, alerts_topic,
		   "where oversell alerts are published"),
	CONFIG_INT(
		"STOCK_APPLY_LANES", "3", 1, STOCK_APPLY_LANES_MAX, apply_lanes,
		"database connections a large batch of stock records is split over (by SKU), applied at the same time"),
	CONFIG_INT("STOCK_BATCH_MAX", "6000", 1, 10000, batch_max, "Kafka records applied per database transaction"),
	CONFIG_DUR("STOCK_COALESCE_WINDOW", "200ms", 10, 60000, window,
		   "changes to one SKU within this window become one shop write"),
	CONFIG_STR("STOCK_ERP_ORDERS_TOPIC", "erp.orders.v1", CONFIG_OPTIONAL, erp_orders_topic,
		   "orders booked or cancelled by the ERP: their holds end"),
	CONFIG_STR("STOCK_GROUP_ID", SERVICE, CONFIG_OPTIONAL, group_id, "Kafka consumer group"),
	CONFIG_STR("STOCK_ORDERS_TOPIC", "shop.orders.v1", CONFIG_OPTIONAL, orders_topic,
		   "orders placed in the shops: they hold stock (reservations)"),
	CONFIG_DUR("STOCK_POLL_INTERVAL", "5s", 100, 3600000, poll_interval,
		   "how often the ERP is asked for stock changes"),
	CONFIG_INT("STOCK_POLL_LIMIT", "500", 1, 1000, poll_limit, "changes asked for per ERP call"),
	CONFIG_DUR("STOCK_RECONCILE_INTERVAL", "1h", 10000, 604800000, reconcile_interval,
		   "how often a full ERP and shop reconciliation runs (also POST /admin/reconcile)"),
	CONFIG_STR("STOCK_RETURNS_TOPIC", "returns.v1", CONFIG_OPTIONAL, returns_topic,
		   "returns: which restocks to expect"),
	CONFIG_STR("STOCK_TOPIC", "erp.stock.v1", CONFIG_OPTIONAL, topic,
		   "topic of stock records (its dead letters go to <topic>.dlq)"),
	CONFIG_DUR("STOCK_UNKNOWN_RECHECK", "1m", 0, 86400000, unknown_recheck,
		   "a SKU a shop did not know is looked up again after this (at most once per interval)"),
	CONFIG_KEY_END,
};

/* What runs while the service runs. */
struct stock_app {
	struct stock_reconcile *reconcile;
	struct stock_http *admin;
	struct stock_apply *apply;
	struct stock_poller *poller;
	struct stock_writer *writer;
};

static bool stock_load_shops(void *cfg)
{
	struct stock_config *c = cfg;
	return shop_config_load(&c->shops, &c->nshops, SHOP_CONFIG_STOCK);
}

static void stock_log_shops(const void *cfg)
{
	const struct stock_config *c = cfg;
	shop_config_log(c->shops, c->nshops);
}

static void stock_free_shops(void *cfg)
{
	struct stock_config *c = cfg;
	shop_config_free(c->shops, c->nshops);
}

static const char *stock_group_id(const void *cfg)
{
	return ((const struct stock_config *)cfg)->group_id;
}

static size_t stock_topics(const void *cfg, const char **topics, size_t max)
{
	const struct stock_config *c = cfg;
	const char *mine[] = { c->topic, c->orders_topic, c->erp_orders_topic, c->returns_topic };
	size_t n = sizeof mine / sizeof mine[0] < max ? sizeof mine / sizeof mine[0] : max;
	memcpy(topics, mine, n * sizeof *topics);
	return n;
}

static void stock_stop(void *ud)
{
	struct stock_app *app = ud;
	stock_writer_stop(app->writer);
	stock_poller_stop(app->poller);
	stock_apply_free(app->apply);
	stock_http_free(app->admin); /* the server, and with it every handler, stopped before */
	stock_reconcile_free(app->reconcile);
	free(app);
}

static void *stock_start(struct service *svc, const void *cfg)
{
	const struct stock_config *c = cfg;
	const char *dsn = c->base.pg_dsn;
	struct stock_app *app = calloc(1, sizeof *app);
	if (!app)
		return NULL;
	const struct stock_apply_topics at = { c->topic, c->orders_topic, c->erp_orders_topic, c->returns_topic,
					       c->alerts_topic };
	app->reconcile = stock_reconcile_new(c->reconcile_interval, c->topic);
	const struct stock_http_opts so = { dsn,
					    c->topic,
					    c->webhook_secret,
					    c->base.admin_token,
					    c->base.http_bind,
					    c->base.http_allowed_hosts,
					    app->reconcile,
					    c->webhook_tolerance,
					    (size_t)c->base.http_max_body };
	const struct stock_poller_opts po = {
		dsn,           c->topic,           c->erp_url,    c->erp_token, (double)c->erp_rate, c->poll_interval,
		c->poll_limit, c->inbox_keep_days, app->reconcile
	};
	const struct stock_writer_opts wo = { dsn, c->shops, c->nshops, c->window, c->unknown_recheck, app->reconcile };
	char err[256] = "out of memory";
	app->admin = app->reconcile ? stock_http_new(service_httpd(svc), &so, err, sizeof err) : NULL;
	if (!app->admin)
		log_error("cannot serve the webhook and /admin/...: %s", err);
	app->apply = app->admin
			     ? stock_apply_new(service_consumer(svc), service_dlq(svc), service_db(svc), dsn,
					       (size_t)c->apply_lanes, c->shops, c->nshops, (size_t)c->batch_max, &at)
			     : NULL;
	app->poller = app->apply ? stock_poller_start(&po) : NULL;
	app->writer = app->poller ? stock_writer_start(&wo) : NULL;
	if (!app->writer) {
		stock_stop(app);
		return NULL;
	}
	log_info("started: %zu shop(s), polling the ERP every %lld ms", c->nshops, c->poll_interval);
	return app;
}

static int stock_run_once(void *ud, int timeout_ms)
{
	return stock_apply_run_once(((struct stock_app *)ud)->apply, timeout_ms);
}

static const struct service_def stock_service = {
	.name = SERVICE,
	.schema = STOCK_DB_SCHEMA,
	.config = stock_config_table,
	.config_size = sizeof(struct stock_config),
	.load_more = stock_load_shops,
	.log_more = stock_log_shops,
	.reference_more = shop_config_print_reference,
	.free_more = stock_free_shops,
	.migrate = stock_db_migrate,
	.group_id = stock_group_id,
	.topics = stock_topics,
	.start = stock_start,
	.run_once = stock_run_once,
	.stop = stock_stop,
};

int main(int argc, char **argv)
{
	return service_main(&stock_service, argc, argv);
}
