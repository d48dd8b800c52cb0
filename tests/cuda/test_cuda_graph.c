/* CUDA graph capture through the backend's optional graph slots: a small
 * block (rmsnorm, bf16 matmul + bias, silu, residual add, layernorm, causal
 * attention) is run eagerly on two inputs, then captured once and replayed
 * with each input written into the captured input buffer. Replays must equal
 * the eager GPU runs bit for bit, and agree with the CPU backend. Also checks
 * the capture rules: host copies and synchronize fail during a capture, and
 * begin/end must pair.
 *
 * argv: CPU_PLUGIN CUDA_PLUGIN. SKIP (77) without a GPU. */
#include <stddef.h>

#include "cuda/cuda_test.h"
#include "ops/ops_test.h"

enum { S = 19, D = 64, H = 4 };

typedef struct weights {
    vla_tensor w, bias, norm;
} weights;

static vla_status upload_weights(vla_ctx *c, const uint16_t *wh, const float *bh, const float *nh, weights *out) {
    VLA_TRY(vla_new_from_host(c, VLA_BF16, 2, (int64_t[]){D, D}, wh, &out->w));
    VLA_TRY(vla_new_from_host(c, VLA_F32, 1, (int64_t[]){D}, bh, &out->bias));
    return vla_new_from_host(c, VLA_F32, 1, (int64_t[]){D}, nh, &out->norm);
}

/* y = attention(layernorm(silu(rmsnorm(x) W^T + b) + x)), causal self-attention */
static vla_status block(vla_ctx *c, const weights *p, const vla_tensor *x, vla_tensor *y) {
    vla_tensor h, a, g, r, n, q, att;
    VLA_TRY(vla_rmsnorm(c, x, &p->norm, 1e-6f, &h));
    VLA_TRY(vla_matmul(c, &h, &p->w, &p->bias, &a));
    VLA_TRY(vla_silu(c, &a, &g));
    VLA_TRY(vla_add(c, &g, x, &r));
    VLA_TRY(vla_layernorm(c, &r, NULL, NULL, 1e-5f, &n));
    VLA_TRY(vla_view_reshape(&n, 4, (int64_t[]){1, S, H, D / H}, &q));
    vla_attention_params ap = {.causal = 1};
    VLA_TRY(vla_attention(c, &q, &q, &q, &ap, &att));
    return vla_view_reshape(&att, 2, (int64_t[]){S, D}, y);
}

/* One eager run: x from host, result to host. */
static vla_status eager(vla_ctx *c, const weights *p, const float *xh, float *yh) {
    size_t mark = vla_ctx_mark(c);
    vla_tensor x, y;
    vla_status s = vla_new_from_host(c, VLA_F32, 2, (int64_t[]){S, D}, xh, &x);
    if (s == VLA_OK) s = block(c, p, &x, &y);
    if (s == VLA_OK) s = vla_to_host(c, &y, yh, sizeof(float) * S * D);
    vla_ctx_release(c, mark);
    return s;
}

static vla_ctx *make_ctx(vla_backend *be) {
    vla_ctx *c = NULL;
    if (be) CHECK_OK(vla_ctx_create(be, 1 << 20, &c));
    return c;
}

static vla_backend *open_cpu(const char *path) {
    const vla_plugin_desc *desc = NULL;
    vla_backend *be = NULL;
    CHECK_OK(vla_plugin_load_file(path, &desc));
    if (desc) CHECK_OK(vla_backend_create(desc->vtable, desc->name, NULL, &be));
    return be;
}

static void compare_cpu(const char *what, const float *gpu, const float *cpu) {
    double ref[S * D];
    for (int i = 0; i < S * D; i++) ref[i] = cpu[i];
    /* the GPU rounds the matmul input to bf16 (2^-9 relative): about 1e-3 on the
     * O(1) matmul outputs, which the layernorm and attention carry through */
    CHECK_MSG(close_to(what, gpu, ref, S * D, 1e-2, 1e-2), "%s: GPU vs CPU", what);
}

static void run(vla_backend *gpu_be, vla_ctx *gpu, vla_ctx *cpu, vla_ctx *gw, vla_ctx *cw) {
    const vla_backend_vtable *vt = gpu_be->vt;
    void *st = gpu_be->state;
    CHECK(vt->struct_size >= offsetof(vla_backend_vtable, graph_destroy) + sizeof vt->graph_destroy);
    CHECK(vt->graph_begin && vt->graph_end && vt->graph_launch && vt->graph_destroy);
    if (!vt->graph_begin || !vt->graph_end || !vt->graph_launch || !vt->graph_destroy) return;

    uint16_t wh[D * D];
    float bh[D], nh[D], xa[S * D], xb[S * D];
    for (int i = 0; i < D * D; i++) wh[i] = vla_f32_to_bf16(urand() * 0.2f);
    for (int i = 0; i < D; i++) {
        bh[i] = urand() * 0.1f;
        nh[i] = 1.0f + urand() * 0.2f;
    }
    for (int i = 0; i < S * D; i++) {
        xa[i] = urand();
        xb[i] = urand() * 2.0f;
    }
    weights pg, pc;
    CHECK_OK(upload_weights(gw, wh, bh, nh, &pg));
    CHECK_OK(upload_weights(cw, wh, bh, nh, &pc));

    float eager_a[S * D], eager_b[S * D], cpu_a[S * D], cpu_b[S * D], out[S * D];
    CHECK_OK(eager(cpu, &pc, xa, cpu_a));
    CHECK_OK(eager(cpu, &pc, xb, cpu_b));
    /* eager GPU runs also warm up everything the capture needs (plans, scratch, arena) */
    CHECK_OK(eager(gpu, &pg, xa, eager_a));
    CHECK_OK(eager(gpu, &pg, xb, eager_b));
    compare_cpu("eager input A", eager_a, cpu_a);

    /* capture, with the input buffer allocated and filled before the capture */
    vla_tensor x, y;
    void *graph = NULL;
    CHECK_OK(vla_ctx_reset(gpu));
    CHECK_OK(vla_new(gpu, VLA_F32, 2, (int64_t[]){S, D}, &x));
    CHECK_OK(vla_backend_write(gpu_be, x.data, xa, sizeof xa));
    CHECK_OK(vt->graph_begin(st));
    CHECK_ERR(vt->graph_begin(st), VLA_ERR_BACKEND, "already in progress");
    CHECK_ERR(vla_backend_synchronize(gpu_be), VLA_ERR_BACKEND, "graph capture");
    CHECK_ERR(vla_backend_write(gpu_be, x.data, xa, sizeof xa), VLA_ERR_BACKEND, "graph capture");
    CHECK_ERR(vla_backend_read(gpu_be, out, x.data, sizeof out), VLA_ERR_BACKEND, "graph capture");
    CHECK_OK(block(gpu, &pg, &x, &y));
    CHECK_OK(vt->graph_end(st, &graph));
    CHECK(graph != NULL);
    if (!graph) return;

    /* replay on input A, then B, then B three times without waiting in between */
    CHECK_OK(vt->graph_launch(st, graph));
    CHECK_OK(vla_to_host(gpu, &y, out, sizeof out));
    CHECK_MSG(memcmp(out, eager_a, sizeof out) == 0, "graph replay on A differs from the eager run");
    compare_cpu("graph input A", out, cpu_a);

    CHECK_OK(vla_backend_write(gpu_be, x.data, xb, sizeof xb));
    CHECK_OK(vt->graph_launch(st, graph));
    CHECK_OK(vla_to_host(gpu, &y, out, sizeof out));
    CHECK_MSG(memcmp(out, eager_b, sizeof out) == 0, "graph replay on B differs from the eager run");
    CHECK_MSG(memcmp(out, eager_a, sizeof out) != 0, "graph replay ignored the new input");
    compare_cpu("graph input B", out, cpu_b);

    for (int i = 0; i < 3; i++) CHECK_OK(vt->graph_launch(st, graph));
    CHECK_OK(vla_to_host(gpu, &y, out, sizeof out));
    CHECK_MSG(memcmp(out, eager_b, sizeof out) == 0, "repeated replays differ");
    vt->graph_destroy(st, graph);

    /* pairing rules */
    void *none = (void *)1;
    CHECK_ERR(vt->graph_end(st, &none), VLA_ERR_BACKEND, "no capture in progress");
    CHECK(none == NULL);
    CHECK_ERR(vt->graph_launch(st, NULL), VLA_ERR_INVALID_ARG, "no graph");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CPU_PLUGIN CUDA_PLUGIN\n", argv[0]);
        return 2;
    }
    vla_backend *cpu_be = open_cpu(argv[1]);
    vla_backend *gpu_be = cuda_test_open(argv[2], "");
    CHECK(cpu_be && gpu_be);
    /* weights live in their own contexts so resetting the per-call ones keeps them */
    vla_ctx *gpu = make_ctx(gpu_be), *cpu = make_ctx(cpu_be), *gw = make_ctx(gpu_be), *cw = make_ctx(cpu_be);
    if (gpu && cpu && gw && cw) run(gpu_be, gpu, cpu, gw, cw);
    vla_ctx_destroy(gpu);
    vla_ctx_destroy(cpu);
    vla_ctx_destroy(gw);
    vla_ctx_destroy(cw);
    vla_backend_destroy(gpu_be);
    vla_backend_destroy(cpu_be);
    return test_finish("test_cuda_graph");
}
