/* shop_registry — the shop platforms erpsync can connect, by SHOP_<ID>_KIND. Another platform is
 * its adapter file and one line here. */
#include "shop.h"

#include <stdio.h>
#include <string.h>

#include "shop_woo.h"

static const struct shop_kind {
	const char *kind;
	struct shop *(*connect)(const struct shop_connect_opts *o);
} shop_kinds_table[] = {
	{ "woocommerce", shop_woo_connect },
};

#define SHOP_NKINDS (sizeof shop_kinds_table / sizeof shop_kinds_table[0])

static const struct shop_kind *shop_kind_find(const char *kind)
{
	for (size_t i = 0; kind && i < SHOP_NKINDS; i++)
		if (strcmp(shop_kinds_table[i].kind, kind) == 0)
			return &shop_kinds_table[i];
	return NULL;
}

bool shop_kind_known(const char *kind)
{
	return shop_kind_find(kind) != NULL;
}

const char *shop_kinds(void)
{
	static char list[256];
	if (!list[0]) {
		size_t off = 0;
		for (size_t i = 0; i < SHOP_NKINDS && off < sizeof list; i++)
			off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? "|" : "",
						shop_kinds_table[i].kind);
	}
	return list;
}

struct shop *shop_connect(const char *kind, const struct shop_connect_opts *o, char *err, size_t errlen)
{
	const struct shop_kind *k = shop_kind_find(kind);
	if (!k) {
		snprintf(err, errlen, "shop %s: no adapter for kind \"%s\" (known: %s)", o->shop_id, kind ? kind : "",
			 shop_kinds());
		return NULL;
	}
	struct shop *s = k->connect(o);
	if (!s)
		snprintf(err, errlen, "shop %s: cannot create its %s adapter (out of memory)", o->shop_id, kind);
	return s;
}

void shop_free(struct shop *s)
{
	if (s)
		s->free(s);
}
