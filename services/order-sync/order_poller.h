/* order_poller — what order-sync asks for on a schedule, on a thread of its own, by one instance at
 * a time (leader lock "order-sync:poller"):
 *
 *   the shops' orders modified after a persisted cursor, every ORDER_POLL_INTERVAL, page by page
 *   (X-WP-TotalPages): the backstop for webhooks that never came, taken in like a webhook;
 *   the ERP's order status changes and complaint decisions after their cursors, every
 *   ORDER_ERP_POLL_INTERVAL: published on erp.orders.v1 and returns.v1;
 *   once an hour, applied event ids and webhook delivery ids older than INBOX_KEEP_DAYS removed. */
#ifndef ORDER_POLLER_H
#define ORDER_POLLER_H

#include <stdbool.h>
#include <stddef.h>

struct erp_change_page;
struct kafka_producer;
struct pg;
struct order_relay;
struct order_shops;
struct order_topics;

struct order_poller_opts {
	const char *dsn;
	const struct order_topics *topics;
	const struct order_shops *shops;
	struct order_relay *relay;
	struct kafka_producer *dlq; /* orders the shop lists that cannot be taken in */
	const char *erp_url;
	const char *erp_token;
	double erp_rate;
	long long shop_interval_ms;
	long long erp_interval_ms;
	long long keep_days; /* applied event ids and webhook delivery ids are kept this long */
};

struct order_poller;

/* Inside the caller's transaction: the ERP's changes recorded and published, as the feeds'
 * (order_erp_push.h takes pushed ones through it too). A status change older than the one applied
 * is left. */
bool order_poller_apply(struct pg *db, const struct order_topics *t, const struct erp_change_page *page,
			bool complaints, char *err, size_t errlen) __attribute__((warn_unused_result));

struct order_poller *order_poller_start(const struct order_poller_opts *o);
void order_poller_stop(struct order_poller *p); /* NULL-safe */

#endif
