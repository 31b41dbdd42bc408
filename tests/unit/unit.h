/*
 * unit.h -- the smallest test harness that does the job.
 *
 * A unit test program is a list of TEST functions run from main() with
 * RUN(name).  Each CHECK that fails prints where and what; every test
 * prints one TAP-like line, "ok - name" or "not ok - name", which
 * tests/run.sh counts.  The program exits non-zero if any test failed.
 */
#ifndef MEKONG_TESTS_UNIT_H
#define MEKONG_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_tests;
static int unit_current_failed;

#define TEST(name) static void name(void)

#define RUN(name)                                                                   \
    do {                                                                            \
        unit_current_failed = 0;                                                    \
        name();                                                                     \
        printf("%s - %s\n", unit_current_failed ? "not ok" : "ok", #name);          \
        if (unit_current_failed)                                                    \
            unit_failed_tests++;                                                    \
        fflush(stdout);                                                             \
    } while (0)

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);       \
            unit_current_failed = 1;                                                \
        }                                                                           \
    } while (0)

#define CHECK_INT_EQ(got, want)                                                     \
    do {                                                                            \
        long long g_ = (long long)(got), w_ = (long long)(want);                    \
        if (g_ != w_) {                                                             \
            printf("# %s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__,      \
                   #got, g_, w_);                                                   \
            unit_current_failed = 1;                                                \
        }                                                                           \
    } while (0)

#define CHECK_STR_EQ(got, want)                                                     \
    do {                                                                            \
        const char *g_ = (got), *w_ = (want);                                       \
        if (!g_ || !w_ || strcmp(g_, w_) != 0) {                                    \
            printf("# %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__,  \
                   #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                   \
            unit_current_failed = 1;                                                \
        }                                                                           \
    } while (0)

/* Compare len bytes; for byte strings that may hold NULs. */
#define CHECK_MEM_EQ(got, got_len, want, want_len)                                  \
    do {                                                                            \
        size_t gl_ = (got_len), wl_ = (want_len);                                   \
        if (gl_ != wl_ || memcmp((got), (want), gl_) != 0) {                        \
            printf("# %s:%d: %s (%zu bytes) differs from %s (%zu bytes)\n",         \
                   __FILE__, __LINE__, #got, gl_, #want, wl_);                      \
            unit_current_failed = 1;                                                \
        }                                                                           \
    } while (0)

#define UNIT_EXIT() return unit_failed_tests ? 1 : 0

#endif
