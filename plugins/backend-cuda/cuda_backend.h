/* Internals of the CUDA backend shared by its host files (C11) and its
 * kernel files (CUDA C++; everything here has C linkage). One instance owns
 * one device, one stream (all work is enqueued on it, in order), one
 * cuBLASLt handle, a caching device allocator, pinned staging buffers and
 * the matmul plans. An instance is used by one thread at a time. */
#ifndef VLA_CUDA_BACKEND_H
#define VLA_CUDA_BACKEND_H

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "vla/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- caching allocator (pool.c) -------------------------------------------- */

typedef struct cuda_block {
    void *ptr;
    size_t size; /* rounded size actually obtained from cudaMalloc */
} cuda_block;

typedef struct cuda_pool {
    cuda_block *cached; /* freed blocks kept for reuse */
    size_t n_cached, cap_cached;
    cuda_block *live;   /* open-addressing table keyed by ptr (NULL = empty) */
    size_t cap_live, n_live;
    size_t held, peak;  /* bytes obtained from cudaMalloc (live + cached) */
} cuda_pool;

/* ---- matmul plans (matmul.c) -------------------------------------------------- */

typedef struct cuda_plan cuda_plan;

/* ---- pinned staging for host <-> device copies (transfer.c) ------------------- */

#define CUDA_STAGES 2

typedef struct cuda_staging {
    void *buf[CUDA_STAGES];
    cudaEvent_t done[CUDA_STAGES]; /* recorded after the copy that last used buf[i] */
    size_t size;                   /* bytes per buffer */
    int next;
} cuda_staging;

typedef struct cuda_state {
    int device;
    int sm_count;
    size_t smem_optin;      /* max dynamic shared memory per block after opt-in */
    cudaStream_t stream;
    cublasLtHandle_t lt;
    int gemm_simt;          /* config `gemm: simt`: never use cuBLASLt (tests, debugging) */
    int capturing;          /* between graph_begin and graph_end */
    int n_graphs;           /* executable graphs alive (they pin the scratch buffer) */
    void *workspace;        /* cuBLASLt workspace, fixed for the instance's life */
    size_t workspace_size;
    void *scratch;          /* activations rounded to bf16/f16 for matmul; only grows */
    size_t scratch_size;
    cuda_plan **plans;
    size_t n_plans, cap_plans;
    cuda_pool pool;
    cuda_staging staging;
} cuda_state;

/* ---- errors ---------------------------------------------------------------- */

/* VLA_ERR_BACKEND "CUDA backend: <op>: <what>: <CUDA error text> (<name>)". Clears
 * the runtime's last-error slot so a later check does not report it again. */
vla_status cuda_fail(cudaError_t e, const char *op, const char *what);
vla_status cuda_blas_fail(cublasStatus_t s, const char *op, const char *what);
/* After a kernel launch: reports a launch failure (bad configuration, no
 * kernel image for this GPU) or an earlier asynchronous fault. */
vla_status cuda_check_launch(const char *op);
/* Make the instance's device current for this thread (ops may arrive from a
 * thread last used with another device). */
vla_status cuda_enter(cuda_state *st, const char *op);

#define CUDA_TRY(op, what, call)                                  \
    do {                                                          \
        cudaError_t cuda_try_e_ = (call);                         \
        if (cuda_try_e_ != cudaSuccess) return cuda_fail(cuda_try_e_, (op), (what)); \
    } while (0)

/* Blocks for a grid-stride loop over n items: enough to fill the GPU, never
 * more than the items need. n > 0. */
unsigned cuda_blocks(const cuda_state *st, int64_t n, int threads);

/* ---- memory (pool.c, transfer.c) ----------------------------------------------- */

vla_status cuda_pool_alloc(cuda_state *st, size_t bytes, void **ptr);
void cuda_pool_free(cuda_state *st, void *ptr);
void cuda_pool_destroy(cuda_state *st);

vla_status cuda_staging_create(cuda_state *st, size_t bytes);
void cuda_staging_destroy(cuda_state *st);
vla_status cuda_write(void *state, void *dst, const void *host_src, size_t bytes);
vla_status cuda_read(void *state, void *host_dst, const void *src, size_t bytes);

/* ---- strided layouts (layout.c) ---------------------------------------------------- */

#define CUDA_LAYOUT_OPS 3

/* The index space of ops[0]'s shape walked over up to three operands of that
 * shape (any strides, in elements), with size-1 dims dropped and dims merged
 * where every operand steps through them as one. ndim >= 1. */
typedef struct cuda_layout {
    int ndim, n_ops;
    int64_t numel;
    int64_t shape[VLA_MAX_DIMS];
    int64_t stride[CUDA_LAYOUT_OPS][VLA_MAX_DIMS];
} cuda_layout;

void cuda_layout_init(cuda_layout *l, const vla_tensor *const *ops, int n_ops);
/* True when every element offset of every operand fits in an int32 (cheaper index math). */
int cuda_layout_fits_i32(const cuda_layout *l);

/* ---- matmul support kernels (gemm.cu) ------------------------------------------------- */

/* dst[i] = src[i] rounded to nearest even in `dtype` (BF16 or F16). */
vla_status cuda_round_activations(cuda_state *st, void *dst, vla_dtype dtype, const float *src, int64_t n);
/* out[M, N] = x[M, K] . w[N, K]^T (+ bias): plain tiled kernel, f32 accumulation,
 * x rounded to w's dtype first as on the cuBLASLt path. Used when cuBLASLt has no
 * algorithm for a layout, for K = 0, and with `gemm: simt`. */
vla_status cuda_gemm_simt(cuda_state *st, float *out, const float *x, const void *w, vla_dtype wt,
                          const float *bias, int64_t M, int64_t N, int64_t K);
/* out[M, N] += bias[N] */
vla_status cuda_add_bias(cuda_state *st, float *out, const float *bias, int64_t M, int64_t N);

/* ---- setup hooks of the kernel files ------------------------------------------------- */

/* Fails with a clear message when this build has no kernel image for the GPU. */
vla_status cuda_kernels_check(cuda_state *st);
/* Lets the attention kernel use the device's full shared memory per block. */
vla_status cuda_attention_setup(cuda_state *st);

/* ---- op slots (see <vla/backend.h>) --------------------------------------------------- */

vla_status cuda_matmul(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                       const vla_tensor *bias);
void cuda_plans_destroy(cuda_state *st);
vla_status cuda_binary(void *state, vla_binary_op op, vla_tensor *out, const vla_tensor *a,
                       const vla_tensor *b);
vla_status cuda_unary(void *state, vla_unary_op op, vla_tensor *out, const vla_tensor *x);
vla_status cuda_scale(void *state, vla_tensor *out, const vla_tensor *x, float alpha, float beta);
vla_status cuda_modulate(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *scale,
                         const vla_tensor *shift);
vla_status cuda_rope(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *cos,
                     const vla_tensor *sin);
vla_status cuda_rmsnorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w, float eps);
vla_status cuda_layernorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                          const vla_tensor *b, float eps);
vla_status cuda_softmax(void *state, vla_tensor *out, const vla_tensor *x);
vla_status cuda_get_rows(void *state, vla_tensor *out, const vla_tensor *table, const vla_tensor *ids);
vla_status cuda_copy(void *state, vla_tensor *out, const vla_tensor *x);
vla_status cuda_attention(void *state, vla_tensor *out, const vla_tensor *q, const vla_tensor *k,
                          const vla_tensor *v, const vla_attention_params *p);

vla_status cuda_graph_begin(void *state);
vla_status cuda_graph_end(void *state, void **graph);
vla_status cuda_graph_launch(void *state, void *graph);
void cuda_graph_destroy(void *state, void *graph);

#ifdef __cplusplus
}
#endif
#endif
