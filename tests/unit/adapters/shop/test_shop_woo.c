/* WooCommerce's batch call plan. */
#include <string.h>

#include "shop_woo.h"
#include "unit.h"

/* Writes are given oldest first: each call keeps that order, and the call with the oldest write
 * goes first, whichever endpoint it is for. */
static void test_woo_call_plan(void)
{
	static const struct shop_stock_write w[] = {
		{ "V7-A", 71, 7, 1 }, { "P-1", 1, 0, 1 }, { "V3-A", 31, 3, 1 }, { "P-2", 2, 0, 1 },
		{ "P-3", 3, 0, 1 }, { "V7-B", 72, 7, 1 }, { "V3-B", 32, 3, 1 }, { "P-4", 4, 0, 1 },
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
	EXPECT_INT(n, 4);   /* 249 products in 100 + 100 + 49, the variation alone */
	size_t total = 0;
	for (size_t c = 0; c < n && c < 4; c++) {
		EXPECT(mcalls[c].end - mcalls[c].start <= 100);
		total += mcalls[c].end - mcalls[c].start;
	}
	EXPECT_INT(total, 250);
	EXPECT_INT(midx[mcalls[0].start], 0);
	EXPECT_INT(midx[mcalls[1].start], 100);
	EXPECT_INT(midx[mcalls[2].start], 120);     /* the variation's call: its write is older than 101's */
	EXPECT_INT(mcalls[2].end - mcalls[2].start, 1);
	EXPECT_INT(n ? shop_woo_plan(many, 0, 100, midx, mcalls) : 1, 0);
}

UNIT_MAIN(test_woo_call_plan)
