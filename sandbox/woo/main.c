/* sandbox-woo: a WooCommerce REST v3 shop (products, variations, stock, orders, webhooks) in memory, for
 * `make run` and the integration tests; several run at once as different shops. Wiring only;
 * README.md in this folder documents the endpoints. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "httpd.h"
#include "log.h"
#include "sandbox_fault.h"
#include "sandbox_main.h"
#include "shutdown.h"
#include "woo_api.h"
#include "woo_catalog.h"
#include "woo_demo.h"
#include "woo_stats.h"

#define SERVICE "sandbox-woo"
/* POST /sandbox/products with a large catalogue */
#define MAX_BODY (64u << 20)

struct config {
	long long port;
	char *bind;
	char *consumer_key;
	char *consumer_secret;
	char *shop_name;
	long long demo;
	long long variable_every;
	long long per_parent;
	char *skip_skus;
	long long threads;
	char *log_level;
	char *webhook;
	long long hook_attempts;
	long long hook_backoff;
	long long hook_queue;
	long long hook_threads;
	long long hook_timeout;
};

#define CONFIG_TARGET struct config
static const struct config_key config_keys[] = {
	CONFIG_STR("SANDBOX_WOO_BIND", "127.0.0.1", CONFIG_OPTIONAL, bind, "address to listen on"),
	CONFIG_STR("SANDBOX_WOO_CONSUMER_KEY", "ck_dev", CONFIG_OPTIONAL, consumer_key, "REST API consumer key"),
	CONFIG_STR("SANDBOX_WOO_CONSUMER_SECRET", "cs_dev", CONFIG_SECRET, consumer_secret, "REST API consumer secret"),
	CONFIG_INT("SANDBOX_WOO_DEMO", "0", 0, 1000000, demo,
		   "demo SKUs SKU-000001.. created at start, ids 1001 upward"),
	CONFIG_ONE_OF("SANDBOX_WOO_LOG_LEVEL", "info", "debug|info|warn|error", log_level, "lowest level logged"),
	CONFIG_INT("SANDBOX_WOO_PORT", "19181", 1, 65535, port, "TCP port of the shop"),
	CONFIG_STR("SANDBOX_WOO_SHOP_NAME", "sandbox-shop", CONFIG_OPTIONAL, shop_name,
		   "label of this shop in logs and /sandbox/stats"),
	CONFIG_STR("SANDBOX_WOO_SKIP_SKUS", NULL, CONFIG_OPTIONAL, skip_skus,
		   "comma-separated demo SKUs this shop does not have"),
	CONFIG_INT("SANDBOX_WOO_THREADS", "8", 1, 256, threads,
		   "server threads (the slow fault holds one per delayed call)"),
	CONFIG_INT("SANDBOX_WOO_VARIABLE_EVERY", "0", 0, 1000000, variable_every,
		   "every Nth demo SKU is a variation of a variable product; 0: none"),
	CONFIG_INT("SANDBOX_WOO_VARIATIONS_PER_PARENT", "3", 1, 100, per_parent,
		   "demo variations per variable product"),
	CONFIG_STR("SANDBOX_WOO_WEBHOOK", NULL, CONFIG_OPTIONAL | CONFIG_SECRET, webhook,
		   "URL,secret: order.created/updated/deleted webhooks made at start (also --webhook URL,secret)"),
	CONFIG_INT("SANDBOX_WOO_WEBHOOK_ATTEMPTS", "5", 1, 100, hook_attempts,
		   "tries of one webhook delivery, the first included"),
	CONFIG_DUR("SANDBOX_WOO_WEBHOOK_BACKOFF", "500ms", 0, 30000, hook_backoff,
		   "wait before a delivery's second try, doubling after each (at most 30 s)"),
	CONFIG_INT("SANDBOX_WOO_WEBHOOK_QUEUE", "100000", 1, 10000000, hook_queue,
		   "deliveries waiting at most; past it the oldest is dropped"),
	CONFIG_INT("SANDBOX_WOO_WEBHOOK_THREADS", "2", 1, 16, hook_threads, "threads delivering webhooks"),
	CONFIG_DUR("SANDBOX_WOO_WEBHOOK_TIMEOUT", "5s", 1, 600000, hook_timeout, "time one delivery try may take"),
	CONFIG_KEY_END,
};

/* --webhook URL,secret (or SANDBOX_WOO_WEBHOOK): one webhook per order topic, as an operator would
 * add them in WooCommerce's settings. */
static bool woo_main_webhooks(struct woo_webhook *hooks, const char *spec, char *err, size_t errlen)
{
	static const char *const topics[] = { "order.created", "order.updated", "order.deleted" };
	const char *comma = spec ? strchr(spec, ',') : NULL;
	if (!comma || !comma[1]) {
		snprintf(err, errlen, "--webhook wants URL,secret");
		return false;
	}
	char url[2048];
	snprintf(url, sizeof url, "%.*s", (int)(comma - spec), spec);
	for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
		struct woo_error e;
		json_t *body = json_pack("{s:s,s:s,s:s,s:s}", "name", topics[i], "topic", topics[i], "delivery_url",
					 url, "secret", comma + 1);
		json_t *h = body ? woo_webhook_create(hooks, body, &e) : NULL;
		if (!body)
			woo_error_set(&e, 500, "internal_server_error", "out of memory");
		json_decref(body);
		if (!h) {
			snprintf(err, errlen, "--webhook: %s", e.message);
			return false;
		}
		json_decref(h);
	}
	return true;
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct woo_api api = { 0 };
	struct httpd *h = NULL;
	char err[300], source[300];
	const char *webhook = NULL;
	int rc = sandbox_main_start(SERVICE, config_keys, &cfg, offsetof(struct config, log_level), NULL, argc, argv);
	if (rc >= 0)
		goto out;
	rc = 1;

	api.catalog = woo_catalog_new();
	api.fault = sandbox_fault_new(&woo_api_faults);
	api.stats = woo_stats_new();
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--webhook") == 0)
			webhook = argv[i + 1];
	api.consumer_key = cfg.consumer_key;
	api.consumer_secret = cfg.consumer_secret;
	api.shop_name = cfg.shop_name;
	api.demo = (struct woo_demo_opts){ cfg.demo, cfg.variable_every, cfg.per_parent, cfg.skip_skus };
	snprintf(source, sizeof source, "http://%s:%lld/", cfg.bind, cfg.port);
	struct woo_webhook_opts wo = { source,
				       (size_t)cfg.hook_queue,
				       (unsigned)cfg.hook_attempts,
				       (long)cfg.hook_backoff,
				       (long)cfg.hook_timeout,
				       (unsigned)cfg.hook_threads };
	api.hooks = woo_webhook_start(&wo, err, sizeof err);
	api.orders = api.hooks ? woo_order_store_new(woo_webhook_event, api.hooks) : NULL;
	if (!webhook)
		webhook = cfg.webhook;
	if (api.hooks && webhook && !woo_main_webhooks(api.hooks, webhook, err, sizeof err)) {
		log_error("%s", err);
		rc = 2;
		goto out;
	}
	if (!api.catalog || !api.fault || !api.stats || !api.orders) {
		log_error("out of memory");
		goto out;
	}
	if (!woo_demo_load(api.catalog, &api.demo, err, sizeof err)) {
		log_error("%s", err);
		goto out;
	}
	struct httpd_opts o = { .bind = cfg.bind,
				.port = (int)cfg.port,
				.max_body = MAX_BODY,
				.threads = (unsigned)cfg.threads,
				.builtin_routes = true };
	h = httpd_new(&o, err, sizeof err);
	if (!h || !woo_api_routes(&api, h)) {
		log_error("cannot serve on %s:%lld: %s", cfg.bind, cfg.port, h ? "route table full" : err);
		goto out;
	}
	log_info("shop %s serving on %s:%d with %zu products and variations", cfg.shop_name, cfg.bind, httpd_port(h),
		 woo_catalog_count(api.catalog));
	sandbox_main_wait();
	log_info("shop %s stopping", cfg.shop_name);
	rc = 0;
out:
	httpd_free(h); /* first: no handler may run past this point */
	woo_order_store_free(api.orders);
	woo_webhook_stop(api.hooks);
	woo_stats_free(api.stats);
	sandbox_fault_free(api.fault);
	woo_catalog_free(api.catalog);
	config_free(config_keys, &cfg);
	return rc;
}
