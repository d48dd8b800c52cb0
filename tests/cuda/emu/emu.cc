/* A CPU emulation of the parts of CUDA the backend uses, so the backend's
 * real kernels and host code run (slowly) without a GPU and the CUDA tests
 * can check their logic on any machine. It is a test fixture, not a
 * simulator: work runs synchronously at enqueue time, device memory is host
 * memory, and cuBLASLt's matmul is a plain loop over the descriptors.
 *
 * Threads of a block are coroutines (one stack each) scheduled round-robin;
 * they switch only at __syncthreads, __syncwarp and warp shuffles, which is
 * enough for kernels that communicate only through those. The scheduler
 * fails loudly on what real hardware would hang on or leave undefined: a
 * barrier some threads of the block never reach, a shuffle with exited
 * lanes, threads of a warp waiting at different barriers. Launch
 * configurations are checked as the driver checks them. A graph capture
 * records launches and device-to-device copies and replays them. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <map>
#include <vector>

#include "cublasLt.h"
#include "emu_device.h"

dim3 threadIdx, blockIdx, blockDim, gridDim;
char *emu_dyn_smem;

enum { DEFAULT_SMEM = 48 * 1024, OPTIN_SMEM = 227 * 1024, SM_COUNT = 3, STACK_BYTES = 256 * 1024 };

typedef std::vector<std::function<void()>> op_list;
struct emu_graph {
    op_list ops;
};
struct emu_stream {
    int unused;
};
struct emu_event {
    int unused;
};

static cudaError_t last_error = cudaSuccess;
static op_list *capture; /* non-NULL while a stream capture is in progress */
static std::map<const void *, int> smem_limit;
static std::map<void *, size_t> device_blocks;

static void fatal(const char *what) {
    fprintf(stderr, "CUDA emulation: %s\n", what);
    abort();
}

static void enqueue(const std::function<void()> &op) {
    if (capture)
        capture->push_back(op);
    else
        op();
}

/* ---- block scheduler ------------------------------------------------------------- */

enum { READY, AT_BLOCK_BARRIER, AT_WARP_BARRIER, EXITED };

struct coroutine {
    jmp_buf resume;
    ucontext_t start;
    char *stack;
    int state, started;
};

static std::vector<coroutine> threads;
static int current, n_threads;
static jmp_buf scheduler;
static const std::function<void()> *kernel_body;
static double shuffle_slots[32][32]; /* [warp][lane] */

static void set_thread_index(int t) {
    threadIdx.x = t % blockDim.x;
    threadIdx.y = t / blockDim.x % blockDim.y;
    threadIdx.z = t / (blockDim.x * blockDim.y);
}

static void thread_main() {
    (*kernel_body)();
    threads[current].state = EXITED;
    _longjmp(scheduler, 1);
}

static void wait_at(int barrier) {
    threads[current].state = barrier;
    if (!_setjmp(threads[current].resume)) _longjmp(scheduler, 1);
    set_thread_index(current);
}

void __syncthreads() { wait_at(AT_BLOCK_BARRIER); }
void __syncwarp(unsigned) { wait_at(AT_WARP_BARRIER); }

double emu_shfl_xor(double v, int lane_mask) {
    int warp = current / 32, lane = current % 32;
    if (n_threads % 32) fatal("warp shuffle in a block that is not whole warps");
    shuffle_slots[warp][lane] = v;
    __syncwarp();
    double r = shuffle_slots[warp][lane ^ lane_mask];
    __syncwarp(); /* nobody overwrites a slot before every lane has read */
    return r;
}

static void resume_thread(int t) {
    current = t;
    set_thread_index(t);
    if (_setjmp(scheduler)) return;
    coroutine &c = threads[t];
    if (c.started) _longjmp(c.resume, 1);
    c.started = 1;
    getcontext(&c.start);
    c.start.uc_stack.ss_sp = c.stack;
    c.start.uc_stack.ss_size = STACK_BYTES;
    c.start.uc_link = NULL;
    makecontext(&c.start, thread_main, 0);
    ucontext_t here;
    swapcontext(&here, &c.start); /* thread_main never returns here: it jumps to `scheduler` */
}

/* Release the warps whose lanes all wait at a warp barrier; otherwise the block
 * barrier once every thread waits there. Returns 0 when the block has finished. */
static int release_waiting() {
    int exited = 0, at_block = 0, released = 0;
    for (int t = 0; t < n_threads; t++) {
        exited += threads[t].state == EXITED;
        at_block += threads[t].state == AT_BLOCK_BARRIER;
    }
    if (exited == n_threads) return 0;
    for (int lo = 0; lo < n_threads; lo += 32) {
        int hi = lo + 32 < n_threads ? lo + 32 : n_threads, waiting = 0, gone = 0;
        for (int t = lo; t < hi; t++) {
            waiting += threads[t].state == AT_WARP_BARRIER;
            gone += threads[t].state == EXITED;
        }
        if (waiting && gone) fatal("a warp barrier or shuffle with lanes that have exited");
        if (waiting && waiting != hi - lo) continue; /* the rest of the warp is still running */
        for (int t = lo; waiting && t < hi; t++) threads[t].state = READY;
        released |= waiting > 0;
    }
    if (released) return 1;
    if (at_block && exited) fatal("__syncthreads that some threads of the block never reach");
    if (at_block != n_threads) fatal("threads of a warp wait at different barriers (deadlock)");
    for (int t = 0; t < n_threads; t++) threads[t].state = READY;
    return 1;
}

static void run_block() {
    while ((int)threads.size() < n_threads) {
        threads.push_back(coroutine());
        threads.back().stack = (char *)malloc(STACK_BYTES);
        if (!threads.back().stack) fatal("out of memory for thread stacks");
    }
    for (int t = 0; t < n_threads; t++) threads[t].state = READY, threads[t].started = 0;
    do {
        for (int t = 0; t < n_threads; t++)
            if (threads[t].state == READY) resume_thread(t);
    } while (release_waiting());
}

void emu_launch(const void *kernel, emu_cfg cfg, std::function<void()> body) {
    long long block_threads = (long long)cfg.block.x * cfg.block.y * cfg.block.z;
    int limit = smem_limit.count(kernel) ? smem_limit[kernel] : DEFAULT_SMEM;
    if (cfg.grid.x < 1 || cfg.grid.y < 1 || cfg.grid.z < 1 || cfg.grid.y > 65535 || cfg.grid.z > 65535 ||
        block_threads < 1 || block_threads > 1024 || cfg.smem > (size_t)limit) {
        last_error = cudaErrorInvalidConfiguration;
        return;
    }
    enqueue([=]() {
        gridDim = cfg.grid;
        blockDim = cfg.block;
        n_threads = (int)block_threads;
        kernel_body = &body;
        for (unsigned z = 0; z < cfg.grid.z; z++)
            for (unsigned y = 0; y < cfg.grid.y; y++)
                for (unsigned x = 0; x < cfg.grid.x; x++) {
                    blockIdx = dim3(x, y, z);
                    emu_dyn_smem = cfg.smem ? (char *)malloc(cfg.smem) : NULL;
                    if (emu_dyn_smem) memset(emu_dyn_smem, 0xff, cfg.smem); /* NaN-ish garbage */
                    run_block();
                    free(emu_dyn_smem);
                    emu_dyn_smem = NULL;
                }
    });
}

/* ---- runtime API ---------------------------------------------------------------------- */

extern "C" {

const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    default: return "emulated CUDA error";
    }
}

const char *cudaGetErrorName(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    default: return "cudaErrorUnknown";
    }
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidValue; }

/* VLA_CUDA_EMU_NO_GPU=1 plays a machine without a driver */
cudaError_t cudaGetDeviceCount(int *n) {
    *n = getenv("VLA_CUDA_EMU_NO_GPU") ? 0 : 1;
    return *n ? cudaSuccess : cudaErrorInsufficientDriver;
}

cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr a, int) {
    *v = a == cudaDevAttrMultiProcessorCount ? SM_COUNT : OPTIN_SMEM;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int) {
    snprintf(p->name, sizeof p->name, "CPU emulation");
    p->major = 9;
    p->minor = 0;
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned) {
    *s = new emu_stream();
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return capture ? cudaErrorStreamCaptureUnsupported : cudaSuccess; }

cudaError_t cudaMalloc(void **p, size_t n) {
    if (capture) fatal("cudaMalloc during stream capture");
    *p = malloc(n ? n : 1);
    if (!*p) return cudaErrorMemoryAllocation;
    memset(*p, 0xa5, n); /* device memory starts as garbage */
    device_blocks[*p] = n;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    if (capture) fatal("cudaFree during stream capture");
    if (p && !device_blocks.erase(p)) fatal("cudaFree of a pointer cudaMalloc did not return");
    free(p);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total) {
    *free_bytes = 0;
    *total = 0;
    return cudaSuccess;
}

cudaError_t cudaHostAlloc(void **p, size_t n, unsigned) {
    *p = malloc(n ? n : 1);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaFreeHost(void *p) {
    free(p);
    return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned) {
    *e = new emu_event();
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete e;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) {
    if (capture) fatal("cudaEventRecord during stream capture (the backend should refuse earlier)");
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t) {
    if (capture) fatal("cudaEventSynchronize during stream capture");
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind kind, cudaStream_t) {
    if (capture && kind != cudaMemcpyDeviceToDevice) fatal("a host copy during stream capture");
    enqueue([=]() { memmove(dst, src, n); });
    return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) {
    if (capture) fatal("nested stream capture");
    capture = new op_list();
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t *g) {
    if (!capture) fatal("cudaStreamEndCapture without a capture");
    *g = new emu_graph{*capture};
    delete capture;
    capture = NULL;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t g, unsigned long long) {
    *exec = new emu_graph{g->ops};
    return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t g) {
    delete g;
    return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
    for (const auto &op : exec->ops) enqueue(op);
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete exec;
    return cudaSuccess;
}

cudaError_t emu_func_set_attribute(const void *f, int, int v) {
    if (v > OPTIN_SMEM) return cudaErrorInvalidValue;
    smem_limit[f] = v;
    return cudaSuccess;
}

cudaError_t emu_func_get_attributes(struct cudaFuncAttributes *a, const void *) {
    a->maxThreadsPerBlock = 1024;
    return cudaSuccess;
}

/* ---- cuBLASLt ----------------------------------------------------------------------------- */

struct emu_lt {
    int unused;
};
struct emu_desc {
    int compute, scale, transa, transb, epilogue, bias_type;
    const void *bias;
};
struct emu_layout {
    cudaDataType_t type;
    uint64_t rows, cols;
    int64_t ld;
};
struct emu_pref {
    int unused;
};

static const uint64_t ALGO_TAG = 0x5eed;

cublasStatus_t cublasLtCreate(cublasLtHandle_t *h) {
    *h = new emu_lt();
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) {
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasLtGetStatusString(cublasStatus_t s) {
    return s == CUBLAS_STATUS_INVALID_VALUE ? "an invalid value was used as an argument" : "emulated cuBLAS status";
}

const char *cublasLtGetStatusName(cublasStatus_t s) {
    return s == CUBLAS_STATUS_INVALID_VALUE ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, cublasComputeType_t c, cudaDataType_t s) {
    *d = new emu_desc{(int)c, (int)s, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_DEFAULT, -1, NULL};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) {
    delete d;
    return CUBLAS_STATUS_SUCCESS;
}

/* attribute sizes as documented: the enums are int32, the pointer a pointer */
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a,
                                              const void *buf, size_t n) {
    int *field = a == CUBLASLT_MATMUL_DESC_TRANSA           ? &d->transa
                 : a == CUBLASLT_MATMUL_DESC_TRANSB         ? &d->transb
                 : a == CUBLASLT_MATMUL_DESC_EPILOGUE       ? &d->epilogue
                 : a == CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE ? &d->bias_type
                                                            : NULL;
    if (field) {
        if (n != sizeof(int32_t)) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(field, buf, n);
        return CUBLAS_STATUS_SUCCESS;
    }
    if (a != CUBLASLT_MATMUL_DESC_BIAS_POINTER || n != sizeof(void *)) return CUBLAS_STATUS_INVALID_VALUE;
    memcpy(&d->bias, buf, n);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, cudaDataType_t t, uint64_t rows, uint64_t cols,
                                          int64_t ld) {
    if (ld < (int64_t)rows || ld < 1) return CUBLAS_STATUS_INVALID_VALUE;
    *l = new emu_layout{t, rows, cols, ld};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) {
    delete l;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) {
    *p = new emu_pref();
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
    delete p;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t,
                                                    cublasLtMatmulPreferenceAttributes_t a, const void *, size_t n) {
    size_t want = a == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES ? sizeof(uint64_t) : sizeof(uint32_t);
    return n == want ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_INVALID_VALUE;
}

/* D = op(A) op(B) must be consistent, with the types this backend may use */
static int consistent(const emu_desc *d, const emu_layout *a, const emu_layout *b, const emu_layout *c,
                      const emu_layout *dl) {
    uint64_t ar = d->transa ? a->cols : a->rows, ac = d->transa ? a->rows : a->cols;
    uint64_t br = d->transb ? b->cols : b->rows, bc = d->transb ? b->rows : b->cols;
    return ar == dl->rows && bc == dl->cols && ac == br && c->rows == dl->rows && c->cols == dl->cols &&
           a->type == b->type && dl->type == CUDA_R_32F && c->type == CUDA_R_32F &&
           d->compute == CUBLAS_COMPUTE_32F && d->scale == CUDA_R_32F &&
           (d->epilogue != CUBLASLT_EPILOGUE_BIAS || d->bias_type == -1 || d->bias_type == CUDA_R_32F);
}

/* VLA_CUDA_EMU_NO_LT_ALGO=1 plays a cuBLASLt without an algorithm for any layout */
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a,
                                              cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c,
                                              cublasLtMatrixLayout_t dl, cublasLtMatmulPreference_t, int n,
                                              cublasLtMatmulHeuristicResult_t *r, int *found) {
    if (n < 1 || !consistent(d, a, b, c, dl)) return CUBLAS_STATUS_INVALID_VALUE;
    *found = 0;
    if (getenv("VLA_CUDA_EMU_NO_LT_ALGO")) return CUBLAS_STATUS_SUCCESS;
    memset(r, 0, sizeof *r);
    r->algo.data[0] = ALGO_TAG;
    *found = 1;
    return CUBLAS_STATUS_SUCCESS;
}

static float element(const void *p, cudaDataType_t t, uint64_t i) {
    if (t == CUDA_R_32F) return ((const float *)p)[i];
    uint16_t h = ((const uint16_t *)p)[i];
    if (t == CUDA_R_16F) return vla_f16_to_f32(h);
    return __uint_as_float((uint32_t)h << 16);
}

/* Column-major, as cuBLASLt defines it: element (i, j) of a layout is at i + j * ld. */
cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t desc, const void *alpha, const void *A,
                              cublasLtMatrixLayout_t la, const void *B, cublasLtMatrixLayout_t lb, const void *beta,
                              const void *C, cublasLtMatrixLayout_t lc, void *D, cublasLtMatrixLayout_t ldd,
                              const cublasLtMatmulAlgo_t *algo, void *, size_t, cudaStream_t) {
    if (!consistent(desc, la, lb, lc, ldd) || !algo || algo->data[0] != ALGO_TAG) return CUBLAS_STATUS_INVALID_VALUE;
    const float al = *(const float *)alpha, be = *(const float *)beta;
    const emu_desc d = *desc;
    const emu_layout a = *la, b = *lb, c = *lc, o = *ldd;
    enqueue([=]() {
        uint64_t K = d.transa ? a.rows : a.cols;
        for (uint64_t j = 0; j < o.cols; j++)
            for (uint64_t i = 0; i < o.rows; i++) {
                double s = 0.0;
                for (uint64_t k = 0; k < K; k++) {
                    float av = d.transa ? element(A, a.type, k + i * a.ld) : element(A, a.type, i + k * a.ld);
                    float bv = d.transb ? element(B, b.type, j + k * b.ld) : element(B, b.type, k + j * b.ld);
                    s += (double)av * bv;
                }
                double v = al * s;
                if (be != 0.0f) v += be * ((const float *)C)[i + j * c.ld];
                if (d.epilogue == CUBLASLT_EPILOGUE_BIAS) v += ((const float *)d.bias)[i];
                ((float *)D)[i + j * o.ld] = (float)v;
            }
    });
    return CUBLAS_STATUS_SUCCESS;
}

} /* extern "C" */
