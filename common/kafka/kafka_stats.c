/* kafka_stats — the half of kafka.h that needs no librdkafka handle, kept apart so unit tests reach
 * it without a broker: librdkafka's statistics JSON into metrics, and the erpsync message headers
 * (built for kafka_produce, read back, added to dead letters).
 *
 * The statistics shape is librdkafka 2.0.2's (src/rdkafka.c, rd_kafka_stats_emit_*; STATISTICS.md):
 *   { "type": "consumer", "brokers": { "<name>": { "nodeid": 1, "nodename": "host:port",
 *       "rtt": { "avg": <us>, "cnt": n, ... } } },
 *     "topics": { "<topic>": { "partitions": { "<p>": { "partition": p, "desired": true,
 *       "consumer_lag": n, ... } } } } } */
#include "kafka.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "event.h"
#include "log.h"
#include "metrics.h"

/* ---- statistics ------------------------------------------------------------------------------------ */

static const char *const stats_lag_labels[] = { "topic", "partition", NULL };
static const char *const stats_rtt_labels[] = { "broker", NULL };

/* Looked up on every use rather than kept: declaring again returns the same family, this runs every
 * few seconds, and a registry reset (unit tests) leaves nothing dangling here. */
static struct metric_family *stats_lag_family(void)
{
	return metrics_gauge("erpsync_kafka_consumer_lag",
			     "Messages not yet committed by this consumer group, per assigned partition "
			     "(high watermark minus committed offset, from librdkafka statistics).",
			     stats_lag_labels);
}

static struct metric_family *stats_rtt_family(void)
{
	return metrics_gauge("erpsync_kafka_broker_rtt_seconds",
			     "Average request round-trip time to a broker over the last statistics interval "
			     "(consumers: group coordinator requests only; fetches wait on the broker by design).",
			     stats_rtt_labels);
}

static void stats_lag_set(struct metric_family *fam, const char *topic, int32_t partition, double lag)
{
	char pstr[16];
	snprintf(pstr, sizeof pstr, "%d", (int)partition);
	struct metric_series *s = metrics_series2(fam, topic, pstr);
	if (s)
		metrics_set(s, lag);
}

/* Only partitions this consumer has assigned ("desired") count: librdkafka keeps reporting the last
 * lag of a partition after it was revoked, and another group member reports it now. Partition -1 is
 * librdkafka's internal unassigned-messages partition; lag -1 means "not known yet". */
static void stats_apply_lag(struct metric_family *fam, json_t *topics)
{
	const char *topic;
	json_t *t;

	json_object_foreach(topics, topic, t)
	{
		const char *key;
		json_t *p;

		json_object_foreach(json_object_get(t, "partitions"), key, p)
		{
			json_t *partition = json_object_get(p, "partition");
			json_t *lag = json_object_get(p, "consumer_lag");

			if (!json_is_integer(partition) || json_integer_value(partition) < 0 ||
			    json_integer_value(partition) > INT32_MAX)
				continue;
			if (!json_is_true(json_object_get(p, "desired")) || !json_is_integer(lag) ||
			    json_integer_value(lag) < 0)
				continue;
			stats_lag_set(fam, topic, (int32_t)json_integer_value(partition),
				      (double)json_integer_value(lag));
		}
	}
}

/* The connections whose round trips measure the network and the broker. A consumer's connections to
 * partition leaders carry Fetch requests that the broker holds up to fetch.wait.max.ms (measured:
 * 0.3-0.5 s "rtt" against an idle local broker), so for a consumer only its logical
 * "GroupCoordinator" connection counts (heartbeats, commits: a few ms), under the coordinator's
 * nodename. For others, every broker with a node id except logical ones (a transactional producer's
 * "TxnCoordinator" repeats a broker): the bootstrap entry takes the node id once it is known
 * ("127.0.0.1:29092/1", source "configured"); one not yet resolved (nodeid -1) and the internal
 * entry (nodeid -1, no nodename) are skipped. */
static bool stats_rtt_wanted(json_t *b, bool consumer)
{
	const char *source = json_string_value(json_object_get(b, "source"));
	bool logical = source && strcmp(source, "logical") == 0;

	if (json_integer_value(json_object_get(b, "nodeid")) < 0)
		return false;
	return consumer ? logical : !logical;
}

static void stats_apply_rtt(struct metric_family *fam, json_t *brokers, bool consumer)
{
	const char *name;
	json_t *b;

	json_object_foreach(brokers, name, b)
	{
		json_t *rtt = json_object_get(b, "rtt");
		const char *node = json_string_value(json_object_get(b, "nodename"));

		/* A window without samples keeps the last value. */
		if (!node || !*node || !stats_rtt_wanted(b, consumer) ||
		    json_integer_value(json_object_get(rtt, "cnt")) <= 0)
			continue;
		struct metric_series *s = metrics_series1(fam, node);
		if (s)
			metrics_set(s, (double)json_integer_value(json_object_get(rtt, "avg")) / 1e6);
	}
}

bool kafka_stats_apply(const char *json, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);

	if (!root) {
		log_warn("kafka statistics not understood: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
		return false;
	}
	if (!json_is_object(root)) {
		log_warn("kafka statistics not understood: not a JSON object");
		json_decref(root);
		return false;
	}

	const char *type = json_string_value(json_object_get(root, "type"));
	bool consumer = type && strcmp(type, "consumer") == 0;
	struct metric_family *rtt = stats_rtt_family();

	if (consumer) {
		struct metric_family *lag = stats_lag_family();
		if (lag)
			stats_apply_lag(lag, json_object_get(root, "topics"));
	}
	if (rtt)
		stats_apply_rtt(rtt, json_object_get(root, "brokers"), consumer);

	json_decref(root);
	return true;
}

void kafka_stats_forget_partitions(const rd_kafka_topic_partition_list_t *parts)
{
	struct metric_family *lag = parts ? stats_lag_family() : NULL;

	if (!lag)
		return;
	for (int i = 0; i < parts->cnt; i++)
		stats_lag_set(lag, parts->elems[i].topic, parts->elems[i].partition, 0.0);
}

/* ---- message headers ----------------------------------------------------------------------------------- */

bool kafka_headers_get(const rd_kafka_headers_t *hdrs, const char *name, char *out, size_t outlen)
{
	const void *val = NULL;
	size_t size = 0;

	if (out && outlen)
		out[0] = '\0';
	if (!hdrs || !name || rd_kafka_header_get_last(hdrs, name, &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	if (out && outlen) {
		size_t n = size < outlen - 1 ? size : outlen - 1;
		if (val && n)
			memcpy(out, val, n);
		out[n] = '\0';
	}
	return true;
}

bool kafka_header_get(const rd_kafka_message_t *m, const char *name, char *out, size_t outlen)
{
	rd_kafka_headers_t *hdrs = NULL;

	if (out && outlen)
		out[0] = '\0';
	if (!m || rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	return kafka_headers_get(hdrs, name, out, outlen);
}

rd_kafka_headers_t *kafka_out_headers(const struct kafka_out *m)
{
	char tp[TRACEPARENT_LEN], when[24];
	const char *trace;
	struct buf ct = BUF_INIT;
	rd_kafka_headers_t *hdrs = NULL;

	if (!m || !m->event_id)
		return NULL;
	trace = m->traceparent;
	if (!trace || !traceparent_valid(trace)) {
		traceparent_new(tp);
		trace = tp;
	}
	snprintf(when, sizeof when, "%lld", (long long)(m->source_time_us ? m->source_time_us : event_now_us()));
	if (m->message_type && !buf_printf(&ct, "application/x-protobuf; messageType=%s", m->message_type))
		goto out;

	hdrs = rd_kafka_headers_new(4);
	rd_kafka_header_add(hdrs, KAFKA_H_EVENT_ID, -1, m->event_id, -1);
	rd_kafka_header_add(hdrs, KAFKA_H_TRACEPARENT, -1, trace, -1);
	rd_kafka_header_add(hdrs, KAFKA_H_SOURCE_TIME, -1, when, -1);
	if (m->message_type)
		rd_kafka_header_add(hdrs, KAFKA_H_CONTENT_TYPE, -1, ct.data, (ssize_t)ct.len);
out:
	buf_cleanup(&ct);
	return hdrs;
}

/* The longest prefix of s of at most max bytes that does not end inside a UTF-8 sequence. */
static size_t kafka_utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* "2024-05-01T12:34:56.789Z" */
static void kafka_iso8601_utc(int64_t us, char *out, size_t outlen)
{
	time_t secs;
	struct tm tm;
	size_t n;

	if (us < 0)
		us = 0;
	secs = (time_t)(us / 1000000);
	gmtime_r(&secs, &tm);
	n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outlen - n, ".%03dZ", (int)(us % 1000000 / 1000));
}

bool kafka_dlq_headers_set(rd_kafka_headers_t *hdrs, const struct kafka_dlq_info *info)
{
	static const char *const names[] = { KAFKA_H_DLQ_ERROR,     KAFKA_H_DLQ_SERVICE, KAFKA_H_DLQ_TOPIC,
					     KAFKA_H_DLQ_PARTITION, KAFKA_H_DLQ_OFFSET,  KAFKA_H_DLQ_ATTEMPTS,
					     KAFKA_H_DLQ_TIME };
	const char *error = info->error ? info->error : "unknown";
	char partition[16], offset[24], attempts[16], when[32];

	if (!hdrs)
		return false;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (rd_kafka_header_remove(hdrs, names[i]) == RD_KAFKA_RESP_ERR__READ_ONLY)
			return false;
	}
	snprintf(partition, sizeof partition, "%d", (int)info->partition);
	snprintf(offset, sizeof offset, "%lld", (long long)info->offset);
	snprintf(attempts, sizeof attempts, "%u", info->attempts);
	kafka_iso8601_utc(info->time_us, when, sizeof when);

	return !rd_kafka_header_add(hdrs, KAFKA_H_DLQ_ERROR, -1, error,
				    (ssize_t)kafka_utf8_prefix(error, KAFKA_DLQ_ERROR_MAX)) &&
	       !rd_kafka_header_add(hdrs, KAFKA_H_DLQ_SERVICE, -1, info->service ? info->service : "", -1) &&
	       !rd_kafka_header_add(hdrs, KAFKA_H_DLQ_TOPIC, -1, info->topic ? info->topic : "", -1) &&
	       !rd_kafka_header_add(hdrs, KAFKA_H_DLQ_PARTITION, -1, partition, -1) &&
	       !rd_kafka_header_add(hdrs, KAFKA_H_DLQ_OFFSET, -1, offset, -1) &&
	       !rd_kafka_header_add(hdrs, KAFKA_H_DLQ_ATTEMPTS, -1, attempts, -1) &&
	       !rd_kafka_header_add(hdrs, KAFKA_H_DLQ_TIME, -1, when, -1);
}
