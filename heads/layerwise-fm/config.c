/* Configuration of the layer-wise flow-matching head.
 *
 * The head section (env->node) says how vla runs the head; the model's shape
 * comes from StarVLA's own keys under framework.action_model in the run's
 * config.yaml (env->root), with StarVLA's defaults (QwenPI_v3 defaults table,
 * specs/starvla.md §1.2) when a key is absent. */
#include <stdio.h>
#include <string.h>

#include "layerwise_fm.h"
#include "vla/action_config.h"
#include "vla/config.h"

#define AM "framework.action_model."
#define DIT AM "diffusion_model_cfg."

/* Present and not YAML null: picks between alternative StarVLA keys. */
static bool given(const vla_config *node, const char *path) {
    const vla_config *v = node ? vla_config_get(node, path) : NULL;
    return v && vla_config_kind_of(v) != VLA_CONFIG_NULL;
}

/* Ranged integer with a default; absent or YAML null means the default
 * (StarVLA writes `action_dit_hidden_dim: null` to mean "use the VLM width"). */
static vla_status get_int(const vla_config *node, const char *path, int64_t dflt, int64_t lo, int64_t hi,
                          int32_t *out) {
    int64_t v = dflt;
    if (node) VLA_TRY(vla_config_int_range(node, path, dflt, lo, hi, &v));
    *out = (int32_t)v;
    return VLA_OK;
}

static vla_status get_bool(const vla_config *node, const char *path, bool dflt, bool *out) {
    *out = dflt;
    return node ? vla_config_bool_or(node, path, dflt, out) : VLA_OK;
}

static vla_status load_head_section(const vla_config *node, lwfm_config *cfg) {
    static const char *const allowed[] = {"name", "plugin", "projector", "use_state_token", "reference_path",
                                          "param_prefix", NULL};
    const char *projector = "layernorm_linear", *prefix = "";
    cfg->projector = LWFM_PROJECTOR_LAYERNORM_LINEAR;
    if (!node) return VLA_OK;
    VLA_TRY(vla_config_check_keys(node, allowed));
    VLA_TRY(vla_config_string_or(node, "projector", projector, &projector));
    if (strcmp(projector, "identity") == 0)
        cfg->projector = LWFM_PROJECTOR_IDENTITY;
    else if (strcmp(projector, "layernorm_linear") != 0)
        return vla_error(VLA_ERR_INVALID_ARG, "%s:%d: %s.projector: unknown projector \"%s\" "
                         "(expected layernorm_linear or identity)",
                         vla_config_file(node), vla_config_line(vla_config_get(node, "projector")),
                         vla_config_path(node), projector);
    VLA_TRY(get_bool(node, "use_state_token", false, &cfg->use_state_token));
    VLA_TRY(get_bool(node, "reference_path", false, &cfg->reference_path));
    VLA_TRY(vla_config_string_or(node, "param_prefix", prefix, &prefix));
    if (strlen(prefix) >= sizeof cfg->param_prefix)
        return vla_error(VLA_ERR_LIMIT, "%s: %s.param_prefix is longer than %zu characters",
                         vla_config_file(node), vla_config_path(node), sizeof cfg->param_prefix - 1);
    snprintf(cfg->param_prefix, sizeof cfg->param_prefix, "%s", prefix);
    return VLA_OK;
}

/* DiT width: the VLM width for QwenPI; action_dit_hidden_dim for QwenPI_v3,
 * whose projector becomes the identity when the two widths agree. */
static vla_status load_width(const vla_config *root, lwfm_config *cfg) {
    cfg->dit_hidden = cfg->vlm_hidden;
    if (cfg->projector == LWFM_PROJECTOR_LAYERNORM_LINEAR) {
        const char *key = given(root, DIT "action_dit_hidden_dim") ? DIT "action_dit_hidden_dim"
                                                                   : AM "action_dit_hidden_dim";
        VLA_TRY(get_int(root, key, 1024, 1, 1 << 20, &cfg->dit_hidden));
        if (cfg->dit_hidden == cfg->vlm_hidden) cfg->projector = LWFM_PROJECTOR_IDENTITY;
    }
    VLA_TRY(get_int(root, DIT "attention_head_dim", 64, 1, 1 << 16, &cfg->head_dim));
    if (cfg->dit_hidden % cfg->head_dim)
        return vla_error(VLA_ERR_INVALID_ARG,
                         DIT "attention_head_dim: the DiT width %d is not a multiple of the head dim %d",
                         cfg->dit_hidden, cfg->head_dim);
    cfg->num_heads = cfg->dit_hidden / cfg->head_dim;
    if (cfg->dit_hidden % 2) /* the action encoder concatenates a D-wide [sin, cos] */
        return vla_error(VLA_ERR_INVALID_ARG, "the DiT width %d must be even", cfg->dit_hidden);
    return VLA_OK;
}

/* use_canonical_forward is StarVLA's legacy alias and wins when present. */
static vla_status load_mode(const vla_config *root, lwfm_config *cfg) {
    VLA_TRY(get_bool(root, DIT "interleave_self_attention", false, &cfg->interleave));
    return get_bool(root, DIT "use_canonical_forward", cfg->interleave, &cfg->interleave);
}

vla_status lwfm_config_load(const vla_plugin_env *env, const vla_backbone_info *vlm, lwfm_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    if (!vlm || vlm->hidden_size <= 0 || vlm->num_layers <= 0)
        return vla_error(VLA_ERR_INVALID_ARG, "layerwise-fm: the backbone reports hidden size %d and %d layers",
                         vlm ? vlm->hidden_size : 0, vlm ? vlm->num_layers : 0);
    cfg->vlm_hidden = vlm->hidden_size;
    cfg->num_layers = vlm->num_layers;
    const vla_config *root = env ? env->root : NULL;
    vla_action_config chunk;
    vla_status s = load_head_section(env ? env->node : NULL, cfg);
    if (s == VLA_OK && !root) s = vla_error(VLA_ERR_INVALID_ARG, "no configuration (framework.action_model.*)");
    if (s == VLA_OK) s = vla_action_config_read(root, &chunk); /* T (with StarVLA's compat rule), A, state_dim */
    if (s == VLA_OK) {
        cfg->horizon = chunk.horizon;
        cfg->action_dim = chunk.action_dim;
        cfg->state_dim = chunk.state_dim;
    }
    if (s == VLA_OK) s = get_int(root, AM "num_inference_timesteps", 4, 1, 10000, &cfg->num_steps);
    if (s == VLA_OK) s = get_int(root, AM "num_target_vision_tokens", 32, 0, 65536, &cfg->num_future);
    if (s == VLA_OK) s = get_int(root, AM "max_seq_len", 1024, 1, 1 << 20, &cfg->max_seq_len);
    if (s == VLA_OK) s = get_bool(root, AM "add_pos_embed", true, &cfg->add_pos_embed);
    if (s == VLA_OK) s = get_int(root, AM "num_timestep_buckets", 1000, 1, 1 << 24, &cfg->num_buckets);
    if (s == VLA_OK) s = load_width(root, cfg);
    if (s == VLA_OK) s = load_mode(root, cfg);
    /* apply_config_compat fills output_dim from action_model.hidden_size; the DiT default is 26 */
    if (s == VLA_OK)
        s = get_int(root, given(root, DIT "output_dim") ? DIT "output_dim" : AM "hidden_size", 26, 1, 1 << 20,
                    &cfg->output_dim);
    if (s != VLA_OK) return vla_error_context(s, "layerwise-fm config");
    if (cfg->add_pos_embed && cfg->horizon > cfg->max_seq_len)
        return vla_error(VLA_ERR_INVALID_ARG,
                         "layerwise-fm config: " AM "action_horizon %d exceeds " AM "max_seq_len %d",
                         cfg->horizon, cfg->max_seq_len);
    return VLA_OK;
}
