/* pg_wait — statements sent and answers read on a non-blocking libpq connection, polled in short
 * slices, so that no wait outlasts its deadline or a shutdown: libpq's blocking calls would wait
 * for ever on a server that stopped answering without failing (a SIGSTOPped or frozen host: the
 * kernel still acknowledges, nothing errors). A wait gives up at until_us (monotonic, 0: none) and
 * once a shutdown's time for work in flight is over (shutdown.h); the connection is then in the
 * middle of a statement and must be dropped. For pg.c. */
#ifndef ERPSYNC_PG_WAIT_H
#define ERPSYNC_PG_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* Sends what libpq still holds of the statement; false with err when it gave up or failed. */
bool pg_wait_flush(PGconn *conn, int64_t until_us, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Reads every result of the statement sent, as PQexec does: the first error, else the last
 * result. NULL when there was none (libpq's error message says why) or, with *gave_up and err,
 * when the wait gave up. */
PGresult *pg_wait_result(PGconn *conn, int64_t until_us, bool *gave_up, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* PQexecParams (nparams >= 0) or PQexec (nparams < 0: sql may hold several statements), bounded
 * as above. */
PGresult *pg_wait_run(PGconn *conn, const char *sql, int nparams, const char *const *values, const int *lengths,
		      const int *formats, int result_format, int64_t until_us, bool *gave_up, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
