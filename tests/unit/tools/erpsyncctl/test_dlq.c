/* erpsyncctl's dead letters without a broker: what a service's dead letter says (headers made by
 * kafka_dlq_headers_set, as every service sends them), markers, hostile headers, the replayed
 * record's headers, the selection, and untrusted bytes in the output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "dlq_cmd.h"
#include "dlq_letter.h"
#include "kafka.h"
#include "unit.h"

/* A dead letter's headers as stock-sync sends them: its own, then the dlq-* ones. */
static rd_kafka_headers_t *letter_headers(const char *topic, int32_t partition, int64_t offset)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(12);
	rd_kafka_header_add(h, KAFKA_H_EVENT_ID, -1, "ev-1", -1);
	rd_kafka_header_add(h, KAFKA_H_TRACEPARENT, -1, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", -1);
	const struct kafka_dlq_info info = { .service = "stock-sync",
					     .topic = topic,
					     .partition = partition,
					     .offset = offset,
					     .error = "refused by PostgreSQL: it_hold",
					     .attempts = 3,
					     .time_us = 1714566896000000 };
	EXPECT(kafka_dlq_headers_set(h, &info));
	return h;
}

static void test_letter_parse(void)
{
	rd_kafka_headers_t *h = letter_headers("erp.stock.v1", 2, 17);
	struct dlq_letter l;
	struct dlq_marker mk;
	EXPECT_INT(dlq_record_parse(h, 1, 5, 1714566896123, "SKU-1|WH", 8, &l, &mk), DLQ_KIND_LETTER);
	EXPECT_INT(l.partition, 1);
	EXPECT_INT(l.offset, 5);
	EXPECT_STR(l.source_topic, "erp.stock.v1");
	EXPECT_INT(l.source_partition, 2);
	EXPECT_INT(l.source_offset, 17);
	EXPECT_STR(l.service, "stock-sync");
	EXPECT_STR(l.reason, "refused by PostgreSQL: it_hold");
	EXPECT_STR(l.event_id, "ev-1");
	EXPECT_INT(l.attempts, 3);
	EXPECT(l.key_len == 8 && memcmp(l.key, "SKU-1|WH", 8) == 0);
	EXPECT(!l.replayed && !l.kept);
	EXPECT(dlq_letter_unreplayable(&l, "erp.stock.v1.dlq") == NULL);
	dlq_letter_cleanup(&l);
	rd_kafka_headers_destroy(h);
}

static void test_letter_without_headers(void)
{
	struct dlq_letter l;
	struct dlq_marker mk;
	EXPECT_INT(dlq_record_parse(NULL, 0, 0, -1, NULL, 0, &l, &mk), DLQ_KIND_LETTER);
	EXPECT(l.key == NULL);
	EXPECT_STR(l.reason, "");
	EXPECT_INT(l.source_partition, -1);
	EXPECT(dlq_letter_unreplayable(&l, "erp.stock.v1.dlq") != NULL);
	dlq_letter_cleanup(&l);
	dlq_letter_cleanup(&l); /* again: nothing left to free */
}

static void test_hostile_headers(void)
{
	static const char *const bad_numbers[] = { "abc", "-1", "+3", " 3", "3x", "", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++) {
		rd_kafka_headers_t *h = rd_kafka_headers_new(4);
		rd_kafka_header_add(h, KAFKA_H_DLQ_TOPIC, -1, "erp.stock.v1", -1);
		rd_kafka_header_add(h, KAFKA_H_DLQ_PARTITION, -1, bad_numbers[i], -1);
		rd_kafka_header_add(h, KAFKA_H_DLQ_OFFSET, -1, bad_numbers[i], -1);
		struct dlq_letter l;
		struct dlq_marker mk;
		EXPECT_INT(dlq_record_parse(h, 0, 0, 0, NULL, 0, &l, &mk), DLQ_KIND_LETTER);
		EXPECT_INT(l.source_partition, -1);
		EXPECT_INT(l.source_offset, -1);
		EXPECT(dlq_letter_unreplayable(&l, "erp.stock.v1.dlq") != NULL);
		dlq_letter_cleanup(&l);
		rd_kafka_headers_destroy(h);
	}
	/* a source topic that is no topic name cannot send a record anywhere */
	rd_kafka_headers_t *h = letter_headers("../etc", 0, 1);
	struct dlq_letter l;
	struct dlq_marker mk;
	EXPECT_INT(dlq_record_parse(h, 0, 0, 0, NULL, 0, &l, &mk), DLQ_KIND_LETTER);
	EXPECT_STR(l.source_topic, "");
	dlq_letter_cleanup(&l);
	rd_kafka_headers_destroy(h);
	/* a reason longer than kept is cut, not overflowed */
	char big[4000];
	memset(big, 'x', sizeof big);
	h = rd_kafka_headers_new(2);
	rd_kafka_header_add(h, KAFKA_H_DLQ_ERROR, -1, big, sizeof big);
	EXPECT_INT(dlq_record_parse(h, 0, 0, 0, NULL, 0, &l, &mk), DLQ_KIND_LETTER);
	EXPECT_INT(strlen(l.reason), DLQ_REASON_MAX);
	dlq_letter_cleanup(&l);
	rd_kafka_headers_destroy(h);
}

static void test_unreplayable(void)
{
	struct dlq_letter l = { .source_topic = "erp.stock.v1", .source_partition = 0, .source_offset = 3 };
	EXPECT(dlq_letter_unreplayable(&l, "erp.stock.v1.dlq") == NULL);
	/* the header names another topic than the one this DLQ belongs to */
	EXPECT(dlq_letter_unreplayable(&l, "shop.orders.v1.dlq") != NULL);
	EXPECT(dlq_letter_unreplayable(&l, "erp.stock.v1.x.dlq") != NULL);
	EXPECT(dlq_letter_unreplayable(&l, "erp.stock.v1") != NULL);
	/* an ERP record refused before it was published: no partition, no offset */
	l.source_partition = -1;
	l.source_offset = -1;
	EXPECT(strstr(dlq_letter_unreplayable(&l, "erp.stock.v1.dlq"), "fix it at its source") != NULL);
}

static void test_marker_parse(void)
{
	struct dlq_letter l = { .partition = 2, .offset = 40 };
	rd_kafka_headers_t *h = dlq_marker_headers(&l, "erp.stock.v1:1:99", 1714566896000000, "op@host");
	struct dlq_letter got;
	struct dlq_marker mk;
	EXPECT(h != NULL);
	EXPECT_INT(dlq_record_parse(h, 2, 41, 0, NULL, 0, &got, &mk), DLQ_KIND_MARKER);
	EXPECT_INT(mk.partition, 2);
	EXPECT_INT(mk.offset, 40);
	EXPECT_STR(mk.to, "erp.stock.v1:1:99");
	char at[64];
	EXPECT(kafka_headers_get(h, DLQ_H_REPLAYED_AT, at, sizeof at));
	EXPECT_STR(at, "2024-05-01T12:34:56.000Z");
	rd_kafka_headers_destroy(h);

	/* not a marker: a dead letter that carries a dlq-replayed header of its own, or a bad position */
	h = letter_headers("erp.stock.v1", 0, 1);
	rd_kafka_header_add(h, DLQ_H_REPLAYED, -1, "0:0", -1);
	EXPECT_INT(dlq_record_parse(h, 0, 9, 0, NULL, 0, &got, &mk), DLQ_KIND_LETTER);
	dlq_letter_cleanup(&got);
	rd_kafka_headers_destroy(h);
	h = rd_kafka_headers_new(1);
	rd_kafka_header_add(h, DLQ_H_REPLAYED, -1, "0:x", -1);
	EXPECT_INT(dlq_record_parse(h, 0, 9, 0, NULL, 0, &got, &mk), DLQ_KIND_LETTER);
	EXPECT(dlq_letter_unreplayable(&got, "erp.stock.v1.dlq") != NULL);
	dlq_letter_cleanup(&got);
	rd_kafka_headers_destroy(h);
}

static void test_position_parse(void)
{
	static const char *const bad[] = { "",     "0",    "0:",   ":1",           "-1:2",  "1:-2",
					   "1:2x", "+1:2", " 1:2", "2147483648:1", "1:2:3", "12345678901234567:1" };
	int32_t p = -1;
	int64_t o = -1;
	EXPECT(dlq_position_parse("0:17", &p, &o) && p == 0 && o == 17);
	EXPECT(dlq_position_parse("2147483647:9223372036854775807", &p, &o) && p == 2147483647 &&
	       o == 9223372036854775807LL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		EXPECT(!dlq_position_parse(bad[i], &p, &o));
	EXPECT(!dlq_position_parse(NULL, &p, &o));
}

static void test_replay_headers(void)
{
	rd_kafka_headers_t *orig = letter_headers("erp.stock.v1", 0, 1);
	rd_kafka_header_add(orig, DLQ_H_REPLAYED_FROM, -1, "erp.stock.v1.dlq:0:0", -1); /* an earlier replay */
	rd_kafka_headers_t *h = dlq_replay_headers(orig, "erp.stock.v1.dlq", 1, 7);
	const char *name;
	const void *val;
	size_t size;
	char v[128];

	EXPECT(h != NULL);
	EXPECT_INT(rd_kafka_header_cnt(h), 3);
	EXPECT(!rd_kafka_header_get_all(h, 0, &name, &val, &size));
	EXPECT_STR(name, KAFKA_H_EVENT_ID); /* the event id stays: see dlq_replay.c */
	EXPECT(kafka_headers_get(h, KAFKA_H_EVENT_ID, v, sizeof v));
	EXPECT_STR(v, "ev-1");
	EXPECT(kafka_headers_get(h, KAFKA_H_TRACEPARENT, v, sizeof v));
	EXPECT(!kafka_headers_get(h, KAFKA_H_DLQ_ERROR, v, sizeof v));
	EXPECT(!kafka_headers_get(h, KAFKA_H_DLQ_TOPIC, v, sizeof v));
	EXPECT(kafka_headers_get(h, DLQ_H_REPLAYED_FROM, v, sizeof v));
	EXPECT_STR(v, "erp.stock.v1.dlq:1:7");
	rd_kafka_headers_destroy(h);
	rd_kafka_headers_destroy(orig);

	h = dlq_replay_headers(NULL, "erp.stock.v1.dlq", 0, 0); /* a letter re-encoded without headers */
	EXPECT(h && rd_kafka_header_cnt(h) == 1);
	rd_kafka_headers_destroy(h);
}

static struct dlq_letter set_letter(int32_t partition, int64_t offset, const char *key)
{
	struct dlq_letter l = { .partition = partition, .offset = offset, .source_partition = -1 };
	l.key = strdup(key);
	l.key_len = strlen(key);
	l.reason = strdup("");
	return l;
}

static void test_set_mark_replayed(void)
{
	struct dlq_set s = DLQ_SET_INIT;
	struct dlq_letter l;
	l = set_letter(1, 9, "b");
	EXPECT(dlq_set_add_letter(&s, &l));
	l = set_letter(0, 4, "a");
	EXPECT(dlq_set_add_letter(&s, &l));
	l = set_letter(1, 2, "a");
	EXPECT(dlq_set_add_letter(&s, &l));
	EXPECT(l.key == NULL); /* taken by the set */
	EXPECT(dlq_set_add_marker(&s, &(struct dlq_marker){ 1, 9, "t:0:5" }));
	EXPECT(dlq_set_add_marker(&s, &(struct dlq_marker){ 0, 2, "t:0:6" })); /* names nothing here */
	dlq_set_mark_replayed(&s);
	EXPECT_INT(s.nletters, 3);
	EXPECT(s.letters[0].partition == 0 && s.letters[0].offset == 4 && !s.letters[0].replayed);
	EXPECT(s.letters[1].partition == 1 && s.letters[1].offset == 2 && !s.letters[1].replayed);
	EXPECT(s.letters[2].partition == 1 && s.letters[2].offset == 9 && s.letters[2].replayed);
	EXPECT_STR(s.letters[2].replayed_to, "t:0:5");

	struct dlq_opts o = { .topic = "t.dlq", .key = "a" };
	EXPECT(dlq_selected(&o, &s.letters[0]) && dlq_selected(&o, &s.letters[1]) && !dlq_selected(&o, &s.letters[2]));
	o.offsets[0].partition = 1;
	o.offsets[0].offset = 2;
	o.noffsets = 1;
	EXPECT(!dlq_selected(&o, &s.letters[0]) && dlq_selected(&o, &s.letters[1]));
	dlq_selected_found(&o, &s.letters[1]);
	EXPECT(o.offsets[0].found);
	o.key = "ab"; /* a key is matched whole */
	EXPECT(!dlq_selected(&o, &s.letters[1]));
	EXPECT_STR(dlq_state(&s.letters[2], "t.dlq"), "replayed");
	EXPECT_STR(dlq_state(&s.letters[0], "t.dlq"), "unreplayable");
	dlq_set_cleanup(&s);
	EXPECT(s.letters == NULL && s.nletters == 0);
}

/* What fn writes of s[0..n) */
static char *written(void (*fn)(FILE *, const void *, size_t), const char *s, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	fn(fp, s, n);
	fclose(fp);
	return out;
}

static void test_untrusted_output(void)
{
	static const char in[] = "a\"b\\c\td\n\x01 \xc5\x82 \xff\xc5 \xed\xa0\x80";
	char *j = written(dlq_json_string, in, sizeof in - 1);
	EXPECT_STR(j, "\"a\\\"b\\\\c\\u0009d\\u000a\\u0001 \xc5\x82 \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\"");
	free(j);
	char *t = written(dlq_text_string, in, sizeof in - 1);
	EXPECT_STR(t, "a\"b\\\\c\\x09d\\x0a\\x01 \xc5\x82 \\xff\\xc5 \\xed\\xa0\\x80");
	free(t);
	char *z = written(dlq_json_string, "a\0b", 3); /* a NUL inside a key */
	EXPECT_STR(z, "\"a\\u0000b\"");
	free(z);
}

static void test_time_format(void)
{
	char out[40];
	dlq_time_format(1714566896123, out, sizeof out);
	EXPECT_STR(out, "2024-05-01T12:34:56.123Z");
	dlq_time_format(-1, out, sizeof out);
	EXPECT_STR(out, "-");
}

static bool parses(int argc, const char *const *argv, struct dlq_opts *o)
{
	char *copy[16];
	for (int i = 0; i < argc; i++)
		copy[i] = (char *)argv[i];
	copy[argc] = NULL;
	return dlq_opts_parse(argc, copy, o);
}

static void test_opts(void)
{
	struct dlq_opts o;
	const char *const replay[] = { "dlq",      "replay", "-b",       "k:9092", "-t",       "a.dlq",
				       "--offset", "0:1",    "--offset", "2:3",    "--dry-run" };
	EXPECT(parses(11, replay, &o));
	EXPECT(o.noffsets == 2 && o.offsets[1].partition == 2 && o.offsets[1].offset == 3 && o.dry_run && !o.all);
	const char *const list[] = { "dlq", "list", "-b", "k", "-t", "a.dlq", "--since-offset", "7", "--json" };
	EXPECT(parses(9, list, &o));
	EXPECT(o.since == 7 && o.json && o.timeout_ms == DLQ_TIMEOUT_MS);

	fprintf(stderr, "(usage errors expected below)\n");
	const char *const no_selection[] = { "dlq", "replay", "-b", "k", "-t", "a.dlq" };
	EXPECT(!parses(6, no_selection, &o));
	const char *const not_dlq[] = { "dlq", "list", "-b", "k", "-t", "erp.stock.v1" };
	EXPECT(!parses(6, not_dlq, &o));
	const char *const wrong_sub[] = { "dlq", "list", "-b", "k", "-t", "a.dlq", "--all" };
	EXPECT(!parses(7, wrong_sub, &o));
	const char *const bad_offset[] = { "dlq", "replay", "-b", "k", "-t", "a.dlq", "--offset", "1" };
	EXPECT(!parses(8, bad_offset, &o));
	const char *const extra[] = { "dlq", "list", "-b", "k", "-t", "a.dlq", "more" };
	EXPECT(!parses(7, extra, &o));
}

UNIT_MAIN(test_letter_parse, test_letter_without_headers, test_hostile_headers, test_unreplayable, test_marker_parse,
	  test_position_parse, test_replay_headers, test_set_mark_replayed, test_untrusted_output, test_time_format,
	  test_opts)
