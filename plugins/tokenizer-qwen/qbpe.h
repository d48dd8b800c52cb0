/* Byte-level BPE as Hugging Face `tokenizers` runs it for Qwen2/Qwen3
 * (tokenizer.json: NFC normalizer, Split(regex, Isolated) + ByteLevel
 * pre-tokenizer, BPE model, ByteLevel decoder). Internal to the plugin; the
 * fuzz targets use it directly. One instance may be shared by threads:
 * encodes take turns on its lock (they share the piece cache).
 *
 * Invalid UTF-8 in the text to encode is replaced first, each maximal
 * ill-formed subpart by one U+FFFD, exactly as Python's
 * bytes.decode("utf-8", "replace") does; so encoding bytes b gives the ids
 * HF gives for b.decode("utf-8", "replace"). */
#ifndef QBPE_H
#define QBPE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vla/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ---- small containers (qb_util.c) ---- */

typedef struct qb_chunk qb_chunk;
typedef struct qb_arena {
    qb_chunk *head;
} qb_arena;
/* NUL-terminated copy of s[0..len); NULL on OOM. */
char *qb_arena_strndup(qb_arena *a, const char *s, size_t len);
void qb_arena_free(qb_arena *a);

uint64_t qb_hash(const void *data, size_t len);

/* Byte-string -> int32 map; keys are copied into its arena. */
typedef struct qb_strmap_entry {
    const char *key;
    uint32_t len;
    int32_t value;
    uint64_t hash;
} qb_strmap_entry;
typedef struct qb_strmap {
    qb_strmap_entry *entries;
    size_t n, cap;
    uint32_t *slots; /* entry index + 1; 0 = empty */
    size_t mask;
    qb_arena arena;
} qb_strmap;
/* Insert or overwrite; *stored (optional) gets the map's copy of the key. */
vla_status qb_strmap_put(qb_strmap *m, const char *key, size_t len, int32_t value,
                         const char **stored);
/* 1 and *value when present, 0 otherwise. */
int qb_strmap_get(const qb_strmap *m, const char *key, size_t len, int32_t *value);
void qb_strmap_clear(qb_strmap *m);
void qb_strmap_free(qb_strmap *m);

/* (left id, right id) -> (rank, merged id). */
typedef struct qb_merge {
    uint64_t key; /* UINT64_MAX = empty slot */
    int32_t rank;
    int32_t id;
} qb_merge;
typedef struct qb_mergemap {
    qb_merge *slots;
    size_t mask, n;
} qb_mergemap;
vla_status qb_mergemap_put(qb_mergemap *m, int32_t a, int32_t b, int32_t rank, int32_t id);
const qb_merge *qb_mergemap_get(const qb_mergemap *m, int32_t a, int32_t b);
void qb_mergemap_free(qb_mergemap *m);

/* Growable byte buffer. */
typedef struct qb_buf {
    char *p;
    size_t n, cap;
} qb_buf;
vla_status qb_buf_append(qb_buf *b, const void *data, size_t len);

/* ---- UTF-8 (qb_utf8.c) ---- */

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when s starts
 * an ill-formed one; *bad gets the length of its maximal subpart (>= 1). */
size_t qb_utf8_seq(const unsigned char *s, size_t len, size_t *bad);
/* Offset of the first ill-formed sequence, or len when s is well-formed. */
size_t qb_utf8_check(const char *s, size_t len);
/* Append s to out with every maximal ill-formed subpart replaced by U+FFFD. */
vla_status qb_utf8_repair(const char *s, size_t len, qb_buf *out);

/* NFC of well-formed s (qb_nfc.c): *res is s itself when nothing changes,
 * else out's contents. */
vla_status qb_nfc(const char *s, size_t len, qb_buf *out, const char **res, size_t *res_len);

/* GPT-2 byte <-> unicode table: byte b is written as code point qb_byte_cp(b). */
uint32_t qb_byte_cp(uint8_t b);
/* The byte a code point stands for, or -1. */
int qb_cp_byte(uint32_t cp);

/* ---- added tokens: byte trie, leftmost-longest match ---- */

typedef struct qb_trie_node {
    int32_t child, sibling, token; /* token id or -1 */
    uint8_t byte;
} qb_trie_node;
typedef struct qb_trie {
    qb_trie_node *nodes; /* nodes[0] is the root once anything was added */
    size_t n, cap;
    uint8_t first[32]; /* bitmap of first bytes, to skip quickly */
} qb_trie;
vla_status qb_trie_add(qb_trie *t, const char *s, size_t len, int32_t token);
/* Can a token start with byte b? (the scan loops' fast path) */
static inline int qb_trie_may_start(const qb_trie *t, uint8_t b) { return t->first[b >> 3] & (1u << (b & 7)); }
/* Length of the longest token starting at s (its id in *token), or 0. */
size_t qb_trie_longest(const qb_trie *t, const char *s, size_t len, int32_t *token);
void qb_trie_free(qb_trie *t);

/* ---- the tokenizer ---- */

typedef struct qbpe {
    char *name; /* file name for messages */
    qb_arena strings; /* added-token contents */
    qb_strmap vocab; /* byte-level token string -> id */
    qb_strmap added; /* added-token content -> id */
    qb_mergemap merges;
    int32_t n_ids;       /* max id + 1 */
    const char **id_str; /* id -> token text (added content wins), NULL if unused */
    int32_t byte_id[256]; /* id of each single-byte symbol, -1 if missing */
    qb_trie added_raw;    /* added tokens matched before normalisation */
    qb_trie added_norm;   /* added tokens with normalized: true */
    int nfc;
    int ignore_merges;
    pcre2_code *re; /* the Split regex, NULL when there is none */

    /* Encoding state, guarded by `lock` (one encode at a time per instance). */
    pthread_mutex_t lock;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    qb_strmap cache; /* piece bytes -> offset into cache_ids */
    int32_t *cache_ids; /* at offset: count, then the ids */
    size_t cache_n, cache_cap;
    struct qb_sym *syms;
    size_t syms_cap;
    struct qb_cand *heap;
    size_t heap_cap;
    qb_buf scratch; /* byte-level spelling of a piece (ignore_merges) */
    qb_buf norm;    /* NFC output */
} qbpe;

/* Parse tokenizer.json text; `name` is used in messages. */
vla_status qbpe_load(const char *json, size_t len, const char *name, qbpe **out);
vla_status qbpe_load_file(const char *path, qbpe **out);
void qbpe_free(qbpe *t);

vla_status qbpe_encode(qbpe *t, const char *text, size_t len, vla_tokens *out);
vla_status qbpe_decode(const qbpe *t, const int32_t *ids, size_t n, char **out);
/* Id of an exact token string (added content or vocabulary spelling), -1 if none. */
int32_t qbpe_token_id(const qbpe *t, const char *token, size_t len);

/* Compile the Split regex into t->re (qb_regex.c); `key` names it in messages. */
vla_status qbpe_compile_regex(qbpe *t, const char *pattern, const char *key);

/* BPE of one pre-token piece (qb_bpe.c); caller holds the lock. */
vla_status qbpe_bpe_piece(qbpe *t, const char *piece, size_t len, vla_tokens *out);

#endif
