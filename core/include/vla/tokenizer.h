/* Text tokenizer plugins (byte-level BPE and friends). */
#ifndef VLA_TOKENIZER_H
#define VLA_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "vla/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A growable id array owned by the caller; free with vla_tokens_free. */
typedef struct vla_tokens {
    int32_t *ids;
    size_t n;
    size_t cap;
} vla_tokens;
vla_status vla_tokens_push(vla_tokens *t, int32_t id);
void vla_tokens_free(vla_tokens *t);

typedef struct vla_tokenizer_vtable {
    uint32_t struct_size;
    /* env->node is the tokenizer section: `file` (tokenizer.json path). */
    vla_status (*create)(const vla_plugin_env *env, void **self);
    void (*destroy)(void *self);
    /* Append the ids of `text` (UTF-8, any bytes accepted) to `out`; special
     * and added tokens written literally in the text are recognised. */
    vla_status (*encode)(void *self, const char *text, size_t len, vla_tokens *out);
    /* Decoded UTF-8 of ids into a malloc'ed NUL-terminated string. */
    vla_status (*decode)(void *self, const int32_t *ids, size_t n, char **out);
    /* Id of an exact token string (e.g. "<|image_pad|>"); VLA_ERR_NOT_FOUND otherwise. */
    vla_status (*token_to_id)(void *self, const char *token, int32_t *id);
    /* The vocabulary string of an id (byte-level form, e.g. "Ġhello"), or NULL. */
    const char *(*id_to_token)(void *self, int32_t id);
    int32_t (*vocab_size)(void *self);
} vla_tokenizer_vtable;

#ifdef __cplusplus
}
#endif
#endif
