/* vla generate: greedy text generation with a backbone plugin from a Hugging
 * Face model folder, a plain check that the VLM sees and speaks:
 *   vla generate --model-dir D --tokenizer T --image I "Describe this image."
 * The prompt is the Qwen3-VL Instruct chat template (no system message; one
 * image block per --image, then the text; generation prompt appended). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "vla/backbone.h"
#include "vla/config.h"
#include "vla/ops.h"
#include "vla/registry.h"
#include "vla/tokenizer.h"

#define MAX_IMAGES 16

typedef struct gen_opts {
    const char *model_dir, *weights, *tokenizer, *backend, *backbone, *prompt;
    const char *images[MAX_IMAGES];
    int n_images;
    long max_new;
} gen_opts;

/* Everything a run holds, released in one place. */
typedef struct gen_state {
    vla_registry *reg;
    vla_backend *backend;
    vla_config *bb_node, *tok_node;
    const vla_backbone_vtable *bb;
    const vla_tokenizer_vtable *tk;
    void *bb_self, *tk_self;
    vla_params *params;
    vla_weights *weights;
    vla_ctx *ctx;
    vla_image_buf images[MAX_IMAGES];
    vla_tokens prompt, generated;
    char *text;
} gen_state;

void help_generate(FILE *f) {
    fprintf(f,
            "usage: vla generate --model-dir DIR --tokenizer FILE [options] \"PROMPT\"\n\n"
            "Greedy decoding with the Qwen3-VL backbone: prints the model's answer to PROMPT about the\n"
            "given images, formatted with the Instruct chat template.\n\n"
            "options:\n"
            "  --model-dir DIR        Hugging Face model folder (config.json, preprocessor_config.json)\n"
            "  --weights PATH         weights (safetensors file/index, .pt, folder); default: --model-dir\n"
            "  --tokenizer PATH       tokenizer.json, or a folder holding it\n"
            "  --image FILE           a PNG or JPEG; repeat for several images (in prompt order)\n"
            "  --max-new-tokens N     stop after N tokens (default 128)\n"
            "  --backend NAME         compute backend (default cpu)\n"
            "  --backbone NAME        backbone plugin (default qwen3vl)\n");
}

static int parse(int argc, char **argv, gen_opts *o) {
    *o = (gen_opts){.backend = "cpu", .backbone = "qwen3vl", .max_new = 128};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--model-dir") == 0) dst = &o->model_dir;
        else if (strcmp(a, "--weights") == 0) dst = &o->weights;
        else if (strcmp(a, "--tokenizer") == 0) dst = &o->tokenizer;
        else if (strcmp(a, "--backend") == 0) dst = &o->backend;
        else if (strcmp(a, "--backbone") == 0) dst = &o->backbone;
        else if (strcmp(a, "--image") == 0) {
            if (o->n_images == MAX_IMAGES) return cli_usage_error("generate", "at most %d images", MAX_IMAGES);
            dst = &o->images[o->n_images++];
        } else if (strcmp(a, "--max-new-tokens") == 0) {
            char *end = NULL;
            if (i + 1 < argc) o->max_new = strtol(argv[i + 1], &end, 10);
            if (i + 1 >= argc || !end || *end || o->max_new < 1 || o->max_new > 1000000)
                return cli_usage_error("generate", "--max-new-tokens needs a positive integer");
            i++;
            continue;
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_usage_error("generate", "unknown option '%s'", a);
        } else if (o->prompt) {
            return cli_usage_error("generate", "one prompt only (quote it): unexpected '%s'", a);
        } else {
            o->prompt = a;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("generate", "%s needs a value", a);
        *dst = argv[++i];
    }
    if (!o->model_dir) return cli_usage_error("generate", "--model-dir is required");
    if (!o->tokenizer) return cli_usage_error("generate", "--tokenizer is required");
    if (!o->prompt) return cli_usage_error("generate", "a prompt is required");
    if (!o->weights) o->weights = o->model_dir;
    return VLA_EXIT_OK;
}

/* A one-key config node holding a path verbatim (single-quoted YAML). */
static vla_status path_node(const char *key, const char *path, vla_config **out) {
    size_t n = strlen(path);
    char *q = malloc(2 * n + 3), *p = q;
    if (!q) return vla_error(VLA_ERR_OOM, "generate: out of memory");
    *p++ = '\'';
    for (const char *s = path; *s; s++) {
        if (*s == '\'') *p++ = '\'';
        *p++ = *s;
    }
    *p++ = '\'';
    *p = '\0';
    vla_status s = (*out = vla_config_new_map()) ? vla_config_set(*out, key, q, "generate")
                                                 : vla_error(VLA_ERR_OOM, "generate: out of memory");
    free(q);
    return s;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static vla_status load(const gen_opts *o, gen_state *g) {
    const vla_plugin_desc *bd, *td;
    VLA_TRY(vla_registry_open(&g->reg));
    VLA_TRY(vla_registry_open_backend(g->reg, o->backend, NULL, &g->backend));
    VLA_TRY(vla_registry_get(g->reg, VLA_PLUGIN_BACKBONE, o->backbone, &bd));
    VLA_TRY(vla_registry_get(g->reg, VLA_PLUGIN_TOKENIZER, "qwen-bpe", &td));
    g->bb = bd->vtable;
    g->tk = td->vtable;
    VLA_TRY(path_node("model_dir", o->model_dir, &g->bb_node));
    vla_plugin_env env = {g->bb_node, g->bb_node, g->backend, "."};
    VLA_TRY(g->bb->create(&env, &g->bb_self));
    VLA_TRY(vla_params_create(&g->params));
    VLA_TRY(g->bb->declare_params(g->bb_self, g->params));
    VLA_TRY(vla_weights_open(o->weights, NULL, NULL, &g->weights));
    VLA_TRY(vla_params_load(g->params, g->weights, g->backend, NULL));

    struct stat st;
    char tok_path[4096];
    snprintf(tok_path, sizeof tok_path, "%s%s", o->tokenizer,
             stat(o->tokenizer, &st) == 0 && S_ISDIR(st.st_mode) ? "/tokenizer.json" : "");
    VLA_TRY(path_node("file", tok_path, &g->tok_node));
    vla_plugin_env tenv = {g->tok_node, g->tok_node, NULL, "."};
    VLA_TRY(g->tk->create(&tenv, &g->tk_self));
    for (int i = 0; i < o->n_images; i++) VLA_TRY(vla_image_load(o->images[i], &g->images[i]));
    return vla_ctx_create(g->backend, 64u << 20, &g->ctx);
}

/* Render and tokenise the chat, then expand the k-th image placeholder into
 * as many copies as image k has features. */
static vla_status build_prompt(const gen_opts *o, gen_state *g) {
    static const char user[] = "<|im_start|>user\n", block[] = "<|vision_start|><|image_pad|><|vision_end|>",
                      tail[] = "<|im_end|>\n<|im_start|>assistant\n";
    size_t len = strlen(user) + (size_t)o->n_images * strlen(block) + strlen(o->prompt) + strlen(tail) + 1;
    char *text = malloc(len);
    if (!text) return vla_error(VLA_ERR_OOM, "generate: out of memory");
    strcpy(text, user);
    for (int i = 0; i < o->n_images; i++) strcat(text, block);
    strcat(text, o->prompt);
    strcat(text, tail);
    vla_tokens raw = {0};
    int32_t pad;
    vla_backbone_info info;
    vla_status s = g->tk->encode(g->tk_self, text, strlen(text), &raw);
    free(text);
    if (s == VLA_OK) s = g->tk->token_to_id(g->tk_self, "<|image_pad|>", &pad);
    if (s == VLA_OK) s = g->bb->info(g->bb_self, &info);
    if (s == VLA_OK && pad != info.image_token_id)
        s = vla_error(VLA_ERR_INVALID_ARG, "generate: the tokenizer's <|image_pad|> is %d but the model expects %d", pad,
                      info.image_token_id);
    int k = 0;
    for (size_t i = 0; s == VLA_OK && i < raw.n; i++) {
        int32_t copies = 1;
        if (raw.ids[i] == pad && k < o->n_images) s = g->bb->image_tokens(g->bb_self, &g->images[k++].img, &copies);
        for (int32_t c = 0; s == VLA_OK && c < copies; c++) s = vla_tokens_push(&g->prompt, raw.ids[i]);
    }
    vla_tokens_free(&raw);
    return s;
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static vla_status generate(const gen_opts *o, gen_state *g) {
    vla_backbone_info info;
    VLA_TRY(g->bb->info(g->bb_self, &info));
    if (!g->bb->step) return vla_error(VLA_ERR_UNSUPPORTED, "generate: backbone '%s' cannot decode", o->backbone);
    int32_t stop[2] = {-1, -1};
    if (g->tk->token_to_id(g->tk_self, "<|im_end|>", &stop[0]) != VLA_OK) stop[0] = -1;
    if (g->tk->token_to_id(g->tk_self, "<|endoftext|>", &stop[1]) != VLA_OK) stop[1] = -1;
    vla_clear_error();
    float *logits = malloc(sizeof *logits * (size_t)info.vocab_size);
    if (!logits) return vla_error(VLA_ERR_OOM, "generate: out of memory");
    vla_image *imgs = malloc(sizeof *imgs * (size_t)(o->n_images + 1));
    for (int i = 0; imgs && i < o->n_images; i++) imgs[i] = g->images[i].img;
    vla_vlm_example ex = {g->prompt.ids, (int32_t)g->prompt.n, imgs, o->n_images};
    vla_vlm_out out;
    double t0 = now_ms(), t1 = t0;
    vla_status s = imgs ? g->bb->encode(g->bb_self, g->ctx, &ex, 1, VLA_VLM_LOGITS, &out)
                        : vla_error(VLA_ERR_OOM, "generate: out of memory");
    for (long n = 0; s == VLA_OK && n < o->max_new; n++) {
        s = vla_to_host(g->ctx, &out.logits, logits, sizeof *logits * (size_t)info.vocab_size);
        if (n == 0) t1 = now_ms();
        int32_t tok = argmax(logits, info.vocab_size);
        if (s != VLA_OK || tok == stop[0] || tok == stop[1]) break;
        s = vla_tokens_push(&g->generated, tok);
        if (s == VLA_OK && n + 1 < o->max_new) {
            s = vla_ctx_reset(g->ctx);
            if (s == VLA_OK) s = g->bb->step(g->bb_self, g->ctx, &tok, &out);
        }
    }
    if (s == VLA_OK) s = g->tk->decode(g->tk_self, g->generated.ids, g->generated.n, &g->text);
    if (s == VLA_OK)
        fprintf(stderr, "prompt %zu tokens, prefill %.1f ms, %zu new tokens in %.1f ms\n", g->prompt.n, t1 - t0,
                g->generated.n, now_ms() - t1);
    free(logits);
    free(imgs);
    return s;
}

static void release(gen_state *g) {
    free(g->text);
    vla_tokens_free(&g->prompt);
    vla_tokens_free(&g->generated);
    for (int i = 0; i < MAX_IMAGES; i++) vla_image_buf_free(&g->images[i]);
    vla_ctx_destroy(g->ctx);
    vla_params_destroy(g->params);
    vla_weights_close(g->weights);
    if (g->bb_self) g->bb->destroy(g->bb_self);
    if (g->tk_self) g->tk->destroy(g->tk_self);
    vla_config_free(g->bb_node);
    vla_config_free(g->tok_node);
    vla_backend_destroy(g->backend);
    vla_registry_close(g->reg);
}

int cmd_generate(int argc, char **argv) {
    gen_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != VLA_EXIT_OK) return rc;
    gen_state g;
    memset(&g, 0, sizeof g);
    vla_status s = load(&o, &g);
    if (s == VLA_OK) s = build_prompt(&o, &g);
    if (s == VLA_OK) s = generate(&o, &g);
    if (s == VLA_OK) printf("%s\n", g.text);
    rc = s == VLA_OK ? VLA_EXIT_OK : cli_fail();
    release(&g);
    return rc;
}
