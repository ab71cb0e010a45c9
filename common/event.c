#include "event.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void event_random(unsigned char *p, size_t n)
{
	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got <= 0)
			continue; /* EINTR; getrandom on Linux >= 3.17 does not otherwise fail for n <= 256 */
		p += got;
		n -= (size_t)got;
	}
}

static void event_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A UUID of version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then 12 bits of the
 * sub-millisecond fraction (the RFC's method 3), then random bits. Ids made one after the other sort
 * in the order they were made (to the microsecond), so a consumer's inbox takes them near the right
 * edge of its primary-key index instead of at random places in it (docs/benchmarks.md). */
void event_id_new(char out[EVENT_ID_LEN])
{
	unsigned char r[16];
	char h[33];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	unsigned frac = (unsigned)((uint64_t)(ts.tv_nsec % 1000000) * 4096u / 1000000u); /* 0..4095 */
	event_random(r, sizeof r);
	for (int i = 0; i < 6; i++)
		r[i] = (unsigned char)(ms >> (40 - 8 * i));
	r[6] = (unsigned char)(0x70 | (frac >> 8)); /* version 7 */
	r[7] = (unsigned char)(frac & 0xff);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 9562 variant */
	event_hex(r, sizeof r, h);
	snprintf(out, EVENT_ID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static void traceparent_make(const char *trace_hex, char out[TRACEPARENT_LEN])
{
	unsigned char span[8];
	char span_hex[17];
	do
		event_random(span, sizeof span);
	while (!(span[0] | span[1] | span[2] | span[3] | span[4] | span[5] | span[6] | span[7]));
	event_hex(span, sizeof span, span_hex);
	snprintf(out, TRACEPARENT_LEN, "00-%.32s-%s-01", trace_hex, span_hex);
}

void traceparent_new(char out[TRACEPARENT_LEN])
{
	unsigned char trace[16];
	char trace_hex[33];
	event_random(trace, sizeof trace);
	trace[0] |= 1; /* all-zero trace ids are invalid */
	event_hex(trace, sizeof trace, trace_hex);
	traceparent_make(trace_hex, out);
}

static bool event_is_hex(const char *s, size_t n)
{
	bool nonzero = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		nonzero |= c != '0';
	}
	return nonzero;
}

bool traceparent_valid(const char *s)
{
	/* version "00": exactly 55 characters, lower-case hex, non-zero ids */
	return s && strlen(s) == 55 && s[0] == '0' && s[1] == '0' && s[2] == '-' && s[35] == '-' && s[52] == '-' &&
	       event_is_hex(s + 3, 32) && event_is_hex(s + 36, 16) &&
	       (event_is_hex(s + 53, 2) || (s[53] == '0' && s[54] == '0'));
}

void traceparent_child(const char *parent, char out[TRACEPARENT_LEN])
{
	if (!traceparent_valid(parent)) {
		traceparent_new(out);
		return;
	}
	traceparent_make(parent + 3, out);
}

void traceparent_trace_id(const char *tp, char out[33])
{
	if (!traceparent_valid(tp)) {
		out[0] = '\0';
		return;
	}
	memcpy(out, tp + 3, 32);
	out[32] = '\0';
}

int64_t event_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t event_monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec event_deadline(clockid_t clock, long ms)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	if (ms < 0)
		ms = 0;
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}
