/* The optimised path (K/V once per call, AdaLN batched over steps, future and
 * state tokens skipped in legacy mode) gives the actions of the literal
 * reference path, in both forward modes, with and without the state token,
 * on a padded batch; padding is invisible; the seed is deterministic and
 * documented; bad inputs and configs fail cleanly without partial writes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lwfm_test.h"
#include "vla/ops.h"
#include "vla/rng.h"

enum { B = 2, S = 7, H = 24, L = 4, T = 16, A = 7, N_ACT = B * T * A, PAD = 3 };

static vla_backend *be;
static vla_ctx *ctx;

static const char v3_yaml[] =
    "framework:\n"
    "  action_model:\n"
    "    action_dim: 7\n"
    "    action_horizon: 16\n"
    "    num_target_vision_tokens: 5\n"
    "    max_seq_len: 40\n"
    "    diffusion_model_cfg: {action_dit_hidden_dim: 32, attention_head_dim: 8,\n"
    "                          interleave_self_attention: %s}\n"
    "vla: {head: {name: layerwise-fm, projector: layernorm_linear}}\n";

static const char v1_yaml[] =
    "framework:\n"
    "  action_model:\n"
    "    action_dim: 7\n"
    "    future_action_window_size: 15\n"
    "    num_target_vision_tokens: 5\n"
    "    max_seq_len: 40\n"
    "    diffusion_model_cfg: {attention_head_dim: 8, use_canonical_forward: %s}\n"
    "vla: {head: {name: layerwise-fm, projector: identity, use_state_token: true}}\n";

/* Weights scaled so that every path matters (the params' own random init is
 * N(0, 0.02), under which the DiT barely moves the tokens). */
static vla_status randomise(vla_params *p, uint64_t seed) {
    VLA_TRY(vla_params_init_random(p, be, VLA_F32, seed));
    for (size_t i = 0; i < vla_params_count(p); i++) {
        const vla_tensor *t = vla_params_slot(p, i);
        const size_t n = (size_t)vla_tensor_numel(t);
        float *host = malloc(n * sizeof *host);
        if (!host) return vla_error(VLA_ERR_OOM, "randomise");
        double sc = t->ndim == 2 ? sqrt(3.0 / (double)t->shape[1]) : 0.3;
        if (strstr(vla_params_name(p, i), "tokens") || strstr(vla_params_name(p, i), "position")) sc = 1.0;
        for (size_t j = 0; j < n; j++) host[j] = (float)(sc * lwfm_test_rand(&seed));
        if (strstr(vla_params_name(p, i), ".0.weight") && t->ndim == 1)
            for (size_t j = 0; j < n; j++) host[j] += 1.0f; /* LayerNorm gain */
        vla_status s = vla_backend_write(be, t->data, host, n * sizeof *host);
        free(host);
        VLA_TRY(s);
    }
    return VLA_OK;
}

static vla_status perturb_future_tokens(vla_params *p) {
    for (size_t i = 0; i < vla_params_count(p); i++) {
        if (strcmp(vla_params_name(p, i), "action_model.future_tokens.weight") != 0) continue;
        const vla_tensor *t = vla_params_slot(p, i);
        const size_t n = (size_t)vla_tensor_numel(t);
        float *host = malloc(n * sizeof *host);
        if (!host) return vla_error(VLA_ERR_OOM, "perturb");
        uint64_t seed = 555;
        for (size_t j = 0; j < n; j++) host[j] = 3.0f * lwfm_test_rand(&seed);
        vla_status s = vla_backend_write(be, t->data, host, n * sizeof *host);
        free(host);
        return s;
    }
    return vla_error(VLA_ERR_NOT_FOUND, "future_tokens not declared");
}

static float hidden_data[L * B * S * H];
static int32_t mask[B * S];
static float state[B * 7];

static void make_inputs(void) {
    uint64_t seed = 11;
    for (size_t i = 0; i < sizeof hidden_data / sizeof *hidden_data; i++) hidden_data[i] = 2.0f * lwfm_test_rand(&seed);
    for (int i = 0; i < B * S; i++) mask[i] = !(i / S == 1 && i % S < PAD); /* row 1 left-padded */
    for (int i = 0; i < B * 7; i++) state[i] = lwfm_test_rand(&seed);
}

static vla_status predict(lwfm_test_head *t, const vla_vlm_out *vlm, const vla_head_input *in, bool reference,
                          float *out) {
    t->head->cfg.reference_path = reference;
    return lwfm_sample(t->head, ctx, vlm, in, out, NULL);
}

static void open_head(const char *fmt, const char *mode, lwfm_test_head *t) {
    char yaml[1024];
    snprintf(yaml, sizeof yaml, fmt, mode);
    CHECK_OK(lwfm_test_head_open(yaml, H, L, t));
    if (t->params) CHECK_OK(randomise(t->params, 1234));
}

/* optimised == reference on the padded batch, and padded row 1 == row 1 run
 * alone without its padding. */
static void paths_case(const char *name, const char *fmt, const char *mode) {
    lwfm_test_head t;
    open_head(fmt, mode, &t);
    if (!t.params || test_failures) return;
    lwfm_test_vlm v, v1;
    CHECK_OK(lwfm_test_vlm_make(ctx, hidden_data, L, L + 1, B, S, H, mask, &v));
    static float row1[L * (S - PAD) * H];
    for (int l = 0; l < L; l++)
        for (int s = PAD; s < S; s++)
            memcpy(&row1[((size_t)l * (S - PAD) + (s - PAD)) * H], &hidden_data[(((size_t)l * B + 1) * S + s) * H],
                   H * sizeof(float));
    CHECK_OK(lwfm_test_vlm_make(ctx, row1, L, L + 1, 1, S - PAD, H, NULL, &v1));
    float opt[N_ACT], ref[N_ACT], alone[T * A], alone_ref[T * A];
    vla_head_input in = {.batch = B, .state = state, .seed = 77};
    vla_head_input in1 = {.batch = 1, .state = state + 7, .seed = 0};
    CHECK_OK(predict(&t, &v.out, &in, false, opt));
    CHECK_OK(predict(&t, &v.out, &in, true, ref));
    /* row 1's noise is the second T*A block of the seeded draw */
    float noise[N_ACT];
    vla_rng rng;
    vla_rng_seed(&rng, 77);
    vla_rng_fill_normal(&rng, noise, N_ACT, 0.0f, 1.0f);
    in1.noise = noise + T * A;
    CHECK_OK(predict(&t, &v1.out, &in1, false, alone));
    CHECK_OK(predict(&t, &v1.out, &in1, true, alone_ref));
    double abs_err, rel = lwfm_rel_err(opt, ref, N_ACT, &abs_err);
    double abs_pad, rel_pad = lwfm_rel_err(opt + T * A, alone_ref, T * A, &abs_pad);
    double abs_pad_ref, rel_pad_ref = lwfm_rel_err(ref + T * A, alone, T * A, &abs_pad_ref);
    double moved, unused = lwfm_rel_err(ref, noise, N_ACT, &moved);
    (void)unused;
    printf("%-28s optimised vs reference: max abs %.3g, rel %.3g; padded row vs alone: rel %.3g / %.3g; "
           "|actions - noise| max %.3g\n",
           name, abs_err, rel, rel_pad, rel_pad_ref, moved);
    CHECK(rel < 1e-5);
    CHECK(rel_pad < 1e-5 && rel_pad_ref < 1e-5);
    CHECK(moved > 0.1); /* the DiT really moved x */
    /* the premise of skipping tokens: on the reference path, other future
     * tokens change nothing in legacy mode and change the actions when odd
     * blocks self-attend */
    float perturbed[N_ACT];
    CHECK_OK(perturb_future_tokens(t.params));
    CHECK_OK(predict(&t, &v.out, &in, true, perturbed));
    double ft_rel = lwfm_rel_err(perturbed, ref, N_ACT, NULL);
    if (t.head->cfg.interleave)
        CHECK_MSG(ft_rel > 1e-3, "future tokens should matter in interleaved mode (rel change %.3g)", ft_rel);
    else
        CHECK_MSG(ft_rel < 1e-6, "future tokens should not matter in legacy mode (rel change %.3g)", ft_rel);
    lwfm_test_vlm_free(&v);
    lwfm_test_vlm_free(&v1);
    lwfm_test_head_close(&t);
}

static void seed_case(void) {
    lwfm_test_head t;
    open_head(v3_yaml, "false", &t);
    if (!t.params || test_failures) return;
    lwfm_test_vlm v;
    CHECK_OK(lwfm_test_vlm_make(ctx, hidden_data, L, L + 1, B, S, H, mask, &v));
    float a1[N_ACT], a2[N_ACT], a3[N_ACT], a4[N_ACT], noise[N_ACT];
    vla_head_input in = {.batch = B, .seed = 2024};
    CHECK_OK(predict(&t, &v.out, &in, false, a1));
    CHECK_OK(predict(&t, &v.out, &in, false, a2));
    CHECK(memcmp(a1, a2, sizeof a1) == 0);
    in.seed = 2025;
    CHECK_OK(predict(&t, &v.out, &in, false, a3));
    CHECK(memcmp(a1, a3, sizeof a1) != 0);
    /* documented layout: vla_rng seeded with `seed`, normals drawn row-major over [B, T, A] */
    vla_rng rng;
    vla_rng_seed(&rng, 2024);
    vla_rng_fill_normal(&rng, noise, N_ACT, 0.0f, 1.0f);
    in.noise = noise;
    in.seed = 1; /* ignored when noise is given */
    CHECK_OK(predict(&t, &v.out, &in, false, a4));
    CHECK(memcmp(a1, a4, sizeof a1) == 0);
    lwfm_test_vlm_free(&v);
    lwfm_test_head_close(&t);
}

static void error_case(void) {
    lwfm_test_head t;
    open_head(v1_yaml, "false", &t);
    if (!t.params || test_failures) return;
    lwfm_test_vlm v;
    CHECK_OK(lwfm_test_vlm_make(ctx, hidden_data, L, L + 1, B, S, H, mask, &v));
    float out[N_ACT], bad_state[B * 7];
    for (int i = 0; i < N_ACT; i++) out[i] = 42.0f;
    vla_head_input in = {.batch = B, .seed = 1};
    CHECK_ERR(predict(&t, &v.out, &in, false, out), VLA_ERR_INVALID_ARG, "state");
    memcpy(bad_state, state, sizeof bad_state);
    bad_state[5] = NAN;
    in.state = bad_state;
    CHECK_ERR(predict(&t, &v.out, &in, false, out), VLA_ERR_INVALID_ARG, "state[5]");
    in.state = state;
    in.batch = 1;
    CHECK_ERR(predict(&t, &v.out, &in, false, out), VLA_ERR_INVALID_ARG, "batch");
    in.batch = B;
    vla_vlm_out short_out = v.out;
    short_out.hidden = v.hidden + 2;
    short_out.n_hidden = L - 1;
    CHECK_ERR(predict(&t, &short_out, &in, false, out), VLA_ERR_INVALID_ARG, "last 4 hidden states");
    vla_vlm_out missing = v.out;
    vla_tensor copy[L + 1];
    memcpy(copy, v.hidden, sizeof copy);
    copy[2].data = NULL;
    missing.hidden = copy;
    CHECK_ERR(predict(&t, &missing, &in, false, out), VLA_ERR_INVALID_ARG, "hidden state 2");
    missing.hidden_size = H + 1;
    CHECK_ERR(predict(&t, &missing, &in, false, out), VLA_ERR_SHAPE, "hidden size");
    int untouched = 1;
    for (int i = 0; i < N_ACT; i++) untouched &= out[i] == 42.0f;
    CHECK(untouched);
    lwfm_test_vlm_free(&v);
    lwfm_test_head_close(&t);
}

static void config_errors(void) {
    /* each case: the head section and the action_model entries after the required chunk keys */
    static const struct {
        const char *head, *action_model;
        vla_status code;
        const char *needle;
    } cases[] = {
        {"{projector: conv}", "", VLA_ERR_INVALID_ARG, "unknown projector \"conv\""},
        {"{projecter: identity}", "", VLA_ERR_INVALID_ARG, "projecter: unknown key"},
        {"{use_state_token: maybe}", "", VLA_ERR_TYPE, "use_state_token"},
        {"{}", ", num_inference_timesteps: 0", VLA_ERR_INVALID_ARG, "num_inference_timesteps"},
        {"{}", ", num_target_vision_tokens: many", VLA_ERR_TYPE, "num_target_vision_tokens"},
        {"{}", ", diffusion_model_cfg: {action_dit_hidden_dim: 30, attention_head_dim: 8}", VLA_ERR_INVALID_ARG,
         "not a multiple"},
        {"{}", ", diffusion_model_cfg: {action_dit_hidden_dim: 27, attention_head_dim: 9}", VLA_ERR_INVALID_ARG,
         "must be even"},
        {"{}", ", max_seq_len: 8", VLA_ERR_INVALID_ARG, "max_seq_len"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml,
                 "framework: {action_model: {action_dim: 7, action_horizon: 16%s}}\nvla: {head: %s}\n",
                 cases[i].action_model, cases[i].head);
        lwfm_test_head t;
        vla_clear_error();
        vla_status s = lwfm_test_head_open(yaml, H, L, &t);
        CHECK_MSG(s == cases[i].code && strstr(vla_last_error(), cases[i].needle), "case %zu: got %s: %s", i,
                  vla_status_name(s), vla_last_error());
        lwfm_test_head_close(&t);
    }
    lwfm_test_head missing;
    CHECK_ERR(lwfm_test_head_open("framework: {action_model: {action_dim: 7}}\n", H, L, &missing), VLA_ERR_NOT_FOUND,
              "action_horizon");
    lwfm_test_head_close(&missing);
    /* use_canonical_forward is the legacy alias and wins over interleave_self_attention */
    lwfm_test_head t;
    CHECK_OK(lwfm_test_head_open("framework: {action_model: {action_dim: 7, action_horizon: 16, diffusion_model_cfg: "
                                 "{interleave_self_attention: true, use_canonical_forward: false}}}\n",
                                 H, L, &t));
    if (t.head) CHECK(!t.head->cfg.interleave);
    lwfm_test_head_close(&t);
}

/* temb of a sinusoid given on the host, through the same linears */
static vla_status temb_from(const lwfm_timestep *ts, const float *sinus, float *out, size_t n) {
    vla_tensor x, h1, a1, y;
    VLA_TRY(vla_new_from_host(ctx, VLA_F32, 2, (int64_t[]){1, LWFM_TIME_CHANNELS}, sinus, &x));
    VLA_TRY(lwfm_linear_apply(ctx, &ts->linear_1, &x, &h1));
    VLA_TRY(vla_silu(ctx, &h1, &a1));
    VLA_TRY(lwfm_linear_apply(ctx, &ts->linear_2, &a1, &y));
    return vla_to_host(ctx, &y, out, n * sizeof *out);
}

/* A bf16 model rounds the timestep sinusoid to bf16 before linear_1, as
 * StarVLA's TimestepEncoder does (`.to(dtype)` of its parameters). */
static void bf16_sinusoid_case(void) {
    lwfm_test_head t;
    char yaml[1024];
    snprintf(yaml, sizeof yaml, v3_yaml, "false");
    CHECK_OK(lwfm_test_head_open(yaml, H, L, &t));
    if (!t.params) return;
    CHECK_OK(vla_params_init_random(t.params, be, VLA_BF16, 3));
    const int32_t bucket = 750;
    enum { D = 32 };
    static float got[D], rounded[D], exact[D];
    float sinus[LWFM_TIME_CHANNELS], sinus_bf16[LWFM_TIME_CHANNELS];
    vla_tensor temb;
    size_t mark = vla_ctx_mark(ctx);
    CHECK_OK(lwfm_timestep_embed(ctx, &t.head->timestep, &bucket, 1, &temb));
    CHECK(temb.ndim == 2 && temb.shape[1] == D);
    if (temb.ndim == 2 && temb.shape[1] == D) CHECK_OK(vla_to_host(ctx, &temb, got, sizeof got));
    lwfm_time_sinusoid(bucket, sinus);
    for (int j = 0; j < LWFM_TIME_CHANNELS; j++) sinus_bf16[j] = vla_bf16_to_f32(vla_f32_to_bf16(sinus[j]));
    CHECK_OK(temb_from(&t.head->timestep, sinus_bf16, rounded, D));
    CHECK_OK(temb_from(&t.head->timestep, sinus, exact, D));
    vla_ctx_release(ctx, mark);
    CHECK(memcmp(got, rounded, sizeof got) == 0);
    CHECK(memcmp(got, exact, sizeof got) != 0);
    lwfm_test_head_close(&t);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s vla-backend-cpu.so\n", argv[0]);
        return 2;
    }
    CHECK_OK(lwfm_test_backend(argv[1], &be, &ctx));
    if (!ctx) return test_finish("test_lwfm_paths");
    make_inputs();
    paths_case("QwenPI_v3 legacy", v3_yaml, "false");
    paths_case("QwenPI_v3 interleaved", v3_yaml, "true");
    paths_case("QwenPI state legacy", v1_yaml, "false");
    paths_case("QwenPI state interleaved", v1_yaml, "true");
    seed_case();
    error_case();
    config_errors();
    bf16_sinusoid_case();
    vla_ctx_destroy(ctx);
    vla_backend_destroy(be);
    return test_finish("test_lwfm_paths");
}
