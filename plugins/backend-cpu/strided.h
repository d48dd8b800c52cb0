/* Walking the index space of an output shape over up to three strided
 * operands (output, inputs), in flat output order. Dims that are laid out
 * alike in every operand are merged first, so the innermost runs are as
 * long as the layouts allow. Used by the broadcasting binary op and copy. */
#ifndef VLA_CPU_STRIDED_H
#define VLA_CPU_STRIDED_H

#include <stdint.h>

#include "vla/tensor.h"

#define CPU_STRIDED_MAX_OPS 3

typedef struct cpu_strided {
    int ndim, n_ops;
    int64_t shape[VLA_MAX_DIMS];
    int64_t stride[CPU_STRIDED_MAX_OPS][VLA_MAX_DIMS]; /* elements */
} cpu_strided;

/* ops[0] defines the shape; the others have the same shape (any strides). */
void cpu_strided_init(cpu_strided *it, const vla_tensor *const *ops, int n_ops);
int64_t cpu_strided_numel(const cpu_strided *it);

/* fn(ctx, off, n, inner_stride): n consecutive elements of the innermost dim
 * starting at element offsets off[op], stepping inner_stride[op]. Covers flat
 * indices [begin, end). */
typedef void (*cpu_run_fn)(void *ctx, const int64_t *off, int64_t n, const int64_t *inner_stride);
void cpu_strided_range(const cpu_strided *it, int64_t begin, int64_t end, cpu_run_fn fn, void *ctx);

#endif
