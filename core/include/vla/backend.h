/* Compute backends. A backend plugin exports a vla_backend_vtable; the core
 * wraps an instance of it in a vla_backend and dispatches the ops of
 * <vla/ops.h> to it after validating shapes and dtypes and allocating the
 * output. So a backend implements arithmetic only; it never has to check
 * arguments that the core already checked (see each slot's contract).
 *
 * Conventions shared by every op slot:
 * - `out` is contiguous, allocated by the core, in the backend's memory.
 * - Activations are VLA_F32. Weights (matmul `w`, get_rows `table`) may be
 *   F32, BF16 or F16; the backend accumulates in f32.
 * - Inputs are contiguous unless a slot says otherwise.
 * The vtable only grows by appending; a NULL op slot means "unsupported"
 * and the core reports which op and which backend. */
#ifndef VLA_BACKEND_H
#define VLA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "vla/config.h"
#include "vla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vla_unary_op {
    VLA_UNARY_SILU = 0,   /* x * sigmoid(x) */
    VLA_UNARY_GELU_TANH,  /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    VLA_UNARY_GELU_ERF,   /* 0.5 x (1 + erf(x / sqrt(2))) */
    VLA_UNARY_RELU,
    VLA_UNARY_SIGMOID,
    VLA_UNARY_COUNT
} vla_unary_op;

typedef enum vla_binary_op {
    VLA_BINARY_ADD = 0,
    VLA_BINARY_SUB,
    VLA_BINARY_MUL,
    VLA_BINARY_COUNT
} vla_binary_op;

typedef struct vla_attention_params {
    float scale;                  /* applied to q.k; the core fills 1/sqrt(D) when 0 */
    int causal;                   /* query i sees key j iff j <= i + (Sk - Sq) */
    const vla_tensor *key_mask;   /* NULL, or [B, Sk] U8/BOOL: nonzero = may attend */
} vla_attention_params;

typedef struct vla_backend_vtable {
    uint32_t struct_size; /* sizeof(vla_backend_vtable) the plugin was built with */

    /* lifecycle; `cfg` is the `backend` config node (may be NULL) */
    vla_status (*create)(const vla_config *cfg, void **state);
    void (*destroy)(void *state);

    /* memory in the backend's address space */
    vla_status (*alloc)(void *state, size_t bytes, void **ptr);
    void (*free)(void *state, void *ptr);
    vla_status (*write)(void *state, void *dst, const void *host_src, size_t bytes);
    vla_status (*read)(void *state, void *host_dst, const void *src, size_t bytes);
    vla_status (*synchronize)(void *state);

    /* out[..., N] = x[..., K] . w[N, K]^T (+ bias[N], F32); x may have any leading dims */
    vla_status (*matmul)(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                         const vla_tensor *bias);
    /* elementwise with numpy broadcasting; a and b are views with out's shape
     * and ANY strides (0 on broadcast dims); out may be the same tensor as a */
    vla_status (*binary)(void *state, vla_binary_op op, vla_tensor *out, const vla_tensor *a,
                         const vla_tensor *b);
    vla_status (*unary)(void *state, vla_unary_op op, vla_tensor *out, const vla_tensor *x);
    /* out = x * alpha + beta */
    vla_status (*scale)(void *state, vla_tensor *out, const vla_tensor *x, float alpha, float beta);
    /* over the last dim; w (F32, [D]) may be NULL */
    vla_status (*rmsnorm)(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                          float eps);
    /* over the last dim; w and b (F32, [D]) may each be NULL (no affine) */
    vla_status (*layernorm)(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                            const vla_tensor *b, float eps);
    /* over the last dim; a row of only -inf (fully masked) gives zeros */
    vla_status (*softmax)(void *state, vla_tensor *out, const vla_tensor *x);
    /* out[i, :] = table[ids[i], :]; ids I32 or I64 already range-checked; table any float dtype */
    vla_status (*get_rows)(void *state, vla_tensor *out, const vla_tensor *table,
                           const vla_tensor *ids);
    /* out = x with dtype conversion between any two of the seven compute dtypes;
     * x may have ANY strides (including 0). out is usually contiguous but may be
     * a strided view (vla_copy_into, vla_concat): no stride 0, no overlap with x. */
    vla_status (*copy)(void *state, vla_tensor *out, const vla_tensor *x);
    /* q [B, Sq, Hq, D], k [B, Sk, Hkv, D], v [B, Sk, Hkv, Dv] -> out [B, Sq, Hq, Dv];
     * Hq % Hkv == 0 (query head h uses kv head h / (Hq/Hkv)). k and v may be
     * strided in dims 0..2 (KV-cache views), last dim contiguous. A query row
     * with no visible key produces zeros. */
    vla_status (*attention)(void *state, vla_tensor *out, const vla_tensor *q, const vla_tensor *k,
                            const vla_tensor *v, const vla_attention_params *p);
    /* rotate-half rotary embedding. x [B, S, H, D], cos/sin F32 [S, D] or [B, S, D]:
     * out[d] = x[d] cos[d] - x[d + D/2] sin[d]      for d <  D/2
     * out[d] = x[d] cos[d] + x[d - D/2] sin[d]      for d >= D/2 */
    vla_status (*rope)(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *cos,
                       const vla_tensor *sin);
    /* AdaLN modulation: out[b, s, :] = x[b, s, :] * (1 + scale[b, :]) + shift[b, :];
     * x [B, S, D], scale/shift [B, D] */
    vla_status (*modulate)(void *state, vla_tensor *out, const vla_tensor *x,
                           const vla_tensor *scale, const vla_tensor *shift);

    /* Optional: bytes of device memory this backend holds now and at peak
     * (allocator view, including its caches). */
    vla_status (*memory_usage)(void *state, size_t *in_use, size_t *peak);

    /* Optional graph capture (all four set, or none). Between graph_begin and
     * graph_end the backend records the ops it is given instead of running
     * them; graph_end returns an executable graph that graph_launch replays
     * (asynchronously, in order with other work) on the same memory. During a
     * capture write, read and synchronize fail, and an alloc that needs new
     * device memory fails: run the work once before capturing it. Replays read
     * whatever the captured input buffers hold at launch time and write the
     * captured output buffers, so every buffer the capture touched must stay
     * allocated, unchanged in address, while the graph lives. graph_begin and
     * graph_end are called from the same thread, graph_end after every
     * graph_begin, even when an op failed (it may then fail and return no
     * graph). Destroying a graph waits for its replays to finish. */
    vla_status (*graph_begin)(void *state);
    vla_status (*graph_end)(void *state, void **graph);
    vla_status (*graph_launch)(void *state, void *graph);
    void (*graph_destroy)(void *state, void *graph);
} vla_backend_vtable;

/* A live backend instance. */
typedef struct vla_backend {
    const vla_backend_vtable *vt;
    void *state;
    char name[32];
} vla_backend;

/* Instantiate a backend from its vtable (calls vt->create). */
vla_status vla_backend_create(const vla_backend_vtable *vt, const char *name, const vla_config *cfg,
                              vla_backend **out);
void vla_backend_destroy(vla_backend *b);

/* Memory helpers that go through the vtable with error context. */
vla_status vla_backend_alloc(vla_backend *b, size_t bytes, void **ptr);
void vla_backend_free(vla_backend *b, void *ptr);
vla_status vla_backend_write(vla_backend *b, void *dst, const void *host_src, size_t bytes);
vla_status vla_backend_read(vla_backend *b, void *host_dst, const void *src, size_t bytes);
vla_status vla_backend_synchronize(vla_backend *b);

#ifdef __cplusplus
}
#endif
#endif
