#include "shutdown.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"

/* Written by the signal handler and by any thread: lock-free atomics are safe in both. */
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
	       "shutdown needs lock-free atomics");

static atomic_bool shutdown_flag;
static atomic_int shutdown_signals;
static atomic_llong shutdown_began_us; /* monotonic; 0: not stopping */
static atomic_llong shutdown_timeout_ms = 10000;

/* clock_gettime is async-signal-safe */
static long long shutdown_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The first caller fixes the deadline. */
static void shutdown_begin(void)
{
	long long none = 0, now = shutdown_now_us();
	atomic_compare_exchange_strong(&shutdown_began_us, &none, now ? now : 1);
	atomic_store(&shutdown_flag, true);
}

static void shutdown_on_signal(int sig)
{
	(void)sig;
	/* counted apart from the flag: a stop a worker began is no reason to leave without the bound */
	if (atomic_fetch_add(&shutdown_signals, 1) > 0)
		_exit(130); /* a second signal: the operator wants out now */
	shutdown_begin();
}

void shutdown_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = shutdown_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

bool shutdown_requested(void)
{
	return atomic_load(&shutdown_flag);
}

void shutdown_request(void)
{
	shutdown_begin();
}

bool shutdown_sleep_ms(long ms)
{
	while (ms > 0 && !atomic_load(&shutdown_flag)) {
		long step = ms < 50 ? ms : 50;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return atomic_load(&shutdown_flag);
}

void shutdown_set_timeout(long ms)
{
	atomic_store(&shutdown_timeout_ms, ms > 0 ? ms : 0);
}

/* ms left until began + share of the bound */
static long shutdown_left_of(long long share_ms)
{
	long long began = atomic_load(&shutdown_began_us);
	if (!began)
		return LONG_MAX;
	long long left = (began + share_ms * 1000 - shutdown_now_us()) / 1000;
	return left > 0 ? (long)left : 0;
}

long shutdown_left_ms(void)
{
	return shutdown_left_of(atomic_load(&shutdown_timeout_ms));
}

long shutdown_work_left_ms(void)
{
	return shutdown_left_of(atomic_load(&shutdown_timeout_ms) / 2);
}

bool shutdown_join(pthread_t t, const char *what)
{
	long left = shutdown_left_ms(), work = shutdown_work_left_ms();
	if (left == LONG_MAX) {
		pthread_join(t, NULL);
		return true;
	}
	long wait_ms = work + (left - work) / 2;
	struct timespec ts = event_deadline(CLOCK_REALTIME, wait_ms);
	if (pthread_timedjoin_np(t, NULL, &ts) == 0)
		return true;
	log_error("%s did not stop within the stop's bound; left to the process's exit", what);
	return false;
}
