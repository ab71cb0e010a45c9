#include "woo_order_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "woo_date.h"
#include "woo_refund.h"

struct woo_order_rec {
	int64_t id;
	int64_t created_s, modified_s;
	char status[WOO_ORDER_STATUS_MAX + 1];
	char *text; /* the order, compact JSON */
	size_t len;
	json_t *notes;   /* oldest first; NULL: none */
	json_t *refunds; /* newest first; NULL: none */
};

struct woo_order_store {
	pthread_rwlock_t lock;
	struct woo_order_rec **by_id;  /* ascending id */
	struct woo_order_rec **by_mod; /* ascending (modified_s, id) */
	size_t n, cap;
	int64_t next_id;      /* orders and refunds: both posts in WooCommerce */
	int64_t next_item_id; /* order items of refunds */
	int64_t next_note_id;
	uint64_t rnd;
	char extra[WOO_ORDER_STATUSES_EXTRA][WOO_ORDER_STATUS_MAX + 1];
	size_t nextra;
	woo_order_listener fn;
	void *ud;
	int64_t (*clock)(void); /* unix seconds */
};

static int64_t woo_clock_wall(void)
{
	return (int64_t)time(NULL);
}

/* wc_get_order_statuses() without the "wc-" prefix, and how its notes name them. */
static const char *const woo_statuses[][2] = {
	{ "pending", "Pending payment" }, { "processing", "Processing" }, { "on-hold", "On hold" },
	{ "completed", "Completed" },     { "cancelled", "Cancelled" },   { "refunded", "Refunded" },
	{ "failed", "Failed" },           { "checkout-draft", "Draft" },
};
#define WOO_NSTATUSES (sizeof woo_statuses / sizeof woo_statuses[0])

/* ---- records and indexes ---- */

static void woo_rec_free(struct woo_order_rec *r)
{
	if (!r)
		return;
	free(r->text);
	json_decref(r->notes);
	json_decref(r->refunds);
	free(r);
}

static int woo_mod_cmp(const struct woo_order_rec *r, int64_t modified_s, int64_t id)
{
	if (r->modified_s != modified_s)
		return r->modified_s < modified_s ? -1 : 1;
	return r->id < id ? -1 : r->id > id;
}

/* First index of by_mod[0..n) not before (modified_s, id). */
static size_t woo_mod_lower_n(const struct woo_order_store *s, size_t n, int64_t modified_s, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (woo_mod_cmp(s->by_mod[mid], modified_s, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t woo_mod_lower(const struct woo_order_store *s, int64_t modified_s, int64_t id)
{
	return woo_mod_lower_n(s, s->n, modified_s, id);
}

static size_t woo_id_lower(const struct woo_order_store *s, int64_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct woo_order_rec *woo_find(const struct woo_order_store *s, int64_t id)
{
	size_t i = woo_id_lower(s, id);
	return i < s->n && s->by_id[i]->id == id ? s->by_id[i] : NULL;
}

static void woo_array_insert(struct woo_order_rec **a, size_t n, size_t at, struct woo_order_rec *r)
{
	memmove(a + at + 1, a + at, (n - at) * sizeof *a);
	a[at] = r;
}

static void woo_array_remove(struct woo_order_rec **a, size_t n, size_t at)
{
	memmove(a + at, a + at + 1, (n - at - 1) * sizeof *a);
}

static bool woo_index_add(struct woo_order_store *s, struct woo_order_rec *r)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct woo_order_rec **a = realloc(s->by_id, cap * sizeof *a);
		if (a)
			s->by_id = a;
		struct woo_order_rec **b = a ? realloc(s->by_mod, cap * sizeof *b) : NULL;
		if (!b)
			return false;
		s->by_mod = b;
		s->cap = cap;
	}
	woo_array_insert(s->by_id, s->n, woo_id_lower(s, r->id), r);
	woo_array_insert(s->by_mod, s->n, woo_mod_lower(s, r->modified_s, r->id), r);
	s->n++;
	return true;
}

/* Takes r out of by_mod (before its modified_s changes) or out of both. */
static void woo_index_unmod(struct woo_order_store *s, struct woo_order_rec *r)
{
	woo_array_remove(s->by_mod, s->n, woo_mod_lower(s, r->modified_s, r->id));
}

/* Puts r back into by_mod, which holds n - 1 orders since woo_index_unmod. */
static void woo_index_remod(struct woo_order_store *s, struct woo_order_rec *r)
{
	woo_array_insert(s->by_mod, s->n - 1, woo_mod_lower_n(s, s->n - 1, r->modified_s, r->id), r);
}

/* ---- the store ---- */

struct woo_order_store *woo_order_store_new(woo_order_listener fn, void *ud)
{
	struct woo_order_store *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (pthread_rwlock_init(&s->lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	s->next_id = WOO_ORDER_ID_FIRST;
	s->next_item_id = 1;
	s->next_note_id = 1;
	s->rnd = (uint64_t)time(NULL) * 6364136223846793005ULL + 1442695040888963407ULL;
	s->fn = fn;
	s->ud = ud;
	s->clock = woo_clock_wall;
	return s;
}

static void woo_clear_locked(struct woo_order_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		woo_rec_free(s->by_id[i]);
	s->n = 0;
	s->next_id = WOO_ORDER_ID_FIRST;
}

void woo_order_store_clear(struct woo_order_store *s)
{
	pthread_rwlock_wrlock(&s->lock);
	woo_clear_locked(s);
	pthread_rwlock_unlock(&s->lock);
}

void woo_order_store_free(struct woo_order_store *s)
{
	if (!s)
		return;
	woo_clear_locked(s);
	free(s->by_id);
	free(s->by_mod);
	pthread_rwlock_destroy(&s->lock);
	free(s);
}

void woo_order_store_clock(struct woo_order_store *s, int64_t (*now_s)(void))
{
	s->clock = now_s ? now_s : woo_clock_wall;
}

size_t woo_order_store_count(struct woo_order_store *s)
{
	pthread_rwlock_rdlock(&s->lock);
	size_t n = s->n;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

/* ---- statuses ---- */

static const char *woo_status_label(const struct woo_order_store *s, const char *slug)
{
	for (size_t i = 0; i < WOO_NSTATUSES; i++)
		if (strcmp(woo_statuses[i][0], slug) == 0)
			return woo_statuses[i][1];
	for (size_t i = 0; i < s->nextra; i++)
		if (strcmp(s->extra[i], slug) == 0)
			return s->extra[i];
	return NULL;
}

static void woo_status_error(const struct woo_order_store *s, struct woo_error *e)
{
	char list[512];
	size_t o = 0;
	for (size_t i = 0; i < WOO_NSTATUSES + s->nextra && o < sizeof list; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
				      i < WOO_NSTATUSES ? woo_statuses[i][0] : s->extra[i - WOO_NSTATUSES]);
	woo_error_param(e, "status", "rest_not_in_enum", "status is not one of %s.", list);
}

bool woo_order_store_status_add(struct woo_order_store *s, const char *slug, struct woo_error *e)
{
	size_t len = slug ? strlen(slug) : 0;
	if (len == 0 || len > 20 || strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) {
		woo_error_set(e, 400, "sandbox_bad_request", "slug: 1 to 20 of [a-z0-9_-]");
		return false;
	}
	bool ok = true;
	pthread_rwlock_wrlock(&s->lock);
	if (!woo_status_label(s, slug)) {
		if (s->nextra == WOO_ORDER_STATUSES_EXTRA) {
			woo_error_set(e, 400, "sandbox_bad_request", "at most %d statuses may be registered",
				      WOO_ORDER_STATUSES_EXTRA);
			ok = false;
		} else {
			memcpy(s->extra[s->nextra++], slug, len + 1);
		}
	}
	pthread_rwlock_unlock(&s->lock);
	return ok;
}

bool woo_order_store_status_known(struct woo_order_store *s, const char *slug)
{
	pthread_rwlock_rdlock(&s->lock);
	bool known = woo_status_label(s, slug) != NULL;
	pthread_rwlock_unlock(&s->lock);
	return known;
}

json_t *woo_order_store_statuses_json(struct woo_order_store *s)
{
	json_t *a = json_array();
	pthread_rwlock_rdlock(&s->lock);
	for (size_t i = 0; i < WOO_NSTATUSES; i++)
		json_array_append_new(a, json_string(woo_statuses[i][0]));
	for (size_t i = 0; i < s->nextra; i++)
		json_array_append_new(a, json_string(s->extra[i]));
	pthread_rwlock_unlock(&s->lock);
	return json_pack("{s:o}", "statuses", a);
}

/* ---- writing an order ---- */

static void woo_set_date(json_t *o, const char *key, int64_t unix_s)
{
	char date[WOO_DATE_LEN], gmt[48];
	woo_date_format(unix_s, date);
	snprintf(gmt, sizeof gmt, "%s_gmt", key);
	json_object_set_new(o, key, json_string(date));
	json_object_set_new(o, gmt, json_string(date));
}

/* The order's text from o, kept in r; fires topic. false: out of memory (r unchanged). */
static bool woo_commit(struct woo_order_store *s, struct woo_order_rec *r, json_t *o, const char *topic)
{
	char *text = json_dumps(o, JSON_COMPACT);
	if (!text)
		return false;
	free(r->text);
	r->text = text;
	r->len = strlen(text);
	if (s->fn && topic)
		s->fn(s->ud, topic, r->id, r->text, r->len);
	return true;
}

static json_t *woo_load(const struct woo_order_rec *r)
{
	return json_loadb(r->text, r->len, 0, NULL);
}

static void woo_order_key(struct woo_order_store *s, char out[32])
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	memcpy(out, "wc_order_", 9);
	for (int i = 0; i < 13; i++) {
		s->rnd = s->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		out[9 + i] = alnum[(s->rnd >> 33) % (sizeof alnum - 1)];
	}
	out[22] = '\0';
}

/* The fields WooCommerce always answers with, where the body left them out. */
static void woo_defaults(json_t *o)
{
	static const char *const arrays[] = { "meta_data", "line_items",   "tax_lines", "shipping_lines",
					      "fee_lines", "coupon_lines", "refunds" };
	static const char *const money[] = { "discount_total", "discount_tax", "shipping_total", "shipping_tax",
					     "cart_tax",       "total",        "total_tax" };
	for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
		if (!json_is_array(json_object_get(o, arrays[i])))
			json_object_set_new(o, arrays[i], json_array());
	for (size_t i = 0; i < sizeof money / sizeof money[0]; i++)
		if (!json_is_string(json_object_get(o, money[i])))
			json_object_set_new(o, money[i], json_string("0.00"));
	if (!json_is_string(json_object_get(o, "currency")))
		json_object_set_new(o, "currency", json_string("PLN"));
	if (!json_is_boolean(json_object_get(o, "prices_include_tax")))
		json_object_set_new(o, "prices_include_tax", json_false());
	if (!json_object_get(o, "parent_id"))
		json_object_set_new(o, "parent_id", json_integer(0));
	if (!json_object_get(o, "customer_id"))
		json_object_set_new(o, "customer_id", json_integer(0));
	if (!json_is_string(json_object_get(o, "created_via")))
		json_object_set_new(o, "created_via", json_string("rest-api"));
	if (!json_is_string(json_object_get(o, "customer_note")))
		json_object_set_new(o, "customer_note", json_string(""));
	json_object_set_new(o, "version", json_string("9.4.0"));
}

/* date_paid when an order first becomes paid, date_completed when completed (as WC_Order does). */
static void woo_status_dates(json_t *o, const char *status, int64_t now)
{
	bool paid = strcmp(status, "processing") == 0 || strcmp(status, "completed") == 0;
	if (paid && !json_is_string(json_object_get(o, "date_paid_gmt")))
		woo_set_date(o, "date_paid", now);
	if (!json_object_get(o, "date_paid")) {
		json_object_set_new(o, "date_paid", json_null());
		json_object_set_new(o, "date_paid_gmt", json_null());
	}
	if (strcmp(status, "completed") == 0)
		woo_set_date(o, "date_completed", now);
	else if (!json_object_get(o, "date_completed")) {
		json_object_set_new(o, "date_completed", json_null());
		json_object_set_new(o, "date_completed_gmt", json_null());
	}
}

static bool woo_create_check(const struct woo_order_store *s, const json_t *body, struct woo_error *e)
{
	const json_t *id = json_object_get(body, "id");
	const char *status = json_string_value(json_object_get(body, "status"));
	if (!json_is_object(body)) {
		woo_error_set(e, 400, "rest_invalid_json", "An order is a JSON object.");
		return false;
	}
	if (id && (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > 1000000000000LL)) {
		woo_error_param(e, "id", "rest_invalid_type", "id is not of type integer.");
		return false;
	}
	if (json_object_get(body, "status") && (!status || !woo_status_label(s, status))) {
		woo_status_error(s, e);
		return false;
	}
	if (s->n >= WOO_ORDER_STORE_MAX) {
		woo_error_set(e, 507, "sandbox_full", "The sandbox holds at most %d orders.", WOO_ORDER_STORE_MAX);
		return false;
	}
	return true;
}

json_t *woo_order_store_create(struct woo_order_store *s, const json_t *body, struct woo_error *e)
{
	struct woo_order_rec *r = calloc(1, sizeof *r);
	json_t *o = json_is_object(body) ? json_deep_copy(body) : NULL;
	char key[32], number[24];
	int64_t now = s->clock();
	pthread_rwlock_wrlock(&s->lock);
	if (!woo_create_check(s, body, e))
		goto fail;
	if (!r || !o) {
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto fail;
	}
	int64_t want = json_integer_value(json_object_get(body, "id"));
	r->id = want > 0 && !woo_find(s, want) ? want : s->next_id;
	if (r->id >= s->next_id)
		s->next_id = r->id + 1;
	const char *status = json_string_value(json_object_get(o, "status")) ?: "pending";
	snprintf(r->status, sizeof r->status, "%s", status);
	r->created_s = r->modified_s = now;
	/* WooCommerce's order of fields first, then whatever else the body had */
	snprintf(number, sizeof number, "%lld", (long long)r->id);
	woo_order_key(s, key);
	json_t *num = json_object_get(o, "number");
	num = json_is_string(num) ? json_incref(num) : json_string(number);
	json_t *head = json_pack("{s:I,s:I,s:o,s:s}", "id", (json_int_t)r->id, "parent_id",
				 json_integer_value(json_object_get(o, "parent_id")), "number", num, "order_key", key);
	if (!head || json_object_update_missing(head, o) != 0) {
		json_decref(head);
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto fail;
	}
	json_decref(o);
	o = head;
	json_object_set_new(o, "status", json_string(r->status));
	woo_set_date(o, "date_created", now);
	woo_set_date(o, "date_modified", now);
	woo_status_dates(o, r->status, now);
	woo_defaults(o);
	if (!woo_index_add(s, r) || !woo_commit(s, r, o, "order.created")) {
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto fail;
	}
	pthread_rwlock_unlock(&s->lock);
	return o;
fail:
	/* r is indexed only when the commit failed: take it out again */
	if (r && woo_find(s, r->id) == r) {
		woo_array_remove(s->by_id, s->n, woo_id_lower(s, r->id));
		woo_index_unmod(s, r);
		s->n--;
	}
	pthread_rwlock_unlock(&s->lock);
	woo_rec_free(r);
	json_decref(o);
	return NULL;
}

static void woo_invalid_id(struct woo_error *e, int status)
{
	woo_error_set(e, status, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
}

bool woo_order_store_get(struct woo_order_store *s, int64_t id, struct buf *out, struct woo_error *e)
{
	bool ok = false;
	pthread_rwlock_rdlock(&s->lock);
	const struct woo_order_rec *r = woo_find(s, id);
	if (!r)
		woo_invalid_id(e, 404);
	else if (!(ok = buf_append(out, r->text, r->len)))
		woo_error_set(e, 500, "internal_server_error", "out of memory");
	pthread_rwlock_unlock(&s->lock);
	return ok;
}

/* ---- notes ---- */

static json_t *woo_note_new(struct woo_order_store *s, const char *text, bool customer, const char *author, int64_t now)
{
	char date[WOO_DATE_LEN];
	woo_date_format(now, date);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)s->next_note_id++, "author", author,
			 "date_created", date, "date_created_gmt", date, "note", text, "customer_note", customer);
}

static bool woo_note_append(struct woo_order_rec *r, json_t *note)
{
	if (!note || (!r->notes && !(r->notes = json_array())) || json_array_size(r->notes) >= WOO_ORDER_NOTES_MAX) {
		json_decref(note);
		return false;
	}
	return json_array_append_new(r->notes, note) == 0;
}

/* ---- updates ---- */

/* Sets o's status and the dates and the note that go with it; *changed when it differed. */
static bool woo_apply_status(struct woo_order_store *s, struct woo_order_rec *r, json_t *o, const char *status,
			     int64_t now, struct woo_error *e)
{
	const char *from = woo_status_label(s, r->status), *to = woo_status_label(s, status);
	char text[160];
	if (!to) {
		woo_status_error(s, e);
		return false;
	}
	snprintf(text, sizeof text, "Order status changed from %s to %s.", from ? from : r->status, to);
	snprintf(r->status, sizeof r->status, "%s", status);
	json_object_set_new(o, "status", json_string(status));
	woo_status_dates(o, status, now);
	(void)woo_note_append(r, woo_note_new(s, text, false, "system", now)); /* past the bound: not kept */
	return true;
}

static void woo_touch(struct woo_order_store *s, struct woo_order_rec *r, json_t *o, int64_t now)
{
	woo_index_unmod(s, r);
	r->modified_s = now;
	woo_index_remod(s, r);
	woo_set_date(o, "date_modified", now);
}

json_t *woo_order_store_update(struct woo_order_store *s, int64_t id, const json_t *body, struct woo_error *e)
{
	static const char *const texts[] = { "customer_note", "transaction_id" };
	json_t *o = NULL;
	int64_t now = s->clock();
	bool changed = false;
	pthread_rwlock_wrlock(&s->lock);
	struct woo_order_rec *r = woo_find(s, id);
	if (!r) {
		woo_invalid_id(e, 400); /* update_item answers 400, get_item 404 */
		goto out;
	}
	if (!(o = woo_load(r))) {
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto out;
	}
	const json_t *st = json_object_get(body, "status");
	if (st && (!json_is_string(st) || !woo_status_label(s, json_string_value(st)))) {
		woo_status_error(s, e);
		goto fail;
	}
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		const json_t *v = json_object_get(body, texts[i]);
		if (json_is_string(v) && !json_equal(v, json_object_get(o, texts[i]))) {
			json_object_set(o, texts[i], (json_t *)v);
			changed = true;
		}
	}
	if (st && strcmp(json_string_value(st), r->status) != 0) {
		if (!woo_apply_status(s, r, o, json_string_value(st), now, e))
			goto fail;
		changed = true;
	}
	if (changed) {
		woo_touch(s, r, o, now);
		if (!woo_commit(s, r, o, "order.updated"))
			woo_error_set(e, 500, "internal_server_error", "out of memory");
	}
	goto out;
fail:
	json_decref(o);
	o = NULL;
out:
	pthread_rwlock_unlock(&s->lock);
	return o;
}

json_t *woo_order_store_delete(struct woo_order_store *s, int64_t id, bool force, struct woo_error *e)
{
	json_t *o = NULL;
	char body[48];
	pthread_rwlock_wrlock(&s->lock);
	struct woo_order_rec *r = woo_find(s, id);
	if (!r) {
		woo_invalid_id(e, 404);
		goto out;
	}
	if (!(o = woo_load(r))) {
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto out;
	}
	snprintf(body, sizeof body, "{\"id\":%lld}", (long long)id);
	if (force) {
		woo_array_remove(s->by_id, s->n, woo_id_lower(s, id));
		woo_index_unmod(s, r);
		s->n--;
		if (s->fn)
			s->fn(s->ud, "order.deleted", id, body, strlen(body));
		woo_rec_free(r);
	} else if (strcmp(r->status, "trash") != 0) {
		json_t *t = json_deep_copy(o);
		snprintf(r->status, sizeof r->status, "trash");
		json_object_set_new(t, "status", json_string("trash"));
		woo_touch(s, r, t, s->clock());
		if (t && woo_commit(s, r, t, NULL) && s->fn)
			s->fn(s->ud, "order.deleted", id, body, strlen(body));
		json_decref(o);
		o = t;
	}
out:
	pthread_rwlock_unlock(&s->lock);
	return o;
}

/* ---- listing ---- */

static bool woo_status_match(const char *want, const char *status)
{
	if (!want || !*want || strcmp(want, "any") == 0)
		return strcmp(status, "trash") != 0;
	size_t len = strlen(status);
	for (const char *p = want; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if ((n == len && strncmp(p, status, n) == 0) || (n == 3 && strncmp(p, "any", 3) == 0))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

static bool woo_query_match(const struct woo_order_query *q, const struct woo_order_rec *r)
{
	return woo_status_match(q->status, r->status) && (!q->has_after || r->created_s > q->after_s) &&
	       (!q->has_before || r->created_s < q->before_s) &&
	       (!q->has_modified_after || r->modified_s > q->modified_after_s) &&
	       (!q->has_modified_before || r->modified_s < q->modified_before_s);
}

static int woo_cmp_created(const void *a, const void *b)
{
	const struct woo_order_rec *x = *(struct woo_order_rec *const *)a, *y = *(struct woo_order_rec *const *)b;
	if (x->created_s != y->created_s)
		return x->created_s < y->created_s ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The page's slice of hits[0..n) (ascending) into out as a JSON array. */
static bool woo_list_write(struct woo_order_rec **hits, size_t n, const struct woo_order_query *q, struct buf *out)
{
	bool ok = buf_puts(out, "[");
	size_t first = (q->page - 1) * q->per_page;
	for (size_t k = 0; ok && first < n && k < q->per_page && first + k < n; k++) {
		size_t i = q->descending ? n - 1 - (first + k) : first + k;
		ok = (k == 0 || buf_puts(out, ",")) && buf_append(out, hits[i]->text, hits[i]->len);
	}
	return ok && buf_puts(out, "]");
}

bool woo_order_store_list(struct woo_order_store *s, const struct woo_order_query *q, struct buf *out, size_t *total)
{
	bool ok = false;
	pthread_rwlock_rdlock(&s->lock);
	struct woo_order_rec **src = q->orderby == WOO_ORDERBY_MODIFIED ? s->by_mod : s->by_id;
	size_t lo = 0, hi = s->n;
	if (q->orderby == WOO_ORDERBY_MODIFIED && q->has_modified_after)
		lo = woo_mod_lower(s, q->modified_after_s + 1, INT64_MIN);
	if (q->orderby == WOO_ORDERBY_MODIFIED && q->has_modified_before)
		hi = woo_mod_lower(s, q->modified_before_s, INT64_MIN);
	struct woo_order_rec **hits = malloc((hi > lo ? hi - lo : 1) * sizeof *hits);
	size_t n = 0;
	if (!hits)
		goto out;
	for (size_t i = lo; i < hi; i++)
		if (woo_query_match(q, src[i]))
			hits[n++] = src[i];
	if (q->orderby == WOO_ORDERBY_DATE)
		qsort(hits, n, sizeof *hits, woo_cmp_created);
	*total = n;
	ok = woo_list_write(hits, n, q, out);
out:
	pthread_rwlock_unlock(&s->lock);
	free(hits);
	return ok;
}

/* ---- notes ---- */

static json_t *woo_reversed_copy(const json_t *a)
{
	json_t *out = json_array();
	for (size_t i = json_array_size(a); out && i > 0; i--)
		json_array_append_new(out, json_deep_copy(json_array_get(a, i - 1)));
	return out;
}

json_t *woo_order_store_notes(struct woo_order_store *s, int64_t id, struct woo_error *e)
{
	json_t *out = NULL;
	pthread_rwlock_rdlock(&s->lock);
	const struct woo_order_rec *r = woo_find(s, id);
	if (!r)
		woo_error_set(e, 404, "woocommerce_rest_order_invalid_id", "Invalid order ID.");
	else if (!(out = woo_reversed_copy(r->notes)))
		woo_error_set(e, 500, "internal_server_error", "out of memory");
	pthread_rwlock_unlock(&s->lock);
	return out;
}

json_t *woo_order_store_note_add(struct woo_order_store *s, int64_t id, const json_t *body, struct woo_error *e)
{
	const json_t *text = json_object_get(body, "note");
	json_t *note = NULL;
	if (!text) {
		woo_error_set(e, 400, "rest_missing_callback_param", "Missing parameter(s): note");
		return NULL;
	}
	if (!json_is_string(text) || json_string_length(text) == 0 || json_string_length(text) > WOO_ORDER_NOTE_MAX) {
		woo_error_set(e, 400, "woocommerce_rest_invalid_order_note", "Invalid order note.");
		return NULL;
	}
	bool customer = json_is_true(json_object_get(body, "customer_note"));
	bool by_user = json_is_true(json_object_get(body, "added_by_user"));
	pthread_rwlock_wrlock(&s->lock);
	struct woo_order_rec *r = woo_find(s, id);
	if (!r) {
		woo_error_set(e, 404, "woocommerce_rest_order_invalid_id", "Invalid order ID.");
	} else {
		note = woo_note_new(s, json_string_value(text), customer, by_user ? "admin" : "system", s->clock());
		json_t *kept = note;
		note = json_deep_copy(kept); /* what leaves the store is never shared with it */
		if (!note) {
			json_decref(kept);
		} else if (!woo_note_append(r, kept)) { /* takes kept either way */
			json_decref(note);
			note = NULL;
		}
		if (!note)
			woo_error_set(e, 500, "woocommerce_rest_cannot_create_order_note",
				      "Cannot create order note, please try again.");
	}
	pthread_rwlock_unlock(&s->lock);
	return note;
}

/* ---- refunds ---- */

json_t *woo_order_store_refunds(struct woo_order_store *s, int64_t id, struct woo_error *e)
{
	json_t *out = NULL;
	pthread_rwlock_rdlock(&s->lock);
	const struct woo_order_rec *r = woo_find(s, id);
	if (!r)
		woo_error_set(e, 404, "woocommerce_rest_invalid_order_id", "Invalid order ID.");
	else if (!(out = r->refunds ? json_deep_copy(r->refunds) : json_array()))
		woo_error_set(e, 500, "internal_server_error", "out of memory");
	pthread_rwlock_unlock(&s->lock);
	return out;
}

/* The order's refunds[] summary, newest first: {id, reason, total: "-x.yy"}. */
static json_t *woo_refund_summary(const json_t *refunds)
{
	json_t *out = json_array();
	size_t i;
	const json_t *r;
	json_array_foreach(refunds, i, r)
	{
		char total[WOO_REFUND_MONEY_LEN + 1];
		snprintf(total, sizeof total, "-%s", json_string_value(json_object_get(r, "amount")) ?: "0.00");
		json_array_append_new(out, json_pack("{s:O,s:O,s:s}", "id", json_object_get(r, "id"), "reason",
						     json_object_get(r, "reason"), "total", total));
	}
	return out;
}

json_t *woo_order_store_refund_add(struct woo_order_store *s, int64_t id, const json_t *body, struct woo_error *e)
{
	json_t *o = NULL, *refund = NULL;
	int64_t now = s->clock(), left = 0;
	pthread_rwlock_wrlock(&s->lock);
	struct woo_order_rec *r = woo_find(s, id);
	if (!r) {
		woo_error_set(e, 404, "woocommerce_rest_invalid_order_id", "Invalid order ID.");
		goto out;
	}
	if (json_array_size(r->refunds) >= 1000) {
		woo_error_set(e, 400, "woocommerce_rest_invalid_order_refund",
			      "The sandbox keeps 1000 refunds an order.");
		goto out;
	}
	if (!(o = woo_load(r)) || (!r->refunds && !(r->refunds = json_array()))) {
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		goto out;
	}
	struct woo_refund_ids ids = { s->next_id, &s->next_item_id, now };
	refund = woo_refund_build(o, r->refunds, body, &ids, &left, e);
	if (!refund)
		goto out;
	s->next_id++;
	json_array_insert_new(r->refunds, 0, refund);
	refund = json_deep_copy(refund); /* what leaves the store is never shared with it */
	json_object_set_new(o, "refunds", woo_refund_summary(r->refunds));
	/* wc_create_refund: a refund of everything that was left marks the order refunded */
	if (left == 0 && strcmp(r->status, "refunded") != 0)
		(void)woo_apply_status(s, r, o, "refunded", now, e); /* a known status: cannot fail */
	woo_touch(s, r, o, now);
	if (!refund || !woo_commit(s, r, o, "order.updated")) {
		woo_error_set(e, 500, "internal_server_error", "out of memory");
		json_decref(refund);
		refund = NULL;
	}
out:
	pthread_rwlock_unlock(&s->lock);
	json_decref(o);
	return refund;
}
