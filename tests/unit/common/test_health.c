/* Readiness kept as state: the last check's result is what health_ready answers, and a step that
 * hangs is reported once it passes the step limit, without waiting for it. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "health.h"
#include "unit.h"

struct fake {
	atomic_int mode; /* 0 ready, 1 not ready, 2 hang in "PostgreSQL" until released */
	atomic_int checks;
	atomic_bool release;
};

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static bool fake_check(struct health *h, void *ud, char *reason, size_t len)
{
	struct fake *f = ud;
	atomic_fetch_add(&f->checks, 1);
	health_step(h, "PostgreSQL");
	if (atomic_load(&f->mode) == 2) {
		while (!atomic_load(&f->release))
			sleep_ms(5);
	}
	if (atomic_load(&f->mode) == 1) {
		snprintf(reason, len, "PostgreSQL unreachable");
		return false;
	}
	return true;
}

/* polls health_ready for up to 2 s until it says want */
static bool wait_ready(struct health *h, bool want, char *reason, size_t len)
{
	for (int i = 0; i < 200; i++) {
		if (health_ready(h, reason, len) == want)
			return true;
		sleep_ms(10);
	}
	return false;
}

static void test_answers_from_the_last_check(void)
{
	struct fake f = { 0 };
	char reason[128];
	struct health *h = health_new(fake_check, &f, 200, 20);
	EXPECT(h != NULL);
	EXPECT(wait_ready(h, true, reason, sizeof reason));
	atomic_store(&f.mode, 1);
	EXPECT(wait_ready(h, false, reason, sizeof reason));
	EXPECT_STR(reason, "PostgreSQL unreachable");
	atomic_store(&f.mode, 0);
	EXPECT(wait_ready(h, true, reason, sizeof reason));
	EXPECT(atomic_load(&f.checks) >= 3);
	health_free(h);
}

static void test_a_hung_step_is_reported(void)
{
	struct fake f = { 0 };
	char reason[128];
	struct health *h = health_new(fake_check, &f, 100, 20);
	EXPECT(wait_ready(h, true, reason, sizeof reason));
	atomic_store(&f.mode, 2);
	/* the check does not return: past the step limit the hang itself is the answer */
	EXPECT(wait_ready(h, false, reason, sizeof reason));
	EXPECT(strstr(reason, "PostgreSQL has not answered for") != NULL);
	atomic_store(&f.mode, 0);
	atomic_store(&f.release, true);
	EXPECT(wait_ready(h, true, reason, sizeof reason));
	health_free(h);
}

static void test_not_ready_before_the_first_result(void)
{
	struct fake f = { .mode = 2 };
	char reason[128];
	struct health *h = health_new(fake_check, &f, 10000, 20);
	EXPECT(!health_ready(h, reason, sizeof reason));
	EXPECT(strstr(reason, "starting") != NULL);
	atomic_store(&f.mode, 0);
	atomic_store(&f.release, true);
	health_free(h); /* waits for the check under way */
	health_free(NULL);
}

UNIT_MAIN(test_answers_from_the_last_check, test_a_hung_step_is_reported, test_not_ready_before_the_first_result)
