/* Portable kernels: plain loops the compiler can vectorise for any target. */
#include "kernels.h"

static void gemm_tile(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                      int accumulate) {
    float acc[CPU_MR][CPU_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++, b += CPU_NR)
        for (int i = 0; i < CPU_MR; i++)
            for (int j = 0; j < CPU_NR; j++) acc[i][j] += a[i * lda + k] * b[j];
    for (int i = 0; i < CPU_MR; i++)
        for (int j = 0; j < CPU_NR; j++) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + acc[i][j];
}

static void to_f32(float *dst, const void *src, vla_dtype t, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = cpu_load_f32(src, t, i);
}

void cpu_pack_panel_generic(const void *w, vla_dtype t, int64_t ldw, int rows, int64_t kc, float *dst) {
    size_t es = vla_dtype_size(t);
    for (int c = 0; c < CPU_NR; c++) {
        const char *src = (const char *)w + (size_t)c * (size_t)ldw * es;
        for (int64_t k = 0; k < kc; k++) dst[k * CPU_NR + c] = c < rows ? cpu_load_f32(src, t, k) : 0.0f;
    }
}

static float dot(const float *a, const float *b, int64_t n) {
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) s[l] += a[i + l] * b[i + l];
    float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) r += a[i] * b[i];
    return r;
}

static void mix_rows(float *o, const float *p, const float *v, int64_t ldv, int64_t n, int64_t dv) {
    for (int64_t d = 0; d < dv; d++) o[d] = 0.0f;
    for (int64_t t = 0; t < n; t++)
        for (int64_t d = 0; d < dv; d++) o[d] += p[t] * v[t * ldv + d];
}

static void rows_dot(const float *x, int64_t ldx, int64_t M, const void *w, vla_dtype wt, int64_t ldw,
                     int64_t K, int64_t n0, int64_t n1, const float *bias, float *out, int64_t ldo) {
    float row[256];
    for (int64_t n = n0; n < n1; n++) {
        const char *wrow = (const char *)w + (size_t)n * (size_t)ldw * vla_dtype_size(wt);
        float acc[16];
        for (int64_t m0 = 0; m0 < M; m0 += 16) {
            int64_t mb = M - m0 < 16 ? M - m0 : 16;
            for (int64_t m = 0; m < mb; m++) acc[m] = 0.0f;
            for (int64_t k0 = 0; k0 < K; k0 += 256) {
                int64_t kb = K - k0 < 256 ? K - k0 : 256;
                to_f32(row, wrow + (size_t)k0 * vla_dtype_size(wt), wt, kb);
                for (int64_t m = 0; m < mb; m++) acc[m] += dot(x + (m0 + m) * ldx + k0, row, kb);
            }
            for (int64_t m = 0; m < mb; m++) out[(m0 + m) * ldo + n] = acc[m] + (bias ? bias[n] : 0.0f);
        }
    }
}

const cpu_kernels cpu_kernels_generic = {
    .name = "generic",
    .gemm_tile = gemm_tile,
    .rows_dot = rows_dot,
    .pack_panel = cpu_pack_panel_generic,
    .to_f32 = to_f32,
    .mix_rows = mix_rows,
};
