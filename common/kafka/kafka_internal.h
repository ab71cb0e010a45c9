/* kafka_internal — shared by kafka.c, kafka_producer.c and kafka_consumer.c; not for services. */
#ifndef ERPSYNC_KAFKA_INTERNAL_H
#define ERPSYNC_KAFKA_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#define KAFKA_STATS_INTERVAL_MS "5000"
#define KAFKA_POLL_SLICE_MS     100 /* waits serve reports in slices this long */
#define KAFKA_DLQ_TIMEOUT_MS    10000
#define KAFKA_FREE_FLUSH_MS     10000
#define KAFKA_TOPIC_MAX         250 /* Kafka topic names have at most 249 characters */
#define KAFKA_TOPIC_SLOTS       32  /* topics are declared (deploy/topics.tsv): a few dozen */

enum kafka_metric { KM_PRODUCED, KM_PRODUCE_ERRORS, KM_DLQ, KM_CONSUMED, KM_CONSUME_ERRORS, KM_COUNT };

struct metric_series;
struct metric_family;

struct kafka_topic_series {
	char topic[KAFKA_TOPIC_MAX];
	struct metric_series *s[KM_COUNT];
};

/* Series handles kept per topic, so counting a message is a short scan and an atomic add. Topics past
 * the slots are looked up in the registry each time: slower, still right. */
struct kafka_metrics {
	pthread_mutex_t lock;
	struct metric_family *fam[KM_COUNT];
	struct kafka_topic_series topics[KAFKA_TOPIC_SLOTS];
	size_t ntopics;
};

void kafka_metrics_init(struct kafka_metrics *km, enum kafka_metric first, enum kafka_metric last);
void kafka_metrics_cleanup(struct kafka_metrics *km);
/* Counts one message of topic under k. */
void kafka_count(struct kafka_metrics *km, enum kafka_metric k, const char *topic);

struct kafka_prop {
	const char *name;
	const char *value;
};

/* What a producer or consumer handle is made of: our defaults, then every KAFKA_* variable, then a
 * check that the environment left the required settings alone; the shared callbacks (log, error,
 * statistics) with opaque, and the role's own (role_cbs, may be NULL). */
struct kafka_handle_spec {
	rd_kafka_type_t type;
	const char *role; /* "kafka producer", "kafka consumer": prefixes errors */
	const struct kafka_prop *defaults;
	size_t ndefaults;
	const struct kafka_prop *required;
	size_t nrequired;
	void (*role_cbs)(rd_kafka_conf_t *conf);
	void *opaque;
};

/* The handle, or NULL with err (nothing left to free). */
rd_kafka_t *kafka_handle_new(const struct kafka_handle_spec *spec, char *err, size_t errlen);

/* "topic[3] topic[4] ..." for log lines, truncated to outlen. */
void kafka_partitions_str(const rd_kafka_topic_partition_list_t *l, char *out, size_t outlen);

#endif
