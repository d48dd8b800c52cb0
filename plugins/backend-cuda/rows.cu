/* Row-wise ops over the last dim (RMSNorm, LayerNorm, softmax) and the row
 * gather. One block per row; the block's threads stride over the row and
 * reduce through warp shuffles. Sums are accumulated in double, as on the
 * CPU backend, so both agree to float rounding of the final scale. */
#include "device.cuh"

#define MAX_THREADS 256

typedef enum { ROW_RMS, ROW_LAYER, ROW_SOFTMAX } row_kind;

/* A block size for rows of D elements: a multiple of 32, at most MAX_THREADS. */
static int row_threads(int64_t D) {
    int t = 32;
    while (t < MAX_THREADS && t < D) t *= 2;
    return t;
}

static unsigned row_blocks(int64_t rows) { return (unsigned)(rows < (1 << 30) ? rows : (1 << 30)); }

__global__ void rmsnorm_kernel(float *out, const float *x, const float *w, float eps, int64_t rows, int64_t D) {
    __shared__ double sh[MAX_THREADS / 32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * D;
        float *o = out + r * D;
        double ss = 0.0;
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) ss += (double)xr[d] * (double)xr[d];
        ss = block_sum(ss, sh);
        float inv = (float)(1.0 / sqrt(ss / (double)D + (double)eps));
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) o[d] = w ? xr[d] * inv * w[d] : xr[d] * inv;
    }
}

__global__ void layernorm_kernel(float *out, const float *x, const float *w, const float *b, float eps, int64_t rows,
                                 int64_t D) {
    __shared__ double sh[MAX_THREADS / 32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * D;
        float *o = out + r * D;
        double s = 0.0;
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += xr[d];
        double mean = block_sum(s, sh) / (double)D;
        double ss = 0.0;
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
            double c = (double)xr[d] - mean;
            ss += c * c;
        }
        ss = block_sum(ss, sh);
        float inv = (float)(1.0 / sqrt(ss / (double)D + (double)eps)), m = (float)mean;
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
            float v = (xr[d] - m) * inv;
            if (w) v *= w[d];
            if (b) v += b[d];
            o[d] = v;
        }
    }
}

__global__ void softmax_kernel(float *out, const float *x, int64_t rows, int64_t D) {
    __shared__ double sh[MAX_THREADS / 32];
    __shared__ float shm[MAX_THREADS / 32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * D;
        float *o = out + r * D;
        float mx = -INFINITY;
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) mx = fmaxf(mx, xr[d]);
        mx = block_max(mx, shm);
        if (mx == -INFINITY) { /* a fully masked row: zeros, as attention does */
            for (int64_t d = threadIdx.x; d < D; d += blockDim.x) o[d] = 0.0f;
            continue;
        }
        double s = 0.0;
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += expf(xr[d] - mx);
        float inv = (float)(1.0 / block_sum(s, sh));
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) o[d] = expf(xr[d] - mx) * inv;
    }
}

static vla_status run_rows(cuda_state *st, row_kind kind, const char *name, vla_tensor *out, const vla_tensor *x,
                           const vla_tensor *w, const vla_tensor *b, float eps) {
    int64_t D = x->shape[x->ndim - 1];
    if (D == 0) return VLA_OK;
    int64_t rows = vla_tensor_numel(x) / D;
    if (rows == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, name));
    int threads = row_threads(D);
    unsigned blocks = row_blocks(rows);
    float *o = (float *)out->data;
    const float *xp = (const float *)x->data, *wp = w ? (const float *)w->data : NULL,
                *bp = b ? (const float *)b->data : NULL;
    switch (kind) {
    case ROW_RMS: LAUNCH(rmsnorm_kernel, blocks, threads, 0, st->stream)(o, xp, wp, eps, rows, D); break;
    case ROW_LAYER: LAUNCH(layernorm_kernel, blocks, threads, 0, st->stream)(o, xp, wp, bp, eps, rows, D); break;
    case ROW_SOFTMAX: LAUNCH(softmax_kernel, blocks, threads, 0, st->stream)(o, xp, rows, D); break;
    }
    return cuda_check_launch(name);
}

extern "C" vla_status cuda_rmsnorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                                  float eps) {
    return run_rows((cuda_state *)state, ROW_RMS, "rmsnorm", out, x, w, NULL, eps);
}

extern "C" vla_status cuda_layernorm(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                                    const vla_tensor *b, float eps) {
    return run_rows((cuda_state *)state, ROW_LAYER, "layernorm", out, x, w, b, eps);
}

extern "C" vla_status cuda_softmax(void *state, vla_tensor *out, const vla_tensor *x) {
    return run_rows((cuda_state *)state, ROW_SOFTMAX, "softmax", out, x, NULL, NULL, 0.0f);
}

/* ---- get_rows: out[i, :] = table[ids[i], :] ---------------------------------------------------- */

/* The core range-checks ids before the call, but a replayed graph reads ids
 * that were never checked: an id out of range yields a NaN row, not a wild read. */
__global__ void get_rows_kernel(float *out, const void *table, vla_dtype tt, int64_t rows, const void *ids,
                                int ids64, int64_t D, int64_t n) {
    GRID_STRIDE(i, n) {
        int64_t r = i / D, d = i % D;
        int64_t id = ids64 ? ((const int64_t *)ids)[r] : ((const int32_t *)ids)[r];
        out[i] = id >= 0 && id < rows ? load_weight(table, tt, id * D + d) : __int_as_float(0x7fc00000);
    }
}

extern "C" vla_status cuda_get_rows(void *state, vla_tensor *out, const vla_tensor *table, const vla_tensor *ids) {
    cuda_state *st = (cuda_state *)state;
    int64_t D = table->shape[1], n = vla_tensor_numel(ids) * D;
    if (n == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, "get_rows"));
    LAUNCH(get_rows_kernel, cuda_blocks(st, n, MAX_THREADS), MAX_THREADS, 0, st->stream)(
        (float *)out->data, table->data, table->dtype, table->shape[0], ids->data, ids->dtype == VLA_I64, D, n);
    return cuda_check_launch("get_rows");
}
