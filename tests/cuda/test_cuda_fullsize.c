/* Full-size QwenPI_v3 at the real shapes (Qwen3-VL-4B + 36-block DiT) with
 * deterministic random bf16 weights, on the CPU and the CUDA backend:
 * every hidden state and the actions must be finite on the GPU, and the
 * first decoder layers must agree with the CPU within bf16 tolerance (the
 * GPU rounds activations to bf16 before each GEMM; the CPU keeps them in
 * f32). Random values are drawn on the host, so both backends hold the same
 * weights. Skips where the CUDA backend cannot run.
 *   test_cuda_fullsize CPU.so CUDA.so BACKBONE.so HEAD.so SOURCE_ROOT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_test.h"
#include "vla/backbone.h"
#include "vla/framework.h"
#include "vla/head.h"
#include "vla/image.h"
#include "vla/ops.h"
#include "vla/params.h"

#define FIRST_LAYERS 3          /* hidden[1..3]: the layers with DeepStack */
#define LAYER_TOLERANCE 3e-2    /* max|gpu - cpu| / max|cpu| with bf16 activations */

typedef struct model {
    vla_backend *be;
    const vla_backbone_vtable *bb_vt;
    const vla_head_vtable *head_vt;
    void *bb, *head;
    vla_params *params;
    vla_ctx *ctx;
} model;

static vla_status model_open(model *m, vla_backend *be, const vla_config *cfg, const vla_plugin_desc *bbd,
                             const vla_plugin_desc *hd) {
    memset(m, 0, sizeof *m);
    m->be = be;
    m->bb_vt = bbd->vtable;
    m->head_vt = hd->vtable;
    vla_plugin_env env = {cfg, vla_config_get(cfg, "vla.backbone"), be, "."};
    VLA_TRY(m->bb_vt->create(&env, &m->bb));
    vla_backbone_info info;
    VLA_TRY(m->bb_vt->info(m->bb, &info));
    env.node = vla_config_get(cfg, "vla.head");
    VLA_TRY(m->head_vt->create(&env, &info, &m->head));
    VLA_TRY(vla_params_create(&m->params));
    VLA_TRY(vla_params_set_prefix(m->params, "qwen_vl_interface.model."));
    VLA_TRY(m->bb_vt->declare_params(m->bb, m->params));
    VLA_TRY(vla_params_set_prefix(m->params, ""));
    VLA_TRY(m->head_vt->declare_params(m->head, m->params));
    VLA_TRY(vla_params_init_random(m->params, be, VLA_BF16, 20261121));
    return vla_ctx_create(be, 256u << 20, &m->ctx);
}

static void model_close(model *m) {
    vla_ctx_destroy(m->ctx);
    if (m->head) m->head_vt->destroy(m->head);
    if (m->bb) m->bb_vt->destroy(m->bb);
    vla_params_destroy(m->params);
}

/* The QwenPI_v3 prompt shape: chat scaffolding, 64 image tokens of a 224x224
 * view, a 35-token instruction (arbitrary ordinary ids). */
static int32_t build_ids(int32_t *ids) {
    int32_t n = 0;
    ids[n++] = 151644, ids[n++] = 872, ids[n++] = 198, ids[n++] = 151652;
    for (int i = 0; i < 64; i++) ids[n++] = 151655;
    ids[n++] = 151653;
    for (int i = 0; i < 35; i++) ids[n++] = 1000 + 37 * i;
    ids[n++] = 151645, ids[n++] = 198, ids[n++] = 151644, ids[n++] = 77091, ids[n++] = 198;
    return n;
}

static double rel_err(const float *a, const float *ref, size_t n) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - ref[i]));
        scale = fmax(scale, fabs((double)ref[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

static int all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 6) return fprintf(stderr, "usage: %s CPU.so CUDA.so BACKBONE.so HEAD.so SOURCE_ROOT\n", argv[0]), 2;
    vla_backend *gpu = cuda_test_open(argv[2], ""); /* first: skip before any heavy CPU work */
    CHECK(gpu != NULL);
    vla_backend *cpu = test_backend_open(argv[1], "");
    CHECK(cpu != NULL);
    const vla_plugin_desc *bbd = NULL, *hd = NULL;
    CHECK_OK(vla_plugin_load_file(argv[3], &bbd));
    CHECK_OK(vla_plugin_load_file(argv[4], &hd));
    if (test_failures) return test_finish("test_cuda_fullsize");

    char config[4096], model_dir[4200], image_path[4096];
    snprintf(config, sizeof config, "%s/examples/qwenpi_v3_bridge/config.yaml", argv[5]);
    snprintf(model_dir, sizeof model_dir, "vla.backbone.model_dir=%s/examples/qwen3-vl-4b", argv[5]);
    snprintf(image_path, sizeof image_path, "%s/examples/sample_224.png", argv[5]);
    const char *overrides[] = {model_dir};
    vla_framework_options fo = {config, overrides, 1, NULL};
    vla_config *cfg = NULL;
    CHECK_OK(vla_framework_resolve(&fo, &cfg));
    vla_image_buf img;
    CHECK_OK(vla_image_load(image_path, &img));
    if (test_failures) return test_finish("test_cuda_fullsize");

    int32_t ids[128];
    vla_vlm_example ex = {ids, build_ids(ids), &img.img, 1};
    model m[2];
    memset(m, 0, sizeof m);
    vla_backend *bes[2] = {cpu, gpu};
    float *hidden[2][FIRST_LAYERS + 1] = {{0}};
    float actions[2][16 * 7];
    static float noise[16 * 7];
    for (int i = 0; i < 16 * 7; i++) noise[i] = (float)sin(0.7 * i);
    size_t per_layer = 0;
    for (int k = 0; k < 2; k++) {
        CHECK_OK(model_open(&m[k], bes[k], cfg, bbd, hd));
        if (test_failures) break;
        vla_head_info hi;
        CHECK_OK(m[k].head_vt->info(m[k].head, &hi));
        vla_vlm_out out;
        CHECK_OK(m[k].bb_vt->encode(m[k].bb, m[k].ctx, &ex, 1, hi.vlm_request | VLA_VLM_HIDDEN_ALL, &out));
        if (test_failures) break;
        per_layer = (size_t)out.seq_len * out.hidden_size;
        int finite = 1;
        float *buf = malloc(per_layer * sizeof *buf);
        for (int l = 1; l < out.n_hidden; l++) { /* every layer finite; keep the first ones */
            CHECK_OK(vla_to_host(m[k].ctx, &out.hidden[l], buf, per_layer * sizeof *buf));
            finite &= all_finite(buf, per_layer);
            if (l <= FIRST_LAYERS) {
                hidden[k][l] = malloc(per_layer * sizeof *buf);
                memcpy(hidden[k][l], buf, per_layer * sizeof *buf);
            }
        }
        free(buf);
        CHECK_MSG(finite, "%s: a hidden state is not finite", bes[k]->name);
        vla_head_input in = {1, NULL, noise, 0, -1};
        CHECK_OK(m[k].head_vt->predict(m[k].head, m[k].ctx, &out, &in, actions[k]));
        CHECK_MSG(all_finite(actions[k], 16 * 7), "%s: actions are not finite", bes[k]->name);
    }
    if (!test_failures) {
        for (int l = 1; l <= FIRST_LAYERS; l++) {
            double e = rel_err(hidden[1][l], hidden[0][l], per_layer);
            printf("hidden[%d] (output of decoder layer %d): cuda vs cpu relative error %.3g (tolerance %.0e)\n", l,
                   l - 1, e, LAYER_TOLERANCE);
            CHECK(e < LAYER_TOLERANCE);
        }
        printf("actions after 36 layers + 4 Euler steps: cuda vs cpu relative error %.3g (reported, not checked:\n"
               "bf16 rounding compounds over the full depth)\n",
               rel_err(actions[1], actions[0], 16 * 7));
    }
    size_t in_use = 0, peak = 0;
    if (gpu->vt->memory_usage && gpu->vt->memory_usage(gpu->state, &in_use, &peak) == VLA_OK)
        printf("GPU memory: %.2f GiB in use, %.2f GiB peak\n", in_use / 1073741824.0, peak / 1073741824.0);
    for (int k = 0; k < 2; k++) {
        model_close(&m[k]);
        for (int l = 0; l <= FIRST_LAYERS; l++) free(hidden[k][l]);
    }
    vla_image_buf_free(&img);
    vla_config_free(cfg);
    vla_backend_destroy(gpu);
    vla_backend_destroy(cpu);
    return test_finish("test_cuda_fullsize");
}
