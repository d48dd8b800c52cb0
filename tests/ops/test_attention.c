/* Attention (GQA, causal with Sq != Sk, key masks, fully masked rows,
 * strided KV-cache views) and rotate-half RoPE with [S, D] and [B, S, D]
 * tables, against double references. */
#include "ops_test.h"

typedef struct attn_case {
    int64_t B, Sq, Sk, Hq, Hkv, D, Dv;
    int causal, masked; /* masked: key mask with batch 0 fully masked */
    float scale;        /* 0: the default 1/sqrt(D) */
} attn_case;

/* k and v are views [B, Sk, Hkv, *] into caches of length Sk + 3 (strided in dim 1). */
static void check_attention(vla_ctx *c, const char *label, attn_case t) {
    size_t mark = vla_ctx_mark(c);
    int64_t Sc = t.Sk + 3;
    int64_t nq = t.B * t.Sq * t.Hq * t.D, nk = t.B * Sc * t.Hkv * t.D, nv = t.B * Sc * t.Hkv * t.Dv;
    float *qh = rand_f32((size_t)nq, 2.0f), *kh = rand_f32((size_t)nk, 2.0f), *vh = rand_f32((size_t)nv, 1.0f);
    uint8_t *mh = malloc((size_t)(t.B * t.Sk));
    for (int64_t b = 0; b < t.B; b++)
        for (int64_t j = 0; j < t.Sk; j++) mh[b * t.Sk + j] = b == 0 ? 0 : (j % 3 != 1);
    vla_tensor q = up(c, VLA_F32, 4, (int64_t[]){t.B, t.Sq, t.Hq, t.D}, qh);
    vla_tensor kc = up(c, VLA_F32, 4, (int64_t[]){t.B, Sc, t.Hkv, t.D}, kh);
    vla_tensor vc = up(c, VLA_F32, 4, (int64_t[]){t.B, Sc, t.Hkv, t.Dv}, vh);
    vla_tensor mask = up(c, VLA_U8, 2, (int64_t[]){t.B, t.Sk}, mh);
    vla_tensor k, v, out;
    CHECK_OK(vla_view_slice(&kc, 1, 0, t.Sk, &k));
    CHECK_OK(vla_view_slice(&vc, 1, 0, t.Sk, &v));
    vla_attention_params p = {.scale = t.scale, .causal = t.causal, .key_mask = t.masked ? &mask : NULL};
    CHECK_OK(vla_attention(c, &q, &k, &v, &p, &out));
    CHECK(shape_is(&out, 4, (int64_t[]){t.B, t.Sq, t.Hq, t.Dv}));

    double scale = t.scale != 0 ? t.scale : 1.0 / sqrt((double)t.D);
    int64_t no = t.B * t.Sq * t.Hq * t.Dv;
    double *ref = calloc((size_t)no, sizeof *ref), *w = malloc(sizeof(double) * (size_t)t.Sk);
    for (int64_t b = 0; b < t.B; b++)
        for (int64_t i = 0; i < t.Sq; i++)
            for (int64_t h = 0; h < t.Hq; h++) {
                int64_t g = h / (t.Hq / t.Hkv);
                double mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < t.Sk; j++) {
                    int visible = (!t.causal || j <= i + (t.Sk - t.Sq)) && (!t.masked || mh[b * t.Sk + j]);
                    w[j] = -INFINITY;
                    if (!visible) continue;
                    double s = 0;
                    for (int64_t d = 0; d < t.D; d++)
                        s += (double)qh[((b * t.Sq + i) * t.Hq + h) * t.D + d] * kh[((b * Sc + j) * t.Hkv + g) * t.D + d];
                    w[j] = s * scale;
                    mx = fmax(mx, w[j]);
                }
                if (mx == -INFINITY) continue; /* no visible key: zeros */
                for (int64_t j = 0; j < t.Sk; j++) sum += w[j] == -INFINITY ? 0 : exp(w[j] - mx);
                for (int64_t j = 0; j < t.Sk; j++) {
                    if (w[j] == -INFINITY) continue;
                    double pj = exp(w[j] - mx) / sum;
                    for (int64_t d = 0; d < t.Dv; d++)
                        ref[((b * t.Sq + i) * t.Hq + h) * t.Dv + d] += pj * vh[((b * Sc + j) * t.Hkv + g) * t.Dv + d];
                }
            }
    float *got = down(c, &out);
    char what[160];
    snprintf(what, sizeof what, "attention B=%lld Sq=%lld Sk=%lld Hq=%lld Hkv=%lld D=%lld Dv=%lld causal=%d mask=%d [%s]",
             (long long)t.B, (long long)t.Sq, (long long)t.Sk, (long long)t.Hq, (long long)t.Hkv, (long long)t.D,
             (long long)t.Dv, t.causal, t.masked, label);
    /* outputs are convex combinations of |v| <= 1: absolute 2e-6 */
    CHECK(close_to(what, got, ref, (size_t)no, 2e-6, 1e-5));
    free(got);
    free(ref);
    free(w);
    free(qh);
    free(kh);
    free(vh);
    free(mh);
    vla_ctx_release(c, mark);
}

static void attention_cases(vla_ctx *c, const char *label) {
    static const attn_case cases[] = {
        /* B, Sq, Sk, Hq, Hkv, D, Dv, causal, masked, scale */
        {1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        {2, 3, 17, 4, 2, 8, 5, 1, 1, 0},       /* GQA, causal with offset 14, masks */
        {2, 17, 17, 3, 3, 16, 16, 1, 0, 0},    /* plain causal self-attention */
        {1, 17, 3, 2, 1, 17, 3, 1, 0, 0},      /* Sq > Sk: the first 14 query rows see nothing */
        {2, 5, 129, 8, 2, 32, 32, 0, 1, 0.3f}, /* explicit scale, cross-attention with mask */
        {1, 129, 129, 2, 2, 64, 64, 1, 0, 0},
        {2, 1, 257, 16, 4, 128, 128, 1, 1, 0}, /* one decode step against a long cache */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_attention(c, label, cases[i]);
}

static void check_rope(vla_ctx *c, const char *label, int64_t B, int64_t S, int64_t H, int64_t D, int per_batch) {
    size_t mark = vla_ctx_mark(c);
    int64_t nt = (per_batch ? B : 1) * S * D;
    float *xh = rand_f32((size_t)(B * S * H * D), 2.0f), *ch = rand_f32((size_t)nt, 1.0f), *sh = rand_f32((size_t)nt, 1.0f);
    vla_tensor x = up(c, VLA_F32, 4, (int64_t[]){B, S, H, D}, xh), cs, sn, out;
    if (per_batch) {
        cs = up(c, VLA_F32, 3, (int64_t[]){B, S, D}, ch);
        sn = up(c, VLA_F32, 3, (int64_t[]){B, S, D}, sh);
    } else {
        cs = up(c, VLA_F32, 2, (int64_t[]){S, D}, ch);
        sn = up(c, VLA_F32, 2, (int64_t[]){S, D}, sh);
    }
    CHECK_OK(vla_rope(c, &x, &cs, &sn, &out));
    CHECK(shape_is(&out, 4, (int64_t[]){B, S, H, D}));
    double *ref = malloc(sizeof(double) * (size_t)(B * S * H * D));
    int64_t half = D / 2;
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s < S; s++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t d = 0; d < D; d++) {
                    const float *xr = xh + ((b * S + s) * H + h) * D;
                    int64_t ti = ((per_batch ? b * S : 0) + s) * D + d;
                    double rot = d < half ? -(double)xr[d + half] : (double)xr[d - half];
                    ref[((b * S + s) * H + h) * D + d] = xr[d] * (double)ch[ti] + rot * sh[ti];
                }
    float *got = down(c, &out);
    char what[96];
    snprintf(what, sizeof what, "rope [%lld, %lld, %lld, %lld] %s table [%s]", (long long)B, (long long)S,
             (long long)H, (long long)D, per_batch ? "[B, S, D]" : "[S, D]", label);
    /* two products and a sum in f32 */
    CHECK(close_to(what, got, ref, (size_t)(B * S * H * D), 1e-6, 1e-6));
    free(got);
    free(ref);
    free(xh);
    free(ch);
    free(sh);
    vla_ctx_release(c, mark);
}

static void rope_cases(vla_ctx *c, const char *label) {
    for (int pb = 0; pb < 2; pb++) {
        check_rope(c, label, 1, 1, 1, 2, pb);
        check_rope(c, label, 2, 3, 4, 8, pb);
        check_rope(c, label, 3, 17, 2, 128, pb);
        check_rope(c, label, 1, 129, 3, 34, pb);
        check_rope(c, label, 2, 129, 4, 64, pb); /* large enough to run on several threads */
    }
}

static void run(vla_ctx *c, const char *label) {
    attention_cases(c, label);
    rope_cases(c, label);
}

int main(int argc, char **argv) { return ops_test_main(argc, argv, "test_attention", run); }
