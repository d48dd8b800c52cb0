/* StarVLA's action/state normalisation (starVLA/dataloader/gr00t_lerobot/
 * transform/state_action.py, and the release-time SimplerEnv/LIBERO clients'
 * unnormalize_actions), shared by the normalizer plugins.
 *
 * One generalisation: the release clients binarise column 6 (the gripper of
 * their 7-dim actions) and pass every mask-false column through; here every
 * mask-false column is binarised, which is the same for every released
 * dataset (their mask is false exactly at the gripper). */
#include <stdlib.h>

#include "vla/normalizer.h"

static const char *const mode_names[] = {"q99", "min_max", "mean_std"};

vla_status vla_norm_create(const vla_plugin_env *env, vla_norm_mode mode, void **self) {
    *self = NULL;
    if ((unsigned)mode > VLA_NORM_MEAN_STD) return vla_error(VLA_ERR_INVALID_ARG, "normalizer: unknown mode %d", mode);
    bool clip = mode != VLA_NORM_MEAN_STD;
    if (env && env->node) VLA_TRY(vla_config_bool_or(env->node, "clip", clip, &clip));
    vla_norm_options *o = malloc(sizeof *o);
    if (!o) return vla_error(VLA_ERR_OOM, "normalizer %s: out of memory", mode_names[mode]);
    o->mode = mode;
    o->clip = clip;
    *self = o;
    return VLA_OK;
}

void vla_norm_destroy(void *self) { free(self); }

/* The two statistics a mode uses: (q01, q99), (min, max) or (mean, std). */
static vla_status pick(const vla_norm_options *o, const vla_stats_entry *e, const vla_stat_block *b, const char *part,
                       size_t dim, const float **lo, const float **hi) {
    static const char *const needs[] = {"q01 and q99", "min and max", "mean and std"};
    if (!b->dim) return vla_error(VLA_ERR_NOT_FOUND, "%s: no %s statistics", e->key, part);
    if (b->dim != dim)
        return vla_error(VLA_ERR_SHAPE, "%s.%s statistics have %zu dims but the data has %zu", e->key, part, b->dim, dim);
    *lo = o->mode == VLA_NORM_Q99 ? b->q01 : o->mode == VLA_NORM_MIN_MAX ? b->min : b->mean;
    *hi = o->mode == VLA_NORM_Q99 ? b->q99 : o->mode == VLA_NORM_MIN_MAX ? b->max : b->std;
    if (!*lo || !*hi)
        return vla_error(VLA_ERR_NOT_FOUND, "%s.%s: the %s normalizer needs %s", e->key, part, mode_names[o->mode],
                         needs[o->mode]);
    return VLA_OK;
}

vla_status vla_norm_unnormalize_actions(void *self, const vla_stats_entry *entry, const float *in, float *out,
                                        size_t n_steps, size_t dim) {
    const vla_norm_options *o = self;
    const float *lo, *hi;
    VLA_TRY(pick(o, entry, &entry->action, "action", dim, &lo, &hi));
    const bool *mask = entry->action.mask;
    for (size_t t = 0; t < n_steps; t++)
        for (size_t d = 0; d < dim; d++) {
            double y = in[t * dim + d];
            if (o->clip) y = y < -1 ? -1 : y > 1 ? 1 : y;
            double x;
            if (mask && !mask[d])
                x = o->clip ? (y < 0.5 ? 0 : 1) : (y > 0.5 ? 1 : 0);
            else if (o->mode == VLA_NORM_MEAN_STD)
                x = y * hi[d] + lo[d];
            else
                x = 0.5 * (y + 1) * ((double)hi[d] - lo[d]) + lo[d]; /* q01 when q01 == q99 */
            out[t * dim + d] = (float)x;
        }
    return VLA_OK;
}

vla_status vla_norm_normalize_state(void *self, const vla_stats_entry *entry, const float *in, float *out,
                                    size_t dim) {
    const vla_norm_options *o = self;
    const float *lo, *hi;
    VLA_TRY(pick(o, entry, &entry->state, "state", dim, &lo, &hi));
    const bool *mask = entry->state.mask;
    for (size_t d = 0; d < dim; d++) {
        double x = in[d], y;
        if (mask && !mask[d]) {
            y = x > 0.5 ? 1 : 0;
        } else if (o->mode == VLA_NORM_MEAN_STD) {
            y = hi[d] != 0 ? (x - lo[d]) / hi[d] : x; /* std == 0: passed through */
        } else if (lo[d] == hi[d]) {
            y = o->mode == VLA_NORM_Q99 ? x : 0; /* degenerate: q99 passes through, min_max gives 0 */
        } else {
            y = 2 * ((x - lo[d]) / ((double)hi[d] - lo[d])) - 1;
        }
        if (o->mode == VLA_NORM_Q99) y = y < -1 ? -1 : y > 1 ? 1 : y; /* StarVLA clamps every q99 dim */
        out[d] = (float)y;
    }
    return VLA_OK;
}
