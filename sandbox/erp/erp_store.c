#include "erp_store.h"

#include <pthread.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "event.h"

/* Records of one SKU hang off its node in warehouse order: an ERP has a handful of warehouses,
 * so a short list beats a second index. */
struct erp_rec {
	struct erp_stock s;
	struct erp_rec *next;
};

struct erp_sku_node {
	char sku[ERP_STORE_SKU_MAX + 1];
	struct erp_rec *recs;
};

/* The change log: (sequence, record) in sequence order. A record changed again leaves a stale
 * entry behind (its record now carries a newer sequence); stale entries are skipped on reading
 * and squeezed out once they outnumber the live ones. */
struct erp_log_entry {
	uint64_t seq;
	struct erp_rec *rec;
};

struct erp_store {
	pthread_mutex_t lock;
	void *skus;   /* tsearch tree of struct erp_sku_node */
	size_t count; /* records */
	struct erp_log_entry *log;
	size_t log_len, log_cap;
	struct erp_warehouse wh[ERP_STORE_WAREHOUSES_MAX];
	size_t nwh;
	uint64_t seq;
	int64_t version_base;
	char feed_id[ERP_STORE_FEED_ID_LEN + 1];
	erp_store_listener listener;
	void *listener_ud;
};

#define ERP_LOG_SLACK 1024

static int erp_sku_cmp(const void *a, const void *b)
{
	return strcmp(((const struct erp_sku_node *)a)->sku, ((const struct erp_sku_node *)b)->sku);
}

static void erp_sku_node_free(void *p)
{
	struct erp_sku_node *n = p;
	for (struct erp_rec *r = n->recs, *next; r; r = next) {
		next = r->next;
		free(r);
	}
	free(n);
}

struct erp_store *erp_store_new(void)
{
	struct erp_store *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	/* random, so that two stores started in the same microsecond differ too; the clock and the
	 * pid stand in when the kernel has no entropy to give */
	uint64_t r;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = (uint64_t)event_now_us() * 2654435761u ^ (uint64_t)getpid();
	snprintf(st->feed_id, sizeof st->feed_id, "%016llx", (unsigned long long)r);
	return st;
}

const char *erp_store_feed_id(const struct erp_store *st)
{
	return st->feed_id;
}

void erp_store_version_base(struct erp_store *st, int64_t base)
{
	st->version_base = base < 0 ? 0 : base;
}

static void erp_store_clear_locked(struct erp_store *st)
{
	tdestroy(st->skus, erp_sku_node_free);
	st->skus = NULL;
	st->count = 0;
	st->log_len = 0;
	st->nwh = 0;
}

void erp_store_listen(struct erp_store *st, erp_store_listener fn, void *ud)
{
	pthread_mutex_lock(&st->lock);
	st->listener = fn;
	st->listener_ud = ud;
	pthread_mutex_unlock(&st->lock);
}

void erp_store_free(struct erp_store *st)
{
	if (!st)
		return;
	erp_store_clear_locked(st);
	free(st->log);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static bool erp_key_part_valid(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
	size_t len = s ? strlen(s) : 0;
	if (len == 0 || len > max) {
		snprintf(err, errlen, "%s must be 1..%zu characters", what, max);
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == '/' || *p == 0x7f) {
			snprintf(err, errlen, "%s must not contain whitespace, control characters or '/'", what);
			return false;
		}
	}
	return true;
}

bool erp_store_key_valid(const char *sku, const char *warehouse, char *err, size_t errlen)
{
	return erp_key_part_valid("sku", sku, ERP_STORE_SKU_MAX, err, errlen) &&
	       erp_key_part_valid("warehouse", warehouse, ERP_STORE_WAREHOUSE_MAX, err, errlen);
}

static struct erp_sku_node *erp_find_node(struct erp_store *st, const char *sku)
{
	struct erp_sku_node key;
	snprintf(key.sku, sizeof key.sku, "%s", sku);
	void **hit = tfind(&key, &st->skus, erp_sku_cmp);
	return hit ? *hit : NULL;
}

/* Counts a record into its warehouse, adding the warehouse (kept sorted) on first use. */
static bool erp_warehouse_add(struct erp_store *st, const char *code, char *err, size_t errlen)
{
	size_t i = 0;
	for (; i < st->nwh; i++) {
		int c = strcmp(st->wh[i].code, code);
		if (c == 0) {
			st->wh[i].skus++;
			return true;
		}
		if (c > 0)
			break;
	}
	if (st->nwh == ERP_STORE_WAREHOUSES_MAX) {
		snprintf(err, errlen, "at most %d warehouses", ERP_STORE_WAREHOUSES_MAX);
		return false;
	}
	memmove(&st->wh[i + 1], &st->wh[i], (st->nwh - i) * sizeof st->wh[0]);
	snprintf(st->wh[i].code, sizeof st->wh[i].code, "%s", code);
	st->wh[i].skus = 1;
	st->nwh++;
	return true;
}

/* The record of (sku, warehouse), created at 0/0 when missing; NULL with err on failure. */
static struct erp_rec *erp_rec_get(struct erp_store *st, const char *sku, const char *warehouse, char *err,
				   size_t errlen)
{
	struct erp_sku_node *node = erp_find_node(st, sku);
	struct erp_rec **link = node ? &node->recs : NULL;
	for (; link && *link; link = &(*link)->next) {
		int c = strcmp((*link)->s.warehouse, warehouse);
		if (c == 0)
			return *link;
		if (c > 0)
			break;
	}
	struct erp_rec *rec = calloc(1, sizeof *rec);
	if (!rec)
		goto oom;
	snprintf(rec->s.sku, sizeof rec->s.sku, "%s", sku);
	snprintf(rec->s.warehouse, sizeof rec->s.warehouse, "%s", warehouse);
	if (!node) {
		node = calloc(1, sizeof *node);
		if (!node)
			goto oom;
		snprintf(node->sku, sizeof node->sku, "%s", sku);
		if (!tsearch(node, &st->skus, erp_sku_cmp)) {
			free(node);
			goto oom;
		}
		link = &node->recs;
	}
	if (!erp_warehouse_add(st, warehouse, err, errlen)) {
		if (!node->recs) {
			tdelete(node, &st->skus, erp_sku_cmp);
			free(node);
		}
		free(rec);
		return NULL;
	}
	rec->next = *link;
	*link = rec;
	st->count++;
	return rec;
oom:
	free(rec);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* Drops stale log entries, keeping sequence order. */
static void erp_log_compact(struct erp_store *st)
{
	size_t w = 0;
	for (size_t r = 0; r < st->log_len; r++)
		if (st->log[r].rec->s.changed_seq == st->log[r].seq)
			st->log[w++] = st->log[r];
	st->log_len = w;
}

static bool erp_log_append(struct erp_store *st, struct erp_rec *rec)
{
	if (st->log_len - st->count > st->count + ERP_LOG_SLACK)
		erp_log_compact(st);
	if (st->log_len == st->log_cap) {
		size_t cap = st->log_cap ? st->log_cap * 2 : 1024;
		struct erp_log_entry *grown = realloc(st->log, cap * sizeof *grown);
		if (!grown)
			return false;
		st->log = grown;
		st->log_cap = cap;
	}
	st->log[st->log_len].seq = rec->s.changed_seq;
	st->log[st->log_len].rec = rec;
	st->log_len++;
	return true;
}

/* Stores new numbers in rec as one change. Caller holds the lock. */
static bool erp_change_locked(struct erp_store *st, struct erp_rec *rec, int64_t on_hand, int64_t reserved,
			      struct erp_stock *out, char *err, size_t errlen)
{
	int64_t version = rec->s.version ? rec->s.version : st->version_base;
	if (version == INT64_MAX) {
		snprintf(err, errlen, "version would pass %lld", (long long)INT64_MAX);
		return false;
	}
	/* room in the log first, so a failure leaves the record untouched */
	uint64_t before = rec->s.changed_seq;
	rec->s.changed_seq = st->seq + 1;
	if (!erp_log_append(st, rec)) {
		rec->s.changed_seq = before;
		snprintf(err, errlen, "out of memory");
		return false;
	}
	st->seq++;
	rec->s.on_hand = on_hand;
	rec->s.reserved = reserved;
	rec->s.version = version + 1;
	rec->s.changed_at_us = event_now_us();
	if (out)
		*out = rec->s;
	if (st->listener)
		st->listener(st->listener_ud, &rec->s);
	return true;
}

bool erp_store_set(struct erp_store *st, const char *sku, const char *warehouse, int64_t on_hand,
		   const int64_t *reserved, struct erp_stock *out, char *err, size_t errlen)
{
	if (!erp_store_key_valid(sku, warehouse, err, errlen))
		return false;
	pthread_mutex_lock(&st->lock);
	struct erp_rec *rec = erp_rec_get(st, sku, warehouse, err, errlen);
	bool ok = rec && erp_change_locked(st, rec, on_hand, reserved ? *reserved : rec->s.reserved, out, err, errlen);
	pthread_mutex_unlock(&st->lock);
	return ok;
}

bool erp_store_adjust(struct erp_store *st, const char *sku, const char *warehouse, int64_t delta_on_hand,
		      int64_t delta_reserved, struct erp_stock *out, char *err, size_t errlen)
{
	if (!erp_store_key_valid(sku, warehouse, err, errlen))
		return false;
	pthread_mutex_lock(&st->lock);
	bool ok = false;
	int64_t on_hand, reserved;
	struct erp_rec *rec = erp_rec_get(st, sku, warehouse, err, errlen);
	if (!rec)
		goto out;
	if (__builtin_add_overflow(rec->s.on_hand, delta_on_hand, &on_hand) ||
	    __builtin_add_overflow(rec->s.reserved, delta_reserved, &reserved)) {
		snprintf(err, errlen, "quantity out of range");
		goto out;
	}
	ok = erp_change_locked(st, rec, on_hand, reserved, out, err, errlen);
out:
	pthread_mutex_unlock(&st->lock);
	return ok;
}

/* Index of the first log entry with a sequence above since. */
static size_t erp_log_after(const struct erp_store *st, uint64_t since)
{
	size_t lo = 0, hi = st->log_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->log[mid].seq <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t erp_store_changes(struct erp_store *st, uint64_t since, size_t max, const char *warehouse, struct erp_stock *out,
			 bool *has_more)
{
	size_t n = 0;
	*has_more = false;
	pthread_mutex_lock(&st->lock);
	for (size_t i = erp_log_after(st, since); i < st->log_len; i++) {
		const struct erp_rec *rec = st->log[i].rec;
		if (rec->s.changed_seq != st->log[i].seq)
			continue;
		if (warehouse && strcmp(rec->s.warehouse, warehouse) != 0)
			continue;
		if (n == max) {
			*has_more = true;
			break;
		}
		out[n++] = rec->s;
	}
	pthread_mutex_unlock(&st->lock);
	return n;
}

size_t erp_store_sku(struct erp_store *st, const char *sku, struct erp_stock *out, size_t max)
{
	size_t n = 0;
	if (strlen(sku) > ERP_STORE_SKU_MAX)
		return 0;
	pthread_mutex_lock(&st->lock);
	struct erp_sku_node *node = erp_find_node(st, sku);
	for (const struct erp_rec *r = node ? node->recs : NULL; r; r = r->next, n++)
		if (n < max)
			out[n] = r->s;
	pthread_mutex_unlock(&st->lock);
	return n;
}

size_t erp_store_warehouses(struct erp_store *st, struct erp_warehouse *out, size_t max)
{
	pthread_mutex_lock(&st->lock);
	size_t n = st->nwh < max ? st->nwh : max;
	memcpy(out, st->wh, n * sizeof *out);
	pthread_mutex_unlock(&st->lock);
	return n;
}

uint64_t erp_store_last_seq(struct erp_store *st)
{
	pthread_mutex_lock(&st->lock);
	uint64_t seq = st->seq;
	pthread_mutex_unlock(&st->lock);
	return seq;
}

size_t erp_store_count(struct erp_store *st)
{
	pthread_mutex_lock(&st->lock);
	size_t n = st->count;
	pthread_mutex_unlock(&st->lock);
	return n;
}

void erp_store_clear(struct erp_store *st)
{
	pthread_mutex_lock(&st->lock);
	erp_store_clear_locked(st);
	pthread_mutex_unlock(&st->lock);
}
