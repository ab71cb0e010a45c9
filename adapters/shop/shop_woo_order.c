/* shop_woo_order — WooCommerce's order resource into struct shop_order.
 *
 * How WooCommerce writes an order (REST v3, WC_REST_Orders_V2_Controller):
 * - money is a decimal string rounded to the shop's decimals ("dp", 2 for PLN), so it is read
 *   exactly by shop_money_parse; a JSON number in its place would be read as a double, and is
 *   refused. line_items[].price is a number and is not read.
 * - line, shipping and fee totals are net, whether the shop's prices were entered gross
 *   (prices_include_tax) or not; their taxes are apart (total_tax), so the flag changes nothing
 *   here and is carried for the ERP.
 * - a line's taxes[] are {id: rate id, total, subtotal} with unrounded totals ("1.7955" when taxes
 *   are rounded at the subtotal): they tell which rate taxed the line, not the amount.
 * - tax_lines[] map the rate id to rate_percent (WooCommerce 5.7+), a JSON number ("23", "8.0").
 *   It is read through its decimal text, never as a double (woo_order_percent).
 * - refunds[] carry the refunded amount as a negative string.
 * - discount_total / discount_tax are net / tax: subtotal - total, summed over the lines. */
#include "shop_woo_order.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop.h"

#define WOO_ORDER_NIP_KEY    "_billing_nip"
#define WOO_ORDER_LOCKER_KEY "_paczkomat_id"
#define WOO_ORDER_QTY_MAX    1000000
#define WOO_ORDER_ID_MAX     64 /* bytes of an id or order number sent as a string */
#define WOO_ORDER_NAME_MAX   64 /* "line_items[999].subtotal_tax" and the like */

struct woo_order_rate {
	json_int_t rate_id;
	uint32_t rate_bp;
};

struct woo_order_ctx {
	const struct shop_woo_order_opts *opts;
	struct woo_order_rate rates[SHOP_WOO_ORDER_TAXES_MAX]; /* from tax_lines */
	size_t n_rates;
	bool oom;
	char *err;
	size_t errlen;
};

/* Polish VAT by WooCommerce's default class slugs. */
static const struct shop_woo_tax_class woo_order_pl_classes[] = {
	{ "", 2300 },
	{ "reduced-rate", 800 },
	{ "super-reduced-rate", 500 },
	{ "zero-rate", 0 },
};

__attribute__((format(printf, 2, 3))) static bool woo_order_fail(struct woo_order_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return false;
}

static bool woo_order_oom(struct woo_order_ctx *c)
{
	c->oom = true;
	return woo_order_fail(c, "out of memory reading the order");
}

/* "line_items[3].sku", or "total" at the top. */
static const char *woo_order_name(char *buf, size_t n, const char *where, const char *key)
{
	snprintf(buf, n, "%s%s%s", where, *where ? "." : "", key);
	return buf;
}

/* ---- fields ---- */

/* obj[key] into *dst: a string of at most max bytes; absent or null is "". */
static bool woo_order_str(struct woo_order_ctx *c, json_t *obj, const char *where, const char *key, size_t max,
			  char **dst)
{
	json_t *v = json_object_get(obj, key);
	const char *s = "";
	size_t n = 0;
	char name[WOO_ORDER_NAME_MAX];
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return woo_order_fail(c, "%s must be a string", woo_order_name(name, sizeof name, where, key));
		s = json_string_value(v);
		n = json_string_length(v);
		if (n > max)
			return woo_order_fail(c, "%s: %zu bytes, at most %zu",
					      woo_order_name(name, sizeof name, where, key), n, max);
	}
	*dst = strndup(s, n);
	return *dst ? true : woo_order_oom(c);
}

/* obj[key], a whole number >= 0 (or, where an id may be either, its decimal string), into decimal
 * text; absent or null is "", and so is 0 when zero_empty. */
static bool woo_order_id(struct woo_order_ctx *c, json_t *obj, const char *where, const char *key, bool zero_empty,
			 char **dst)
{
	json_t *v = json_object_get(obj, key);
	char name[WOO_ORDER_NAME_MAX], text[32] = "";
	if (json_is_string(v))
		return woo_order_str(c, obj, where, key, WOO_ORDER_ID_MAX, dst);
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return woo_order_fail(c, "%s must be a whole number >= 0",
					      woo_order_name(name, sizeof name, where, key));
		if (json_integer_value(v) > 0 || !zero_empty)
			snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	}
	*dst = strdup(text);
	return *dst ? true : woo_order_oom(c);
}

/* obj[key], a money string, into minor units; absent or null is refused. */
static bool woo_order_money(struct woo_order_ctx *c, json_t *obj, const char *where, const char *key, int64_t *dst)
{
	json_t *v = json_object_get(obj, key);
	char name[WOO_ORDER_NAME_MAX];
	woo_order_name(name, sizeof name, where, key);
	if (!v || json_is_null(v))
		return woo_order_fail(c, "%s is missing", name);
	if (!json_is_string(v))
		return woo_order_fail(c, "%s must be a decimal string, not a JSON %s", name,
				      json_is_number(v) ? "number" : "value of another type");
	if (!shop_money_parse(json_string_value(v), dst))
		return woo_order_fail(c, "%s: \"%.40s\" is not an amount of 2 decimals", name, json_string_value(v));
	return true;
}

static bool woo_order_amounts(struct woo_order_ctx *c, json_t *obj, const char *where, const char *net, const char *tax,
			      struct shop_amounts *a)
{
	return woo_order_money(c, obj, where, net, &a->net_minor) && woo_order_money(c, obj, where, tax, &a->tax_minor);
}

/* obj[key]: an array of at most max entries, or absent/null (*arr NULL, 0 entries). */
static bool woo_order_array(struct woo_order_ctx *c, json_t *obj, const char *where, const char *key, size_t max,
			    json_t **arr)
{
	json_t *v = json_object_get(obj, key);
	char name[WOO_ORDER_NAME_MAX];
	*arr = NULL;
	if (!v || json_is_null(v))
		return true;
	woo_order_name(name, sizeof name, where, key);
	if (!json_is_array(v))
		return woo_order_fail(c, "%s must be an array", name);
	if (json_array_size(v) > max)
		return woo_order_fail(c, "%s: %zu entries, at most %zu", name, json_array_size(v), max);
	*arr = v;
	return true;
}

/* calloc of the n entries of an array of the order; n == 0 leaves *p NULL. */
static bool woo_order_alloc(struct woo_order_ctx *c, size_t n, size_t size, void **p)
{
	*p = n ? calloc(n, size) : NULL;
	return (*p || !n) ? true : woo_order_oom(c);
}

/* Days since 1970-01-01 of a date of the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil): no timegm, so the process's time zone plays no part. */
static int64_t woo_order_days(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = y / 400, yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* "2024-05-01T10:20:30" (WooCommerce's *_gmt; a trailing Z is taken too) into unix micros. */
bool shop_woo_order_time(const char *s, int64_t *us)
{
	static const int at[6] = { 0, 5, 8, 11, 14, 17 }, width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = "--T::";
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t f[6];
	size_t n = strlen(s);
	if (n != 19 && !(n == 20 && s[19] == 'Z'))
		return false;
	for (int i = 0; i < 6; i++) {
		f[i] = 0;
		for (int k = 0; k < width[i]; k++) {
			char ch = s[at[i] + k];
			if (ch < '0' || ch > '9')
				return false;
			f[i] = f[i] * 10 + (ch - '0');
		}
		if (i < 5 && s[at[i] + width[i]] != sep[i])
			return false;
	}
	bool leap = (f[0] % 4 == 0 && f[0] % 100 != 0) || f[0] % 400 == 0;
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > mdays[f[1] - 1] ||
	    (f[1] == 2 && f[2] == 29 && !leap) || f[3] > 23 || f[4] > 59 || f[5] > 59)
		return false;
	*us = ((woo_order_days(f[0], f[1], f[2]) * 86400) + f[3] * 3600 + f[4] * 60 + f[5]) * 1000000;
	return true;
}

/* obj[key], a GMT date, into unix micros; absent, null or "" is 0. */
static bool woo_order_date(struct woo_order_ctx *c, json_t *obj, const char *key, int64_t *us)
{
	json_t *v = json_object_get(obj, key);
	*us = 0;
	if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
		return true;
	if (!json_is_string(v) || !shop_woo_order_time(json_string_value(v), us))
		return woo_order_fail(c, "%s is not a date of the form 2024-05-01T10:20:30", key);
	return true;
}

/* ---- VAT ---- */

/* A rate_percent (23, 8.0, "5") into basis points without a double in our hands: jansson prints a
 * real with 15 significant digits, which gives back the decimal text WooCommerce wrote for any rate
 * of a few digits, and that text is read like money ("8.5" -> 850). */
static bool woo_order_percent(struct woo_order_ctx *c, json_t *v, uint32_t *bp)
{
	char *text = NULL;
	const char *s = json_string_value(v);
	int64_t m;
	if (json_is_number(v)) {
		text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		if (!text)
			return woo_order_oom(c);
		s = text;
	}
	bool ok = s && shop_money_parse(s, &m) && m >= 0 && m <= 10000;
	free(text);
	if (ok)
		*bp = (uint32_t)m;
	return ok;
}

/* tax_lines: rate_id -> rate_percent. An entry without rate_percent (before WooCommerce 5.7) is
 * left out, and the lines it taxed fall back to their tax class. */
static bool woo_order_rates(struct woo_order_ctx *c, json_t *root)
{
	json_t *arr, *t;
	size_t i;
	char where[WOO_ORDER_NAME_MAX];
	if (!woo_order_array(c, root, "", "tax_lines", SHOP_WOO_ORDER_TAXES_MAX, &arr))
		return false;
	json_array_foreach(arr, i, t)
	{
		snprintf(where, sizeof where, "tax_lines[%zu]", i);
		json_t *id = json_object_get(t, "rate_id"), *pct = json_object_get(t, "rate_percent");
		if (!json_is_object(t) || !json_is_integer(id))
			return woo_order_fail(c, "%s must be an object with a whole rate_id", where);
		if (!pct || json_is_null(pct))
			continue;
		struct woo_order_rate *r = &c->rates[c->n_rates];
		if (!woo_order_percent(c, pct, &r->rate_bp))
			return c->oom ? false : woo_order_fail(c, "%s.rate_percent is not a percentage", where);
		r->rate_id = json_integer_value(id);
		c->n_rates++;
	}
	return true;
}

static const struct woo_order_rate *woo_order_rate_of(const struct woo_order_ctx *c, json_t *id)
{
	for (size_t i = 0; json_is_integer(id) && i < c->n_rates; i++)
		if (c->rates[i].rate_id == json_integer_value(id))
			return &c->rates[i];
	return NULL;
}

/* Whether a tax total such as "0.00" or "1.7955" is other than zero (it need not be an amount). */
static bool woo_order_nonzero(json_t *total)
{
	const char *s = json_string_value(total);
	for (; s && *s; s++)
		if (*s >= '1' && *s <= '9')
			return true;
	return false;
}

/* The rate of a line from its taxes[] through tax_lines: 1 found, 0 none to tell, -1 refused. The
 * rate that taxed something wins; with only zero taxes, their one rate. */
static int woo_order_rate_from_taxes(struct woo_order_ctx *c, json_t *item, const char *where, uint32_t *bp)
{
	json_t *taxes, *t;
	size_t i;
	const struct woo_order_rate *taxed = NULL, *zero = NULL;
	bool unknown = false, mixed = false;
	if (!woo_order_array(c, item, where, "taxes", SHOP_WOO_ORDER_TAXES_MAX, &taxes))
		return -1;
	json_array_foreach(taxes, i, t)
	{
		const struct woo_order_rate *r = woo_order_rate_of(c, json_object_get(t, "id"));
		bool nz = woo_order_nonzero(json_object_get(t, "total"));
		if (!r) {
			unknown = unknown || nz;
		} else if (nz) {
			if (taxed && taxed->rate_bp != r->rate_bp) {
				woo_order_fail(c, "%s is taxed at two VAT rates (%u bp and %u bp)", where,
					       taxed->rate_bp, r->rate_bp);
				return -1;
			}
			taxed = r;
		} else {
			mixed = mixed || (zero && zero->rate_bp != r->rate_bp);
			zero = r;
		}
	}
	if (unknown)
		return 0; /* a rate tax_lines do not explain: the class says more */
	if (taxed || (zero && !mixed)) {
		*bp = taxed ? taxed->rate_bp : zero->rate_bp;
		return 1;
	}
	return 0;
}

static bool woo_order_class_rate(const struct shop_woo_tax_class *t, size_t n, const char *cls, uint32_t *bp)
{
	for (size_t i = 0; t && i < n; i++)
		if (t[i].tax_class && strcmp(t[i].tax_class, cls) == 0) {
			*bp = t[i].rate_bp;
			return true;
		}
	return false;
}

/* The VAT rate of a line, shipping line or fee (see the header). */
static bool woo_order_vat(struct woo_order_ctx *c, json_t *item, const char *where, const char *cls, uint32_t *bp)
{
	const struct shop_woo_order_opts *o = c->opts;
	int found = woo_order_rate_from_taxes(c, item, where, bp);
	if (found != 0)
		return found > 0;
	if (woo_order_class_rate(o ? o->tax_classes : NULL, o ? o->n_tax_classes : 0, cls, bp) ||
	    woo_order_class_rate(woo_order_pl_classes, sizeof woo_order_pl_classes / sizeof woo_order_pl_classes[0],
				 cls, bp))
		return true;
	return woo_order_fail(c,
			      "%s: tax class \"%.64s\" has no VAT rate (no taxes[] with a tax_lines rate, and "
			      "neither the shop's mapping nor the defaults name it)",
			      where, cls);
}

/* ---- meta data ---- */

/* The value under key in obj's meta_data (a string, or a number as its text); "" when absent. */
static bool woo_order_meta(struct woo_order_ctx *c, json_t *obj, const char *where, const char *key, char **dst)
{
	json_t *meta, *m;
	size_t i;
	char name[WOO_ORDER_NAME_MAX];
	if (!woo_order_array(c, obj, where, "meta_data", SHOP_WOO_ORDER_META_MAX, &meta))
		return false;
	json_array_foreach(meta, i, m)
	{
		const char *k = json_string_value(json_object_get(m, "key"));
		if (!k || strcmp(k, key) != 0)
			continue;
		json_t *v = json_object_get(m, "value");
		snprintf(name, sizeof name, "%s%smeta_data[%zu]", where, *where ? "." : "", i);
		if (json_is_integer(v))
			return woo_order_id(c, m, name, "value", false, dst);
		if (v && !json_is_string(v) && !json_is_null(v))
			return woo_order_fail(c, "%s (%.40s) must be a string", name, key);
		return woo_order_str(c, m, name, "value", SHOP_ORDER_TEXT_MAX, dst);
	}
	*dst = strdup("");
	return *dst ? true : woo_order_oom(c);
}

/* The buyer's NIP from the order's meta data, normalised and checked. */
static bool woo_order_nip(struct woo_order_ctx *c, json_t *root, struct shop_order *o)
{
	const char *key = c->opts && c->opts->nip_meta_key ? c->opts->nip_meta_key : WOO_ORDER_NIP_KEY;
	char digits[SHOP_NIP_LEN + 1];
	if (!woo_order_meta(c, root, "", key, &o->buyer_nip))
		return false;
	if (shop_nip_normalize(o->buyer_nip, digits)) {
		o->buyer_nip_invalid = !shop_nip_valid(digits);
		memcpy(o->buyer_nip, digits, sizeof digits); /* no longer than what it replaces */
		return true;
	}
	if (strspn(o->buyer_nip, " ") == strlen(o->buyer_nip)) {
		o->buyer_nip[0] = '\0'; /* blank: a consumer */
		return true;
	}
	o->buyer_nip_invalid = true; /* kept as sent: a foreign VAT id, or a typo, for a person to see */
	return true;
}

/* ---- the lines ---- */

static bool woo_order_quantity(struct woo_order_ctx *c, json_t *item, const char *where, int64_t *milli)
{
	json_t *q = json_object_get(item, "quantity");
	if (!json_is_integer(q) || json_integer_value(q) < 1 || json_integer_value(q) > WOO_ORDER_QTY_MAX)
		return woo_order_fail(c, "%s.quantity must be a whole number from 1 to %d", where, WOO_ORDER_QTY_MAX);
	*milli = (int64_t)json_integer_value(q) * 1000;
	return true;
}

static bool woo_order_line(struct woo_order_ctx *c, json_t *it, const char *where, struct shop_order_line *l)
{
	json_t *variation = json_object_get(it, "variation_id");
	if (!json_is_object(it))
		return woo_order_fail(c, "%s must be an object", where);
	return woo_order_id(c, it, where, "id", false, &l->line_id) &&
	       woo_order_str(c, it, where, "sku", SHOP_SKU_MAX, &l->sku) &&
	       woo_order_str(c, it, where, "name", SHOP_ORDER_TEXT_MAX, &l->name) &&
	       woo_order_id(c, it, where, json_integer_value(variation) > 0 ? "variation_id" : "product_id", true,
			    &l->product_id) &&
	       woo_order_str(c, it, where, "tax_class", SHOP_ORDER_TEXT_MAX, &l->tax_class) &&
	       woo_order_quantity(c, it, where, &l->quantity_milli) &&
	       woo_order_amounts(c, it, where, "subtotal", "subtotal_tax", &l->subtotal) &&
	       woo_order_amounts(c, it, where, "total", "total_tax", &l->total) &&
	       woo_order_vat(c, it, where, l->tax_class, &l->vat_rate_bp);
}

static bool woo_order_lines(struct woo_order_ctx *c, json_t *root, struct shop_order *o)
{
	json_t *arr, *it;
	size_t i;
	char where[WOO_ORDER_NAME_MAX];
	if (!woo_order_array(c, root, "", "line_items", SHOP_ORDER_LINES_MAX, &arr))
		return false;
	if (!arr || json_array_size(arr) == 0)
		return woo_order_fail(c, "line_items is empty: nothing was sold");
	if (!woo_order_alloc(c, json_array_size(arr), sizeof *o->lines, (void **)&o->lines))
		return false;
	o->n_lines = json_array_size(arr);
	json_array_foreach(arr, i, it)
	{
		snprintf(where, sizeof where, "line_items[%zu]", i);
		if (!woo_order_line(c, it, where, &o->lines[i]))
			return false;
	}
	return true;
}

/* Shipping lines, and the parcel locker from the first one that names it. */
static bool woo_order_shipping(struct woo_order_ctx *c, json_t *root, struct shop_order *o)
{
	const struct shop_woo_order_opts *op = c->opts;
	const char *locker = op && op->locker_meta_key ? op->locker_meta_key : WOO_ORDER_LOCKER_KEY;
	const char *cls = op && op->shipping_tax_class ? op->shipping_tax_class : "";
	json_t *arr, *it;
	size_t i;
	char where[WOO_ORDER_NAME_MAX];
	if (!woo_order_array(c, root, "", "shipping_lines", SHOP_ORDER_SHIPPING_MAX, &arr) ||
	    !woo_order_alloc(c, json_array_size(arr), sizeof *o->shipping_lines, (void **)&o->shipping_lines))
		return false;
	o->n_shipping_lines = json_array_size(arr);
	json_array_foreach(arr, i, it)
	{
		struct shop_order_shipping *s = &o->shipping_lines[i];
		char *point = NULL;
		snprintf(where, sizeof where, "shipping_lines[%zu]", i);
		if (!json_is_object(it))
			return woo_order_fail(c, "%s must be an object", where);
		if (!woo_order_id(c, it, where, "id", false, &s->line_id) ||
		    !woo_order_str(c, it, where, "method_id", SHOP_ORDER_TEXT_MAX, &s->method_id) ||
		    !woo_order_str(c, it, where, "method_title", SHOP_ORDER_TEXT_MAX, &s->title) ||
		    !woo_order_amounts(c, it, where, "total", "total_tax", &s->total) ||
		    !woo_order_vat(c, it, where, cls, &s->vat_rate_bp) || !woo_order_meta(c, it, where, locker, &point))
			return false;
		if (!o->pickup_point && *point) {
			o->pickup_point = point;
			point = NULL; /* now owned by the order */
		}
		free(point);
	}
	if (!o->pickup_point && !(o->pickup_point = strdup("")))
		return woo_order_oom(c);
	return true;
}

/* Fees; one the shop does not tax (tax_status "none") is at 0 %, as it was charged. */
static bool woo_order_fees(struct woo_order_ctx *c, json_t *root, struct shop_order *o)
{
	json_t *arr, *it;
	size_t i;
	char where[WOO_ORDER_NAME_MAX];
	if (!woo_order_array(c, root, "", "fee_lines", SHOP_ORDER_FEES_MAX, &arr) ||
	    !woo_order_alloc(c, json_array_size(arr), sizeof *o->fee_lines, (void **)&o->fee_lines))
		return false;
	o->n_fee_lines = json_array_size(arr);
	json_array_foreach(arr, i, it)
	{
		struct shop_order_fee *f = &o->fee_lines[i];
		snprintf(where, sizeof where, "fee_lines[%zu]", i);
		if (!json_is_object(it))
			return woo_order_fail(c, "%s must be an object", where);
		const char *status = json_string_value(json_object_get(it, "tax_status"));
		if (!woo_order_id(c, it, where, "id", false, &f->line_id) ||
		    !woo_order_str(c, it, where, "name", SHOP_ORDER_TEXT_MAX, &f->name) ||
		    !woo_order_str(c, it, where, "tax_class", SHOP_ORDER_TEXT_MAX, &f->tax_class) ||
		    !woo_order_amounts(c, it, where, "total", "total_tax", &f->total))
			return false;
		if (status && strcmp(status, "none") == 0)
			f->vat_rate_bp = 0;
		else if (!woo_order_vat(c, it, where, f->tax_class, &f->vat_rate_bp))
			return false;
	}
	return true;
}

static bool woo_order_coupons(struct woo_order_ctx *c, json_t *root, struct shop_order *o)
{
	json_t *arr, *it;
	size_t i;
	char where[WOO_ORDER_NAME_MAX];
	if (!woo_order_array(c, root, "", "coupon_lines", SHOP_ORDER_COUPONS_MAX, &arr) ||
	    !woo_order_alloc(c, json_array_size(arr), sizeof *o->coupons, (void **)&o->coupons))
		return false;
	o->n_coupons = json_array_size(arr);
	json_array_foreach(arr, i, it)
	{
		struct shop_order_coupon *k = &o->coupons[i];
		snprintf(where, sizeof where, "coupon_lines[%zu]", i);
		if (!json_is_object(it))
			return woo_order_fail(c, "%s must be an object", where);
		if (!woo_order_str(c, it, where, "code", SHOP_ORDER_TEXT_MAX, &k->code) ||
		    !woo_order_amounts(c, it, where, "discount", "discount_tax", &k->discount))
			return false;
		for (char *p = k->code; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	return true;
}

static bool woo_order_refunds(struct woo_order_ctx *c, json_t *root, struct shop_order *o)
{
	json_t *arr, *it;
	size_t i;
	char where[WOO_ORDER_NAME_MAX];
	if (!woo_order_array(c, root, "", "refunds", SHOP_ORDER_REFUNDS_MAX, &arr) ||
	    !woo_order_alloc(c, json_array_size(arr), sizeof *o->refunds, (void **)&o->refunds))
		return false;
	o->n_refunds = json_array_size(arr);
	json_array_foreach(arr, i, it)
	{
		struct shop_order_refund *r = &o->refunds[i];
		snprintf(where, sizeof where, "refunds[%zu]", i);
		if (!json_is_object(it))
			return woo_order_fail(c, "%s must be an object", where);
		if (!woo_order_id(c, it, where, "id", false, &r->refund_id) ||
		    !woo_order_str(c, it, where, "reason", SHOP_ORDER_TEXT_MAX, &r->reason) ||
		    !woo_order_money(c, it, where, "total", &r->amount_minor))
			return false;
		if (r->amount_minor < 0)
			r->amount_minor = -r->amount_minor; /* WooCommerce writes it negative */
	}
	return true;
}

/* ---- the order ---- */

static bool woo_order_address(struct woo_order_ctx *c, json_t *root, const char *key, struct shop_address *a)
{
	static const char *const from[] = { "first_name", "last_name", "company", "address_1", "address_2", "postcode",
					    "city",       "state",     "country", "email",     "phone" };
	char **to[] = { &a->first_name, &a->last_name, &a->company,      &a->line1, &a->line2, &a->postal_code,
			&a->city,       &a->region,    &a->country_code, &a->email, &a->phone };
	json_t *v = json_object_get(root, key);
	if (v && !json_is_null(v) && !json_is_object(v))
		return woo_order_fail(c, "%s must be an object", key);
	for (size_t i = 0; i < sizeof from / sizeof from[0]; i++)
		if (!woo_order_str(c, v, key, from[i], SHOP_ORDER_TEXT_MAX, to[i]))
			return false;
	return true;
}

/* What an order has that nothing else WooCommerce answers has: without these it is not an order. */
static bool woo_order_identify(struct woo_order_ctx *c, json_t *root)
{
	static const char *const need[] = {
		"id",           "status", "currency",  "prices_include_tax", "discount_total",
		"discount_tax", "total",  "total_tax", "line_items"
	};
	char missing[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		json_t *v = json_object_get(root, need[i]);
		if (v && !json_is_null(v))
			continue;
		int n = snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", need[i]);
		if (n > 0 && (size_t)n < sizeof missing - used)
			used += (size_t)n;
	}
	if (used)
		return woo_order_fail(c, "not an order: missing %s", missing);
	return true;
}

static bool woo_order_head(struct woo_order_ctx *c, json_t *root, struct shop_order *o)
{
	json_t *id = json_object_get(root, "id"), *incl = json_object_get(root, "prices_include_tax");
	if (!json_is_integer(id) || json_integer_value(id) < 1)
		return woo_order_fail(c, "id must be a whole number > 0");
	if (!json_is_boolean(incl))
		return woo_order_fail(c, "prices_include_tax must be true or false");
	o->prices_include_tax = json_is_true(incl);
	if (!woo_order_id(c, root, "", "id", false, &o->external_id) ||
	    !woo_order_id(c, root, "", "number", false, &o->number) ||
	    !woo_order_str(c, root, "", "status", SHOP_ORDER_TEXT_MAX, &o->status) ||
	    !woo_order_str(c, root, "", "currency", 3, &o->currency) ||
	    !woo_order_id(c, root, "", "customer_id", true, &o->customer_id) ||
	    !woo_order_date(c, root, "date_created_gmt", &o->created_at_us) ||
	    !woo_order_date(c, root, "date_modified_gmt", &o->updated_at_us) ||
	    !woo_order_date(c, root, "date_paid_gmt", &o->paid_at_us) ||
	    !woo_order_str(c, root, "", "payment_method", SHOP_ORDER_TEXT_MAX, &o->payment_method) ||
	    !woo_order_str(c, root, "", "payment_method_title", SHOP_ORDER_TEXT_MAX, &o->payment_method_title) ||
	    !woo_order_str(c, root, "", "transaction_id", SHOP_ORDER_TEXT_MAX, &o->transaction_id) ||
	    !woo_order_str(c, root, "", "customer_note", SHOP_ORDER_NOTE_MAX, &o->customer_note) ||
	    !woo_order_amounts(c, root, "", "discount_total", "discount_tax", &o->totals.discount) ||
	    !woo_order_money(c, root, "", "total", &o->totals.total_minor) ||
	    !woo_order_money(c, root, "", "total_tax", &o->totals.tax_minor))
		return false;
	if (shop_currency_minor_digits(o->currency) != 2)
		return woo_order_fail(c, "currency \"%s\" is not an ISO 4217 code of 2 minor digits", o->currency);
	if (!*o->number) {
		free(o->number);
		if (!(o->number = strdup(o->external_id)))
			return woo_order_oom(c);
	}
	return true;
}

static enum shop_order_parsed woo_order_read(struct woo_order_ctx *c, json_t *root, struct shop_order **out)
{
	struct shop_order *o = NULL;
	enum shop_order_parsed res = SHOP_ORDER_REFUSED;
	if (!json_is_object(root)) {
		woo_order_fail(c, "not an order: a JSON %s, not an object", json_is_array(root) ? "array" : "scalar");
		goto out;
	}
	if (!woo_order_identify(c, root))
		goto out;
	if (!(o = calloc(1, sizeof *o))) {
		woo_order_oom(c);
		goto out;
	}
	if (!woo_order_head(c, root, o) || !woo_order_address(c, root, "billing", &o->billing) ||
	    !woo_order_address(c, root, "shipping", &o->shipping) || !woo_order_rates(c, root) ||
	    !woo_order_lines(c, root, o) || !woo_order_shipping(c, root, o) || !woo_order_fees(c, root, o) ||
	    !woo_order_coupons(c, root, o) || !woo_order_refunds(c, root, o) || !woo_order_nip(c, root, o))
		goto out;
	*out = o;
	o = NULL; /* now the caller's */
	res = SHOP_ORDER_PARSED;
out:
	shop_order_free(o);
	return c->oom ? SHOP_ORDER_FAILED : res;
}

enum shop_order_parsed shop_woo_order_parse(const char *body, size_t len, const struct shop_woo_order_opts *o,
					    struct shop_order **out, char *err, size_t errlen)
{
	struct woo_order_ctx c = { .opts = o, .err = err, .errlen = errlen };
	json_error_t je;
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (len > SHOP_WOO_ORDER_BODY_MAX || (!body && len)) {
		woo_order_fail(&c, "order body of %zu bytes, at most %zu", len, SHOP_WOO_ORDER_BODY_MAX);
		return SHOP_ORDER_MALFORMED;
	}
	/* A key given twice is refused: the signature covers the bytes, and which of the two a reader
	 * believes must not depend on the reader. */
	json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (json_error_code(&je) == json_error_out_of_memory) {
			woo_order_oom(&c);
			return SHOP_ORDER_FAILED;
		}
		woo_order_fail(&c, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
		return SHOP_ORDER_MALFORMED;
	}
	enum shop_order_parsed res = woo_order_read(&c, root, out);
	json_decref(root);
	return res;
}
