/* smoke-oft-mlp: loads only the oft-mlp head (and the CPU backend it computes
 * on), runs it on random backbone features with a tiny config, and checks the
 * output shape, finiteness, determinism, and that it reads exactly the
 * hidden states at the last T placeholder tokens. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "vla/config.h"
#include "vla/head.h"
#include "vla/ops.h"
#include "vla/registry.h"
#include "vla/rng.h"

enum { B = 2, S = 12, H = 16, T = 4, A = 3, PLACEHOLDER = 7 };

static const char *config_yaml = "framework:\n  action_model:\n    action_dim: 3\n    future_action_window_size: 3\n";

static void predict(const vla_head_vtable *vt, void *head, vla_ctx *c, vla_vlm_out *vlm, float *out) {
    vla_head_input in = {B, NULL, NULL, 0, PLACEHOLDER};
    CHECK_OK(vla_ctx_reset(c));
    /* re-upload features: reset released the arena they lived in */
    static float feats[B * S * H];
    vla_rng r;
    vla_rng_seed(&r, 5);
    vla_rng_fill_normal(&r, feats, B * S * H, 0.0f, 1.0f);
    CHECK_OK(vla_new_from_host(c, VLA_F32, 3, (int64_t[]){B, S, H}, feats, &vlm->hidden[1]));
    CHECK_OK(vt->predict(head, c, vlm, &in, out));
}

int main(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: smoke-oft-mlp HEAD.so BACKEND.so\n"), 2;
    const vla_plugin_desc *hd, *bd;
    CHECK_OK(vla_plugin_load_file(argv[1], &hd));
    CHECK_OK(vla_plugin_load_file(argv[2], &bd));
    if (test_failures) return test_finish("smoke-oft-mlp");
    CHECK(hd->kind == VLA_PLUGIN_HEAD && strcmp(hd->name, "oft-mlp") == 0);

    vla_backend *backend;
    CHECK_OK(vla_backend_create(bd->vtable, "cpu", NULL, &backend));
    vla_config *cfg;
    CHECK_OK(vla_config_parse(config_yaml, strlen(config_yaml), "smoke.yaml", &cfg));
    const vla_head_vtable *vt = hd->vtable;
    vla_backbone_info bb = {.hidden_size = H, .num_layers = 1, .vocab_size = 32};
    vla_plugin_env env = {cfg, NULL, backend, "."};
    void *head;
    CHECK_OK(vt->create(&env, &bb, &head));
    vla_head_info info;
    CHECK_OK(vt->info(head, &info));
    CHECK(info.action_horizon == T && info.action_dim == A);

    vla_params *params;
    CHECK_OK(vla_params_create(&params));
    CHECK_OK(vt->declare_params(head, params));
    /* LN(16) + fc1 16->32 + 2 x (LN(32) + 32->32) + LN(32) + fc2 32->3 */
    int64_t expect = 2 * 16 + (32 * 16 + 32) + 2 * (2 * 32 + 32 * 32 + 32) + 2 * 32 + (3 * 32 + 3);
    CHECK_MSG(vla_params_numel_total(params) == expect, "%lld parameters, expected %lld",
              (long long)vla_params_numel_total(params), (long long)expect);
    CHECK_OK(vla_params_init_random(params, backend, VLA_DTYPE_COUNT, 11));

    int32_t ids[B * S];
    for (int i = 0; i < B * S; i++) ids[i] = 100 + i;
    /* example 0: placeholders at 2, 5, 6, 8, 9 (the last four count); example 1: 7..10 */
    int p0[] = {2, 5, 6, 8, 9}, p1[] = {7, 8, 9, 10};
    for (int i = 0; i < 5; i++) ids[p0[i]] = PLACEHOLDER;
    for (int i = 0; i < 4; i++) ids[S + p1[i]] = PLACEHOLDER;
    vla_tensor hidden[2];
    memset(hidden, 0, sizeof hidden);
    vla_vlm_out vlm = {.batch = B, .seq_len = S, .hidden_size = H, .hidden = hidden, .n_hidden = 2, .host_ids = ids};

    vla_ctx *c;
    CHECK_OK(vla_ctx_create(backend, 1 << 20, &c));
    float out1[B * T * A], out2[B * T * A];
    predict(vt, head, c, &vlm, out1);
    predict(vt, head, c, &vlm, out2);
    int finite = 1;
    for (int i = 0; i < B * T * A; i++) finite &= isfinite(out1[i]);
    CHECK(finite);
    CHECK(memcmp(out1, out2, sizeof out1) == 0);

    /* moving a placeholder earlier than the last T must not change the result */
    ids[1] = PLACEHOLDER;
    predict(vt, head, c, &vlm, out2);
    CHECK(memcmp(out1, out2, sizeof out1) == 0);
    /* too few placeholders is a clear error */
    ids[S + 7] = 0;
    vla_head_input in = {B, NULL, NULL, 0, PLACEHOLDER};
    CHECK_ERR(vt->predict(head, c, &vlm, &in, out2), VLA_ERR_INVALID_ARG, "example 1 has 3 action placeholder");

    vla_ctx_destroy(c);
    vt->destroy(head);
    vla_params_destroy(params);
    vla_config_free(cfg);
    vla_backend_destroy(backend);
    return test_finish("smoke-oft-mlp");
}
