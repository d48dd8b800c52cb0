/* Compute ops. Plugins call these and never loop over tensor data for heavy
 * work, so the same plugin code runs on every backend. Each op checks shapes
 * and dtypes (errors name the op and the shapes), allocates `out` from the
 * context's arena, and dispatches to the backend that owns the inputs.
 * All inputs must belong to the context's backend. Activations are F32. */
#ifndef VLA_OPS_H
#define VLA_OPS_H

#include "vla/backend.h"
#include "vla/ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[..., N] = x[..., K] . w[N, K]^T + bias[N]. w: F32/BF16/F16 (PyTorch Linear
 * layout); bias may be NULL. */
vla_status vla_matmul(vla_ctx *c, const vla_tensor *x, const vla_tensor *w, const vla_tensor *bias,
                      vla_tensor *out);

/* Broadcasting elementwise ops (numpy rules). */
vla_status vla_add(vla_ctx *c, const vla_tensor *a, const vla_tensor *b, vla_tensor *out);
vla_status vla_sub(vla_ctx *c, const vla_tensor *a, const vla_tensor *b, vla_tensor *out);
vla_status vla_mul(vla_ctx *c, const vla_tensor *a, const vla_tensor *b, vla_tensor *out);
/* a op= b, b broadcast to a's shape; a must be contiguous. */
vla_status vla_add_inplace(vla_ctx *c, vla_tensor *a, const vla_tensor *b);
vla_status vla_mul_inplace(vla_ctx *c, vla_tensor *a, const vla_tensor *b);

vla_status vla_silu(vla_ctx *c, const vla_tensor *x, vla_tensor *out);
vla_status vla_gelu_tanh(vla_ctx *c, const vla_tensor *x, vla_tensor *out);
vla_status vla_gelu_erf(vla_ctx *c, const vla_tensor *x, vla_tensor *out);
vla_status vla_relu(vla_ctx *c, const vla_tensor *x, vla_tensor *out);
vla_status vla_sigmoid(vla_ctx *c, const vla_tensor *x, vla_tensor *out);
/* out = x * alpha + beta */
vla_status vla_scale(vla_ctx *c, const vla_tensor *x, float alpha, float beta, vla_tensor *out);

/* Norms over the last dim. w/b F32 [D] or NULL. */
vla_status vla_rmsnorm(vla_ctx *c, const vla_tensor *x, const vla_tensor *w, float eps,
                       vla_tensor *out);
vla_status vla_layernorm(vla_ctx *c, const vla_tensor *x, const vla_tensor *w, const vla_tensor *b,
                         float eps, vla_tensor *out);
vla_status vla_softmax(vla_ctx *c, const vla_tensor *x, vla_tensor *out);

/* out [n, D] = table[ids] ; ids I32/I64 of any shape -> out ids.shape + [D]. */
vla_status vla_get_rows(vla_ctx *c, const vla_tensor *table, const vla_tensor *ids,
                        vla_tensor *out);

/* Contiguous copy of any view, optionally converting dtype. */
vla_status vla_contiguous(vla_ctx *c, const vla_tensor *x, vla_tensor *out);
vla_status vla_cast(vla_ctx *c, const vla_tensor *x, vla_dtype dtype, vla_tensor *out);
/* Copy src into an existing (possibly strided) destination view of the same shape. */
vla_status vla_copy_into(vla_ctx *c, vla_tensor *dst, const vla_tensor *src);
vla_status vla_concat(vla_ctx *c, const vla_tensor *const *xs, int n, int dim, vla_tensor *out);
/* Contiguous permutation / transpose (a view plus a copy). */
vla_status vla_permute(vla_ctx *c, const vla_tensor *x, const int *perm, vla_tensor *out);
vla_status vla_transpose(vla_ctx *c, const vla_tensor *x, int dim0, int dim1, vla_tensor *out);

/* Scaled dot-product attention; layouts and masks as in vla_backend_vtable.attention. */
vla_status vla_attention(vla_ctx *c, const vla_tensor *q, const vla_tensor *k, const vla_tensor *v,
                         const vla_attention_params *p, vla_tensor *out);

/* Rotate-half rotary embedding with precomputed tables (see <vla/rope.h>). */
vla_status vla_rope(vla_ctx *c, const vla_tensor *x, const vla_tensor *cos, const vla_tensor *sin,
                    vla_tensor *out);

/* AdaLN: out = x * (1 + scale) + shift, x [B, S, D], scale/shift [B, D]. */
vla_status vla_modulate(vla_ctx *c, const vla_tensor *x, const vla_tensor *scale,
                        const vla_tensor *shift, vla_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
