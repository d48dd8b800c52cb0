/* out[M, N] = x[M, K] . w[N, K]^T (+ bias) through cuBLASLt.
 *
 * Numerics. F32 weights: A, B, C all f32 with CUBLAS_COMPUTE_32F (TF32 is
 * not allowed), the exact fp32 path used for fidelity checks. BF16/F16
 * weights: the f32 activations are first rounded to the weights' type (round
 * to nearest even) into a scratch buffer, then a bf16/f16 x bf16/f16 GEMM
 * accumulates in f32 and writes f32. That rounding is what PyTorch does when
 * a bf16 model runs in bf16 (its activations are bf16 already); it costs
 * about 3 significant digits per activation (2^-9 relative for bf16).
 *
 * Row-major out[M, N] is column-major D (N x M, ld N) = op(A) B with A the
 * weights as stored (column-major K x N, ld K, transposed) and B the
 * activations (column-major K x M, ld K). A plan (descriptors + the algorithm
 * cublasLtMatmulAlgoGetHeuristic picked) is made once per (M, N, K, dtype,
 * bias fusion, pointer alignments) and cached; the workspace is the
 * instance's. The bias is fused as the BIAS epilogue when its pointer is
 * 16-byte aligned, otherwise added by a small kernel. Layouts cuBLASLt has no
 * algorithm for fall back to a plain tiled kernel with the same numerics. */
#include <stdlib.h>
#include <string.h>

#include "cuda_backend.h"

#define MAX_PLANS 512

struct cuda_plan {
    int64_t M, N, K;
    vla_dtype wt;
    int bias_fused;
    unsigned align_a, align_b, align_d;
    int usable; /* cuBLASLt has an algorithm for it */
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, ld;
    cublasLtMatmulAlgo_t algo;
};

static void plan_free(cuda_plan *p) {
    if (!p) return;
    if (p->la) cublasLtMatrixLayoutDestroy(p->la);
    if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
    if (p->ld) cublasLtMatrixLayoutDestroy(p->ld);
    if (p->desc) cublasLtMatmulDescDestroy(p->desc);
    free(p);
}

void cuda_plans_destroy(cuda_state *st) {
    for (size_t i = 0; i < st->n_plans; i++) plan_free(st->plans[i]);
    free(st->plans);
    st->plans = NULL;
    st->n_plans = st->cap_plans = 0;
}

/* The largest power of two up to 256 dividing the address. */
static unsigned align_of(const void *ptr) {
    uintptr_t a = (uintptr_t)ptr;
    unsigned r = 256;
    while (r > 1 && a % r) r >>= 1;
    return r;
}

#define LT_TRY(what, call)                                                        \
    do {                                                                          \
        cublasStatus_t lt_try_s_ = (call);                                        \
        if (lt_try_s_ != CUBLAS_STATUS_SUCCESS) return cuda_blas_fail(lt_try_s_, "matmul", (what)); \
    } while (0)

static cudaDataType_t lt_type(vla_dtype t) {
    return t == VLA_BF16 ? CUDA_R_16BF : t == VLA_F16 ? CUDA_R_16F : CUDA_R_32F;
}

static vla_status plan_describe(cuda_plan *p) {
    cudaDataType_t at = lt_type(p->wt);
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    LT_TRY("cublasLtMatmulDescCreate", cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    LT_TRY("setting TRANSA", cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    LT_TRY("setting TRANSB", cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    if (p->bias_fused) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        cudaDataType_t bt = CUDA_R_32F;
        LT_TRY("setting the bias epilogue",
               cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
        LT_TRY("setting the bias type",
               cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt));
    }
    LT_TRY("layout of w", cublasLtMatrixLayoutCreate(&p->la, at, (uint64_t)p->K, (uint64_t)p->N, p->K));
    LT_TRY("layout of x", cublasLtMatrixLayoutCreate(&p->lb, at, (uint64_t)p->K, (uint64_t)p->M, p->K));
    LT_TRY("layout of out", cublasLtMatrixLayoutCreate(&p->ld, CUDA_R_32F, (uint64_t)p->N, (uint64_t)p->M, p->N));
    return VLA_OK;
}

static vla_status plan_choose_algo(cuda_state *st, cuda_plan *p) {
    cublasLtMatmulPreference_t pref = NULL;
    cublasLtMatmulHeuristicResult_t result;
    int found = 0;
    uint64_t ws = st->workspace_size;
    uint32_t aa = p->align_a, ab = p->align_b, ad = p->align_d;
    cublasStatus_t s = cublasLtMatmulPreferenceCreate(&pref);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aa, sizeof aa);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ab, sizeof ab);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ad, sizeof ad);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ad, sizeof ad);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulAlgoGetHeuristic(st->lt, p->desc, p->la, p->lb, p->ld, p->ld, pref, 1, &result, &found);
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (s == CUBLAS_STATUS_NOT_SUPPORTED || (s == CUBLAS_STATUS_SUCCESS && found < 1)) {
        p->usable = 0; /* the fallback kernel handles it */
        return VLA_OK;
    }
    if (s != CUBLAS_STATUS_SUCCESS) return cuda_blas_fail(s, "matmul", "choosing an algorithm");
    p->algo = result.algo;
    p->usable = 1;
    return VLA_OK;
}

static vla_status get_plan(cuda_state *st, const cuda_plan *key, cuda_plan **out) {
    for (size_t i = 0; i < st->n_plans; i++) {
        cuda_plan *p = st->plans[i];
        if (p->M == key->M && p->N == key->N && p->K == key->K && p->wt == key->wt &&
            p->bias_fused == key->bias_fused && p->align_a == key->align_a && p->align_b == key->align_b &&
            p->align_d == key->align_d) {
            *out = p;
            return VLA_OK;
        }
    }
    if (st->n_plans == MAX_PLANS) cuda_plans_destroy(st); /* shapes keep changing: start over */
    if (st->n_plans == st->cap_plans) {
        size_t cap = st->cap_plans ? st->cap_plans * 2 : 16;
        cuda_plan **n = realloc(st->plans, cap * sizeof *n);
        if (!n) return vla_error(VLA_ERR_OOM, "CUDA backend: matmul: out of host memory");
        st->plans = n;
        st->cap_plans = cap;
    }
    cuda_plan *p = calloc(1, sizeof *p);
    if (!p) return vla_error(VLA_ERR_OOM, "CUDA backend: matmul: out of host memory");
    *p = *key;
    p->desc = NULL;
    p->la = p->lb = p->ld = NULL;
    vla_status s = plan_describe(p);
    if (s == VLA_OK) s = plan_choose_algo(st, p);
    if (s != VLA_OK) {
        plan_free(p);
        return s;
    }
    st->plans[st->n_plans++] = p;
    *out = p;
    return VLA_OK;
}

/* The activation scratch only grows. A graph may have captured the old
 * buffer, so it is released only while no graph exists. */
static vla_status scratch_reserve(cuda_state *st, size_t bytes) {
    if (bytes <= st->scratch_size) return VLA_OK;
    if (st->capturing)
        return vla_error(VLA_ERR_BACKEND,
                         "CUDA backend: matmul: the activation scratch must grow to %zu bytes during graph "
                         "capture; run the captured work once before capturing",
                         bytes);
    size_t size = bytes + bytes / 2;
    void *n = NULL;
    VLA_TRY(cuda_pool_alloc(st, size, &n));
    /* otherwise the old buffer stays allocated until the backend is destroyed */
    if (st->scratch && !st->n_graphs) cuda_pool_free(st, st->scratch);
    st->scratch = n;
    st->scratch_size = size;
    return VLA_OK;
}

/* Sets *fallback (and returns OK) when cuBLASLt turns the call down after all. */
static vla_status run_lt(cuda_state *st, cuda_plan *p, float *out, const void *xb, const void *w,
                         const float *bias, int *fallback) {
    const float one = 1.0f, zero = 0.0f;
    *fallback = 0;
    if (p->bias_fused)
        LT_TRY("setting the bias pointer",
               cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    cublasStatus_t s = cublasLtMatmul(st->lt, p->desc, &one, w, p->la, xb, p->lb, &zero, out, p->ld, out, p->ld,
                                      &p->algo, st->workspace, st->workspace_size, st->stream);
    if (s == CUBLAS_STATUS_NOT_SUPPORTED) {
        p->usable = 0; /* the heuristic was too optimistic: use the fallback from now on */
        *fallback = 1;
        return VLA_OK;
    }
    if (s != CUBLAS_STATUS_SUCCESS) return cuda_blas_fail(s, "matmul", "cublasLtMatmul");
    if (bias && !p->bias_fused) return cuda_add_bias(st, out, bias, p->M, p->N);
    return VLA_OK;
}

vla_status cuda_matmul(void *state, vla_tensor *out, const vla_tensor *x, const vla_tensor *w,
                       const vla_tensor *bias) {
    cuda_state *st = state;
    int64_t K = w->shape[1], N = w->shape[0];
    int64_t M = K ? vla_tensor_numel(x) / K : vla_tensor_numel(out) / (N ? N : 1);
    float *o = out->data;
    const float *xf = x->data, *bf = bias ? bias->data : NULL;
    if (M == 0 || N == 0) return VLA_OK;
    VLA_TRY(cuda_enter(st, "matmul"));
    if (st->gemm_simt || K == 0) return cuda_gemm_simt(st, o, xf, w->data, w->dtype, bf, M, N, K);

    const void *xb = xf;
    if (w->dtype != VLA_F32) {
        VLA_TRY(scratch_reserve(st, (size_t)(M * K) * 2));
        VLA_TRY(cuda_round_activations(st, st->scratch, w->dtype, xf, M * K));
        xb = st->scratch;
    }
    cuda_plan key = {.M = M, .N = N, .K = K, .wt = w->dtype, .bias_fused = bf && align_of(bf) >= 16,
                     .align_a = align_of(w->data), .align_b = align_of(xb), .align_d = align_of(o)};
    cuda_plan *p = NULL;
    VLA_TRY(get_plan(st, &key, &p));
    int fallback = !p->usable;
    if (!fallback) VLA_TRY(run_lt(st, p, o, xb, w->data, bf, &fallback));
    if (!fallback) return VLA_OK;
    return cuda_gemm_simt(st, o, xf, w->data, w->dtype, bf, M, N, K);
}
