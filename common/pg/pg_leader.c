#include "pg_leader.h"

#include <string.h>

#include "log.h"
#include "pg.h"

bool pg_leader_hold(struct pg *db, struct pg_leader *l)
{
	char err[256];
	PGconn *conn = pg_conn(db);
	int pid = conn ? PQbackendPID(conn) : 0;
	if (l->backend_pid && l->backend_pid == pid)
		return true; /* still the session that took the lock */
	if (l->backend_pid)
		log_warn("%s: lost the leader lock with its database session", l->role);
	l->backend_pid = 0;
	const char *p[] = { l->role };
	PGresult *r = pg_query(db, "SELECT pg_try_advisory_lock(hashtext($1))", 1, p, err, sizeof err);
	if (!r)
		return false;
	if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
		l->backend_pid = PQbackendPID(pg_conn(db));
		log_info("%s: this instance is the leader", l->role);
	}
	PQclear(r);
	return l->backend_pid != 0;
}
