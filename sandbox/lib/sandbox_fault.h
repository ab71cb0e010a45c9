/* sandbox_fault — what a test controls and observes of a sandbox peer's API traffic: the fault
 * switch (the next N API calls fail in a way the test chooses) and the count of answered calls
 * by status. The peer names its faults; what a fault does to a call is the peer's business.
 * Thread-safe: handlers on every server thread take faults and count calls. */
#ifndef ERPSYNC_SANDBOX_FAULT_H
#define ERPSYNC_SANDBOX_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Index 0 of every mode list: nothing armed. */
#define SANDBOX_FAULT_NONE 0

/* The faults a peer knows, as "mode" names them; modes[0] must be "none". variants: the forms a
 * fault may take ("variant" in the body; absent: the calls take them in turn); NULL when the
 * peer has none, and "variant" is then neither read nor shown. Kept by pointer: static storage. */
struct sandbox_fault_modes {
	const char *const *modes;
	size_t nmodes;
	const char *const *variants;
	size_t nvariants;
};

/* One call's share of the armed fault. */
struct sandbox_fault_shot {
	int mode; /* index into modes; SANDBOX_FAULT_NONE when none is armed */
	long retry_after_s;
	long delay_ms;
	int variant; /* index into variants (0 when the peer has none) */
};

struct sandbox_fault;

struct sandbox_fault *sandbox_fault_new(const struct sandbox_fault_modes *m) __attribute__((warn_unused_result));
void sandbox_fault_free(struct sandbox_fault *f); /* NULL-safe */
/* Bit i set: mode i is taken only by calls that write (not GET or HEAD), so that the reads a
 * client makes around a write do not use it up (a lost answer is a write's). Set before the
 * switch is shared between threads. */
void sandbox_fault_writes_only(struct sandbox_fault *f, unsigned modes);

/* Arms the switch from a JSON body {"mode","count","retry_after","delay_ms"[,"variant"]
 * [,"path"][,"method"]}; count -1: until "none" is armed; count 0 disarms. "path" (a prefix such
 * as "/api/v1/orders") and "method" ("POST") narrow the calls that take the fault (default: every
 * call). A bad body leaves the switch as it was and says why in err. */
bool sandbox_fault_arm(struct sandbox_fault *f, const json_t *body, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Consumes one call's share of the armed fault (mode SANDBOX_FAULT_NONE when none is armed). */
struct sandbox_fault_shot sandbox_fault_take(struct sandbox_fault *f);
/* The same for a call of method to path: a call the armed "path", "method" or writes_only
 * rule leaves out gets SANDBOX_FAULT_NONE and uses nothing up. */
struct sandbox_fault_shot sandbox_fault_take_call(struct sandbox_fault *f, const char *method, const char *path);
/* {"mode","remaining","retry_after","delay_ms"[,"variant"][,"path"][,"method"]} (new reference;
 * NULL: no memory). */
json_t *sandbox_fault_json(struct sandbox_fault *f) __attribute__((warn_unused_result));

/* Counts one answered API call. */
void sandbox_fault_count(struct sandbox_fault *f, int status);
/* {"by_status":{"200":N,...},"calls":N} (new reference; NULL: no memory). */
json_t *sandbox_fault_stats_json(struct sandbox_fault *f) __attribute__((warn_unused_result));

/* Disarms the fault and zeroes the statistics (the armed variant, retry_after and delay_ms
 * stay, as GET /sandbox/faults shows them). */
void sandbox_fault_reset(struct sandbox_fault *f);

#endif
