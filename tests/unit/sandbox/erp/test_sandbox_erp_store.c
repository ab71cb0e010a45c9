/* The sandbox ERP's stock store: the change sequence a polling client relies on. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "erp_seed.h"
#include "erp_store.h"
#include "unit.h"

static bool set(struct erp_store *st, const char *sku, const char *wh, int64_t on_hand)
{
	char err[128];
	return erp_store_set(st, sku, wh, on_hand, NULL, NULL, err, sizeof err);
}

static void test_changes_in_sequence_order_with_cursor(void)
{
	struct erp_store *st = erp_store_new();
	struct erp_stock v[10];
	bool more;
	EXPECT(set(st, "A", "WH-MAIN", 1) && set(st, "B", "WH-MAIN", 2) && set(st, "C", "WH-SOUTH", 3));
	size_t n = erp_store_changes(st, 0, 2, NULL, v, &more);
	EXPECT_INT(n, 2);
	EXPECT(more);
	EXPECT_STR(v[0].sku, "A");
	EXPECT_INT(v[1].changed_seq, 2);
	n = erp_store_changes(st, v[1].changed_seq, 2, NULL, v, &more);
	EXPECT_INT(n, 1);
	EXPECT(!more);
	EXPECT_STR(v[0].sku, "C");
	erp_store_free(st);
}

static void test_changed_record_moves_to_its_new_sequence(void)
{
	struct erp_store *st = erp_store_new();
	struct erp_stock v[10];
	bool more;
	EXPECT(set(st, "A", "WH-MAIN", 1) && set(st, "B", "WH-MAIN", 2) && set(st, "A", "WH-MAIN", 5));
	size_t n = erp_store_changes(st, 0, 10, NULL, v, &more);
	EXPECT_INT(n, 2); /* A once, at its newer sequence */
	EXPECT_STR(v[0].sku, "B");
	EXPECT_STR(v[1].sku, "A");
	EXPECT_INT(v[1].changed_seq, 3);
	EXPECT_INT(v[1].version, 2);
	EXPECT_INT(v[1].on_hand, 5);
	/* a client that stopped after B still sees A's change */
	n = erp_store_changes(st, 2, 10, NULL, v, &more);
	EXPECT_INT(n, 1);
	EXPECT_STR(v[0].sku, "A");
	erp_store_free(st);
}

static void test_warehouse_filter_and_has_more(void)
{
	struct erp_store *st = erp_store_new();
	struct erp_stock v[4];
	bool more;
	EXPECT(set(st, "A", "WH-MAIN", 1) && set(st, "A", "WH-SOUTH", 1) && set(st, "B", "WH-MAIN", 1));
	size_t n = erp_store_changes(st, 0, 1, "WH-SOUTH", v, &more);
	EXPECT_INT(n, 1);
	EXPECT(!more); /* B is in another warehouse */
	EXPECT_STR(v[0].warehouse, "WH-SOUTH");
	EXPECT_INT(erp_store_sku(st, "A", v, 4), 2);
	EXPECT_STR(v[0].warehouse, "WH-MAIN");
	EXPECT_INT(erp_store_sku(st, "nope", v, 4), 0);
	struct erp_warehouse w[4];
	EXPECT_INT(erp_store_warehouses(st, w, 4), 2);
	EXPECT_INT(w[0].skus, 2);
	erp_store_free(st);
}

static void test_many_rewrites_compact_the_log(void)
{
	struct erp_store *st = erp_store_new();
	struct erp_stock v[4];
	bool more;
	for (int i = 0; i < 10000; i++)
		EXPECT(set(st, i % 2 ? "A" : "B", "WH-MAIN", i));
	EXPECT_INT(erp_store_changes(st, 0, 4, NULL, v, &more), 2);
	EXPECT_INT(v[0].on_hand, 9998);
	EXPECT_INT(v[1].on_hand, 9999);
	EXPECT_INT(v[1].changed_seq, 10000);
	EXPECT_INT(erp_store_changes(st, 9999, 4, NULL, v, &more), 1);
	erp_store_free(st);
}

static void test_clear_keeps_the_sequence_going(void)
{
	struct erp_store *st = erp_store_new();
	struct erp_stock v[4];
	bool more;
	EXPECT(set(st, "A", "WH-MAIN", 1) && set(st, "B", "WH-MAIN", 1));
	erp_store_clear(st);
	EXPECT_INT(erp_store_count(st), 0);
	EXPECT(set(st, "A", "WH-MAIN", 1));
	EXPECT_INT(erp_store_changes(st, 2, 4, NULL, v, &more), 1); /* an old cursor still works */
	EXPECT_INT(v[0].changed_seq, 3);
	EXPECT_INT(v[0].version, 1);
	erp_store_free(st);
}

static void test_adjust_and_reserved(void)
{
	struct erp_store *st = erp_store_new();
	struct erp_stock r;
	char err[128];
	int64_t reserved = 4;
	EXPECT(erp_store_set(st, "A", "WH-MAIN", 10, &reserved, &r, err, sizeof err));
	EXPECT(erp_store_adjust(st, "A", "WH-MAIN", -3, 1, &r, err, sizeof err));
	EXPECT_INT(r.on_hand, 7);
	EXPECT_INT(r.reserved, 5);
	EXPECT(erp_store_set(st, "A", "WH-MAIN", 8, NULL, &r, err, sizeof err));
	EXPECT_INT(r.reserved, 5); /* not given: kept */
	EXPECT(!erp_store_adjust(st, "A", "WH-MAIN", INT64_MAX, 0, &r, err, sizeof err));
	EXPECT(erp_store_adjust(st, "NEW", "WH-MAIN", 2, 0, &r, err, sizeof err));
	EXPECT_INT(r.on_hand, 2);
	erp_store_free(st);
}

static void test_keys_are_checked(void)
{
	char err[128];
	EXPECT(erp_store_key_valid("SKU-1", "WH-MAIN", err, sizeof err));
	EXPECT(!erp_store_key_valid("", "WH-MAIN", err, sizeof err));
	EXPECT(!erp_store_key_valid("A B", "WH-MAIN", err, sizeof err));
	EXPECT(!erp_store_key_valid("A/B", "WH-MAIN", err, sizeof err));
	EXPECT(!erp_store_key_valid("A", NULL, err, sizeof err));
	EXPECT(!erp_store_key_valid("0123456789012345678901234567890123456789012345678901234567890123456789", "WH-MAIN",
				    err, sizeof err));
}

static void test_seed_list_is_all_or_nothing(void)
{
	struct erp_store *st = erp_store_new();
	char err[160];
	size_t applied;
	json_t *ok = json_loads("{\"items\":[{\"sku\":\"A\",\"warehouse\":\"W\",\"on_hand\":1}]}", 0, NULL);
	json_t *bad = json_loads("[{\"sku\":\"B\",\"warehouse\":\"W\",\"on_hand\":1},"
				 "{\"sku\":\"C\",\"warehouse\":\"W\",\"on_hand\":1,\"reserved\":-1}]",
				 0, NULL);
	EXPECT(erp_seed_apply(st, ok, &applied, NULL, err, sizeof err));
	EXPECT_INT(applied, 1);
	EXPECT(!erp_seed_apply(st, bad, &applied, NULL, err, sizeof err));
	EXPECT_INT(erp_store_count(st), 1);
	EXPECT(erp_seed_load(st, 3, NULL, err, sizeof err));
	EXPECT_INT(erp_store_count(st), 6);
	json_decref(ok);
	json_decref(bad);
	erp_store_free(st);
}

/* A store started again is another feed: another id, the sequence from 1. */
static void test_each_store_is_a_feed_of_its_own(void)
{
	struct erp_store *a = erp_store_new(), *b = erp_store_new();
	EXPECT_INT(strlen(erp_store_feed_id(a)), ERP_STORE_FEED_ID_LEN);
	EXPECT(strcmp(erp_store_feed_id(a), erp_store_feed_id(b)) != 0);
	EXPECT(set(a, "A", "WH-MAIN", 1) && set(a, "A", "WH-MAIN", 2));
	EXPECT(set(b, "A", "WH-MAIN", 3));
	EXPECT_INT(erp_store_last_seq(a), 2);
	EXPECT_INT(erp_store_last_seq(b), 1);
	erp_store_clear(a);
	EXPECT(set(a, "A", "WH-MAIN", 4));
	EXPECT_INT(erp_store_last_seq(a), 3); /* a reset is not a new feed */
	erp_store_free(a);
	erp_store_free(b);
}

/* Versions as large as an ERP's epoch milliseconds, up to INT64_MAX and not past it. */
static void test_version_base(void)
{
	struct erp_store *st = erp_store_new();
	struct erp_stock out;
	char err[128];
	erp_store_version_base(st, 1700000000000LL);
	EXPECT(erp_store_set(st, "A", "W", 1, NULL, &out, err, sizeof err));
	EXPECT_INT(out.version, 1700000000001LL);
	EXPECT(erp_store_set(st, "A", "W", 2, NULL, &out, err, sizeof err));
	EXPECT_INT(out.version, 1700000000002LL);
	erp_store_version_base(st, INT64_MAX - 1);
	EXPECT(erp_store_set(st, "B", "W", 1, NULL, &out, err, sizeof err));
	EXPECT_INT(out.version, INT64_MAX);
	EXPECT(!erp_store_set(st, "B", "W", 2, NULL, &out, err, sizeof err));
	erp_store_free(st);
}

UNIT_MAIN(test_changes_in_sequence_order_with_cursor, test_changed_record_moves_to_its_new_sequence,
	  test_warehouse_filter_and_has_more, test_many_rewrites_compact_the_log, test_clear_keeps_the_sequence_going,
	  test_adjust_and_reserved, test_keys_are_checked, test_seed_list_is_all_or_nothing,
	  test_each_store_is_a_feed_of_its_own, test_version_base)
