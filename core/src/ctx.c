#include "vla/ctx.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vla/ops.h"

#define ARENA_ALIGN 256

typedef struct arena_chunk {
    void *base; /* backend memory */
    size_t size;
} arena_chunk;

struct vla_ctx {
    vla_backend *backend;
    arena_chunk *chunks;
    size_t n_chunks, cap_chunks;
    size_t chunk_index; /* chunk being bumped */
    size_t offset;      /* within chunks[chunk_index] */
    size_t used;        /* logical bytes in use (monotone within a call) */
    size_t high_water;
    size_t next_chunk_size;
    bool timing_off;
};

static vla_status add_chunk(vla_ctx *c, size_t size) {
    if (c->n_chunks == c->cap_chunks) {
        size_t cap = c->cap_chunks ? c->cap_chunks * 2 : 4;
        arena_chunk *n = realloc(c->chunks, cap * sizeof *n);
        if (!n) return vla_error(VLA_ERR_OOM, "arena: out of host memory");
        c->chunks = n;
        c->cap_chunks = cap;
    }
    void *base;
    VLA_TRY(vla_backend_alloc(c->backend, size, &base));
    c->chunks[c->n_chunks].base = base;
    c->chunks[c->n_chunks].size = size;
    c->n_chunks++;
    return VLA_OK;
}

vla_status vla_ctx_create(vla_backend *backend, size_t initial, vla_ctx **out) {
    *out = NULL;
    vla_ctx *c = calloc(1, sizeof *c);
    if (!c) return vla_error(VLA_ERR_OOM, "ctx: out of memory");
    c->backend = backend;
    c->next_chunk_size = initial < (1u << 20) ? (1u << 20) : initial;
    vla_status s = add_chunk(c, c->next_chunk_size);
    if (s != VLA_OK) {
        free(c);
        return s;
    }
    *out = c;
    return VLA_OK;
}

void vla_ctx_destroy(vla_ctx *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_chunks; i++) vla_backend_free(c->backend, c->chunks[i].base);
    free(c->chunks);
    free(c);
}

vla_backend *vla_ctx_backend(vla_ctx *c) { return c->backend; }

vla_status vla_ctx_reset(vla_ctx *c) {
    /* Coalesce: once a call needed several chunks, replace them with one chunk
     * of the high-water size so the steady state is a single allocation. */
    if (c->n_chunks > 1) {
        VLA_TRY(vla_backend_synchronize(c->backend));
        for (size_t i = 0; i < c->n_chunks; i++) vla_backend_free(c->backend, c->chunks[i].base);
        c->n_chunks = 0;
        size_t size = c->high_water + c->high_water / 8 + ARENA_ALIGN;
        VLA_TRY(add_chunk(c, size));
    }
    c->chunk_index = 0;
    c->offset = 0;
    c->used = 0;
    return VLA_OK;
}

size_t vla_ctx_mark(vla_ctx *c) { return c->used; }

void vla_ctx_release(vla_ctx *c, size_t mark) {
    /* Walk back: chunks are filled in order, so `used` maps to a position. */
    if (mark >= c->used) return;
    size_t remaining = mark;
    for (size_t i = 0; i < c->n_chunks; i++) {
        if (remaining <= c->chunks[i].size) {
            c->chunk_index = i;
            c->offset = remaining;
            c->used = mark;
            return;
        }
        remaining -= c->chunks[i].size;
    }
}

size_t vla_ctx_high_water(const vla_ctx *c) { return c->high_water; }

void vla_ctx_set_timing(vla_ctx *c, bool on) { c->timing_off = !on; }

double vla_ctx_clock(vla_ctx *c) {
    if (c->timing_off) return 0;
    if (vla_backend_synchronize(c->backend) != VLA_OK) vla_clear_error(); /* timing is best effort */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static vla_status arena_alloc(vla_ctx *c, size_t bytes, void **ptr) {
    size_t need = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need == 0) need = ARENA_ALIGN;
    for (;;) {
        arena_chunk *ch = &c->chunks[c->chunk_index];
        if (c->offset + need <= ch->size) {
            *ptr = (char *)ch->base + c->offset;
            c->offset += need;
            c->used += need;
            if (c->used > c->high_water) c->high_water = c->used;
            return VLA_OK;
        }
        /* account the unusable tail so mark/release stays consistent */
        c->used += ch->size - c->offset;
        if (c->chunk_index + 1 == c->n_chunks) {
            size_t size = c->chunks[c->n_chunks - 1].size * 2;
            if (size < need) size = need;
            VLA_TRY(add_chunk(c, size));
        }
        c->chunk_index++;
        c->offset = 0;
    }
}

vla_status vla_new(vla_ctx *c, vla_dtype dtype, int ndim, const int64_t *shape, vla_tensor *out) {
    if (ndim < 0 || ndim > VLA_MAX_DIMS)
        return vla_error(VLA_ERR_SHAPE, "new tensor: %d dims (max %d)", ndim, VLA_MAX_DIMS);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return vla_error(VLA_ERR_SHAPE, "new tensor: negative dim %lld", (long long)shape[i]);
        if (shape[i] && numel > INT64_MAX / shape[i])
            return vla_error(VLA_ERR_LIMIT, "new tensor: element count overflows");
        numel *= shape[i];
    }
    void *data;
    VLA_TRY(arena_alloc(c, (size_t)numel * vla_dtype_size(dtype), &data));
    *out = vla_tensor_make(c->backend, data, dtype, ndim, shape);
    return VLA_OK;
}

vla_status vla_new_zeros(vla_ctx *c, vla_dtype dtype, int ndim, const int64_t *shape, vla_tensor *out) {
    VLA_TRY(vla_new(c, dtype, ndim, shape, out));
    size_t n = vla_tensor_nbytes(out);
    if (!n) return VLA_OK;
    void *zeros = calloc(1, n);
    if (!zeros) return vla_error(VLA_ERR_OOM, "zeros: out of host memory");
    vla_status s = vla_backend_write(c->backend, out->data, zeros, n);
    free(zeros);
    return s;
}

vla_status vla_new_from_host(vla_ctx *c, vla_dtype dtype, int ndim, const int64_t *shape, const void *host,
                             vla_tensor *out) {
    VLA_TRY(vla_new(c, dtype, ndim, shape, out));
    return vla_backend_write(c->backend, out->data, host, vla_tensor_nbytes(out));
}

vla_status vla_to_host(vla_ctx *c, const vla_tensor *t, void *host, size_t host_bytes) {
    size_t n = vla_tensor_nbytes(t);
    if (host_bytes < n)
        return vla_error(VLA_ERR_INVALID_ARG, "to_host: buffer of %zu bytes for %zu", host_bytes, n);
    if (t->backend == NULL) {
        if (!vla_tensor_is_contiguous(t))
            return vla_error(VLA_ERR_INVALID_ARG, "to_host: strided host tensor");
        memcpy(host, t->data, n);
        return VLA_OK;
    }
    if (vla_tensor_is_contiguous(t)) {
        VLA_TRY(vla_backend_synchronize(t->backend));
        return vla_backend_read(t->backend, host, t->data, n);
    }
    size_t mark = vla_ctx_mark(c);
    vla_tensor tmp;
    vla_status s = vla_contiguous(c, t, &tmp);
    if (s == VLA_OK) s = vla_backend_synchronize(t->backend);
    if (s == VLA_OK) s = vla_backend_read(t->backend, host, tmp.data, n);
    vla_ctx_release(c, mark);
    return s;
}
