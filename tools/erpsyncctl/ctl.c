#include "ctl.h"

#include <errno.h>
#include <stdlib.h>

/* clang-format off: the usage reads as the terminal shows it */
static const char ctl_usage_text[] =
	"usage: erpsyncctl topics create -b BROKERS -f FILE [-r REPLICATION] [-t TIMEOUT_MS]\n"
	"       erpsyncctl topics check  -b BROKERS -f FILE [-t TIMEOUT_MS]\n"
	"       erpsyncctl dlq list   -b BROKERS -t TOPIC.dlq [--key K] [--since-offset N] [--json]\n"
	"                             [--timeout MS]\n"
	"       erpsyncctl dlq replay -b BROKERS -t TOPIC.dlq (--all | --key K | --offset P:N ...)\n"
	"                             [--dry-run] [--timeout MS]\n"
	"dlq list reads every partition of TOPIC.dlq to its end (as no consumer group) and prints each dead\n"
	"letter: where it is, its time, key, source topic:partition:offset, service, state (pending,\n"
	"replayed, unreplayable) and reason. dlq replay produces the selected pending letters (--key and\n"
	"--offset both must match when both are given; --offset may repeat) back to their source topic with\n"
	"their key, value and non-dlq headers, in one Kafka transaction with a marker on TOPIC.dlq per letter,\n"
	"so a letter is replayed once whoever runs it.\n"
	"       erpsyncctl holds list [--status held|released|rejected|superseded|all] [--url URL]\n"
	"       erpsyncctl holds release|reject ID [--note TEXT] [--url URL]\n"
	"holds lists the price changes pricing's guard held, and releases (written to the shop) or rejects\n"
	"(the shop keeps its price) one; URL is pricing's (default $PRICING_URL, else http://127.0.0.1:19103),\n"
	"with $ADMIN_TOKEN as its Bearer token when set. Exit status: 0 done, 1 failed, 2 usage.\n";
/* clang-format on */

void ctl_usage(FILE *fp)
{
	fputs(ctl_usage_text, fp);
}

int ctl_parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
