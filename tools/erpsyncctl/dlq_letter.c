#include "dlq_letter.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"

#define DLQ_TOPIC_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* Copies header name's last value into out (NUL-terminated, cut at outlen - 1); false when absent. */
static bool dlq_header(const rd_kafka_headers_t *hdrs, const char *name, char *out, size_t outlen)
{
	const void *val = NULL;
	size_t size = 0;

	out[0] = '\0';
	if (!hdrs || rd_kafka_header_get_last(hdrs, name, &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	size_t n = size < outlen - 1 ? size : outlen - 1;
	if (val && n)
		memcpy(out, val, n);
	out[n] = '\0'; /* a NUL inside the value ends it early, which is all a reader sees of it */
	return true;
}

static bool dlq_has_header(const rd_kafka_headers_t *hdrs, const char *name)
{
	const void *val = NULL;
	size_t size = 0;
	return hdrs && rd_kafka_header_get_last(hdrs, name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static bool dlq_number(const char *s, long long min, long long max, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max || s[0] == '+' || s[0] == ' ')
		return false;
	*out = v;
	return true;
}

static bool dlq_topic_name_ok(const char *s)
{
	size_t len = strlen(s);
	return len > 0 && len <= DLQ_TOPIC_MAX && strspn(s, DLQ_TOPIC_CHARS) == len && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

bool dlq_position_parse(const char *s, int32_t *partition, int64_t *offset)
{
	char part[16];
	const char *colon = s ? strchr(s, ':') : NULL;
	long long p = 0, o = 0;

	if (!colon || (size_t)(colon - s) >= sizeof part)
		return false;
	memcpy(part, s, (size_t)(colon - s));
	part[colon - s] = '\0';
	if (!dlq_number(part, 0, INT32_MAX, &p) || !dlq_number(colon + 1, 0, INT64_MAX, &o))
		return false;
	*partition = (int32_t)p;
	*offset = (int64_t)o;
	return true;
}

int dlq_record_parse(const rd_kafka_headers_t *hdrs, int32_t partition, int64_t offset, int64_t timestamp_ms,
		     const void *key, size_t key_len, struct dlq_letter *l, struct dlq_marker *mk)
{
	char v[DLQ_WHERE_MAX + 1];
	long long n = 0;

	if (dlq_header(hdrs, DLQ_H_REPLAYED, v, sizeof v) && !dlq_has_header(hdrs, KAFKA_H_DLQ_TOPIC)) {
		memset(mk, 0, sizeof *mk);
		if (dlq_position_parse(v, &mk->partition, &mk->offset)) {
			dlq_header(hdrs, DLQ_H_REPLAYED_TO, mk->to, sizeof mk->to);
			return DLQ_KIND_MARKER;
		}
	}
	memset(l, 0, sizeof *l);
	l->partition = partition;
	l->offset = offset;
	l->timestamp_ms = timestamp_ms;
	l->source_partition = -1;
	l->source_offset = -1;
	if (key) {
		if (!(l->key = malloc(key_len ? key_len : 1)))
			return -1;
		memcpy(l->key, key, key_len);
		l->key_len = key_len;
	}
	if (dlq_header(hdrs, KAFKA_H_DLQ_TOPIC, v, sizeof v) && dlq_topic_name_ok(v))
		memcpy(l->source_topic, v, strlen(v) + 1);
	if (dlq_header(hdrs, KAFKA_H_DLQ_PARTITION, v, sizeof v) && dlq_number(v, 0, INT32_MAX, &n))
		l->source_partition = (int32_t)n;
	if (dlq_header(hdrs, KAFKA_H_DLQ_OFFSET, v, sizeof v) && dlq_number(v, 0, INT64_MAX, &n))
		l->source_offset = (int64_t)n;
	if (dlq_header(hdrs, KAFKA_H_DLQ_ATTEMPTS, v, sizeof v) && dlq_number(v, 0, UINT_MAX, &n))
		l->attempts = (unsigned)n;
	dlq_header(hdrs, KAFKA_H_DLQ_SERVICE, l->service, sizeof l->service);
	char reason[DLQ_REASON_MAX + 1];
	dlq_header(hdrs, KAFKA_H_DLQ_ERROR, reason, sizeof reason);
	if (!(l->reason = strdup(reason))) {
		dlq_letter_cleanup(l);
		return -1;
	}
	dlq_header(hdrs, KAFKA_H_EVENT_ID, l->event_id, sizeof l->event_id);
	dlq_header(hdrs, DLQ_H_REPLAYED_FROM, l->replay_of, sizeof l->replay_of);
	return DLQ_KIND_LETTER;
}

void dlq_letter_cleanup(struct dlq_letter *l)
{
	if (!l)
		return;
	free(l->key);
	l->key = NULL;
	l->key_len = 0;
	free(l->reason);
	l->reason = NULL;
	free(l->value);
	l->value = NULL;
	l->value_len = 0;
	if (l->headers)
		rd_kafka_headers_destroy(l->headers);
	l->headers = NULL;
	l->kept = false;
}

bool dlq_letter_keep(struct dlq_letter *l, const void *value, size_t value_len, const rd_kafka_headers_t *hdrs)
{
	if (value) {
		if (!(l->value = malloc(value_len ? value_len : 1)))
			return false;
		memcpy(l->value, value, value_len);
		l->value_len = value_len;
	}
	if (hdrs && !(l->headers = rd_kafka_headers_copy(hdrs)))
		return false;
	l->kept = true;
	return true;
}

const char *dlq_letter_unreplayable(const struct dlq_letter *l, const char *dlq_topic)
{
	size_t n = strlen(l->source_topic);

	if (n == 0)
		return "no valid dlq-source-topic header: where it came from is unknown";
	if (strncmp(dlq_topic, l->source_topic, n) != 0 || strcmp(dlq_topic + n, ".dlq") != 0)
		return "its dlq-source-topic is not the topic of this dead-letter topic";
	if (l->source_partition < 0 || l->source_offset < 0)
		return "it never was a record of its topic (no source partition/offset, e.g. an ERP record "
		       "refused before it was published): fix it at its source";
	return NULL;
}

rd_kafka_headers_t *dlq_replay_headers(const rd_kafka_headers_t *orig, const char *dlq_topic, int32_t partition,
				       int64_t offset)
{
	char from[DLQ_WHERE_MAX + 1];
	size_t cnt = orig ? rd_kafka_header_cnt(orig) : 0;
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(cnt + 1);
	const char *name;
	const void *val;
	size_t size;

	if (!hdrs)
		return NULL;
	for (size_t i = 0; i < cnt && !rd_kafka_header_get_all(orig, i, &name, &val, &size); i++) {
		if (strncmp(name, "dlq-", 4) == 0)
			continue;
		if (rd_kafka_header_add(hdrs, name, -1, val, (ssize_t)size))
			goto fail;
	}
	snprintf(from, sizeof from, "%s:%" PRId32 ":%" PRId64, dlq_topic, partition, offset);
	if (rd_kafka_header_add(hdrs, DLQ_H_REPLAYED_FROM, -1, from, -1))
		goto fail;
	return hdrs;
fail:
	rd_kafka_headers_destroy(hdrs);
	return NULL;
}

rd_kafka_headers_t *dlq_marker_headers(const struct dlq_letter *l, const char *to, int64_t time_us, const char *by)
{
	char at[DLQ_WHERE_MAX + 1], when[40];
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(4);

	if (!hdrs)
		return NULL;
	snprintf(at, sizeof at, "%" PRId32 ":%" PRId64, l->partition, l->offset);
	dlq_time_format(time_us / 1000, when, sizeof when);
	if (rd_kafka_header_add(hdrs, DLQ_H_REPLAYED, -1, at, -1) ||
	    rd_kafka_header_add(hdrs, DLQ_H_REPLAYED_TO, -1, to, -1) ||
	    rd_kafka_header_add(hdrs, DLQ_H_REPLAYED_AT, -1, when, -1) ||
	    rd_kafka_header_add(hdrs, DLQ_H_REPLAYED_BY, -1, by ? by : "", -1)) {
		rd_kafka_headers_destroy(hdrs);
		return NULL;
	}
	return hdrs;
}

void dlq_time_format(int64_t ms, char *out, size_t outlen)
{
	struct tm tm;
	time_t secs;
	size_t n;

	if (ms < 0) {
		snprintf(out, outlen, "-");
		return;
	}
	secs = (time_t)(ms / 1000);
	if (!gmtime_r(&secs, &tm) || (n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, outlen, "-");
		return;
	}
	snprintf(out + n, outlen - n, ".%03dZ", (int)(ms % 1000));
}

/* ---- a read's letters and markers ------------------------------------------------------------ */

static bool dlq_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	if (n >= DLQ_SET_MAX)
		return false;
	size_t want = *cap ? *cap * 2 : 64;
	if (want > DLQ_SET_MAX)
		want = DLQ_SET_MAX;
	void *p = realloc(*v, want * size);
	if (!p)
		return false;
	*v = p;
	*cap = want;
	return true;
}

bool dlq_set_add_letter(struct dlq_set *s, struct dlq_letter *l)
{
	if (!dlq_grow((void **)&s->letters, &s->cap_letters, s->nletters, sizeof *s->letters)) {
		dlq_letter_cleanup(l);
		return false;
	}
	s->letters[s->nletters++] = *l;
	memset(l, 0, sizeof *l); /* now owned by the set */
	return true;
}

bool dlq_set_add_marker(struct dlq_set *s, const struct dlq_marker *mk)
{
	if (!dlq_grow((void **)&s->markers, &s->cap_markers, s->nmarkers, sizeof *s->markers))
		return false;
	s->markers[s->nmarkers++] = *mk;
	return true;
}

static int dlq_marker_cmp(const void *a, const void *b)
{
	const struct dlq_marker *x = a, *y = b;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int dlq_letter_cmp(const void *a, const void *b)
{
	const struct dlq_letter *x = a, *y = b;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

void dlq_set_mark_replayed(struct dlq_set *s)
{
	if (s->nletters > 1)
		qsort(s->letters, s->nletters, sizeof *s->letters, dlq_letter_cmp);
	if (s->nmarkers == 0)
		return;
	qsort(s->markers, s->nmarkers, sizeof *s->markers, dlq_marker_cmp);
	for (size_t i = 0; i < s->nletters; i++) {
		struct dlq_letter *l = &s->letters[i];
		const struct dlq_marker key = { .partition = l->partition, .offset = l->offset };
		const struct dlq_marker *mk = bsearch(&key, s->markers, s->nmarkers, sizeof *s->markers,
						      dlq_marker_cmp);
		if (mk) {
			l->replayed = true;
			memcpy(l->replayed_to, mk->to, sizeof l->replayed_to);
		}
	}
}

void dlq_set_cleanup(struct dlq_set *s)
{
	for (size_t i = 0; i < s->nletters; i++)
		dlq_letter_cleanup(&s->letters[i]);
	free(s->letters);
	free(s->markers);
	*s = (struct dlq_set)DLQ_SET_INIT;
}

/* ---- untrusted bytes in output ---------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence (2..4 bytes) at s, or 0. Overlong forms, surrogates and
 * code points above U+10FFFF are not valid. */
static size_t dlq_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1Fu;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0Fu;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

void dlq_json_string(FILE *fp, const void *s, size_t n)
{
	const unsigned char *p = s;

	fputc('"', fp);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t u;
		if (c == '"' || c == '\\') {
			fputc('\\', fp);
			fputc(c, fp);
		} else if (c < 0x20 || c == 0x7F) {
			fprintf(fp, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, fp);
		} else if ((u = dlq_utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, u, fp);
			i += u;
			continue;
		} else {
			fputs("\\ufffd", fp);
		}
		i++;
	}
	fputc('"', fp);
}

void dlq_text_string(FILE *fp, const void *s, size_t n)
{
	const unsigned char *p = s;

	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t u;
		if (c == '\\') {
			fputs("\\\\", fp);
		} else if (c > 0x20 && c < 0x7F) {
			fputc(c, fp);
		} else if (c == ' ') {
			fputc(' ', fp);
		} else if (c >= 0x80 && (u = dlq_utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, u, fp);
			i += u;
			continue;
		} else {
			fprintf(fp, "\\x%02x", c);
		}
		i++;
	}
}
