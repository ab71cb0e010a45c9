/* erp_admin — everything under /sandbox/: what only a sandbox has. Tests set and adjust stock, arm faults, read
 * call statistics and reset the ERP to its starting catalogue. Same Bearer token as the API;
 * never faulted and never counted in the API statistics. */
#ifndef SANDBOX_ERP_ADMIN_H
#define SANDBOX_ERP_ADMIN_H

#include "httpd.h"

/* The httpd handler for the /sandbox/ prefix; route data is the struct erp_api. */
void erp_admin_handle(const struct httpd_req *req, struct httpd_resp *resp);

#endif
