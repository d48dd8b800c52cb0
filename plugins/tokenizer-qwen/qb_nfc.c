/* NFC with utf8proc, skipping the work where a quick check proves it a
 * no-op. Text is cut before every "inert" code point: canonical combining
 * class 0, NFC_Quick_Check=Yes, and never the second character of a
 * canonical composition, so nothing before it can change it or combine
 * with it. A piece made only of inert code points is already NFC; any other
 * piece (an inert code point plus the non-inert ones after it) goes through
 * utf8proc_map. The inert ranges below were checked code point by code
 * point against Python's unicodedata (Unicode 14): below U+0300 (all Latin
 * and ASCII), kana, CJK unified ideographs, Hangul syllables. */
#include <stdlib.h>
#include <utf8proc.h>

#include "qbpe.h"

static int qb_nfc_inert(uint32_t cp) {
    return cp < 0x300 || (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30A1 && cp <= 0x30FA) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3);
}

/* Code point of the well-formed UTF-8 sequence at s, its length in *n. */
static uint32_t qb_cp(const unsigned char *s, size_t *n) {
    if (s[0] < 0x80) return *n = 1, s[0];
    if (s[0] < 0xE0) return *n = 2, ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    if (s[0] < 0xF0) return *n = 3, ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    return *n = 4, ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                   ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

static vla_status qb_nfc_piece(const char *s, size_t len, qb_buf *out) {
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &norm,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0)
        return vla_error(n == UTF8PROC_ERROR_NOMEM ? VLA_ERR_OOM : VLA_ERR_PARSE, "tokenizer: NFC failed: %s",
                         utf8proc_errmsg(n));
    vla_status st = qb_buf_append(out, norm, (size_t)n);
    free(norm);
    return st;
}

vla_status qb_nfc(const char *s, size_t len, qb_buf *out, const char **res, size_t *res_len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, done = 0, piece = 0, n;
    int normalized = 0;
    out->n = 0;
    while (i < len) {
        if (p[i] < 0x80 || qb_nfc_inert(qb_cp(p + i, &n))) {
            piece = i;
            i += p[i] < 0x80 ? 1 : n;
            continue;
        }
        /* The piece runs from the last inert code point to the next one. */
        size_t end = i + n;
        while (end < len && !(p[end] < 0x80 || qb_nfc_inert(qb_cp(p + end, &n)))) end += n;
        VLA_TRY(qb_buf_append(out, s + done, piece - done));
        VLA_TRY(qb_nfc_piece(s + piece, end - piece, out));
        done = piece = i = end;
        normalized = 1;
    }
    if (!normalized) {
        *res = s;
        *res_len = len;
        return VLA_OK;
    }
    VLA_TRY(qb_buf_append(out, s + done, len - done));
    *res = out->p;
    *res_len = out->n;
    return VLA_OK;
}
