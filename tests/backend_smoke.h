/* The op chain every backend's smoke binary runs: rmsnorm -> bf16 matmul ->
 * GELU -> causal self-attention -> softmax on random input, twice; checks
 * the output shape, finiteness, that softmax rows sum to 1 and that both
 * runs agree bit for bit. Include after harness.h. */
#ifndef VLA_TEST_BACKEND_SMOKE_H
#define VLA_TEST_BACKEND_SMOKE_H

#include <math.h>
#include <stdint.h>

#include "vla/ops.h"

enum { SMOKE_S = 5, SMOKE_D = 24, SMOKE_H = 2, SMOKE_N = 40 };

static float smoke_rand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

static vla_status smoke_forward(vla_ctx *c, const float *xh, const uint16_t *wh, float *result) {
    vla_tensor x, w, h, a, q, att, y;
    VLA_TRY(vla_new_from_host(c, VLA_F32, 2, (int64_t[]){SMOKE_S, SMOKE_D}, xh, &x));
    VLA_TRY(vla_new_from_host(c, VLA_BF16, 2, (int64_t[]){SMOKE_N, SMOKE_D}, wh, &w));
    VLA_TRY(vla_rmsnorm(c, &x, NULL, 1e-6f, &h));
    VLA_TRY(vla_matmul(c, &h, &w, NULL, &a));
    VLA_TRY(vla_gelu_tanh(c, &a, &h));
    VLA_TRY(vla_view_reshape(&h, 4, (int64_t[]){1, SMOKE_S, SMOKE_H, SMOKE_N / SMOKE_H}, &q));
    vla_attention_params p = {.causal = 1};
    VLA_TRY(vla_attention(c, &q, &q, &q, &p, &att));
    VLA_TRY(vla_softmax(c, &att, &y));
    if (y.ndim != 4 || y.shape[0] != 1 || y.shape[1] != SMOKE_S || y.shape[2] != SMOKE_H ||
        y.shape[3] != SMOKE_N / SMOKE_H)
        return vla_error(VLA_ERR_SHAPE, "smoke: unexpected output shape");
    return vla_to_host(c, &y, result, sizeof(float) * SMOKE_S * SMOKE_N);
}

static void backend_smoke_run(vla_backend *be) {
    vla_ctx *c = NULL;
    CHECK_OK(vla_ctx_create(be, 1 << 20, &c));
    if (!c) return;
    uint64_t seed = 42;
    float xh[SMOKE_S * SMOKE_D], r1[SMOKE_S * SMOKE_N], r2[SMOKE_S * SMOKE_N];
    uint16_t wh[SMOKE_N * SMOKE_D];
    for (int i = 0; i < SMOKE_S * SMOKE_D; i++) xh[i] = smoke_rand(&seed);
    for (int i = 0; i < SMOKE_N * SMOKE_D; i++) wh[i] = vla_f32_to_bf16(smoke_rand(&seed) * 0.3f);

    CHECK_OK(smoke_forward(c, xh, wh, r1));
    CHECK_OK(vla_ctx_reset(c));
    CHECK_OK(smoke_forward(c, xh, wh, r2));
    int finite = 1;
    for (int i = 0; i < SMOKE_S * SMOKE_N; i++) finite &= isfinite(r1[i]);
    CHECK(finite);
    CHECK(memcmp(r1, r2, sizeof r1) == 0);
    for (int r = 0; r < SMOKE_S * SMOKE_H; r++) {
        double s = 0;
        for (int d = 0; d < SMOKE_N / SMOKE_H; d++) s += r1[r * (SMOKE_N / SMOKE_H) + d];
        CHECK_MSG(fabs(s - 1.0) < 1e-5, "row %d sums to %g", r, s);
    }
    vla_ctx_destroy(c);
}

#endif
