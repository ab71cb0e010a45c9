#include "erp_control.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERP_STATUS_MIN 100
#define ERP_STATUS_MAX 599
#define ERP_FAULT_FOREVER -1

struct erp_control {
	pthread_mutex_t lock;
	enum erp_fault_mode mode;
	long remaining;              /* calls still to fail; ERP_FAULT_FOREVER: until disarmed */
	long retry_after_s;
	long delay_ms;
	int variant;                 /* -1: alternate truncated / missing fields */
	unsigned long shots;         /* calls served by the armed fault so far */
	unsigned long calls;
	unsigned long by_status[ERP_STATUS_MAX - ERP_STATUS_MIN + 1];
};

static const char *const erp_fault_names[] = { "none", "500", "429", "slow", "malformed" };
static const char *const erp_malformed_names[] = { "truncated", "missing_fields" };

struct erp_control *erp_control_new(void)
{
	struct erp_control *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void erp_control_free(struct erp_control *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* An optional integer member within [min, max]; def when absent. */
static bool erp_json_long(const json_t *body, const char *key, long def, long min, long max,
			  long *out, char *err, size_t errlen)
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

static int erp_name_index(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

bool erp_control_set_fault(struct erp_control *c, const json_t *body, char *err, size_t errlen)
{
	long count, retry_after, delay_ms;
	int mode = erp_name_index(json_string_value(json_object_get(body, "mode")), erp_fault_names, 5);
	if (mode < 0) {
		snprintf(err, errlen, "\"mode\" must be one of 500, 429, slow, malformed, none");
		return false;
	}
	if (!erp_json_long(body, "count", 1, ERP_FAULT_FOREVER, 1000000000L, &count, err, errlen) ||
	    !erp_json_long(body, "retry_after", 1, 0, 86400, &retry_after, err, errlen) ||
	    !erp_json_long(body, "delay_ms", 2000, 0, 600000, &delay_ms, err, errlen))
		return false;
	const char *vname = json_string_value(json_object_get(body, "variant"));
	int variant = vname ? erp_name_index(vname, erp_malformed_names, 2) : -1;
	if (vname && variant < 0) {
		snprintf(err, errlen, "\"variant\" must be truncated or missing_fields");
		return false;
	}
	pthread_mutex_lock(&c->lock);
	c->mode = count == 0 ? ERP_FAULT_NONE : (enum erp_fault_mode)mode;
	c->remaining = c->mode == ERP_FAULT_NONE ? 0 : count;
	c->retry_after_s = retry_after;
	c->delay_ms = delay_ms;
	c->variant = variant;
	c->shots = 0;
	pthread_mutex_unlock(&c->lock);
	return true;
}

struct erp_fault_shot erp_control_take_fault(struct erp_control *c)
{
	struct erp_fault_shot s = { ERP_FAULT_NONE, 0, 0, ERP_MALFORMED_TRUNCATED };
	pthread_mutex_lock(&c->lock);
	if (c->mode != ERP_FAULT_NONE) {
		s.mode = c->mode;
		s.retry_after_s = c->retry_after_s;
		s.delay_ms = c->delay_ms;
		s.malformed = c->variant >= 0 ? (enum erp_malformed)c->variant
					      : (enum erp_malformed)(c->shots % 2);
		c->shots++;
		if (c->remaining != ERP_FAULT_FOREVER && --c->remaining == 0)
			c->mode = ERP_FAULT_NONE;
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

json_t *erp_control_fault_json(struct erp_control *c)
{
	pthread_mutex_lock(&c->lock);
	json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:s}", "mode", erp_fault_names[c->mode],
			      "remaining", (json_int_t)c->remaining, "retry_after",
			      (json_int_t)c->retry_after_s, "delay_ms", (json_int_t)c->delay_ms,
			      "variant", c->variant >= 0 ? erp_malformed_names[c->variant] : "alternate");
	pthread_mutex_unlock(&c->lock);
	return j;
}

void erp_control_count(struct erp_control *c, int status)
{
	pthread_mutex_lock(&c->lock);
	c->calls++;
	if (status >= ERP_STATUS_MIN && status <= ERP_STATUS_MAX)
		c->by_status[status - ERP_STATUS_MIN]++;
	pthread_mutex_unlock(&c->lock);
}

json_t *erp_control_stats_json(struct erp_control *c)
{
	json_t *by = json_object();
	json_t *j = json_pack("{s:o}", "by_status", by);
	if (!j)
		return NULL;
	pthread_mutex_lock(&c->lock);
	json_object_set_new(j, "calls", json_integer((json_int_t)c->calls));
	for (int s = ERP_STATUS_MIN; s <= ERP_STATUS_MAX; s++) {
		unsigned long n = c->by_status[s - ERP_STATUS_MIN];
		char key[12];
		snprintf(key, sizeof key, "%d", s);
		if (n)
			json_object_set_new(by, key, json_integer((json_int_t)n));
	}
	pthread_mutex_unlock(&c->lock);
	return j;
}

void erp_control_reset(struct erp_control *c)
{
	pthread_mutex_lock(&c->lock);
	c->mode = ERP_FAULT_NONE;
	c->remaining = 0;
	c->shots = 0;
	c->calls = 0;
	memset(c->by_status, 0, sizeof c->by_status);
	pthread_mutex_unlock(&c->lock);
}
