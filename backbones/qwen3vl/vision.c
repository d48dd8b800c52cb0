/* The Qwen3-VL vision tower: patch embedding (the Conv3d as a matmul),
 * learned position table resampled bilinearly with corner-aligned samples,
 * 2-D rotary attention restricted to each frame, pre-LayerNorm blocks, the
 * patch merger and the DeepStack mergers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwen3vl.h"
#include "vla/ops.h"
#include "vla/rope.h"

#define LN_EPS 1e-6f /* nn.LayerNorm(eps=1e-6) in every vision norm */

static vla_status declare_merger(const q3_config *cfg, q3_merger *m, vla_params *p, const char *base) {
    const q3_vision_config *v = &cfg->vision;
    int64_t wide = (int64_t)v->hidden * v->merge * v->merge;
    int64_t norm = m->postshuffle_norm ? wide : v->hidden;
    VLA_TRY(q3_add_vec(p, &m->norm_w, VLA_PARAM_NORM_WEIGHT, norm, base, "norm.weight"));
    VLA_TRY(q3_add_vec(p, &m->norm_b, VLA_PARAM_VECTOR, norm, base, "norm.bias"));
    VLA_TRY(q3_add_mat(p, &m->fc1_w, wide, wide, base, "linear_fc1.weight"));
    VLA_TRY(q3_add_vec(p, &m->fc1_b, VLA_PARAM_VECTOR, wide, base, "linear_fc1.bias"));
    VLA_TRY(q3_add_mat(p, &m->fc2_w, v->out_hidden, wide, base, "linear_fc2.weight"));
    return q3_add_vec(p, &m->fc2_b, VLA_PARAM_VECTOR, v->out_hidden, base, "linear_fc2.bias");
}

vla_status q3_vision_declare(const q3_config *cfg, q3_vision_weights *w, vla_params *p) {
    const q3_vision_config *v = &cfg->vision;
    const char *top = "model.visual.";
    int64_t D = v->hidden;
    int64_t patch_shape[5] = {D, v->in_channels, v->temporal_patch, v->patch, v->patch};
    VLA_TRY(vla_params_add(p, &w->patch_w, VLA_PARAM_MATRIX, 5, patch_shape, "%spatch_embed.proj.weight", top));
    VLA_TRY(q3_add_vec(p, &w->patch_b, VLA_PARAM_VECTOR, D, top, "patch_embed.proj.bias"));
    int64_t pos_shape[2] = {v->num_pos, D};
    VLA_TRY(vla_params_add(p, &w->pos_embed, VLA_PARAM_EMBEDDING, 2, pos_shape, "%spos_embed.weight", top));
    for (int i = 0; i < v->depth; i++) {
        q3_vision_block *b = &w->blocks[i];
        char base[64];
        snprintf(base, sizeof base, "%sblocks.%d.", top, i);
        VLA_TRY(q3_add_vec(p, &b->norm1_w, VLA_PARAM_NORM_WEIGHT, D, base, "norm1.weight"));
        VLA_TRY(q3_add_vec(p, &b->norm1_b, VLA_PARAM_VECTOR, D, base, "norm1.bias"));
        VLA_TRY(q3_add_vec(p, &b->norm2_w, VLA_PARAM_NORM_WEIGHT, D, base, "norm2.weight"));
        VLA_TRY(q3_add_vec(p, &b->norm2_b, VLA_PARAM_VECTOR, D, base, "norm2.bias"));
        VLA_TRY(q3_add_mat(p, &b->qkv_w, 3 * D, D, base, "attn.qkv.weight"));
        VLA_TRY(q3_add_vec(p, &b->qkv_b, VLA_PARAM_VECTOR, 3 * D, base, "attn.qkv.bias"));
        VLA_TRY(q3_add_mat(p, &b->proj_w, D, D, base, "attn.proj.weight"));
        VLA_TRY(q3_add_vec(p, &b->proj_b, VLA_PARAM_VECTOR, D, base, "attn.proj.bias"));
        VLA_TRY(q3_add_mat(p, &b->fc1_w, v->mlp, D, base, "mlp.linear_fc1.weight"));
        VLA_TRY(q3_add_vec(p, &b->fc1_b, VLA_PARAM_VECTOR, v->mlp, base, "mlp.linear_fc1.bias"));
        VLA_TRY(q3_add_mat(p, &b->fc2_w, D, v->mlp, base, "mlp.linear_fc2.weight"));
        VLA_TRY(q3_add_vec(p, &b->fc2_b, VLA_PARAM_VECTOR, D, base, "mlp.linear_fc2.bias"));
    }
    w->merger.postshuffle_norm = false;
    VLA_TRY(declare_merger(cfg, &w->merger, p, "model.visual.merger."));
    for (int j = 0; j < v->n_deepstack; j++) {
        char base[64];
        snprintf(base, sizeof base, "%sdeepstack_merger_list.%d.", top, j);
        w->deepstack[j].postshuffle_norm = true;
        VLA_TRY(declare_merger(cfg, &w->deepstack[j], p, base));
    }
    return VLA_OK;
}

/* ---- host-side tables ---- */

/* torch.linspace(0, end, n) in float32: the first half counts up from 0,
 * the second half down from `end`. */
static float linspace_at(float end, int32_t n, int32_t i) {
    if (n == 1) return 0.0f;
    float step = end / (float)(n - 1);
    return i < n / 2 ? step * (float)i : end - step * (float)(n - 1 - i);
}

/* Patch (row, col) of each token in merge-window order, per frame. */
static void patch_coords(const q3_vision_config *v, const q3_grid *g, int64_t *rows, int64_t *cols) {
    int32_t m = v->merge;
    size_t n = 0;
    for (int32_t t = 0; t < g->t; t++)
        for (int32_t br = 0; br < g->h / m; br++)
            for (int32_t bc = 0; bc < g->w / m; bc++)
                for (int32_t ir = 0; ir < m; ir++)
                    for (int32_t ic = 0; ic < m; ic++, n++) {
                        rows[n] = br * m + ir;
                        cols[n] = bc * m + ic;
                    }
}

/* The 4 corner indices and bilinear weights (float32, as HF) of every
 * token's position-table sample. */
static void pos_corners(const q3_vision_config *v, const q3_grid *g, const int64_t *rows, const int64_t *cols,
                        int32_t *idx[4], float *wt[4]) {
    int32_t side = v->grid_side;
    float end = (float)(side - 1);
    int64_t n = (int64_t)g->t * g->h * g->w;
    for (int64_t k = 0; k < n; k++) {
        float hs = linspace_at(end, g->h, (int32_t)rows[k]), ws = linspace_at(end, g->w, (int32_t)cols[k]);
        int32_t hf = (int32_t)hs, wf = (int32_t)ws;
        int32_t hc = hf + 1 < side ? hf + 1 : side - 1, wc = wf + 1 < side ? wf + 1 : side - 1;
        float dh = hs - (float)hf, dw = ws - (float)wf;
        idx[0][k] = hf * side + wf, wt[0][k] = (1 - dh) * (1 - dw);
        idx[1][k] = hf * side + wc, wt[1][k] = (1 - dh) * dw;
        idx[2][k] = hc * side + wf, wt[2][k] = dh * (1 - dw);
        idx[3][k] = hc * side + wc, wt[3][k] = dh * dw;
    }
}

/* Rotary tables [n, head_dim]: frequencies of rotary dim head_dim/2 driven by
 * the row for the first quarter and the column for the second, repeated for
 * the rotate-half pair. */
static vla_status vision_rope(const q3_vision_config *v, const int64_t *rows, const int64_t *cols, int64_t n, float *cos,
                              float *sin) {
    int hd = v->head_dim, half = hd / 2, q = hd / 4;
    float *tmp = malloc(sizeof *tmp * (size_t)n * half * 4);
    if (!tmp) return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory for rotary tables");
    float *cr = tmp, *sr = cr + n * half, *cc = sr + n * half, *sc = cc + n * half;
    vla_status s = vla_rope_table_1d(rows, n, half, 10000.0, cr, sr);
    if (s == VLA_OK) s = vla_rope_table_1d(cols, n, half, 10000.0, cc, sc);
    for (int64_t k = 0; s == VLA_OK && k < n; k++)
        for (int d = 0; d < hd; d++) {
            int j = d % half;
            const float *srcc = j < q ? cr : cc, *srcs = j < q ? sr : sc;
            cos[k * hd + d] = srcc[k * half + j % q];
            sin[k * hd + d] = srcs[k * half + j % q];
        }
    free(tmp);
    return s;
}

typedef struct vision_inputs {
    vla_tensor idx[4], wt[4]; /* position-table corners [N] I32 and weights [N, 1] */
    vla_tensor cos, sin;      /* [N, head_dim] */
} vision_inputs;

static vla_status upload_inputs(const q3_config *cfg, vla_ctx *c, const q3_grid *grids, int32_t n_grids, int64_t N,
                                vision_inputs *in) {
    const q3_vision_config *v = &cfg->vision;
    int hd = v->head_dim;
    size_t bytes = (size_t)N * (2 * sizeof(int64_t) + 4 * sizeof(int32_t) + 4 * sizeof(float) + 2 * hd * sizeof(float));
    char *mem = malloc(bytes);
    if (!mem) return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory for vision tables of %lld patches", (long long)N);
    int64_t *rows = (int64_t *)mem, *cols = rows + N;
    int32_t *idx[4];
    float *wt[4];
    for (int i = 0; i < 4; i++) idx[i] = (int32_t *)(cols + N) + i * N;
    for (int i = 0; i < 4; i++) wt[i] = (float *)(idx[3] + N) + i * N;
    float *cos = wt[3] + N, *sin = cos + N * hd;
    int64_t off = 0;
    for (int32_t g = 0; g < n_grids; g++) {
        patch_coords(v, &grids[g], rows + off, cols + off);
        int32_t *gi[4];
        float *gw[4];
        for (int i = 0; i < 4; i++) gi[i] = idx[i] + off, gw[i] = wt[i] + off;
        pos_corners(v, &grids[g], rows + off, cols + off, gi, gw);
        off += (int64_t)grids[g].t * grids[g].h * grids[g].w;
    }
    vla_status s = vision_rope(v, rows, cols, N, cos, sin);
    int64_t wshape[2] = {N, 1}, rshape[2] = {N, hd};
    for (int i = 0; i < 4 && s == VLA_OK; i++) {
        s = vla_new_from_host(c, VLA_I32, 1, &N, idx[i], &in->idx[i]);
        if (s == VLA_OK) s = vla_new_from_host(c, VLA_F32, 2, wshape, wt[i], &in->wt[i]);
    }
    if (s == VLA_OK) s = vla_new_from_host(c, VLA_F32, 2, rshape, cos, &in->cos);
    if (s == VLA_OK) s = vla_new_from_host(c, VLA_F32, 2, rshape, sin, &in->sin);
    free(mem);
    return s;
}

/* ---- forward ---- */

/* Patch embedding plus the interpolated position embedding -> new h [N, D]. */
static vla_status embed(const q3_config *cfg, const q3_vision_weights *w, vla_ctx *c, const float *pixels, int64_t N,
                        const vision_inputs *in, vla_tensor *h) {
    const q3_vision_config *v = &cfg->vision;
    int64_t K = (int64_t)v->in_channels * v->temporal_patch * v->patch * v->patch;
    int64_t xs[2] = {N, K}, ws[2] = {v->hidden, K};
    vla_tensor x, wflat, rows, term, pos;
    VLA_TRY(vla_new_from_host(c, VLA_F32, 2, xs, pixels, &x));
    VLA_TRY(vla_view_reshape(&w->patch_w, 2, ws, &wflat));
    VLA_TRY(vla_matmul(c, &x, &wflat, &w->patch_b, h));
    size_t mark = vla_ctx_mark(c);
    for (int i = 0; i < 4; i++) {
        VLA_TRY(vla_get_rows(c, &w->pos_embed, &in->idx[i], &rows));
        if (i == 0) {
            VLA_TRY(vla_mul(c, &rows, &in->wt[i], &pos));
        } else {
            VLA_TRY(vla_mul(c, &rows, &in->wt[i], &term));
            VLA_TRY(vla_add_inplace(c, &pos, &term));
        }
    }
    VLA_TRY(vla_add_inplace(c, h, &pos));
    vla_ctx_release(c, mark);
    return VLA_OK;
}

/* Bidirectional attention within each frame: q, k, v [1, N, H, hd] -> out. */
static vla_status frame_attention(vla_ctx *c, const vla_tensor *q, const vla_tensor *k, const vla_tensor *v,
                                  const q3_grid *grids, int32_t n_grids, float scale, vla_tensor *out) {
    vla_attention_params ap = {scale, 0, NULL};
    if (n_grids == 1 && grids[0].t == 1) return vla_attention(c, q, k, v, &ap, out);
    VLA_TRY(vla_new(c, VLA_F32, 4, q->shape, out));
    int64_t off = 0;
    for (int32_t g = 0; g < n_grids; g++)
        for (int32_t t = 0; t < grids[g].t; t++) {
            int64_t len = (int64_t)grids[g].h * grids[g].w;
            vla_tensor qs, ks, vs, os, r;
            size_t mark = vla_ctx_mark(c);
            VLA_TRY(vla_view_slice(q, 1, off, len, &qs));
            VLA_TRY(vla_view_slice(k, 1, off, len, &ks));
            VLA_TRY(vla_view_slice(v, 1, off, len, &vs));
            VLA_TRY(vla_view_slice(out, 1, off, len, &os));
            VLA_TRY(vla_attention(c, &qs, &ks, &vs, &ap, &r));
            VLA_TRY(vla_copy_into(c, &os, &r));
            vla_ctx_release(c, mark);
            off += len;
        }
    return VLA_OK;
}

/* One pre-norm block in place on h [N, D]. */
static vla_status block(const q3_config *cfg, const q3_vision_block *b, vla_ctx *c, vla_tensor *h,
                        const vision_inputs *in, const q3_grid *grids, int32_t n_grids) {
    const q3_vision_config *v = &cfg->vision;
    int64_t N = h->shape[0];
    vla_tensor a, qkv, qkv4, q, k, val, qr, kr, o, o2, proj, m1, m2, m3;
    VLA_TRY(vla_layernorm(c, h, &b->norm1_w, &b->norm1_b, LN_EPS, &a));
    VLA_TRY(vla_matmul(c, &a, &b->qkv_w, &b->qkv_b, &qkv));
    int64_t s4[4] = {1, N, 3 * (int64_t)v->heads, v->head_dim};
    VLA_TRY(vla_view_reshape(&qkv, 4, s4, &qkv4));
    VLA_TRY(vla_view_slice(&qkv4, 2, 0, v->heads, &q));
    VLA_TRY(vla_view_slice(&qkv4, 2, v->heads, v->heads, &k));
    VLA_TRY(vla_view_slice(&qkv4, 2, 2 * (int64_t)v->heads, v->heads, &val));
    VLA_TRY(vla_rope(c, &q, &in->cos, &in->sin, &qr));
    VLA_TRY(vla_rope(c, &k, &in->cos, &in->sin, &kr));
    VLA_TRY(frame_attention(c, &qr, &kr, &val, grids, n_grids, 1.0f / sqrtf((float)v->head_dim), &o));
    int64_t s2[2] = {N, v->hidden};
    VLA_TRY(vla_view_reshape(&o, 2, s2, &o2));
    VLA_TRY(vla_matmul(c, &o2, &b->proj_w, &b->proj_b, &proj));
    VLA_TRY(vla_add_inplace(c, h, &proj));
    VLA_TRY(vla_layernorm(c, h, &b->norm2_w, &b->norm2_b, LN_EPS, &a));
    VLA_TRY(vla_matmul(c, &a, &b->fc1_w, &b->fc1_b, &m1));
    VLA_TRY(v->gelu_tanh ? vla_gelu_tanh(c, &m1, &m2) : vla_gelu_erf(c, &m1, &m2));
    VLA_TRY(vla_matmul(c, &m2, &b->fc2_w, &b->fc2_b, &m3));
    return vla_add_inplace(c, h, &m3);
}

/* Merger: LayerNorm (before or after the 2x2 concat) -> fc1 -> erf GELU -> fc2,
 * written into the preallocated out [N / merge^2, out_hidden]. */
static vla_status merge(const q3_config *cfg, const q3_merger *m, vla_ctx *c, const vla_tensor *h, vla_tensor *out) {
    const q3_vision_config *v = &cfg->vision;
    int64_t unit = (int64_t)v->merge * v->merge;
    int64_t ws[2] = {h->shape[0] / unit, h->shape[1] * unit};
    size_t mark = vla_ctx_mark(c);
    vla_tensor x, xw, y1, y2, y3;
    if (m->postshuffle_norm) {
        VLA_TRY(vla_view_reshape(h, 2, ws, &xw));
        VLA_TRY(vla_layernorm(c, &xw, &m->norm_w, &m->norm_b, LN_EPS, &x));
    } else {
        VLA_TRY(vla_layernorm(c, h, &m->norm_w, &m->norm_b, LN_EPS, &xw));
        VLA_TRY(vla_view_reshape(&xw, 2, ws, &x));
    }
    VLA_TRY(vla_matmul(c, &x, &m->fc1_w, &m->fc1_b, &y1));
    VLA_TRY(vla_gelu_erf(c, &y1, &y2));
    VLA_TRY(vla_matmul(c, &y2, &m->fc2_w, &m->fc2_b, &y3));
    VLA_TRY(vla_copy_into(c, out, &y3));
    vla_ctx_release(c, mark);
    return VLA_OK;
}

vla_status q3_vision_forward(const q3_config *cfg, const q3_vision_weights *w, vla_ctx *c, const float *pixels,
                             int64_t n_rows, const q3_grid *grids, int32_t n_grids, vla_tensor *embeds,
                             vla_tensor *deepstack) {
    const q3_vision_config *v = &cfg->vision;
    int64_t unit = (int64_t)v->merge * v->merge, total = 0;
    for (int32_t g = 0; g < n_grids; g++) total += (int64_t)grids[g].t * grids[g].h * grids[g].w;
    if (total != n_rows || n_rows % unit)
        return vla_error(VLA_ERR_SHAPE, "qwen3vl vision: %lld patch rows for image grids totalling %lld", (long long)n_rows,
                         (long long)total);
    int64_t oshape[2] = {n_rows / unit, v->out_hidden};
    VLA_TRY(vla_new(c, VLA_F32, 2, oshape, embeds));
    for (int j = 0; j < v->n_deepstack; j++) VLA_TRY(vla_new(c, VLA_F32, 2, oshape, &deepstack[j]));
    size_t mark = vla_ctx_mark(c);
    vision_inputs in;
    vla_tensor h;
    VLA_TRY(upload_inputs(cfg, c, grids, n_grids, n_rows, &in));
    VLA_TRY(embed(cfg, w, c, pixels, n_rows, &in, &h));
    int produced = 0;
    for (int l = 0; l < v->depth; l++) {
        size_t block_mark = vla_ctx_mark(c);
        VLA_TRY(block(cfg, &w->blocks[l], c, &h, &in, grids, n_grids));
        vla_ctx_release(c, block_mark);
        /* DeepStack features are listed in block order; the merger is the one at
         * the block's position in deepstack_visual_indexes (as HF's .index()). */
        for (int j = 0; j < v->n_deepstack; j++)
            if (v->deepstack[j] == l) {
                VLA_TRY(merge(cfg, &w->deepstack[j], c, &h, &deepstack[produced++]));
                break;
            }
    }
    VLA_TRY(merge(cfg, &w->merger, c, &h, embeds));
    vla_ctx_release(c, mark);
    return VLA_OK;
}
