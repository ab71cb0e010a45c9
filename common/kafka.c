/* kafka — the producer and consumer handles every service uses (see kafka.h), on librdkafka 2.0.2:
 * configuration, callbacks, produce, dead letters, consume, store, close. What needs no handle
 * (statistics parsing, building and reading headers) is in kafka_stats.c. */
#include "kafka.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "shutdown.h"

#define KAFKA_STATS_INTERVAL_MS "5000"
#define KAFKA_POLL_SLICE_MS     100     /* waits serve reports in slices this long */
#define KAFKA_DLQ_TIMEOUT_MS    10000
#define KAFKA_FREE_FLUSH_MS     10000
#define KAFKA_TOPIC_MAX         250     /* Kafka topic names have at most 249 characters */
#define KAFKA_TOPIC_SLOTS       32      /* topics are declared (deploy/topics.tsv): a few dozen */

/* ---- per-topic counters -------------------------------------------------------------------------- */

enum kafka_metric { KM_PRODUCED, KM_PRODUCE_ERRORS, KM_DLQ, KM_CONSUMED, KM_CONSUME_ERRORS, KM_COUNT };

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

struct kafka_topic_series {
	char topic[KAFKA_TOPIC_MAX];
	struct metric_series *s[KM_COUNT];
};

/* Series handles kept per topic, so counting a message is a short scan and an atomic add. Topics past
 * the slots are looked up in the registry each time: slower, still right. */
struct kafka_metrics {
	pthread_mutex_t lock;
	struct metric_family *fam[KM_COUNT];
	struct kafka_topic_series topics[KAFKA_TOPIC_SLOTS];
	size_t ntopics;
};

static void kafka_metrics_init(struct kafka_metrics *km, enum kafka_metric first, enum kafka_metric last)
{
	pthread_mutex_init(&km->lock, NULL);
	for (int k = first; k <= (int)last; k++)
		km->fam[k] = metrics_counter(kafka_metric_defs[k].name, kafka_metric_defs[k].help, kafka_topic_label);
}

static void kafka_metrics_cleanup(struct kafka_metrics *km)
{
	pthread_mutex_destroy(&km->lock);
}

static void kafka_count(struct kafka_metrics *km, enum kafka_metric k, const char *topic)
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

static void kafka_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void kafka_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct kafka_prop {
	const char *name;
	const char *value;
};

static bool kafka_conf_set_all(rd_kafka_conf_t *conf, const struct kafka_prop *props, size_t n, char *err,
			       size_t errlen)
{
	char why[256];

	for (size_t i = 0; i < n; i++) {
		if (rd_kafka_conf_set(conf, props[i].name, props[i].value, why, sizeof why) != RD_KAFKA_CONF_OK) {
			kafka_seterr(err, errlen, "kafka %s=%s: %s", props[i].name, props[i].value, why);
			return false;
		}
	}
	return true;
}

/* Settings the delivery guarantees rest on: the environment may not change them. */
static bool kafka_conf_check(rd_kafka_conf_t *conf, const struct kafka_prop *props, size_t n, char *err,
			     size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char have[512] = "";
		size_t len = sizeof have;

		if (rd_kafka_conf_get(conf, props[i].name, have, &len) != RD_KAFKA_CONF_OK ||
		    strcmp(have, props[i].value) != 0) {
			kafka_seterr(err, errlen, "kafka %s must be \"%s\" in erpsync, the environment set \"%s\"",
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
static bool kafka_conf_prepare(rd_kafka_conf_t *conf, const struct kafka_prop *defaults, size_t ndefaults,
			       const struct kafka_prop *required, size_t nrequired, void *opaque, char *err,
			       size_t errlen)
{
	if (!kafka_conf_set_all(conf, defaults, ndefaults, err, errlen) || !config_kafka_apply(conf, err, errlen) ||
	    !kafka_conf_check(conf, required, nrequired, err, errlen))
		return false;
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
	rd_kafka_conf_set_opaque(conf, opaque);
	return true;
}

/* "topic[3] topic[4] ..." for log lines, truncated to outlen. */
static void kafka_partitions_str(const rd_kafka_topic_partition_list_t *l, char *out, size_t outlen)
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

/* ---- producer -------------------------------------------------------------------------------------------- */

/* One kafka_dlq_send waiting for its message's delivery report; the message's opaque. */
struct kafka_dlq_wait {
	struct kafka_dlq_wait *next;
	bool done;
	bool abandoned;               /* the sender stopped waiting: the report frees it */
	rd_kafka_resp_err_t err;
};

struct kafka_producer {
	rd_kafka_t *rk;
	kafka_delivery_fn on_delivery;
	void *on_delivery_ud;
	pthread_mutex_t lock;         /* dlq_waits and the delivery-failure log limiter */
	struct kafka_dlq_wait *dlq_waits;
	atomic_int dlq_inflight;      /* length of dlq_waits: reports skip the lock while it is 0 */
	int64_t failure_logged_us;
	unsigned long failures_unlogged;
	struct kafka_metrics metrics;
	char service[64];
};

/* A broker that is down fails every queued message at message.timeout.ms: one line a second is enough. */
static void producer_log_failure(struct kafka_producer *p, const rd_kafka_message_t *msg)
{
	struct log_ctx ctx = LOG_CTX_INIT;
	int64_t now = event_monotonic_us();
	unsigned long unlogged = 0;
	bool emit;

	pthread_mutex_lock(&p->lock);
	emit = p->failure_logged_us == 0 || now - p->failure_logged_us >= 1000000;
	if (emit) {
		unlogged = p->failures_unlogged;
		p->failures_unlogged = 0;
		p->failure_logged_us = now;
	} else {
		p->failures_unlogged++;
	}
	pthread_mutex_unlock(&p->lock);
	if (!emit)
		return;
	ctx.topic = rd_kafka_topic_name(msg->rkt);
	ctx.partition = msg->partition;
	if (unlogged)
		log_ctx_error(&ctx, "kafka delivery failed: %s (and %lu more since the last such line)",
			      rd_kafka_err2str(msg->err), unlogged);
	else
		log_ctx_error(&ctx, "kafka delivery failed: %s", rd_kafka_err2str(msg->err));
}

static void producer_dlq_register(struct kafka_producer *p, struct kafka_dlq_wait *w)
{
	pthread_mutex_lock(&p->lock);
	w->next = p->dlq_waits;
	p->dlq_waits = w;
	atomic_fetch_add(&p->dlq_inflight, 1);
	pthread_mutex_unlock(&p->lock);
}

static void producer_dlq_unlink_locked(struct kafka_producer *p, struct kafka_dlq_wait *w)
{
	for (struct kafka_dlq_wait **pp = &p->dlq_waits; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			atomic_fetch_sub(&p->dlq_inflight, 1);
			return;
		}
	}
}

/* A dead letter's report goes to the kafka_dlq_send waiting for it (or frees an abandoned wait), never
 * to the service's callback. A registered wait is our own live allocation, so no opaque of the
 * service's in-flight messages can have its address. */
static bool producer_dlq_report(struct kafka_producer *p, const rd_kafka_message_t *msg)
{
	struct kafka_dlq_wait *late = NULL;
	bool found = false;

	if (atomic_load(&p->dlq_inflight) == 0)
		return false;
	pthread_mutex_lock(&p->lock);
	for (struct kafka_dlq_wait *w = p->dlq_waits; w; w = w->next) {
		if (w != msg->_private)
			continue;
		found = true;
		w->err = msg->err;
		w->done = true;
		if (w->abandoned) {
			producer_dlq_unlink_locked(p, w);
			late = w;
		}
		break;
	}
	pthread_mutex_unlock(&p->lock);
	if (late) {
		log_warn("kafka dead letter to %s %s after its sender stopped waiting", rd_kafka_topic_name(msg->rkt),
			 late->err ? "failed" : "was delivered");
		free(late);
	}
	return found;
}

static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct kafka_producer *p = opaque;
	const char *topic = rd_kafka_topic_name(msg->rkt);

	(void)rk;
	if (msg->err) {
		kafka_count(&p->metrics, KM_PRODUCE_ERRORS, topic);
		producer_log_failure(p, msg);
	} else {
		kafka_count(&p->metrics, KM_PRODUCED, topic);
	}
	if (!msg->_private || producer_dlq_report(p, msg))
		return;
	if (p->on_delivery)
		p->on_delivery(msg->_private, msg->err, p->on_delivery_ud);
}

struct kafka_send {
	const char *topic;
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	rd_kafka_headers_t *hdrs;     /* the message takes them when producev succeeds */
	void *opaque;
};

/* A full local queue is back-pressure, not an error: serve reports until there is room, unless the
 * service is stopping. */
static rd_kafka_resp_err_t producer_send(struct kafka_producer *p, const struct kafka_send *s)
{
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
			p->rk, RD_KAFKA_V_TOPIC(s->topic), RD_KAFKA_V_KEY(s->key, s->key_len),
			RD_KAFKA_V_VALUE((void *)s->value, s->value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_HEADERS(s->hdrs), RD_KAFKA_V_OPAQUE(s->opaque), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || shutdown_requested())
			return e;
		rd_kafka_poll(p->rk, KAFKA_POLL_SLICE_MS);
	}
}

struct kafka_producer *kafka_producer_new(const char *service, char *err, size_t errlen)
{
	struct kafka_producer *p = calloc(1, sizeof *p);
	rd_kafka_conf_t *conf = NULL;
	char why[512];

	if (!p) {
		kafka_seterr(err, errlen, "kafka producer: out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	atomic_init(&p->dlq_inflight, 0);
	kafka_metrics_init(&p->metrics, KM_PRODUCED, KM_DLQ);
	snprintf(p->service, sizeof p->service, "%s", service ? service : "erpsync");

	const struct kafka_prop defaults[] = {
		{ "client.id", p->service },
		{ "enable.idempotence", "true" },
		{ "acks", "all" },
		{ "linger.ms", "5" },
		/* The Java clients' partitioner: a key lands on the same partition whoever produces it. */
		{ "partitioner", "murmur2_random" },
		{ "statistics.interval.ms", KAFKA_STATS_INTERVAL_MS },
	};
	static const struct kafka_prop required[] = { { "enable.idempotence", "true" } };

	conf = rd_kafka_conf_new();
	if (!kafka_conf_prepare(conf, defaults, sizeof defaults / sizeof defaults[0], required,
				sizeof required / sizeof required[0], p, err, errlen))
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
	if (!p->rk) {
		kafka_seterr(err, errlen, "kafka producer: %s", why);
		goto fail;
	}
	conf = NULL; /* now owned by p->rk */
	log_info("kafka producer %s ready", rd_kafka_name(p->rk));
	return p;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	kafka_producer_free(p);
	return NULL;
}

void kafka_producer_free(struct kafka_producer *p)
{
	if (!p)
		return;
	if (p->rk) {
		if (rd_kafka_flush(p->rk, KAFKA_FREE_FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR ||
		    rd_kafka_outq_len(p->rk) > 0)
			log_warn("kafka producer %s closing with %d message(s) or report(s) outstanding after %d ms",
				 rd_kafka_name(p->rk), rd_kafka_outq_len(p->rk), KAFKA_FREE_FLUSH_MS);
		rd_kafka_destroy(p->rk);
	}
	/* Waits abandoned by kafka_dlq_send whose reports never came. */
	while (p->dlq_waits) {
		struct kafka_dlq_wait *w = p->dlq_waits;
		p->dlq_waits = w->next;
		free(w);
	}
	kafka_metrics_cleanup(&p->metrics);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void kafka_producer_on_delivery(struct kafka_producer *p, kafka_delivery_fn fn, void *ud)
{
	if (!p)
		return;
	p->on_delivery = fn;
	p->on_delivery_ud = ud;
}

bool kafka_producer_fatal(struct kafka_producer *p, char *err, size_t errlen)
{
	char why[512];
	rd_kafka_resp_err_t e;

	if (!p || !p->rk)
		return false;
	e = rd_kafka_fatal_error(p->rk, why, sizeof why);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	kafka_seterr(err, errlen, "%s: %s", rd_kafka_err2name(e), why);
	return true;
}

bool kafka_produce(struct kafka_producer *p, const struct kafka_out *m, char *err, size_t errlen)
{
	rd_kafka_headers_t *hdrs;
	rd_kafka_resp_err_t e;
	char why[512];

	if (!p || !m || !m->topic || !m->event_id) {
		kafka_seterr(err, errlen, "kafka_produce: topic and event_id are required");
		return false;
	}
	hdrs = kafka_out_headers(m);
	if (!hdrs) {
		kafka_seterr(err, errlen, "produce to %s: out of memory", m->topic);
		return false;
	}
	e = producer_send(p, &(struct kafka_send){ .topic = m->topic, .key = m->key, .key_len = m->key_len,
						   .value = m->value, .value_len = m->value_len, .hdrs = hdrs,
						   .opaque = m->opaque });
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return true; /* hdrs now owned by the message */
	rd_kafka_headers_destroy(hdrs);
	kafka_count(&p->metrics, KM_PRODUCE_ERRORS, m->topic);
	if (e == RD_KAFKA_RESP_ERR__FATAL && kafka_producer_fatal(p, why, sizeof why))
		kafka_seterr(err, errlen, "produce to %s: fatal: %s", m->topic, why);
	else
		kafka_seterr(err, errlen, "produce to %s: %s", m->topic, rd_kafka_err2str(e));
	return false;
}

int kafka_producer_poll(struct kafka_producer *p, int timeout_ms)
{
	return p ? rd_kafka_poll(p->rk, timeout_ms) : 0;
}

bool kafka_producer_flush(struct kafka_producer *p, int timeout_ms)
{
	return p && rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_t *kafka_producer_handle(struct kafka_producer *p)
{
	return p ? p->rk : NULL;
}

/* ---- dead letters ------------------------------------------------------------------------------------------ */

/* Waits for w's report, serving reports meanwhile (another thread may serve it: then we see it within a
 * slice). true with *err when it came; false when it did not come in time, w then belongs to the report. */
static bool producer_dlq_wait(struct kafka_producer *p, struct kafka_dlq_wait *w, rd_kafka_resp_err_t *err)
{
	int64_t deadline = event_monotonic_us() + (int64_t)KAFKA_DLQ_TIMEOUT_MS * 1000;

	for (;;) {
		bool done, gave_up = false;

		pthread_mutex_lock(&p->lock);
		done = w->done;
		if (done) {
			producer_dlq_unlink_locked(p, w);
			*err = w->err;
		} else if (event_monotonic_us() >= deadline) {
			w->abandoned = true;
			gave_up = true;
		}
		pthread_mutex_unlock(&p->lock);
		if (done)
			return true;
		if (gave_up)
			return false;
		rd_kafka_poll(p->rk, KAFKA_POLL_SLICE_MS);
	}
}

/* m's headers (if any) plus the dlq-* ones. */
static rd_kafka_headers_t *dlq_headers(const rd_kafka_headers_t *orig, const struct kafka_dlq_info *info)
{
	rd_kafka_headers_t *hdrs = orig ? rd_kafka_headers_copy(orig) : rd_kafka_headers_new(8);

	if (hdrs && !kafka_dlq_headers_set(hdrs, info)) {
		rd_kafka_headers_destroy(hdrs);
		hdrs = NULL;
	}
	return hdrs;
}

/* The dead letter keeps the record's key (so it lands by key like any message), value and headers;
 * its Kafka timestamp is now, so the DLQ's retention counts from the failure, not from the original
 * event. */
bool kafka_dlq_send(struct kafka_producer *p, const rd_kafka_message_t *m, const char *service, const char *error,
		    unsigned attempts)
{
	rd_kafka_headers_t *orig = NULL;
	if (!m || !m->rkt)
		return false;
	if (rd_kafka_message_headers(m, &orig) != RD_KAFKA_RESP_ERR_NO_ERROR)
		orig = NULL;
	const struct kafka_dlq_record r = { rd_kafka_topic_name(m->rkt), m->partition, m->offset, m->key, m->key_len,
					    m->payload, m->len, orig };
	return kafka_dlq_send_record(p, &r, service, error, attempts);
}

bool kafka_dlq_send_record(struct kafka_producer *p, const struct kafka_dlq_record *r, const char *service,
			   const char *error, unsigned attempts)
{
	struct log_ctx ctx = LOG_CTX_INIT;
	char dlq[KAFKA_TOPIC_MAX + 8];
	rd_kafka_headers_t *hdrs = NULL;
	struct kafka_dlq_wait *w = NULL;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
	bool ok = false;

	if (!p || !r || !r->topic)
		return false;
	ctx.topic = r->topic;
	ctx.partition = r->partition;
	ctx.offset = r->offset;
	snprintf(dlq, sizeof dlq, "%s.dlq", ctx.topic);

	hdrs = dlq_headers(r->headers, &(struct kafka_dlq_info){ .service = service ? service : p->service,
							 .topic = ctx.topic,
							 .partition = r->partition,
							 .offset = r->offset,
							 .error = error,
							 .attempts = attempts,
							 .time_us = event_now_us() });
	w = calloc(1, sizeof *w);
	if (!hdrs || !w) {
		log_ctx_error(&ctx, "kafka dead letter to %s not sent: out of memory", dlq);
		goto out;
	}

	producer_dlq_register(p, w);
	e = producer_send(p, &(struct kafka_send){ .topic = dlq, .key = r->key, .key_len = r->key_len,
						   .value = r->value, .value_len = r->value_len, .hdrs = hdrs,
						   .opaque = w });
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		pthread_mutex_lock(&p->lock);
		producer_dlq_unlink_locked(p, w);
		pthread_mutex_unlock(&p->lock);
		kafka_count(&p->metrics, KM_PRODUCE_ERRORS, dlq);
		log_ctx_error(&ctx, "kafka dead letter to %s not queued: %s", dlq, rd_kafka_err2str(e));
		goto out;
	}
	hdrs = NULL; /* now owned by the message */

	if (!producer_dlq_wait(p, w, &e)) {
		w = NULL; /* now owned by its delivery report */
		log_ctx_error(&ctx, "kafka dead letter to %s not acknowledged within %d ms", dlq, KAFKA_DLQ_TIMEOUT_MS);
		goto out;
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_ctx_error(&ctx, "kafka dead letter to %s failed: %s", dlq, rd_kafka_err2str(e));
		goto out;
	}
	kafka_count(&p->metrics, KM_DLQ, ctx.topic);
	log_ctx_warn(&ctx, "kafka message sent to %s after %u attempt(s): %s", dlq, attempts, error ? error : "unknown");
	ok = true;
out:
	if (hdrs)
		rd_kafka_headers_destroy(hdrs);
	free(w);
	return ok;
}

/* ---- consumer ------------------------------------------------------------------------------------------------ */

struct kafka_consumer {
	rd_kafka_t *rk;
	struct kafka_metrics metrics;
	char service[64];
	char group[256];
};

/* Eager by default (range,roundrobin); an operator may choose cooperative-sticky through
 * KAFKA_PARTITION_ASSIGNMENT_STRATEGY, hence both protocols.
 *
 * No explicit commit on revoke: with enable.auto.commit=true (enforced) librdkafka itself commits the
 * stored offsets of removed partitions, and the unassign - hence the rejoin that hands them to another
 * member, and the close - is not done until that commit is (v2.0.2 rdkafka_assignment.c
 * serve_removals, rd_kafka_assignment_in_progress). A synchronous rd_kafka_commit here would repeat
 * that and, with the coordinator gone, block this callback - and kafka_consumer_close's bound - for up to
 * session.timeout.ms. A lost assignment is not committed (librdkafka skips it; the new owner has it). */
static void consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
				  void *opaque)
{
	struct kafka_consumer *c = opaque;
	const char *protocol = rd_kafka_rebalance_protocol(rk);
	bool coop = protocol && strcmp(protocol, "COOPERATIVE") == 0;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
	char list[1024];

	kafka_partitions_str(parts, list, sizeof list);
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		log_info("kafka group %s: assigned %s", c->group, list);
		if (coop)
			error = rd_kafka_incremental_assign(rk, parts);
		else
			e = rd_kafka_assign(rk, parts);
	} else {
		if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
			log_info("kafka group %s: %s %s", c->group, rd_kafka_assignment_lost(rk) ? "lost" : "revoked",
				 list);
		else
			log_error("kafka group %s: rebalance error %s; dropping %s", c->group, rd_kafka_err2str(err),
				  list);
		kafka_stats_forget_partitions(parts);
		if (coop)
			error = rd_kafka_incremental_unassign(rk, parts);
		else
			e = rd_kafka_assign(rk, NULL);
	}
	if (error) {
		log_error("kafka group %s: %s", c->group, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (e) {
		log_error("kafka group %s: assign: %s", c->group, rd_kafka_err2str(e));
	}
}

/* Auto-commits report here; a failed one is retried with the next (the stored offsets stay). */
static void consumer_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
			       void *opaque)
{
	struct kafka_consumer *c = opaque;

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return; /* nothing stored since the last commit */
	if (err) {
		log_warn("kafka group %s: offset commit failed: %s", c->group, rd_kafka_err2str(err));
		return;
	}
	for (int i = 0; offsets && i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
		struct log_ctx ctx = LOG_CTX_INIT;

		if (!tp->err)
			continue;
		ctx.topic = tp->topic;
		ctx.partition = tp->partition;
		ctx.offset = tp->offset;
		log_ctx_warn(&ctx, "kafka group %s: offset commit failed: %s", c->group, rd_kafka_err2str(tp->err));
	}
}

static void consumer_free_struct(struct kafka_consumer *c)
{
	kafka_metrics_cleanup(&c->metrics);
	free(c);
}

static bool consumer_subscribe(struct kafka_consumer *c, const char *const *topics, size_t ntopics, char *err,
			       size_t errlen)
{
	rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)ntopics);
	rd_kafka_resp_err_t e;

	for (size_t i = 0; i < ntopics; i++)
		rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(c->rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (e)
		kafka_seterr(err, errlen, "kafka consumer: subscribe: %s", rd_kafka_err2str(e));
	return e == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static bool consumer_args_valid(const char *group_id, const char *const *topics, size_t ntopics, char *err,
				size_t errlen)
{
	if (!group_id || !*group_id || !topics || !ntopics || ntopics > INT32_MAX) {
		kafka_seterr(err, errlen, "kafka consumer: a group id and at least one topic are required");
		return false;
	}
	for (size_t i = 0; i < ntopics; i++) {
		if (!topics[i] || !*topics[i]) {
			kafka_seterr(err, errlen, "kafka consumer: topic %zu is empty", i);
			return false;
		}
	}
	return true;
}

struct kafka_consumer *kafka_consumer_new(const char *service, const char *group_id, const char *const *topics,
					  size_t ntopics, char *err, size_t errlen)
{
	struct kafka_consumer *c = NULL;
	rd_kafka_conf_t *conf = NULL;
	char why[512];

	if (!consumer_args_valid(group_id, topics, ntopics, err, errlen))
		return NULL;
	c = calloc(1, sizeof *c);
	if (!c) {
		kafka_seterr(err, errlen, "kafka consumer: out of memory");
		return NULL;
	}
	kafka_metrics_init(&c->metrics, KM_CONSUMED, KM_CONSUME_ERRORS);
	snprintf(c->service, sizeof c->service, "%s", service ? service : "erpsync");
	snprintf(c->group, sizeof c->group, "%s", group_id);

	const struct kafka_prop defaults[] = {
		{ "client.id", c->service },
		{ "group.id", group_id },
		{ "enable.auto.offset.store", "false" },
		{ "enable.auto.commit", "true" },
		{ "auto.commit.interval.ms", "1000" },
		{ "auto.offset.reset", "earliest" },
		{ "enable.partition.eof", "false" },
		{ "statistics.interval.ms", KAFKA_STATS_INTERVAL_MS },
		/* Prefetch sized for memory, not for a second of traffic: librdkafka's defaults queue up
		 * to 100,000 messages or 64 MB and fetch 1 MB per partition at a time, which was most of
		 * a service's resident memory (docs/benchmarks.md). A message costs about 0.8 KB queued
		 * (payload, headers, bookkeeping). Consumers that apply faster than librdkafka 2.0
		 * refills this queue wake it (see stock_apply.c). */
		{ "queued.min.messages", "5000" },
		{ "queued.max.messages.kbytes", "4096" },
		{ "max.partition.fetch.bytes", "262144" },
		/* A broker answers a fetch when it holds fetch.min.bytes for it or fetch.wait.max.ms has
		 * passed. With librdkafka's 1 byte, every record that arrives answers a fetch and the next
		 * one follows: at 1,000 records/s that cost the broker about a fifth of a core (its CPU
		 * for the same traffic: 4.7 s per 10 s, 2.2 s with these values, 1.9 s with no consumer;
		 * docs/benchmarks.md). A trickle now waits up to 25 ms in the broker; a backlog fills
		 * 64 KB at once. One fetch at a time goes to a broker, so a partition that became
		 * fetchable again (its queue drained) also waits at most that long. */
		{ "fetch.min.bytes", "65536" },
		{ "fetch.wait.max.ms", "25" },
	};
	const struct kafka_prop required[] = {
		{ "group.id", group_id },
		{ "enable.auto.offset.store", "false" },
		{ "enable.auto.commit", "true" },
	};

	conf = rd_kafka_conf_new();
	if (!kafka_conf_prepare(conf, defaults, sizeof defaults / sizeof defaults[0], required,
				sizeof required / sizeof required[0], c, err, errlen))
		goto fail;
	rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(conf, consumer_commit_cb);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
	if (!c->rk) {
		kafka_seterr(err, errlen, "kafka consumer: %s", why);
		goto fail;
	}
	conf = NULL; /* now owned by c->rk */
	rd_kafka_poll_set_consumer(c->rk);
	if (!consumer_subscribe(c, topics, ntopics, err, errlen))
		goto fail;
	log_info("kafka consumer %s in group %s subscribed to %zu topic(s)", rd_kafka_name(c->rk), c->group, ntopics);
	return c;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (c->rk)
		rd_kafka_destroy(c->rk); /* not subscribed: nothing to leave */
	consumer_free_struct(c);
	return NULL;
}

static void consumer_log_error(struct kafka_consumer *c, const rd_kafka_message_t *m)
{
	struct log_ctx ctx = LOG_CTX_INIT;
	char why[512];
	rd_kafka_resp_err_t fatal;

	if (m->rkt) {
		ctx.topic = rd_kafka_topic_name(m->rkt);
		ctx.partition = m->partition;
		ctx.offset = m->offset;
	}
	kafka_count(&c->metrics, KM_CONSUME_ERRORS, ctx.topic);
	if (m->err != RD_KAFKA_RESP_ERR__FATAL) {
		log_ctx_error(&ctx, "kafka consume error %s: %s", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
		return;
	}
	fatal = rd_kafka_fatal_error(c->rk, why, sizeof why);
	log_ctx_error(&ctx, "kafka consumer fatal error %s: %s; stopping", rd_kafka_err2name(fatal), why);
	shutdown_request();
}

rd_kafka_message_t *kafka_consumer_poll(struct kafka_consumer *c, int timeout_ms)
{
	int64_t deadline;

	if (!c)
		return NULL;
	deadline = event_monotonic_us() + (int64_t)timeout_ms * 1000;
	for (;;) {
		int64_t left_us = deadline - event_monotonic_us();
		int wait = timeout_ms < 0 ? -1 : left_us > 0 ? (int)((left_us + 999) / 1000) : 0;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, wait);

		if (!m)
			return NULL;
		if (!m->err) {
			kafka_count(&c->metrics, KM_CONSUMED, rd_kafka_topic_name(m->rkt));
			return m;
		}
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			consumer_log_error(c, m);
		rd_kafka_message_destroy(m);
		if (wait == 0)
			return NULL;
	}
}

bool kafka_consumer_store(struct kafka_consumer *c, const rd_kafka_message_t *m)
{
	struct log_ctx ctx = LOG_CTX_INIT;
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;

	if (!c || !m || !m->rkt || m->err)
		return false;
	ctx.topic = rd_kafka_topic_name(m->rkt);
	ctx.partition = m->partition;
	ctx.offset = m->offset;
	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, ctx.topic, m->partition)->offset = m->offset + 1;
	e = rd_kafka_offsets_store(c->rk, l);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		e = l->elems[0].err;
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		log_ctx_error(&ctx, "kafka offset not stored: %s", rd_kafka_err2str(e));
	return e == RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_t *kafka_consumer_handle(struct kafka_consumer *c)
{
	return c ? c->rk : NULL;
}

/* Serves q (rebalance callbacks, commit reports) until the group close finishes or the time is up.
 * Messages still arriving were never handed out, so never stored: they come again to the next owner. */
static bool consumer_close_serve(rd_kafka_t *rk, rd_kafka_queue_t *q, int timeout_ms)
{
	int64_t deadline = event_monotonic_us() + (int64_t)timeout_ms * 1000;

	while (!rd_kafka_consumer_closed(rk)) {
		int64_t left_ms = (deadline - event_monotonic_us()) / 1000;
		rd_kafka_message_t *m;

		if (left_ms <= 0)
			return false;
		m = rd_kafka_consume_queue(q, left_ms < KAFKA_POLL_SLICE_MS ? (int)left_ms : KAFKA_POLL_SLICE_MS);
		if (m)
			rd_kafka_message_destroy(m);
	}
	return true;
}

static void *consumer_reaper(void *arg)
{
	struct kafka_consumer *c = arg;

	/* This thread is the only user of c->rk now. Callbacks are off with this flag. */
	rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	log_info("kafka consumer of group %s destroyed after its abandoned close", c->group);
	consumer_free_struct(c);
	return NULL;
}

/* A bounded close. rd_kafka_consumer_close can block for session.timeout.ms and more (a commit waiting
 * for a coordinator, an unanswered LeaveGroup), and nothing can interrupt it from outside; destroying
 * the handle while another thread is inside close is a use-after-free. So the close is started
 * asynchronously (rd_kafka_consumer_close_queue) and served here, on the caller's thread, only until
 * timeout_ms. When it did not finish, even rd_kafka_destroy_flags(NO_CONSUMER_CLOSE) may block (the
 * main thread waits for the group to terminate), so a detached thread - the only user of the handle
 * from then on - destroys it, and the caller moves on: if the process exits first, the kernel ends it.
 * Offsets stored but not yet committed are then re-delivered to the next owner, which the inbox makes
 * harmless. */
void kafka_consumer_close(struct kafka_consumer *c, int timeout_ms)
{
	rd_kafka_queue_t *q;
	rd_kafka_error_t *error;
	pthread_t thread;
	pthread_attr_t attr;
	bool closed = false;
	int rc;

	if (!c)
		return;
	q = rd_kafka_queue_new(c->rk);
	error = rd_kafka_consumer_close_queue(c->rk, q);
	if (error) {
		/* A fatal error: librdkafka destroys without a group close by itself. */
		log_warn("kafka consumer of group %s: close: %s", c->group, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		closed = true;
	} else {
		closed = consumer_close_serve(c->rk, q, timeout_ms);
	}
	rd_kafka_queue_destroy(q);
	if (closed) {
		rd_kafka_destroy(c->rk);
		log_info("kafka consumer of group %s closed", c->group);
		consumer_free_struct(c);
		return;
	}

	log_error("kafka consumer of group %s did not close within %d ms; abandoning it (offsets not yet "
		  "committed will be re-delivered)",
		  c->group, timeout_ms);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, consumer_reaper, c);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		log_error("kafka consumer of group %s: no thread to destroy it (error %d); leaked", c->group, rc);
	/* else c now owned by the reaper */
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
