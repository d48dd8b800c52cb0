/* The head's lifetime and its full parameter declaration, named exactly as
 * StarVLA's state dict names them (specs/starvla.md §2.11). */
#include <stdio.h>
#include <stdlib.h>

#include "layerwise_fm.h"

vla_status lwfm_head_create(const vla_plugin_env *env, const vla_backbone_info *vlm, lwfm_head **out) {
    *out = NULL;
    lwfm_head *h = calloc(1, sizeof *h);
    if (!h) return vla_error(VLA_ERR_OOM, "layerwise-fm: out of memory");
    vla_status s = lwfm_config_load(env, vlm, &h->cfg);
    if (s == VLA_OK) {
        const size_t n = (size_t)h->cfg.num_layers;
        h->blocks = calloc(n, sizeof *h->blocks);
        if (h->cfg.projector == LWFM_PROJECTOR_LAYERNORM_LINEAR) h->proj = calloc(n, sizeof *h->proj);
        if (!h->blocks || (h->cfg.projector == LWFM_PROJECTOR_LAYERNORM_LINEAR && !h->proj))
            s = vla_error(VLA_ERR_OOM, "layerwise-fm: out of memory for %zu blocks", n);
    }
    if (s != VLA_OK) {
        lwfm_head_destroy(h);
        return s;
    }
    *out = h;
    return VLA_OK;
}

void lwfm_head_destroy(lwfm_head *h) {
    if (!h) return;
    free(h->proj);
    free(h->blocks);
    free(h);
}

/* DiT output layers: in every checkpoint (and in the published parameter
 * count) but skipped by the layer-wise head, which decodes the last block's
 * hidden states itself (return_pre_output=True). */
static vla_status declare_dit_output(lwfm_head *h, vla_params *p) {
    char prefix[192];
    const lwfm_config *cfg = &h->cfg;
    snprintf(prefix, sizeof prefix, "%saction_model.model.", cfg->param_prefix);
    VLA_TRY(lwfm_linear_declare(p, &h->proj_out_1, 2 * (int64_t)cfg->dit_hidden, cfg->dit_hidden, prefix,
                                "proj_out_1"));
    return lwfm_linear_declare(p, &h->proj_out_2, cfg->output_dim, cfg->dit_hidden, prefix, "proj_out_2");
}

vla_status lwfm_head_declare(lwfm_head *h, vla_params *p) {
    const lwfm_config *cfg = &h->cfg;
    if (h->proj)
        for (int i = 0; i < cfg->num_layers; i++) VLA_TRY(lwfm_projector_declare(p, cfg, &h->proj[i], i));
    VLA_TRY(lwfm_timestep_declare(p, cfg, &h->timestep));
    for (int i = 0; i < cfg->num_layers; i++) VLA_TRY(lwfm_block_declare(p, cfg, &h->blocks[i], i));
    VLA_TRY(declare_dit_output(h, p));
    return lwfm_codec_declare(p, cfg, &h->codec);
}
