/* sandbox-erp: an ERP's stock and order API (REST, JSON) in memory, for `make run` and the
 * integration tests. Wiring only; README.md in this folder documents the endpoints. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "erp_api.h"
#include "erp_docs.h"
#include "erp_seed.h"
#include "erp_store.h"
#include "erp_webhook.h"
#include "httpd.h"
#include "log.h"
#include "sandbox_fault.h"
#include "sandbox_main.h"
#include "shutdown.h"

#define SERVICE "sandbox-erp"
/* a bulk POST /sandbox/stock of 100k records is ~8 MB */
#define MAX_BODY (64u << 20)

struct config {
	long long port;
	char *bind;
	char *token;
	long long demo;
	char *seed_file;
	long long threads;
	char *log_level;
	char *webhook_url;
	char *order_webhook_url;
	char *webhook_secret;
	long long webhook_queue;
	long long version_base;
};

#define CONFIG_TARGET struct config
static const struct config_key config_keys[] = {
	CONFIG_STR("SANDBOX_ERP_BIND", "127.0.0.1", CONFIG_OPTIONAL, bind, "address to listen on"),
	CONFIG_INT("SANDBOX_ERP_DEMO", "0", 0, 1000000, demo,
		   "demo SKUs SKU-000001.. created at start, each in WH-MAIN and WH-SOUTH"),
	CONFIG_ONE_OF("SANDBOX_ERP_LOG_LEVEL", "info", "debug|info|warn|error", log_level, "lowest level logged"),
	CONFIG_URL_("SANDBOX_ERP_ORDER_WEBHOOK_URL", NULL, CONFIG_OPTIONAL, order_webhook_url,
		    "every order status change and complaint decision is also POSTed here, signed with "
		    "SANDBOX_ERP_WEBHOOK_SECRET; unset: no push"),
	CONFIG_INT("SANDBOX_ERP_PORT", "19180", 1, 65535, port, "TCP port of the API"),
	CONFIG_STR("SANDBOX_ERP_SEED_FILE", NULL, CONFIG_OPTIONAL, seed_file,
		   "JSON file of stock records loaded at start and on reset ({\"items\":[...]})"),
	CONFIG_INT("SANDBOX_ERP_THREADS", "8", 1, 256, threads,
		   "server threads (the slow fault holds one per delayed call)"),
	CONFIG_STR("SANDBOX_ERP_TOKEN", "erp-dev-token", CONFIG_SECRET, token, "Bearer token every call must carry"),
	CONFIG_INT(
		"SANDBOX_ERP_VERSION_BASE", "0", 0, INT64_MAX - 1, version_base,
		"new records start at version base + 1 (e.g. 1700000000000: versions as large as epoch milliseconds)"),
	CONFIG_INT("SANDBOX_ERP_WEBHOOK_QUEUE", "10000", 1, 1000000, webhook_queue,
		   "stock changes held for the webhook; when full the oldest is dropped (counted)"),
	CONFIG_STR("SANDBOX_ERP_WEBHOOK_SECRET", NULL, CONFIG_SECRET, webhook_secret,
		   "HMAC-SHA256 key of X-ERP-Signature; required with either webhook URL"),
	CONFIG_URL_("SANDBOX_ERP_WEBHOOK_URL", NULL, CONFIG_OPTIONAL, webhook_url,
		    "every stock change is also POSTed here, one signed JSON record a call; unset: no push"),
	CONFIG_KEY_END,
};

/* The webhook's settings go together. */
static bool erp_config_check(const void *c)
{
	const struct config *cfg = c;
	bool ok = true;
	const char *names[] = { "SANDBOX_ERP_WEBHOOK_URL", "SANDBOX_ERP_ORDER_WEBHOOK_URL" };
	const char *urls[] = { cfg->webhook_url, cfg->order_webhook_url };
	for (int i = 0; i < 2; i++) {
		bool push = urls[i] && *urls[i];
		if (push && (!cfg->webhook_secret || !*cfg->webhook_secret)) {
			log_error("SANDBOX_ERP_WEBHOOK_SECRET is required with %s", names[i]);
			ok = false;
		}
		if (push && strncmp(urls[i], "http://", 7) != 0 && strncmp(urls[i], "https://", 8) != 0) {
			log_error("%s must start with http:// or https://", names[i]);
			ok = false;
		}
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct erp_api api = { 0 };
	struct httpd *h = NULL;
	char err[300];
	int rc = sandbox_main_start(SERVICE, config_keys, &cfg, offsetof(struct config, log_level), erp_config_check,
				    argc, argv);
	if (rc >= 0)
		goto out;
	rc = 1;
	bool push = cfg.webhook_url && *cfg.webhook_url;

	api.store = erp_store_new();
	api.docs = erp_docs_new();
	api.fault = sandbox_fault_new(&erp_api_faults);
	api.token = cfg.token;
	api.demo = cfg.demo;
	api.seed_file = cfg.seed_file;
	if (!api.store || !api.docs || !api.fault) {
		log_error("out of memory");
		goto out;
	}
	sandbox_fault_writes_only(api.fault, erp_api_write_faults);
	erp_store_version_base(api.store, cfg.version_base);
	if (push) {
		/* before the catalogue is loaded: the demo and seed records are changes, pushed too */
		struct erp_webhook_opts po = { cfg.webhook_url, cfg.webhook_secret, (size_t)cfg.webhook_queue };
		api.push = erp_webhook_start(&po, err, sizeof err);
		if (!api.push) {
			log_error("webhook: %s", err);
			rc = 2;
			goto out;
		}
		erp_store_listen(api.store, erp_webhook_record, api.push);
		log_info("webhook on: every stock change is POSTed, signed, to the configured URL (queue %lld)",
			 cfg.webhook_queue);
	}
	if (cfg.order_webhook_url && *cfg.order_webhook_url) {
		struct erp_webhook_opts po = { cfg.order_webhook_url, cfg.webhook_secret, (size_t)cfg.webhook_queue };
		api.order_push = erp_webhook_start(&po, err, sizeof err);
		if (!api.order_push) {
			log_error("order webhook: %s", err);
			rc = 2;
			goto out;
		}
		erp_docs_listen(api.docs, erp_webhook_change, api.order_push);
		log_info("order webhook on: every order status change and complaint decision is POSTed, signed");
	}
	if (!erp_seed_load(api.store, cfg.demo, cfg.seed_file, err, sizeof err)) {
		log_error("%s", err);
		rc = 2;
		goto out;
	}
	struct httpd_opts o = { .bind = cfg.bind,
				.port = (int)cfg.port,
				.max_body = MAX_BODY,
				.threads = (unsigned)cfg.threads,
				.builtin_routes = true };
	h = httpd_new(&o, err, sizeof err);
	if (!h || !erp_api_routes(&api, h)) {
		log_error("cannot serve on %s:%lld: %s", cfg.bind, cfg.port, h ? "route table full" : err);
		goto out;
	}
	log_info("serving on %s:%d with %zu stock records, change feed %s", cfg.bind, httpd_port(h),
		 erp_store_count(api.store), erp_store_feed_id(api.store));
	sandbox_main_wait();
	log_info("stopping");
	rc = 0;
out:
	httpd_free(h); /* first: no handler may run past this point */
	if (api.store)
		erp_store_listen(api.store, NULL, NULL);
	if (api.docs)
		erp_docs_listen(api.docs, NULL, NULL);
	erp_webhook_stop(api.push);
	erp_webhook_stop(api.order_push);
	erp_docs_free(api.docs);
	sandbox_fault_free(api.fault);
	erp_store_free(api.store);
	config_free(config_keys, &cfg);
	return rc;
}
