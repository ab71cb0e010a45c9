/* woo_admin — everything under /sandbox/: what only a sandbox has. Tests arm faults, read call
 * statistics, the stock of every SKU and how often each SKU's stock was written, create products
 * directly and reset the shop to its starting catalogue. Same consumer key and secret as the
 * API; never faulted and never counted in the API statistics. */
#ifndef SANDBOX_WOO_ADMIN_H
#define SANDBOX_WOO_ADMIN_H

#include "httpd.h"

/* The httpd handler for the /sandbox/ prefix; route data is the struct woo_api. */
void woo_admin_handle(const struct httpd_req *req, struct httpd_resp *resp);

#endif
