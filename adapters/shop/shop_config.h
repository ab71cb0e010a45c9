/* shop_config — the shops an operator connects, from the environment:
 *
 *   ERPSYNC_SHOPS=shop-a,shop-b          ids: [a-z0-9-], at most SHOP_CONFIG_MAX
 *   SHOP_<ID>_KIND=woocommerce           (<ID>: the id upper-cased, '-' -> '_')
 *   SHOP_<ID>_URL, SHOP_<ID>_KEY, SHOP_<ID>_SECRET (secret)
 *   SHOP_<ID>_WAREHOUSES=WH-MAIN,WH-SOUTH  ERP warehouses whose stock this shop sells
 *   SHOP_<ID>_BUFFER=2                   safety buffer in units, kept back from the shop
 *   SHOP_<ID>_RATE=10                    request budget of the credential, per second
 *
 * Each shop's keys go through the same table-driven validation as every other setting. */
#ifndef ERPSYNC_SHOP_CONFIG_H
#define ERPSYNC_SHOP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "shop.h"

#define SHOP_CONFIG_MAX            16
#define SHOP_CONFIG_MAX_WAREHOUSES 16

struct shop_config {
	char *id;
	char *kind;
	char *url;
	char *key;
	char *secret;
	char *warehouses_csv;
	long long buffer;
	long long rate;
	/* derived */
	char *warehouses[SHOP_CONFIG_MAX_WAREHOUSES];
	size_t nwarehouses;
};

/* Reads ERPSYNC_SHOPS and each shop's keys, logging every problem; false if any. */
bool shop_config_load(struct shop_config **out, size_t *n) __attribute__((warn_unused_result));
void shop_config_free(struct shop_config *shops, size_t n);
/* Logs the shops (secrets as ***), warning about any whose credentials would go in clear. */
void shop_config_log(const struct shop_config *shops, size_t n);
/* Whether url is plain http:// to a host other than this machine (localhost, 127.0.0.0/8, [::1]). */
bool shop_config_cleartext_remote(const char *url);
bool shop_config_has_warehouse(const struct shop_config *s, const char *warehouse);
/* The adapter of the shop's kind (shop_registry.c); NULL with err when there is none. */
struct shop *shop_config_connect(const struct shop_config *s, char *err, size_t errlen);
/* The shop's status slug for an ERP order status (SHOP_<ID>_STATUS_MAP); NULL: left as it is. */
const char *shop_config_status_for(const struct shop_config *s, const char *erp_status);
/* Markdown reference of the per-shop keys. */
void shop_config_print_reference(void);

#endif
