/* kafka — the producer and consumer every service uses, on librdkafka.
 *
 * Configuration comes from the environment: every KAFKA_<PROPERTY> variable is passed to librdkafka
 * as <property> (lower case, '_' -> '.', "__" -> '_'), e.g. KAFKA_BOOTSTRAP_SERVERS; see config.h.
 *
 * Producer: idempotent (enable.idempotence=true, acks=all), so retries never duplicate or reorder
 * within a partition. A fatal idempotence error is reported by kafka_producer_fatal and must stop
 * the service (the outbox keeps what was not delivered).
 *
 * Consumer: enable.auto.offset.store=false; a service stores a message's offset with
 * kafka_consumer_store only after its PostgreSQL transaction for that message committed (or after
 * the message went to the dead-letter topic), and auto-commit commits what was stored. So a crash
 * re-delivers at most the uncommitted tail, which the inbox makes harmless.
 *
 * Statistics (statistics.interval.ms, default 5000 here) feed the metrics:
 *   erpsync_kafka_consumer_lag{topic,partition}, erpsync_kafka_consumed_total{topic},
 *   erpsync_kafka_consume_errors_total{topic} ("_none" for errors not about a topic),
 *   erpsync_kafka_produced_total{topic}, erpsync_kafka_produce_errors_total{topic},
 *   erpsync_kafka_dlq_total{topic}, erpsync_kafka_broker_rtt_seconds{broker}. */
#ifndef ERPSYNC_KAFKA_H
#define ERPSYNC_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* Header names used on every erpsync message. */
#define KAFKA_H_EVENT_ID     "event-id"
#define KAFKA_H_TRACEPARENT  "traceparent"
#define KAFKA_H_SOURCE_TIME  "source-time"  /* unix microseconds, decimal */
#define KAFKA_H_CONTENT_TYPE "content-type" /* application/x-protobuf; messageType=erpsync.v1.X */
/* Added on dead letters. */
#define KAFKA_H_DLQ_ERROR     "dlq-error"
#define KAFKA_H_DLQ_SERVICE   "dlq-service"
#define KAFKA_H_DLQ_TOPIC     "dlq-source-topic"
#define KAFKA_H_DLQ_PARTITION "dlq-source-partition"
#define KAFKA_H_DLQ_OFFSET    "dlq-source-offset"
#define KAFKA_H_DLQ_ATTEMPTS  "dlq-attempts"
#define KAFKA_H_DLQ_TIME      "dlq-time"

struct kafka_producer;
struct kafka_consumer;

/* ---- producer ---- */

/* Called for each message produced with a non-NULL opaque, from whichever call serves delivery reports:
 * kafka_producer_poll/flush/free, and kafka_produce/kafka_dlq_send while they wait. */
typedef void (*kafka_delivery_fn)(void *opaque, rd_kafka_resp_err_t err, void *ud);

struct kafka_producer *kafka_producer_new(const char *service, char *err, size_t errlen);
/* Flushes (up to 10 s, logging what is left) and destroys. NULL-safe. */
void kafka_producer_free(struct kafka_producer *p);
void kafka_producer_on_delivery(struct kafka_producer *p, kafka_delivery_fn fn, void *ud);

struct kafka_out {
	const char *topic;
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	const char *event_id;     /* required */
	const char *traceparent;  /* NULL: a new trace */
	int64_t source_time_us;   /* 0: now */
	const char *message_type; /* e.g. "erpsync.v1.StockLevel"; NULL: no content-type header */
	void *opaque;             /* passed to the delivery callback */
};

/* Queues one message (copying key and value). Waits (polling) while the local queue is full. */
bool kafka_produce(struct kafka_producer *p, const struct kafka_out *m, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Serves delivery reports; returns the number served. */
int kafka_producer_poll(struct kafka_producer *p, int timeout_ms);
/* Waits until everything queued is delivered or failed; false on timeout. */
bool kafka_producer_flush(struct kafka_producer *p, int timeout_ms) __attribute__((warn_unused_result));
/* true (and the reason) when the idempotent producer hit a fatal error. */
bool kafka_producer_fatal(struct kafka_producer *p, char *err, size_t errlen);
rd_kafka_t *kafka_producer_handle(struct kafka_producer *p);

/* ---- consumer ---- */

struct kafka_consumer *kafka_consumer_new(const char *service, const char *group_id, const char *const *topics,
					  size_t ntopics, char *err, size_t errlen);
/* The next message, or NULL after timeout_ms. Errors and partition EOFs are logged and counted,
 * never returned. The caller owns the message: rd_kafka_message_destroy it. */
rd_kafka_message_t *kafka_consumer_poll(struct kafka_consumer *c, int timeout_ms);
/* Marks m as processed: its offset + 1 will be committed. */
bool kafka_consumer_store(struct kafka_consumer *c, const rd_kafka_message_t *m) __attribute__((warn_unused_result));
/* Commits stored offsets and leaves the group, bounded by timeout_ms, then destroys. NULL-safe.
 * A close that does not finish in time is abandoned (the uncommitted tail is re-delivered later):
 * a detached thread destroys the handle without a group close, or the process exit ends it. */
void kafka_consumer_close(struct kafka_consumer *c, int timeout_ms);
rd_kafka_t *kafka_consumer_handle(struct kafka_consumer *c);
/* Wakes librdkafka's fetcher when the queue is down to half and the broker holds more for us: a
 * consumer that takes records faster than a fetch a second would otherwise wait for it (the why is
 * at the definition). Call from the polling thread between polls; cheap when there is nothing to do. */
void kafka_consumer_nudge(struct kafka_consumer *c);
/* Whether the consumer has joined its group (its first assignment came, even of no partition);
 * stays true through later rebalances. Thread-safe. */
bool kafka_consumer_joined(struct kafka_consumer *c);

/* ---- messages ---- */

/* Copies header name's last value (NUL-terminated, truncated to outlen) into out; false if absent. */
bool kafka_header_get(const rd_kafka_message_t *m, const char *name, char *out, size_t outlen);

/* Sends m, with its key, value and headers and the dlq-* headers above, to "<topic>.dlq" and waits
 * for the broker's acknowledgement (up to 10 s). Only then may the caller store m's offset. */
bool kafka_dlq_send(struct kafka_producer *p, const rd_kafka_message_t *m, const char *service, const char *error,
		    unsigned attempts) __attribute__((warn_unused_result));

/* A record to dead-letter whose message is no longer at hand (rebuilt from what was decoded). */
struct kafka_dlq_record {
	const char *topic; /* where it was consumed */
	int32_t partition;
	int64_t offset;
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	const rd_kafka_headers_t *headers; /* NULL: none (copied, not taken) */
};
/* Like kafka_dlq_send, for such a record. */
bool kafka_dlq_send_record(struct kafka_producer *p, const struct kafka_dlq_record *r, const char *service,
			   const char *error, unsigned attempts) __attribute__((warn_unused_result));

/* Metadata round trip to the cluster within timeout_ms (readiness). Thread-safe. */
bool kafka_reachable(rd_kafka_t *rk, int timeout_ms);

/* ---- building blocks, exposed for unit tests (no broker needed) ---- */

/* Copies header name's last value in hdrs like kafka_header_get; out is "" when absent. */
bool kafka_headers_get(const rd_kafka_headers_t *hdrs, const char *name, char *out, size_t outlen);

/* The headers kafka_produce puts on m: event-id, traceparent (m's if valid, else a new trace),
 * source-time (now if 0) and content-type (if message_type). NULL when m->event_id is NULL.
 * The caller owns the result (rd_kafka_headers_destroy) until producev takes it. */
rd_kafka_headers_t *kafka_out_headers(const struct kafka_out *m) __attribute__((warn_unused_result));

#define KAFKA_DLQ_ERROR_MAX 1024 /* bytes of dlq-error kept (cut at a UTF-8 character boundary) */

struct kafka_dlq_info {
	const char *service;
	const char *topic; /* the source topic */
	int32_t partition;
	int64_t offset;
	const char *error; /* NULL: "unknown" */
	unsigned attempts;
	int64_t time_us; /* unix microseconds; dlq-time is ISO-8601 UTC with milliseconds */
};

/* Replaces any dlq-* headers in hdrs (from an earlier dead-lettering of a replayed message) with
 * info's. false when hdrs is read-only. */
bool kafka_dlq_headers_set(rd_kafka_headers_t *hdrs, const struct kafka_dlq_info *info)
	__attribute__((warn_unused_result));

/* Applies one librdkafka statistics document to erpsync_kafka_consumer_lag (consumers: assigned
 * partitions whose lag is known) and erpsync_kafka_broker_rtt_seconds (brokers by nodename).
 * false (and a log line) when json is not a JSON object. The stats_cb of every handle calls it. */
bool kafka_stats_apply(const char *json, size_t len);
/* Sets the lag of partitions this process no longer consumes to 0 (called on revoke/lose). */
void kafka_stats_forget_partitions(const rd_kafka_topic_partition_list_t *parts);

#endif
