/* pg — the PostgreSQL side every service shares: a connection that reconnects, one schema per
 * service, versioned migrations applied at start-up, the inbox of applied event ids and the outbox
 * relayed to Kafka.
 *
 * A struct pg is used by one thread at a time. A check that runs every second (readiness) keeps a
 * struct pg of its own: a connection per check would be a backend started every second. */
#ifndef ERPSYNC_PG_H
#define ERPSYNC_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct pg;
struct kafka_producer;

/* dsn: a libpq connection string; schema: the service's own schema (search_path is set to it).
 * Does not connect yet. */
struct pg *pg_new(const char *dsn, const char *schema);
void pg_free(struct pg *db); /* NULL-safe */

/* Connects if not connected, or reconnects when the connection went bad; creates the schema if
 * missing and sets search_path. false with err when the server cannot be reached. */
bool pg_ensure(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
PGconn *pg_conn(struct pg *db); /* current connection (may be NULL before pg_ensure) */
const char *pg_schema(const struct pg *db);

/* Runs sql (no parameters, may hold several statements); false with err on failure. */
bool pg_exec(struct pg *db, const char *sql, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Runs a parameterised statement (text parameters, NULL = SQL NULL). Returns the result when its
 * status is COMMAND_OK or TUPLES_OK (caller PQclear()s), else NULL with err. */
PGresult *pg_query(struct pg *db, const char *sql, int nparams, const char *const *params, char *err, size_t errlen)
	__attribute__((warn_unused_result));
bool pg_begin(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
bool pg_commit(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
void pg_rollback(struct pg *db); /* best effort; safe when no transaction is open */

/* Like pg_query, with per-parameter lengths and formats (1 = binary, e.g. bytea; lengths matter
 * only for binary ones) and a result format (0 text, 1 binary). lengths/formats may be NULL. */
PGresult *pg_query_params(struct pg *db, const char *sql, int nparams, const char *const *values, const int *lengths,
			  const int *formats, int result_format, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Like pg_query_params, for a statement run often: prepared once per session under name and
 * then executed by name, so PostgreSQL parses it once per connection instead of on every call; a
 * new session (a reconnect) prepares it again on first use. name and sql must stay valid as long
 * as db (string constants), and one name always goes with the same sql (another sql under a taken
 * name is refused). nparams >= 0; parameter types are inferred as for pg_query. Past 32 names on a
 * session, further statements run unprepared. */
PGresult *pg_query_prepared(struct pg *db, const char *name, const char *sql, int nparams, const char *const *values,
			    const int *lengths, const int *formats, int result_format, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* pg_begin in libpq's pipeline mode: BEGIN goes out with the transaction's first statement
 * instead of taking a round trip of its own. pg_query, pg_query_params and pg_query_prepared work
 * as in pg_begin's transaction (each waits for its answer); pg_exec is refused. Ends with
 * pg_commit or pg_rollback as any transaction. */
bool pg_begin_pipeline(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
/* In pg_begin_pipeline's transaction: the statements that follow are sent without waiting for
 * their answers, and each returns an empty COMMAND_OK result (PQclear it; nothing to read in it);
 * pg_commit sends COMMIT after them, reads every answer in one round trip and fails with the first
 * statement that failed (its SQLSTATE in pg_last_sqlstate; the transaction is rolled back). For
 * the writes after a decision, whose answers the caller does not need. No effect outside a
 * pipeline. */
void pg_pipeline_defer(struct pg *db);
/* true between a successful pg_begin and pg_commit/pg_rollback. */
bool pg_in_transaction(const struct pg *db);
/* SQLSTATE of the last failed statement ("40001", "23505", ...; "25P02" when pg_commit found the
 * transaction aborted); "" when it failed without one (connection lost) or nothing failed. For
 * deciding whether to retry a transaction. */
const char *pg_last_sqlstate(const struct pg *db);
/* Whether a SQLSTATE says PostgreSQL refuses the data itself, so that trying the same again cannot
 * help: a data exception (22), an integrity constraint violation (23, but a unique violation, which
 * a retry settles when two writers met) or a program limit exceeded (54). */
bool pg_sqlstate_refused(const char *sqlstate);

/* For a statement sent on pg_conn(db) with libpq's asynchronous calls (PQsendQueryParams):
 * pg_flush sends what libpq still holds of it (connections are non-blocking), pg_finish waits for
 * its answer: the first error or else the last result (caller PQclear()s). Both are bounded like
 * pg_query; NULL from pg_finish with err when no result came (a wait given up drops the
 * connection). */
bool pg_flush(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
PGresult *pg_finish(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Statements and answers never wait without a bound: a wait gives up (and the connection is
 * dropped) after statement_timeout + the TCP timeout (pg_conninfo.h: a server that neither
 * answers nor fails) and once a shutdown's time for work in flight is over (shutdown.h). After a
 * shutdown began, no new connection is made. */

/* Holds the session advisory lock hashtext(name) on db's session: true while this session does.
 * A new session (a reconnect) has lost it and asks again; while another session holds it, asked
 * at most once a second. *taken: this call took it. Inside a transaction it only tells whether the
 * session still holds it. One name per db. */
bool pg_session_lock(struct pg *db, const char *name, bool *taken) __attribute__((warn_unused_result));

/* Statements outside a transaction reconnect first when the connection is known to be gone (a
 * restart, an idle kill). Inside one they fail, and so does everything up to pg_rollback: a
 * transaction never silently continues on a new connection. No COPY through this API. */

/* ---- migrations ----
 * Versions are applied in order, each in its own transaction, recorded in
 * <schema>.schema_migrations(component, version, name, applied_at). A session advisory lock keyed
 * by the schema name serialises instances starting at once. The common tables (inbox, outbox) are
 * migrated first under component "common". */
struct pg_migration {
	int version; /* 1, 2, 3 ... ascending */
	const char *name;
	const char *sql;
};
bool pg_migrate(struct pg *db, const char *component, const struct pg_migration *m, size_t n, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* ---- inbox ----
 * Inside the caller's transaction: records that consumer applied event_id of topic. Returns 1 when
 * the event is new (go on and apply it), 0 when it was applied before (skip it), -1 on error. An
 * event is known by its topic and id (common migration 4): the same id on two topics is two events. */
int pg_inbox_claim(struct pg *db, const char *consumer, const char *event_id, const char *topic, int32_t partition,
		   int64_t offset, char *err, size_t errlen);
/* (topic may be NULL, stored as ''; partition/offset < 0 for none: events not from Kafka.)
 * Outside a transaction pg_inbox_claim refuses (-1): the claim must commit with the state change.
 * A second instance claiming the same event at once waits for the first one's transaction. */

/* Deletes inbox rows applied more than keep_days (>= 1) ago, in batches of 10,000, at most 1M per
 * call; not inside a transaction. Returns how many, -1 on error. keep_days must exceed the longest
 * time an event can be delivered again (the consumed topics' retention, an offset reset to the
 * earliest offset), or a late duplicate would be applied twice. */
int pg_inbox_prune(struct pg *db, int keep_days, char *err, size_t errlen) __attribute__((warn_unused_result));

/* ---- outbox ----
 * Inside the caller's transaction: queues a message for Kafka. The relay produces it later with
 * the same event id, so a crash between commit and produce delays it and never loses it.
 * Outside a transaction pg_outbox_add refuses. source_time_us 0 stores the time of the call. */
struct outbox_msg {
	const char *topic;
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	const char *event_id;
	const char *traceparent; /* NULL: none */
	int64_t source_time_us;
	const char *message_type;
};
bool pg_outbox_add(struct pg *db, const struct outbox_msg *m, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* message_type of a tombstone: the record goes out with no value at all (a compacted topic then
 * forgets the key); value must be NULL. */
#define OUTBOX_TOMBSTONE "tombstone"

/* Relays up to max queued messages in id order: produces them, waits for the broker's
 * acknowledgements (bounded), deletes the acknowledged rows. Returns how many were relayed, -1 on
 * error (nothing is deleted that was not acknowledged).
 *
 * One relay at a time: a call relays only while db's session holds the service's relay lock (a
 * session advisory lock, pg_session_lock, "erpsync:outbox-relay:<schema>"); on another instance
 * it returns 0 until the holder's session ends. Two relays taking turns on the rows would put a
 * key's records out of order.
 *
 * Not inside a transaction: it runs its own, holding the rows' locks while it waits for the
 * acknowledgements (at most 10 s, kafka_producer_flush; less when a stop leaves less). -1 also
 * when some rows were not acknowledged (delivery failed or the wait ran out): the acknowledged
 * ones are deleted all the same (counted in the metrics only), but for those that must go again
 * to keep their key's order (below), the rest stay for the next call; back off, and check
 * kafka_producer_fatal. While p still holds undelivered messages of an earlier call (broker
 * away), a call waits for them (10 s) and returns -1 without producing, so that an outage does
 * not queue one more copy of the same rows per call.
 * A row kafka_produce refuses (larger than message.max.bytes, say) stays and holds back the later
 * rows of its topic and key; other keys go on. Such a row needs an operator: the errors counter
 * keeps growing while it is there.
 *
 * The relay owns p's delivery callback: each call installs its own with kafka_producer_on_delivery,
 * so anything else produced on p must use opaque NULL (or a producer of its own). Reports that
 * arrive after the 10 s are absorbed safely (their rows are simply relayed again).
 *
 * Delivery is at least once: a crash or a lost commit after the acknowledgement sends rows again
 * with the same event id, which the consumers' inbox absorbs.
 * Order per key: the rows are produced in id order by one idempotent producer (which keeps the
 * order within a partition through its retries), by one relay at a time. A row whose delivery
 * failed goes again on a later call, and so do the later rows of its topic and key that did get
 * through in the same call (pg_outbox_settle): the key's last record is always its newest. That
 * holds when the writers of one key serialise on that entity's row before pg_outbox_add (ids are
 * taken at insert time, rows become visible at commit).
 *
 * Metrics: erpsync_outbox_relayed_total (rows acknowledged and deleted),
 * erpsync_outbox_relay_errors_total (rows not acknowledged + calls that failed in PostgreSQL or
 * found p not drained),
 * erpsync_outbox_pending (gauge after each call: rows left; a count(*) only when the batch was full). */
int pg_outbox_relay(struct pg *db, struct kafka_producer *p, int max, char *err, size_t errlen);

/* ---- building blocks, exposed for unit tests (no database needed) ---- */

/* One row of a relay run as its ordering rule sees it. */
struct outbox_row_state {
	const char *topic;
	const void *key; /* NULL: no key */
	size_t key_len;
	bool acked; /* the broker acknowledged it */
};
/* Which rows of a run (in id order) leave the outbox: remove[i] for each; returns how many. */
int pg_outbox_settle(const struct outbox_row_state *rows, int n, bool *remove);

#endif
