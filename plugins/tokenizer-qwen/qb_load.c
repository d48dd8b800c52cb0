/* tokenizer.json -> qbpe. Accepts what Qwen2/Qwen3 files use and refuses,
 * naming the key, every option that would change the result and is not
 * implemented (rather than silently tokenizing differently from HF). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "qbpe.h"

/* Ids are array indices; this bounds the id -> token table. */
#define QB_MAX_ID (1 << 24)
#define QB_MAX_FILE ((size_t)1 << 30)

static vla_status qb_fail(const qbpe *t, vla_status code, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vla_status qb_fail(const qbpe *t, vla_status code, const char *key, const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return vla_error(code, "%s: %s: %s", t->name, key, why);
}

/* A boolean member: absent or null gives dflt. */
static vla_status qb_bool(const qbpe *t, const cJSON *obj, const char *key, const char *path, int dflt,
                          int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) *out = dflt;
    else if (cJSON_IsBool(v)) *out = cJSON_IsTrue(v);
    else return qb_fail(t, VLA_ERR_TYPE, path, "expected true or false");
    return VLA_OK;
}

/* A string member, NULL when absent or null. */
static vla_status qb_str(const qbpe *t, const cJSON *obj, const char *key, const char *path, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return VLA_OK;
    if (!cJSON_IsString(v)) return qb_fail(t, VLA_ERR_TYPE, path, "expected a string");
    *out = v->valuestring;
    return VLA_OK;
}

static vla_status qb_id(const qbpe *t, const cJSON *v, const char *path, int32_t *out) {
    if (!cJSON_IsNumber(v)) return qb_fail(t, VLA_ERR_TYPE, path, "expected an integer id");
    if (!(v->valuedouble >= 0 && v->valuedouble < QB_MAX_ID))
        return qb_fail(t, VLA_ERR_LIMIT, path, "id %g is outside [0, %d)", v->valuedouble, QB_MAX_ID);
    if (v->valuedouble != (double)(int32_t)v->valuedouble)
        return qb_fail(t, VLA_ERR_TYPE, path, "id %g is not an integer", v->valuedouble);
    *out = (int32_t)v->valuedouble;
    return VLA_OK;
}

static vla_status qb_load_vocab(qbpe *t, const cJSON *model) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab)) return qb_fail(t, VLA_ERR_PARSE, "model.vocab", "expected an object of token -> id");
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        int32_t id = 0;
        if (qb_id(t, e, "model.vocab", &id) != VLA_OK) {
            char path[96];
            snprintf(path, sizeof path, "model.vocab[\"%.40s\"]", e->string);
            return qb_id(t, e, path, &id);
        }
        VLA_TRY(qb_strmap_put(&t->vocab, e->string, strlen(e->string), id, NULL));
        if (id >= t->n_ids) t->n_ids = id + 1;
    }
    return VLA_OK;
}

/* Split "a b" at its first space (HF: splitn(2, ' ')) or take ["a", "b"]. */
static vla_status qb_merge_parts(const qbpe *t, const cJSON *m, const char *path, const char **a, size_t *na,
                                 const char **b) {
    if (cJSON_IsString(m)) {
        const char *sp = strchr(m->valuestring, ' ');
        if (!sp) return qb_fail(t, VLA_ERR_PARSE, path, "\"%.60s\" is not \"left right\"", m->valuestring);
        *a = m->valuestring;
        *na = (size_t)(sp - m->valuestring);
        *b = sp + 1;
        return VLA_OK;
    }
    if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
        *a = m->child->valuestring;
        *na = strlen(*a);
        *b = m->child->next->valuestring;
        return VLA_OK;
    }
    return qb_fail(t, VLA_ERR_PARSE, path, "expected \"left right\" or [\"left\", \"right\"]");
}

static vla_status qb_load_merges(qbpe *t, const cJSON *model) {
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!merges || cJSON_IsNull(merges)) return VLA_OK;
    if (!cJSON_IsArray(merges)) return qb_fail(t, VLA_ERR_PARSE, "model.merges", "expected an array");
    qb_buf joined = {0};
    vla_status st = VLA_OK;
    int32_t rank = 0;
    for (const cJSON *m = merges->child; m && st == VLA_OK; m = m->next, rank++) {
        char path[48];
        snprintf(path, sizeof path, "model.merges[%d]", rank);
        const char *a = NULL, *b = NULL;
        size_t na = 0, nb;
        int32_t ia, ib, id;
        if ((st = qb_merge_parts(t, m, path, &a, &na, &b)) != VLA_OK) break;
        nb = strlen(b);
        joined.n = 0;
        if ((st = qb_buf_append(&joined, a, na)) != VLA_OK || (st = qb_buf_append(&joined, b, nb)) != VLA_OK) break;
        if (!qb_strmap_get(&t->vocab, a, na, &ia) || !qb_strmap_get(&t->vocab, b, nb, &ib) ||
            !qb_strmap_get(&t->vocab, joined.p, joined.n, &id))
            st = qb_fail(t, VLA_ERR_PARSE, path, "\"%.*s\" + \"%.40s\": a part or the result is not in model.vocab",
                         (int)(na < 40 ? na : 40), a, b);
        else
            st = qb_mergemap_put(&t->merges, ia, ib, rank, id);
    }
    free(joined.p);
    return st;
}

static vla_status qb_load_model(qbpe *t, const cJSON *root) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const char *type = NULL, *s = NULL;
    int flag = 0;
    if (!cJSON_IsObject(model)) return qb_fail(t, VLA_ERR_PARSE, "model", "missing or not an object");
    VLA_TRY(qb_str(t, model, "type", "model.type", &type));
    if (!type || strcmp(type, "BPE") != 0)
        return qb_fail(t, VLA_ERR_UNSUPPORTED, "model.type", "\"%s\": only \"BPE\" is supported", type ? type : "");
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout))
        return qb_fail(t, VLA_ERR_UNSUPPORTED, "model.dropout", "BPE dropout is a training option; expected null");
    VLA_TRY(qb_str(t, model, "unk_token", "model.unk_token", &s));
    if (s) return qb_fail(t, VLA_ERR_UNSUPPORTED, "model.unk_token", "only null is supported (byte-level BPE)");
    VLA_TRY(qb_str(t, model, "continuing_subword_prefix", "model.continuing_subword_prefix", &s));
    if (s && *s) return qb_fail(t, VLA_ERR_UNSUPPORTED, "model.continuing_subword_prefix", "only \"\" is supported");
    VLA_TRY(qb_str(t, model, "end_of_word_suffix", "model.end_of_word_suffix", &s));
    if (s && *s) return qb_fail(t, VLA_ERR_UNSUPPORTED, "model.end_of_word_suffix", "only \"\" is supported");
    VLA_TRY(qb_bool(t, model, "byte_fallback", "model.byte_fallback", 0, &flag));
    if (flag) return qb_fail(t, VLA_ERR_UNSUPPORTED, "model.byte_fallback", "only false is supported");
    VLA_TRY(qb_bool(t, model, "ignore_merges", "model.ignore_merges", 0, &t->ignore_merges));
    VLA_TRY(qb_load_vocab(t, model));
    return qb_load_merges(t, model);
}

/* The trie an added token goes to: matched on the raw text, or (normalized:
 * true) on the text after the normalizer, with its content normalised too. */
static vla_status qb_added_trie(qbpe *t, const char *content, int normalized, int32_t id, const char *path) {
    if (!normalized || !t->nfc) return qb_trie_add(normalized ? &t->added_norm : &t->added_raw, content,
                                                   strlen(content), id);
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)content, 0, &norm,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) return qb_fail(t, VLA_ERR_PARSE, path, "cannot NFC-normalise: %s", utf8proc_errmsg(n));
    vla_status st = qb_trie_add(&t->added_norm, (const char *)norm, (size_t)n, id);
    free(norm);
    return st;
}

/* One added_tokens entry: its content and whether it is matched after
 * normalisation; flags this code does not implement are refused. */
static vla_status qb_added_entry(qbpe *t, const cJSON *a, const char *path, const char **content, int *normalized) {
    int32_t id = 0;
    int special = 0, flag = 0;
    if (!cJSON_IsObject(a)) return qb_fail(t, VLA_ERR_PARSE, path, "expected an object");
    VLA_TRY(qb_id(t, cJSON_GetObjectItemCaseSensitive(a, "id"), path, &id));
    VLA_TRY(qb_str(t, a, "content", path, content));
    if (!*content) return qb_fail(t, VLA_ERR_PARSE, path, "missing \"content\"");
    VLA_TRY(qb_bool(t, a, "special", path, 0, &special));
    VLA_TRY(qb_bool(t, a, "normalized", path, !special, normalized));
    static const char *const unsupported[] = {"lstrip", "rstrip", "single_word"};
    for (size_t u = 0; u < 3; u++) {
        VLA_TRY(qb_bool(t, a, unsupported[u], path, 0, &flag));
        if (flag)
            return qb_fail(t, VLA_ERR_UNSUPPORTED, path, "\"%s\": %s: true is not supported", *content, unsupported[u]);
    }
    return VLA_OK;
}

/* Ids of added_tokens as HF's AddedVocabulary::add_tokens assigns them
 * (the file's "id" is not used; HF only warns when it differs): an empty or
 * repeated content is skipped (-1); a content in the vocabulary takes its
 * id; otherwise the largest added id + 1, or the vocabulary's entry count
 * when that is larger. */
static vla_status qb_assign_added(qbpe *t, const cJSON *added, int32_t *ids) {
    int k = 0;
    int32_t max = -1;
    const int32_t vsize = (int32_t)t->vocab.n;
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next, k++) {
        char path[48];
        const char *content = NULL;
        int normalized = 0;
        int32_t id;
        snprintf(path, sizeof path, "added_tokens[%d]", k);
        VLA_TRY(qb_added_entry(t, a, path, &content, &normalized));
        ids[k] = -1;
        if (!*content || qb_strmap_get(&t->added, content, strlen(content), &id)) continue;
        if (!qb_strmap_get(&t->vocab, content, strlen(content), &id))
            id = max < 0 ? vsize : (max >= vsize || vsize == 0) ? max + 1 : vsize;
        if (id >= QB_MAX_ID) return qb_fail(t, VLA_ERR_LIMIT, path, "more than %d ids", QB_MAX_ID);
        if (id > max) max = id;
        if (id >= t->n_ids) t->n_ids = id + 1;
        ids[k] = id;
        VLA_TRY(qb_strmap_put(&t->added, content, strlen(content), id, NULL));
    }
    return VLA_OK;
}

/* Fill the id table and the tries from the assigned ids. */
static vla_status qb_index_added(qbpe *t, const cJSON *added, const int32_t *ids) {
    int k = 0;
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next, k++) {
        if (ids[k] < 0) continue;
        char path[48];
        const char *content = NULL;
        int normalized = 0;
        snprintf(path, sizeof path, "added_tokens[%d]", k);
        VLA_TRY(qb_added_entry(t, a, path, &content, &normalized));
        const char *copy = qb_arena_strndup(&t->strings, content, strlen(content));
        if (!copy) return vla_error(VLA_ERR_OOM, "%s: out of memory", t->name);
        t->id_str[ids[k]] = copy;
        VLA_TRY(qb_added_trie(t, content, normalized, ids[k], path));
    }
    return VLA_OK;
}

static vla_status qb_load_normalizer(qbpe *t, const cJSON *root) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const char *type;
    if (!n || cJSON_IsNull(n)) return VLA_OK;
    if (!cJSON_IsObject(n)) return qb_fail(t, VLA_ERR_PARSE, "normalizer", "expected an object or null");
    VLA_TRY(qb_str(t, n, "type", "normalizer.type", &type));
    if (!type || strcmp(type, "NFC") != 0)
        return qb_fail(t, VLA_ERR_UNSUPPORTED, "normalizer.type", "\"%s\": only \"NFC\" (or null) is supported",
                       type ? type : "");
    t->nfc = 1;
    return VLA_OK;
}

static vla_status qb_load_split(qbpe *t, const cJSON *step, const char *path) {
    char key[96];
    const char *behavior = NULL, *regex = NULL;
    int invert = 0;
    const cJSON *pattern = cJSON_GetObjectItemCaseSensitive(step, "pattern");
    snprintf(key, sizeof key, "%s.pattern", path);
    if (!cJSON_IsObject(pattern)) return qb_fail(t, VLA_ERR_PARSE, key, "expected {\"Regex\": ...}");
    VLA_TRY(qb_str(t, pattern, "Regex", key, &regex));
    if (!regex) return qb_fail(t, VLA_ERR_UNSUPPORTED, key, "only {\"Regex\": ...} patterns are supported");
    snprintf(key, sizeof key, "%s.behavior", path);
    VLA_TRY(qb_str(t, step, "behavior", key, &behavior));
    if (!behavior || strcmp(behavior, "Isolated") != 0)
        return qb_fail(t, VLA_ERR_UNSUPPORTED, key, "\"%s\": only \"Isolated\" is supported", behavior ? behavior : "");
    snprintf(key, sizeof key, "%s.invert", path);
    VLA_TRY(qb_bool(t, step, "invert", key, 0, &invert));
    if (invert) return qb_fail(t, VLA_ERR_UNSUPPORTED, key, "only false is supported");
    if (t->re) return qb_fail(t, VLA_ERR_UNSUPPORTED, path, "only one Split step is supported");
    snprintf(key, sizeof key, "%s.pattern.Regex", path);
    return qbpe_compile_regex(t, regex, key);
}

/* ByteLevel with add_prefix_space and use_regex false: bytes map to the
 * GPT-2 alphabet (done implicitly: BPE starts from byte symbols). */
static vla_status qb_check_bytelevel(const qbpe *t, const cJSON *step, const char *path) {
    char key[96];
    int flag = 0;
    static const char *const off[] = {"add_prefix_space", "use_regex"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "%s.%s", path, off[i]);
        VLA_TRY(qb_bool(t, step, off[i], key, i == 1, &flag));
        if (flag) return qb_fail(t, VLA_ERR_UNSUPPORTED, key, "only false is supported");
    }
    return VLA_OK;
}

static vla_status qb_load_pretokenizer(qbpe *t, const cJSON *root) {
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const char *type;
    if (!cJSON_IsObject(pre)) return qb_fail(t, VLA_ERR_PARSE, "pre_tokenizer", "missing or not an object");
    VLA_TRY(qb_str(t, pre, "type", "pre_tokenizer.type", &type));
    const cJSON *steps = pre, *first = pre;
    int seq = type && strcmp(type, "Sequence") == 0;
    if (seq) {
        steps = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
        if (!cJSON_IsArray(steps)) return qb_fail(t, VLA_ERR_PARSE, "pre_tokenizer.pretokenizers", "expected an array");
        first = steps->child;
    }
    int k = 0, bytelevel = 0;
    for (const cJSON *s = first; s; s = seq ? s->next : NULL, k++) {
        char path[64];
        if (seq) snprintf(path, sizeof path, "pre_tokenizer.pretokenizers[%d]", k);
        else snprintf(path, sizeof path, "pre_tokenizer");
        char tkey[80];
        snprintf(tkey, sizeof tkey, "%s.type", path);
        if (!cJSON_IsObject(s)) return qb_fail(t, VLA_ERR_PARSE, path, "expected an object");
        VLA_TRY(qb_str(t, s, "type", tkey, &type));
        if (bytelevel) return qb_fail(t, VLA_ERR_UNSUPPORTED, path, "ByteLevel must be the last step");
        if (type && strcmp(type, "Split") == 0) VLA_TRY(qb_load_split(t, s, path));
        else if (type && strcmp(type, "ByteLevel") == 0) {
            VLA_TRY(qb_check_bytelevel(t, s, path));
            bytelevel = 1;
        } else
            return qb_fail(t, VLA_ERR_UNSUPPORTED, tkey, "\"%s\": only Split and ByteLevel steps are supported",
                           type ? type : "");
    }
    if (!bytelevel) return qb_fail(t, VLA_ERR_UNSUPPORTED, "pre_tokenizer", "a ByteLevel step is required");
    return VLA_OK;
}

static vla_status qb_load_decoder(const qbpe *t, const cJSON *root) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    const char *type = NULL;
    if (cJSON_IsObject(d)) VLA_TRY(qb_str(t, d, "type", "decoder.type", &type));
    if (!type || strcmp(type, "ByteLevel") != 0)
        return qb_fail(t, VLA_ERR_UNSUPPORTED, "decoder", "only a ByteLevel decoder is supported");
    return VLA_OK;
}

static vla_status qb_build_ids(qbpe *t, const cJSON *added) {
    int n_added = added ? cJSON_GetArraySize(added) : 0;
    int32_t *ids = malloc((size_t)(n_added ? n_added : 1) * sizeof *ids);
    if (!ids) return vla_error(VLA_ERR_OOM, "%s: out of memory", t->name);
    vla_status st = qb_assign_added(t, added, ids);
    if (st == VLA_OK && !(t->id_str = calloc(t->n_ids ? (size_t)t->n_ids : 1, sizeof *t->id_str)))
        st = vla_error(VLA_ERR_OOM, "%s: out of memory for %d ids", t->name, t->n_ids);
    if (st == VLA_OK) {
        for (size_t i = 0; i < t->vocab.n; i++) t->id_str[t->vocab.entries[i].value] = t->vocab.entries[i].key;
        st = qb_index_added(t, added, ids);
    }
    free(ids);
    VLA_TRY(st);
    for (int b = 0; b < 256; b++) {
        uint8_t u[4];
        utf8proc_ssize_t n = utf8proc_encode_char((utf8proc_int32_t)qb_byte_cp((uint8_t)b), u);
        if (!qb_strmap_get(&t->vocab, (const char *)u, (size_t)n, &t->byte_id[b])) t->byte_id[b] = -1;
    }
    return VLA_OK;
}

static vla_status qb_load_root(qbpe *t, const cJSON *root) {
    if (!cJSON_IsObject(root)) return qb_fail(t, VLA_ERR_PARSE, "(top level)", "expected a JSON object");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return qb_fail(t, VLA_ERR_PARSE, "added_tokens", "expected an array");
    VLA_TRY(qb_load_normalizer(t, root));
    VLA_TRY(qb_load_pretokenizer(t, root));
    VLA_TRY(qb_load_decoder(t, root));
    VLA_TRY(qb_load_model(t, root));
    return qb_build_ids(t, added);
}

/* Line of a byte offset, for parse errors. */
static int qb_line_of(const char *json, size_t off) {
    int line = 1;
    for (size_t i = 0; i < off; i++) line += json[i] == '\n';
    return line;
}

vla_status qbpe_load(const char *json, size_t len, const char *name, qbpe **out) {
    if (!json || !out) return vla_error(VLA_ERR_INVALID_ARG, "tokenizer load: NULL argument");
    *out = NULL;
    qbpe *t = calloc(1, sizeof *t);
    if (!t || !(t->name = qb_arena_strndup(&t->strings, name ? name : "tokenizer.json", strlen(name ? name : "tokenizer.json")))) {
        free(t);
        return vla_error(VLA_ERR_OOM, "tokenizer load: out of memory");
    }
    pthread_mutex_init(&t->lock, NULL);
    vla_status st;
    size_t bad = qb_utf8_check(json, len);
    if (bad != len) {
        st = vla_error(VLA_ERR_PARSE, "%s:%d: invalid UTF-8 at byte %zu", t->name, qb_line_of(json, bad), bad);
        qbpe_free(t);
        return st;
    }
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
        st = vla_error(VLA_ERR_PARSE, "%s:%d: malformed JSON near byte %zu", t->name, qb_line_of(json, off), off);
        qbpe_free(t);
        return st;
    }
    st = qb_load_root(t, root);
    cJSON_Delete(root);
    if (st != VLA_OK) {
        qbpe_free(t);
        return st;
    }
    *out = t;
    return VLA_OK;
}

vla_status qbpe_load_file(const char *path, qbpe **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return vla_error(VLA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    vla_status st = VLA_OK;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *p = cap <= QB_MAX_FILE ? realloc(buf, cap) : NULL;
            if (!p) {
                st = vla_error(cap > QB_MAX_FILE ? VLA_ERR_LIMIT : VLA_ERR_OOM, "%s: file too large to read", path);
                break;
            }
            buf = p;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (st == VLA_OK && ferror(f)) st = vla_error(VLA_ERR_IO, "%s: read error: %s", path, strerror(errno));
    fclose(f);
    if (st == VLA_OK) st = qbpe_load(buf, n, path, out);
    free(buf);
    return st;
}

void qbpe_free(qbpe *t) {
    if (!t) return;
    qb_strmap_free(&t->vocab);
    qb_strmap_free(&t->added);
    qb_strmap_free(&t->cache);
    qb_mergemap_free(&t->merges);
    qb_trie_free(&t->added_raw);
    qb_trie_free(&t->added_norm);
    free(t->id_str);
    free(t->cache_ids);
    free(t->syms);
    free(t->heap);
    free(t->scratch.p);
    free(t->norm.p);
    pcre2_match_data_free(t->md);
    pcre2_match_context_free(t->mctx);
    pcre2_jit_stack_free(t->jit_stack);
    pcre2_code_free(t->re);
    pthread_mutex_destroy(&t->lock);
    qb_arena_free(&t->strings);
    free(t);
}

int32_t qbpe_token_id(const qbpe *t, const char *token, size_t len) {
    int32_t id;
    /* Added contents win, as in HF's token_to_id. */
    if (qb_strmap_get(&t->added, token, len, &id)) return id;
    return qb_strmap_get(&t->vocab, token, len, &id) ? id : -1;
}
