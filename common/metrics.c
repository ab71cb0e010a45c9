#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define METRICS_OVERFLOW_VALUE "_overflow"
#define METRICS_DROPPED_NAME   "erpsync_metrics_series_dropped_total"

/* A series' numbers are doubles kept as their bit pattern in an atomic uint64: C17 has no portable
 * atomic double add, and a compare-exchange loop on the bits keeps the hot path lock-free. A
 * histogram keeps one non-cumulative count per bucket (+Inf last); the cumulative view, and _count
 * as its total, are built at render time so a scrape always reads a self-consistent histogram. */
struct metric_series {
	struct metric_family *family;
	char *values[METRICS_MAX_LABELS];
	_Atomic uint64_t value; /* counter / gauge; histogram sum */
	_Atomic uint64_t buckets[METRICS_MAX_BUCKETS + 1];
};

struct metric_family {
	struct metric_family *next;
	enum metric_type type;
	char *name;
	char *help;
	size_t nlabels;
	char *labels[METRICS_MAX_LABELS];
	size_t nbuckets;
	double bounds[METRICS_MAX_BUCKETS];
	size_t nseries;
	/* METRICS_MAX_SERIES regular series, then the one "_overflow" series. */
	struct metric_series *series[METRICS_MAX_SERIES + 1];
	struct metric_series *overflow;
};

/* Declaration and series creation are rare (start-up, first use of a label set), so one mutex
 * guards the registry's structure; values are never touched under it. */
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric_family *metrics_families;
static struct metric_family **metrics_tail = &metrics_families;
static struct metric_family *metrics_dropped;

const double metrics_latency_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};
const size_t metrics_latency_nbuckets = sizeof metrics_latency_buckets / sizeof metrics_latency_buckets[0];

static double metrics_bits_to_double(uint64_t bits)
{
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

static uint64_t metrics_double_to_bits(double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	return bits;
}

static void metrics_atomic_add(_Atomic uint64_t *cell, double v)
{
	uint64_t old = atomic_load_explicit(cell, memory_order_relaxed);
	uint64_t new;
	do {
		new = metrics_double_to_bits(metrics_bits_to_double(old) + v);
	} while (!atomic_compare_exchange_weak_explicit(cell, &old, new, memory_order_relaxed, memory_order_relaxed));
}

/* ---- names ------------------------------------------------------------------------------------ */

static bool metrics_name_valid(const char *s, bool colon_ok)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
		if (!alpha && !(p != s && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool metrics_labels_valid(const char *const *labels, size_t n, enum metric_type type)
{
	for (size_t i = 0; i < n; i++) {
		/* "__" is reserved for Prometheus; "le" is the histogram's own bucket label. */
		if (!metrics_name_valid(labels[i], false) || strncmp(labels[i], "__", 2) == 0)
			return false;
		if (type == METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return false;
	}
	return true;
}

static size_t metrics_count_labels(const char *const *labels)
{
	size_t n = 0;
	while (labels && n <= METRICS_MAX_LABELS && labels[n])
		n++;
	return n;
}

static struct metric_series *metrics_series_locked(struct metric_family *f, const char *const *values);

/* ---- families --------------------------------------------------------------------------------- */

static void metrics_series_free(struct metric_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free(s);
}

static void metrics_family_free(struct metric_family *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nseries; i++)
		metrics_series_free(f->series[i]);
	metrics_series_free(f->overflow);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f);
}

static struct metric_family *metrics_find_locked(const char *name)
{
	for (struct metric_family *f = metrics_families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static bool metrics_same_shape(const struct metric_family *f, enum metric_type type, const char *const *labels,
			       size_t nlabels, const double *buckets, size_t nbuckets)
{
	if (f->type != type || f->nlabels != nlabels)
		return false;
	for (size_t i = 0; i < nlabels; i++)
		if (strcmp(f->labels[i], labels[i]) != 0)
			return false;
	if (type != METRIC_HISTOGRAM)
		return true;
	return f->nbuckets == nbuckets && memcmp(f->bounds, buckets, nbuckets * sizeof *buckets) == 0;
}

static struct metric_family *metrics_family_alloc(enum metric_type type, const char *name, const char *help,
						  const char *const *labels, size_t nlabels, const double *buckets,
						  size_t nbuckets)
{
	struct metric_family *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	bool ok = f->name && f->help;
	for (size_t i = 0; ok && i < nlabels; i++) {
		f->labels[i] = strdup(labels[i]);
		ok = f->labels[i] != NULL;
		f->nlabels = i + 1;
	}
	if (!ok) {
		metrics_family_free(f);
		return NULL;
	}
	f->nbuckets = nbuckets;
	if (nbuckets)
		memcpy(f->bounds, buckets, nbuckets * sizeof *buckets);
	return f;
}

static bool metrics_buckets_valid(const double *buckets, size_t n)
{
	if (!buckets || n == 0 || n > METRICS_MAX_BUCKETS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
			return false;
	}
	return true;
}

static struct metric_family *metrics_declare_locked(enum metric_type type, const char *name, const char *help,
						    const char *const *labels, const double *buckets, size_t nbuckets)
{
	size_t nlabels = metrics_count_labels(labels);
	if (!metrics_name_valid(name, true) || nlabels > METRICS_MAX_LABELS ||
	    !metrics_labels_valid(labels, nlabels, type) ||
	    (type == METRIC_HISTOGRAM && !metrics_buckets_valid(buckets, nbuckets))) {
		log_error("metrics: invalid declaration of %s", name ? name : "(null)");
		return NULL;
	}

	struct metric_family *f = metrics_find_locked(name);
	if (f) {
		if (metrics_same_shape(f, type, labels, nlabels, buckets, nbuckets))
			return f;
		log_error("metrics: %s declared twice with a different type, labels or buckets", name);
		return NULL;
	}

	f = metrics_family_alloc(type, name, help, labels, nlabels, buckets, type == METRIC_HISTOGRAM ? nbuckets : 0);
	if (!f) {
		log_error("metrics: out of memory declaring %s", name);
		return NULL;
	}
	*metrics_tail = f;
	metrics_tail = &f->next;
	/* A family without labels has exactly one series: created now, it renders as 0 before first use. */
	if (nlabels == 0)
		(void)metrics_series_locked(f, NULL);
	return f;
}

/* The drop counter is declared with the first family so it is always rendered (0 included): an
 * alert on it must not depend on a drop having happened once. */
static struct metric_family *metrics_declare(enum metric_type type, const char *name, const char *help,
					     const char *const *labels, const double *buckets, size_t nbuckets)
{
	pthread_mutex_lock(&metrics_lock);
	if (!metrics_dropped)
		metrics_dropped = metrics_declare_locked(
			METRIC_COUNTER, METRICS_DROPPED_NAME,
			"Label sets folded into the _overflow series because a family reached its series limit.", NULL,
			NULL, 0);
	struct metric_family *f = metrics_declare_locked(type, name, help, labels, buckets, nbuckets);
	pthread_mutex_unlock(&metrics_lock);
	return f;
}

struct metric_family *metrics_counter(const char *name, const char *help, const char *const *labels)
{
	return metrics_declare(METRIC_COUNTER, name, help, labels, NULL, 0);
}

struct metric_family *metrics_gauge(const char *name, const char *help, const char *const *labels)
{
	return metrics_declare(METRIC_GAUGE, name, help, labels, NULL, 0);
}

struct metric_family *metrics_histogram(const char *name, const char *help, const char *const *labels,
					const double *buckets, size_t nbuckets)
{
	return metrics_declare(METRIC_HISTOGRAM, name, help, labels, buckets, nbuckets);
}

/* ---- series ----------------------------------------------------------------------------------- */

static struct metric_series *metrics_series_alloc(struct metric_family *f, const char *const *values, bool overflow)
{
	struct metric_series *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->family = f;
	for (size_t i = 0; i < f->nlabels; i++) {
		const char *v = overflow ? METRICS_OVERFLOW_VALUE : (values && values[i] ? values[i] : "");
		s->values[i] = strdup(v);
		if (!s->values[i]) {
			metrics_series_free(s);
			return NULL;
		}
	}
	return s;
}

static bool metrics_series_matches(const struct metric_series *s, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = values && values[i] ? values[i] : "";
		if (strcmp(s->values[i], v) != 0)
			return false;
	}
	return true;
}

/* Out of room (or memory): everything else shares the overflow series, and the drop is counted. */
static struct metric_series *metrics_fold_locked(struct metric_family *f)
{
	if (!f->overflow)
		f->overflow = metrics_series_alloc(f, NULL, true);
	/* The drop family has no labels, so it can never overflow itself and this cannot recurse. */
	if (metrics_dropped && f != metrics_dropped)
		metrics_inc(metrics_series_locked(metrics_dropped, NULL));
	return f->overflow;
}

static struct metric_series *metrics_series_locked(struct metric_family *f, const char *const *values)
{
	for (size_t i = 0; i < f->nseries; i++)
		if (metrics_series_matches(f->series[i], values, f->nlabels))
			return f->series[i];
	if (f->nseries >= METRICS_MAX_SERIES)
		return metrics_fold_locked(f);
	struct metric_series *s = metrics_series_alloc(f, values, false);
	if (!s)
		return metrics_fold_locked(f);
	f->series[f->nseries++] = s;
	return s;
}

struct metric_series *metrics_series(struct metric_family *f, const char *const *values)
{
	if (!f)
		return NULL;
	pthread_mutex_lock(&metrics_lock);
	struct metric_series *s = metrics_series_locked(f, values);
	pthread_mutex_unlock(&metrics_lock);
	return s;
}

struct metric_series *metrics_series0(struct metric_family *f)
{
	return metrics_series(f, NULL);
}

struct metric_series *metrics_series1(struct metric_family *f, const char *v1)
{
	const char *values[METRICS_MAX_LABELS] = { v1 };
	return metrics_series(f, values);
}

struct metric_series *metrics_series2(struct metric_family *f, const char *v1, const char *v2)
{
	const char *values[METRICS_MAX_LABELS] = { v1, v2 };
	return metrics_series(f, values);
}

/* ---- hot path: no locks ----------------------------------------------------------------------- */

void metrics_inc(struct metric_series *s)
{
	metrics_add(s, 1.0);
}

void metrics_add(struct metric_series *s, double v)
{
	if (!s || s->family->type == METRIC_HISTOGRAM)
		return;
	/* A counter that goes down reads as a restart to Prometheus' rate(): refuse it. */
	if (s->family->type == METRIC_COUNTER && !(v >= 0))
		return;
	metrics_atomic_add(&s->value, v);
}

void metrics_deferred_add(struct metrics_deferred *d, struct metric_series *s, double v)
{
	if (!s)
		return;
	if (!d) {
		metrics_add(s, v);
		return;
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->item[i].s == s) {
			d->item[i].v += v;
			return;
		}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct metrics_deferred_item *item = realloc(d->item, cap * sizeof *item);
		if (!item) {
			metrics_add(s, v);
			return;
		}
		d->item = item;
		d->cap = cap;
	}
	d->item[d->n++] = (struct metrics_deferred_item){ s, v };
}

void metrics_deferred_commit(struct metrics_deferred *d)
{
	for (size_t i = 0; i < d->n; i++)
		metrics_add(d->item[i].s, d->item[i].v);
	d->n = 0;
}

void metrics_deferred_discard(struct metrics_deferred *d)
{
	d->n = 0;
}

void metrics_deferred_free(struct metrics_deferred *d)
{
	free(d->item);
	*d = (struct metrics_deferred){ 0 };
}

void metrics_set(struct metric_series *s, double v)
{
	if (!s || s->family->type != METRIC_GAUGE)
		return;
	atomic_store_explicit(&s->value, metrics_double_to_bits(v), memory_order_relaxed);
}

void metrics_observe(struct metric_series *s, double v)
{
	if (!s || s->family->type != METRIC_HISTOGRAM)
		return;
	const struct metric_family *f = s->family;
	size_t i = 0;
	while (i < f->nbuckets && !(v <= f->bounds[i]))
		i++;
	atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
	metrics_atomic_add(&s->value, v);
}

static uint64_t metrics_hist_count(const struct metric_series *s)
{
	uint64_t n = 0;
	for (size_t i = 0; i <= s->family->nbuckets; i++)
		n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
	return n;
}

double metrics_value(const struct metric_series *s)
{
	if (!s)
		return 0;
	if (s->family->type == METRIC_HISTOGRAM)
		return (double)metrics_hist_count(s);
	return metrics_bits_to_double(atomic_load_explicit(&s->value, memory_order_relaxed));
}

/* ---- rendering -------------------------------------------------------------------------------- */

/* Shortest form that reads back to the same double: "0.1" rather than "0.10000000000000001". */
static const char *metrics_format_number(char *tmp, size_t len, double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	snprintf(tmp, len, "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, len, "%.17g", v);
	return tmp;
}

/* Label values escape \, " and newline; HELP text escapes only \ and newline. */
static bool metrics_put_escaped(struct buf *out, const char *s, bool quote)
{
	for (const char *p = s; *p; p++) {
		const char *esc = NULL;
		if (*p == '\\')
			esc = "\\\\";
		else if (*p == '\n')
			esc = "\\n";
		else if (quote && *p == '"')
			esc = "\\\"";
		if (esc ? !buf_puts(out, esc) : !buf_append(out, p, 1))
			return false;
	}
	return true;
}

/* {a="x",b="y",le="0.5"} — le is NULL except for histogram buckets. */
static bool metrics_put_labels(struct buf *out, const struct metric_series *s, const char *le)
{
	const struct metric_family *f = s->family;
	if (f->nlabels == 0 && !le)
		return true;
	if (!buf_puts(out, "{"))
		return false;
	for (size_t i = 0; i < f->nlabels; i++) {
		if (!buf_printf(out, "%s%s=\"", i ? "," : "", f->labels[i]) ||
		    !metrics_put_escaped(out, s->values[i], true) || !buf_puts(out, "\""))
			return false;
	}
	if (le && !buf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le))
		return false;
	return buf_puts(out, "}");
}

static bool metrics_put_sample(struct buf *out, const struct metric_series *s, const char *suffix, const char *le,
			       double v)
{
	char tmp[32];
	return buf_puts(out, s->family->name) && buf_puts(out, suffix) && metrics_put_labels(out, s, le) &&
	       buf_puts(out, " ") && buf_puts(out, metrics_format_number(tmp, sizeof tmp, v)) && buf_puts(out, "\n");
}

static bool metrics_put_histogram(struct buf *out, const struct metric_series *s)
{
	const struct metric_family *f = s->family;
	uint64_t cumulative = 0;
	for (size_t i = 0; i <= f->nbuckets; i++) {
		char tmp[32];
		const char *le = i < f->nbuckets ? metrics_format_number(tmp, sizeof tmp, f->bounds[i]) : "+Inf";
		cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
		if (!metrics_put_sample(out, s, "_bucket", le, (double)cumulative))
			return false;
	}
	double sum = metrics_bits_to_double(atomic_load_explicit(&s->value, memory_order_relaxed));
	return metrics_put_sample(out, s, "_sum", NULL, sum) &&
	       metrics_put_sample(out, s, "_count", NULL, (double)cumulative);
}

static bool metrics_put_series(struct buf *out, const struct metric_series *s)
{
	if (s->family->type == METRIC_HISTOGRAM)
		return metrics_put_histogram(out, s);
	return metrics_put_sample(out, s, "", NULL, metrics_value(s));
}

static bool metrics_put_family(struct buf *out, const struct metric_family *f)
{
	static const char *const type_names[] = { "counter", "gauge", "histogram" };
	if (!buf_printf(out, "# HELP %s ", f->name) || !metrics_put_escaped(out, f->help, false) ||
	    !buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]))
		return false;
	for (size_t i = 0; i < f->nseries; i++)
		if (!metrics_put_series(out, f->series[i]))
			return false;
	return !f->overflow || metrics_put_series(out, f->overflow);
}

bool metrics_render(struct buf *out)
{
	bool ok = true;
	pthread_mutex_lock(&metrics_lock);
	for (const struct metric_family *f = metrics_families; ok && f; f = f->next)
		ok = metrics_put_family(out, f);
	pthread_mutex_unlock(&metrics_lock);
	return ok;
}

void metrics_reset(void)
{
	pthread_mutex_lock(&metrics_lock);
	struct metric_family *f = metrics_families;
	while (f) {
		struct metric_family *next = f->next;
		metrics_family_free(f);
		f = next;
	}
	metrics_families = NULL;
	metrics_tail = &metrics_families;
	metrics_dropped = NULL;
	pthread_mutex_unlock(&metrics_lock);
}
