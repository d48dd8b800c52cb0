/* Model configuration: every size comes from the model's own config.json
 * (transformers' class defaults fill keys that are absent, as
 * Qwen3VLConfig does), the image processor from preprocessor_config.json,
 * and a few plugin options from the `vla.backbone` config section. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwen3vl.h"
#include "vla/config.h"

#define MAX_JSON_BYTES (16 * 1024 * 1024)

typedef struct json_doc {
    cJSON *root;
    char path[PATH_MAX];
} json_doc;

static vla_status read_json(const char *path, bool optional, json_doc *doc) {
    memset(doc, 0, sizeof *doc);
    snprintf(doc->path, sizeof doc->path, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (optional && errno == ENOENT) return VLA_OK;
        return vla_error(VLA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    char *text = malloc(MAX_JSON_BYTES + 1);
    size_t n = text ? fread(text, 1, MAX_JSON_BYTES + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    vla_status s = VLA_OK;
    if (!text)
        s = vla_error(VLA_ERR_OOM, "%s: out of memory", path);
    else if (err)
        s = vla_error(VLA_ERR_IO, "%s: read failed", path);
    else if (n > MAX_JSON_BYTES)
        s = vla_error(VLA_ERR_LIMIT, "%s: larger than %d bytes", path, MAX_JSON_BYTES);
    if (s == VLA_OK) {
        doc->root = cJSON_ParseWithLength(text, n);
        if (!doc->root) {
            const char *at = cJSON_GetErrorPtr();
            s = vla_error(VLA_ERR_PARSE, "%s: invalid JSON near byte %td", path, at ? at - text : (ptrdiff_t)0);
        } else if (!cJSON_IsObject(doc->root)) {
            s = vla_error(VLA_ERR_PARSE, "%s: expected a JSON object at the top level", path);
        }
    }
    free(text);
    if (s != VLA_OK) {
        cJSON_Delete(doc->root);
        doc->root = NULL;
    }
    return s;
}

/* Integer member `key` of `obj` (named `where` in messages); dflt when absent
 * (required keys pass has_default = false). */
static vla_status get_int(const json_doc *d, const cJSON *obj, const char *where, const char *key, bool has_default,
                          int64_t dflt, int64_t lo, int64_t hi, int64_t *out) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        if (!has_default) return vla_error(VLA_ERR_NOT_FOUND, "%s: %s%s is missing", d->path, where, key);
        *out = dflt;
        return VLA_OK;
    }
    double x = v->valuedouble;
    if (!cJSON_IsNumber(v) || x != floor(x) || x < (double)lo || x > (double)hi)
        return vla_error(VLA_ERR_TYPE, "%s: %s%s: expected an integer in [%lld, %lld]", d->path, where, key,
                         (long long)lo, (long long)hi);
    *out = (int64_t)x;
    return VLA_OK;
}

/* A positive size (lo = 1) or a token id (lo = 0), with a default. */
static vla_status get_i32(const json_doc *d, const cJSON *obj, const char *where, const char *key, int64_t lo,
                          int64_t dflt, int32_t *out) {
    int64_t v = 0;
    VLA_TRY(get_int(d, obj, where, key, true, dflt, lo, 1 << 30, &v));
    *out = (int32_t)v;
    return VLA_OK;
}

static vla_status get_double(const json_doc *d, const cJSON *obj, const char *where, const char *key, double dflt,
                             double *out) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return VLA_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return vla_error(VLA_ERR_TYPE, "%s: %s%s: expected a number", d->path, where, key);
    *out = v->valuedouble;
    return VLA_OK;
}

static vla_status get_bool(const json_doc *d, const cJSON *obj, const char *where, const char *key, bool dflt,
                           bool *out) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return VLA_OK;
    }
    if (!cJSON_IsBool(v)) return vla_error(VLA_ERR_TYPE, "%s: %s%s: expected true or false", d->path, where, key);
    *out = cJSON_IsTrue(v);
    return VLA_OK;
}

static const char *get_string(const cJSON *obj, const char *key) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON array of up to cap numbers; *n = its length. Absent: *n = 0. */
static vla_status get_numbers(const json_doc *d, const cJSON *obj, const char *where, const char *key, double *out,
                              int cap, int *n) {
    const cJSON *a = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    *n = 0;
    if (!a || cJSON_IsNull(a)) return VLA_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > cap)
        return vla_error(VLA_ERR_TYPE, "%s: %s%s: expected a list of at most %d numbers", d->path, where, key, cap);
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e)) return vla_error(VLA_ERR_TYPE, "%s: %s%s: expected numbers", d->path, where, key);
        out[(*n)++] = e->valuedouble;
    }
    return VLA_OK;
}

static vla_status read_vision(const json_doc *d, const cJSON *v, q3_vision_config *c) {
    const char *w = "vision_config.";
    if (!cJSON_IsObject(v)) return vla_error(VLA_ERR_NOT_FOUND, "%s: vision_config is missing", d->path);
    /* defaults: transformers' Qwen3VLVisionConfig */
    VLA_TRY(get_i32(d, v, w, "depth", 1, 27, &c->depth));
    VLA_TRY(get_i32(d, v, w, "hidden_size", 1, 1152, &c->hidden));
    VLA_TRY(get_i32(d, v, w, "num_heads", 1, 16, &c->heads));
    VLA_TRY(get_i32(d, v, w, "intermediate_size", 1, 4304, &c->mlp));
    VLA_TRY(get_i32(d, v, w, "in_channels", 1, 3, &c->in_channels));
    VLA_TRY(get_i32(d, v, w, "patch_size", 1, 16, &c->patch));
    VLA_TRY(get_i32(d, v, w, "temporal_patch_size", 1, 2, &c->temporal_patch));
    VLA_TRY(get_i32(d, v, w, "spatial_merge_size", 1, 2, &c->merge));
    VLA_TRY(get_i32(d, v, w, "out_hidden_size", 1, 3584, &c->out_hidden));
    VLA_TRY(get_i32(d, v, w, "num_position_embeddings", 1, 2304, &c->num_pos));
    if (c->hidden % c->heads || (c->hidden / c->heads) % 4)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: vision hidden_size %d is not num_heads %d times a multiple of 4",
                         d->path, c->hidden, c->heads);
    c->head_dim = c->hidden / c->heads;
    c->grid_side = (int32_t)sqrt((double)c->num_pos);
    if (c->grid_side < 2)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: vision num_position_embeddings %d is too small", d->path, c->num_pos);
    if (c->in_channels != 3)
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: vision in_channels %d (only RGB, 3, is supported)", d->path,
                         c->in_channels);
    const char *act = get_string(v, "hidden_act");
    if (!act || strcmp(act, "gelu_pytorch_tanh") == 0)
        c->gelu_tanh = true;
    else if (strcmp(act, "gelu") == 0)
        c->gelu_tanh = false;
    else
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: vision_config.hidden_act \"%s\" (supported: gelu_pytorch_tanh, gelu)",
                         d->path, act);
    double ds[Q3_MAX_DEEPSTACK];
    int n;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(v, "deepstack_visual_indexes");
    if (!list) {
        ds[0] = 8, ds[1] = 16, ds[2] = 24, n = 3;
    } else {
        VLA_TRY(get_numbers(d, v, w, "deepstack_visual_indexes", ds, Q3_MAX_DEEPSTACK, &n));
    }
    c->n_deepstack = n;
    for (int i = 0; i < n; i++) {
        if (ds[i] != floor(ds[i]) || ds[i] < 0 || ds[i] >= c->depth)
            return vla_error(VLA_ERR_INVALID_ARG, "%s: vision_config.deepstack_visual_indexes[%d] = %g is not a block index "
                             "below depth %d", d->path, i, ds[i], c->depth);
        c->deepstack[i] = (int32_t)ds[i];
        for (int k = 0; k < i; k++)
            if (c->deepstack[k] == c->deepstack[i])
                return vla_error(VLA_ERR_INVALID_ARG, "%s: vision_config.deepstack_visual_indexes lists block %d twice",
                                 d->path, c->deepstack[i]);
    }
    return VLA_OK;
}

static vla_status read_text(const json_doc *d, const cJSON *t, q3_text_config *c) {
    const char *w = "text_config.";
    if (!cJSON_IsObject(t)) return vla_error(VLA_ERR_NOT_FOUND, "%s: text_config is missing", d->path);
    /* defaults: transformers' Qwen3VLTextConfig */
    VLA_TRY(get_i32(d, t, w, "vocab_size", 1, 151936, &c->vocab));
    VLA_TRY(get_i32(d, t, w, "hidden_size", 1, 4096, &c->hidden));
    VLA_TRY(get_i32(d, t, w, "intermediate_size", 1, 22016, &c->mlp));
    VLA_TRY(get_i32(d, t, w, "num_hidden_layers", 1, 32, &c->layers));
    VLA_TRY(get_i32(d, t, w, "num_attention_heads", 1, 32, &c->heads));
    VLA_TRY(get_i32(d, t, w, "num_key_value_heads", 1, c->heads, &c->kv_heads));
    VLA_TRY(get_i32(d, t, w, "head_dim", 1, 128, &c->head_dim));
    VLA_TRY(get_double(d, t, w, "rms_norm_eps", 1e-6, &c->eps));
    VLA_TRY(get_double(d, t, w, "rope_theta", 5000000.0, &c->rope_theta));
    VLA_TRY(get_bool(d, t, w, "attention_bias", false, &c->attention_bias));
    if (c->heads % c->kv_heads)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: text num_attention_heads %d is not a multiple of num_key_value_heads %d",
                         d->path, c->heads, c->kv_heads);
    const char *act = get_string(t, "hidden_act");
    if (act && strcmp(act, "silu") != 0)
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: text_config.hidden_act \"%s\" (only silu is supported)", d->path, act);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(t, "rope_scaling");
    double sec[3] = {24, 20, 20};
    int n = 3;
    if (cJSON_IsObject(rs)) {
        const char *type = get_string(rs, "rope_type");
        if (!type) type = get_string(rs, "type");
        if (type && strcmp(type, "default") != 0)
            return vla_error(VLA_ERR_UNSUPPORTED, "%s: text_config.rope_scaling.rope_type \"%s\" (only default)",
                             d->path, type);
        if (cJSON_GetObjectItemCaseSensitive(rs, "mrope_section"))
            VLA_TRY(get_numbers(d, rs, "text_config.rope_scaling.", "mrope_section", sec, 3, &n));
    }
    if (n != 3 || sec[0] + sec[1] + sec[2] != c->head_dim / 2 || sec[0] < 0 || sec[1] < 0 || sec[2] < 0)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: text_config.rope_scaling.mrope_section must be 3 sizes summing to "
                         "head_dim/2 = %d", d->path, c->head_dim / 2);
    for (int i = 0; i < 3; i++) c->mrope_section[i] = (int)sec[i];
    return VLA_OK;
}

/* The image processor; mean/std are fused with rescale_factor in float32
 * exactly as Qwen2VLImageProcessorFast does ((x - m / r) / (s / r)). */
static vla_status read_processor(const json_doc *d, const q3_vision_config *v, q3_image_config *c) {
    const char *w = "";
    const cJSON *r = d->root;
    int64_t patch = 0, tps = 0, merge = 0;
    VLA_TRY(get_int(d, r, w, "patch_size", true, v->patch, 1, 1 << 16, &patch));
    VLA_TRY(get_int(d, r, w, "temporal_patch_size", true, v->temporal_patch, 1, 1 << 16, &tps));
    VLA_TRY(get_int(d, r, w, "merge_size", true, v->merge, 1, 1 << 16, &merge));
    if (patch != v->patch || tps != v->temporal_patch || merge != v->merge)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: patch %lld / temporal %lld / merge %lld differ from the model's "
                         "vision_config (%d / %d / %d)", d->path, (long long)patch, (long long)tps, (long long)merge,
                         v->patch, v->temporal_patch, v->merge);
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(r, "size");
    int64_t lim = INT64_C(1) << 40;
    VLA_TRY(get_int(d, size, "size.", "shortest_edge", true, 56 * 56, 1, lim, &c->min_pixels));
    VLA_TRY(get_int(d, size, "size.", "longest_edge", true, 28 * 28 * 1280, 1, lim, &c->max_pixels));
    VLA_TRY(get_int(d, r, w, "min_pixels", true, c->min_pixels, 1, lim, &c->min_pixels));
    VLA_TRY(get_int(d, r, w, "max_pixels", true, c->max_pixels, 1, lim, &c->max_pixels));
    bool do_rescale = true, do_normalize = true;
    VLA_TRY(get_bool(d, r, w, "do_rescale", true, &do_rescale));
    VLA_TRY(get_bool(d, r, w, "do_normalize", true, &do_normalize));
    if (!do_rescale || !do_normalize)
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: only do_rescale = do_normalize = true is supported", d->path);
    double rescale = 0, mean[3] = {0.48145466, 0.4578275, 0.40821073}, std[3] = {0.26862954, 0.26130258, 0.27577711};
    int nm = 3, ns = 3;
    VLA_TRY(get_double(d, r, w, "rescale_factor", 1.0 / 255.0, &rescale));
    if (cJSON_GetObjectItemCaseSensitive(r, "image_mean")) VLA_TRY(get_numbers(d, r, w, "image_mean", mean, 3, &nm));
    if (cJSON_GetObjectItemCaseSensitive(r, "image_std")) VLA_TRY(get_numbers(d, r, w, "image_std", std, 3, &ns));
    if (nm != 3 || ns != 3 || rescale <= 0)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: image_mean/image_std need 3 values and rescale_factor > 0", d->path);
    float inv = (float)(1.0 / rescale);
    for (int i = 0; i < 3; i++) {
        c->mean[i] = (float)mean[i] * inv;
        c->std[i] = (float)std[i] * inv;
        if (!(c->std[i] > 0))
            return vla_error(VLA_ERR_INVALID_ARG, "%s: image_std[%d] must be positive", d->path, i);
    }
    return VLA_OK;
}

static vla_status join_path(char *out, size_t size, const char *dir, const char *name) {
    int n = (name[0] == '/' || !dir || !dir[0]) ? snprintf(out, size, "%s", name)
                                                : snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size) return vla_error(VLA_ERR_INVALID_ARG, "path too long: %s/%s", dir, name);
    return VLA_OK;
}

static void dir_of(const char *path, char *out, size_t size) {
    snprintf(out, size, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(out, size, ".");
}

/* Plugin options from the backbone's config node (and StarVLA's dataset keys). */
static vla_status read_options(const vla_plugin_env *env, q3_config *cfg) {
    const vla_config *node = env->node;
    int64_t v = 0;
    if (node && vla_config_has(node, "min_pixels")) {
        VLA_TRY(vla_config_int(node, "min_pixels", &v));
        cfg->image.min_pixels = v;
    }
    if (node && vla_config_has(node, "max_pixels")) {
        VLA_TRY(vla_config_int(node, "max_pixels", &v));
        cfg->image.max_pixels = v;
    }
    if (cfg->image.min_pixels < 1 || cfg->image.max_pixels < cfg->image.min_pixels)
        return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: min_pixels %lld / max_pixels %lld are not a valid range",
                         (long long)cfg->image.min_pixels, (long long)cfg->image.max_pixels);
    if (node && vla_config_has(node, "pad_token_id")) {
        VLA_TRY(vla_config_int(node, "pad_token_id", &v));
        cfg->pad_id = (int32_t)v;
    }
    /* Pre-resize: the node's image_size is [H, W]; StarVLA's dataset keys are
     * handed to PIL's resize, i.e. (width, height). */
    int64_t size[2];
    size_t n = 0;
    bool pil_order = false;
    if (node && vla_config_has(node, "image_size")) {
        VLA_TRY(vla_config_int_array(node, "image_size", size, 2, &n));
    } else if (env->root && vla_config_has(env->root, "datasets.vla_data.obs_image_size")) {
        VLA_TRY(vla_config_int_array(env->root, "datasets.vla_data.obs_image_size", size, 2, &n));
        pil_order = true;
    } else if (env->root && vla_config_has(env->root, "datasets.vla_data.image_size")) {
        VLA_TRY(vla_config_int_array(env->root, "datasets.vla_data.image_size", size, 2, &n));
        pil_order = true;
    } else {
        n = 2, size[0] = size[1] = 0;
    }
    if (n != 2 || size[0] < 0 || size[1] < 0 || size[0] > 32768 || size[1] > 32768 || (!size[0] != !size[1]))
        return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: image_size must be two positive sizes");
    cfg->image.pre_height = (int32_t)(pil_order ? size[1] : size[0]);
    cfg->image.pre_width = (int32_t)(pil_order ? size[0] : size[1]);
    const char *filter = "bicubic";
    if (node) VLA_TRY(vla_config_string_or(node, "image_resample", "bicubic", &filter));
    if (strcmp(filter, "bicubic") == 0)
        cfg->image.pre_filter = VLA_RESAMPLE_BICUBIC;
    else if (strcmp(filter, "bilinear") == 0)
        cfg->image.pre_filter = VLA_RESAMPLE_BILINEAR;
    else
        return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: image_resample \"%s\" (expected bicubic or bilinear)", filter);
    return VLA_OK;
}

/* pad id: generation_config.json's pad_token_id, else the text bos (Qwen's <|endoftext|>). */
static vla_status read_pad(const char *dir, const json_doc *model, q3_config *cfg) {
    char path[PATH_MAX];
    json_doc gen;
    int64_t v = 0;
    VLA_TRY(join_path(path, sizeof path, dir, "generation_config.json"));
    VLA_TRY(read_json(path, true, &gen));
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(model->root, "text_config");
    vla_status s = get_int(model, text, "text_config.", "bos_token_id", true, -1, -1, INT32_MAX, &v);
    if (s == VLA_OK && gen.root) s = get_int(&gen, gen.root, "", "pad_token_id", true, v, -1, INT32_MAX, &v);
    cJSON_Delete(gen.root);
    VLA_TRY(s);
    cfg->pad_id = (int32_t)v;
    return VLA_OK;
}

vla_status q3_config_load(const vla_plugin_env *env, q3_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    const vla_config *node = env->node;
    const char *model_dir = NULL, *config_json = NULL, *pre_json = NULL;
    if (node) {
        VLA_TRY(vla_config_string_or(node, "model_dir", NULL, &model_dir));
        VLA_TRY(vla_config_string_or(node, "config_json", NULL, &config_json));
        VLA_TRY(vla_config_string_or(node, "preprocessor_json", NULL, &pre_json));
    }
    if (!model_dir && !config_json)
        return vla_error(VLA_ERR_NOT_FOUND, "qwen3vl: the backbone section needs model_dir (a folder with config.json "
                         "and preprocessor_config.json) or config_json");
    char dir[PATH_MAX], cfg_path[PATH_MAX], pre_path[PATH_MAX];
    if (config_json) {
        VLA_TRY(join_path(cfg_path, sizeof cfg_path, env->base_dir, config_json));
        dir_of(cfg_path, dir, sizeof dir);
    } else {
        VLA_TRY(join_path(dir, sizeof dir, env->base_dir, model_dir));
        VLA_TRY(join_path(cfg_path, sizeof cfg_path, dir, "config.json"));
    }
    if (pre_json)
        VLA_TRY(join_path(pre_path, sizeof pre_path, env->base_dir, pre_json));
    else
        VLA_TRY(join_path(pre_path, sizeof pre_path, dir, "preprocessor_config.json"));

    json_doc model, pre = {0};
    VLA_TRY(read_json(cfg_path, false, &model));
    const cJSON *r = model.root;
    vla_status s = VLA_OK;
    const char *type = get_string(r, "model_type");
    if (type && strcmp(type, "qwen3_vl") != 0)
        s = vla_error(VLA_ERR_UNSUPPORTED, "%s: model_type \"%s\" is not qwen3_vl", model.path, type);
    if (s == VLA_OK) s = read_vision(&model, cJSON_GetObjectItemCaseSensitive(r, "vision_config"), &cfg->vision);
    if (s == VLA_OK) s = read_text(&model, cJSON_GetObjectItemCaseSensitive(r, "text_config"), &cfg->text);
    if (s == VLA_OK) s = get_i32(&model, r, "", "image_token_id", 0, 151655, &cfg->image_token_id);
    if (s == VLA_OK) s = get_i32(&model, r, "", "video_token_id", 0, 151656, &cfg->video_token_id);
    if (s == VLA_OK) s = get_i32(&model, r, "", "vision_start_token_id", 0, 151652, &cfg->vision_start_id);
    if (s == VLA_OK) s = get_i32(&model, r, "", "vision_end_token_id", 0, 151653, &cfg->vision_end_id);
    if (s == VLA_OK) {
        bool text_tie = false;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "text_config");
        s = get_bool(&model, t, "text_config.", "tie_word_embeddings", false, &text_tie);
        if (s == VLA_OK) s = get_bool(&model, r, "", "tie_word_embeddings", text_tie, &cfg->tie_embeddings);
    }
    if (s == VLA_OK && cfg->vision.out_hidden != cfg->text.hidden)
        s = vla_error(VLA_ERR_INVALID_ARG, "%s: vision out_hidden_size %d differs from text hidden_size %d", model.path,
                      cfg->vision.out_hidden, cfg->text.hidden);
    if (s == VLA_OK && (cfg->image_token_id >= cfg->text.vocab || cfg->vision_start_id >= cfg->text.vocab))
        s = vla_error(VLA_ERR_INVALID_ARG, "%s: image/vision-start token ids lie outside the vocabulary of %d",
                      model.path, cfg->text.vocab);
    if (s == VLA_OK) s = read_pad(dir, &model, cfg);
    if (s == VLA_OK) s = read_json(pre_path, false, &pre);
    if (s == VLA_OK) s = read_processor(&pre, &cfg->vision, &cfg->image);
    if (s == VLA_OK) s = read_options(env, cfg);
    if (s == VLA_OK && (cfg->pad_id < 0 || cfg->pad_id >= cfg->text.vocab))
        s = vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: pad token id %d is outside the vocabulary of %d (set "
                      "pad_token_id)", cfg->pad_id, cfg->text.vocab);
    cJSON_Delete(model.root);
    cJSON_Delete(pre.root);
    return s;
}
