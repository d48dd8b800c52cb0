/* Backbone plugins: a vision-language model that turns token ids plus
 * images into hidden states for a head. */
#ifndef VLA_BACKBONE_H
#define VLA_BACKBONE_H

#include <stdint.h>

#include "vla/ctx.h"
#include "vla/image.h"
#include "vla/params.h"
#include "vla/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_backbone_info {
    int32_t hidden_size;      /* width of every hidden state */
    int32_t num_layers;       /* decoder layers */
    int32_t vocab_size;
    int32_t image_token_id;   /* the placeholder expanded once per image feature */
    int32_t pad_token_id;
} vla_backbone_info;

/* What the head asks for (flags may be or-ed). */
enum {
    VLA_VLM_HIDDEN_ALL = 1u << 0,   /* every entry of `hidden` */
    VLA_VLM_HIDDEN_LAST = 1u << 1,  /* only hidden[num_layers] */
    VLA_VLM_FINAL_NORM = 1u << 2,   /* `final` (after the final norm) */
    VLA_VLM_LOGITS = 1u << 3        /* last-position logits */
};

typedef struct vla_vlm_example {
    const int32_t *ids;        /* token ids with image placeholders already expanded */
    int32_t n_ids;
    const vla_image *images;   /* in prompt order */
    int32_t n_images;
} vla_vlm_example;

/* Outputs, valid until the ctx is reset. Sequences are left-padded to seq_len. */
typedef struct vla_vlm_out {
    int32_t batch;
    int32_t seq_len;
    int32_t hidden_size;
    /* hidden[0] = input embeddings, hidden[k] = output of decoder layer k-1,
     * k = 1..n_hidden-1, with exactly the semantics of transformers 4.57.0's
     * output_hidden_states (see docs/hidden-states.md). Each [B, S, H] F32.
     * Entries not requested have data == NULL. */
    vla_tensor *hidden;
    int32_t n_hidden;
    vla_tensor final;          /* [B, S, H] after the final norm, if requested */
    vla_tensor logits;         /* [B, V] at the last position, if requested */
    vla_tensor attention_mask; /* [B, S] U8 in backend memory: 1 = real token */
    const uint8_t *host_mask;  /* the same on the host [B * S] */
    const int32_t *host_ids;   /* [B * S] padded ids on the host */
    /* Wall time of encode()'s stages in ms, measured by the backbone after a
     * backend synchronize (0 if it does not measure). */
    double preprocess_ms, vision_ms, prefill_ms;
} vla_vlm_out;

typedef struct vla_backbone_vtable {
    uint32_t struct_size;
    vla_status (*create)(const vla_plugin_env *env, void **self);
    void (*destroy)(void *self);
    vla_status (*info)(void *self, vla_backbone_info *info);
    /* Declare every weight (names relative to the model's own root). */
    vla_status (*declare_params)(void *self, vla_params *params);
    /* Number of placeholder tokens an image expands to. */
    vla_status (*image_tokens)(void *self, const vla_image *img, int32_t *n_tokens);
    vla_status (*encode)(void *self, vla_ctx *c, const vla_vlm_example *examples, int32_t batch,
                         uint32_t request, vla_vlm_out *out);
    /* Optional (NULL if unsupported): greedy/next-token decoding with a KV
     * cache kept from the last encode(). Appends one token per example and
     * returns its logits [B, V] in out->logits. */
    vla_status (*step)(void *self, vla_ctx *c, const int32_t *next_ids, vla_vlm_out *out);
} vla_backbone_vtable;

#ifdef __cplusplus
}
#endif
#endif
