/* Encoding: repair UTF-8 -> added tokens (raw) -> NFC -> added tokens
 * (normalized) -> Split regex (Isolated) -> cached BPE per piece. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "qbpe.h"

/* Bounds on the piece cache; it is cleared when either is reached. */
#define QB_CACHE_MAX_ENTRIES 65536u
#define QB_CACHE_MAX_IDS (1u << 20)
#define QB_CACHE_MAX_PIECE 256u

static vla_status qb_cache_put(qbpe *t, const char *piece, size_t len, const int32_t *ids, size_t n) {
    if (len > QB_CACHE_MAX_PIECE) return VLA_OK;
    if (t->cache.n >= QB_CACHE_MAX_ENTRIES || t->cache_n + n + 1 > QB_CACHE_MAX_IDS) {
        qb_strmap_clear(&t->cache);
        t->cache_n = 0;
    }
    if (t->cache_n + n + 1 > t->cache_cap) {
        size_t cap = t->cache_cap ? t->cache_cap : 4096;
        while (cap < t->cache_n + n + 1) cap *= 2;
        int32_t *p = realloc(t->cache_ids, cap * sizeof *p);
        if (!p) return vla_error(VLA_ERR_OOM, "tokenizer: out of memory for the piece cache");
        t->cache_ids = p;
        t->cache_cap = cap;
    }
    int32_t at = (int32_t)t->cache_n;
    t->cache_ids[t->cache_n++] = (int32_t)n;
    if (n) memcpy(t->cache_ids + t->cache_n, ids, n * sizeof *ids);
    t->cache_n += n;
    return qb_strmap_put(&t->cache, piece, len, at, NULL);
}

static vla_status qb_piece(qbpe *t, const char *piece, size_t len, vla_tokens *out) {
    if (!len) return VLA_OK;
    int32_t at;
    if (len <= QB_CACHE_MAX_PIECE && qb_strmap_get(&t->cache, piece, len, &at)) {
        for (int32_t k = 0; k < t->cache_ids[at]; k++) VLA_TRY(vla_tokens_push(out, t->cache_ids[at + 1 + k]));
        return VLA_OK;
    }
    size_t start = out->n;
    int32_t whole;
    if (t->ignore_merges) {
        /* The whole piece is one token when its byte-level spelling is in the vocabulary. */
        t->scratch.n = 0;
        for (size_t i = 0; i < len; i++) {
            uint8_t u[4];
            utf8proc_ssize_t k = utf8proc_encode_char((utf8proc_int32_t)qb_byte_cp((uint8_t)piece[i]), u);
            VLA_TRY(qb_buf_append(&t->scratch, u, (size_t)k));
        }
        if (qb_strmap_get(&t->vocab, t->scratch.p, t->scratch.n, &whole)) {
            VLA_TRY(vla_tokens_push(out, whole));
            return qb_cache_put(t, piece, len, &out->ids[start], 1);
        }
    }
    VLA_TRY(qbpe_bpe_piece(t, piece, len, out));
    /* A piece of bytes missing from the vocabulary gives no ids at all. */
    return qb_cache_put(t, piece, len, out->n > start ? out->ids + start : NULL, out->n - start);
}

/* HF's Split(Isolated): every regex match and every gap between matches is
 * a piece. Iteration follows the onig crate's find_iter: an empty match
 * right after the previous match is skipped by advancing one character. */
static vla_status qb_split(qbpe *t, const char *s, size_t len, vla_tokens *out) {
    if (!t->re) return qb_piece(t, s, len, out);
    PCRE2_SPTR subj = (PCRE2_SPTR)s;
    size_t pos = 0, prev = 0, last_end = (size_t)-1;
    while (pos <= len) {
        int rc = pcre2_match(t->re, subj, len, pos, PCRE2_NO_UTF_CHECK, t->md, t->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return vla_error(rc == PCRE2_ERROR_NOMEMORY ? VLA_ERR_OOM : VLA_ERR_LIMIT,
                             "%s: pre-tokenizer regex failed at byte %zu: %s", t->name, pos, (char *)msg);
        }
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
        size_t ms = ov[0], me = ov[1];
        if (me < ms) me = ms; /* \K tricks can invert a match; treat it as empty */
        if (ms == me && me == last_end) {
            if (pos >= len) break;
            size_t bad, n = qb_utf8_seq((const unsigned char *)s + pos, len - pos, &bad);
            pos += n ? n : 1;
            continue;
        }
        if (ms > prev) VLA_TRY(qb_piece(t, s + prev, ms - prev, out));
        VLA_TRY(qb_piece(t, s + ms, me - ms, out));
        prev = me;
        pos = last_end = me;
    }
    if (prev < len) VLA_TRY(qb_piece(t, s + prev, len - prev, out));
    return VLA_OK;
}

static vla_status qb_segment_normalized(qbpe *t, const char *s, size_t len, vla_tokens *out) {
    size_t run = 0, i = 0;
    int32_t id;
    while (i < len) {
        size_t m = qb_trie_may_start(&t->added_norm, (uint8_t)s[i]) ? qb_trie_longest(&t->added_norm, s + i, len - i, &id) : 0;
        if (!m) {
            i++;
            continue;
        }
        VLA_TRY(qb_split(t, s + run, i - run, out));
        VLA_TRY(vla_tokens_push(out, id));
        i += m;
        run = i;
    }
    return qb_split(t, s + run, len - run, out);
}

static vla_status qb_segment(qbpe *t, const char *s, size_t len, vla_tokens *out) {
    if (!len) return VLA_OK;
    if (t->nfc) VLA_TRY(qb_nfc(s, len, &t->norm, &s, &len));
    return qb_segment_normalized(t, s, len, out);
}

static vla_status qb_encode_valid(qbpe *t, const char *s, size_t len, vla_tokens *out) {
    size_t run = 0, i = 0;
    int32_t id;
    while (i < len) {
        size_t m = qb_trie_may_start(&t->added_raw, (uint8_t)s[i]) ? qb_trie_longest(&t->added_raw, s + i, len - i, &id) : 0;
        if (!m) {
            i++;
            continue;
        }
        VLA_TRY(qb_segment(t, s + run, i - run, out));
        VLA_TRY(vla_tokens_push(out, id));
        i += m;
        run = i;
    }
    return qb_segment(t, s + run, len - run, out);
}

vla_status qbpe_encode(qbpe *t, const char *text, size_t len, vla_tokens *out) {
    if (!t || !out || (!text && len)) return vla_error(VLA_ERR_INVALID_ARG, "tokenizer encode: NULL argument");
    size_t n0 = out->n;
    qb_buf fixed = {0};
    vla_status st = VLA_OK;
    if (qb_utf8_check(text, len) != len) {
        st = qb_utf8_repair(text, len, &fixed);
        text = fixed.p;
        len = fixed.n;
    }
    if (st == VLA_OK) {
        pthread_mutex_lock(&t->lock);
        st = qb_encode_valid(t, text, len, out);
        pthread_mutex_unlock(&t->lock);
    }
    free(fixed.p);
    if (st != VLA_OK) out->n = n0; /* no partial output */
    return st;
}
