/* smoke-layerwise-fm HEAD.so BACKEND.so: load only this head (and the CPU
 * backend), build a tiny random QwenPI_v3-shaped and QwenPI-shaped head,
 * feed random hidden states with a padded row, and check shapes,
 * finiteness, determinism of the seed and that the seed matters, with f32
 * weights (QwenPI_v3, legacy) and bf16 weights (QwenPI, interleaved). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "vla/head.h"
#include "vla/ops.h"
#include "vla/registry.h"

enum { B = 2, S = 6, H = 24, LAYERS = 3, T = 16, A = 7 };

static const char *const config_v3 =
    "framework:\n"
    "  action_model:\n"
    "    action_dim: 7\n"
    "    action_horizon: 16\n"
    "    num_target_vision_tokens: 4\n"
    "    max_seq_len: 32\n"
    "    diffusion_model_cfg: {action_dit_hidden_dim: 32, attention_head_dim: 8}\n"
    "vla:\n"
    "  head: {name: layerwise-fm, projector: layernorm_linear}\n";

static const char *const config_v1 =
    "framework:\n"
    "  action_model:\n"
    "    action_dim: 7\n"
    "    future_action_window_size: 15\n"
    "    num_target_vision_tokens: 4\n"
    "    max_seq_len: 32\n"
    "    diffusion_model_cfg: {interleave_self_attention: true, attention_head_dim: 8}\n"
    "vla:\n"
    "  head: {name: layerwise-fm, projector: identity, use_state_token: true}\n";

static float rnd(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

typedef struct fake_vlm {
    vla_tensor hidden[LAYERS + 1];
    vla_vlm_out out;
    uint8_t mask[B * S];
} fake_vlm;

/* Random hidden states; row 1 is left-padded by two tokens. */
static vla_status make_vlm(vla_ctx *c, fake_vlm *f) {
    uint64_t seed = 7;
    float host[B * S * H];
    memset(&f->out, 0, sizeof f->out);
    for (int j = 0; j <= LAYERS; j++) {
        for (int i = 0; i < B * S * H; i++) host[i] = 2.0f * rnd(&seed);
        VLA_TRY(vla_new_from_host(c, VLA_F32, 3, (int64_t[]){B, S, H}, host, &f->hidden[j]));
    }
    for (int i = 0; i < B * S; i++) f->mask[i] = !(i / S == 1 && i % S < 2);
    VLA_TRY(vla_new_from_host(c, VLA_U8, 2, (int64_t[]){B, S}, f->mask, &f->out.attention_mask));
    f->out.batch = B;
    f->out.seq_len = S;
    f->out.hidden_size = H;
    f->out.hidden = f->hidden;
    f->out.n_hidden = LAYERS + 1;
    f->out.host_mask = f->mask;
    return VLA_OK;
}

static int all_finite(const float *x, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static void run_case(const vla_head_vtable *vt, vla_backend *be, vla_ctx *c, const fake_vlm *f,
                     const char *yaml, int expect_state_dim, vla_dtype matrix_dtype) {
    vla_config *root = NULL;
    CHECK_OK(vla_config_parse(yaml, strlen(yaml), "smoke", &root));
    if (!root) return;
    vla_plugin_env env = {.root = root, .node = vla_config_get(root, "vla.head"), .backend = be, .base_dir = "."};
    vla_backbone_info bb = {.hidden_size = H, .num_layers = LAYERS, .vocab_size = 100};
    void *head = NULL;
    vla_params *params = NULL;
    CHECK_OK(vt->create(&env, &bb, &head));
    CHECK_OK(vla_params_create(&params));
    if (head && params) {
        vla_head_info info = {0};
        CHECK_OK(vt->info(head, &info));
        CHECK(info.action_horizon == T && info.action_dim == A && info.uses_noise == 1);
        CHECK(info.state_dim == expect_state_dim);
        CHECK(info.vlm_request & VLA_VLM_HIDDEN_ALL);
        CHECK_OK(vt->declare_params(head, params));
        CHECK(vla_params_count(params) > 0);
        CHECK_OK(vla_params_init_random(params, be, matrix_dtype, 123));
        float state[B * 7], a1[B * T * A], a2[B * T * A], a3[B * T * A];
        uint64_t seed = 99;
        for (int i = 0; i < B * 7; i++) state[i] = rnd(&seed);
        vla_head_input in = {.batch = B, .state = state, .seed = 5};
        CHECK_OK(vt->predict(head, c, &f->out, &in, a1));
        CHECK_OK(vt->predict(head, c, &f->out, &in, a2));
        in.seed = 6;
        CHECK_OK(vt->predict(head, c, &f->out, &in, a3));
        CHECK(all_finite(a1, B * T * A));
        CHECK(memcmp(a1, a2, sizeof a1) == 0);
        CHECK(memcmp(a1, a3, sizeof a1) != 0);
    }
    vla_params_destroy(params);
    if (head) vt->destroy(head);
    vla_config_free(root);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s vla-head-layerwise-fm.so vla-backend-cpu.so\n", argv[0]);
        return 2;
    }
    const vla_plugin_desc *hd = NULL, *bd = NULL;
    CHECK_OK(vla_plugin_load_file(argv[1], &hd));
    CHECK_OK(vla_plugin_load_file(argv[2], &bd));
    if (!hd || !bd) return test_finish("smoke-layerwise-fm");
    CHECK(hd->kind == VLA_PLUGIN_HEAD && strcmp(hd->name, "layerwise-fm") == 0);
    vla_backend *be = NULL;
    vla_ctx *c = NULL;
    CHECK_OK(vla_backend_create(bd->vtable, bd->name, NULL, &be));
    if (be) CHECK_OK(vla_ctx_create(be, 1 << 20, &c));
    fake_vlm f;
    if (c) CHECK_OK(make_vlm(c, &f));
    if (c && !test_failures) {
        run_case(hd->vtable, be, c, &f, config_v3, 0, VLA_F32);
        run_case(hd->vtable, be, c, &f, config_v1, 7, VLA_BF16); /* bf16 matrices and tables */
    }
    vla_ctx_destroy(c);
    vla_backend_destroy(be);
    return test_finish("smoke-layerwise-fm");
}
