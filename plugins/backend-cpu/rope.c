/* Rotate-half rotary embedding with precomputed cos/sin tables. */
#include "cpu.h"

#define ROPE_GRAIN 8192 /* elements per task */

typedef struct rope_job {
    float *out;
    const float *x, *cos, *sin;
    int64_t B, S, H, D, rows, rows_per_task;
    int per_batch; /* tables are [B, S, D] rather than [S, D] */
} rope_job;

static void rope_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const rope_job *j = arg;
    int64_t half = j->D / 2;
    int64_t r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task < j->rows ? r0 + j->rows_per_task : j->rows;
    for (int64_t r = r0; r < r1; r++) { /* r = (b * S + s) */
        int64_t t = j->per_batch ? r : r % j->S;
        const float *c = j->cos + t * j->D, *sn = j->sin + t * j->D;
        for (int64_t h = 0; h < j->H; h++) {
            const float *x = j->x + (r * j->H + h) * j->D;
            float *o = j->out + (r * j->H + h) * j->D;
            for (int64_t d = 0; d < half; d++) o[d] = x[d] * c[d] - x[d + half] * sn[d];
            for (int64_t d = half; d < j->D; d++) o[d] = x[d] * c[d] + x[d - half] * sn[d];
        }
    }
}

vla_status cpu_rope(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *cos,
                    const vla_tensor *sin) {
    cpu_state *st = state;
    rope_job j = {.out = out->data, .x = x->data, .cos = cos->data, .sin = sin->data,
                  .B = x->shape[0], .S = x->shape[1], .H = x->shape[2], .D = x->shape[3],
                  .per_batch = cos->ndim == 3};
    j.rows = j.B * j.S;
    int64_t row_elems = j.H * j.D;
    if (j.rows == 0 || row_elems == 0) return VLA_OK;
    j.rows_per_task = cpu_chunk(st, j.rows, ROPE_GRAIN / row_elems + 1);
    cpu_parallel(st, (j.rows + j.rows_per_task - 1) / j.rows_per_task, CPU_WORK_PER_ELEM * (double)(j.rows * row_elems),
                 rope_task, &j);
    return VLA_OK;
}
