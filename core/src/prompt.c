/* StarVLA's prompt construction, driven by the `vla.prompt` config section.
 * References (github.com/starVLA/starVLA): share_tools.state2str_transform
 * and add_discretized_state_to_instruction, QwenOFT.predict_action's suffix,
 * QWen3.py build_qwenvl_inputs (CoT_prompt and the chat messages). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vla/action_config.h"
#include "vla/prompt.h"

/* Qwen3-VL Instruct chat template pieces, used when a key is absent. */
#define QWEN_USER_PREFIX "<|im_start|>user\n"
#define QWEN_IMAGE_BLOCK "<|vision_start|><|image_pad|><|vision_end|>"
#define QWEN_IMAGE_PAD "<|image_pad|>"
#define QWEN_USER_SUFFIX "<|im_end|>\n<|im_start|>assistant\n"

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static vla_status sb_add(sbuf *b, const char *s, size_t len) {
    if (len > SIZE_MAX / 2 - b->n) return vla_error(VLA_ERR_OOM, "prompt: text too large");
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return vla_error(VLA_ERR_OOM, "prompt: out of memory for %zu bytes", cap);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
    return VLA_OK;
}

static vla_status sb_str(sbuf *b, const char *s) { return sb_add(b, s, strlen(s)); }

/* Append tmpl with each "{key}" replaced by its value, scanning left to
 * right without rescanning replacements (Python's str.replace). */
static vla_status sb_subst(sbuf *b, const char *tmpl, const char *const *keys, const char *const *vals,
                           size_t nkeys) {
    const char *run = tmpl;
    for (const char *p = tmpl; *p;) {
        size_t k = 0, klen = 0;
        for (; k < nkeys; k++) {
            klen = strlen(keys[k]);
            if (strncmp(p, keys[k], klen) == 0) break;
        }
        if (k == nkeys) {
            p++;
            continue;
        }
        VLA_TRY(sb_add(b, run, (size_t)(p - run)));
        VLA_TRY(sb_str(b, vals[k]));
        p += klen;
        run = p;
    }
    return sb_str(b, run);
}

static vla_status dup_or_null(const char *s, char **out) {
    *out = NULL;
    if (!s) return VLA_OK;
    if (!(*out = strdup(s))) return vla_error(VLA_ERR_OOM, "prompt: out of memory");
    return VLA_OK;
}

static vla_status load_strings(const vla_config *root, vla_prompt_recipe *r) {
    static const struct {
        const char *key, *dflt;
        size_t off;
    } keys[] = {
        {"vla.prompt.user_prefix", QWEN_USER_PREFIX, offsetof(vla_prompt_recipe, user_prefix)},
        {"vla.prompt.image_block", QWEN_IMAGE_BLOCK, offsetof(vla_prompt_recipe, image_block)},
        {"vla.prompt.image_pad", QWEN_IMAGE_PAD, offsetof(vla_prompt_recipe, image_pad)},
        {"vla.prompt.user_suffix", QWEN_USER_SUFFIX, offsetof(vla_prompt_recipe, user_suffix)},
        {"vla.prompt.action_suffix", NULL, offsetof(vla_prompt_recipe, action_suffix)},
        {"vla.prompt.placeholder", NULL, offsetof(vla_prompt_recipe, placeholder)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *s;
        VLA_TRY(vla_config_string_or(root, keys[i].key, keys[i].dflt, &s));
        VLA_TRY(dup_or_null(s, (char **)((char *)r + keys[i].off)));
    }
    /* Present-but-empty CoT_prompt counts: StarVLA tests for the key. */
    if (vla_config_has(root, "datasets.vla_data.CoT_prompt")) {
        const char *cot;
        VLA_TRY(vla_config_string(root, "datasets.vla_data.CoT_prompt", &cot));
        VLA_TRY(dup_or_null(cot, &r->cot_template));
    }
    return VLA_OK;
}

static vla_status load_recipe(const vla_config *root, vla_prompt_recipe *r) {
    bool state_in_prompt;
    int64_t bins;
    VLA_TRY(load_strings(root, r));
    VLA_TRY(vla_config_bool_or(root, "vla.prompt.state_in_prompt", false, &state_in_prompt));
    VLA_TRY(vla_config_int_or(root, "vla.prompt.state_bins", 256, &bins));
    if (bins < 0 || bins > 1 << 20)
        return vla_error(VLA_ERR_INVALID_ARG, "vla.prompt.state_bins: %" PRId64 " is outside [0, 1048576]", bins);
    r->state_in_prompt = state_in_prompt;
    r->state_bins = (int32_t)bins;
    if (r->action_suffix && (strstr(r->action_suffix, "{horizon}") || strstr(r->action_suffix, "{placeholders}"))) {
        vla_action_config ac;
        vla_status st = vla_action_config_read(root, &ac);
        if (st != VLA_OK) return vla_error_context(st, "vla.prompt.action_suffix needs the action horizon");
        r->horizon = ac.horizon;
        if (strstr(r->action_suffix, "{placeholders}") && !r->placeholder)
            return vla_error(VLA_ERR_NOT_FOUND, "vla.prompt.action_suffix uses {placeholders} but "
                             "vla.prompt.placeholder is not set");
    }
    return VLA_OK;
}

vla_status vla_prompt_recipe_load(const vla_config *root, vla_prompt_recipe *out) {
    if (!root || !out) return vla_error(VLA_ERR_INVALID_ARG, "vla_prompt_recipe_load: NULL argument");
    memset(out, 0, sizeof *out);
    vla_status st = load_recipe(root, out);
    if (st != VLA_OK) vla_prompt_recipe_free(out);
    return st;
}

void vla_prompt_recipe_free(vla_prompt_recipe *r) {
    if (!r) return;
    free(r->user_prefix);
    free(r->image_block);
    free(r->image_pad);
    free(r->user_suffix);
    free(r->cot_template);
    free(r->action_suffix);
    free(r->placeholder);
    memset(r, 0, sizeof *r);
}

/* numpy.digitize(x, linspace(-1, 1, bins + 1)[:-1]) - 1: the number of left
 * edges <= x, minus one. Edges are computed as numpy's linspace does
 * (k * step + start, in two roundings), compared in double. */
static int32_t state_bin(float x, int32_t bins) {
    double step = 2.0 / bins, v = x;
    int32_t lo = 0, hi = bins; /* answer (count of edges <= v) in [lo, hi] */
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        double edge = (double)mid * step;
        edge += -1.0;
        if (edge <= v) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

static vla_status state_text(sbuf *b, const char *instruction, const float *state, size_t dim, int32_t bins) {
    if (bins < 1) return vla_error(VLA_ERR_INVALID_ARG, "prompt state text: %d bins (need >= 1)", bins);
    if (dim && !state) return vla_error(VLA_ERR_INVALID_ARG, "prompt state text: NULL state");
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(state[i]))
            return vla_error(VLA_ERR_INVALID_ARG, "prompt state text: state[%zu] is %s; the state must be finite",
                             i, isnan(state[i]) ? "NaN" : state[i] > 0 ? "+inf" : "-inf");
    VLA_TRY(sb_str(b, instruction));
    VLA_TRY(sb_str(b, " [STATE] "));
    for (size_t i = 0; i < dim; i++) {
        char num[16];
        int n = snprintf(num, sizeof num, i ? " %d" : "%d", state_bin(state[i], bins));
        VLA_TRY(sb_add(b, num, (size_t)n));
    }
    return sb_str(b, " [ACTION]");
}

vla_status vla_prompt_state_text(const char *instruction, const float *state, size_t dim, int32_t bins,
                                 char **out) {
    if (!instruction || !out) return vla_error(VLA_ERR_INVALID_ARG, "vla_prompt_state_text: NULL argument");
    sbuf b = {0};
    vla_status st = state_text(&b, instruction, state, dim, bins);
    if (st != VLA_OK) {
        free(b.p);
        return st;
    }
    *out = b.p;
    return VLA_OK;
}

/* instruction -> state text -> action suffix, into b. */
static vla_status render_instruction(const vla_prompt_recipe *r, const char *instruction, const float *state,
                                     size_t state_dim, sbuf *b) {
    if (state && r->state_in_prompt && r->state_bins > 0)
        VLA_TRY(state_text(b, instruction, state, state_dim, r->state_bins));
    else
        VLA_TRY(sb_str(b, instruction));
    if (!r->action_suffix) return VLA_OK;
    sbuf ph = {0};
    char horizon[16];
    snprintf(horizon, sizeof horizon, "%d", r->horizon);
    vla_status st = sb_str(&ph, "");
    for (int32_t i = 0; st == VLA_OK && r->placeholder && i < r->horizon; i++) st = sb_str(&ph, r->placeholder);
    const char *keys[] = {"{horizon}", "{placeholders}"}, *vals[] = {horizon, ph.p};
    if (st == VLA_OK) st = sb_subst(b, r->action_suffix, keys, vals, 2);
    free(ph.p);
    return st;
}

static vla_status render(const vla_prompt_recipe *r, const char *instruction, const float *state,
                         size_t state_dim, int32_t n_images, sbuf *out) {
    sbuf text = {0};
    vla_status st = render_instruction(r, instruction, state, state_dim, &text);
    if (st == VLA_OK) st = sb_str(out, r->user_prefix ? r->user_prefix : "");
    for (int32_t i = 0; st == VLA_OK && i < n_images; i++) st = sb_str(out, r->image_block ? r->image_block : "");
    if (st == VLA_OK && r->cot_template) {
        const char *key = "{instruction}";
        const char *val = text.p;
        st = sb_subst(out, r->cot_template, &key, &val, 1);
    } else if (st == VLA_OK) {
        st = sb_add(out, text.p, text.n);
    }
    if (st == VLA_OK) st = sb_str(out, r->user_suffix ? r->user_suffix : "");
    free(text.p);
    return st;
}

vla_status vla_prompt_render(const vla_prompt_recipe *r, const char *instruction, const float *state,
                             size_t state_dim, int32_t n_images, char **out) {
    if (!r || !instruction || !out) return vla_error(VLA_ERR_INVALID_ARG, "vla_prompt_render: NULL argument");
    if (n_images < 0) return vla_error(VLA_ERR_INVALID_ARG, "vla_prompt_render: %d images", n_images);
    sbuf b = {0};
    vla_status st = render(r, instruction, state, state_dim, n_images, &b);
    if (st != VLA_OK) {
        free(b.p);
        return st;
    }
    *out = b.p;
    return VLA_OK;
}

vla_status vla_prompt_expand_images(const vla_tokens *in, int32_t image_pad_id, const int32_t *tokens_per_image,
                                    int32_t n_images, vla_tokens *out) {
    if (!in || !out || in == out || (n_images > 0 && !tokens_per_image) || n_images < 0)
        return vla_error(VLA_ERR_INVALID_ARG, "vla_prompt_expand_images: bad arguments");
    int32_t found = 0;
    for (size_t i = 0; i < in->n; i++) found += in->ids[i] == image_pad_id;
    if (found != n_images)
        return vla_error(VLA_ERR_SHAPE, "prompt has %d image placeholder tokens (id %d) but %d images were given",
                         found, image_pad_id, n_images);
    for (int32_t k = 0; k < n_images; k++)
        if (tokens_per_image[k] < 1)
            return vla_error(VLA_ERR_INVALID_ARG, "image %d: %d vision tokens (need >= 1)", k, tokens_per_image[k]);
    size_t n0 = out->n;
    int32_t k = 0;
    for (size_t i = 0; i < in->n; i++) {
        int32_t reps = in->ids[i] == image_pad_id ? tokens_per_image[k++] : 1;
        for (int32_t j = 0; j < reps; j++) {
            vla_status st = vla_tokens_push(out, in->ids[i]);
            if (st != VLA_OK) {
                out->n = n0;
                return st;
            }
        }
    }
    return VLA_OK;
}
