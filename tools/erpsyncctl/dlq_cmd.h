/* dlq_cmd — `erpsyncctl dlq list|replay`: the options, which letters they select, and the listing.
 * The replay itself is dlq_replay.c. */
#ifndef ERPSYNC_DLQ_CMD_H
#define ERPSYNC_DLQ_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dlq_letter.h"

#define DLQ_OFFSETS_MAX 64    /* --offset given at most this many times */
#define DLQ_TIMEOUT_MS  30000 /* default --timeout: each step with the cluster, and the whole read */
#define DLQ_KEY_MAX     4096  /* --key */

struct dlq_opts {
	const char *brokers;
	const char *topic; /* the dead-letter topic: ends in .dlq */
	const char *key;   /* NULL: any */
	int64_t since;     /* list --since-offset; replay reads from 0 (its markers follow their letters) */
	struct {
		int32_t partition;
		int64_t offset;
		bool found;
	} offsets[DLQ_OFFSETS_MAX];
	size_t noffsets;
	bool all, dry_run, json;
	bool help; /* -h: nothing else was parsed */
	int timeout_ms;
};

/* argv: "dlq" "list"|"replay" options...; returns the exit status (ctl.h). */
int dlq_cmd(int argc, char **argv);

/* Parses argv (as dlq_cmd gets it) into *o; false (after saying why on stderr) on a usage error. */
bool dlq_opts_parse(int argc, char **argv, struct dlq_opts *o) __attribute__((warn_unused_result));

/* Whether --key and --offset (when given) both take l. */
bool dlq_selected(const struct dlq_opts *o, const struct dlq_letter *l);
/* Marks the --offset that names l as found. */
void dlq_selected_found(struct dlq_opts *o, const struct dlq_letter *l);

/* The letter's state as listed: "replayed", "unreplayable" or "pending". */
const char *dlq_state(const struct dlq_letter *l, const char *dlq_topic);

int dlq_list(struct dlq_opts *o);
int dlq_replay(struct dlq_opts *o);

#endif
