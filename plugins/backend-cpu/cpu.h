/* Internals of the CPU backend shared by its op files. */
#ifndef VLA_CPU_H
#define VLA_CPU_H

#include "kernels.h"
#include "threadpool.h"
#include "vla/backend.h"

typedef struct cpu_state {
    cpu_pool *pool;
    int n_threads;
    const cpu_kernels *k;
    float **edge_rows, **pack_b; /* per-thread GEMM buffers: last rows of x, packed w */
} cpu_state;

/* Run fn over n_tasks on the pool; `work` (rough flops) below a threshold
 * runs inline, since waking the workers costs microseconds. */
void cpu_parallel(cpu_state *st, int64_t n_tasks, double work, cpu_task_fn fn, void *arg);

/* Work of touching one element in a memory-bound op, in flop equivalents. */
#define CPU_WORK_PER_ELEM 8.0

/* Split n items into tasks of at least `grain` items, about 4 per thread. */
int64_t cpu_chunk(const cpu_state *st, int64_t n, int64_t grain);

vla_status cpu_gemm_buffers_alloc(cpu_state *st);
void cpu_gemm_buffers_free(cpu_state *st);

vla_status cpu_matmul(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                      const vla_tensor *bias);
vla_status cpu_binary(void *state, vla_binary_op op, vla_tensor *out, const vla_tensor *a,
                      const vla_tensor *b);
vla_status cpu_unary(void *state, vla_unary_op op, vla_tensor *out, const vla_tensor *x);
vla_status cpu_scale(void *state, vla_tensor *out, const vla_tensor *x, float alpha, float beta);
vla_status cpu_modulate(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *scale,
                        const vla_tensor *shift);
vla_status cpu_rmsnorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w, float eps);
vla_status cpu_layernorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                         const vla_tensor *b, float eps);
vla_status cpu_softmax(void *state, vla_tensor *out, const vla_tensor *x);
vla_status cpu_get_rows(void *state, vla_tensor *out, const vla_tensor *table, const vla_tensor *ids);
vla_status cpu_copy(void *state, vla_tensor *out, const vla_tensor *x);
vla_status cpu_attention(void *state, vla_tensor *out, const vla_tensor *q, const vla_tensor *k,
                         const vla_tensor *v, const vla_attention_params *p);
vla_status cpu_rope(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *cos,
                    const vla_tensor *sin);

#endif
