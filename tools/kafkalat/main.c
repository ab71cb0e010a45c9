/* kafkalat: the raw delivery latency of a topic, the baseline next to which make bench reports
 * stock-sync's. A plain librdkafka consumer (no group, librdkafka's defaults but for a short fetch
 * wait) reads every partition of the topic from its end for the given seconds and measures, for
 * each record, the time from its timestamp (CreateTime: set by the producer when the record was
 * made) to the moment the consumer handed it over. Prints one line:
 *     records N p50 X ms p99 Y ms max Z ms
 * Exit status: 0 with at least one record, 1 without, 2 on usage errors. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define KAFKALAT_MAX_SAMPLES 2000000

static const char usage[] = "usage: kafkalat -b BROKERS -t TOPIC -d SECONDS\n";

static int64_t kafkalat_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int kafkalat_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Assigns every partition of topic at its end; false when the topic has none within 10 s (a topic
 * just created shows its partitions a moment later). */
static bool kafkalat_assign(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	bool ok = false;
	for (int i = 0; t && i < 50; i++) {
		if (rd_kafka_metadata(rk, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
		    md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0)
			break;
		if (md)
			rd_kafka_metadata_destroy(md);
		md = NULL;
		usleep(200000);
	}
	if (md) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
		for (int i = 0; i < md->topics[0].partition_cnt; i++)
			rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
				RD_KAFKA_OFFSET_END;
		ok = rd_kafka_assign(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR;
		rd_kafka_topic_partition_list_destroy(l);
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	if (t)
		rd_kafka_topic_destroy(t);
	return ok;
}

int main(int argc, char **argv)
{
	const char *brokers = NULL, *topic = NULL;
	long seconds = 0;
	int c;
	while ((c = getopt(argc, argv, "b:t:d:")) != -1) {
		if (c == 'b')
			brokers = optarg;
		else if (c == 't')
			topic = optarg;
		else if (c == 'd')
			seconds = strtol(optarg, NULL, 10);
		else
			return fputs(usage, stderr), 2;
	}
	if (!brokers || !topic || seconds <= 0 || seconds > 3600)
		return fputs(usage, stderr), 2;

	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "kafkalat", err, sizeof err) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, sizeof err) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafkalat: %s\n", err);
		return 2;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "kafkalat: %s\n", err);
		return 1;
	}
	int64_t *lat = malloc(KAFKALAT_MAX_SAMPLES * sizeof *lat);
	size_t n = 0;
	if (!lat || !kafkalat_assign(rk, topic)) {
		fprintf(stderr, "kafkalat: cannot read topic %s\n", topic);
		rd_kafka_destroy(rk);
		free(lat);
		return 1;
	}
	int64_t end = kafkalat_now_ms() + seconds * 1000;
	while (kafkalat_now_ms() < end) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
		if (!m)
			continue;
		int64_t made = rd_kafka_message_timestamp(m, NULL);
		if (!m->err && made > 0 && n < KAFKALAT_MAX_SAMPLES)
			lat[n++] = kafkalat_now_ms() - made;
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	if (!n) {
		printf("records 0\n");
		free(lat);
		return 1;
	}
	qsort(lat, n, sizeof *lat, kafkalat_cmp);
	printf("records %zu p50 %lld ms p99 %lld ms max %lld ms\n", n, (long long)lat[(n - 1) / 2],
	       (long long)lat[(n - 1) * 99 / 100], (long long)lat[n - 1]);
	free(lat);
	return 0;
}
