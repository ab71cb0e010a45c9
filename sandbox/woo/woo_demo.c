#include "woo_demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "woo_item.h"

bool woo_demo_skipped(const char *skip_list, const char *sku)
{
	size_t n = strlen(sku);
	for (const char *p = skip_list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, sku, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* Fixed, varied numbers: some items out of stock, some on sale. */
static void woo_demo_fill(struct woo_item *it, long long n)
{
	snprintf(it->regular_price, sizeof it->regular_price, "%lld.99", 9 + (n * 7) % 90);
	if (n % 10 == 0)
		snprintf(it->sale_price, sizeof it->sale_price, "%lld.49", 5 + (n * 7) % 90 / 2);
	it->manage_stock = true;
	it->has_quantity = true;
	it->stock_quantity = (n * 7) % 50;
	woo_item_derive_status(it);
}

static bool woo_demo_named(struct woo_item *it, const char *what, long long n)
{
	char name[64];
	snprintf(name, sizeof name, "Demo %s %lld", what, n);
	char *copy = strdup(name);
	if (!copy)
		return false;
	free(it->name);
	it->name = copy;
	return true;
}

/* Inserts it (ownership passes), turning a failure into err. */
static bool woo_demo_insert(struct woo_catalog *c, struct woo_item *it, char *err, size_t errlen)
{
	struct woo_error e;
	if (!it) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!woo_catalog_insert(c, it, &e)) {
		snprintf(err, errlen, "demo catalogue: %s", e.message);
		return false;
	}
	return true;
}

bool woo_demo_load(struct woo_catalog *c, const struct woo_demo_opts *o, char *err, size_t errlen)
{
	int64_t now = event_now_us();
	int64_t parent_id = 0;
	long long variations = 0, parents = 0;

	woo_catalog_clear(c);
	for (long long n = 1; n <= o->count; n++) {
		char sku[WOO_SKU_MAX + 1];
		snprintf(sku, sizeof sku, "SKU-%06lld", n);
		if (woo_demo_skipped(o->skip_skus, sku))
			continue;
		bool variation = o->variable_every > 0 && n % o->variable_every == 0;
		if (variation && variations++ % o->per_parent == 0) {
			parent_id = WOO_DEMO_ID_BASE + o->count + ++parents;
			struct woo_item *p = woo_item_new(parent_id, WOO_VARIABLE, 0, now);
			if (!p || !woo_demo_named(p, "variable product", parents)) {
				woo_item_free(p);
				p = NULL;
			}
			if (!woo_demo_insert(c, p, err, errlen))
				return false;
		}
		struct woo_item *it = woo_item_new(WOO_DEMO_ID_BASE + n, variation ? WOO_VARIATION : WOO_SIMPLE,
						   parent_id, now);
		if (it && !woo_demo_named(it, variation ? "variation" : "product", n)) {
			woo_item_free(it);
			it = NULL;
		}
		if (it) {
			memcpy(it->sku, sku, strlen(sku) + 1);
			woo_demo_fill(it, n);
		}
		if (!woo_demo_insert(c, it, err, errlen))
			return false;
	}
	return true;
}
