/* The DiT's token interface (StarVLA LayerwiseFM_ActionHeader.py):
 *   action_encoder  x[B,T,A], tau -> layer3(swish(layer2([layer1(x), sinusoid_D(tau)])))
 *   position rows   position_embedding[0..T-1] added to the action tokens
 *   future_tokens   K learned query tokens
 *   state_encoder   MLP(state_dim -> 1024 -> D, ReLU), one leading token (QwenPI)
 *   action_decoder  MLP(D -> 1024 -> A, ReLU) on the last T tokens = velocity */
#include <stdio.h>
#include <stdlib.h>

#include "layerwise_fm.h"
#include "vla/ops.h"

vla_status lwfm_codec_declare(vla_params *p, const lwfm_config *cfg, lwfm_action_codec *codec) {
    char prefix[192];
    const int64_t d = cfg->dit_hidden;
    snprintf(prefix, sizeof prefix, "%saction_model.", cfg->param_prefix);
    /* StarVLA builds the state encoder whenever state_dim is set, used or not */
    VLA_TRY(lwfm_linear_declare(p, &codec->state1, LWFM_MLP_HIDDEN, cfg->state_dim, prefix, "state_encoder.layer1"));
    VLA_TRY(lwfm_linear_declare(p, &codec->state2, d, LWFM_MLP_HIDDEN, prefix, "state_encoder.layer2"));
    VLA_TRY(lwfm_linear_declare(p, &codec->enc1, d, cfg->action_dim, prefix, "action_encoder.layer1"));
    VLA_TRY(lwfm_linear_declare(p, &codec->enc2, d, 2 * d, prefix, "action_encoder.layer2"));
    VLA_TRY(lwfm_linear_declare(p, &codec->enc3, d, d, prefix, "action_encoder.layer3"));
    VLA_TRY(lwfm_linear_declare(p, &codec->dec1, LWFM_MLP_HIDDEN, d, prefix, "action_decoder.layer1"));
    VLA_TRY(lwfm_linear_declare(p, &codec->dec2, cfg->action_dim, LWFM_MLP_HIDDEN, prefix, "action_decoder.layer2"));
    int64_t fshape[2] = {cfg->num_future, d};
    VLA_TRY(vla_params_add(p, &codec->future_tokens, VLA_PARAM_EMBEDDING, 2, fshape, "%sfuture_tokens.weight",
                           prefix));
    if (!cfg->add_pos_embed) return VLA_OK;
    int64_t pshape[2] = {cfg->max_seq_len, d};
    return vla_params_add(p, &codec->position_embedding, VLA_PARAM_EMBEDDING, 2, pshape,
                          "%sposition_embedding.weight", prefix);
}

/* The bucket's sinusoid, the same for every (b, t): one uploaded row seen
 * as [B, T, D] through zero strides. */
static vla_status action_sinusoid(vla_ctx *c, const lwfm_config *cfg, int64_t batch, int64_t horizon,
                                  int32_t bucket, vla_tensor *out) {
    const int64_t d = cfg->dit_hidden;
    float *host = malloc((size_t)d * sizeof *host);
    if (!host) return vla_error(VLA_ERR_OOM, "layerwise-fm: action sinusoid: out of memory");
    lwfm_action_sinusoid(bucket, cfg->dit_hidden, host);
    vla_status s = vla_new_from_host(c, VLA_F32, 1, &d, host, out);
    free(host);
    VLA_TRY(s);
    out->ndim = 3;
    out->shape[0] = batch;
    out->shape[1] = horizon;
    out->shape[2] = d;
    out->stride[0] = out->stride[1] = 0;
    out->stride[2] = 1;
    return VLA_OK;
}

vla_status lwfm_codec_action_encoder(vla_ctx *c, const lwfm_config *cfg, const lwfm_action_codec *codec,
                                     const vla_tensor *x, int32_t bucket, vla_tensor *out) {
    vla_tensor a, sinus, cat, h, act;
    VLA_TRY(lwfm_linear_apply(c, &codec->enc1, x, &a));
    VLA_TRY(action_sinusoid(c, cfg, x->shape[0], x->shape[1], bucket, &sinus));
    const vla_tensor *parts[2] = {&a, &sinus};
    VLA_TRY(vla_concat(c, parts, 2, 2, &cat));
    VLA_TRY(lwfm_linear_apply(c, &codec->enc2, &cat, &h));
    VLA_TRY(vla_silu(c, &h, &act)); /* swish */
    return lwfm_linear_apply(c, &codec->enc3, &act, out);
}

vla_status lwfm_codec_encode_actions(vla_ctx *c, const lwfm_config *cfg, const lwfm_action_codec *codec,
                                     const vla_tensor *x, int32_t bucket, vla_tensor *out) {
    VLA_TRY(lwfm_codec_action_encoder(c, cfg, codec, x, bucket, out));
    if (!cfg->add_pos_embed) return VLA_OK;
    vla_tensor rows, pos;
    VLA_TRY(vla_view_slice(&codec->position_embedding, 0, 0, x->shape[1], &rows));
    VLA_TRY(vla_cast(c, &rows, VLA_F32, &pos)); /* the table may be stored in bf16 */
    return vla_add_inplace(c, out, &pos);
}

vla_status lwfm_codec_encode_state(vla_ctx *c, const lwfm_action_codec *codec, const vla_tensor *state,
                                   vla_tensor *out) {
    vla_tensor s3, h, act;
    int64_t shape[3] = {state->shape[0], 1, state->shape[1]};
    VLA_TRY(vla_view_reshape(state, 3, shape, &s3));
    VLA_TRY(lwfm_linear_apply(c, &codec->state1, &s3, &h));
    VLA_TRY(vla_relu(c, &h, &act));
    return lwfm_linear_apply(c, &codec->state2, &act, out);
}

vla_status lwfm_codec_future_tokens(vla_ctx *c, const lwfm_action_codec *codec, int32_t batch, vla_tensor *out) {
    /* the table seen as [B, K, D] through a zero batch stride; the cast copies it */
    const vla_tensor *table = &codec->future_tokens;
    vla_tensor all = *table;
    all.ndim = 3;
    all.shape[0] = batch;
    all.shape[1] = table->shape[0];
    all.shape[2] = table->shape[1];
    all.stride[0] = 0;
    all.stride[1] = table->stride[0];
    all.stride[2] = table->stride[1];
    return vla_cast(c, &all, VLA_F32, out);
}

vla_status lwfm_codec_decode(vla_ctx *c, const lwfm_config *cfg, const lwfm_action_codec *codec,
                             const vla_tensor *h, vla_tensor *out) {
    vla_tensor tail, hid, act;
    VLA_TRY(vla_view_slice(h, 1, h->shape[1] - cfg->horizon, cfg->horizon, &tail));
    VLA_TRY(lwfm_linear_apply(c, &codec->dec1, &tail, &hid));
    VLA_TRY(vla_relu(c, &hid, &act));
    return lwfm_linear_apply(c, &codec->dec2, &act, out);
}
