/* One block of StarVLA's DiT (cross_attention_dit.BasicTransformerBlock with
 * norm_type ada_norm, diffusers Attention with biased q/k/v, GELU-tanh
 * FeedForward):
 *   n = LN(h) * (1 + scale) + shift          (AdaLayerNorm: scale first, then shift)
 *   h = h + to_out(attention(to_q(n), to_k(m), to_v(m)))   m = E_i (cross) or n (self)
 *   h = h + ff(LN(h))
 * Both LayerNorms have eps 1e-5 and no affine parameters. */
#include <stdio.h>

#include "layerwise_fm.h"
#include "vla/ops.h"

bool lwfm_block_is_self(const lwfm_config *cfg, int index) { return cfg->interleave && index % 2 == 1; }

vla_status lwfm_block_declare(vla_params *p, const lwfm_config *cfg, lwfm_block *blk, int index) {
    char prefix[192];
    const int64_t d = cfg->dit_hidden, ff = 4 * (int64_t)cfg->dit_hidden;
    snprintf(prefix, sizeof prefix, "%saction_model.model.transformer_blocks.%d.", cfg->param_prefix, index);
    VLA_TRY(lwfm_linear_declare(p, &blk->adaln, 2 * d, d, prefix, "norm1.linear"));
    VLA_TRY(lwfm_linear_declare(p, &blk->q, d, d, prefix, "attn1.to_q"));
    VLA_TRY(lwfm_linear_declare(p, &blk->k, d, d, prefix, "attn1.to_k"));
    VLA_TRY(lwfm_linear_declare(p, &blk->v, d, d, prefix, "attn1.to_v"));
    VLA_TRY(lwfm_linear_declare(p, &blk->out, d, d, prefix, "attn1.to_out.0"));
    VLA_TRY(lwfm_linear_declare(p, &blk->ff_in, ff, d, prefix, "ff.net.0.proj"));
    return lwfm_linear_declare(p, &blk->ff_out, d, ff, prefix, "ff.net.2");
}

/* Rows [part*D, (part+1)*D) of norm1.linear: part 0 = scale, 1 = shift. */
static vla_status adaln_half(vla_ctx *c, const lwfm_block *blk, const vla_tensor *silu_temb, int part,
                             vla_tensor *out) {
    const int64_t d = blk->adaln.w.shape[1];
    lwfm_linear half;
    VLA_TRY(vla_view_slice(&blk->adaln.w, 0, part * d, d, &half.w));
    VLA_TRY(vla_view_slice(&blk->adaln.b, 0, part * d, d, &half.b));
    return lwfm_linear_apply(c, &half, silu_temb, out);
}

vla_status lwfm_block_adaln(vla_ctx *c, const lwfm_block *blk, const vla_tensor *silu_temb, vla_tensor *scale,
                            vla_tensor *shift) {
    VLA_TRY(adaln_half(c, blk, silu_temb, 0, scale));
    return adaln_half(c, blk, silu_temb, 1, shift);
}

/* [B, S, D] -> [B, S, heads, head_dim] (a view). */
static vla_status split_heads(const lwfm_config *cfg, const vla_tensor *x, vla_tensor *out) {
    int64_t shape[4] = {x->shape[0], x->shape[1], cfg->num_heads, cfg->head_dim};
    return vla_view_reshape(x, 4, shape, out);
}

static vla_status project_heads(vla_ctx *c, const lwfm_config *cfg, const lwfm_linear *l, const vla_tensor *x,
                                vla_tensor *out) {
    vla_tensor y;
    VLA_TRY(lwfm_linear_apply(c, l, x, &y));
    return split_heads(cfg, &y, out);
}

vla_status lwfm_block_kv(vla_ctx *c, const lwfm_config *cfg, const lwfm_block *blk, const vla_tensor *memory,
                         vla_tensor *k, vla_tensor *v) {
    VLA_TRY(project_heads(c, cfg, &blk->k, memory, k));
    return project_heads(c, cfg, &blk->v, memory, v);
}

static vla_status attention_residual(vla_ctx *c, const lwfm_config *cfg, const lwfm_block *blk, vla_tensor *h,
                                     const vla_tensor *scale, const vla_tensor *shift, const vla_tensor *k,
                                     const vla_tensor *v, const vla_tensor *key_mask) {
    vla_tensor normed, n, q, ks, vs, att, merged, o;
    VLA_TRY(vla_layernorm(c, h, NULL, NULL, LWFM_NORM_EPS, &normed));
    VLA_TRY(vla_modulate(c, &normed, scale, shift, &n));
    VLA_TRY(project_heads(c, cfg, &blk->q, &n, &q));
    if (!k) { /* self-attention over the DiT tokens, unmasked */
        VLA_TRY(lwfm_block_kv(c, cfg, blk, &n, &ks, &vs));
        k = &ks;
        v = &vs;
        key_mask = NULL;
    }
    vla_attention_params ap = {.scale = 0.0f, .causal = 0, .key_mask = key_mask};
    VLA_TRY(vla_attention(c, &q, k, v, &ap, &att));
    VLA_TRY(vla_view_reshape(&att, 3, h->shape, &merged));
    VLA_TRY(lwfm_linear_apply(c, &blk->out, &merged, &o));
    return vla_add_inplace(c, h, &o);
}

static vla_status feed_forward_residual(vla_ctx *c, const lwfm_block *blk, vla_tensor *h) {
    vla_tensor n, up, act, down;
    VLA_TRY(vla_layernorm(c, h, NULL, NULL, LWFM_NORM_EPS, &n));
    VLA_TRY(lwfm_linear_apply(c, &blk->ff_in, &n, &up));
    VLA_TRY(vla_gelu_tanh(c, &up, &act));
    VLA_TRY(lwfm_linear_apply(c, &blk->ff_out, &act, &down));
    return vla_add_inplace(c, h, &down);
}

vla_status lwfm_block_forward(vla_ctx *c, const lwfm_config *cfg, const lwfm_block *blk, vla_tensor *h,
                              const vla_tensor *scale, const vla_tensor *shift, const vla_tensor *k,
                              const vla_tensor *v, const vla_tensor *key_mask) {
    size_t mark = vla_ctx_mark(c);
    vla_status s = attention_residual(c, cfg, blk, h, scale, shift, k, v, key_mask);
    if (s == VLA_OK) s = feed_forward_residual(c, blk, h);
    vla_ctx_release(c, mark);
    return s;
}
