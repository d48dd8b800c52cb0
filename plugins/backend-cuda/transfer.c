/* Host <-> device copies through two pinned staging buffers. Copies from
 * pageable memory cannot be truly asynchronous, so the host copies each chunk
 * into a pinned buffer while the DMA engine drains the other one. An upload
 * returns once the caller's memory has been consumed (the device copy may
 * still be in flight, in order on the stream); a download returns once the
 * data is in the caller's memory. Both are ordered after all work enqueued
 * before them. */
#include <string.h>

#include "cuda_backend.h"

vla_status cuda_staging_create(cuda_state *st, size_t bytes) {
    cuda_staging *s = &st->staging;
    s->size = bytes;
    for (int i = 0; i < CUDA_STAGES; i++) {
        CUDA_TRY("create", "cudaHostAlloc (pinned staging buffer)",
                 cudaHostAlloc(&s->buf[i], bytes, cudaHostAllocDefault));
        CUDA_TRY("create", "cudaEventCreateWithFlags",
                 cudaEventCreateWithFlags(&s->done[i], cudaEventDisableTiming));
    }
    return VLA_OK;
}

void cuda_staging_destroy(cuda_state *st) {
    cuda_staging *s = &st->staging;
    for (int i = 0; i < CUDA_STAGES; i++) {
        if (s->done[i]) cudaEventDestroy(s->done[i]);
        if (s->buf[i]) cudaFreeHost(s->buf[i]);
        s->done[i] = NULL;
        s->buf[i] = NULL;
    }
}

static vla_status refuse_in_capture(const cuda_state *st, const char *op) {
    if (!st->capturing) return VLA_OK;
    return vla_error(VLA_ERR_BACKEND,
                     "CUDA backend: %s: host copies are not allowed during graph capture (upload inputs "
                     "before graph_begin, download outputs after graph_launch)",
                     op);
}

vla_status cuda_write(void *state, void *dst, const void *host_src, size_t bytes) {
    cuda_state *st = state;
    cuda_staging *s = &st->staging;
    const char *op = "write";
    VLA_TRY(refuse_in_capture(st, op));
    VLA_TRY(cuda_enter(st, op));
    for (size_t off = 0; off < bytes; off += s->size) {
        size_t n = bytes - off < s->size ? bytes - off : s->size;
        int i = s->next;
        s->next = (i + 1) % CUDA_STAGES;
        /* the previous copy out of this buffer must have finished */
        CUDA_TRY(op, "waiting for a staging buffer", cudaEventSynchronize(s->done[i]));
        memcpy(s->buf[i], (const char *)host_src + off, n);
        CUDA_TRY(op, "cudaMemcpyAsync (host to device)",
                 cudaMemcpyAsync((char *)dst + off, s->buf[i], n, cudaMemcpyHostToDevice, st->stream));
        CUDA_TRY(op, "cudaEventRecord", cudaEventRecord(s->done[i], st->stream));
    }
    return VLA_OK;
}

vla_status cuda_read(void *state, void *host_dst, const void *src, size_t bytes) {
    cuda_state *st = state;
    cuda_staging *s = &st->staging;
    const char *op = "read";
    VLA_TRY(refuse_in_capture(st, op));
    VLA_TRY(cuda_enter(st, op));
    /* chunk c goes through buffer c % 2; chunk c - 1 is unpacked while c is in flight */
    size_t n_chunks = (bytes + s->size - 1) / s->size;
    for (size_t c = 0; c <= n_chunks; c++) {
        if (c < n_chunks) {
            size_t off = c * s->size, n = bytes - off < s->size ? bytes - off : s->size;
            int i = (int)(c % CUDA_STAGES);
            CUDA_TRY(op, "cudaMemcpyAsync (device to host)",
                     cudaMemcpyAsync(s->buf[i], (const char *)src + off, n, cudaMemcpyDeviceToHost, st->stream));
            CUDA_TRY(op, "cudaEventRecord", cudaEventRecord(s->done[i], st->stream));
        }
        if (c > 0) {
            size_t off = (c - 1) * s->size, n = bytes - off < s->size ? bytes - off : s->size;
            int i = (int)((c - 1) % CUDA_STAGES);
            CUDA_TRY(op, "waiting for the download", cudaEventSynchronize(s->done[i]));
            memcpy((char *)host_dst + off, s->buf[i], n);
        }
    }
    return VLA_OK;
}
