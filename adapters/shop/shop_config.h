/* shop_config — the shops an operator connects, from the environment:
 *
 *   ERPSYNC_SHOPS=shop-a,shop-b          ids: [a-z0-9-], at most SHOP_CONFIG_MAX
 *   SHOP_<ID>_KIND=woocommerce           (<ID>: the id upper-cased, '-' -> '_')
 *   SHOP_<ID>_URL, SHOP_<ID>_KEY, SHOP_<ID>_SECRET (secret)
 *   SHOP_<ID>_WAREHOUSES=WH-MAIN,WH-SOUTH  ERP warehouses whose stock this shop sells
 *   SHOP_<ID>_BUFFER=2                   safety buffer in units, kept back from the shop
 *   SHOP_<ID>_RATE=10                    request budget of the credential, per second
 *   SHOP_<ID>_WEBHOOK_SECRET (secret)    key the shop signs its order webhooks with
 *   SHOP_<ID>_NIP_META_KEY=_billing_nip, SHOP_<ID>_LOCKER_META_KEY=_paczkomat_id
 *   SHOP_<ID>_TAX_CLASSES=reduced-rate=8,zero-rate=0   (empty: the Polish defaults)
 *   SHOP_<ID>_SHIPPING_TAX_CLASS=        the tax class delivery is charged in ("" = standard)
 *   SHOP_<ID>_STATUS_MAP=confirmed=processing,...      ERP order status -> the shop's status
 *   SHOP_<ID>_CURRENCY=PLN, SHOP_<ID>_PRICE_LIST=, SHOP_<ID>_ERP_FIELDS=price,sale,...,
 *   SHOP_<ID>_SALE_DATES=native|erpsync, SHOP_<ID>_LOWEST_PRICE_META=...   (pricing)
 *
 * Each shop's keys go through the same table-driven validation as every other setting. */
#ifndef ERPSYNC_SHOP_CONFIG_H
#define ERPSYNC_SHOP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "shop.h"

#define SHOP_CONFIG_MAX            16
#define SHOP_CONFIG_MAX_WAREHOUSES 16
#define SHOP_CONFIG_STATUS_MAX     32 /* pairs of a status map */
#define SHOP_CONFIG_STATUS_LEN     32 /* bytes of a status name */
#define SHOP_CONFIG_ERP_FIELDS_DEFAULT                                                                         \
	"price,sale,lowest_price,name,description,short_description,attributes,categories,images,gtin,weight," \
	"dimensions,status"
#define SHOP_CONFIG_STATUS_MAP_DEFAULT \
	"confirmed=processing,ready_to_ship=processing,shipped=processing,completed=completed,cancelled=cancelled"

/* One pair of SHOP_<ID>_STATUS_MAP: the ERP's status word and the shop's status slug. */
struct shop_config_status {
	char erp[SHOP_CONFIG_STATUS_LEN + 1];
	char shop[SHOP_CONFIG_STATUS_LEN + 1];
};

struct shop_config {
	char *id;
	char *kind;
	char *url;
	char *key;
	char *secret;
	char *warehouses_csv;
	long long buffer;
	long long rate;
	char *webhook_secret; /* NULL when not set */
	char *nip_meta_key;
	char *locker_meta_key;
	char *tax_classes; /* NULL when not set */
	char *shipping_tax_class;
	char *status_map_text;
	/* pricing */
	char *currency;
	char *price_list;
	char *erp_fields_text;
	char *sale_dates; /* "native" or "erpsync" */
	char *lowest_price_meta;
	/* derived */
	unsigned erp_fields; /* enum shop_field bits (shop_catalog.h) */
	char *warehouses[SHOP_CONFIG_MAX_WAREHOUSES];
	size_t nwarehouses;
	struct shop_config_status status_map[SHOP_CONFIG_STATUS_MAX];
	size_t nstatus_map;
};

/* Reads ERPSYNC_SHOPS and each shop's keys, logging every problem; false if any. */
/* What a service needs of every shop: stock-sync its warehouses, order-sync its webhook secret. */
#define SHOP_CONFIG_STOCK   1u
#define SHOP_CONFIG_ORDERS  2u
#define SHOP_CONFIG_PRICING 4u
bool shop_config_load(struct shop_config **out, size_t *n, unsigned needs) __attribute__((warn_unused_result));
void shop_config_free(struct shop_config *shops, size_t n);
/* Logs the shops (secrets as ***), warning about any whose credentials would go in clear. */
void shop_config_log(const struct shop_config *shops, size_t n);
/* Whether url is plain http:// to a host other than this machine (localhost, 127.0.0.0/8, [::1]). */
bool shop_config_cleartext_remote(const char *url);
bool shop_config_has_warehouse(const struct shop_config *s, const char *warehouse);
/* "erp=shop,..." into out[] (at most SHOP_CONFIG_STATUS_MAX): each name 1..SHOP_CONFIG_STATUS_LEN of
 * [a-z0-9_-], an ERP status at most once. false with err naming the entry. */
bool shop_config_status_map_parse(const char *text, struct shop_config_status *out, size_t *n, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* "price,sale,..." (SHOP_<ID>_ERP_FIELDS) into enum shop_field bits; false with err naming an
 * unknown field. "" is no field at all. */
bool shop_config_erp_fields_parse(const char *text, unsigned *bits, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* The shop's status for an ERP order status; NULL when the map has none (leave the shop's as it is). */
const char *shop_config_status_for(const struct shop_config *s, const char *erp_status);
/* The adapter of the shop's kind (shop_registry.c); NULL with err when there is none. */
struct shop *shop_config_connect(const struct shop_config *s, char *err, size_t errlen);
/* Markdown reference of the per-shop keys. */
void shop_config_print_reference(void);

#endif
