/* Prompt recipes: how a framework turns (instruction, images, state) into
 * the text the VLM sees, entirely from config (the `vla.prompt` section of a
 * framework preset), so a new preset can change the recipe without C code.
 *
 * Order of construction (StarVLA's): instruction -> optional state text
 * "<instr> [STATE] i0 i1 ... [ACTION]" -> optional suffix (QwenOFT's
 * placeholder sentence, with {horizon} substituted) -> optional CoT template
 * with {instruction} -> chat template: user_prefix + one image block per
 * image + text + user_suffix (the generation prompt). */
#ifndef VLA_PROMPT_H
#define VLA_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "vla/config.h"
#include "vla/status.h"
#include "vla/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_prompt_recipe {
    char *user_prefix;   /* "<|im_start|>user\n" */
    char *image_block;   /* "<|vision_start|><|image_pad|><|vision_end|>" */
    char *image_pad;     /* "<|image_pad|>": expanded per image after tokenisation */
    char *user_suffix;   /* "<|im_end|>\n<|im_start|>assistant\n" */
    char *cot_template;  /* NULL, or a template containing "{instruction}" */
    char *action_suffix; /* NULL, or e.g. " Please predict ... {placeholders}<action>." */
    char *placeholder;   /* the action placeholder token text (QwenOFT "🔍"), or NULL */
    int32_t horizon;     /* for {horizon} and the number of placeholders */
    int32_t state_bins;  /* 256; 0 disables state text */
    int32_t state_in_prompt; /* 1 if the state goes into the text */
} vla_prompt_recipe;

/* Read the recipe from the resolved config (vla.prompt.* plus
 * datasets.vla_data.CoT_prompt and framework.action_model.action_horizon).
 * Absent chat-template keys default to the Qwen3-VL Instruct pieces shown
 * above; CoT_prompt is used whenever the key exists (even ""), as StarVLA
 * does; the horizon (<vla/action_config.h>) is read, and required, only when
 * action_suffix uses {horizon} or {placeholders} (else it stays 0). */
vla_status vla_prompt_recipe_load(const vla_config *root, vla_prompt_recipe *out);
void vla_prompt_recipe_free(vla_prompt_recipe *r);

/* StarVLA's state text: bins = left edges of linspace(-1, 1, bins+1),
 * index = numpy.digitize(x, bins) - 1 (so -1 below -1, bins-1 at and above
 * 1 - 2/bins). NaN/inf are refused naming the dimension. Appends
 * " [STATE] i0 i1 ... [ACTION]" semantics: returns "<instr> [STATE] ... [ACTION]". */
vla_status vla_prompt_state_text(const char *instruction, const float *state, size_t dim,
                                 int32_t bins, char **out);

/* The full text of one example (malloc'ed). */
vla_status vla_prompt_render(const vla_prompt_recipe *r, const char *instruction,
                             const float *state, size_t state_dim, int32_t n_images, char **out);

/* The processor's image expansion on token ids: append `in` to `out` with
 * the k-th occurrence of image_pad_id replaced by tokens_per_image[k] copies
 * (each >= 1). Fails, leaving `out` unchanged, if the number of occurrences
 * is not n_images. `in` and `out` must be different arrays. */
vla_status vla_prompt_expand_images(const vla_tokens *in, int32_t image_pad_id,
                                    const int32_t *tokens_per_image, int32_t n_images,
                                    vla_tokens *out);

/* Expand each image placeholder id of `in` (in order) to tokens_per_image[i]
 * copies; fails if the number of placeholders differs from n_images. */
struct vla_tokens;
vla_status vla_prompt_expand_images(const struct vla_tokens *in, int32_t image_pad_id,
                                    const int32_t *tokens_per_image, int32_t n_images,
                                    struct vla_tokens *out);

#ifdef __cplusplus
}
#endif
#endif
