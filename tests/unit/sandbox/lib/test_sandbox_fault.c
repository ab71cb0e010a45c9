/* The sandbox peers' fault switch and call counting: what a test arms is what the API calls get. */
#include <stdlib.h>

#include "sandbox_fault.h"
#include "unit.h"

static const char *const modes[] = { "none", "500", "429", "slow", "malformed" };
static const char *const variants[] = { "truncated", "missing_fields" };
static const struct sandbox_fault_modes with_variants = { modes, 5, variants, 2 };
static const struct sandbox_fault_modes without_variants = { modes, 4, NULL, 0 };

static bool arm(struct sandbox_fault *f, const char *body, char *err, size_t errlen)
{
	json_t *j = json_loads(body, 0, NULL);
	bool ok = j && sandbox_fault_arm(f, j, err, errlen);
	json_decref(j);
	return ok;
}

/* The fault as GET /sandbox/faults shows it, compact with sorted keys. */
static char *shown(struct sandbox_fault *f)
{
	json_t *j = sandbox_fault_json(f);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return text;
}

static void test_count_calls_then_disarms(void)
{
	struct sandbox_fault *f = sandbox_fault_new(&with_variants);
	char err[200];
	EXPECT(arm(f, "{\"mode\":\"429\",\"count\":2,\"retry_after\":7}", err, sizeof err));
	struct sandbox_fault_shot s = sandbox_fault_take(f);
	EXPECT_INT(s.mode, 2);
	EXPECT_INT(s.retry_after_s, 7);
	EXPECT_INT(s.delay_ms, 2000);
	EXPECT_INT(sandbox_fault_take(f).mode, 2);
	EXPECT_INT(sandbox_fault_take(f).mode, SANDBOX_FAULT_NONE);
	char *text = shown(f);
	EXPECT_STR(text, "{\"delay_ms\":2000,\"mode\":\"none\",\"remaining\":0,\"retry_after\":7,"
			 "\"variant\":\"alternate\"}");
	free(text);
	sandbox_fault_free(f);
}

static void test_forever_until_none_and_count_zero(void)
{
	struct sandbox_fault *f = sandbox_fault_new(&with_variants);
	char err[200];
	EXPECT(arm(f, "{\"mode\":\"500\",\"count\":-1}", err, sizeof err));
	for (int i = 0; i < 50; i++)
		EXPECT_INT(sandbox_fault_take(f).mode, 1);
	EXPECT(arm(f, "{\"mode\":\"none\"}", err, sizeof err));
	EXPECT_INT(sandbox_fault_take(f).mode, SANDBOX_FAULT_NONE);
	EXPECT(arm(f, "{\"mode\":\"slow\",\"count\":0,\"delay_ms\":5}", err, sizeof err));
	EXPECT_INT(sandbox_fault_take(f).mode, SANDBOX_FAULT_NONE);
	sandbox_fault_free(f);
}

static void test_bad_body_says_why_and_keeps_the_switch(void)
{
	struct sandbox_fault *f = sandbox_fault_new(&with_variants);
	char err[200];
	EXPECT(arm(f, "{\"mode\":\"500\",\"count\":3}", err, sizeof err));
	EXPECT(!arm(f, "{\"mode\":\"teapot\"}", err, sizeof err));
	EXPECT_STR(err, "\"mode\" must be one of 500, 429, slow, malformed, none");
	EXPECT(!arm(f, "{\"mode\":\"429\",\"count\":-2}", err, sizeof err));
	EXPECT_STR(err, "\"count\" must be an integer -1..1000000000");
	EXPECT(!arm(f, "{\"mode\":\"malformed\",\"variant\":\"upside_down\"}", err, sizeof err));
	EXPECT_STR(err, "\"variant\" must be truncated or missing_fields");
	EXPECT_INT(sandbox_fault_take(f).mode, 1);
	sandbox_fault_free(f);

	f = sandbox_fault_new(&without_variants);
	EXPECT(!arm(f, "{\"mode\":\"malformed\"}", err, sizeof err));
	EXPECT_STR(err, "\"mode\" must be one of 500, 429, slow, none");
	sandbox_fault_free(f);
}

static void test_variants_alternate_unless_chosen(void)
{
	struct sandbox_fault *f = sandbox_fault_new(&with_variants);
	char err[200];
	EXPECT(arm(f, "{\"mode\":\"malformed\",\"count\":-1}", err, sizeof err));
	EXPECT_INT(sandbox_fault_take(f).variant, 0);
	EXPECT_INT(sandbox_fault_take(f).variant, 1);
	EXPECT_INT(sandbox_fault_take(f).variant, 0);
	EXPECT(arm(f, "{\"mode\":\"malformed\",\"count\":-1,\"variant\":\"missing_fields\"}", err, sizeof err));
	EXPECT_INT(sandbox_fault_take(f).variant, 1);
	EXPECT_INT(sandbox_fault_take(f).variant, 1);
	sandbox_fault_free(f);

	/* a peer without variants neither reads nor shows one */
	f = sandbox_fault_new(&without_variants);
	EXPECT(arm(f, "{\"mode\":\"slow\",\"variant\":\"whatever\"}", err, sizeof err));
	char *text = shown(f);
	EXPECT_STR(text, "{\"delay_ms\":2000,\"mode\":\"slow\",\"remaining\":1,\"retry_after\":1}");
	free(text);
	sandbox_fault_free(f);
}

static void test_counts_by_status_until_reset(void)
{
	struct sandbox_fault *f = sandbox_fault_new(&with_variants);
	char err[200];
	sandbox_fault_count(f, 200);
	sandbox_fault_count(f, 200);
	sandbox_fault_count(f, 429);
	sandbox_fault_count(f, 42); /* no status: counted as a call only */
	json_t *j = sandbox_fault_stats_json(f);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	EXPECT_STR(text, "{\"by_status\":{\"200\":2,\"429\":1},\"calls\":4}");
	free(text);
	json_decref(j);

	EXPECT(arm(f, "{\"mode\":\"malformed\",\"count\":-1,\"variant\":\"truncated\"}", err, sizeof err));
	sandbox_fault_reset(f);
	EXPECT_INT(sandbox_fault_take(f).mode, SANDBOX_FAULT_NONE);
	j = sandbox_fault_stats_json(f);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	EXPECT_STR(text, "{\"by_status\":{},\"calls\":0}");
	free(text);
	json_decref(j);
	text = shown(f);
	EXPECT_STR(text, "{\"delay_ms\":2000,\"mode\":\"none\",\"remaining\":0,\"retry_after\":1,"
			 "\"variant\":\"truncated\"}");
	free(text);
	sandbox_fault_free(f);
	sandbox_fault_free(NULL);
}

UNIT_MAIN(test_count_calls_then_disarms, test_forever_until_none_and_count_zero,
	  test_bad_body_says_why_and_keeps_the_switch, test_variants_alternate_unless_chosen,
	  test_counts_by_status_until_reset)
