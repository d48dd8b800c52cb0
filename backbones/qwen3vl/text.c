/* The Qwen3-VL text decoder: pre-RMSNorm layers with per-head q/k RMSNorm,
 * interleaved M-RoPE, grouped-query causal attention over a KV cache and a
 * SwiGLU MLP; the final norm and the (tied or separate) LM head. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwen3vl.h"
#include "vla/ops.h"

vla_status q3_text_declare(const q3_config *cfg, q3_text_weights *w, vla_params *p) {
    const q3_text_config *t = &cfg->text;
    const char *top = "model.language_model.";
    int64_t D = t->hidden, qd = (int64_t)t->heads * t->head_dim, kvd = (int64_t)t->kv_heads * t->head_dim;
    int64_t es[2] = {t->vocab, D};
    VLA_TRY(vla_params_add(p, &w->embed, VLA_PARAM_EMBEDDING, 2, es, "%sembed_tokens.weight", top));
    /* The prefix the caller set (e.g. StarVLA's "qwen_vl_interface.model.") is
     * whatever precedes our own name. */
    const char *embed_name = vla_params_name(p, vla_params_count(p) - 1);
    size_t own = strlen("model.language_model.embed_tokens.weight"), full = strlen(embed_name);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(full - own), embed_name);
    for (int i = 0; i < t->layers; i++) {
        q3_text_layer *l = &w->layers[i];
        char base[64];
        snprintf(base, sizeof base, "%slayers.%d.", top, i);
        VLA_TRY(q3_add_vec(p, &l->in_norm, VLA_PARAM_NORM_WEIGHT, D, base, "input_layernorm.weight"));
        VLA_TRY(q3_add_vec(p, &l->post_norm, VLA_PARAM_NORM_WEIGHT, D, base, "post_attention_layernorm.weight"));
        VLA_TRY(q3_add_mat(p, &l->q_w, qd, D, base, "self_attn.q_proj.weight"));
        VLA_TRY(q3_add_mat(p, &l->k_w, kvd, D, base, "self_attn.k_proj.weight"));
        VLA_TRY(q3_add_mat(p, &l->v_w, kvd, D, base, "self_attn.v_proj.weight"));
        VLA_TRY(q3_add_mat(p, &l->o_w, D, qd, base, "self_attn.o_proj.weight"));
        if (t->attention_bias) {
            VLA_TRY(q3_add_vec(p, &l->q_b, VLA_PARAM_VECTOR, qd, base, "self_attn.q_proj.bias"));
            VLA_TRY(q3_add_vec(p, &l->k_b, VLA_PARAM_VECTOR, kvd, base, "self_attn.k_proj.bias"));
            VLA_TRY(q3_add_vec(p, &l->v_b, VLA_PARAM_VECTOR, kvd, base, "self_attn.v_proj.bias"));
            VLA_TRY(q3_add_vec(p, &l->o_b, VLA_PARAM_VECTOR, D, base, "self_attn.o_proj.bias"));
        }
        VLA_TRY(q3_add_vec(p, &l->q_norm, VLA_PARAM_NORM_WEIGHT, t->head_dim, base, "self_attn.q_norm.weight"));
        VLA_TRY(q3_add_vec(p, &l->k_norm, VLA_PARAM_NORM_WEIGHT, t->head_dim, base, "self_attn.k_norm.weight"));
        VLA_TRY(q3_add_mat(p, &l->gate_w, t->mlp, D, base, "mlp.gate_proj.weight"));
        VLA_TRY(q3_add_mat(p, &l->up_w, t->mlp, D, base, "mlp.up_proj.weight"));
        VLA_TRY(q3_add_mat(p, &l->down_w, D, t->mlp, base, "mlp.down_proj.weight"));
    }
    VLA_TRY(q3_add_vec(p, &w->norm, VLA_PARAM_NORM_WEIGHT, D, top, "norm.weight"));
    /* Tied: the head IS the embedding (transformers ties it even when a file
     * stores lm_head.weight), so it is not a parameter of its own and a stored
     * copy is ignored, keeping the inventory equal to the published count. */
    if (cfg->tie_embeddings) {
        char ignored[300];
        snprintf(ignored, sizeof ignored, "%slm_head.weight", prefix);
        return vla_params_ignore(p, ignored);
    }
    return q3_add_mat(p, &w->lm_head, t->vocab, D, "", "lm_head.weight");
}

/* ---- KV cache ---- */

static vla_tensor cache_view(const q3_kv_cache *kv, int32_t layer, int which) {
    size_t per = (size_t)kv->batch * kv->cap * kv->kv_heads * kv->head_dim;
    int64_t shape[4] = {kv->batch, kv->cap, kv->kv_heads, kv->head_dim};
    float *base = (float *)kv->mem + ((size_t)layer * 2 + which) * per;
    return vla_tensor_make(kv->backend, base, VLA_F32, 4, shape);
}

void q3_kv_free(q3_kv_cache *kv) {
    if (kv->mem) {
        vla_backend_synchronize(kv->backend);
        vla_backend_free(kv->backend, kv->mem);
    }
    free(kv->mask);
    free(kv->delta);
    memset(kv, 0, sizeof *kv);
}

vla_status q3_kv_reserve(q3_kv_cache *kv, vla_ctx *c, const q3_config *cfg, int32_t batch, int32_t need, bool keep) {
    if (kv->mem && kv->batch == batch && kv->cap >= need) {
        if (!keep) kv->len = 0;
        return VLA_OK;
    }
    q3_kv_cache n = {0};
    n.backend = vla_ctx_backend(c);
    n.layers = cfg->text.layers;
    n.batch = batch;
    n.kv_heads = cfg->text.kv_heads;
    n.head_dim = cfg->text.head_dim;
    n.cap = need + (keep ? need : 64); /* room to decode without regrowing every token */
    n.len = keep ? kv->len : 0;
    size_t bytes = (size_t)n.layers * 2 * batch * n.cap * n.kv_heads * n.head_dim * sizeof(float);
    n.mask = calloc((size_t)batch * n.cap, 1);
    n.delta = calloc((size_t)batch, sizeof *n.delta);
    vla_status s = (n.mask && n.delta) ? VLA_OK : vla_error(VLA_ERR_OOM, "qwen3vl: out of memory for the KV cache");
    if (s == VLA_OK) s = vla_backend_alloc(n.backend, bytes, &n.mem);
    if (s == VLA_OK && keep && kv->len > 0) {
        for (int32_t l = 0; l < n.layers && s == VLA_OK; l++)
            for (int which = 0; which < 2 && s == VLA_OK; which++) {
                vla_tensor from = cache_view(kv, l, which), to = cache_view(&n, l, which), fs, ts;
                s = vla_view_slice(&from, 1, 0, kv->len, &fs);
                if (s == VLA_OK) s = vla_view_slice(&to, 1, 0, kv->len, &ts);
                if (s == VLA_OK) s = vla_copy_into(c, &ts, &fs);
            }
        for (int32_t b = 0; b < batch; b++) memcpy(n.mask + (size_t)b * n.cap, kv->mask + (size_t)b * kv->cap, kv->len);
        memcpy(n.delta, kv->delta, sizeof *n.delta * batch);
    }
    if (s != VLA_OK) {
        q3_kv_free(&n);
        return s;
    }
    q3_kv_free(kv);
    *kv = n;
    return VLA_OK;
}

/* ---- layers ---- */

static const vla_tensor *opt(const vla_tensor *t) { return t->data ? t : NULL; }

/* x [B, S, D] -> heads [B, S, H, hd], RMS-normed per head when `norm` is given, then rotated. */
static vla_status project_heads(const q3_config *cfg, vla_ctx *c, const vla_tensor *x, const vla_tensor *w,
                                const vla_tensor *b, int32_t heads, const vla_tensor *norm, const vla_tensor *cos,
                                const vla_tensor *sin, vla_tensor *out) {
    vla_tensor y, y4, n;
    VLA_TRY(vla_matmul(c, x, w, opt(b), &y));
    int64_t shape[4] = {x->shape[0], x->shape[1], heads, cfg->text.head_dim};
    VLA_TRY(vla_view_reshape(&y, 4, shape, &y4));
    if (!norm) {
        *out = y4;
        return VLA_OK;
    }
    VLA_TRY(vla_rmsnorm(c, &y4, norm, (float)cfg->text.eps, &n));
    return vla_rope(c, &n, cos, sin, out);
}

vla_status q3_text_layer_forward(const q3_config *cfg, const q3_text_layer *w, int32_t layer, vla_ctx *c,
                                 vla_tensor *h, const vla_tensor *cos, const vla_tensor *sin,
                                 const vla_tensor *key_mask, q3_kv_cache *kv) {
    const q3_text_config *t = &cfg->text;
    int64_t B = h->shape[0], S = h->shape[1];
    float eps = (float)t->eps;
    size_t mark = vla_ctx_mark(c);
    vla_tensor x, q, k, v, kc, vc, kslot, vslot, kall, vall, a, a2, o, g, gs, u, d;
    VLA_TRY(vla_rmsnorm(c, h, &w->in_norm, eps, &x));
    VLA_TRY(project_heads(cfg, c, &x, &w->q_w, &w->q_b, t->heads, &w->q_norm, cos, sin, &q));
    VLA_TRY(project_heads(cfg, c, &x, &w->k_w, &w->k_b, t->kv_heads, &w->k_norm, cos, sin, &k));
    VLA_TRY(project_heads(cfg, c, &x, &w->v_w, &w->v_b, t->kv_heads, NULL, NULL, NULL, &v));
    kc = cache_view(kv, layer, 0);
    vc = cache_view(kv, layer, 1);
    VLA_TRY(vla_view_slice(&kc, 1, kv->len, S, &kslot));
    VLA_TRY(vla_view_slice(&vc, 1, kv->len, S, &vslot));
    VLA_TRY(vla_copy_into(c, &kslot, &k));
    VLA_TRY(vla_copy_into(c, &vslot, &v));
    VLA_TRY(vla_view_slice(&kc, 1, 0, kv->len + S, &kall));
    VLA_TRY(vla_view_slice(&vc, 1, 0, kv->len + S, &vall));
    vla_attention_params ap = {1.0f / sqrtf((float)t->head_dim), 1, key_mask};
    VLA_TRY(vla_attention(c, &q, &kall, &vall, &ap, &a));
    int64_t s3[3] = {B, S, (int64_t)t->heads * t->head_dim};
    VLA_TRY(vla_view_reshape(&a, 3, s3, &a2));
    VLA_TRY(vla_matmul(c, &a2, &w->o_w, opt(&w->o_b), &o));
    VLA_TRY(vla_add_inplace(c, h, &o));
    VLA_TRY(vla_rmsnorm(c, h, &w->post_norm, eps, &x));
    VLA_TRY(vla_matmul(c, &x, &w->gate_w, NULL, &g));
    VLA_TRY(vla_matmul(c, &x, &w->up_w, NULL, &u));
    VLA_TRY(vla_silu(c, &g, &gs));
    VLA_TRY(vla_mul_inplace(c, &gs, &u));
    VLA_TRY(vla_matmul(c, &gs, &w->down_w, NULL, &d));
    VLA_TRY(vla_add_inplace(c, h, &d));
    vla_ctx_release(c, mark);
    return VLA_OK;
}

vla_status q3_text_logits(const q3_config *cfg, const q3_text_weights *w, vla_ctx *c, const vla_tensor *h,
                          vla_tensor *logits) {
    int64_t B = h->shape[0], S = h->shape[1], D = h->shape[2];
    vla_tensor last, n, n2;
    VLA_TRY(vla_view_slice(h, 1, S - 1, 1, &last));
    VLA_TRY(vla_rmsnorm(c, &last, &w->norm, (float)cfg->text.eps, &n));
    int64_t s2[2] = {B, D};
    VLA_TRY(vla_view_reshape(&n, 2, s2, &n2));
    return vla_matmul(c, &n2, cfg->tie_embeddings ? &w->embed : &w->lm_head, NULL, logits);
}
