/* kafka_consumer — the consumer every service uses (see kafka.h): subscribe, poll, store offsets
 * after the service applied a message, and a bounded close. */
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

/* ---- consumer ------------------------------------------------------------------------------------------------ */

struct kafka_consumer {
	rd_kafka_t *rk;
	struct kafka_metrics metrics;
	char service[64];
	char group[256];
	atomic_bool joined; /* a first assignment came (possibly of no partition) */
	/* kafka_consumer_nudge's, used by the polling thread only */
	rd_kafka_queue_t *queue; /* the consumer queue, to see how full it is */
	int queued_min;          /* queued.min.messages */
	int64_t nudged_us;
};

#define KAFKA_NUDGE_MS  50 /* at most this often */
#define KAFKA_NUDGE_LAG 16 /* records the broker holds for us, at least */

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
		atomic_store(&c->joined, true);
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
	if (c->queue)
		rd_kafka_queue_destroy(c->queue);
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
		err_set(err, errlen, "kafka consumer: subscribe: %s", rd_kafka_err2str(e));
	return e == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static bool consumer_args_valid(const char *group_id, const char *const *topics, size_t ntopics, char *err,
				size_t errlen)
{
	if (!group_id || !*group_id || !topics || !ntopics || ntopics > INT32_MAX) {
		err_set(err, errlen, "kafka consumer: a group id and at least one topic are required");
		return false;
	}
	for (size_t i = 0; i < ntopics; i++) {
		if (!topics[i] || !*topics[i]) {
			err_set(err, errlen, "kafka consumer: topic %zu is empty", i);
			return false;
		}
	}
	return true;
}

static void consumer_role_cbs(rd_kafka_conf_t *conf)
{
	rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(conf, consumer_commit_cb);
}

struct kafka_consumer *kafka_consumer_new(const char *service, const char *group_id, const char *const *topics,
					  size_t ntopics, char *err, size_t errlen)
{
	struct kafka_consumer *c = NULL;

	if (!consumer_args_valid(group_id, topics, ntopics, err, errlen))
		return NULL;
	c = calloc(1, sizeof *c);
	if (!c) {
		err_set(err, errlen, "kafka consumer: out of memory");
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

	const struct kafka_handle_spec spec = { RD_KAFKA_CONSUMER, "kafka consumer",
						defaults,          sizeof defaults / sizeof defaults[0],
						required,          sizeof required / sizeof required[0],
						consumer_role_cbs, c };
	c->rk = kafka_handle_new(&spec, err, errlen);
	if (!c->rk)
		goto fail;
	rd_kafka_poll_set_consumer(c->rk);
	c->queue = rd_kafka_queue_get_consumer(c->rk);
	char v[32];
	size_t vlen = sizeof v;
	if (rd_kafka_conf_get(rd_kafka_conf(c->rk), "queued.min.messages", v, &vlen) == RD_KAFKA_CONF_OK)
		c->queued_min = (int)strtol(v, NULL, 10);
	if (!c->queue || !consumer_subscribe(c, topics, ntopics, err, errlen))
		goto fail;
	log_info("kafka consumer %s in group %s subscribed to %zu topic(s)", rd_kafka_name(c->rk), c->group, ntopics);
	return c;

fail:
	if (c->queue)
		rd_kafka_queue_destroy(c->queue);
	c->queue = NULL;
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
		log_ctx_error(&ctx, "kafka consume error %s: %s", rd_kafka_err2name(m->err),
			      rd_kafka_message_errstr(m));
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

bool kafka_consumer_joined(struct kafka_consumer *c)
{
	return c && atomic_load(&c->joined);
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
	if (c->queue)
		rd_kafka_queue_destroy(c->queue); /* a reference of ours: not to be held through the close */
	c->queue = NULL;
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

/* librdkafka 2.0 stops fetching a partition while its queue holds queued.min.messages (or
 * queued.max.messages.kbytes) and looks again only when something wakes its broker thread, at
 * the latest a second later (2.1 made that fetch.queue.backoff.ms). With a queue sized for memory
 * rather than for a second of traffic, a fast consumer would idle most of that second. So when
 * the queue is down to half and the broker has told of more than a few records we have not
 * fetched (the watermarks of its last answers: while fetching goes on, what it told of has
 * arrived), a watermark query on each partition that lags (a request to its leader) wakes the
 * thread, which then fetches at once. That includes the tail of a backlog: the last 1,804
 * records of a stock-sync catch-up came 0.9 s after the rest when only a lag of half a queue or
 * more was a reason. A lag of a few records (a transaction marker, say) is left to the
 * one-second look. */
void kafka_consumer_nudge(struct kafka_consumer *c)
{
	int64_t now = event_monotonic_us(), lag = 0;
	if (!c || !c->queue || c->queued_min <= 0 || now - c->nudged_us < KAFKA_NUDGE_MS * 1000 ||
	    rd_kafka_queue_length(c->queue) * 2 > (size_t)c->queued_min)
		return;
	c->nudged_us = now;
	rd_kafka_topic_partition_list_t *l = NULL;
	if (rd_kafka_assignment(c->rk, &l) || !l)
		return;
	if (!rd_kafka_position(c->rk, l)) {
		for (int i = 0; i < l->cnt; i++) {
			rd_kafka_topic_partition_t *p = &l->elems[i];
			int64_t lo, hi;
			if (p->offset >= 0 &&
			    !rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi) && hi > p->offset)
				lag += hi - p->offset;
			else
				p->offset = -1; /* not lagging */
		}
		for (int i = 0; lag >= KAFKA_NUDGE_LAG && i < l->cnt; i++) {
			const rd_kafka_topic_partition_t *p = &l->elems[i];
			int64_t lo, hi;
			if (p->offset >= 0)
				(void)rd_kafka_query_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi, 100);
		}
	}
	rd_kafka_topic_partition_list_destroy(l);
}
