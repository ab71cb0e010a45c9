#include "health.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "event.h"

struct health {
	health_check_fn check;
	void *ud;
	int64_t step_limit_us;
	long interval_ms;
	pthread_t thread;
	bool started;
	/* lock is held only to copy state in or out, never over the check's I/O */
	pthread_mutex_t lock;
	pthread_cond_t wake; /* stop */
	bool stop;
	bool have_result;
	bool ready;
	char reason[256];
	const char *step; /* under way, NULL between checks */
	int64_t step_since_us;
};

void health_step(struct health *h, const char *what)
{
	pthread_mutex_lock(&h->lock);
	h->step = what;
	h->step_since_us = event_monotonic_us();
	pthread_mutex_unlock(&h->lock);
}

bool health_ready(void *ud, char *reason, size_t len)
{
	struct health *h = ud;
	bool ready = false;
	pthread_mutex_lock(&h->lock);
	int64_t stuck_us = h->step ? event_monotonic_us() - h->step_since_us : 0;
	if (h->step && stuck_us > h->step_limit_us)
		snprintf(reason, len, "%s has not answered for %lld s", h->step, (long long)(stuck_us / 1000000));
	else if (!h->have_result)
		snprintf(reason, len, "starting: the first readiness check is under way");
	else if (!(ready = h->ready))
		snprintf(reason, len, "%s", h->reason);
	pthread_mutex_unlock(&h->lock);
	return ready;
}

/* Until the first time ready, a check this often: a service that has just joined its group says so
 * within a tenth of a second, not up to a whole interval later (an orchestrator, or a benchmark
 * timing from ready, would otherwise see it late while it already works). */
#define HEALTH_STARTING_INTERVAL_MS 100

/* Sleeps interval_ms (while never ready yet, at most HEALTH_STARTING_INTERVAL_MS) unless stopped
 * first; true when stopped. */
static bool health_wait(struct health *h, bool ever_ready)
{
	long ms = h->interval_ms;
	if (!ever_ready && ms > HEALTH_STARTING_INTERVAL_MS)
		ms = HEALTH_STARTING_INTERVAL_MS;
	struct timespec until = event_deadline(CLOCK_MONOTONIC, ms);
	pthread_mutex_lock(&h->lock);
	while (!h->stop && pthread_cond_timedwait(&h->wake, &h->lock, &until) != ETIMEDOUT) {
	}
	bool stop = h->stop;
	pthread_mutex_unlock(&h->lock);
	return stop;
}

static void *health_main(void *arg)
{
	struct health *h = arg;
	bool ever_ready = false;
	do {
		char reason[sizeof h->reason] = "";
		bool ready = h->check(h, h->ud, reason, sizeof reason);
		ever_ready = ever_ready || ready;
		pthread_mutex_lock(&h->lock);
		h->step = NULL;
		h->ready = ready;
		h->have_result = true;
		snprintf(h->reason, sizeof h->reason, "%s", ready ? "" : reason);
		pthread_mutex_unlock(&h->lock);
	} while (!health_wait(h, ever_ready));
	return NULL;
}

struct health *health_new(health_check_fn check, void *ud, long step_limit_ms, long interval_ms)
{
	struct health *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->check = check;
	h->ud = ud;
	h->step_limit_us = (int64_t)step_limit_ms * 1000;
	h->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	h->started = pthread_create(&h->thread, NULL, health_main, h) == 0;
	if (!h->started) {
		health_free(h);
		return NULL;
	}
	return h;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	if (h->started) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
