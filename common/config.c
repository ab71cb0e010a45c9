#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"

extern char **environ;

#define CONFIG_KAFKA_PREFIX "KAFKA_"

bool config_parse_duration(const char *s, long long *ms)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return false;
	long long mul;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else
		return false;
	if (v > INT64_MAX / mul)
		return false;
	*ms = v * mul;
	return true;
}

static bool config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool config_choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static bool config_bounds_ok(const struct config_key *k, long long v)
{
	return (k->min == 0 && k->max == 0) || (v >= k->min && v <= k->max);
}

/* Parses one value into its field; on failure describes why in err. */
static bool config_set(const struct config_key *k, const char *v, void *target, char *err, size_t len)
{
	char *field = (char *)target + k->offset;
	long long n = 0;
	char *end = NULL;

	switch (k->type) {
	case CONFIG_ENUM:
		if (!config_choice_ok(k->choices, v)) {
			snprintf(err, len, "must be one of %s", k->choices);
			return false;
		}
		/* fall through */
	case CONFIG_STRING:
	case CONFIG_URL: {
		char *copy = strdup(v);
		if (!copy) {
			snprintf(err, len, "out of memory");
			return false;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = copy;
		return true;
	}
	case CONFIG_BOOL:
		if (!config_parse_bool(v, (bool *)(void *)field)) {
			snprintf(err, len, "must be true or false");
			return false;
		}
		return true;
	case CONFIG_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || end == v || *end) {
			snprintf(err, len, "must be an integer");
			return false;
		}
		break;
	case CONFIG_DURATION:
		if (!config_parse_duration(v, &n)) {
			snprintf(err, len, "must be a duration such as 250ms, 5s, 2m, 1h");
			return false;
		}
		break;
	}
	if (!config_bounds_ok(k, n)) {
		snprintf(err, len, "must be between %lld and %lld%s", k->min, k->max,
			 k->type == CONFIG_DURATION ? " ms" : "");
		return false;
	}
	*(long long *)(void *)field = n;
	return true;
}

bool config_load(const struct config_key *table, void *target)
{
	int problems = 0;
	for (const struct config_key *k = table; k->env; k++) {
		const char *v = getenv(k->env);
		if (v && !*v)
			v = NULL;
		if (!v && k->required) {
			log_error("config: %s is required: %s", k->env, k->help);
			problems++;
			continue;
		}
		if (!v)
			v = k->def;
		if (!v)
			continue;
		char why[160];
		if (!config_set(k, v, target, why, sizeof why)) {
			/* The value itself is not echoed: it may be a secret. */
			log_error("config: %s %s (got %s)", k->env, why,
				  k->secret ? "***" : (getenv(k->env) ? "the set value" : "the default"));
			problems++;
		}
	}
	return problems == 0;
}

void config_url_redact(const char *url, char *out, size_t len)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end ? scheme_end + 3 : url;
	size_t authority = strcspn(host, "/?#");
	const char *at = NULL;
	for (const char *c = host; c < host + authority; c++)
		if (*c == '@')
			at = c; /* the last one: a password may hold an '@' the sender forgot to escape */
	const char *rest = at ? at + 1 : host;
	size_t path = strcspn(rest, "?#");
	snprintf(out, len, "%.*s%s%.*s%s", (int)(host - url), url, at ? "***@" : "", (int)path, rest,
		 rest[path] == '?' ? "?***" : "");
}

static bool config_value_text(const struct config_key *k, const void *target, struct buf *b)
{
	const char *field = (const char *)target + k->offset;
	switch (k->type) {
	case CONFIG_URL: {
		const char *s = *(char *const *)(const void *)field;
		char shown[512];
		if (!s)
			return buf_puts(b, "null");
		config_url_redact(s, shown, sizeof shown);
		return buf_json_str(b, k->secret ? "***" : shown);
	}
	case CONFIG_STRING:
	case CONFIG_ENUM: {
		const char *s = *(char *const *)(const void *)field;
		if (!s)
			return buf_puts(b, "null");
		return k->secret ? buf_json_str(b, "***") : buf_json_str(b, s);
	}
	case CONFIG_BOOL:
		return buf_puts(b, *(const bool *)(const void *)field ? "true" : "false");
	case CONFIG_INT:
	case CONFIG_DURATION:
		return buf_printf(b, "%lld", *(const long long *)(const void *)field);
	}
	return false;
}

/* librdkafka properties whose values must never reach a log. */
static bool config_kafka_secret(const char *prop)
{
	return strstr(prop, "password") || strstr(prop, "secret") || strstr(prop, "key.pem") ||
	       strstr(prop, "sasl.oauthbearer.config") || strstr(prop, "token");
}

/* KAFKA_SASL_PASSWORD -> sasl.password; "__" -> '_'. false when not a KAFKA_ variable. */
static bool config_kafka_prop(const char *env_entry, char *name, size_t namelen, const char **value)
{
	if (strncmp(env_entry, CONFIG_KAFKA_PREFIX, strlen(CONFIG_KAFKA_PREFIX)) != 0)
		return false;
	const char *p = env_entry + strlen(CONFIG_KAFKA_PREFIX);
	const char *eq = strchr(p, '=');
	if (!eq || eq == p)
		return false;
	size_t o = 0;
	for (; p < eq && o + 1 < namelen; p++) {
		if (p[0] == '_' && p[1] == '_') {
			name[o++] = '_';
			p++;
		} else if (*p == '_') {
			name[o++] = '.';
		} else {
			name[o++] = (char)tolower((unsigned char)*p);
		}
	}
	name[o] = '\0';
	*value = eq + 1;
	return true;
}

void config_log(const struct config_key *table, const void *target)
{
	struct buf b = BUF_INIT;
	bool ok = buf_puts(&b, "{");
	for (const struct config_key *k = table; ok && k->env; k++) {
		ok = (k == table || buf_puts(&b, ",")) && buf_json_str(&b, k->env) && buf_puts(&b, ":") &&
		     config_value_text(k, target, &b);
	}
	for (char **e = environ; ok && *e; e++) {
		char prop[128];
		const char *v;
		if (!config_kafka_prop(*e, prop, sizeof prop, &v))
			continue;
		ok = buf_puts(&b, ",") && buf_json_str(&b, prop) && buf_puts(&b, ":") &&
		     buf_json_str(&b, config_kafka_secret(prop) ? "***" : v);
	}
	ok = ok && buf_puts(&b, "}");
	if (ok)
		log_info("effective config %s", b.data);
	buf_cleanup(&b);
}

void config_free(const struct config_key *table, void *target)
{
	for (const struct config_key *k = table; k->env; k++) {
		if (k->type != CONFIG_STRING && k->type != CONFIG_ENUM && k->type != CONFIG_URL)
			continue;
		char **field = (char **)(void *)((char *)target + k->offset);
		free(*field);
		*field = NULL;
	}
}

static const char *const config_type_names[] = { "string", "integer", "bool", "duration", "enum", "URL" };

static int config_key_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct config_key *const *)a)->env, (*(const struct config_key *const *)b)->env);
}

void config_print_reference(const struct config_key *table, const char *service)
{
	size_t n = 0;
	while (table[n].env)
		n++;
	/* sorted by name, whatever the table's order (the runtime's rows come first in it) */
	const struct config_key **rows = calloc(n ? n : 1, sizeof *rows);
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++)
		rows[i] = &table[i];
	qsort(rows, n, sizeof *rows, config_key_cmp);
	printf("| variable (%s) | type | default | required | description |\n", service);
	printf("|---|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = rows[i];
		char type[160];
		if (k->type == CONFIG_ENUM) {
			/* '|' would end a Markdown table cell: list the choices with commas */
			size_t o = (size_t)snprintf(type, sizeof type, "one of ");
			for (const char *c = k->choices; *c && o + 2 < sizeof type; c++) {
				if (*c == '|' && o + 3 < sizeof type) {
					type[o++] = ',';
					type[o++] = ' ';
				} else if (*c != '|') {
					type[o++] = *c;
				}
			}
			type[o] = '\0';
		} else if (k->min || k->max)
			snprintf(type, sizeof type, "%s %lld..%lld%s", config_type_names[k->type], k->min, k->max,
				 k->type == CONFIG_DURATION ? " ms" : "");
		else
			snprintf(type, sizeof type, "%s", config_type_names[k->type]);
		printf("| `%s` | %s | %s%s%s | %s | %s%s |\n", k->env, type, k->def ? "`" : "",
		       k->def ? (k->secret ? "***" : k->def) : "—", k->def ? "`" : "", k->required ? "yes" : "no",
		       k->help, k->secret ? " (secret: never logged)" : "");
	}
	free(rows);
}

/* Applies or checks the KAFKA_* variables; with conf == NULL a scratch conf is used. */
static int config_kafka_walk(rd_kafka_conf_t *conf, bool log_each, char *err, size_t errlen)
{
	rd_kafka_conf_t *scratch = conf ? NULL : rd_kafka_conf_new();
	rd_kafka_conf_t *c = conf ? conf : scratch;
	int problems = 0;
	for (char **e = environ; *e; e++) {
		char prop[128], why[256];
		const char *v;
		if (!config_kafka_prop(*e, prop, sizeof prop, &v))
			continue;
		rd_kafka_conf_res_t r = rd_kafka_conf_set(c, prop, v, why, sizeof why);
		if (r == RD_KAFKA_CONF_OK)
			continue;
		char env[128];
		const char *eq = strchr(*e, '=');
		snprintf(env, sizeof env, "%.*s", (int)(eq - *e), *e);
		if (r == RD_KAFKA_CONF_UNKNOWN)
			snprintf(why, sizeof why, "librdkafka has no property \"%s\"", prop);
		if (log_each)
			log_error("config: %s: %s", env, why);
		if (!problems && err)
			snprintf(err, errlen, "%s: %s", env, why);
		problems++;
	}
	if (scratch)
		rd_kafka_conf_destroy(scratch);
	return problems;
}

bool config_kafka_apply(rd_kafka_conf_t *conf, char *err, size_t errlen)
{
	return config_kafka_walk(conf, false, err, errlen) == 0;
}

bool config_kafka_check(void)
{
	return config_kafka_walk(NULL, true, NULL, 0) == 0;
}
