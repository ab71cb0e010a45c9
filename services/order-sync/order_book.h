/* order_book — what order-sync does with the records it consumes, one at a time in partition
 * order, each effectively once (inbox):
 *
 *   shop.orders.v1   book the order in the ERP exactly once (looked up by its external reference
 *                    before any create; a create whose answer was lost is resolved by that lookup),
 *                    or hold it (DLQ with the reason: totals, a line without SKU, what the ERP
 *                    refused); a cancellation cancels the ERP order, or opens a return case when
 *                    the ERP no longer allows it; refunds not seen before become returns.v1 records
 *   erp.orders.v1    an ERP status change sets the shop order's status (SHOP_<ID>_STATUS_MAP)
 *   payments.v1      the payment registered in the ERP against the order, once
 *   returns.v1       a return document or a complaint case in the ERP, once; a complaint's decision
 *                    becomes one note to the customer
 *   shipments.v1     one note with carrier, tracking number and link; the order completed on delivery
 *   invoices.v1      one note with the invoice number and the link to its readable copy
 *
 * Records are handled by ORDER_BOOK_LANES threads, each with its own PostgreSQL connection, ERP
 * client and shop connections: a partition's records (of every topic) go to one lane, in order, and
 * its offsets are stored by that lane only after each record is done. A record a peer keeps
 * failing holds up its lane's partitions only.
 * A payment or return whose order is not booked yet waits (deferred) and is applied at the booking.
 * A peer that fails (transport, 5xx, 429) is retried with back-off, the record kept; a record the
 * ERP refuses goes to <topic>.dlq and the rest keeps flowing. */
#ifndef ORDER_BOOK_H
#define ORDER_BOOK_H

#include <stdbool.h>
#include <stddef.h>

struct erp;
struct kafka_consumer;
struct kafka_producer;
struct order_relay;
struct order_topics;
struct shop_config;

struct order_book_opts {
	struct kafka_consumer *consumer;
	struct kafka_producer *dlq;
	const char *dsn;
	const char *erp_url;
	const char *erp_token;
	double erp_rate;
	const struct shop_config *shop_cfg; /* each lane connects the shops on its own */
	size_t nshops;
	const struct order_topics *topics;
	struct order_relay *relay;
	const char *book_statuses; /* shop statuses that book: "processing,on-hold,completed" */
	size_t lanes;              /* threads handling records, each its own partitions */
};

struct order_book;

struct order_book *order_book_new(const struct order_book_opts *o);
void order_book_free(struct order_book *b);
/* Takes and handles what the consumer has, at most about timeout_ms; < 0 when nothing could be
 * done (the database or a peer is away). */
int order_book_run_once(struct order_book *b, int timeout_ms);

#endif
