#include "strided.h"

void cpu_strided_init(cpu_strided *it, const vla_tensor *const *ops, int n_ops) {
    it->n_ops = n_ops;
    it->ndim = 0;
    /* drop size-1 dims, then merge a dim into the previous one when every
     * operand steps through both as one */
    for (int d = 0; d < ops[0]->ndim; d++) {
        if (ops[0]->shape[d] == 1) continue;
        int nd = it->ndim;
        int merge = nd > 0;
        for (int o = 0; merge && o < n_ops; o++)
            merge = it->stride[o][nd - 1] == ops[o]->stride[d] * ops[0]->shape[d];
        if (merge) {
            it->shape[nd - 1] *= ops[0]->shape[d];
            for (int o = 0; o < n_ops; o++) it->stride[o][nd - 1] = ops[o]->stride[d];
            continue;
        }
        it->shape[nd] = ops[0]->shape[d];
        for (int o = 0; o < n_ops; o++) it->stride[o][nd] = ops[o]->stride[d];
        it->ndim++;
    }
    if (it->ndim == 0) { /* a scalar or all-ones shape: one element */
        it->ndim = 1;
        it->shape[0] = 1;
        for (int o = 0; o < n_ops; o++) it->stride[o][0] = 1;
    }
}

int64_t cpu_strided_numel(const cpu_strided *it) {
    int64_t n = 1;
    for (int d = 0; d < it->ndim; d++) n *= it->shape[d];
    return n;
}

void cpu_strided_range(const cpu_strided *it, int64_t begin, int64_t end, cpu_run_fn fn, void *ctx) {
    int last = it->ndim - 1;
    int64_t inner = it->shape[last];
    int64_t idx[VLA_MAX_DIMS], off[CPU_STRIDED_MAX_OPS] = {0}, inner_stride[CPU_STRIDED_MAX_OPS];
    for (int o = 0; o < it->n_ops; o++) inner_stride[o] = it->stride[o][last];
    /* unravel begin */
    int64_t rem = begin;
    for (int d = last; d >= 0; d--) {
        idx[d] = rem % it->shape[d];
        rem /= it->shape[d];
        for (int o = 0; o < it->n_ops; o++) off[o] += idx[d] * it->stride[o][d];
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t n = inner - idx[last];
        if (n > end - pos) n = end - pos;
        fn(ctx, off, n, inner_stride);
        pos += n;
        /* advance the odometer by n along the innermost dim, carrying outward */
        idx[last] += n;
        for (int o = 0; o < it->n_ops; o++) off[o] += n * it->stride[o][last];
        for (int d = last; d > 0 && idx[d] == it->shape[d]; d--) {
            idx[d] = 0;
            idx[d - 1]++;
            for (int o = 0; o < it->n_ops; o++)
                off[o] += it->stride[o][d - 1] - it->shape[d] * it->stride[o][d];
        }
    }
}
