#include "pg_conninfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

/* Written once at start-up, before any thread connects. */
static struct pg_settings pg_conninfo_current = { 30000, 30000 };

void pg_conninfo_configure(const struct pg_settings *s)
{
	if (s)
		pg_conninfo_current = *s;
}

void pg_conninfo_settings(struct pg_settings *out)
{
	*out = pg_conninfo_current;
}

static bool pg_conninfo_has(const PQconninfoOption *opts, const char *keyword)
{
	for (const PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o->val != NULL;
	return false;
}

static const char *pg_conninfo_val(const PQconninfoOption *opts, const char *keyword)
{
	for (const PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o->val;
	return NULL;
}

static void pg_conninfo_add(struct pg_conninfo *ci, int *k, const char *key, const char *val)
{
	if (*k < PG_CONNINFO_MAX) {
		ci->keys[*k] = key;
		ci->vals[(*k)++] = val;
	}
}

/* A default for keyword unless the DSN sets it; its value printed into ci->num[slot]. */
static void pg_conninfo_default(struct pg_conninfo *ci, int *k, const PQconninfoOption *opts, const char *keyword,
				int slot, long long value)
{
	if (pg_conninfo_has(opts, keyword))
		return;
	snprintf(ci->num[slot], sizeof ci->num[slot], "%lld", value);
	pg_conninfo_add(ci, k, keyword, ci->num[slot]);
}

bool pg_conninfo_build(struct pg_conninfo *ci, const char *dsn, const char *appname, const char *connect_timeout,
		       bool timeout_wins)
{
	const struct pg_settings *s = &pg_conninfo_current;
	char *perr = NULL;
	int k = 0;
	bool options_after = false;
	memset(ci, 0, sizeof *ci);
	dsn = dsn ? dsn : "";
	/* NULL when the DSN cannot be parsed: then nothing is added, and connecting reports why */
	PQconninfoOption *opts = PQconninfoParse(dsn, &perr);
	PQfreemem(perr);
	if (connect_timeout && !timeout_wins)
		pg_conninfo_add(ci, &k, "connect_timeout", connect_timeout);
	pg_conninfo_add(ci, &k, "fallback_application_name", appname);
	if (opts && s->tcp_timeout_ms > 0) {
		/* idle for a third of it, then three probes in another third: a silent peer is dropped
		 * within the timeout whether the connection idles (keepalives) or waits for an
		 * acknowledgement of what it sent (tcp_user_timeout) */
		long long idle = s->tcp_timeout_ms / 3000, interval = s->tcp_timeout_ms / 9000;
		pg_conninfo_default(ci, &k, opts, "keepalives", 0, 1);
		pg_conninfo_default(ci, &k, opts, "keepalives_idle", 1, idle > 0 ? idle : 1);
		pg_conninfo_default(ci, &k, opts, "keepalives_interval", 2, interval > 0 ? interval : 1);
		pg_conninfo_default(ci, &k, opts, "keepalives_count", 3, 3);
		pg_conninfo_default(ci, &k, opts, "tcp_user_timeout", 4, s->tcp_timeout_ms);
	}
	const char *base = opts ? pg_conninfo_val(opts, "options") : NULL;
	if (!base)
		base = getenv("PGOPTIONS"); /* what libpq would use when options is not given */
	if (opts && s->statement_timeout_ms > 0 && !(base && strstr(base, "statement_timeout"))) {
		if (asprintf(&ci->options, "%s%s-c statement_timeout=%lld", base ? base : "", base && *base ? " " : "",
			     s->statement_timeout_ms) < 0) {
			ci->options = NULL;
			PQconninfoFree(opts);
			return false;
		}
		ci->bound_ms = s->statement_timeout_ms + (s->tcp_timeout_ms > 0 ? s->tcp_timeout_ms : 30000);
		/* the DSN's own options would override ours placed before it: the merged ones go after */
		options_after = pg_conninfo_has(opts, "options");
		if (!options_after)
			pg_conninfo_add(ci, &k, "options", ci->options);
	}
	pg_conninfo_add(ci, &k, "dbname", dsn);
	if (options_after)
		pg_conninfo_add(ci, &k, "options", ci->options);
	if (connect_timeout && timeout_wins)
		pg_conninfo_add(ci, &k, "connect_timeout", connect_timeout);
	ci->keys[k] = NULL;
	ci->vals[k] = NULL;
	PQconninfoFree(opts);
	return true;
}

void pg_conninfo_cleanup(struct pg_conninfo *ci)
{
	if (!ci)
		return;
	free(ci->options);
	ci->options = NULL;
}

/* ---- redaction ---- */

struct pg_conninfo_out {
	char *p;
	size_t len, cap;
};

static void pg_conninfo_put(struct pg_conninfo_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) {
		char c = s[i];
		o->p[o->len++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
	}
	o->p[o->len] = '\0';
}

/* The end of a "password=" value starting at v: a quoted value to its closing quote, else up to
 * a space, a double quote or a URI's '&'. */
static const char *pg_conninfo_value_end(const char *v)
{
	if (*v == '\'') {
		for (v++; *v && *v != '\''; v++)
			if (*v == '\\' && v[1])
				v++;
		return *v ? v + 1 : v;
	}
	while (*v && *v != ' ' && *v != '"' && *v != '&' && *v != '\n' && *v != '\t')
		v++;
	return v;
}

/* At "://": the length of "user:" when a "user:password@" follows, with *end after the '@'. */
static size_t pg_conninfo_userinfo(const char *a, const char **end)
{
	size_t n = strcspn(a, "/?# \"\n");
	const char *at = memchr(a, '@', n);
	const char *colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
	if (!colon)
		return 0;
	*end = at + 1;
	return (size_t)(colon - a) + 1;
}

void pg_conninfo_redact(const char *dsn, const char *msg, char *out, size_t outlen)
{
	struct pg_conninfo_out o = { out, 0, outlen };
	char *perr = NULL;
	if (!out || !outlen)
		return;
	out[0] = '\0';
	PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &perr);
	PQfreemem(perr);
	const char *pw = opts ? pg_conninfo_val(opts, "password") : NULL;
	size_t pwlen = pw ? strlen(pw) : 0;
	for (const char *m = msg ? msg : ""; *m;) {
		const char *end;
		size_t user;
		if (pwlen && strncmp(m, pw, pwlen) == 0) {
			pg_conninfo_put(&o, "***", 3);
			m += pwlen;
		} else if (strncasecmp(m, "password=", 9) == 0) {
			pg_conninfo_put(&o, m, 9);
			pg_conninfo_put(&o, "***", 3);
			m = pg_conninfo_value_end(m + 9);
		} else if (strncmp(m, "://", 3) == 0 && (user = pg_conninfo_userinfo(m + 3, &end)) > 0) {
			pg_conninfo_put(&o, m, 3 + user);
			pg_conninfo_put(&o, "***@", 4);
			m = end;
		} else if (!opts && *m == '"' && (end = strchr(m + 1, '"')) != NULL) {
			/* a DSN libpq cannot parse: its message quotes the offending part of it */
			if (end == m + 2 && m[1] == '=')
				pg_conninfo_put(&o, m, 3);
			else
				pg_conninfo_put(&o, "\"***\"", 5);
			m = end + 1;
		} else {
			pg_conninfo_put(&o, m, 1);
			m++;
		}
	}
	PQconninfoFree(opts);
}
