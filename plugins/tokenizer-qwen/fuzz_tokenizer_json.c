/* libFuzzer: arbitrary bytes as tokenizer.json. Loading must fail cleanly
 * or give a tokenizer that encodes and decodes a fixed text without error
 * beyond a clean status. */
#include <stdlib.h>
#include <string.h>

#include "qbpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char text[] = "Hello <|im_start|>w\xc3\xb6rld 123  \n\xe4\xbd\xa0\xe5\xa5\xbd\xff x";
    qbpe *t = NULL;
    if (qbpe_load((const char *)data, size, "fuzz.json", &t) != VLA_OK) {
        vla_clear_error();
        return 0;
    }
    vla_tokens ids = {0};
    if (qbpe_encode(t, text, sizeof text - 1, &ids) == VLA_OK) {
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] < 0 || ids.ids[i] >= t->n_ids) abort();
        char *back = NULL;
        if (qbpe_decode(t, ids.ids, ids.n, &back) == VLA_OK && qb_utf8_check(back, strlen(back)) != strlen(back))
            abort();
        free(back);
    }
    vla_clear_error();
    vla_tokens_free(&ids);
    qbpe_free(t);
    return 0;
}
