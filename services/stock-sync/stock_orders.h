/* stock_orders — reservations: an order placed in any shop (shop.orders.v1) holds its quantities
 * back from every shop at once, until the ERP has booked it or it is cancelled (erp.orders.v1 or
 * the shop's own status). An order for more than its shop showed as sellable when it was placed
 * raises one oversell alert (stock.alerts.v1). Returns (returns.v1) are recorded as expected: the
 * goods count again when the ERP reports them back in stock, not before. */
#ifndef STOCK_ORDERS_H
#define STOCK_ORDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/return.pb-c.h"

struct metrics_deferred;
struct pg;
struct shop_config;

struct stock_orders {
	const struct shop_config *shops;
	size_t nshops;
	const char *alerts_topic;
	/* what the transaction under way counts (oversell alerts, stale records), applied by the
	 * caller at its commit so that a retried transaction counts once; NULL: counted at once */
	struct metrics_deferred *counted;
};

/* Each runs inside the caller's transaction; false with err on a database error. */
bool stock_orders_shop_event(struct pg *db, const struct stock_orders *so, const Erpsync__V1__OrderEvent *ev, char *err,
			     size_t errlen) __attribute__((warn_unused_result));
bool stock_orders_erp_event(struct pg *db, const struct stock_orders *so, const Erpsync__V1__OrderEvent *ev, char *err,
			    size_t errlen) __attribute__((warn_unused_result));
bool stock_orders_return(struct pg *db, const struct stock_orders *so, const Erpsync__V1__Return *r, char *err,
			 size_t errlen) __attribute__((warn_unused_result));

/* Inside the caller's transaction: marks sku dirty for every shop (source_us 0: now). */
bool stock_orders_mark(struct pg *db, const struct stock_orders *so, const char *sku, int64_t source_us, char *err,
		       size_t errlen) __attribute__((warn_unused_result));

/* Why an order event cannot be applied, or NULL. */
const char *stock_orders_invalid(const Erpsync__V1__OrderEvent *ev);
const char *stock_orders_return_invalid(const Erpsync__V1__Return *r);

/* Whether an order in this status holds stock (placed, not yet fulfilled or cancelled). */
bool stock_orders_status_holds(Erpsync__V1__OrderStatus s);

/* Refreshes the gauges (open reservations, expected returns) from the database. */
void stock_orders_gauges(struct pg *db);

#endif
