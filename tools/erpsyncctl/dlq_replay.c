/* dlq_replay — `erpsyncctl dlq replay`: dead letters back to the topic they came from, once.
 *
 * How a replay stays single when two operators run it at once:
 *
 * The replay is a transactional producer whose transactional.id is "erpsyncctl-replay:<TOPIC.dlq>",
 * the same for everybody who replays that topic. Each batch of letters is one Kafka transaction:
 * the replayed records (on their source topics) and, for each, a marker on TOPIC.dlq (headers
 * dlq-replayed "P:N" and dlq-replayed-to "topic:P:N", no value) commit together or not at all.
 * The dead-letter topic is read for letters and markers only after init_transactions, with
 * read_committed. init_transactions fences every earlier producer of the same transactional.id (its
 * open transaction is aborted, its later commits fail) and returns only once that producer's
 * committing transaction, if any, is complete. So whoever commits read every marker committed
 * before it: a letter is replayed by at most one of them, and a replay that was fenced or failed left
 * nothing behind (consumers read committed records only, librdkafka's default). Consumer-group
 * offsets could not say this: a replay picks letters, not a prefix of a partition.
 *
 * The replayed record keeps its key, value and headers (without the dlq-* ones; with
 * dlq-replayed-from "TOPIC.dlq:P:N"), and so its event id: no erpsync service records the event
 * id of a record it dead-letters (the inbox claim commits with the record's effect), so the replay
 * is applied once, and a record that was in fact applied meanwhile is dropped as a duplicate. It
 * goes to the partition its key goes to (murmur2_random, the partitioner of every erpsync producer),
 * where the key's newer records are; a record without a key goes back to its source partition. */
#include "dlq_cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "ctl.h"
#include "dlq_read.h"

#define DLQ_REPLAY_BATCH 500 /* letters per transaction: a failed batch leaves the committed ones done */

/* A produced record's delivery report, its opaque. */
struct dlq_delivery {
	bool done;
	rd_kafka_resp_err_t err;
	int32_t partition;
	int64_t offset;
};

struct dlq_replay {
	struct dlq_opts *o;
	rd_kafka_t *rk;
	char by[128]; /* who replays, for the markers */
	size_t replayed, failed;
};

static void dlq_replay_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *ud)
{
	struct dlq_delivery *d = m->_private;
	(void)rk;
	(void)ud;
	if (!d)
		return;
	d->done = true;
	d->err = m->err;
	d->partition = m->partition;
	d->offset = m->offset;
}

static rd_kafka_t *dlq_replay_producer(const struct dlq_opts *o, char *err, size_t errlen)
{
	char txid[DLQ_TOPIC_MAX + 32], timeout[16];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;

	snprintf(txid, sizeof txid, "erpsyncctl-replay:%s", o->topic);
	snprintf(timeout, sizeof timeout, "%d", o->timeout_ms < 60000 ? 60000 : o->timeout_ms);
	const char *const props[][2] = {
		{ "bootstrap.servers", o->brokers },
		{ "client.id", "erpsyncctl" },
		{ "log_level", "3" }, /* errors only: a coordinator still loading is retried, not news */
		{ "transactional.id", txid },
		{ "enable.idempotence", "true" },
		{ "acks", "all" },
		{ "transaction.timeout.ms", timeout },
		{ "partitioner", "murmur2_random" }, /* erpsync's producers' (common/kafka/kafka_producer.c) */
	};
	for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
		if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, errlen) != RD_KAFKA_CONF_OK)
			goto out;
	rd_kafka_conf_set_dr_msg_cb(conf, dlq_replay_on_delivery);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
out:
	if (!rk) /* rd_kafka_new owns conf only when it succeeds */
		rd_kafka_conf_destroy(conf);
	return rk;
}

/* Reports a transactional call's error (and frees it); true when there was none. */
static bool dlq_replay_txn_ok(struct dlq_replay *r, rd_kafka_error_t *e, const char *what)
{
	if (!e)
		return true;
	rd_kafka_resp_err_t code = rd_kafka_error_code(e);
	if (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
	    code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
		fprintf(stderr,
			"erpsyncctl: dlq replay: %s: another replay of %s started meanwhile and fenced this one; "
			"this batch was not replayed (`dlq list` shows what was)\n",
			what, r->o->topic);
	else
		fprintf(stderr, "erpsyncctl: dlq replay: %s: %s\n", what, rd_kafka_error_string(e));
	if (rd_kafka_error_txn_requires_abort(e)) {
		rd_kafka_error_t *a = rd_kafka_abort_transaction(r->rk, r->o->timeout_ms);
		if (a) {
			fprintf(stderr, "erpsyncctl: dlq replay: abort: %s\n", rd_kafka_error_string(a));
			rd_kafka_error_destroy(a);
		}
	}
	rd_kafka_error_destroy(e);
	return false;
}

/* Waits for every queued record's report; false (reported) when one failed or time ran out. */
static bool dlq_replay_flush(struct dlq_replay *r, const struct dlq_delivery *d, size_t n, const char *what)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(r->rk, r->o->timeout_ms);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "erpsyncctl: dlq replay: %s not delivered within %d ms\n", what, r->o->timeout_ms);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!d[i].done || d[i].err) {
			fprintf(stderr, "erpsyncctl: dlq replay: %s: %s\n", what,
				d[i].done ? rd_kafka_err2str(d[i].err) : "no delivery report");
			return false;
		}
	}
	return true;
}

/* Queues letter l back to its source topic (d: its report); false (reported) when it could not be. */
static bool dlq_replay_produce(struct dlq_replay *r, const struct dlq_letter *l, struct dlq_delivery *d)
{
	rd_kafka_headers_t *hdrs = dlq_replay_headers(l->headers, r->o->topic, l->partition, l->offset);

	if (!hdrs) {
		fprintf(stderr, "erpsyncctl: dlq replay: out of memory\n");
		return false;
	}
	rd_kafka_resp_err_t e = rd_kafka_producev(
		r->rk, RD_KAFKA_V_TOPIC(l->source_topic),
		RD_KAFKA_V_PARTITION(l->key ? RD_KAFKA_PARTITION_UA : l->source_partition),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(l->key, l->key_len),
		RD_KAFKA_V_VALUE(l->value, l->value_len), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(d),
		RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_headers_destroy(hdrs); /* producev takes them only when it succeeds */
		fprintf(stderr, "erpsyncctl: dlq replay: %" PRId32 ":%" PRId64 " to %s: %s\n", l->partition, l->offset,
			l->source_topic, rd_kafka_err2str(e));
		return false;
	}
	return true;
}

/* Queues the marker of letter l, replayed as d says, on the letter's partition of the DLQ. */
static bool dlq_replay_mark(struct dlq_replay *r, const struct dlq_letter *l, const struct dlq_delivery *d,
			    struct dlq_delivery *md)
{
	char to[DLQ_WHERE_MAX + 1];
	struct timespec ts;

	snprintf(to, sizeof to, "%s:%" PRId32 ":%" PRId64, l->source_topic, d->partition, d->offset);
	clock_gettime(CLOCK_REALTIME, &ts);
	rd_kafka_headers_t *hdrs = dlq_marker_headers(l, to, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, r->by);
	if (!hdrs) {
		fprintf(stderr, "erpsyncctl: dlq replay: out of memory\n");
		return false;
	}
	rd_kafka_resp_err_t e = rd_kafka_producev(r->rk, RD_KAFKA_V_TOPIC(r->o->topic),
						  RD_KAFKA_V_PARTITION(l->partition), RD_KAFKA_V_HEADERS(hdrs),
						  RD_KAFKA_V_OPAQUE(md), RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_headers_destroy(hdrs);
		fprintf(stderr, "erpsyncctl: dlq replay: marker on %s: %s\n", r->o->topic, rd_kafka_err2str(e));
		return false;
	}
	return true;
}

/* One transaction: the letters todo[0..n) back to their topics, and their markers. */
static bool dlq_replay_batch(struct dlq_replay *r, struct dlq_letter *const *todo, size_t n)
{
	struct dlq_delivery *d = calloc(2 * n, sizeof *d); /* [0, n): the records, [n, 2n): the markers */
	bool ok = false;

	if (!d) {
		fprintf(stderr, "erpsyncctl: dlq replay: out of memory\n");
		return false;
	}
	if (!dlq_replay_txn_ok(r, rd_kafka_begin_transaction(r->rk), "begin transaction"))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!dlq_replay_produce(r, todo[i], &d[i]))
			goto abort;
	/* the markers name where the records landed, so those are waited for first */
	if (!dlq_replay_flush(r, d, n, "replayed records"))
		goto abort;
	for (size_t i = 0; i < n; i++)
		if (!dlq_replay_mark(r, todo[i], &d[i], &d[n + i]))
			goto abort;
	if (!dlq_replay_flush(r, d + n, n, "markers"))
		goto abort;
	if (!dlq_replay_txn_ok(r, rd_kafka_commit_transaction(r->rk, r->o->timeout_ms), "commit"))
		goto out;
	for (size_t i = 0; i < n; i++)
		printf("replayed %" PRId32 ":%" PRId64 " to %s:%" PRId32 ":%" PRId64 "\n", todo[i]->partition,
		       todo[i]->offset, todo[i]->source_topic, d[i].partition, d[i].offset);
	r->replayed += n;
	ok = true;
	goto out;
abort:
	(void)dlq_replay_txn_ok(r, rd_kafka_abort_transaction(r->rk, r->o->timeout_ms), "abort");
out:
	if (!ok)
		r->failed += n;
	free(d);
	return ok;
}

/* Whether a letter's message is kept while reading: selected, and pending. */
static bool dlq_replay_keep(const struct dlq_letter *l, void *ud)
{
	const struct dlq_opts *o = ud;
	return dlq_selected(o, l) && !dlq_letter_unreplayable(l, o->topic);
}

/* The selected letters, said for each what is done with it; the pending ones into todo. */
static size_t dlq_replay_pick(struct dlq_replay *r, struct dlq_set *s, struct dlq_letter **todo)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nletters; i++) {
		struct dlq_letter *l = &s->letters[i];
		if (!dlq_selected(r->o, l))
			continue;
		dlq_selected_found(r->o, l);
		const char *why = dlq_letter_unreplayable(l, r->o->topic);
		if (l->replayed) {
			printf("already replayed %" PRId32 ":%" PRId64 " (to ", l->partition, l->offset);
			dlq_text_string(stdout, l->replayed_to, strlen(l->replayed_to));
			printf(")\n");
		} else if (why) {
			printf("not replayable %" PRId32 ":%" PRId64 ": %s\n", l->partition, l->offset, why);
			r->failed += r->o->noffsets > 0; /* asked for by position: that fails the command */
		} else if (l->kept) {
			todo[n++] = l;
		}
	}
	for (size_t i = 0; i < r->o->noffsets; i++) {
		if (r->o->offsets[i].found)
			continue;
		fprintf(stderr,
			"erpsyncctl: dlq replay: no dead letter at %" PRId32 ":%" PRId64
			" in %s (or not with that --key; a marker, or gone to retention)\n",
			r->o->offsets[i].partition, r->o->offsets[i].offset, r->o->topic);
		r->failed++;
	}
	return n;
}

int dlq_replay(struct dlq_opts *o)
{
	struct dlq_replay r = { .o = o };
	struct dlq_set s = DLQ_SET_INIT;
	struct dlq_letter **todo = NULL;
	const struct dlq_read_opts ro = { o->brokers, o->topic, 0, o->timeout_ms, dlq_replay_keep, o };
	char err[512], host[64] = "";
	const char *user = getenv("USER") ? getenv("USER") : getenv("LOGNAME");
	int rc = CTL_EXIT_FAIL;

	(void)gethostname(host, sizeof host - 1);
	snprintf(r.by, sizeof r.by, "%.48s@%.63s", user ? user : "?", host);
	if (!o->dry_run) {
		if (!(r.rk = dlq_replay_producer(o, err, sizeof err))) {
			fprintf(stderr, "erpsyncctl: dlq replay: %s\n", err);
			goto out;
		}
		/* before reading: what an earlier replay committed is then there to be read */
		if (!dlq_replay_txn_ok(&r, rd_kafka_init_transactions(r.rk, o->timeout_ms), "init transactions"))
			goto out;
	}
	if (!dlq_read(&ro, &s, err, sizeof err)) {
		fprintf(stderr, "erpsyncctl: dlq replay: %s\n", err);
		goto out;
	}
	if (s.nletters && !(todo = calloc(s.nletters, sizeof *todo))) {
		fprintf(stderr, "erpsyncctl: dlq replay: out of memory\n");
		goto out;
	}
	size_t n = dlq_replay_pick(&r, &s, todo);
	for (size_t i = 0; i < n && o->dry_run; i++)
		printf("would replay %" PRId32 ":%" PRId64 " to %s\n", todo[i]->partition, todo[i]->offset,
		       todo[i]->source_topic);
	for (size_t i = 0; i < n && !o->dry_run; i += DLQ_REPLAY_BATCH)
		if (!dlq_replay_batch(&r, todo + i, n - i < DLQ_REPLAY_BATCH ? n - i : DLQ_REPLAY_BATCH))
			break; /* a fenced or broken producer would fail the rest the same way */
	if (o->dry_run)
		printf("dlq replay (dry run): %zu to replay\n", n);
	else
		printf("dlq replay: %zu replayed, %zu not\n", r.replayed, n - r.replayed);
	bool all_done = o->dry_run || r.replayed == n;
	rc = r.failed == 0 && all_done ? CTL_EXIT_OK : CTL_EXIT_FAIL;
out:
	free(todo);
	dlq_set_cleanup(&s);
	if (r.rk)
		rd_kafka_destroy(r.rk);
	fflush(stdout);
	return rc;
}
