/* Caching device allocator. cudaMalloc/cudaFree are slow and synchronise the
 * device, so freed blocks are kept and handed out again to a request of a
 * close size: the per-call arena (whose chunks are freed and re-requested
 * with the same sizes at every vla_ctx_reset) reaches a steady state with no
 * driver allocations. Reuse is safe without events because all work of an
 * instance runs in order on its one stream: work enqueued after a block is
 * handed out again runs after the work that used it before. When the driver
 * runs out of memory, the cached blocks are returned to it and the request
 * is retried. */
#include <stdlib.h>
#include <string.h>

#include "cuda_backend.h"

#define SMALL_LIMIT ((size_t)1 << 20)
#define SMALL_ROUND ((size_t)512)
#define LARGE_ROUND ((size_t)64 << 10)
#define LIVE_MIN_CAP 64

static size_t round_size(size_t bytes) {
    size_t r = bytes <= SMALL_LIMIT ? SMALL_ROUND : LARGE_ROUND;
    if (bytes > SIZE_MAX - r) return 0;
    size_t s = (bytes + r - 1) / r * r;
    return s ? s : r;
}

/* ---- live table: ptr -> size, open addressing with linear probing ---------------- */

static size_t slot_of(const cuda_pool *p, const void *ptr) {
    uint64_t h = (uint64_t)(uintptr_t)ptr;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & (p->cap_live - 1);
}

static void live_put(cuda_pool *p, cuda_block b) {
    size_t i = slot_of(p, b.ptr);
    while (p->live[i].ptr) i = (i + 1) & (p->cap_live - 1);
    p->live[i] = b;
    p->n_live++;
}

static int live_grow(cuda_pool *p) {
    if (p->cap_live && (p->n_live + 1) * 4 <= p->cap_live * 3) return 1; /* load factor 3/4 */
    size_t old_cap = p->cap_live, cap = old_cap ? old_cap * 2 : LIVE_MIN_CAP;
    cuda_block *old = p->live, *n = calloc(cap, sizeof *n);
    if (!n) return 0;
    p->live = n;
    p->cap_live = cap;
    p->n_live = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].ptr) live_put(p, old[i]);
    free(old);
    return 1;
}

/* Remove ptr; returns its block (ptr NULL when unknown). Backward-shift deletion
 * keeps probe chains intact without tombstones. */
static cuda_block live_take(cuda_pool *p, const void *ptr) {
    cuda_block none = {NULL, 0};
    if (!p->cap_live) return none;
    size_t mask = p->cap_live - 1, i = slot_of(p, ptr);
    while (p->live[i].ptr && p->live[i].ptr != ptr) i = (i + 1) & mask;
    if (!p->live[i].ptr) return none;
    cuda_block found = p->live[i];
    size_t hole = i;
    for (size_t j = (i + 1) & mask; p->live[j].ptr; j = (j + 1) & mask) {
        size_t home = slot_of(p, p->live[j].ptr);
        /* move j into the hole unless its home lies cyclically in (hole, j] */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            p->live[hole] = p->live[j];
            hole = j;
        }
    }
    p->live[hole].ptr = NULL;
    p->live[hole].size = 0;
    p->n_live--;
    return found;
}

/* ---- cache ---------------------------------------------------------------------- */

/* The smallest cached block of at least `size` bytes wasting at most a quarter. */
static int cache_take(cuda_pool *p, size_t size, cuda_block *out) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < p->n_cached; i++) {
        size_t s = p->cached[i].size;
        if (s >= size && s - size <= size / 4 && (best == SIZE_MAX || s < p->cached[best].size)) best = i;
    }
    if (best == SIZE_MAX) return 0;
    *out = p->cached[best];
    p->cached[best] = p->cached[--p->n_cached];
    return 1;
}

static int cache_put(cuda_pool *p, cuda_block b) {
    if (p->n_cached == p->cap_cached) {
        size_t cap = p->cap_cached ? p->cap_cached * 2 : 32;
        cuda_block *n = realloc(p->cached, cap * sizeof *n);
        if (!n) return 0;
        p->cached = n;
        p->cap_cached = cap;
    }
    p->cached[p->n_cached++] = b;
    return 1;
}

/* Return every cached block to the driver (the stream is synchronised first). */
static vla_status pool_trim(cuda_state *st) {
    cuda_pool *p = &st->pool;
    if (!p->n_cached) return VLA_OK;
    CUDA_TRY("alloc", "cudaStreamSynchronize", cudaStreamSynchronize(st->stream));
    for (size_t i = 0; i < p->n_cached; i++) {
        cudaFree(p->cached[i].ptr);
        p->held -= p->cached[i].size;
    }
    p->n_cached = 0;
    return VLA_OK;
}

static vla_status device_malloc(cuda_state *st, size_t size, void **ptr) {
    cudaError_t e = cudaMalloc(ptr, size);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        VLA_TRY(pool_trim(st));
        e = cudaMalloc(ptr, size);
    }
    if (e == cudaErrorMemoryAllocation) {
        size_t free_b = 0, total_b = 0;
        cudaGetLastError();
        cudaMemGetInfo(&free_b, &total_b);
        cudaGetLastError();
        return vla_error(VLA_ERR_OOM,
                         "CUDA backend: out of device memory allocating %zu bytes (this backend holds %zu; "
                         "the device has %zu of %zu free)",
                         size, st->pool.held, free_b, total_b);
    }
    CUDA_TRY("alloc", "cudaMalloc", e);
    return VLA_OK;
}

vla_status cuda_pool_alloc(cuda_state *st, size_t bytes, void **ptr) {
    cuda_pool *p = &st->pool;
    *ptr = NULL;
    size_t size = round_size(bytes);
    if (!size) return vla_error(VLA_ERR_OOM, "CUDA backend: cannot allocate %zu bytes", bytes);
    if (!live_grow(p)) return vla_error(VLA_ERR_OOM, "CUDA backend: out of host memory");
    cuda_block b;
    if (!cache_take(p, size, &b)) {
        if (st->capturing)
            return vla_error(VLA_ERR_BACKEND,
                             "CUDA backend: alloc: %zu new bytes requested during graph capture; run the "
                             "captured work once before capturing so the memory already exists",
                             bytes);
        b.size = size;
        VLA_TRY(device_malloc(st, size, &b.ptr));
        p->held += size;
        if (p->held > p->peak) p->peak = p->held;
    }
    live_put(p, b);
    *ptr = b.ptr;
    return VLA_OK;
}

void cuda_pool_free(cuda_state *st, void *ptr) {
    cuda_pool *p = &st->pool;
    if (!ptr) return;
    cuda_block b = live_take(p, ptr);
    if (!b.ptr) return; /* not ours: nothing sensible to do from a void slot */
    if (!cache_put(p, b)) {
        /* no host memory to remember it: give it back (cudaFree waits for the device) */
        cudaFree(b.ptr);
        cudaGetLastError();
        p->held -= b.size;
    }
}

void cuda_pool_destroy(cuda_state *st) {
    cuda_pool *p = &st->pool;
    for (size_t i = 0; i < p->n_cached; i++) cudaFree(p->cached[i].ptr);
    for (size_t i = 0; i < p->cap_live; i++)
        if (p->live[i].ptr) cudaFree(p->live[i].ptr);
    cudaGetLastError();
    free(p->cached);
    free(p->live);
    memset(p, 0, sizeof *p);
}
