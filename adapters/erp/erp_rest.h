/* erp_rest — the REST ERP API (sandbox/erp/README.md): GET /api/v1/stock?since=<cursor>&limit=N
 * with a Bearer token, answering {"items": [...], "next_cursor": "...", "has_more": bool}; and the
 * order API (erp_rest_orders.h), which erp_rest_new serves as erp->orders. */
#ifndef ERPSYNC_ERP_REST_H
#define ERPSYNC_ERP_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erp.h"

/* The REST API. token is a Bearer token (secret). rate: requests per second (0 = none), shared by
 * every erp_rest in the process (budget "erp"). */
struct erp *erp_rest_new(const char *base_url, const char *token, double rate_per_sec);

/* Parses pushed stock records: one record object, or {"items": [records]} (an ERP webhook). All
 * or nothing: a record that would be a reject on a page fails the whole push, naming it. */
bool erp_rest_parse_items(const char *body, size_t len, struct erp_stock_page *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Parses a stock-changes JSON body (exposed for unit tests): false when the answer is malformed;
 * records with values out of range go to out->rejects. */
bool erp_rest_parse_stock(const char *body, size_t len, struct erp_stock_page *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* RFC 3339 UTC ("2026-11-26T14:00:00.123456Z", or "+00:00") -> unix microseconds. */
bool erp_rest_parse_time(const char *s, int64_t *us) __attribute__((warn_unused_result));

#endif
