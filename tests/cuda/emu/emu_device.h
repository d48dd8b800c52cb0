/* Force-included (-include) before each kernel file of plugins/backend-cuda
 * when it is compiled as host C++ for the emulation: CUDA's qualifiers
 * become plain C++, the built-in index variables become globals that the
 * scheduler in emu.cc sets, barriers and warp shuffles become yields to that
 * scheduler, and LAUNCH runs a kernel over its whole grid (or records it
 * while a graph is being captured). */
#ifndef VLA_CUDA_EMU_DEVICE_H
#define VLA_CUDA_EMU_DEVICE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <functional>

#include "cuda_runtime_api.h"

#define VLA_CUDA_EMULATION 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
/* one block runs at a time, so a function-local static is shared by exactly
 * the threads of the running block, as __shared__ memory is */
#define __shared__ static

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
extern dim3 threadIdx, blockIdx, blockDim, gridDim;
extern char *emu_dyn_smem; /* the running block's dynamic shared memory, exactly the bytes requested */

void __syncthreads();
void __syncwarp(unsigned mask = 0xffffffffu);
double emu_shfl_xor(double v, int lane_mask);
template <class T> T __shfl_xor_sync(unsigned, T v, int lane_mask) { return (T)emu_shfl_xor((double)v, lane_mask); }

inline float __uint_as_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
inline uint32_t __float_as_uint(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
inline float __int_as_float(int32_t i) {
    float f;
    memcpy(&f, &i, 4);
    return f;
}

struct __half {
    uint16_t x;
};
inline __half __ushort_as_half(uint16_t h) { return __half{h}; }
inline uint16_t __half_as_ushort(__half h) { return h.x; }
extern "C" float vla_f16_to_f32(uint16_t h);
extern "C" uint16_t vla_f32_to_f16(float f);
inline float __half2float(__half h) { return vla_f16_to_f32(h.x); }
inline __half __float2half_rn(float f) { return __half{vla_f32_to_f16(f)}; }

struct emu_cfg {
    dim3 grid, block;
    size_t smem;
    emu_cfg(dim3 g, dim3 b, size_t s, cudaStream_t) : grid(g), block(b), smem(s) {}
};
/* Checks the configuration like the driver would, then runs (or records) `body`
 * once per thread of every block. `kernel` identifies the kernel's attributes. */
void emu_launch(const void *kernel, emu_cfg cfg, std::function<void()> body);

/* LAUNCH(k, grid, block, smem, stream)(args...): arguments are evaluated at the
 * launch, as CUDA does, and bound into the recorded call. */
template <class F> struct emu_launcher {
    const void *id;
    emu_cfg cfg;
    F *fn;
    template <class... A> void operator()(A... args) const { emu_launch(id, cfg, std::bind(fn, args...)); }
};
template <class F> emu_launcher<F> emu_make_launcher(F *fn, emu_cfg cfg) {
    return emu_launcher<F>{(const void *)fn, cfg, fn};
}

#define LAUNCH(kernel, grid, block, smem, stream) \
    emu_make_launcher(&kernel, emu_cfg((grid), (block), (smem), (stream)))
#define DYNAMIC_SHARED(type, name) type *name = (type *)emu_dyn_smem

#endif
