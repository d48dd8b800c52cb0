/* The policy: backbone + head + tokenizer + normalizer assembled from a
 * config, predicting action chunks from images, an instruction and the
 * robot state. Thread-compatible: one predict at a time per policy. */
#ifndef VLA_POLICY_H
#define VLA_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "vla/image.h"
#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_policy vla_policy;

typedef struct vla_policy_options {
    const char *config;      /* a YAML config, or NULL */
    const char *checkpoint;  /* a StarVLA run folder or checkpoint file, or NULL */
    const char *base_vlm;    /* local Qwen-VL folder (tokenizer, config.json), or NULL */
    const char *const *overrides; /* "key=value" dotlist, applied last */
    int32_t n_overrides;
    bool dry_run;            /* declare and check, load no weights */
} vla_policy_options;

typedef struct vla_policy_example {
    const vla_image *images;
    int32_t n_images;
    const char *instruction;
    const float *state;      /* [state_dim] or NULL */
    int32_t state_dim;
} vla_policy_example;

typedef struct vla_stage_times {
    double preprocess_ms, vision_ms, prefill_ms, head_ms, total_ms;
} vla_stage_times;

typedef struct vla_actions {
    int32_t batch, horizon, dim;
    float *normalized;   /* [B, T, A], owned by the policy, valid until the next predict */
    float *actions;      /* un-normalised [B, T, A] (== normalized when no stats) */
    vla_stage_times times;
} vla_actions;

vla_status vla_policy_open(const vla_policy_options *opts, vla_policy **out);
void vla_policy_close(vla_policy *p);

struct vla_params;
struct vla_config;
/* The resolved config and the declared parameters (for dry runs and tools). */
const struct vla_config *vla_policy_config(const vla_policy *p);
const struct vla_params *vla_policy_params(const vla_policy *p);
/* Memory: bytes of loaded weights, peak per-call arena bytes, and the
 * backend's own count (0 when it does not report one). */
typedef struct vla_policy_memory {
    size_t weights_bytes, arena_peak_bytes, backend_in_use, backend_peak;
} vla_policy_memory;
void vla_policy_memory_usage(const vla_policy *p, vla_policy_memory *out);
/* Action chunk shape: horizon T and dim A. */
void vla_policy_action_shape(const vla_policy *p, int32_t *horizon, int32_t *dim);

/* One example. unnorm_key NULL: the only stats key (error if several). */
vla_status vla_policy_predict(vla_policy *p, const vla_image *images, int32_t n_images,
                              const char *instruction, const float *state,
                              const char *unnorm_key, vla_actions *out);

typedef struct vla_predict_options {
    uint64_t seed;          /* noise seed (ignored if noise given) */
    const float *noise;     /* [B, T, A] or NULL */
    const char *unnorm_key; /* see vla_policy_predict */
} vla_predict_options;

vla_status vla_policy_predict_batch(vla_policy *p, const vla_policy_example *examples, int32_t batch,
                                    const vla_predict_options *opts, vla_actions *out);

#ifdef __cplusplus
}
#endif
#endif
