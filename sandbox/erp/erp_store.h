/* erp_store — the sandbox ERP's stock records in memory: one record per SKU and warehouse, each
 * change stamped with the next value of one global change sequence.
 *
 * The sequence is what makes polling safe: a reader asking for changes after S gets, in sequence
 * order, every record whose latest change is above S, so a client that persists the last sequence
 * it saw misses nothing. A record changed twice shows up once, at its newer sequence. The sequence
 * never goes back within one store, not even across erp_store_clear, so a cursor kept by a client
 * stays valid. A new store (the sandbox started again) is a new feed: its sequence starts at 1
 * again, and its feed id, drawn at random, tells a client that its cursor belongs to another feed.
 *
 * All functions are thread-safe (one mutex); readers get copies, never pointers into the store. */
#ifndef SANDBOX_ERP_STORE_H
#define SANDBOX_ERP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERP_STORE_SKU_MAX        64
#define ERP_STORE_WAREHOUSE_MAX  32
#define ERP_STORE_WAREHOUSES_MAX 64

struct erp_stock {
	char sku[ERP_STORE_SKU_MAX + 1];
	char warehouse[ERP_STORE_WAREHOUSE_MAX + 1];
	int64_t on_hand;
	int64_t reserved;      /* allocated inside the ERP; available = on_hand - reserved */
	int64_t version;       /* 1 on creation, +1 per change of this record */
	uint64_t changed_seq;  /* global change sequence of the latest change */
	int64_t changed_at_us; /* unix microseconds of the latest change */
};

struct erp_warehouse {
	char code[ERP_STORE_WAREHOUSE_MAX + 1];
	size_t skus; /* records held in this warehouse */
};

struct erp_store;

#define ERP_STORE_FEED_ID_LEN 16 /* hex digits */

struct erp_store *erp_store_new(void);
void erp_store_free(struct erp_store *st); /* NULL-safe */

/* The feed id of this store: random, fixed for its life. */
const char *erp_store_feed_id(const struct erp_store *st);

/* New records start at version base + 1 instead of 1, as an ERP whose versions are epoch
 * milliseconds or a row version would. A change that would take a version past INT64_MAX is
 * refused. Set it before the store is shared between threads. */
void erp_store_version_base(struct erp_store *st, int64_t base);

/* Told every change (the record as stored), in sequence order, with the store's lock held: it must
 * be quick, must not block on I/O and must not call back into the store (the webhook queues a
 * copy). One listener; NULL fn: none. Set it before the store is shared between threads. */
typedef void (*erp_store_listener)(void *ud, const struct erp_stock *s);
void erp_store_listen(struct erp_store *st, erp_store_listener fn, void *ud);

/* true when sku / warehouse are acceptable keys (non-empty, short enough, printable, no
 * whitespace or '/'); otherwise err says why. Pure: used by the admin API before it writes. */
bool erp_store_key_valid(const char *sku, const char *warehouse, char *err, size_t errlen);

/* Sets on_hand, and reserved when reserved is non-NULL (a new record starts at 0 reserved),
 * creating the record if needed. Every call is a change: version and sequence advance even when
 * the numbers are the same, as an ERP re-saving a document would. out (may be NULL) gets the
 * record as stored. */
bool erp_store_set(struct erp_store *st, const char *sku, const char *warehouse, int64_t on_hand,
		   const int64_t *reserved, struct erp_stock *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Adds the deltas to on_hand and reserved (a missing record starts at 0/0, as a first goods
 * receipt would create it). */
bool erp_store_adjust(struct erp_store *st, const char *sku, const char *warehouse, int64_t delta_on_hand,
		      int64_t delta_reserved, struct erp_stock *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Copies up to max records whose latest change is after since, in sequence order, into out,
 * optionally only those of warehouse (NULL: all). *has_more: further records match. */
size_t erp_store_changes(struct erp_store *st, uint64_t since, size_t max, const char *warehouse, struct erp_stock *out,
			 bool *has_more);
/* Copies the records of sku (one per warehouse, warehouse order) into out; returns how many
 * exist (may exceed max: only max are copied). */
size_t erp_store_sku(struct erp_store *st, const char *sku, struct erp_stock *out, size_t max);
/* Copies the warehouses in code order; returns how many. */
size_t erp_store_warehouses(struct erp_store *st, struct erp_warehouse *out, size_t max);

uint64_t erp_store_last_seq(struct erp_store *st);
size_t erp_store_count(struct erp_store *st);
/* Forgets every record. The sequence goes on from where it was. */
void erp_store_clear(struct erp_store *st);

#endif
