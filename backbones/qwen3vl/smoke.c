/* smoke-qwen3vl: loads only the Qwen3-VL backbone (and the CPU backend),
 * builds a tiny random model from a tiny config.json, encodes a batch of two
 * prompts with images twice, decodes one token, and checks shapes,
 * finiteness and determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vla/backbone.h"
#include "vla/config.h"
#include "vla/ops.h"
#include "vla/registry.h"
#include "vla/rng.h"

enum { VOCAB = 300, HIDDEN = 48, LAYERS = 2, IMG = 290, VSTART = 288, VEND = 289, PAD = 280 };

static const char *config_json =
    "{\"model_type\": \"qwen3_vl\", \"image_token_id\": 290, \"video_token_id\": 291,\n"
    " \"vision_start_token_id\": 288, \"vision_end_token_id\": 289, \"tie_word_embeddings\": true,\n"
    " \"vision_config\": {\"depth\": 2, \"hidden_size\": 32, \"num_heads\": 2, \"intermediate_size\": 64,\n"
    "   \"patch_size\": 16, \"temporal_patch_size\": 2, \"spatial_merge_size\": 2, \"in_channels\": 3,\n"
    "   \"num_position_embeddings\": 64, \"out_hidden_size\": 48, \"deepstack_visual_indexes\": [0, 1],\n"
    "   \"hidden_act\": \"gelu_pytorch_tanh\"},\n"
    " \"text_config\": {\"hidden_size\": 48, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,\n"
    "   \"num_key_value_heads\": 2, \"head_dim\": 16, \"intermediate_size\": 96, \"vocab_size\": 300,\n"
    "   \"rms_norm_eps\": 1e-6, \"rope_theta\": 5000000, \"bos_token_id\": 280, \"hidden_act\": \"silu\",\n"
    "   \"rope_scaling\": {\"rope_type\": \"default\", \"mrope_section\": [4, 2, 2], \"mrope_interleaved\": true}}}\n";

static const char *preprocessor_json =
    "{\"size\": {\"shortest_edge\": 4096, \"longest_edge\": 16384}, \"patch_size\": 16,\n"
    " \"temporal_patch_size\": 2, \"merge_size\": 2, \"image_mean\": [0.5, 0.5, 0.5], \"image_std\": [0.5, 0.5, 0.5]}\n";

static int write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

/* "<ids> <vision_start> <image pads> <vision_end> <ids>" */
static int32_t prompt(int32_t *ids, int32_t first, int32_t n_text, int32_t n_image_tokens) {
    int32_t n = 0;
    ids[n++] = first;
    ids[n++] = VSTART;
    for (int32_t i = 0; i < n_image_tokens; i++) ids[n++] = IMG;
    ids[n++] = VEND;
    for (int32_t i = 0; i < n_text; i++) ids[n++] = (first + 7 * i) % PAD;
    return n;
}

static void encode(const vla_backbone_vtable *vt, void *bb, vla_ctx *c, const vla_vlm_example *ex, float *last,
                   float *logits, int32_t *seq) {
    vla_vlm_out out;
    CHECK_OK(vla_ctx_reset(c));
    CHECK_OK(vt->encode(bb, c, ex, 2, VLA_VLM_HIDDEN_ALL | VLA_VLM_LOGITS | VLA_VLM_FINAL_NORM, &out));
    if (test_failures) return;
    *seq = out.seq_len;
    CHECK(out.batch == 2 && out.n_hidden == LAYERS + 1 && out.hidden_size == HIDDEN);
    for (int k = 0; k <= LAYERS; k++)
        CHECK(out.hidden[k].data && out.hidden[k].shape[0] == 2 && out.hidden[k].shape[1] == out.seq_len &&
              out.hidden[k].shape[2] == HIDDEN);
    CHECK(out.logits.ndim == 2 && out.logits.shape[0] == 2 && out.logits.shape[1] == VOCAB);
    CHECK(out.final.data && out.attention_mask.data && out.host_mask && out.host_ids);
    CHECK(out.host_mask[0] == 0 && out.host_mask[out.seq_len] == 1); /* example 0 is the shorter, left-padded one */
    CHECK_OK(vla_to_host(c, &out.hidden[LAYERS], last, sizeof(float) * 2 * out.seq_len * HIDDEN));
    CHECK_OK(vla_to_host(c, &out.logits, logits, sizeof(float) * 2 * VOCAB));
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: smoke-qwen3vl BACKBONE.so BACKEND.so\n"), 2;
    const vla_plugin_desc *pd, *bd;
    CHECK_OK(vla_plugin_load_file(argv[1], &pd));
    CHECK_OK(vla_plugin_load_file(argv[2], &bd));
    if (test_failures) return test_finish("smoke-qwen3vl");
    CHECK(pd->kind == VLA_PLUGIN_BACKBONE && strcmp(pd->name, "qwen3vl") == 0);

    char dir[] = "/tmp/smoke-qwen3vl-XXXXXX";
    if (!mkdtemp(dir) || write_file(dir, "config.json", config_json) || write_file(dir, "preprocessor_config.json",
                                                                                     preprocessor_json))
        return fprintf(stderr, "cannot write the tiny config into %s\n", dir), 1;
    char yaml[600];
    snprintf(yaml, sizeof yaml, "model_dir: %s\n", dir);
    vla_config *node;
    CHECK_OK(vla_config_parse(yaml, strlen(yaml), "smoke.yaml", &node));
    vla_backend *backend;
    CHECK_OK(vla_backend_create(bd->vtable, "cpu", NULL, &backend));
    const vla_backbone_vtable *vt = pd->vtable;
    vla_plugin_env env = {node, node, backend, "."};
    void *bb = NULL;
    CHECK_OK(vt->create(&env, &bb));
    if (test_failures) return test_finish("smoke-qwen3vl");
    vla_backbone_info info;
    CHECK_OK(vt->info(bb, &info));
    CHECK(info.hidden_size == HIDDEN && info.num_layers == LAYERS && info.vocab_size == VOCAB &&
          info.image_token_id == IMG && info.pad_token_id == PAD);

    vla_params *params;
    CHECK_OK(vla_params_create(&params));
    CHECK_OK(vt->declare_params(bb, params));
    CHECK_OK(vla_params_init_random(params, backend, VLA_DTYPE_COUNT, 7));

    /* random images: 50x100 (-> 64x96 after smart_resize, 6 tokens), 40x40 (-> 64x64, 4 tokens) */
    static uint8_t pix_a[50 * 100 * 3], pix_b[40 * 40 * 3];
    vla_rng r;
    vla_rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof pix_a; i++) pix_a[i] = (uint8_t)(vla_rng_next_u64(&r) & 255);
    for (size_t i = 0; i < sizeof pix_b; i++) pix_b[i] = (uint8_t)(vla_rng_next_u64(&r) & 255);
    vla_image img_a = {50, 100, 3, pix_a}, img_b = {40, 40, 3, pix_b};
    int32_t ta = 0, tb = 0;
    CHECK_OK(vt->image_tokens(bb, &img_a, &ta));
    CHECK_OK(vt->image_tokens(bb, &img_b, &tb));
    CHECK_MSG(ta == 6 && tb == 4, "image tokens %d and %d, expected 6 and 4", ta, tb);

    int32_t ids0[64], ids1[64];
    vla_vlm_example ex[2] = {{ids0, prompt(ids0, 11, 3, ta), &img_a, 1}, {ids1, prompt(ids1, 12, 9, tb), &img_b, 1}};
    vla_ctx *c;
    CHECK_OK(vla_ctx_create(backend, 1 << 20, &c));
    static float last1[2 * 64 * HIDDEN], last2[2 * 64 * HIDDEN], lg1[2 * VOCAB], lg2[2 * VOCAB];
    int32_t s1 = 0, s2 = 0;
    encode(vt, bb, c, ex, last1, lg1, &s1);
    encode(vt, bb, c, ex, last2, lg2, &s2);
    CHECK(s1 == ex[1].n_ids && s2 == s1);
    CHECK(all_finite(last1, (size_t)2 * s1 * HIDDEN) && all_finite(lg1, 2 * VOCAB));
    CHECK(memcmp(last1, last2, sizeof(float) * 2 * s1 * HIDDEN) == 0 && memcmp(lg1, lg2, sizeof lg1) == 0);

    /* one greedy step on the cache */
    int32_t next[2] = {5, 6};
    vla_vlm_out so;
    CHECK_OK(vt->step(bb, c, next, &so));
    float step_logits[2 * VOCAB];
    if (!test_failures) {
        CHECK(so.logits.shape[0] == 2 && so.logits.shape[1] == VOCAB);
        CHECK_OK(vla_to_host(c, &so.logits, step_logits, sizeof step_logits));
        CHECK(all_finite(step_logits, 2 * VOCAB));
    }
    /* a wrong placeholder count is a clear error, not a crash */
    int32_t bad_ids[64];
    vla_vlm_example bad = {bad_ids, prompt(bad_ids, 11, 3, ta - 1), &img_a, 1};
    vla_vlm_out bo;
    CHECK_ERR(vt->encode(bb, c, &bad, 1, VLA_VLM_LOGITS, &bo), VLA_ERR_INVALID_ARG, "image placeholder");

    vla_ctx_destroy(c);
    vla_params_destroy(params);
    vt->destroy(bb);
    vla_backend_destroy(backend);
    vla_config_free(node);
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
    unlink(path);
    rmdir(dir);
    return test_finish("smoke-qwen3vl");
}
