#include "woo_stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WOO_ROUTES_MAX 32

struct woo_route_count {
	const char *route; /* static label, compared by content */
	unsigned long calls;
};

struct woo_stats {
	pthread_mutex_t lock;
	unsigned long writes, noop_writes, batch_calls;
	struct woo_route_count by_route[WOO_ROUTES_MAX];
	size_t nroutes;
};

struct woo_stats *woo_stats_new(void)
{
	struct woo_stats *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void woo_stats_free(struct woo_stats *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void woo_stats_count(struct woo_stats *s, const char *route, bool batch, unsigned long changed, unsigned long unchanged)
{
	const char *label = route ? route : "unmatched";
	pthread_mutex_lock(&s->lock);
	s->writes += changed;
	s->noop_writes += unchanged;
	s->batch_calls += batch;
	size_t i = 0;
	while (i < s->nroutes && strcmp(s->by_route[i].route, label) != 0)
		i++;
	if (i == s->nroutes && i < WOO_ROUTES_MAX)
		s->by_route[s->nroutes++].route = label;
	if (i < s->nroutes)
		s->by_route[i].calls++;
	pthread_mutex_unlock(&s->lock);
}

bool woo_stats_add_json(struct woo_stats *s, json_t *j)
{
	json_t *by_route = json_object();
	if (json_object_set_new(j, "by_route", by_route) != 0)
		return false;
	pthread_mutex_lock(&s->lock);
	json_object_set_new(j, "writes", json_integer((json_int_t)s->writes));
	json_object_set_new(j, "noop_writes", json_integer((json_int_t)s->noop_writes));
	json_object_set_new(j, "batch_calls", json_integer((json_int_t)s->batch_calls));
	for (size_t i = 0; i < s->nroutes; i++)
		json_object_set_new(by_route, s->by_route[i].route, json_integer((json_int_t)s->by_route[i].calls));
	pthread_mutex_unlock(&s->lock);
	return true;
}

void woo_stats_reset(struct woo_stats *s)
{
	pthread_mutex_lock(&s->lock);
	s->writes = s->noop_writes = s->batch_calls = 0;
	memset(s->by_route, 0, sizeof s->by_route);
	s->nroutes = 0;
	pthread_mutex_unlock(&s->lock);
}
