#include "shutdown.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t shutdown_flag;

static void shutdown_on_signal(int sig)
{
	(void)sig;
	if (shutdown_flag)
		_exit(130);   /* a second signal: the operator wants out now */
	shutdown_flag = 1;
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
	return shutdown_flag != 0;
}

void shutdown_request(void)
{
	shutdown_flag = 1;
}

bool shutdown_sleep_ms(long ms)
{
	while (ms > 0 && !shutdown_flag) {
		long step = ms < 50 ? ms : 50;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return shutdown_flag != 0;
}
