/* The CUDA backend: lifecycle, error reporting and the vtable. The op slots
 * live in the other files of this folder (kernels in *.cu). */
#include <stdlib.h>
#include <string.h>

#include "cuda_backend.h"
#include "vla/plugin.h"

#define MIB ((size_t)1 << 20)
#define MAX_STAGING_MB 1024
#define MAX_WORKSPACE_MB 1024
/* grid-stride kernels: this many blocks per SM keep every SM busy */
#define BLOCKS_PER_SM 8

vla_status cuda_fail(cudaError_t e, const char *op, const char *what) {
    cudaGetLastError(); /* a failed call also sets the last-error slot */
    return vla_error(VLA_ERR_BACKEND, "CUDA backend: %s: %s: %s (%s)", op, what, cudaGetErrorString(e),
                     cudaGetErrorName(e));
}

vla_status cuda_blas_fail(cublasStatus_t s, const char *op, const char *what) {
    return vla_error(VLA_ERR_BACKEND, "CUDA backend: %s: %s: %s (%s)", op, what, cublasLtGetStatusString(s),
                     cublasLtGetStatusName(s));
}

vla_status cuda_check_launch(const char *op) {
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? VLA_OK : cuda_fail(e, op, "kernel launch");
}

vla_status cuda_enter(cuda_state *st, const char *op) {
    CUDA_TRY(op, "cudaSetDevice", cudaSetDevice(st->device));
    return VLA_OK;
}

unsigned cuda_blocks(const cuda_state *st, int64_t n, int threads) {
    int64_t need = (n + threads - 1) / threads;
    int64_t cap = (int64_t)st->sm_count * BLOCKS_PER_SM;
    return (unsigned)(need < cap ? need : cap);
}

typedef struct cuda_options {
    int64_t device, staging_mb, workspace_mb;
    int simt;
} cuda_options;

static vla_status read_options(const vla_config *cfg, cuda_options *o) {
    const char *gemm = "cublaslt";
    o->device = 0;
    o->staging_mb = 8;
    o->workspace_mb = 32; /* cuBLAS's recommendation for Hopper */
    if (cfg) {
        VLA_TRY(vla_config_int_or(cfg, "device", 0, &o->device));
        VLA_TRY(vla_config_int_or(cfg, "staging_mb", 8, &o->staging_mb));
        VLA_TRY(vla_config_int_or(cfg, "workspace_mb", 32, &o->workspace_mb));
        VLA_TRY(vla_config_string_or(cfg, "gemm", "cublaslt", &gemm));
    }
    if (o->device < 0 || o->device > 1023)
        return vla_error(VLA_ERR_INVALID_ARG, "backend.device: %lld is not a device index", (long long)o->device);
    if (o->staging_mb < 1 || o->staging_mb > MAX_STAGING_MB)
        return vla_error(VLA_ERR_INVALID_ARG, "backend.staging_mb: %lld is out of range (1..%d)",
                         (long long)o->staging_mb, MAX_STAGING_MB);
    if (o->workspace_mb < 0 || o->workspace_mb > MAX_WORKSPACE_MB)
        return vla_error(VLA_ERR_INVALID_ARG, "backend.workspace_mb: %lld is out of range (0..%d)",
                         (long long)o->workspace_mb, MAX_WORKSPACE_MB);
    if (strcmp(gemm, "cublaslt") != 0 && strcmp(gemm, "simt") != 0)
        return vla_error(VLA_ERR_INVALID_ARG, "backend.gemm: '%s' is not one of cublaslt, simt", gemm);
    o->simt = strcmp(gemm, "simt") == 0;
    return VLA_OK;
}

/* The one place that decides whether this machine can run the backend. */
static vla_status pick_device(int64_t device) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return vla_error(VLA_ERR_BACKEND,
                         "CUDA backend: no usable GPU: %s (%s; is an NVIDIA driver for CUDA %d.%d or newer "
                         "installed and a GPU visible?)",
                         cudaGetErrorString(e), cudaGetErrorName(e), CUDART_VERSION / 1000,
                         CUDART_VERSION % 1000 / 10);
    }
    if (count == 0)
        return vla_error(VLA_ERR_BACKEND, "CUDA backend: no usable GPU: the driver reports no CUDA device");
    if (device >= count)
        return vla_error(VLA_ERR_INVALID_ARG, "backend.device: %lld, but only %d CUDA device(s) are visible",
                         (long long)device, count);
    return VLA_OK;
}

static void cuda_destroy(void *state) {
    cuda_state *st = state;
    if (!st) return;
    cudaSetDevice(st->device);
    if (st->stream) cudaStreamSynchronize(st->stream);
    cuda_plans_destroy(st);
    if (st->lt) cublasLtDestroy(st->lt);
    cuda_staging_destroy(st);
    cuda_pool_destroy(st);
    if (st->stream) cudaStreamDestroy(st->stream);
    cudaGetLastError();
    free(st);
}

static vla_status setup(cuda_state *st, const cuda_options *o) {
    const char *op = "create";
    int v = 0;
    VLA_TRY(cuda_enter(st, op));
    CUDA_TRY(op, "reading the SM count", cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, st->device));
    st->sm_count = v > 0 ? v : 1;
    CUDA_TRY(op, "reading the shared memory limit",
             cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, st->device));
    st->smem_optin = (size_t)v;
    VLA_TRY(cuda_kernels_check(st));
    VLA_TRY(cuda_attention_setup(st));
    CUDA_TRY(op, "cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking));
    cublasStatus_t bs = cublasLtCreate(&st->lt);
    if (bs != CUBLAS_STATUS_SUCCESS) {
        st->lt = NULL;
        return cuda_blas_fail(bs, op, "cublasLtCreate");
    }
    VLA_TRY(cuda_staging_create(st, (size_t)o->staging_mb * MIB));
    st->workspace_size = (size_t)o->workspace_mb * MIB;
    if (st->workspace_size) VLA_TRY(cuda_pool_alloc(st, st->workspace_size, &st->workspace));
    return VLA_OK;
}

static vla_status cuda_create(const vla_config *cfg, void **state) {
    *state = NULL;
    cuda_options o;
    VLA_TRY(read_options(cfg, &o));
    VLA_TRY(pick_device(o.device));
    cuda_state *st = calloc(1, sizeof *st);
    if (!st) return vla_error(VLA_ERR_OOM, "CUDA backend: out of host memory");
    st->device = (int)o.device;
    st->gemm_simt = o.simt;
    vla_status s = setup(st, &o);
    if (s != VLA_OK) {
        cuda_destroy(st);
        return s;
    }
    *state = st;
    return VLA_OK;
}

static vla_status cuda_alloc(void *state, size_t bytes, void **ptr) {
    cuda_state *st = state;
    VLA_TRY(cuda_enter(st, "alloc"));
    return cuda_pool_alloc(st, bytes, ptr);
}

static void cuda_free(void *state, void *ptr) { cuda_pool_free(state, ptr); }

static vla_status cuda_synchronize(void *state) {
    cuda_state *st = state;
    if (st->capturing)
        return vla_error(VLA_ERR_BACKEND, "CUDA backend: synchronize: not allowed during graph capture");
    VLA_TRY(cuda_enter(st, "synchronize"));
    CUDA_TRY("synchronize", "cudaStreamSynchronize", cudaStreamSynchronize(st->stream));
    return VLA_OK;
}

static vla_status cuda_memory_usage(void *state, size_t *in_use, size_t *peak) {
    const cuda_state *st = state;
    *in_use = st->pool.held;
    *peak = st->pool.peak;
    return VLA_OK;
}

static const vla_backend_vtable cuda_vtable = {
    .struct_size = sizeof(vla_backend_vtable),
    .create = cuda_create,
    .destroy = cuda_destroy,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .write = cuda_write,
    .read = cuda_read,
    .synchronize = cuda_synchronize,
    .matmul = cuda_matmul,
    .binary = cuda_binary,
    .unary = cuda_unary,
    .scale = cuda_scale,
    .rmsnorm = cuda_rmsnorm,
    .layernorm = cuda_layernorm,
    .softmax = cuda_softmax,
    .get_rows = cuda_get_rows,
    .copy = cuda_copy,
    .attention = cuda_attention,
    .rope = cuda_rope,
    .modulate = cuda_modulate,
    .memory_usage = cuda_memory_usage,
    .graph_begin = cuda_graph_begin,
    .graph_end = cuda_graph_end,
    .graph_launch = cuda_graph_launch,
    .graph_destroy = cuda_graph_destroy,
};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_BACKEND, "cuda", "0.1.0",
                  "CUDA backend: device-resident weights, cuBLASLt bf16/f16/f32 GEMMs, fused kernels, graphs",
                  &cuda_vtable)
