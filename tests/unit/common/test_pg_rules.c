/* Pure logic of common/pg*.c: the outbox relay's ordering rule, the connection parameters every
 * connection gets, and what of libpq's errors may be logged. */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"
#include "pg_conninfo.h"
#include "unit.h"

/* The relay's ordering rule: a row whose delivery failed is sent again on a later run, so a later
 * row of the same topic and key that did get through must stay and go again after it; otherwise
 * the older value would land last (and be what a compacted topic keeps). Other keys, other topics
 * and rows without a key are not held. */
static void test_outbox_keeps_key_order(void)
{
	const struct outbox_row_state rows[] = {
		{ "t", "A", 1, false },                        /* failed */
		{ "t", "A", 1, true },                         /* same key, acknowledged: held back */
		{ "t", "B", 1, true },  { "u", "A", 1, true }, /* same key, another topic */
		{ "t", NULL, 0, true },                        /* no key */
		{ "t", "A", 1, true },                         /* held back too */
		{ "t", "AB", 2, true },                        /* another key sharing a prefix */
	};
	bool remove[7];
	EXPECT_INT(pg_outbox_settle(rows, 7, remove), 4);
	EXPECT(!remove[0]);
	EXPECT(!remove[1]);
	EXPECT(remove[2]);
	EXPECT(remove[3]);
	EXPECT(remove[4]);
	EXPECT(!remove[5]);
	EXPECT(remove[6]);
	const struct outbox_row_state all[] = { { "t", "A", 1, true }, { "t", "A", 1, true } };
	EXPECT_INT(pg_outbox_settle(all, 2, remove), 2);
}

/* value of key in ci, NULL when absent; *pos its place */
static const char *ci_get(const struct pg_conninfo *ci, const char *key, int *pos)
{
	for (int i = 0; ci->keys[i]; i++)
		if (strcmp(ci->keys[i], key) == 0) {
			if (pos)
				*pos = i;
			return ci->vals[i];
		}
	return NULL;
}

static void test_conninfo_defaults(void)
{
	struct pg_settings s = { 30000, 30000 };
	struct pg_conninfo ci;
	int at_opts = -1, at_db = -1;
	pg_conninfo_configure(&s);
	unsetenv("PGOPTIONS");
	EXPECT(pg_conninfo_build(&ci, "host=db user=u dbname=x", "erpsync-x", "5", false));
	EXPECT_STR(ci_get(&ci, "keepalives", NULL), "1");
	EXPECT_STR(ci_get(&ci, "keepalives_idle", NULL), "10");
	EXPECT_STR(ci_get(&ci, "keepalives_interval", NULL), "3");
	EXPECT_STR(ci_get(&ci, "keepalives_count", NULL), "3");
	EXPECT_STR(ci_get(&ci, "tcp_user_timeout", NULL), "30000");
	EXPECT_STR(ci_get(&ci, "options", &at_opts), "-c statement_timeout=30000");
	EXPECT_STR(ci_get(&ci, "dbname", &at_db), "host=db user=u dbname=x");
	EXPECT(at_opts < at_db);
	EXPECT_INT(ci.bound_ms, 60000);
	pg_conninfo_cleanup(&ci);
}

/* What the DSN sets wins: its keepalive settings are left alone, its options keep theirs and get
 * statement_timeout added after them (placed after the DSN, or the DSN's would replace them), and
 * a statement_timeout of its own stays (no bound of ours then). */
static void test_conninfo_dsn_wins(void)
{
	struct pg_settings s = { 5000, 9000 };
	struct pg_conninfo ci;
	int at_opts = -1, at_db = -1;
	pg_conninfo_configure(&s);
	unsetenv("PGOPTIONS");
	EXPECT(pg_conninfo_build(&ci, "host=db keepalives_idle=60 tcp_user_timeout=0 options='-c work_mem=8MB'", "a",
				 NULL, false));
	EXPECT(ci_get(&ci, "keepalives_idle", NULL) == NULL);
	EXPECT(ci_get(&ci, "tcp_user_timeout", NULL) == NULL);
	EXPECT_STR(ci_get(&ci, "keepalives_interval", NULL), "1");
	EXPECT_STR(ci_get(&ci, "options", &at_opts), "-c work_mem=8MB -c statement_timeout=5000");
	ci_get(&ci, "dbname", &at_db);
	EXPECT(at_opts > at_db);
	EXPECT(ci_get(&ci, "connect_timeout", NULL) == NULL);
	pg_conninfo_cleanup(&ci);
	EXPECT(pg_conninfo_build(&ci, "postgresql://u@db/x?options=-c%20statement_timeout%3D100", "a", "2", true));
	EXPECT(ci_get(&ci, "options", NULL) == NULL);
	EXPECT_INT(ci.bound_ms, 0);
	int at_to = -1;
	EXPECT_STR(ci_get(&ci, "connect_timeout", &at_to), "2");
	ci_get(&ci, "dbname", &at_db);
	EXPECT(at_to > at_db);
	pg_conninfo_cleanup(&ci);
	s = (struct pg_settings){ 0, 0 };
	pg_conninfo_configure(&s);
	EXPECT(pg_conninfo_build(&ci, "host=db", "a", NULL, false));
	EXPECT(ci_get(&ci, "options", NULL) == NULL && ci_get(&ci, "keepalives", NULL) == NULL);
	pg_conninfo_cleanup(&ci);
}

static void test_conninfo_redact(void)
{
	char out[256];
	pg_conninfo_redact("host=db password=s3cret", "FATAL: password s3cret was wrong", out, sizeof out);
	EXPECT_STR(out, "FATAL: password *** was wrong");
	pg_conninfo_redact("host=db", "bad: password=abc def host=x", out, sizeof out);
	EXPECT_STR(out, "bad: password=*** def host=x");
	pg_conninfo_redact("host=db", "bad: password='a b\\' c' host=x", out, sizeof out);
	EXPECT_STR(out, "bad: password=*** host=x");
	pg_conninfo_redact("host=db", "at postgresql://me:pw@db:5432/x failed", out, sizeof out);
	EXPECT_STR(out, "at postgresql://me:***@db:5432/x failed");
	/* unparsable: libpq quotes the part of the string it stumbled on */
	pg_conninfo_redact("postgresql://u:s3cr3t%zz@db/x", "invalid percent-encoded token: \"s3cr3t%zz\"\n", out,
			   sizeof out);
	EXPECT_STR(out, "invalid percent-encoded token: \"***\" ");
	pg_conninfo_redact("host=db password=abc def", "missing \"=\" after \"def\" in connection info string", out,
			   sizeof out);
	EXPECT_STR(out, "missing \"=\" after \"***\" in connection info string");
	pg_conninfo_redact(NULL, "could not connect to server", out, 8);
	EXPECT_STR(out, "could n");
}

UNIT_MAIN(test_outbox_keeps_key_order, test_conninfo_defaults, test_conninfo_dsn_wins, test_conninfo_redact)
