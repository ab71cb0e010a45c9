/* service — the runtime every erpsync service hands its main() to, so that a service is its config
 * table, its migrations and its handlers, and its main.c is wiring only.
 *
 * service_main() does, in order:
 *   --config-reference   prints the runtime's rows and the service's, sorted, as Markdown; exits 0
 *   configuration        loads every row, KAFKA_* and the service's other loaders; reports every
 *                        problem at once and exits 2; logs the effective values, secrets as ***
 *   HTTP                 /healthz (never waits on I/O), /readyz (from state kept by a background
 *                        check, health.h: PostgreSQL answers, migrations applied, Kafka answers,
 *                        the consumer joined its group) and /metrics, within the HTTP_* limits;
 *                        the service adds its own routes in start (httpd_admin guards /admin/...)
 *   PostgreSQL           waits for it (with back-off) and applies the service's migrations
 *   Kafka                a producer for dead letters and a consumer of the service's topics
 *   start, run_once...   the service's hooks, until SIGTERM/SIGINT or a fatal error
 *   shutdown             one deadline, SHUTDOWN_TIMEOUT from the moment stopping begins (shutdown.h),
 *                        bounds the service's stop, the consumer's close and the producer's flush
 *
 * The service's config struct starts with `struct service_settings base;` and its table starts
 * with SERVICE_CONFIG_ROWS(...): the runtime reads its own settings through that member. */
#ifndef ERPSYNC_SERVICE_H
#define ERPSYNC_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct httpd;
struct kafka_consumer;
struct kafka_producer;
struct pg;
struct service;

/* The settings every service has. */
struct service_settings {
	char *admin_token;        /* Bearer token of /admin/...; NULL: loopback callers only */
	char *http_allowed_hosts; /* further Host names /admin/... answers to */
	char *http_bind;
	long long http_client_timeout; /* ms */
	long long http_max_body;
	long long http_max_connections;
	long long http_max_connections_per_ip;
	long long http_port;
	char *log_level;
	char *pg_dsn;
	long long pg_statement_timeout; /* ms; 0: none */
	long long pg_tcp_timeout;       /* ms; 0: the system's */
	long long shutdown_timeout;     /* ms */
};

/* The runtime's rows of a service's table (CONFIG_TARGET must name the service's struct, whose
 * first member is `struct service_settings base`). port: the default HTTP port, as text. */
#define SERVICE_CONFIG_ROWS(port)                                                                                     \
	CONFIG_STR("ADMIN_TOKEN", NULL, CONFIG_SECRET, base.admin_token,                                              \
		   "Bearer token /admin/... requires of every caller; unset: /admin/... serves only callers "         \
		   "connecting from a loopback address, not relayed by a proxy"),                                     \
		CONFIG_STR("HTTP_ALLOWED_HOSTS", NULL, CONFIG_OPTIONAL, base.http_allowed_hosts,                      \
			   "further Host names /admin/... answers to, comma-separated name or name:port (say, the "   \
			   "name a reverse proxy passes on); localhost, loopback addresses and HTTP_BIND with "       \
			   "HTTP_PORT always are"),                                                                   \
		CONFIG_STR("HTTP_BIND", "127.0.0.1", CONFIG_OPTIONAL, base.http_bind,                                 \
			   "address of /healthz, /readyz, /metrics and the service's endpoints"),                     \
		CONFIG_DUR("HTTP_CLIENT_TIMEOUT", "10s", 1000, 3600000, base.http_client_timeout,                     \
			   "an HTTP connection that sends nothing this long is closed (whole seconds)"),              \
		CONFIG_INT("HTTP_MAX_BODY", "4194304", 1024, 67108864, base.http_max_body,                            \
			   "largest request body in bytes (a pushed batch of 10,000 stock records is about 1.4 MB); " \
			   "a larger one is refused with 413 before it is read"),                                     \
		CONFIG_INT("HTTP_MAX_CONNECTIONS", "64", 4, 10000, base.http_max_connections,                         \
			   "HTTP connections served at once; more wait in the listen queue"),                         \
		CONFIG_INT("HTTP_MAX_CONNECTIONS_PER_IP", "16", 0, 10000, base.http_max_connections_per_ip,           \
			   "HTTP connections served at once from one address (a reverse proxy is one); more are "     \
			   "closed at once; 0: no cap"),                                                              \
		CONFIG_INT("HTTP_PORT", port, 1, 65535, base.http_port, "port of /healthz, /readyz, /metrics"),       \
		CONFIG_ONE_OF("LOG_LEVEL", "info", "debug|info|warn|error", base.log_level, "lowest level logged"),   \
		CONFIG_STR("PG_DSN", NULL, CONFIG_REQUIRED | CONFIG_SECRET, base.pg_dsn,                              \
			   "libpq connection string of the service's PostgreSQL"),                                    \
		CONFIG_DUR("PG_STATEMENT_TIMEOUT", "30s", 0, 3600000, base.pg_statement_timeout,                      \
			   "statement_timeout of every PostgreSQL session (unless PG_DSN sets one); 0: none"),        \
		CONFIG_DUR("PG_TCP_TIMEOUT", "30s", 0, 600000, base.pg_tcp_timeout,                                   \
			   "a PostgreSQL connection whose peer is silent this long is dropped (TCP keepalives, "      \
			   "tcp_user_timeout; unless PG_DSN sets them); with PG_STATEMENT_TIMEOUT, a statement "      \
			   "unanswered for both is given up; 0: system defaults"),                                    \
		CONFIG_DUR("SHUTDOWN_TIMEOUT", "10s", 100, 120000, base.shutdown_timeout,                             \
			   "bound on the whole stop after SIGTERM: calls to shops, the ERP and PostgreSQL in flight " \
			   "get half of it, committing offsets and flushing producers the rest")

struct service_def {
	const char *name;                /* "stock-sync": logs, producer ids, DLQ headers */
	const char *schema;              /* its own PostgreSQL schema */
	unsigned http_workers;           /* threads running blocking routes (webhooks); 0: httpd's default */
	const struct config_key *config; /* its table, SERVICE_CONFIG_ROWS first */
	size_t config_size;              /* sizeof its config struct */
	/* Optional loaders beside the table (the shops of ERPSYNC_SHOPS, say): load reports its
	 * problems and returns false; the others may be NULL. */
	bool (*load_more)(void *cfg);
	void (*log_more)(const void *cfg);
	void (*reference_more)(void);
	void (*free_more)(void *cfg);
	/* Applies the service's migrations on db. */
	bool (*migrate)(struct pg *db, char *err, size_t errlen);
	/* The consumer group and the topics it reads (at most 16), from the loaded config. */
	const char *(*group_id)(const void *cfg);
	size_t (*topics)(const void *cfg, const char **topics, size_t max);
	/* After the migrations: builds the service's parts on the runtime's (service_httpd, ...).
	 * Returns its state, or NULL when it cannot start (the runtime then stops). */
	void *(*start)(struct service *svc, const void *cfg);
	/* One turn of the service's loop, at most about timeout_ms; < 0 when it could not make
	 * progress (the runtime waits a little before the next). */
	int (*run_once)(void *app, int timeout_ms);
	/* Stops and frees what start built, within the stop's bound (shutdown_work_left_ms and
	 * shutdown_left_ms say what is left of it). */
	void (*stop)(void *app);
};

/* Runs the service; the process's exit status (0 stopped cleanly, 1 failed, 2 bad configuration). */
int service_main(const struct service_def *def, int argc, char **argv);

/* What start may use; owned by the runtime, valid until stop returns. */
struct httpd *service_httpd(struct service *svc);
struct pg *service_db(struct service *svc); /* the runtime's migrated connection */
struct kafka_consumer *service_consumer(struct service *svc);
struct kafka_producer *service_dlq(struct service *svc); /* dead letters */
const struct service_settings *service_settings(const struct service *svc);
const char *service_name(const struct service *svc);

#endif
