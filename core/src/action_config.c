#include "vla/action_config.h"

#define ACTION_LIMIT 4096

static vla_status positive(const char *key, int64_t v, int32_t *out) {
    if (v < 1 || v > ACTION_LIMIT)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: %lld is out of range (1..%d)", key, (long long)v, ACTION_LIMIT);
    *out = (int32_t)v;
    return VLA_OK;
}

vla_status vla_action_config_read(const vla_config *root, vla_action_config *out) {
    int64_t horizon, window, dim, state;
    const char *k_h = "framework.action_model.action_horizon";
    const char *k_w = "framework.action_model.future_action_window_size";
    if (vla_config_has(root, k_h)) {
        VLA_TRY(vla_config_int(root, k_h, &horizon));
    } else if (vla_config_has(root, k_w)) {
        VLA_TRY(vla_config_int(root, k_w, &window));
        horizon = window + 1;
    } else {
        return vla_error(VLA_ERR_NOT_FOUND, "%s (or the legacy %s) is required", k_h, k_w);
    }
    VLA_TRY(positive(k_h, horizon, &out->horizon));
    VLA_TRY(vla_config_int(root, "framework.action_model.action_dim", &dim));
    VLA_TRY(positive("framework.action_model.action_dim", dim, &out->action_dim));
    VLA_TRY(vla_config_int_or(root, "framework.action_model.state_dim", dim, &state));
    return positive("framework.action_model.state_dim", state, &out->state_dim);
}
