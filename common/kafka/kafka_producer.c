/* kafka_producer — the idempotent producer every service uses (see kafka.h): produce, delivery
 * reports, flush, and dead letters sent and waited for. */
#include "kafka.h"
#include "kafka_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "shutdown.h"

/* ---- producer -------------------------------------------------------------------------------------------- */

/* One kafka_dlq_send waiting for its message's delivery report; the message's opaque. */
struct kafka_dlq_wait {
	struct kafka_dlq_wait *next;
	bool done;
	bool abandoned; /* the sender stopped waiting: the report frees it */
	rd_kafka_resp_err_t err;
};

struct kafka_producer {
	rd_kafka_t *rk;
	kafka_delivery_fn on_delivery;
	void *on_delivery_ud;
	pthread_mutex_t lock; /* dlq_waits and the delivery-failure log limiter */
	struct kafka_dlq_wait *dlq_waits;
	atomic_int dlq_inflight; /* length of dlq_waits: reports skip the lock while it is 0 */
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
	rd_kafka_headers_t *hdrs; /* the message takes them when producev succeeds */
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

static void producer_role_cbs(rd_kafka_conf_t *conf)
{
	rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
}

struct kafka_producer *kafka_producer_new(const char *service, char *err, size_t errlen)
{
	struct kafka_producer *p = calloc(1, sizeof *p);

	if (!p) {
		err_set(err, errlen, "kafka producer: out of memory");
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

	const struct kafka_handle_spec spec = { RD_KAFKA_PRODUCER, "kafka producer",
						defaults,          sizeof defaults / sizeof defaults[0],
						required,          sizeof required / sizeof required[0],
						producer_role_cbs, p };
	p->rk = kafka_handle_new(&spec, err, errlen);
	if (!p->rk) {
		kafka_producer_free(p);
		return NULL;
	}
	log_info("kafka producer %s ready", rd_kafka_name(p->rk));
	return p;
}

void kafka_producer_free(struct kafka_producer *p)
{
	if (!p)
		return;
	if (p->rk) {
		/* within what is left of a stop's bound (shutdown.h) */
		long left = shutdown_left_ms();
		int wait_ms = left < KAFKA_FREE_FLUSH_MS ? (int)left : KAFKA_FREE_FLUSH_MS;
		if (rd_kafka_flush(p->rk, wait_ms) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(p->rk) > 0) {
			log_warn("kafka producer %s closing with %d message(s) or report(s) outstanding after %d ms",
				 rd_kafka_name(p->rk), rd_kafka_outq_len(p->rk), wait_ms);
			/* what is left is given up now rather than by the destroy's own waits (an outbox row
			 * stays and goes again; a dead letter not acknowledged was not stored either) */
			(void)rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
			(void)rd_kafka_poll(p->rk, 0);
		}
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
	err_set(err, errlen, "%s: %s", rd_kafka_err2name(e), why);
	return true;
}

bool kafka_produce(struct kafka_producer *p, const struct kafka_out *m, char *err, size_t errlen)
{
	rd_kafka_headers_t *hdrs;
	rd_kafka_resp_err_t e;
	char why[512];

	if (!p || !m || !m->topic || !m->event_id) {
		err_set(err, errlen, "kafka_produce: topic and event_id are required");
		return false;
	}
	hdrs = kafka_out_headers(m);
	if (!hdrs) {
		err_set(err, errlen, "produce to %s: out of memory", m->topic);
		return false;
	}
	e = producer_send(p, &(struct kafka_send){ .topic = m->topic,
						   .key = m->key,
						   .key_len = m->key_len,
						   .value = m->value,
						   .value_len = m->value_len,
						   .hdrs = hdrs,
						   .opaque = m->opaque });
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return true; /* hdrs now owned by the message */
	rd_kafka_headers_destroy(hdrs);
	kafka_count(&p->metrics, KM_PRODUCE_ERRORS, m->topic);
	if (e == RD_KAFKA_RESP_ERR__FATAL && kafka_producer_fatal(p, why, sizeof why))
		err_set(err, errlen, "produce to %s: fatal: %s", m->topic, why);
	else
		err_set(err, errlen, "produce to %s: %s", m->topic, rd_kafka_err2str(e));
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
		} else if (event_monotonic_us() >= deadline || shutdown_work_left_ms() <= 0) {
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
	const struct kafka_dlq_record r = {
		rd_kafka_topic_name(m->rkt), m->partition, m->offset, m->key, m->key_len, m->payload, m->len, orig
	};
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
	e = producer_send(p, &(struct kafka_send){ .topic = dlq,
						   .key = r->key,
						   .key_len = r->key_len,
						   .value = r->value,
						   .value_len = r->value_len,
						   .hdrs = hdrs,
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
	log_ctx_warn(&ctx, "kafka message sent to %s after %u attempt(s): %s", dlq, attempts,
		     error ? error : "unknown");
	ok = true;
out:
	if (hdrs)
		rd_kafka_headers_destroy(hdrs);
	free(w);
	return ok;
}
