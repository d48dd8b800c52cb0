#include <stdint.h>
#include <stdlib.h>

#include "vla/tokenizer.h"

vla_status vla_tokens_push(vla_tokens *t, int32_t id) {
    if (!t) return vla_error(VLA_ERR_INVALID_ARG, "vla_tokens_push: NULL token array");
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *t->ids)
            return vla_error(VLA_ERR_OOM, "vla_tokens_push: %zu ids do not fit in memory", cap);
        int32_t *ids = realloc(t->ids, cap * sizeof *ids);
        if (!ids) return vla_error(VLA_ERR_OOM, "vla_tokens_push: cannot grow to %zu ids", cap);
        t->ids = ids;
        t->cap = cap;
    }
    t->ids[t->n++] = id;
    return VLA_OK;
}

void vla_tokens_free(vla_tokens *t) {
    if (!t) return;
    free(t->ids);
    t->ids = NULL;
    t->n = t->cap = 0;
}
