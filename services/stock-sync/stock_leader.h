/* stock_leader — one instance at a time does the work that must not run twice (polling the ERP,
 * writing to the shops), while every instance of the group consumes its share of partitions.
 * The leader holds a PostgreSQL session advisory lock; when its process or connection dies the
 * lock is released and another instance takes over within one cycle. */
#ifndef STOCK_LEADER_H
#define STOCK_LEADER_H

#include <stdbool.h>

struct pg;

struct stock_leader {
	const char *role;      /* "poller", "writer" */
	int backend_pid;       /* the session that holds the lock; 0: not held */
};

/* true when this instance holds (or just took) the role on db's current session. */
bool stock_leader_hold(struct pg *db, struct stock_leader *l);

#endif
