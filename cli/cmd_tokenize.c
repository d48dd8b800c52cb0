/* `vla tokenize`: the ids and pieces of a string, or of the full prompt a
 * framework builds (chat template, state text, action suffix, CoT, images
 * expanded), for debugging a prompt mismatch against the Python stack. */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numbers.h"
#include "commands.h"
#include "overrides.h"
#include "tokenizer_cli.h"
#include "vla/framework.h"
#include "vla/prompt.h"

#define MAX_IMAGES 16
#define MAX_STATE 256

void help_tokenize(FILE *f) {
    fprintf(f,
            "usage: vla tokenize [--tokenizer tokenizer.json] [--config FILE] [--KEY.PATH VALUE ...]\n"
            "                    [--prompt [--image HxW | --image-tokens N ...] [--state \"a b c\"]] TEXT\n\n"
            "Prints one line per token: index, id, vocabulary string, and the decoded\n"
            "text (escaped). With --prompt, TEXT is an instruction and the whole prompt\n"
            "the framework builds is shown: the recipe comes from the config\n"
            "(vla.prompt.*, datasets.vla_data.CoT_prompt, the action horizon), e.g.\n"
            "--framework.name QwenOFT; without one, the Qwen3-VL chat template alone.\n"
            "Each --image HxW adds an image whose token count Qwen3-VL's smart_resize\n"
            "gives (224x224 -> 64); --image-tokens N adds one with N tokens.\n"
            "--state gives the proprio state (normalised to [-1, 1]) for the state text.\n"
            "The tokenizer is --tokenizer, else vla.tokenizer.file of the config, else\n"
            "the real Qwen vocabulary in ../shared/qwen-tokenizer ($VLA_SHARED_DIR).\n");
}

vla_status cli_tokenizer_open(const char *plugin, const char *file, const char *base_dir, cli_tokenizer *t) {
    memset(t, 0, sizeof *t);
    const char *shared = getenv("VLA_SHARED_DIR");
    if (file && file[0] != '/' && base_dir)
        snprintf(t->path, sizeof t->path, "%s/%s", base_dir, file);
    else if (file)
        snprintf(t->path, sizeof t->path, "%s", file);
    else if (shared)
        snprintf(t->path, sizeof t->path, "%s/qwen-tokenizer/tokenizer.json", shared);
    else
        snprintf(t->path, sizeof t->path, "%s/../shared/qwen-tokenizer/tokenizer.json", VLA_SOURCE_ROOT);
    if (!file && access(t->path, R_OK) != 0)
        return vla_error(VLA_ERR_NOT_FOUND, "no tokenizer given and the Qwen vocabulary %s is absent; "
                         "pass --tokenizer tokenizer.json", t->path);
    char resolved[PATH_MAX];
    if (realpath(t->path, resolved)) snprintf(t->path, sizeof t->path, "%s", resolved);
    /* Single-quoted YAML keeps any file name intact. */
    char yaml[2 * PATH_MAX + 16], *p = yaml;
    p += sprintf(p, "file: '");
    for (const char *s = t->path; *s; s++) {
        if (*s == '\'') *p++ = '\'';
        *p++ = *s;
    }
    strcpy(p, "'\n");
    vla_config *node = NULL;
    const vla_plugin_desc *desc;
    VLA_TRY(vla_config_parse(yaml, strlen(yaml), "--tokenizer", &node));
    vla_status s = vla_registry_open(&t->registry);
    if (s == VLA_OK) s = vla_registry_get(t->registry, VLA_PLUGIN_TOKENIZER, plugin ? plugin : "qwen-bpe", &desc);
    if (s == VLA_OK) {
        t->vt = desc->vtable;
        vla_plugin_env env = {node, node, NULL, NULL};
        s = t->vt->create(&env, &t->self);
    }
    vla_config_free(node);
    if (s != VLA_OK) cli_tokenizer_close(t);
    return s;
}

void cli_tokenizer_close(cli_tokenizer *t) {
    if (t->vt && t->self) t->vt->destroy(t->self);
    if (t->registry) vla_registry_close(t->registry);
    memset(t, 0, sizeof *t);
}

/* Qwen3-VL's smart_resize (factor 32, 65536..16777216 pixels; Python round
 * is half-to-even, hence nearbyint): merged vision tokens = H' * W' / 1024. */
static int32_t qwen3vl_image_tokens(int h, int w) {
    const double factor = 32, min_px = 65536, max_px = 16777216;
    double hb = nearbyint(h / factor) * factor, wb = nearbyint(w / factor) * factor;
    if (hb * wb > max_px) {
        double beta = sqrt((double)h * w / max_px);
        hb = fmax(factor, floor(h / beta / factor) * factor);
        wb = fmax(factor, floor(w / beta / factor) * factor);
    } else if (hb * wb < min_px) {
        double beta = sqrt(min_px / ((double)h * w));
        hb = ceil(h * beta / factor) * factor;
        wb = ceil(w * beta / factor) * factor;
    }
    return (int32_t)(hb * wb / 1024);
}

/* Text for a terminal: controls and quotes escaped, other UTF-8 as is. */
static void print_escaped(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p == '\n') printf("\\n");
        else if (*p == '\r') printf("\\r");
        else if (*p == '\t') printf("\\t");
        else if (*p < 0x20 || *p == 0x7f) printf("\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) printf("\\u%04x", *++p); /* C1 controls */
        else putchar(*p);
    }
    putchar('"');
}

static int print_tokens(const cli_tokenizer *t, const vla_tokens *ids) {
    for (size_t i = 0; i < ids->n; i++) {
        char *text = NULL;
        if (t->vt->decode(t->self, &ids->ids[i], 1, &text) != VLA_OK) return cli_fail();
        const char *tok = t->vt->id_to_token(t->self, ids->ids[i]);
        int width = 0; /* pad by characters, not bytes */
        for (const char *c = tok ? tok : "?"; *c; c++) width += ((unsigned char)*c & 0xC0) != 0x80;
        printf("%6zu %7d  %s%*s ", i, ids->ids[i], tok ? tok : "?", width < 16 ? 16 - width : 0, "");
        print_escaped(text);
        putchar('\n');
        free(text);
    }
    printf("# %zu tokens\n", ids->n);
    return VLA_EXIT_OK;
}

typedef struct tok_args {
    const char *tokenizer, *config, *text;
    int prompt, n_images, n_state;
    int32_t image_tokens[MAX_IMAGES];
    float state[MAX_STATE];
    int has_state;
    cli_overrides ov;
} tok_args;

static int parse_args(int argc, char **argv, tok_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (cli_overrides_take(&a->ov, argc, argv, &i)) continue;
        int has_value = i + 1 < argc;
        int h, w, n;
        char tail;
        if (strcmp(arg, "--prompt") == 0) {
            a->prompt = 1;
        } else if (strcmp(arg, "--tokenizer") == 0 && has_value) {
            a->tokenizer = argv[++i];
        } else if (strcmp(arg, "--config") == 0 && has_value) {
            a->config = argv[++i];
        } else if (strcmp(arg, "--image") == 0 && has_value) {
            if (sscanf(argv[++i], "%dx%d%c", &h, &w, &tail) != 2 || h < 1 || w < 1 || h > 1 << 16 ||
                w > 1 << 16 || fmax(h, w) / fmin(h, w) > 200 || a->n_images == MAX_IMAGES)
                return cli_usage_error("tokenize", "--image wants HxW (e.g. 224x224, aspect ratio <= 200), "
                                       "at most %d images", MAX_IMAGES);
            a->image_tokens[a->n_images++] = qwen3vl_image_tokens(h, w);
        } else if (strcmp(arg, "--image-tokens") == 0 && has_value) {
            if (sscanf(argv[++i], "%d%c", &n, &tail) != 1 || n < 1 || a->n_images == MAX_IMAGES)
                return cli_usage_error("tokenize", "--image-tokens wants a positive count");
            a->image_tokens[a->n_images++] = n;
        } else if (strcmp(arg, "--state") == 0 && has_value) {
            a->has_state = 1;
            if (!cli_parse_floats(argv[++i], a->state, MAX_STATE, &a->n_state))
                return cli_usage_error("tokenize", "--state wants up to %d numbers, e.g. \"0.1 -0.5 1\"", MAX_STATE);
        } else if (arg[0] == '-' && arg[1] == '-') {
            return cli_usage_error("tokenize", "unknown option '%s'", arg);
        } else if (!a->text) {
            a->text = arg;
        } else {
            return cli_usage_error("tokenize", "one TEXT only (quote it)");
        }
    }
    if (!a->text) return cli_usage_error("tokenize", "TEXT is required");
    if (!a->prompt && (a->n_images || a->has_state))
        return cli_usage_error("tokenize", "--image, --image-tokens and --state go with --prompt");
    return VLA_EXIT_OK;
}

/* Render the framework prompt of a->text, then tokenise and expand it. */
static vla_status prompt_ids(const vla_config *cfg, const cli_tokenizer *t, const tok_args *a, vla_tokens *ids) {
    vla_prompt_recipe r;
    VLA_TRY(vla_prompt_recipe_load(cfg, &r));
    if (a->has_state && !(r.state_in_prompt && r.state_bins > 0))
        fprintf(stderr, "vla tokenize: note: --state ignored (vla.prompt.state_in_prompt is off in this config)\n");
    char *text = NULL;
    vla_tokens raw = {0};
    int32_t pad = -1;
    vla_status s = vla_prompt_render(&r, a->text, a->has_state ? a->state : NULL, (size_t)a->n_state, a->n_images,
                                     &text);
    if (s == VLA_OK) {
        printf("# prompt: ");
        print_escaped(text);
        putchar('\n');
        s = t->vt->encode(t->self, text, strlen(text), &raw);
    }
    if (s == VLA_OK) s = t->vt->token_to_id(t->self, r.image_pad, &pad);
    if (s == VLA_OK) s = vla_prompt_expand_images(&raw, pad, a->image_tokens, a->n_images, ids);
    free(text);
    vla_tokens_free(&raw);
    vla_prompt_recipe_free(&r);
    return s;
}

/* Which tokenizer: --tokenizer, else the config's vla.tokenizer.file
 * (relative to the config file), else the default Qwen vocabulary. */
static vla_status open_for(const vla_config *cfg, const tok_args *a, cli_tokenizer *t) {
    char base[PATH_MAX], resolved[PATH_MAX];
    const char *file = a->tokenizer, *plugin = NULL, *base_dir = NULL;
    if (!file && vla_config_has(cfg, "vla.tokenizer.file")) {
        VLA_TRY(vla_config_string(cfg, "vla.tokenizer.file", &file));
        if (a->config && realpath(a->config, resolved)) base_dir = strcpy(base, dirname(resolved));
    }
    if (vla_config_has(cfg, "vla.tokenizer.plugin")) VLA_TRY(vla_config_string(cfg, "vla.tokenizer.plugin", &plugin));
    return cli_tokenizer_open(plugin, file, base_dir, t);
}

static int run_tokenize(tok_args *a) {
    vla_framework_options fo = {a->config, (const char *const *)a->ov.items, a->ov.n, NULL};
    vla_config *cfg = NULL;
    if (vla_framework_resolve(&fo, &cfg) != VLA_OK) return cli_fail();
    cli_tokenizer t;
    vla_tokens ids = {0};
    vla_status s = open_for(cfg, a, &t);
    if (s == VLA_OK) {
        printf("# tokenizer: %s\n", t.path);
        s = a->prompt ? prompt_ids(cfg, &t, a, &ids) : t.vt->encode(t.self, a->text, strlen(a->text), &ids);
    }
    int rc = s == VLA_OK ? print_tokens(&t, &ids) : cli_fail();
    vla_tokens_free(&ids);
    cli_tokenizer_close(&t);
    vla_config_free(cfg);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    tok_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == VLA_EXIT_OK) rc = run_tokenize(&a);
    cli_overrides_free(&a.ov);
    return rc;
}
