/* order_shops — the shops order-sync serves: each one's settings and its connected adapter. */
#ifndef ORDER_SHOPS_H
#define ORDER_SHOPS_H

#include <stddef.h>

struct shop;
struct shop_config;

struct order_shop {
	const struct shop_config *cfg;
	struct shop *shop; /* serves orders (checked at start) */
};

struct order_shops {
	struct order_shop *v;
	size_t n;
};

/* Connects every shop; false (logged) when one cannot be or does not serve orders. */
bool order_shops_connect(struct order_shops *s, const struct shop_config *cfg, size_t n);
void order_shops_free(struct order_shops *s);
struct order_shop *order_shops_find(const struct order_shops *s, const char *id); /* NULL: unknown */

#endif
