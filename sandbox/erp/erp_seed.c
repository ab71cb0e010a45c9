#include "erp_seed.h"

#include <stdio.h>
#include <string.h>

/* Quantities an ERP could plausibly hold; keeps on_hand - reserved far from overflow. */
#define ERP_SEED_QTY_MAX 1000000000000LL

struct erp_seed_item {
	const char *sku;
	const char *warehouse;
	int64_t on_hand;
	int64_t reserved;
	bool has_reserved;
};

static bool erp_seed_qty(const json_t *it, const char *key, bool required, int64_t min, int64_t *out, bool *present,
			 char *err, size_t errlen)
{
	const json_t *v = json_object_get(it, key);
	*present = v != NULL;
	if (!v && !required)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > ERP_SEED_QTY_MAX) {
		snprintf(err, errlen, "\"%s\" must be an integer %lld..%lld", key, (long long)min, ERP_SEED_QTY_MAX);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

static bool erp_seed_parse(const json_t *it, struct erp_seed_item *out, char *err, size_t errlen)
{
	bool present;
	if (!json_is_object(it)) {
		snprintf(err, errlen, "an item must be an object");
		return false;
	}
	out->sku = json_string_value(json_object_get(it, "sku"));
	out->warehouse = json_string_value(json_object_get(it, "warehouse"));
	return erp_store_key_valid(out->sku, out->warehouse, err, errlen) &&
	       erp_seed_qty(it, "on_hand", true, -ERP_SEED_QTY_MAX, &out->on_hand, &present, err, errlen) &&
	       erp_seed_qty(it, "reserved", false, 0, &out->reserved, &out->has_reserved, err, errlen);
}

bool erp_seed_apply(struct erp_store *st, const json_t *body, size_t *applied, struct erp_stock *last, char *err,
		    size_t errlen)
{
	const json_t *items = json_is_array(body) ? body : json_object_get(body, "items");
	struct erp_seed_item item;
	char why[160];
	size_t i;
	const json_t *it;

	*applied = 0;
	if (!items) {
		if (!erp_seed_parse(body, &item, err, errlen))
			return false;
		if (!erp_store_set(st, item.sku, item.warehouse, item.on_hand,
				   item.has_reserved ? &item.reserved : NULL, last, err, errlen))
			return false;
		*applied = 1;
		return true;
	}
	if (!json_is_array(items)) {
		snprintf(err, errlen, "\"items\" must be an array");
		return false;
	}
	json_array_foreach(items, i, it)
	{
		if (!erp_seed_parse(it, &item, why, sizeof why)) {
			snprintf(err, errlen, "item %zu: %s", i, why);
			return false;
		}
	}
	json_array_foreach(items, i, it)
	{
		if (!erp_seed_parse(it, &item, err, errlen) ||
		    !erp_store_set(st, item.sku, item.warehouse, item.on_hand,
				   item.has_reserved ? &item.reserved : NULL, last, err, errlen))
			return false;
		(*applied)++;
	}
	return true;
}

static bool erp_seed_demo(struct erp_store *st, long long demo, char *err, size_t errlen)
{
	for (long long i = 1; i <= demo; i++) {
		char sku[ERP_STORE_SKU_MAX + 1];
		snprintf(sku, sizeof sku, "SKU-%06lld", i);
		/* fixed pseudo-random spreads: some SKUs reserved, some empty in the south */
		int64_t main_reserved = i % 7 == 0 ? i % 5 : 0;
		int64_t south_on_hand = (i * 53) % 60;
		int64_t south_reserved = 0;
		if (!erp_store_set(st, sku, ERP_SEED_WH_MAIN, 20 + (i * 37) % 180, &main_reserved, NULL, err, errlen) ||
		    !erp_store_set(st, sku, ERP_SEED_WH_SOUTH, south_on_hand, &south_reserved, NULL, err, errlen))
			return false;
	}
	return true;
}

bool erp_seed_load(struct erp_store *st, long long demo, const char *file, char *err, size_t errlen)
{
	char why[200];
	json_error_t jerr;
	size_t applied;

	erp_store_clear(st);
	if (!erp_seed_demo(st, demo, err, errlen))
		return false;
	if (!file || !*file)
		return true;
	json_t *root = json_load_file(file, 0, &jerr);
	if (!root) {
		snprintf(err, errlen, "seed file %s: %s (line %d)", file, jerr.text, jerr.line);
		return false;
	}
	bool ok = erp_seed_apply(st, root, &applied, NULL, why, sizeof why);
	if (!ok)
		snprintf(err, errlen, "seed file %s: %s", file, why);
	json_decref(root);
	return ok;
}
