/* Byte trie of added tokens. HF matches them with Aho-Corasick in
 * leftmost-longest mode; scanning left to right and taking the longest token
 * at the first position where any matches is the same thing. */
#include <stdlib.h>

#include "qbpe.h"

static int32_t qb_trie_node_new(qb_trie *t, uint8_t byte) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        qb_trie_node *n = realloc(t->nodes, cap * sizeof *n);
        if (!n) return -1;
        t->nodes = n;
        t->cap = cap;
    }
    t->nodes[t->n] = (qb_trie_node){-1, -1, -1, byte};
    return (int32_t)t->n++;
}

static int32_t qb_trie_child(const qb_trie *t, int32_t node, uint8_t byte) {
    for (int32_t c = t->nodes[node].child; c >= 0; c = t->nodes[c].sibling)
        if (t->nodes[c].byte == byte) return c;
    return -1;
}

vla_status qb_trie_add(qb_trie *t, const char *s, size_t len, int32_t token) {
    if (!len) return vla_error(VLA_ERR_PARSE, "tokenizer: an added token has empty content");
    if (!t->n && qb_trie_node_new(t, 0) < 0) goto oom;
    int32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)s[i];
        int32_t c = qb_trie_child(t, node, b);
        if (c < 0) {
            if ((c = qb_trie_node_new(t, b)) < 0) goto oom;
            t->nodes[c].sibling = t->nodes[node].child;
            t->nodes[node].child = c;
        }
        node = c;
    }
    t->nodes[node].token = token;
    t->first[(uint8_t)s[0] >> 3] |= (uint8_t)(1u << ((uint8_t)s[0] & 7));
    return VLA_OK;
oom:
    return vla_error(VLA_ERR_OOM, "tokenizer: out of memory building the added-token table");
}

size_t qb_trie_longest(const qb_trie *t, const char *s, size_t len, int32_t *token) {
    if (!t->n || !len || !qb_trie_may_start(t, (uint8_t)s[0])) return 0;
    size_t best = 0;
    int32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        node = qb_trie_child(t, node, (uint8_t)s[i]);
        if (node < 0) break;
        if (t->nodes[node].token >= 0) {
            best = i + 1;
            *token = t->nodes[node].token;
        }
    }
    return best;
}

void qb_trie_free(qb_trie *t) {
    free(t->nodes);
    *t = (qb_trie){0};
}
