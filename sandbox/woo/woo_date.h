/* woo_date — dates as WooCommerce's REST API writes and reads them: "2026-12-04T18:05:54" (whole
 * seconds, no zone; the *_gmt fields in UTC, the others in the site's zone, which is UTC in the
 * sandbox), and the ISO 8601 of a query parameter as WordPress' rest_parse_date takes it. Pure. */
#ifndef SANDBOX_WOO_DATE_H
#define SANDBOX_WOO_DATE_H

#include <stdbool.h>
#include <stdint.h>

#define WOO_DATE_LEN 20 /* "YYYY-MM-DDTHH:MM:SS" and a NUL */

/* unix seconds UTC into "2026-12-04T18:05:54". */
void woo_date_format(int64_t unix_s, char out[WOO_DATE_LEN]);

/* "2026-12-04T18:05:54", optionally with a fraction (ignored: WordPress keeps whole seconds) and a
 * zone ("Z", "+01:00", "-0530"); without a zone the time is UTC. false for anything else. */
bool woo_date_parse(const char *s, int64_t *unix_s) __attribute__((warn_unused_result));

#endif
