/* `vla bench ops`: throughput of the CPU backend's matmul (f32, bf16 and f16
 * weights) and timings of the other heavy ops, each the median of several
 * runs after a warm-up. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "vla/ops.h"
#include "vla/registry.h"

#define WARMUP 2

typedef struct bench {
    vla_ctx *c;
    int reps;
} bench;

typedef vla_status (*bench_fn)(vla_ctx *c, void *arg);

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median wall and CPU seconds (all threads) of one call; outputs are
 * released after every call. On a shared machine the CPU time shows what
 * the kernels achieve per core when the wall clock is inflated by others. */
static vla_status time_op(bench *b, bench_fn fn, void *arg, double *wall, double *cpu) {
    double t[64], u[64];
    int reps = b->reps > 64 ? 64 : b->reps;
    for (int i = 0; i < WARMUP + reps; i++) {
        size_t mark = vla_ctx_mark(b->c);
        double t0 = clock_s(CLOCK_MONOTONIC), u0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        vla_status s = fn(b->c, arg);
        if (s == VLA_OK) s = vla_backend_synchronize(vla_ctx_backend(b->c));
        double t1 = clock_s(CLOCK_MONOTONIC), u1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        vla_ctx_release(b->c, mark);
        if (s != VLA_OK) return s;
        if (i >= WARMUP) {
            t[i - WARMUP] = t1 - t0;
            u[i - WARMUP] = u1 - u0;
        }
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    qsort(u, (size_t)reps, sizeof u[0], cmp_double);
    *wall = t[reps / 2];
    *cpu = u[reps / 2];
    return VLA_OK;
}

/* A tensor of deterministic pseudo-random values in [-1, 1), converted to dtype. */
static vla_status random_tensor(vla_ctx *c, vla_dtype dtype, int nd, const int64_t *shape, vla_tensor *out) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    float *f = malloc(sizeof(float) * (size_t)(n ? n : 1));
    void *conv = malloc(vla_dtype_size(dtype) * (size_t)(n ? n : 1));
    if (!f || !conv) {
        free(f);
        free(conv);
        return vla_error(VLA_ERR_OOM, "bench: out of memory for %" PRId64 " values", n);
    }
    uint64_t s = 0x2545f4914f6cdd1dull ^ (uint64_t)n;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        f[i] = (float)((s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
    }
    vla_convert(conv, dtype, f, VLA_F32, (size_t)n);
    vla_status st = vla_new_from_host(c, dtype, nd, shape, conv, out);
    free(f);
    free(conv);
    return st;
}

typedef struct mm_arg {
    vla_tensor x, w;
} mm_arg;

static vla_status run_matmul(vla_ctx *c, void *arg) {
    mm_arg *a = arg;
    vla_tensor out;
    return vla_matmul(c, &a->x, &a->w, NULL, &out);
}

static vla_status bench_matmul(bench *b, int64_t M, int64_t N, int64_t K, vla_dtype wt) {
    size_t mark = vla_ctx_mark(b->c);
    mm_arg a;
    double t, cpu;
    vla_status s = random_tensor(b->c, VLA_F32, 2, (int64_t[]){M, K}, &a.x);
    if (s == VLA_OK) s = random_tensor(b->c, wt, 2, (int64_t[]){N, K}, &a.w);
    if (s == VLA_OK) s = time_op(b, run_matmul, &a, &t, &cpu);
    if (s == VLA_OK) {
        double flop = 2.0 * (double)M * (double)N * (double)K;
        printf("matmul %5" PRId64 " x %5" PRId64 " x %5" PRId64 "  w %-4s %9.3f ms %7.1f GFLOP/s  %5.1f GFLOP/CPU-s",
               M, N, K, vla_dtype_name(wt), t * 1e3, flop / t * 1e-9, flop / cpu * 1e-9);
        if (M <= 16) printf("  weights %.1f GB/s", (double)(N * K) * (double)vla_dtype_size(wt) / t * 1e-9);
        printf("\n");
    }
    vla_ctx_release(b->c, mark);
    return s;
}

typedef struct op_arg {
    int op;
    vla_tensor a, b, c;
} op_arg;

enum { OP_ATTENTION, OP_RMSNORM, OP_LAYERNORM, OP_SOFTMAX, OP_GELU, OP_ADD, OP_ROPE, OP_TRANSPOSE };

static vla_status run_op(vla_ctx *c, void *arg) {
    op_arg *a = arg;
    vla_tensor out;
    vla_attention_params p = {.causal = 1};
    switch (a->op) {
    case OP_ATTENTION: return vla_attention(c, &a->a, &a->b, &a->c, &p, &out);
    case OP_RMSNORM: return vla_rmsnorm(c, &a->a, &a->b, 1e-6f, &out);
    case OP_LAYERNORM: return vla_layernorm(c, &a->a, &a->b, &a->b, 1e-6f, &out);
    case OP_SOFTMAX: return vla_softmax(c, &a->a, &out);
    case OP_GELU: return vla_gelu_erf(c, &a->a, &out);
    case OP_ADD: return vla_add(c, &a->a, &a->b, &out);
    case OP_ROPE: return vla_rope(c, &a->a, &a->b, &a->b, &out);
    case OP_TRANSPOSE: return vla_transpose(c, &a->a, 1, 2, &out);
    default: return vla_error(VLA_ERR_INVALID_ARG, "bench: unknown op");
    }
}

static vla_status bench_op(bench *b, const char *what, int op, int nda, const int64_t *sa, int ndb,
                           const int64_t *sb, int ndc, const int64_t *sc) {
    size_t mark = vla_ctx_mark(b->c);
    op_arg a = {.op = op};
    double t, cpu;
    vla_status s = random_tensor(b->c, VLA_F32, nda, sa, &a.a);
    if (s == VLA_OK && ndb) s = random_tensor(b->c, VLA_F32, ndb, sb, &a.b);
    if (s == VLA_OK && ndc) s = random_tensor(b->c, VLA_F32, ndc, sc, &a.c);
    if (s == VLA_OK) s = time_op(b, run_op, &a, &t, &cpu);
    if (s == VLA_OK) printf("%-58s %9.3f ms  (CPU %.3f ms)\n", what, t * 1e3, cpu * 1e3);
    vla_ctx_release(b->c, mark);
    return s;
}

static vla_status run_all(bench *b, int64_t M, int64_t N, int64_t K) {
    static const vla_dtype wts[] = {VLA_F32, VLA_BF16, VLA_F16};
    for (int i = 0; i < 3; i++) VLA_TRY(bench_matmul(b, M, N, K, wts[i]));
    /* decode-shaped products: Qwen3-VL-4B MLP up-projection, 1 and 16 rows */
    VLA_TRY(bench_matmul(b, 1, 9728, 2560, VLA_BF16));
    VLA_TRY(bench_matmul(b, 16, 9728, 2560, VLA_BF16));
    VLA_TRY(bench_op(b, "attention causal q [1, 256, 32, 128] kv [1, 256, 8, 128]", OP_ATTENTION, 4,
                     (int64_t[]){1, 256, 32, 128}, 4, (int64_t[]){1, 256, 8, 128}, 4, (int64_t[]){1, 256, 8, 128}));
    VLA_TRY(bench_op(b, "rmsnorm [1024, 2560]", OP_RMSNORM, 2, (int64_t[]){1024, 2560}, 1, (int64_t[]){2560}, 0, NULL));
    VLA_TRY(bench_op(b, "layernorm [1024, 2560]", OP_LAYERNORM, 2, (int64_t[]){1024, 2560}, 1, (int64_t[]){2560}, 0, NULL));
    VLA_TRY(bench_op(b, "softmax [1024, 1024]", OP_SOFTMAX, 2, (int64_t[]){1024, 1024}, 0, NULL, 0, NULL));
    VLA_TRY(bench_op(b, "gelu_erf [1024, 4096]", OP_GELU, 2, (int64_t[]){1024, 4096}, 0, NULL, 0, NULL));
    VLA_TRY(bench_op(b, "add [1024, 2560] + [2560]", OP_ADD, 2, (int64_t[]){1024, 2560}, 1, (int64_t[]){2560}, 0, NULL));
    VLA_TRY(bench_op(b, "rope [1, 256, 32, 128]", OP_ROPE, 4, (int64_t[]){1, 256, 32, 128}, 2, (int64_t[]){256, 128}, 0, NULL));
    VLA_TRY(bench_op(b, "transpose [16, 256, 32, 128] dims 1,2", OP_TRANSPOSE, 4, (int64_t[]){16, 256, 32, 128}, 0, NULL, 0, NULL));
    return VLA_OK;
}

static int parse_int(const char *s, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || v < 1) return 0;
    *out = v;
    return 1;
}

int bench_ops(int argc, char **argv) {
    int64_t threads = 0, reps = 7, M = 1024, N = 1024, K = 1024;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (!parse_int(argv[++i], &threads)) return cli_usage_error("bench", "--threads: expected a positive integer, got '%s'", argv[i]);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            if (!parse_int(argv[++i], &reps) || reps > 64) return cli_usage_error("bench", "--reps: expected 1..64, got '%s'", argv[i]);
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            long long m, n, k;
            char tail;
            if (sscanf(argv[++i], "%lld,%lld,%lld%c", &m, &n, &k, &tail) != 3 || m < 1 || n < 1 || k < 1)
                return cli_usage_error("bench", "--size: expected M,N,K (positive integers), got '%s'", argv[i]);
            M = m;
            N = n;
            K = k;
        } else {
            return cli_usage_error("bench", "ops: unexpected argument '%s'", argv[i]);
        }
    }
    char cfg_text[64];
    snprintf(cfg_text, sizeof cfg_text, "threads: %" PRId64 "\n", threads);
    vla_config *cfg = NULL;
    vla_registry *r = NULL;
    vla_backend *be = NULL;
    bench b = {.reps = (int)reps};
    vla_status s = vla_config_parse(cfg_text, strlen(cfg_text), "--threads", &cfg);
    if (s == VLA_OK) s = vla_registry_open(&r);
    if (s == VLA_OK) s = vla_registry_open_backend(r, "cpu", cfg, &be);
    if (s == VLA_OK) s = vla_ctx_create(be, 64u << 20, &b.c);
    if (s == VLA_OK) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        printf("vla bench ops: backend cpu, %" PRId64 " threads (%ld CPUs online), median of %d runs after %d warm-up\n"
               "(matmul M x N x K: x [M, K] times w [N, K]^T; GFLOP/CPU-s = per busy core)\n",
               threads ? threads : (int64_t)cpus, cpus, b.reps, WARMUP);
        s = run_all(&b, M, N, K);
    }
    vla_ctx_destroy(b.c);
    vla_backend_destroy(be);
    vla_registry_close(r);
    vla_config_free(cfg);
    return s == VLA_OK ? VLA_EXIT_OK : cli_fail();
}
