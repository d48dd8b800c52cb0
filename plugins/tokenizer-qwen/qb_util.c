/* Arena, hash, string map, merge map and byte buffer for the BPE tables. */
#include <stdlib.h>
#include <string.h>

#include "qbpe.h"

#define QB_CHUNK_MIN (64u * 1024u)

struct qb_chunk {
    qb_chunk *next;
    size_t used, cap;
    char data[];
};

char *qb_arena_strndup(qb_arena *a, const char *s, size_t len) {
    qb_chunk *c = a->head;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > QB_CHUNK_MIN ? len + 1 : QB_CHUNK_MIN;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    char *p = c->data + c->used;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    c->used += len + 1;
    return p;
}

void qb_arena_free(qb_arena *a) {
    qb_chunk *c = a->head;
    while (c) {
        qb_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

static uint64_t qb_mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t qb_hash(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0x100000001b3ull);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ qb_mix(w)) * 0x9fb21c651e98df25ull;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    return qb_mix(h ^ w ^ ((uint64_t)len << 56));
}

static size_t qb_strmap_find(const qb_strmap *m, const char *key, size_t len, uint64_t h) {
    size_t i = h & m->mask;
    for (;;) {
        uint32_t s = m->slots[i];
        if (!s) return i;
        const qb_strmap_entry *e = &m->entries[s - 1];
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) return i;
        i = (i + 1) & m->mask;
    }
}

static vla_status qb_strmap_grow(qb_strmap *m) {
    size_t nslots = m->slots ? (m->mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return vla_error(VLA_ERR_OOM, "tokenizer: cannot grow a hash table to %zu slots", nslots);
    free(m->slots);
    m->slots = slots;
    m->mask = nslots - 1;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = m->entries[k].hash & m->mask;
        while (slots[i]) i = (i + 1) & m->mask;
        slots[i] = (uint32_t)(k + 1);
    }
    return VLA_OK;
}

vla_status qb_strmap_put(qb_strmap *m, const char *key, size_t len, int32_t value,
                         const char **stored) {
    if (len > UINT32_MAX || m->n >= UINT32_MAX - 1)
        return vla_error(VLA_ERR_LIMIT, "tokenizer: hash table key or size too large");
    if (!m->slots || (m->n + 1) * 2 > m->mask + 1) VLA_TRY(qb_strmap_grow(m));
    uint64_t h = qb_hash(key, len);
    size_t i = qb_strmap_find(m, key, len, h);
    if (m->slots[i]) {
        qb_strmap_entry *e = &m->entries[m->slots[i] - 1];
        e->value = value;
        if (stored) *stored = e->key;
        return VLA_OK;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        qb_strmap_entry *e = realloc(m->entries, cap * sizeof *e);
        if (!e) return vla_error(VLA_ERR_OOM, "tokenizer: cannot grow a hash table to %zu entries", cap);
        m->entries = e;
        m->cap = cap;
    }
    char *copy = qb_arena_strndup(&m->arena, key, len);
    if (!copy) return vla_error(VLA_ERR_OOM, "tokenizer: out of memory copying a token");
    m->entries[m->n] = (qb_strmap_entry){copy, (uint32_t)len, value, h};
    m->slots[i] = (uint32_t)(++m->n);
    if (stored) *stored = copy;
    return VLA_OK;
}

int qb_strmap_get(const qb_strmap *m, const char *key, size_t len, int32_t *value) {
    if (!m->n) return 0;
    size_t i = qb_strmap_find(m, key, len, qb_hash(key, len));
    if (!m->slots[i]) return 0;
    *value = m->entries[m->slots[i] - 1].value;
    return 1;
}

void qb_strmap_clear(qb_strmap *m) {
    if (m->slots) memset(m->slots, 0, (m->mask + 1) * sizeof *m->slots);
    m->n = 0;
    qb_arena_free(&m->arena);
}

void qb_strmap_free(qb_strmap *m) {
    qb_arena_free(&m->arena);
    free(m->entries);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static uint64_t qb_pair_key(int32_t a, int32_t b) {
    return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
}

static qb_merge *qb_mergemap_slot(qb_merge *slots, size_t mask, uint64_t key) {
    size_t i = qb_mix(key) & mask;
    while (slots[i].key != UINT64_MAX && slots[i].key != key) i = (i + 1) & mask;
    return &slots[i];
}

vla_status qb_mergemap_put(qb_mergemap *m, int32_t a, int32_t b, int32_t rank, int32_t id) {
    if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
        size_t nslots = m->slots ? (m->mask + 1) * 2 : 1024;
        qb_merge *slots = malloc(nslots * sizeof *slots);
        if (!slots) return vla_error(VLA_ERR_OOM, "tokenizer: cannot grow the merge table to %zu", nslots);
        for (size_t i = 0; i < nslots; i++) slots[i].key = UINT64_MAX;
        for (size_t i = 0; m->slots && i <= m->mask; i++)
            if (m->slots[i].key != UINT64_MAX) *qb_mergemap_slot(slots, nslots - 1, m->slots[i].key) = m->slots[i];
        free(m->slots);
        m->slots = slots;
        m->mask = nslots - 1;
    }
    uint64_t key = qb_pair_key(a, b);
    qb_merge *s = qb_mergemap_slot(m->slots, m->mask, key);
    if (s->key == UINT64_MAX) m->n++;
    /* A repeated pair keeps its last rank, as HF's HashMap collect does. */
    *s = (qb_merge){key, rank, id};
    return VLA_OK;
}

const qb_merge *qb_mergemap_get(const qb_mergemap *m, int32_t a, int32_t b) {
    if (!m->n) return NULL;
    const qb_merge *s = qb_mergemap_slot(m->slots, m->mask, qb_pair_key(a, b));
    return s->key == UINT64_MAX ? NULL : s;
}

void qb_mergemap_free(qb_mergemap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

vla_status qb_buf_append(qb_buf *b, const void *data, size_t len) {
    if (len > SIZE_MAX / 2 - b->n) return vla_error(VLA_ERR_OOM, "tokenizer: text too large");
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return vla_error(VLA_ERR_OOM, "tokenizer: cannot grow a buffer to %zu bytes", cap);
        b->p = p;
        b->cap = cap;
    }
    if (len) memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return VLA_OK;
}
