/* order_reconcile — shop orders compared with ERP orders over a time window, every
 * ORDER_RECONCILE_INTERVAL and on demand (POST /admin/reconcile), by one instance at a time (leader
 * lock "order-sync:reconcile"). For each shop order the shop lists as modified within
 * ORDER_RECONCILE_WINDOW in a booking status, the ERP orders carrying its reference are counted:
 * none is a missing order (taken in again, so that it is booked), more than one a duplicate, a
 * total other than the shop's a mismatch. Each finding is a log line, a row of reconcile_finding,
 * a count in erpsync_order_reconcile_findings_total, and part of GET /admin/reconcile. */
#ifndef ORDER_RECONCILE_H
#define ORDER_RECONCILE_H

#include <stdbool.h>

struct buf;
struct order_relay;
struct order_shops;
struct order_topics;

struct order_reconcile_opts {
	const char *dsn;
	const struct order_topics *topics;
	const struct order_shops *shops;
	struct order_relay *relay;
	const char *erp_url;
	const char *erp_token;
	double erp_rate;
	const char *book_statuses;
	long long interval_ms;
	long long window_ms;
};

struct order_reconcile;

struct order_reconcile *order_reconcile_start(const struct order_reconcile_opts *o);
void order_reconcile_stop(struct order_reconcile *r); /* NULL-safe */
/* Asks for a run now; false while one is running or requested. Any thread. */
bool order_reconcile_request(struct order_reconcile *r);
/* The last run and its findings as JSON. Any thread. */
bool order_reconcile_status(struct order_reconcile *r, struct buf *out) __attribute__((warn_unused_result));

#endif
