/* RMSNorm, LayerNorm (with and without affine) and softmax over the last
 * dim, against double references. */
#include "ops_test.h"

static const int64_t shapes[][2] = {{1, 1}, {3, 17}, {1, 129}, {17, 3}, {257, 300}, {2, 1000}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static void rmsnorm_cases(vla_ctx *c, const char *label) {
    for (size_t si = 0; si < N_SHAPES; si++)
        for (int with_w = 0; with_w < 2; with_w++) {
            size_t mark = vla_ctx_mark(c);
            int64_t R = shapes[si][0], D = shapes[si][1];
            float *xh = rand_f32((size_t)(R * D), 3.0f), *wh = rand_f32((size_t)D, 2.0f);
            vla_tensor x = up(c, VLA_F32, 2, (int64_t[]){R, D}, xh), w = up(c, VLA_F32, 1, &D, wh), out;
            const float eps = with_w ? 1e-6f : 1e-2f; /* a large eps shows if it is applied */
            CHECK_OK(vla_rmsnorm(c, &x, with_w ? &w : NULL, eps, &out));
            CHECK(shape_is(&out, 2, (int64_t[]){R, D}));
            double *ref = malloc(sizeof(double) * (size_t)(R * D));
            for (int64_t r = 0; r < R; r++) {
                double ss = 0;
                for (int64_t d = 0; d < D; d++) ss += (double)xh[r * D + d] * xh[r * D + d];
                double inv = 1.0 / sqrt(ss / (double)D + eps);
                for (int64_t d = 0; d < D; d++) ref[r * D + d] = xh[r * D + d] * inv * (with_w ? wh[d] : 1.0);
            }
            float *got = down(c, &out);
            char what[96];
            snprintf(what, sizeof what, "rmsnorm [%lld, %lld] w=%d [%s]", (long long)R, (long long)D, with_w,
                     label);
            /* statistics in double, a few f32 roundings per element */
            CHECK(close_to(what, got, ref, (size_t)(R * D), 1e-6, 1e-5));
            free(got);
            free(ref);
            free(xh);
            free(wh);
            vla_ctx_release(c, mark);
        }
}

static void layernorm_cases(vla_ctx *c, const char *label) {
    for (size_t si = 0; si < N_SHAPES; si++)
        for (int affine = 0; affine < 4; affine++) { /* bit 0: weight, bit 1: bias */
            size_t mark = vla_ctx_mark(c);
            int64_t R = shapes[si][0], D = shapes[si][1];
            float *xh = rand_f32((size_t)(R * D), 3.0f), *wh = rand_f32((size_t)D, 2.0f),
                  *bh = rand_f32((size_t)D, 1.0f);
            for (int64_t i = 0; i < R * D; i++) xh[i] += 5.0f; /* a mean far from 0 */
            vla_tensor x = up(c, VLA_F32, 2, (int64_t[]){R, D}, xh), w = up(c, VLA_F32, 1, &D, wh),
                       b = up(c, VLA_F32, 1, &D, bh), out;
            const float eps = 1e-5f;
            CHECK_OK(vla_layernorm(c, &x, (affine & 1) ? &w : NULL, (affine & 2) ? &b : NULL, eps, &out));
            double *ref = malloc(sizeof(double) * (size_t)(R * D));
            for (int64_t r = 0; r < R; r++) {
                double mean = 0, var = 0;
                for (int64_t d = 0; d < D; d++) mean += xh[r * D + d];
                mean /= (double)D;
                for (int64_t d = 0; d < D; d++) var += (xh[r * D + d] - mean) * (xh[r * D + d] - mean);
                var /= (double)D;
                for (int64_t d = 0; d < D; d++) {
                    double v = (xh[r * D + d] - mean) / sqrt(var + eps);
                    if (affine & 1) v *= wh[d];
                    if (affine & 2) v += bh[d];
                    ref[r * D + d] = v;
                }
            }
            float *got = down(c, &out);
            char what[96];
            snprintf(what, sizeof what, "layernorm [%lld, %lld] affine=%d [%s]", (long long)R, (long long)D,
                     affine, label);
            /* the f32 input minus the mean loses up to ~1e-6 relative to |x| ~ 8 */
            CHECK(close_to(what, got, ref, (size_t)(R * D), 1e-5, 1e-5));
            free(got);
            free(ref);
            free(xh);
            free(wh);
            free(bh);
            vla_ctx_release(c, mark);
        }
}

static void softmax_cases(vla_ctx *c, const char *label) {
    for (size_t si = 0; si < N_SHAPES; si++) {
        size_t mark = vla_ctx_mark(c);
        int64_t R = shapes[si][0], D = shapes[si][1];
        float *xh = rand_f32((size_t)(R * D), 30.0f);
        xh[0] = 500.0f; /* overflows exp without the max shift */
        if (R * D > 2) xh[1] = -INFINITY;
        vla_tensor x = up(c, VLA_F32, 2, (int64_t[]){R, D}, xh), out;
        CHECK_OK(vla_softmax(c, &x, &out));
        double *ref = malloc(sizeof(double) * (size_t)(R * D));
        for (int64_t r = 0; r < R; r++) {
            double mx = -INFINITY, s = 0;
            for (int64_t d = 0; d < D; d++) mx = fmax(mx, xh[r * D + d]);
            for (int64_t d = 0; d < D; d++) s += exp(xh[r * D + d] - mx);
            for (int64_t d = 0; d < D; d++) ref[r * D + d] = exp(xh[r * D + d] - mx) / s;
        }
        float *got = down(c, &out);
        char what[96];
        snprintf(what, sizeof what, "softmax [%lld, %lld] [%s]", (long long)R, (long long)D, label);
        /* probabilities: absolute 1e-7, relative 1e-5 (expf) */
        CHECK(close_to(what, got, ref, (size_t)(R * D), 1e-7, 1e-5));
        free(got);
        free(ref);
        free(xh);
        vla_ctx_release(c, mark);
    }
    /* a row of only -inf (fully masked) gives zeros */
    float xh[3] = {-INFINITY, -INFINITY, -INFINITY};
    double ref[3] = {0, 0, 0};
    vla_tensor x = up(c, VLA_F32, 2, (int64_t[]){1, 3}, xh), out;
    CHECK_OK(vla_softmax(c, &x, &out));
    float *got = down(c, &out);
    CHECK(close_to("softmax of a fully masked row", got, ref, 3, 0.0, 0.0));
    free(got);
}

static void run(vla_ctx *c, const char *label) {
    rmsnorm_cases(c, label);
    layernorm_cases(c, label);
    softmax_cases(c, label);
}

int main(int argc, char **argv) { return ops_test_main(argc, argv, "test_norm", run); }
