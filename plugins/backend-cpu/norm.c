/* Row-wise ops over the last dim: RMSNorm, LayerNorm, softmax. Row
 * statistics are accumulated in double; the rows are split across threads. */
#include <math.h>

#include "cpu.h"

#define ROW_GRAIN 4096 /* elements per task */

typedef enum { ROW_RMS, ROW_LAYER, ROW_SOFTMAX } row_kind;

typedef struct row_job {
    row_kind kind;
    float *out;
    const float *x, *w, *b;
    float eps;
    int64_t rows, D, rows_per_task;
} row_job;

static double sum_sq(const float *x, int64_t n, double center) {
    double s[4] = {0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++) {
            double d = x[i + l] - center;
            s[l] += d * d;
        }
    for (; i < n; i++) s[0] += (x[i] - center) * (x[i] - center);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static double sum(const float *x, int64_t n) {
    double s[4] = {0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++) s[l] += x[i + l];
    for (; i < n; i++) s[0] += x[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static void rmsnorm_row(const row_job *j, const float *x, float *o) {
    float r = (float)(1.0 / sqrt(sum_sq(x, j->D, 0.0) / (double)j->D + j->eps));
    if (j->w)
        for (int64_t d = 0; d < j->D; d++) o[d] = x[d] * r * j->w[d];
    else
        for (int64_t d = 0; d < j->D; d++) o[d] = x[d] * r;
}

static void layernorm_row(const row_job *j, const float *x, float *o) {
    double mean = sum(x, j->D) / (double)j->D;
    float r = (float)(1.0 / sqrt(sum_sq(x, j->D, mean) / (double)j->D + j->eps));
    float m = (float)mean;
    for (int64_t d = 0; d < j->D; d++) {
        float v = (x[d] - m) * r;
        if (j->w) v *= j->w[d];
        if (j->b) v += j->b[d];
        o[d] = v;
    }
}

static void softmax_row(const row_job *j, const float *x, float *o) {
    float mx = -INFINITY;
    for (int64_t d = 0; d < j->D; d++) mx = x[d] > mx ? x[d] : mx;
    if (mx == -INFINITY) { /* a fully masked row: zeros, as attention does */
        for (int64_t d = 0; d < j->D; d++) o[d] = 0.0f;
        return;
    }
    for (int64_t d = 0; d < j->D; d++) o[d] = expf(x[d] - mx);
    float inv = (float)(1.0 / sum(o, j->D));
    for (int64_t d = 0; d < j->D; d++) o[d] *= inv;
}

static void row_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const row_job *j = arg;
    int64_t r0 = task * j->rows_per_task;
    int64_t r1 = r0 + j->rows_per_task < j->rows ? r0 + j->rows_per_task : j->rows;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + r * j->D;
        float *o = j->out + r * j->D;
        switch (j->kind) {
        case ROW_RMS: rmsnorm_row(j, x, o); break;
        case ROW_LAYER: layernorm_row(j, x, o); break;
        case ROW_SOFTMAX: softmax_row(j, x, o); break;
        }
    }
}

static vla_status run_rows(cpu_state *st, row_job *j, const vla_tensor *x) {
    j->D = x->shape[x->ndim - 1];
    if (j->D == 0) return VLA_OK;
    j->rows = vla_tensor_numel(x) / j->D;
    j->rows_per_task = cpu_chunk(st, j->rows, ROW_GRAIN / j->D + 1);
    cpu_parallel(st, (j->rows + j->rows_per_task - 1) / j->rows_per_task, 2 * CPU_WORK_PER_ELEM * (double)(j->rows * j->D),
                 row_task, j);
    return VLA_OK;
}

vla_status cpu_rmsnorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w, float eps) {
    row_job j = {.kind = ROW_RMS, .out = out->data, .x = x->data, .w = w ? w->data : NULL, .eps = eps};
    return run_rows(state, &j, x);
}

vla_status cpu_layernorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                         const vla_tensor *b, float eps) {
    row_job j = {.kind = ROW_LAYER, .out = out->data, .x = x->data, .w = w ? w->data : NULL,
                 .b = b ? b->data : NULL, .eps = eps};
    return run_rows(state, &j, x);
}

vla_status cpu_softmax(void *state, vla_tensor *out, const vla_tensor *x) {
    row_job j = {.kind = ROW_SOFTMAX, .out = out->data, .x = x->data};
    return run_rows(state, &j, x);
}
