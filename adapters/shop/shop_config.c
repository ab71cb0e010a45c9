#include "shop_config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "shop_catalog.h"
#include "shop_woo_orders.h"

struct shop_config_field {
	const char *suffix;
	struct config_key key; /* env filled in per shop */
};

#define CONFIG_TARGET struct shop_config
static const struct shop_config_field shop_config_fields[] = {
	{ "BUFFER",
	  CONFIG_INT(NULL, "0", 0, 1000000, buffer, "safety buffer in units kept back from the shop's stock") },
	{ "CURRENCY", CONFIG_STR(NULL, "PLN", CONFIG_OPTIONAL, currency,
				 "ISO 4217 currency the shop sells in: pricing writes only prices of this currency "
				 "(never converted)") },
	{ "ERP_FIELDS",
	  CONFIG_STR(NULL, SHOP_CONFIG_ERP_FIELDS_DEFAULT, CONFIG_OPTIONAL, erp_fields_text,
		     "product fields the ERP owns in this shop, comma-separated (" SHOP_CONFIG_ERP_FIELDS_DEFAULT
		     "); pricing never writes the others: the shop team owns them") },
	{ "KEY", CONFIG_STR(NULL, NULL, CONFIG_REQUIRED, key, "API consumer key") },
	/* the choices are the registry's (shop_kinds), filled in where the table is made */
	{ "KIND", CONFIG_ONE_OF(NULL, "woocommerce", NULL, kind, "shop platform") },
	{ "LOCKER_META_KEY", CONFIG_STR(NULL, "_paczkomat_id", CONFIG_OPTIONAL, locker_meta_key,
					"meta key of a shipping line that holds the parcel locker") },
	{ "LOWEST_PRICE_META",
	  CONFIG_STR(NULL, "_omnibus_lowest_price_30d", CONFIG_OPTIONAL, lowest_price_meta,
		     "product meta key pricing writes the lowest price of the 30 days before a sale to") },
	{ "NIP_META_KEY", CONFIG_STR(NULL, "_billing_nip", CONFIG_OPTIONAL, nip_meta_key,
				     "order meta key that holds the buyer's NIP") },
	{ "PRICE_LIST", CONFIG_STR(NULL, "", CONFIG_OPTIONAL, price_list,
				   "the ERP price list this shop sells from; empty: the ERP's default list") },
	{ "RATE", CONFIG_INT(NULL, "10", 1, 10000, rate, "request budget of this credential, requests per second") },
	{ "SECRET", CONFIG_STR(NULL, NULL, CONFIG_REQUIRED | CONFIG_SECRET, secret, "API consumer secret") },
	{ "SALE_DATES", CONFIG_ONE_OF(NULL, "native", "native|erpsync", sale_dates,
				      "native: the shop starts and ends a sale by its own sale dates; erpsync: pricing "
				      "writes the sale price when the window opens and removes it when it closes") },
	{ "SHIPPING_TAX_CLASS", CONFIG_STR(NULL, "", CONFIG_OPTIONAL, shipping_tax_class,
					   "tax class delivery is charged in; empty: standard") },
	{ "STATUS_MAP", CONFIG_STR(NULL, SHOP_CONFIG_STATUS_MAP_DEFAULT, CONFIG_OPTIONAL, status_map_text,
				   "ERP order status=shop status slug, comma-separated; an ERP status not listed "
				   "leaves the shop's status alone") },
	{ "TAX_CLASSES", CONFIG_STR(NULL, NULL, CONFIG_OPTIONAL, tax_classes,
				    "tax class=VAT percent, comma-separated (reduced-rate=8,zero-rate=0); "
				    "unset: standard 23, reduced-rate 8, super-reduced-rate 5, zero-rate 0") },
	{ "URL", CONFIG_STR(NULL, NULL, CONFIG_REQUIRED, url, "base URL of the shop, e.g. https://shop.example.com") },
	{ "WAREHOUSES",
	  CONFIG_STR(NULL, NULL, CONFIG_OPTIONAL, warehouses_csv,
		     "comma-separated ERP warehouses whose stock this shop sells (required by stock-sync)") },
	{ "WEBHOOK_SECRET", CONFIG_STR(NULL, NULL, CONFIG_OPTIONAL | CONFIG_SECRET, webhook_secret,
				       "key the shop signs its order webhooks with (required by order-sync)") },
};
#define SHOP_CONFIG_NFIELDS (sizeof shop_config_fields / sizeof shop_config_fields[0])

static bool shop_config_id_ok(const char *id)
{
	if (!*id || strlen(id) > 32)
		return false;
	for (const char *p = id; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
			return false;
	return true;
}

/* Splits warehouses_csv into warehouses[] (pointers into a private copy kept in warehouses[0]'s
 * allocation would be fragile: each is its own string). */
static bool shop_config_split(struct shop_config *s)
{
	const char *p = s->warehouses_csv;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || s->nwarehouses == SHOP_CONFIG_MAX_WAREHOUSES) {
			log_error("config: SHOP_%s_WAREHOUSES: empty name or more than %d warehouses", s->id,
				  SHOP_CONFIG_MAX_WAREHOUSES);
			return false;
		}
		s->warehouses[s->nwarehouses] = strndup(p, len);
		if (!s->warehouses[s->nwarehouses++])
			return false;
		p = comma ? comma + 1 : NULL;
	}
	return true;
}

static const struct {
	const char *name;
	unsigned bit;
} shop_config_erp_field_names[] = {
	{ "price", SHOP_FIELD_PRICE },
	{ "sale", SHOP_FIELD_SALE },
	{ "lowest_price", SHOP_FIELD_LOWEST_30D },
	{ "name", SHOP_FIELD_NAME },
	{ "description", SHOP_FIELD_DESCRIPTION },
	{ "short_description", SHOP_FIELD_SHORT_DESCRIPTION },
	{ "attributes", SHOP_FIELD_ATTRIBUTES },
	{ "categories", SHOP_FIELD_CATEGORIES },
	{ "images", SHOP_FIELD_IMAGES },
	{ "gtin", SHOP_FIELD_GTIN },
	{ "weight", SHOP_FIELD_WEIGHT },
	{ "dimensions", SHOP_FIELD_DIMENSIONS },
	{ "status", SHOP_FIELD_STATUS },
};

bool shop_config_erp_fields_parse(const char *text, unsigned *bits, char *err, size_t errlen)
{
	*bits = 0;
	const char *p = text ? text : "";
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t f = 0;
		for (; f < sizeof shop_config_erp_field_names / sizeof shop_config_erp_field_names[0]; f++)
			if (strlen(shop_config_erp_field_names[f].name) == len &&
			    strncmp(shop_config_erp_field_names[f].name, p, len) == 0)
				break;
		if (f == sizeof shop_config_erp_field_names / sizeof shop_config_erp_field_names[0]) {
			snprintf(err, errlen, "unknown field \"%.*s\" (known: %s)", (int)(len > 40 ? 40 : len), p,
				 SHOP_CONFIG_ERP_FIELDS_DEFAULT);
			return false;
		}
		*bits |= shop_config_erp_field_names[f].bit;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}

/* What the service that loads the shops needs of each. */
static bool shop_config_needs(const struct shop_config *s, unsigned needs)
{
	char env_id[64];
	size_t i = 0;
	for (; s->id[i] && i + 1 < sizeof env_id; i++)
		env_id[i] = s->id[i] == '-' ? '_' : (char)toupper((unsigned char)s->id[i]);
	env_id[i] = '\0';
	bool ok = true;
	if ((needs & SHOP_CONFIG_STOCK) && s->nwarehouses == 0) {
		log_error("config: SHOP_%s_WAREHOUSES is required: comma-separated ERP warehouses whose stock this "
			  "shop sells",
			  env_id);
		ok = false;
	}
	if ((needs & SHOP_CONFIG_ORDERS) && (!s->webhook_secret || !*s->webhook_secret)) {
		log_error("config: SHOP_%s_WEBHOOK_SECRET is required: the key the shop signs its order webhooks with",
			  env_id);
		ok = false;
	}
	return ok;
}

static bool shop_config_status_name(const char *p, size_t len, char out[SHOP_CONFIG_STATUS_LEN + 1])
{
	if (len == 0 || len > SHOP_CONFIG_STATUS_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)p[i]) || isdigit((unsigned char)p[i]) || p[i] == '_' || p[i] == '-'))
			return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

bool shop_config_status_map_parse(const char *text, struct shop_config_status *out, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (!text || !*text)
		return true;
	for (const char *p = text; p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		struct shop_config_status st;
		if (*n == SHOP_CONFIG_STATUS_MAX) {
			snprintf(err, errlen, "more than %d statuses", SHOP_CONFIG_STATUS_MAX);
			return false;
		}
		if (!eq || !shop_config_status_name(p, (size_t)(eq - p), st.erp) ||
		    !shop_config_status_name(eq + 1, len - (size_t)(eq - p) - 1, st.shop)) {
			snprintf(err, errlen, "\"%.*s\" is not erp_status=shop_status (each 1..%d of [a-z0-9_-])",
				 (int)(len < 80 ? len : 80), p, SHOP_CONFIG_STATUS_LEN);
			return false;
		}
		for (size_t i = 0; i < *n; i++) {
			if (strcmp(out[i].erp, st.erp) == 0) {
				snprintf(err, errlen, "ERP status %s is mapped twice", st.erp);
				return false;
			}
		}
		out[(*n)++] = st;
		p = comma ? comma + 1 : NULL;
	}
	return true;
}

const char *shop_config_status_for(const struct shop_config *s, const char *erp_status)
{
	for (size_t i = 0; erp_status && i < s->nstatus_map; i++)
		if (strcmp(s->status_map[i].erp, erp_status) == 0)
			return s->status_map[i].shop;
	return NULL;
}

/* The order settings a table row cannot check: every problem logged, false if any. */
static bool shop_config_orders_check(struct shop_config *s)
{
	char err[200];
	struct shop_woo_tax_class *tc = NULL;
	size_t ntc = 0;
	bool ok = true;
	if (!shop_config_status_map_parse(s->status_map_text, s->status_map, &s->nstatus_map, err, sizeof err)) {
		log_error("config: shop %s: STATUS_MAP: %s", s->id, err);
		ok = false;
	}
	if (!shop_woo_tax_classes_parse(s->tax_classes, &tc, &ntc, err, sizeof err)) {
		log_error("config: shop %s: TAX_CLASSES: %s", s->id, err);
		ok = false;
	}
	shop_woo_tax_classes_free(tc, ntc);
	size_t stc = s->shipping_tax_class ? strlen(s->shipping_tax_class) : 0;
	if (stc > SHOP_WOO_TAX_CLASS_LEN ||
	    strspn(s->shipping_tax_class ?: "", "abcdefghijklmnopqrstuvwxyz0123456789_-") != stc) {
		log_error("config: shop %s: SHIPPING_TAX_CLASS: not a tax class slug ([a-z0-9_-], at most %d)", s->id,
			  SHOP_WOO_TAX_CLASS_LEN);
		ok = false;
	}
	const char *keys[] = { s->nip_meta_key, s->locker_meta_key };
	for (size_t i = 0; i < 2; i++) {
		if (keys[i] && strlen(keys[i]) > 255) {
			log_error("config: shop %s: %s: a meta key has at most 255 bytes", s->id,
				  i ? "LOCKER_META_KEY" : "NIP_META_KEY");
			ok = false;
		}
	}
	if (!shop_config_erp_fields_parse(s->erp_fields_text, &s->erp_fields, err, sizeof err)) {
		log_error("config: shop %s: ERP_FIELDS: %s", s->id, err);
		ok = false;
	}
	size_t cl = s->currency ? strlen(s->currency) : 0;
	if (cl != 3 || strspn(s->currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
		log_error("config: shop %s: CURRENCY: an ISO 4217 code, three upper-case letters", s->id);
		ok = false;
	}
	if (s->price_list && strlen(s->price_list) > 64) {
		log_error("config: shop %s: PRICE_LIST: at most 64 bytes", s->id);
		ok = false;
	}
	if (!s->lowest_price_meta || !*s->lowest_price_meta || strlen(s->lowest_price_meta) > 255) {
		log_error("config: shop %s: LOWEST_PRICE_META: a meta key of 1..255 bytes", s->id);
		ok = false;
	}
	return ok;
}

/* Builds this shop's table: env names SHOP_<ID>_<SUFFIX>. names[] holds their storage. */
static void shop_config_table(const char *id, struct config_key *table, char names[][96])
{
	char up[40];
	size_t i = 0;
	for (; id[i] && i + 1 < sizeof up; i++)
		up[i] = id[i] == '-' ? '_' : (char)toupper((unsigned char)id[i]);
	up[i] = '\0';
	for (size_t f = 0; f < SHOP_CONFIG_NFIELDS; f++) {
		table[f] = shop_config_fields[f].key;
		snprintf(names[f], 96, "SHOP_%s_%s", up, shop_config_fields[f].suffix);
		table[f].env = names[f];
		if (table[f].type == CONFIG_ENUM && !table[f].choices)
			table[f].choices = shop_kinds();
	}
	table[SHOP_CONFIG_NFIELDS] = (struct config_key)CONFIG_KEY_END;
}

bool shop_config_load(struct shop_config **out, size_t *n, unsigned needs)
{
	const char *list = getenv("ERPSYNC_SHOPS");
	struct shop_config *shops = calloc(SHOP_CONFIG_MAX, sizeof *shops);
	size_t count = 0;
	bool ok = shops != NULL;
	*out = NULL;
	*n = 0;
	if (!list || !*list) {
		log_error("config: ERPSYNC_SHOPS is required: comma-separated ids of the shops to serve");
		ok = false;
	}
	for (const char *p = ok ? list : NULL; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char id[64];
		snprintf(id, sizeof id, "%.*s", (int)(len < 63 ? len : 63), p);
		p = comma ? comma + 1 : NULL;
		if (!shop_config_id_ok(id) || count == SHOP_CONFIG_MAX) {
			log_error("config: ERPSYNC_SHOPS: \"%s\" is not a valid shop id ([a-z0-9-], 1..32; at most %d "
				  "shops)",
				  id, SHOP_CONFIG_MAX);
			ok = false;
			continue;
		}
		struct shop_config *s = &shops[count++];
		struct config_key table[SHOP_CONFIG_NFIELDS + 1];
		char names[SHOP_CONFIG_NFIELDS][96];
		shop_config_table(id, table, names);
		s->id = strdup(id);
		/* every problem of every shop in one start */
		bool loaded = s->id && config_load(table, s);
		if (!loaded || !shop_config_split(s) || !shop_config_orders_check(s))
			ok = false;
		if (s->id)
			ok = shop_config_needs(s, needs) && ok;
	}
	if (!ok) {
		shop_config_free(shops, count);
		return false;
	}
	*out = shops;
	*n = count;
	return true;
}

void shop_config_free(struct shop_config *shops, size_t n)
{
	if (!shops)
		return;
	for (size_t i = 0; i < n; i++) {
		struct shop_config *s = &shops[i];
		free(s->id);
		free(s->kind);
		free(s->url);
		free(s->key);
		free(s->secret);
		free(s->warehouses_csv);
		if (s->webhook_secret)
			memset(s->webhook_secret, 0, strlen(s->webhook_secret));
		free(s->webhook_secret);
		free(s->nip_meta_key);
		free(s->locker_meta_key);
		free(s->tax_classes);
		free(s->shipping_tax_class);
		free(s->status_map_text);
		free(s->currency);
		free(s->price_list);
		free(s->erp_fields_text);
		free(s->sale_dates);
		free(s->lowest_price_meta);
		for (size_t w = 0; w < s->nwarehouses; w++)
			free(s->warehouses[w]);
	}
	free(shops);
}

/* The URL without "user:password@", which some operators put there. */
static void shop_config_url_safe(const char *url, char *out, size_t len)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme ? scheme + 3 : url;
	const char *at = strchr(host, '@');
	const char *slash = strchr(host, '/');
	if (at && (!slash || at < slash))
		snprintf(out, len, "%.*s***@%s", (int)(host - url), url, at + 1);
	else
		snprintf(out, len, "%s", url);
}

bool shop_config_cleartext_remote(const char *url)
{
	if (!url || strncasecmp(url, "http://", 7) != 0)
		return false;
	const char *host = url + 7;
	size_t n = strcspn(host, "/?#");
	const char *at = memchr(host, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	size_t hl = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
	if (hl > n)
		hl = n;
	if ((hl == 9 && strncasecmp(host, "localhost", 9) == 0) || (hl == 5 && strncmp(host, "[::1]", 5) == 0))
		return false;
	/* 127.0.0.0/8 */
	return !(hl > 4 && strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") >= hl);
}

void shop_config_log(const struct shop_config *shops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char url[256];
		shop_config_url_safe(shops[i].url, url, sizeof url);
		log_info("shop %s: %s at %s, warehouses %s, buffer %lld, budget %lld req/s, secret ***, webhook secret "
			 "%s, status map %s",
			 shops[i].id, shops[i].kind, url, shops[i].warehouses_csv, shops[i].buffer, shops[i].rate,
			 shops[i].webhook_secret ? "***" : "unset (every webhook refused)", shops[i].status_map_text);
		/* Basic auth carries the key and secret with every call: in clear unless TLS ends on this
		 * machine (a local proxy) */
		if (shop_config_cleartext_remote(shops[i].url))
			log_warn("shop %s: its API key and secret go over plain http to another machine, readable on "
				 "the way; use https:// (or a TLS proxy on this machine)",
				 shops[i].id);
	}
}

bool shop_config_has_warehouse(const struct shop_config *s, const char *warehouse)
{
	for (size_t i = 0; i < s->nwarehouses; i++)
		if (strcmp(s->warehouses[i], warehouse) == 0)
			return true;
	return false;
}

struct shop *shop_config_connect(const struct shop_config *s, char *err, size_t errlen)
{
	const struct shop_connect_opts o = {
		.shop_id = s->id,
		.base_url = s->url,
		.key = s->key,
		.secret = s->secret,
		.rate_per_sec = (double)s->rate,
		.webhook_secret = s->webhook_secret,
		.nip_meta_key = s->nip_meta_key,
		.locker_meta_key = s->locker_meta_key,
		.tax_classes = s->tax_classes,
		.shipping_tax_class = s->shipping_tax_class,
	};
	return shop_connect(s->kind, &o, err, errlen);
}

void shop_config_print_reference(void)
{
	printf("| variable (per shop; `<ID>` = the id upper-cased, `-` -> `_`) | type | default | required | "
	       "description |\n");
	printf("|---|---|---|---|---|\n");
	printf("| `ERPSYNC_SHOPS` | string | — | yes | comma-separated shop ids (`[a-z0-9-]`, at most %d) |\n",
	       SHOP_CONFIG_MAX);
	for (size_t f = 0; f < SHOP_CONFIG_NFIELDS; f++) {
		const struct config_key *k = &shop_config_fields[f].key;
		char kinds[256] = "";
		size_t o = 0;
		/* the registry's kinds, comma-separated: '|' would end the Markdown cell */
		for (const char *c = k->choices ? k->choices : shop_kinds();
		     k->type == CONFIG_ENUM && *c && o + 3 < sizeof kinds; c++) {
			if (*c == '|') {
				kinds[o++] = ',';
				kinds[o++] = ' ';
			} else {
				kinds[o++] = *c;
			}
		}
		kinds[o] = '\0';
		printf("| `SHOP_<ID>_%s` | %s | %s | %s | %s%s%s%s |\n", shop_config_fields[f].suffix,
		       k->type == CONFIG_INT    ? "integer"
		       : k->type == CONFIG_ENUM ? "enum"
						: "string",
		       k->def ? k->def : "—", k->required ? "yes" : "no", k->help, *kinds ? ": one of " : "", kinds,
		       k->secret ? " (secret: never logged)" : "");
	}
}
