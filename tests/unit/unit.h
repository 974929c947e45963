/* tests/unit/unit.h — a tiny test harness for the C unit tests.
 *
 * Each test file is one program: it includes this header, runs CHECK* macros from main() or
 * from functions main() calls, and ends main() with UNIT_END("name"), which prints
 * "name: N checks, M failed" and returns non-zero when anything failed. A failing check
 * prints file:line and what differed, and the test goes on (no early exit), so one run shows
 * every failure. Counters are static: one test program per translation unit. */
#ifndef OC_UNIT_H
#define OC_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_checks; /* checks run */
static int unit_failed; /* checks that failed */

static inline void unit_fail(const char *file, int line)
{
	unit_failed++;
	fprintf(stderr, "%s:%d: ", file, line);
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		unit_checks++;                                                                     \
		if (!(cond)) {                                                                     \
			unit_fail(__FILE__, __LINE__);                                             \
			fprintf(stderr, "CHECK(%s) failed\n", #cond);                              \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);                      \
		unit_checks++;                                                                     \
		if (unit_a_ != unit_b_) {                                                          \
			unit_fail(__FILE__, __LINE__);                                             \
			fprintf(stderr, "%s == %s: %lld != %lld\n", #a, #b, unit_a_, unit_b_);     \
		}                                                                                  \
	} while (0)

/* NULL compares equal only to NULL. */
#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *unit_a_ = (a), *unit_b_ = (b);                                         \
		unit_checks++;                                                                     \
		if (!unit_a_ || !unit_b_ ? unit_a_ != unit_b_ : strcmp(unit_a_, unit_b_)) {        \
			unit_fail(__FILE__, __LINE__);                                             \
			fprintf(stderr, "%s == %s: \"%s\" != \"%s\"\n", #a, #b,                    \
				unit_a_ ? unit_a_ : "(null)", unit_b_ ? unit_b_ : "(null)");       \
		}                                                                                  \
	} while (0)

/* Byte ranges a[0..alen) and b[0..blen); on failure shows the lengths and first difference. */
#define CHECK_EQ_MEM(a, alen, b, blen)                                                             \
	do {                                                                                       \
		const char *unit_a_ = (const char *)(a), *unit_b_ = (const char *)(b);             \
		size_t unit_al_ = (alen), unit_bl_ = (blen);                                       \
		unit_checks++;                                                                     \
		if (unit_al_ != unit_bl_ || (unit_al_ && memcmp(unit_a_, unit_b_, unit_al_))) {    \
			size_t unit_i_ = 0;                                                        \
			while (unit_i_ < unit_al_ && unit_i_ < unit_bl_ &&                         \
			       unit_a_[unit_i_] == unit_b_[unit_i_])                               \
				unit_i_++;                                                         \
			unit_fail(__FILE__, __LINE__);                                             \
			fprintf(stderr,                                                            \
				"%s == %s: lengths %zu and %zu, first difference at %zu\n", #a,    \
				#b, unit_al_, unit_bl_, unit_i_);                                  \
		}                                                                                  \
	} while (0)

#define UNIT_END(name)                                                                             \
	do {                                                                                       \
		printf("%s: %d checks, %d failed\n", (name), unit_checks, unit_failed);            \
		return unit_failed != 0;                                                           \
	} while (0)

#endif
