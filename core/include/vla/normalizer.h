/* Normalizer plugins: map actions out of (and states into) the normalised
 * space the model was trained in, with one dataset_statistics.json entry. */
#ifndef VLA_NORMALIZER_H
#define VLA_NORMALIZER_H

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

#ifdef __cplusplus
}
#endif
#endif
