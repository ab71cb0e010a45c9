/* stock_event — an ERP stock record as an erp.stock.v1 event queued in the outbox (inside the
 * caller's transaction). Polling, the ERP webhook and reconciliation all publish through it. */
#ifndef STOCK_EVENT_H
#define STOCK_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "erpsync/v1/meta.pb-c.h"

struct pg;
struct erp_stock_item;

bool stock_event_queue(struct pg *db, const char *topic, const struct erp_stock_item *it,
		       Erpsync__V1__EventOrigin origin, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
