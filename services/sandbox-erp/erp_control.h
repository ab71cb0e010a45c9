/* erp_control — what a test controls and observes of the sandbox ERP's API traffic: the fault
 * switch (the next N API calls fail in a chosen way) and the call statistics.
 * Thread-safe: handlers on every server thread take faults and count calls. */
#ifndef SANDBOX_ERP_CONTROL_H
#define SANDBOX_ERP_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum erp_fault_mode {
	ERP_FAULT_NONE = 0,
	ERP_FAULT_500,        /* 500 with an error body */
	ERP_FAULT_429,        /* 429 with Retry-After */
	ERP_FAULT_SLOW,       /* answered normally after delay_ms */
	ERP_FAULT_MALFORMED,  /* 200 with a truncated body or items missing fields */
};

enum erp_malformed { ERP_MALFORMED_TRUNCATED, ERP_MALFORMED_MISSING_FIELDS };

/* One call's share of the active fault. */
struct erp_fault_shot {
	enum erp_fault_mode mode;
	long retry_after_s;
	long delay_ms;
	enum erp_malformed malformed;
};

struct erp_control;

struct erp_control *erp_control_new(void);
void erp_control_free(struct erp_control *c);     /* NULL-safe */

/* Arms the switch from a JSON body {"mode","count","retry_after","delay_ms","variant"}; a bad
 * body leaves the switch as it was and says why in err. */
bool erp_control_set_fault(struct erp_control *c, const json_t *body, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Consumes one call's worth of the active fault (mode NONE when none is armed). */
struct erp_fault_shot erp_control_take_fault(struct erp_control *c);
/* The armed fault as JSON (new reference). */
json_t *erp_control_fault_json(struct erp_control *c);

/* Counts one answered API call. */
void erp_control_count(struct erp_control *c, int status);
/* {"calls":N,"by_status":{"200":N,...}} (new reference). */
json_t *erp_control_stats_json(struct erp_control *c);

/* Disarms the fault and zeroes the statistics. */
void erp_control_reset(struct erp_control *c);

#endif
