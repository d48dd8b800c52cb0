/* vla-head-layerwise-fm.so: StarVLA's layer-wise flow-matching DiT head for
 * the QwenPI_v3 and QwenPI frameworks. */
#include "layerwise_fm.h"

static vla_status head_create(const vla_plugin_env *env, const vla_backbone_info *vlm, void **self) {
    return lwfm_head_create(env, vlm, (lwfm_head **)self);
}

static void head_destroy(void *self) { lwfm_head_destroy(self); }

static vla_status head_info(void *self, vla_head_info *info) {
    const lwfm_config *cfg = &((const lwfm_head *)self)->cfg;
    info->action_horizon = cfg->horizon;
    info->action_dim = cfg->action_dim;
    info->state_dim = cfg->use_state_token ? cfg->state_dim : 0;
    info->vlm_request = VLA_VLM_HIDDEN_ALL;
    info->uses_noise = 1;
    return VLA_OK;
}

static vla_status head_declare(void *self, vla_params *params) { return lwfm_head_declare(self, params); }

static vla_status head_predict(void *self, vla_ctx *c, const vla_vlm_out *vlm, const vla_head_input *in,
                               float *actions) {
    return lwfm_sample(self, c, vlm, in, actions, NULL);
}

static const vla_head_vtable vtable = {
    .struct_size = sizeof(vla_head_vtable),
    .create = head_create,
    .destroy = head_destroy,
    .info = head_info,
    .declare_params = head_declare,
    .predict = head_predict,
};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_HEAD, "layerwise-fm", "0.1.0",
                  "StarVLA layer-wise flow-matching DiT head (QwenPI_v3, QwenPI)", &vtable)
