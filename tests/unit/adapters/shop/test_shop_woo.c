/* WooCommerce's batch call plan. */
#include <string.h>

#include "shop_config.h"
#include "shop_woo.h"
#include "unit.h"

/* Writes are given oldest first: each call keeps that order, and the call with the oldest write
 * goes first, whichever endpoint it is for. */
static void test_woo_call_plan(void)
{
	static const struct shop_stock_write w[] = {
		{ "V7-A", 71, 7, 1 }, { "P-1", 1, 0, 1 },   { "V3-A", 31, 3, 1 }, { "P-2", 2, 0, 1 },
		{ "P-3", 3, 0, 1 },   { "V7-B", 72, 7, 1 }, { "V3-B", 32, 3, 1 }, { "P-4", 4, 0, 1 },
	};
	static const size_t want[][2] = { { 0, 5 }, { 1, 3 }, { 2, 6 }, { 4, 7 } };
	size_t idx[8];
	struct shop_woo_call calls[8];
	size_t n = shop_woo_plan(w, 8, 2, idx, calls);
	EXPECT_INT(n, 4);
	for (size_t c = 0; c < n && c < 4; c++) {
		EXPECT_INT(calls[c].end - calls[c].start, 2);
		EXPECT_INT(idx[calls[c].start], want[c][0]);
		EXPECT_INT(idx[calls[c].start + 1], want[c][1]);
		EXPECT_INT(w[idx[calls[c].start]].parent_id, w[idx[calls[c].start + 1]].parent_id);
	}
	/* at most 100 a call; one parent's writes never mixed with another's */
	struct shop_stock_write many[250];
	size_t midx[250];
	struct shop_woo_call mcalls[250];
	for (size_t i = 0; i < 250; i++)
		many[i] = (struct shop_stock_write){ "S", (int64_t)i + 1, i == 120 ? 9 : 0, 1 };
	n = shop_woo_plan(many, 250, 100, midx, mcalls);
	EXPECT_INT(n, 4); /* 249 products in 100 + 100 + 49, the variation alone */
	size_t total = 0;
	for (size_t c = 0; c < n && c < 4; c++) {
		EXPECT(mcalls[c].end - mcalls[c].start <= 100);
		total += mcalls[c].end - mcalls[c].start;
	}
	EXPECT_INT(total, 250);
	EXPECT_INT(midx[mcalls[0].start], 0);
	EXPECT_INT(midx[mcalls[1].start], 100);
	EXPECT_INT(midx[mcalls[2].start], 120); /* the variation's call: its write is older than 101's */
	EXPECT_INT(mcalls[2].end - mcalls[2].start, 1);
	EXPECT_INT(n ? shop_woo_plan(many, 0, 100, midx, mcalls) : 1, 0);
}

/* A shop whose listing never ends (it ignores the page and always answers a full one) must not
 * keep a loop asking for the next page for ever: past the bound the adapter refuses the page,
 * before any call. */
static void test_woo_listing_bounded(void)
{
	struct shop_woo_opts o = { .shop_id = "bounded",
				   .base_url = "http://127.0.0.1:9",
				   .consumer_key = "ck",
				   .consumer_secret = "cs",
				   .batch_max = 100 };
	struct shop *s = shop_woo_new(&o);
	struct shop_item *items = NULL;
	size_t n = 7;
	bool more = true;
	char err[256] = "";
	EXPECT(s != NULL);
	if (!s)
		return;
	EXPECT(!s->stock->list_items(s, SHOP_LIST_PAGES_MAX + 1, &items, &n, &more, err, sizeof err));
	EXPECT(items == NULL && n == 0 && !more);
	EXPECT(strstr(err, "pages") != NULL);
	shop_free(s);
}

/* Basic auth sends the shop's key and secret with every call: over plain http to another machine
 * they can be read on the way (a warning at start-up). */
static void test_cleartext_remote(void)
{
	EXPECT(shop_config_cleartext_remote("http://shop.example.com"));
	EXPECT(shop_config_cleartext_remote("HTTP://192.0.2.10:8080/shop"));
	EXPECT(shop_config_cleartext_remote("http://127.0.0.1.evil.example/"));
	EXPECT(shop_config_cleartext_remote("http://user@10.0.0.1/"));
	EXPECT(shop_config_cleartext_remote("http://[2001:db8::1]:80/"));
	EXPECT(!shop_config_cleartext_remote("https://shop.example.com"));
	EXPECT(!shop_config_cleartext_remote("http://127.0.0.1:19181"));
	EXPECT(!shop_config_cleartext_remote("http://127.10.0.3/"));
	EXPECT(!shop_config_cleartext_remote("http://localhost:8080/wp"));
	EXPECT(!shop_config_cleartext_remote("http://[::1]:8080"));
	EXPECT(!shop_config_cleartext_remote(NULL));
}

UNIT_MAIN(test_woo_call_plan, test_woo_listing_bounded, test_cleartext_remote)
