/* The CPU backend: host memory, a persistent thread pool, and the op slots
 * implemented in the other files of this folder. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "vla/plugin.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#define CPU_ALIGN 64
#define CPU_MAX_THREADS 1024
/* Below this much work (in flops, about 10 us on one core) waking the
 * workers costs more than it saves. */
#define CPU_SERIAL_WORK 262144.0

/* allow_simd = 0 (config `simd: false`) forces the portable kernels, so the
 * tests can check both sets on one machine. */
static const cpu_kernels *select_kernels(int allow_simd) {
#if defined(__x86_64__) || defined(__i386__)
    /* F16C via CPUID: older compilers' __builtin_cpu_supports lacks it */
    unsigned eax, ebx, ecx, edx;
    int f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
    __builtin_cpu_init();
    if (allow_simd && f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &cpu_kernels_avx2;
#else
    (void)allow_simd;
#endif
    return &cpu_kernels_generic;
}

void cpu_parallel(cpu_state *st, int64_t n_tasks, double work, cpu_task_fn fn, void *arg) {
    cpu_pool_run(st->pool, n_tasks, fn, arg, work < CPU_SERIAL_WORK);
}

int64_t cpu_chunk(const cpu_state *st, int64_t n, int64_t grain) {
    int64_t c = n / (4 * (int64_t)st->n_threads);
    if (c < grain) c = grain;
    return c < 1 ? 1 : c;
}

static vla_status cpu_create(const vla_config *cfg, void **state) {
    *state = NULL;
    int64_t threads = 0;
    bool simd = true;
    if (cfg) {
        VLA_TRY(vla_config_int_or(cfg, "threads", 0, &threads));
        VLA_TRY(vla_config_bool_or(cfg, "simd", true, &simd));
    }
    if (threads < 0 || threads > CPU_MAX_THREADS) {
        const vla_config *node = vla_config_get(cfg, "threads");
        return vla_error(VLA_ERR_INVALID_ARG, "%s:%d: %s: %lld is out of range (0 = all CPUs, max %d)",
                         vla_config_file(node), vla_config_line(node), vla_config_path(node),
                         (long long)threads, CPU_MAX_THREADS);
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (n > CPU_MAX_THREADS ? CPU_MAX_THREADS : n) : 1;
    }
    cpu_state *st = calloc(1, sizeof *st);
    if (!st) return vla_error(VLA_ERR_OOM, "cpu backend: out of memory");
    st->n_threads = (int)threads;
    st->k = select_kernels(simd);
    vla_status s = cpu_gemm_buffers_alloc(st);
    if (s == VLA_OK) s = cpu_pool_create(st->n_threads, &st->pool);
    if (s != VLA_OK) {
        cpu_gemm_buffers_free(st);
        free(st);
        return s;
    }
    *state = st;
    return VLA_OK;
}

static void cpu_destroy(void *state) {
    cpu_state *st = state;
    if (!st) return;
    cpu_pool_destroy(st->pool);
    cpu_gemm_buffers_free(st);
    free(st);
}

static vla_status cpu_alloc(void *state, size_t bytes, void **ptr) {
    (void)state;
    size_t rounded = (bytes + CPU_ALIGN - 1) & ~(size_t)(CPU_ALIGN - 1);
    *ptr = rounded >= bytes ? aligned_alloc(CPU_ALIGN, rounded ? rounded : CPU_ALIGN) : NULL;
    if (!*ptr) return vla_error(VLA_ERR_OOM, "cpu backend: cannot allocate %zu bytes", bytes);
    return VLA_OK;
}

static void cpu_free(void *state, void *ptr) {
    (void)state;
    free(ptr);
}

static vla_status cpu_write(void *state, void *dst, const void *host_src, size_t bytes) {
    (void)state;
    memcpy(dst, host_src, bytes);
    return VLA_OK;
}

static vla_status cpu_read(void *state, void *host_dst, const void *src, size_t bytes) {
    (void)state;
    memcpy(host_dst, src, bytes);
    return VLA_OK;
}

static vla_status cpu_synchronize(void *state) {
    (void)state; /* every op has finished when it returns */
    return VLA_OK;
}

static const vla_backend_vtable cpu_vtable = {
    .struct_size = sizeof(vla_backend_vtable),
    .create = cpu_create,
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .write = cpu_write,
    .read = cpu_read,
    .synchronize = cpu_synchronize,
    .matmul = cpu_matmul,
    .binary = cpu_binary,
    .unary = cpu_unary,
    .scale = cpu_scale,
    .rmsnorm = cpu_rmsnorm,
    .layernorm = cpu_layernorm,
    .softmax = cpu_softmax,
    .get_rows = cpu_get_rows,
    .copy = cpu_copy,
    .attention = cpu_attention,
    .rope = cpu_rope,
    .modulate = cpu_modulate,
};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_BACKEND, "cpu", "0.1.0",
                  "reference CPU backend: f32 compute, threaded AVX2/FMA GEMM", &cpu_vtable)
