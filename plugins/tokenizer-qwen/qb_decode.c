/* Decoding as HF's ByteLevel decoder: each token's characters map back to
 * bytes through the GPT-2 table; a token with any character outside the
 * table (e.g. an added token written in other scripts) contributes its own
 * UTF-8 bytes; the joined bytes are decoded with U+FFFD replacement. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "qbpe.h"

static vla_status qb_decode_token(const char *tok, qb_buf *bytes) {
    size_t len = strlen(tok), start = bytes->n;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)tok;
    utf8proc_ssize_t i = 0;
    while ((size_t)i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)len - i, &cp);
        int b = k > 0 ? qb_cp_byte((uint32_t)cp) : -1;
        if (b < 0) {
            bytes->n = start;
            return qb_buf_append(bytes, tok, len);
        }
        uint8_t byte = (uint8_t)b;
        VLA_TRY(qb_buf_append(bytes, &byte, 1));
        i += k;
    }
    return VLA_OK;
}

vla_status qbpe_decode(const qbpe *t, const int32_t *ids, size_t n, char **out) {
    if (!t || !out || (!ids && n)) return vla_error(VLA_ERR_INVALID_ARG, "tokenizer decode: NULL argument");
    *out = NULL;
    qb_buf bytes = {0}, text = {0};
    vla_status st = qb_buf_append(&bytes, "", 0);
    for (size_t i = 0; st == VLA_OK && i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_ids || !t->id_str[ids[i]]) {
            st = vla_error(VLA_ERR_INVALID_ARG, "%s: decode: id %d at position %zu is not in the vocabulary",
                           t->name, ids[i], i);
            break;
        }
        st = qb_decode_token(t->id_str[ids[i]], &bytes);
    }
    if (st == VLA_OK) st = qb_utf8_repair(bytes.p, bytes.n, &text);
    if (st == VLA_OK) st = qb_buf_append(&text, "", 0);
    free(bytes.p);
    if (st != VLA_OK) {
        free(text.p);
        return st;
    }
    *out = text.p;
    return VLA_OK;
}
