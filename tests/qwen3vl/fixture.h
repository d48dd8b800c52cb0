/* Helpers shared by the Qwen3-VL and image tests: reading golden tensors
 * from safetensors fixtures and comparing them. */
#ifndef VLA_TEST_FIXTURE_H
#define VLA_TEST_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "vla/weights.h"

/* fixtures root: $VLA_FIXTURES, else ../fixtures relative to the source tree */
static inline const char *fixtures_dir(void) {
    const char *d = getenv("VLA_FIXTURES");
    return d ? d : "tests/fixtures";
}

/* A fixture tensor converted to `dtype` in a malloc'ed buffer (NULL if absent);
 * shape/ndim returned when the pointers are non-NULL. */
static inline void *fixture_read(const vla_weights *w, const char *name, vla_dtype dtype, int64_t *shape, int *ndim) {
    const vla_weight_info *t = vla_weights_find(w, name);
    if (!t) return NULL;
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    void *buf = malloc(n * vla_dtype_size(dtype) + 1);
    if (!buf || vla_weight_read(t, dtype, buf, n * vla_dtype_size(dtype)) != VLA_OK) {
        fprintf(stderr, "fixture %s: %s\n", name, vla_last_error());
        free(buf);
        return NULL;
    }
    if (shape)
        for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
    if (ndim) *ndim = t->ndim;
    return buf;
}

/* Relative error as the tests define it: max|a - b| / max|b| over the
 * elements where mask (one flag per row of `row` elements) is set. */
static inline double rel_error(const float *a, const float *b, size_t n, size_t row, const uint8_t *mask) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask && !mask[i / row]) continue;
        double d = fabs((double)a[i] - (double)b[i]), m = fabs((double)b[i]);
        if (!(d <= num)) num = d; /* also catches NaN */
        if (m > den) den = m;
    }
    return den > 0 ? num / den : num;
}

#endif
