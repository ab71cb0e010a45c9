/* The handle-free half of kafka.h: statistics JSON into metrics, and the erpsync headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "event.h"
#include "kafka.h"
#include "metrics.h"
#include "unit.h"

/* A consumer's statistics as librdkafka 2.0.2 emitted them against the local Kafka 4.1.1 broker
 * (trimmed to what matters; values as observed: the partition leader's connection shows the
 * fetch long-poll, ~0.5 s, the coordinator's a few ms). Edge cases added: a bootstrap entry not yet
 * resolved, a partition whose lag is not known, a revoked partition's stale lag, partition -1. */
static const char consumer_stats[] =
	"{\"name\":\"stock-sync#consumer-2\",\"client_id\":\"stock-sync\",\"type\":\"consumer\","
	"\"ts\":5016483227792,\"time\":1714566896,\"age\":6003019,\"replyq\":0,\"msg_cnt\":0,"
	"\"metadata_cache_cnt\":1,"
	"\"brokers\":{"
	" \"GroupCoordinator\":{\"name\":\"GroupCoordinator\",\"nodeid\":1,\"nodename\":\"127.0.0.1:29092\","
	"  \"source\":\"logical\",\"state\":\"UP\",\"stateage\":5987945,\"tx\":10,\"rx\":10,"
	"  \"rtt\":{\"min\":8061,\"max\":8061,\"avg\":8061,\"sum\":8061,\"stddev\":0,\"p50\":8063,"
	"   \"p99\":8063,\"outofrange\":0,\"hdrsize\":13424,\"cnt\":1}},"
	" \"127.0.0.1:29092/1\":{\"name\":\"127.0.0.1:29092/1\",\"nodeid\":1,\"nodename\":\"127.0.0.1:29092\","
	"  \"source\":\"configured\",\"state\":\"UP\",\"stateage\":5994116,\"tx\":18,\"rx\":17,"
	"  \"rtt\":{\"min\":502114,\"max\":511999,\"avg\":507766,\"sum\":2031064,\"stddev\":3580,"
	"   \"p50\":505855,\"p99\":512000,\"outofrange\":0,\"hdrsize\":13424,\"cnt\":4},"
	"  \"toppars\":{\"erp.stock.v1-0\":{\"topic\":\"erp.stock.v1\",\"partition\":0}}},"
	" \"127.0.0.1:29094/bootstrap\":{\"name\":\"127.0.0.1:29094/bootstrap\",\"nodeid\":-1,"
	"  \"nodename\":\"127.0.0.1:29094\",\"source\":\"configured\",\"state\":\"CONNECT\","
	"  \"rtt\":{\"min\":900,\"max\":1500,\"avg\":1200,\"sum\":2400,\"cnt\":2}}"
	"},"
	"\"topics\":{\"erp.stock.v1\":{\"topic\":\"erp.stock.v1\",\"age\":5962,\"metadata_age\":5975,"
	" \"partitions\":{"
	"  \"0\":{\"partition\":0,\"broker\":1,\"leader\":1,\"desired\":true,\"unknown\":false,"
	"   \"fetch_state\":\"active\",\"query_offset\":-2,\"next_offset\":1699,\"app_offset\":1699,"
	"   \"stored_offset\":1699,\"commited_offset\":1657,\"committed_offset\":1657,\"lo_offset\":0,"
	"   \"hi_offset\":1699,\"ls_offset\":1699,\"consumer_lag\":42,\"consumer_lag_stored\":0},"
	"  \"1\":{\"partition\":1,\"broker\":1,\"leader\":1,\"desired\":true,\"unknown\":false,"
	"   \"fetch_state\":\"active\",\"stored_offset\":-1001,\"committed_offset\":-1001,"
	"   \"hi_offset\":1640,\"consumer_lag\":-1,\"consumer_lag_stored\":-1},"
	"  \"2\":{\"partition\":2,\"broker\":1,\"leader\":1,\"desired\":false,\"unknown\":false,"
	"   \"fetch_state\":\"none\",\"committed_offset\":500,\"hi_offset\":507,"
	"   \"consumer_lag\":7,\"consumer_lag_stored\":-1},"
	"  \"-1\":{\"partition\":-1,\"broker\":-1,\"leader\":-1,\"desired\":false,\"unknown\":false,"
	"   \"fetch_state\":\"none\",\"consumer_lag\":3,\"consumer_lag_stored\":-1}}}},"
	"\"cgrp\":{\"state\":\"up\",\"stateage\":5987,\"join_state\":\"steady\",\"rebalance_cnt\":1,"
	"\"assignment_size\":6}}";

/* A producer's, same broker: here the partition leader's connection is what counts (the logical
 * TxnCoordinator appears only for transactional producers). */
static const char producer_stats[] =
	"{\"name\":\"stockgen#producer-1\",\"client_id\":\"stockgen\",\"type\":\"producer\","
	"\"brokers\":{"
	" \"127.0.0.1:29092/1\":{\"name\":\"127.0.0.1:29092/1\",\"nodeid\":1,\"nodename\":\"127.0.0.1:29092\","
	"  \"source\":\"configured\",\"state\":\"UP\","
	"  \"rtt\":{\"min\":1720,\"max\":9791,\"avg\":3603,\"sum\":72060,\"p50\":3119,\"cnt\":20}},"
	" \"TxnCoordinator\":{\"name\":\"TxnCoordinator\",\"nodeid\":1,\"nodename\":\"127.0.0.1:29092\","
	"  \"source\":\"logical\",\"state\":\"UP\",\"rtt\":{\"avg\":90000,\"cnt\":3}},"
	" \"127.0.0.1:29094/bootstrap\":{\"name\":\"127.0.0.1:29094/bootstrap\",\"nodeid\":-1,"
	"  \"nodename\":\"127.0.0.1:29094\",\"source\":\"configured\",\"state\":\"UP\","
	"  \"rtt\":{\"avg\":1200,\"cnt\":2}},"
	" \":0/internal\":{\"name\":\":0/internal\",\"nodeid\":-1,\"nodename\":\"\",\"source\":\"internal\","
	"  \"state\":\"INIT\",\"rtt\":{\"avg\":0,\"cnt\":0}}"
	"},"
	"\"topics\":{\"erp.stock.v1\":{\"partitions\":{\"0\":{\"partition\":0,\"desired\":true,"
	"\"consumer_lag\":5}}}}}";

static char *render(void)
{
	struct buf b = BUF_INIT;

	if (!metrics_render(&b)) {
		buf_cleanup(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static const char *const lag_labels[] = { "topic", "partition", NULL };
static const char *const rtt_labels[] = { "broker", NULL };

static void test_stats_consumer_lag(void)
{
	metrics_reset();
	EXPECT(kafka_stats_apply(consumer_stats, sizeof consumer_stats - 1));

	char *text = render();
	EXPECT(text && strstr(text, "erpsync_kafka_consumer_lag{topic=\"erp.stock.v1\",partition=\"0\"} 42\n"));
	/* lag unknown (-1), a revoked partition's stale lag, librdkafka's partition -1: none reported */
	EXPECT(text && !strstr(text, "partition=\"1\""));
	EXPECT(text && !strstr(text, "partition=\"2\""));
	EXPECT(text && !strstr(text, "partition=\"-1\""));
	free(text);

	/* partition -1 is never an assigned partition, even in a document that says so */
	static const char odd[] = "{\"type\":\"consumer\",\"topics\":{\"t\":{\"partitions\":{"
				  "\"-1\":{\"partition\":-1,\"desired\":true,\"consumer_lag\":3},"
				  "\"9\":{\"desired\":true,\"consumer_lag\":3}}}}}";
	EXPECT(kafka_stats_apply(odd, sizeof odd - 1));
	text = render();
	EXPECT(text && !strstr(text, "topic=\"t\""));
	free(text);
	metrics_reset();
}

static void test_stats_broker_rtt(void)
{
	metrics_reset();
	struct metric_family *rtt = metrics_gauge("erpsync_kafka_broker_rtt_seconds", "x", rtt_labels);

	/* a consumer: the coordinator connection, not the fetch long-poll nor the unresolved bootstrap */
	EXPECT(kafka_stats_apply(consumer_stats, sizeof consumer_stats - 1));
	EXPECT(metrics_value(metrics_series1(rtt, "127.0.0.1:29092")) == 0.008061);
	char *text = render();
	EXPECT(text && !strstr(text, "127.0.0.1:29094"));
	EXPECT(text && !strstr(text, "broker=\"\""));
	free(text);

	/* a producer: the broker's own connection; logical, unresolved and internal entries skipped */
	EXPECT(kafka_stats_apply(producer_stats, sizeof producer_stats - 1));
	EXPECT(metrics_value(metrics_series1(rtt, "127.0.0.1:29092")) == 0.003603);
	text = render();
	EXPECT(text && !strstr(text, "127.0.0.1:29094"));
	EXPECT(text && !strstr(text, "broker=\"\""));
	free(text);

	/* no samples in the window: the last value stays */
	static const char no_samples[] =
		"{\"type\":\"producer\",\"brokers\":{\"127.0.0.1:29092/1\":{\"nodeid\":1,\"nodename\":"
		"\"127.0.0.1:29092\",\"source\":\"configured\",\"rtt\":{\"avg\":0,\"cnt\":0}}},\"topics\":{}}";
	EXPECT(kafka_stats_apply(no_samples, sizeof no_samples - 1));
	EXPECT(metrics_value(metrics_series1(rtt, "127.0.0.1:29092")) == 0.003603);
	metrics_reset();
}

/* A producer's statistics have consumer_lag too (always -1 in practice): never read as lag. */
static void test_stats_producer_has_no_lag(void)
{
	metrics_reset();
	EXPECT(kafka_stats_apply(producer_stats, sizeof producer_stats - 1));
	char *text = render();
	EXPECT(text && !strstr(text, "erpsync_kafka_consumer_lag{"));
	free(text);
	metrics_reset();
}

static void test_stats_not_json(void)
{
	EXPECT(!kafka_stats_apply("{\"type\":", 8));
	EXPECT(!kafka_stats_apply("[1,2]", 5));
	EXPECT(!kafka_stats_apply("", 0));
	/* valid but without the sections: nothing to do, no crash */
	EXPECT(kafka_stats_apply("{\"type\":\"consumer\",\"topics\":[],\"brokers\":7}", 43));
}

static void test_stats_forget_partitions(void)
{
	metrics_reset();
	EXPECT(kafka_stats_apply(consumer_stats, sizeof consumer_stats - 1));
	struct metric_family *lag = metrics_gauge("erpsync_kafka_consumer_lag", "x", lag_labels);
	EXPECT(metrics_value(metrics_series2(lag, "erp.stock.v1", "0")) == 42);

	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, "erp.stock.v1", 0);
	kafka_stats_forget_partitions(parts);
	rd_kafka_topic_partition_list_destroy(parts);
	EXPECT(metrics_value(metrics_series2(lag, "erp.stock.v1", "0")) == 0);
	kafka_stats_forget_partitions(NULL);
	metrics_reset();
}

static void test_headers_get(void)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(4);
	char out[8];

	rd_kafka_header_add(h, "event-id", -1, "first", -1);
	rd_kafka_header_add(h, "event-id", -1, "second", -1);
	rd_kafka_header_add(h, "empty", -1, NULL, 0);
	rd_kafka_header_add(h, "long", -1, "0123456789", -1);

	EXPECT(kafka_headers_get(h, "event-id", out, sizeof out));
	EXPECT_STR(out, "second"); /* the last value wins */
	EXPECT(kafka_headers_get(h, "long", out, sizeof out));
	EXPECT_STR(out, "0123456"); /* truncated, terminated */
	EXPECT(kafka_headers_get(h, "empty", out, sizeof out));
	EXPECT_STR(out, "");
	snprintf(out, sizeof out, "junk");
	EXPECT(!kafka_headers_get(h, "missing", out, sizeof out));
	EXPECT_STR(out, "");
	EXPECT(!kafka_headers_get(NULL, "event-id", out, sizeof out));
	EXPECT(kafka_headers_get(h, "event-id", NULL, 0)); /* presence only */
	rd_kafka_headers_destroy(h);
}

static void test_out_headers(void)
{
	char v[128];
	static const char tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	struct kafka_out m = {
		.topic = "erp.stock.v1",
		.event_id = "0b6a2c1e-1c1b-4f5e-9a55-6f1e0b0e2a11",
		.traceparent = tp,
		.source_time_us = 1714566896789123,
		.message_type = "erpsync.v1.StockLevel",
	};

	rd_kafka_headers_t *h = kafka_out_headers(&m);
	EXPECT(h != NULL);
	EXPECT(kafka_headers_get(h, KAFKA_H_EVENT_ID, v, sizeof v));
	EXPECT_STR(v, "0b6a2c1e-1c1b-4f5e-9a55-6f1e0b0e2a11");
	EXPECT(kafka_headers_get(h, KAFKA_H_TRACEPARENT, v, sizeof v));
	EXPECT_STR(v, tp);
	EXPECT(kafka_headers_get(h, KAFKA_H_SOURCE_TIME, v, sizeof v));
	EXPECT_STR(v, "1714566896789123");
	EXPECT(kafka_headers_get(h, KAFKA_H_CONTENT_TYPE, v, sizeof v));
	EXPECT_STR(v, "application/x-protobuf; messageType=erpsync.v1.StockLevel");
	rd_kafka_headers_destroy(h);

	/* no trace: a new one; a malformed one: a new one; no time: now; no type: no content-type */
	const char *const traces[] = { NULL, "not-a-traceparent" };
	for (size_t i = 0; i < 2; i++) {
		m.traceparent = traces[i];
		m.source_time_us = 0;
		m.message_type = NULL;
		int64_t before = event_now_us();
		h = kafka_out_headers(&m);
		int64_t after = event_now_us();
		EXPECT(h != NULL);
		EXPECT(kafka_headers_get(h, KAFKA_H_TRACEPARENT, v, sizeof v) && traceparent_valid(v));
		EXPECT(kafka_headers_get(h, KAFKA_H_SOURCE_TIME, v, sizeof v));
		long long t = strtoll(v, NULL, 10);
		EXPECT(t >= before && t <= after);
		EXPECT(!kafka_headers_get(h, KAFKA_H_CONTENT_TYPE, v, sizeof v));
		rd_kafka_headers_destroy(h);
	}

	m.event_id = NULL;
	EXPECT(kafka_out_headers(&m) == NULL);
	EXPECT(kafka_out_headers(NULL) == NULL);
}

static size_t header_count(const rd_kafka_headers_t *h, const char *name)
{
	const void *val;
	size_t size, n = 0;

	while (rd_kafka_header_get(h, n, name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR)
		n++;
	return n;
}

static void test_dlq_headers(void)
{
	char v[KAFKA_DLQ_ERROR_MAX + 64];
	/* 1023 ASCII bytes, then "é" (2 bytes) across the 1024-byte limit, then more */
	char error[1100];
	memset(error, 'x', 1023);
	memcpy(error + 1023, "\xc3\xa9 and the rest", sizeof "\xc3\xa9 and the rest");

	rd_kafka_headers_t *h = rd_kafka_headers_new(8);
	rd_kafka_header_add(h, KAFKA_H_EVENT_ID, -1, "e-1", -1);
	struct kafka_dlq_info info = {
		.service = "stock-sync",
		.topic = "erp.stock.v1",
		.partition = 4,
		.offset = 9000000001,
		.error = error,
		.attempts = 5,
		.time_us = 1714566896789123,
	};
	EXPECT(kafka_dlq_headers_set(h, &info));

	EXPECT(kafka_headers_get(h, KAFKA_H_EVENT_ID, v, sizeof v));
	EXPECT_STR(v, "e-1"); /* the original headers stay */
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_ERROR, v, sizeof v));
	EXPECT_INT(strlen(v), 1023); /* cut before the split character */
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_SERVICE, v, sizeof v));
	EXPECT_STR(v, "stock-sync");
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_TOPIC, v, sizeof v));
	EXPECT_STR(v, "erp.stock.v1");
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_PARTITION, v, sizeof v));
	EXPECT_STR(v, "4");
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_OFFSET, v, sizeof v));
	EXPECT_STR(v, "9000000001");
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_ATTEMPTS, v, sizeof v));
	EXPECT_STR(v, "5");
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_TIME, v, sizeof v));
	EXPECT_STR(v, "2024-05-01T12:34:56.789Z");

	/* dead-lettered again after a replay: one set of dlq-* headers, the new one */
	info.error = "short";
	info.attempts = 1;
	EXPECT(kafka_dlq_headers_set(h, &info));
	EXPECT_INT(header_count(h, KAFKA_H_DLQ_ERROR), 1);
	EXPECT_INT(header_count(h, KAFKA_H_DLQ_ATTEMPTS), 1);
	EXPECT_INT(header_count(h, KAFKA_H_EVENT_ID), 1);
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_ERROR, v, sizeof v));
	EXPECT_STR(v, "short");

	/* exactly at the limit: kept whole; no error text: "unknown" */
	memset(error, 'y', KAFKA_DLQ_ERROR_MAX);
	error[KAFKA_DLQ_ERROR_MAX] = '\0';
	info.error = error;
	EXPECT(kafka_dlq_headers_set(h, &info));
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_ERROR, v, sizeof v));
	EXPECT_INT(strlen(v), KAFKA_DLQ_ERROR_MAX);
	info.error = NULL;
	EXPECT(kafka_dlq_headers_set(h, &info));
	EXPECT(kafka_headers_get(h, KAFKA_H_DLQ_ERROR, v, sizeof v));
	EXPECT_STR(v, "unknown");
	rd_kafka_headers_destroy(h);

	EXPECT(!kafka_dlq_headers_set(NULL, &info));
}

UNIT_MAIN(test_stats_consumer_lag, test_stats_broker_rtt, test_stats_producer_has_no_lag, test_stats_not_json,
	  test_stats_forget_partitions, test_headers_get, test_out_headers, test_dlq_headers)
