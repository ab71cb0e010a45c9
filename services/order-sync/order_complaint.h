/* order_complaint — a complaint (warranty claim, "reklamacja") on an order, filed by the shop's
 * complaint form or an operator:
 *
 *   POST /admin/complaints  {"shop": "woo-a", "order_id": "1042", "complaint_id": "RMA-7" (optional),
 *                            "reason": "defective", "requested_remedy": "repair|replacement|refund|
 *                            price_reduction", "note": "...", "lines": [{"line_id": "12",
 *                            "quantity": 1, "reason": "the zip broke"}]}
 *
 * It is kept as a case and published on returns.v1 (kind COMPLAINT); the consumer opens it in the
 * ERP once the order is booked; the ERP's decision comes back through its feed (order_poller.h),
 * reaches the customer as one note, and an accepted refund flows on as a return of its own. */
#ifndef ORDER_COMPLAINT_H
#define ORDER_COMPLAINT_H

#include <stddef.h>

struct buf;
struct order_shops;
struct order_topics;
struct pg;

/* Files the complaint in body; returns the HTTP status (202 filed, 200 filed before, 400/404/422
 * with err, 503 database). The answer's body goes to out. */
int order_complaint_file(struct pg *db, const struct order_topics *t, const struct order_shops *shops, const char *body,
			 size_t len, struct buf *out, char *err, size_t errlen);

#endif
