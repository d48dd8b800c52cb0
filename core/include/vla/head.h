/* Action-head plugins: turn backbone outputs (and optionally the robot
 * state) into a chunk of normalised actions [B, T, A]. */
#ifndef VLA_HEAD_H
#define VLA_HEAD_H

#include <stdint.h>

#include "vla/backbone.h"
#include "vla/ctx.h"
#include "vla/params.h"
#include "vla/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_head_info {
    int32_t action_horizon;  /* T */
    int32_t action_dim;      /* A */
    int32_t state_dim;       /* 0 if the head takes no state tensor */
    uint32_t vlm_request;    /* VLA_VLM_* flags it needs */
    int32_t uses_noise;      /* 1 if predict() consumes noise [B, T, A] */
} vla_head_info;

typedef struct vla_head_input {
    int32_t batch;
    const float *state;   /* [B, state_dim] host, or NULL */
    const float *noise;   /* [B, T, A] host, or NULL: draw from `seed` */
    uint64_t seed;
    int32_t placeholder_id; /* first token id of the prompt's action placeholder
                               (QwenOFT's "🔍"), or -1 when the prompt has none */
} vla_head_input;

typedef struct vla_head_vtable {
    uint32_t struct_size;
    /* `vlm` describes the backbone the head sits on (widths, layer count). */
    vla_status (*create)(const vla_plugin_env *env, const vla_backbone_info *vlm, void **self);
    void (*destroy)(void *self);
    vla_status (*info)(void *self, vla_head_info *info);
    vla_status (*declare_params)(void *self, vla_params *params);
    /* actions: host F32 [B, T, A], normalised. */
    vla_status (*predict)(void *self, vla_ctx *c, const vla_vlm_out *vlm, const vla_head_input *in,
                          float *actions);
} vla_head_vtable;

#ifdef __cplusplus
}
#endif
#endif
