#include "erp_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct erp_index_entry {
	struct erp_index_entry *next;
	uint64_t hash;
	size_t doc;
	char key[];
};

#define ERP_INDEX_FIRST 1024

void erp_index_init(struct erp_index *ix)
{
	memset(ix, 0, sizeof *ix);
}

void erp_index_cleanup(struct erp_index *ix)
{
	for (size_t b = 0; b < ix->nbuckets; b++) {
		for (struct erp_index_entry *e = ix->buckets[b], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(ix->buckets);
	erp_index_init(ix);
}

/* Doubles the table once it holds as many entries as buckets: chains stay about one long. */
static bool erp_index_grow(struct erp_index *ix)
{
	size_t nb = ix->nbuckets ? ix->nbuckets * 2 : ERP_INDEX_FIRST;
	struct erp_index_entry **b = calloc(nb, sizeof *b);
	if (!b)
		return false;
	for (size_t i = 0; i < ix->nbuckets; i++) {
		for (struct erp_index_entry *e = ix->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(ix->buckets);
	ix->buckets = b;
	ix->nbuckets = nb;
	return true;
}

bool erp_index_add(struct erp_index *ix, const char *key, size_t doc)
{
	size_t len = key ? strlen(key) : 0;
	if (len == 0)
		return true;
	if (ix->n >= ix->nbuckets && !erp_index_grow(ix))
		return false;
	struct erp_index_entry *e = malloc(sizeof *e + len + 1);
	if (!e)
		return false;
	e->hash = hash_fnv1a64(key, len);
	e->doc = doc;
	memcpy(e->key, key, len + 1);
	e->next = ix->buckets[e->hash & (ix->nbuckets - 1)];
	ix->buckets[e->hash & (ix->nbuckets - 1)] = e;
	ix->n++;
	return true;
}

static int erp_index_doc_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

size_t erp_index_find(const struct erp_index *ix, const char *key, size_t *out, size_t max)
{
	size_t len = key ? strlen(key) : 0, n = 0;
	if (len == 0 || ix->nbuckets == 0)
		return 0;
	uint64_t h = hash_fnv1a64(key, len);
	for (const struct erp_index_entry *e = ix->buckets[h & (ix->nbuckets - 1)]; e; e = e->next) {
		if (e->hash != h || strcmp(e->key, key) != 0)
			continue;
		if (n < max)
			out[n] = e->doc;
		n++;
	}
	qsort(out, n < max ? n : max, sizeof *out, erp_index_doc_cmp);
	return n;
}

/* O(keys * chain): for the statistics endpoint only. */
void erp_index_counts(const struct erp_index *ix, size_t *keys, size_t *shared)
{
	*keys = *shared = 0;
	for (size_t b = 0; b < ix->nbuckets; b++) {
		for (const struct erp_index_entry *e = ix->buckets[b]; e; e = e->next) {
			bool seen = false;
			for (const struct erp_index_entry *f = ix->buckets[b]; f != e && !seen; f = f->next)
				seen = f->hash == e->hash && strcmp(f->key, e->key) == 0;
			if (seen)
				continue; /* counted at the key's first entry */
			size_t total = 0;
			for (const struct erp_index_entry *f = e; f; f = f->next)
				total += f->hash == e->hash && strcmp(f->key, e->key) == 0;
			(*keys)++;
			*shared += total > 1;
		}
	}
}
