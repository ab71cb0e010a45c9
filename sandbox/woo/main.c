/* sandbox-woo: a WooCommerce REST v3 shop (products, variations, stock) in memory, for
 * `make run` and the integration tests; several run at once as different shops. Wiring only;
 * README.md in this folder documents the endpoints. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "httpd.h"
#include "log.h"
#include "sandbox_fault.h"
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
};

static const struct config_key config_keys[] = {
	{ "SANDBOX_WOO_BIND", CONFIG_STRING, "127.0.0.1", 0, 0, false, false,
	  offsetof(struct config, bind), NULL, "address to listen on" },
	{ "SANDBOX_WOO_CONSUMER_KEY", CONFIG_STRING, "ck_dev", 0, 0, false, false,
	  offsetof(struct config, consumer_key), NULL, "REST API consumer key" },
	{ "SANDBOX_WOO_CONSUMER_SECRET", CONFIG_STRING, "cs_dev", 0, 0, false, true,
	  offsetof(struct config, consumer_secret), NULL, "REST API consumer secret" },
	{ "SANDBOX_WOO_DEMO", CONFIG_INT, "0", 0, 1000000, false, false,
	  offsetof(struct config, demo), NULL,
	  "demo SKUs SKU-000001.. created at start, ids 1001 upward" },
	{ "SANDBOX_WOO_LOG_LEVEL", CONFIG_ENUM, "info", 0, 0, false, false,
	  offsetof(struct config, log_level), "debug|info|warn|error", "lowest level logged" },
	{ "SANDBOX_WOO_PORT", CONFIG_INT, "19181", 1, 65535, false, false,
	  offsetof(struct config, port), NULL, "TCP port of the shop" },
	{ "SANDBOX_WOO_SHOP_NAME", CONFIG_STRING, "sandbox-shop", 0, 0, false, false,
	  offsetof(struct config, shop_name), NULL, "label of this shop in logs and /sandbox/stats" },
	{ "SANDBOX_WOO_SKIP_SKUS", CONFIG_STRING, NULL, 0, 0, false, false,
	  offsetof(struct config, skip_skus), NULL,
	  "comma-separated demo SKUs this shop does not have" },
	{ "SANDBOX_WOO_THREADS", CONFIG_INT, "8", 1, 256, false, false,
	  offsetof(struct config, threads), NULL,
	  "server threads (the slow fault holds one per delayed call)" },
	{ "SANDBOX_WOO_VARIABLE_EVERY", CONFIG_INT, "0", 0, 1000000, false, false,
	  offsetof(struct config, variable_every), NULL,
	  "every Nth demo SKU is a variation of a variable product; 0: none" },
	{ "SANDBOX_WOO_VARIATIONS_PER_PARENT", CONFIG_INT, "3", 1, 100, false, false,
	  offsetof(struct config, per_parent), NULL, "demo variations per variable product" },
	CONFIG_KEY_END,
};

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct woo_api api = { 0 };
	struct httpd *h = NULL;
	char err[300];
	enum log_level level = LOG_INFO;
	int rc = 1;

	if (argc > 1 && strcmp(argv[1], "--config-reference") == 0) {
		config_print_reference(config_keys, SERVICE);
		return 0;
	}
	log_init(SERVICE, LOG_INFO);
	if (!config_load(config_keys, &cfg)) {
		rc = 2;
		goto out;
	}
	(void)log_level_parse(cfg.log_level, &level);
	log_init(SERVICE, level);
	config_log(config_keys, &cfg);
	shutdown_install();

	api.catalog = woo_catalog_new();
	api.fault = sandbox_fault_new(&woo_api_faults);
	api.stats = woo_stats_new();
	api.consumer_key = cfg.consumer_key;
	api.consumer_secret = cfg.consumer_secret;
	api.shop_name = cfg.shop_name;
	api.demo = (struct woo_demo_opts){ cfg.demo, cfg.variable_every, cfg.per_parent, cfg.skip_skus };
	if (!api.catalog || !api.fault || !api.stats) {
		log_error("out of memory");
		goto out;
	}
	if (!woo_demo_load(api.catalog, &api.demo, err, sizeof err)) {
		log_error("%s", err);
		goto out;
	}
	struct httpd_opts o = { .bind = cfg.bind, .port = (int)cfg.port, .max_body = MAX_BODY,
				.threads = (unsigned)cfg.threads, .builtin_routes = true };
	h = httpd_new(&o, err, sizeof err);
	if (!h || !woo_api_routes(&api, h)) {
		log_error("cannot serve on %s:%lld: %s", cfg.bind, cfg.port, h ? "route table full" : err);
		goto out;
	}
	log_info("shop %s serving on %s:%d with %zu products and variations", cfg.shop_name, cfg.bind,
		 httpd_port(h), woo_catalog_count(api.catalog));
	while (!shutdown_requested())
		shutdown_sleep_ms(1000);
	log_info("shop %s stopping", cfg.shop_name);
	rc = 0;
out:
	httpd_free(h);   /* first: no handler may run past this point */
	woo_stats_free(api.stats);
	sandbox_fault_free(api.fault);
	woo_catalog_free(api.catalog);
	config_free(config_keys, &cfg);
	return rc;
}
