/* pg_conninfo — what every connection of pg.h is opened with, and what of libpq's connection
 * errors may be logged.
 *
 * Each connection gets, unless the DSN sets them itself: TCP keepalives and tcp_user_timeout
 * derived from one TCP timeout (a peer or a network gone silent is noticed within it, idle or
 * not), statement_timeout (added to the options, after any the DSN or PGOPTIONS give), and the
 * connect_timeout and fallback application name pg.c asks for. The DSN goes in whole as dbname
 * with expand_dbname, placed so that what it sets wins over these defaults.
 *
 * libpq quotes the connection string back in some errors (a token it cannot parse, a bad
 * percent-encoding in a URI): pg_conninfo_redact takes the password out of such a message. */
#ifndef ERPSYNC_PG_CONNINFO_H
#define ERPSYNC_PG_CONNINFO_H

#include <stdbool.h>
#include <stddef.h>

struct pg_settings {
	long long statement_timeout_ms; /* 0: none */
	long long tcp_timeout_ms;       /* 0: libpq's and the kernel's defaults */
};

/* Process-wide; before the first connection (start-up). Until then: 30 s and 30 s. */
void pg_conninfo_configure(const struct pg_settings *s);
void pg_conninfo_settings(struct pg_settings *out);

#define PG_CONNINFO_MAX 12

/* The keywords and values of one PQconnectdbParams(keys, vals, 1) call. */
struct pg_conninfo {
	const char *keys[PG_CONNINFO_MAX + 1];
	const char *vals[PG_CONNINFO_MAX + 1];
	char num[5][24];
	char *options;      /* merged options (owned), or NULL */
	long long bound_ms; /* how long a wait for an answer may last (0: no bound of ours):
					   * statement_timeout + the TCP timeout, when ours was set */
};

/* Fills ci for dsn. connect_timeout: NULL for none; timeout_wins: it overrides the DSN's.
 * false when out of memory. */
bool pg_conninfo_build(struct pg_conninfo *ci, const char *dsn, const char *appname, const char *connect_timeout,
		       bool timeout_wins) __attribute__((warn_unused_result));
void pg_conninfo_cleanup(struct pg_conninfo *ci);

/* Copies msg to out (one line, cut to outlen) with the DSN's password, any "password=value" and
 * the password of any "scheme://user:password@" replaced by ***; when dsn cannot be parsed (then
 * libpq's message is about the string itself), every quoted token but "=" too. */
void pg_conninfo_redact(const char *dsn, const char *msg, char *out, size_t outlen);

#endif
