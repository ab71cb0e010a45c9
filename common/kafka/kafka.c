/* kafka — what the producer (kafka_producer.c) and the consumer (kafka_consumer.c) share, on
 * librdkafka 2.0.2: per-topic counters, configuration, the callbacks of both handles, readiness.
 * What needs no handle (statistics parsing, building and reading headers) is in kafka_stats.c. */
#include "kafka.h"
#include "kafka_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "shutdown.h"

/* ---- per-topic counters -------------------------------------------------------------------------- */

static const struct {
	const char *name;
	const char *help;
} kafka_metric_defs[KM_COUNT] = {
	[KM_PRODUCED] = { "erpsync_kafka_produced_total", "Messages the broker acknowledged, per topic." },
	[KM_PRODUCE_ERRORS] = { "erpsync_kafka_produce_errors_total",
				"Messages refused by the producer or not delivered, per topic." },
	[KM_DLQ] = { "erpsync_kafka_dlq_total", "Messages sent to <topic>.dlq and acknowledged, per source topic." },
	[KM_CONSUMED] = { "erpsync_kafka_consumed_total", "Messages handed to the service, per topic." },
	[KM_CONSUME_ERRORS] = { "erpsync_kafka_consume_errors_total",
				"Consumer errors reported by librdkafka, per topic (_none: not about a topic)." },
};

static const char *const kafka_topic_label[] = { "topic", NULL };

void kafka_metrics_init(struct kafka_metrics *km, enum kafka_metric first, enum kafka_metric last)
{
	pthread_mutex_init(&km->lock, NULL);
	for (int k = first; k <= (int)last; k++)
		km->fam[k] = metrics_counter(kafka_metric_defs[k].name, kafka_metric_defs[k].help, kafka_topic_label);
}

void kafka_metrics_cleanup(struct kafka_metrics *km)
{
	pthread_mutex_destroy(&km->lock);
}

void kafka_count(struct kafka_metrics *km, enum kafka_metric k, const char *topic)
{
	struct metric_series *s = NULL;
	size_t i;

	if (!km->fam[k])
		return;
	if (!topic || !*topic)
		topic = "_none";
	pthread_mutex_lock(&km->lock);
	for (i = 0; i < km->ntopics && strcmp(km->topics[i].topic, topic) != 0; i++)
		;
	if (i == km->ntopics && i < KAFKA_TOPIC_SLOTS && strlen(topic) < KAFKA_TOPIC_MAX) {
		snprintf(km->topics[i].topic, sizeof km->topics[i].topic, "%s", topic);
		km->ntopics++;
	}
	if (i < km->ntopics) {
		if (!km->topics[i].s[k])
			km->topics[i].s[k] = metrics_series1(km->fam[k], topic);
		s = km->topics[i].s[k];
	} else {
		s = metrics_series1(km->fam[k], topic);
	}
	pthread_mutex_unlock(&km->lock);
	metrics_inc(s);
}

/* ---- configuration and the callbacks both handles share -------------------------------------------- */

static bool kafka_conf_set_all(rd_kafka_conf_t *conf, const struct kafka_prop *props, size_t n, char *err,
			       size_t errlen)
{
	char why[256];

	for (size_t i = 0; i < n; i++) {
		if (rd_kafka_conf_set(conf, props[i].name, props[i].value, why, sizeof why) != RD_KAFKA_CONF_OK) {
			err_set(err, errlen, "kafka %s=%s: %s", props[i].name, props[i].value, why);
			return false;
		}
	}
	return true;
}

/* Settings the delivery guarantees rest on: the environment may not change them. */
static bool kafka_conf_check(rd_kafka_conf_t *conf, const struct kafka_prop *props, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char have[512] = "";
		size_t len = sizeof have;

		if (rd_kafka_conf_get(conf, props[i].name, have, &len) != RD_KAFKA_CONF_OK ||
		    strcmp(have, props[i].value) != 0) {
			err_set(err, errlen, "kafka %s must be \"%s\" in erpsync, the environment set \"%s\"",
				props[i].name, props[i].value, have);
			return false;
		}
	}
	return true;
}

/* librdkafka logs with syslog levels (0 emergency .. 7 debug); <syslog.h>'s names clash with log.h's. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	enum log_level l = level <= 3 ? LOG_ERROR : level == 4 ? LOG_WARN : level <= 6 ? LOG_INFO : LOG_DEBUG;

	log_write(l, NULL, "librdkafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

/* Most errors here are transient (a broker went away; librdkafka reconnects). A fatal one ends the
 * handle: the producer's is for the service to see through kafka_producer_fatal; a consumer has no
 * such call, so its fatal error (only possible with static membership) asks the service to stop. */
static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	char why[512];
	rd_kafka_resp_err_t fatal;

	(void)opaque;
	if (err != RD_KAFKA_RESP_ERR__FATAL) {
		log_warn("kafka %s: %s: %s", rd_kafka_name(rk), rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
		return;
	}
	fatal = rd_kafka_fatal_error(rk, why, sizeof why);
	log_error("kafka %s: fatal error %s: %s", rd_kafka_name(rk), rd_kafka_err2name(fatal), why);
	if (rd_kafka_type(rk) == RD_KAFKA_CONSUMER)
		shutdown_request();
}

/* Returning 0 lets librdkafka free json. */
static int kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	(void)rk;
	(void)opaque;
	(void)kafka_stats_apply(json, len);
	return 0;
}

/* Our defaults first, then every KAFKA_* variable (so operators can tune linger.ms, timeouts, security
 * and the like), then a check that the environment left the guarantees alone. */
rd_kafka_t *kafka_handle_new(const struct kafka_handle_spec *spec, char *err, size_t errlen)
{
	char why[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (!conf) {
		err_set(err, errlen, "%s: out of memory", spec->role);
		return NULL;
	}
	if (!kafka_conf_set_all(conf, spec->defaults, spec->ndefaults, err, errlen) ||
	    !config_kafka_apply(conf, err, errlen) ||
	    !kafka_conf_check(conf, spec->required, spec->nrequired, err, errlen)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
	rd_kafka_conf_set_opaque(conf, spec->opaque);
	if (spec->role_cbs)
		spec->role_cbs(conf);
	rd_kafka_t *rk = rd_kafka_new(spec->type, conf, why, sizeof why);
	if (!rk) {
		err_set(err, errlen, "%s: %s", spec->role, why);
		rd_kafka_conf_destroy(conf); /* not taken over on failure */
	}
	return rk;
}

/* "topic[3] topic[4] ..." for log lines, truncated to outlen. */
void kafka_partitions_str(const rd_kafka_topic_partition_list_t *l, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; l && i < l->cnt && n < outlen; i++) {
		int w = snprintf(out + n, outlen - n, "%s%s[%d]", i ? " " : "", l->elems[i].topic,
				 (int)l->elems[i].partition);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* ---- readiness --------------------------------------------------------------------------------------------- */

bool kafka_reachable(rd_kafka_t *rk, int timeout_ms)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e;

	if (!rk)
		return false;
	e = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
	if (md)
		rd_kafka_metadata_destroy(md);
	return e == RD_KAFKA_RESP_ERR_NO_ERROR;
}
