/*
 * unit.h — the smallest test harness that does the job.
 *
 * A test file defines TEST(name) functions and lists them in main() with
 * RUN(name). CHECK() records a failure and carries on; the summary line
 * "N passed, N failed" is what tests/unit/run-all adds up.
 */
#ifndef SG_UNIT_H
#define SG_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed, unit_failed;

#define TEST(name) static void test_##name(void)
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,         \
                    __LINE__, #cond);                                        \
            unit_failed_checks++;                                            \
        }                                                                    \
    } while (0)
#define CHECK_INT(a, b)                                                      \
    do {                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                  \
        if (a_ != b_) {                                                      \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n",          \
                    __FILE__, __LINE__, #a, a_, b_);                         \
            unit_failed_checks++;                                            \
        }                                                                    \
    } while (0)
#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                             \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n",      \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)",              \
                    b_ ? b_ : "(null)");                                     \
            unit_failed_checks++;                                            \
        }                                                                    \
    } while (0)
#define RUN(name)                                                            \
    do {                                                                     \
        int before_ = unit_failed_checks;                                    \
        test_##name();                                                       \
        if (unit_failed_checks == before_) {                                 \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "FAIL %s\n", #name);                             \
        }                                                                    \
    } while (0)
#define UNIT_DONE()                                                          \
    (printf("%d passed, %d failed\n", unit_passed, unit_failed),             \
     unit_failed ? 1 : 0)

#endif
