#include "erp_rest_map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "erp_rest.h"

/* ---- requests --------------------------------------------------------------------------------- */

static const char *erp_map_s(const char *s)
{
	return s ? s : "";
}

/* Sets key to v (taken); false when v is NULL or there is no memory. */
static bool erp_map_put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0;
}

/* A text member, left out when empty. */
static bool erp_map_text(json_t *o, const char *key, const char *s)
{
	return !s || !*s || erp_map_put(o, key, json_string(s));
}

static void erp_map_time(int64_t us, char out[32])
{
	struct tm tm;
	time_t secs = (time_t)(us / 1000000);
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%06lldZ", (long long)(us % 1000000));
}

static json_t *erp_map_address(const Erpsync__V1__Address *a)
{
	json_t *j = json_object();
	if (!j || !a)
		return j;
	bool ok = erp_map_text(j, "name", a->name) && erp_map_text(j, "company", a->company) &&
		  erp_map_text(j, "line1", a->line1) && erp_map_text(j, "line2", a->line2) &&
		  erp_map_text(j, "postal_code", a->postal_code) && erp_map_text(j, "city", a->city) &&
		  erp_map_text(j, "region", a->region) && erp_map_text(j, "country_code", a->country_code) &&
		  erp_map_text(j, "phone", a->phone) && erp_map_text(j, "email", a->email) &&
		  erp_map_text(j, "street", a->street) && erp_map_text(j, "building_number", a->building_number) &&
		  erp_map_text(j, "flat_number", a->flat_number);
	if (!ok) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

json_t *erp_rest_map_customer(const Erpsync__V1__Order *o)
{
	const Erpsync__V1__Customer *c = o->customer;
	const Erpsync__V1__Address *b = o->billing;
	char name[512];
	snprintf(name, sizeof name, "%s%s%s", c ? erp_map_s(c->first_name) : "",
		 c && c->first_name && *c->first_name && c->last_name && *c->last_name ? " " : "",
		 c ? erp_map_s(c->last_name) : "");
	if (!*name && b)
		snprintf(name, sizeof name, "%s", erp_map_s(b->name));
	json_t *j = json_object();
	bool ok = j && erp_map_text(j, "name", name) &&
		  erp_map_text(j, "company",
			       c && c->company && *c->company ? c->company
			       : b                            ? b->company
							      : "") &&
		  erp_map_text(j, "nip", c && c->tax_id ? c->tax_id->value : "") &&
		  erp_map_text(j, "email",
			       c && c->email && *c->email ? c->email
			       : b                        ? b->email
							  : "") &&
		  erp_map_text(j, "phone",
			       c && c->phone && *c->phone ? c->phone
			       : b                        ? b->phone
							  : "") &&
		  erp_map_text(j, "shop_customer_id", c ? c->customer_id : "") &&
		  erp_map_put(j, "address", erp_map_address(b));
	if (!ok) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* clang-format off */
static const char *const erp_map_vat_categories[] = {
	"", "rated", "zero_intra_eu", "zero_export", "exempt", "reverse_charge", "out_of_scope", "out_of_scope_art100",
};
/* clang-format on */

static const char *erp_map_vat_category(const Erpsync__V1__VatRate *v)
{
	size_t c = v ? (size_t)v->category : 0;
	return c < sizeof erp_map_vat_categories / sizeof erp_map_vat_categories[0] ? erp_map_vat_categories[c] : "";
}

struct erp_map_sum {
	int64_t net, tax, gross;
};

/* The members every line has: kind, VAT, amounts after discounts and the discount. */
static bool erp_map_line_money(json_t *l, const char *kind, const Erpsync__V1__VatRate *vat,
			       const Erpsync__V1__Amounts *total, const Erpsync__V1__Amounts *discount,
			       struct erp_map_sum *sum)
{
	int64_t net = total ? total->net_minor : 0, tax = total ? total->tax_minor : 0;
	int64_t gross = total ? total->gross_minor : 0;
	sum->net += net;
	sum->tax += tax;
	sum->gross += gross;
	bool ok = erp_map_put(l, "kind", json_string(kind)) &&
		  erp_map_put(l, "vat_rate_bp", json_integer(vat ? (json_int_t)vat->rate_bp : 0)) &&
		  erp_map_text(l, "vat_category", erp_map_vat_category(vat)) &&
		  erp_map_text(l, "vat_country", vat ? vat->country_code : "") &&
		  erp_map_put(l, "net_minor", json_integer(net)) && erp_map_put(l, "tax_minor", json_integer(tax)) &&
		  erp_map_put(l, "gross_minor", json_integer(gross));
	if (ok && discount && (discount->net_minor || discount->tax_minor || discount->gross_minor))
		ok = erp_map_put(l, "discount_net_minor", json_integer(discount->net_minor)) &&
		     erp_map_put(l, "discount_tax_minor", json_integer(discount->tax_minor)) &&
		     erp_map_put(l, "discount_gross_minor", json_integer(discount->gross_minor));
	return ok;
}

static json_t *erp_map_item(const Erpsync__V1__OrderLine *ln, bool gross_prices, struct erp_map_sum *sum)
{
	json_t *l = json_object();
	const char *basis = ln->price_basis == ERPSYNC__V1__PRICE_BASIS__PRICE_BASIS_GROSS ? "gross"
			    : ln->price_basis == ERPSYNC__V1__PRICE_BASIS__PRICE_BASIS_NET ? "net"
			    : gross_prices                                                 ? "gross"
											   : "net";
	bool ok = l && erp_map_text(l, "line_id", ln->line_id) &&
		  erp_map_put(l, "sku", json_string(erp_map_s(ln->sku))) && erp_map_text(l, "name", ln->name) &&
		  erp_map_text(l, "unit", ln->unit) && erp_map_text(l, "gtin", ln->gtin) &&
		  erp_map_put(l, "quantity_milli", json_integer(ln->quantity_milli)) &&
		  erp_map_put(l, "unit_price_minor", json_integer(ln->unit_price ? ln->unit_price->amount_minor : 0)) &&
		  erp_map_put(l, "price_basis", json_string(basis)) &&
		  erp_map_line_money(l, "item", ln->vat_rate, ln->total, ln->discount, sum);
	if (!ok) {
		json_decref(l);
		l = NULL;
	}
	return l;
}

/* A shipping or fee line: one unit at its total, in the basis the shop entered prices. */
static json_t *erp_map_charge(const char *kind, const char *id, const char *name, const char *method,
			      const Erpsync__V1__VatRate *vat, const Erpsync__V1__Amounts *total,
			      const Erpsync__V1__Amounts *discount, bool gross_prices, struct erp_map_sum *sum)
{
	json_t *l = json_object();
	int64_t unit = !total ? 0 : gross_prices ? total->gross_minor : total->net_minor;
	bool ok = l && erp_map_text(l, "line_id", id) && erp_map_text(l, "name", name) &&
		  erp_map_text(l, "method_id", method) && erp_map_put(l, "quantity_milli", json_integer(1000)) &&
		  erp_map_put(l, "unit_price_minor", json_integer(unit)) &&
		  erp_map_put(l, "price_basis", json_string(gross_prices ? "gross" : "net")) &&
		  erp_map_line_money(l, kind, vat, total, discount, sum);
	if (!ok) {
		json_decref(l);
		l = NULL;
	}
	return l;
}

static json_t *erp_map_lines(const Erpsync__V1__Order *o, struct erp_map_sum *sum)
{
	json_t *a = json_array();
	bool ok = a != NULL, gross = o->prices_include_tax;
	for (size_t i = 0; ok && i < o->n_lines; i++)
		ok = json_array_append_new(a, erp_map_item(o->lines[i], gross, sum)) == 0;
	for (size_t i = 0; ok && i < o->n_shipping_lines; i++) {
		const Erpsync__V1__ShippingLine *s = o->shipping_lines[i];
		ok = json_array_append_new(a, erp_map_charge("shipping", s->line_id, s->title, s->method_id,
							     s->vat_rate, s->total, s->discount, gross, sum)) == 0;
	}
	for (size_t i = 0; ok && i < o->n_fee_lines; i++) {
		const Erpsync__V1__FeeLine *f = o->fee_lines[i];
		bool negative = f->total && f->total->gross_minor < 0;
		ok = json_array_append_new(a, erp_map_charge(negative ? "discount" : "fee", f->line_id, f->name, "",
							     f->vat_rate, f->total, NULL, gross, sum)) == 0;
	}
	if (!ok) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

static json_t *erp_map_coupons(const Erpsync__V1__Order *o)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < o->n_coupons; i++) {
		const Erpsync__V1__CouponLine *c = o->coupons[i];
		json_t *j = json_object();
		bool ok = j && erp_map_put(j, "code", json_string(erp_map_s(c->code))) &&
			  erp_map_text(j, "promotion_id", c->promotion_id) &&
			  erp_map_put(j, "discount_net_minor",
				      json_integer(c->discount ? c->discount->net_minor : 0)) &&
			  erp_map_put(j, "discount_gross_minor",
				      json_integer(c->discount ? c->discount->gross_minor : 0));
		if (!ok || json_array_append_new(a, j) != 0) {
			if (!ok)
				json_decref(j);
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

json_t *erp_rest_map_order(const char *external_ref, const char *customer_id, const Erpsync__V1__Order *o, char *err,
			   size_t errlen)
{
	struct erp_map_sum sum = { 0 };
	if (!o->currency || !*o->currency) {
		snprintf(err, errlen, "the order has no currency");
		return NULL;
	}
	json_t *j = json_object();
	bool ok = j && erp_map_put(j, "external_ref", json_string(external_ref)) &&
		  erp_map_put(j, "customer_id", json_string(customer_id)) &&
		  erp_map_put(j, "currency", json_string(o->currency)) &&
		  erp_map_put(j, "prices_include_tax", json_boolean(o->prices_include_tax)) &&
		  erp_map_put(j, "lines", erp_map_lines(o, &sum)) && erp_map_put(j, "coupons", erp_map_coupons(o)) &&
		  erp_map_put(j, "billing", erp_map_address(o->billing)) &&
		  erp_map_text(j, "pickup_point", o->pickup_point) &&
		  erp_map_text(j, "payment_method", o->payment_method) && erp_map_text(j, "shop_number", o->number) &&
		  erp_map_text(j, "note", o->customer_note) && erp_map_text(j, "warehouse", o->warehouse);
	if (ok && o->shipping)
		ok = erp_map_put(j, "shipping", erp_map_address(o->shipping));
	const Erpsync__V1__Amounts *t = o->totals ? o->totals->total : NULL;
	if (ok)
		ok = erp_map_put(j, "totals",
				 json_pack("{s:I,s:I,s:I}", "net_minor", (json_int_t)(t ? t->net_minor : sum.net),
					   "tax_minor", (json_int_t)(t ? t->tax_minor : sum.tax), "gross_minor",
					   (json_int_t)(t ? t->gross_minor : sum.gross)));
	if (!ok) {
		snprintf(err, errlen, "the order cannot be written as JSON (text that is not UTF-8, or out of memory)");
		json_decref(j);
		j = NULL;
	}
	return j;
}

json_t *erp_rest_map_payment(const char *order_id, const char *external_ref, const Erpsync__V1__Payment *p)
{
	char paid[32];
	json_t *j = json_object();
	bool ok = j && erp_map_put(j, "order_id", json_string(order_id)) &&
		  erp_map_put(j, "external_ref", json_string(external_ref)) &&
		  erp_map_put(j, "amount_minor", json_integer(p->amount ? p->amount->amount_minor : 0)) &&
		  erp_map_put(j, "currency", json_string(p->amount ? erp_map_s(p->amount->currency) : "")) &&
		  erp_map_text(j, "method", p->method) && erp_map_text(j, "method_title", p->method_title) &&
		  erp_map_text(j, "provider", p->provider) && erp_map_text(j, "reference", p->provider_ref);
	if (ok && p->paid_at > 0) {
		erp_map_time(p->paid_at, paid);
		ok = erp_map_put(j, "paid_at", json_string(paid));
	}
	if (!ok) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* clang-format off */
static const char *const erp_map_reasons[] = {
	"", "withdrawal", "defective", "damaged_in_transit", "wrong_item", "not_as_described", "size_or_fit",
	"price_adjustment", "order_cancelled", "other",
};
/* clang-format on */

/* The customer's words when there are any, else the reason's name. */
static const char *erp_map_reason(const Erpsync__V1__ReturnLine *l)
{
	size_t r = (size_t)l->reason;
	if (l->reason_text && *l->reason_text)
		return l->reason_text;
	return r < sizeof erp_map_reasons / sizeof erp_map_reasons[0] ? erp_map_reasons[r] : "";
}

static json_t *erp_map_return_lines(const Erpsync__V1__Return *r, bool money)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n_lines; i++) {
		const Erpsync__V1__ReturnLine *l = r->lines[i];
		json_t *j = json_object();
		bool ok = j && erp_map_put(j, "sku", json_string(erp_map_s(l->sku))) &&
			  erp_map_text(j, "line_id", l->order_line_id) &&
			  erp_map_put(j, "quantity_milli", json_integer(l->quantity_milli)) &&
			  erp_map_text(j, "reason", erp_map_reason(l));
		if (ok && money)
			ok = erp_map_put(j, "net_minor", json_integer(l->refund ? l->refund->net_minor : 0)) &&
			     erp_map_put(j, "tax_minor", json_integer(l->refund ? l->refund->tax_minor : 0)) &&
			     erp_map_put(j, "restock", json_boolean(l->restock));
		if (!ok || json_array_append_new(a, j) != 0) {
			if (!ok)
				json_decref(j);
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

json_t *erp_rest_map_return(const char *order_id, const char *external_ref, const Erpsync__V1__Return *r)
{
	bool goods = r->kind == ERPSYNC__V1__RETURN_KIND__RETURN_KIND_RETURN;
	for (size_t i = 0; r->kind == ERPSYNC__V1__RETURN_KIND__RETURN_KIND_UNSPECIFIED && i < r->n_lines; i++)
		goods |= r->lines[i]->quantity_milli > 0;
	int64_t total = 0;
	if (r->total_refund) {
		total = r->total_refund->gross_minor;
	} else {
		for (size_t i = 0; i < r->n_lines; i++)
			total += r->lines[i]->refund ? r->lines[i]->refund->gross_minor : 0;
		total += r->shipping_refund ? r->shipping_refund->gross_minor : 0;
	}
	json_t *j = json_object();
	bool ok = j && erp_map_put(j, "order_id", json_string(order_id)) &&
		  erp_map_put(j, "external_ref", json_string(external_ref)) &&
		  erp_map_put(j, "kind", json_string(goods ? "return" : "refund_only")) &&
		  erp_map_put(j, "lines", erp_map_return_lines(r, true)) &&
		  erp_map_put(j, "shipping_net_minor",
			      json_integer(r->shipping_refund ? r->shipping_refund->net_minor : 0)) &&
		  erp_map_put(j, "shipping_tax_minor",
			      json_integer(r->shipping_refund ? r->shipping_refund->tax_minor : 0)) &&
		  erp_map_put(j, "total_minor", json_integer(total)) && erp_map_text(j, "note", r->note) &&
		  erp_map_text(j, "warehouse", r->restock_warehouse);
	if (!ok) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* clang-format off */
static const char *const erp_map_remedies[] = { "repair", "repair", "replacement", "refund", "price_reduction" };
/* clang-format on */

/* An unspecified remedy asks for repair: what the law offers the seller first. */
json_t *erp_rest_map_complaint(const char *order_id, const char *external_ref, const Erpsync__V1__Return *r)
{
	size_t m = (size_t)r->requested_remedy;
	const char *reason = r->n_lines ? erp_map_reason(r->lines[0]) : "";
	json_t *j = json_object();
	bool ok = j && erp_map_put(j, "order_id", json_string(order_id)) &&
		  erp_map_put(j, "external_ref", json_string(external_ref)) &&
		  erp_map_put(j, "lines", erp_map_return_lines(r, false)) && erp_map_text(j, "reason", reason) &&
		  erp_map_put(j, "requested_remedy",
			      json_string(m < sizeof erp_map_remedies / sizeof erp_map_remedies[0] ? erp_map_remedies[m]
												   : "repair")) &&
		  erp_map_text(j, "note", r->note);
	if (!ok) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* ---- answers ---------------------------------------------------------------------------------- */

#define ERP_MAP_ITEMS_MAX 10000

/* A string member into out[max + 1]: required (non-empty), or optional ("" when absent or null). */
static bool erp_map_get(json_t *o, const char *key, bool required, char *out, size_t max, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	out[0] = '\0';
	if (!required && (!v || json_is_null(v)))
		return true;
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	if (!s || n != json_string_length(v) || n > max || (required && n == 0)) {
		snprintf(err, errlen, "\"%s\" %s", key,
			 !v        ? "missing"
			 : !s      ? "not a string"
			 : n > max ? "too long"
				   : "empty or holding a NUL");
		return false;
	}
	memcpy(out, s, n + 1);
	return true;
}

static bool erp_map_get_time(json_t *o, const char *key, bool required, int64_t *us, char *err, size_t errlen)
{
	char t[40];
	*us = 0;
	if (!erp_map_get(o, key, required, t, sizeof t - 1, err, errlen))
		return false;
	if (*t && !erp_rest_parse_time(t, us)) {
		snprintf(err, errlen, "\"%s\" is not RFC 3339 UTC", key);
		return false;
	}
	return true;
}

/* An optional whole number (0 when absent). */
static bool erp_map_get_int(json_t *o, const char *key, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "\"%s\" is not a whole number", key);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

bool erp_rest_map_doc(json_t *j, struct erp_doc *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (errlen)
		err[0] = '\0';
	if (!json_is_object(j)) {
		snprintf(err, errlen, "a document is not an object");
		return false;
	}
	json_t *totals = json_object_get(j, "totals");
	bool ok = erp_map_get(j, "id", true, out->id, ERP_ID_MAX, err, errlen) &&
		  erp_map_get(j, "number", false, out->number, ERP_NUMBER_MAX, err, errlen) &&
		  erp_map_get(j, "status", false, out->status, ERP_STATUS_MAX, err, errlen) &&
		  erp_map_get(j, "external_ref", false, out->external_ref, ERP_REF_MAX, err, errlen) &&
		  erp_map_get_time(j, "created_at", false, &out->created_at_us, err, errlen);
	if (ok && totals)
		ok = json_is_object(totals) &&
		     erp_map_get_int(totals, "gross_minor", &out->total_gross_minor, err, errlen);
	else if (ok && json_object_get(j, "amount_minor"))
		ok = erp_map_get_int(j, "amount_minor", &out->total_gross_minor, err, errlen);
	else if (ok)
		ok = erp_map_get_int(j, "total_minor", &out->total_gross_minor, err, errlen);
	if (!ok && !*err)
		snprintf(err, errlen, "\"totals\" is not an object");
	return ok;
}

/* The body's object with an "items" array of at most ERP_MAP_ITEMS_MAX; NULL with err. */
static json_t *erp_map_page(const char *body, size_t len, json_t **items, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	*items = json_object_get(root, "items");
	if (!root)
		snprintf(err, errlen, "not JSON: %s at line %d column %d", jerr.text, jerr.line, jerr.column);
	else if (!json_is_array(*items) || json_array_size(*items) > ERP_MAP_ITEMS_MAX)
		snprintf(err, errlen, "\"items\" missing, not an array or longer than %d", ERP_MAP_ITEMS_MAX);
	else
		return root;
	json_decref(root);
	return NULL;
}

/* has_more: a boolean when there; required says whether it must be. */
static bool erp_map_more(json_t *root, bool required, bool *more, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, "has_more");
	*more = json_is_true(v);
	if ((v || required) && !json_is_boolean(v)) {
		snprintf(err, errlen, "\"has_more\" missing or not true/false");
		return false;
	}
	return true;
}

int erp_rest_map_docs(const char *body, size_t len, struct erp_doc *out, size_t max, struct erp_doc **out_all,
		      bool *has_more, char *err, size_t errlen)
{
	json_t *items;
	bool more = false;
	if (out_all)
		*out_all = NULL;
	json_t *root = erp_map_page(body, len, &items, err, errlen);
	if (!root || !erp_map_more(root, false, &more, err, errlen)) {
		json_decref(root);
		return -1;
	}
	size_t n = json_array_size(items);
	struct erp_doc *all = out_all && n ? calloc(n, sizeof *all) : NULL;
	bool ok = !out_all || !n || all;
	if (!ok)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; ok && i < n; i++) {
		struct erp_doc d;
		char why[200];
		ok = erp_rest_map_doc(json_array_get(items, i), &d, why, sizeof why);
		if (!ok)
			snprintf(err, errlen, "item %zu: %s", i, why);
		else if (i < max)
			out[i] = d;
		if (ok && all)
			all[i] = d;
	}
	json_decref(root);
	if (!ok) {
		free(all);
		return -1;
	}
	if (out_all)
		*out_all = all;
	if (has_more)
		*has_more = more;
	return (int)n;
}

static bool erp_map_order_change(json_t *it, struct erp_order_change *c, char *err, size_t errlen)
{
	return erp_map_get(it, "order_id", true, c->order_id, ERP_ID_MAX, err, errlen) &&
	       erp_map_get(it, "number", false, c->number, ERP_NUMBER_MAX, err, errlen) &&
	       erp_map_get(it, "external_ref", false, c->external_ref, ERP_REF_MAX, err, errlen) &&
	       erp_map_get(it, "status", true, c->status, ERP_STATUS_MAX, err, errlen) &&
	       erp_map_get(it, "reason", false, c->reason, ERP_TEXT_MAX, err, errlen) &&
	       erp_map_get_time(it, "changed_at", true, &c->changed_at_us, err, errlen);
}

static bool erp_map_complaint_change(json_t *it, struct erp_complaint_change *c, char *err, size_t errlen)
{
	bool ok = erp_map_get(it, "complaint_id", true, c->complaint_id, ERP_ID_MAX, err, errlen) &&
		  erp_map_get(it, "external_ref", false, c->external_ref, ERP_REF_MAX, err, errlen) &&
		  erp_map_get(it, "order_id", false, c->order_id, ERP_ID_MAX, err, errlen) &&
		  erp_map_get(it, "status", true, c->status, ERP_STATUS_MAX, err, errlen) &&
		  erp_map_get(it, "resolution", false, c->resolution, ERP_STATUS_MAX, err, errlen) &&
		  erp_map_get(it, "note", false, c->note, ERP_TEXT_MAX, err, errlen) &&
		  erp_map_get_int(it, "refund_minor", &c->refund_minor, err, errlen) &&
		  erp_map_get_time(it, "changed_at", true, &c->changed_at_us, err, errlen);
	if (ok && c->refund_minor < 0) {
		snprintf(err, errlen, "\"refund_minor\" is negative");
		ok = false;
	}
	return ok;
}

/* A cursor is a sequence number: digits only, 1..ERP_CURSOR_MAX of them. */
static bool erp_map_cursor(json_t *o, const char *key, bool required, char *out, char *err, size_t errlen)
{
	if (!erp_map_get(o, key, required, out, ERP_CURSOR_MAX, err, errlen))
		return false;
	if (strspn(out, "0123456789") != strlen(out)) {
		snprintf(err, errlen, "\"%s\" is not a sequence number", key);
		return false;
	}
	return true;
}

/* n records of items (or the single object one when items is NULL) into the page. */
static bool erp_map_change_items(json_t *items, json_t *one, size_t n, bool complaints, struct erp_change_page *out,
				 char *err, size_t errlen)
{
	if (n && complaints)
		out->complaints = calloc(n, sizeof *out->complaints);
	else if (n)
		out->orders = calloc(n, sizeof *out->orders);
	if (n && !out->complaints && !out->orders) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char why[200];
		json_t *it = items ? json_array_get(items, i) : one;
		bool ok = json_is_object(it) &&
			  (complaints ? erp_map_complaint_change(it, &out->complaints[i], why, sizeof why)
				      : erp_map_order_change(it, &out->orders[i], why, sizeof why));
		if (!ok) {
			snprintf(err, errlen, "item %zu: %s", i, json_is_object(it) ? why : "not an object");
			return false;
		}
		out->n++;
	}
	return true;
}

bool erp_rest_map_changes(const char *body, size_t len, bool complaints, struct erp_change_page *out, char *err,
			  size_t errlen)
{
	json_t *items;
	memset(out, 0, sizeof *out);
	json_t *root = erp_map_page(body, len, &items, err, errlen);
	bool ok = root && erp_map_cursor(root, "next_cursor", true, out->next_cursor, err, errlen) &&
		  erp_map_more(root, true, &out->has_more, err, errlen) &&
		  erp_map_change_items(items, NULL, json_array_size(items), complaints, out, err, errlen);
	json_decref(root);
	if (!ok)
		erp_change_page_cleanup(out);
	return ok;
}

bool erp_rest_map_pushed_change(const char *body, size_t len, bool complaints, struct erp_change_page *out, char *err,
				size_t errlen)
{
	json_error_t jerr;
	memset(out, 0, sizeof *out);
	json_t *root = json_loadb(body, len, 0, &jerr);
	bool ok = json_is_object(root);
	if (!ok)
		snprintf(err, errlen, "not a JSON object%s%s", root ? "" : ": ", root ? "" : jerr.text);
	ok = ok && erp_map_cursor(root, "cursor", false, out->next_cursor, err, errlen) &&
	     erp_map_change_items(NULL, root, 1, complaints, out, err, errlen);
	json_decref(root);
	if (!ok)
		erp_change_page_cleanup(out);
	return ok;
}

void erp_rest_map_error(const char *body, size_t len, long status, char *err, size_t errlen)
{
	json_t *root = json_loadb(body ? body : "", len, 0, NULL);
	const char *msg = json_string_value(json_object_get(root, "message"));
	const char *code = json_string_value(json_object_get(root, "error"));
	if (!code)
		code = json_string_value(json_object_get(root, "code"));
	if (msg && *msg)
		snprintf(err, errlen, "%s", msg);
	else if (code && *code)
		snprintf(err, errlen, "%s", code);
	else
		snprintf(err, errlen, "HTTP %ld", status);
	json_decref(root);
}
