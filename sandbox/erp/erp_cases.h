/* erp_cases — what follows an order in the sandbox ERP (README.md, "Payments, returns,
 * complaints"):
 *   GET/POST /api/v1/payments     GET/POST /api/v1/returns     GET/POST /api/v1/complaints
 *   GET /api/v1/complaint-changes?since=&limit=
 * Each GET is ?external_ref=X (every match); each POST names its order by order_id (404 when
 * there is none). A return may not refund more than what is left of the order's gross total. */
#ifndef SANDBOX_ERP_CASES_H
#define SANDBOX_ERP_CASES_H

#include <stdbool.h>

#include "httpd.h"

struct erp_api;

/* Serves rest (the path after /api/v1/) when it is one of the endpoints above; false otherwise. */
bool erp_cases_route(const struct erp_api *api, const struct httpd_req *req, const char *rest, struct httpd_resp *resp);

#endif
