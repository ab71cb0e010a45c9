/* order_db — order-sync's schema (order_sync) and the statements more than one module runs. */
#ifndef ORDER_DB_H
#define ORDER_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg;

#define ORDER_DB_SCHEMA "order_sync"

bool order_db_migrate(struct pg *db, char *err, size_t errlen) __attribute__((warn_unused_result));

/* A persisted cursor (poll positions): *out (malloc'ed) NULL when never saved. */
bool order_db_cursor_get(struct pg *db, const char *name, char **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
bool order_db_cursor_set(struct pg *db, const char *name, const char *value, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
