/* Tensors: a typed, strided view of memory owned by a backend (or by the
 * host, for weight files and caller arrays). A vla_tensor is a small value
 * struct; copying it copies the view, never the data. */
#ifndef VLA_TENSOR_H
#define VLA_TENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "vla/dtype.h"
#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VLA_MAX_DIMS 8

struct vla_backend;

typedef struct vla_tensor {
    vla_dtype dtype;
    int32_t ndim;
    int64_t shape[VLA_MAX_DIMS];
    int64_t stride[VLA_MAX_DIMS]; /* in elements; row-major contiguous has stride[ndim-1] == 1 */
    void *data;                   /* first element, in the owner's memory space */
    struct vla_backend *backend;  /* owner; NULL for plain host memory */
} vla_tensor;

/* Describe `data` as a contiguous tensor (no allocation). ndim <= VLA_MAX_DIMS. */
vla_tensor vla_tensor_make(struct vla_backend *owner, void *data, vla_dtype dtype, int ndim,
                           const int64_t *shape);

int64_t vla_tensor_numel(const vla_tensor *t);
size_t vla_tensor_nbytes(const vla_tensor *t); /* numel * element size (contiguous size) */
bool vla_tensor_is_contiguous(const vla_tensor *t);
bool vla_tensor_same_shape(const vla_tensor *a, const vla_tensor *b);
/* "[2, 3, 17]" into buf; returns buf. */
const char *vla_tensor_shape_str(const vla_tensor *t, char *buf, size_t size);

/* Views (no data movement). They fail with VLA_ERR_SHAPE naming the problem. */
vla_status vla_view_slice(const vla_tensor *x, int dim, int64_t start, int64_t length, vla_tensor *view);
vla_status vla_view_permute(const vla_tensor *x, const int *perm, vla_tensor *view);
vla_status vla_view_transpose(const vla_tensor *x, int dim0, int dim1, vla_tensor *view);
/* Reshape requires a contiguous input; one entry of shape may be -1. */
vla_status vla_view_reshape(const vla_tensor *x, int ndim, const int64_t *shape, vla_tensor *view);

#ifdef __cplusplus
}
#endif
#endif
