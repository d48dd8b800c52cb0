/* Elementwise ops: broadcasting binary, activations, scale, AdaLN modulate,
 * rotate-half RoPE. All are memory bound; each thread handles elements in a
 * grid-stride loop and the arithmetic is written as the CPU backend writes
 * it, so results agree to an ulp or so (FMA contraction). */
#include "device.cuh"

#define THREADS 256

/* ---- binary ----------------------------------------------------------------- */

__device__ __forceinline__ float binary_one(vla_binary_op op, float x, float y) {
    switch (op) {
    case VLA_BINARY_ADD: return x + y;
    case VLA_BINARY_SUB: return x - y;
    default: return x * y;
    }
}

/* One merged dim: a and b step by constant strides (1, or 0 for a broadcast scalar). */
__global__ void binary_flat_kernel(vla_binary_op op, float *out, const float *a, int64_t sa, const float *b,
                                   int64_t sb, int64_t n) {
    GRID_STRIDE(i, n) out[i] = binary_one(op, a[i * sa], b[i * sb]);
}

/* General broadcast: unravel the (contiguous) output index over the merged dims. */
template <typename I>
__global__ void binary_strided_kernel(vla_binary_op op, float *out, const float *a, const float *b,
                                      cuda_layout l) {
    GRID_STRIDE(i, l.numel) {
        I rem = (I)i, oa = 0, ob = 0;
        for (int d = l.ndim - 1; d >= 0; d--) {
            I n = (I)l.shape[d], idx = rem % n;
            rem /= n;
            oa += idx * (I)l.stride[1][d];
            ob += idx * (I)l.stride[2][d];
        }
        out[i] = binary_one(op, a[oa], b[ob]);
    }
}

extern "C" vla_status cuda_binary(void *state, vla_binary_op op, vla_tensor *out, const vla_tensor *a,
                                  const vla_tensor *b) {
    cuda_state *st = (cuda_state *)state;
    const char *name = op == VLA_BINARY_ADD ? "add" : op == VLA_BINARY_SUB ? "sub" : "mul";
    const vla_tensor *ops[3] = {out, a, b};
    cuda_layout l;
    cuda_layout_init(&l, ops, 3);
    if (l.numel == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, name));
    unsigned blocks = cuda_blocks(st, l.numel, THREADS);
    float *o = (float *)out->data;
    const float *pa = (const float *)a->data, *pb = (const float *)b->data;
    /* out is contiguous, so after merging a one-dim layout has out stride 1 */
    if (l.ndim == 1)
        LAUNCH(binary_flat_kernel, blocks, THREADS, 0, st->stream)(op, o, pa, l.stride[1][0], pb, l.stride[2][0],
                                                                   l.numel);
    else if (cuda_layout_fits_i32(&l))
        LAUNCH(binary_strided_kernel<int32_t>, blocks, THREADS, 0, st->stream)(op, o, pa, pb, l);
    else
        LAUNCH(binary_strided_kernel<int64_t>, blocks, THREADS, 0, st->stream)(op, o, pa, pb, l);
    return cuda_check_launch(name);
}

/* ---- unary, scale ----------------------------------------------------------------- */

__device__ __forceinline__ float unary_one(vla_unary_op op, float x) {
    switch (op) {
    case VLA_UNARY_SILU: return x / (1.0f + expf(-x));
    case VLA_UNARY_GELU_TANH: {
        const float k = 0.7978845608028654f; /* sqrt(2/pi) */
        return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
    }
    case VLA_UNARY_GELU_ERF: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case VLA_UNARY_RELU: return x > 0.0f ? x : 0.0f;
    case VLA_UNARY_SIGMOID: return 1.0f / (1.0f + expf(-x));
    default: return x;
    }
}

__global__ void unary_kernel(vla_unary_op op, float *out, const float *x, int64_t n) {
    GRID_STRIDE(i, n) out[i] = unary_one(op, x[i]);
}

extern "C" vla_status cuda_unary(void *state, vla_unary_op op, vla_tensor *out, const vla_tensor *x) {
    cuda_state *st = (cuda_state *)state;
    static const char *const names[VLA_UNARY_COUNT] = {"silu", "gelu_tanh", "gelu_erf", "relu", "sigmoid"};
    const char *name = (unsigned)op < VLA_UNARY_COUNT ? names[op] : "unary";
    int64_t n = vla_tensor_numel(x);
    if (n == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, name));
    LAUNCH(unary_kernel, cuda_blocks(st, n, THREADS), THREADS, 0, st->stream)(op, (float *)out->data,
                                                                          (const float *)x->data, n);
    return cuda_check_launch(name);
}

__global__ void scale_kernel(float *out, const float *x, float alpha, float beta, int64_t n) {
    GRID_STRIDE(i, n) out[i] = x[i] * alpha + beta;
}

extern "C" vla_status cuda_scale(void *state, vla_tensor *out, const vla_tensor *x, float alpha, float beta) {
    cuda_state *st = (cuda_state *)state;
    int64_t n = vla_tensor_numel(x);
    if (n == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, "scale"));
    LAUNCH(scale_kernel, cuda_blocks(st, n, THREADS), THREADS, 0, st->stream)((float *)out->data,
                                                                          (const float *)x->data, alpha, beta, n);
    return cuda_check_launch("scale");
}

/* ---- modulate: out[b, s, :] = x[b, s, :] * (1 + scale[b, :]) + shift[b, :] ------------------- */

__global__ void modulate_kernel(float *out, const float *x, const float *scale, const float *shift, int64_t SD,
                                int64_t D, int64_t n) {
    GRID_STRIDE(i, n) {
        int64_t t = (i / SD) * D + i % D;
        out[i] = x[i] * (1.0f + scale[t]) + shift[t];
    }
}

extern "C" vla_status cuda_modulate(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *scale,
                                    const vla_tensor *shift) {
    cuda_state *st = (cuda_state *)state;
    int64_t n = vla_tensor_numel(x), D = x->shape[2], SD = x->shape[1] * D;
    if (n == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, "modulate"));
    LAUNCH(modulate_kernel, cuda_blocks(st, n, THREADS), THREADS, 0, st->stream)(
        (float *)out->data, (const float *)x->data, (const float *)scale->data, (const float *)shift->data, SD, D,
        n);
    return cuda_check_launch("modulate");
}

/* ---- rope: x [B, S, H, D], cos/sin [S, D] or [B, S, D] ------------------------------------------- */

__global__ void rope_kernel(float *out, const float *x, const float *cos, const float *sin, int64_t S, int64_t H,
                            int64_t D, int per_batch, int64_t n) {
    const int64_t half = D / 2;
    GRID_STRIDE(i, n) {
        int64_t d = i % D, row = i / (H * D); /* row = b * S + s */
        int64_t t = (per_batch ? row : row % S) * D + d;
        float c = cos[t], s = sin[t];
        out[i] = d < half ? x[i] * c - x[i + half] * s : x[i] * c + x[i - half] * s;
    }
}

extern "C" vla_status cuda_rope(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *cos,
                                const vla_tensor *sin) {
    cuda_state *st = (cuda_state *)state;
    int64_t n = vla_tensor_numel(x);
    if (n == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, "rope"));
    LAUNCH(rope_kernel, cuda_blocks(st, n, THREADS), THREADS, 0, st->stream)(
        (float *)out->data, (const float *)x->data, (const float *)cos->data, (const float *)sin->data,
        x->shape[1], x->shape[2], x->shape[3], cos->ndim == 3, n);
    return cuda_check_launch("rope");
}
