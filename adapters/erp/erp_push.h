/* erp_push — the contract of an ERP pushing changes to erpsync, in one place: stock-sync (and
 * order-sync) verify with it, the sandbox ERP signs with it.
 *
 *   POST <receiver>   body: one stock record, or {"items": [records]} (the REST API's item shape);
 *                     or one item of the order or complaint change feed
 *   X-ERP-Event:      what the body is: stock.changed, order.status_changed, complaint.decided
 *                     (absent: stock.changed, as before the header existed)
 *   X-ERP-Timestamp:  unix seconds at signing
 *   X-ERP-Signature:  hex(HMAC-SHA256(secret, "<timestamp>.<raw body>")), 64 lower-case digits
 *
 * The event header is not signed: a body moved to another event fails that event's parsing, since
 * the shapes have no member in common that is required by both.
 *
 * Signing the timestamp with the body means a captured push cannot be sent again once its
 * timestamp is out of the receiver's tolerance, nor given a fresh timestamp without the secret. */
#ifndef ERPSYNC_ERP_PUSH_H
#define ERPSYNC_ERP_PUSH_H

#include <stdbool.h>
#include <stddef.h>

#include "erp.h"

#define ERP_PUSH_EVENT_HEADER     "X-ERP-Event"
#define ERP_PUSH_EVENT_STOCK      "stock.changed"
#define ERP_PUSH_EVENT_ORDER      "order.status_changed"
#define ERP_PUSH_EVENT_COMPLAINT  "complaint.decided"
#define ERP_PUSH_TIMESTAMP_HEADER "X-ERP-Timestamp"
#define ERP_PUSH_SIGNATURE_HEADER "X-ERP-Signature"
#define ERP_PUSH_TIMESTAMP_MAX    24 /* room for the decimal timestamp and its NUL */
#define ERP_PUSH_SIGNATURE_MAX    65 /* 64 hex digits and a NUL */

/* Signs body at timestamp (unix seconds): ts and sig receive the two header values. */
bool erp_push_sign(const char *secret, long long timestamp, const char *body, size_t len,
		   char ts[ERP_PUSH_TIMESTAMP_MAX], char sig[ERP_PUSH_SIGNATURE_MAX])
	__attribute__((warn_unused_result));

/* true when sig is the signature of body at the timestamp header's value under secret. */
bool erp_push_verify(const char *secret, const char *timestamp, const char *body, size_t len, const char *sig)
	__attribute__((warn_unused_result));

/* true when the timestamp header (decimal unix seconds, nothing else) is within tolerance_ms of
 * now_ms, either side. */
bool erp_push_timestamp_ok(const char *timestamp, long long now_ms, long long tolerance_ms)
	__attribute__((warn_unused_result));

/* Parses a pushed body into records (the page's cursor fields stay empty). */
bool erp_push_parse(const char *body, size_t len, struct erp_stock_page *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
