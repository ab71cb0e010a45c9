/* woo_stats — the call statistics only the shop keeps, beside the fault switch and per-status
 * counts of sandbox_fault: items written with and without a change, batch calls, calls per
 * route. Thread-safe. */
#ifndef SANDBOX_WOO_STATS_H
#define SANDBOX_WOO_STATS_H

#include <stdbool.h>

#include <jansson.h>

struct woo_stats;

struct woo_stats *woo_stats_new(void) __attribute__((warn_unused_result));
void woo_stats_free(struct woo_stats *s); /* NULL-safe */

/* Counts one answered API call. route is a static label ("PUT /products/{id}"); NULL for no
 * route. batch: a batch endpoint. changed / unchanged: items the call wrote that changed at
 * least one field / that it wrote with the values they already had. */
void woo_stats_count(struct woo_stats *s, const char *route, bool batch, unsigned long changed,
		     unsigned long unchanged);
/* Adds "by_route":{...},"writes","noop_writes","batch_calls" to j; false when out of memory. */
bool woo_stats_add_json(struct woo_stats *s, json_t *j) __attribute__((warn_unused_result));

/* Zeroes the statistics. */
void woo_stats_reset(struct woo_stats *s);

#endif
