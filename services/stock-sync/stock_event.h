/* stock_event — an ERP stock record as an erp.stock.v1 event queued in the outbox (inside the
 * caller's transaction). Polling, the ERP webhook and reconciliation all publish through it. */
#ifndef STOCK_EVENT_H
#define STOCK_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erpsync/v1/meta.pb-c.h"
#include "event.h"

struct pg;
struct erp_stock_item;

/* Largest quantity accepted anywhere, in thousandths of a unit (a billion units): sums of a
 * thousand such values still fit in int64, and anything larger is a broken record. */
#define STOCK_QTY_MAX_MILLI 1000000000000LL

/* A text field of a record from outside: non-empty, at most max bytes, valid UTF-8 (PostgreSQL
 * refuses anything else, and a record it refuses must go to the DLQ, not stall the batch). */
bool stock_event_text_ok(const char *s, size_t max);

/* Storage for a new event's id and trace context; must outlive the meta that points into it. */
struct stock_event_ids {
	char id[EVENT_ID_LEN];
	char traceparent[TRACEPARENT_LEN];
};

/* Fills meta for an event stock-sync publishes: a new event id, a child span of parent (a new
 * trace when NULL or malformed), the source's time and system, and how it was learned. */
void stock_event_meta(Erpsync__V1__EventMeta *meta, struct stock_event_ids *ids, const char *parent,
		      int64_t occurred_at, const char *source_system, Erpsync__V1__EventOrigin origin);

/* feed_epoch: the ERP change feed's epoch the record was read in (stock_db_feed_get). */
bool stock_event_queue(struct pg *db, const char *topic, const struct erp_stock_item *it, int64_t feed_epoch,
		       Erpsync__V1__EventOrigin origin, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
