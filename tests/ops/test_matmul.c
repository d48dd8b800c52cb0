/* vla_matmul against a double-accumulated reference, for f32/bf16/f16
 * weights, with and without bias, over odd shapes that hit both the
 * unpacked few-rows path and the blocked path with partial tiles and
 * several K slices. */
#include "ops_test.h"

/* Weight values as the backend sees them: rounded to the weight dtype. */
static void make_weights(vla_dtype t, size_t n, float *exact, void *stored) {
    for (size_t i = 0; i < n; i++) {
        float v = urand();
        if (t == VLA_BF16) {
            ((uint16_t *)stored)[i] = vla_f32_to_bf16(v);
            exact[i] = vla_bf16_to_f32(((uint16_t *)stored)[i]);
        } else if (t == VLA_F16) {
            ((uint16_t *)stored)[i] = vla_f32_to_f16(v);
            exact[i] = vla_f16_to_f32(((uint16_t *)stored)[i]);
        } else {
            ((float *)stored)[i] = exact[i] = v;
        }
    }
}

/* x [lead..., K] with lead = {M} or {2, M/2}. */
static void check_matmul(vla_ctx *c, const char *label, int64_t M, int64_t K, int64_t N, vla_dtype wt,
                         int with_bias, int split_lead) {
    size_t mark = vla_ctx_mark(c);
    float *xh = rand_f32((size_t)(M * K), 1.0f), *we = malloc(sizeof(float) * (size_t)(N * K + 1));
    void *ws = malloc(vla_dtype_size(wt) * (size_t)(N * K + 1));
    float *bh = rand_f32((size_t)N, 1.0f);
    make_weights(wt, (size_t)(N * K), we, ws);

    int64_t xshape2[2] = {M, K}, xshape3[3] = {2, M / 2, K};
    int nd = split_lead ? 3 : 2;
    vla_tensor x = up(c, VLA_F32, nd, split_lead ? xshape3 : xshape2, xh);
    vla_tensor w = up(c, wt, 2, (int64_t[]){N, K}, ws);
    vla_tensor b = up(c, VLA_F32, 1, (int64_t[]){N}, bh);
    vla_tensor out;
    memset(&out, 0, sizeof out);
    CHECK_OK(vla_matmul(c, &x, &w, with_bias ? &b : NULL, &out));
    int64_t oshape2[2] = {M, N}, oshape3[3] = {2, M / 2, N};
    CHECK(shape_is(&out, nd, split_lead ? oshape3 : oshape2));

    double *ref = malloc(sizeof(double) * (size_t)(M * N + 1));
    double *tol = malloc(sizeof(double) * (size_t)(M * N + 1));
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double s = with_bias ? bh[n] : 0.0, mag = with_bias ? fabs(bh[n]) : 0.0;
            for (int64_t k = 0; k < K; k++) {
                s += (double)xh[m * K + k] * we[n * K + k];
                mag += fabs((double)xh[m * K + k] * we[n * K + k]);
            }
            ref[m * N + n] = s;
            /* f32 accumulation: error well below 1e-5 of the sum of |terms| */
            tol[m * N + n] = 1e-5 * mag + 1e-6;
        }
    float *got = down(c, &out);
    char what[160];
    snprintf(what, sizeof what, "matmul M=%lld K=%lld N=%lld w=%s bias=%d [%s]", (long long)M,
             (long long)K, (long long)N, vla_dtype_name(wt), with_bias, label);
    int ok = 1;
    for (int64_t i = 0; i < M * N && ok; i++) {
        if (!(fabs(got[i] - ref[i]) <= tol[i])) {
            fprintf(stderr, "%s: element %lld: got %.9g, expected %.9g (tol %.3g)\n", what, (long long)i,
                    (double)got[i], ref[i], tol[i]);
            ok = 0;
        }
    }
    CHECK_MSG(ok, "%s", what);

    /* run-to-run determinism */
    vla_tensor again;
    CHECK_OK(vla_matmul(c, &x, &w, with_bias ? &b : NULL, &again));
    float *got2 = down(c, &again);
    CHECK_MSG(memcmp(got, got2, sizeof(float) * (size_t)(M * N)) == 0, "%s: not deterministic", what);

    free(got2);
    free(got);
    free(ref);
    free(tol);
    free(xh);
    free(we);
    free(ws);
    free(bh);
    vla_ctx_release(c, mark);
}

static void run(vla_ctx *c, const char *label) {
    static const int64_t shapes[][3] = {
        /* M, K, N */
        {1, 1, 1},     {1, 17, 3},    {3, 17, 5},     {1, 129, 257},  {4, 300, 17},
        {8, 129, 129}, {9, 17, 33},   {17, 129, 3},   {16, 257, 300}, {129, 17, 129},
        {257, 300, 129}, {100, 513, 260}, {6, 256, 16}, {7, 1, 19},
    };
    static const vla_dtype dtypes[] = {VLA_F32, VLA_BF16, VLA_F16};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t d = 0; d < 3; d++)
            for (int bias = 0; bias < 2; bias++)
                check_matmul(c, label, shapes[s][0], shapes[s][1], shapes[s][2], dtypes[d], bias, 0);
    /* leading batch dims on x */
    check_matmul(c, label, 34, 129, 17, VLA_BF16, 1, 1);
    check_matmul(c, label, 2, 33, 9, VLA_F32, 0, 1);

    /* a strided x (a transposed view) is made contiguous by the dispatcher */
    float *xh = rand_f32(17 * 5, 1.0f), *wh = rand_f32(3 * 17, 1.0f);
    vla_tensor xt = up(c, VLA_F32, 2, (int64_t[]){17, 5}, xh), x, w = up(c, VLA_F32, 2, (int64_t[]){3, 17}, wh), out;
    CHECK_OK(vla_view_transpose(&xt, 0, 1, &x));
    CHECK_OK(vla_matmul(c, &x, &w, NULL, &out));
    float *got = down(c, &out);
    double ref[15];
    for (int m = 0; m < 5; m++)
        for (int n = 0; n < 3; n++) {
            double s = 0;
            for (int k = 0; k < 17; k++) s += (double)xh[k * 5 + m] * wh[n * 17 + k];
            ref[m * 3 + n] = s;
        }
    CHECK(close_to("matmul strided x", got, ref, 15, 1e-5, 1e-5));
    free(got);
    free(xh);
    free(wh);
}

int main(int argc, char **argv) { return ops_test_main(argc, argv, "test_matmul", run); }
