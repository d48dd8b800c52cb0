/* A PyTorch nn.Linear as the head's files declare and apply it. */
#include "layerwise_fm.h"
#include "vla/ops.h"

vla_status lwfm_linear_declare(vla_params *p, lwfm_linear *l, int64_t out, int64_t in, const char *prefix,
                               const char *name) {
    int64_t wshape[2] = {out, in}, bshape[1] = {out};
    VLA_TRY(vla_params_add(p, &l->w, VLA_PARAM_MATRIX, 2, wshape, "%s%s.weight", prefix, name));
    return vla_params_add(p, &l->b, VLA_PARAM_VECTOR, 1, bshape, "%s%s.bias", prefix, name);
}

vla_status lwfm_linear_apply(vla_ctx *c, const lwfm_linear *l, const vla_tensor *x, vla_tensor *out) {
    return vla_matmul(c, x, &l->w, &l->b, out);
}
