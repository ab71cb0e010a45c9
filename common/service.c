#include "service.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "httpd.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"
#include "pg_conninfo.h"
#include "shutdown.h"

#define SERVICE_TOPICS_MAX 16

/* below health's step limit, so that a broker that is down reads "Kafka unreachable", not "Kafka
 * has not answered" */
#define SERVICE_READY_KAFKA_MS      2000
#define SERVICE_READY_INTERVAL_MS   1000
#define SERVICE_READY_STEP_LIMIT_MS 3000

struct service {
	const struct service_def *def;
	const struct service_settings *settings;
	struct httpd *http;
	struct pg *db;
	struct kafka_producer *dlq;
	struct kafka_consumer *consumer;
	atomic_bool migrated;
	struct health *health; /* /readyz's state, kept by its own thread */
	struct pg *probe_db;   /* the readiness check's only, kept between checks */
};

struct httpd *service_httpd(struct service *svc)
{
	return svc->http;
}

struct pg *service_db(struct service *svc)
{
	return svc->db;
}

struct kafka_consumer *service_consumer(struct service *svc)
{
	return svc->consumer;
}

struct kafka_producer *service_dlq(struct service *svc)
{
	return svc->dlq;
}

const struct service_settings *service_settings(const struct service *svc)
{
	return svc->settings;
}

const char *service_name(const struct service *svc)
{
	return svc->def->name;
}

/* ---- readiness ---------------------------------------------------------------------------------- */

/* One look at everything /readyz promises, on the health thread (it may wait on I/O; a step that
 * hangs is reported by health itself). One kept connection, not one per check. */
static bool service_ready_check(struct health *h, void *ud, char *reason, size_t len)
{
	struct service *svc = ud;
	char err[256];
	health_step(h, "PostgreSQL");
	if (!pg_exec(svc->probe_db, "SELECT 1", err, sizeof err)) {
		snprintf(reason, len, "PostgreSQL unreachable");
		return false;
	}
	if (!atomic_load(&svc->migrated)) {
		snprintf(reason, len, "database migrations not applied yet");
		return false;
	}
	health_step(h, "Kafka");
	if (!kafka_reachable(kafka_consumer_handle(svc->consumer), SERVICE_READY_KAFKA_MS)) {
		snprintf(reason, len, "Kafka unreachable");
		return false;
	}
	if (!kafka_consumer_joined(svc->consumer)) {
		snprintf(reason, len, "not yet a member of its Kafka consumer group");
		return false;
	}
	return true;
}

/* ---- start and stop ------------------------------------------------------------------------------ */

/* Waits for PostgreSQL and applies the migrations; false only when shutdown came first. */
static bool service_prepare_db(struct service *svc)
{
	char err[512];
	long delay = 200;
	while (!shutdown_requested()) {
		if (pg_ensure(svc->db, err, sizeof err) && svc->def->migrate(svc->db, err, sizeof err))
			return true;
		log_warn("database not ready, retrying in %ld ms: %s", delay, err);
		shutdown_sleep_ms(delay);
		delay = delay < 5000 ? delay * 2 : 5000;
	}
	return false;
}

static bool service_open(struct service *svc, const void *cfg)
{
	char err[512] = "out of memory";
	const char *topics[SERVICE_TOPICS_MAX];
	size_t ntopics = svc->def->topics(cfg, topics, SERVICE_TOPICS_MAX);
	svc->db = pg_new(svc->settings->pg_dsn, svc->def->schema);
	svc->probe_db = pg_new(svc->settings->pg_dsn, svc->def->schema);
	svc->dlq = kafka_producer_new(svc->def->name, err, sizeof err);
	svc->consumer = svc->dlq ? kafka_consumer_new(svc->def->name, svc->def->group_id(cfg), topics, ntopics, err,
						      sizeof err)
				 : NULL;
	if (!svc->db || !svc->probe_db || !svc->dlq || !svc->consumer) {
		log_error("cannot start: %s", err);
		return false;
	}
	svc->health = health_new(service_ready_check, svc, SERVICE_READY_STEP_LIMIT_MS, SERVICE_READY_INTERVAL_MS);
	if (!svc->health) {
		log_error("cannot start the readiness check");
		return false;
	}
	const struct service_settings *st = svc->settings;
	const struct httpd_opts ho = {
		.bind = st->http_bind,
		.port = (int)st->http_port,
		.max_body = (size_t)st->http_max_body,
		.max_connections = (unsigned)st->http_max_connections,
		.max_connections_per_ip = (unsigned)st->http_max_connections_per_ip,
		.client_timeout_s = (unsigned)((st->http_client_timeout + 999) / 1000),
		.workers = svc->def->http_workers,
		.builtin_routes = true,
		.ready = health_ready,
		.ready_ud = svc->health,
	};
	svc->http = httpd_new(&ho, err, sizeof err);
	if (!svc->http) {
		log_error("cannot serve HTTP: %s", err);
		return false;
	}
	log_info("serving /healthz /readyz /metrics on %s:%d", st->http_bind, httpd_port(svc->http));
	return true;
}

/* The consumer loop; returns when shutdown is requested, by a signal or a fatal error. */
static int service_loop(struct service *svc, void *app)
{
	while (!shutdown_requested()) {
		char fatal[256];
		if (svc->def->run_once(app, 100) < 0)
			shutdown_sleep_ms(500);
		/* the DLQ producer's statistics and errors are served here, not left to pile up */
		kafka_producer_poll(svc->dlq, 0);
		if (kafka_producer_fatal(svc->dlq, fatal, sizeof fatal)) {
			log_error("producer fatal error: %s", fatal);
			return 1;
		}
	}
	return 0;
}

static void service_close(struct service *svc, void *app)
{
	shutdown_request(); /* fixes the stop's deadline, if a signal has not already */
	log_info("stopping (within %lld ms)", svc->settings->shutdown_timeout);
	/* first: no handler may run into the service's parts while they are freed */
	httpd_free(svc->http);
	if (app)
		svc->def->stop(app);
	health_free(svc->health); /* before the consumer: the check reads its handle */
	/* what is left of the one bound of the stop */
	kafka_consumer_close(svc->consumer, (int)shutdown_left_ms());
	if (svc->dlq && !kafka_producer_flush(svc->dlq, (int)shutdown_left_ms()))
		log_warn("dead letters still unsent at the shutdown deadline");
	kafka_producer_free(svc->dlq);
	pg_free(svc->probe_db);
	pg_free(svc->db);
	log_info("stopped");
}

static int service_run(const struct service_def *def, const void *cfg)
{
	struct service svc = { .def = def, .settings = cfg };
	void *app = NULL;
	int rc = 1;
	if (!service_open(&svc, cfg))
		goto out;
	if (!service_prepare_db(&svc)) {
		rc = 0; /* asked to stop before the database came */
		goto out;
	}
	atomic_store(&svc.migrated, true);
	app = def->start(&svc, cfg);
	if (!app)
		goto out;
	rc = service_loop(&svc, app);
out:
	service_close(&svc, app);
	return rc;
}

/* ---- main ---------------------------------------------------------------------------------------- */

int service_main(const struct service_def *def, int argc, char **argv)
{
	enum log_level level = LOG_INFO;
	if (argc > 1 && strcmp(argv[1], "--config-reference") == 0) {
		config_print_reference(def->config, def->name);
		if (def->reference_more) {
			printf("\n");
			def->reference_more();
		}
		return 0;
	}
	/* glibc gives each thread that allocates its own malloc arena, and freed memory stays in them:
	 * with a service's worker threads and librdkafka's that was ~3 MB of resident memory for
	 * nothing (docs/benchmarks.md). Two arenas; MALLOC_ARENA_MAX still decides when set. */
	if (!getenv("MALLOC_ARENA_MAX"))
		(void)mallopt(M_ARENA_MAX, 2);
	void *cfg = calloc(1, def->config_size);
	if (!cfg)
		return 1;
	log_init(def->name, LOG_INFO);
	/* every loader runs before giving up, so one start lists every problem */
	bool ok = config_load(def->config, cfg);
	ok = config_kafka_check() && ok;
	ok = (!def->load_more || def->load_more(cfg)) && ok;
	int rc = 2;
	if (!ok) {
		log_error("configuration invalid; not starting");
		goto out;
	}
	const struct service_settings *s = cfg;
	if (log_level_parse(s->log_level, &level))
		log_init(def->name, level);
	config_log(def->config, cfg);
	if (def->log_more)
		def->log_more(cfg);
	shutdown_install();
	shutdown_set_timeout((long)s->shutdown_timeout);
	pg_conninfo_configure(&(struct pg_settings){ s->pg_statement_timeout, s->pg_tcp_timeout });
	rc = service_run(def, cfg);
out:
	if (def->free_more)
		def->free_more(cfg);
	config_free(def->config, cfg);
	free(cfg);
	return rc;
}
