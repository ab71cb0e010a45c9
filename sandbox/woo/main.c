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
	CONFIG_KEY_END,
};

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct woo_api api = { 0 };
	struct httpd *h = NULL;
	char err[300];
	int rc = sandbox_main_start(SERVICE, config_keys, &cfg, offsetof(struct config, log_level), NULL, argc, argv);
	if (rc >= 0)
		goto out;
	rc = 1;

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
	woo_stats_free(api.stats);
	sandbox_fault_free(api.fault);
	woo_catalog_free(api.catalog);
	config_free(config_keys, &cfg);
	return rc;
}
