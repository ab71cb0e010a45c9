/* The REST stock API's answers: good pages, malformed ones refused whole, a bad record rejected
 * alone, versions up to 2^63-1, pushed bodies. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "erp_rest.h"
#include "log.h"
#include "unit.h"

static void test_erp_parse_good_page(void)
{
	log_init("test", LOG_ERROR + 1); /* the parser's warnings are what these tests provoke */
	const char *body = "{\"items\":[{\"sku\":\"S1\",\"warehouse\":\"W\",\"on_hand\":5,\"reserved\":1,"
			   "\"available\":4,\"version\":3,\"changed_at\":\"2026-11-26T10:00:00.5Z\"}],"
			   "\"next_cursor\":\"17\",\"has_more\":true}";
	struct erp_stock_page p;
	char err[256];
	EXPECT(erp_rest_parse_stock(body, strlen(body), &p, err, sizeof err));
	EXPECT_INT(p.n, 1);
	EXPECT_STR(p.items[0].sku, "S1");
	EXPECT_INT(p.items[0].available, 4);
	EXPECT_INT(p.items[0].changed_at_us, 1795687200500000LL);
	EXPECT_STR(p.next_cursor, "17");
	EXPECT(p.has_more);
	erp_stock_page_cleanup(&p);
}

static void test_erp_parse_rejects_malformed(void)
{
	static const char *const bad[] = {
		"not json",
		"{\"items\":{}}",
		"{\"items\":[],\"next_cursor\":5}",
		"{\"items\":[{\"sku\":\"S1\"}],\"next_cursor\":\"1\"}",
		"{\"items\":[{\"sku\":\"S1\",\"warehouse\":\"W\",\"on_hand\":\"5\",\"reserved\":1,\"available\":4,"
		"\"version\":3,\"changed_at\":\"2026-11-26T10:00:00Z\"}],\"next_cursor\":\"1\"}",
		"{\"items\":[{\"sku\":\"S1\",\"warehouse\":\"W\",\"on_hand\":5,\"reserved\":1,\"available\":4,"
		"\"version\":3,\"changed_at\":7}],\"next_cursor\":\"1\"}",
		"{\"items\":[],\"next_cursor\":\"1\",\"feed_id\":\"a b\"}",
		"{\"items\":[],\"next_cursor\":\"1\",\"feed_id\":\"\"}",
		"{\"items\":[],\"next_cursor\":\"1\",\"last_cursor\":\"-3\"}",
		"{\"items\":[],\"next_cursor\":\"1\",\"last_cursor\":3}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct erp_stock_page p;
		char err[256] = "";
		EXPECT(!erp_rest_parse_stock(bad[i], strlen(bad[i]), &p, err, sizeof err));
		EXPECT(err[0] != '\0');
		EXPECT(p.items == NULL && p.n == 0);
	}
}

#define ERP_REC(sku, on_hand, version)                                                                           \
	"{\"sku\":\"" sku "\",\"warehouse\":\"W\",\"on_hand\":" on_hand ",\"reserved\":0,\"available\":" on_hand \
	",\"version\":" version ",\"changed_at\":\"2026-11-26T10:00:00Z\"}"

/* A record whose values cannot be taken does not sink its page: the others are parsed. */
static void test_erp_parse_skips_bad_record(void)
{
	const char *body = "{\"items\":[" ERP_REC("S1", "5", "3") "," ERP_REC(
		"S-0123456789012345678901234567890123456789012345678901234567890123456789", "5",
		"4") "," ERP_REC("S3", "2000000000",
				 "5") "," ERP_REC("S4", "6",
						  "0") "," ERP_REC("S5", "7",
								   "6") "],"
									"\"next_cursor\":\"17\",\"has_more\":false}";
	struct erp_stock_page p;
	char err[256] = "";
	EXPECT(erp_rest_parse_stock(body, strlen(body), &p, err, sizeof err));
	EXPECT_INT(p.n, 2);
	EXPECT_STR(p.n == 2 ? p.items[0].sku : NULL, "S1");
	EXPECT_STR(p.n == 2 ? p.items[1].sku : NULL, "S5");
	EXPECT_STR(p.next_cursor, "17");
	EXPECT_INT(p.nrejects, 3);
	if (p.nrejects == 3) {
		EXPECT_INT(p.rejects[0].index, 1);
		EXPECT_STR(p.rejects[0].sku, ""); /* too long for a key */
		EXPECT(strstr(p.rejects[0].reason, "\"sku\"") != NULL);
		EXPECT_INT(p.rejects[1].index, 2);
		EXPECT_STR(p.rejects[1].sku, "S3");
		EXPECT_STR(p.rejects[1].warehouse, "W");
		EXPECT(strstr(p.rejects[1].reason, "\"on_hand\"") != NULL);
		EXPECT(strstr(p.rejects[1].json, "\"on_hand\":2000000000") != NULL);
		EXPECT(strstr(p.rejects[2].reason, "\"version\"") != NULL);
	}
	erp_stock_page_cleanup(&p);
	EXPECT(p.rejects == NULL && p.nrejects == 0);

	/* a time that is not RFC 3339, a fraction, an empty warehouse: that record only */
	const char *more =
		"{\"items\":[{\"sku\":\"S1\",\"warehouse\":\"W\",\"on_hand\":5,\"reserved\":1,"
		"\"available\":4,\"version\":3,\"changed_at\":\"yesterday\"}," ERP_REC(
			"S2", "5.5",
			"4") ","
			     "{\"sku\":\"S3\",\"warehouse\":\"\",\"on_hand\":5,\"reserved\":1,\"available\":4,"
			     "\"version\":3,\"changed_at\":\"2026-11-26T10:00:00Z\"}," ERP_REC(
				     "S4", "1",
				     "1") "],"
					  "\"next_cursor\":\"9\",\"feed_id\":\"f00d-1\",\"last_cursor\":\"12\"}";
	EXPECT(erp_rest_parse_stock(more, strlen(more), &p, err, sizeof err));
	EXPECT_INT(p.n, 1);
	EXPECT_INT(p.nrejects, 3);
	EXPECT_STR(p.feed_id, "f00d-1");
	EXPECT_STR(p.last_cursor, "12");
	if (p.nrejects == 3) {
		EXPECT(strstr(p.rejects[0].reason, "changed_at") != NULL);
		EXPECT(strstr(p.rejects[1].reason, "on_hand") != NULL);
		EXPECT(strstr(p.rejects[2].reason, "warehouse") != NULL);
	}
	erp_stock_page_cleanup(&p);

	/* one record lacking a member makes the answer malformed, whatever the others hold */
	const char *lacking = "{\"items\":[" ERP_REC("S1", "2000000000",
						     "1") ",{\"sku\":\"S2\"}],\"next_cursor\":\"2\"}";
	EXPECT(!erp_rest_parse_stock(lacking, strlen(lacking), &p, err, sizeof err));
	EXPECT(strstr(err, "item 1") != NULL);
	EXPECT(p.items == NULL && p.rejects == NULL && p.n == 0 && p.nrejects == 0);
}

/* Versions are 1..2^63-1: epoch milliseconds and row versions are versions too. One beyond is a bad
 * record, not a bad page. */
static void test_erp_parse_large_versions(void)
{
	const char *body =
		"{\"items\":[" ERP_REC("S1", "5", "1700000000000123") "," ERP_REC("S2", "5", "9223372036854775807") "," ERP_REC(
			"S3", "5",
			"9223372036854775808") "," ERP_REC("S4", "5",
							   "18446744073709551615") "],\"next_cursor\":\"4\"}";
	struct erp_stock_page p;
	char err[256] = "";
	EXPECT(erp_rest_parse_stock(body, strlen(body), &p, err, sizeof err));
	EXPECT_INT(p.n, 2);
	EXPECT_INT(p.n == 2 ? p.items[0].version : 0, 1700000000000123LL);
	EXPECT_INT(p.n == 2 ? p.items[1].version : 0, INT64_MAX);
	EXPECT_INT(p.nrejects, 2);
	EXPECT_STR(p.nrejects == 2 ? p.rejects[0].sku : NULL, "S3");
	EXPECT(p.nrejects == 2 && strstr(p.rejects[0].reason, "\"version\"") != NULL);
	erp_stock_page_cleanup(&p);

	/* beyond int64 anywhere (a quantity, negative, too long for a double): that record only;
	 * digits inside strings are left as they are */
	/* one record a line reads better than the layout clang-format would choose */
	/* clang-format off */
	const char *odd = "{\"items\":[" ERP_REC("99999999999999999999", "-99999999999999999999", "2") ","
			  ERP_REC("S2", "1", "1" "0000000000000000000000000000000000000000000000000000000000000000000000"
			  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
			  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
			  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000") ","
			  ERP_REC("S3", "-9223372036854775808", "3") "," ERP_REC("S4", "4", "4") "],\"next_cursor\":\"4\"}";
	/* clang-format on */
	EXPECT(erp_rest_parse_stock(odd, strlen(odd), &p, err, sizeof err));
	EXPECT_INT(p.n, 1);
	EXPECT_INT(p.nrejects, 3);
	EXPECT_STR(p.nrejects == 3 ? p.rejects[0].sku : NULL, "99999999999999999999");
	EXPECT(p.nrejects == 3 && strstr(p.rejects[1].reason, "\"version\"") != NULL);
	EXPECT(p.nrejects == 3 && strstr(p.rejects[2].reason, "\"on_hand\"") != NULL);
	erp_stock_page_cleanup(&p);
}

static void test_erp_parse_pushed_items(void)
{
	const char *one = "{\"sku\":\"S1\",\"warehouse\":\"W\",\"on_hand\":5,\"reserved\":0,\"available\":5,"
			  "\"version\":1,\"changed_at\":\"2026-11-26T10:00:00Z\"}";
	struct erp_stock_page p;
	char err[256];
	EXPECT(erp_rest_parse_items(one, strlen(one), &p, err, sizeof err) && p.n == 1);
	erp_stock_page_cleanup(&p);
	const char *mixed = "{\"items\":[{\"sku\":\"S1\",\"warehouse\":\"W\",\"on_hand\":5,\"reserved\":0,"
			    "\"available\":5,\"version\":1,\"changed_at\":\"2026-11-26T10:00:00Z\"},{\"sku\":\"S2\"}]}";
	EXPECT(!erp_rest_parse_items(mixed, strlen(mixed), &p, err, sizeof err));
	EXPECT(strstr(err, "item 1") != NULL);
	/* a push is all or nothing: a record out of range refuses it, naming the record */
	const char *big = "{\"items\":[" ERP_REC("S1", "5", "1") "," ERP_REC("S2", "2000000000", "1") "]}";
	EXPECT(!erp_rest_parse_items(big, strlen(big), &p, err, sizeof err));
	EXPECT(strstr(err, "item 1") != NULL && strstr(err, "on_hand") != NULL);
	EXPECT(p.items == NULL && p.rejects == NULL);
	EXPECT(!erp_rest_parse_items("[]", 2, &p, err, sizeof err));
}

/* A URL is logged without the credentials it may carry. */
UNIT_MAIN(test_erp_parse_good_page, test_erp_parse_rejects_malformed, test_erp_parse_pushed_items,
	  test_erp_parse_skips_bad_record, test_erp_parse_large_versions)
