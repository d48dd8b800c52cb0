/* The "qwen-bpe" tokenizer plugin: the vtable over qbpe. Config node keys:
 *   file: path to tokenizer.json (relative paths resolve against env->base_dir). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbpe.h"
#include "vla/tokenizer.h"

static vla_status qwen_create(const vla_plugin_env *env, void **self) {
    const char *file;
    if (!env || !self) return vla_error(VLA_ERR_INVALID_ARG, "qwen-bpe: create: NULL argument");
    *self = NULL;
    if (!env->node) return vla_error(VLA_ERR_NOT_FOUND, "qwen-bpe: no tokenizer config section (needs `file`)");
    VLA_TRY(vla_config_string(env->node, "file", &file));
    char path[4096];
    if (file[0] != '/' && env->base_dir && env->base_dir[0]) {
        int n = snprintf(path, sizeof path, "%s/%s", env->base_dir, file);
        if (n < 0 || (size_t)n >= sizeof path)
            return vla_error(VLA_ERR_LIMIT, "qwen-bpe: tokenizer path too long: %s/%s", env->base_dir, file);
        file = path;
    }
    qbpe *t;
    VLA_TRY(qbpe_load_file(file, &t));
    *self = t;
    return VLA_OK;
}

static void qwen_destroy(void *self) { qbpe_free(self); }

static vla_status qwen_encode(void *self, const char *text, size_t len, vla_tokens *out) {
    return qbpe_encode(self, text, len, out);
}

static vla_status qwen_decode(void *self, const int32_t *ids, size_t n, char **out) {
    return qbpe_decode(self, ids, n, out);
}

static vla_status qwen_token_to_id(void *self, const char *token, int32_t *id) {
    const qbpe *t = self;
    if (!t || !token || !id) return vla_error(VLA_ERR_INVALID_ARG, "qwen-bpe: token_to_id: NULL argument");
    *id = qbpe_token_id(t, token, strlen(token));
    if (*id < 0) return vla_error(VLA_ERR_NOT_FOUND, "%s: token \"%s\" is not in the vocabulary", t->name, token);
    return VLA_OK;
}

static const char *qwen_id_to_token(void *self, int32_t id) {
    const qbpe *t = self;
    return t && id >= 0 && id < t->n_ids ? t->id_str[id] : NULL;
}

static int32_t qwen_vocab_size(void *self) { return self ? ((const qbpe *)self)->n_ids : 0; }

static const vla_tokenizer_vtable qwen_vtable = {
    .struct_size = sizeof(vla_tokenizer_vtable),
    .create = qwen_create,
    .destroy = qwen_destroy,
    .encode = qwen_encode,
    .decode = qwen_decode,
    .token_to_id = qwen_token_to_id,
    .id_to_token = qwen_id_to_token,
    .vocab_size = qwen_vocab_size,
};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_TOKENIZER, "qwen-bpe", "0.1.0",
                  "byte-level BPE from a Hugging Face tokenizer.json (Qwen2/Qwen3), token-exact", &qwen_vtable)
