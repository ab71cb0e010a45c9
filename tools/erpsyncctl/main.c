/* erpsyncctl: operator tool for erpsync; one binary, subcommands dispatched on argv (usage: ctl.c).
 * topics (here), dlq (dlq_cmd.c: list and replay dead letters) and holds (holds_cmd.c: the price
 * guard's holds, through pricing's /admin/holds).
 * FILE is deploy/topics.tsv: TAB-separated name, partitions, cleanup.policy (delete|compact),
 * retention.ms (-1 = forever), description; '#' comments and blank lines are ignored.
 * `topics create` is idempotent: an existing topic counts as success and is left as it is.
 * `topics check` compares the cluster with the file: every topic exists with the declared partition
 * count, cleanup.policy and retention.ms. Exit status: 0 ok, 1 failure/mismatch, 2 usage/bad file. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "ctl.h"
#include "dlq_cmd.h"
#include "holds_cmd.h"

#define TOPIC_NAME_MAX   249
#define TOPIC_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define PARTITIONS_MAX   10000
#define TOPICS_MAX       1000

struct topic_decl {
	char name[TOPIC_NAME_MAX + 1];
	int partitions;
	char policy[8];     /* "delete" or "compact" */
	char retention[24]; /* retention.ms, validated as an integer >= -1 */
};

struct topic_list {
	struct topic_decl *v;
	size_t n;
}; /* v holds TOPICS_MAX */

struct opts {
	const char *brokers, *file;
	int replication, timeout_ms;
};

/* Parses one declaration line (modified in place); returns NULL or what is wrong with it. */
static const char *parse_line(char *line, struct topic_decl *t)
{
	char *f[5];
	size_t n = 0;
	long parts = 0, retention = 0;

	for (char *p = line; p && n < 5; n++) {
		f[n] = p;
		if ((p = strchr(p, '\t')))
			*p++ = '\0';
		else if (n < 4)
			return "expected 5 TAB-separated fields";
		if (n == 4 && p)
			return "more than 5 TAB-separated fields";
	}
	size_t len = strlen(f[0]);
	if (len == 0 || len > TOPIC_NAME_MAX || strspn(f[0], TOPIC_NAME_CHARS) != len || strcmp(f[0], ".") == 0 ||
	    strcmp(f[0], "..") == 0)
		return "bad topic name (1-249 characters of [a-zA-Z0-9._-])";
	if (ctl_parse_long(f[1], 1, PARTITIONS_MAX, &parts) != 0)
		return "partitions must be an integer 1..10000";
	if (strcmp(f[2], "delete") != 0 && strcmp(f[2], "compact") != 0)
		return "cleanup.policy must be delete or compact";
	if (ctl_parse_long(f[3], -1, LONG_MAX, &retention) != 0)
		return "retention.ms must be an integer >= -1";
	if (f[4][0] == '\0')
		return "empty description";
	snprintf(t->name, sizeof t->name, "%s", f[0]);
	t->partitions = (int)parts;
	snprintf(t->policy, sizeof t->policy, "%s", f[2]);
	snprintf(t->retention, sizeof t->retention, "%ld", retention);
	return NULL;
}

static const struct topic_decl *find_decl(const struct topic_list *tl, const char *name)
{
	for (size_t i = 0; i < tl->n; i++)
		if (strcmp(tl->v[i].name, name) == 0)
			return &tl->v[i];
	return NULL;
}

static int load_topics(const char *path, struct topic_list *tl)
{
	FILE *fp = NULL;
	char *line = NULL;
	size_t linecap = 0;
	unsigned lineno = 0;
	const char *why = NULL;
	int rc = -1;

	if (!(tl->v = calloc(TOPICS_MAX, sizeof *tl->v)) || !(fp = fopen(path, "r"))) {
		fprintf(stderr, "erpsyncctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (getline(&line, &linecap, fp) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (tl->n == TOPICS_MAX)
			why = "too many topics";
		else if (!(why = parse_line(line, &tl->v[tl->n])) && find_decl(tl, tl->v[tl->n].name))
			why = "topic declared twice";
		if (why)
			break;
		tl->n++;
	}
	if (why)
		fprintf(stderr, "erpsyncctl: %s:%u: %s\n", path, lineno, why);
	else if (ferror(fp))
		fprintf(stderr, "erpsyncctl: %s: read error\n", path);
	else if (tl->n == 0)
		fprintf(stderr, "erpsyncctl: %s: no topics declared\n", path);
	else
		rc = 0;
out:
	free(line);
	if (fp)
		fclose(fp);
	return rc;
}

static rd_kafka_t *client_new(const char *brokers)
{
	char errstr[512];
	rd_kafka_t *rk = NULL;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) == RD_KAFKA_CONF_OK &&
	    rd_kafka_conf_set(conf, "client.id", "erpsyncctl", errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
		rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (!rk) { /* rd_kafka_new owns conf only when it succeeds */
		fprintf(stderr, "erpsyncctl: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms)
{
	char errstr[256];
	rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, op);

	if (rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, errstr, sizeof errstr) ||
	    (op == RD_KAFKA_ADMIN_OP_CREATETOPICS &&
	     rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, errstr, sizeof errstr))) {
		fprintf(stderr, "erpsyncctl: %s\n", errstr);
		rd_kafka_AdminOptions_destroy(ao);
		return NULL;
	}
	return ao;
}

/* Waits for the result of one admin request on q; returns the event or NULL (reported). */
static rd_kafka_event_t *await_result(rd_kafka_queue_t *q, int timeout_ms, const char *what)
{
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);

	if (!ev) {
		fprintf(stderr, "erpsyncctl: %s: no answer within %d ms\n", what, timeout_ms + 5000);
	} else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "erpsyncctl: %s: %s\n", what, rd_kafka_event_error_string(ev));
		rd_kafka_event_destroy(ev);
		ev = NULL;
	}
	return ev;
}

static int topics_create(const struct opts *o, const struct topic_list *tl)
{
	rd_kafka_t *rk = NULL;
	rd_kafka_NewTopic_t **nts = NULL;
	size_t nts_cnt = 0, cnt = 0;
	rd_kafka_AdminOptions_t *ao = NULL;
	rd_kafka_queue_t *q = NULL;
	rd_kafka_event_t *ev = NULL;
	char errstr[512];
	int rc = 1, created = 0, existing = 0, failed = 0;

	if (!(rk = client_new(o->brokers)) || !(nts = calloc(tl->n, sizeof *nts)))
		goto out;
	for (size_t i = 0; i < tl->n; i++) {
		const struct topic_decl *t = &tl->v[i];
		rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(t->name, t->partitions, o->replication, errstr,
								sizeof errstr);
		if (nt)
			nts[nts_cnt++] = nt;
		if (!nt || rd_kafka_NewTopic_set_config(nt, "cleanup.policy", t->policy) ||
		    rd_kafka_NewTopic_set_config(nt, "retention.ms", t->retention)) {
			fprintf(stderr, "erpsyncctl: %s: %s\n", t->name, nt ? "cannot set topic config" : errstr);
			goto out;
		}
	}
	if (!(ao = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, o->timeout_ms)))
		goto out;
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, nts, nts_cnt, ao, q);
	if (!(ev = await_result(q, o->timeout_ms, "CreateTopics")))
		goto out;

	const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(
		rd_kafka_event_CreateTopics_result(ev), &cnt);
	for (size_t i = 0; i < cnt; i++) {
		const char *name = rd_kafka_topic_result_name(res[i]);
		rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
		const char *msg = rd_kafka_topic_result_error_string(res[i]);
		int ok = err == RD_KAFKA_RESP_ERR_NO_ERROR, exists = err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
		if (ok || exists)
			printf("%-8s %s\n", ok ? "created" : "exists", name);
		else
			printf("FAILED   %s: %s\n", name, msg ? msg : rd_kafka_err2str(err));
		created += ok;
		existing += exists;
		failed += !ok && !exists;
	}
	if (cnt != tl->n) {
		fprintf(stderr, "erpsyncctl: CreateTopics answered for %zu of %zu topics\n", cnt, tl->n);
		failed++;
	}
	printf("topics: %d created, %d existing, %d failed\n", created, existing, failed);
	rc = failed ? 1 : 0;
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (q)
		rd_kafka_queue_destroy(q);
	if (ao)
		rd_kafka_AdminOptions_destroy(ao);
	if (nts)
		rd_kafka_NewTopic_destroy_array(nts, nts_cnt);
	free(nts);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

/* Compares cleanup.policy and retention.ms of the topics flagged in `present`; returns the
 * mismatch count, or -1 when the configs could not be read. */
static int check_configs(rd_kafka_t *rk, const struct opts *o, const struct topic_list *tl,
			 const unsigned char *present)
{
	rd_kafka_ConfigResource_t **crs = NULL;
	size_t crs_cnt = 0, cnt = 0;
	rd_kafka_AdminOptions_t *ao = NULL;
	rd_kafka_queue_t *q = NULL;
	rd_kafka_event_t *ev = NULL;
	int bad = -1;

	if (!(crs = calloc(tl->n, sizeof *crs)))
		goto out;
	for (size_t i = 0; i < tl->n; i++)
		if (present[i])
			crs[crs_cnt++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, tl->v[i].name);
	if (crs_cnt == 0 || !(ao = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, o->timeout_ms))) {
		bad = crs_cnt == 0 ? 0 : -1;
		goto out;
	}
	q = rd_kafka_queue_new(rk);
	rd_kafka_DescribeConfigs(rk, crs, crs_cnt, ao, q);
	if (!(ev = await_result(q, o->timeout_ms, "DescribeConfigs")))
		goto out;

	const rd_kafka_ConfigResource_t **res = rd_kafka_DescribeConfigs_result_resources(
		rd_kafka_event_DescribeConfigs_result(ev), &cnt);
	bad = 0;
	for (size_t i = 0; i < cnt; i++) {
		const char *name = rd_kafka_ConfigResource_name(res[i]);
		const struct topic_decl *t = find_decl(tl, name);
		size_t ecnt = 0;
		if (!t)
			continue;
		if (rd_kafka_ConfigResource_error(res[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			printf("ERROR     %s: configs: %s\n", name, rd_kafka_ConfigResource_error_string(res[i]));
			bad++;
			continue;
		}
		const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(res[i], &ecnt);
		for (size_t k = 0; k < ecnt; k++) {
			const char *key = rd_kafka_ConfigEntry_name(e[k]);
			const char *val = rd_kafka_ConfigEntry_value(e[k]);
			const char *want = strcmp(key, "cleanup.policy") == 0 ? t->policy
					   : strcmp(key, "retention.ms") == 0 ? t->retention
									      : NULL;
			if (want && (!val || strcmp(val, want) != 0)) {
				printf("MISMATCH  %s: %s is %s, declared %s\n", name, key, val ? val : "(unset)", want);
				bad++;
			}
		}
	}
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (q)
		rd_kafka_queue_destroy(q);
	if (ao)
		rd_kafka_AdminOptions_destroy(ao);
	if (crs)
		rd_kafka_ConfigResource_destroy_array(crs, crs_cnt);
	free(crs);
	if (bad < 0)
		fprintf(stderr, "erpsyncctl: could not read topic configs\n");
	return bad;
}

static int topics_check(const struct opts *o, const struct topic_list *tl)
{
	rd_kafka_t *rk = NULL;
	const struct rd_kafka_metadata *md = NULL;
	unsigned char *present = NULL;
	int rc = 1, bad = 0, cfg_bad;

	if (!(rk = client_new(o->brokers)) || !(present = calloc(tl->n, 1)))
		goto out;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "erpsyncctl: metadata from %s: %s\n", o->brokers, rd_kafka_err2str(err));
		goto out;
	}
	for (size_t i = 0; i < tl->n; i++) {
		const struct topic_decl *t = &tl->v[i];
		const struct rd_kafka_metadata_topic *mt = NULL;
		for (int j = 0; j < md->topic_cnt && !mt; j++)
			if (strcmp(md->topics[j].topic, t->name) == 0)
				mt = &md->topics[j];
		if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
			printf("MISSING   %s\n", t->name);
		else if (mt->err != RD_KAFKA_RESP_ERR_NO_ERROR)
			printf("ERROR     %s: %s\n", t->name, rd_kafka_err2str(mt->err));
		else if (mt->partition_cnt != t->partitions)
			printf("MISMATCH  %s: %d partitions, declared %d\n", t->name, mt->partition_cnt, t->partitions);
		else
			present[i] = 1;
		bad += !present[i];
	}
	for (int j = 0; j < md->topic_cnt; j++)
		if (!find_decl(tl, md->topics[j].topic) && strncmp(md->topics[j].topic, "__", 2) != 0)
			printf("note: undeclared topic %s\n", md->topics[j].topic);
	if ((cfg_bad = check_configs(rk, o, tl, present)) < 0)
		goto out;
	bad += cfg_bad;
	printf("topics: %zu declared, %d mismatch%s\n", tl->n, bad, bad == 1 ? "" : "es");
	rc = bad ? 1 : 0;
out:
	free(present);
	if (md)
		rd_kafka_metadata_destroy(md);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

/* argv: "topics" "create"|"check" options... */
static int cmd_topics(int argc, char **argv)
{
	struct opts o = { .brokers = NULL, .file = NULL, .replication = 1, .timeout_ms = 30000 };
	struct topic_list tl = { 0 };
	long v = 0;
	int c, rc = 2;

	if (argc < 2 || (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "check") != 0))
		goto bad_usage;
	optind = 1; /* getopt sees argv[1] ("create"/"check") as the program name */
	while ((c = getopt(argc - 1, argv + 1, "b:f:r:t:h")) != -1) {
		switch (c) {
		case 'b':
			o.brokers = optarg;
			break;
		case 'f':
			o.file = optarg;
			break;
		case 'r':
			if (ctl_parse_long(optarg, 1, 32767, &v) != 0)
				goto bad_usage;
			o.replication = (int)v;
			break;
		case 't':
			if (ctl_parse_long(optarg, 100, 600000, &v) != 0)
				goto bad_usage;
			o.timeout_ms = (int)v;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (!o.brokers || !o.file || optind != argc - 1)
		goto bad_usage;
	if (load_topics(o.file, &tl) == 0)
		rc = strcmp(argv[1], "create") == 0 ? topics_create(&o, &tl) : topics_check(&o, &tl);
	free(tl.v);
	return rc;
bad_usage:
	ctl_usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc >= 2 ? argv[1] : "";

	if (strcmp(cmd, "topics") == 0)
		return cmd_topics(argc - 1, argv + 1);
	if (strcmp(cmd, "dlq") == 0)
		return dlq_cmd(argc - 1, argv + 1);
	if (strcmp(cmd, "holds") == 0)
		return holds_cmd(argc - 1, argv + 1);
	int help = strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0;
	ctl_usage(help ? stdout : stderr);
	return help ? 0 : 2;
}
