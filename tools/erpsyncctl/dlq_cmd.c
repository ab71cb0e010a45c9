#include "dlq_cmd.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "dlq_read.h"

enum { DLQ_OPT_KEY = 256, DLQ_OPT_SINCE, DLQ_OPT_JSON, DLQ_OPT_OFFSET, DLQ_OPT_ALL, DLQ_OPT_DRY_RUN, DLQ_OPT_TIMEOUT };

__attribute__((format(printf, 1, 2))) static bool dlq_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("erpsyncctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ctl_usage(stderr);
	return false;
}

/* The options one subcommand takes; the other's are a usage error. */
static bool dlq_opt_allowed(bool replay, int c)
{
	switch (c) {
	case DLQ_OPT_SINCE:
	case DLQ_OPT_JSON:
		return !replay;
	case DLQ_OPT_OFFSET:
	case DLQ_OPT_ALL:
	case DLQ_OPT_DRY_RUN:
		return replay;
	default:
		return true;
	}
}

static bool dlq_opt_number(int c, const char *arg, struct dlq_opts *o)
{
	long v = 0;
	if (c == DLQ_OPT_TIMEOUT) {
		if (ctl_parse_long(arg, 100, 600000, &v) != 0)
			return dlq_usage_error("--timeout %s: milliseconds 100..600000", arg);
		o->timeout_ms = (int)v;
		return true;
	}
	int32_t p;
	int64_t n;
	if (c == DLQ_OPT_SINCE) {
		if (ctl_parse_long(arg, 0, INT64_MAX, &v) != 0)
			return dlq_usage_error("--since-offset %s: an offset >= 0", arg);
		o->since = v;
		return true;
	}
	if (!dlq_position_parse(arg, &p, &n))
		return dlq_usage_error("--offset %s: PARTITION:OFFSET, e.g. 0:17", arg);
	if (o->noffsets == DLQ_OFFSETS_MAX)
		return dlq_usage_error("--offset %s: at most %d of them", arg, DLQ_OFFSETS_MAX);
	o->offsets[o->noffsets].partition = p;
	o->offsets[o->noffsets].offset = n;
	o->offsets[o->noffsets++].found = false;
	return true;
}

/* Takes one option (c as getopt_long gave it) into o; false (said why) on a bad one. */
static bool dlq_opt_take(int c, char *arg, struct dlq_opts *o)
{
	switch (c) {
	case 'b':
		o->brokers = arg;
		return true;
	case 't':
		o->topic = arg;
		return true;
	case DLQ_OPT_KEY:
		if (strlen(arg) > DLQ_KEY_MAX)
			return dlq_usage_error("--key: longer than %d bytes", DLQ_KEY_MAX);
		o->key = arg;
		return true;
	case DLQ_OPT_JSON:
		o->json = true;
		return true;
	case DLQ_OPT_ALL:
		o->all = true;
		return true;
	case DLQ_OPT_DRY_RUN:
		o->dry_run = true;
		return true;
	case DLQ_OPT_SINCE:
	case DLQ_OPT_OFFSET:
	case DLQ_OPT_TIMEOUT:
		return dlq_opt_number(c, arg, o);
	case 'h':
		o->help = true;
		return true;
	default:
		return dlq_usage_error("unknown option or missing argument");
	}
}

bool dlq_opts_parse(int argc, char **argv, struct dlq_opts *o)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, DLQ_OPT_KEY },
		{ "since-offset", required_argument, NULL, DLQ_OPT_SINCE },
		{ "json", no_argument, NULL, DLQ_OPT_JSON },
		{ "offset", required_argument, NULL, DLQ_OPT_OFFSET },
		{ "all", no_argument, NULL, DLQ_OPT_ALL },
		{ "dry-run", no_argument, NULL, DLQ_OPT_DRY_RUN },
		{ "timeout", required_argument, NULL, DLQ_OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	o->timeout_ms = DLQ_TIMEOUT_MS;
	if (argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "replay") != 0))
		return dlq_usage_error("dlq: expected list or replay");
	bool replay = strcmp(argv[1], "replay") == 0;
	optind = 1; /* getopt sees argv[1] ("list"/"replay") as the program name */
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "b:t:h", longopts, NULL)) != -1 && !o->help) {
		if (!dlq_opt_allowed(replay, c)) {
			const struct option *lo = longopts;
			while (lo->name && lo->val != c)
				lo++;
			return dlq_usage_error("dlq %s: --%s is an option of dlq %s", argv[1], lo->name,
					       replay ? "list" : "replay");
		}
		if (!dlq_opt_take(c, optarg, o))
			return false;
	}
	if (o->help)
		return true;
	if (!o->brokers || !o->topic)
		return dlq_usage_error("dlq %s: -b BROKERS and -t TOPIC.dlq are required", argv[1]);
	if (optind != argc - 1)
		return dlq_usage_error("dlq %s: unexpected argument %s", argv[1], argv[optind + 1]);
	size_t tl = strlen(o->topic);
	if (tl <= 4 || tl > DLQ_TOPIC_MAX || strcmp(o->topic + tl - 4, ".dlq") != 0)
		return dlq_usage_error("-t %s: not a dead-letter topic (<topic>.dlq)", o->topic);
	if (replay && !o->all && !o->key && o->noffsets == 0)
		return dlq_usage_error("dlq replay: say what to replay: --all, --key K or --offset P:N");
	return true;
}

bool dlq_selected(const struct dlq_opts *o, const struct dlq_letter *l)
{
	if (o->key && (!l->key || l->key_len != strlen(o->key) || memcmp(l->key, o->key, l->key_len) != 0))
		return false;
	if (o->noffsets == 0)
		return true;
	for (size_t i = 0; i < o->noffsets; i++)
		if (o->offsets[i].partition == l->partition && o->offsets[i].offset == l->offset)
			return true;
	return false;
}

void dlq_selected_found(struct dlq_opts *o, const struct dlq_letter *l)
{
	for (size_t i = 0; i < o->noffsets; i++)
		if (o->offsets[i].partition == l->partition && o->offsets[i].offset == l->offset)
			o->offsets[i].found = true;
}

const char *dlq_state(const struct dlq_letter *l, const char *dlq_topic)
{
	if (l->replayed)
		return "replayed";
	return dlq_letter_unreplayable(l, dlq_topic) ? "unreplayable" : "pending";
}

/* ---- list ------------------------------------------------------------------------------------- */

static void dlq_list_json(const struct dlq_opts *o, const struct dlq_letter *l)
{
	char when[40];
	const char *why = dlq_letter_unreplayable(l, o->topic);

	dlq_time_format(l->timestamp_ms, when, sizeof when);
	printf("{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp\":\"%s\",\"key\":", l->partition,
	       l->offset, when);
	if (l->key)
		dlq_json_string(stdout, l->key, l->key_len);
	else
		fputs("null", stdout);
	fputs(",\"source_topic\":", stdout);
	dlq_json_string(stdout, l->source_topic, strlen(l->source_topic));
	printf(",\"source_partition\":%" PRId32 ",\"source_offset\":%" PRId64 ",\"service\":", l->source_partition,
	       l->source_offset);
	dlq_json_string(stdout, l->service, strlen(l->service));
	fputs(",\"reason\":", stdout);
	dlq_json_string(stdout, l->reason, strlen(l->reason));
	printf(",\"attempts\":%u,\"event_id\":", l->attempts);
	dlq_json_string(stdout, l->event_id, strlen(l->event_id));
	printf(",\"state\":\"%s\",\"replayed\":%s,\"replayed_to\":", dlq_state(l, o->topic),
	       l->replayed ? "true" : "false");
	if (l->replayed)
		dlq_json_string(stdout, l->replayed_to, strlen(l->replayed_to));
	else
		fputs("null", stdout);
	fputs(",\"unreplayable\":", stdout);
	if (why)
		dlq_json_string(stdout, why, strlen(why));
	else
		fputs("null", stdout);
	fputs(",\"replay_of\":", stdout);
	if (l->replay_of[0])
		dlq_json_string(stdout, l->replay_of, strlen(l->replay_of));
	else
		fputs("null", stdout);
	fputs("}\n", stdout);
}

/* One TAB-separated line: untrusted fields are escaped, so a line never breaks or gains a field. */
static void dlq_list_text(const struct dlq_opts *o, const struct dlq_letter *l)
{
	char when[40];

	dlq_time_format(l->timestamp_ms, when, sizeof when);
	printf("%" PRId32 ":%" PRId64 "\t%s\t", l->partition, l->offset, when);
	if (l->key)
		dlq_text_string(stdout, l->key, l->key_len);
	else
		fputs("-", stdout);
	fputc('\t', stdout);
	dlq_text_string(stdout, l->source_topic[0] ? l->source_topic : "-",
			strlen(l->source_topic[0] ? l->source_topic : "-"));
	printf(":%" PRId32 ":%" PRId64 "\t", l->source_partition, l->source_offset);
	dlq_text_string(stdout, l->service[0] ? l->service : "-", strlen(l->service[0] ? l->service : "-"));
	printf("\t%s", dlq_state(l, o->topic));
	if (l->replayed) {
		fputs(" to ", stdout);
		dlq_text_string(stdout, l->replayed_to, strlen(l->replayed_to));
	}
	fputc('\t', stdout);
	dlq_text_string(stdout, l->reason, strlen(l->reason));
	fputc('\n', stdout);
}

int dlq_list(struct dlq_opts *o)
{
	struct dlq_set s = DLQ_SET_INIT;
	const struct dlq_read_opts r = { o->brokers, o->topic, o->since, o->timeout_ms, NULL, NULL };
	char err[512];
	size_t shown = 0, pending = 0, replayed = 0;

	if (!dlq_read(&r, &s, err, sizeof err)) {
		fprintf(stderr, "erpsyncctl: dlq list: %s\n", err);
		dlq_set_cleanup(&s);
		return CTL_EXIT_FAIL;
	}
	if (!o->json)
		printf("POSITION\tTIME\tKEY\tSOURCE\tSERVICE\tSTATE\tREASON\n");
	for (size_t i = 0; i < s.nletters; i++) {
		const struct dlq_letter *l = &s.letters[i];
		if (!dlq_selected(o, l))
			continue;
		shown++;
		replayed += l->replayed;
		pending += strcmp(dlq_state(l, o->topic), "pending") == 0;
		if (o->json)
			dlq_list_json(o, l);
		else
			dlq_list_text(o, l);
	}
	if (!o->json)
		printf("dead letters: %zu (%zu pending, %zu replayed, %zu unreplayable)\n", shown, pending, replayed,
		       shown - pending - replayed);
	dlq_set_cleanup(&s);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int dlq_cmd(int argc, char **argv)
{
	struct dlq_opts o;

	if (!dlq_opts_parse(argc, argv, &o))
		return CTL_EXIT_USAGE;
	if (o.help) {
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	}
	return strcmp(argv[1], "list") == 0 ? dlq_list(&o) : dlq_replay(&o);
}
