/* Internal interface of the layer-wise flow-matching DiT head (StarVLA's
 * LayerwiseFlowmatchingActionHead, serving QwenPI_v3 and QwenPI). Shared by
 * the plugin's files and by its tests; not a public header.
 *
 * Each concept lives in its own file with its parameter declaration next to
 * its forward pass:
 *   config.c        configuration (head section + StarVLA keys)
 *   linear.c        nn.Linear
 *   projector.c     per-layer LayerNorm + Linear (QwenPI_v3) or identity
 *   timestep.c      sinusoids and the timestep MLP
 *   dit_block.c     one DiT block (AdaLN, attention, feed-forward)
 *   action_codec.c  action encoder/decoder, state encoder, token embeddings
 *   head.c          lifetime and the full parameter declaration
 *   sampler.c       the flow-matching Euler loop (optimised and reference paths)
 *   plugin.c        the head vtable */
#ifndef LWFM_LAYERWISE_FM_H
#define LWFM_LAYERWISE_FM_H

#include <stdbool.h>
#include <stdint.h>

#include "vla/head.h"

/* StarVLA's MLP(...) default hidden width, used by the action decoder and the
 * state encoder whatever the DiT width is. */
#define LWFM_MLP_HIDDEN 1024
/* diffusers Timesteps(num_channels=256) in the DiT's timestep encoder. */
#define LWFM_TIME_CHANNELS 256
#define LWFM_NORM_EPS 1e-5f

typedef enum lwfm_projector_kind {
    LWFM_PROJECTOR_LAYERNORM_LINEAR = 0, /* QwenPI_v3: LN(H) + Linear(H -> D) per layer */
    LWFM_PROJECTOR_IDENTITY              /* QwenPI, or QwenPI_v3 with D == H */
} lwfm_projector_kind;

typedef struct lwfm_config {
    int32_t vlm_hidden;  /* H */
    int32_t num_layers;  /* L: DiT blocks = VLM decoder layers */
    int32_t dit_hidden;  /* D */
    int32_t head_dim;
    int32_t num_heads;
    int32_t action_dim;  /* A */
    int32_t state_dim;
    int32_t horizon;     /* T */
    int32_t num_steps;   /* N Euler steps */
    int32_t num_future;  /* K future tokens */
    int32_t max_seq_len; /* rows of the position embedding */
    int32_t num_buckets;
    int32_t output_dim;  /* proj_out_2 rows (declared, unused at inference) */
    bool add_pos_embed;
    bool interleave;     /* odd blocks self-attend (canonical); false = legacy all-cross */
    bool use_state_token;
    bool reference_path;
    lwfm_projector_kind projector;
    char param_prefix[128];
} lwfm_config;

/* Resolve the configuration from env->node (the head section) and
 * env->root's framework.action_model.* (StarVLA's own key names). */
vla_status lwfm_config_load(const vla_plugin_env *env, const vla_backbone_info *vlm, lwfm_config *cfg);

typedef struct lwfm_linear {
    vla_tensor w; /* [out, in] */
    vla_tensor b; /* [out] */
} lwfm_linear;

vla_status lwfm_linear_declare(vla_params *p, lwfm_linear *l, int64_t out, int64_t in, const char *prefix,
                               const char *name);
vla_status lwfm_linear_apply(vla_ctx *c, const lwfm_linear *l, const vla_tensor *x, vla_tensor *out);

/* ---- projector.c ------------------------------------------------------- */
typedef struct lwfm_projector {
    vla_tensor ln_w, ln_b;
    lwfm_linear linear;
} lwfm_projector;

vla_status lwfm_projector_declare(vla_params *p, const lwfm_config *cfg, lwfm_projector *proj, int layer);
/* E = projector(hidden) [B, S, D]; for the identity projector E is `hidden` itself. */
vla_status lwfm_projector_apply(vla_ctx *c, const lwfm_config *cfg, const lwfm_projector *proj,
                                const vla_tensor *hidden, vla_tensor *out);

/* ---- timestep.c -------------------------------------------------------- */
typedef struct lwfm_timestep {
    lwfm_linear linear_1, linear_2;
} lwfm_timestep;

/* diffusers get_timestep_embedding(tau, 256, flip_sin_to_cos=True,
 * downscale_freq_shift=1) in float32 arithmetic: [cos(tau f_j)] ++ [sin(tau f_j)],
 * f_j = exp(-ln(10000) j / 127). out[LWFM_TIME_CHANNELS]. */
void lwfm_time_sinusoid(int32_t bucket, float *out);
/* StarVLA's SinusoidalPositionalEncoding(width) in float32 arithmetic:
 * [sin(tau g_j)] ++ [cos(tau g_j)], g_j = exp(-j ln(10000) / (width/2)). out[width]. */
void lwfm_action_sinusoid(int32_t bucket, int32_t width, float *out);
/* Bucket of Euler step k of n: int(k / n * num_buckets) as Python computes it. */
int32_t lwfm_step_bucket(int32_t k, int32_t n, int32_t num_buckets);

vla_status lwfm_timestep_declare(vla_params *p, const lwfm_config *cfg, lwfm_timestep *ts);
/* temb = linear_2(SiLU(linear_1(sinusoid(bucket)))) for each row of
 * `buckets`: out [n, D]. */
vla_status lwfm_timestep_embed(vla_ctx *c, const lwfm_timestep *ts, const int32_t *buckets, int n,
                               vla_tensor *out);

/* ---- dit_block.c ------------------------------------------------------- */
typedef struct lwfm_block {
    lwfm_linear adaln; /* norm1.linear [2D, D]: rows 0..D-1 scale, D..2D-1 shift */
    lwfm_linear q, k, v, out;
    lwfm_linear ff_in, ff_out;
} lwfm_block;

vla_status lwfm_block_declare(vla_params *p, const lwfm_config *cfg, lwfm_block *blk, int index);
bool lwfm_block_is_self(const lwfm_config *cfg, int index);
/* AdaLN (scale, shift) [n, D] each from SiLU(temb) [n, D]. */
vla_status lwfm_block_adaln(vla_ctx *c, const lwfm_block *blk, const vla_tensor *silu_temb, vla_tensor *scale,
                            vla_tensor *shift);
/* Cross-attention keys and values of `memory` [B, S, D] as [B, S, heads, head_dim]. */
vla_status lwfm_block_kv(vla_ctx *c, const lwfm_config *cfg, const lwfm_block *blk, const vla_tensor *memory,
                         vla_tensor *k, vla_tensor *v);
/* h [B, S, D] updated in place. scale/shift [B, D]. For a cross block, k/v
 * are lwfm_block_kv() of its memory and key_mask is [B, Sk] or NULL; for a
 * self block k, v and key_mask are NULL. Temporaries are released. */
vla_status lwfm_block_forward(vla_ctx *c, const lwfm_config *cfg, const lwfm_block *blk, vla_tensor *h,
                              const vla_tensor *scale, const vla_tensor *shift, const vla_tensor *k,
                              const vla_tensor *v, const vla_tensor *key_mask);

/* ---- action_codec.c ---------------------------------------------------- */
typedef struct lwfm_action_codec {
    lwfm_linear enc1, enc2, enc3; /* action_encoder.layer1..3 */
    lwfm_linear dec1, dec2;       /* action_decoder.layer1..2 */
    lwfm_linear state1, state2;   /* state_encoder.layer1..2 */
    vla_tensor future_tokens;     /* [K, D] */
    vla_tensor position_embedding; /* [max_seq_len, D] (if add_pos_embed) */
} lwfm_action_codec;

vla_status lwfm_codec_declare(vla_params *p, const lwfm_config *cfg, lwfm_action_codec *codec);
/* action_encoder(x, bucket) (+ position rows 0..T-1 when add_pos_embed):
 * x [B, T, A] -> [B, T, D]. */
vla_status lwfm_codec_encode_actions(vla_ctx *c, const lwfm_config *cfg, const lwfm_action_codec *codec,
                                     const vla_tensor *x, int32_t bucket, vla_tensor *out);
/* The same without the position embedding (what StarVLA's ActionEncoder returns). */
vla_status lwfm_codec_action_encoder(vla_ctx *c, const lwfm_config *cfg, const lwfm_action_codec *codec,
                                     const vla_tensor *x, int32_t bucket, vla_tensor *out);
/* state [B, state_dim] -> [B, 1, D]. */
vla_status lwfm_codec_encode_state(vla_ctx *c, const lwfm_action_codec *codec, const vla_tensor *state,
                                   vla_tensor *out);
/* future tokens broadcast over the batch: [B, K, D]. */
vla_status lwfm_codec_future_tokens(vla_ctx *c, const lwfm_action_codec *codec, int32_t batch, vla_tensor *out);
/* action_decoder on the last T tokens of h [B, S, D] -> velocity [B, T, A]. */
vla_status lwfm_codec_decode(vla_ctx *c, const lwfm_config *cfg, const lwfm_action_codec *codec,
                             const vla_tensor *h, vla_tensor *out);

/* ---- the head ---------------------------------------------------------- */
typedef struct lwfm_head {
    lwfm_config cfg;
    lwfm_projector *proj; /* [L], NULL for the identity projector */
    lwfm_timestep timestep;
    lwfm_block *blocks;   /* [L] */
    lwfm_action_codec codec;
    lwfm_linear proj_out_1, proj_out_2; /* in every checkpoint, unused by this head */
} lwfm_head;

vla_status lwfm_head_create(const vla_plugin_env *env, const vla_backbone_info *vlm, lwfm_head **out);
void lwfm_head_destroy(lwfm_head *h);
vla_status lwfm_head_declare(lwfm_head *h, vla_params *p);

/* ---- sampler.c --------------------------------------------------------- */
/* Optional host copies of intermediates, for tests and debugging. */
typedef struct lwfm_trace {
    float *velocities; /* [N, B, T, A] or NULL */
} lwfm_trace;

/* Sample normalised actions [B, T, A] (host). Noise: in->noise, else drawn
 * from vla_rng seeded with in->seed, row-major [B, T, A] in that order. */
vla_status lwfm_sample(lwfm_head *h, vla_ctx *c, const vla_vlm_out *vlm, const vla_head_input *in,
                       float *actions, lwfm_trace *trace);

#endif
