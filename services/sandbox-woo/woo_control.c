#include "woo_control.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WOO_STATUS_MIN 100
#define WOO_STATUS_MAX 599
#define WOO_ROUTES_MAX 32
#define WOO_FAULT_FOREVER -1

struct woo_route_count {
	const char *route;           /* static label, compared by content */
	unsigned long calls;
};

struct woo_control {
	pthread_mutex_t lock;
	enum woo_fault_mode mode;
	long remaining;              /* WOO_FAULT_FOREVER: until disarmed */
	long retry_after_s;
	long delay_ms;
	unsigned long calls, writes, noop_writes, batch_calls;
	unsigned long by_status[WOO_STATUS_MAX - WOO_STATUS_MIN + 1];
	struct woo_route_count by_route[WOO_ROUTES_MAX];
	size_t nroutes;
};

static const char *const woo_fault_names[] = { "none", "500", "429", "slow" };

struct woo_control *woo_control_new(void)
{
	struct woo_control *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void woo_control_free(struct woo_control *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static bool woo_json_long(const json_t *body, const char *key, long def, long min, long max,
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

bool woo_control_set_fault(struct woo_control *c, const json_t *body, char *err, size_t errlen)
{
	long count, retry_after, delay_ms;
	const char *name = json_string_value(json_object_get(body, "mode"));
	int mode = -1;
	for (int i = 0; name && i < 4; i++)
		if (strcmp(name, woo_fault_names[i]) == 0)
			mode = i;
	if (mode < 0) {
		snprintf(err, errlen, "\"mode\" must be one of 500, 429, slow, none");
		return false;
	}
	if (!woo_json_long(body, "count", 1, WOO_FAULT_FOREVER, 1000000000L, &count, err, errlen) ||
	    !woo_json_long(body, "retry_after", 1, 0, 86400, &retry_after, err, errlen) ||
	    !woo_json_long(body, "delay_ms", 2000, 0, 600000, &delay_ms, err, errlen))
		return false;
	pthread_mutex_lock(&c->lock);
	c->mode = count == 0 ? WOO_FAULT_NONE : (enum woo_fault_mode)mode;
	c->remaining = c->mode == WOO_FAULT_NONE ? 0 : count;
	c->retry_after_s = retry_after;
	c->delay_ms = delay_ms;
	pthread_mutex_unlock(&c->lock);
	return true;
}

struct woo_fault_shot woo_control_take_fault(struct woo_control *c)
{
	struct woo_fault_shot s = { WOO_FAULT_NONE, 0, 0 };
	pthread_mutex_lock(&c->lock);
	if (c->mode != WOO_FAULT_NONE) {
		s.mode = c->mode;
		s.retry_after_s = c->retry_after_s;
		s.delay_ms = c->delay_ms;
		if (c->remaining != WOO_FAULT_FOREVER && --c->remaining == 0)
			c->mode = WOO_FAULT_NONE;
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

json_t *woo_control_fault_json(struct woo_control *c)
{
	pthread_mutex_lock(&c->lock);
	json_t *j = json_pack("{s:s,s:I,s:I,s:I}", "mode", woo_fault_names[c->mode], "remaining",
			      (json_int_t)c->remaining, "retry_after", (json_int_t)c->retry_after_s,
			      "delay_ms", (json_int_t)c->delay_ms);
	pthread_mutex_unlock(&c->lock);
	return j;
}

void woo_control_count(struct woo_control *c, const char *route, int status, bool batch,
		       unsigned long changed, unsigned long unchanged)
{
	const char *label = route ? route : "unmatched";
	pthread_mutex_lock(&c->lock);
	c->calls++;
	c->writes += changed;
	c->noop_writes += unchanged;
	c->batch_calls += batch;
	if (status >= WOO_STATUS_MIN && status <= WOO_STATUS_MAX)
		c->by_status[status - WOO_STATUS_MIN]++;
	size_t i = 0;
	while (i < c->nroutes && strcmp(c->by_route[i].route, label) != 0)
		i++;
	if (i == c->nroutes && i < WOO_ROUTES_MAX)
		c->by_route[c->nroutes++].route = label;
	if (i < c->nroutes)
		c->by_route[i].calls++;
	pthread_mutex_unlock(&c->lock);
}

json_t *woo_control_stats_json(struct woo_control *c)
{
	json_t *by_status = json_object(), *by_route = json_object();
	json_t *j = json_pack("{s:o,s:o}", "by_status", by_status, "by_route", by_route);
	if (!j)
		return NULL;
	pthread_mutex_lock(&c->lock);
	json_object_set_new(j, "calls", json_integer((json_int_t)c->calls));
	json_object_set_new(j, "writes", json_integer((json_int_t)c->writes));
	json_object_set_new(j, "noop_writes", json_integer((json_int_t)c->noop_writes));
	json_object_set_new(j, "batch_calls", json_integer((json_int_t)c->batch_calls));
	for (int s = WOO_STATUS_MIN; s <= WOO_STATUS_MAX; s++) {
		char key[12];
		snprintf(key, sizeof key, "%d", s);
		if (c->by_status[s - WOO_STATUS_MIN])
			json_object_set_new(by_status, key,
					    json_integer((json_int_t)c->by_status[s - WOO_STATUS_MIN]));
	}
	for (size_t i = 0; i < c->nroutes; i++)
		json_object_set_new(by_route, c->by_route[i].route,
				    json_integer((json_int_t)c->by_route[i].calls));
	pthread_mutex_unlock(&c->lock);
	return j;
}

void woo_control_reset(struct woo_control *c)
{
	pthread_mutex_lock(&c->lock);
	c->mode = WOO_FAULT_NONE;
	c->remaining = 0;
	c->calls = c->writes = c->noop_writes = c->batch_calls = 0;
	memset(c->by_status, 0, sizeof c->by_status);
	memset(c->by_route, 0, sizeof c->by_route);
	c->nroutes = 0;
	pthread_mutex_unlock(&c->lock);
}
