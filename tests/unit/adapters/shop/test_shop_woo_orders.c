/* The WooCommerce orders adapter's pure parts: refund objects as GET /orders/<id>/refunds
 * answers them, and the shop's tax class setting. */
#include <stdlib.h>
#include <string.h>

#include "shop.h"
#include "shop_woo_orders.h"
#include "unit.h"

/* A refund as WooCommerce stores it: one piece of line 311 with its tax, the parcel locker
 * shipping, and a fee; items negative, the amount positive. */
static const char refunds_json[] =
	"[{\"id\":5004,\"date_created\":\"2024-05-03T14:00:00\",\"date_created_gmt\":\"2024-05-03T12:00:00\","
	"\"amount\":\"74.69\",\"reason\":\"uszkodzony kubek\",\"refunded_by\":1,\"refunded_payment\":false,"
	"\"meta_data\":[],"
	"\"line_items\":[{\"id\":901,\"name\":\"Kubek\",\"product_id\":93,\"variation_id\":0,\"quantity\":-1,"
	"\"tax_class\":\"\",\"subtotal\":\"-45.00\",\"subtotal_tax\":\"-10.35\",\"total\":\"-45.00\","
	"\"total_tax\":\"-10.35\",\"taxes\":[{\"id\":1,\"total\":\"-10.35\",\"subtotal\":\"-10.35\"}],"
	"\"meta_data\":[{\"id\":77,\"key\":\"_refunded_item_id\",\"value\":\"311\",\"display_key\":"
	"\"_refunded_item_id\",\"display_value\":\"311\"}],\"sku\":\"KUB-001\",\"price\":-45}],"
	"\"shipping_lines\":[{\"id\":902,\"method_title\":\"Paczkomat\",\"method_id\":\"easypack\",\"total\":\"-13."
	"00\","
	"\"total_tax\":\"-2.99\",\"taxes\":[],\"meta_data\":[{\"key\":\"_refunded_item_id\",\"value\":501}]}],"
	"\"fee_lines\":[{\"id\":903,\"name\":\"Pakowanie\",\"total\":\"-2.50\",\"total_tax\":\"-0.85\","
	"\"meta_data\":[{\"key\":\"_refunded_item_id\",\"value\":\"601\"}]}],\"tax_lines\":[]},"
	"{\"id\":5003,\"date_created_gmt\":\"2024-05-02T08:00:00\",\"amount\":\"10.00\",\"reason\":\"\","
	"\"line_items\":[]}]";

static void test_refunds_parse(void)
{
	struct shop_refund *r = NULL;
	size_t n = 0;
	char err[200] = "";
	EXPECT(shop_woo_refunds_parse(refunds_json, strlen(refunds_json), &r, &n, err, sizeof err));
	EXPECT_INT(n, 2);
	if (n != 2)
		return;
	EXPECT_STR(r[0].refund_id, "5004");
	EXPECT_STR(r[0].reason, "uszkodzony kubek");
	EXPECT_INT(r[0].amount_minor, 7469);
	EXPECT_INT(r[0].created_at_us, 1714737600000000LL); /* 2024-05-03T12:00:00Z */
	EXPECT_INT(r[0].n_lines, 2);
	EXPECT_STR(r[0].lines[0].line_id, "311");
	EXPECT_INT(r[0].lines[0].quantity_milli, 1000);
	EXPECT_INT(r[0].lines[0].net_minor, 4500);
	EXPECT_INT(r[0].lines[0].tax_minor, 1035);
	EXPECT_STR(r[0].lines[1].line_id, "601"); /* the fee: money only */
	EXPECT_INT(r[0].lines[1].quantity_milli, 0);
	EXPECT_INT(r[0].lines[1].net_minor, 250);
	EXPECT_INT(r[0].lines[1].tax_minor, 85);
	EXPECT_INT(r[0].shipping_net_minor, 1300);
	EXPECT_INT(r[0].shipping_tax_minor, 299);
	EXPECT_STR(r[1].refund_id, "5003");
	EXPECT_INT(r[1].amount_minor, 1000);
	EXPECT_INT(r[1].n_lines, 0);
	EXPECT_INT(r[1].shipping_net_minor, 0);
	/* a second page is appended */
	static const char page2[] = "[{\"id\":1,\"amount\":\"1.00\"}]";
	EXPECT(shop_woo_refunds_parse(page2, strlen(page2), &r, &n, err, sizeof err));
	EXPECT_INT(n, 3);
	EXPECT_STR(r[2].refund_id, "1");
	shop_refunds_free(r, n);
	shop_refunds_free(NULL, 0);
}

static void test_refunds_refused(void)
{
	static const char *const bad[] = {
		"{}",                          /* not an array */
		"[{\"amount\":\"1.00\"}]",     /* no id */
		"[{\"id\":1,\"amount\":1.5}]", /* money as a number */
		"[{\"id\":1,\"amount\":\"1.00\",\"line_items\":[{\"quantity\":-1,\"total\":\"-1.00\"}]}]", /* no ref */
		"[{\"id\":1,\"amount\":\"1.00\",\"date_created_gmt\":\"yesterday\"}]",
		"[{\"id\":1,\"amount\":\"1.001\"}]",
		"[{\"id\":1,\"id\":2,\"amount\":\"1.00\"}]", /* a repeated key */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct shop_refund *r = NULL;
		size_t n = 0;
		char err[200] = "";
		EXPECT(!shop_woo_refunds_parse(bad[i], strlen(bad[i]), &r, &n, err, sizeof err));
		EXPECT(r == NULL && n == 0);
		EXPECT(err[0] != '\0');
	}
	/* a failed page leaves the pages before it as they were */
	struct shop_refund *r = NULL;
	size_t n = 0;
	char err[200];
	static const char good[] = "[{\"id\":7,\"amount\":\"2.00\"}]", bad8[] = "[{\"id\":8}]";
	EXPECT(shop_woo_refunds_parse(good, strlen(good), &r, &n, err, sizeof err));
	EXPECT(!shop_woo_refunds_parse(bad8, strlen(bad8), &r, &n, err, sizeof err));
	EXPECT_INT(n, 1);
	EXPECT(r && strcmp(r[0].refund_id, "7") == 0);
	shop_refunds_free(r, n);
}

static void test_tax_classes(void)
{
	struct shop_woo_tax_class *t = NULL;
	size_t n = 99;
	char err[200];
	EXPECT(shop_woo_tax_classes_parse("reduced-rate=8,zero-rate=0,books=5.5,standard=23", &t, &n, err, sizeof err));
	EXPECT_INT(n, 4);
	if (n == 4) {
		EXPECT_STR(t[0].tax_class, "reduced-rate");
		EXPECT_INT(t[0].rate_bp, 800);
		EXPECT_INT(t[1].rate_bp, 0);
		EXPECT_STR(t[2].tax_class, "books");
		EXPECT_INT(t[2].rate_bp, 550);
		EXPECT_STR(t[3].tax_class, ""); /* standard is the class "" */
		EXPECT_INT(t[3].rate_bp, 2300);
	}
	shop_woo_tax_classes_free(t, n);
	EXPECT(shop_woo_tax_classes_parse("", &t, &n, err, sizeof err) && t == NULL && n == 0);
	EXPECT(shop_woo_tax_classes_parse(NULL, &t, &n, err, sizeof err) && t == NULL && n == 0);
}

static void test_tax_classes_refused(void)
{
	static const char *const bad[] = { "reduced-rate", "reduced-rate=", "=8",    "Reduced=8",
					   "a=8,a=5",      "a=101",         "a=-1",  "a=8.125",
					   "a=8,",         "a=8,,b=5",      "a b=8", "standard=23,=5" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct shop_woo_tax_class *t = NULL;
		size_t n = 0;
		char err[200] = "";
		EXPECT(!shop_woo_tax_classes_parse(bad[i], &t, &n, err, sizeof err));
		EXPECT(t == NULL && n == 0 && err[0]);
	}
	char many[400] = "";
	size_t o = 0;
	for (int i = 0; i <= SHOP_WOO_TAX_CLASSES_MAX; i++)
		o += (size_t)snprintf(many + o, sizeof many - o, "%sc%d=1", i ? "," : "", i);
	struct shop_woo_tax_class *t = NULL;
	size_t n = 0;
	char err[200];
	EXPECT(!shop_woo_tax_classes_parse(many, &t, &n, err, sizeof err));
}

UNIT_MAIN(test_refunds_parse, test_refunds_refused, test_tax_classes, test_tax_classes_refused)
