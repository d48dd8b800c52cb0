/* The action-chunk shape every head reads from a StarVLA config, with
 * StarVLA's compatibility rules (share_tools.apply_config_compat):
 * framework.action_model.action_horizon, or future_action_window_size + 1
 * when only that legacy key is present (action_horizon wins when both are
 * given); action_dim; state_dim (defaults to action_dim). */
#ifndef VLA_ACTION_CONFIG_H
#define VLA_ACTION_CONFIG_H

#include <stdint.h>

#include "vla/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_action_config {
    int32_t horizon;   /* T */
    int32_t action_dim; /* A */
    int32_t state_dim;
} vla_action_config;

vla_status vla_action_config_read(const vla_config *root, vla_action_config *out);

#ifdef __cplusplus
}
#endif
#endif
