/* order_event — the messages order-sync publishes, queued in the outbox inside the caller's
 * transaction: OrderEvent (shop.orders.v1, erp.orders.v1), Payment (payments.v1) and Return
 * (returns.v1), each keyed "<shop>|<order id>" so that one order's records stay in order. */
#ifndef ORDER_EVENT_H
#define ORDER_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/payment.pb-c.h"
#include "erpsync/v1/return.pb-c.h"
#include "event.h"

struct pg;

/* The topics order-sync writes and reads. */
struct order_topics {
	const char *shop_orders; /* shop.orders.v1 */
	const char *erp_orders;  /* erp.orders.v1 */
	const char *payments;    /* payments.v1 */
	const char *returns;     /* returns.v1 */
	const char *shipments;   /* shipments.v1 */
	const char *invoices;    /* invoices.v1 */
};

/* Storage of a new event's id and trace context; must outlive the meta pointing into it. */
struct order_event_ids {
	char id[EVENT_ID_LEN];
	char traceparent[TRACEPARENT_LEN];
};

/* Fills meta: a new event id, a child span of parent (NULL: a new trace), the source's time and
 * system ("shop:woo-a", "erp:rest"), how it was learned, and the event that caused it (NULL: none). */
void order_event_meta(Erpsync__V1__EventMeta *meta, struct order_event_ids *ids, const char *parent,
		      int64_t occurred_at, const char *source_system, Erpsync__V1__EventOrigin origin,
		      const char *causation_id);

bool order_event_queue_order(struct pg *db, const char *topic, const Erpsync__V1__OrderEvent *ev, char *err,
			     size_t errlen) __attribute__((warn_unused_result));
bool order_event_queue_payment(struct pg *db, const char *topic, const Erpsync__V1__Payment *p, char *err,
			       size_t errlen) __attribute__((warn_unused_result));
bool order_event_queue_return(struct pg *db, const char *topic, const Erpsync__V1__Return *r, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
