/* shop_woo — WooCommerce REST API v3: lookup by SKU, stock through the batch endpoints (at most
 * 100 items a call: more is answered 413), listing for reconciliation.
 *
 * Authentication is HTTP Basic with the consumer key and secret, which WooCommerce accepts over
 * HTTPS; the sandbox peer accepts it over plain HTTP as if TLS ended in front of it. */
#include "shop_woo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "event.h"
#include "hash.h"
#include "http_client.h"
#include "log.h"
#include "shop_woo_api.h"
#include "shop_woo_orders.h"

#define WOO_VARIATION_PAGES_MAX 100 /* 10,000 variations of one product (WooCommerce's own limit is far lower) */

static char *woo_basic_auth(const char *user, const char *pass)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	char *res = NULL;
	if (buf_printf(&in, "%s:%s", user, pass) && buf_puts(&out, "Basic ") && base64_encode(&out, in.data, in.len))
		res = buf_steal(&out, NULL);
	/* the credential must not linger in freed memory longer than needed */
	if (in.data)
		memset(in.data, 0, in.len);
	if (out.data)
		memset(out.data, 0, out.len);
	buf_cleanup(&in);
	buf_cleanup(&out);
	return res;
}

/* Makes one API call; on any non-2xx answer fills err and returns NULL. */
static json_t *woo_call(struct shop_woo *w, const char *method, const char *path, const char *body, char *err,
			size_t errlen)
{
	return shop_woo_api_call(w, method, path, body, NULL, err, errlen);
}

static bool woo_item_from_json(json_t *o, struct shop_item *it)
{
	const char *sku = json_string_value(json_object_get(o, "sku"));
	json_t *id = json_object_get(o, "id");
	if (!sku || !*sku || strlen(sku) > SHOP_SKU_MAX || !json_is_integer(id))
		return false;
	memset(it, 0, sizeof *it);
	memcpy(it->sku, sku, strlen(sku) + 1);
	it->id = json_integer_value(id);
	it->parent_id = json_integer_value(json_object_get(o, "parent_id"));
	it->stock_quantity = json_integer_value(json_object_get(o, "stock_quantity"));
	it->manage_stock = json_is_true(json_object_get(o, "manage_stock"));
	return true;
}

static enum shop_lookup woo_lookup_sku(struct shop *s, const char *sku, struct shop_item *out, char *err, size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	char path[256];
	char *esc = NULL;
	enum shop_lookup res = SHOP_LOOKUP_ERROR;
	/* SKUs are ours to pass through a query string: escape everything but unreserved bytes */
	struct buf q = BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)sku; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			     *p == '-' || *p == '_' || *p == '.' || *p == '~';
		if (!(plain ? buf_append(&q, p, 1) : buf_printf(&q, "%%%02X", *p)))
			goto out;
	}
	esc = buf_steal(&q, NULL);
	snprintf(path, sizeof path, "/products?sku=%s", esc ? esc : "");
	json_t *arr = woo_call(w, "GET", path, NULL, err, errlen);
	if (!arr)
		goto out;
	res = SHOP_LOOKUP_NOT_FOUND;
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		const char *osku = json_string_value(json_object_get(o, "sku"));
		if (osku && strcmp(osku, sku) == 0 && woo_item_from_json(o, out)) {
			res = SHOP_LOOKUP_FOUND;
			break;
		}
	}
	json_decref(arr);
out:
	free(esc);
	buf_cleanup(&q);
	return res;
}

/* One batch call for items idx[0..n) of w, all under the same parent (0: products). */
static bool woo_batch(struct shop_woo *w, const struct shop_stock_write *wr, const size_t *idx, size_t n,
		      int64_t *written_us, char *err, size_t errlen)
{
	json_t *upd = json_array();
	json_t *body = json_pack("{s:o}", "update", upd);
	char path[128];
	char *text = NULL;
	bool ok = false;
	if (!body)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct shop_stock_write *x = &wr[idx[i]];
		json_array_append_new(upd,
				      json_pack("{s:I,s:b,s:I}", "id", (json_int_t)x->id, "manage_stock", 1,
						"stock_quantity", (json_int_t)(x->quantity < 0 ? 0 : x->quantity)));
	}
	text = json_dumps(body, JSON_COMPACT);
	if (wr[idx[0]].parent_id)
		snprintf(path, sizeof path, "/products/%lld/variations/batch", (long long)wr[idx[0]].parent_id);
	else
		snprintf(path, sizeof path, "/products/batch");
	json_t *res = text ? woo_call(w, "POST", path, text, err, errlen) : NULL;
	if (!res)
		goto out;
	int64_t now = event_now_us();
	json_t *done = json_object_get(res, "update");
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *o;
		json_array_foreach(done, k, o)
		{
			if (json_integer_value(json_object_get(o, "id")) == wr[idx[i]].id &&
			    !json_object_get(o, "error")) {
				written_us[idx[i]] = now;
				break;
			}
		}
	}
	json_decref(res);
	ok = true;
out:
	free(text);
	json_decref(body);
	return ok;
}

/* by parent, and within a parent in the caller's order */
static int woo_cmp_parent(const void *a, const void *b, void *arg)
{
	const struct shop_stock_write *w = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int64_t pa = w[ia].parent_id, pb = w[ib].parent_id;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

static int woo_cmp_call(const void *a, const void *b, void *arg)
{
	const size_t *idx = arg;
	size_t ka = idx[((const struct shop_woo_call *)a)->start], kb = idx[((const struct shop_woo_call *)b)->start];
	return ka < kb ? -1 : ka > kb;
}

size_t shop_woo_plan(const struct shop_stock_write *w, size_t n, unsigned batch_max, size_t *idx,
		     struct shop_woo_call *calls)
{
	size_t ncalls = 0;
	if (!batch_max)
		batch_max = 1;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	/* products go to /products/batch, variations to their parent's batch: group by parent, cut
	 * groups into calls, and make the calls in the order of their earliest items */
	qsort_r(idx, n, sizeof *idx, woo_cmp_parent, (void *)w);
	for (size_t start = 0; start < n;) {
		size_t end = start;
		while (end < n && end - start < batch_max && w[idx[end]].parent_id == w[idx[start]].parent_id)
			end++;
		calls[ncalls++] = (struct shop_woo_call){ start, end };
		start = end;
	}
	qsort_r(calls, ncalls, sizeof *calls, woo_cmp_call, idx);
	return ncalls;
}

static bool woo_stock_put(struct shop *s, const struct shop_stock_write *wr, size_t n, int64_t *written_us,
			  unsigned *calls, char *err, size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	size_t *idx = malloc((n ? n : 1) * sizeof *idx);
	struct shop_woo_call *call = malloc((n ? n : 1) * sizeof *call);
	bool ok = true;
	*calls = 0;
	for (size_t i = 0; i < n; i++)
		written_us[i] = 0;
	if (!idx || !call) {
		free(idx);
		free(call);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	size_t ncalls = shop_woo_plan(wr, n, w->batch_max, idx, call);
	for (size_t c = 0; c < ncalls && ok; c++) {
		ok = woo_batch(w, wr, idx + call[c].start, call[c].end - call[c].start, written_us, err, errlen);
		(*calls)++;
	}
	free(call);
	free(idx);
	return ok;
}

static bool woo_list_items(struct shop *s, int page, struct shop_item **items, size_t *n, bool *more, char *err,
			   size_t errlen)
{
	struct shop_woo *w = (struct shop_woo *)s;
	char path[160];
	*items = NULL;
	*n = 0;
	*more = false;
	/* a shop that answers full pages for ever (one that ignores page, say) must not keep a caller's
	 * paging loop going: past the bound the page is refused, before any call */
	if (page < 1 || page > SHOP_LIST_PAGES_MAX) {
		snprintf(err, errlen, "shop %s: listing page %d refused: a listing has at most %d pages", w->id, page,
			 SHOP_LIST_PAGES_MAX);
		return false;
	}
	snprintf(path, sizeof path, "/products?page=%d&per_page=100&orderby=id&order=asc", page);
	json_t *arr = woo_call(w, "GET", path, NULL, err, errlen);
	if (!arr)
		return false;
	size_t cap = json_array_size(arr) + 1, i;
	struct shop_item *out = calloc(cap, sizeof *out);
	json_t *o;
	bool ok = out != NULL;
	json_array_foreach(arr, i, o)
	{
		if (!ok)
			break;
		if (strcmp(json_string_value(json_object_get(o, "type")) ?: "", "variable") == 0) {
			/* a variable product is not sellable itself; its variations are */
			long long pid = (long long)json_integer_value(json_object_get(o, "id"));
			for (int vp = 1; ok; vp++) {
				if (vp > WOO_VARIATION_PAGES_MAX) {
					snprintf(err, errlen,
						 "shop %s: product %lld lists more than %d pages of variations", w->id,
						 pid, WOO_VARIATION_PAGES_MAX);
					ok = false;
					break;
				}
				snprintf(path, sizeof path, "/products/%lld/variations?page=%d&per_page=100", pid, vp);
				json_t *vars = woo_call(w, "GET", path, NULL, err, errlen);
				ok = vars != NULL;
				size_t vn = json_array_size(vars), k;
				struct shop_item *grown = ok ? realloc(out, (cap + vn) * sizeof *out) : NULL;
				ok = ok && grown;
				if (ok) {
					out = grown;
					cap += vn;
				}
				json_t *v;
				json_array_foreach(vars, k, v)
				{
					if (ok && woo_item_from_json(v, &out[*n]))
						out[(*n)++].parent_id = pid;
				}
				json_decref(vars);
				if (vn < 100)
					break;
			}
		} else if (woo_item_from_json(o, &out[*n])) {
			(*n)++;
		}
	}
	*more = json_array_size(arr) == 100;
	json_decref(arr);
	if (!ok) {
		free(out);
		*n = 0;
		return false;
	}
	*items = out;
	return true;
}

static void woo_free(struct shop *s)
{
	struct shop_woo *w = (struct shop_woo *)s;
	http_client_free(w->http);
	free(w->id);
	free(w->base_url);
	if (w->auth)
		memset(w->auth, 0, strlen(w->auth));
	free(w->auth);
	if (w->webhook_secret)
		memset(w->webhook_secret, 0, strlen(w->webhook_secret));
	free(w->webhook_secret);
	free(w->nip_meta_key);
	free(w->locker_meta_key);
	free(w->shipping_tax_class);
	shop_woo_tax_classes_free(w->tax_classes, w->n_tax_classes);
	free(w);
}

static const struct shop_stock_ops woo_stock_ops = {
	.lookup_sku = woo_lookup_sku,
	.stock_put = woo_stock_put,
	.list_items = woo_list_items,
};

/* Copies of the order settings; NULL stays NULL (the parser's default). */
static bool woo_order_settings(struct shop_woo *w, const struct shop_woo_opts *o)
{
	const char *src[] = { o->webhook_secret, o->nip_meta_key, o->locker_meta_key, o->shipping_tax_class };
	char **dst[] = { &w->webhook_secret, &w->nip_meta_key, &w->locker_meta_key, &w->shipping_tax_class };
	for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
		if (src[i] && !(*dst[i] = strdup(src[i])))
			return false;
	return true;
}

struct shop *shop_woo_new(const struct shop_woo_opts *o)
{
	struct shop_woo *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->base.kind = "woocommerce";
	w->base.stock = &woo_stock_ops;
	w->base.orders = &shop_woo_order_ops;
	w->base.free = woo_free;
	w->id = strdup(o->shop_id);
	w->base.id = w->id;
	size_t n = strlen(o->base_url);
	while (n && o->base_url[n - 1] == '/')
		n--;
	w->base_url = strndup(o->base_url, n);
	w->auth = woo_basic_auth(o->consumer_key, o->consumer_secret);
	w->batch_max = o->batch_max && o->batch_max <= 100 ? o->batch_max : 100;
	/* one budget per credential; the key names it by a hash, since budget keys reach logs */
	char key[160];
	snprintf(key, sizeof key, "woo:%.100s:%08x", o->base_url,
		 (unsigned)hash_fnv1a32(o->consumer_key, strlen(o->consumer_key)));
	struct http_client_opts ho = {
		.budget_key = key,
		.rate_per_sec = o->rate_per_sec,
		.metrics_system = o->shop_id,
	};
	w->http = http_client_new(&ho);
	char terr[200] = "";
	bool orders_ok = woo_order_settings(w, o) && shop_woo_tax_classes_parse(o->tax_classes, &w->tax_classes,
										&w->n_tax_classes, terr, sizeof terr);
	w->order_opts = (struct shop_woo_order_opts){ w->nip_meta_key, w->locker_meta_key, w->tax_classes,
						      w->n_tax_classes, w->shipping_tax_class };
	if (terr[0])
		log_error("shop %s: tax classes: %s", o->shop_id, terr);
	if (!w->id || !w->base_url || !w->auth || !w->http || !orders_ok) {
		woo_free(&w->base);
		return NULL;
	}
	return &w->base;
}

struct shop *shop_woo_connect(const struct shop_connect_opts *o)
{
	const struct shop_woo_opts wo = {
		.shop_id = o->shop_id,
		.base_url = o->base_url,
		.consumer_key = o->key,
		.consumer_secret = o->secret,
		.rate_per_sec = o->rate_per_sec,
		.batch_max = 100,
		.webhook_secret = o->webhook_secret,
		.nip_meta_key = o->nip_meta_key,
		.locker_meta_key = o->locker_meta_key,
		.tax_classes = o->tax_classes,
		.shipping_tax_class = o->shipping_tax_class,
	};
	return shop_woo_new(&wo);
}
