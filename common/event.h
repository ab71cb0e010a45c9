/* event — what every message carries: an event id (UUID v7: time-ordered), the source time, W3C trace context. */
#ifndef ERPSYNC_EVENT_H
#define ERPSYNC_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define EVENT_ID_LEN    37 /* 36 characters + NUL */
#define TRACEPARENT_LEN 56 /* "00-" 32 hex "-" 16 hex "-01" + NUL */

void event_id_new(char out[EVENT_ID_LEN]);
/* A new trace (fresh trace id and span id), sampled. */
void traceparent_new(char out[TRACEPARENT_LEN]);
/* A child span of parent: same trace id, new span id. A malformed parent starts a new trace. */
void traceparent_child(const char *parent, char out[TRACEPARENT_LEN]);
bool traceparent_valid(const char *s);
/* Copies the 32-hex trace id of a valid traceparent into out[33]; "" otherwise. */
void traceparent_trace_id(const char *tp, char out[33]);

int64_t event_now_us(void);       /* wall clock, unix microseconds */
int64_t event_monotonic_us(void); /* for measuring durations */
/* The time ms milliseconds from now on clock (CLOCK_MONOTONIC for a condition variable set to it,
 * CLOCK_REALTIME for pthread_timedjoin_np and default conditions), as a deadline for a timed wait. */
struct timespec event_deadline(clockid_t clock, long ms);

#endif
