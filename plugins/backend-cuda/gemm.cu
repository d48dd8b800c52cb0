/* Kernels around the GEMM: rounding f32 activations to the weights' 16-bit
 * type for cuBLASLt, the bias add when it cannot be fused, and a plain tiled
 * GEMM for the layouts cuBLASLt has no algorithm for (and for `gemm: simt`). */
#include "device.cuh"

#define THREADS 256
#define TILE 16

__global__ void round_activations_kernel(uint16_t *dst, int to_bf16, const float *src, int64_t n) {
    GRID_STRIDE(i, n) dst[i] = to_bf16 ? f32_to_bf16_bits(src[i]) : f32_to_f16_bits(src[i]);
}

extern "C" vla_status cuda_round_activations(cuda_state *st, void *dst, vla_dtype dtype, const float *src,
                                             int64_t n) {
    if (n == 0) return VLA_OK;
    LAUNCH(round_activations_kernel, cuda_blocks(st, n, THREADS), THREADS, 0, st->stream)((uint16_t *)dst,
                                                                                       dtype == VLA_BF16, src, n);
    return cuda_check_launch("matmul (rounding activations)");
}

__global__ void add_bias_kernel(float *out, const float *bias, int64_t N, int64_t n) {
    GRID_STRIDE(i, n) out[i] += bias[i % N];
}

extern "C" vla_status cuda_add_bias(cuda_state *st, float *out, const float *bias, int64_t M, int64_t N) {
    int64_t n = M * N;
    if (n == 0) return VLA_OK;
    LAUNCH(add_bias_kernel, cuda_blocks(st, n, THREADS), THREADS, 0, st->stream)(out, bias, N, n);
    return cuda_check_launch("matmul (bias)");
}

/* A TILE x TILE block computes out[m0.., n0..]: per K step it stages a tile of
 * x rows and a tile of w rows in shared memory (padded against bank
 * conflicts). blockIdx.x walks M (up to 2^31 tiles), blockIdx.y walks N. */
__global__ void gemm_simt_kernel(float *out, const float *x, const void *w, vla_dtype wt, const float *bias,
                                 int64_t M, int64_t N, int64_t K) {
    __shared__ float xs[TILE][TILE + 1], ws[TILE][TILE + 1];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int64_t m0 = (int64_t)blockIdx.x * TILE, n0 = (int64_t)blockIdx.y * TILE;
    float acc = 0.0f;
    for (int64_t k0 = 0; k0 < K; k0 += TILE) {
        const int64_t k = k0 + tx;
        /* thread (ty, tx) loads x[m0 + ty, k] and w[n0 + ty, k] */
        xs[ty][tx] = m0 + ty < M && k < K ? round_activation(x[(m0 + ty) * K + k], wt) : 0.0f;
        ws[ty][tx] = n0 + ty < N && k < K ? load_weight(w, wt, (n0 + ty) * K + k) : 0.0f;
        __syncthreads();
        /* thread (ty, tx) accumulates out[m0 + ty, n0 + tx] */
        for (int kk = 0; kk < TILE; kk++) acc += xs[ty][kk] * ws[tx][kk];
        __syncthreads();
    }
    const int64_t m = m0 + ty, n = n0 + tx;
    if (m < M && n < N) out[m * N + n] = bias ? acc + bias[n] : acc;
}

extern "C" vla_status cuda_gemm_simt(cuda_state *st, float *out, const float *x, const void *w, vla_dtype wt,
                                     const float *bias, int64_t M, int64_t N, int64_t K) {
    int64_t mt = (M + TILE - 1) / TILE, nt = (N + TILE - 1) / TILE;
    if (mt == 0 || nt == 0) return VLA_OK;
    if (mt > INT32_MAX || nt > 65535)
        return vla_error(VLA_ERR_UNSUPPORTED, "CUDA backend: matmul: [%lld, %lld] output is too large for the "
                         "fallback GEMM kernel", (long long)M, (long long)N);
    dim3 grid((unsigned)mt, (unsigned)nt), block(TILE, TILE);
    LAUNCH(gemm_simt_kernel, grid, block, 0, st->stream)(out, x, w, wt, bias, M, N, K);
    return cuda_check_launch("matmul (fallback kernel)");
}

extern "C" vla_status cuda_kernels_check(cuda_state *st) {
    cudaFuncAttributes attr;
    cudaError_t e = cudaFuncGetAttributes(&attr, round_activations_kernel);
    if (e == cudaSuccess) return VLA_OK;
    cudaGetLastError();
    cudaDeviceProp prop;
    int have_prop = cudaGetDeviceProperties(&prop, st->device) == cudaSuccess;
    cudaGetLastError();
    return vla_error(VLA_ERR_BACKEND,
                     "CUDA backend: no usable GPU: this build has no kernels for %s (compute capability %d.%d): "
                     "%s (rebuild with -Dgpu_archs naming its SM version)",
                     have_prop ? prop.name : "this GPU", have_prop ? prop.major : 0, have_prop ? prop.minor : 0,
                     cudaGetErrorString(e));
}
