/* The "min_max" normalizer: the core's StarVLA normalisation (vla/normalizer.h)
 * in min_max mode, exposed as a plugin. */
#include "vla/normalizer.h"

static vla_status create(const vla_plugin_env *env, void **self) { return vla_norm_create(env, VLA_NORM_MIN_MAX, self); }

static const vla_normalizer_vtable vtable = {sizeof vtable, create, vla_norm_destroy, vla_norm_unnormalize_actions,
                                             vla_norm_normalize_state};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_NORMALIZER, "min_max", "0.1.0", "StarVLA min/max bounds (clip to [-1,1], binary gripper)", &vtable)
