/* erp_check — the order API's checks of a request body's members, each filling a reason that the
 * caller answers as 400 (a member of the wrong type or out of range) and the query parameters
 * both the order and the case endpoints read. */
#ifndef SANDBOX_ERP_CHECK_H
#define SANDBOX_ERP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "httpd.h"

#define ERP_CHECK_MONEY_MAX 1000000000000000LL /* 10^15 minor units: no order is worth more */
#define ERP_CHECK_QTY_MAX   1000000000000LL    /* thousandths: a billion units */

/* A string member of at most max bytes without NUL; required: non-empty. *out: its text, or ""
 * when absent and not required. */
bool erp_check_text(const json_t *obj, const char *key, size_t max, bool required, const char **out, char *why,
		    size_t len) __attribute__((warn_unused_result));
/* A string member that is one of the '|'-separated words ("net|gross"); def when absent (NULL:
 * required). */
bool erp_check_word(const json_t *obj, const char *key, const char *words, const char *def, const char **out, char *why,
		    size_t len) __attribute__((warn_unused_result));
/* An integer member within [min, max]; required, or def when absent. */
bool erp_check_int(const json_t *obj, const char *key, int64_t min, int64_t max, bool required, int64_t def,
		   int64_t *out, char *why, size_t len) __attribute__((warn_unused_result));
/* An optional address object: every member a string of at most 200 bytes. */
bool erp_check_address(const json_t *obj, const char *key, char *why, size_t len) __attribute__((warn_unused_result));

/* An RFC 3339 UTC time ("2026-12-04T18:00:00Z", fraction optional) into unix microseconds. */
bool erp_check_time(const char *s, int64_t *us);
/* A decimal query parameter in [min, max]; def when absent. */
bool erp_check_query_u64(const struct httpd_req *req, const char *name, uint64_t def, uint64_t min, uint64_t max,
			 uint64_t *out);

/* {"items": arr} with 200, or 500 when arr is NULL. */
void erp_check_items(struct httpd_resp *resp, json_t *arr);

#endif
