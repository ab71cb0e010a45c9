/* pg_array — PostgreSQL array literals ({"a","b"}, {1,2}) built in a buf, so that a whole batch
 * travels as a few array parameters of one statement (unnest) instead of a round trip per row. */
#ifndef ERPSYNC_PG_ARRAY_H
#define ERPSYNC_PG_ARRAY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

struct pg_array {
	struct buf b;
	bool any;
};

void pg_array_init(struct pg_array *a);
void pg_array_cleanup(struct pg_array *a);
bool pg_array_text(struct pg_array *a, const char *s) __attribute__((warn_unused_result));
bool pg_array_int(struct pg_array *a, int64_t v) __attribute__((warn_unused_result));
/* The finished literal ("{}" when empty); valid until the next append or cleanup. */
const char *pg_array_get(struct pg_array *a);

#endif
