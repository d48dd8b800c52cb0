/* Normalizer plugins: map actions out of (and states into) the normalised
 * space the model was trained in, with one dataset_statistics.json entry. */
#ifndef VLA_NORMALIZER_H
#define VLA_NORMALIZER_H

#include <stdbool.h>
#include <stddef.h>

#include "vla/plugin.h"
#include "vla/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_normalizer_vtable {
    uint32_t struct_size;
    /* env->node is the normalizer section (mode options such as clipping). */
    vla_status (*create)(const vla_plugin_env *env, void **self);
    void (*destroy)(void *self);
    /* actions in/out: [n_steps, dim] host F32; dim must equal the block's dim. */
    vla_status (*unnormalize_actions)(void *self, const vla_stats_entry *entry, const float *in,
                                      float *out, size_t n_steps, size_t dim);
    /* state in/out: [dim] host F32. */
    vla_status (*normalize_state)(void *self, const vla_stats_entry *entry, const float *in,
                                  float *out, size_t dim);
} vla_normalizer_vtable;

/* The standard normalizers (StarVLA's modes), shared by the q99, min_max and
 * mean_std plugins so each plugin is only its vtable:
 *   q99       y = 2 (x - q01) / (q99 - q01) - 1   inverse x = (y + 1) / 2 (q99 - q01) + q01
 *   min_max   the same with min / max
 *   mean_std  y = (x - mean) / std                inverse x = y std + mean
 * Action dims whose mask is false are binary (the gripper): 0 or 1.
 * Option `clip` (normalizer section; default true for q99 and min_max, false
 * for mean_std) selects StarVLA's release-time client behaviour: clip the
 * model's actions to [-1, 1] first and binarise with "y < 0.5 -> 0 else 1".
 * clip: false is the HEAD server behaviour: no clipping, binary "y > 0.5 -> 1". */
typedef enum vla_norm_mode { VLA_NORM_Q99 = 0, VLA_NORM_MIN_MAX, VLA_NORM_MEAN_STD } vla_norm_mode;

typedef struct vla_norm_options {
    vla_norm_mode mode;
    bool clip;
} vla_norm_options;

/* vtable-compatible implementations: `self` is a vla_norm_options. */
vla_status vla_norm_create(const vla_plugin_env *env, vla_norm_mode mode, void **self);
void vla_norm_destroy(void *self);
vla_status vla_norm_unnormalize_actions(void *self, const vla_stats_entry *entry, const float *in, float *out,
                                        size_t n_steps, size_t dim);
vla_status vla_norm_normalize_state(void *self, const vla_stats_entry *entry, const float *in, float *out,
                                    size_t dim);

#ifdef __cplusplus
}
#endif
#endif
