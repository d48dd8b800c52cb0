/* Helpers for the weights tests: fixture paths and expected.json, written by
 * tools/weights_fixtures.py from PyTorch's own view of every tensor. */
#ifndef VLA_WEIGHTS_TEST_H
#define VLA_WEIGHTS_TEST_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "vla/weights.h"

static inline const char *fixture(const char *rel) {
    static char buf[8][4096];
    static int next;
    const char *root = getenv("VLA_FIXTURES");
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/weights/%s", root ? root : "tests/fixtures", rel);
    return p;
}

static inline char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    if (len) *len = (size_t)n;
    fclose(f);
    return s;
}

static inline cJSON *load_expected(void) {
    char *text = slurp(fixture("expected.json"), NULL);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", fixture("expected.json"));
        exit(1);
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) {
        fprintf(stderr, "expected.json does not parse\n");
        exit(1);
    }
    return root;
}

/* Compare one tensor of `w` with its expected.json description. */
static inline void check_tensor(const vla_weights *w, const char *file, const cJSON *e) {
    const char *name = e->string;
    const vla_weight_info *t = vla_weights_find(w, name);
    CHECK_MSG(t != NULL, "%s: tensor '%s' not found", file, name);
    if (!t) return;
    const char *dtype = cJSON_GetObjectItem(e, "dtype")->valuestring;
    CHECK_MSG(strcmp(vla_dtype_name(t->dtype), dtype) == 0, "%s: '%s' dtype %s, expected %s", file, name,
              vla_dtype_name(t->dtype), dtype);
    const cJSON *shape = cJSON_GetObjectItem(e, "shape"), *stride = cJSON_GetObjectItem(e, "stride");
    CHECK_MSG(t->ndim == cJSON_GetArraySize(shape), "%s: '%s' ndim %d", file, name, t->ndim);
    if (t->ndim != cJSON_GetArraySize(shape)) return;
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        int64_t want = (int64_t)cJSON_GetArrayItem(shape, d)->valuedouble;
        CHECK_MSG(t->shape[d] == want, "%s: '%s' shape[%d] = %lld, expected %lld", file, name, d,
                  (long long)t->shape[d], (long long)want);
        int64_t want_stride = (int64_t)cJSON_GetArrayItem(stride, d)->valuedouble;
        CHECK_MSG(t->shape[d] <= 1 || t->stride[d] == want_stride, "%s: '%s' stride[%d] = %lld, expected %lld", file,
                  name, d, (long long)t->stride[d], (long long)want_stride);
        numel *= t->shape[d];
    }
    const cJSON *values = cJSON_GetObjectItem(e, "values");
    CHECK_MSG(cJSON_GetArraySize(values) == numel, "%s: '%s' has %lld values, expected.json %d", file, name,
              (long long)numel, cJSON_GetArraySize(values));
    double *got = malloc(((size_t)numel + 1) * sizeof *got);
    CHECK_OK(vla_weight_read(t, VLA_F64, got, (size_t)numel * sizeof *got));
    int64_t i = 0, bad = 0;
    for (const cJSON *v = values->child; v && i < numel; v = v->next, i++)
        if (got[i] != v->valuedouble && bad++ < 3)
            fprintf(stderr, "%s: '%s'[%lld] = %.9g, PyTorch wrote %.9g\n", file, name, (long long)i, got[i],
                    v->valuedouble);
    CHECK_MSG(bad == 0, "%s: '%s': %lld values differ", file, name, (long long)bad);
    free(got);
}

/* Open `file` and compare every tensor listed for it in expected.json; the
 * file must hold exactly those tensors. */
static inline void check_file(const cJSON *expected, const char *file) {
    const cJSON *tensors = cJSON_GetObjectItem(cJSON_GetObjectItem(expected, "files"), file);
    CHECK_MSG(tensors != NULL, "expected.json has no entry for %s", file);
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture(file), NULL, NULL, &w));
    if (!w || !tensors) {
        vla_weights_close(w);
        return;
    }
    CHECK_MSG(vla_weights_count(w) == (size_t)cJSON_GetArraySize(tensors), "%s: %zu tensors, expected %d", file,
              vla_weights_count(w), cJSON_GetArraySize(tensors));
    for (const cJSON *e = tensors->child; e; e = e->next) check_tensor(w, file, e);
    vla_weights_close(w);
}

#endif
