#include "woo_refund.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop_order.h"
#include "woo_date.h"

#define WOO_REFUND_INVALID "woocommerce_rest_invalid_order_refund"

void woo_refund_money_text(int64_t minor, char out[WOO_REFUND_MONEY_LEN])
{
	uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	snprintf(out, WOO_REFUND_MONEY_LEN, "%s%llu.%02llu", minor < 0 ? "-" : "", (unsigned long long)(m / 100),
		 (unsigned long long)(m % 100));
}

/* A money value of a request: a decimal string, an integer, or a JSON real read through its
 * shortest decimal text (never used as a double). Absent: 0. */
static bool woo_refund_money(const json_t *v, int64_t *minor)
{
	char *text = NULL;
	bool ok;
	*minor = 0;
	if (!v || json_is_null(v))
		return true;
	if (json_is_string(v))
		return shop_money_parse(json_string_value(v), minor);
	if (!json_is_number(v))
		return false;
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	ok = text && shop_money_parse(text, minor);
	free(text);
	return ok;
}

static json_int_t woo_refund_int(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v)) {
		char *end = NULL;
		long long n = strtoll(json_string_value(v), &end, 10);
		return end && *end == '\0' && end != json_string_value(v) ? n : -1;
	}
	return -1;
}

/* The order's item with this id and the array it is in ("line_items", "shipping_lines", "fee_lines"). */
static const json_t *woo_refund_item(const json_t *order, json_int_t id, const char **kind)
{
	static const char *const kinds[] = { "line_items", "shipping_lines", "fee_lines" };
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		size_t i;
		const json_t *it;
		json_array_foreach(json_object_get(order, kinds[k]), i, it)
		{
			if (json_integer_value(json_object_get(it, "id")) == id) {
				*kind = kinds[k];
				return it;
			}
		}
	}
	return NULL;
}

/* Pieces of item id refunded so far (positive). */
static json_int_t woo_refund_pieces_before(const json_t *previous, json_int_t id)
{
	json_int_t n = 0;
	size_t i, j, k;
	const json_t *r, *it, *m;
	json_array_foreach(previous, i, r)
	{
		json_array_foreach(json_object_get(r, "line_items"), j, it)
		{
			json_array_foreach(json_object_get(it, "meta_data"), k, m)
			{
				const char *key = json_string_value(json_object_get(m, "key"));
				if (key && strcmp(key, "_refunded_item_id") == 0 &&
				    woo_refund_int(json_object_get(m, "value")) == id)
					n -= json_integer_value(json_object_get(it, "quantity"));
			}
		}
	}
	return n;
}

static json_t *woo_refund_money_json(int64_t minor)
{
	char t[WOO_REFUND_MONEY_LEN];
	woo_refund_money_text(minor, t);
	return json_string(t);
}

/* refund_tax [{id, refund_total}] into the item's negative taxes[]; *sum gets their total. */
static bool woo_refund_taxes(const json_t *req_item, json_t *taxes, int64_t *sum, struct woo_error *e)
{
	size_t i;
	const json_t *t;
	const json_t *list = json_object_get(req_item, "refund_tax");
	*sum = 0;
	if (list && !json_is_array(list)) {
		woo_error_set(e, 400, WOO_REFUND_INVALID, "refund_tax must be an array of {id, refund_total}.");
		return false;
	}
	json_array_foreach(list, i, t)
	{
		int64_t m;
		json_int_t rate = woo_refund_int(json_object_get(t, "id"));
		if (rate < 0 || !woo_refund_money(json_object_get(t, "refund_total"), &m) || m < 0 ||
		    m > INT64_MAX / 4 || *sum > INT64_MAX / 4) {
			woo_error_set(e, 400, WOO_REFUND_INVALID, "refund_tax[%zu] is not {id, refund_total >= 0}.", i);
			return false;
		}
		*sum += m;
		json_array_append_new(taxes, json_pack("{s:I,s:o,s:o}", "id", rate, "total", woo_refund_money_json(-m),
						       "subtotal", woo_refund_money_json(-m)));
	}
	return true;
}

/* The fields of the order's item a refund item repeats. */
static void woo_refund_copy_fields(const json_t *src, json_t *dst, const char *kind)
{
	static const char *const line[] = { "name", "product_id", "variation_id", "tax_class", "sku" };
	static const char *const ship[] = { "method_title", "method_id", "instance_id" };
	static const char *const fee[] = { "name", "tax_class", "tax_status" };
	const char *const *f = strcmp(kind, "line_items") == 0       ? line
			       : strcmp(kind, "shipping_lines") == 0 ? ship
								     : fee;
	size_t n = f == line ? 5 : 3;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(src, f[i]);
		if (v)
			json_object_set(dst, f[i], v);
	}
}

struct woo_refund_acc {
	json_t *refund;
	int64_t sum_minor;
};

/* One item of the request into the refund's items of its kind. */
static bool woo_refund_one(const json_t *order, const json_t *previous, const json_t *ri, size_t idx,
			   const struct woo_refund_ids *ids, struct woo_refund_acc *acc, struct woo_error *e)
{
	const char *kind = NULL;
	int64_t net, tax;
	json_int_t id = woo_refund_int(json_object_get(ri, "id"));
	json_int_t qty = json_object_get(ri, "quantity") ? woo_refund_int(json_object_get(ri, "quantity")) : 0;
	const json_t *item = id > 0 ? woo_refund_item(order, id, &kind) : NULL;
	if (!item) {
		woo_error_set(e, 400, WOO_REFUND_INVALID, "line_items[%zu]: no item %lld in this order.", idx,
			      (long long)id);
		return false;
	}
	if (qty < 0 || !woo_refund_money(json_object_get(ri, "refund_total"), &net) || net < 0 || net > INT64_MAX / 4) {
		woo_error_set(e, 400, WOO_REFUND_INVALID, "line_items[%zu]: quantity and refund_total must be >= 0.",
			      idx);
		return false;
	}
	json_int_t left = json_integer_value(json_object_get(item, "quantity")) -
			  woo_refund_pieces_before(previous, id);
	if (strcmp(kind, "line_items") == 0 && qty > left) {
		woo_error_set(e, 400, WOO_REFUND_INVALID,
			      "line_items[%zu]: %lld pieces of item %lld asked back, %lld left.", idx, (long long)qty,
			      (long long)id, (long long)left);
		return false;
	}
	json_t *taxes = json_array();
	if (!woo_refund_taxes(ri, taxes, &tax, e)) {
		json_decref(taxes);
		return false;
	}
	if (qty == 0 && net == 0 && tax == 0) { /* wc_create_refund skips such an item */
		json_decref(taxes);
		return true;
	}
	char ref[24];
	snprintf(ref, sizeof ref, "%lld", (long long)id);
	json_t *out = json_pack("{s:I}", "id", (json_int_t)(*ids->next_item_id)++);
	woo_refund_copy_fields(item, out, kind);
	if (strcmp(kind, "line_items") == 0) {
		json_object_set_new(out, "quantity", json_integer(-qty));
		json_object_set_new(out, "subtotal", woo_refund_money_json(-net));
		json_object_set_new(out, "subtotal_tax", woo_refund_money_json(-tax));
	}
	json_object_set_new(out, "total", woo_refund_money_json(-net));
	json_object_set_new(out, "total_tax", woo_refund_money_json(-tax));
	json_object_set_new(out, "taxes", taxes);
	json_object_set_new(out, "meta_data",
			    json_pack("[{s:I,s:s,s:s,s:s,s:s}]", "id", (json_int_t)(*ids->next_item_id)++, "key",
				      "_refunded_item_id", "value", ref, "display_key", "_refunded_item_id",
				      "display_value", ref));
	json_array_append_new(json_object_get(acc->refund, kind), out);
	acc->sum_minor += net + tax;
	return true;
}

static int64_t woo_refund_refunded_before(const json_t *previous)
{
	int64_t sum = 0, m;
	size_t i;
	const json_t *r;
	json_array_foreach(previous, i, r) if (woo_refund_money(json_object_get(r, "amount"), &m)) sum += m;
	return sum;
}

static json_t *woo_refund_new(const json_t *req, const struct woo_refund_ids *ids)
{
	char date[WOO_DATE_LEN];
	woo_date_format(ids->now_s, date);
	const char *reason = json_string_value(json_object_get(req, "reason"));
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:b,s:[],s:[],s:[],s:[],s:[]}", "id", (json_int_t)ids->refund_id,
			 "date_created", date, "date_created_gmt", date, "amount", "0.00", "reason",
			 reason ? reason : "", "refunded_by", 0, "refunded_payment", 0, "meta_data", "line_items",
			 "shipping_lines", "tax_lines", "fee_lines");
}

json_t *woo_refund_build(const json_t *order, const json_t *previous, const json_t *req,
			 const struct woo_refund_ids *ids, int64_t *left_minor, struct woo_error *e)
{
	int64_t total, amount;
	const json_t *items = json_object_get(req, "line_items");
	struct woo_refund_acc acc = { woo_refund_new(req, ids), 0 };
	if (!acc.refund || !shop_money_parse(json_string_value(json_object_get(order, "total")) ?: "0", &total)) {
		woo_error_set(e, 500, "woocommerce_rest_cannot_create_order_refund", "The order has no total.");
		goto fail;
	}
	if ((items && !json_is_array(items)) || json_array_size(items) > WOO_REFUND_ITEMS_MAX) {
		woo_error_set(e, 400, WOO_REFUND_INVALID, "line_items must be an array of at most %d items.",
			      WOO_REFUND_ITEMS_MAX);
		goto fail;
	}
	size_t i;
	const json_t *ri;
	json_array_foreach(items, i, ri) if (!woo_refund_one(order, previous, ri, i, ids, &acc, e)) goto fail;
	const json_t *a = json_object_get(req, "amount");
	if (a && !json_is_null(a) && !(json_is_string(a) && !*json_string_value(a))) {
		if (!woo_refund_money(a, &amount)) {
			woo_error_param(e, "amount", "rest_invalid_type", "amount is not of type string.");
			goto fail;
		}
	} else {
		amount = acc.sum_minor;
	}
	if (amount <= 0) {
		woo_error_set(e, 400, WOO_REFUND_INVALID, "Refund amount must be greater than zero.");
		goto fail;
	}
	int64_t left = total - woo_refund_refunded_before(previous);
	if (amount > left) {
		woo_error_set(e, 500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.");
		goto fail;
	}
	json_object_set_new(acc.refund, "amount", woo_refund_money_json(amount));
	*left_minor = left - amount;
	return acc.refund;
fail:
	json_decref(acc.refund);
	return NULL;
}
