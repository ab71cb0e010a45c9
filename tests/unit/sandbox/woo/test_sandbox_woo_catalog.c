/* The sandbox shop's catalogue: WooCommerce's write rules, ?sku= lookups, paging, batch-level
 * errors and the per-SKU write counts the tests rely on. */
#include <string.h>

#include "unit.h"
#include "woo_catalog.h"
#include "woo_demo.h"
#include "woo_item.h"

/* Applies a JSON write to the item at t; returns the resulting JSON (caller decrefs) or NULL. */
static json_t *put(struct woo_catalog *c, struct woo_target t, const char *body, int *changed, struct woo_error *e)
{
	json_t *b = json_loads(body, 0, NULL);
	json_t *j = woo_catalog_update(c, t, b, changed, e);
	json_decref(b);
	return j;
}

static struct woo_catalog *demo(long long n, long long every, const char *skip)
{
	char err[128];
	struct woo_catalog *c = woo_catalog_new();
	struct woo_demo_opts o = { n, every, 2, skip };
	EXPECT(woo_demo_load(c, &o, err, sizeof err));
	return c;
}

static void test_patch_rejects_wrong_types(void)
{
	struct woo_patch p;
	struct woo_error e;
	json_t *b = json_loads("{\"stock_quantity\":\"x\"}", 0, NULL);
	EXPECT(!woo_patch_parse(b, &p, &e));
	EXPECT_STR(e.code, "rest_invalid_param");
	EXPECT_STR(e.param, "stock_quantity");
	json_decref(b);
	b = json_loads("{\"stock_quantity\":\"12\",\"regular_price\":\"9.90\",\"stock_status\":\"onbackorder\"}", 0,
		       NULL);
	EXPECT(woo_patch_parse(b, &p, &e));
	EXPECT_INT(p.stock_quantity, 12);
	EXPECT(p.set & WOO_F_REGULAR_PRICE);
	json_decref(b);
	b = json_loads("{\"regular_price\":9.9}", 0, NULL);
	EXPECT(!woo_patch_parse(b, &p, &e));
	json_decref(b);
}

static void test_stock_rules(void)
{
	struct woo_catalog *c = demo(3, 0, NULL);
	struct woo_error e;
	int changed;
	struct woo_target t = { .id = 1001 };
	json_t *j = put(c, t, "{\"manage_stock\":true,\"stock_quantity\":0}", &changed, &e);
	EXPECT_STR(json_string_value(json_object_get(j, "stock_status")), "outofstock");
	json_decref(j);
	j = put(c, t, "{\"stock_quantity\":0,\"backorders\":\"notify\"}", &changed, &e);
	EXPECT_STR(json_string_value(json_object_get(j, "stock_status")), "onbackorder");
	json_decref(j);
	/* without manage_stock the quantity is not kept and the status is as sent */
	j = put(c, t, "{\"manage_stock\":false,\"stock_quantity\":5,\"stock_status\":\"instock\"}", &changed, &e);
	EXPECT(json_is_null(json_object_get(j, "stock_quantity")));
	EXPECT_STR(json_string_value(json_object_get(j, "stock_status")), "instock");
	json_decref(j);
	j = put(c, t, "{\"manage_stock\":true,\"stock_quantity\":4}", &changed, &e);
	EXPECT_INT(json_integer_value(json_object_get(j, "stock_quantity")), 4);
	json_decref(j);
	j = put(c, t, "{\"stock_quantity\":4}", &changed, &e);
	EXPECT_INT(changed, 0); /* same value: a write without a change */
	json_decref(j);
	json_t *w = woo_catalog_writes_json(c, "SKU-000001");
	EXPECT_INT(json_integer_value(json_object_get(w, "stock_writes")), 4); /* not the ignored one */
	json_decref(w);
	woo_catalog_free(c);
}

static void test_errors_as_woocommerce_gives_them(void)
{
	struct woo_catalog *c = demo(4, 2, NULL); /* 1002 and 1004 are variations of 1005 */
	struct woo_error e;
	EXPECT(!woo_catalog_get(c, (struct woo_target){ .id = 9 }, &e));
	EXPECT_INT(e.status, 404);
	EXPECT(!put(c, (struct woo_target){ .id = 9 }, "{}", NULL, &e));
	EXPECT_INT(e.status, 400);
	EXPECT_STR(e.code, "woocommerce_rest_product_invalid_id");
	EXPECT(!put(c, (struct woo_target){ .id = 1002 }, "{}", NULL, &e));
	EXPECT_STR(e.code, "woocommerce_rest_invalid_product_id");
	EXPECT(!put(c, (struct woo_target){ .parent = 1001, .id = 1002 }, "{}", NULL, &e));
	EXPECT_INT(e.status, 401);
	EXPECT(!put(c, (struct woo_target){ .parent = 1001, .id = 1002, .in_batch = true }, "{}", NULL, &e));
	EXPECT_STR(e.code, "woocommerce_rest_product_variation_invalid_id");
	EXPECT(!put(c, (struct woo_target){ .id = 1001 }, "{\"sku\":\"SKU-000003\"}", NULL, &e));
	EXPECT_STR(e.code, "product_invalid_sku");
	json_t *j = put(c, (struct woo_target){ .parent = 1005, .id = 1002 }, "{\"stock_quantity\":1}", NULL, &e);
	EXPECT(j != NULL);
	json_decref(j);
	woo_catalog_free(c);
}

static void test_sku_lookup_finds_variations_and_lists(void)
{
	struct woo_catalog *c = demo(6, 3, "SKU-000001");
	struct woo_list_query q = { .sku = "SKU-000003,SKU-000002,SKU-000001,SKU-000002", .page = 1, .per_page = 10 };
	struct woo_list_page page;
	EXPECT(woo_catalog_list(c, &q, &page));
	EXPECT_INT(page.total, 2); /* SKU-000001 is skipped, duplicates once */
	json_t *first = json_array_get(page.items, 0);
	EXPECT_INT(json_integer_value(json_object_get(first, "id")), 1002);
	json_t *var = json_array_get(page.items, 1);
	EXPECT_STR(json_string_value(json_object_get(var, "type")), "variation");
	EXPECT_INT(json_integer_value(json_object_get(var, "parent_id")), 1007);
	json_decref(page.items);
	woo_catalog_free(c);
}

static void test_paging_and_deletes(void)
{
	struct woo_catalog *c = demo(25, 0, NULL);
	struct woo_list_query q = { .page = 3, .per_page = 10, .descending = true };
	struct woo_list_page page;
	struct woo_error e;
	EXPECT(woo_catalog_list(c, &q, &page));
	EXPECT_INT(page.total, 25);
	EXPECT_INT(page.pages, 3);
	EXPECT_INT(json_array_size(page.items), 5);
	EXPECT_INT(json_integer_value(json_object_get(json_array_get(page.items, 0), "id")), 1005);
	json_decref(page.items);
	json_t *gone = woo_catalog_delete(c, (struct woo_target){ .id = 1003 }, &e);
	EXPECT(gone != NULL);
	json_decref(gone);
	EXPECT_INT(woo_catalog_count(c), 24);
	json_t *stock = woo_catalog_stock_json(c);
	EXPECT(!json_object_get(stock, "SKU-000003"));
	EXPECT_INT(json_object_size(stock), 24);
	json_decref(stock);
	woo_catalog_free(c);
}

static void test_variable_product_follows_its_variations(void)
{
	struct woo_catalog *c = demo(4, 2, NULL);
	struct woo_error e;
	json_t *j;
	j = put(c, (struct woo_target){ .parent = 1005, .id = 1002 }, "{\"stock_quantity\":0}", NULL, &e);
	json_decref(j);
	j = put(c, (struct woo_target){ .parent = 1005, .id = 1004 }, "{\"stock_quantity\":0}", NULL, &e);
	json_decref(j);
	j = woo_catalog_get(c, (struct woo_target){ .id = 1005 }, &e);
	EXPECT_STR(json_string_value(json_object_get(j, "stock_status")), "outofstock");
	EXPECT_INT(json_array_size(json_object_get(j, "variations")), 2);
	json_decref(j);
	j = woo_catalog_delete(c, (struct woo_target){ .id = 1005 }, &e);
	json_decref(j);
	EXPECT_INT(woo_catalog_count(c), 2); /* the variations went along */
	woo_catalog_free(c);
}

static void test_skip_list(void)
{
	EXPECT(woo_demo_skipped("A,B,SKU-1", "B"));
	EXPECT(woo_demo_skipped("A,B,SKU-1", "SKU-1"));
	EXPECT(!woo_demo_skipped("A,B,SKU-1", "SKU"));
	EXPECT(!woo_demo_skipped(NULL, "A"));
}

UNIT_MAIN(test_patch_rejects_wrong_types, test_stock_rules, test_errors_as_woocommerce_gives_them,
	  test_sku_lookup_finds_variations_and_lists, test_paging_and_deletes,
	  test_variable_product_follows_its_variations, test_skip_list)
