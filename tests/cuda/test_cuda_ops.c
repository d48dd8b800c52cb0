/* Every op of the CUDA backend against the CPU backend (the reference) on
 * the same random inputs, with odd shapes, every weight dtype and both GEMM
 * paths (cuBLASLt and the fallback kernel), plus the CUDA backend's own
 * memory contract (caching allocator, staging copies, usage figures).
 *
 * argv: CPU_PLUGIN CUDA_PLUGIN. Without a GPU (or the CUDA libraries) it
 * prints SKIP and exits 77 after the checks that need no GPU (config
 * validation).
 *
 * Tolerances (|gpu - cpu| <= atol + rtol |cpu| unless stated):
 * - add/sub/mul, get_rows, copy/cast: exact (bitwise; NaNs only need to be NaNs).
 * - scale, modulate, rope: atol 1e-6, rtol 1e-6 (one or two roundings; FMA contraction).
 * - silu/gelu/sigmoid/relu: atol 1e-6, rtol 1e-5 (libm vs CUDA transcendentals, <= 2 ulp).
 * - rmsnorm/layernorm/softmax: atol 1e-6, rtol 1e-5 (double sums on both; f32 scale).
 * - attention: atol 1e-5, rtol 1e-5 (f32; online vs two-pass softmax).
 * - matmul, with bound = sum_k |x_k w_k| (+ |bias|) per output:
 *     f32 weights: |gpu - cpu| <= 1e-5 bound + 1e-6 (exact fp32 GEMM, no TF32);
 *     bf16/f16 weights: the GPU rounds x to bf16/f16 first (as bf16 inference does), so
 *       against the CPU (f32 x): <= 2^-8 bound (bf16) / 2^-10 bound (f16), twice the worst case;
 *       against a double reference that rounds x the same way: <= 3e-5 bound + 1e-6. */
#include <math.h>
#include <stddef.h>

#include "cuda/cuda_test.h"
#include "ops/ops_test.h"

typedef struct duo {
    vla_ctx *cpu, *gpu;
    const char *label; /* GPU configuration */
} duo;

static void up2(duo *d, vla_dtype t, int nd, const int64_t *shape, const void *host, vla_tensor *xc,
                vla_tensor *xg) {
    *xc = up(d->cpu, t, nd, shape, host);
    *xg = up(d->gpu, t, nd, shape, host);
}

/* Download both F32 results and compare them. */
static int agree(duo *d, const char *what, const vla_tensor *g, const vla_tensor *c, double atol, double rtol) {
    if (!vla_tensor_same_shape(g, c)) {
        fprintf(stderr, "%s [%s]: shapes differ\n", what, d->label);
        return 0;
    }
    size_t n = (size_t)vla_tensor_numel(c);
    float *gh = down(d->gpu, g), *ch = down(d->cpu, c);
    double *ref = malloc((n ? n : 1) * sizeof *ref);
    for (size_t i = 0; i < n; i++) ref[i] = ch[i];
    char full[256];
    snprintf(full, sizeof full, "%s [%s]", what, d->label);
    int ok = close_to(full, gh, ref, n, atol, rtol);
    free(gh);
    free(ch);
    free(ref);
    return ok;
}

/* Bytes of two results of any dtype; float NaNs only need to be NaN on both sides. */
static int same_bytes(vla_dtype t, const void *a, const void *b, size_t n, size_t *bad) {
    size_t es = vla_dtype_size(t);
    for (size_t i = 0; i < n; i++) {
        const char *pa = (const char *)a + i * es, *pb = (const char *)b + i * es;
        if (memcmp(pa, pb, es) == 0) continue;
        if (t == VLA_F32 || t == VLA_BF16 || t == VLA_F16) {
            float fa, fb;
            vla_convert(&fa, VLA_F32, pa, t, 1);
            vla_convert(&fb, VLA_F32, pb, t, 1);
            if (isnan(fa) && isnan(fb)) continue;
        }
        *bad = i;
        return 0;
    }
    return 1;
}

/* Download both results (any dtype, any strides) and require identical bytes. */
static void check_exact(duo *d, const char *what, const vla_tensor *g, const vla_tensor *c) {
    size_t n = (size_t)vla_tensor_numel(c), bytes = n * vla_dtype_size(c->dtype), bad = 0;
    char *gh = calloc(1, bytes + 1), *ch = calloc(1, bytes + 1);
    CHECK(g->dtype == c->dtype && vla_tensor_same_shape(g, c));
    CHECK_OK(vla_to_host(d->gpu, g, gh, bytes));
    CHECK_OK(vla_to_host(d->cpu, c, ch, bytes));
    CHECK_MSG(same_bytes(c->dtype, gh, ch, n, &bad), "%s [%s]: element %zu differs", what, d->label, bad);
    free(gh);
    free(ch);
}

static void release(duo *d, size_t mc, size_t mg) {
    vla_ctx_release(d->cpu, mc);
    vla_ctx_release(d->gpu, mg);
}

/* ---- matmul ------------------------------------------------------------------------------ */

static void store_weight(vla_dtype t, void *p, size_t i, float v) {
    if (t == VLA_F32) ((float *)p)[i] = v;
    else ((uint16_t *)p)[i] = t == VLA_BF16 ? vla_f32_to_bf16(v) : vla_f32_to_f16(v);
}

static float weight_at(vla_dtype t, const void *p, size_t i) {
    float f;
    vla_convert(&f, VLA_F32, (const char *)p + i * vla_dtype_size(t), t, 1);
    return f;
}

/* x [B, M, K] . w[N, K]^T + bias; w and bias are views starting `off` rows /
 * elements into larger buffers, so their device pointers are misaligned when off > 0. */
static void matmul_case(duo *d, vla_dtype wt, int64_t B, int64_t M, int64_t N, int64_t K, int with_bias, int off) {
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    int64_t rows = B * M;
    float *xh = rand_f32((size_t)(rows * K), 1.0f), *bh = rand_f32((size_t)(N + off), 0.5f);
    void *wh = malloc((size_t)((N + off) * K + 1) * vla_dtype_size(wt));
    for (int64_t i = 0; i < (N + off) * K; i++) store_weight(wt, wh, (size_t)i, urand() * 0.5f);
    vla_tensor xc, xg, wc_full, wg_full, bc_full, bg_full, wc, wg, bc, bg, oc, og;
    up2(d, VLA_F32, 3, (int64_t[]){B, M, K}, xh, &xc, &xg);
    up2(d, wt, 2, (int64_t[]){N + off, K}, wh, &wc_full, &wg_full);
    up2(d, VLA_F32, 1, (int64_t[]){N + off}, bh, &bc_full, &bg_full);
    CHECK_OK(vla_view_slice(&wc_full, 0, off, N, &wc));
    CHECK_OK(vla_view_slice(&wg_full, 0, off, N, &wg));
    CHECK_OK(vla_view_slice(&bc_full, 0, off, N, &bc));
    CHECK_OK(vla_view_slice(&bg_full, 0, off, N, &bg));
    CHECK_OK(vla_matmul(d->cpu, &xc, &wc, with_bias ? &bc : NULL, &oc));
    CHECK_OK(vla_matmul(d->gpu, &xg, &wg, with_bias ? &bg : NULL, &og));
    CHECK(shape_is(&og, 3, (int64_t[]){B, M, N}));

    float *gh = down(d->gpu, &og), *ch = down(d->cpu, &oc);
    double tol_cpu = wt == VLA_F32 ? 1e-5 : wt == VLA_BF16 ? 1.0 / 256 : 1.0 / 1024;
    double tol_ref = wt == VLA_F32 ? 1e-5 : 3e-5;
    int bad_cpu = -1, bad_ref = -1;
    double got_cpu = 0, want_ref = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t n = 0; n < N; n++) {
            double ref = with_bias ? bh[off + n] : 0.0, bound = with_bias ? fabs(bh[off + n]) : 0.0;
            for (int64_t k = 0; k < K; k++) {
                float xv = xh[r * K + k], xr = xv;
                if (wt == VLA_BF16) xr = vla_bf16_to_f32(vla_f32_to_bf16(xv));
                if (wt == VLA_F16) xr = vla_f16_to_f32(vla_f32_to_f16(xv));
                double wv = weight_at(wt, wh, (size_t)((off + n) * K + k));
                ref += (double)xr * wv;
                bound += fabs((double)xv * wv);
            }
            size_t i = (size_t)(r * N + n);
            if (bad_cpu < 0 && !(fabs((double)gh[i] - ch[i]) <= tol_cpu * bound + 1e-6)) {
                bad_cpu = (int)i;
                got_cpu = ch[i];
            }
            if (bad_ref < 0 && !(fabs((double)gh[i] - ref) <= tol_ref * bound + 1e-6)) {
                bad_ref = (int)i;
                want_ref = ref;
            }
        }
    char what[160];
    snprintf(what, sizeof what, "matmul %s x[%lld, %lld, %lld] w[%lld, %lld]%s off %d [%s]", vla_dtype_name(wt),
             (long long)B, (long long)M, (long long)K, (long long)N, (long long)K, with_bias ? " + bias" : "", off,
             d->label);
    CHECK_MSG(bad_cpu < 0, "%s: element %d: gpu %.9g, cpu %.9g", what, bad_cpu, bad_cpu < 0 ? 0.0 : gh[bad_cpu],
              got_cpu);
    CHECK_MSG(bad_ref < 0, "%s: element %d: gpu %.9g, rounded-x reference %.9g", what, bad_ref,
              bad_ref < 0 ? 0.0 : gh[bad_ref], want_ref);
    free(gh);
    free(ch);
    free(xh);
    free(bh);
    free(wh);
    release(d, mc, mg);
}

static void matmul_cases(duo *d) {
    static const int64_t shapes[][4] = {
        /* B, M, N, K */
        {1, 1, 1, 1},     {1, 1, 3, 17},     {1, 3, 17, 3},   {2, 17, 1, 129},  {1, 129, 257, 17},
        {1, 17, 129, 257}, {3, 7, 64, 256},  {1, 64, 512, 1024}, {1, 1, 1000, 1024}, {1, 257, 129, 129},
    };
    static const vla_dtype types[] = {VLA_F32, VLA_BF16, VLA_F16};
    for (size_t t = 0; t < 3; t++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            const int64_t *s = shapes[i];
            matmul_case(d, types[t], s[0], s[1], s[2], s[3], (int)(i % 2), 0);
            matmul_case(d, types[t], s[0], s[1], s[2], s[3], 1, (int)(i % 3 == 0 ? 1 : 0));
        }
    matmul_case(d, VLA_BF16, 1, 3, 5, 0, 1, 0); /* K = 0: the bias alone */
}

/* ---- elementwise ---------------------------------------------------------------------------- */

static void binary_case(duo *d, int nda, const int64_t *sa, int ndb, const int64_t *sb, int transpose_a) {
    static vla_status (*const fns[3])(vla_ctx *, const vla_tensor *, const vla_tensor *, vla_tensor *) = {
        vla_add, vla_sub, vla_mul};
    static const char *const names[3] = {"add", "sub", "mul"};
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    int64_t na = 1, nb = 1;
    for (int i = 0; i < nda; i++) na *= sa[i];
    for (int i = 0; i < ndb; i++) nb *= sb[i];
    float *ah = rand_f32((size_t)na, 3.0f), *bh = rand_f32((size_t)nb, 3.0f);
    vla_tensor ac, ag, bc, bg, oc, og;
    up2(d, VLA_F32, nda, sa, ah, &ac, &ag);
    up2(d, VLA_F32, ndb, sb, bh, &bc, &bg);
    if (transpose_a) {
        vla_tensor t;
        CHECK_OK(vla_view_transpose(&ac, 0, nda - 1, &t));
        ac = t;
        CHECK_OK(vla_view_transpose(&ag, 0, nda - 1, &t));
        ag = t;
    }
    for (int op = 0; op < 3; op++) {
        CHECK_OK(fns[op](d->cpu, &ac, &bc, &oc));
        CHECK_OK(fns[op](d->gpu, &ag, &bg, &og));
        char what[64];
        snprintf(what, sizeof what, "%s (%d-d by %d-d%s)", names[op], nda, ndb, transpose_a ? ", a transposed" : "");
        CHECK(agree(d, what, &og, &oc, 0.0, 0.0));
    }
    if (!transpose_a) { /* in place into a copy of a, when b broadcasts to a */
        int fits = ndb <= nda;
        for (int i = 0; fits && i < ndb; i++) fits = sb[ndb - 1 - i] == 1 || sb[ndb - 1 - i] == sa[nda - 1 - i];
        if (fits) {
            vla_tensor cc, cg;
            CHECK_OK(vla_contiguous(d->cpu, &ac, &cc));
            CHECK_OK(vla_contiguous(d->gpu, &ag, &cg));
            CHECK_OK(vla_add_inplace(d->cpu, &cc, &bc));
            CHECK_OK(vla_add_inplace(d->gpu, &cg, &bg));
            CHECK(agree(d, "add_inplace", &cg, &cc, 0.0, 0.0));
        }
    }
    free(ah);
    free(bh);
    release(d, mc, mg);
}

static void binary_cases(duo *d) {
    binary_case(d, 1, (int64_t[]){17}, 1, (int64_t[]){17}, 0);
    binary_case(d, 2, (int64_t[]){3, 17}, 1, (int64_t[]){17}, 0);
    binary_case(d, 3, (int64_t[]){3, 17, 5}, 2, (int64_t[]){17, 1}, 0);
    binary_case(d, 3, (int64_t[]){2, 1, 129}, 3, (int64_t[]){1, 3, 1}, 0);
    binary_case(d, 1, (int64_t[]){1}, 2, (int64_t[]){4, 257}, 0);
    binary_case(d, 3, (int64_t[]){5, 1, 3}, 1, (int64_t[]){1}, 0);
    binary_case(d, 2, (int64_t[]){129, 257}, 2, (int64_t[]){129, 1}, 0);
    binary_case(d, 2, (int64_t[]){129, 257}, 2, (int64_t[]){257, 129}, 1);
    binary_case(d, 8, (int64_t[]){2, 1, 2, 1, 2, 1, 2, 3}, 8, (int64_t[]){1, 2, 1, 2, 1, 2, 1, 3}, 0);
}

static void unary_cases(duo *d) {
    static vla_status (*const fns[])(vla_ctx *, const vla_tensor *, vla_tensor *) = {
        vla_silu, vla_gelu_tanh, vla_gelu_erf, vla_relu, vla_sigmoid};
    static const char *const names[] = {"silu", "gelu_tanh", "gelu_erf", "relu", "sigmoid"};
    static const float specials[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 30.0f, -30.0f, 100.0f, -100.0f, 0.5f, -0.5f};
    static const int64_t sizes[] = {1, 3, 17, 129 * 257};
    for (size_t si = 0; si < 4; si++) {
        size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
        int64_t n = sizes[si];
        float *xh = rand_f32((size_t)n, 8.0f);
        for (int64_t i = 0; i < n && i < 10; i++) xh[i] = specials[i];
        vla_tensor xc, xg, oc, og;
        up2(d, VLA_F32, 1, &n, xh, &xc, &xg);
        for (size_t f = 0; f < 5; f++) {
            CHECK_OK(fns[f](d->cpu, &xc, &oc));
            CHECK_OK(fns[f](d->gpu, &xg, &og));
            char what[64];
            snprintf(what, sizeof what, "%s n=%lld", names[f], (long long)n);
            CHECK(agree(d, what, &og, &oc, 1e-6, 1e-5));
        }
        CHECK_OK(vla_scale(d->cpu, &xc, 1.7f, -0.3f, &oc));
        CHECK_OK(vla_scale(d->gpu, &xg, 1.7f, -0.3f, &og));
        CHECK(agree(d, "scale", &og, &oc, 1e-6, 1e-6));
        free(xh);
        release(d, mc, mg);
    }
}

static void modulate_case(duo *d, int64_t B, int64_t S, int64_t D) {
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    float *xh = rand_f32((size_t)(B * S * D), 2.0f), *sch = rand_f32((size_t)(B * D), 1.0f),
          *shh = rand_f32((size_t)(B * D), 1.0f);
    vla_tensor xc, xg, sc, sg, hc, hg, oc, og;
    up2(d, VLA_F32, 3, (int64_t[]){B, S, D}, xh, &xc, &xg);
    up2(d, VLA_F32, 2, (int64_t[]){B, D}, sch, &sc, &sg);
    up2(d, VLA_F32, 2, (int64_t[]){B, D}, shh, &hc, &hg);
    CHECK_OK(vla_modulate(d->cpu, &xc, &sc, &hc, &oc));
    CHECK_OK(vla_modulate(d->gpu, &xg, &sg, &hg, &og));
    char what[64];
    snprintf(what, sizeof what, "modulate [%lld, %lld, %lld]", (long long)B, (long long)S, (long long)D);
    CHECK(agree(d, what, &og, &oc, 1e-6, 1e-6));
    free(xh);
    free(sch);
    free(shh);
    release(d, mc, mg);
}

static void rope_case(duo *d, int64_t B, int64_t S, int64_t H, int64_t D, int per_batch) {
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    int64_t nt = (per_batch ? B : 1) * S * D;
    float *xh = rand_f32((size_t)(B * S * H * D), 2.0f), *ch = rand_f32((size_t)nt, 1.0f),
          *sh = rand_f32((size_t)nt, 1.0f);
    vla_tensor xc, xg, cc, cg, sc, sg, oc, og;
    up2(d, VLA_F32, 4, (int64_t[]){B, S, H, D}, xh, &xc, &xg);
    int nd = per_batch ? 3 : 2;
    const int64_t *ts = per_batch ? (int64_t[]){B, S, D} : (int64_t[]){S, D};
    up2(d, VLA_F32, nd, ts, ch, &cc, &cg);
    up2(d, VLA_F32, nd, ts, sh, &sc, &sg);
    CHECK_OK(vla_rope(d->cpu, &xc, &cc, &sc, &oc));
    CHECK_OK(vla_rope(d->gpu, &xg, &cg, &sg, &og));
    char what[80];
    snprintf(what, sizeof what, "rope [%lld, %lld, %lld, %lld] %s", (long long)B, (long long)S, (long long)H,
             (long long)D, per_batch ? "[B, S, D]" : "[S, D]");
    CHECK(agree(d, what, &og, &oc, 1e-6, 1e-6));
    free(xh);
    free(ch);
    free(sh);
    release(d, mc, mg);
}

static void elementwise_cases(duo *d) {
    binary_cases(d);
    unary_cases(d);
    modulate_case(d, 1, 1, 1);
    modulate_case(d, 2, 17, 129);
    modulate_case(d, 3, 5, 257);
    for (int pb = 0; pb < 2; pb++) {
        rope_case(d, 1, 1, 1, 2, pb);
        rope_case(d, 2, 3, 4, 8, pb);
        rope_case(d, 3, 17, 2, 128, pb);
        rope_case(d, 1, 129, 3, 34, pb);
    }
}

/* ---- rows ---------------------------------------------------------------------------------- */

/* x ~ scale * (U(-3, 3) + 0.7); a small scale makes eps matter */
static void norm_case(duo *d, int nd, const int64_t *shape, float scale) {
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    int64_t n = 1, D = shape[nd - 1];
    for (int i = 0; i < nd; i++) n *= shape[i];
    float *xh = rand_f32((size_t)n, 3.0f * scale), *wh = rand_f32((size_t)D, 1.5f), *bh = rand_f32((size_t)D, 1.0f);
    for (int64_t i = 0; i < n; i++) xh[i] += 0.7f * scale; /* a non-zero mean for layernorm */
    vla_tensor xc, xg, wc, wg, bc, bg, oc, og;
    up2(d, VLA_F32, nd, shape, xh, &xc, &xg);
    up2(d, VLA_F32, 1, &D, wh, &wc, &wg);
    up2(d, VLA_F32, 1, &D, bh, &bc, &bg);
    char what[96];
    for (int affine = 0; affine < 2; affine++) {
        CHECK_OK(vla_rmsnorm(d->cpu, &xc, affine ? &wc : NULL, 1e-6f, &oc));
        CHECK_OK(vla_rmsnorm(d->gpu, &xg, affine ? &wg : NULL, 1e-6f, &og));
        snprintf(what, sizeof what, "rmsnorm rows of %lld%s, x scale %g", (long long)D, affine ? " with w" : "",
                 (double)scale);
        CHECK(agree(d, what, &og, &oc, 1e-6, 1e-5));
    }
    for (int mode = 0; mode < 4; mode++) { /* none, w, b, w + b */
        const vla_tensor *w1 = mode & 1 ? &wc : NULL, *b1 = mode & 2 ? &bc : NULL;
        const vla_tensor *w2 = mode & 1 ? &wg : NULL, *b2 = mode & 2 ? &bg : NULL;
        CHECK_OK(vla_layernorm(d->cpu, &xc, w1, b1, 1e-5f, &oc));
        CHECK_OK(vla_layernorm(d->gpu, &xg, w2, b2, 1e-5f, &og));
        snprintf(what, sizeof what, "layernorm rows of %lld affine mode %d, x scale %g", (long long)D, mode,
                 (double)scale);
        CHECK(agree(d, what, &og, &oc, 1e-6, 1e-5));
    }
    free(xh);
    free(wh);
    free(bh);
    release(d, mc, mg);
}

static void softmax_case(duo *d, int64_t R, int64_t D) {
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    float *xh = rand_f32((size_t)(R * D), 10.0f);
    for (int64_t i = 0; i < R * D; i += 3) xh[i] = -INFINITY; /* masked entries */
    if (R > 1)
        for (int64_t j = 0; j < D; j++) xh[D + j] = -INFINITY; /* row 1 fully masked */
    vla_tensor xc, xg, oc, og;
    up2(d, VLA_F32, 2, (int64_t[]){R, D}, xh, &xc, &xg);
    CHECK_OK(vla_softmax(d->cpu, &xc, &oc));
    CHECK_OK(vla_softmax(d->gpu, &xg, &og));
    char what[64];
    snprintf(what, sizeof what, "softmax [%lld, %lld]", (long long)R, (long long)D);
    CHECK(agree(d, what, &og, &oc, 1e-7, 1e-5));
    if (R > 1) {
        float *gh = down(d->gpu, &og);
        int zeros = 1;
        for (int64_t j = 0; j < D; j++) zeros &= gh[D + j] == 0.0f;
        CHECK_MSG(zeros, "%s: a fully masked row must be zeros [%s]", what, d->label);
        free(gh);
    }
    free(xh);
    release(d, mc, mg);
}

static void get_rows_case(duo *d, vla_dtype tt, vla_dtype it) {
    enum { ROWS = 37, D = 129 };
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    void *th = malloc((size_t)ROWS * D * vla_dtype_size(tt));
    for (int i = 0; i < ROWS * D; i++) store_weight(tt, th, (size_t)i, urand() * 4.0f);
    int64_t ids[6] = {0, 36, 5, 5, 17, 1};
    int32_t ids32[6];
    for (int i = 0; i < 6; i++) ids32[i] = (int32_t)ids[i];
    vla_tensor tc, tg, ic, ig, oc, og;
    up2(d, tt, 2, (int64_t[]){ROWS, D}, th, &tc, &tg);
    up2(d, it, 2, (int64_t[]){2, 3}, it == VLA_I64 ? (const void *)ids : (const void *)ids32, &ic, &ig);
    CHECK_OK(vla_get_rows(d->cpu, &tc, &ic, &oc));
    CHECK_OK(vla_get_rows(d->gpu, &tg, &ig, &og));
    char what[64];
    snprintf(what, sizeof what, "get_rows %s table, %s ids", vla_dtype_name(tt), vla_dtype_name(it));
    check_exact(d, what, &og, &oc);
    free(th);
    release(d, mc, mg);
}

static void rows_cases(duo *d) {
    norm_case(d, 1, (int64_t[]){1}, 1.0f);
    norm_case(d, 2, (int64_t[]){3, 17}, 1.0f);
    norm_case(d, 2, (int64_t[]){5, 129}, 1.0f);
    norm_case(d, 3, (int64_t[]){2, 3, 257}, 1.0f);
    norm_case(d, 2, (int64_t[]){4, 2560}, 1.0f);
    norm_case(d, 2, (int64_t[]){2, 9728}, 1.0f);
    norm_case(d, 2, (int64_t[]){3, 129}, 1e-3f); /* mean square ~ eps */
    softmax_case(d, 1, 1);
    softmax_case(d, 3, 17);
    softmax_case(d, 5, 129);
    softmax_case(d, 6, 257);
    softmax_case(d, 2, 2000);
    static const vla_dtype tts[] = {VLA_F32, VLA_BF16, VLA_F16};
    for (int t = 0; t < 3; t++) {
        get_rows_case(d, tts[t], VLA_I32);
        get_rows_case(d, tts[t], VLA_I64);
    }
}

/* ---- copy ------------------------------------------------------------------------------------ */

static const vla_dtype all_types[] = {VLA_F32, VLA_BF16, VLA_F16, VLA_I32, VLA_I64, VLA_U8, VLA_BOOL};
enum { N_SPECIAL = 24 };

/* Values that probe every conversion rule: rounding ties, overflow to inf,
 * f16 subnormals, NaN, out-of-range float -> int, int wrap-around, 2^24 + 1. */
static void special_values(vla_dtype t, void *p) {
    static const float f[N_SPECIAL] = {0.0f, -0.0f, 1.5f, -2.5f, 3e9f, -3e9f, 1e20f, NAN, INFINITY, -INFINITY,
                                       300.7f, -5.5f, 65520.0f, 1e-7f, 0.3333333f, 16777217.0f, 255.5f, 256.0f,
                                       -1.0f, 2.0f, 1.00390625f, -65504.0f, 1e-40f, 7.0f};
    static const int64_t n[N_SPECIAL] = {0, -1, 2147483647, -2147483647 - 1, 300, -5, 16777217, 9007199254740993,
                                         INT64_MIN, INT64_MAX, 4294967303, 255, 256, -256, 1, 2,
                                         65520, -65536, 123456789, 7, 100000, -100000, 3, 0};
    for (int i = 0; i < N_SPECIAL; i++) {
        switch (t) {
        case VLA_F32: ((float *)p)[i] = f[i]; break;
        case VLA_BF16: ((uint16_t *)p)[i] = vla_f32_to_bf16(f[i]); break;
        case VLA_F16: ((uint16_t *)p)[i] = vla_f32_to_f16(f[i]); break;
        case VLA_I32: ((int32_t *)p)[i] = (int32_t)n[i]; break;
        case VLA_I64: ((int64_t *)p)[i] = n[i]; break;
        case VLA_U8: ((uint8_t *)p)[i] = (uint8_t)n[i]; break;
        case VLA_BOOL: ((uint8_t *)p)[i] = (uint8_t)(i % 3); break; /* 2: any nonzero byte is true */
        default: break;
        }
    }
}

static void cast_cases(duo *d) {
    for (int s = 0; s < 7; s++)
        for (int t = 0; t < 7; t++) {
            size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
            uint64_t buf[N_SPECIAL];
            special_values(all_types[s], buf);
            vla_tensor xc, xg, oc, og;
            int64_t n = N_SPECIAL;
            up2(d, all_types[s], 1, &n, buf, &xc, &xg);
            CHECK_OK(vla_cast(d->cpu, &xc, all_types[t], &oc));
            CHECK_OK(vla_cast(d->gpu, &xg, all_types[t], &og));
            char what[64];
            snprintf(what, sizeof what, "cast %s -> %s", vla_dtype_name(all_types[s]), vla_dtype_name(all_types[t]));
            check_exact(d, what, &og, &oc);
            release(d, mc, mg);
        }
}

/* Strided sources (permuted, sliced, broadcast with stride 0) and strided
 * destinations (concat), for every dtype, some with a conversion. */
static void strided_cases(duo *d) {
    for (int s = 0; s < 7; s++) {
        vla_dtype st = all_types[s], dt = all_types[(s + 1) % 7];
        size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
        enum { A = 2, B = 3, C = 17, E = 5 };
        uint64_t buf[A * B * C * E], tmp[N_SPECIAL];
        size_t es = vla_dtype_size(st);
        special_values(st, tmp);
        for (int i = 0; i < A * B * C * E; i++)
            memcpy((char *)buf + (size_t)i * es, (char *)tmp + (size_t)((i * 7) % N_SPECIAL) * es, es);
        vla_tensor xc, xg, vc, vg, oc, og;
        up2(d, st, 4, (int64_t[]){A, B, C, E}, buf, &xc, &xg);
        const int perm[4] = {3, 1, 0, 2};
        CHECK_OK(vla_permute(d->cpu, &xc, perm, &oc));
        CHECK_OK(vla_permute(d->gpu, &xg, perm, &og));
        check_exact(d, "permute", &og, &oc);

        CHECK_OK(vla_view_slice(&xc, 2, 3, 11, &vc));
        CHECK_OK(vla_view_slice(&xg, 2, 3, 11, &vg));
        CHECK_OK(vla_cast(d->cpu, &vc, dt, &oc));
        CHECK_OK(vla_cast(d->gpu, &vg, dt, &og));
        check_exact(d, "slice + cast", &og, &oc);

        vc = xc; /* broadcast: dim 1 repeated with stride 0 */
        vg = xg;
        vc.stride[1] = vg.stride[1] = 0;
        CHECK_OK(vla_contiguous(d->cpu, &vc, &oc));
        CHECK_OK(vla_contiguous(d->gpu, &vg, &og));
        check_exact(d, "broadcast (stride 0)", &og, &oc);

        const vla_tensor *parts_c[2] = {&xc, &xc}, *parts_g[2] = {&xg, &xg};
        CHECK_OK(vla_concat(d->cpu, parts_c, 2, 2, &oc));
        CHECK_OK(vla_concat(d->gpu, parts_g, 2, 2, &og));
        check_exact(d, "concat (strided destination)", &og, &oc);
        release(d, mc, mg);
    }
}

/* ---- attention ------------------------------------------------------------------------------- */

typedef struct attn_case {
    int64_t B, Sq, Sk, Hq, Hkv, D, Dv;
    int causal, masked;
    float scale;
} attn_case;

static void attention_case(duo *d, attn_case t) {
    size_t mc = vla_ctx_mark(d->cpu), mg = vla_ctx_mark(d->gpu);
    int64_t Sc = t.Sk + 3; /* k and v are views into longer caches */
    float *qh = rand_f32((size_t)(t.B * t.Sq * t.Hq * t.D), 2.0f);
    float *kh = rand_f32((size_t)(t.B * Sc * t.Hkv * t.D), 2.0f);
    float *vh = rand_f32((size_t)(t.B * Sc * t.Hkv * t.Dv), 1.0f);
    uint8_t *mh = malloc((size_t)(t.B * t.Sk) + 1);
    for (int64_t b = 0; b < t.B; b++)
        for (int64_t j = 0; j < t.Sk; j++) mh[b * t.Sk + j] = t.B > 1 && b == 0 ? 0 : (j % 3 != 1);
    vla_tensor qc, qg, kcc, kcg, vcc, vcg, mc_, mg_, kc, kg, vc, vg, oc, og;
    up2(d, VLA_F32, 4, (int64_t[]){t.B, t.Sq, t.Hq, t.D}, qh, &qc, &qg);
    up2(d, VLA_F32, 4, (int64_t[]){t.B, Sc, t.Hkv, t.D}, kh, &kcc, &kcg);
    up2(d, VLA_F32, 4, (int64_t[]){t.B, Sc, t.Hkv, t.Dv}, vh, &vcc, &vcg);
    up2(d, VLA_U8, 2, (int64_t[]){t.B, t.Sk}, mh, &mc_, &mg_);
    CHECK_OK(vla_view_slice(&kcc, 1, 1, t.Sk, &kc));
    CHECK_OK(vla_view_slice(&kcg, 1, 1, t.Sk, &kg));
    CHECK_OK(vla_view_slice(&vcc, 1, 2, t.Sk, &vc));
    CHECK_OK(vla_view_slice(&vcg, 1, 2, t.Sk, &vg));
    vla_attention_params pc = {.scale = t.scale, .causal = t.causal, .key_mask = t.masked ? &mc_ : NULL};
    vla_attention_params pg = {.scale = t.scale, .causal = t.causal, .key_mask = t.masked ? &mg_ : NULL};
    CHECK_OK(vla_attention(d->cpu, &qc, &kc, &vc, &pc, &oc));
    CHECK_OK(vla_attention(d->gpu, &qg, &kg, &vg, &pg, &og));
    char what[128];
    snprintf(what, sizeof what, "attention B=%lld Sq=%lld Sk=%lld Hq=%lld Hkv=%lld D=%lld Dv=%lld causal=%d mask=%d",
             (long long)t.B, (long long)t.Sq, (long long)t.Sk, (long long)t.Hq, (long long)t.Hkv, (long long)t.D,
             (long long)t.Dv, t.causal, t.masked);
    CHECK(agree(d, what, &og, &oc, 1e-5, 1e-5));
    free(qh);
    free(kh);
    free(vh);
    free(mh);
    release(d, mc, mg);
}

static void attention_cases(duo *d) {
    static const attn_case cases[] = {
        /* B, Sq, Sk, Hq, Hkv, D, Dv, causal, masked, scale */
        {1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        {2, 3, 17, 4, 2, 8, 5, 1, 1, 0},         /* GQA, causal offset 14, masks (batch 0 fully masked) */
        {2, 17, 17, 3, 3, 16, 16, 1, 0, 0},
        {1, 17, 3, 2, 1, 17, 3, 1, 0, 0},        /* Sq > Sk: the first 14 rows see nothing -> zeros */
        {2, 5, 129, 8, 2, 32, 32, 0, 1, 0.3f},
        {1, 129, 129, 2, 2, 64, 64, 1, 0, 0},
        {2, 1, 257, 16, 4, 128, 128, 1, 1, 0},   /* a decode step against a long cache */
        {1, 400, 400, 16, 2, 128, 128, 1, 0, 0}, /* prefill-sized */
        {2, 48, 300, 8, 8, 64, 64, 0, 1, 0},     /* DiT queries over the VLM sequence */
        {1, 33, 97, 4, 1, 72, 72, 0, 0, 0},      /* head dim 72 (vision tower), one tile + 1 row */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) attention_case(d, cases[i]);

    /* head dims beyond the shared memory of any GPU: a clear error, no launch */
    size_t mg = vla_ctx_mark(d->gpu);
    vla_tensor q;
    CHECK_OK(vla_new_zeros(d->gpu, VLA_F32, 4, (int64_t[]){1, 1, 1, 8192}, &q));
    vla_tensor o;
    CHECK_ERR(vla_attention(d->gpu, &q, &q, &q, NULL, &o), VLA_ERR_UNSUPPORTED, "attention: head dims");
    vla_ctx_release(d->gpu, mg);
}

/* ---- memory ------------------------------------------------------------------------------------- */

static void memory_cases(vla_backend *be, const char *label) {
    size_t in_use = 0, peak = 0, again = 0;
    CHECK(be->vt->memory_usage != NULL);
    if (!be->vt->memory_usage) return;
    CHECK_OK(be->vt->memory_usage(be->state, &in_use, &peak));
    CHECK_MSG(in_use > 0 && peak >= in_use, "memory_usage %zu / peak %zu [%s]", in_use, peak, label);

    /* the caching allocator hands a freed block back without a new cudaMalloc */
    void *p1 = NULL, *p2 = NULL;
    CHECK_OK(vla_backend_alloc(be, 3u << 20, &p1));
    CHECK_OK(be->vt->memory_usage(be->state, &in_use, &peak));
    vla_backend_free(be, p1);
    CHECK_OK(vla_backend_alloc(be, (3u << 20) - 100, &p2));
    CHECK_OK(be->vt->memory_usage(be->state, &again, &peak));
    CHECK_MSG(again == in_use, "a freed block was not reused: %zu then %zu bytes held [%s]", in_use, again, label);

    /* host <-> device round trip larger than the staging buffers, at a misaligned address */
    size_t n = (20u << 20) + 3;
    unsigned char *h = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++) h[i] = (unsigned char)(i * 2654435761u >> 13);
    void *dev = NULL;
    CHECK_OK(vla_backend_alloc(be, n + 3, &dev));
    if (dev) {
        CHECK_OK(vla_backend_write(be, (char *)dev + 3, h, n));
        memset(back, 0, n);
        CHECK_OK(vla_backend_read(be, back, (char *)dev + 3, n));
        CHECK_MSG(memcmp(h, back, n) == 0, "staged round trip of %zu bytes differs [%s]", n, label);
    }
    vla_backend_free(be, dev);
    vla_backend_free(be, p2);
    free(h);
    free(back);
}

/* The same calls on a fresh context reach a steady state: no new device memory. */
static vla_status steady_call(vla_ctx *c, const float *xh, const uint16_t *wh) {
    vla_tensor x, w, y, q, a;
    VLA_TRY(vla_new_from_host(c, VLA_F32, 2, (int64_t[]){256, 512}, xh, &x));
    VLA_TRY(vla_new_from_host(c, VLA_BF16, 2, (int64_t[]){1024, 512}, wh, &w));
    VLA_TRY(vla_matmul(c, &x, &w, NULL, &y));
    VLA_TRY(vla_view_reshape(&y, 4, (int64_t[]){1, 256, 8, 128}, &q));
    VLA_TRY(vla_attention(c, &q, &q, &q, NULL, &a));
    return vla_backend_synchronize(vla_ctx_backend(c));
}

static void steady_state_case(vla_backend *be, const char *label) {
    vla_ctx *c = NULL;
    size_t held[3] = {0}, peak = 0;
    float *xh = rand_f32(256 * 512, 1.0f);
    uint16_t *wh = malloc(sizeof *wh * 1024 * 512);
    for (int i = 0; i < 1024 * 512; i++) wh[i] = vla_f32_to_bf16(urand() * 0.1f);
    CHECK_OK(vla_ctx_create(be, 1 << 20, &c)); /* smaller than one call: the arena must grow */
    for (int i = 0; c && i < 3; i++) {
        CHECK_OK(vla_ctx_reset(c));
        CHECK_OK(steady_call(c, xh, wh));
        CHECK_OK(be->vt->memory_usage(be->state, &held[i], &peak));
    }
    CHECK_MSG(held[1] == held[2], "device memory grew from %zu to %zu bytes in the steady state [%s]", held[1],
              held[2], label);
    vla_ctx_destroy(c);
    free(xh);
    free(wh);
}

/* ---- main -------------------------------------------------------------------------------------- */

static void config_errors(const char *cuda_path) {
    const vla_plugin_desc *desc = cuda_test_load(cuda_path);
    CHECK(desc != NULL);
    if (!desc) return;
    static const char *const bad[][2] = {
        {"gemm: fast\n", "backend.gemm"},
        {"staging_mb: 0\n", "backend.staging_mb"},
        {"workspace_mb: -1\n", "backend.workspace_mb"},
        {"device: -2\n", "backend.device"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vla_config *cfg = NULL;
        vla_backend *be = NULL;
        CHECK_OK(vla_config_parse(bad[i][0], strlen(bad[i][0]), "test", &cfg));
        CHECK_ERR(vla_backend_create(desc->vtable, desc->name, cfg, &be), VLA_ERR_INVALID_ARG, bad[i][1]);
        vla_config_free(cfg);
    }
}

static vla_backend *open_cpu(const char *path) {
    const vla_plugin_desc *desc = NULL;
    vla_config *cfg = NULL;
    vla_backend *be = NULL;
    CHECK_OK(vla_plugin_load_file(path, &desc));
    CHECK_OK(vla_config_parse("threads: 2\n", 11, "test", &cfg));
    if (desc && cfg) CHECK_OK(vla_backend_create(desc->vtable, desc->name, cfg, &be));
    vla_config_free(cfg);
    return be;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CPU_PLUGIN CUDA_PLUGIN\n", argv[0]);
        return 2;
    }
    vla_backend *cpu_be = open_cpu(argv[1]);
    config_errors(argv[2]);
    vla_backend *gpu_be = cuda_test_open(argv[2], "");
    vla_backend *simt_be = cuda_test_open(argv[2], "gemm: simt\nstaging_mb: 1\n");
    vla_ctx *cpu = NULL, *gpu = NULL, *simt = NULL;
    CHECK(cpu_be && gpu_be && simt_be);
    if (cpu_be) CHECK_OK(vla_ctx_create(cpu_be, 1 << 24, &cpu));
    if (gpu_be) CHECK_OK(vla_ctx_create(gpu_be, 1 << 24, &gpu));
    if (simt_be) CHECK_OK(vla_ctx_create(simt_be, 1 << 24, &simt));
    if (cpu && gpu && simt) {
        duo lt = {cpu, gpu, "cuda"}, fb = {cpu, simt, "cuda, gemm: simt"};
        matmul_cases(&lt);
        matmul_cases(&fb);
        elementwise_cases(&lt);
        rows_cases(&lt);
        cast_cases(&lt);
        strided_cases(&lt);
        attention_cases(&lt);
        memory_cases(gpu_be, lt.label);
        memory_cases(simt_be, fb.label);
        steady_state_case(gpu_be, lt.label);
    }
    vla_ctx_destroy(simt);
    vla_ctx_destroy(gpu);
    vla_ctx_destroy(cpu);
    vla_backend_destroy(simt_be);
    vla_backend_destroy(gpu_be);
    vla_backend_destroy(cpu_be);
    return test_finish("test_cuda_ops");
}
