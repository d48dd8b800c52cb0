/* out[M, N] = x[M, K] . w[N, K]^T (+ bias). Two paths:
 * - few rows (decode, DiT tokens): stream w once, no packing (rows_dot);
 * - otherwise a blocked GEMM: a task owns NC output columns of one stripe
 *   of rows; per KC slice it packs its w rows once into NR-column panels
 *   (converting bf16/f16 to f32, the slice stays in L2), then walks the
 *   stripe MR rows at a time (read in place, they stay in L1) running the
 *   MR x NR register-tile kernel against each panel. */
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

#define MC 96   /* granularity of row stripes; multiple of CPU_MR */
#define NC 256  /* multiple of CPU_NR */
#define KC 256
#define SMALL_M 5      /* up to this many rows, do not pack (measured crossover) */
#define ROWS_GRAIN 24  /* w rows per rows_dot task (multiple of 3) */

typedef struct gemm_job {
    cpu_state *st;
    const float *x, *bias;
    const void *w;
    vla_dtype wt;
    float *out;
    int64_t M, N, K, n_tiles_n, stripe_m, rows_per_task;
} gemm_job;

vla_status cpu_gemm_buffers_alloc(cpu_state *st) {
    st->edge_rows = calloc((size_t)st->n_threads, sizeof *st->edge_rows);
    st->pack_b = calloc((size_t)st->n_threads, sizeof *st->pack_b);
    if (!st->edge_rows || !st->pack_b) return vla_error(VLA_ERR_OOM, "cpu backend: out of memory");
    for (int t = 0; t < st->n_threads; t++) {
        st->edge_rows[t] = aligned_alloc(64, sizeof(float) * CPU_MR * KC);
        st->pack_b[t] = aligned_alloc(64, sizeof(float) * NC * KC);
        if (!st->edge_rows[t] || !st->pack_b[t])
            return vla_error(VLA_ERR_OOM, "cpu backend: out of memory for GEMM buffers");
    }
    return VLA_OK;
}

void cpu_gemm_buffers_free(cpu_state *st) {
    for (int t = 0; st->edge_rows && t < st->n_threads; t++) free(st->edge_rows[t]);
    for (int t = 0; st->pack_b && t < st->n_threads; t++) free(st->pack_b[t]);
    free(st->edge_rows);
    free(st->pack_b);
    st->edge_rows = st->pack_b = NULL;
}

/* w rows [j0, j0+nc) x cols [k0, k0+kc) -> [nc/NR][kc][NR] as f32, rows past nc zero. */
static void pack_w(const gemm_job *j, int64_t j0, int64_t nc, int64_t k0, int64_t kc, float *bp) {
    size_t es = vla_dtype_size(j->wt);
    for (int64_t p = 0; p < nc; p += CPU_NR) {
        const char *src = (const char *)j->w + ((size_t)(j0 + p) * (size_t)j->K + (size_t)k0) * es;
        int rows = nc - p < CPU_NR ? (int)(nc - p) : CPU_NR;
        j->st->k->pack_panel(src, j->wt, j->K, rows, kc, bp + p * kc);
    }
}

/* One task: columns [j0, j0 + NC) of the output for the rows of one M
 * stripe. Each KC slice of w is packed once and reused for every row of
 * the stripe. */
static void gemm_task(void *arg, int64_t task, int thread) {
    const gemm_job *j = arg;
    const cpu_kernels *kern = j->st->k;
    int64_t j0 = (task % j->n_tiles_n) * NC, nc = j->N - j0 < NC ? j->N - j0 : NC;
    int64_t m_begin = (task / j->n_tiles_n) * j->stripe_m;
    int64_t m_end = m_begin + j->stripe_m < j->M ? m_begin + j->stripe_m : j->M;
    float *edge = j->st->edge_rows[thread], *bp = j->st->pack_b[thread];
    for (int64_t k0 = 0; k0 < j->K; k0 += KC) {
        int64_t kc = j->K - k0 < KC ? j->K - k0 : KC;
        int acc = k0 > 0;
        pack_w(j, j0, nc, k0, kc, bp);
        for (int64_t i = m_begin; i < m_end; i += CPU_MR) {
            int64_t mr = m_end - i < CPU_MR ? m_end - i : CPU_MR;
            /* full tiles read x in place; the last few rows go through a
             * zero-padded copy so the kernel always sees MR rows */
            const float *a = j->x + i * j->K + k0;
            int64_t lda = j->K;
            if (mr < CPU_MR) {
                memset(edge, 0, sizeof(float) * CPU_MR * (size_t)kc);
                for (int64_t r = 0; r < mr; r++) memcpy(edge + r * kc, a + r * j->K, sizeof(float) * (size_t)kc);
                a = edge;
                lda = kc;
            }
            for (int64_t jr = 0; jr < nc; jr += CPU_NR) {
                float *c = j->out + i * j->N + j0 + jr;
                const float *b = bp + jr * kc;
                int64_t nr = nc - jr < CPU_NR ? nc - jr : CPU_NR;
                if (mr == CPU_MR && nr == CPU_NR) {
                    kern->gemm_tile(kc, a, lda, b, c, j->N, acc);
                    continue;
                }
                float tmp[CPU_MR * CPU_NR];
                kern->gemm_tile(kc, a, lda, b, tmp, CPU_NR, 0);
                for (int64_t r = 0; r < mr; r++)
                    for (int64_t q = 0; q < nr; q++)
                        c[r * j->N + q] = (acc ? c[r * j->N + q] : 0.0f) + tmp[r * CPU_NR + q];
            }
        }
    }
    if (j->bias)
        for (int64_t r = m_begin; r < m_end; r++) {
            float *c = j->out + r * j->N + j0;
            for (int64_t q = 0; q < nc; q++) c[q] += j->bias[j0 + q];
        }
}

static void rows_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const gemm_job *j = arg;
    int64_t n0 = task * j->rows_per_task;
    int64_t n1 = n0 + j->rows_per_task < j->N ? n0 + j->rows_per_task : j->N;
    j->st->k->rows_dot(j->x, j->K, j->M, j->w, j->wt, j->K, j->K, n0, n1, j->bias, j->out, j->N);
}

vla_status cpu_matmul(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                      const vla_tensor *bias) {
    cpu_state *st = state;
    gemm_job j = {
        .st = st,
        .x = x->data,
        .bias = bias ? bias->data : NULL,
        .w = w->data,
        .wt = w->dtype,
        .out = out->data,
        .N = w->shape[0],
        .K = w->shape[1],
    };
    j.M = j.K ? vla_tensor_numel(x) / j.K : vla_tensor_numel(out) / (j.N ? j.N : 1);
    if (j.M == 0 || j.N == 0) return VLA_OK;
    if (j.K == 0) {
        for (int64_t i = 0; i < j.M; i++)
            for (int64_t n = 0; n < j.N; n++) j.out[i * j.N + n] = j.bias ? j.bias[n] : 0.0f;
        return VLA_OK;
    }
    double flops = 2.0 * (double)j.M * (double)j.N * (double)j.K;
    if (j.M <= SMALL_M) {
        j.rows_per_task = cpu_chunk(st, j.N, ROWS_GRAIN);
        j.rows_per_task = (j.rows_per_task + 2) / 3 * 3;
        cpu_parallel(st, (j.N + j.rows_per_task - 1) / j.rows_per_task, flops, rows_task, &j);
        return VLA_OK;
    }
    /* Cut M into as few stripes as still give every thread about two tasks:
     * each stripe packs all of w once. */
    j.n_tiles_n = (j.N + NC - 1) / NC;
    int64_t m_blocks = (j.M + MC - 1) / MC;
    int64_t stripes = (2 * st->n_threads + j.n_tiles_n - 1) / j.n_tiles_n;
    if (stripes > m_blocks) stripes = m_blocks;
    j.stripe_m = (m_blocks + stripes - 1) / stripes * MC;
    stripes = (j.M + j.stripe_m - 1) / j.stripe_m;
    cpu_parallel(st, stripes * j.n_tiles_n, flops, gemm_task, &j);
    return VLA_OK;
}
