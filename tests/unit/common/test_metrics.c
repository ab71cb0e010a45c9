#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "unit.h"

static char *render(void)
{
	struct buf b = BUF_INIT;
	if (!metrics_render(&b)) {
		buf_cleanup(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static void test_counter_and_gauge(void)
{
	metrics_reset();
	static const char *const labels[] = { "topic", NULL };
	struct metric_family *c = metrics_counter("erpsync_test_events_total", "Events.", labels);
	struct metric_family *g = metrics_gauge("erpsync_test_lag", "Lag.", NULL);
	EXPECT(c && g);
	struct metric_series *a = metrics_series1(c, "orders");
	struct metric_series *b = metrics_series1(c, "stock");
	EXPECT(a && b && a != b);
	EXPECT(metrics_series1(c, "orders") == a);
	metrics_inc(a);
	metrics_add(a, 2.5);
	metrics_add(a, -1); /* counters never go down */
	EXPECT(metrics_value(a) == 3.5);
	EXPECT(metrics_value(b) == 0);

	struct metric_series *lag = metrics_series0(g);
	metrics_set(lag, 10);
	metrics_add(lag, -4);
	EXPECT(metrics_value(lag) == 6);
	metrics_set(a, 100); /* set is for gauges only */
	EXPECT(metrics_value(a) == 3.5);
	metrics_observe(lag, 1); /* observe is for histograms only */
	EXPECT(metrics_value(lag) == 6);

	char *text = render();
	EXPECT_STR(text, "# HELP erpsync_metrics_series_dropped_total Label sets folded into the _overflow series "
			 "because a family reached its series limit.\n"
			 "# TYPE erpsync_metrics_series_dropped_total counter\n"
			 "erpsync_metrics_series_dropped_total 0\n"
			 "# HELP erpsync_test_events_total Events.\n"
			 "# TYPE erpsync_test_events_total counter\n"
			 "erpsync_test_events_total{topic=\"orders\"} 3.5\n"
			 "erpsync_test_events_total{topic=\"stock\"} 0\n"
			 "# HELP erpsync_test_lag Lag.\n"
			 "# TYPE erpsync_test_lag gauge\n"
			 "erpsync_test_lag 6\n");
	free(text);
	metrics_reset();
}

static void test_histogram(void)
{
	metrics_reset();
	static const double bounds[] = { 0.1, 1, 2.5 };
	static const char *const labels[] = { "system", NULL };
	struct metric_family *h = metrics_histogram("erpsync_test_seconds", "Latency.", labels, bounds, 3);
	struct metric_series *s = metrics_series1(h, "woo");
	metrics_observe(s, 0.05);
	metrics_observe(s, 0.1); /* le is inclusive */
	metrics_observe(s, 0.7);
	metrics_observe(s, 100);
	EXPECT(metrics_value(s) == 4);
	metrics_inc(s); /* not a counter: ignored */
	EXPECT(metrics_value(s) == 4);

	char *text = render();
	const char *body = text ? strstr(text, "# HELP erpsync_test_seconds") : NULL;
	EXPECT_STR(body, "# HELP erpsync_test_seconds Latency.\n"
			 "# TYPE erpsync_test_seconds histogram\n"
			 "erpsync_test_seconds_bucket{system=\"woo\",le=\"0.1\"} 2\n"
			 "erpsync_test_seconds_bucket{system=\"woo\",le=\"1\"} 3\n"
			 "erpsync_test_seconds_bucket{system=\"woo\",le=\"2.5\"} 3\n"
			 "erpsync_test_seconds_bucket{system=\"woo\",le=\"+Inf\"} 4\n"
			 "erpsync_test_seconds_sum{system=\"woo\"} 100.85\n"
			 "erpsync_test_seconds_count{system=\"woo\"} 4\n");
	free(text);

	/* Buckets must ascend, and a histogram cannot have its own "le" label. */
	static const double bad[] = { 1, 0.5 };
	static const char *const le[] = { "le", NULL };
	EXPECT(metrics_histogram("erpsync_test_bad_seconds", "x", NULL, bad, 2) == NULL);
	EXPECT(metrics_histogram("erpsync_test_le_seconds", "x", le, bounds, 3) == NULL);
	EXPECT(metrics_latency_nbuckets == 14);
	EXPECT(metrics_latency_buckets[0] == 0.001 && metrics_latency_buckets[13] == 30);
	metrics_reset();
}

static void test_label_escaping(void)
{
	metrics_reset();
	static const char *const labels[] = { "a", "b", NULL };
	struct metric_family *c = metrics_counter("erpsync_test_escape_total", "Back\\slash\nand \"quotes\".", labels);
	metrics_inc(metrics_series2(c, "q\"uote", "back\\slash\nnew"));
	char *text = render();
	const char *body = text ? strstr(text, "# HELP erpsync_test_escape_total") : NULL;
	EXPECT_STR(body, "# HELP erpsync_test_escape_total Back\\\\slash\\nand \"quotes\".\n"
			 "# TYPE erpsync_test_escape_total counter\n"
			 "erpsync_test_escape_total{a=\"q\\\"uote\",b=\"back\\\\slash\\nnew\"} 1\n");
	free(text);
	metrics_reset();
}

static void test_overflow_folds(void)
{
	metrics_reset();
	static const char *const labels[] = { "sku", "shop", NULL };
	struct metric_family *c = metrics_counter("erpsync_test_unbounded_total", "Misuse.", labels);
	char v[32];
	for (int i = 0; i < METRICS_MAX_SERIES; i++) {
		snprintf(v, sizeof v, "sku-%d", i);
		metrics_inc(metrics_series2(c, v, "a"));
	}
	struct metric_series *o1 = metrics_series2(c, "sku-new-1", "a");
	struct metric_series *o2 = metrics_series2(c, "sku-new-2", "b");
	EXPECT(o1 != NULL && o1 == o2);
	metrics_inc(o1);
	metrics_inc(o2);
	EXPECT(metrics_value(o1) == 2);
	/* An existing series is still found after the limit. */
	EXPECT(metrics_value(metrics_series2(c, "sku-7", "a")) == 1);

	char *text = render();
	EXPECT(text && strstr(text, "erpsync_test_unbounded_total{sku=\"_overflow\",shop=\"_overflow\"} 2\n"));
	EXPECT(text && strstr(text, "erpsync_metrics_series_dropped_total 2\n"));
	free(text);
	metrics_reset();
}

static void test_duplicate_declaration(void)
{
	metrics_reset();
	static const char *const l1[] = { "topic", NULL };
	static const char *const l2[] = { "group", NULL };
	struct metric_family *a = metrics_counter("erpsync_test_dup_total", "First.", l1);
	EXPECT(a != NULL);
	EXPECT(metrics_counter("erpsync_test_dup_total", "Second help is ignored.", l1) == a);
	EXPECT(metrics_gauge("erpsync_test_dup_total", "x", l1) == NULL);
	EXPECT(metrics_counter("erpsync_test_dup_total", "x", l2) == NULL);
	EXPECT(metrics_counter("erpsync_test_dup_total", "x", NULL) == NULL);

	/* Invalid names and too many labels are refused; a NULL family is harmless downstream. */
	static const char *const five[] = { "a", "b", "c", "d", "e", NULL };
	static const char *const twice[] = { "a", "a", NULL };
	EXPECT(metrics_counter("9starts_with_digit", "x", NULL) == NULL);
	EXPECT(metrics_counter("erpsync_test_bad-dash_total", "x", NULL) == NULL);
	EXPECT(metrics_counter("erpsync_test_five_total", "x", five) == NULL);
	EXPECT(metrics_counter("erpsync_test_twice_total", "x", twice) == NULL);
	EXPECT(metrics_series1(NULL, "x") == NULL);
	metrics_inc(NULL);
	metrics_observe(NULL, 1);
	EXPECT(metrics_value(NULL) == 0);
	metrics_reset();
}

enum { THREADS = 4, ROUNDS = 100000 };

static void *hammer(void *arg)
{
	struct metric_series *s = arg;
	for (int i = 0; i < ROUNDS; i++) {
		metrics_inc(s);
		metrics_add(s, 0.5);
	}
	return NULL;
}

static void test_concurrent_adds_are_exact(void)
{
	metrics_reset();
	struct metric_series *s = metrics_series0(metrics_counter("erpsync_test_hot_total", "Hot.", NULL));
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		EXPECT(pthread_create(&t[i], NULL, hammer, s) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT(metrics_value(s) == THREADS * ROUNDS * 1.5);
	metrics_reset();
}

static void test_deferred_counts_once(void)
{
	metrics_reset();
	static const char *const labels[] = { "kind", NULL };
	struct metric_family *f = metrics_counter("erpsync_test_stale_total", "Stale.", labels);
	struct metric_series *a = metrics_series1(f, "order");
	struct metric_series *b = metrics_series1(f, "return");
	struct metrics_deferred d = { 0 };
	/* a transaction that fails: nothing counted, and its additions do not leak into the retry */
	metrics_deferred_add(&d, a, 1);
	metrics_deferred_add(&d, b, 2);
	EXPECT(metrics_value(a) == 0 && metrics_value(b) == 0);
	metrics_deferred_discard(&d);
	/* the retry commits: counted once, additions to one series summed */
	metrics_deferred_add(&d, a, 1);
	metrics_deferred_add(&d, b, 2);
	metrics_deferred_add(&d, a, 1);
	EXPECT(d.n == 2);
	EXPECT(metrics_value(a) == 0);
	metrics_deferred_commit(&d);
	EXPECT(metrics_value(a) == 2 && metrics_value(b) == 2);
	metrics_deferred_commit(&d); /* committing again adds nothing */
	EXPECT(metrics_value(a) == 2 && metrics_value(b) == 2);
	/* more series than the first allocation holds */
	struct metric_series *s[20];
	char name[16];
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "k%d", i);
		s[i] = metrics_series1(f, name);
		metrics_deferred_add(&d, s[i], i);
	}
	metrics_deferred_add(&d, NULL, 1); /* ignored */
	EXPECT(d.n == 20);
	metrics_deferred_commit(&d);
	EXPECT(metrics_value(s[19]) == 19 && metrics_value(s[7]) == 7);
	metrics_deferred_free(&d);
	EXPECT(d.item == NULL && d.n == 0);
	metrics_reset();
}

UNIT_MAIN(test_counter_and_gauge, test_histogram, test_label_escaping, test_overflow_folds, test_duplicate_declaration,
	  test_concurrent_adds_are_exact, test_deferred_counts_once)
