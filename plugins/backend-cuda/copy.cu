/* Strided copy with dtype conversion between any two of the seven compute
 * dtypes, up to VLA_MAX_DIMS dims, any input strides (0 included). One
 * kernel handles every dtype pair with a switch that is uniform across the
 * grid (dtypes are kernel arguments), which keeps the fat binary small; a
 * layout that merges to one contiguous run of the same dtype is a plain
 * device-to-device memcpy. Conversions follow vla_convert exactly: floats
 * narrow with round-to-nearest-even, float -> int truncates toward zero
 * through int64 (NaN -> 0, saturating at +-9.2e18), narrower ints wrap,
 * bool is "!= 0". */
#include "device.cuh"

#define THREADS 256

__device__ __forceinline__ double load_double(const char *p, vla_dtype t) {
    switch (t) {
    case VLA_F32: return *(const float *)p;
    case VLA_BF16: return bf16_bits_to_f32(*(const uint16_t *)p);
    case VLA_F16: return f16_bits_to_f32(*(const uint16_t *)p);
    case VLA_I32: return *(const int32_t *)p;
    case VLA_I64: return (double)*(const int64_t *)p;
    case VLA_U8: return *(const uint8_t *)p;
    case VLA_BOOL: return *(const uint8_t *)p != 0;
    default: return 0.0;
    }
}

__device__ __forceinline__ int64_t load_int(const char *p, vla_dtype t) {
    switch (t) {
    case VLA_I32: return *(const int32_t *)p;
    case VLA_I64: return *(const int64_t *)p;
    case VLA_U8: return *(const uint8_t *)p;
    case VLA_BOOL: return *(const uint8_t *)p != 0;
    default: {
        double d = load_double(p, t);
        if (!(d == d)) return 0;
        if (d >= 9.2e18) return INT64_MAX;
        if (d <= -9.2e18) return INT64_MIN;
        return (int64_t)d;
    }
    }
}

__device__ __forceinline__ void convert_one(char *dst, vla_dtype dt, const char *src, vla_dtype st) {
    if (dt == st) {
        switch (dt) {
        case VLA_I64: *(uint64_t *)dst = *(const uint64_t *)src; break;
        case VLA_F32:
        case VLA_I32: *(uint32_t *)dst = *(const uint32_t *)src; break;
        case VLA_BF16:
        case VLA_F16: *(uint16_t *)dst = *(const uint16_t *)src; break;
        default: *(uint8_t *)dst = *(const uint8_t *)src; break;
        }
        return;
    }
    switch (dt) {
    case VLA_F32: *(float *)dst = (float)load_double(src, st); break;
    case VLA_BF16: *(uint16_t *)dst = f32_to_bf16_bits((float)load_double(src, st)); break;
    case VLA_F16: *(uint16_t *)dst = f32_to_f16_bits((float)load_double(src, st)); break;
    case VLA_I32: *(int32_t *)dst = (int32_t)load_int(src, st); break;
    case VLA_I64: *(int64_t *)dst = load_int(src, st); break;
    case VLA_U8: *(uint8_t *)dst = (uint8_t)load_int(src, st); break;
    case VLA_BOOL: *(uint8_t *)dst = load_double(src, st) != 0.0; break;
    default: break;
    }
}

/* Walks out's index space in flat order; l's operand 0 is out, 1 is x. */
template <typename I>
__global__ void copy_kernel(char *out, int os, vla_dtype ot, const char *x, int xs, vla_dtype xt, cuda_layout l) {
    GRID_STRIDE(i, l.numel) {
        I rem = (I)i, oo = 0, ox = 0;
        for (int d = l.ndim - 1; d >= 0; d--) {
            I n = (I)l.shape[d], idx = rem % n;
            rem /= n;
            oo += idx * (I)l.stride[0][d];
            ox += idx * (I)l.stride[1][d];
        }
        convert_one(out + (int64_t)oo * os, ot, x + (int64_t)ox * xs, xt);
    }
}

extern "C" vla_status cuda_copy(void *state, vla_tensor *out, const vla_tensor *x) {
    cuda_state *st = (cuda_state *)state;
    const vla_tensor *ops[2] = {out, x};
    cuda_layout l;
    cuda_layout_init(&l, ops, 2);
    if (l.numel == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, "copy"));
    int os = (int)vla_dtype_size(out->dtype), xs = (int)vla_dtype_size(x->dtype);
    if (out->dtype == x->dtype && l.ndim == 1 && l.stride[0][0] == 1 && l.stride[1][0] == 1) {
        CUDA_TRY("copy", "cudaMemcpyAsync (device to device)",
                 cudaMemcpyAsync(out->data, x->data, (size_t)l.numel * (size_t)os, cudaMemcpyDeviceToDevice,
                                 st->stream));
        return VLA_OK;
    }
    unsigned blocks = cuda_blocks(st, l.numel, THREADS);
    if (cuda_layout_fits_i32(&l))
        LAUNCH(copy_kernel<int32_t>, blocks, THREADS, 0, st->stream)((char *)out->data, os, out->dtype,
                                                                  (const char *)x->data, xs, x->dtype, l);
    else
        LAUNCH(copy_kernel<int64_t>, blocks, THREADS, 0, st->stream)((char *)out->data, os, out->dtype,
                                                                  (const char *)x->data, xs, x->dtype, l);
    return cuda_check_launch("copy");
}
