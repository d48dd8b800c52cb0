/* smoke-backend-cuda PLUGIN.so: load only this plugin, run a small chain of
 * ops (every kind of kernel: norm, bf16 GEMM, activation, attention, softmax)
 * on random input twice, and check the shapes, finiteness, that softmax rows
 * sum to 1 and that both runs agree bit for bit. Skips without a GPU. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "cuda/cuda_test.h"
#include "vla/ops.h"

enum { S = 5, D = 24, H = 2, N = 40 };

static float rnd(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* x -> rmsnorm -> matmul(bf16 w) -> gelu -> attention(self, causal) -> softmax */
static vla_status forward(vla_ctx *c, const float *xh, const uint16_t *wh, float *result) {
    vla_tensor x, w, h, a, q, att, y;
    VLA_TRY(vla_new_from_host(c, VLA_F32, 2, (int64_t[]){S, D}, xh, &x));
    VLA_TRY(vla_new_from_host(c, VLA_BF16, 2, (int64_t[]){N, D}, wh, &w));
    VLA_TRY(vla_rmsnorm(c, &x, NULL, 1e-6f, &h));
    VLA_TRY(vla_matmul(c, &h, &w, NULL, &a));
    VLA_TRY(vla_gelu_tanh(c, &a, &h));
    VLA_TRY(vla_view_reshape(&h, 4, (int64_t[]){1, S, H, N / H}, &q));
    vla_attention_params p = {.causal = 1};
    VLA_TRY(vla_attention(c, &q, &q, &q, &p, &att));
    VLA_TRY(vla_softmax(c, &att, &y));
    if (y.ndim != 4 || y.shape[0] != 1 || y.shape[1] != S || y.shape[2] != H || y.shape[3] != N / H)
        return vla_error(VLA_ERR_SHAPE, "smoke: unexpected output shape");
    return vla_to_host(c, &y, result, sizeof(float) * S * N);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s vla-backend-cuda.so\n", argv[0]);
        return 2;
    }
    vla_backend *be = cuda_test_open(argv[1], "");
    CHECK(be != NULL);
    vla_ctx *c = NULL;
    if (be) CHECK_OK(vla_ctx_create(be, 1 << 20, &c));
    if (!c) return test_finish("smoke-backend-cuda");

    uint64_t seed = 42;
    float xh[S * D], r1[S * N], r2[S * N];
    uint16_t wh[N * D];
    for (int i = 0; i < S * D; i++) xh[i] = rnd(&seed);
    for (int i = 0; i < N * D; i++) wh[i] = vla_f32_to_bf16(rnd(&seed) * 0.3f);

    CHECK_OK(forward(c, xh, wh, r1));
    CHECK_OK(vla_ctx_reset(c));
    CHECK_OK(forward(c, xh, wh, r2));
    int finite = 1;
    for (int i = 0; i < S * N; i++) finite &= isfinite(r1[i]);
    CHECK(finite);
    CHECK(memcmp(r1, r2, sizeof r1) == 0);
    for (int r = 0; r < S * H; r++) {
        double s = 0;
        for (int d = 0; d < N / H; d++) s += r1[r * (N / H) + d];
        CHECK_MSG(fabs(s - 1.0) < 1e-5, "row %d sums to %g", r, s);
    }
    vla_ctx_destroy(c);
    vla_backend_destroy(be);
    return test_finish("smoke-backend-cuda");
}
