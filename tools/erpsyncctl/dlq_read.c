#include "dlq_read.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define DLQ_READ_POLL_MS 100

static int64_t dlq_read_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rd_kafka_t *dlq_read_consumer(const char *brokers, char *err, size_t errlen)
{
	/* librdkafka's assign() wants a group.id; with assign (no subscribe) the group is never joined,
	 * and with no commit it never holds an offset: nothing is read on anybody's behalf */
	static const char *const props[][2] = {
		{ "group.id", "erpsyncctl-dlq-read" },
		{ "client.id", "erpsyncctl" },
		{ "enable.partition.eof", "true" },
		{ "enable.auto.commit", "false" },
		{ "enable.auto.offset.store", "false" },
		{ "auto.offset.reset", "earliest" }, /* a start offset retention took: from the oldest kept */
		{ "isolation.level", "read_committed" },
	};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, errlen) != RD_KAFKA_CONF_OK)
		goto out;
	for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
		if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, errlen) != RD_KAFKA_CONF_OK)
			goto out;
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
out:
	if (!rk) /* rd_kafka_new owns conf only when it succeeds */
		rd_kafka_conf_destroy(conf);
	return rk;
}

/* The partitions of o->topic to read, each with its start offset; NULL (err) when the topic is not
 * there or the cluster did not answer. An empty list when there is nothing to read. */
static rd_kafka_topic_partition_list_t *dlq_read_plan(rd_kafka_t *rk, const struct dlq_read_opts *o, char *err,
						      size_t errlen)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
	rd_kafka_resp_err_t e;

	if (!rkt) {
		snprintf(err, errlen, "%s: %s", o->topic, rd_kafka_err2str(rd_kafka_last_error()));
		return NULL;
	}
	e = rd_kafka_metadata(rk, 0, rkt, &md, o->timeout_ms);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
		e = md->topics[0].err;
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "%s: %s", o->topic,
			 e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? "no such topic" : rd_kafka_err2str(e));
		goto out;
	}
	parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
	for (int i = 0; i < md->topics[0].partition_cnt; i++) {
		int32_t p = md->topics[0].partitions[i].id;
		int64_t lo = 0, hi = 0;
		e = rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, o->timeout_ms);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(err, errlen, "%s partition %" PRId32 ": offsets: %s", o->topic, p,
				 rd_kafka_err2str(e));
			rd_kafka_topic_partition_list_destroy(parts);
			parts = NULL;
			goto out;
		}
		int64_t from = o->since > lo ? o->since : lo;
		if (from < hi)
			rd_kafka_topic_partition_list_add(parts, o->topic, p)->offset = from;
	}
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return parts;
}

/* Takes what one consumed record says into s; false when s is full or memory ran out. */
static bool dlq_read_take(const struct dlq_read_opts *o, struct dlq_set *s, rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hdrs = NULL;
	struct dlq_letter l;
	struct dlq_marker mk;
	rd_kafka_timestamp_type_t tt;
	int64_t ts = rd_kafka_message_timestamp(m, &tt);

	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		hdrs = NULL;
	int kind = dlq_record_parse(hdrs, m->partition, m->offset, tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts,
				    m->key, m->key_len, &l, &mk);
	if (kind == DLQ_KIND_MARKER)
		return dlq_set_add_marker(s, &mk);
	if (kind != DLQ_KIND_LETTER)
		return false;
	if (o->keep && o->keep(&l, o->keep_ud) && !dlq_letter_keep(&l, m->payload, m->len, hdrs)) {
		dlq_letter_cleanup(&l);
		return false;
	}
	return dlq_set_add_letter(s, &l);
}

/* Reads the assigned partitions until each reported its end; false (err) on the time bound, a
 * partition error or a full set. */
static bool dlq_read_loop(rd_kafka_t *rk, const struct dlq_read_opts *o, rd_kafka_topic_partition_list_t *parts,
			  struct dlq_set *s, char *err, size_t errlen)
{
	int64_t deadline = dlq_read_now_ms() + o->timeout_ms;
	unsigned char *done = calloc((size_t)parts->cnt + 1, 1);
	int left = parts->cnt;
	bool ok = false;

	if (!done) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	while (left > 0) {
		if (dlq_read_now_ms() >= deadline) {
			snprintf(err, errlen, "%s: %d partition(s) not read to their end within %d ms", o->topic, left,
				 o->timeout_ms);
			goto out;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, DLQ_READ_POLL_MS);
		if (!m)
			continue;
		int k = 0;
		while (k < parts->cnt && parts->elems[k].partition != m->partition)
			k++;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (k < parts->cnt && !done[k]) {
				done[k] = 1;
				left--;
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err) {
			snprintf(err, errlen, "%s partition %" PRId32 ": %s", o->topic, m->partition,
				 rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			goto out;
		}
		bool taken = dlq_read_take(o, s, m);
		rd_kafka_message_destroy(m);
		if (!taken) {
			snprintf(err, errlen,
				 "%s: more than %d dead letters and markers (or out of memory): read "
				 "it in parts with --since-offset",
				 o->topic, DLQ_SET_MAX);
			goto out;
		}
	}
	ok = true;
out:
	free(done);
	return ok;
}

bool dlq_read(const struct dlq_read_opts *o, struct dlq_set *s, char *err, size_t errlen)
{
	rd_kafka_t *rk = dlq_read_consumer(o->brokers, err, errlen);
	rd_kafka_topic_partition_list_t *parts = NULL;
	bool ok = false;

	if (!rk)
		return false;
	if (!(parts = dlq_read_plan(rk, o, err, errlen)))
		goto out;
	if (parts->cnt > 0) {
		rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(err, errlen, "%s: assign: %s", o->topic, rd_kafka_err2str(e));
			goto out;
		}
		if (!dlq_read_loop(rk, o, parts, s, err, errlen))
			goto out;
	}
	dlq_set_mark_replayed(s);
	ok = true;
out:
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	(void)rd_kafka_assign(rk, NULL); /* nothing committed: there is no group */
	rd_kafka_destroy(rk);
	return ok;
}
