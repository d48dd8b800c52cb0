#include "vla/action_config.h"

#define ACTION_LIMIT 4096

vla_status vla_action_config_read(const vla_config *root, vla_action_config *out) {
    int64_t horizon, window, dim, state;
    const char *k_h = "framework.action_model.action_horizon";
    const char *k_w = "framework.action_model.future_action_window_size";
    if (vla_config_has(root, k_h)) {
        VLA_TRY(vla_config_int_range(root, k_h, 0, 1, ACTION_LIMIT, &horizon));
    } else if (vla_config_has(root, k_w)) {
        VLA_TRY(vla_config_int_range(root, k_w, 0, 0, ACTION_LIMIT - 1, &window));
        horizon = window + 1;
    } else {
        return vla_error(VLA_ERR_NOT_FOUND, "%s (or the legacy %s) is required", k_h, k_w);
    }
    if (!vla_config_has(root, "framework.action_model.action_dim"))
        return vla_config_int(root, "framework.action_model.action_dim", &dim); /* the missing-key message */
    VLA_TRY(vla_config_int_range(root, "framework.action_model.action_dim", 0, 1, ACTION_LIMIT, &dim));
    VLA_TRY(vla_config_int_range(root, "framework.action_model.state_dim", dim, 1, ACTION_LIMIT, &state));
    out->horizon = (int32_t)horizon;
    out->action_dim = (int32_t)dim;
    out->state_dim = (int32_t)state;
    return VLA_OK;
}
