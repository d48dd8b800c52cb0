/* vla_policy: assembles backbone + head + tokenizer + normalizer from the
 * resolved config and runs predict. The components only meet here, through
 * their vtables; nothing in this file knows about Qwen or DiTs. */
#include "vla/policy.h"

#include <libgen.h>
#include <stddef.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "vla/backbone.h"
#include "vla/config.h"
#include "vla/ctx.h"
#include "vla/framework.h"
#include "vla/head.h"
#include "vla/normalizer.h"
#include "vla/params.h"
#include "vla/prompt.h"
#include "vla/registry.h"
#include "vla/run_folder.h"
#include "vla/stats.h"
#include "vla/tokenizer.h"
#include "vla/weights.h"

#define POLICY_MAX_BATCH 256
#define POLICY_MAX_IMAGES 16

struct vla_policy {
    vla_config *cfg;
    char base_dir[PATH_MAX];
    vla_registry *registry;
    vla_backend *backend;

    const vla_backbone_vtable *bb_vt;
    void *bb;
    const vla_head_vtable *head_vt;
    void *head;
    const vla_tokenizer_vtable *tok_vt;
    void *tok;
    const vla_normalizer_vtable *norm_vt;
    void *norm;

    vla_params *params;
    vla_weights *weights;
    vla_stats *stats;
    vla_prompt_recipe recipe;
    vla_backbone_info bb_info;
    vla_head_info head_info;
    int32_t image_pad_id;
    int32_t placeholder_id; /* first id of the action placeholder text, or -1 */
    int32_t state_dim; /* the state callers pass: the head's, or framework.action_model.state_dim */
    vla_ctx *ctx;

    float *normalized, *actions;
    size_t actions_cap;
};

static void set_base_dir(vla_policy *p, const char *config_path) {
    char resolved[PATH_MAX];
    if (config_path && realpath(config_path, resolved)) {
        snprintf(p->base_dir, sizeof p->base_dir, "%s", dirname(resolved));
    } else if (!getcwd(p->base_dir, sizeof p->base_dir)) {
        snprintf(p->base_dir, sizeof p->base_dir, ".");
    }
}

/* Default a key to a value when the resolved config lacks it. */
static vla_status set_default(vla_config *cfg, const char *path, const char *value) {
    if (vla_config_has(cfg, path)) return VLA_OK;
    return vla_config_set(cfg, path, value, "(policy default)");
}

/* StarVLA run folders and --base-vlm: wire the base VLM folder (config.json,
 * tokenizer.json, preprocessor_config.json) into the components' sections. */
static vla_status apply_base_vlm(vla_policy *p, const char *base_vlm) {
    char quoted[PATH_MAX + 8], path[PATH_MAX + 32];
    if (!base_vlm) {
        if (vla_config_string(p->cfg, "framework.qwenvl.base_vlm", &base_vlm) != VLA_OK) {
            vla_clear_error();
            return VLA_OK;
        }
        if (vla_config_has(p->cfg, "vla.backbone.model_dir")) return VLA_OK;
    }
    char abs_vlm[PATH_MAX];
    if (!realpath(base_vlm, abs_vlm))
        return vla_error(VLA_ERR_NOT_FOUND,
                         "base VLM folder '%s' (framework.qwenvl.base_vlm or --base-vlm) does not "
                         "exist; point --base-vlm at a local Qwen3-VL folder with config.json and "
                         "tokenizer.json",
                         base_vlm);
    /* explicit vla.backbone.model_dir / vla.tokenizer.file settings win */
    snprintf(quoted, sizeof quoted, "'%s'", abs_vlm);
    VLA_TRY(set_default(p->cfg, "vla.backbone.model_dir", quoted));
    snprintf(path, sizeof path, "'%s/tokenizer.json'", abs_vlm);
    return set_default(p->cfg, "vla.tokenizer.file", path);
}

static vla_status get_plugin(vla_policy *p, vla_plugin_kind kind, const char *section,
                             const void **vtable, const vla_config **node) {
    char key[128];
    const char *name;
    snprintf(key, sizeof key, "%s.plugin", section);
    VLA_TRY(vla_config_string(p->cfg, key, &name));
    const vla_plugin_desc *d;
    VLA_TRY(vla_registry_get(p->registry, kind, name, &d));
    *vtable = d->vtable;
    *node = vla_config_get(p->cfg, section);
    return VLA_OK;
}

static vla_plugin_env make_env(vla_policy *p, const vla_config *node) {
    vla_plugin_env env = {p->cfg, node, p->backend, p->base_dir};
    return env;
}

static vla_status resolve_path(const vla_policy *p, const char *path, char *out, size_t cap) {
    if (path[0] == '/')
        snprintf(out, cap, "%s", path);
    else
        snprintf(out, cap, "%s/%s", p->base_dir, path);
    return VLA_OK;
}

static vla_status create_components(vla_policy *p, bool dry_run) {
    const vla_config *node;
    const void *vt;
    vla_plugin_env env;

    VLA_TRY(get_plugin(p, VLA_PLUGIN_BACKBONE, "vla.backbone", &vt, &node));
    p->bb_vt = vt;
    env = make_env(p, node);
    VLA_TRY(p->bb_vt->create(&env, &p->bb));
    VLA_TRY(p->bb_vt->info(p->bb, &p->bb_info));

    VLA_TRY(get_plugin(p, VLA_PLUGIN_HEAD, "vla.head", &vt, &node));
    p->head_vt = vt;
    env = make_env(p, node);
    VLA_TRY(p->head_vt->create(&env, &p->bb_info, &p->head));
    VLA_TRY(p->head_vt->info(p->head, &p->head_info));

    if (dry_run) return VLA_OK; /* a dry run checks weights only: no text needed */

    VLA_TRY(get_plugin(p, VLA_PLUGIN_TOKENIZER, "vla.tokenizer", &vt, &node));
    p->tok_vt = vt;
    env = make_env(p, node);
    VLA_TRY(p->tok_vt->create(&env, &p->tok));

    int64_t state_dim = p->head_info.state_dim;
    if (state_dim == 0)
        VLA_TRY(vla_config_int_or(p->cfg, "framework.action_model.state_dim", p->head_info.action_dim,
                                  &state_dim));
    p->state_dim = (int32_t)state_dim;

    VLA_TRY(vla_prompt_recipe_load(p->cfg, &p->recipe));
    VLA_TRY(p->tok_vt->token_to_id(p->tok, p->recipe.image_pad, &p->image_pad_id));
    p->placeholder_id = -1;
    if (p->recipe.placeholder) { /* StarVLA: the first id of tokenizing the placeholder */
        vla_tokens t = {0};
        vla_status s = p->tok_vt->encode(p->tok, p->recipe.placeholder, strlen(p->recipe.placeholder), &t);
        if (s == VLA_OK && t.n == 0)
            s = vla_error(VLA_ERR_INVALID_ARG, "vla.prompt.placeholder encodes to no tokens");
        if (s == VLA_OK) p->placeholder_id = t.ids[0];
        vla_tokens_free(&t);
        VLA_TRY(s);
    }
    if (p->image_pad_id != p->bb_info.image_token_id)
        return vla_error(VLA_ERR_INVALID_ARG,
                         "tokenizer maps %s to id %d but the backbone expects image token id %d; "
                         "the tokenizer and the model config do not belong together",
                         p->recipe.image_pad, p->image_pad_id, p->bb_info.image_token_id);
    return VLA_OK;
}

static vla_status load_stats(vla_policy *p, const char *stats_path) {
    const char *configured = NULL;
    char path[PATH_MAX + 256];
    if (!stats_path) {
        if (vla_config_string(p->cfg, "vla.stats", &configured) != VLA_OK) {
            vla_clear_error();
            return VLA_OK; /* no statistics: actions stay normalised */
        }
        resolve_path(p, configured, path, sizeof path);
        stats_path = path;
    }
    VLA_TRY(vla_stats_load(stats_path, &p->stats));
    const vla_config *node;
    const void *vt;
    VLA_TRY(get_plugin(p, VLA_PLUGIN_NORMALIZER, "vla.normalizer", &vt, &node));
    p->norm_vt = vt;
    vla_plugin_env env = make_env(p, node);
    return p->norm_vt->create(&env, &p->norm);
}

static vla_status declare_params(vla_policy *p) {
    const char *prefix;
    VLA_TRY(vla_params_create(&p->params));
    VLA_TRY(vla_config_string_or(p->cfg, "vla.weights.backbone_prefix", "", &prefix));
    VLA_TRY(vla_params_set_prefix(p->params, prefix));
    VLA_TRY(p->bb_vt->declare_params(p->bb, p->params));
    VLA_TRY(vla_config_string_or(p->cfg, "vla.weights.head_prefix", "", &prefix));
    VLA_TRY(vla_params_set_prefix(p->params, prefix));
    return p->head_vt->declare_params(p->head, p->params);
}

static vla_status load_weights(vla_policy *p, const char *checkpoint, bool dry_run) {
    if (checkpoint) {
        VLA_TRY(vla_weights_open(checkpoint, NULL, NULL, &p->weights));
        if (dry_run) return vla_params_check(p->params, p->weights, false);
        return vla_params_load(p->params, p->weights, p->backend, NULL);
    }
    int64_t seed;
    if (vla_config_int(p->cfg, "vla.weights.random_seed", &seed) != VLA_OK) {
        if (dry_run) {
            vla_clear_error();
            return VLA_OK;
        }
        return vla_error(VLA_ERR_NOT_FOUND,
                         "no weights: pass --checkpoint RUN_DIR (or a .pt/.safetensors file), or set "
                         "vla.weights.random_seed for deterministic random weights");
    }
    if (dry_run) return VLA_OK;
    /* matrices in bf16 by default, as StarVLA checkpoints store them */
    const char *dtype_name;
    VLA_TRY(vla_config_string_or(p->cfg, "vla.weights.random_dtype", "bf16", &dtype_name));
    int dtype = vla_dtype_from_name(dtype_name);
    if (dtype != VLA_F32 && dtype != VLA_BF16 && dtype != VLA_F16)
        return vla_error(VLA_ERR_INVALID_ARG, "vla.weights.random_dtype: expected f32, bf16 or f16, got \"%s\"",
                         dtype_name);
    return vla_params_init_random(p->params, p->backend, (vla_dtype)dtype, (uint64_t)seed);
}

static vla_status policy_open(vla_policy *p, const vla_policy_options *o) {
    const char *config_path = o->config;
    const char *checkpoint = o->checkpoint;
    const char *stats_path = NULL;
    char default_config[PATH_MAX];
    vla_run_folder *run = NULL;
    vla_status s = VLA_OK;

    bool bare_file = checkpoint && config_path && vla_path_is_file(checkpoint);
    if (checkpoint && !bare_file) { /* a run folder, or a checkpoint inside one */
        VLA_TRY(vla_run_folder_open(checkpoint, -1, &run));
        if (!config_path) config_path = run->config_path;
        checkpoint = run->checkpoint_path;
        stats_path = run->stats_path;
    }
    if (!config_path) {
        snprintf(default_config, sizeof default_config, "%s/default.yaml", vla_paths_config_dir());
        config_path = default_config;
    }
    vla_framework_options fo = {config_path, o->overrides, o->n_overrides, NULL};
    s = vla_framework_resolve(&fo, &p->cfg);
    if (s == VLA_OK) {
        set_base_dir(p, config_path);
        s = apply_base_vlm(p, o->base_vlm);
    }
    if (s == VLA_OK) s = set_default(p->cfg, "backend.name", "cpu");
    if (s == VLA_OK) s = vla_registry_open(&p->registry);
    if (s == VLA_OK) {
        const char *backend_name;
        s = vla_config_string(p->cfg, "backend.name", &backend_name);
        if (s == VLA_OK)
            s = vla_registry_open_backend(p->registry, backend_name, vla_config_get(p->cfg, "backend"),
                                          &p->backend);
    }
    if (s == VLA_OK) s = create_components(p, o->dry_run);
    if (s == VLA_OK) s = declare_params(p);
    if (s == VLA_OK) s = load_weights(p, checkpoint, o->dry_run);
    if (s == VLA_OK) s = load_stats(p, stats_path);
    if (s == VLA_OK && !o->dry_run) s = vla_ctx_create(p->backend, 64u << 20, &p->ctx);
    vla_run_folder_free(run);
    return s;
}

vla_status vla_policy_open(const vla_policy_options *opts, vla_policy **out) {
    *out = NULL;
    vla_policy *p = calloc(1, sizeof *p);
    if (!p) return vla_error(VLA_ERR_OOM, "policy: out of memory");
    vla_status s = policy_open(p, opts);
    if (s != VLA_OK) {
        vla_policy_close(p);
        return s;
    }
    *out = p;
    return VLA_OK;
}

void vla_policy_close(vla_policy *p) {
    if (!p) return;
    vla_ctx_destroy(p->ctx);
    if (p->norm) p->norm_vt->destroy(p->norm);
    if (p->tok) p->tok_vt->destroy(p->tok);
    if (p->head) p->head_vt->destroy(p->head);
    if (p->bb) p->bb_vt->destroy(p->bb);
    vla_params_destroy(p->params);
    vla_weights_close(p->weights);
    vla_stats_free(p->stats);
    if (p->recipe.user_prefix) vla_prompt_recipe_free(&p->recipe);
    vla_backend_destroy(p->backend);
    vla_registry_close(p->registry);
    vla_config_free(p->cfg);
    free(p->normalized);
    free(p->actions);
    free(p);
}

const vla_config *vla_policy_config(const vla_policy *p) { return p->cfg; }
const vla_params *vla_policy_params(const vla_policy *p) { return p->params; }

void vla_policy_memory_usage(const vla_policy *p, vla_policy_memory *out) {
    memset(out, 0, sizeof *out);
    for (size_t i = 0; p->params && i < vla_params_count(p->params); i++)
        out->weights_bytes += vla_tensor_nbytes(vla_params_slot(p->params, i));
    if (p->ctx) out->arena_peak_bytes = vla_ctx_high_water(p->ctx);
    if (p->backend && p->backend->vt->struct_size > offsetof(vla_backend_vtable, memory_usage) &&
        p->backend->vt->memory_usage)
        (void)p->backend->vt->memory_usage(p->backend->state, &out->backend_in_use, &out->backend_peak);
}

void vla_policy_action_shape(const vla_policy *p, int32_t *horizon, int32_t *dim) {
    *horizon = p->head_info.action_horizon;
    *dim = p->head_info.action_dim;
}

static vla_status check_example(const vla_policy *p, const vla_policy_example *e, int32_t index) {
    char what[64];
    if (!e->instruction) return vla_error(VLA_ERR_INVALID_ARG, "example %d: instruction is missing", index);
    if (e->n_images < 1 || !e->images)
        return vla_error(VLA_ERR_INVALID_ARG, "example %d: at least one image is required", index);
    if (e->n_images > POLICY_MAX_IMAGES)
        return vla_error(VLA_ERR_LIMIT, "example %d: %d images (at most %d)", index, e->n_images,
                         POLICY_MAX_IMAGES);
    for (int32_t i = 0; i < e->n_images; i++) {
        snprintf(what, sizeof what, "example %d image %d", index, i);
        VLA_TRY(vla_image_validate(&e->images[i], what));
    }
    if (e->state) {
        int32_t want = p->state_dim;
        if (!p->recipe.state_in_prompt && p->head_info.state_dim == 0)
            return vla_error(VLA_ERR_INVALID_ARG, "example %d: this framework takes no state", index);
        if (e->state_dim != want)
            return vla_error(VLA_ERR_SHAPE, "example %d: state has %d values, the model expects %d", index,
                             e->state_dim, want);
        for (int32_t i = 0; i < e->state_dim; i++)
            if (!isfinite(e->state[i]))
                return vla_error(VLA_ERR_INVALID_ARG, "example %d: state[%d] is %s", index, i,
                                 isnan(e->state[i]) ? "NaN" : "infinite");
    }
    return VLA_OK;
}

/* Render, tokenise and expand the image placeholders of one example. */
static vla_status build_ids(vla_policy *p, const vla_policy_example *e, vla_tokens *ids) {
    char *text = NULL;
    vla_tokens raw = {0};
    int32_t counts[POLICY_MAX_IMAGES];
    const float *state_text = p->recipe.state_in_prompt ? e->state : NULL;
    vla_status s = vla_prompt_render(&p->recipe, e->instruction, state_text,
                                     state_text ? (size_t)e->state_dim : 0, e->n_images, &text);
    if (s == VLA_OK) s = p->tok_vt->encode(p->tok, text, strlen(text), &raw);
    for (int32_t i = 0; s == VLA_OK && i < e->n_images; i++)
        s = p->bb_vt->image_tokens(p->bb, &e->images[i], &counts[i]);
    if (s == VLA_OK) s = vla_prompt_expand_images(&raw, p->image_pad_id, counts, e->n_images, ids);
    free(text);
    vla_tokens_free(&raw);
    return s;
}

static vla_status ensure_action_buffers(vla_policy *p, size_t n) {
    if (n <= p->actions_cap) return VLA_OK;
    float *a = realloc(p->normalized, n * sizeof *a);
    if (!a) return vla_error(VLA_ERR_OOM, "policy: out of memory for actions");
    p->normalized = a;
    a = realloc(p->actions, n * sizeof *a);
    if (!a) return vla_error(VLA_ERR_OOM, "policy: out of memory for actions");
    p->actions = a;
    p->actions_cap = n;
    return VLA_OK;
}

static vla_status unnormalize(vla_policy *p, int32_t batch, const char *unnorm_key) {
    size_t T = (size_t)p->head_info.action_horizon, A = (size_t)p->head_info.action_dim;
    if (!p->stats) {
        memcpy(p->actions, p->normalized, (size_t)batch * T * A * sizeof(float));
        return VLA_OK;
    }
    const vla_stats_entry *entry;
    VLA_TRY(vla_stats_select(p->stats, unnorm_key, &entry));
    for (int32_t b = 0; b < batch; b++)
        VLA_TRY(p->norm_vt->unnormalize_actions(p->norm, entry, p->normalized + (size_t)b * T * A,
                                                p->actions + (size_t)b * T * A, T, A));
    return VLA_OK;
}

vla_status vla_policy_predict_batch(vla_policy *p, const vla_policy_example *examples, int32_t batch,
                                    const vla_predict_options *opts, vla_actions *out) {
    static const vla_predict_options defaults = {0, NULL, NULL};
    if (!p || !examples || !out)
        return vla_error(VLA_ERR_INVALID_ARG, "vla_policy_predict_batch: policy, examples and out are required");
    if (!opts) opts = &defaults;
    memset(out, 0, sizeof *out);
    if (!p->ctx) return vla_error(VLA_ERR_INVALID_ARG, "policy was opened for a dry run: it cannot predict");
    if (batch < 1 || batch > POLICY_MAX_BATCH)
        return vla_error(VLA_ERR_INVALID_ARG, "batch of %d examples (1..%d)", batch, POLICY_MAX_BATCH);
    for (int32_t b = 0; b < batch; b++) {
        VLA_TRY(check_example(p, &examples[b], b));
        if ((examples[b].state == NULL) != (examples[0].state == NULL))
            return vla_error(VLA_ERR_INVALID_ARG, "example %d %s a state but example 0 %s: give all or none", b,
                             examples[b].state ? "has" : "has no", examples[0].state ? "has one" : "does not");
    }
    if (p->stats) { /* fail on a bad unnorm_key before spending compute */
        const vla_stats_entry *entry;
        VLA_TRY(vla_stats_select(p->stats, opts->unnorm_key, &entry));
    }

    double t0 = vla_ctx_clock(p->ctx);
    vla_tokens ids[POLICY_MAX_BATCH];
    vla_vlm_example vex[POLICY_MAX_BATCH];
    float *head_state = NULL;
    memset(ids, 0, sizeof ids);
    vla_status s = VLA_OK;
    for (int32_t b = 0; s == VLA_OK && b < batch; b++) {
        s = build_ids(p, &examples[b], &ids[b]);
        vex[b] = (vla_vlm_example){ids[b].ids, (int32_t)ids[b].n, examples[b].images, examples[b].n_images};
    }
    size_t state_dim = (size_t)p->head_info.state_dim;
    if (s == VLA_OK && state_dim && !p->recipe.state_in_prompt && examples[0].state) {
        head_state = calloc((size_t)batch * state_dim, sizeof *head_state);
        if (!head_state) s = vla_error(VLA_ERR_OOM, "policy: out of memory for states");
        for (int32_t b = 0; s == VLA_OK && b < batch; b++)
            memcpy(head_state + (size_t)b * state_dim, examples[b].state, state_dim * sizeof(float));
    }
    double t_tok = vla_ctx_clock(p->ctx);

    vla_vlm_out vlm;
    memset(&vlm, 0, sizeof vlm);
    size_t n_act = (size_t)batch * (size_t)p->head_info.action_horizon * (size_t)p->head_info.action_dim;
    if (s == VLA_OK) s = ensure_action_buffers(p, n_act);
    if (s == VLA_OK) s = vla_ctx_reset(p->ctx);
    if (s == VLA_OK) s = p->bb_vt->encode(p->bb, p->ctx, vex, batch, p->head_info.vlm_request, &vlm);
    double t_vlm = vla_ctx_clock(p->ctx);
    if (s == VLA_OK) {
        vla_head_input hin = {batch, head_state, opts->noise, opts->seed, p->placeholder_id};
        s = p->head_vt->predict(p->head, p->ctx, &vlm, &hin, p->normalized);
    }
    double t_head = vla_ctx_clock(p->ctx);
    if (s == VLA_OK) s = unnormalize(p, batch, opts->unnorm_key);
    double t_end = vla_ctx_clock(p->ctx);

    for (int32_t b = 0; b < batch; b++) vla_tokens_free(&ids[b]);
    free(head_state);
    if (s != VLA_OK) return s;

    out->batch = batch;
    out->horizon = p->head_info.action_horizon;
    out->dim = p->head_info.action_dim;
    out->normalized = p->normalized;
    out->actions = p->actions;
    out->times.preprocess_ms = (t_tok - t0) + vlm.preprocess_ms;
    out->times.vision_ms = vlm.vision_ms;
    out->times.prefill_ms = vlm.prefill_ms;
    out->times.head_ms = t_head - t_vlm;
    out->times.total_ms = t_end - t0;
    return VLA_OK;
}

vla_status vla_policy_predict(vla_policy *p, const vla_image *images, int32_t n_images,
                              const char *instruction, const float *state, const char *unnorm_key,
                              vla_actions *out) {
    if (!p) return vla_error(VLA_ERR_INVALID_ARG, "vla_policy_predict: policy is NULL");
    vla_policy_example e = {images, n_images, instruction, state, state ? p->state_dim : 0};
    vla_predict_options o = {0, NULL, unnorm_key};
    return vla_policy_predict_batch(p, &e, 1, &o, out);
}
