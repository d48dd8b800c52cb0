/* QwenPI_v3's per-layer projector: project_layers[i] =
 * Sequential(LayerNorm(H, eps 1e-5), Linear(H -> D)). QwenPI (and QwenPI_v3
 * when D == H) uses nn.Identity, which has no parameters. */
#include <stdio.h>

#include "layerwise_fm.h"
#include "vla/ops.h"

vla_status lwfm_projector_declare(vla_params *p, const lwfm_config *cfg, lwfm_projector *proj, int layer) {
    char prefix[192];
    int64_t h[1] = {cfg->vlm_hidden};
    snprintf(prefix, sizeof prefix, "%sproject_layers.%d.", cfg->param_prefix, layer);
    VLA_TRY(vla_params_add(p, &proj->ln_w, VLA_PARAM_NORM_WEIGHT, 1, h, "%s0.weight", prefix));
    VLA_TRY(vla_params_add(p, &proj->ln_b, VLA_PARAM_VECTOR, 1, h, "%s0.bias", prefix));
    return lwfm_linear_declare(p, &proj->linear, cfg->dit_hidden, cfg->vlm_hidden, prefix, "1");
}

vla_status lwfm_projector_apply(vla_ctx *c, const lwfm_config *cfg, const lwfm_projector *proj,
                                const vla_tensor *hidden, vla_tensor *out) {
    if (cfg->projector == LWFM_PROJECTOR_IDENTITY) {
        *out = *hidden;
        return VLA_OK;
    }
    /* the normed copy stays in the arena until the caller releases its scope */
    vla_tensor n;
    VLA_TRY(vla_layernorm(c, hidden, &proj->ln_w, &proj->ln_b, LWFM_NORM_EPS, &n));
    return lwfm_linear_apply(c, &proj->linear, &n, out);
}
