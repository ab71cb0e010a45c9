/* erp_api — the sandbox ERP's HTTP face: the stock API under /api/v1/, the order API (erp_orders:
 * customers, orders, their change feed; erp_cases: payments, returns, complaints) and, through
 * erp_admin, the sandbox's own controls under /sandbox/. All take the same Bearer token.
 * See README.md in this folder for the endpoints. */
#ifndef SANDBOX_ERP_API_H
#define SANDBOX_ERP_API_H

#include <stdbool.h>

#include <jansson.h>

#include "erp_docs.h"
#include "erp_store.h"
#include "erp_webhook.h"
#include "httpd.h"
#include "sandbox_fault.h"

/* What the handlers share; filled by main and given to httpd as route data (nothing owned). */
struct erp_api {
	struct erp_store *store;
	struct erp_docs *docs;       /* customers, orders, payments, returns, complaints */
	struct sandbox_fault *fault; /* the fault switch and call statistics */
	const char *token;           /* the Bearer token (secret) */
	long long demo;              /* what POST /sandbox/reset loads again */
	const char *seed_file;
	struct erp_webhook *push;       /* the webhook; NULL when SANDBOX_ERP_WEBHOOK_URL is unset */
	struct erp_webhook *order_push; /* order and complaint changes; NULL without
					 * SANDBOX_ERP_ORDER_WEBHOOK_URL */
};

/* The faults the API knows: "none", "500" (500 with an error body), "429" (429 with
 * Retry-After), "slow" (answered normally after delay_ms), "malformed" (200 with a truncated
 * body or items missing fields; "variant" truncated or missing_fields, else in turn), "repeat"
 * (the changes, but next_cursor = since and has_more true: a cursor that never advances), and
 * for writes only: "lost_answer" (carried out, then the connection is closed without an answer)
 * and "timeout_after_commit" (carried out, answered only after delay_ms). */
extern const struct sandbox_fault_modes erp_api_faults;
/* Those of them only writes take (sandbox_fault_writes_only). */
extern const unsigned erp_api_write_faults;

/* Registers the /api/v1/ and /sandbox/ prefixes. */
bool erp_api_routes(struct erp_api *api, struct httpd *h) __attribute__((warn_unused_result));

/* true when the request carries "Authorization: Bearer <token>"; otherwise fills a 401. */
bool erp_api_authorized(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp);
/* status + {"error": code, "code": code, "message": message}: "error" is the order API's name of
 * the code, "code" the stock API's, and every answer carries both. */
void erp_api_error(struct httpd_resp *resp, int status, const char *code, const char *message);
/* The request's body as a JSON object; NULL with a 400 answered when it is not one. */
json_t *erp_api_body(const struct httpd_req *req, struct httpd_resp *resp);
/* Answers status with body as compact JSON; takes the reference (NULL: 500 out of memory). */
void erp_api_json(struct httpd_resp *resp, int status, json_t *body);
/* A stock record as the API shows it (new reference). */
json_t *erp_api_stock_json(const struct erp_stock *s);

#endif
