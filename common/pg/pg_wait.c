#include "pg_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "shutdown.h"

/* A shutdown that begins while we wait is seen within one slice; an answer ends the wait at once. */
#define PG_WAIT_SLICE_MS 100

static bool pg_wait_poll(PGconn *conn, short events, int64_t until_us, char *err, size_t errlen)
{
	for (;;) {
		long left = shutdown_work_left_ms();
		if (left <= 0) {
			snprintf(err, errlen, "stopping: gave up waiting for PostgreSQL");
			return false;
		}
		if (until_us) {
			int64_t u = (until_us - event_monotonic_us()) / 1000;
			if (u <= 0) {
				snprintf(err, errlen,
					 "PostgreSQL neither answered nor failed within statement_timeout + the TCP "
					 "timeout: connection dropped");
				return false;
			}
			if (u < left)
				left = (long)u;
		}
		struct pollfd pfd = { .fd = PQsocket(conn), .events = events };
		if (pfd.fd < 0) {
			snprintf(err, errlen, "connection to PostgreSQL lost");
			return false;
		}
		int r = poll(&pfd, 1, (int)(left < PG_WAIT_SLICE_MS ? left : PG_WAIT_SLICE_MS));
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return false;
		}
	}
}

static void pg_wait_conn_err(PGconn *conn, char *err, size_t errlen)
{
	const char *msg = PQerrorMessage(conn);
	snprintf(err, errlen, "%.*s", (int)strcspn(msg, "\n"), *msg ? msg : "connection to PostgreSQL lost");
}

bool pg_wait_flush(PGconn *conn, int64_t until_us, char *err, size_t errlen)
{
	int r;
	/* while the server's socket buffer is full, read what it sends meanwhile (libpq's advice) */
	while ((r = PQflush(conn)) > 0) {
		if (!pg_wait_poll(conn, POLLIN | POLLOUT, until_us, err, errlen))
			return false;
		if (!PQconsumeInput(conn)) {
			pg_wait_conn_err(conn, err, errlen);
			return false;
		}
	}
	if (r < 0) {
		pg_wait_conn_err(conn, err, errlen);
		return false;
	}
	return true;
}

static bool pg_wait_is_error(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	return st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR;
}

PGresult *pg_wait_result(PGconn *conn, int64_t until_us, bool *gave_up, char *err, size_t errlen)
{
	PGresult *keep = NULL, *r;
	*gave_up = false;
	for (;;) {
		while (PQisBusy(conn)) {
			if (!pg_wait_poll(conn, POLLIN, until_us, err, errlen)) {
				PQclear(keep);
				*gave_up = true;
				return NULL;
			}
			if (!PQconsumeInput(conn))
				break; /* the connection failed: PQgetResult tells how, without waiting */
		}
		if (!(r = PQgetResult(conn)))
			break;
		ExecStatusType st = PQresultStatus(r);
		if (keep && pg_wait_is_error(keep)) {
			PQclear(r);
		} else {
			PQclear(keep);
			keep = r;
		}
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
			break; /* not supported: the caller drops the connection */
	}
	return keep;
}

PGresult *pg_wait_run(PGconn *conn, const char *sql, int nparams, const char *const *values, const int *lengths,
		      const int *formats, int result_format, int64_t until_us, bool *gave_up, char *err, size_t errlen)
{
	*gave_up = false;
	int sent = nparams >= 0 ? PQsendQueryParams(conn, sql, nparams, NULL, values, lengths, formats, result_format)
				: PQsendQuery(conn, sql);
	if (!sent)
		return NULL; /* libpq's error message says why */
	if (!pg_wait_flush(conn, until_us, err, errlen)) {
		*gave_up = true;
		return NULL;
	}
	return pg_wait_result(conn, until_us, gave_up, err, errlen);
}
