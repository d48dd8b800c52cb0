/* Shrinking a strided index space before a kernel walks it: fewer dims mean
 * fewer divisions per element, and a fully merged layout (one dim) needs
 * none. */
#include "cuda_backend.h"

void cuda_layout_init(cuda_layout *l, const vla_tensor *const *ops, int n_ops) {
    l->n_ops = n_ops;
    l->ndim = 0;
    l->numel = 1;
    for (int d = 0; d < ops[0]->ndim; d++) {
        int64_t n = ops[0]->shape[d];
        l->numel *= n;
        if (n == 1) continue;
        int nd = l->ndim;
        /* dim d continues dim nd-1 when, in every operand, stepping the outer
         * dim once equals stepping dim d through its whole extent */
        int merge = nd > 0;
        for (int o = 0; merge && o < n_ops; o++) merge = l->stride[o][nd - 1] == ops[o]->stride[d] * n;
        if (merge) {
            l->shape[nd - 1] *= n;
            for (int o = 0; o < n_ops; o++) l->stride[o][nd - 1] = ops[o]->stride[d];
            continue;
        }
        l->shape[nd] = n;
        for (int o = 0; o < n_ops; o++) l->stride[o][nd] = ops[o]->stride[d];
        l->ndim++;
    }
    if (l->ndim == 0) { /* a scalar or an all-ones shape: one element */
        l->ndim = 1;
        l->shape[0] = 1;
        for (int o = 0; o < n_ops; o++) l->stride[o][0] = 1;
    }
}

int cuda_layout_fits_i32(const cuda_layout *l) {
    if (l->numel > INT32_MAX) return 0;
    for (int o = 0; o < l->n_ops; o++) {
        int64_t span = 0;
        for (int d = 0; d < l->ndim; d++) {
            int64_t s = l->stride[o][d] < 0 ? -l->stride[o][d] : l->stride[o][d];
            span += (l->shape[d] - 1) * s;
            if (span > INT32_MAX) return 0;
        }
    }
    return 1;
}
