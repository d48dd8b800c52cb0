/* Op dispatch: validate dtypes, shapes and ownership, allocate the output
 * from the context's arena, then call the backend's vtable slot. Backends
 * therefore see only well-formed arguments (see <vla/backend.h>). */
#include "vla/ops.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define SHAPE_BUF 96

/* A slot is usable when the plugin's vtable is long enough to hold it and it is set. */
#define SLOT(b, field)                                                                  \
    ((b)->vt->struct_size >= offsetof(vla_backend_vtable, field) + sizeof((b)->vt->field) \
         ? (b)->vt->field                                                               \
         : NULL)

#define REQUIRE_SLOT(b, field, op)                                                        \
    do {                                                                                  \
        if (!SLOT(b, field))                                                              \
            return vla_error(VLA_ERR_UNSUPPORTED, "%s: not supported by backend '%s'", op, \
                             (b)->name);                                                  \
    } while (0)

static const char *shp(const vla_tensor *t, char *buf) {
    return vla_tensor_shape_str(t, buf, SHAPE_BUF);
}

static vla_status check_owner(vla_ctx *c, const char *op, const char *name, const vla_tensor *t) {
    vla_backend *b = vla_ctx_backend(c);
    if (t->backend == b) return VLA_OK;
    if (t->backend == NULL)
        return vla_error(VLA_ERR_INVALID_ARG,
                         "%s: %s is host memory; inputs must be on the context's backend '%s' "
                         "(upload it first)",
                         op, name, b->name);
    return vla_error(VLA_ERR_INVALID_ARG, "%s: %s is on backend '%s' but the context uses '%s'", op,
                     name, t->backend->name, b->name);
}

static vla_status check_dtype(const char *op, const char *name, const vla_tensor *t, vla_dtype want) {
    if (t->dtype == want) return VLA_OK;
    return vla_error(VLA_ERR_TYPE, "%s: %s has dtype %s, expected %s", op, name,
                     vla_dtype_name(t->dtype), vla_dtype_name(want));
}

static int is_weight_dtype(vla_dtype t) { return t == VLA_F32 || t == VLA_BF16 || t == VLA_F16; }
static int is_compute_dtype(vla_dtype t) { return (unsigned)t < VLA_F64; }

static vla_status check_ndim(const char *op, const char *name, const vla_tensor *t, int want) {
    char sb[SHAPE_BUF];
    if (t->ndim == want) return VLA_OK;
    return vla_error(VLA_ERR_SHAPE, "%s: %s %s must have %d dims", op, name, shp(t, sb), want);
}

/* An owned F32 activation: the common precondition of most ops. */
static vla_status check_act(vla_ctx *c, const char *op, const char *name, const vla_tensor *t) {
    VLA_TRY(check_owner(c, op, name, t));
    return check_dtype(op, name, t, VLA_F32);
}

/* Backends get contiguous inputs unless a slot says otherwise; strided views
 * are materialised here with the copy slot. */
static vla_status make_contiguous(vla_ctx *c, const vla_tensor *x, vla_tensor *tmp, const vla_tensor **use) {
    if (vla_tensor_is_contiguous(x)) {
        *use = x;
        return VLA_OK;
    }
    VLA_TRY(vla_contiguous(c, x, tmp));
    *use = tmp;
    return VLA_OK;
}

static vla_status new_like(vla_ctx *c, vla_dtype dtype, const vla_tensor *x, vla_tensor *out) {
    return vla_new(c, dtype, x->ndim, x->shape, out);
}

/* Ops build their result in a local tensor and publish it only on success,
 * so `out` may alias an input (vla_silu(c, &x, &x)) and is untouched on failure. */
static vla_status publish(vla_status s, const vla_tensor *res, vla_tensor *out) {
    if (s == VLA_OK) *out = *res;
    return s;
}

/* ---- copies --------------------------------------------------------------- */

static vla_status copy_raw(vla_ctx *c, const char *op, vla_tensor *dst, const vla_tensor *src) {
    vla_backend *b = vla_ctx_backend(c);
    REQUIRE_SLOT(b, copy, op);
    return b->vt->copy(b->state, dst, src);
}

static vla_status check_copy_src(vla_ctx *c, const char *op, const vla_tensor *x) {
    VLA_TRY(check_owner(c, op, "x", x));
    if (!is_compute_dtype(x->dtype))
        return vla_error(VLA_ERR_TYPE, "%s: x has dtype %s, which is not a compute dtype", op,
                         vla_dtype_name(x->dtype));
    return VLA_OK;
}

vla_status vla_cast(vla_ctx *c, const vla_tensor *x, vla_dtype dtype, vla_tensor *out) {
    VLA_TRY(check_copy_src(c, "cast", x));
    if (!is_compute_dtype(dtype))
        return vla_error(VLA_ERR_TYPE, "cast: target dtype %s is not a compute dtype",
                         vla_dtype_name(dtype));
    vla_tensor res;
    VLA_TRY(new_like(c, dtype, x, &res));
    return publish(copy_raw(c, "cast", &res, x), &res, out);
}

vla_status vla_contiguous(vla_ctx *c, const vla_tensor *x, vla_tensor *out) {
    VLA_TRY(check_copy_src(c, "contiguous", x));
    vla_tensor res;
    VLA_TRY(new_like(c, x->dtype, x, &res));
    return publish(copy_raw(c, "contiguous", &res, x), &res, out);
}

vla_status vla_copy_into(vla_ctx *c, vla_tensor *dst, const vla_tensor *src) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF];
    VLA_TRY(check_copy_src(c, "copy_into", src));
    VLA_TRY(check_owner(c, "copy_into", "dst", dst));
    if (!is_compute_dtype(dst->dtype))
        return vla_error(VLA_ERR_TYPE, "copy_into: dst has dtype %s, which is not a compute dtype",
                         vla_dtype_name(dst->dtype));
    if (!vla_tensor_same_shape(dst, src))
        return vla_error(VLA_ERR_SHAPE, "copy_into: dst %s and src %s differ in shape", shp(dst, s1),
                         shp(src, s2));
    for (int i = 0; i < dst->ndim; i++)
        if (dst->stride[i] == 0 && dst->shape[i] > 1)
            return vla_error(VLA_ERR_SHAPE, "copy_into: dst %s has a broadcast (stride 0) dim %d",
                             shp(dst, s1), i);
    return copy_raw(c, "copy_into", dst, src);
}

vla_status vla_permute(vla_ctx *c, const vla_tensor *x, const int *perm, vla_tensor *out) {
    vla_tensor v;
    VLA_TRY(check_copy_src(c, "permute", x));
    VLA_TRY(vla_view_permute(x, perm, &v));
    return vla_contiguous(c, &v, out);
}

vla_status vla_transpose(vla_ctx *c, const vla_tensor *x, int dim0, int dim1, vla_tensor *out) {
    vla_tensor v;
    VLA_TRY(check_copy_src(c, "transpose", x));
    VLA_TRY(vla_view_transpose(x, dim0, dim1, &v));
    return vla_contiguous(c, &v, out);
}

vla_status vla_concat(vla_ctx *c, const vla_tensor *const *xs, int n, int dim, vla_tensor *out) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF];
    if (n < 1) return vla_error(VLA_ERR_INVALID_ARG, "concat: no inputs");
    const vla_tensor *x0 = xs[0];
    int nd = x0->ndim;
    int d = dim < 0 ? dim + nd : dim;
    if (d < 0 || d >= nd)
        return vla_error(VLA_ERR_SHAPE, "concat: dim %d out of range for %s", dim, shp(x0, s1));
    int64_t shape[VLA_MAX_DIMS];
    memcpy(shape, x0->shape, sizeof shape);
    shape[d] = 0;
    for (int i = 0; i < n; i++) {
        const vla_tensor *x = xs[i];
        VLA_TRY(check_copy_src(c, "concat", x));
        if (x->dtype != x0->dtype)
            return vla_error(VLA_ERR_TYPE, "concat: input %d has dtype %s but input 0 has %s", i,
                             vla_dtype_name(x->dtype), vla_dtype_name(x0->dtype));
        int ok = x->ndim == nd;
        for (int k = 0; ok && k < nd; k++) ok = k == d || x->shape[k] == x0->shape[k];
        if (!ok)
            return vla_error(VLA_ERR_SHAPE,
                             "concat: input %d %s does not match input 0 %s outside dim %d", i,
                             shp(x, s1), shp(x0, s2), d);
        shape[d] += x->shape[d];
    }
    vla_tensor res;
    VLA_TRY(vla_new(c, x0->dtype, nd, shape, &res));
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        vla_tensor part;
        VLA_TRY(vla_view_slice(&res, d, at, xs[i]->shape[d], &part));
        VLA_TRY(copy_raw(c, "concat", &part, xs[i]));
        at += xs[i]->shape[d];
    }
    return publish(VLA_OK, &res, out);
}

/* ---- matmul ---------------------------------------------------------------- */

vla_status vla_matmul(vla_ctx *c, const vla_tensor *x, const vla_tensor *w, const vla_tensor *bias,
                      vla_tensor *out) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF];
    vla_backend *b = vla_ctx_backend(c);
    VLA_TRY(check_act(c, "matmul", "x", x));
    VLA_TRY(check_owner(c, "matmul", "w", w));
    if (!is_weight_dtype(w->dtype))
        return vla_error(VLA_ERR_TYPE, "matmul: w has dtype %s, expected f32, bf16 or f16",
                         vla_dtype_name(w->dtype));
    if (x->ndim < 1) return vla_error(VLA_ERR_SHAPE, "matmul: x is a scalar");
    VLA_TRY(check_ndim("matmul", "w", w, 2));
    int64_t k = x->shape[x->ndim - 1];
    if (w->shape[1] != k)
        return vla_error(VLA_ERR_SHAPE, "matmul: x %s has K=%lld but w %s has K=%lld", shp(x, s1),
                         (long long)k, shp(w, s2), (long long)w->shape[1]);
    if (bias) {
        VLA_TRY(check_act(c, "matmul", "bias", bias));
        if (bias->ndim != 1 || bias->shape[0] != w->shape[0])
            return vla_error(VLA_ERR_SHAPE, "matmul: bias %s does not match w %s (expected [%lld])",
                             shp(bias, s1), shp(w, s2), (long long)w->shape[0]);
    }
    REQUIRE_SLOT(b, matmul, "matmul");
    vla_tensor xt, wt, bt;
    const vla_tensor *xu = NULL, *wu = NULL, *bu = NULL;
    VLA_TRY(make_contiguous(c, x, &xt, &xu));
    VLA_TRY(make_contiguous(c, w, &wt, &wu));
    if (bias) VLA_TRY(make_contiguous(c, bias, &bt, &bu));
    int64_t shape[VLA_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = w->shape[0];
    vla_tensor res;
    VLA_TRY(vla_new(c, VLA_F32, x->ndim, shape, &res));
    return publish(b->vt->matmul(b->state, &res, xu, wu, bu), &res, out);
}

/* ---- elementwise ------------------------------------------------------------- */

/* Numpy broadcasting: the result shape, and views of a and b with that shape
 * whose broadcast dims have stride 0. */
static vla_status broadcast(const char *op, const vla_tensor *a, const vla_tensor *b, int *ndim,
                            int64_t *shape, vla_tensor *av, vla_tensor *bv) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF];
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    vla_tensor va = *a, vb = *b;
    va.ndim = vb.ndim = nd;
    for (int i = nd - 1; i >= 0; i--) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        int64_t sa = ia >= 0 ? a->stride[ia] : 0, sb = ib >= 0 ? b->stride[ib] : 0;
        if (da != db && da != 1 && db != 1)
            return vla_error(VLA_ERR_SHAPE,
                             "%s: shapes %s and %s do not broadcast (dim %d: %lld vs %lld)", op,
                             shp(a, s1), shp(b, s2), i - nd, (long long)da, (long long)db);
        int64_t d = da == 1 ? db : da;
        shape[i] = d;
        va.shape[i] = vb.shape[i] = d;
        va.stride[i] = da == 1 ? 0 : sa;
        vb.stride[i] = db == 1 ? 0 : sb;
    }
    *ndim = nd;
    *av = va;
    *bv = vb;
    return VLA_OK;
}

static vla_status binary(vla_ctx *c, vla_binary_op op, const char *name, const vla_tensor *a,
                         const vla_tensor *b, vla_tensor *out) {
    vla_backend *be = vla_ctx_backend(c);
    VLA_TRY(check_act(c, name, "a", a));
    VLA_TRY(check_act(c, name, "b", b));
    int nd;
    int64_t shape[VLA_MAX_DIMS];
    vla_tensor av, bv;
    VLA_TRY(broadcast(name, a, b, &nd, shape, &av, &bv));
    REQUIRE_SLOT(be, binary, name);
    vla_tensor res;
    VLA_TRY(vla_new(c, VLA_F32, nd, shape, &res));
    return publish(be->vt->binary(be->state, op, &res, &av, &bv), &res, out);
}

vla_status vla_add(vla_ctx *c, const vla_tensor *a, const vla_tensor *b, vla_tensor *out) {
    return binary(c, VLA_BINARY_ADD, "add", a, b, out);
}
vla_status vla_sub(vla_ctx *c, const vla_tensor *a, const vla_tensor *b, vla_tensor *out) {
    return binary(c, VLA_BINARY_SUB, "sub", a, b, out);
}
vla_status vla_mul(vla_ctx *c, const vla_tensor *a, const vla_tensor *b, vla_tensor *out) {
    return binary(c, VLA_BINARY_MUL, "mul", a, b, out);
}

static vla_status binary_inplace(vla_ctx *c, vla_binary_op op, const char *name, vla_tensor *a,
                                 const vla_tensor *b) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF];
    vla_backend *be = vla_ctx_backend(c);
    VLA_TRY(check_act(c, name, "a", a));
    VLA_TRY(check_act(c, name, "b", b));
    if (!vla_tensor_is_contiguous(a))
        return vla_error(VLA_ERR_SHAPE, "%s: a %s must be contiguous", name, shp(a, s1));
    int nd;
    int64_t shape[VLA_MAX_DIMS];
    vla_tensor av, bv;
    VLA_TRY(broadcast(name, a, b, &nd, shape, &av, &bv));
    if (nd != a->ndim || !vla_tensor_same_shape(&av, a))
        return vla_error(VLA_ERR_SHAPE, "%s: b %s does not broadcast to a %s", name, shp(b, s1),
                         shp(a, s2));
    REQUIRE_SLOT(be, binary, name);
    return be->vt->binary(be->state, op, a, a, &bv);
}

vla_status vla_add_inplace(vla_ctx *c, vla_tensor *a, const vla_tensor *b) {
    return binary_inplace(c, VLA_BINARY_ADD, "add_inplace", a, b);
}
vla_status vla_mul_inplace(vla_ctx *c, vla_tensor *a, const vla_tensor *b) {
    return binary_inplace(c, VLA_BINARY_MUL, "mul_inplace", a, b);
}

static vla_status unary(vla_ctx *c, vla_unary_op op, const char *name, const vla_tensor *x,
                        vla_tensor *out) {
    vla_backend *b = vla_ctx_backend(c);
    VLA_TRY(check_act(c, name, "x", x));
    REQUIRE_SLOT(b, unary, name);
    vla_tensor xt;
    const vla_tensor *xu = NULL;
    VLA_TRY(make_contiguous(c, x, &xt, &xu));
    vla_tensor res;
    VLA_TRY(new_like(c, VLA_F32, x, &res));
    return publish(b->vt->unary(b->state, op, &res, xu), &res, out);
}

vla_status vla_silu(vla_ctx *c, const vla_tensor *x, vla_tensor *out) {
    return unary(c, VLA_UNARY_SILU, "silu", x, out);
}
vla_status vla_gelu_tanh(vla_ctx *c, const vla_tensor *x, vla_tensor *out) {
    return unary(c, VLA_UNARY_GELU_TANH, "gelu_tanh", x, out);
}
vla_status vla_gelu_erf(vla_ctx *c, const vla_tensor *x, vla_tensor *out) {
    return unary(c, VLA_UNARY_GELU_ERF, "gelu_erf", x, out);
}
vla_status vla_relu(vla_ctx *c, const vla_tensor *x, vla_tensor *out) {
    return unary(c, VLA_UNARY_RELU, "relu", x, out);
}
vla_status vla_sigmoid(vla_ctx *c, const vla_tensor *x, vla_tensor *out) {
    return unary(c, VLA_UNARY_SIGMOID, "sigmoid", x, out);
}

vla_status vla_scale(vla_ctx *c, const vla_tensor *x, float alpha, float beta, vla_tensor *out) {
    vla_backend *b = vla_ctx_backend(c);
    VLA_TRY(check_act(c, "scale", "x", x));
    REQUIRE_SLOT(b, scale, "scale");
    vla_tensor xt;
    const vla_tensor *xu = NULL;
    VLA_TRY(make_contiguous(c, x, &xt, &xu));
    vla_tensor res;
    VLA_TRY(new_like(c, VLA_F32, x, &res));
    return publish(b->vt->scale(b->state, &res, xu, alpha, beta), &res, out);
}

/* ---- norms ----------------------------------------------------------------- */

/* An optional per-feature vector [D] (norm weight or bias). */
static vla_status check_vec(vla_ctx *c, const char *op, const char *name, const vla_tensor *v,
                            const vla_tensor *x, vla_tensor *tmp, const vla_tensor **use) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF];
    *use = NULL;
    if (!v) return VLA_OK;
    VLA_TRY(check_act(c, op, name, v));
    if (v->ndim != 1 || v->shape[0] != x->shape[x->ndim - 1])
        return vla_error(VLA_ERR_SHAPE, "%s: %s %s does not match the last dim of x %s", op, name,
                         shp(v, s1), shp(x, s2));
    return make_contiguous(c, v, tmp, use);
}

static vla_status check_rows_input(vla_ctx *c, const char *op, const vla_tensor *x, vla_tensor *tmp,
                                   const vla_tensor **use) {
    VLA_TRY(check_act(c, op, "x", x));
    if (x->ndim < 1) return vla_error(VLA_ERR_SHAPE, "%s: x is a scalar", op);
    return make_contiguous(c, x, tmp, use);
}

vla_status vla_rmsnorm(vla_ctx *c, const vla_tensor *x, const vla_tensor *w, float eps,
                       vla_tensor *out) {
    vla_backend *b = vla_ctx_backend(c);
    vla_tensor xt, wt;
    const vla_tensor *xu = NULL, *wu = NULL;
    REQUIRE_SLOT(b, rmsnorm, "rmsnorm");
    VLA_TRY(check_rows_input(c, "rmsnorm", x, &xt, &xu));
    VLA_TRY(check_vec(c, "rmsnorm", "w", w, x, &wt, &wu));
    vla_tensor res;
    VLA_TRY(new_like(c, VLA_F32, x, &res));
    return publish(b->vt->rmsnorm(b->state, &res, xu, wu, eps), &res, out);
}

vla_status vla_layernorm(vla_ctx *c, const vla_tensor *x, const vla_tensor *w, const vla_tensor *bias,
                         float eps, vla_tensor *out) {
    vla_backend *b = vla_ctx_backend(c);
    vla_tensor xt, wt, bt;
    const vla_tensor *xu = NULL, *wu = NULL, *bu = NULL;
    REQUIRE_SLOT(b, layernorm, "layernorm");
    VLA_TRY(check_rows_input(c, "layernorm", x, &xt, &xu));
    VLA_TRY(check_vec(c, "layernorm", "w", w, x, &wt, &wu));
    VLA_TRY(check_vec(c, "layernorm", "b", bias, x, &bt, &bu));
    vla_tensor res;
    VLA_TRY(new_like(c, VLA_F32, x, &res));
    return publish(b->vt->layernorm(b->state, &res, xu, wu, bu, eps), &res, out);
}

vla_status vla_softmax(vla_ctx *c, const vla_tensor *x, vla_tensor *out) {
    vla_backend *b = vla_ctx_backend(c);
    vla_tensor xt;
    const vla_tensor *xu = NULL;
    REQUIRE_SLOT(b, softmax, "softmax");
    VLA_TRY(check_rows_input(c, "softmax", x, &xt, &xu));
    vla_tensor res;
    VLA_TRY(new_like(c, VLA_F32, x, &res));
    return publish(b->vt->softmax(b->state, &res, xu), &res, out);
}

/* ---- gather ------------------------------------------------------------------ */

/* ids live in backend memory; they are small, so download them to range-check. */
static vla_status check_ids(vla_ctx *c, const vla_tensor *ids, int64_t rows) {
    vla_backend *b = vla_ctx_backend(c);
    int64_t n = vla_tensor_numel(ids);
    if (n == 0) return VLA_OK;
    size_t bytes = vla_tensor_nbytes(ids);
    void *host = malloc(bytes);
    if (!host) return vla_error(VLA_ERR_OOM, "get_rows: out of memory for %lld ids", (long long)n);
    vla_status s = vla_backend_synchronize(b);
    if (s == VLA_OK) s = vla_backend_read(b, host, ids->data, bytes);
    for (int64_t i = 0; s == VLA_OK && i < n; i++) {
        int64_t id = ids->dtype == VLA_I32 ? ((const int32_t *)host)[i] : ((const int64_t *)host)[i];
        if (id < 0 || id >= rows)
            s = vla_error(VLA_ERR_INVALID_ARG,
                          "get_rows: id %lld at position %lld is out of range for a table of %lld rows",
                          (long long)id, (long long)i, (long long)rows);
    }
    free(host);
    return s;
}

vla_status vla_get_rows(vla_ctx *c, const vla_tensor *table, const vla_tensor *ids, vla_tensor *out) {
    char s1[SHAPE_BUF];
    vla_backend *b = vla_ctx_backend(c);
    VLA_TRY(check_owner(c, "get_rows", "table", table));
    VLA_TRY(check_owner(c, "get_rows", "ids", ids));
    if (!is_weight_dtype(table->dtype))
        return vla_error(VLA_ERR_TYPE, "get_rows: table has dtype %s, expected f32, bf16 or f16",
                         vla_dtype_name(table->dtype));
    if (ids->dtype != VLA_I32 && ids->dtype != VLA_I64)
        return vla_error(VLA_ERR_TYPE, "get_rows: ids have dtype %s, expected i32 or i64",
                         vla_dtype_name(ids->dtype));
    VLA_TRY(check_ndim("get_rows", "table", table, 2));
    if (ids->ndim + 1 > VLA_MAX_DIMS)
        return vla_error(VLA_ERR_SHAPE, "get_rows: ids %s have too many dims", shp(ids, s1));
    REQUIRE_SLOT(b, get_rows, "get_rows");
    vla_tensor tt, it;
    const vla_tensor *tu = NULL, *iu = NULL;
    VLA_TRY(make_contiguous(c, table, &tt, &tu));
    VLA_TRY(make_contiguous(c, ids, &it, &iu));
    VLA_TRY(check_ids(c, iu, table->shape[0]));
    int64_t shape[VLA_MAX_DIMS];
    memcpy(shape, ids->shape, (size_t)ids->ndim * sizeof *shape);
    shape[ids->ndim] = table->shape[1];
    vla_tensor res;
    VLA_TRY(vla_new(c, VLA_F32, ids->ndim + 1, shape, &res));
    return publish(b->vt->get_rows(b->state, &res, tu, iu), &res, out);
}

/* ---- attention, rope, modulate --------------------------------------------------- */

/* k and v may be strided in dims 0..2 (KV-cache views) but need a unit last stride. */
static vla_status kv_layout(vla_ctx *c, const vla_tensor *t, vla_tensor *tmp, const vla_tensor **use) {
    if (t->stride[3] == 1 || t->shape[3] == 1) {
        *use = t;
        return VLA_OK;
    }
    VLA_TRY(vla_contiguous(c, t, tmp));
    *use = tmp;
    return VLA_OK;
}

vla_status vla_attention(vla_ctx *c, const vla_tensor *q, const vla_tensor *k, const vla_tensor *v,
                         const vla_attention_params *p, vla_tensor *out) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF], s3[SHAPE_BUF];
    vla_backend *b = vla_ctx_backend(c);
    VLA_TRY(check_act(c, "attention", "q", q));
    VLA_TRY(check_act(c, "attention", "k", k));
    VLA_TRY(check_act(c, "attention", "v", v));
    VLA_TRY(check_ndim("attention", "q", q, 4));
    VLA_TRY(check_ndim("attention", "k", k, 4));
    VLA_TRY(check_ndim("attention", "v", v, 4));
    int64_t B = q->shape[0], Hq = q->shape[2], D = q->shape[3];
    int64_t Sk = k->shape[1], Hkv = k->shape[2];
    if (k->shape[0] != B || k->shape[3] != D || v->shape[0] != B || v->shape[1] != Sk ||
        v->shape[2] != Hkv)
        return vla_error(VLA_ERR_SHAPE,
                         "attention: q %s, k %s, v %s do not fit (expected q [B, Sq, Hq, D], "
                         "k [B, Sk, Hkv, D], v [B, Sk, Hkv, Dv])",
                         shp(q, s1), shp(k, s2), shp(v, s3));
    if (Hkv == 0 || Hq % Hkv)
        return vla_error(VLA_ERR_SHAPE, "attention: q %s has %lld heads, not a multiple of the %lld kv heads of k %s",
                         shp(q, s1), (long long)Hq, (long long)Hkv, shp(k, s2));
    vla_attention_params params = {0};
    if (p) params = *p;
    if (params.scale == 0.0f) params.scale = D > 0 ? 1.0f / sqrtf((float)D) : 1.0f;
    vla_tensor mt;
    if (params.key_mask) {
        const vla_tensor *m = params.key_mask;
        VLA_TRY(check_owner(c, "attention", "key_mask", m));
        if (m->dtype != VLA_U8 && m->dtype != VLA_BOOL)
            return vla_error(VLA_ERR_TYPE, "attention: key_mask has dtype %s, expected u8 or bool",
                             vla_dtype_name(m->dtype));
        if (m->ndim != 2 || m->shape[0] != B || m->shape[1] != Sk)
            return vla_error(VLA_ERR_SHAPE, "attention: key_mask %s must be [B, Sk] = [%lld, %lld]",
                             shp(m, s1), (long long)B, (long long)Sk);
        const vla_tensor *mu = NULL;
        VLA_TRY(make_contiguous(c, m, &mt, &mu));
        params.key_mask = mu;
    }
    REQUIRE_SLOT(b, attention, "attention");
    vla_tensor qt, kt, vt;
    const vla_tensor *qu = NULL, *ku = NULL, *vu = NULL;
    VLA_TRY(make_contiguous(c, q, &qt, &qu));
    VLA_TRY(kv_layout(c, k, &kt, &ku));
    VLA_TRY(kv_layout(c, v, &vt, &vu));
    int64_t shape[4] = {B, q->shape[1], Hq, v->shape[3]};
    vla_tensor res;
    VLA_TRY(vla_new(c, VLA_F32, 4, shape, &res));
    return publish(b->vt->attention(b->state, &res, qu, ku, vu, &params), &res, out);
}

vla_status vla_rope(vla_ctx *c, const vla_tensor *x, const vla_tensor *cos, const vla_tensor *sin,
                    vla_tensor *out) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF], s3[SHAPE_BUF];
    vla_backend *b = vla_ctx_backend(c);
    VLA_TRY(check_act(c, "rope", "x", x));
    VLA_TRY(check_act(c, "rope", "cos", cos));
    VLA_TRY(check_act(c, "rope", "sin", sin));
    VLA_TRY(check_ndim("rope", "x", x, 4));
    int64_t B = x->shape[0], S = x->shape[1], D = x->shape[3];
    if (D % 2)
        return vla_error(VLA_ERR_SHAPE, "rope: x %s has an odd head dim %lld", shp(x, s1), (long long)D);
    int ok = vla_tensor_same_shape(cos, sin) &&
             ((cos->ndim == 2 && cos->shape[0] == S && cos->shape[1] == D) ||
              (cos->ndim == 3 && cos->shape[0] == B && cos->shape[1] == S && cos->shape[2] == D));
    if (!ok)
        return vla_error(VLA_ERR_SHAPE,
                         "rope: cos %s and sin %s must both be [S, D] or [B, S, D] for x %s [B, S, H, D]",
                         shp(cos, s1), shp(sin, s2), shp(x, s3));
    REQUIRE_SLOT(b, rope, "rope");
    vla_tensor xt, ct, st;
    const vla_tensor *xu = NULL, *cu = NULL, *su = NULL;
    VLA_TRY(make_contiguous(c, x, &xt, &xu));
    VLA_TRY(make_contiguous(c, cos, &ct, &cu));
    VLA_TRY(make_contiguous(c, sin, &st, &su));
    vla_tensor res;
    VLA_TRY(new_like(c, VLA_F32, x, &res));
    return publish(b->vt->rope(b->state, &res, xu, cu, su), &res, out);
}

vla_status vla_modulate(vla_ctx *c, const vla_tensor *x, const vla_tensor *scale,
                        const vla_tensor *shift, vla_tensor *out) {
    char s1[SHAPE_BUF], s2[SHAPE_BUF], s3[SHAPE_BUF];
    vla_backend *b = vla_ctx_backend(c);
    VLA_TRY(check_act(c, "modulate", "x", x));
    VLA_TRY(check_act(c, "modulate", "scale", scale));
    VLA_TRY(check_act(c, "modulate", "shift", shift));
    VLA_TRY(check_ndim("modulate", "x", x, 3));
    int ok = scale->ndim == 2 && vla_tensor_same_shape(scale, shift) &&
             scale->shape[0] == x->shape[0] && scale->shape[1] == x->shape[2];
    if (!ok)
        return vla_error(VLA_ERR_SHAPE,
                         "modulate: scale %s and shift %s must both be [B, D] for x %s [B, S, D]",
                         shp(scale, s1), shp(shift, s2), shp(x, s3));
    REQUIRE_SLOT(b, modulate, "modulate");
    vla_tensor xt, ct, st;
    const vla_tensor *xu = NULL, *cu = NULL, *su = NULL;
    VLA_TRY(make_contiguous(c, x, &xt, &xu));
    VLA_TRY(make_contiguous(c, scale, &ct, &cu));
    VLA_TRY(make_contiguous(c, shift, &st, &su));
    vla_tensor res;
    VLA_TRY(new_like(c, VLA_F32, x, &res));
    return publish(b->vt->modulate(b->state, &res, xu, cu, su), &res, out);
}
