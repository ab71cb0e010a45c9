#include "erp_docs.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "erp_index.h"
#include "event.h"

#define ERP_DOCS_STATUS_MAX 24

struct erp_docs_rec {
	json_t *doc; /* the store's own: only copies leave it */
	int64_t created_us;
	size_t order;           /* payments, returns, complaints: the order's slot */
	int64_t amount_minor;   /* see erp_docs_new */
	int64_t refunded_minor; /* orders: what their returns refund */
	bool invoiced;
	char status[ERP_DOCS_STATUS_MAX];
};

struct erp_docs_set {
	struct erp_docs_rec *v;
	size_t n, cap;
	unsigned long long base; /* ids of earlier generations (before a reset): id = base + slot + 1 */
	struct erp_index by_ref;
};

struct erp_docs_change {
	uint64_t seq;
	json_t *item;
};

struct erp_docs_log {
	struct erp_docs_change *v;
	size_t n, cap;
	uint64_t seq;
};

struct erp_docs {
	pthread_mutex_t lock;
	struct erp_docs_set set[ERP_DOCS_KINDS];
	struct erp_index nip, email; /* customers */
	struct erp_index skus;
	struct erp_docs_log log[ERP_DOCS_FEEDS];
	int64_t last_created_us;
	erp_docs_listener listener;
	void *listener_ud;
	atomic_ulong calls[ERP_CALLS];
};

/* clang-format off */
/* one row per kind: the id prefix and the document number's series ("" = none) */
static const struct { const char *prefix, *series; } erp_docs_kinds[ERP_DOCS_KINDS] = {
	[ERP_DOCS_CUSTOMER] = { "cus_", "" },
	[ERP_DOCS_ORDER] = { "ord_", "SO" },
	[ERP_DOCS_PAYMENT] = { "pay_", "KP" },
	[ERP_DOCS_RETURN] = { "ret_", "RET" },
	[ERP_DOCS_COMPLAINT] = { "rek_", "REK" },
};
static const char *const erp_docs_call_names[ERP_CALLS] = {
	"POST /api/v1/orders", "GET /api/v1/orders?external_ref", "GET /api/v1/orders?created_from",
	"GET /api/v1/orders/<id>", "POST /api/v1/orders/<id>/cancel", "GET /api/v1/order-changes",
	"GET /api/v1/customers", "POST /api/v1/customers", "GET /api/v1/payments", "POST /api/v1/payments",
	"GET /api/v1/returns", "POST /api/v1/returns", "GET /api/v1/complaints", "POST /api/v1/complaints",
	"GET /api/v1/complaint-changes",
};
/* clang-format on */

void erp_docs_time(int64_t us, char out[32])
{
	struct tm tm;
	time_t secs = (time_t)(us / 1000000);
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%06lldZ", (long long)(us % 1000000));
}

struct erp_docs *erp_docs_new(void)
{
	struct erp_docs *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

static void erp_docs_clear_locked(struct erp_docs *d)
{
	for (int k = 0; k < ERP_DOCS_KINDS; k++) {
		struct erp_docs_set *s = &d->set[k];
		for (size_t i = 0; i < s->n; i++)
			json_decref(s->v[i].doc);
		free(s->v);
		erp_index_cleanup(&s->by_ref);
		unsigned long long base = s->base + s->n;
		memset(s, 0, sizeof *s);
		s->base = base;
	}
	for (int f = 0; f < ERP_DOCS_FEEDS; f++) {
		struct erp_docs_log *l = &d->log[f];
		for (size_t i = 0; i < l->n; i++)
			json_decref(l->v[i].item);
		free(l->v);
		l->v = NULL;
		l->n = l->cap = 0;
	}
	erp_index_cleanup(&d->nip);
	erp_index_cleanup(&d->email);
	erp_index_cleanup(&d->skus);
	for (int c = 0; c < ERP_CALLS; c++)
		atomic_store(&d->calls[c], 0);
}

void erp_docs_free(struct erp_docs *d)
{
	if (!d)
		return;
	erp_docs_clear_locked(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void erp_docs_clear(struct erp_docs *d)
{
	pthread_mutex_lock(&d->lock);
	erp_docs_clear_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void erp_docs_listen(struct erp_docs *d, erp_docs_listener fn, void *ud)
{
	pthread_mutex_lock(&d->lock);
	d->listener = fn;
	d->listener_ud = ud;
	pthread_mutex_unlock(&d->lock);
}

void erp_docs_count_call(struct erp_docs *d, enum erp_docs_call call)
{
	atomic_fetch_add(&d->calls[call], 1);
}

bool erp_docs_sku_add(struct erp_docs *d, const char *sku)
{
	size_t one;
	pthread_mutex_lock(&d->lock);
	bool ok = erp_index_find(&d->skus, sku, &one, 1) > 0 || erp_index_add(&d->skus, sku, 0);
	pthread_mutex_unlock(&d->lock);
	return ok;
}

bool erp_docs_sku_known(struct erp_docs *d, const char *sku)
{
	size_t one;
	pthread_mutex_lock(&d->lock);
	bool known = erp_index_find(&d->skus, sku, &one, 1) > 0;
	pthread_mutex_unlock(&d->lock);
	return known;
}

/* ---- lookups (lock held) ---------------------------------------------------------------------- */

/* The slot of id in kind's set, or (size_t)-1. */
static size_t erp_docs_slot(const struct erp_docs *d, enum erp_docs_kind kind, const char *id)
{
	const struct erp_docs_set *s = &d->set[kind];
	size_t plen = strlen(erp_docs_kinds[kind].prefix);
	if (!id || strncmp(id, erp_docs_kinds[kind].prefix, plen) != 0 || id[plen] < '1' || id[plen] > '9')
		return (size_t)-1;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(id + plen, &end, 10);
	if (errno || *end || n <= s->base || n - s->base > s->n)
		return (size_t)-1;
	return (size_t)(n - s->base - 1);
}

static json_t *erp_docs_copies(const struct erp_docs_set *s, const size_t *slots, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		if (json_array_append_new(arr, json_deep_copy(s->v[slots[i]].doc)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

#define ERP_DOCS_FIND_MAX 1000

json_t *erp_docs_find(struct erp_docs *d, enum erp_docs_kind kind, const char *by, const char *key)
{
	size_t *slots = malloc(ERP_DOCS_FIND_MAX * sizeof *slots);
	if (!slots)
		return NULL;
	pthread_mutex_lock(&d->lock);
	const struct erp_index *ix = strcmp(by, "nip") == 0     ? &d->nip
				     : strcmp(by, "email") == 0 ? &d->email
								: &d->set[kind].by_ref;
	size_t n = erp_index_find(ix, key, slots, ERP_DOCS_FIND_MAX);
	json_t *arr = erp_docs_copies(&d->set[kind], slots, n < ERP_DOCS_FIND_MAX ? n : ERP_DOCS_FIND_MAX);
	pthread_mutex_unlock(&d->lock);
	free(slots);
	return arr;
}

json_t *erp_docs_get(struct erp_docs *d, enum erp_docs_kind kind, const char *id)
{
	pthread_mutex_lock(&d->lock);
	size_t slot = erp_docs_slot(d, kind, id);
	json_t *doc = slot == (size_t)-1 ? NULL : json_deep_copy(d->set[kind].v[slot].doc);
	pthread_mutex_unlock(&d->lock);
	return doc;
}

json_t *erp_docs_orders_created(struct erp_docs *d, int64_t from_us, int64_t to_us, size_t page, size_t per_page,
				bool *has_more)
{
	json_t *arr = json_array();
	*has_more = false;
	pthread_mutex_lock(&d->lock);
	const struct erp_docs_set *s = &d->set[ERP_DOCS_ORDER];
	/* creation times never go back (erp_docs_create): the window is a range of slots */
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].created_us < from_us)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t skip = (page - 1) * per_page, i = lo + skip;
	if (page > 1 && skip / (page - 1) != per_page)
		i = s->n; /* a page beyond anything */
	for (size_t k = 0; arr && i < s->n && s->v[i].created_us < to_us; i++, k++) {
		if (k == per_page) {
			*has_more = true;
			break;
		}
		if (json_array_append_new(arr, json_deep_copy(s->v[i].doc)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return arr;
}

/* ---- changes (lock held) ---------------------------------------------------------------------- */

static bool erp_docs_log_add(struct erp_docs *d, enum erp_docs_feed feed, json_t *item)
{
	struct erp_docs_log *l = &d->log[feed];
	if (!item)
		return false;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct erp_docs_change *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			json_decref(item);
			return false;
		}
		l->v = v;
		l->cap = cap;
	}
	char cursor[24];
	snprintf(cursor, sizeof cursor, "%llu", (unsigned long long)(l->seq + 1));
	if (json_object_set_new(item, "cursor", json_string(cursor)) != 0 ||
	    json_object_set_new(item, "seq", json_integer((json_int_t)(l->seq + 1))) != 0) {
		json_decref(item);
		return false;
	}
	l->seq++;
	l->v[l->n++] = (struct erp_docs_change){ l->seq, item };
	if (d->listener)
		d->listener(d->listener_ud, feed, item);
	return true;
}

static bool erp_docs_order_change(struct erp_docs *d, const struct erp_docs_rec *r, const char *reason, int64_t now)
{
	char when[32];
	erp_docs_time(now, when);
	json_t *doc = r->doc;
	return erp_docs_log_add(d, ERP_DOCS_FEED_ORDERS,
				json_pack("{s:O,s:O,s:O,s:s,s:s,s:s}", "order_id", json_object_get(doc, "id"), "number",
					  json_object_get(doc, "number"), "external_ref",
					  json_object_get(doc, "external_ref"), "status", r->status, "reason",
					  reason ? reason : "", "changed_at", when));
}

static bool erp_docs_complaint_change(struct erp_docs *d, const struct erp_docs_rec *r, int64_t now)
{
	char when[32];
	erp_docs_time(now, when);
	json_t *doc = r->doc;
	const char *res = json_string_value(json_object_get(doc, "resolution"));
	const char *note = json_string_value(json_object_get(doc, "decision_note"));
	return erp_docs_log_add(
		d, ERP_DOCS_FEED_COMPLAINTS,
		json_pack("{s:O,s:O,s:O,s:O,s:s,s:s,s:s,s:I,s:s}", "complaint_id", json_object_get(doc, "id"), "number",
			  json_object_get(doc, "number"), "external_ref", json_object_get(doc, "external_ref"),
			  "order_id", json_object_get(doc, "order_id"), "status", r->status, "resolution",
			  res ? res : "", "note", note ? note : "", "refund_minor",
			  (json_int_t)json_integer_value(json_object_get(doc, "refund_minor")), "changed_at", when));
}

json_t *erp_docs_changes(struct erp_docs *d, enum erp_docs_feed feed, uint64_t since, size_t limit)
{
	json_t *arr = json_array();
	char next[24], last[24];
	bool more = false;
	pthread_mutex_lock(&d->lock);
	const struct erp_docs_log *l = &d->log[feed];
	/* sequences are dense within the kept log, which starts after the last reset */
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->v[mid].seq <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t cursor = since;
	for (size_t i = lo; arr && i < l->n; i++) {
		if (i - lo == limit) {
			more = true;
			break;
		}
		if (json_array_append_new(arr, json_deep_copy(l->v[i].item)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
		cursor = l->v[i].seq;
	}
	snprintf(last, sizeof last, "%llu", (unsigned long long)l->seq);
	pthread_mutex_unlock(&d->lock);
	snprintf(next, sizeof next, "%llu", (unsigned long long)cursor);
	return arr ? json_pack("{s:o,s:s,s:b,s:s}", "items", arr, "next_cursor", next, "has_more", more, "last_cursor",
			       last)
		   : NULL;
}

/* ---- writes ----------------------------------------------------------------------------------- */

static bool erp_docs_set_grow(struct erp_docs_set *s)
{
	if (s->n < s->cap)
		return true;
	size_t cap = s->cap ? s->cap * 2 : 1024;
	struct erp_docs_rec *v = realloc(s->v, cap * sizeof *v);
	if (!v)
		return false;
	s->v = v;
	s->cap = cap;
	return true;
}

/* What the ERP adds to a new document: id, number, created_at, status. */
static bool erp_docs_stamp(struct erp_docs *d, enum erp_docs_kind kind, json_t *doc, struct erp_docs_rec *r)
{
	struct erp_docs_set *s = &d->set[kind];
	unsigned long long n = s->base + s->n + 1;
	char id[40], number[48], when[32];
	snprintf(id, sizeof id, "%s%llu", erp_docs_kinds[kind].prefix, n);
	erp_docs_time(r->created_us, when);
	time_t secs = (time_t)(r->created_us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(number, sizeof number, "%s/%04d/%05llu", erp_docs_kinds[kind].series, tm.tm_year + 1900, n);
	bool ok = json_object_set_new(doc, "id", json_string(id)) == 0 &&
		  json_object_set_new(doc, "created_at", json_string(when)) == 0 &&
		  json_object_set_new(doc, "updated_at", json_string(when)) == 0;
	if (ok && *erp_docs_kinds[kind].series)
		ok = json_object_set_new(doc, "number", json_string(number)) == 0;
	if (ok && *r->status)
		ok = json_object_set_new(doc, "status", json_string(r->status)) == 0;
	return ok;
}

static enum erp_docs_result erp_docs_refuse(char *err, size_t errlen, char *msg, size_t msglen, const char *code,
					    const char *why)
{
	snprintf(err, errlen, "%s", code);
	snprintf(msg, msglen, "%s", why);
	return ERP_DOCS_REFUSED;
}

/* The checks a document must pass against the order it belongs to; lock held. */
static enum erp_docs_result erp_docs_check_order(struct erp_docs *d, enum erp_docs_kind kind,
						 const struct erp_docs_new *how, struct erp_docs_rec *r, char *err,
						 size_t errlen, char *msg, size_t msglen)
{
	if (kind == ERP_DOCS_CUSTOMER || kind == ERP_DOCS_ORDER)
		return ERP_DOCS_OK;
	r->order = erp_docs_slot(d, ERP_DOCS_ORDER, how->order_id);
	if (r->order == (size_t)-1) {
		snprintf(err, errlen, "not_found");
		snprintf(msg, msglen, "no order %s", how->order_id ? how->order_id : "");
		return ERP_DOCS_NOT_FOUND;
	}
	const struct erp_docs_rec *o = &d->set[ERP_DOCS_ORDER].v[r->order];
	if (kind == ERP_DOCS_RETURN && how->amount_minor > o->amount_minor - o->refunded_minor) {
		char why[200];
		snprintf(why, sizeof why, "refund of %lld would pass the order's total %lld (%lld refunded already)",
			 (long long)how->amount_minor, (long long)o->amount_minor, (long long)o->refunded_minor);
		return erp_docs_refuse(err, errlen, msg, msglen, "refund_exceeds_order", why);
	}
	return ERP_DOCS_OK;
}

static int64_t erp_docs_now(struct erp_docs *d)
{
	/* never backwards, so that orders stay sorted by creation time */
	int64_t now = event_now_us();
	if (now <= d->last_created_us)
		now = d->last_created_us + 1;
	d->last_created_us = now;
	return now;
}

enum erp_docs_result erp_docs_create(struct erp_docs *d, enum erp_docs_kind kind, json_t *doc,
				     const struct erp_docs_new *how, json_t **out, char *err, size_t errlen,
				     char *errmsg, size_t msglen)
{
	struct erp_docs_rec r = { 0 };
	*out = NULL;
	snprintf(err, errlen, "internal_error");
	snprintf(errmsg, msglen, "out of memory");
	if (!doc)
		return ERP_DOCS_NOMEM;
	r.amount_minor = how->amount_minor;
	snprintf(r.status, sizeof r.status, "%s",
		 kind == ERP_DOCS_ORDER       ? "confirmed"
		 : kind == ERP_DOCS_COMPLAINT ? "open"
		 : kind == ERP_DOCS_RETURN    ? "registered"
		 : kind == ERP_DOCS_PAYMENT   ? "booked"
					      : "");
	pthread_mutex_lock(&d->lock);
	struct erp_docs_set *s = &d->set[kind];
	enum erp_docs_result res = erp_docs_check_order(d, kind, how, &r, err, errlen, errmsg, msglen);
	if (res != ERP_DOCS_OK)
		goto out;
	res = ERP_DOCS_NOMEM;
	r.created_us = erp_docs_now(d);
	if (!erp_docs_set_grow(s) || !erp_docs_stamp(d, kind, doc, &r))
		goto out;
	if (kind != ERP_DOCS_CUSTOMER && kind != ERP_DOCS_ORDER &&
	    json_object_set_new(doc, "order_id", json_string(how->order_id)) != 0)
		goto out;
	size_t slot = s->n;
	if (!erp_index_add(&s->by_ref, how->external_ref, slot) ||
	    (kind == ERP_DOCS_CUSTOMER &&
	     (!erp_index_add(&d->nip, how->nip, slot) || !erp_index_add(&d->email, how->email, slot))))
		goto out; /* out of memory: an index may keep an entry for the next document's slot */
	r.doc = doc;
	doc = NULL; /* now owned by the store */
	s->v[s->n++] = r;
	if (kind == ERP_DOCS_RETURN)
		d->set[ERP_DOCS_ORDER].v[r.order].refunded_minor += r.amount_minor;
	if (kind == ERP_DOCS_ORDER)
		(void)erp_docs_order_change(d, &s->v[slot], "", r.created_us);
	if (kind == ERP_DOCS_COMPLAINT)
		(void)erp_docs_complaint_change(d, &s->v[slot], r.created_us);
	*out = json_deep_copy(s->v[slot].doc);
	res = *out ? ERP_DOCS_OK : ERP_DOCS_NOMEM;
out:
	pthread_mutex_unlock(&d->lock);
	json_decref(doc);
	return res;
}

static bool erp_docs_touch(struct erp_docs_rec *r, int64_t now)
{
	char when[32];
	erp_docs_time(now, when);
	return json_object_set_new(r->doc, "status", json_string(r->status)) == 0 &&
	       json_object_set_new(r->doc, "updated_at", json_string(when)) == 0;
}

enum erp_docs_result erp_docs_order_status(struct erp_docs *d, const char *id, const char *status, const char *reason,
					   bool cancel, json_t **out, char *err, size_t errlen, char *errmsg,
					   size_t msglen)
{
	enum erp_docs_result res = ERP_DOCS_OK;
	if (out)
		*out = NULL;
	pthread_mutex_lock(&d->lock);
	size_t slot = erp_docs_slot(d, ERP_DOCS_ORDER, id);
	struct erp_docs_rec *r = slot == (size_t)-1 ? NULL : &d->set[ERP_DOCS_ORDER].v[slot];
	if (!r) {
		snprintf(err, errlen, "not_found");
		snprintf(errmsg, msglen, "no order %s", id);
		res = ERP_DOCS_NOT_FOUND;
		goto out;
	}
	bool same = strcmp(r->status, "cancelled") == 0;
	if (cancel && !same &&
	    (r->invoiced || strcmp(r->status, "shipped") == 0 || strcmp(r->status, "completed") == 0)) {
		char why[160];
		snprintf(why, sizeof why, "order %s is %s and can no longer be cancelled", id,
			 r->invoiced ? "invoiced" : r->status);
		res = erp_docs_refuse(err, errlen, errmsg, msglen, "not_cancellable", why);
		goto out;
	}
	if (!cancel || !same) {
		int64_t now = event_now_us();
		snprintf(r->status, sizeof r->status, "%s", status);
		if (!erp_docs_touch(r, now) ||
		    json_object_set_new(r->doc, "status_reason", json_string(reason ? reason : "")) != 0 ||
		    !erp_docs_order_change(d, r, reason, now)) {
			snprintf(err, errlen, "internal_error");
			snprintf(errmsg, msglen, "out of memory");
			res = ERP_DOCS_NOMEM;
			goto out;
		}
	}
	if (out)
		*out = json_deep_copy(r->doc);
out:
	pthread_mutex_unlock(&d->lock);
	return res;
}

enum erp_docs_result erp_docs_order_invoiced(struct erp_docs *d, const char *id, json_t **out)
{
	pthread_mutex_lock(&d->lock);
	size_t slot = erp_docs_slot(d, ERP_DOCS_ORDER, id);
	struct erp_docs_rec *r = slot == (size_t)-1 ? NULL : &d->set[ERP_DOCS_ORDER].v[slot];
	if (r) {
		r->invoiced = true;
		json_object_set_new(r->doc, "invoiced", json_true());
		*out = json_deep_copy(r->doc);
	}
	pthread_mutex_unlock(&d->lock);
	return !r ? ERP_DOCS_NOT_FOUND : *out ? ERP_DOCS_OK : ERP_DOCS_NOMEM;
}

enum erp_docs_result erp_docs_complaint_decide(struct erp_docs *d, const char *id, const char *status,
					       const char *resolution, const char *note, int64_t refund_minor,
					       json_t **out)
{
	enum erp_docs_result res = ERP_DOCS_NOMEM;
	*out = NULL;
	pthread_mutex_lock(&d->lock);
	size_t slot = erp_docs_slot(d, ERP_DOCS_COMPLAINT, id);
	struct erp_docs_rec *r = slot == (size_t)-1 ? NULL : &d->set[ERP_DOCS_COMPLAINT].v[slot];
	if (!r) {
		res = ERP_DOCS_NOT_FOUND;
		goto out;
	}
	int64_t now = event_now_us();
	snprintf(r->status, sizeof r->status, "%s", status);
	if (erp_docs_touch(r, now) && json_object_set_new(r->doc, "resolution", json_string(resolution)) == 0 &&
	    json_object_set_new(r->doc, "decision_note", json_string(note)) == 0 &&
	    json_object_set_new(r->doc, "refund_minor", json_integer((json_int_t)refund_minor)) == 0 &&
	    erp_docs_complaint_change(d, r, now) && (*out = json_deep_copy(r->doc)))
		res = ERP_DOCS_OK;
out:
	pthread_mutex_unlock(&d->lock);
	return res;
}

json_t *erp_docs_stats(struct erp_docs *d)
{
	size_t refs, dup, skus, none;
	json_t *calls = json_object();
	for (int c = 0; calls && c < ERP_CALLS; c++)
		json_object_set_new(calls, erp_docs_call_names[c], json_integer((json_int_t)atomic_load(&d->calls[c])));
	pthread_mutex_lock(&d->lock);
	erp_index_counts(&d->set[ERP_DOCS_ORDER].by_ref, &refs, &dup);
	erp_index_counts(&d->skus, &skus, &none);
	json_t *j = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "orders", (json_int_t)d->set[ERP_DOCS_ORDER].n,
		"external_refs", (json_int_t)refs, "duplicated_external_refs", (json_int_t)dup, "customers",
		(json_int_t)d->set[ERP_DOCS_CUSTOMER].n, "payments", (json_int_t)d->set[ERP_DOCS_PAYMENT].n, "returns",
		(json_int_t)d->set[ERP_DOCS_RETURN].n, "complaints", (json_int_t)d->set[ERP_DOCS_COMPLAINT].n, "skus",
		(json_int_t)skus, "order_changes", (json_int_t)d->log[ERP_DOCS_FEED_ORDERS].seq, "complaint_changes",
		(json_int_t)d->log[ERP_DOCS_FEED_COMPLAINTS].seq, "calls_by_endpoint", calls);
	pthread_mutex_unlock(&d->lock);
	return j;
}
