/* stock-sync — ERP stock to every shop, reservation-aware. Wiring only; see README.md. */
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "httpd.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"
#include "pg_conninfo.h"
#include "shop_config.h"
#include "shutdown.h"
#include "stock_apply.h"
#include "stock_db.h"
#include "stock_http.h"
#include "stock_poller.h"
#include "stock_reconcile.h"
#include "stock_writer.h"

#define SERVICE "stock-sync"

struct stock_config {
	char *log_level;
	char *pg_dsn;
	char *http_bind;
	long long http_port;
	char *group_id;
	char *topic;
	char *orders_topic;
	char *erp_orders_topic;
	char *returns_topic;
	char *alerts_topic;
	char *erp_url;
	char *erp_token;
	long long erp_rate;
	long long poll_interval;
	long long poll_limit;
	long long window;
	long long reconcile_interval;
	long long unknown_recheck;
	char *webhook_secret;
	long long webhook_tolerance;
	char *admin_token;
	long long inbox_keep_days;
	long long batch_max;
	long long apply_lanes;
	long long close_timeout;
	long long pg_statement_timeout;
	long long pg_tcp_timeout;
};

#define OFF(f) offsetof(struct stock_config, f)
static const struct config_key stock_config_table[] = {
	{ "LOG_LEVEL", CONFIG_ENUM, "info", 0, 0, false, false, OFF(log_level), "debug|info|warn|error",
	  "lowest level logged" },
	{ "PG_DSN", CONFIG_STRING, NULL, 0, 0, true, true, OFF(pg_dsn), NULL,
	  "libpq connection string of the service's PostgreSQL (schema stock_sync)" },
	{ "HTTP_BIND", CONFIG_STRING, "127.0.0.1", 0, 0, false, false, OFF(http_bind), NULL,
	  "address of /healthz, /readyz, /metrics" },
	{ "HTTP_PORT", CONFIG_INT, "19101", 1, 65535, false, false, OFF(http_port), NULL,
	  "port of /healthz, /readyz, /metrics" },
	{ "STOCK_GROUP_ID", CONFIG_STRING, "stock-sync", 0, 0, false, false, OFF(group_id), NULL,
	  "Kafka consumer group" },
	{ "STOCK_TOPIC", CONFIG_STRING, "erp.stock.v1", 0, 0, false, false, OFF(topic), NULL,
	  "topic of stock records (its dead letters go to <topic>.dlq)" },
	{ "STOCK_ORDERS_TOPIC", CONFIG_STRING, "shop.orders.v1", 0, 0, false, false, OFF(orders_topic), NULL,
	  "orders placed in the shops: they hold stock (reservations)" },
	{ "STOCK_ERP_ORDERS_TOPIC", CONFIG_STRING, "erp.orders.v1", 0, 0, false, false, OFF(erp_orders_topic), NULL,
	  "orders booked or cancelled by the ERP: their holds end" },
	{ "STOCK_RETURNS_TOPIC", CONFIG_STRING, "returns.v1", 0, 0, false, false, OFF(returns_topic), NULL,
	  "returns: which restocks to expect" },
	{ "STOCK_ALERTS_TOPIC", CONFIG_STRING, "stock.alerts.v1", 0, 0, false, false, OFF(alerts_topic), NULL,
	  "where oversell alerts are published" },
	{ "ERP_URL", CONFIG_STRING, "http://127.0.0.1:19180", 0, 0, false, false, OFF(erp_url), NULL,
	  "base URL of the ERP's REST stock API" },
	{ "ERP_TOKEN", CONFIG_STRING, NULL, 0, 0, true, true, OFF(erp_token), NULL,
	  "Bearer token of the ERP API" },
	{ "ERP_RATE", CONFIG_INT, "20", 1, 10000, false, false, OFF(erp_rate), NULL,
	  "request budget towards the ERP, requests per second" },
	{ "STOCK_POLL_INTERVAL", CONFIG_DURATION, "5s", 100, 3600000, false, false, OFF(poll_interval), NULL,
	  "how often the ERP is asked for stock changes" },
	{ "STOCK_POLL_LIMIT", CONFIG_INT, "500", 1, 1000, false, false, OFF(poll_limit), NULL,
	  "changes asked for per ERP call" },
	{ "STOCK_COALESCE_WINDOW", CONFIG_DURATION, "200ms", 10, 60000, false, false, OFF(window), NULL,
	  "changes to one SKU within this window become one shop write" },
	{ "STOCK_UNKNOWN_RECHECK", CONFIG_DURATION, "1m", 0, 86400000, false, false, OFF(unknown_recheck), NULL,
	  "a SKU a shop did not know is looked up again after this (at most once per interval)" },
	{ "STOCK_RECONCILE_INTERVAL", CONFIG_DURATION, "1h", 10000, 604800000, false, false,
	  OFF(reconcile_interval), NULL, "how often a full ERP and shop reconciliation runs (also POST /admin/reconcile)" },
	{ "ERP_WEBHOOK_SECRET", CONFIG_STRING, NULL, 0, 0, false, true, OFF(webhook_secret), NULL,
	  "HMAC-SHA256 key of pushed ERP stock changes (POST /webhooks/erp/stock); unset: webhook off" },
	{ "ERP_WEBHOOK_TOLERANCE", CONFIG_DURATION, "5m", 1000, 86400000, false, false, OFF(webhook_tolerance), NULL,
	  "a pushed change whose signed X-ERP-Timestamp is further than this from the host's clock is refused" },
	{ "ADMIN_TOKEN", CONFIG_STRING, NULL, 0, 0, false, true, OFF(admin_token), NULL,
	  "Bearer token required by /admin/...; unset: /admin/... answers only when HTTP_BIND is a loopback address" },
	{ "INBOX_KEEP_DAYS", CONFIG_INT, "14", 1, 3650, false, false, OFF(inbox_keep_days), NULL,
	  "applied event ids are kept this long; keep it longer than the consumed topics' retention" },
	{ "STOCK_BATCH_MAX", CONFIG_INT, "6000", 1, 10000, false, false, OFF(batch_max), NULL,
	  "Kafka records applied per database transaction" },
	{ "STOCK_APPLY_LANES", CONFIG_INT, "3", 1, STOCK_APPLY_LANES_MAX, false, false, OFF(apply_lanes), NULL,
	  "database connections a large batch of stock records is split over (by SKU), applied at the same time" },
	{ "SHUTDOWN_TIMEOUT", CONFIG_DURATION, "10s", 100, 120000, false, false, OFF(close_timeout), NULL,
	  "bound on the whole stop after SIGTERM: calls to shops, the ERP and PostgreSQL in flight get half of it,"
	  " committing offsets and flushing producers the rest" },
	{ "PG_STATEMENT_TIMEOUT", CONFIG_DURATION, "30s", 0, 3600000, false, false, OFF(pg_statement_timeout), NULL,
	  "statement_timeout of every PostgreSQL session (unless PG_DSN sets one); 0: none" },
	{ "PG_TCP_TIMEOUT", CONFIG_DURATION, "30s", 0, 600000, false, false, OFF(pg_tcp_timeout), NULL,
	  "a PostgreSQL connection whose peer is silent this long is dropped (TCP keepalives, tcp_user_timeout;"
	  " unless PG_DSN sets them); with PG_STATEMENT_TIMEOUT, a statement unanswered for both is given up; 0: system defaults" },
	CONFIG_KEY_END,
};

struct stock_ready {
	const char *dsn;
	struct kafka_consumer *consumer;
	atomic_int migrated;
};

static bool stock_ready(void *ud, char *reason, size_t len)
{
	struct stock_ready *r = ud;
	if (!pg_reachable(r->dsn, 2)) {
		snprintf(reason, len, "PostgreSQL unreachable");
		return false;
	}
	if (!r->migrated) {
		snprintf(reason, len, "database migrations not applied yet");
		return false;
	}
	if (!kafka_reachable(kafka_consumer_handle(r->consumer), 2000)) {
		snprintf(reason, len, "Kafka unreachable");
		return false;
	}
	if (!kafka_consumer_joined(r->consumer)) {
		snprintf(reason, len, "not yet a member of its Kafka consumer group");
		return false;
	}
	return true;
}

/* Waits for PostgreSQL and applies the migrations; false only when shutdown came first. */
static bool stock_prepare_db(struct pg *db)
{
	char err[512];
	long delay = 200;
	while (!shutdown_requested()) {
		if (pg_ensure(db, err, sizeof err) && stock_db_migrate(db, err, sizeof err))
			return true;
		log_warn("database not ready, retrying in %ld ms: %s", delay, err);
		shutdown_sleep_ms(delay);
		delay = delay < 5000 ? delay * 2 : 5000;
	}
	return false;
}

static int stock_run(const struct stock_config *cfg, const struct shop_config *shops, size_t nshops)
{
	char err[512] = "out of memory";
	int rc = 1;
	const char *const topics[] = { cfg->topic, cfg->orders_topic, cfg->erp_orders_topic, cfg->returns_topic };
	const struct stock_apply_topics at = { cfg->topic, cfg->orders_topic, cfg->erp_orders_topic,
					       cfg->returns_topic, cfg->alerts_topic };
	struct pg *db = pg_new(cfg->pg_dsn, STOCK_DB_SCHEMA);
	struct kafka_producer *dlq = kafka_producer_new(SERVICE, err, sizeof err);
	struct kafka_consumer *consumer = dlq ? kafka_consumer_new(SERVICE, cfg->group_id, topics, 4, err, sizeof err) : NULL;
	struct stock_ready ready = { cfg->pg_dsn, consumer, 0 };
	/* a pushed batch of 10,000 records is about 1.4 MB */
	struct httpd_opts ho = { .bind = cfg->http_bind, .port = (int)cfg->http_port, .builtin_routes = true,
				 .max_body = 8u << 20,
				 .ready = stock_ready, .ready_ud = &ready };
	struct httpd *http = NULL;
	struct stock_apply *apply = NULL;
	struct stock_poller *poller = NULL;
	struct stock_writer *writer = NULL;
	struct stock_reconcile *reconcile = stock_reconcile_new(cfg->reconcile_interval, cfg->topic);
	struct stock_http *admin = NULL;

	if (!db || !dlq || !consumer || !reconcile) {
		log_error("cannot start: %s", err);
		goto out;
	}
	http = httpd_new(&ho, err, sizeof err);
	if (!http) {
		log_error("cannot serve HTTP: %s", err);
		goto out;
	}
	log_info("serving /healthz /readyz /metrics on %s:%d", cfg->http_bind, httpd_port(http));
	if (!stock_prepare_db(db)) {
		rc = 0;
		goto out;
	}
	ready.migrated = 1;
	struct stock_poller_opts po = { cfg->pg_dsn, cfg->topic, cfg->erp_url, cfg->erp_token,
					(double)cfg->erp_rate, cfg->poll_interval, cfg->poll_limit,
					cfg->inbox_keep_days, reconcile };
	struct stock_writer_opts wo = { cfg->pg_dsn, shops, nshops, cfg->window, cfg->unknown_recheck, reconcile };
	bool loopback = strcmp(cfg->http_bind, "127.0.0.1") == 0 || strcmp(cfg->http_bind, "::1") == 0 ||
			strcmp(cfg->http_bind, "localhost") == 0;
	struct stock_http_opts so = { cfg->pg_dsn, cfg->topic, cfg->webhook_secret, cfg->admin_token, loopback,
				      reconcile, cfg->webhook_tolerance };
	admin = stock_http_new(http, &so);
	if (!admin)
		goto out;
	apply = stock_apply_new(consumer, dlq, db, cfg->pg_dsn, (size_t)cfg->apply_lanes, shops, nshops,
				(size_t)cfg->batch_max, &at);
	poller = apply ? stock_poller_start(&po) : NULL;
	writer = poller ? stock_writer_start(&wo) : NULL;
	if (!writer)
		goto out;
	log_info("started: %zu shop(s), polling the ERP every %lld ms", nshops, cfg->poll_interval);
	while (!shutdown_requested()) {
		char fatal[256];
		if (stock_apply_run_once(apply, 100) < 0)
			shutdown_sleep_ms(500);
		/* the DLQ producer's statistics and errors are served here, not left to pile up */
		kafka_producer_poll(dlq, 0);
		if (kafka_producer_fatal(dlq, fatal, sizeof fatal)) {
			log_error("producer fatal error: %s", fatal);
			shutdown_request();
			goto out;
		}
	}
	rc = 0;
out:
	shutdown_request();
	log_info("stopping");
	stock_writer_stop(writer);
	stock_poller_stop(poller);
	stock_apply_free(apply);
	httpd_free(http);     /* first: readiness probes use the consumer's handle */
	stock_http_free(admin);
	stock_reconcile_free(reconcile);
	/* what is left of the one bound of the stop (shutdown.h) */
	long left = shutdown_left_ms();
	kafka_consumer_close(consumer, left < cfg->close_timeout ? (int)left : (int)cfg->close_timeout);
	kafka_producer_free(dlq);
	pg_free(db);
	log_info("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	struct stock_config cfg;
	struct shop_config *shops = NULL;
	size_t nshops = 0;
	enum log_level level = LOG_INFO;

	if (argc > 1 && strcmp(argv[1], "--config-reference") == 0) {
		config_print_reference(stock_config_table, SERVICE);
		printf("\n");
		shop_config_print_reference();
		return 0;
	}
	/* glibc gives each thread that allocates its own malloc arena, and freed memory stays in them:
	 * with the writer's per-shop threads and librdkafka's that was ~3 MB of resident memory for
	 * nothing (docs/benchmarks.md). Two arenas; MALLOC_ARENA_MAX still decides when set. */
	if (!getenv("MALLOC_ARENA_MAX"))
		(void)mallopt(M_ARENA_MAX, 2);
	memset(&cfg, 0, sizeof cfg);
	log_init(SERVICE, LOG_INFO);
	/* every loader runs before giving up, so one start lists every problem */
	bool ok = config_load(stock_config_table, &cfg);
	ok = config_kafka_check() && ok;
	ok = shop_config_load(&shops, &nshops) && ok;
	if (!ok) {
		log_error("configuration invalid; not starting");
		config_free(stock_config_table, &cfg);
		return 2;
	}
	if (log_level_parse(cfg.log_level, &level))
		log_init(SERVICE, level);
	config_log(stock_config_table, &cfg);
	shop_config_log(shops, nshops);
	shutdown_install();
	shutdown_set_timeout((long)cfg.close_timeout);
	pg_conninfo_configure(&(struct pg_settings){ cfg.pg_statement_timeout, cfg.pg_tcp_timeout });
	int rc = stock_run(&cfg, shops, nshops);
	shop_config_free(shops, nshops);
	config_free(stock_config_table, &cfg);
	return rc;
}
