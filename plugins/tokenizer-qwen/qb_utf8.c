/* UTF-8 well-formedness (Unicode Table 3-7) with Python's replacement rule,
 * and the GPT-2 byte <-> unicode table. */
#include <string.h>

#include "qbpe.h"

size_t qb_utf8_seq(const unsigned char *s, size_t len, size_t *bad) {
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *bad = 1;
        return 0;
    }
    size_t k = 1;
    for (; k <= need; k++) {
        if (k >= len) break;
        unsigned b = s[k];
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    }
    if (k == need + 1) return k;
    /* The maximal subpart: the lead plus the continuation bytes that were valid. */
    *bad = k;
    return 0;
}

size_t qb_utf8_check(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, bad;
    while (i < len) {
        uint64_t w;
        if (len - i >= 8 && (memcpy(&w, p + i, 8), !(w & 0x8080808080808080ull))) {
            i += 8;
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = qb_utf8_seq(p + i, len - i, &bad);
        if (!n) return i;
        i += n;
    }
    return len;
}

vla_status qb_utf8_repair(const char *s, size_t len, qb_buf *out) {
    static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0, bad;
    while (i < len) {
        size_t n = p[i] < 0x80 ? 1 : qb_utf8_seq(p + i, len - i, &bad);
        if (n) {
            i += n;
            continue;
        }
        VLA_TRY(qb_buf_append(out, s + run, i - run));
        VLA_TRY(qb_buf_append(out, fffd, 3));
        i += bad;
        run = i;
    }
    return qb_buf_append(out, s + run, len - run);
}

/* Printable bytes stand for themselves; the 68 others take U+0100.. in
 * increasing byte order: 0-32 -> U+0100-U+0120, 127-160 -> U+0121-U+0142,
 * 173 -> U+0143. */
uint32_t qb_byte_cp(uint8_t b) {
    if (b <= 32) return 0x100u + b;
    if (b >= 127 && b <= 160) return 0x100u + 33 + (b - 127u);
    if (b == 173) return 0x143;
    return b;
}

int qb_cp_byte(uint32_t cp) {
    if (cp < 256) return qb_byte_cp((uint8_t)cp) == cp ? (int)cp : -1;
    if (cp <= 0x120) return (int)(cp - 0x100);
    if (cp <= 0x142) return (int)(cp - 0x121 + 127);
    return cp == 0x143 ? 173 : -1;
}
