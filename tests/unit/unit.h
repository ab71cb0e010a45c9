/* unit.h — the unit tests' harness: no I/O, one binary per file.
 *
 *   static void test_something(void) { EXPECT(x == 1); EXPECT_STR(a, "b"); }
 *   UNIT_MAIN(test_something, test_other)
 *
 * Each test function prints "PASS <name>" or "FAIL <name>: file:line: expression"; tests/run.sh
 * counts those lines. The binary exits 1 when any test failed. */
#ifndef ERPSYNC_UNIT_H
#define ERPSYNC_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;

#define EXPECT(cond)                                                                 \
	do {                                                                         \
		if (!(cond)) {                                                       \
			printf("  %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			unit_failed_checks++;                                        \
		}                                                                    \
	} while (0)

#define EXPECT_STR(a, b)                                                                    \
	do {                                                                                \
		const char *unit_a_ = (a), *unit_b_ = (b);                                  \
		if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) {                \
			printf("  %s:%d: expected \"%s\" == \"%s\"\n", __FILE__, __LINE__,  \
			       unit_a_ ? unit_a_ : "(null)", unit_b_ ? unit_b_ : "(null)"); \
			unit_failed_checks++;                                               \
		}                                                                           \
	} while (0)

#define EXPECT_INT(a, b)                                                                                           \
	do {                                                                                                       \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);                                      \
		if (unit_a_ != unit_b_) {                                                                          \
			printf("  %s:%d: expected %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, unit_a_, \
			       unit_b_);                                                                           \
			unit_failed_checks++;                                                                      \
		}                                                                                                  \
	} while (0)

typedef void (*unit_fn)(void);

static inline int unit_run(const char *const *names, const unit_fn *fns, size_t n)
{
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		int before = unit_failed_checks;
		fns[i]();
		if (unit_failed_checks != before) {
			printf("FAIL %s\n", names[i]);
			failed++;
		} else {
			printf("PASS %s\n", names[i]);
		}
	}
	return failed ? 1 : 0;
}

#define UNIT_STR_(x) #x
#define UNIT_MAIN(...)                                                                                         \
	int main(void)                                                                                         \
	{                                                                                                      \
		static const unit_fn fns[] = { __VA_ARGS__ };                                                  \
		static const char names[] = UNIT_STR_((__VA_ARGS__));                                          \
		static char copy[sizeof names];                                                                \
		const char *list[sizeof fns / sizeof fns[0]];                                                  \
		memcpy(copy, names + 1, sizeof names - 1);                                                     \
		copy[sizeof names - 3] = '\0';                                                                 \
		size_t k = 0;                                                                                  \
		for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t && k < sizeof fns / sizeof fns[0]; \
		     t = strtok_r(NULL, ", ", &save))                                                          \
			list[k++] = t;                                                                         \
		for (; k < sizeof fns / sizeof fns[0]; k++)                                                    \
			list[k] = "?";                                                                         \
		return unit_run(list, fns, sizeof fns / sizeof fns[0]);                                        \
	}

#endif
