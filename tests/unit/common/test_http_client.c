#include <limits.h>
#include <time.h>

#include "http_client.h"
#include "unit.h"

/* The broken-down UTC time `delta` seconds from now, for dates in each HTTP form (the test runs in
 * the C locale, so strftime writes English names). */
static struct tm http_tm(long delta)
{
	time_t t = time(NULL) + delta;
	struct tm tm;
	gmtime_r(&t, &tm);
	return tm;
}

static void test_retry_after_seconds(void)
{
	EXPECT_INT(http_retry_after_ms("0"), 0);
	EXPECT_INT(http_retry_after_ms("1"), 1000);
	EXPECT_INT(http_retry_after_ms("120"), 120000);
	EXPECT_INT(http_retry_after_ms(" 7 "), 7000);
	EXPECT_INT(http_retry_after_ms("99999999999999999999999"), LONG_MAX);
}

static void test_retry_after_dates(void)
{
	char d[64];
	struct tm tm = http_tm(120);
	strftime(d, sizeof d, "%a, %d %b %Y %H:%M:%S GMT", &tm); /* IMF-fixdate */
	long ms = http_retry_after_ms(d);
	EXPECT(ms > 118000 && ms <= 120000);
	tm = http_tm(60);
	char day[16], mon[8]; /* RFC 850: two-digit year */
	strftime(day, sizeof day, "%A", &tm);
	strftime(mon, sizeof mon, "%b", &tm);
	snprintf(d, sizeof d, "%s, %02d-%s-%02d %02d:%02d:%02d GMT", day, tm.tm_mday, mon, tm.tm_year % 100, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	ms = http_retry_after_ms(d);
	EXPECT(ms > 58000 && ms <= 60000);
	tm = http_tm(30);
	strftime(d, sizeof d, "%a %b %e %H:%M:%S %Y", &tm); /* asctime */
	ms = http_retry_after_ms(d);
	EXPECT(ms > 28000 && ms <= 30000);
	/* A date in the past means "now", not an error. */
	EXPECT_INT(http_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT"), 0);
}

static void test_retry_after_garbage(void)
{
	EXPECT_INT(http_retry_after_ms(NULL), -1);
	EXPECT_INT(http_retry_after_ms(""), -1);
	EXPECT_INT(http_retry_after_ms("   "), -1);
	EXPECT_INT(http_retry_after_ms("-5"), -1);
	EXPECT_INT(http_retry_after_ms("1.5"), -1);
	EXPECT_INT(http_retry_after_ms("12abc"), -1);
	EXPECT_INT(http_retry_after_ms("soon"), -1);
	EXPECT_INT(http_retry_after_ms("Sun, 32 Foo 1994"), -1);
}

static void test_backoff_full_jitter(void)
{
	struct http_client_opts o = { .backoff_base_ms = 100, .backoff_max_ms = 5000 };
	/* The ceiling doubles per attempt: rnd = UINT_MAX shows it, rnd = 0 is always 0. */
	EXPECT_INT(http_backoff_ms(&o, 0, 0), 0);
	EXPECT_INT(http_backoff_ms(&o, 0, 100), 100);
	EXPECT_INT(http_backoff_ms(&o, 0, 101), 0);
	EXPECT_INT(http_backoff_ms(&o, 1, 200), 200);
	EXPECT_INT(http_backoff_ms(&o, 1, 201), 0);
	EXPECT_INT(http_backoff_ms(&o, 3, 800), 800);
	EXPECT_INT(http_backoff_ms(&o, 3, 801), 0);
	/* Capped by backoff_max_ms, also for attempts where base * 2^attempt overflows. */
	EXPECT_INT(http_backoff_ms(&o, 6, 5000), 5000);
	EXPECT_INT(http_backoff_ms(&o, 6, 5001), 0);
	EXPECT_INT(http_backoff_ms(&o, 200, 5000), 5000);
	EXPECT_INT(http_backoff_ms(&o, UINT_MAX, 5001), 0);
	for (unsigned rnd = 0; rnd < 100000; rnd += 7)
		EXPECT(http_backoff_ms(&o, 2, rnd) >= 0 && http_backoff_ms(&o, 2, rnd) <= 400);
	/* Zero fields take the defaults (100 ms base, 5 s cap). */
	EXPECT_INT(http_backoff_ms(NULL, 0, 100), 100);
	struct http_client_opts zero = { 0 };
	EXPECT_INT(http_backoff_ms(&zero, 10, 5000), 5000);
	/* A base above the cap is held to the cap. */
	struct http_client_opts big = { .backoff_base_ms = 9000, .backoff_max_ms = 1000 };
	EXPECT_INT(http_backoff_ms(&big, 0, 1000), 1000);
}

static void test_response_lifecycle(void)
{
	struct http_response r;
	http_response_init(&r);
	EXPECT(r.status == 0 && r.body.data == NULL && r.retry_after == NULL && r.headers.len == 0);
	http_response_cleanup(&r);
	http_response_cleanup(&r); /* cleanup leaves it reusable, and again is harmless */
	http_response_cleanup(NULL);
	http_client_free(NULL);
}

/* Headers are kept as received; a platform's adapter reads its own (X-WP-Total, Link) by name. */
static void test_response_header_lookup(void)
{
	struct http_response r;
	char v[16];
	http_response_init(&r);
	EXPECT(http_response_header(&r, "X-WP-Total", v, sizeof v) == NULL);
	EXPECT(buf_puts(&r.headers, "Content-Type: application/json\nx-wp-total: 250\nX-WP-TotalPages: 3\n"));
	EXPECT_STR(http_response_header(&r, "X-WP-Total", v, sizeof v), "250");
	EXPECT_STR(http_response_header(&r, "x-wp-totalpages", v, sizeof v), "3");
	EXPECT(http_response_header(&r, "X-WP", v, sizeof v) == NULL);      /* a prefix is not a name */
	EXPECT_STR(http_response_header(&r, "Content-Type", v, 5), "appl"); /* truncated to fit */
	http_response_cleanup(&r);
}

UNIT_MAIN(test_retry_after_seconds, test_retry_after_dates, test_retry_after_garbage, test_backoff_full_jitter,
	  test_response_lifecycle, test_response_header_lookup)
