/* libFuzzer: arbitrary bytes (invalid UTF-8 included) encoded with the tiny
 * vocabulary. Ids must be in range, the decode well-formed UTF-8, and
 * encoding the decode must give the same ids again (byte-level BPE loses
 * nothing but what NFC and the U+FFFD repair already normalised). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qbpe *tiny(void) {
    static qbpe *t;
    if (!t && qbpe_load_file(QBPE_TINY_TOKENIZER, &t) != VLA_OK) {
        fprintf(stderr, "fuzz_tokenizer_encode: %s\n", vla_last_error());
        abort();
    }
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qbpe *t = tiny();
    vla_tokens a = {0}, b = {0};
    char *back = NULL;
    if (qbpe_encode(t, (const char *)data, size, &a) != VLA_OK) abort();
    for (size_t i = 0; i < a.n; i++)
        if (a.ids[i] < 0 || a.ids[i] >= t->n_ids) abort();
    if (qbpe_decode(t, a.ids, a.n, &back) != VLA_OK) abort();
    size_t n = strlen(back);
    if (qb_utf8_check(back, n) != n) abort();
    /* A NUL in the input ends the C string of the decode; compare only then. */
    if (!memchr(data, 0, size)) {
        if (qbpe_encode(t, back, n, &b) != VLA_OK) abort();
        if (a.n != b.n || memcmp(a.ids, b.ids, a.n * sizeof *a.ids) != 0) abort();
    }
    free(back);
    vla_tokens_free(&a);
    vla_tokens_free(&b);
    return 0;
}
