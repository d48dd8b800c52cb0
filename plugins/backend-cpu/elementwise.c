/* Elementwise ops: broadcasting binary, activations, scale, AdaLN modulate. */
#include <math.h>

#include "cpu.h"
#include "strided.h"

#define ELEM_GRAIN 16384 /* elements per task */

/* ---- binary -------------------------------------------------------------- */

typedef struct binary_job {
    cpu_strided it;
    vla_binary_op op;
    float *out;
    const float *a, *b;
    int64_t chunk;
} binary_job;

static void binary_run(void *ctx, const int64_t *off, int64_t n, const int64_t *st) {
    const binary_job *j = ctx;
    float *o = j->out + off[0];
    const float *a = j->a + off[1], *b = j->b + off[2];
    int64_t sa = st[1], sb = st[2];
    /* out is contiguous (stride 1); specialise the common input layouts so
     * the compiler vectorises them */
#define BINARY_LOOP(expr)                                                               \
    if (sa == 1 && sb == 1)                                                             \
        for (int64_t i = 0; i < n; i++) { float x = a[i], y = b[i]; o[i] = (expr); }    \
    else if (sa == 1 && sb == 0)                                                        \
        for (int64_t i = 0; i < n; i++) { float x = a[i], y = b[0]; o[i] = (expr); }    \
    else if (sa == 0 && sb == 1)                                                        \
        for (int64_t i = 0; i < n; i++) { float x = a[0], y = b[i]; o[i] = (expr); }    \
    else                                                                                \
        for (int64_t i = 0; i < n; i++) { float x = a[i * sa], y = b[i * sb]; o[i] = (expr); }
    switch (j->op) {
    case VLA_BINARY_ADD: BINARY_LOOP(x + y); break;
    case VLA_BINARY_SUB: BINARY_LOOP(x - y); break;
    case VLA_BINARY_MUL: BINARY_LOOP(x * y); break;
    default: break;
    }
#undef BINARY_LOOP
}

static void binary_task(void *arg, int64_t task, int thread) {
    (void)thread;
    binary_job *j = arg;
    int64_t n = cpu_strided_numel(&j->it), b = task * j->chunk;
    cpu_strided_range(&j->it, b, b + j->chunk < n ? b + j->chunk : n, binary_run, j);
}

vla_status cpu_binary(void *state, vla_binary_op op, vla_tensor *out, const vla_tensor *a,
                      const vla_tensor *b) {
    cpu_state *st = state;
    int64_t n = vla_tensor_numel(out);
    if (n == 0) return VLA_OK;
    binary_job j = {.op = op, .out = out->data, .a = a->data, .b = b->data};
    const vla_tensor *ops[3] = {out, a, b};
    cpu_strided_init(&j.it, ops, 3);
    j.chunk = cpu_chunk(st, n, ELEM_GRAIN);
    cpu_parallel(st, (n + j.chunk - 1) / j.chunk, CPU_WORK_PER_ELEM * (double)n, binary_task, &j);
    return VLA_OK;
}

/* ---- unary, scale ---------------------------------------------------------- */

typedef struct map_job {
    float *out;
    const float *x;
    int64_t n, chunk;
    vla_unary_op op;
    float alpha, beta;
} map_job;

static float unary_one(vla_unary_op op, float x) {
    switch (op) {
    case VLA_UNARY_SILU: return x / (1.0f + expf(-x));
    case VLA_UNARY_GELU_TANH: {
        const float k = 0.7978845608028654f; /* sqrt(2/pi) */
        return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
    }
    case VLA_UNARY_GELU_ERF: return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
    case VLA_UNARY_RELU: return x > 0.0f ? x : 0.0f;
    case VLA_UNARY_SIGMOID: return 1.0f / (1.0f + expf(-x));
    default: return x;
    }
}

static void unary_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const map_job *j = arg;
    int64_t b = task * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
    for (int64_t i = b; i < e; i++) j->out[i] = unary_one(j->op, j->x[i]);
}

vla_status cpu_unary(void *state, vla_unary_op op, vla_tensor *out, const vla_tensor *x) {
    cpu_state *st = state;
    map_job j = {.out = out->data, .x = x->data, .n = vla_tensor_numel(x), .op = op};
    j.chunk = cpu_chunk(st, j.n, ELEM_GRAIN / 4);
    /* transcendental activations cost ~20 flops per element */
    cpu_parallel(st, (j.n + j.chunk - 1) / j.chunk, 4 * CPU_WORK_PER_ELEM * (double)j.n, unary_task, &j);
    return VLA_OK;
}

static void scale_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const map_job *j = arg;
    int64_t b = task * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
    for (int64_t i = b; i < e; i++) j->out[i] = j->x[i] * j->alpha + j->beta;
}

vla_status cpu_scale(void *state, vla_tensor *out, const vla_tensor *x, float alpha, float beta) {
    cpu_state *st = state;
    map_job j = {.out = out->data, .x = x->data, .n = vla_tensor_numel(x), .alpha = alpha, .beta = beta};
    j.chunk = cpu_chunk(st, j.n, ELEM_GRAIN);
    cpu_parallel(st, (j.n + j.chunk - 1) / j.chunk, CPU_WORK_PER_ELEM * (double)j.n, scale_task, &j);
    return VLA_OK;
}

/* ---- modulate ------------------------------------------------------------------ */

typedef struct modulate_job {
    float *out;
    const float *x, *scale, *shift;
    int64_t S, D, rows_per_task, rows;
} modulate_job;

static void modulate_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const modulate_job *j = arg;
    int64_t r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task < j->rows ? r0 + j->rows_per_task : j->rows;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + r * j->D, *sc = j->scale + (r / j->S) * j->D, *sh = j->shift + (r / j->S) * j->D;
        float *o = j->out + r * j->D;
        for (int64_t d = 0; d < j->D; d++) o[d] = x[d] * (1.0f + sc[d]) + sh[d];
    }
}

vla_status cpu_modulate(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *scale,
                        const vla_tensor *shift) {
    cpu_state *st = state;
    modulate_job j = {.out = out->data, .x = x->data, .scale = scale->data, .shift = shift->data,
                      .S = x->shape[1], .D = x->shape[2], .rows = x->shape[0] * x->shape[1]};
    if (j.rows == 0 || j.D == 0) return VLA_OK;
    j.rows_per_task = cpu_chunk(st, j.rows, ELEM_GRAIN / j.D + 1);
    cpu_parallel(st, (j.rows + j.rows_per_task - 1) / j.rows_per_task, CPU_WORK_PER_ELEM * (double)(j.rows * j.D),
                 modulate_task, &j);
    return VLA_OK;
}
