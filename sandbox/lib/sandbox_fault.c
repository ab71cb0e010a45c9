#include "sandbox_fault.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SANDBOX_STATUS_MIN        100
#define SANDBOX_STATUS_MAX        599
#define SANDBOX_FAULT_FOREVER     -1
#define SANDBOX_VARIANT_ALTERNATE -1
#define SANDBOX_PATH_MAX          128
#define SANDBOX_METHOD_MAX        15

struct sandbox_fault {
	pthread_mutex_t lock;
	const struct sandbox_fault_modes *m;
	int mode;
	long remaining; /* calls still to fail; SANDBOX_FAULT_FOREVER: until disarmed */
	long retry_after_s;
	long delay_ms;
	int variant;                         /* SANDBOX_VARIANT_ALTERNATE: the calls take the variants in turn;
				      * 0 until first armed */
	unsigned long shots;                 /* calls served by the armed fault so far */
	char path[SANDBOX_PATH_MAX + 1];     /* "": every path */
	char method[SANDBOX_METHOD_MAX + 1]; /* "": every method */
	unsigned writes_only;                /* see sandbox_fault_writes_only */
	unsigned long calls;
	unsigned long by_status[SANDBOX_STATUS_MAX - SANDBOX_STATUS_MIN + 1];
};

struct sandbox_fault *sandbox_fault_new(const struct sandbox_fault_modes *m)
{
	struct sandbox_fault *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->m = m;
	return f;
}

void sandbox_fault_writes_only(struct sandbox_fault *f, unsigned modes)
{
	f->writes_only = modes;
}

void sandbox_fault_free(struct sandbox_fault *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* An optional integer member within [min, max]; def when absent. */
static bool sandbox_json_long(const json_t *body, const char *key, long def, long min, long max, long *out, char *err,
			      size_t errlen)
{
	const json_t *v = json_object_get(body, key);
	if (!v) {
		*out = def;
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errlen, "\"%s\" must be an integer %ld..%ld", key, min, max);
		return false;
	}
	*out = (long)json_integer_value(v);
	return true;
}

static int sandbox_name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* Says which names a member may take: names[first..n-1] then names[0..first-1], the last two
 * joined by last_sep ("500, 429, slow, none"; "truncated or missing_fields"). */
static void sandbox_names_error(char *err, size_t errlen, const char *key, const char *lead, const char *const *names,
				size_t n, size_t first, const char *last_sep)
{
	char list[256];
	size_t len = 0;
	list[0] = '\0';
	for (size_t k = 0; k < n && len < sizeof list; k++) {
		const char *sep = k == 0 ? "" : k == n - 1 ? last_sep : ", ";
		int w = snprintf(list + len, sizeof list - len, "%s%s", sep, names[(first + k) % n]);
		len += w > 0 ? (size_t)w : 0;
	}
	snprintf(err, errlen, "\"%s\" must be %s%s", key, lead, list);
}

/* The "variant" member: its index, SANDBOX_VARIANT_ALTERNATE when absent or the peer has none;
 * false when it names no variant. */
static bool sandbox_fault_variant(const struct sandbox_fault_modes *m, const json_t *body, int *variant, char *err,
				  size_t errlen)
{
	const char *name = m->variants ? json_string_value(json_object_get(body, "variant")) : NULL;
	*variant = name ? sandbox_name_index(name, m->variants, m->nvariants) : SANDBOX_VARIANT_ALTERNATE;
	if (name && *variant < 0) {
		sandbox_names_error(err, errlen, "variant", "", m->variants, m->nvariants, 0, " or ");
		return false;
	}
	return true;
}

/* An optional text member of at most max printable characters; "" when absent. */
static bool sandbox_json_text(const json_t *body, const char *key, size_t max, char *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(body, key);
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	bool ok = !v || (s && n <= max && json_string_length(v) == n);
	for (size_t i = 0; ok && i < n; i++)
		ok = s[i] > ' ' && s[i] <= '~';
	if (!ok) {
		snprintf(err, errlen, "\"%s\" must be a string of at most %zu printable characters", key, max);
		return false;
	}
	memcpy(out, s ? s : "", n + 1);
	return true;
}

bool sandbox_fault_arm(struct sandbox_fault *f, const json_t *body, char *err, size_t errlen)
{
	char path[SANDBOX_PATH_MAX + 1], method[SANDBOX_METHOD_MAX + 1];
	const struct sandbox_fault_modes *m = f->m;
	long count, retry_after, delay_ms;
	int variant;
	int mode = sandbox_name_index(json_string_value(json_object_get(body, "mode")), m->modes, m->nmodes);
	if (mode < 0) {
		sandbox_names_error(err, errlen, "mode", "one of ", m->modes, m->nmodes, 1, ", ");
		return false;
	}
	if (!sandbox_json_long(body, "count", 1, SANDBOX_FAULT_FOREVER, 1000000000L, &count, err, errlen) ||
	    !sandbox_json_long(body, "retry_after", 1, 0, 86400, &retry_after, err, errlen) ||
	    !sandbox_json_long(body, "delay_ms", 2000, 0, 600000, &delay_ms, err, errlen) ||
	    !sandbox_fault_variant(m, body, &variant, err, errlen) ||
	    !sandbox_json_text(body, "path", SANDBOX_PATH_MAX, path, err, errlen) ||
	    !sandbox_json_text(body, "method", SANDBOX_METHOD_MAX, method, err, errlen))
		return false;
	pthread_mutex_lock(&f->lock);
	f->mode = count == 0 ? SANDBOX_FAULT_NONE : mode;
	f->remaining = f->mode == SANDBOX_FAULT_NONE ? 0 : count;
	f->retry_after_s = retry_after;
	f->delay_ms = delay_ms;
	f->variant = variant;
	f->shots = 0;
	memcpy(f->path, path, sizeof path);
	memcpy(f->method, method, sizeof method);
	pthread_mutex_unlock(&f->lock);
	return true;
}

struct sandbox_fault_shot sandbox_fault_take(struct sandbox_fault *f)
{
	return sandbox_fault_take_call(f, NULL, NULL);
}

/* Whether the armed fault is for this call; lock held. NULL method and path: any call. */
static bool sandbox_fault_matches(const struct sandbox_fault *f, const char *method, const char *path)
{
	bool read = method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
	if (read && f->mode < 32 && (f->writes_only >> f->mode) & 1u)
		return false;
	if (*f->method && method && strcmp(f->method, method) != 0)
		return false;
	return !*f->path || !path || strncmp(path, f->path, strlen(f->path)) == 0;
}

struct sandbox_fault_shot sandbox_fault_take_call(struct sandbox_fault *f, const char *method, const char *path)
{
	struct sandbox_fault_shot s = { SANDBOX_FAULT_NONE, 0, 0, 0 };
	pthread_mutex_lock(&f->lock);
	if (f->mode != SANDBOX_FAULT_NONE && sandbox_fault_matches(f, method, path)) {
		s.mode = f->mode;
		s.retry_after_s = f->retry_after_s;
		s.delay_ms = f->delay_ms;
		if (f->variant >= 0)
			s.variant = f->variant;
		else if (f->m->nvariants)
			s.variant = (int)(f->shots % f->m->nvariants);
		f->shots++;
		if (f->remaining != SANDBOX_FAULT_FOREVER && --f->remaining == 0)
			f->mode = SANDBOX_FAULT_NONE;
	}
	pthread_mutex_unlock(&f->lock);
	return s;
}

json_t *sandbox_fault_json(struct sandbox_fault *f)
{
	pthread_mutex_lock(&f->lock);
	json_t *j = json_pack("{s:s,s:I,s:I,s:I}", "mode", f->m->modes[f->mode], "remaining", (json_int_t)f->remaining,
			      "retry_after", (json_int_t)f->retry_after_s, "delay_ms", (json_int_t)f->delay_ms);
	if (j && f->m->variants &&
	    json_object_set_new(j, "variant",
				json_string(f->variant >= 0 ? f->m->variants[f->variant] : "alternate")) != 0) {
		json_decref(j);
		j = NULL;
	}
	if (j && ((*f->path && json_object_set_new(j, "path", json_string(f->path)) != 0) ||
		  (*f->method && json_object_set_new(j, "method", json_string(f->method)) != 0))) {
		json_decref(j);
		j = NULL;
	}
	pthread_mutex_unlock(&f->lock);
	return j;
}

void sandbox_fault_count(struct sandbox_fault *f, int status)
{
	pthread_mutex_lock(&f->lock);
	f->calls++;
	if (status >= SANDBOX_STATUS_MIN && status <= SANDBOX_STATUS_MAX)
		f->by_status[status - SANDBOX_STATUS_MIN]++;
	pthread_mutex_unlock(&f->lock);
}

json_t *sandbox_fault_stats_json(struct sandbox_fault *f)
{
	json_t *by = json_object();
	json_t *j = json_pack("{s:o}", "by_status", by);
	if (!j)
		return NULL;
	pthread_mutex_lock(&f->lock);
	json_object_set_new(j, "calls", json_integer((json_int_t)f->calls));
	for (int s = SANDBOX_STATUS_MIN; s <= SANDBOX_STATUS_MAX; s++) {
		unsigned long n = f->by_status[s - SANDBOX_STATUS_MIN];
		char key[12];
		snprintf(key, sizeof key, "%d", s);
		if (n)
			json_object_set_new(by, key, json_integer((json_int_t)n));
	}
	pthread_mutex_unlock(&f->lock);
	return j;
}

void sandbox_fault_reset(struct sandbox_fault *f)
{
	pthread_mutex_lock(&f->lock);
	f->mode = SANDBOX_FAULT_NONE;
	f->remaining = 0;
	f->shots = 0;
	f->calls = 0;
	memset(f->by_status, 0, sizeof f->by_status);
	pthread_mutex_unlock(&f->lock);
}
