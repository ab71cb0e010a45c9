/* order_intake — a shop order taken in, whichever way it came (a webhook, the polling backstop,
 * reconciliation): in one transaction the delivery is recorded, the order's row is brought up to
 * date and its OrderEvent (and, when its payment changed, a Payment) queued in the outbox. A
 * webhook is answered 2xx only once that has committed. Duplicates — a delivery id seen before,
 * or an order whose modification time is not newer than the one kept — change nothing. */
#ifndef ORDER_INTAKE_H
#define ORDER_INTAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "erpsync/v1/meta.pb-c.h"

struct order_topics;
struct pg;
struct shop_order;

enum order_intake_result {
	ORDER_INTAKE_FAILED = -1,   /* PostgreSQL failed: nothing recorded; err says why */
	ORDER_INTAKE_DUPLICATE = 0, /* seen before: nothing new recorded */
	ORDER_INTAKE_TAKEN = 1,     /* recorded and queued */
};

struct order_intake_in {
	const char *shop_id;
	const struct shop_order *order;
	const char *delivery_id; /* the webhook's delivery id; NULL when not a webhook */
	bool deleted;            /* the shop deleted the order (order.deleted) */
	Erpsync__V1__EventOrigin origin;
	const char *traceparent; /* NULL: a new trace */
	bool force;              /* publish again even when not newer (reconciliation found it missing) */
};

enum order_intake_result order_intake(struct pg *db, const struct order_topics *t, const struct order_intake_in *in,
				      char *err, size_t errlen) __attribute__((warn_unused_result));

/* An order the shop deleted, known only by its id (WooCommerce's order.deleted body): its last
 * known state goes out as DELETED. DUPLICATE when the order was never seen or is deleted already. */
enum order_intake_result order_intake_deleted(struct pg *db, const struct order_topics *t, const char *shop_id,
					      const char *external_id, const char *delivery_id, char *err,
					      size_t errlen) __attribute__((warn_unused_result));

#endif
