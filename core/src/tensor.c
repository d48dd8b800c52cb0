#include "vla/tensor.h"

#include <stdio.h>
#include <string.h>

vla_tensor vla_tensor_make(struct vla_backend *owner, void *data, vla_dtype dtype, int ndim,
                           const int64_t *shape) {
    vla_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.ndim = ndim < 0 ? 0 : (ndim > VLA_MAX_DIMS ? VLA_MAX_DIMS : ndim);
    t.data = data;
    t.backend = owner;
    int64_t s = 1;
    for (int i = t.ndim - 1; i >= 0; i--) {
        t.shape[i] = shape[i];
        t.stride[i] = s;
        s *= shape[i];
    }
    return t;
}

int64_t vla_tensor_numel(const vla_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t vla_tensor_nbytes(const vla_tensor *t) {
    return (size_t)vla_tensor_numel(t) * vla_dtype_size(t->dtype);
}

bool vla_tensor_is_contiguous(const vla_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

bool vla_tensor_same_shape(const vla_tensor *a, const vla_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *vla_tensor_shape_str(const vla_tensor *t, char *buf, size_t size) {
    size_t off = 0;
    if (size == 0) return buf;
    off += (size_t)snprintf(buf + off, size - off, "[");
    for (int i = 0; i < t->ndim && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (off < size) snprintf(buf + off, size - off, "]");
    return buf;
}

static int normalize_dim(int dim, int ndim) { return dim < 0 ? dim + ndim : dim; }

vla_status vla_view_slice(const vla_tensor *x, int dim, int64_t start, int64_t length, vla_tensor *view) {
    char sb[96];
    dim = normalize_dim(dim, x->ndim);
    if (dim < 0 || dim >= x->ndim)
        return vla_error(VLA_ERR_SHAPE, "slice: dim %d out of range for shape %s", dim,
                         vla_tensor_shape_str(x, sb, sizeof sb));
    if (start < 0 || length < 0 || start + length > x->shape[dim])
        return vla_error(VLA_ERR_SHAPE, "slice: [%lld, %lld) out of range for dim %d of shape %s",
                         (long long)start, (long long)(start + length), dim,
                         vla_tensor_shape_str(x, sb, sizeof sb));
    *view = *x;
    view->shape[dim] = length;
    view->data = (char *)x->data + start * x->stride[dim] * (int64_t)vla_dtype_size(x->dtype);
    return VLA_OK;
}

vla_status vla_view_permute(const vla_tensor *x, const int *perm, vla_tensor *view) {
    int seen[VLA_MAX_DIMS] = {0};
    vla_tensor v = *x;
    for (int i = 0; i < x->ndim; i++) {
        int p = perm[i];
        if (p < 0 || p >= x->ndim || seen[p])
            return vla_error(VLA_ERR_SHAPE, "permute: invalid permutation (entry %d = %d)", i, p);
        seen[p] = 1;
        v.shape[i] = x->shape[p];
        v.stride[i] = x->stride[p];
    }
    *view = v;
    return VLA_OK;
}

vla_status vla_view_transpose(const vla_tensor *x, int dim0, int dim1, vla_tensor *view) {
    int perm[VLA_MAX_DIMS];
    dim0 = normalize_dim(dim0, x->ndim);
    dim1 = normalize_dim(dim1, x->ndim);
    if (dim0 < 0 || dim0 >= x->ndim || dim1 < 0 || dim1 >= x->ndim)
        return vla_error(VLA_ERR_SHAPE, "transpose: dims %d, %d out of range for %d dims", dim0, dim1,
                         x->ndim);
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[dim0] = dim1;
    perm[dim1] = dim0;
    return vla_view_permute(x, perm, view);
}

vla_status vla_view_reshape(const vla_tensor *x, int ndim, const int64_t *shape, vla_tensor *view) {
    char sb[96];
    if (ndim < 0 || ndim > VLA_MAX_DIMS)
        return vla_error(VLA_ERR_SHAPE, "reshape: %d dims (max %d)", ndim, VLA_MAX_DIMS);
    if (!vla_tensor_is_contiguous(x))
        return vla_error(VLA_ERR_SHAPE, "reshape: input %s is not contiguous",
                         vla_tensor_shape_str(x, sb, sizeof sb));
    int64_t known = 1, numel = vla_tensor_numel(x);
    int infer = -1;
    int64_t dims[VLA_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        dims[i] = shape[i];
        if (shape[i] == -1) {
            if (infer >= 0) return vla_error(VLA_ERR_SHAPE, "reshape: more than one -1");
            infer = i;
        } else if (shape[i] < 0) {
            return vla_error(VLA_ERR_SHAPE, "reshape: negative dim %lld", (long long)shape[i]);
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 || numel % known)
            return vla_error(VLA_ERR_SHAPE, "reshape: cannot infer -1 for %lld elements",
                             (long long)numel);
        dims[infer] = numel / known;
        known *= dims[infer];
    }
    if (known != numel)
        return vla_error(VLA_ERR_SHAPE, "reshape: %lld elements cannot become %lld (input %s)",
                         (long long)numel, (long long)known, vla_tensor_shape_str(x, sb, sizeof sb));
    *view = vla_tensor_make(x->backend, x->data, x->dtype, ndim, dims);
    return VLA_OK;
}
