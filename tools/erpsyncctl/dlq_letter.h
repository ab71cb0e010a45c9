/* dlq_letter — what erpsyncctl reads in a dead-letter topic, without a broker: a dead letter (the
 * record a service gave up on, with the dlq-* headers kafka_dlq_send puts on it) or a replay marker
 * (a record erpsyncctl adds to the dead-letter topic, in the transaction of the replay, to say that
 * the letter at partition:offset went back to its topic). Also the headers of a replayed record and
 * of a marker, and the text and JSON spelling of untrusted bytes.
 *
 * Everything here comes from a topic anybody with produce rights may write to: every header is
 * bounded and checked, and a letter whose headers do not say where it came from is listed but never
 * replayed. */
#ifndef ERPSYNC_DLQ_LETTER_H
#define ERPSYNC_DLQ_LETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

/* Headers of the replay (the dlq-* prefix: a replayed record never carries the dead letter's own). */
#define DLQ_H_REPLAYED      "dlq-replayed"      /* on a marker: "P:N", the letter in this topic */
#define DLQ_H_REPLAYED_TO   "dlq-replayed-to"   /* on a marker: "topic:P:N", where the replay landed */
#define DLQ_H_REPLAYED_AT   "dlq-replayed-at"   /* on a marker: ISO-8601 UTC with milliseconds */
#define DLQ_H_REPLAYED_BY   "dlq-replayed-by"   /* on a marker: the operator ($USER@host), informative */
#define DLQ_H_REPLAYED_FROM "dlq-replayed-from" /* on a replayed record: "dlq-topic:P:N" */

#define DLQ_TOPIC_MAX    249 /* Kafka's limit on a topic name */
#define DLQ_SERVICE_MAX  64
#define DLQ_REASON_MAX   1024 /* KAFKA_DLQ_ERROR_MAX: what kafka_dlq_send keeps of a reason */
#define DLQ_EVENT_ID_MAX 128
#define DLQ_WHERE_MAX    (DLQ_TOPIC_MAX + 48) /* "topic:P:N" */

struct dlq_letter {
	int32_t partition; /* in the dead-letter topic */
	int64_t offset;
	int64_t timestamp_ms; /* the dead letter's Kafka timestamp: when the service gave up; -1 unknown */
	void *key;            /* copied; NULL: the record had none */
	size_t key_len;
	char source_topic[DLQ_TOPIC_MAX + 1]; /* "" when the header is missing or not a topic name */
	int32_t source_partition;             /* -1: none (a record that never was on a topic) */
	int64_t source_offset;                /* -1: none */
	char service[DLQ_SERVICE_MAX + 1];
	char *reason;                        /* dlq-error, "" when absent; owned */
	char event_id[DLQ_EVENT_ID_MAX + 1]; /* the event-id header, "" when absent (stock records carry
					      * theirs in the value too) */
	unsigned attempts;
	char replay_of[DLQ_WHERE_MAX + 1]; /* dlq-replayed-from: it failed again after a replay */
	bool replayed;                     /* a committed marker names it */
	char replayed_to[DLQ_WHERE_MAX + 1];
	/* Kept when it is to be replayed (dlq_letter_keep): copies, for a consumer is destroyed only
	 * once every message it gave is. */
	bool kept;
	void *value; /* NULL: none (a tombstone) */
	size_t value_len;
	rd_kafka_headers_t *headers; /* NULL: none */
};

struct dlq_marker {
	int32_t partition; /* of the letter it names, in the dead-letter topic */
	int64_t offset;
	char to[DLQ_WHERE_MAX + 1];
};

enum dlq_kind { DLQ_KIND_LETTER, DLQ_KIND_MARKER };

/* Reads a record of the dead-letter topic at partition:offset: a marker (a dlq-replayed header and
 * no dlq-source-topic) into *mk, anything else into *l as a letter (what its headers do not say
 * stays empty or -1). hdrs may be NULL. l's key is a copy: dlq_letter_cleanup it. Returns the kind,
 * or -1 when memory ran out. A marker whose dlq-replayed is not "P:N" is taken for a letter, which
 * then shows as not replayable. */
int dlq_record_parse(const rd_kafka_headers_t *hdrs, int32_t partition, int64_t offset, int64_t timestamp_ms,
		     const void *key, size_t key_len, struct dlq_letter *l, struct dlq_marker *mk)
	__attribute__((warn_unused_result));
void dlq_letter_cleanup(struct dlq_letter *l); /* frees the key, reason and kept copies; NULL-safe */
/* Copies the value and headers of the letter's message into l; false when memory ran out. */
bool dlq_letter_keep(struct dlq_letter *l, const void *value, size_t value_len, const rd_kafka_headers_t *hdrs)
	__attribute__((warn_unused_result));

#define DLQ_SET_MAX 100000 /* letters and markers one run holds: more is read with --since-offset */

/* What one read of a dead-letter topic found: its letters (in the order of each partition) and
 * markers. */
struct dlq_set {
	struct dlq_letter *letters;
	size_t nletters, cap_letters;
	struct dlq_marker *markers;
	size_t nmarkers, cap_markers;
};
#define DLQ_SET_INIT                   \
	{                              \
		NULL, 0, 0, NULL, 0, 0 \
	}
/* Adds a parsed record (taking l's key, reason and message); false when the set is full or memory
 * ran out (l is then cleaned up). */
bool dlq_set_add_letter(struct dlq_set *s, struct dlq_letter *l) __attribute__((warn_unused_result));
bool dlq_set_add_marker(struct dlq_set *s, const struct dlq_marker *mk) __attribute__((warn_unused_result));
/* Sorts the letters by partition and offset, and sets replayed and replayed_to of every letter a
 * marker names. */
void dlq_set_mark_replayed(struct dlq_set *s);
void dlq_set_cleanup(struct dlq_set *s);

/* Why the letter cannot go back to its topic, or NULL when it can: dlq_topic must be exactly its
 * source topic + ".dlq" (a header cannot send records to any other topic), and it must have been a
 * record of that topic (a partition and an offset: a record refused before it was ever published,
 * such as an ERP record stock-sync could not take, is fixed at its source instead). */
const char *dlq_letter_unreplayable(const struct dlq_letter *l, const char *dlq_topic);

/* "P:N" (partition 0..INT32_MAX, offset 0..INT64_MAX); false when s is not that. */
bool dlq_position_parse(const char *s, int32_t *partition, int64_t *offset) __attribute__((warn_unused_result));

/* The headers a replayed record carries: orig's (in order) without any dlq-*, plus dlq-replayed-from
 * "dlq_topic:P:N". The event id stays: a service never claims the event id of a record it dead-letters
 * (docs/ARCHITECTURE.md, delivery). NULL when memory ran out. The caller owns the result. */
rd_kafka_headers_t *dlq_replay_headers(const rd_kafka_headers_t *orig, const char *dlq_topic, int32_t partition,
				       int64_t offset) __attribute__((warn_unused_result));

/* The headers of the marker of letter l, replayed to "to" ("topic:P:N"), at time_us, by whom. */
rd_kafka_headers_t *dlq_marker_headers(const struct dlq_letter *l, const char *to, int64_t time_us, const char *by)
	__attribute__((warn_unused_result));

/* "2024-05-01T12:34:56.789Z" for unix milliseconds (ms < 0: "-"). */
void dlq_time_format(int64_t ms, char *out, size_t outlen);

/* Writes n bytes of untrusted text: as a JSON string (quoted; control characters escaped, bytes that
 * are not UTF-8 as U+FFFD), or for a line of text (printable ASCII and valid UTF-8 as they are,
 * anything else as \xNN, and backslash as \\, so a line never breaks or fakes a field). */
void dlq_json_string(FILE *fp, const void *s, size_t n);
void dlq_text_string(FILE *fp, const void *s, size_t n);

#endif
