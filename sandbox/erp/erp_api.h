/* erp_api — the sandbox ERP's HTTP face: the stock API under /api/v1/ and, through erp_admin,
 * the sandbox's own controls under /sandbox/. Both take the same Bearer token.
 * See README.md in this folder for the endpoints. */
#ifndef SANDBOX_ERP_API_H
#define SANDBOX_ERP_API_H

#include <stdbool.h>

#include <jansson.h>

#include "erp_store.h"
#include "erp_webhook.h"
#include "httpd.h"
#include "sandbox_fault.h"

/* What the handlers share; filled by main and given to httpd as route data (nothing owned). */
struct erp_api {
	struct erp_store *store;
	struct sandbox_fault *fault; /* the fault switch and call statistics */
	const char *token;           /* the Bearer token (secret) */
	long long demo;              /* what POST /sandbox/reset loads again */
	const char *seed_file;
	struct erp_webhook *push; /* the webhook; NULL when SANDBOX_ERP_WEBHOOK_URL is unset */
};

/* The faults the API knows: "none", "500" (500 with an error body), "429" (429 with
 * Retry-After), "slow" (answered normally after delay_ms), "malformed" (200 with a truncated
 * body or items missing fields; "variant" truncated or missing_fields, else in turn) and "repeat"
 * (the changes, but next_cursor = since and has_more true: a cursor that never advances). */
extern const struct sandbox_fault_modes erp_api_faults;

/* Registers the /api/v1/ and /sandbox/ prefixes. */
bool erp_api_routes(struct erp_api *api, struct httpd *h) __attribute__((warn_unused_result));

/* true when the request carries "Authorization: Bearer <token>"; otherwise fills a 401. */
bool erp_api_authorized(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp);
/* Answers status with body as compact JSON; takes the reference (NULL: 500 out of memory). */
void erp_api_json(struct httpd_resp *resp, int status, json_t *body);
/* A stock record as the API shows it (new reference). */
json_t *erp_api_stock_json(const struct erp_stock *s);

#endif
