/* erp_index — a hash index from a text key to document numbers, several per key (an ERP may hold
 * two orders of one external reference; a company and its branches share a NIP). Not thread-safe:
 * erp_docs calls it under its own lock. */
#ifndef SANDBOX_ERP_INDEX_H
#define SANDBOX_ERP_INDEX_H

#include <stdbool.h>
#include <stddef.h>

struct erp_index_entry;

struct erp_index {
	struct erp_index_entry **buckets;
	size_t nbuckets; /* a power of two; 0 until the first add */
	size_t n;
};

void erp_index_init(struct erp_index *ix);
void erp_index_cleanup(struct erp_index *ix); /* the index may be used again after */

/* Adds (key, doc). An empty key is not indexed (true). false: out of memory. */
bool erp_index_add(struct erp_index *ix, const char *key, size_t doc) __attribute__((warn_unused_result));

/* The documents under key, oldest (smallest number) first, into out[0..max); returns how many
 * there are (may exceed max). */
size_t erp_index_find(const struct erp_index *ix, const char *key, size_t *out, size_t max);

/* How many distinct keys, and how many of them have more than one document. */
void erp_index_counts(const struct erp_index *ix, size_t *keys, size_t *shared);

#endif
