/* Fidelity against StarVLA's own head (tests/fixtures/layerwise-fm, written
 * by tools/layerwise_fm_fixtures.py from StarVLA's QwenPI_v3 / QwenPI code):
 * the fixture weights are loaded strictly through vla_weights_open + params,
 * the fixture hidden states and noise are fed in, and every recorded stage
 * (sinusoids, temb, projected layers, AdaLN, block outputs at step 0, action
 * tokens, per-step velocities, final actions) is compared, f32 on the CPU,
 * within 1e-4 relative (inf-norm: max |ours - ref| / max |ref|), on both the
 * reference and the optimised path. The worst error of each case is printed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lwfm_test.h"
#include "vla/ops.h"
#include "vla/weights.h"

#define TOL 1e-4

enum { T = 16, A = 7, L = 4, H = 96, N_STEPS = 4 };

static vla_backend *be;
static vla_ctx *ctx;
static char dir[4096];

typedef struct fixture_case {
    const char *name;
    bool v3;
    bool interleave;
    const char *inputs;
} fixture_case;

static const fixture_case cases[] = {
    {"qwenpi_v3_legacy", true, false, "inputs_single.safetensors"},
    {"qwenpi_v3_interleaved", true, true, "inputs_single.safetensors"},
    {"qwenpi_v3_batch2_legacy", true, false, "inputs_batch2.safetensors"},
    {"qwenpi_v1_state_interleaved", false, true, "inputs_single.safetensors"},
    {"qwenpi_v1_state_legacy", false, false, "inputs_single.safetensors"},
};

static const char v3_yaml[] =
    "framework:\n"
    "  action_model:\n"
    "    action_dim: 7\n"
    "    state_dim: 7\n"
    "    action_horizon: 16\n"
    "    num_inference_timesteps: 4\n"
    "    num_target_vision_tokens: 32\n"
    "    max_seq_len: 1024\n"
    "    add_pos_embed: true\n"
    "    num_timestep_buckets: 1000\n"
    "    diffusion_model_cfg: {action_dit_hidden_dim: 64, attention_head_dim: 16, interleave_self_attention: %s}\n"
    "vla: {head: {name: layerwise-fm, projector: layernorm_linear}}\n";

static const char v1_yaml[] =
    "framework:\n"
    "  action_model:\n"
    "    action_dim: 7\n"
    "    state_dim: 7\n"
    "    action_horizon: 16\n"
    "    num_inference_timesteps: 4\n"
    "    num_target_vision_tokens: 32\n"
    "    max_seq_len: 1024\n"
    "    diffusion_model_cfg: {attention_head_dim: 16, interleave_self_attention: %s}\n"
    "vla: {head: {name: layerwise-fm, projector: identity, use_state_token: true}}\n";

/* ---- fixture access --------------------------------------------------- */

static vla_status open_file(const char *file, vla_weights **w) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return vla_weights_open(path, NULL, NULL, w);
}

static const vla_weight_info *find(const vla_weights *w, const char *name) {
    const vla_weight_info *t = vla_weights_find(w, name);
    CHECK_MSG(t != NULL, "fixture tensor %s is missing", name);
    return t;
}

static size_t numel(const vla_weight_info *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}

/* A fixture tensor as host floats (NULL and a failed check if absent). */
static float *read_f32(const vla_weights *w, const char *name, size_t *n_out) {
    const vla_weight_info *t = find(w, name);
    if (!t) return NULL;
    size_t n = numel(t);
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    if (buf) CHECK_OK(vla_weight_read(t, VLA_F32, buf, n * sizeof *buf));
    if (n_out) *n_out = n;
    return buf;
}

/* worst relative errors of the current case: [0] intermediates, [1] velocities and actions */
static double worst[2];
static int worst_slot;

/* Compare `n` values against fixture tensor `name`; records the worst error. */
static void compare(const vla_weights *w, const char *what, const char *name, const float *ours, size_t n) {
    size_t rn = 0;
    float *ref = read_f32(w, name, &rn);
    if (!ref) return;
    CHECK_MSG(rn == n, "%s: %zu values, fixture %s has %zu", what, n, name, rn);
    if (rn == n) {
        double abs_err, rel = lwfm_rel_err(ours, ref, n, &abs_err);
        if (!(rel <= worst[worst_slot])) worst[worst_slot] = rel;
        CHECK_MSG(rel <= TOL, "%s (%s): relative error %.3g (max abs %.3g) exceeds %g", what, name, rel, abs_err, TOL);
    }
    free(ref);
}

static void compare_tensor(const vla_weights *w, const char *what, const char *name, const vla_tensor *t) {
    size_t n = (size_t)vla_tensor_numel(t);
    float *host = malloc(n * sizeof *host);
    if (!host) return;
    CHECK_OK(vla_to_host(ctx, t, host, n * sizeof *host));
    compare(w, what, name, host, n);
    free(host);
}

/* ---- stage checks ------------------------------------------------------- */

static void check_sinusoids(const vla_weights *cw, int32_t batch, int32_t width) {
    char name[64];
    float *buf = malloc((size_t)batch * 256 * sizeof *buf);
    float *act = malloc((size_t)width * sizeof *act);
    for (int k = 0; buf && act && k < N_STEPS; k++) {
        int32_t bucket = lwfm_step_bucket(k, N_STEPS, 1000);
        snprintf(name, sizeof name, "step.%d.bucket", k);
        const vla_weight_info *bt = find(cw, name);
        int64_t recorded[8] = {-1};
        if (bt && numel(bt) == (size_t)batch && batch <= 8) {
            CHECK_OK(vla_weight_read(bt, VLA_I64, recorded, (size_t)batch * sizeof *recorded));
            for (int b = 0; b < batch; b++)
                CHECK_MSG(recorded[b] == bucket, "step %d: bucket %d, StarVLA used %lld", k, bucket,
                          (long long)recorded[b]);
        } else {
            CHECK_MSG(0, "%s: expected %d buckets", name, batch);
        }
        for (int b = 0; b < batch; b++) lwfm_time_sinusoid(bucket, buf + (size_t)b * 256);
        snprintf(name, sizeof name, "step.%d.t_sinusoid", k);
        compare(cw, "timestep sinusoid", name, buf, (size_t)batch * 256);
        lwfm_action_sinusoid(bucket, width, act);
        snprintf(name, sizeof name, "step.%d.action_tau_sinusoid", k);
        compare(cw, "action sinusoid", name, act, (size_t)width);
    }
    free(buf);
    free(act);
}

/* temb, AdaLN, projected layers, state token, action tokens and, at step 0,
 * each block's output from the recorded block input. */
static void check_stages(const fixture_case *fc, lwfm_head *h, const vla_weights *cw, const lwfm_test_vlm *v,
                         int32_t batch) {
    const lwfm_config *cfg = &h->cfg;
    char name[64], what[64];
    size_t mark = vla_ctx_mark(ctx);
    int32_t buckets[N_STEPS * 4];
    for (int k = 0; k < N_STEPS; k++)
        for (int b = 0; b < batch; b++) buckets[k * batch + b] = lwfm_step_bucket(k, N_STEPS, 1000);
    vla_tensor temb, act, scale, shift, cat;
    for (int k = 0; k < N_STEPS; k++) {
        CHECK_OK(lwfm_timestep_embed(ctx, &h->timestep, buckets + k * batch, batch, &temb));
        snprintf(name, sizeof name, "step.%d.temb", k);
        compare_tensor(cw, "temb", name, &temb);
    }
    CHECK_OK(lwfm_timestep_embed(ctx, &h->timestep, buckets, batch, &temb));
    CHECK_OK(vla_silu(ctx, &temb, &act));
    bool has_blocks = vla_weights_find(cw, "step.0.block.0.out") != NULL;
    for (int i = 0; has_blocks && i < cfg->num_layers; i++) {
        CHECK_OK(lwfm_block_adaln(ctx, &h->blocks[i], &act, &scale, &shift));
        const vla_tensor *parts[2] = {&scale, &shift};
        CHECK_OK(vla_concat(ctx, parts, 2, 1, &cat));
        snprintf(name, sizeof name, "step.0.block.%d.adaln_emb", i);
        compare_tensor(cw, "AdaLN (scale, shift)", name, &cat);
    }
    for (int i = 0; fc->v3 && i < cfg->num_layers; i++) {
        vla_tensor e;
        CHECK_OK(lwfm_projector_apply(ctx, cfg, &h->proj[i], &v->out.hidden[1 + i], &e));
        snprintf(name, sizeof name, "proj.E.%d", i);
        compare_tensor(cw, "projected layer", name, &e);
    }
    if (cfg->use_state_token) {
        float *state = read_f32(cw, "inputs.state", NULL);
        vla_tensor st, tok;
        int64_t shape[2] = {batch, cfg->state_dim};
        if (state) {
            CHECK_OK(vla_new_from_host(ctx, VLA_F32, 2, shape, state, &st));
            CHECK_OK(lwfm_codec_encode_state(ctx, &h->codec, &st, &tok));
            compare_tensor(cw, "state token", "state_token", &tok);
        }
        free(state);
    }
    for (int k = 0; k < N_STEPS; k++) {
        snprintf(name, sizeof name, "step.%d.x_in", k);
        float *x = read_f32(cw, name, NULL);
        vla_tensor xt, tokens;
        int64_t shape[3] = {batch, T, A};
        if (!x) continue;
        CHECK_OK(vla_new_from_host(ctx, VLA_F32, 3, shape, x, &xt));
        CHECK_OK(lwfm_codec_encode_actions(ctx, cfg, &h->codec, &xt, buckets[k * batch], &tokens));
        snprintf(name, sizeof name, "step.%d.action_features", k);
        compare_tensor(cw, "action tokens", name, &tokens);
        free(x);
    }
    /* step 0, block by block from the recorded DiT input */
    if (has_blocks) {
        size_t n_in = 0;
        float *hin = read_f32(cw, "step.0.dit_input", &n_in);
        vla_tensor hs;
        const int64_t n_tok = (int64_t)(n_in / ((size_t)batch * (size_t)cfg->dit_hidden));
        int64_t shape[3] = {batch, n_tok, cfg->dit_hidden};
        if (hin) CHECK_OK(vla_new_from_host(ctx, VLA_F32, 3, shape, hin, &hs));
        for (int i = 0; hin && i < cfg->num_layers; i++) {
            size_t m = vla_ctx_mark(ctx);
            vla_tensor sc, sh, e, k, vv;
            CHECK_OK(lwfm_block_adaln(ctx, &h->blocks[i], &act, &sc, &sh));
            if (lwfm_block_is_self(cfg, i)) {
                CHECK_OK(lwfm_block_forward(ctx, cfg, &h->blocks[i], &hs, &sc, &sh, NULL, NULL, NULL));
            } else {
                CHECK_OK(lwfm_projector_apply(ctx, cfg, h->proj ? &h->proj[i] : NULL, &v->out.hidden[1 + i], &e));
                CHECK_OK(lwfm_block_kv(ctx, cfg, &h->blocks[i], &e, &k, &vv));
                CHECK_OK(lwfm_block_forward(ctx, cfg, &h->blocks[i], &hs, &sc, &sh, &k, &vv,
                                            v->out.attention_mask.data ? &v->out.attention_mask : NULL));
            }
            vla_ctx_release(ctx, m);
            snprintf(name, sizeof name, "step.0.block.%d.out", i);
            snprintf(what, sizeof what, "block %d output (step 0)", i);
            compare_tensor(cw, what, name, &hs);
        }
        free(hin);
    }
    vla_ctx_release(ctx, mark);
}

/* Whole sampler on one path: per-step velocities and final actions. */
static void check_sampler(lwfm_head *h, const vla_weights *cw, const lwfm_test_vlm *v, int32_t batch,
                          bool reference) {
    char name[64];
    const size_t per_step = (size_t)batch * T * A;
    float *noise = read_f32(cw, "inputs.noise", NULL);
    float *state = h->cfg.use_state_token ? read_f32(cw, "inputs.state", NULL) : NULL;
    float *vel = malloc(N_STEPS * per_step * sizeof *vel);
    float *actions = malloc(per_step * sizeof *actions);
    worst_slot = 1;
    if (noise && vel && actions && (state || !h->cfg.use_state_token)) {
        h->cfg.reference_path = reference;
        vla_head_input in = {.batch = batch, .noise = noise, .state = state};
        lwfm_trace trace = {.velocities = vel};
        CHECK_OK(lwfm_sample(h, ctx, &v->out, &in, actions, &trace));
        for (int k = 0; k < N_STEPS; k++) {
            snprintf(name, sizeof name, "step.%d.velocity", k);
            compare(cw, reference ? "velocity (reference path)" : "velocity (optimised path)", name,
                    vel + k * per_step, per_step);
        }
        compare(cw, reference ? "actions (reference path)" : "actions (optimised path)", "output.actions", actions,
                per_step);
    }
    free(noise);
    free(state);
    free(vel);
    free(actions);
    worst_slot = 0;
}

static void run_case(const fixture_case *fc) {
    char yaml[2048], file[128];
    snprintf(yaml, sizeof yaml, fc->v3 ? v3_yaml : v1_yaml, fc->interleave ? "true" : "false");
    snprintf(file, sizeof file, "%s.safetensors", fc->name);
    vla_weights *ww = NULL, *iw = NULL, *cw = NULL;
    lwfm_test_head t = {0};
    lwfm_test_vlm v = {0};
    int failures_before = test_failures;
    worst[0] = worst[1] = 0;
    CHECK_OK(open_file(fc->v3 ? "weights_qwenpi_v3.safetensors" : "weights_qwenpi_v1.safetensors", &ww));
    CHECK_OK(open_file(fc->inputs, &iw));
    CHECK_OK(open_file(file, &cw));
    if (ww && iw && cw) CHECK_OK(lwfm_test_head_open(yaml, H, L, &t));
    if (t.params) CHECK_OK(vla_params_load(t.params, ww, be, NULL)); /* strict: no missing, no unexpected */
    const vla_weight_info *hi = iw ? find(iw, "vlm_hidden") : NULL;
    float *hidden = iw ? read_f32(iw, "vlm_hidden", NULL) : NULL;
    size_t n_mask = 0;
    const vla_weight_info *mi = iw ? find(iw, "attention_mask") : NULL;
    int32_t *mask = mi ? malloc(numel(mi) * sizeof *mask) : NULL;
    if (mi && mask) {
        n_mask = numel(mi);
        CHECK_OK(vla_weight_read(mi, VLA_I32, mask, n_mask * sizeof *mask));
    }
    bool shaped = hi && hi->ndim == 4 && hi->shape[0] == L && hi->shape[3] == H;
    CHECK_MSG(!hi || shaped, "vlm_hidden of %s is not [%d, B, S, %d]", fc->inputs, L, H);
    if (test_failures == failures_before && shaped && hidden && mask) {
        const int32_t batch = (int32_t)hi->shape[1], seq = (int32_t)hi->shape[2];
        /* hidden[0] (the embeddings) is not needed by the head and left absent */
        CHECK_OK(lwfm_test_vlm_make(ctx, hidden, L, L + 1, batch, seq, H, mask, &v));
        if (test_failures == failures_before) {
            check_sinusoids(cw, batch, t.head->cfg.dit_hidden);
            check_stages(fc, t.head, cw, &v, batch);
            check_sampler(t.head, cw, &v, batch, true);
            check_sampler(t.head, cw, &v, batch, false);
        }
        printf("%-28s B=%d S=%d: worst relative error: velocities+actions %.3g, intermediates %.3g "
               "(tolerance %g) %s\n",
               fc->name, batch, seq, worst[1], worst[0], TOL, test_failures == failures_before ? "ok" : "FAILED");
    }
    free(hidden);
    free(mask);
    lwfm_test_vlm_free(&v);
    lwfm_test_head_close(&t);
    vla_weights_close(ww);
    vla_weights_close(iw);
    vla_weights_close(cw);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s vla-backend-cpu.so\n", argv[0]);
        return 2;
    }
    const char *fx = getenv("VLA_FIXTURES");
    snprintf(dir, sizeof dir, "%s/layerwise-fm", fx ? fx : "tests/fixtures");
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/weights_qwenpi_v3.safetensors", dir);
    FILE *f = fopen(probe, "rb");
    CHECK_MSG(f != NULL, "%s is missing: the fixtures are committed (regenerate with tools/layerwise_fm_fixtures.py)",
              probe);
    if (!f) return test_finish("test_lwfm_fixtures");
    fclose(f);
    CHECK_OK(lwfm_test_backend(argv[1], &be, &ctx));
    if (!ctx) return test_finish("test_lwfm_fixtures");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(&cases[i]);
    vla_ctx_destroy(ctx);
    vla_backend_destroy(be);
    return test_finish("test_lwfm_fixtures");
}
