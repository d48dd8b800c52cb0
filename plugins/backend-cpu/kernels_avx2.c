/* AVX2 + FMA + F16C kernels, compiled with per-function target attributes so
 * the plugin still loads on CPUs without them (kernels_generic.c picks). */
#include "kernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))
/* Fully unrolled loops over register tiles let the compiler keep the tile's
 * accumulator arrays in registers instead of spilling them every step. */
#define UNROLL _Pragma("GCC unroll 16")

/* 8 weights from p[i..i+8) as f32; t is a constant after inlining. */
AVX2_INLINE __m256 load8(const void *p, vla_dtype t, int64_t i) {
    switch (t) {
    case VLA_BF16: {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    case VLA_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
    default: return _mm256_loadu_ps((const float *)p + i);
    }
}

AVX2_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static void gemm_tile(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                           int accumulate) {
    __m256 acc[CPU_MR][2];
    const float *row[CPU_MR];
    UNROLL for (int i = 0; i < CPU_MR; i++) {
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        row[i] = a + i * lda;
    }
    for (int64_t k = 0; k < kc; k++, b += CPU_NR) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        UNROLL for (int i = 0; i < CPU_MR; i++) {
            __m256 ai = _mm256_broadcast_ss(row[i] + k);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    UNROLL for (int i = 0; i < CPU_MR; i++) {
        float *ci = c + i * ldc;
        if (accumulate) {
            acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(ci));
            acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(ci + 8));
        }
        _mm256_storeu_ps(ci, acc[i][0]);
        _mm256_storeu_ps(ci + 8, acc[i][1]);
    }
}

/* MB rows of x against NB rows of w, every product accumulated lane-wise over
 * K in the same order whatever MB and NB are, so a row's result does not
 * depend on how many rows were computed with it. */
AVX2_INLINE void dot_block(int MB, int NB, const float *x, int64_t ldx, const void *w, vla_dtype t,
                           int64_t ldw, int64_t K, const float *bias, float *out, int64_t ldo) {
    __m256 acc[4][3];
    UNROLL for (int i = 0; i < MB; i++)
        UNROLL for (int j = 0; j < NB; j++) acc[i][j] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 wv[3];
        UNROLL for (int j = 0; j < NB; j++) wv[j] = load8(w, t, j * ldw + k);
        UNROLL for (int i = 0; i < MB; i++) {
            __m256 xv = _mm256_loadu_ps(x + i * ldx + k);
            UNROLL for (int j = 0; j < NB; j++) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    UNROLL for (int i = 0; i < MB; i++)
        UNROLL for (int j = 0; j < NB; j++) {
            float s = hsum(acc[i][j]);
            for (int64_t kk = k; kk < K; kk++) s += x[i * ldx + kk] * cpu_load_f32(w, t, j * ldw + kk);
            out[i * ldo + j] = s + (bias ? bias[j] : 0.0f);
        }
}

#define DOT_CASE(mb, nb)                                                                   \
    case (mb) * 4 + (nb): dot_block(mb, nb, x, ldx, w, t, ldw, K, bias, out, ldo); break

AVX2_INLINE void dot_block_any(int mb, int nb, const float *x, int64_t ldx, const void *w, vla_dtype t,
                               int64_t ldw, int64_t K, const float *bias, float *out, int64_t ldo) {
    switch (mb * 4 + nb) {
        DOT_CASE(1, 1); DOT_CASE(1, 2); DOT_CASE(1, 3);
        DOT_CASE(2, 1); DOT_CASE(2, 2); DOT_CASE(2, 3);
        DOT_CASE(3, 1); DOT_CASE(3, 2); DOT_CASE(3, 3);
        DOT_CASE(4, 1); DOT_CASE(4, 2); DOT_CASE(4, 3);
    default: break;
    }
}

AVX2_INLINE void rows_dot_t(vla_dtype t, const float *x, int64_t ldx, int64_t M, const void *w,
                            int64_t ldw, int64_t K, int64_t n0, int64_t n1, const float *bias, float *out,
                            int64_t ldo) {
    size_t es = vla_dtype_size(t);
    for (int64_t n = n0; n < n1; n += 3) {
        int nb = n1 - n < 3 ? (int)(n1 - n) : 3;
        const void *wn = (const char *)w + (size_t)n * (size_t)ldw * es;
        for (int64_t m = 0; m < M; m += 4) {
            int mb = M - m < 4 ? (int)(M - m) : 4;
            dot_block_any(mb, nb, x + m * ldx, ldx, wn, t, ldw, K, bias ? bias + n : NULL,
                          out + m * ldo + n, ldo);
        }
    }
}

AVX2 static void rows_dot(const float *x, int64_t ldx, int64_t M, const void *w, vla_dtype wt,
                          int64_t ldw, int64_t K, int64_t n0, int64_t n1, const float *bias, float *out,
                          int64_t ldo) {
    switch (wt) {
    case VLA_BF16: rows_dot_t(VLA_BF16, x, ldx, M, w, ldw, K, n0, n1, bias, out, ldo); break;
    case VLA_F16: rows_dot_t(VLA_F16, x, ldx, M, w, ldw, K, n0, n1, bias, out, ldo); break;
    default: rows_dot_t(VLA_F32, x, ldx, M, w, ldw, K, n0, n1, bias, out, ldo); break;
    }
}

/* In place: r[i] becomes column i of the 8 x 8 block whose rows were r[0..7]. */
AVX2_INLINE void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    UNROLL for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    UNROLL for (int h = 0; h < 2; h++) {
        __m256 *th = t + 4 * h, *uh = u + 4 * h;
        uh[0] = _mm256_shuffle_ps(th[0], th[2], 0x44);
        uh[1] = _mm256_shuffle_ps(th[0], th[2], 0xee);
        uh[2] = _mm256_shuffle_ps(th[1], th[3], 0x44);
        uh[3] = _mm256_shuffle_ps(th[1], th[3], 0xee);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

AVX2_INLINE void pack_panel_t(vla_dtype t, const void *w, int64_t ldw, int64_t kc, float *dst) {
    size_t es = vla_dtype_size(t);
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8)
        UNROLL for (int h = 0; h < 2; h++) { /* rows 8h .. 8h+7 */
            __m256 r[8];
            UNROLL for (int i = 0; i < 8; i++)
                r[i] = load8((const char *)w + (size_t)((8 * h + i) * ldw) * es, t, k);
            transpose8(r);
            UNROLL for (int i = 0; i < 8; i++) _mm256_store_ps(dst + (k + i) * CPU_NR + 8 * h, r[i]);
        }
    for (; k < kc; k++)
        for (int c = 0; c < CPU_NR; c++)
            dst[k * CPU_NR + c] = cpu_load_f32((const char *)w + (size_t)(c * ldw) * es, t, k);
}

AVX2 static void pack_panel(const void *w, vla_dtype t, int64_t ldw, int rows, int64_t kc, float *dst) {
    if (rows < CPU_NR) {
        cpu_pack_panel_generic(w, t, ldw, rows, kc, dst);
        return;
    }
    switch (t) {
    case VLA_BF16: pack_panel_t(VLA_BF16, w, ldw, kc, dst); break;
    case VLA_F16: pack_panel_t(VLA_F16, w, ldw, kc, dst); break;
    default: pack_panel_t(VLA_F32, w, ldw, kc, dst); break;
    }
}

AVX2 static void to_f32(float *dst, const void *src, vla_dtype t, int64_t n) {
    int64_t i = 0;
    switch (t) {
    case VLA_BF16:
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8(src, VLA_BF16, i));
        break;
    case VLA_F16:
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8(src, VLA_F16, i));
        break;
    default: memcpy(dst, src, (size_t)n * sizeof *dst); return;
    }
    for (; i < n; i++) dst[i] = cpu_load_f32(src, t, i);
}

/* Eight accumulators (64 outputs) per pass over the rows, so every v load
 * feeds an FMA directly and o is written once. */
AVX2 static void mix_rows(float *o, const float *p, const float *v, int64_t ldv, int64_t n, int64_t dv) {
    int64_t d0 = 0;
    for (; d0 + 64 <= dv; d0 += 64) {
        __m256 acc[8];
        UNROLL for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_ps();
        for (int64_t t = 0; t < n; t++) {
            __m256 pt = _mm256_broadcast_ss(p + t);
            const float *vt = v + t * ldv + d0;
            UNROLL for (int c = 0; c < 8; c++) acc[c] = _mm256_fmadd_ps(pt, _mm256_loadu_ps(vt + 8 * c), acc[c]);
        }
        UNROLL for (int c = 0; c < 8; c++) _mm256_storeu_ps(o + d0 + 8 * c, acc[c]);
    }
    for (; d0 + 8 <= dv; d0 += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int64_t t = 0; t < n; t++)
            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(p + t), _mm256_loadu_ps(v + t * ldv + d0), acc);
        _mm256_storeu_ps(o + d0, acc);
    }
    for (; d0 < dv; d0++) {
        float acc = 0.0f;
        for (int64_t t = 0; t < n; t++) acc += p[t] * v[t * ldv + d0];
        o[d0] = acc;
    }
}

const cpu_kernels cpu_kernels_avx2 = {
    .name = "avx2",
    .gemm_tile = gemm_tile,
    .rows_dot = rows_dot,
    .pack_panel = pack_panel,
    .to_f32 = to_f32,
    .mix_rows = mix_rows,
};
#endif
