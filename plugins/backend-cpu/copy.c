/* Data movement: strided copy with dtype conversion, and the row gather. */
#include <string.h>

#include "cpu.h"
#include "strided.h"

#define COPY_GRAIN 65536 /* elements per task */
#define COPY_BLOCK 256   /* elements converted per step through the stack buffers */

typedef struct copy_job {
    cpu_strided it;
    char *out;
    const char *x;
    vla_dtype ot, xt;
    size_t os, xs; /* element sizes */
    int64_t chunk;
} copy_job;

static void gather(char *dst, const char *src, int64_t n, int64_t stride, size_t es) {
    for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, src + (size_t)(i * stride) * es, es);
}

static void copy_run(void *ctx, const int64_t *off, int64_t n, const int64_t *st) {
    const copy_job *j = ctx;
    char *o = j->out + (size_t)off[0] * j->os;
    const char *x = j->x + (size_t)off[1] * j->xs;
    if (j->ot == j->xt && st[0] == 1 && st[1] == 1) {
        memcpy(o, x, (size_t)n * j->os);
        return;
    }
    if (j->ot == VLA_F32 && j->xt == VLA_F32) {
        float *of = (float *)o;
        const float *xf = (const float *)x;
        for (int64_t i = 0; i < n; i++) of[i * st[0]] = xf[i * st[1]];
        return;
    }
    /* general case: gather to a packed block, convert it, scatter */
    _Alignas(8) char in[COPY_BLOCK * 8], conv[COPY_BLOCK * 8];
    for (int64_t i = 0; i < n; i += COPY_BLOCK) {
        int64_t m = n - i < COPY_BLOCK ? n - i : COPY_BLOCK;
        const char *src = x + (size_t)(i * st[1]) * j->xs;
        char *dst = o + (size_t)(i * st[0]) * j->os;
        if (st[1] != 1) gather(in, src, m, st[1], j->xs);
        char *target = st[0] == 1 ? dst : conv;
        vla_convert(target, j->ot, st[1] == 1 ? src : in, j->xt, (size_t)m);
        for (int64_t k = 0; st[0] != 1 && k < m; k++)
            memcpy(dst + (size_t)(k * st[0]) * j->os, conv + (size_t)k * j->os, j->os);
    }
}

static void copy_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const copy_job *j = arg;
    int64_t n = cpu_strided_numel(&j->it), b = task * j->chunk;
    cpu_strided_range(&j->it, b, b + j->chunk < n ? b + j->chunk : n, copy_run, (void *)j);
}

vla_status cpu_copy(void *state, vla_tensor *out, const vla_tensor *x) {
    cpu_state *st = state;
    int64_t n = vla_tensor_numel(out);
    if (n == 0) return VLA_OK;
    copy_job j = {.out = out->data, .x = x->data, .ot = out->dtype, .xt = x->dtype,
                  .os = vla_dtype_size(out->dtype), .xs = vla_dtype_size(x->dtype)};
    const vla_tensor *ops[2] = {out, x};
    cpu_strided_init(&j.it, ops, 2);
    j.chunk = cpu_chunk(st, n, COPY_GRAIN);
    cpu_parallel(st, (n + j.chunk - 1) / j.chunk, CPU_WORK_PER_ELEM * (double)n, copy_task, &j);
    return VLA_OK;
}

typedef struct rows_job {
    cpu_state *st;
    float *out;
    const char *table;
    vla_dtype tt;
    const void *ids;
    vla_dtype it;
    int64_t D, n, chunk;
} rows_job;

static void get_rows_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const rows_job *j = arg;
    size_t row_bytes = (size_t)j->D * vla_dtype_size(j->tt);
    int64_t b = task * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
    for (int64_t i = b; i < e; i++) {
        int64_t id = j->it == VLA_I32 ? ((const int32_t *)j->ids)[i] : ((const int64_t *)j->ids)[i];
        j->st->k->to_f32(j->out + i * j->D, j->table + (size_t)id * row_bytes, j->tt, j->D);
    }
}

vla_status cpu_get_rows(void *state, vla_tensor *out, const vla_tensor *table, const vla_tensor *ids) {
    cpu_state *st = state;
    rows_job j = {.st = st, .out = out->data, .table = table->data, .tt = table->dtype,
                  .ids = ids->data, .it = ids->dtype, .D = table->shape[1], .n = vla_tensor_numel(ids)};
    j.chunk = cpu_chunk(st, j.n, COPY_GRAIN / (j.D + 1) + 1);
    cpu_parallel(st, (j.n + j.chunk - 1) / j.chunk, CPU_WORK_PER_ELEM * (double)(j.n * j.D), get_rows_task, &j);
    return VLA_OK;
}
