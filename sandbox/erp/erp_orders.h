/* erp_orders — the sandbox ERP's customers and orders (README.md, "Orders"):
 *   GET  /api/v1/customers?nip=|email=        POST /api/v1/customers
 *   POST /api/v1/orders                       GET  /api/v1/orders?external_ref= | ?created_from=&created_to=
 *   GET  /api/v1/orders/<id>                  POST /api/v1/orders/<id>/cancel
 *   GET  /api/v1/order-changes?since=&limit=
 * An order is checked as an ERP would: every item's SKU in the catalogue (the stock records' SKUs
 * and those added by POST /sandbox/skus), a deliverable address when it is shipped, lines that add
 * up to the totals; a refusal is 422 with the cause in "error". */
#ifndef SANDBOX_ERP_ORDERS_H
#define SANDBOX_ERP_ORDERS_H

#include <stdbool.h>

#include "erp_docs.h"
#include "httpd.h"

struct erp_api;

/* Serves rest (the path after /api/v1/) when it is one of the endpoints above; false otherwise. */
bool erp_orders_route(const struct erp_api *api, const struct httpd_req *req, const char *rest,
		      struct httpd_resp *resp);

/* GET of a change feed (order-changes, complaint-changes): ?since=<cursor>&limit=1..1000. */
void erp_orders_feed(const struct erp_api *api, enum erp_docs_feed feed, const struct httpd_req *req,
		     struct httpd_resp *resp);

/* Checks an order body as POST /api/v1/orders does, without storing it (pure but for the
 * catalogue: known(ud, sku) tells whether the ERP sells a SKU). 0 when it is acceptable, else the
 * status (400 or 422) with the code and the message. *gross: the order's gross total. */
int erp_orders_check(const json_t *body, bool (*known)(void *ud, const char *sku), void *ud, int64_t *gross, char *code,
		     size_t codelen, char *msg, size_t msglen);

#endif
