/* Qwen3-VL fidelity against transformers 4.57.0 (tools/qwen3vl_fixtures.py):
 * the tiny random checkpoint is loaded through vla_weights_open +
 * vla_params_load (strict), then for each case (one non-square image, two
 * images in one prompt, a left-padded batch of two) the vision tower output,
 * DeepStack features, 3-D positions, every hidden state, the final norm, the
 * last-position logits and (case 1) five greedy tokens with their step
 * logits are compared.
 * Tolerance: f32 CPU, relative error max|ours - ref| / max|ref| <= 1e-4 per
 * tensor (valid rows only where there is padding); positions exact. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "test_backend.h"
#include "qwen3vl.h"
#include "vla/config.h"
#include "vla/registry.h"

#define TOL 1e-4

const vla_plugin_desc *vla_plugin_entry(void); /* the plugin, linked in statically */

static char path_buf[1024];
static const char *fixture(const char *rel) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", fixtures_dir(), rel);
    return path_buf;
}

typedef struct env_t {
    vla_backend *backend;
    vla_weights *weights;
    vla_config *node;
    q3_config cfg;
    const vla_backbone_vtable *vt;
    void *bb;
    vla_params *params;
    vla_ctx *ctx;
} env_t;

static double worst_case; /* over every comparison of the current case */

static void compare(const char *what, const float *ours, const float *ref, size_t n, size_t row, const uint8_t *mask) {
    double e = rel_error(ours, ref, n, row, mask);
    if (e > worst_case || e != e) worst_case = e;
    printf("  %-26s rel error %.2e\n", what, e);
    CHECK_MSG(e <= TOL, "%s: relative error %.3g exceeds %g", what, e, TOL);
}

static float *download(env_t *E, const vla_tensor *t) {
    size_t n = (size_t)vla_tensor_numel(t);
    float *h = malloc(n * sizeof *h + 1);
    CHECK_OK(vla_to_host(E->ctx, t, h, n * sizeof *h));
    return h;
}

/* The vision tower alone, on the case's own pixel_values. */
static void check_vision(env_t *E, vla_weights *cw, const int32_t *grid_raw, int n_images) {
    q3_vision_weights vw = {0};
    vw.blocks = calloc((size_t)E->cfg.vision.depth, sizeof *vw.blocks);
    vla_params *p;
    CHECK_OK(vla_params_create(&p));
    CHECK_OK(q3_vision_declare(&E->cfg, &vw, p));
    vla_params_load_options o = {false, true, VLA_DTYPE_COUNT};
    CHECK_OK(vla_params_load(p, E->weights, E->backend, &o));
    int64_t ps[2];
    float *pv = fixture_read(cw, "pixel_values", VLA_F32, ps, NULL);
    q3_grid grids[8];
    for (int i = 0; i < n_images; i++) grids[i] = (q3_grid){grid_raw[3 * i], grid_raw[3 * i + 1], grid_raw[3 * i + 2]};
    vla_tensor embeds, ds[Q3_MAX_DEEPSTACK];
    CHECK_OK(vla_ctx_reset(E->ctx));
    CHECK_OK(q3_vision_forward(&E->cfg, &vw, E->ctx, pv, ps[0], grids, n_images, &embeds, ds));
    if (!test_failures) {
        int64_t es[2];
        float *ref = fixture_read(cw, "vision.image_embeds", VLA_F32, es, NULL);
        float *ours = download(E, &embeds);
        CHECK(embeds.shape[0] == es[0] && embeds.shape[1] == es[1]);
        compare("vision.image_embeds", ours, ref, (size_t)(es[0] * es[1]), 1, NULL);
        free(ref);
        free(ours);
        for (int j = 0; j < E->cfg.vision.n_deepstack; j++) {
            char name[64];
            snprintf(name, sizeof name, "vision.deepstack.%d", j);
            ref = fixture_read(cw, name, VLA_F32, NULL, NULL);
            ours = download(E, &ds[j]);
            compare(name, ours, ref, (size_t)(es[0] * es[1]), 1, NULL);
            free(ref);
            free(ours);
        }
    }
    free(pv);
    vla_params_destroy(p);
    free(vw.blocks);
}

static void check_positions(env_t *E, vla_weights *cw, const int32_t *ids, const uint8_t *mask, int B, int S,
                            const int32_t *grid_raw, int n_images) {
    q3_grid grids[8];
    for (int i = 0; i < n_images; i++) grids[i] = (q3_grid){grid_raw[3 * i], grid_raw[3 * i + 1], grid_raw[3 * i + 2]};
    int64_t *pos = malloc(sizeof *pos * 3 * B * S), delta[8];
    int64_t *ref = fixture_read(cw, "position_ids", VLA_I64, NULL, NULL);
    int64_t *ref_delta = fixture_read(cw, "rope_deltas", VLA_I64, NULL, NULL);
    CHECK_OK(q3_rope_index(&E->cfg, ids, mask, B, S, grids, n_images, pos, delta));
    CHECK(ref && ref_delta && memcmp(pos, ref, sizeof *pos * 3 * B * S) == 0);
    for (int b = 0; ref_delta && b < B; b++) CHECK_MSG(delta[b] == ref_delta[b], "rope delta %lld, reference %lld",
                                                       (long long)delta[b], (long long)ref_delta[b]);
    free(pos);
    free(ref);
    free(ref_delta);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static void run_case(env_t *E, const char *file) {
    char name[256];
    snprintf(name, sizeof name, "qwen3vl/%s", file);
    vla_weights *cw = NULL;
    CHECK_OK(vla_weights_open(fixture(name), NULL, NULL, &cw));
    if (test_failures) return;
    printf("%s\n", file);
    worst_case = 0;
    int64_t is[2], gs[2];
    int32_t *ids = fixture_read(cw, "input_ids", VLA_I32, is, NULL);
    uint8_t *mask = fixture_read(cw, "attention_mask", VLA_U8, NULL, NULL);
    int32_t *grid = fixture_read(cw, "image_grid_thw", VLA_I32, gs, NULL);
    int B = (int)is[0], S = (int)is[1], n_images = (int)gs[0], D = E->cfg.text.hidden, V = E->cfg.text.vocab;
    check_vision(E, cw, grid, n_images);
    check_positions(E, cw, ids, mask, B, S, grid, n_images);

    /* the examples as a caller hands them over: unpadded ids, raw images */
    vla_image images[8];
    uint8_t *pixels[8];
    for (int k = 0; k < n_images; k++) {
        int64_t sh[3];
        snprintf(name, sizeof name, "image.%d", k);
        pixels[k] = fixture_read(cw, name, VLA_U8, sh, NULL);
        images[k] = (vla_image){(int32_t)sh[0], (int32_t)sh[1], 3, pixels[k]};
    }
    vla_vlm_example ex[4];
    int next_image = 0;
    for (int b = 0; b < B; b++) {
        int pad = 0, blocks = 0;
        while (!mask[b * S + pad]) pad++;
        for (int i = pad; i + 1 < S; i++)
            blocks += ids[b * S + i] == E->cfg.vision_start_id && ids[b * S + i + 1] == E->cfg.image_token_id;
        ex[b] = (vla_vlm_example){ids + b * S + pad, S - pad, images + next_image, blocks};
        next_image += blocks;
    }
    CHECK(next_image == n_images);

    vla_vlm_out out;
    CHECK_OK(vla_ctx_reset(E->ctx));
    CHECK_OK(E->vt->encode(E->bb, E->ctx, ex, B, VLA_VLM_HIDDEN_ALL | VLA_VLM_FINAL_NORM | VLA_VLM_LOGITS, &out));
    if (test_failures) return;
    CHECK(out.batch == B && out.seq_len == S && out.n_hidden == E->cfg.text.layers + 1);
    CHECK(memcmp(out.host_ids, ids, sizeof *ids * B * S) == 0 && memcmp(out.host_mask, mask, (size_t)B * S) == 0);
    size_t n = (size_t)B * S * D;
    for (int k = 0; k < out.n_hidden; k++) {
        snprintf(name, sizeof name, "hidden_states.%d", k);
        float *ref = fixture_read(cw, name, VLA_F32, NULL, NULL), *ours = download(E, &out.hidden[k]);
        compare(name, ours, ref, n, (size_t)D, mask);
        free(ref);
        free(ours);
    }
    float *ref = fixture_read(cw, "last_hidden_state", VLA_F32, NULL, NULL), *ours = download(E, &out.final);
    compare("final norm", ours, ref, n, (size_t)D, mask);
    free(ref);
    free(ours);
    /* Pin the semantics (docs/hidden-states.md): entries 1..3 include the
     * DeepStack addition, the last entry is not final-normed. */
    int L = E->cfg.text.layers;
    for (int k = 1; k <= L; k++) {
        snprintf(name, sizeof name, k < L ? "layer_out_raw.%d" : "last_hidden_state", k - 1);
        ref = fixture_read(cw, name, VLA_F32, NULL, NULL);
        ours = download(E, &out.hidden[k]);
        double e = ref ? rel_error(ours, ref, n, (size_t)D, mask) : 0;
        if (k <= E->cfg.vision.n_deepstack || k == L)
            CHECK_MSG(e > 1e-2, "hidden_states.%d matches %s: the semantics changed", k, name);
        free(ref);
        free(ours);
    }
    float *all_logits = fixture_read(cw, "logits", VLA_F32, NULL, NULL), *lg = download(E, &out.logits);
    float *last = malloc(sizeof *last * B * V);
    for (int b = 0; b < B; b++) memcpy(last + b * V, all_logits + ((size_t)b * S + S - 1) * V, sizeof *last * V);
    compare("logits (last position)", lg, last, (size_t)B * V, 1, NULL);

    int64_t gen_shape[2];
    int32_t *gen = fixture_read(cw, "generated_ids", VLA_I32, gen_shape, NULL);
    float *gen_logits = fixture_read(cw, "generated_logits", VLA_F32, NULL, NULL);
    if (gen && gen_logits && B == 1) {
        int steps = (int)gen_shape[1], same = 1;
        int32_t tok = argmax(lg, V);
        for (int k = 0; k < steps; k++) {
            same &= tok == gen[k];
            if (k + 1 == steps) break;
            vla_vlm_out so;
            CHECK_OK(E->vt->step(E->bb, E->ctx, &tok, &so));
            if (test_failures) break;
            float *sl = download(E, &so.logits);
            snprintf(name, sizeof name, "greedy step %d logits", k + 1);
            compare(name, sl, gen_logits + (size_t)(k + 1) * V, (size_t)V, 1, NULL);
            tok = argmax(sl, V);
            free(sl);
        }
        printf("  greedy tokens %s the reference (%d tokens)\n", same ? "match" : "DIFFER from", steps);
        CHECK_MSG(same, "greedy tokens differ from transformers' generate()");
    }
    printf("  worst relative error of the case: %.2e (tolerance %.0e)\n", worst_case, TOL);
    free(gen);
    free(gen_logits);
    free(all_logits);
    free(lg);
    free(last);
    for (int k = 0; k < n_images; k++) free(pixels[k]);
    free(ids);
    free(mask);
    free(grid);
    vla_weights_close(cw);
}

/* A StarVLA-style copy of the tiny checkpoint: every name under
 * "qwen_vl_interface.model." plus a stored lm_head.weight (a state_dict
 * holds tied weights twice; here a copy of the embedding appended to the data
 * section). It must load strictly under that prefix and give the same logits. */
static int write_prefixed_copy(const char *dst) {
    FILE *f = fopen(fixture("qwen3vl/tiny/model.safetensors"), "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)size);
    size_t got = bytes ? fread(bytes, 1, (size_t)size, f) : 0;
    fclose(f);
    uint64_t hlen = 0;
    for (int i = 7; got == (size_t)size && i >= 0; i--) hlen = hlen << 8 | bytes[i];
    cJSON *in = got == (size_t)size ? cJSON_ParseWithLength((const char *)bytes + 8, (size_t)hlen) : NULL, *out = cJSON_CreateObject();
    const cJSON *e;
    size_t data_len = (size_t)size - 8 - hlen;
    double head[2] = {0, 0};
    cJSON_ArrayForEach(e, in) {
        char name[512];
        snprintf(name, sizeof name, "%s%s", strcmp(e->string, "__metadata__") ? "qwen_vl_interface.model." : "", e->string);
        cJSON_AddItemToObject(out, name, cJSON_Duplicate(e, 1));
        if (strcmp(e->string, "model.language_model.embed_tokens.weight") == 0) {
            cJSON *copy = cJSON_Duplicate(e, 1), *offs = cJSON_GetObjectItem(copy, "data_offsets");
            head[0] = cJSON_GetArrayItem(offs, 0)->valuedouble;
            head[1] = cJSON_GetArrayItem(offs, 1)->valuedouble;
            cJSON_ReplaceItemInObject(copy, "data_offsets",
                                      cJSON_CreateDoubleArray((double[]){(double)data_len, data_len + head[1] - head[0]}, 2));
            cJSON_AddItemToObject(out, "qwen_vl_interface.model.lm_head.weight", copy);
        }
    }
    char *header = cJSON_PrintUnformatted(out);
    int rc = -1;
    FILE *o = header ? fopen(dst, "wb") : NULL;
    if (o) {
        size_t n = strlen(header), padded = (n + 7) / 8 * 8;
        unsigned char len8[8];
        for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(padded >> (8 * i));
        fwrite(len8, 1, 8, o);
        fwrite(header, 1, n, o);
        for (size_t i = n; i < padded; i++) fputc(' ', o);
        fwrite(bytes + 8 + hlen, 1, data_len, o);
        fwrite(bytes + 8 + hlen + (size_t)head[0], 1, (size_t)(head[1] - head[0]), o);
        rc = fclose(o);
    }
    free(header);
    cJSON_Delete(in);
    cJSON_Delete(out);
    free(bytes);
    return rc;
}

static void check_starvla_layout(env_t *E) {
    char path[] = "/tmp/test-qwen3vl-XXXXXX.safetensors";
    int fd = mkstemps(path, 12);
    if (fd < 0 || close(fd) || write_prefixed_copy(path)) {
        CHECK_MSG(0, "cannot write %s", path);
        return;
    }
    vla_weights *w = NULL;
    vla_params *p = NULL;
    void *bb = NULL;
    vla_plugin_env env = {E->node, E->node, E->backend, "."};
    CHECK_OK(vla_weights_open(path, NULL, NULL, &w));
    CHECK_OK(E->vt->create(&env, &bb));
    CHECK_OK(vla_params_create(&p));
    if (!test_failures) {
        CHECK_OK(vla_params_set_prefix(p, "qwen_vl_interface.model."));
        CHECK_OK(E->vt->declare_params(bb, p));
        CHECK_OK(vla_params_load(p, w, E->backend, NULL));
    }
    if (!test_failures) {
        int32_t ids[] = {2001, 872, 198, 1500, 42, 7, 2002, 198, 2001, 1091, 198};
        vla_vlm_example ex = {ids, 11, NULL, 0};
        vla_vlm_out a, b;
        CHECK_OK(vla_ctx_reset(E->ctx));
        CHECK_OK(E->vt->encode(E->bb, E->ctx, &ex, 1, VLA_VLM_LOGITS, &a));
        CHECK_OK(E->vt->encode(bb, E->ctx, &ex, 1, VLA_VLM_LOGITS, &b));
        if (!test_failures) {
            float *la = download(E, &a.logits), *lb = download(E, &b.logits);
            CHECK_MSG(memcmp(la, lb, sizeof *la * E->cfg.text.vocab) == 0,
                      "the StarVLA-prefixed copy gives different logits");
            printf("StarVLA-prefixed checkpoint with a stored lm_head: loads strictly, same logits\n");
            free(la);
            free(lb);
        }
    }
    vla_params_destroy(p);
    if (bb) E->vt->destroy(bb);
    vla_weights_close(w);
    unlink(path);
}

int main(int argc, char **argv) {
    if (argc != 2) return fprintf(stderr, "usage: test-qwen3vl-fidelity BACKEND.so\n"), 2;
    env_t E = {0};
    E.backend = test_backend_open(argv[1], "");
    CHECK(E.backend != NULL);
    if (test_failures) return test_finish("test-qwen3vl-fidelity");
    printf("backend: %s\n", E.backend->name);
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "model_dir: %s/qwen3vl/tiny\nmin_pixels: 4096\nmax_pixels: 8192\n", fixtures_dir());
    CHECK_OK(vla_config_parse(yaml, strlen(yaml), "test.yaml", &E.node));
    vla_plugin_env env = {E.node, E.node, E.backend, "."};
    CHECK_OK(q3_config_load(&env, &E.cfg));
    E.vt = vla_plugin_entry()->vtable;
    CHECK_OK(E.vt->create(&env, &E.bb));
    CHECK_OK(vla_weights_open(fixture("qwen3vl/tiny"), NULL, NULL, &E.weights));
    CHECK_OK(vla_params_create(&E.params));
    if (test_failures) return test_finish("test-qwen3vl-fidelity");
    CHECK_OK(E.vt->declare_params(E.bb, E.params));
    CHECK_OK(vla_params_load(E.params, E.weights, E.backend, NULL)); /* strict; lm_head falls back to the embedding */
    CHECK_OK(vla_ctx_create(E.backend, 1 << 20, &E.ctx));
    if (test_failures) return test_finish("test-qwen3vl-fidelity");
    run_case(&E, "case1_single_image.safetensors");
    run_case(&E, "case2_two_images.safetensors");
    run_case(&E, "case3_batch_left_pad.safetensors");
    check_starvla_layout(&E);
    vla_ctx_destroy(E.ctx);
    vla_params_destroy(E.params);
    E.vt->destroy(E.bb);
    vla_weights_close(E.weights);
    vla_config_free(E.node);
    vla_backend_destroy(E.backend);
    return test_finish("test-qwen3vl-fidelity");
}
