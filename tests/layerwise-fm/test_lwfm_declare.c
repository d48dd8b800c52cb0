/* Full-size declaration check: the head declared for the real QwenPI_v3
 * (Qwen3-VL-4B: hidden 2560, 36 layers; DiT 1024) reproduces the published
 * parameter counts of StarVLA's model card, action_model 538,678,305 and
 * project_layers 94,593,024, and names tensors as StarVLA's state dict does.
 * Nothing is allocated: declaration only records names and shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lwfm_test.h"

/* the chunk keys every StarVLA config carries; everything else is left to StarVLA's defaults */
#define CHUNK "framework: {action_model: {action_dim: 7, action_horizon: 16}}\n"

static const vla_tensor *find(const vla_params *p, const char *name) {
    for (size_t i = 0; i < vla_params_count(p); i++)
        if (strcmp(vla_params_name(p, i), name) == 0) return vla_params_slot(p, i);
    return NULL;
}

static void check_shape(const vla_params *p, const char *name, int64_t d0, int64_t d1) {
    const vla_tensor *t = find(p, name);
    CHECK_MSG(t != NULL, "%s is not declared", name);
    if (!t) return;
    CHECK_MSG(t->shape[0] == d0 && (t->ndim == 1 ? d1 == 0 : t->shape[1] == d1), "%s has the wrong shape", name);
}

static void qwenpi_v3(void) {
    /* StarVLA's QwenPI_v3 defaults: every shape key left to its default */
    lwfm_test_head t;
    CHECK_OK(lwfm_test_head_open(CHUNK "vla: {head: {name: layerwise-fm}}\n", 2560, 36, &t));
    if (!t.params) return;
    int64_t am = vla_params_numel_prefix(t.params, "action_model.");
    int64_t pl = vla_params_numel_prefix(t.params, "project_layers.");
    printf("QwenPI_v3: action_model %lld (published 538678305), project_layers %lld (published 94593024)\n",
           (long long)am, (long long)pl);
    CHECK(am == 538678305);
    CHECK(pl == 94593024);
    CHECK(vla_params_numel_total(t.params) == am + pl);
    CHECK(t.head->cfg.dit_hidden == 1024 && t.head->cfg.num_heads == 16 && !t.head->cfg.interleave);
    check_shape(t.params, "project_layers.0.0.weight", 2560, 0);
    check_shape(t.params, "project_layers.35.1.weight", 1024, 2560);
    check_shape(t.params, "action_model.model.timestep_encoder.timestep_embedder.linear_1.weight", 1024, 256);
    check_shape(t.params, "action_model.model.transformer_blocks.0.norm1.linear.weight", 2048, 1024);
    check_shape(t.params, "action_model.model.transformer_blocks.35.attn1.to_q.bias", 1024, 0);
    check_shape(t.params, "action_model.model.transformer_blocks.7.attn1.to_out.0.weight", 1024, 1024);
    check_shape(t.params, "action_model.model.transformer_blocks.7.ff.net.0.proj.weight", 4096, 1024);
    check_shape(t.params, "action_model.model.transformer_blocks.7.ff.net.2.weight", 1024, 4096);
    check_shape(t.params, "action_model.model.proj_out_1.weight", 2048, 1024);
    check_shape(t.params, "action_model.model.proj_out_2.weight", 26, 1024);
    check_shape(t.params, "action_model.state_encoder.layer1.weight", 1024, 7);
    check_shape(t.params, "action_model.action_encoder.layer2.weight", 1024, 2048);
    check_shape(t.params, "action_model.action_decoder.layer2.weight", 7, 1024);
    check_shape(t.params, "action_model.future_tokens.weight", 32, 1024);
    check_shape(t.params, "action_model.position_embedding.weight", 1024, 1024);
    lwfm_test_head_close(&t);
}

static void qwenpi_v3_keys(void) {
    /* StarVLA's own keys move the shapes; a released config with
     * action_model.hidden_size 1024 gets proj_out_2 [1024, 1024] (compat layer) */
    static const char yaml[] =
        "framework:\n"
        "  action_model:\n"
        "    action_dim: 7\n"
        "    hidden_size: 1024\n"
        "    future_action_window_size: 7\n"
        "    diffusion_model_cfg: {action_dit_hidden_dim: 512, attention_head_dim: 32}\n"
        "vla: {head: {name: layerwise-fm, param_prefix: 'x.'}}\n";
    lwfm_test_head t;
    CHECK_OK(lwfm_test_head_open(yaml, 2560, 36, &t));
    if (!t.params) return;
    CHECK(t.head->cfg.horizon == 8 && t.head->cfg.num_heads == 16);
    check_shape(t.params, "x.action_model.model.proj_out_2.weight", 1024, 512);
    check_shape(t.params, "x.project_layers.3.1.weight", 512, 2560);
    lwfm_test_head_close(&t);
}

static void qwenpi(void) {
    /* QwenPI: no projectors, the DiT at the VLM width (40 heads x 64) */
    lwfm_test_head t;
    CHECK_OK(lwfm_test_head_open(CHUNK "vla: {head: {name: layerwise-fm, projector: identity, "
                                       "use_state_token: true}}\n",
                                 2560, 36, &t));
    if (!t.params) return;
    CHECK(vla_params_numel_prefix(t.params, "project_layers.") == 0);
    CHECK(t.head->cfg.dit_hidden == 2560 && t.head->cfg.num_heads == 40);
    check_shape(t.params, "action_model.state_encoder.layer2.weight", 2560, 1024);
    check_shape(t.params, "action_model.model.transformer_blocks.0.attn1.to_k.weight", 2560, 2560);
    printf("QwenPI (Qwen3-VL-4B): action_model %lld\n",
           (long long)vla_params_numel_prefix(t.params, "action_model."));
    lwfm_test_head_close(&t);
}

/* The committed framework preset gives the same full-size head. */
static void preset(void) {
    const char *root = getenv("VLA_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/configs/frameworks/QwenPI_v3.yaml", root ? root : ".");
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return;
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    lwfm_test_head t;
    CHECK_OK(lwfm_test_head_open(text, 2560, 36, &t));
    if (t.params) {
        CHECK(vla_params_numel_prefix(t.params, "action_model.") == 538678305);
        CHECK(vla_params_numel_prefix(t.params, "project_layers.") == 94593024);
        CHECK(!t.head->cfg.interleave && t.head->cfg.projector == LWFM_PROJECTOR_LAYERNORM_LINEAR);
    }
    lwfm_test_head_close(&t);
}

int main(void) {
    qwenpi_v3();
    preset();
    qwenpi_v3_keys();
    qwenpi();
    return test_finish("test_lwfm_declare");
}
