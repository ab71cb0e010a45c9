/* stock_event — an ERP stock record as an erp.stock.v1 event queued in the outbox (inside the
 * caller's transaction). Polling, the ERP webhook and reconciliation all publish through it. */
#ifndef STOCK_EVENT_H
#define STOCK_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "erpsync/v1/meta.pb-c.h"

struct pg;
struct erp_stock_item;

/* Largest quantity accepted anywhere, in thousandths of a unit (a billion units): sums of a
 * thousand such values still fit in int64, and anything larger is a broken record. */
#define STOCK_QTY_MAX_MILLI 1000000000000LL

/* A text field of a record from outside: non-empty, at most max bytes, valid UTF-8 (PostgreSQL
 * refuses anything else, and a record it refuses must go to the DLQ, not stall the batch). */
bool stock_event_text_ok(const char *s, size_t max);

bool stock_event_queue(struct pg *db, const char *topic, const struct erp_stock_item *it,
		       Erpsync__V1__EventOrigin origin, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
