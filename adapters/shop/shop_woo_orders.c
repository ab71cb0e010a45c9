#include "shop_woo_orders.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "shop_order.h"
#include "shop_woo_api.h"
#include "shop_woo_webhook.h"

#define WOO_ORDERS_PER_PAGE    100
#define WOO_ORDERS_REFUND_PAGE 100
#define WOO_ORDERS_ID_MAX      19 /* digits of an order id */

/* ---- tax classes ---- */

void shop_woo_tax_classes_free(struct shop_woo_tax_class *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		free((char *)t[i].tax_class);
	free(t);
}

/* One "class=rate" entry of len bytes at p into t. */
static bool woo_tax_class_one(const char *p, size_t len, struct shop_woo_tax_class *t, char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', len);
	char name[SHOP_WOO_TAX_CLASS_LEN + 1], rate[16];
	int64_t bp;
	size_t nl = eq ? (size_t)(eq - p) : 0, rl = eq ? len - nl - 1 : 0;
	if (!eq || nl == 0 || nl > SHOP_WOO_TAX_CLASS_LEN || rl == 0 || rl >= sizeof rate) {
		snprintf(err, errlen, "\"%.*s\" is not class=rate", (int)(len < 80 ? len : 80), p);
		return false;
	}
	memcpy(name, p, nl);
	name[nl] = '\0';
	memcpy(rate, eq + 1, rl);
	rate[rl] = '\0';
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != nl) {
		snprintf(err, errlen, "tax class \"%s\" is not a WooCommerce slug ([a-z0-9_-])", name);
		return false;
	}
	/* a percent with at most two decimals is read like money: "5.5" -> 550 basis points */
	if (!shop_money_parse(rate, &bp) || bp < 0 || bp > 10000) {
		snprintf(err, errlen, "tax class %s: rate \"%s\" is not a percent 0..100 with at most two decimals",
			 name, rate);
		return false;
	}
	t->tax_class = strdup(strcmp(name, "standard") == 0 ? "" : name);
	t->rate_bp = (uint32_t)bp;
	if (!t->tax_class)
		snprintf(err, errlen, "out of memory");
	return t->tax_class != NULL;
}

bool shop_woo_tax_classes_parse(const char *text, struct shop_woo_tax_class **out, size_t *n, char *err, size_t errlen)
{
	struct shop_woo_tax_class *t = NULL;
	size_t count = 0;
	*out = NULL;
	*n = 0;
	if (!text || !*text)
		return true;
	if (!(t = calloc(SHOP_WOO_TAX_CLASSES_MAX, sizeof *t))) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (const char *p = text; p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (count == SHOP_WOO_TAX_CLASSES_MAX) {
			snprintf(err, errlen, "more than %d tax classes", SHOP_WOO_TAX_CLASSES_MAX);
			goto fail;
		}
		if (!woo_tax_class_one(p, len, &t[count], err, errlen))
			goto fail;
		for (size_t i = 0; i < count; i++) {
			if (strcmp(t[i].tax_class, t[count].tax_class) == 0) {
				snprintf(err, errlen, "tax class \"%s\" given twice",
					 *t[i].tax_class ? t[i].tax_class : "standard");
				count++;
				goto fail;
			}
		}
		count++;
		p = comma ? comma + 1 : NULL;
	}
	*out = t;
	*n = count;
	return true;
fail:
	shop_woo_tax_classes_free(t, count);
	return false;
}

/* ---- refunds ---- */

/* What refunds r[0..n) hold, not r itself. */
static void woo_refunds_clear(struct shop_refund *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].refund_id);
		free(r[i].reason);
		for (size_t k = 0; k < r[i].n_lines; k++)
			free(r[i].lines[k].line_id);
		free(r[i].lines);
	}
}

void shop_refunds_free(struct shop_refund *r, size_t n)
{
	if (!r)
		return;
	woo_refunds_clear(r, n);
	free(r);
}

/* WooCommerce writes a refund's figures negative (its amount positive): the size is what counts. */
static bool woo_refund_abs(const json_t *obj, const char *key, int64_t *minor)
{
	const json_t *v = json_object_get(obj, key);
	*minor = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v) || !shop_money_parse(json_string_value(v), minor) || *minor == INT64_MIN)
		return false;
	if (*minor < 0)
		*minor = -*minor;
	return true;
}

/* The order item a refund item gives back: its "_refunded_item_id" meta value, as text. */
static char *woo_refund_item_ref(const json_t *item)
{
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(item, "meta_data"), i, m)
	{
		const char *key = json_string_value(json_object_get(m, "key"));
		const json_t *v = json_object_get(m, "value");
		char num[24];
		if (!key || strcmp(key, "_refunded_item_id") != 0)
			continue;
		if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			return strdup(num);
		}
		if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= WOO_ORDERS_ID_MAX)
			return strdup(json_string_value(v));
	}
	return NULL;
}

static bool woo_refund_line(const json_t *item, bool fee, struct shop_refund_line *l, char *where, char *err,
			    size_t errlen)
{
	const json_t *q = json_object_get(item, "quantity");
	json_int_t qty = json_integer_value(q);
	if (!(l->line_id = woo_refund_item_ref(item))) {
		snprintf(err, errlen, "%s has no _refunded_item_id", where);
		return false;
	}
	if ((!fee && q && !json_is_integer(q)) || qty < -1000000 || qty > 1000000 ||
	    !woo_refund_abs(item, "total", &l->net_minor) || !woo_refund_abs(item, "total_tax", &l->tax_minor)) {
		snprintf(err, errlen, "%s: quantity, total or total_tax is not WooCommerce's", where);
		return false;
	}
	l->quantity_milli = fee ? 0 : (qty < 0 ? -qty : qty) * 1000;
	return true;
}

/* The lines (line_items, then fee_lines) and the shipping of one refund. */
static bool woo_refund_items(const json_t *o, struct shop_refund *r, size_t idx, char *err, size_t errlen)
{
	const json_t *items = json_object_get(o, "line_items"), *fees = json_object_get(o, "fee_lines");
	const json_t *ship = json_object_get(o, "shipping_lines");
	char where[64];
	size_t n = json_array_size(items) + json_array_size(fees), i;
	const json_t *it;
	if (n > SHOP_ORDER_LINES_MAX || json_array_size(ship) > SHOP_ORDER_SHIPPING_MAX) {
		snprintf(err, errlen, "refunds[%zu] has too many items", idx);
		return false;
	}
	if (n && !(r->lines = calloc(n, sizeof *r->lines))) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	json_array_foreach(items, i, it)
	{
		snprintf(where, sizeof where, "refunds[%zu].line_items[%zu]", idx, i);
		if (!woo_refund_line(it, false, &r->lines[r->n_lines++], where, err, errlen))
			return false;
	}
	json_array_foreach(fees, i, it)
	{
		snprintf(where, sizeof where, "refunds[%zu].fee_lines[%zu]", idx, i);
		if (!woo_refund_line(it, true, &r->lines[r->n_lines++], where, err, errlen))
			return false;
	}
	json_array_foreach(ship, i, it)
	{
		int64_t net, tax;
		if (!woo_refund_abs(it, "total", &net) || !woo_refund_abs(it, "total_tax", &tax) ||
		    net > INT64_MAX / 2 - r->shipping_net_minor || tax > INT64_MAX / 2 - r->shipping_tax_minor) {
			snprintf(err, errlen,
				 "refunds[%zu].shipping_lines[%zu]: total or total_tax is not WooCommerce's", idx, i);
			return false;
		}
		r->shipping_net_minor += net;
		r->shipping_tax_minor += tax;
	}
	return true;
}

static bool woo_refund_one(const json_t *o, struct shop_refund *r, size_t idx, char *err, size_t errlen)
{
	const json_t *id = json_object_get(o, "id");
	const char *reason = json_string_value(json_object_get(o, "reason"));
	const char *date = json_string_value(json_object_get(o, "date_created_gmt"));
	char num[24];
	if (!json_is_integer(id) || !woo_refund_abs(o, "amount", &r->amount_minor) ||
	    !json_is_string(json_object_get(o, "amount"))) {
		snprintf(err, errlen, "refunds[%zu] is not a WooCommerce refund (id, amount)", idx);
		return false;
	}
	if (date && *date && !shop_woo_order_time(date, &r->created_at_us)) {
		snprintf(err, errlen, "refunds[%zu].date_created_gmt is not a date", idx);
		return false;
	}
	snprintf(num, sizeof num, "%lld", (long long)json_integer_value(id));
	r->refund_id = strdup(num);
	r->reason = strndup(reason ? reason : "", SHOP_ORDER_TEXT_MAX);
	if (!r->refund_id || !r->reason) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return woo_refund_items(o, r, idx, err, errlen);
}

bool shop_woo_refunds_parse(const char *body, size_t len, struct shop_refund **out, size_t *n, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *arr = len <= SHOP_WOO_ORDER_BODY_MAX ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	struct shop_refund *all = NULL;
	size_t total = *n + json_array_size(arr), i, done = 0;
	bool ok = false;
	const json_t *o;
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "refunds: not a JSON array");
		goto out;
	}
	if (total > SHOP_ORDER_REFUNDS_MAX) {
		snprintf(err, errlen, "refunds: more than %d", SHOP_ORDER_REFUNDS_MAX);
		goto out;
	}
	if (!(all = calloc(total ? total : 1, sizeof *all))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, o)
	{
		done = i + 1;
		if (!woo_refund_one(o, &all[*n + i], *n + i, err, errlen))
			goto out;
	}
	if (*n)
		memcpy(all, *out, *n * sizeof *all);
	free(*out);
	*out = all;
	*n = total;
	all = NULL;
	ok = true;
out:
	if (all)
		woo_refunds_clear(all + *n, done); /* only the new ones: the old are still *out's */
	free(all);
	json_decref(arr);
	return ok;
}

/* ---- the order ops ---- */

void shop_order_page_cleanup(struct shop_order_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		shop_order_free(p->orders[i]);
	free(p->orders);
	for (size_t i = 0; i < p->nrejects; i++) {
		free(p->rejects[i].external_id);
		free(p->rejects[i].reason);
		free(p->rejects[i].body);
	}
	free(p->rejects);
	memset(p, 0, sizeof *p);
}

/* An order id goes into a path: digits only. */
static bool woo_orders_id_ok(struct shop_woo *w, const char *id, char *err, size_t errlen)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > WOO_ORDERS_ID_MAX || strspn(id, "0123456789") != n) {
		snprintf(err, errlen, "shop %s: \"%.40s\" is not a WooCommerce order id", w->id, id ? id : "");
		return false;
	}
	return true;
}

static enum shop_delivery woo_orders_webhook_check(struct shop *s, const char *signature, const char *body, size_t len)
{
	struct shop_woo *w = (struct shop_woo *)s;
	switch (shop_woo_webhook_check(w->webhook_secret, signature, body, len)) {
	case SHOP_WOO_DELIVERY_PING:
		return SHOP_DELIVERY_PING;
	case SHOP_WOO_DELIVERY_SIGNED:
		return SHOP_DELIVERY_SIGNED;
	case SHOP_WOO_DELIVERY_REFUSED:
		break;
	}
	return SHOP_DELIVERY_REFUSED;
}

static enum shop_order_parsed woo_orders_parse(struct shop *s, const char *body, size_t len, struct shop_order **out,
					       char *err, size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	return shop_woo_order_parse(body, len, &w->order_opts, out, err, errlen);
}

/* "2026-12-04T18:05:54" of unix seconds, UTC. */
static void woo_orders_date(int64_t unix_s, char out[24])
{
	struct tm tm;
	time_t t = (time_t)unix_s;
	if (!gmtime_r(&t, &tm) || strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		out[0] = '\0';
}

static int64_t woo_orders_floor_s(int64_t us)
{
	return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}

/* Adds one parsed order, or its refusal, to the page. false: out of memory. */
static bool woo_orders_page_add(struct shop_woo *w, const json_t *o, struct shop_order_page *p, char *err,
				size_t errlen)
{
	char why[512], id[24] = "";
	struct shop_order *order = NULL;
	char *text = json_dumps(o, JSON_COMPACT);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	why[0] = '\0';
	enum shop_order_parsed r = shop_woo_order_parse(text, strlen(text), &w->order_opts, &order, why, sizeof why);
	if (r == SHOP_ORDER_FAILED) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (r == SHOP_ORDER_PARSED) {
		free(text);
		p->orders[p->n++] = order;
		return true;
	}
	if (json_is_integer(json_object_get(o, "id")))
		snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(o, "id")));
	struct shop_order_reject *rj = &p->rejects[p->nrejects];
	rj->external_id = strdup(id);
	rj->reason = strdup(why);
	rj->body = text;
	p->nrejects++; /* counted even when a strdup failed: cleanup frees what is there */
	if (!rj->external_id || !rj->reason) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

static bool woo_orders_list_modified(struct shop *s, int64_t after_us, int64_t before_us, int page,
				     struct shop_order_page *out, char *err, size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	struct http_response resp;
	char path[320], d[24], pages[24];
	json_t *arr = NULL;
	bool ok = false;
	memset(out, 0, sizeof *out);
	if (page < 1 || page > SHOP_LIST_PAGES_MAX) {
		snprintf(err, errlen, "shop %s: order page %d refused: a listing has at most %d pages", w->id, page,
			 SHOP_LIST_PAGES_MAX);
		return false;
	}
	int n = snprintf(path, sizeof path, "/orders?orderby=modified&order=asc&per_page=%d&page=%d&dates_are_gmt=true",
			 WOO_ORDERS_PER_PAGE, page);
	if (after_us > 0) { /* exclusive and whole seconds: from the start of after_us's second */
		woo_orders_date(woo_orders_floor_s(after_us) - 1, d);
		n += snprintf(path + n, sizeof path - (size_t)n, "&modified_after=%s", d);
	}
	if (before_us > 0) {
		woo_orders_date(woo_orders_floor_s(before_us) + 1, d);
		snprintf(path + n, sizeof path - (size_t)n, "&modified_before=%s", d);
	}
	http_response_init(&resp);
	if (!shop_woo_api_request(w, "GET", path, NULL, &resp, err, errlen))
		goto out;
	if (resp.status != 200) {
		json_t *e = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
		snprintf(err, errlen, "shop %s answered HTTP %ld %s to the order listing", w->id, resp.status,
			 json_string_value(json_object_get(e, "code")) ?: "");
		json_decref(e);
		goto out;
	}
	arr = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
	if (!json_is_array(arr) || json_array_size(arr) > WOO_ORDERS_PER_PAGE) {
		snprintf(err, errlen, "shop %s: the order listing is not an array of at most %d orders", w->id,
			 WOO_ORDERS_PER_PAGE);
		goto out;
	}
	if (http_response_header(&resp, "X-WP-TotalPages", pages, sizeof pages)) {
		long tp = strtol(pages, NULL, 10);
		out->total_pages = tp > 0 && tp <= SHOP_LIST_PAGES_MAX ? (int)tp : 0;
	}
	size_t cap = json_array_size(arr) ? json_array_size(arr) : 1, i;
	out->orders = calloc(cap, sizeof *out->orders);
	out->rejects = calloc(cap, sizeof *out->rejects);
	if (!out->orders || !out->rejects) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	const json_t *o;
	json_array_foreach(arr, i, o) if (!woo_orders_page_add(w, o, out, err, errlen)) goto out;
	ok = true;
out:
	if (!ok)
		shop_order_page_cleanup(out);
	json_decref(arr);
	http_response_cleanup(&resp);
	return ok;
}

static enum shop_lookup woo_orders_get(struct shop *s, const char *external_id, struct shop_order **out, char *err,
				       size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	struct http_response resp;
	char path[64], why[400];
	enum shop_lookup res = SHOP_LOOKUP_ERROR;
	*out = NULL;
	if (!woo_orders_id_ok(w, external_id, err, errlen))
		return SHOP_LOOKUP_ERROR;
	snprintf(path, sizeof path, "/orders/%s", external_id);
	http_response_init(&resp);
	if (!shop_woo_api_request(w, "GET", path, NULL, &resp, err, errlen))
		goto out;
	if (resp.status == 404) {
		res = SHOP_LOOKUP_NOT_FOUND;
		goto out;
	}
	if (resp.status != 200) {
		snprintf(err, errlen, "shop %s answered HTTP %ld to GET order %s", w->id, resp.status, external_id);
		goto out;
	}
	why[0] = '\0';
	if (shop_woo_order_parse(resp.body.data ? resp.body.data : "", resp.body.len, &w->order_opts, out, why,
				 sizeof why) == SHOP_ORDER_PARSED)
		res = SHOP_LOOKUP_FOUND;
	else
		snprintf(err, errlen, "shop %s: order %s refused: %s", w->id, external_id, why);
out:
	http_response_cleanup(&resp);
	return res;
}

static bool woo_orders_refunds(struct shop *s, const char *external_id, struct shop_refund **out, size_t *n, char *err,
			       size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	struct http_response resp;
	char path[96];
	bool ok = true;
	*out = NULL;
	*n = 0;
	if (!woo_orders_id_ok(w, external_id, err, errlen))
		return false;
	/* the endpoint pages (10 a page by default); SHOP_ORDER_REFUNDS_MAX bounds the pages */
	for (int page = 1; ok; page++) {
		size_t before = *n;
		snprintf(path, sizeof path, "/orders/%s/refunds?per_page=%d&page=%d", external_id,
			 WOO_ORDERS_REFUND_PAGE, page);
		http_response_init(&resp);
		ok = shop_woo_api_request(w, "GET", path, NULL, &resp, err, errlen);
		if (ok && resp.status != 200) {
			snprintf(err, errlen, "shop %s answered HTTP %ld to the refunds of order %s", w->id,
				 resp.status, external_id);
			ok = false;
		}
		ok = ok &&
		     shop_woo_refunds_parse(resp.body.data ? resp.body.data : "", resp.body.len, out, n, err, errlen);
		http_response_cleanup(&resp);
		if (*n - before < WOO_ORDERS_REFUND_PAGE)
			break;
	}
	if (!ok) {
		shop_refunds_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return ok;
}

static enum shop_write woo_orders_send(struct shop_woo *w, const char *method, const char *path, json_t *body,
				       char *err, size_t errlen)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return SHOP_WRITE_FAILED;
	}
	long status = 0;
	json_t *res = shop_woo_api_call(w, method, path, text, &status, err, errlen);
	free(text);
	json_decref(res);
	if (res)
		return SHOP_WRITE_DONE;
	/* an answer the shop gave, and would give again */
	return status >= 400 && status < 500 && status != 408 && status != 429 ? SHOP_WRITE_REFUSED : SHOP_WRITE_FAILED;
}

static enum shop_write woo_orders_set_status(struct shop *s, const char *external_id, const char *status, char *err,
					     size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	char path[64];
	if (!woo_orders_id_ok(w, external_id, err, errlen))
		return SHOP_WRITE_REFUSED;
	snprintf(path, sizeof path, "/orders/%s", external_id);
	return woo_orders_send(w, "PUT", path, json_pack("{s:s}", "status", status ? status : ""), err, errlen);
}

static enum shop_write woo_orders_add_note(struct shop *s, const char *external_id, const char *text, bool to_customer,
					   char *err, size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	char path[64];
	if (!woo_orders_id_ok(w, external_id, err, errlen))
		return SHOP_WRITE_REFUSED;
	snprintf(path, sizeof path, "/orders/%s/notes", external_id);
	return woo_orders_send(w, "POST", path,
			       json_pack("{s:s,s:b}", "note", text ? text : "", "customer_note", to_customer), err,
			       errlen);
}

static enum shop_lookup woo_orders_find_note(struct shop *s, const char *external_id, const char *marker, char *err,
					     size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	char path[64];
	long status = 0;
	if (!woo_orders_id_ok(w, external_id, err, errlen))
		return SHOP_LOOKUP_ERROR;
	/* WooCommerce answers every note of the order at once: the notes endpoint does not page */
	snprintf(path, sizeof path, "/orders/%s/notes", external_id);
	json_t *arr = shop_woo_api_call(w, "GET", path, NULL, &status, err, errlen);
	if (!arr)
		return SHOP_LOOKUP_ERROR;
	enum shop_lookup res = SHOP_LOOKUP_NOT_FOUND;
	size_t i;
	const json_t *n;
	json_array_foreach(arr, i, n)
	{
		const char *note = json_string_value(json_object_get(n, "note"));
		if (note && marker && strstr(note, marker)) {
			res = SHOP_LOOKUP_FOUND;
			break;
		}
	}
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "shop %s: the notes of order %s are not an array", w->id, external_id);
		res = SHOP_LOOKUP_ERROR;
	}
	json_decref(arr);
	return res;
}

const struct shop_order_ops shop_woo_order_ops = {
	.webhook_check = woo_orders_webhook_check,
	.parse = woo_orders_parse,
	.list_modified = woo_orders_list_modified,
	.get = woo_orders_get,
	.refunds = woo_orders_refunds,
	.set_status = woo_orders_set_status,
	.add_note = woo_orders_add_note,
	.find_note = woo_orders_find_note,
};
