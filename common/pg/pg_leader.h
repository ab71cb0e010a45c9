/* pg_leader — one instance at a time does the work that must not run twice (polling an ERP,
 * writing to the shops, relaying an outbox), while every instance of a consumer group consumes its
 * share of partitions.
 * The leader holds a PostgreSQL session advisory lock; when its process or connection dies the
 * lock is released and another instance takes over within one cycle. */
#ifndef ERPSYNC_PG_LEADER_H
#define ERPSYNC_PG_LEADER_H

#include <stdbool.h>

struct pg;

struct pg_leader {
	const char *role; /* "<service>:<role>", e.g. "stock-sync:poller": the lock's name */
	int backend_pid;  /* the session that holds the lock; 0: not held */
};

/* true when this instance holds (or just took) the role on db's current session. */
bool pg_leader_hold(struct pg *db, struct pg_leader *l);

#endif
