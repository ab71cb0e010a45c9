#include "woo_catalog.h"

#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

struct woo_catalog {
	pthread_mutex_t lock;
	void *by_id;                /* tsearch tree of struct woo_item *, by id */
	void *by_sku;               /* the same items that have a SKU, by SKU */
	struct woo_item **products; /* products (not variations), ascending id: the pages */
	size_t nproducts, products_cap;
	size_t count;
	int64_t next_id;
};

#define WOO_MSG_INVALID_ID "Invalid ID."

static int woo_cmp_id(const void *a, const void *b)
{
	int64_t x = ((const struct woo_item *)a)->id, y = ((const struct woo_item *)b)->id;
	return x < y ? -1 : x > y;
}

static int woo_cmp_sku(const void *a, const void *b)
{
	return strcmp(((const struct woo_item *)a)->sku, ((const struct woo_item *)b)->sku);
}

static int woo_cmp_ptr_id(const void *a, const void *b)
{
	return woo_cmp_id(*(struct woo_item *const *)a, *(struct woo_item *const *)b);
}

struct woo_catalog *woo_catalog_new(void)
{
	struct woo_catalog *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->next_id = WOO_ID_FIRST;
	return c;
}

static void woo_noop_free(void *p)
{
	(void)p;
}

static void woo_item_free_node(void *p)
{
	woo_item_free(p);
}

static void woo_clear_locked(struct woo_catalog *c)
{
	tdestroy(c->by_sku, woo_noop_free); /* the id tree owns the items */
	tdestroy(c->by_id, woo_item_free_node);
	c->by_sku = c->by_id = NULL;
	c->nproducts = 0;
	c->count = 0;
	c->next_id = WOO_ID_FIRST;
}

void woo_catalog_free(struct woo_catalog *c)
{
	if (!c)
		return;
	woo_clear_locked(c);
	free(c->products);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void woo_catalog_clear(struct woo_catalog *c)
{
	pthread_mutex_lock(&c->lock);
	woo_clear_locked(c);
	pthread_mutex_unlock(&c->lock);
}

size_t woo_catalog_count(struct woo_catalog *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static struct woo_item *woo_find_id(struct woo_catalog *c, int64_t id)
{
	struct woo_item key = { .id = id };
	void **hit = tfind(&key, &c->by_id, woo_cmp_id);
	return hit ? *hit : NULL;
}

static struct woo_item *woo_find_sku(struct woo_catalog *c, const char *sku)
{
	struct woo_item key;
	if (!*sku || strlen(sku) > WOO_SKU_MAX)
		return NULL;
	memcpy(key.sku, sku, strlen(sku) + 1);
	void **hit = tfind(&key, &c->by_sku, woo_cmp_sku);
	return hit ? *hit : NULL;
}

/* Position of id in the products array (where it would go when absent). */
static size_t woo_products_pos(const struct woo_catalog *c, int64_t id)
{
	size_t lo = 0, hi = c->nproducts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->products[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool woo_products_add(struct woo_catalog *c, struct woo_item *it)
{
	if (c->nproducts == c->products_cap) {
		size_t cap = c->products_cap ? c->products_cap * 2 : 1024;
		struct woo_item **grown = realloc(c->products, cap * sizeof *grown);
		if (!grown)
			return false;
		c->products = grown;
		c->products_cap = cap;
	}
	size_t i = woo_products_pos(c, it->id);
	memmove(&c->products[i + 1], &c->products[i], (c->nproducts - i) * sizeof c->products[0]);
	c->products[i] = it;
	c->nproducts++;
	return true;
}

static void woo_products_remove(struct woo_catalog *c, int64_t id)
{
	size_t i = woo_products_pos(c, id);
	if (i < c->nproducts && c->products[i]->id == id) {
		memmove(&c->products[i], &c->products[i + 1], (c->nproducts - i - 1) * sizeof c->products[0]);
		c->nproducts--;
	}
}

/* A variable product's stock status follows its variations (WC_Product_Variable::sync). */
static void woo_sync_parent(struct woo_catalog *c, struct woo_item *parent)
{
	if (!parent || parent->type != WOO_VARIABLE || parent->manage_stock)
		return;
	bool in = false, back = false;
	for (size_t i = 0; i < parent->nvariations; i++) {
		const struct woo_item *v = woo_find_id(c, parent->variations[i]);
		in |= v && v->stock_status == WOO_INSTOCK;
		back |= v && v->stock_status == WOO_ONBACKORDER;
	}
	parent->stock_status = in ? WOO_INSTOCK : back ? WOO_ONBACKORDER : WOO_OUTOFSTOCK;
}

static bool woo_sku_taken(struct woo_catalog *c, const char *sku, const struct woo_item *self, struct woo_error *e)
{
	const struct woo_item *other = *sku ? woo_find_sku(c, sku) : NULL;
	if (!other || other == self)
		return false;
	woo_error_set(e, 400, "product_invalid_sku", "Invalid or duplicated SKU.");
	return true;
}

/* Indexes it everywhere; undoes what it did when something fails. Caller holds the lock. */
static bool woo_index_locked(struct woo_catalog *c, struct woo_item *it, struct woo_error *e)
{
	struct woo_item *parent = it->type == WOO_VARIATION ? woo_find_id(c, it->parent_id) : NULL;
	if (woo_find_id(c, it->id)) {
		woo_error_set(e, 400, "woocommerce_rest_product_exists", "Cannot create existing product.");
		return false;
	}
	if (woo_sku_taken(c, it->sku, NULL, e))
		return false;
	if (it->type == WOO_VARIATION && (!parent || parent->type != WOO_VARIABLE)) {
		woo_error_set(e, 404, "woocommerce_rest_product_invalid_id", WOO_MSG_INVALID_ID);
		return false;
	}
	bool ok = tsearch(it, &c->by_id, woo_cmp_id) != NULL;
	bool sku_ok = ok && (!it->sku[0] || tsearch(it, &c->by_sku, woo_cmp_sku));
	bool list_ok = sku_ok && (parent ? woo_item_add_variation(parent, it->id) : woo_products_add(c, it));
	if (!list_ok) {
		if (sku_ok && it->sku[0])
			tdelete(it, &c->by_sku, woo_cmp_sku);
		if (ok)
			tdelete(it, &c->by_id, woo_cmp_id);
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		return false;
	}
	c->count++;
	if (it->id >= c->next_id)
		c->next_id = it->id + 1;
	woo_sync_parent(c, parent);
	return true;
}

bool woo_catalog_insert(struct woo_catalog *c, struct woo_item *it, struct woo_error *e)
{
	pthread_mutex_lock(&c->lock);
	bool ok = woo_index_locked(c, it, e);
	pthread_mutex_unlock(&c->lock);
	if (!ok)
		woo_item_free(it);
	return ok;
}

/* The item a call addresses, or NULL with WooCommerce's error for it. for_write: a PUT (400
 * for an unknown id, as update_item says) rather than a GET or DELETE (404). */
static struct woo_item *woo_resolve(struct woo_catalog *c, struct woo_target t, bool for_write, struct woo_error *e)
{
	struct woo_item *it = woo_find_id(c, t.id);
	int status = for_write ? 400 : 404;
	if (t.parent == 0) {
		if (!it) {
			woo_error_set(e, status, "woocommerce_rest_product_invalid_id", WOO_MSG_INVALID_ID);
			return NULL;
		}
		if (for_write && it->type == WOO_VARIATION) {
			woo_error_set(e, 404, "woocommerce_rest_invalid_product_id",
				      "To manipulate product variations you should use the "
				      "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.");
			return NULL;
		}
		return it;
	}
	if (!it || it->type != WOO_VARIATION) {
		woo_error_set(e, status, "woocommerce_rest_product_variation_invalid_id", WOO_MSG_INVALID_ID);
		return NULL;
	}
	if (it->parent_id != t.parent) {
		if (for_write && !t.in_batch)
			woo_error_set(e, 401, "woocommerce_rest_cannot_edit",
				      "Parent product does not match current variation.");
		else
			woo_error_set(e, status, "woocommerce_rest_product_variation_invalid_id", WOO_MSG_INVALID_ID);
		return NULL;
	}
	return it;
}

static json_t *woo_json_or_oom(const struct woo_item *it, bool variation_view, struct woo_error *e)
{
	json_t *j = woo_item_json(it, variation_view);
	if (!j)
		woo_error_set(e, 500, "internal_server_error", "out of memory");
	return j;
}

json_t *woo_catalog_get(struct woo_catalog *c, struct woo_target t, struct woo_error *e)
{
	pthread_mutex_lock(&c->lock);
	const struct woo_item *it = woo_resolve(c, t, false, e);
	json_t *j = it ? woo_json_or_oom(it, t.parent != 0, e) : NULL;
	pthread_mutex_unlock(&c->lock);
	return j;
}

json_t *woo_catalog_create(struct woo_catalog *c, struct woo_target t, const json_t *body, struct woo_error *e)
{
	struct woo_patch p;
	json_t *j = NULL;
	if (!woo_patch_parse(body, &p, e))
		return NULL;
	enum woo_type type = t.parent ? WOO_VARIATION : (p.set & WOO_F_TYPE) ? p.type : WOO_SIMPLE;
	int64_t now = event_now_us();
	pthread_mutex_lock(&c->lock);
	struct woo_item *it = woo_item_new(t.id ? t.id : c->next_id, type, t.parent, now);
	if (!it || woo_item_apply(it, &p, now) < 0) {
		woo_item_free(it);
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto out;
	}
	it->stock_writes = 0; /* what is counted are updates: creating is not re-writing */
	if (woo_index_locked(c, it, e))
		j = woo_json_or_oom(it, t.parent != 0, e);
	else
		woo_item_free(it);
out:
	pthread_mutex_unlock(&c->lock);
	return j;
}

json_t *woo_catalog_update(struct woo_catalog *c, struct woo_target t, const json_t *body, int *changed,
			   struct woo_error *e)
{
	struct woo_patch p;
	json_t *j = NULL;
	if (changed)
		*changed = 0;
	if (!woo_patch_parse(body, &p, e))
		return NULL;
	p.set &= ~(unsigned)WOO_F_TYPE; /* the sandbox does not convert product types */
	pthread_mutex_lock(&c->lock);
	struct woo_item *it = woo_resolve(c, t, true, e);
	if (!it || ((p.set & WOO_F_SKU) && woo_sku_taken(c, p.sku, it, e)))
		goto out;
	bool sku_moves = (p.set & WOO_F_SKU) && strcmp(p.sku, it->sku) != 0;
	if (sku_moves && it->sku[0])
		tdelete(it, &c->by_sku, woo_cmp_sku);
	int n = woo_item_apply(it, &p, event_now_us());
	if (sku_moves && it->sku[0] && !tsearch(it, &c->by_sku, woo_cmp_sku))
		n = -1; /* lookups by the new SKU would miss it: say so rather than hide it */
	if (n < 0) {
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto out;
	}
	if (changed)
		*changed = n;
	if (it->type == WOO_VARIATION)
		woo_sync_parent(c, woo_find_id(c, it->parent_id));
	j = woo_json_or_oom(it, t.parent != 0, e);
out:
	pthread_mutex_unlock(&c->lock);
	return j;
}

/* Unindexes and frees it. Caller holds the lock. */
static void woo_remove_locked(struct woo_catalog *c, struct woo_item *it)
{
	if (it->sku[0])
		tdelete(it, &c->by_sku, woo_cmp_sku);
	tdelete(it, &c->by_id, woo_cmp_id);
	if (it->type != WOO_VARIATION)
		woo_products_remove(c, it->id);
	c->count--;
	woo_item_free(it);
}

json_t *woo_catalog_delete(struct woo_catalog *c, struct woo_target t, struct woo_error *e)
{
	pthread_mutex_lock(&c->lock);
	struct woo_item *it = woo_resolve(c, t, false, e);
	json_t *j = it ? woo_json_or_oom(it, t.parent != 0, e) : NULL;
	if (j) {
		while (it->nvariations) {
			struct woo_item *v = woo_find_id(c, it->variations[it->nvariations - 1]);
			it->nvariations--;
			if (v)
				woo_remove_locked(c, v);
		}
		struct woo_item *parent = it->type == WOO_VARIATION ? woo_find_id(c, it->parent_id) : NULL;
		if (parent)
			woo_item_remove_variation(parent, it->id);
		woo_remove_locked(c, it);
		woo_sync_parent(c, parent);
	}
	pthread_mutex_unlock(&c->lock);
	return j;
}

/* Items matching ?sku= (comma-separated, and the whole string too, as WooCommerce does), at most
 * once each, ascending id. Returns how many; *out is malloc'ed. Caller holds the lock. */
static size_t woo_match_skus(struct woo_catalog *c, const char *skus, int64_t parent, struct woo_item ***out)
{
	size_t cap = 1, n = 0;
	for (const char *p = skus; *p; p++)
		cap += *p == ',';
	struct woo_item **v = malloc((cap + 1) * sizeof *v);
	*out = v;
	if (!v)
		return 0;
	char tok[WOO_SKU_MAX + 1];
	for (const char *p = skus;; p++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len <= WOO_SKU_MAX) {
			memcpy(tok, p, len);
			tok[len] = '\0';
			struct woo_item *it = woo_find_sku(c, tok);
			if (it && (parent == 0 || it->parent_id == parent))
				v[n++] = it;
		}
		if (!end)
			break;
		p = end;
	}
	struct woo_item *whole = cap > 1 ? woo_find_sku(c, skus) : NULL;
	if (whole && (parent == 0 || whole->parent_id == parent))
		v[n++] = whole;
	qsort(v, n, sizeof *v, woo_cmp_ptr_id);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	return u;
}

/* The collection before paging: a view (items, n) into the catalogue or a filtered copy. */
static bool woo_collection(struct woo_catalog *c, const struct woo_list_query *q, struct woo_item ***items, size_t *n,
			   bool *owned)
{
	*owned = false;
	if (q->sku) {
		*n = woo_match_skus(c, q->sku, q->parent, items);
		*owned = true;
		return *items != NULL;
	}
	if (q->parent == 0) {
		*items = c->products;
		*n = c->nproducts;
		return true;
	}
	const struct woo_item *parent = woo_find_id(c, q->parent);
	*n = parent && parent->type == WOO_VARIABLE ? parent->nvariations : 0;
	*items = malloc((*n + 1) * sizeof **items);
	*owned = true;
	for (size_t i = 0; *items && i < *n; i++)
		(*items)[i] = woo_find_id(c, parent->variations[i]);
	return *items != NULL;
}

bool woo_catalog_list(struct woo_catalog *c, const struct woo_list_query *q, struct woo_list_page *out)
{
	struct woo_item **items = NULL;
	size_t n = 0;
	bool owned = false, ok;
	out->items = json_array();
	pthread_mutex_lock(&c->lock);
	ok = out->items && woo_collection(c, q, &items, &n, &owned);
	out->total = n;
	out->pages = (n + q->per_page - 1) / q->per_page;
	size_t start = (q->page - 1) * q->per_page;
	for (size_t k = start; ok && k < n && k < start + q->per_page; k++) {
		const struct woo_item *it = items[q->descending ? n - 1 - k : k];
		ok = json_array_append_new(out->items, woo_item_json(it, q->parent != 0)) == 0;
	}
	pthread_mutex_unlock(&c->lock);
	if (owned)
		free(items);
	if (!ok) {
		json_decref(out->items);
		out->items = NULL;
	}
	return ok;
}

struct woo_walk {
	json_t *obj;
	bool only_written;
	bool ok;
};

static void woo_walk_sku(const void *node, VISIT which, void *closure)
{
	struct woo_walk *w = closure;
	const struct woo_item *it = *(struct woo_item *const *)node;
	if (which != postorder && which != leaf)
		return;
	if (w->only_written && !it->stock_writes)
		return;
	json_t *v = w->only_written    ? json_integer((json_int_t)it->stock_writes)
		    : it->has_quantity ? json_integer((json_int_t)it->stock_quantity)
				       : json_null();
	w->ok &= json_object_set_new(w->obj, it->sku, v) == 0;
}

static json_t *woo_walk_skus(struct woo_catalog *c, bool only_written)
{
	struct woo_walk w = { json_object(), only_written, true };
	if (!w.obj)
		return NULL;
	pthread_mutex_lock(&c->lock);
	twalk_r(c->by_sku, woo_walk_sku, &w);
	pthread_mutex_unlock(&c->lock);
	if (!w.ok) {
		json_decref(w.obj);
		return NULL;
	}
	return w.obj;
}

json_t *woo_catalog_stock_json(struct woo_catalog *c)
{
	return woo_walk_skus(c, false);
}

json_t *woo_catalog_writes_json(struct woo_catalog *c, const char *sku)
{
	if (!sku)
		return woo_walk_skus(c, true);
	json_t *j = NULL;
	pthread_mutex_lock(&c->lock);
	const struct woo_item *it = woo_find_sku(c, sku);
	if (it)
		j = json_pack("{s:s,s:I,s:I}", "sku", it->sku, "id", (json_int_t)it->id, "stock_writes",
			      (json_int_t)it->stock_writes);
	pthread_mutex_unlock(&c->lock);
	return j;
}
