/* pg — the PostgreSQL side every service shares: a connection that reconnects, one schema per
 * service, versioned migrations applied at start-up, the inbox of applied event ids and the outbox
 * relayed to Kafka.
 *
 * A struct pg is used by one thread at a time. Readiness probes from the HTTP threads use
 * pg_reachable, which opens its own short connection. */
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
void pg_free(struct pg *db);    /* NULL-safe */

/* Connects if not connected, or reconnects when the connection went bad; creates the schema if
 * missing and sets search_path. false with err when the server cannot be reached. */
bool pg_ensure(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
PGconn *pg_conn(struct pg *db);       /* current connection (may be NULL before pg_ensure) */
const char *pg_schema(const struct pg *db);

/* Runs sql (no parameters, may hold several statements); false with err on failure. */
bool pg_exec(struct pg *db, const char *sql, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Runs a parameterised statement (text parameters, NULL = SQL NULL). Returns the result when its
 * status is COMMAND_OK or TUPLES_OK (caller PQclear()s), else NULL with err. */
PGresult *pg_query(struct pg *db, const char *sql, int nparams, const char *const *params,
		   char *err, size_t errlen) __attribute__((warn_unused_result));
bool pg_begin(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
bool pg_commit(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));
void pg_rollback(struct pg *db);      /* best effort; safe when no transaction is open */

/* One connection attempt with a short timeout (readiness). Thread-safe. */
bool pg_reachable(const char *dsn, int timeout_s);

/* ---- migrations ----
 * Versions are applied in order, each in its own transaction, recorded in
 * <schema>.schema_migrations(component, version, name, applied_at). A session advisory lock keyed
 * by the schema name serialises instances starting at once. The common tables (inbox, outbox) are
 * migrated first under component "common". */
struct pg_migration {
	int version;          /* 1, 2, 3 ... ascending */
	const char *name;
	const char *sql;
};
bool pg_migrate(struct pg *db, const char *component, const struct pg_migration *m, size_t n,
		char *err, size_t errlen) __attribute__((warn_unused_result));

/* ---- inbox ----
 * Inside the caller's transaction: records that consumer applied event_id. Returns 1 when the
 * event is new (go on and apply it), 0 when it was applied before (skip it), -1 on error. */
int pg_inbox_claim(struct pg *db, const char *consumer, const char *event_id, const char *topic,
		   int32_t partition, int64_t offset, char *err, size_t errlen);

/* ---- outbox ----
 * Inside the caller's transaction: queues a message for Kafka. The relay produces it later with
 * the same event id, so a crash between commit and produce delays it and never loses it. */
struct outbox_msg {
	const char *topic;
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	const char *event_id;
	const char *traceparent;      /* NULL: none */
	int64_t source_time_us;
	const char *message_type;
};
bool pg_outbox_add(struct pg *db, const struct outbox_msg *m, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Relays up to max queued messages in id order: produces them, waits for the broker's
 * acknowledgements (bounded), deletes the acknowledged rows. Returns how many were relayed, -1 on
 * error (nothing is deleted that was not acknowledged). Uses FOR UPDATE SKIP LOCKED, so two
 * instances can relay at once without sending a row twice in the normal case. */
int pg_outbox_relay(struct pg *db, struct kafka_producer *p, int max, char *err, size_t errlen);

#endif
