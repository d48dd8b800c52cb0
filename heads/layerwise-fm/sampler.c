/* Flow-matching sampling (LayerwiseFlowmatchingActionHead.predict_action):
 * x ~ N(0, I) [B, T, A]; for k = 0..N-1: bucket = int(k/N * buckets),
 * v = decoder(DiT(tokens(x, bucket), E_0..E_{L-1}, bucket)), x += v / N.
 *
 * Two paths give the same actions:
 * - reference (reference_path: true): the literal computation, every token
 *   through every block each step, cross-attention K/V and AdaLN recomputed
 *   in every block call;
 * - optimised (default): per call, each cross block's K/V is computed once
 *   (it depends only on the VLM output) and the AdaLN (scale, shift) of every
 *   (step, block) in one batched pass (it depends only on the bucket). In the
 *   legacy all-cross mode every op is per token, so the future tokens and the
 *   state token cannot reach the action rows and only the T action tokens are
 *   run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layerwise_fm.h"
#include "vla/ops.h"
#include "vla/rng.h"

typedef struct sample_state {
    int32_t batch;
    int32_t first_hidden; /* vlm->hidden index feeding block 0 */
    int32_t *buckets;     /* [N] */
    vla_tensor *scale, *shift; /* [L]: optimised [N*B, D] for all steps; reference [B, D] of the step */
    vla_tensor *k, *v;         /* [L]: optimised path, cross blocks */
    vla_tensor *memory;        /* [L]: reference path, E_i of cross blocks */
    const vla_tensor *key_mask;
    vla_tensor state; /* [B, state_dim] when the state token is used */
} sample_state;

static vla_status check_hidden(const lwfm_config *cfg, const vla_vlm_out *vlm, int32_t j) {
    const vla_tensor *t = &vlm->hidden[j];
    if (!t->data)
        return vla_error(VLA_ERR_INVALID_ARG, "layerwise-fm: hidden state %d was not provided by the backbone", j);
    if (t->dtype != VLA_F32 || t->ndim != 3 || t->shape[0] != vlm->batch || t->shape[1] != vlm->seq_len ||
        t->shape[2] != cfg->vlm_hidden) {
        char buf[96];
        return vla_error(VLA_ERR_SHAPE, "layerwise-fm: hidden state %d is %s %s, expected f32 [%d, %d, %d]", j,
                         vla_dtype_name(t->dtype), vla_tensor_shape_str(t, buf, sizeof buf), vlm->batch,
                         vlm->seq_len, cfg->vlm_hidden);
    }
    return VLA_OK;
}

static vla_status check_finite(const float *x, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return vla_error(VLA_ERR_INVALID_ARG, "layerwise-fm: %s[%zu] is %g (not finite)", what, i, (double)x[i]);
    return VLA_OK;
}

static vla_status check_inputs(const lwfm_config *cfg, const vla_vlm_out *vlm, const vla_head_input *in,
                               sample_state *st) {
    if (!vlm || !in) return vla_error(VLA_ERR_INVALID_ARG, "layerwise-fm: predict needs backbone outputs and inputs");
    if (in->batch < 1 || in->batch != vlm->batch)
        return vla_error(VLA_ERR_INVALID_ARG, "layerwise-fm: input batch %d does not match the backbone's batch %d",
                         in->batch, vlm->batch);
    if (vlm->hidden_size != cfg->vlm_hidden)
        return vla_error(VLA_ERR_SHAPE, "layerwise-fm: backbone hidden size %d, the head was built for %d",
                         vlm->hidden_size, cfg->vlm_hidden);
    if (!vlm->hidden || vlm->n_hidden < cfg->num_layers)
        return vla_error(VLA_ERR_INVALID_ARG,
                         "layerwise-fm: the head needs the last %d hidden states, the backbone gave %d",
                         cfg->num_layers, vlm->n_hidden);
    st->batch = in->batch;
    st->first_hidden = vlm->n_hidden - cfg->num_layers;
    for (int32_t i = 0; i < cfg->num_layers; i++)
        if (!lwfm_block_is_self(cfg, i)) VLA_TRY(check_hidden(cfg, vlm, st->first_hidden + i));
    st->key_mask = vlm->attention_mask.data ? &vlm->attention_mask : NULL;
    if (cfg->use_state_token) {
        if (!in->state)
            return vla_error(VLA_ERR_INVALID_ARG, "layerwise-fm: this head takes the robot state (use_state_token) "
                                                  "but none was given");
        VLA_TRY(check_finite(in->state, (size_t)in->batch * (size_t)cfg->state_dim, "state"));
    }
    if (in->noise)
        VLA_TRY(check_finite(in->noise, (size_t)in->batch * (size_t)cfg->horizon * (size_t)cfg->action_dim, "noise"));
    return VLA_OK;
}

/* AdaLN (scale, shift) of every block for n buckets, each row repeated over
 * the batch: [n * B, D]. */
static vla_status conditioning(vla_ctx *c, const lwfm_head *h, const int32_t *buckets, int n, sample_state *st) {
    const int rows = n * st->batch;
    int32_t *rep = malloc((size_t)rows * sizeof *rep);
    if (!rep) return vla_error(VLA_ERR_OOM, "layerwise-fm: out of memory");
    for (int r = 0; r < rows; r++) rep[r] = buckets[r / st->batch];
    vla_tensor temb, act;
    vla_status s = lwfm_timestep_embed(c, &h->timestep, rep, rows, &temb);
    free(rep);
    if (s == VLA_OK) s = vla_silu(c, &temb, &act);
    for (int32_t i = 0; s == VLA_OK && i < h->cfg.num_layers; i++)
        s = lwfm_block_adaln(c, &h->blocks[i], &act, &st->scale[i], &st->shift[i]);
    return s;
}

/* dst <- projector_i(hidden) or its K/V, computed in a released scope. */
static vla_status prepare_block_memory(vla_ctx *c, const lwfm_head *h, const vla_tensor *hidden, int32_t i,
                                       sample_state *st) {
    const lwfm_config *cfg = &h->cfg;
    const int64_t b = hidden->shape[0], s_len = hidden->shape[1];
    if (cfg->reference_path && cfg->projector == LWFM_PROJECTOR_IDENTITY) {
        st->memory[i] = *hidden;
        return VLA_OK;
    }
    if (cfg->reference_path) {
        int64_t shape[3] = {b, s_len, cfg->dit_hidden};
        VLA_TRY(vla_new(c, VLA_F32, 3, shape, &st->memory[i]));
    } else {
        int64_t shape[4] = {b, s_len, cfg->num_heads, cfg->head_dim};
        VLA_TRY(vla_new(c, VLA_F32, 4, shape, &st->k[i]));
        VLA_TRY(vla_new(c, VLA_F32, 4, shape, &st->v[i]));
    }
    size_t mark = vla_ctx_mark(c);
    vla_tensor e, kt, vt;
    vla_status s = lwfm_projector_apply(c, cfg, h->proj ? &h->proj[i] : NULL, hidden, &e);
    if (s == VLA_OK && cfg->reference_path) s = vla_copy_into(c, &st->memory[i], &e);
    if (s == VLA_OK && !cfg->reference_path) {
        s = lwfm_block_kv(c, cfg, &h->blocks[i], &e, &kt, &vt);
        if (s == VLA_OK) s = vla_copy_into(c, &st->k[i], &kt);
        if (s == VLA_OK) s = vla_copy_into(c, &st->v[i], &vt);
    }
    vla_ctx_release(c, mark);
    return s;
}

/* The DiT input: [state token?, future tokens, action tokens] on the
 * reference path and in interleaved mode; only the action tokens otherwise. */
static vla_status build_tokens(vla_ctx *c, const lwfm_head *h, const sample_state *st, const vla_tensor *x,
                               int32_t bucket, vla_tensor *out) {
    const lwfm_config *cfg = &h->cfg;
    vla_tensor actions, state_tok, future;
    VLA_TRY(lwfm_codec_encode_actions(c, cfg, &h->codec, x, bucket, &actions));
    if (!cfg->reference_path && !cfg->interleave) {
        *out = actions;
        return VLA_OK;
    }
    const vla_tensor *parts[3];
    int n = 0;
    if (cfg->use_state_token) {
        VLA_TRY(lwfm_codec_encode_state(c, &h->codec, &st->state, &state_tok));
        parts[n++] = &state_tok;
    }
    if (cfg->num_future > 0) {
        VLA_TRY(lwfm_codec_future_tokens(c, &h->codec, st->batch, &future));
        parts[n++] = &future;
    }
    parts[n++] = &actions;
    if (n == 1) {
        *out = actions;
        return VLA_OK;
    }
    return vla_concat(c, parts, n, 1, out);
}

static vla_status run_block(vla_ctx *c, const lwfm_head *h, const sample_state *st, int32_t step, int32_t i,
                            vla_tensor *tokens) {
    const lwfm_config *cfg = &h->cfg;
    const lwfm_block *blk = &h->blocks[i];
    vla_tensor scale = st->scale[i], shift = st->shift[i];
    if (!cfg->reference_path) {
        VLA_TRY(vla_view_slice(&st->scale[i], 0, (int64_t)step * st->batch, st->batch, &scale));
        VLA_TRY(vla_view_slice(&st->shift[i], 0, (int64_t)step * st->batch, st->batch, &shift));
    }
    if (lwfm_block_is_self(cfg, i))
        return lwfm_block_forward(c, cfg, blk, tokens, &scale, &shift, NULL, NULL, NULL);
    if (!cfg->reference_path)
        return lwfm_block_forward(c, cfg, blk, tokens, &scale, &shift, &st->k[i], &st->v[i], st->key_mask);
    size_t mark = vla_ctx_mark(c);
    vla_tensor k, v;
    vla_status s = lwfm_block_kv(c, cfg, blk, &st->memory[i], &k, &v);
    if (s == VLA_OK) s = lwfm_block_forward(c, cfg, blk, tokens, &scale, &shift, &k, &v, st->key_mask);
    vla_ctx_release(c, mark);
    return s;
}

static vla_status euler_step(vla_ctx *c, const lwfm_head *h, sample_state *st, int32_t step, vla_tensor *x,
                             float *velocity_host) {
    const lwfm_config *cfg = &h->cfg;
    vla_tensor tokens, velocity, dx;
    VLA_TRY(build_tokens(c, h, st, x, st->buckets[step], &tokens));
    if (cfg->reference_path) VLA_TRY(conditioning(c, h, &st->buckets[step], 1, st));
    for (int32_t i = 0; i < cfg->num_layers; i++) VLA_TRY(run_block(c, h, st, step, i, &tokens));
    VLA_TRY(lwfm_codec_decode(c, cfg, &h->codec, &tokens, &velocity));
    if (velocity_host) VLA_TRY(vla_to_host(c, &velocity, velocity_host, vla_tensor_nbytes(&velocity)));
    /* x + dt * v with dt = 1/N rounded to float, as torch scales by a Python float */
    VLA_TRY(vla_scale(c, &velocity, (float)(1.0 / cfg->num_steps), 0.0f, &dx));
    return vla_add_inplace(c, x, &dx);
}

static vla_status upload_noise(vla_ctx *c, const lwfm_config *cfg, const vla_head_input *in, vla_tensor *x) {
    const int64_t shape[3] = {in->batch, cfg->horizon, cfg->action_dim};
    if (in->noise) return vla_new_from_host(c, VLA_F32, 3, shape, in->noise, x);
    const size_t n = (size_t)(shape[0] * shape[1] * shape[2]);
    float *host = malloc(n * sizeof *host);
    if (!host) return vla_error(VLA_ERR_OOM, "layerwise-fm: noise: out of memory");
    vla_rng rng;
    vla_rng_seed(&rng, in->seed);
    vla_rng_fill_normal(&rng, host, n, 0.0f, 1.0f);
    vla_status s = vla_new_from_host(c, VLA_F32, 3, shape, host, x);
    free(host);
    return s;
}

static vla_status sample(lwfm_head *h, vla_ctx *c, const vla_vlm_out *vlm, const vla_head_input *in,
                         sample_state *st, float *actions, lwfm_trace *trace) {
    const lwfm_config *cfg = &h->cfg;
    vla_tensor x;
    VLA_TRY(upload_noise(c, cfg, in, &x));
    for (int32_t k = 0; k < cfg->num_steps; k++) st->buckets[k] = lwfm_step_bucket(k, cfg->num_steps, cfg->num_buckets);
    if (cfg->use_state_token) {
        int64_t shape[2] = {in->batch, cfg->state_dim};
        VLA_TRY(vla_new_from_host(c, VLA_F32, 2, shape, in->state, &st->state));
    }
    for (int32_t i = 0; i < cfg->num_layers; i++)
        if (!lwfm_block_is_self(cfg, i))
            VLA_TRY(prepare_block_memory(c, h, &vlm->hidden[st->first_hidden + i], i, st));
    if (!cfg->reference_path) VLA_TRY(conditioning(c, h, st->buckets, cfg->num_steps, st));
    const size_t per_step = (size_t)in->batch * (size_t)cfg->horizon * (size_t)cfg->action_dim;
    for (int32_t k = 0; k < cfg->num_steps; k++) {
        size_t mark = vla_ctx_mark(c);
        float *vel = trace && trace->velocities ? trace->velocities + (size_t)k * per_step : NULL;
        vla_status s = euler_step(c, h, st, k, &x, vel);
        vla_ctx_release(c, mark);
        VLA_TRY(s);
    }
    return vla_to_host(c, &x, actions, per_step * sizeof *actions);
}

vla_status lwfm_sample(lwfm_head *h, vla_ctx *c, const vla_vlm_out *vlm, const vla_head_input *in,
                       float *actions, lwfm_trace *trace) {
    if (!h || !c || !actions) return vla_error(VLA_ERR_INVALID_ARG, "layerwise-fm: predict: NULL argument");
    sample_state st;
    memset(&st, 0, sizeof st);
    VLA_TRY(check_inputs(&h->cfg, vlm, in, &st));
    const size_t n = (size_t)h->cfg.num_layers;
    st.buckets = calloc((size_t)h->cfg.num_steps, sizeof *st.buckets);
    vla_tensor *slots = calloc(5 * n, sizeof *slots);
    vla_status s = VLA_OK;
    if (!st.buckets || !slots) {
        s = vla_error(VLA_ERR_OOM, "layerwise-fm: out of memory");
    } else {
        st.scale = slots;
        st.shift = slots + n;
        st.k = slots + 2 * n;
        st.v = slots + 3 * n;
        st.memory = slots + 4 * n;
        size_t mark = vla_ctx_mark(c);
        s = sample(h, c, vlm, in, &st, actions, trace);
        vla_ctx_release(c, mark);
    }
    free(slots);
    free(st.buckets);
    return s;
}
