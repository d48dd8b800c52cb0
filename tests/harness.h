/* Minimal test harness shared by the C tests. A test binary exits 0 when all
 * checks pass, 1 when one fails, and 77 (meson's "skipped") via TEST_SKIP
 * with the reason printed as "SKIP: <reason>". */
#ifndef VLA_TEST_HARNESS_H
#define VLA_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vla/status.h"

static int test_failures = 0;
static int test_checks = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        test_checks++;                                                              \
        if (!(cond)) {                                                              \
            test_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        test_checks++;                                                         \
        if (!(cond)) {                                                         \
            test_failures++;                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* A vla call that must succeed; prints vla_last_error() if not. */
#define CHECK_OK(expr)                                                                  \
    do {                                                                                \
        test_checks++;                                                                  \
        vla_status check_s_ = (expr);                                                   \
        if (check_s_ != VLA_OK) {                                                       \
            test_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,         \
                    vla_last_error());                                                  \
        }                                                                               \
    } while (0)

/* A vla call that must fail with `code` and a message containing `needle`. */
#define CHECK_ERR(expr, code, needle)                                                       \
    do {                                                                                    \
        test_checks++;                                                                      \
        vla_clear_error();                                                                  \
        vla_status check_s_ = (expr);                                                       \
        if (check_s_ != (code) || !strstr(vla_last_error(), (needle))) {                    \
            test_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s: expected %s containing \"%s\", got %s: \"%s\"\n",   \
                    __FILE__, __LINE__, #expr, vla_status_name(code), (needle),             \
                    vla_status_name(check_s_), vla_last_error());                           \
        }                                                                                   \
    } while (0)

#define TEST_SKIP(...)                   \
    do {                                 \
        printf("SKIP: ");                \
        printf(__VA_ARGS__);             \
        printf("\n");                    \
        exit(77);                        \
    } while (0)

static inline int test_finish(const char *name) {
    if (test_failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, test_failures, test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, test_checks);
    return 0;
}

#endif
