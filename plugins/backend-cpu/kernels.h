/* Inner loops that benefit from SIMD, behind a table chosen once at
 * backend creation (backend.c): AVX2/FMA/F16C when the CPU has them, else
 * portable C. Everything above these loops (blocking, threading) is shared. */
#ifndef VLA_CPU_KERNELS_H
#define VLA_CPU_KERNELS_H

#include <stdint.h>

#include "vla/dtype.h"

/* The packed GEMM micro-tile: MR rows of x times NR columns of w^T. */
#define CPU_MR 6
#define CPU_NR 16

typedef struct cpu_kernels {
    const char *name;
    /* c[MR][NR] (row stride ldc) = (accumulate ? c : 0) + a . b over kc, where
     * a is MR rows of x (row stride lda) and b a packed [kc][NR] panel. */
    void (*gemm_tile)(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                      int accumulate);
    /* Unpacked product for few rows of x (decode, DiT tokens, attention
     * scores): for m < M and n in [n0, n1):
     *   out[m * ldo + n] = x[m, 0:K] . w[n, 0:K] (+ bias[n])
     * x rows have stride ldx, w rows (dtype wt) stride ldw, in elements. */
    void (*rows_dot)(const float *x, int64_t ldx, int64_t M, const void *w, vla_dtype wt, int64_t ldw,
                     int64_t K, int64_t n0, int64_t n1, const float *bias, float *out, int64_t ldo);
    /* Pack rows [0, rows) (rows <= NR) of w (dtype t, row stride ldw elements),
     * columns [0, kc), as a [kc][NR] f32 panel; rows past `rows` are zero. */
    void (*pack_panel)(const void *w, vla_dtype t, int64_t ldw, int rows, int64_t kc, float *dst);
    /* dst[i] = (float)src[i] for F32/BF16/F16 */
    void (*to_f32)(float *dst, const void *src, vla_dtype t, int64_t n);
    /* o[d] = sum over t < n of p[t] * v[t * ldv + d], for d < dv */
    void (*mix_rows)(float *o, const float *p, const float *v, int64_t ldv, int64_t n, int64_t dv);
} cpu_kernels;

extern const cpu_kernels cpu_kernels_generic;
#if defined(__x86_64__) || defined(__i386__)
extern const cpu_kernels cpu_kernels_avx2;
#endif

/* The portable packing, also the AVX2 kernels' fallback for edge panels. */
void cpu_pack_panel_generic(const void *w, vla_dtype t, int64_t ldw, int rows, int64_t kc, float *dst);

/* One weight element as f32. */
static inline float cpu_load_f32(const void *p, vla_dtype t, int64_t i) {
    switch (t) {
    case VLA_BF16: return vla_bf16_to_f32(((const uint16_t *)p)[i]);
    case VLA_F16: return vla_f16_to_f32(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

#endif
