/* The compute context: a backend plus a per-call arena. Ops allocate their
 * outputs from the arena; vla_ctx_reset() releases them all at once at the
 * start of the next call. Because allocation is a deterministic bump pointer,
 * a repeated call with the same shapes gets the same addresses, which is what
 * lets a GPU backend replay a captured graph. */
#ifndef VLA_CTX_H
#define VLA_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include "vla/backend.h"
#include "vla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_ctx vla_ctx;

/* initial_arena_bytes is a hint; the arena grows in chunks and coalesces to
 * its high-water mark on reset. The ctx does not own the backend. */
vla_status vla_ctx_create(vla_backend *backend, size_t initial_arena_bytes, vla_ctx **out);
void vla_ctx_destroy(vla_ctx *c);

vla_backend *vla_ctx_backend(vla_ctx *c);

/* Release every arena tensor. Tensors obtained before are invalid afterwards. */
vla_status vla_ctx_reset(vla_ctx *c);
/* Scoped release: everything allocated after the mark is released by
 * vla_ctx_release(c, mark). */
size_t vla_ctx_mark(vla_ctx *c);
void vla_ctx_release(vla_ctx *c, size_t mark);
size_t vla_ctx_high_water(const vla_ctx *c); /* peak arena bytes in use */

/* Stage timing. When on (the default), vla_ctx_clock() waits for the
 * backend to finish queued work and returns a monotonic time in ms, so
 * plugins can report per-stage times; when off (e.g. while a GPU backend
 * captures a graph, where a synchronize is not allowed) it returns 0 at once. */
void vla_ctx_set_timing(vla_ctx *c, bool on);
double vla_ctx_clock(vla_ctx *c);

/* A new contiguous arena tensor (contents undefined). */
vla_status vla_new(vla_ctx *c, vla_dtype dtype, int ndim, const int64_t *shape, vla_tensor *out);
vla_status vla_new_zeros(vla_ctx *c, vla_dtype dtype, int ndim, const int64_t *shape, vla_tensor *out);
/* A new arena tensor holding a copy of host data (contiguous, same dtype). */
vla_status vla_new_from_host(vla_ctx *c, vla_dtype dtype, int ndim, const int64_t *shape,
                             const void *host, vla_tensor *out);
/* Copy a tensor (any strides, any owner) to contiguous host memory of the same dtype. */
vla_status vla_to_host(vla_ctx *c, const vla_tensor *t, void *host, size_t host_bytes);

#ifdef __cplusplus
}
#endif
#endif
