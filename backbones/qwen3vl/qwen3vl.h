/* Qwen3-VL backbone: shared declarations of the plugin's parts.
 * config.c reads the model's config.json / preprocessor_config.json,
 * preprocess.c turns images into patch rows, vision.c runs the vision tower,
 * positions.c builds the 3-D M-RoPE positions, text.c runs the decoder,
 * plugin.c ties them to the backbone vtable. */
#ifndef Q3_QWEN3VL_H
#define Q3_QWEN3VL_H

#include <stdbool.h>
#include <stdint.h>

#include "vla/backbone.h"
#include "vla/ctx.h"
#include "vla/image.h"
#include "vla/params.h"

#define Q3_MAX_DEEPSTACK 16

typedef struct q3_vision_config {
    int32_t depth, hidden, heads, head_dim, mlp;
    int32_t in_channels, patch, temporal_patch, merge;
    int32_t num_pos, grid_side; /* learned position table: grid_side^2 rows */
    int32_t out_hidden;
    int32_t n_deepstack, deepstack[Q3_MAX_DEEPSTACK]; /* vision block indices */
    bool gelu_tanh;                                   /* block MLP activation (else erf GELU) */
} q3_vision_config;

typedef struct q3_text_config {
    int32_t hidden, layers, heads, kv_heads, head_dim, mlp, vocab;
    double eps, rope_theta;
    int mrope_section[3];
    bool attention_bias;
} q3_text_config;

/* The image processor (preprocessor_config.json) plus the optional
 * pre-resize StarVLA applies before it. */
typedef struct q3_image_config {
    int64_t min_pixels, max_pixels;
    float mean[3], std[3]; /* already fused with rescale_factor, as the fast processor does */
    int32_t pre_height, pre_width; /* 0: no pre-resize */
    vla_resample pre_filter;
} q3_image_config;

typedef struct q3_config {
    q3_vision_config vision;
    q3_text_config text;
    q3_image_config image;
    int32_t image_token_id, video_token_id, vision_start_id, vision_end_id, pad_id;
    bool tie_embeddings;
} q3_config;

/* config.c: read everything the plugin needs from env (see docs/qwen3vl.md). */
vla_status q3_config_load(const vla_plugin_env *env, q3_config *cfg);

/* ---- preprocessing (preprocess.c) ---- */

typedef struct q3_grid {
    int32_t t, h, w; /* patch grid (image_grid_thw) */
} q3_grid;

/* transformers' smart_resize (round half to even, IEEE double). */
vla_status q3_smart_resize(int64_t height, int64_t width, int32_t factor, int64_t min_pixels,
                           int64_t max_pixels, int32_t *out_h, int32_t *out_w);
vla_status q3_image_grid(const q3_config *cfg, const vla_image *img, q3_grid *g);
int32_t q3_grid_tokens(const q3_config *cfg, const q3_grid *g); /* LLM tokens: t*h*w / merge^2 */
/* Patch rows of one image: rows[g.t*g.h*g.w][C*T*P*P], malloc'ed. */
vla_status q3_preprocess(const q3_config *cfg, const vla_image *img, q3_grid *g, float **rows);

/* ---- weights ---- */

typedef struct q3_vision_block {
    vla_tensor norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b;
    vla_tensor norm2_w, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b;
} q3_vision_block;

typedef struct q3_merger {
    vla_tensor norm_w, norm_b, fc1_w, fc1_b, fc2_w, fc2_b;
    bool postshuffle_norm; /* DeepStack mergers norm the 2x2-concatenated features */
} q3_merger;

typedef struct q3_vision_weights {
    vla_tensor patch_w, patch_b, pos_embed;
    q3_vision_block *blocks;
    q3_merger merger;
    q3_merger deepstack[Q3_MAX_DEEPSTACK];
} q3_vision_weights;

typedef struct q3_text_layer {
    vla_tensor in_norm, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, q_norm, k_norm;
    vla_tensor post_norm, gate_w, up_w, down_w;
} q3_text_layer;

typedef struct q3_text_weights {
    vla_tensor embed, norm, lm_head;
    q3_text_layer *layers;
} q3_text_weights;

/* Declare "<base><leaf>": a vector (bias, norm gain) or a [rows, cols] matrix. */
static inline vla_status q3_add_vec(vla_params *p, vla_tensor *slot, vla_param_kind kind, int64_t n, const char *base,
                                    const char *leaf) {
    return vla_params_add(p, slot, kind, 1, &n, "%s%s", base, leaf);
}
static inline vla_status q3_add_mat(vla_params *p, vla_tensor *slot, int64_t rows, int64_t cols, const char *base,
                                    const char *leaf) {
    int64_t shape[2] = {rows, cols};
    return vla_params_add(p, slot, VLA_PARAM_MATRIX, 2, shape, "%s%s", base, leaf);
}

vla_status q3_vision_declare(const q3_config *cfg, q3_vision_weights *w, vla_params *p);
vla_status q3_text_declare(const q3_config *cfg, q3_text_weights *w, vla_params *p);

/* ---- vision tower (vision.c) ---- */

/* pixels: host rows of all images [n_rows, C*T*P*P] in prompt order. Outputs
 * (allocated in c): embeds [M, out_hidden] and deepstack[j] [M, out_hidden],
 * M = n_rows / merge^2. */
vla_status q3_vision_forward(const q3_config *cfg, const q3_vision_weights *w, vla_ctx *c, const float *pixels,
                             int64_t n_rows, const q3_grid *grids, int32_t n_grids, vla_tensor *embeds,
                             vla_tensor *deepstack);

/* ---- positions (positions.c) ---- */

/* get_rope_index for a left-padded batch: ids/mask [B*S]; grids of all images
 * in order. pos: [3][B*S] (t, h, w; padded slots 1), delta: [B]. */
vla_status q3_rope_index(const q3_config *cfg, const int32_t *ids, const uint8_t *mask, int32_t batch, int32_t seq,
                         const q3_grid *grids, int32_t n_grids, int64_t *pos, int64_t *delta);
/* cos/sin tables [n, head_dim] for the decoder (interleaved M-RoPE). */
vla_status q3_text_rope_tables(const q3_config *cfg, const int64_t *pos, int64_t n, float *cos_out, float *sin_out);

/* ---- decoder (text.c) ---- */

/* Per-layer K/V of the last encode() plus the tokens appended by step(). */
typedef struct q3_kv_cache {
    vla_backend *backend;
    void *mem;
    int32_t layers, batch, cap, len, kv_heads, head_dim;
    uint8_t *mask;  /* host [batch * cap]: 1 = real token */
    int64_t *delta; /* [batch] rope delta */
} q3_kv_cache;

vla_status q3_kv_reserve(q3_kv_cache *kv, vla_ctx *c, const q3_config *cfg, int32_t batch, int32_t need, bool keep);
void q3_kv_free(q3_kv_cache *kv);

/* One decoder layer in place on h [B, S, D] (contiguous); the S new tokens
 * occupy cache slots [kv->len, kv->len + S). cos/sin [B, S, head_dim];
 * key_mask [B, kv->len + S]. */
vla_status q3_text_layer_forward(const q3_config *cfg, const q3_text_layer *w, int32_t layer, vla_ctx *c,
                                 vla_tensor *h, const vla_tensor *cos, const vla_tensor *sin,
                                 const vla_tensor *key_mask, q3_kv_cache *kv);
/* Logits of the last position of h [B, S, D] (final norm applied here) -> [B, V]. */
vla_status q3_text_logits(const q3_config *cfg, const q3_text_weights *w, vla_ctx *c, const vla_tensor *h,
                          vla_tensor *logits);

#endif
