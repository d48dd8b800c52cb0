/* The pre-tokenizer regex on PCRE2 (UTF + UCP), made to match what HF's
 * Oniguruma does with it. A sweep of every code point through both (each in
 * a probe string exercising all the pattern's alternatives) found two
 * differences for the Qwen2 pattern: PCRE2's \s also matches U+180E, which
 * Oniguruma's \s (Unicode White_Space) does not, so \s and \S are rewritten
 * into explicit White_Space classes; and the 20 Kaktovik numerals
 * (U+1D2C0..U+1D2D3, new in Unicode 15) are \p{N} to PCRE2 10.42 but not to
 * the older tables of HF's Oniguruma, a Unicode-version gap left as is. */
#include <stdlib.h>
#include <string.h>

#include "qbpe.h"

#define QB_HEAP_LIMIT_KIB (256u * 1024u)
#define QB_MATCH_LIMIT 10000000u

/* Unicode White_Space, as a class body. */
static const char qb_ws[] =
    "\\t\\n\\x0B\\f\\r\\x20\\x85\\xA0\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

/* Copy the pattern, replacing \s (in or out of a class) and \S (outside a
 * class) by White_Space classes; everything else is copied as written. */
static vla_status qb_rewrite(const char *p, qb_buf *out) {
    int in_class = 0;
    for (size_t i = 0; p[i];) {
        if (p[i] == '\\' && p[i + 1] == 'Q') { /* a literal section runs to \E */
            const char *e = strstr(p + i + 2, "\\E");
            size_t n = e ? (size_t)(e + 2 - (p + i)) : strlen(p + i);
            VLA_TRY(qb_buf_append(out, p + i, n));
            i += n;
        } else if (p[i] == '\\' && p[i + 1] == 's') {
            if (!in_class) VLA_TRY(qb_buf_append(out, "[", 1));
            VLA_TRY(qb_buf_append(out, qb_ws, sizeof qb_ws - 1));
            if (!in_class) VLA_TRY(qb_buf_append(out, "]", 1));
            i += 2;
        } else if (p[i] == '\\' && p[i + 1] == 'S' && !in_class) {
            VLA_TRY(qb_buf_append(out, "[^", 2));
            VLA_TRY(qb_buf_append(out, qb_ws, sizeof qb_ws - 1));
            VLA_TRY(qb_buf_append(out, "]", 1));
            i += 2;
        } else if (p[i] == '\\' && p[i + 1]) {
            VLA_TRY(qb_buf_append(out, p + i, 2));
            i += 2;
        } else if (!in_class && p[i] == '[') {
            /* A ']' right after '[' or '[^' is a literal member. */
            size_t n = 1 + (p[i + 1] == '^');
            n += p[i + n] == ']';
            VLA_TRY(qb_buf_append(out, p + i, n));
            i += n;
            in_class = 1;
        } else if (in_class && p[i] == '[' && p[i + 1] == ':' && strstr(p + i + 2, ":]")) {
            size_t n = (size_t)(strstr(p + i + 2, ":]") + 2 - (p + i));
            VLA_TRY(qb_buf_append(out, p + i, n));
            i += n;
        } else {
            if (in_class && p[i] == ']') in_class = 0;
            VLA_TRY(qb_buf_append(out, p + i, 1));
            i++;
        }
    }
    return qb_buf_append(out, "", 0);
}

static pcre2_code *qb_pcre2(const char *pattern, int *err, PCRE2_SIZE *off) {
    return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, err, off, NULL);
}

vla_status qbpe_compile_regex(qbpe *t, const char *pattern, const char *key) {
    int err;
    PCRE2_SIZE off;
    /* The pattern as written is compiled first so errors point into it. */
    pcre2_code *plain = qb_pcre2(pattern, &err, &off);
    if (!plain) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return vla_error(VLA_ERR_PARSE, "%s: %s: regex error at offset %zu: %s", t->name, key, (size_t)off,
                         (char *)msg);
    }
    pcre2_code_free(plain);
    qb_buf rewritten = {0};
    vla_status st = qb_rewrite(pattern, &rewritten);
    if (st == VLA_OK && !(t->re = qb_pcre2(rewritten.p, &err, &off)))
        st = vla_error(VLA_ERR_PARSE, "%s: %s: regex does not compile once \\s is made Unicode White_Space",
                       t->name, key);
    free(rewritten.p);
    VLA_TRY(st);
    /* Without JIT support the interpreter runs the same pattern. */
    pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);
    t->md = pcre2_match_data_create_from_pattern(t->re, NULL);
    t->mctx = pcre2_match_context_create(NULL);
    t->jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, NULL);
    if (!t->md || !t->mctx || !t->jit_stack) return vla_error(VLA_ERR_OOM, "%s: out of memory for the regex", t->name);
    pcre2_jit_stack_assign(t->mctx, NULL, t->jit_stack);
    pcre2_set_match_limit(t->mctx, QB_MATCH_LIMIT);
    pcre2_set_heap_limit(t->mctx, QB_HEAP_LIMIT_KIB);
    return VLA_OK;
}
