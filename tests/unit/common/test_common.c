/* Pure logic of common/: configuration parsing, event ids and trace context, array literals,
 * buffers, the ERP response parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "pg.h"
#include "pg_array.h"
#include "unit.h"
#include <stdint.h>

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
	setenv("UT_WAIT", "5", 1); /* below 10 ms */
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
		unsigned long long now = (unsigned long long)ts.tv_sec * 1000ull +
					 (unsigned long long)ts.tv_nsec / 1000000ull;
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

static void test_config_url_redact(void)
{
	char out[128];
	config_url_redact("http://127.0.0.1:19180", out, sizeof out);
	EXPECT_STR(out, "http://127.0.0.1:19180");
	config_url_redact("https://erp:s3cr3t@erp.example.com:8443/api?token=abc#x", out, sizeof out);
	EXPECT_STR(out, "https://***@erp.example.com:8443/api?***");
	config_url_redact("https://u:p@ss@host/path#frag", out, sizeof out); /* an unescaped @ in the password */
	EXPECT_STR(out, "https://***@host/path");
	config_url_redact("https://host/a@b", out, sizeof out); /* @ in the path is not userinfo */
	EXPECT_STR(out, "https://host/a@b");
	config_url_redact("host:1?key=v", out, sizeof out);
	EXPECT_STR(out, "host:1?***");
	config_url_redact("https://user:secret@host", out, 12);
	EXPECT(strstr(out, "secret") == NULL);
}

/* Which failures mean "PostgreSQL refuses these data" (a batch of them goes one record at a time). */
static void test_pg_sqlstate_refused(void)
{
	EXPECT(pg_sqlstate_refused("22001"));  /* string data right truncation */
	EXPECT(pg_sqlstate_refused("22P02"));  /* invalid text representation */
	EXPECT(pg_sqlstate_refused("23514"));  /* check violation */
	EXPECT(pg_sqlstate_refused("23502"));  /* not null violation */
	EXPECT(pg_sqlstate_refused("54000"));  /* program limit exceeded */
	EXPECT(!pg_sqlstate_refused("23505")); /* unique violation: settled by trying again */
	EXPECT(!pg_sqlstate_refused("40P01")); /* deadlock */
	EXPECT(!pg_sqlstate_refused("08006")); /* connection failure */
	EXPECT(!pg_sqlstate_refused("57P01")); /* admin shutdown */
	EXPECT(!pg_sqlstate_refused(""));
	EXPECT(!pg_sqlstate_refused(NULL));
	EXPECT(!pg_sqlstate_refused("2201"));
}

int main(void)
{
	log_init("test", LOG_ERROR + 1);
	static const unit_fn fns[] = {
		test_duration_units,    test_config_defaults_and_values, test_config_rejects_each_bad_value,
		test_kafka_passthrough, test_event_ids_and_traceparent,  test_pg_array_escaping,
		test_buf_json_escaping, test_config_url_redact,          test_pg_sqlstate_refused
	};
	static const char *const names[] = {
		"test_duration_units",    "test_config_defaults_and_values", "test_config_rejects_each_bad_value",
		"test_kafka_passthrough", "test_event_ids_and_traceparent",  "test_pg_array_escaping",
		"test_buf_json_escaping", "test_config_url_redact",          "test_pg_sqlstate_refused"
	};
	return unit_run(names, fns, sizeof fns / sizeof fns[0]);
}
