/* Shared scaffolding of the op tests: open the CPU backend through the
 * registry (plugin directory passed by meson as argv[1]), run a test body
 * once per backend configuration (SIMD kernels with 2 threads, portable
 * kernels with 3 threads), and compare results against references computed
 * plainly in double by the test itself. */
#ifndef VLA_OPS_TEST_H
#define VLA_OPS_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vla/ops.h"
#include "vla/registry.h"

static uint64_t ops_rng_state = 0x9e3779b97f4a7c15ull;

/* uniform in [-1, 1) */
static inline float urand(void) {
    ops_rng_state = ops_rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((ops_rng_state >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

static inline float *rand_f32(size_t n, float scale) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = urand() * scale;
    return p;
}

/* Upload host data as a new arena tensor (contiguous). */
static inline vla_tensor up(vla_ctx *c, vla_dtype t, int nd, const int64_t *shape, const void *host) {
    vla_tensor x;
    memset(&x, 0, sizeof x);
    CHECK_OK(vla_new_from_host(c, t, nd, shape, host, &x));
    return x;
}

/* Download an F32 tensor (any strides) into a malloc'd array. */
static inline float *down(vla_ctx *c, const vla_tensor *t) {
    size_t n = (size_t)vla_tensor_numel(t);
    float *p = calloc(n ? n : 1, sizeof *p);
    CHECK_OK(vla_to_host(c, t, p, n * sizeof *p));
    return p;
}

/* |got - ref| <= atol + rtol * |ref| everywhere (NaN never passes); prints
 * the first offender. */
static inline int close_to(const char *what, const float *got, const double *ref, size_t n, double atol,
                           double rtol) {
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - ref[i]);
        if (!(err <= atol + rtol * fabs(ref[i]))) {
            fprintf(stderr, "%s: element %zu: got %.9g, expected %.9g (atol %g, rtol %g)\n", what, i,
                    (double)got[i], ref[i], atol, rtol);
            return 0;
        }
    }
    return 1;
}

static inline int shape_is(const vla_tensor *t, int nd, const int64_t *shape) {
    if (t->ndim != nd) return 0;
    for (int i = 0; i < nd; i++)
        if (t->shape[i] != shape[i]) return 0;
    return 1;
}

typedef void (*ops_test_fn)(vla_ctx *c, const char *label);

/* Run `fn` on each backend configuration; returns the process exit code. */
static inline int ops_test_main(int argc, char **argv, const char *name, ops_test_fn fn) {
    static const char *const configs[][2] = {
        {"simd, 2 threads", "threads: 2\n"},
        {"portable, 3 threads", "threads: 3\nsimd: false\n"},
    };
    if (argc < 2) {
        fprintf(stderr, "usage: %s PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    const char *dirs[1] = {argv[1]};
    vla_registry *reg = NULL;
    CHECK_OK(vla_registry_open_dirs(dirs, 1, &reg));
    if (!reg) return test_finish(name);
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        vla_config *cfg = NULL;
        vla_backend *be = NULL;
        vla_ctx *c = NULL;
        CHECK_OK(vla_config_parse(configs[i][1], strlen(configs[i][1]), "test", &cfg));
        CHECK_OK(vla_registry_open_backend(reg, "cpu", cfg, &be));
        if (be) CHECK_OK(vla_ctx_create(be, 1 << 20, &c));
        if (c) {
            int before = test_failures;
            fn(c, configs[i][0]);
            if (test_failures != before) fprintf(stderr, "  (failures above: backend %s)\n", configs[i][0]);
        }
        vla_ctx_destroy(c);
        vla_backend_destroy(be);
        vla_config_free(cfg);
    }
    vla_registry_close(reg);
    return test_finish(name);
}

#endif
