#include "pg.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "log.h"
#include "pg_conninfo.h"
#include "pg_wait.h"
#include "shutdown.h"

#define PG_SCHEMA_MAX        63 /* NAMEDATALEN - 1 */
#define PG_CONNECT_TIMEOUT   "5"
#define PG_PRUNE_BATCH       10000
#define PG_PRUNE_MAX_BATCHES 100     /* one call deletes at most 1M rows; the next call goes on */
#define PG_LOCK_RETRY_US     1000000 /* a session lock held elsewhere is asked for at most this often */
#define PG_PREPARED_MAX      32      /* named statements a connection keeps; more run unprepared */

struct pg {
	char *dsn;    /* may hold a password: never logged */
	char *schema; /* checked by pg_schema_valid: safe to splice into SQL */
	PGconn *conn;
	bool in_tx;  /* between pg_begin and pg_commit/pg_rollback */
	bool broken; /* a statement found the connection dead: reconnect before the next */
	unsigned long connects;
	long long bound_ms; /* a wait for an answer gives up after this (0: none of ours) */
	char sqlstate[6];
	char *lock_name; /* pg_session_lock: held on the session of connect number lock_connects */
	unsigned long lock_connects;
	int64_t lock_retry_us;
	/* pg_query_prepared: the statements prepared on the session of connect number
	 * prepared_connects (name and text are the caller's constants) */
	const char *prepared_name[PG_PREPARED_MAX];
	const char *prepared_sql[PG_PREPARED_MAX];
	size_t nprepared;
	unsigned long prepared_connects;
	/* pg_begin_pipeline: libpq is in pipeline mode; owed: statements sent whose answers are not
	 * read yet; deferred: pg_pipeline_defer was called (answers are read at pg_commit) */
	bool pipeline, deferred;
	int owed;
};

/* The tables every service shares. Append only: a version, once released, never changes. */
static const struct pg_migration pg_common_migrations[] = {
	{ 1, "inbox",
	  "CREATE TABLE inbox ("
	  " consumer text NOT NULL,"
	  " event_id text NOT NULL,"
	  " topic text,"
	  " partition int,"
	  " \"offset\" bigint,"
	  " applied_at timestamptz NOT NULL DEFAULT now(),"
	  " PRIMARY KEY (consumer, event_id));"
	  "CREATE INDEX inbox_applied_at_idx ON inbox (applied_at);" },
	{ 2, "outbox",
	  "CREATE TABLE outbox ("
	  " id bigserial PRIMARY KEY,"
	  " topic text NOT NULL,"
	  " key bytea,"
	  " value bytea NOT NULL,"
	  " event_id text NOT NULL,"
	  " traceparent text,"
	  " source_time_us bigint,"
	  " message_type text,"
	  " created_at timestamptz NOT NULL DEFAULT now());" },
	/* applied_at only serves the pruning of old ids, and rows arrive in its order: a block-range
	 * index costs next to nothing per claimed id, where the B-tree was one more index insert
	 * (~7 % of a claim, docs/benchmarks.md). autosummarize keeps new ranges summarized. */
	{ 3, "inbox applied_at: BRIN",
	  "DROP INDEX inbox_applied_at_idx;"
	  "CREATE INDEX inbox_applied_at_brin ON inbox USING brin (applied_at) WITH (autosummarize = on);" },
	/* An event is known by its topic and id: producers on different topics do not coordinate their
	 * ids, and one that collided with another topic's would have been taken for a duplicate and
	 * dropped. Events that did not come from Kafka have the topic ''. The topic goes last: ids
	 * differ, so a claim's descent rarely compares it (and time-ordered ids still land at the
	 * index's right edge). */
	{ 4, "inbox keyed by topic and event id",
	  "UPDATE inbox SET topic = '' WHERE topic IS NULL;"
	  "ALTER TABLE inbox ALTER COLUMN topic SET DEFAULT '', ALTER COLUMN topic SET NOT NULL;"
	  "ALTER TABLE inbox DROP CONSTRAINT inbox_pkey, ADD PRIMARY KEY (consumer, event_id, topic);" },
};

/* ---- errors ---- */

/* libpq messages end in a newline and may span lines: make them one line for err and the log. */
static void pg_flatten(char *s)
{
	size_t w = 0;
	for (size_t r = 0; s[r]; r++) {
		char c = (s[r] == '\n' || s[r] == '\r' || s[r] == '\t') ? ' ' : s[r];
		if (c != ' ' || (w > 0 && s[w - 1] != ' '))
			s[w++] = c;
	}
	while (w > 0 && s[w - 1] == ' ')
		w--;
	s[w] = '\0';
}

/* libpq's message about conn, without what of dsn it may quote (the password). */
static void pg_conn_err(const PGconn *conn, const char *dsn, char *err, size_t errlen)
{
	const char *msg = conn ? PQerrorMessage(conn) : "";
	if (!err || !errlen)
		return;
	pg_conninfo_redact(dsn, *msg ? msg : "out of memory or no connection", err, errlen);
	pg_flatten(err);
}

/* "primary message (DETAIL: ...) (HINT: ...) (SQLSTATE x)" rather than the multi-line text with
 * the LINE/caret excerpt that PQresultErrorMessage gives. */
static void pg_result_err(const PGconn *conn, const PGresult *res, char *err, size_t errlen)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!primary) {
		const char *msg = res ? PQresultErrorMessage(res) : "";
		if (*msg) {
			err_set(err, errlen, "%s", msg);
			if (err && errlen)
				pg_flatten(err);
		} else {
			pg_conn_err(conn, NULL, err, errlen);
		}
		return;
	}
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	err_set(err, errlen, "%s%s%s%s%s%s%s", primary, detail ? " (DETAIL: " : "", detail ? detail : "",
		detail ? ")" : "", hint ? " (HINT: " : "", hint ? hint : "", hint ? ")" : "");
	if (state && err && errlen) {
		size_t used = strlen(err);
		snprintf(err + used, errlen - used, " (SQLSTATE %s)", state);
	}
	if (err && errlen)
		pg_flatten(err);
}

/* Remembers why a statement failed; a dead connection is replaced before the next statement. */
static void pg_note_failure(struct pg *db, const PGresult *res, char *err, size_t errlen)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
	pg_result_err(db->conn, res, err, errlen);
	if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD)
		db->broken = true;
}

/* ---- lifecycle ---- */

static bool pg_schema_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > PG_SCHEMA_MAX || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return strncmp(s, "pg_", 3) != 0; /* reserved for system schemas */
}

struct pg *pg_new(const char *dsn, const char *schema)
{
	if (!pg_schema_valid(schema)) {
		log_error("pg: schema name \"%.80s\" refused: want [a-z_][a-z0-9_]*, at most %d characters, "
			  "not starting with pg_",
			  schema ? schema : "(null)", PG_SCHEMA_MAX);
		return NULL;
	}
	struct pg *db = calloc(1, sizeof *db);
	if (!db)
		goto fail;
	db->dsn = strdup(dsn ? dsn : "");
	db->schema = strdup(schema);
	if (!db->dsn || !db->schema)
		goto fail;
	return db;
fail:
	log_error("pg: out of memory");
	pg_free(db);
	return NULL;
}

void pg_free(struct pg *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	free(db->lock_name);
	if (db->dsn) {
		explicit_bzero(db->dsn, strlen(db->dsn));
		free(db->dsn);
	}
	free(db->schema);
	free(db);
}

PGconn *pg_conn(struct pg *db)
{
	return db ? db->conn : NULL;
}

const char *pg_schema(const struct pg *db)
{
	return db ? db->schema : NULL;
}

bool pg_in_transaction(const struct pg *db)
{
	return db && db->in_tx;
}

bool pg_sqlstate_refused(const char *sqlstate)
{
	if (!sqlstate || strlen(sqlstate) != 5)
		return false;
	return strncmp(sqlstate, "22", 2) == 0 || (strncmp(sqlstate, "23", 2) == 0 && strcmp(sqlstate, "23505") != 0) ||
	       strncmp(sqlstate, "54", 2) == 0;
}

const char *pg_last_sqlstate(const struct pg *db)
{
	return db ? db->sqlstate : "";
}

/* Server notices (e.g. "relation already exists, skipping") would go to stderr as raw text:
 * route them through the log so that every line stays JSON. */
static void pg_notice(void *arg, const PGresult *res)
{
	(void)arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	char msg[512];
	snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
	pg_flatten(msg);
	if (sev && (strcmp(sev, "WARNING") == 0 || strcmp(sev, "ERROR") == 0 || strcmp(sev, "FATAL") == 0 ||
		    strcmp(sev, "PANIC") == 0))
		log_warn("pg: server says: %s", msg);
	else
		log_debug("pg: server says: %s", msg);
}

/* Connects with the parameters of pg_conninfo (keepalives, statement_timeout, the DSN winning over
 * them); *bound_ms: how long a wait for an answer may last on it. */
static PGconn *pg_connect(const char *dsn, const char *appname, const char *timeout, bool timeout_wins,
			  long long *bound_ms)
{
	struct pg_conninfo ci;
	if (!pg_conninfo_build(&ci, dsn, appname, timeout, timeout_wins))
		return NULL;
	PGconn *conn = PQconnectdbParams(ci.keys, ci.vals, 1);
	if (bound_ms)
		*bound_ms = ci.bound_ms;
	pg_conninfo_cleanup(&ci);
	return conn;
}

/* The deadline of a wait for an answer on db (monotonic us, 0: none). */
static int64_t pg_until(const struct pg *db)
{
	return db->bound_ms > 0 ? event_monotonic_us() + db->bound_ms * 1000 : 0;
}

/* A wait gave up in the middle of a statement: the session cannot be used again. */
static void pg_give_up(struct pg *db)
{
	db->broken = true;
	db->sqlstate[0] = '\0';
	db->pipeline = db->deferred = false;
	db->owed = 0;
}

/* A connection is usable when libpq still thinks so. Outside a transaction, first read whatever
 * the server sent while we were idle: a restart or an idle-session kill (a FATAL message, then
 * EOF) shows up only then, and catching it here lets the next statement run on a fresh
 * connection instead of failing. libpq notices the EOF one read after the message, hence the loop;
 * poll with timeout 0 never waits. */
static bool pg_usable(struct pg *db)
{
	if (!db->conn || db->broken || PQstatus(db->conn) != CONNECTION_OK)
		return false;
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		return true;
	for (int i = 0; i < 4 && PQstatus(db->conn) == CONNECTION_OK; i++) {
		struct pollfd pfd = { .fd = PQsocket(db->conn), .events = POLLIN };
		if (pfd.fd < 0)
			return false;
		if (poll(&pfd, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(db->conn))
			return false;
	}
	return PQstatus(db->conn) == CONNECTION_OK;
}

static bool pg_setup_schema(struct pg *db, PGconn *conn, int64_t until, char *err, size_t errlen)
{
	const char *params[1] = { db->schema };
	char sql[160];
	bool ok = false, gave_up;
	PGresult *res = pg_wait_run(conn, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, params, NULL, NULL, 0,
				    until, &gave_up, err, errlen);
	if (gave_up)
		return false;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_result_err(conn, res, err, errlen);
		goto out;
	}
	if (PQntuples(res) == 0) {
		/* Checked first so that a role without CREATE on the database works once the schema
		 * exists. Two instances starting at once may both get here: losing that race is fine. */
		PQclear(res);
		snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", db->schema);
		if (!(res = pg_wait_run(conn, sql, -1, NULL, NULL, NULL, 0, until, &gave_up, err, errlen)) && gave_up)
			return false;
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    !(state && (strcmp(state, "23505") == 0 || strcmp(state, "42P06") == 0))) {
			pg_result_err(conn, res, err, errlen);
			goto out;
		}
	}
	PQclear(res);
	snprintf(sql, sizeof sql, "SET search_path TO \"%s\"", db->schema);
	if (!(res = pg_wait_run(conn, sql, -1, NULL, NULL, NULL, 0, until, &gave_up, err, errlen)) && gave_up)
		return false;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_result_err(conn, res, err, errlen);
		goto out;
	}
	ok = true;
out:
	PQclear(res);
	return ok;
}

bool pg_ensure(struct pg *db, char *err, size_t errlen)
{
	if (!db) {
		err_set(err, errlen, "pg_ensure: no database");
		return false;
	}
	if (pg_usable(db))
		return true;
	if (db->in_tx) {
		err_set(err, errlen, "connection to PostgreSQL lost inside a transaction; roll back first");
		return false;
	}
	if (db->conn) {
		char why[256];
		pg_conn_err(db->conn, db->dsn, why, sizeof why);
		log_warn("pg: connection to PostgreSQL lost (%s); reconnecting", why);
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->broken = false;
	db->pipeline = db->deferred = false;
	db->owed = 0;
	/* what a stop leaves to do needs no new session, and a connection attempt would wait for
	 * its connect_timeout */
	if (shutdown_requested()) {
		err_set(err, errlen, "stopping: not connecting to PostgreSQL");
		return false;
	}

	char appname[80];
	snprintf(appname, sizeof appname, "erpsync-%s", db->schema);
	/* PGCONNECT_TIMEOUT, like the dsn, says what the operator wants: leave it alone. */
	long long bound_ms = 0;
	PGconn *conn = pg_connect(db->dsn, appname, getenv("PGCONNECT_TIMEOUT") ? NULL : PG_CONNECT_TIMEOUT, false,
				  &bound_ms);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		pg_conn_err(conn, db->dsn, err, errlen);
		PQfinish(conn);
		return false;
	}
	PQsetNoticeReceiver(conn, pg_notice, NULL);
	/* statements are sent and answers read by pg_wait, which never blocks for longer than a slice */
	if (PQsetnonblocking(conn, 1) != 0) {
		pg_conn_err(conn, db->dsn, err, errlen);
		PQfinish(conn);
		return false;
	}
	if (!pg_setup_schema(db, conn, bound_ms > 0 ? event_monotonic_us() + bound_ms * 1000 : 0, err, errlen)) {
		PQfinish(conn);
		return false;
	}
	db->bound_ms = bound_ms;
	db->conn = conn;
	db->connects++;
	log_info("pg: %s to PostgreSQL %s at %s:%s as %s, schema %s", db->connects > 1 ? "reconnected" : "connected",
		 PQdb(conn), PQhost(conn), PQport(conn), PQuser(conn), db->schema);
	return true;
}

/* ---- statements ---- */

/* Connects or reconnects when needed, but never in the middle of a transaction: that would run
 * the rest of it outside one. */
static bool pg_ready(struct pg *db, char *err, size_t errlen)
{
	if (!db) {
		err_set(err, errlen, "no database");
		return false;
	}
	db->sqlstate[0] = '\0';
	if (db->in_tx) {
		if (db->conn && !db->broken && PQstatus(db->conn) == CONNECTION_OK)
			return true;
		err_set(err, errlen, "connection to PostgreSQL lost inside a transaction");
		return false;
	}
	return pg_ensure(db, err, errlen);
}

/* A result that is neither COMMAND_OK nor TUPLES_OK becomes an error; COPY states are not
 * supported here and leave the connection unusable, so it is replaced. */
static PGresult *pg_check(struct pg *db, PGresult *res, char *err, size_t errlen)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE) {
		pg_note_failure(db, res, err, errlen);
	} else {
		err_set(err, errlen, "unexpected result %s", PQresStatus(st));
		db->broken = st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH;
	}
	PQclear(res);
	return NULL;
}

/* ---- pipeline (pg_begin_pipeline) ---- */

/* Reads the answers of every statement owed, in order: the first error, else the last result.
 * flush_request: ask the server to send its answers now (no Sync is pending to make it). */
static PGresult *pg_pipe_collect(struct pg *db, bool flush_request, char *err, size_t errlen)
{
	if (flush_request && !PQsendFlushRequest(db->conn))
		return pg_check(db, NULL, err, errlen);
	if (!pg_wait_flush(db->conn, pg_until(db), err, errlen)) {
		pg_give_up(db);
		return NULL;
	}
	PGresult *keep = NULL;
	while (db->owed > 0) {
		bool gave_up;
		PGresult *r = pg_wait_result(db->conn, pg_until(db), &gave_up, err, errlen);
		if (gave_up) {
			PQclear(keep);
			pg_give_up(db);
			return NULL;
		}
		db->owed--;
		if (!r) { /* no answer at all: the connection failed */
			PQclear(keep);
			pg_note_failure(db, NULL, err, errlen);
			pg_give_up(db);
			return NULL;
		}
		ExecStatusType st = PQresultStatus(keep);
		if (keep && (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE)) {
			PQclear(r);
		} else {
			PQclear(keep);
			keep = r;
		}
	}
	return keep;
}

/* After a Sync: reads up to its marker and leaves pipeline mode. false (and the connection is
 * dropped) when that does not go as libpq documents. */
static bool pg_pipe_end(struct pg *db, char *err, size_t errlen)
{
	PGresult *r = NULL;
	for (int nulls = 0; nulls < 2;) {
		bool gave_up;
		r = pg_wait_result(db->conn, pg_until(db), &gave_up, err, errlen);
		if (gave_up)
			break;
		if (!r) {
			nulls++;
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC)
			break;
		PQclear(r);
		r = NULL;
	}
	bool ok = r && PQexitPipelineMode(db->conn) == 1;
	PQclear(r);
	db->pipeline = db->deferred = false;
	db->owed = 0;
	if (!ok) {
		if (err && errlen && !*err)
			err_set(err, errlen, "PostgreSQL pipeline did not end cleanly");
		pg_give_up(db);
	}
	return ok;
}

/* Sends a statement in the pipeline (prepared: by name); unless deferred, waits for the answers
 * owed, this one's last. */
static PGresult *pg_pipe_run(struct pg *db, const char *name, const char *sql, int nparams, const char *const *values,
			     const int *lengths, const int *formats, int result_format, char *err, size_t errlen)
{
	int sent = name ? PQsendQueryPrepared(db->conn, name, nparams, values, lengths, formats, result_format)
			: PQsendQueryParams(db->conn, sql, nparams, NULL, values, lengths, formats, result_format);
	if (!sent)
		return pg_check(db, NULL, err, errlen); /* libpq's message: why it was not sent */
	db->owed++;
	if (db->deferred)
		return PQmakeEmptyPGresult(db->conn, PGRES_COMMAND_OK);
	return pg_check(db, pg_pipe_collect(db, true, err, errlen), err, errlen);
}

bool pg_begin_pipeline(struct pg *db, char *err, size_t errlen)
{
	if (db && db->in_tx) {
		err_set(err, errlen, "pg_begin_pipeline: a transaction is already open");
		return false;
	}
	if (!pg_ready(db, err, errlen))
		return false;
	if (!PQenterPipelineMode(db->conn)) {
		(void)pg_check(db, NULL, err, errlen);
		return false;
	}
	db->pipeline = true;
	db->deferred = false;
	db->owed = 0;
	db->in_tx = true;
	if (!PQsendQueryParams(db->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)) {
		(void)pg_check(db, NULL, err, errlen);
		pg_rollback(db);
		return false;
	}
	db->owed = 1; /* read with the first statement's answer */
	return true;
}

void pg_pipeline_defer(struct pg *db)
{
	if (db && db->pipeline)
		db->deferred = true;
}

/* pg_commit in a pipeline: COMMIT and a Sync go after whatever is owed, then every answer is
 * read. A statement that failed aborts the rest: the session is returned to idle with a
 * ROLLBACK, and its error is the commit's. */
static PGresult *pg_pipe_commit(struct pg *db, char *err, size_t errlen)
{
	if (!PQsendQueryParams(db->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) || !PQpipelineSync(db->conn)) {
		PGresult *res = pg_check(db, NULL, err, errlen);
		pg_give_up(db); /* a pipeline we cannot finish is not worth keeping */
		return res;
	}
	db->owed++;
	PGresult *res = pg_pipe_collect(db, false, err, errlen);
	if (!db->pipeline) /* gave up */
		return NULL;
	res = pg_check(db, res, err, errlen);
	if (!pg_pipe_end(db, err, errlen)) {
		PQclear(res);
		return NULL;
	}
	if (!res && PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		db->in_tx = true;
		char keep[6];
		memcpy(keep, db->sqlstate, sizeof keep);
		pg_rollback(db);
		memcpy(db->sqlstate, keep, sizeof keep);
	}
	return res;
}

/* pg_rollback in a pipeline: a Sync ends what was sent (the server skips what follows an
 * error), its answers are dropped, and pg_rollback's ROLLBACK follows outside the pipeline. */
static void pg_pipe_abandon(struct pg *db)
{
	char err[256] = "";
	if (!PQpipelineSync(db->conn)) {
		pg_give_up(db);
		return;
	}
	PQclear(pg_pipe_collect(db, false, err, sizeof err));
	if (db->pipeline)
		(void)pg_pipe_end(db, err, sizeof err);
}

PGresult *pg_query_params(struct pg *db, const char *sql, int nparams, const char *const *values, const int *lengths,
			  const int *formats, int result_format, char *err, size_t errlen)
{
	if (!pg_ready(db, err, errlen))
		return NULL;
	if (db->pipeline)
		return pg_pipe_run(db, NULL, sql, nparams < 0 ? 0 : nparams, values, lengths, formats, result_format,
				   err, errlen);
	bool gave_up;
	PGresult *res = pg_wait_run(db->conn, sql, nparams < 0 ? 0 : nparams, values, lengths, formats, result_format,
				    pg_until(db), &gave_up, err, errlen);
	if (gave_up) {
		pg_give_up(db);
		return NULL;
	}
	return pg_check(db, res, err, errlen);
}

PGresult *pg_query(struct pg *db, const char *sql, int nparams, const char *const *params, char *err, size_t errlen)
{
	return pg_query_params(db, sql, nparams, params, NULL, NULL, 0, err, errlen);
}

/* Whether name is prepared on the current session: 1 yes, 0 no, -1 the name was prepared with
 * another text (a caller's mistake, refused rather than run as the wrong statement). A new
 * session forgets what the old one had. */
static int pg_prepared_find(struct pg *db, const char *name, const char *sql)
{
	if (db->prepared_connects != db->connects) {
		db->nprepared = 0;
		db->prepared_connects = db->connects;
	}
	for (size_t i = 0; i < db->nprepared; i++) {
		if (strcmp(db->prepared_name[i], name) != 0)
			continue;
		return db->prepared_sql[i] == sql || strcmp(db->prepared_sql[i], sql) == 0 ? 1 : -1;
	}
	return 0;
}

static bool pg_prepare(struct pg *db, const char *name, const char *sql, int nparams, char *err, size_t errlen)
{
	if (!PQsendPrepare(db->conn, name, sql, nparams, NULL)) {
		(void)pg_check(db, NULL, err, errlen); /* libpq's message: why it was not sent */
		return false;
	}
	PGresult *res;
	if (db->pipeline) { /* its answer is awaited even when deferred: it is known prepared only then */
		db->owed++;
		res = pg_pipe_collect(db, true, err, errlen);
	} else {
		bool gave_up = !pg_wait_flush(db->conn, pg_until(db), err, errlen);
		res = gave_up ? NULL : pg_wait_result(db->conn, pg_until(db), &gave_up, err, errlen);
		if (gave_up) {
			pg_give_up(db);
			return false;
		}
	}
	res = pg_check(db, res, err, errlen);
	if (!res)
		return false;
	PQclear(res);
	db->prepared_name[db->nprepared] = name;
	db->prepared_sql[db->nprepared] = sql;
	db->nprepared++;
	return true;
}

PGresult *pg_query_prepared(struct pg *db, const char *name, const char *sql, int nparams, const char *const *values,
			    const int *lengths, const int *formats, int result_format, char *err, size_t errlen)
{
	if (!name || !*name || !sql || nparams < 0) {
		err_set(err, errlen, "pg_query_prepared: needs a name, a statement and nparams >= 0");
		return NULL;
	}
	if (!pg_ready(db, err, errlen))
		return NULL;
	int known = pg_prepared_find(db, name, sql);
	if (known < 0) {
		err_set(err, errlen, "pg_query_prepared: statement name %s is taken by another statement", name);
		return NULL;
	}
	if (!known && db->nprepared == PG_PREPARED_MAX) /* full: run it as it is */
		return pg_query_params(db, sql, nparams, values, lengths, formats, result_format, err, errlen);
	if (!known && !pg_prepare(db, name, sql, nparams, err, errlen))
		return NULL;
	if (db->pipeline)
		return pg_pipe_run(db, name, sql, nparams, values, lengths, formats, result_format, err, errlen);
	if (!PQsendQueryPrepared(db->conn, name, nparams, values, lengths, formats, result_format))
		return pg_check(db, NULL, err, errlen); /* libpq's message: why it was not sent */
	bool gave_up = !pg_wait_flush(db->conn, pg_until(db), err, errlen);
	PGresult *res = gave_up ? NULL : pg_wait_result(db->conn, pg_until(db), &gave_up, err, errlen);
	if (gave_up) {
		pg_give_up(db);
		return NULL;
	}
	return pg_check(db, res, err, errlen);
}

bool pg_exec(struct pg *db, const char *sql, char *err, size_t errlen)
{
	if (db && db->pipeline) {
		err_set(err, errlen, "pg_exec: not inside pg_begin_pipeline's transaction (use pg_query)");
		return false;
	}
	if (!pg_ready(db, err, errlen))
		return false;
	bool gave_up;
	PGresult *res = pg_wait_run(db->conn, sql, -1, NULL, NULL, NULL, 0, pg_until(db), &gave_up, err, errlen);
	if (gave_up) {
		pg_give_up(db);
		return false;
	}
	res = pg_check(db, res, err, errlen);
	PQclear(res);
	return res != NULL;
}

bool pg_begin(struct pg *db, char *err, size_t errlen)
{
	if (db && db->in_tx) {
		err_set(err, errlen, "pg_begin: a transaction is already open");
		return false;
	}
	if (!pg_exec(db, "BEGIN", err, errlen))
		return false;
	db->in_tx = true;
	return true;
}

bool pg_commit(struct pg *db, char *err, size_t errlen)
{
	if (!db || !db->in_tx) {
		err_set(err, errlen, "pg_commit: no transaction open");
		return false;
	}
	if (!pg_ready(db, err, errlen)) {
		db->in_tx = false;
		return false;
	}
	db->in_tx = false;
	bool gave_up = false;
	PGresult *res = db->pipeline ? pg_pipe_commit(db, err, errlen)
				     : pg_wait_run(db->conn, "COMMIT", -1, NULL, NULL, NULL, 0, pg_until(db), &gave_up,
						   err, errlen);
	if (gave_up)
		pg_give_up(db);
	else if (!db->pipeline && res)
		res = pg_check(db, res, err, errlen);
	if (!res) {
		if (db->broken) { /* the COMMIT may or may not have reached the server */
			size_t used = err && errlen ? strlen(err) : 0;
			if (err && errlen > used)
				snprintf(err + used, errlen - used, " (commit outcome unknown)");
		}
		return false;
	}
	/* COMMIT of a transaction in which a statement failed answers ROLLBACK, with status OK. */
	bool ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok) {
		err_set(err, errlen, "transaction rolled back: a statement in it had failed");
		snprintf(db->sqlstate, sizeof db->sqlstate, "25P02");
	}
	PQclear(res);
	return ok;
}

void pg_rollback(struct pg *db)
{
	if (!db)
		return;
	db->in_tx = false;
	if (db->pipeline && db->conn && !db->broken)
		pg_pipe_abandon(db);
	db->pipeline = db->deferred = false;
	db->owed = 0;
	if (!db->conn || db->broken || PQstatus(db->conn) != CONNECTION_OK ||
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	char err[256];
	bool gave_up;
	PGresult *res = pg_wait_run(db->conn, "ROLLBACK", -1, NULL, NULL, NULL, 0, pg_until(db), &gave_up, err,
				    sizeof err);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		db->broken = true; /* a session we cannot return to idle is not worth keeping */
	PQclear(res);
}

bool pg_flush(struct pg *db, char *err, size_t errlen)
{
	if (!db || !db->conn) {
		err_set(err, errlen, "pg_flush: no connection");
		return false;
	}
	if (pg_wait_flush(db->conn, pg_until(db), err, errlen))
		return true;
	pg_give_up(db);
	return false;
}

PGresult *pg_finish(struct pg *db, char *err, size_t errlen)
{
	if (!db || !db->conn) {
		err_set(err, errlen, "pg_finish: no connection");
		return NULL;
	}
	bool gave_up;
	PGresult *res = pg_wait_result(db->conn, pg_until(db), &gave_up, err, errlen);
	if (gave_up) {
		pg_give_up(db);
		return NULL;
	}
	if (!res) {
		pg_conn_err(db->conn, NULL, err, errlen);
		if (PQstatus(db->conn) == CONNECTION_BAD)
			db->broken = true;
	}
	return res;
}

bool pg_session_lock(struct pg *db, const char *name, bool *taken)
{
	char err[256];
	*taken = false;
	if (!db || !name)
		return false;
	bool same = db->lock_name && strcmp(db->lock_name, name) == 0;
	if (same && db->lock_connects == db->connects && pg_usable(db))
		return true; /* the session that took it is still ours */
	if (db->in_tx)
		return false; /* asking would need a statement of its own */
	if (!same) {
		free(db->lock_name);
		if (!(db->lock_name = strdup(name)))
			return false;
	}
	db->lock_connects = 0;
	if (event_monotonic_us() < db->lock_retry_us)
		return false;
	const char *params[1] = { name };
	PGresult *res = pg_query(db, "SELECT pg_try_advisory_lock(hashtext($1))", 1, params, err, sizeof err);
	bool held = res && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!res)
		log_warn("pg: asking for the lock %s: %s", name, err);
	if (held) {
		db->lock_connects = db->connects;
		*taken = true;
	} else {
		db->lock_retry_us = event_monotonic_us() + PG_LOCK_RETRY_US;
	}
	return held;
}

/* ---- migrations ---- */

static bool pg_migrations_valid(const char *component, const struct pg_migration *m, size_t n, char *err, size_t errlen)
{
	if (!component || !*component) {
		err_set(err, errlen, "pg_migrate: component name missing");
		return false;
	}
	if (n > 0 && (!m || strcmp(component, "common") == 0)) {
		err_set(err, errlen, "pg_migrate: %s", m ? "component name \"common\" is reserved" : "no migrations");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (m[i].version < 1 || (i > 0 && m[i].version <= m[i - 1].version) || !m[i].sql || !m[i].name) {
			err_set(err, errlen,
				"pg_migrate: %s migration #%zu: versions must ascend from 1 and "
				"name and sql must be set",
				component, i);
			return false;
		}
	}
	return true;
}

static bool pg_migration_applied(const PGresult *applied, int version)
{
	char v[16];
	snprintf(v, sizeof v, "%d", version);
	for (int r = 0; r < PQntuples(applied); r++) {
		if (strcmp(PQgetvalue(applied, r, 0), v) == 0)
			return true;
	}
	return false;
}

static bool pg_migration_apply(struct pg *db, const char *component, const struct pg_migration *m, char *err,
			       size_t errlen)
{
	char version[16], why[512] = "";
	snprintf(version, sizeof version, "%d", m->version);
	const char *params[3] = { component, version, m->name };
	PGresult *res = NULL;
	bool ok = pg_begin(db, why, sizeof why) && pg_exec(db, m->sql, why, sizeof why) &&
		  (res = pg_query(db,
				  "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2::int, $3)",
				  3, params, why, sizeof why)) != NULL;
	PQclear(res);
	ok = ok && pg_commit(db, why, sizeof why);
	if (!ok) {
		pg_rollback(db);
		err_set(err, errlen, "migration %s version %d (%s) failed: %s", component, m->version, m->name, why);
		return false;
	}
	log_info("pg: applied migration %s version %d (%s) to schema %s", component, m->version, m->name, db->schema);
	return true;
}

static bool pg_migrate_component(struct pg *db, const char *component, const struct pg_migration *m, size_t n,
				 char *err, size_t errlen)
{
	const char *params[1] = { component };
	PGresult *applied = pg_query(db, "SELECT version FROM schema_migrations WHERE component = $1 ORDER BY version",
				     1, params, err, errlen);
	if (!applied)
		return false;
	int rows = PQntuples(applied);
	long newest = rows > 0 ? strtol(PQgetvalue(applied, rows - 1, 0), NULL, 10) : 0;
	if (n > 0 && newest > m[n - 1].version)
		log_warn("pg: schema %s has %s migration version %ld, newer than this build knows (%d): running an "
			 "older build on a newer schema",
			 db->schema, component, newest, m[n - 1].version);
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		if (!pg_migration_applied(applied, m[i].version))
			ok = pg_migration_apply(db, component, &m[i], err, errlen);
	}
	PQclear(applied);
	return ok;
}

bool pg_migrate(struct pg *db, const char *component, const struct pg_migration *m, size_t n, char *err, size_t errlen)
{
	if (!pg_migrations_valid(component, m, n, err, errlen))
		return false;
	if (pg_in_transaction(db)) {
		err_set(err, errlen, "pg_migrate: inside a transaction");
		return false;
	}
	if (!pg_ensure(db, err, errlen))
		return false;
	/* A session lock, so that it holds across the per-migration transactions; it goes away with
	 * the session if we die holding it. */
	const char *params[1] = { db->schema };
	PGresult *res = pg_query(db, "SELECT pg_advisory_lock(hashtext($1))", 1, params, err, errlen);
	if (!res)
		return false;
	PQclear(res);

	bool ok = pg_exec(db,
			  "CREATE TABLE IF NOT EXISTS schema_migrations ("
			  " component text NOT NULL,"
			  " version int NOT NULL,"
			  " name text NOT NULL,"
			  " applied_at timestamptz NOT NULL DEFAULT now(),"
			  " PRIMARY KEY (component, version))",
			  err, errlen) &&
		  pg_migrate_component(db, "common", pg_common_migrations,
				       sizeof pg_common_migrations / sizeof pg_common_migrations[0], err, errlen) &&
		  pg_migrate_component(db, component, m, n, err, errlen);

	if (db->broken)
		return ok; /* the lock went with the session */
	char why[256];
	res = pg_query(db, "SELECT pg_advisory_unlock(hashtext($1))", 1, params, why, sizeof why);
	if (!res)
		log_warn("pg: releasing the migration lock of schema %s: %s", db->schema, why);
	PQclear(res);
	return ok;
}

/* ---- inbox ---- */

static long pg_cmd_tuples(PGresult *res)
{
	const char *s = PQcmdTuples(res);
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return (*s == '\0' || *end != '\0' || errno) ? -1 : v;
}

int pg_inbox_claim(struct pg *db, const char *consumer, const char *event_id, const char *topic, int32_t partition,
		   int64_t offset, char *err, size_t errlen)
{
	if (!consumer || !*consumer || !event_id || !*event_id) {
		err_set(err, errlen, "pg_inbox_claim: consumer and event id are required");
		return -1;
	}
	/* Outside a transaction the claim would commit on its own, apart from the state change it
	 * guards: exactly the gap the inbox exists to close. */
	if (!pg_in_transaction(db)) {
		err_set(err, errlen, "pg_inbox_claim: not inside a transaction");
		return -1;
	}
	char part[16], off[24];
	snprintf(part, sizeof part, "%d", (int)partition);
	snprintf(off, sizeof off, "%lld", (long long)offset);
	const char *params[5] = { consumer, event_id, topic ? topic : "", partition >= 0 ? part : NULL,
				  offset >= 0 ? off : NULL };
	PGresult *res = pg_query(db,
				 "INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")"
				 " VALUES ($1, $2, $3, $4::int, $5::bigint)"
				 " ON CONFLICT (consumer, event_id, topic) DO NOTHING",
				 5, params, err, errlen);
	if (!res)
		return -1;
	long n = pg_cmd_tuples(res);
	PQclear(res);
	if (n != 0 && n != 1) {
		err_set(err, errlen, "pg_inbox_claim: unexpected row count %ld", n);
		return -1;
	}
	return (int)n;
}

int pg_inbox_prune(struct pg *db, int keep_days, char *err, size_t errlen)
{
	if (keep_days < 1) {
		err_set(err, errlen, "pg_inbox_prune: keep_days must be at least 1");
		return -1;
	}
	if (pg_in_transaction(db)) {
		err_set(err, errlen, "pg_inbox_prune: inside a transaction");
		return -1;
	}
	char days[16], batch[16];
	snprintf(days, sizeof days, "%d", keep_days);
	snprintf(batch, sizeof batch, "%d", PG_PRUNE_BATCH);
	const char *params[2] = { days, batch };
	/* In batches, each its own transaction: no long lock or huge WAL burst for a big backlog. */
	int total = 0;
	for (int i = 0; i < PG_PRUNE_MAX_BATCHES; i++) {
		PGresult *res = pg_query(db,
					 "DELETE FROM inbox WHERE (consumer, event_id, topic) IN"
					 " (SELECT consumer, event_id, topic FROM inbox"
					 "  WHERE applied_at < now() - make_interval(days => $1::int) LIMIT $2::int)",
					 2, params, err, errlen);
		if (!res)
			return -1;
		long n = pg_cmd_tuples(res);
		PQclear(res);
		if (n < 0) {
			err_set(err, errlen, "pg_inbox_prune: unexpected row count");
			return -1;
		}
		total += (int)n;
		if (n < PG_PRUNE_BATCH)
			break;
	}
	if (total > 0)
		log_info("pg: pruned %d inbox rows older than %d days from schema %s", total, keep_days, db->schema);
	return total;
}
