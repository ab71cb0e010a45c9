/* woo_control — what a test controls and observes of the sandbox shop's API traffic: the fault
 * switch (the next N API calls fail in a chosen way) and the call statistics (calls, writes,
 * batch calls, per status, per route). Thread-safe. */
#ifndef SANDBOX_WOO_CONTROL_H
#define SANDBOX_WOO_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum woo_fault_mode {
	WOO_FAULT_NONE = 0,
	WOO_FAULT_500,        /* WordPress' "critical error" answer */
	WOO_FAULT_429,        /* 429 with Retry-After */
	WOO_FAULT_SLOW,       /* answered normally after delay_ms */
};

struct woo_fault_shot {
	enum woo_fault_mode mode;
	long retry_after_s;
	long delay_ms;
};

struct woo_control;

struct woo_control *woo_control_new(void);
void woo_control_free(struct woo_control *c);     /* NULL-safe */

/* Arms the switch from {"mode","count","retry_after","delay_ms"}; count -1 = until "none". A bad
 * body leaves the switch as it was. */
bool woo_control_set_fault(struct woo_control *c, const json_t *body, char *err, size_t errlen)
	__attribute__((warn_unused_result));
struct woo_fault_shot woo_control_take_fault(struct woo_control *c);
json_t *woo_control_fault_json(struct woo_control *c);

/* Counts one answered API call. route is a static label ("PUT /products/{id}"); NULL for no
 * route. batch: a batch endpoint. changed / unchanged: items the call wrote that changed at
 * least one field / that it wrote with the values they already had. */
void woo_control_count(struct woo_control *c, const char *route, int status, bool batch,
		       unsigned long changed, unsigned long unchanged);
/* {"calls","writes","noop_writes","batch_calls","by_status":{...},"by_route":{...}}
 * (new reference). */
json_t *woo_control_stats_json(struct woo_control *c);

/* Disarms the fault and zeroes the statistics. */
void woo_control_reset(struct woo_control *c);

#endif
