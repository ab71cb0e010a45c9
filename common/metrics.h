/* metrics — a process-wide registry of counters, gauges and histograms with bounded labels,
 * rendered in the Prometheus text exposition format (version 0.0.4).
 *
 * Families are declared once at start-up; a series (one combination of label values) is looked up
 * once and its handle kept, so the hot path is a single atomic add. A family holds at most
 * METRICS_MAX_SERIES series: further label combinations fold into one series whose label values
 * are all "_overflow", and erpsync_metrics_series_dropped_total counts them — labels stay bounded
 * even when a caller passes something unbounded by mistake. All functions are thread-safe. */
#ifndef ERPSYNC_METRICS_H
#define ERPSYNC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_MAX_LABELS  4
#define METRICS_MAX_SERIES  512
#define METRICS_MAX_BUCKETS 16

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_family;
struct metric_series;

/* Names get the "erpsync_" prefix added by the caller (write it in full: greppable).
 * labels: up to METRICS_MAX_LABELS names, NULL-terminated list or NULL for none.
 * buckets: upper bounds for a histogram, ascending (NULL elsewhere); +Inf is implicit.
 * Declaring the same name twice returns the first family (types must match, else NULL). */
struct metric_family *metrics_counter(const char *name, const char *help, const char *const *labels);
struct metric_family *metrics_gauge(const char *name, const char *help, const char *const *labels);
struct metric_family *metrics_histogram(const char *name, const char *help, const char *const *labels,
					const double *buckets, size_t nbuckets);

/* The series for these label values (as many as the family has label names; NULL when none).
 * Never NULL for a valid family: overflow folds into the "_overflow" series. */
struct metric_series *metrics_series(struct metric_family *f, const char *const *values);

/* Shorthands for a family without labels / with one or two label values. */
struct metric_series *metrics_series0(struct metric_family *f);
struct metric_series *metrics_series1(struct metric_family *f, const char *v1);
struct metric_series *metrics_series2(struct metric_family *f, const char *v1, const char *v2);

void metrics_inc(struct metric_series *s);               /* counter += 1 */
void metrics_add(struct metric_series *s, double v);     /* counter/gauge += v (v >= 0 for counters) */
void metrics_set(struct metric_series *s, double v);     /* gauge = v */
void metrics_observe(struct metric_series *s, double v); /* histogram sample */
double metrics_value(const struct metric_series *s);     /* counter/gauge value, histogram count */

/* Additions that belong to a database transaction: kept until it commits (metrics_deferred_commit),
 * dropped when it rolls back (metrics_deferred_discard), so that a transaction retried after a
 * failure counts what it did once. Additions to the same series are summed; the set grows as
 * needed, and when memory runs out an addition is applied at once (counted, if perhaps twice,
 * rather than lost); with d NULL it is applied at once. Not thread-safe: one per transaction.
 * Zero-initialise. */
struct metrics_deferred {
	struct metrics_deferred_item {
		struct metric_series *s;
		double v;
	} * item;
	size_t n, cap;
};
void metrics_deferred_add(struct metrics_deferred *d, struct metric_series *s, double v);
void metrics_deferred_commit(struct metrics_deferred *d);
void metrics_deferred_discard(struct metrics_deferred *d);
void metrics_deferred_free(struct metrics_deferred *d);

/* Renders every family into out (appended). false only when out of memory. */
bool metrics_render(struct buf *out) __attribute__((warn_unused_result));

/* Frees the registry (end of process, or between unit tests). */
void metrics_reset(void);

/* Common bucket sets, in seconds. */
extern const double metrics_latency_buckets[]; /* 1 ms .. 30 s */
extern const size_t metrics_latency_nbuckets;

#endif
