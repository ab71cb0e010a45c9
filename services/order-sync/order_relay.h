/* order_relay — the outbox relayed to Kafka by a thread of its own: at once when a transaction
 * that queued something wakes it, else every ORDER_RELAY_IDLE_MS. One relay at a time across
 * instances (pg_outbox_relay's lock). */
#ifndef ORDER_RELAY_H
#define ORDER_RELAY_H

struct order_relay;

struct order_relay *order_relay_start(const char *dsn, const char *schema);
/* Something was queued: relay without waiting for the idle tick. Any thread. NULL-safe. */
void order_relay_wake(struct order_relay *r);
void order_relay_stop(struct order_relay *r); /* relays what it can within the stop's bound; NULL-safe */

#endif
