/* Device-side helpers shared by the kernel files: grid-stride loops, warp
 * and block reductions, and element conversions with exactly the semantics
 * of the core's vla_convert (so the CPU and CUDA backends agree bit for bit
 * on casts). */
#ifndef VLA_CUDA_DEVICE_CUH
#define VLA_CUDA_DEVICE_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "cuda_backend.h"

#define FULL_MASK 0xffffffffu

/* Kernel launches and dynamic shared memory go through these two macros so
 * that tests/cuda/emu can compile the same kernels for the CPU. */
#ifndef VLA_CUDA_EMULATION
#define LAUNCH(kernel, grid, block, smem, stream) kernel<<<(grid), (block), (smem), (stream)>>>
#define DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

/* for (i over [0, n)) spread across the whole grid */
#define GRID_STRIDE(i, n)                                                                \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);            \
         i += (int64_t)gridDim.x * blockDim.x)

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

/* Block-wide reductions; blockDim.x is a multiple of 32 and every thread of
 * the block calls them. `sh` holds one slot per warp. Every thread sums the
 * per-warp partials in the same order, so the result is deterministic and
 * needs no second barrier. */
__device__ __forceinline__ double block_sum(double v, double *sh) {
    v = warp_sum(v);
    const int nwarps = blockDim.x >> 5;
    __syncthreads(); /* earlier readers of sh are done */
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
    __syncthreads();
    double t = 0.0;
    for (int w = 0; w < nwarps; w++) t += sh[w];
    return t;
}

__device__ __forceinline__ float block_max(float v, float *sh) {
    v = warp_max(v);
    const int nwarps = blockDim.x >> 5;
    __syncthreads();
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
    __syncthreads();
    float t = -INFINITY;
    for (int w = 0; w < nwarps; w++) t = fmaxf(t, sh[w]);
    return t;
}

/* ---- element conversions (vla_convert semantics) ----------------------------------- */

__device__ __forceinline__ float bf16_bits_to_f32(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

__device__ __forceinline__ float f16_bits_to_f32(uint16_t h) {
    if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu)) /* NaN: keep the payload as the core does */
        return __uint_as_float(((uint32_t)(h & 0x8000u) << 16) | 0x7f800000u | ((uint32_t)(h & 0x3ffu) << 13));
    return __half2float(__ushort_as_half(h));
}

/* round to nearest even; NaN -> quiet NaN with the sign and high payload kept */
__device__ __forceinline__ uint16_t f32_to_bf16_bits(float f) {
    uint32_t bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

/* round to nearest even (IEEE); NaN -> sign | 0x7e00 */
__device__ __forceinline__ uint16_t f32_to_f16_bits(float f) {
    uint32_t bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(((bits >> 16) & 0x8000u) | 0x7e00u);
    return __half_as_ushort(__float2half_rn(f));
}

/* A weight element (F32, BF16 or F16) as f32. */
__device__ __forceinline__ float load_weight(const void *p, vla_dtype t, int64_t i) {
    if (t == VLA_BF16) return bf16_bits_to_f32(((const uint16_t *)p)[i]);
    if (t == VLA_F16) return f16_bits_to_f32(((const uint16_t *)p)[i]);
    return ((const float *)p)[i];
}

/* f32 rounded to what the GEMM feeds the tensor cores for weights of dtype t */
__device__ __forceinline__ float round_activation(float x, vla_dtype t) {
    if (t == VLA_BF16) return bf16_bits_to_f32(f32_to_bf16_bits(x));
    if (t == VLA_F16) return f16_bits_to_f32(f32_to_f16_bits(x));
    return x;
}

#endif
