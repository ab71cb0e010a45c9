#include "woo_item.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const woo_type_names[] = { "simple", "variable", "variation" };
static const char *const woo_status_names[] = { "instock", "outofstock", "onbackorder" };
static const char *const woo_backorders_names[] = { "no", "notify", "yes" };

static int woo_enum_index(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* "" or digits with an optional fraction: what wc_format_decimal keeps intact. */
static bool woo_price_valid(const char *s)
{
	size_t digits = strspn(s, "0123456789");
	if (s[digits] == '.' && digits > 0)
		return s[digits + 1 + strspn(s + digits + 1, "0123456789")] == '\0';
	return s[digits] == '\0';
}

static bool woo_parse_string(const json_t *obj, const char *key, size_t max, unsigned bit, unsigned *set,
			     const char **out, struct woo_error *e)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return true;
	if (!json_is_string(v)) {
		woo_error_param(e, key, "rest_invalid_type", "%s is not of type string.", key);
		return false;
	}
	if (max && json_string_length(v) > max) {
		woo_error_param(e, key, "rest_too_long", "%s must be at most %zu characters long.", key, max);
		return false;
	}
	*out = json_string_value(v);
	*set |= bit;
	return true;
}

static bool woo_parse_enum(const json_t *obj, const char *key, const char *const *names, int n, const char *list,
			   unsigned bit, unsigned *set, int *out, struct woo_error *e)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return true;
	int i = woo_enum_index(json_string_value(v), names, n);
	if (i < 0) {
		woo_error_param(e, key, "rest_not_in_enum", "%s is not one of %s.", key, list);
		return false;
	}
	*out = i;
	*set |= bit;
	return true;
}

/* stock_quantity: an integer, an integer in a string (WordPress coerces it), or null. */
static bool woo_parse_quantity(const json_t *obj, struct woo_patch *p, struct woo_error *e)
{
	const json_t *v = json_object_get(obj, "stock_quantity");
	if (!v)
		return true;
	p->set |= WOO_F_STOCK_QUANTITY;
	if (json_is_null(v)) {
		p->quantity_null = true;
		return true;
	}
	if (json_is_integer(v)) {
		p->stock_quantity = json_integer_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	char *end = NULL;
	errno = 0;
	long long n = s && *s ? strtoll(s, &end, 10) : 0;
	if (!s || !*s || errno || *end) {
		woo_error_param(e, "stock_quantity", "rest_invalid_type", "stock_quantity is not of type integer.");
		return false;
	}
	p->stock_quantity = n;
	return true;
}

static bool woo_parse_prices(const json_t *obj, struct woo_patch *p, struct woo_error *e)
{
	if (!woo_parse_string(obj, "regular_price", WOO_PRICE_MAX, WOO_F_REGULAR_PRICE, &p->set, &p->regular_price,
			      e) ||
	    !woo_parse_string(obj, "sale_price", WOO_PRICE_MAX, WOO_F_SALE_PRICE, &p->set, &p->sale_price, e))
		return false;
	const char *bad = (p->set & WOO_F_REGULAR_PRICE) && !woo_price_valid(p->regular_price) ? "regular_price"
			  : (p->set & WOO_F_SALE_PRICE) && !woo_price_valid(p->sale_price)     ? "sale_price"
											       : NULL;
	if (bad)
		woo_error_param(e, bad, "rest_invalid_param", "%s must be a decimal number such as \"19.99\".", bad);
	return bad == NULL;
}

bool woo_patch_parse(const json_t *obj, struct woo_patch *p, struct woo_error *e)
{
	int status = 0, backorders = 0, type = 0;
	memset(p, 0, sizeof *p);
	if (!json_is_object(obj)) {
		woo_error_set(e, 400, "rest_invalid_json", "Invalid JSON body passed.");
		return false;
	}
	const json_t *ms = json_object_get(obj, "manage_stock");
	if (ms && !json_is_boolean(ms)) {
		woo_error_param(e, "manage_stock", "rest_invalid_type", "manage_stock is not of type boolean.");
		return false;
	}
	if (ms) {
		p->manage_stock = json_is_true(ms);
		p->set |= WOO_F_MANAGE_STOCK;
	}
	if (!woo_parse_string(obj, "name", 0, WOO_F_NAME, &p->set, &p->name, e) ||
	    !woo_parse_string(obj, "sku", WOO_SKU_MAX, WOO_F_SKU, &p->set, &p->sku, e) ||
	    !woo_parse_prices(obj, p, e) || !woo_parse_quantity(obj, p, e) ||
	    !woo_parse_enum(obj, "stock_status", woo_status_names, 3, "instock, outofstock, and onbackorder",
			    WOO_F_STOCK_STATUS, &p->set, &status, e) ||
	    !woo_parse_enum(obj, "backorders", woo_backorders_names, 3, "no, notify, and yes", WOO_F_BACKORDERS,
			    &p->set, &backorders, e) ||
	    !woo_parse_enum(obj, "type", woo_type_names, 2, "simple and variable", WOO_F_TYPE, &p->set, &type, e))
		return false;
	p->stock_status = (enum woo_stock_status)status;
	p->backorders = (enum woo_backorders)backorders;
	p->type = (enum woo_type)type;
	return true;
}

struct woo_item *woo_item_new(int64_t id, enum woo_type type, int64_t parent_id, int64_t now_us)
{
	struct woo_item *it = calloc(1, sizeof *it);
	if (!it)
		return NULL;
	it->name = strdup("");
	if (!it->name) {
		free(it);
		return NULL;
	}
	it->id = id;
	it->type = type;
	it->parent_id = type == WOO_VARIATION ? parent_id : 0;
	it->stock_status = WOO_INSTOCK;
	it->created_us = it->modified_us = now_us;
	return it;
}

void woo_item_free(struct woo_item *it)
{
	if (!it)
		return;
	free(it->name);
	free(it->variations);
	free(it);
}

void woo_item_derive_status(struct woo_item *it)
{
	if (!it->manage_stock)
		return;
	if (it->has_quantity && it->stock_quantity > 0)
		it->stock_status = WOO_INSTOCK;
	else if (it->backorders != WOO_BACKORDERS_NO)
		it->stock_status = WOO_ONBACKORDER;
	else
		it->stock_status = WOO_OUTOFSTOCK;
}

/* Copies s into a fixed field; true when the value changed. */
static bool woo_set_field(char *field, size_t size, const char *s)
{
	if (strcmp(field, s) == 0)
		return false;
	snprintf(field, size, "%s", s);
	return true;
}

static int woo_apply_stock(struct woo_item *it, const struct woo_patch *p)
{
	int changed = 0;
	if ((p->set & WOO_F_MANAGE_STOCK) && p->manage_stock != it->manage_stock) {
		it->manage_stock = p->manage_stock;
		changed++;
	}
	if ((p->set & WOO_F_BACKORDERS) && p->backorders != it->backorders) {
		it->backorders = p->backorders;
		changed++;
	}
	if (it->manage_stock && (p->set & WOO_F_STOCK_QUANTITY) && !p->quantity_null) {
		changed += !it->has_quantity || it->stock_quantity != p->stock_quantity;
		it->has_quantity = true;
		it->stock_quantity = p->stock_quantity;
		it->stock_writes++;
	}
	if (!it->manage_stock && it->has_quantity) {
		it->has_quantity = false;
		changed++;
	}
	enum woo_stock_status before = it->stock_status;
	if (!it->manage_stock && (p->set & WOO_F_STOCK_STATUS) && it->type != WOO_VARIABLE)
		it->stock_status = p->stock_status;
	woo_item_derive_status(it);
	return changed + (before != it->stock_status);
}

int woo_item_apply(struct woo_item *it, const struct woo_patch *p, int64_t now_us)
{
	int changed = 0;
	if ((p->set & WOO_F_NAME) && strcmp(it->name, p->name) != 0) {
		char *name = strdup(p->name);
		if (!name)
			return -1;
		free(it->name);
		it->name = name;
		changed++;
	}
	if (p->set & WOO_F_SKU)
		changed += woo_set_field(it->sku, sizeof it->sku, p->sku);
	/* a variable product's prices are its variations' (WooCommerce blanks them) */
	if ((p->set & WOO_F_REGULAR_PRICE) && it->type != WOO_VARIABLE)
		changed += woo_set_field(it->regular_price, sizeof it->regular_price, p->regular_price);
	if ((p->set & WOO_F_SALE_PRICE) && it->type != WOO_VARIABLE)
		changed += woo_set_field(it->sale_price, sizeof it->sale_price, p->sale_price);
	changed += woo_apply_stock(it, p);
	if (changed)
		it->modified_us = now_us;
	return changed;
}

bool woo_item_add_variation(struct woo_item *it, int64_t id)
{
	if (it->nvariations == it->variations_cap) {
		size_t cap = it->variations_cap ? it->variations_cap * 2 : 4;
		int64_t *grown = realloc(it->variations, cap * sizeof *grown);
		if (!grown)
			return false;
		it->variations = grown;
		it->variations_cap = cap;
	}
	size_t i = it->nvariations;
	while (i > 0 && it->variations[i - 1] > id) {
		it->variations[i] = it->variations[i - 1];
		i--;
	}
	it->variations[i] = id;
	it->nvariations++;
	return true;
}

void woo_item_remove_variation(struct woo_item *it, int64_t id)
{
	for (size_t i = 0; i < it->nvariations; i++) {
		if (it->variations[i] != id)
			continue;
		memmove(&it->variations[i], &it->variations[i + 1],
			(it->nvariations - i - 1) * sizeof it->variations[0]);
		it->nvariations--;
		return;
	}
}

/* WordPress dates: "2026-11-26T14:00:00", site time (the sandbox's site runs on UTC). */
static void woo_date(int64_t us, char out[24])
{
	struct tm tm;
	time_t secs = (time_t)(us / 1000000);
	gmtime_r(&secs, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
}

static bool woo_on_sale(const struct woo_item *it)
{
	if (!it->sale_price[0])
		return false;
	return !it->regular_price[0] || strtod(it->sale_price, NULL) < strtod(it->regular_price, NULL);
}

json_t *woo_item_json(const struct woo_item *it, bool variation_view)
{
	char created[24], modified[24];
	woo_date(it->created_us, created);
	woo_date(it->modified_us, modified);
	const char *price = it->sale_price[0] ? it->sale_price : it->regular_price;
	json_t *j = json_pack(
		"{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:o,s:s,s:s,s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)it->id,
		"name", it->name, "type", woo_type_names[it->type], "status", "publish", "sku", it->sku, "price", price,
		"regular_price", it->regular_price, "sale_price", it->sale_price, "on_sale", woo_on_sale(it),
		"manage_stock", it->manage_stock, "stock_quantity",
		it->has_quantity ? json_integer((json_int_t)it->stock_quantity) : json_null(), "stock_status",
		woo_status_names[it->stock_status], "backorders", woo_backorders_names[it->backorders], "parent_id",
		(json_int_t)it->parent_id, "date_created", created, "date_created_gmt", created, "date_modified",
		modified, "date_modified_gmt", modified);
	if (!j || variation_view)
		return j;
	json_t *vars = json_array();
	for (size_t i = 0; vars && i < it->nvariations; i++)
		json_array_append_new(vars, json_integer((json_int_t)it->variations[i]));
	if (json_object_set_new(j, "variations", vars) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}
