/* pg_relay — a service's outbox relayed to Kafka by a thread of its own: at once when a
 * transaction that queued something wakes it, else every PG_RELAY_IDLE_MS. One relay at a time
 * across instances (pg_outbox_relay's lock). */
#ifndef ERPSYNC_PG_RELAY_H
#define ERPSYNC_PG_RELAY_H

struct pg_relay;

/* service: the producer's name (a string constant). */
struct pg_relay *pg_relay_start(const char *dsn, const char *schema, const char *service);
/* Something was queued: relay without waiting for the idle tick. Any thread. NULL-safe. */
void pg_relay_wake(struct pg_relay *r);
void pg_relay_stop(struct pg_relay *r); /* relays what it can within the stop's bound; NULL-safe */

#endif
