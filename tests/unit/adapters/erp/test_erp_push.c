/* The signed stock push contract: what the sandbox signs, stock-sync verifies. */
#include <string.h>

#include "erp_push.h"
#include "unit.h"

static void test_push_verify(void)
{
	/* printf 1700000000.body | openssl dgst -sha256 -hmac key */
	const char *good = "47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e";
	const char *ts = "1700000000";
	EXPECT(erp_push_verify("key", ts, "body", 4, good));
	EXPECT(!erp_push_verify("key", ts, "Body", 4, good));           /* another body */
	EXPECT(!erp_push_verify("key", "1700000001", "body", 4, good)); /* another time */
	EXPECT(!erp_push_verify("key", NULL, "body", 4, good));         /* no time */
	EXPECT(!erp_push_verify("other", ts, "body", 4, good));         /* another key */
	EXPECT(!erp_push_verify("key", ts, "body", 4, "47b6ce0f"));     /* truncated */
	EXPECT(!erp_push_verify("key", ts, "body", 4, NULL));
	EXPECT(!erp_push_verify("", ts, "body", 4, good));
	EXPECT(!erp_push_verify("key", ts, "body", 4,
				"zzb6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e"));
}

static void test_push_timestamp(void)
{
	long long now = 1700000000000LL, tol = 300000;
	EXPECT(erp_push_timestamp_ok("1700000000", now, tol));
	EXPECT(erp_push_timestamp_ok("1700000300", now, tol)); /* at the edge, either side */
	EXPECT(erp_push_timestamp_ok("1699999700", now, tol));
	EXPECT(!erp_push_timestamp_ok("1700000301", now, tol));
	EXPECT(!erp_push_timestamp_ok("1699999699", now, tol)); /* a replay from 5 min ago */
	EXPECT(!erp_push_timestamp_ok("", now, tol));
	EXPECT(!erp_push_timestamp_ok(NULL, now, tol));
	EXPECT(!erp_push_timestamp_ok("-1700000000", now, tol));
	EXPECT(!erp_push_timestamp_ok("1700000000.5", now, tol));
	EXPECT(!erp_push_timestamp_ok("99999999999999999999", now, tol)); /* no overflow */
	EXPECT(!erp_push_timestamp_ok("1700000000000", now, tol));        /* milliseconds */
}

/* what the sandbox ERP sends is what stock-sync accepts, and only that spelling */
static void test_push_sign_round_trip(void)
{
	char ts[ERP_PUSH_TIMESTAMP_MAX], sig[ERP_PUSH_SIGNATURE_MAX];
	EXPECT(erp_push_sign("key", 1700000000LL, "body", 4, ts, sig));
	EXPECT_STR(ts, "1700000000");
	EXPECT_STR(sig, "47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e");
	EXPECT(erp_push_verify("key", ts, "body", 4, sig));
	EXPECT(!erp_push_sign("", 1700000000LL, "body", 4, ts, sig));
	const char *spellings[] = {
		"47B6CE0FCA59474308E2921C247CB2493DCE6B8101D90AC05BD0C6A37D0E046E",   /* upper case */
		" 47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e",  /* a space */
		"0x47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e", /* a prefix */
		"47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e ",  /* trailing */
		"+7b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e",   /* sscanf's sign */
		"47b6ce f"
		"ca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e", /* " f" for 0f */
		"47b6ce+f"
		"ca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e",         /* "+f" for 0f */
		"47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046E", /* one upper-case digit */
	};
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
		EXPECT(!erp_push_verify("key", ts, "body", 4, spellings[i]));
}

static void test_push_parse(void)
{
	char err[256];
	struct erp_stock_page p;
	const char *one = "{\"sku\":\"A\",\"warehouse\":\"W\",\"on_hand\":1,\"reserved\":0,\"available\":1,"
			  "\"version\":1,\"changed_at\":\"2026-01-01T00:00:00Z\"}";
	EXPECT(erp_push_parse(one, strlen(one), &p, err, sizeof err) && p.n == 1);
	erp_stock_page_cleanup(&p);
	EXPECT(!erp_push_parse("[]", 2, &p, err, sizeof err));
}

UNIT_MAIN(test_push_verify, test_push_timestamp, test_push_sign_round_trip, test_push_parse)
