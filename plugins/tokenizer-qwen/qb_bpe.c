/* BPE of one pre-token piece, the way HF's Word::merge_all does it: a
 * doubly linked list of symbols and a min-heap of candidate merges keyed by
 * (rank, position); a popped candidate whose pair changed since it was
 * pushed is stale and skipped. O(n log n) per piece. */
#include <stdlib.h>

#include "qbpe.h"

typedef struct qb_sym {
    int32_t id;
    int32_t prev, next; /* -1 at the ends */
    int32_t alive;
} qb_sym;

typedef struct qb_cand {
    int32_t rank, pos, id;
} qb_cand;

static int qb_cand_less(const qb_cand *a, const qb_cand *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void qb_heap_push(qb_cand *h, size_t *n, qb_cand c) {
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!qb_cand_less(&c, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
}

static qb_cand qb_heap_pop(qb_cand *h, size_t *n) {
    qb_cand top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && qb_cand_less(&h[c + 1], &h[c])) c++;
        if (!qb_cand_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static vla_status qb_reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return VLA_OK;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return vla_error(VLA_ERR_OOM, "tokenizer: out of memory for a %zu-byte piece", need);
    *p = q;
    *cap = c;
    return VLA_OK;
}

static void qb_push_pair(const qbpe *t, qb_cand *heap, size_t *nh, const qb_sym *s, int32_t pos) {
    const qb_merge *m = qb_mergemap_get(&t->merges, s[pos].id, s[s[pos].next].id);
    if (m) qb_heap_push(heap, nh, (qb_cand){m->rank, pos, m->id});
}

vla_status qbpe_bpe_piece(qbpe *t, const char *piece, size_t len, vla_tokens *out) {
    if (len > INT32_MAX) return vla_error(VLA_ERR_LIMIT, "tokenizer: a %zu-byte pre-token is too long", len);
    VLA_TRY(qb_reserve((void **)&t->syms, &t->syms_cap, len, sizeof *t->syms));
    VLA_TRY(qb_reserve((void **)&t->heap, &t->heap_cap, 2 * len + 1, sizeof *t->heap));
    qb_sym *s = t->syms;
    int32_t n = 0;
    /* Bytes without a vocabulary entry are dropped (no unk token), as in HF. */
    for (size_t i = 0; i < len; i++) {
        int32_t id = t->byte_id[(uint8_t)piece[i]];
        if (id < 0) continue;
        s[n] = (qb_sym){id, n - 1, n + 1, 1};
        n++;
    }
    if (!n) return VLA_OK;
    s[n - 1].next = -1;

    size_t nh = 0;
    for (int32_t i = 0; i + 1 < n; i++) qb_push_pair(t, t->heap, &nh, s, i);
    while (nh) {
        qb_cand c = qb_heap_pop(t->heap, &nh);
        qb_sym *a = &s[c.pos];
        if (!a->alive || a->next < 0) continue;
        const qb_merge *m = qb_mergemap_get(&t->merges, a->id, s[a->next].id);
        if (!m || m->id != c.id) continue;
        qb_sym *b = &s[a->next];
        a->id = c.id;
        b->alive = 0;
        a->next = b->next;
        if (b->next >= 0) s[b->next].prev = c.pos;
        if (a->prev >= 0) qb_push_pair(t, t->heap, &nh, s, a->prev);
        if (a->next >= 0) qb_push_pair(t, t->heap, &nh, s, c.pos);
    }
    for (int32_t i = 0; i >= 0; i = s[i].next) VLA_TRY(vla_tokens_push(out, s[i].id));
    return VLA_OK;
}
