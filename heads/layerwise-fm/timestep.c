/* Time conditioning: the DiT's timestep encoder (diffusers Timesteps +
 * TimestepEmbedding) and the action encoder's own sinusoid.
 *
 * Both sinusoids are computed on the host the way PyTorch computes them in
 * float32 (frequency table, product and argument all rounded to float), so
 * the phases match the reference bit for bit up to the last-ulp behaviour of
 * exp/sin/cos; at bucket 750 a naive double-precision table would already
 * move the phase by ~1e-5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layerwise_fm.h"
#include "vla/ops.h"

void lwfm_time_sinusoid(int32_t bucket, float *out) {
    const int half = LWFM_TIME_CHANNELS / 2;
    const float neg_log_period = (float)-9.210340371976184; /* -math.log(10000) as a float32 scalar */
    const float denom = (float)(half - 1);                  /* half_dim - downscale_freq_shift */
    for (int j = 0; j < half; j++) {
        float exponent = neg_log_period * (float)j;
        exponent = exponent / denom;
        float arg = (float)bucket * expf(exponent);
        out[j] = (float)cos((double)arg); /* flip_sin_to_cos: cos first */
        out[half + j] = (float)sin((double)arg);
    }
}

void lwfm_action_sinusoid(int32_t bucket, int32_t width, float *out) {
    const int half = width / 2;
    const float step = logf(10000.0f) / (float)half;
    for (int j = 0; j < half; j++) {
        float arg = (float)bucket * expf(-(float)j * step);
        out[j] = (float)sin((double)arg); /* sin first, no flip */
        out[half + j] = (float)cos((double)arg);
    }
}

int32_t lwfm_step_bucket(int32_t k, int32_t n, int32_t num_buckets) {
    /* int(t / float(n) * num_buckets) in Python doubles */
    return (int32_t)((double)k / (double)n * (double)num_buckets);
}

vla_status lwfm_timestep_declare(vla_params *p, const lwfm_config *cfg, lwfm_timestep *ts) {
    char prefix[192];
    snprintf(prefix, sizeof prefix, "%saction_model.model.timestep_encoder.timestep_embedder.", cfg->param_prefix);
    VLA_TRY(lwfm_linear_declare(p, &ts->linear_1, cfg->dit_hidden, LWFM_TIME_CHANNELS, prefix, "linear_1"));
    return lwfm_linear_declare(p, &ts->linear_2, cfg->dit_hidden, cfg->dit_hidden, prefix, "linear_2");
}

vla_status lwfm_timestep_embed(vla_ctx *c, const lwfm_timestep *ts, const int32_t *buckets, int n,
                               vla_tensor *out) {
    float *host = malloc((size_t)n * LWFM_TIME_CHANNELS * sizeof *host);
    if (!host) return vla_error(VLA_ERR_OOM, "layerwise-fm: timestep sinusoids: out of memory");
    for (int i = 0; i < n; i++) lwfm_time_sinusoid(buckets[i], host + (size_t)i * LWFM_TIME_CHANNELS);
    /* TimestepEncoder casts the sinusoid to its parameters' dtype before linear_1:
     * a bf16 (or f16) model sees it rounded */
    const vla_dtype wt = ts->linear_1.w.dtype;
    if (wt == VLA_BF16 || wt == VLA_F16) {
        const size_t total = (size_t)n * LWFM_TIME_CHANNELS;
        uint16_t *half = malloc(total * sizeof *half);
        if (!half) {
            free(host);
            return vla_error(VLA_ERR_OOM, "layerwise-fm: timestep sinusoids: out of memory");
        }
        vla_convert(half, wt, host, VLA_F32, total);
        vla_convert(host, VLA_F32, half, wt, total);
        free(half);
    }
    int64_t shape[2] = {n, LWFM_TIME_CHANNELS};
    vla_tensor sin_t, h1, a1;
    vla_status s = vla_new_from_host(c, VLA_F32, 2, shape, host, &sin_t);
    free(host);
    if (s == VLA_OK) s = lwfm_linear_apply(c, &ts->linear_1, &sin_t, &h1);
    if (s == VLA_OK) s = vla_silu(c, &h1, &a1);
    if (s == VLA_OK) s = lwfm_linear_apply(c, &ts->linear_2, &a1, out);
    return s;
}
