#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "order_shops.h"
#include "shop.h"
#include "shop_config.h"

bool order_shops_connect(struct order_shops *s, const struct shop_config *cfg, size_t n)
{
	s->v = calloc(n ? n : 1, sizeof *s->v);
	s->n = 0;
	if (!s->v)
		return false;
	for (size_t i = 0; i < n; i++) {
		char err[256];
		struct shop *sh = shop_config_connect(&cfg[i], err, sizeof err);
		if (!sh) {
			log_error("shop %s: %s", cfg[i].id, err);
			return false;
		}
		s->v[s->n++] = (struct order_shop){ &cfg[i], sh };
		if (!sh->orders) {
			log_error("shop %s: its platform (%s) does not serve orders", cfg[i].id, sh->kind);
			return false;
		}
	}
	return true;
}

void order_shops_free(struct order_shops *s)
{
	for (size_t i = 0; i < s->n; i++)
		shop_free(s->v[i].shop);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

struct order_shop *order_shops_find(const struct order_shops *s, const char *id)
{
	for (size_t i = 0; id && i < s->n; i++)
		if (strcmp(s->v[i].cfg->id, id) == 0)
			return &s->v[i];
	return NULL;
}
