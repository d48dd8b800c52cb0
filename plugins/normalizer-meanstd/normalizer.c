/* The "mean_std" normalizer: the core's StarVLA normalisation (vla/normalizer.h)
 * in mean_std mode, exposed as a plugin. */
#include "vla/normalizer.h"

static vla_status create(const vla_plugin_env *env, void **self) { return vla_norm_create(env, VLA_NORM_MEAN_STD, self); }

static const vla_normalizer_vtable vtable = {sizeof vtable, create, vla_norm_destroy, vla_norm_unnormalize_actions,
                                             vla_norm_normalize_state};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_NORMALIZER, "mean_std", "0.1.0", "StarVLA mean/std standardisation, binary gripper", &vtable)
