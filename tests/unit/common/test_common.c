/* Pure logic of common/: configuration parsing, event ids and trace context, array literals,
 * buffers, the ERP response parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "erp_rest.h"
#include "event.h"
#include "log.h"
#include "pg.h"
#include "pg_array.h"
#include <stdint.h>
#include "unit.h"

static void test_duration_units(void)
{
	long long ms = -1;
	EXPECT(config_parse_duration("250ms", &ms) && ms == 250);
	EXPECT(config_parse_duration("5s", &ms) && ms == 5000);
	EXPECT(config_parse_duration("2m", &ms) && ms == 120000);
	EXPECT(config_parse_duration("1h", &ms) && ms == 3600000);
	EXPECT(config_parse_duration("42", &ms) && ms == 42);
	EXPECT(!config_parse_duration("soon", &ms));
	EXPECT(!config_parse_duration("-5s", &ms));
	EXPECT(!config_parse_duration("5 s", &ms));
	EXPECT(!config_parse_duration("99999999999999999h", &ms));
}

struct test_cfg {
	char *name;
	long long port;
	bool flag;
	long long wait;
	char *mode;
};

#define TOFF(f) offsetof(struct test_cfg, f)
static const struct config_key test_table[] = {
	{ "UT_NAME", CONFIG_STRING, NULL, 0, 0, true, true, TOFF(name), NULL, "a secret name" },
	{ "UT_PORT", CONFIG_INT, "80", 1, 65535, false, false, TOFF(port), NULL, "a port" },
	{ "UT_FLAG", CONFIG_BOOL, "no", 0, 0, false, false, TOFF(flag), NULL, "a flag" },
	{ "UT_WAIT", CONFIG_DURATION, "1s", 10, 60000, false, false, TOFF(wait), NULL, "a wait" },
	{ "UT_MODE", CONFIG_ENUM, "a", 0, 0, false, false, TOFF(mode), "a|b", "a mode" },
	CONFIG_KEY_END,
};

static void test_config_defaults_and_values(void)
{
	struct test_cfg c;
	memset(&c, 0, sizeof c);
	setenv("UT_NAME", "x", 1);
	setenv("UT_FLAG", "on", 1);
	unsetenv("UT_PORT");
	unsetenv("UT_WAIT");
	unsetenv("UT_MODE");
	EXPECT(config_load(test_table, &c));
	EXPECT_STR(c.name, "x");
	EXPECT_INT(c.port, 80);
	EXPECT(c.flag);
	EXPECT_INT(c.wait, 1000);
	EXPECT_STR(c.mode, "a");
	config_free(test_table, &c);
	EXPECT(c.name == NULL);
}

static void test_config_rejects_each_bad_value(void)
{
	struct test_cfg c;
	memset(&c, 0, sizeof c);
	unsetenv("UT_NAME");           /* required */
	setenv("UT_PORT", "70000", 1); /* out of bounds */
	setenv("UT_FLAG", "maybe", 1);
	setenv("UT_WAIT", "5", 1);     /* below 10 ms */
	setenv("UT_MODE", "c", 1);
	EXPECT(!config_load(test_table, &c));
	config_free(test_table, &c);
}

static void test_kafka_passthrough(void)
{
	/* the local stack's own port settings are not librdkafka properties */
	unsetenv("KAFKA_PORT");
	unsetenv("KAFKA_CONTROLLER_PORT");
	setenv("KAFKA_LINGER_MS", "7", 1);
	EXPECT(config_kafka_check());
	setenv("KAFKA_NO_SUCH_THING", "1", 1);
	EXPECT(!config_kafka_check());
	unsetenv("KAFKA_NO_SUCH_THING");
	unsetenv("KAFKA_LINGER_MS");
	EXPECT(config_kafka_check());
}

static void test_event_ids_and_traceparent(void)
{
	char a[EVENT_ID_LEN], b[EVENT_ID_LEN], tp[TRACEPARENT_LEN], child[TRACEPARENT_LEN], tid[33], tid2[33];
	event_id_new(a);
	usleep(1000);
	event_id_new(b);
	EXPECT(strlen(a) == 36 && a[14] == '7' && a[8] == '-' && strchr("89ab", a[19]) && strcmp(a, b) != 0);
	/* time-ordered: made later, sorts later (the inbox index relies on it) */
	EXPECT(strcmp(a, b) < 0);
	{
		char ms_hex[13];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long now = (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
		snprintf(ms_hex, sizeof ms_hex, "%.8s%.4s", b, b + 9);
		unsigned long long made = strtoull(ms_hex, NULL, 16);
		EXPECT(made <= now && now - made < 1000);
	}
	traceparent_new(tp);
	EXPECT(traceparent_valid(tp));
	traceparent_child(tp, child);
	EXPECT(traceparent_valid(child));
	traceparent_trace_id(tp, tid);
	traceparent_trace_id(child, tid2);
	EXPECT_STR(tid, tid2);
	EXPECT(strcmp(tp, child) != 0);
	EXPECT(!traceparent_valid("00-00000000000000000000000000000000-0000000000000001-01"));
	EXPECT(!traceparent_valid("garbage"));
	traceparent_child("garbage", child);
	EXPECT(traceparent_valid(child));
}

static void test_pg_array_escaping(void)
{
	struct pg_array a;
	pg_array_init(&a);
	EXPECT_STR(pg_array_get(&a), "{}");
	EXPECT(pg_array_text(&a, "plain"));
	EXPECT(pg_array_text(&a, "with \"quote\" and \\ backslash,comma"));
	EXPECT_STR(pg_array_get(&a), "{\"plain\",\"with \\\"quote\\\" and \\\\ backslash,comma\"}");
	EXPECT(pg_array_text(&a, ""));
	EXPECT_STR(pg_array_get(&a), "{\"plain\",\"with \\\"quote\\\" and \\\\ backslash,comma\",\"\"}");
	pg_array_cleanup(&a);
	pg_array_init(&a);
	EXPECT(pg_array_int(&a, -5) && pg_array_int(&a, 9000000000LL));
	EXPECT_STR(pg_array_get(&a), "{-5,9000000000}");
	EXPECT(pg_array_int(&a, 0) && pg_array_int(&a, INT64_MIN) && pg_array_int(&a, INT64_MAX));
	EXPECT_STR(pg_array_get(&a), "{-5,9000000000,0,-9223372036854775808,9223372036854775807}");
	pg_array_cleanup(&a);
	pg_array_init(&a);
	EXPECT(pg_array_text(&a, "\\\\") && pg_array_text(&a, "ends with \"") && pg_array_text(&a, "\"starts"));
	EXPECT_STR(pg_array_get(&a), "{\"\\\\\\\\\",\"ends with \\\"\",\"\\\"starts\"}");
	pg_array_cleanup(&a);
}

static void test_buf_json_escaping(void)
{
	struct buf b = BUF_INIT;
	EXPECT(buf_json_str(&b, "a\"b\\c\n\x01"));
	EXPECT_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_cleanup(&b);
}

static void test_erp_parse_good_page(void)
{
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

#define ERP_REC(sku, on_hand, version) "{\"sku\":\"" sku "\",\"warehouse\":\"W\",\"on_hand\":" on_hand \
	",\"reserved\":0,\"available\":" on_hand ",\"version\":" version ",\"changed_at\":\"2026-11-26T10:00:00Z\"}"

/* A record whose values cannot be taken does not sink its page: the others are parsed. */
static void test_erp_parse_skips_bad_record(void)
{
	const char *body = "{\"items\":[" ERP_REC("S1", "5", "3") ","
			   ERP_REC("S-0123456789012345678901234567890123456789012345678901234567890123456789", "5", "4") ","
			   ERP_REC("S3", "2000000000", "5") "," ERP_REC("S4", "6", "0") "," ERP_REC("S5", "7", "6") "],"
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
		EXPECT_STR(p.rejects[0].sku, "");          /* too long for a key */
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
	const char *more = "{\"items\":[{\"sku\":\"S1\",\"warehouse\":\"W\",\"on_hand\":5,\"reserved\":1,"
			   "\"available\":4,\"version\":3,\"changed_at\":\"yesterday\"}," ERP_REC("S2", "5.5", "4") ","
			   "{\"sku\":\"S3\",\"warehouse\":\"\",\"on_hand\":5,\"reserved\":1,\"available\":4,"
			   "\"version\":3,\"changed_at\":\"2026-11-26T10:00:00Z\"}," ERP_REC("S4", "1", "1") "],"
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
	const char *lacking = "{\"items\":[" ERP_REC("S1", "2000000000", "1") ",{\"sku\":\"S2\"}],\"next_cursor\":\"2\"}";
	EXPECT(!erp_rest_parse_stock(lacking, strlen(lacking), &p, err, sizeof err));
	EXPECT(strstr(err, "item 1") != NULL);
	EXPECT(p.items == NULL && p.rejects == NULL && p.n == 0 && p.nrejects == 0);
}

/* Versions are 1..2^63-1: epoch milliseconds and row versions are versions too. One beyond is a bad
 * record, not a bad page. */
static void test_erp_parse_large_versions(void)
{
	const char *body = "{\"items\":[" ERP_REC("S1", "5", "1700000000000123") ","
			   ERP_REC("S2", "5", "9223372036854775807") "," ERP_REC("S3", "5", "9223372036854775808") ","
			   ERP_REC("S4", "5", "18446744073709551615") "],\"next_cursor\":\"4\"}";
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
	const char *odd = "{\"items\":[" ERP_REC("99999999999999999999", "-99999999999999999999", "2") ","
			  ERP_REC("S2", "1", "1" "0000000000000000000000000000000000000000000000000000000000000000000000"
			  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
			  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
			  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000") ","
			  ERP_REC("S3", "-9223372036854775808", "3") "," ERP_REC("S4", "4", "4") "],\"next_cursor\":\"4\"}";
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
static void test_config_url_redact(void)
{
	char out[128];
	config_url_redact("http://127.0.0.1:19180", out, sizeof out);
	EXPECT_STR(out, "http://127.0.0.1:19180");
	config_url_redact("https://erp:s3cr3t@erp.example.com:8443/api?token=abc#x", out, sizeof out);
	EXPECT_STR(out, "https://***@erp.example.com:8443/api?***");
	config_url_redact("https://u:p@ss@host/path#frag", out, sizeof out);     /* an unescaped @ in the password */
	EXPECT_STR(out, "https://***@host/path");
	config_url_redact("https://host/a@b", out, sizeof out);                  /* @ in the path is not userinfo */
	EXPECT_STR(out, "https://host/a@b");
	config_url_redact("host:1?key=v", out, sizeof out);
	EXPECT_STR(out, "host:1?***");
	config_url_redact("https://user:secret@host", out, 12);
	EXPECT(strstr(out, "secret") == NULL);
}

/* Which failures mean "PostgreSQL refuses these data" (a batch of them goes one record at a time). */
static void test_pg_sqlstate_refused(void)
{
	EXPECT(pg_sqlstate_refused("22001"));   /* string data right truncation */
	EXPECT(pg_sqlstate_refused("22P02"));   /* invalid text representation */
	EXPECT(pg_sqlstate_refused("23514"));   /* check violation */
	EXPECT(pg_sqlstate_refused("23502"));   /* not null violation */
	EXPECT(pg_sqlstate_refused("54000"));   /* program limit exceeded */
	EXPECT(!pg_sqlstate_refused("23505"));  /* unique violation: settled by trying again */
	EXPECT(!pg_sqlstate_refused("40P01"));  /* deadlock */
	EXPECT(!pg_sqlstate_refused("08006"));  /* connection failure */
	EXPECT(!pg_sqlstate_refused("57P01"));  /* admin shutdown */
	EXPECT(!pg_sqlstate_refused(""));
	EXPECT(!pg_sqlstate_refused(NULL));
	EXPECT(!pg_sqlstate_refused("2201"));
}

int main(void)
{
	log_init("test", LOG_ERROR + 1);
	static const unit_fn fns[] = { test_duration_units, test_config_defaults_and_values,
				       test_config_rejects_each_bad_value, test_kafka_passthrough,
				       test_event_ids_and_traceparent, test_pg_array_escaping, test_buf_json_escaping,
				       test_erp_parse_good_page, test_erp_parse_rejects_malformed,
				       test_erp_parse_pushed_items, test_erp_parse_skips_bad_record,
				       test_erp_parse_large_versions, test_config_url_redact, test_pg_sqlstate_refused };
	static const char *const names[] = { "test_duration_units", "test_config_defaults_and_values",
					     "test_config_rejects_each_bad_value", "test_kafka_passthrough",
					     "test_event_ids_and_traceparent", "test_pg_array_escaping",
					     "test_buf_json_escaping", "test_erp_parse_good_page",
					     "test_erp_parse_rejects_malformed", "test_erp_parse_pushed_items",
					     "test_erp_parse_skips_bad_record", "test_erp_parse_large_versions",
					     "test_config_url_redact", "test_pg_sqlstate_refused" };
	return unit_run(names, fns, sizeof fns / sizeof fns[0]);
}
