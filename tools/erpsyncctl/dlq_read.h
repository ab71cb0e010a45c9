/* dlq_read — a dead-letter topic read to its end, as no consumer group: every partition is assigned
 * from a start offset and read until librdkafka reports its end (for read_committed, the last stable
 * offset: records of a transaction still open, or aborted, are not seen), within one time bound.
 * Nothing is committed, and no group is joined, so reading never moves anybody's offsets. */
#ifndef ERPSYNC_DLQ_READ_H
#define ERPSYNC_DLQ_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dlq_letter.h"

struct dlq_read_opts {
	const char *brokers;
	const char *topic;
	int64_t since;  /* first offset read in every partition (older ones are gone to retention: from there) */
	int timeout_ms; /* for the whole read */
	/* Whether a letter's message is kept (for a replay); NULL: none is. */
	bool (*keep)(const struct dlq_letter *l, void *ud);
	void *keep_ud;
};

/* Adds what it read to s (letters sorted by partition and offset, marked when replayed). false with
 * the reason in err when the topic could not be read to its end in time. */
bool dlq_read(const struct dlq_read_opts *o, struct dlq_set *s, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
