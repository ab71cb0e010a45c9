/* The shutdown flag, its signals and its one deadline: a SIGTERM that comes while the process is already stopping
 * for a fatal error found by a worker (shutdown_request) is the operator's first signal, so the
 * stop stays the bounded one; only a second signal leaves at once. */
#include <limits.h>
#include <signal.h>

#include "shutdown.h"
#include "unit.h"

static void test_no_deadline_before_stop(void)
{
	shutdown_set_timeout(4000);
	EXPECT_INT(shutdown_left_ms(), LONG_MAX);
	EXPECT_INT(shutdown_work_left_ms(), LONG_MAX);
}

static void test_signal_during_fatal_stop(void)
{
	shutdown_install();
	EXPECT(!shutdown_requested());
	shutdown_request(); /* a worker thread found a fatal error */
	EXPECT(shutdown_requested());
	raise(SIGTERM); /* the operator's SIGTERM meanwhile: must not _exit(130) */
	EXPECT(shutdown_requested());
}

/* The deadline was fixed when the stop began (above): the whole bound, and half of it for work in
 * flight. */
static void test_one_deadline(void)
{
	long all = shutdown_left_ms(), work = shutdown_work_left_ms();
	EXPECT(all > 3000 && all <= 4000);
	EXPECT(work > 1000 && work <= 2000);
	EXPECT(shutdown_sleep_ms(1000)); /* returns at once when stopping */
}

UNIT_MAIN(test_no_deadline_before_stop, test_signal_during_fatal_stop, test_one_deadline)
