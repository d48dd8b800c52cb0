/* The Qwen3-VL backbone plugin: preprocessing, vision tower, image-row
 * injection, decoder with DeepStack, hidden states with transformers
 * 4.57.0's output_hidden_states semantics (docs/hidden-states.md), logits
 * and single-token decoding over the KV cache. */
#include <stdlib.h>
#include <string.h>

#include "qwen3vl.h"
#include "vla/ops.h"

typedef struct q3_backbone {
    q3_config cfg;
    q3_vision_weights vw;
    q3_text_weights tw;
    q3_kv_cache kv;
    /* outputs of the last call, valid until the next one */
    vla_tensor *hidden; /* [layers + 1] */
    uint8_t *host_mask;
    int32_t *host_ids;
} q3_backbone;

static void destroy(void *self) {
    q3_backbone *m = self;
    if (!m) return;
    q3_kv_free(&m->kv);
    free(m->vw.blocks);
    free(m->tw.layers);
    free(m->hidden);
    free(m->host_mask);
    free(m->host_ids);
    free(m);
}

static vla_status create(const vla_plugin_env *env, void **self) {
    *self = NULL;
    q3_backbone *m = calloc(1, sizeof *m);
    if (!m) return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory");
    vla_status s = q3_config_load(env, &m->cfg);
    if (s == VLA_OK) {
        m->vw.blocks = calloc((size_t)m->cfg.vision.depth, sizeof *m->vw.blocks);
        m->tw.layers = calloc((size_t)m->cfg.text.layers, sizeof *m->tw.layers);
        m->hidden = calloc((size_t)m->cfg.text.layers + 1, sizeof *m->hidden);
        if (!m->vw.blocks || !m->tw.layers || !m->hidden) s = vla_error(VLA_ERR_OOM, "qwen3vl: out of memory");
    }
    if (s != VLA_OK) {
        destroy(m);
        return s;
    }
    *self = m;
    return VLA_OK;
}

static vla_status info(void *self, vla_backbone_info *out) {
    const q3_config *c = &((q3_backbone *)self)->cfg;
    out->hidden_size = c->text.hidden;
    out->num_layers = c->text.layers;
    out->vocab_size = c->text.vocab;
    out->image_token_id = c->image_token_id;
    out->pad_token_id = c->pad_id;
    return VLA_OK;
}

static vla_status declare_params(void *self, vla_params *p) {
    q3_backbone *m = self;
    VLA_TRY(q3_vision_declare(&m->cfg, &m->vw, p));
    return q3_text_declare(&m->cfg, &m->tw, p);
}

static vla_status image_tokens(void *self, const vla_image *img, int32_t *n_tokens) {
    q3_backbone *m = self;
    q3_grid g;
    VLA_TRY(q3_image_grid(&m->cfg, img, &g));
    *n_tokens = q3_grid_tokens(&m->cfg, &g);
    return VLA_OK;
}

/* ---- encode ---- */

/* A maximal run of image placeholders: rows [feat, feat + len) of the image
 * features go to example b, positions [at, at + len). */
typedef struct image_run {
    int32_t b, at, len, feat;
} image_run;

typedef struct batch_inputs {
    int32_t batch, seq;
    q3_grid *grids;
    int32_t n_images;
    float *pixels; /* all images' patch rows */
    int64_t n_rows;
    image_run *runs;
    int32_t n_runs;
    int64_t *pos; /* [3][B * S] */
} batch_inputs;

static void inputs_free(batch_inputs *in) {
    free(in->grids);
    free(in->pixels);
    free(in->runs);
    free(in->pos);
}

static vla_status check_examples(const q3_config *cfg, const vla_vlm_example *ex, int32_t batch, batch_inputs *in) {
    if (batch < 1 || !ex) return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl encode: no examples");
    for (int32_t b = 0; b < batch; b++) {
        if (!ex[b].ids || ex[b].n_ids < 1)
            return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl encode: example %d has no token ids", b);
        if (ex[b].n_images < 0 || (ex[b].n_images > 0 && !ex[b].images))
            return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl encode: example %d: invalid image list", b);
        for (int32_t i = 0; i < ex[b].n_ids; i++)
            if (ex[b].ids[i] < 0 || ex[b].ids[i] >= cfg->text.vocab)
                return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl encode: example %d: token %d at position %d is outside "
                                 "the vocabulary of %d", b, ex[b].ids[i], i, cfg->text.vocab);
        if (ex[b].n_ids > in->seq) in->seq = ex[b].n_ids;
        in->n_images += ex[b].n_images;
    }
    in->batch = batch;
    return VLA_OK;
}

/* Preprocess every image in prompt order and check each example's
 * placeholder count against its images. */
static vla_status gather_images(const q3_config *cfg, const vla_vlm_example *ex, batch_inputs *in) {
    in->grids = calloc((size_t)in->n_images + 1, sizeof *in->grids);
    if (!in->grids) return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory");
    size_t K = (size_t)3 * cfg->vision.temporal_patch * cfg->vision.patch * cfg->vision.patch;
    int32_t k = 0;
    for (int32_t b = 0; b < in->batch; b++) {
        int64_t want = 0, have = 0;
        for (int32_t i = 0; i < ex[b].n_images; i++, k++) {
            float *rows;
            vla_status s = q3_preprocess(cfg, &ex[b].images[i], &in->grids[k], &rows);
            if (s != VLA_OK) return vla_error_context(s, "qwen3vl encode: example %d, image %d", b, i);
            int64_t n = (int64_t)in->grids[k].t * in->grids[k].h * in->grids[k].w;
            float *grown = realloc(in->pixels, (size_t)(in->n_rows + n) * K * sizeof *grown);
            if (!grown) {
                free(rows);
                return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory for patch rows");
            }
            in->pixels = grown;
            memcpy(in->pixels + (size_t)in->n_rows * K, rows, (size_t)n * K * sizeof *rows);
            free(rows);
            in->n_rows += n;
            want += q3_grid_tokens(cfg, &in->grids[k]);
        }
        for (int32_t i = 0; i < ex[b].n_ids; i++) have += ex[b].ids[i] == cfg->image_token_id;
        if (have != want)
            return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl encode: example %d holds %lld image placeholder tokens (id %d) "
                             "but its %d image(s) need %lld", b, (long long)have, cfg->image_token_id, ex[b].n_images,
                             (long long)want);
    }
    return VLA_OK;
}

/* Left-pad ids and mask; list the image-placeholder runs; positions. */
static vla_status layout(q3_backbone *m, const vla_vlm_example *ex, batch_inputs *in) {
    const q3_config *cfg = &m->cfg;
    int32_t B = in->batch, S = in->seq;
    size_t n = (size_t)B * S;
    free(m->host_ids);
    free(m->host_mask);
    m->host_ids = malloc(n * sizeof *m->host_ids);
    m->host_mask = malloc(n);
    in->runs = malloc(n * sizeof *in->runs);
    in->pos = malloc(3 * n * sizeof *in->pos);
    if (!m->host_ids || !m->host_mask || !in->runs || !in->pos) return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory");
    int32_t feat = 0;
    for (int32_t b = 0; b < B; b++) {
        int32_t pad = S - ex[b].n_ids;
        for (int32_t i = 0; i < S; i++) {
            bool real = i >= pad;
            m->host_ids[(size_t)b * S + i] = real ? ex[b].ids[i - pad] : cfg->pad_id;
            m->host_mask[(size_t)b * S + i] = real;
        }
        for (int32_t i = pad; i < S;) {
            if (m->host_ids[(size_t)b * S + i] != cfg->image_token_id) {
                i++;
                continue;
            }
            image_run *r = &in->runs[in->n_runs++];
            r->b = b, r->at = i, r->feat = feat, r->len = 0;
            while (i < S && m->host_ids[(size_t)b * S + i] == cfg->image_token_id) i++, r->len++;
            feat += r->len;
        }
    }
    return VLA_OK;
}

static vla_status upload_rope(const q3_config *cfg, vla_ctx *c, const int64_t *pos, int32_t B, int32_t S,
                              vla_tensor *cos, vla_tensor *sin) {
    int64_t n = (int64_t)B * S, hd = cfg->text.head_dim;
    float *tab = malloc(sizeof *tab * (size_t)(2 * n * hd));
    if (!tab) return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory for rotary tables");
    vla_status s = q3_text_rope_tables(cfg, pos, n, tab, tab + n * hd);
    int64_t shape[3] = {B, S, hd};
    if (s == VLA_OK) s = vla_new_from_host(c, VLA_F32, 3, shape, tab, cos);
    if (s == VLA_OK) s = vla_new_from_host(c, VLA_F32, 3, shape, tab + n * hd, sin);
    free(tab);
    return s;
}

static vla_status embed_ids(const q3_backbone *m, vla_ctx *c, const int32_t *ids, int32_t B, int32_t S, vla_tensor *h) {
    int64_t shape[2] = {B, S};
    vla_tensor t;
    VLA_TRY(vla_new_from_host(c, VLA_I32, 2, shape, ids, &t));
    return vla_get_rows(c, &m->tw.embed, &t, h);
}

/* h[b, at:at+len] op= feats[feat:feat+len] for every run (copy or add). */
static vla_status apply_runs(vla_ctx *c, const batch_inputs *in, vla_tensor *h, const vla_tensor *feats, bool add) {
    for (int32_t i = 0; i < in->n_runs; i++) {
        const image_run *r = &in->runs[i];
        vla_tensor hb, dst, src, src3;
        VLA_TRY(vla_view_slice(h, 0, r->b, 1, &hb));
        VLA_TRY(vla_view_slice(&hb, 1, r->at, r->len, &dst));
        VLA_TRY(vla_view_slice(feats, 0, r->feat, r->len, &src));
        int64_t s3[3] = {1, r->len, feats->shape[1]};
        VLA_TRY(vla_view_reshape(&src, 3, s3, &src3));
        VLA_TRY(add ? vla_add_inplace(c, &dst, &src3) : vla_copy_into(c, &dst, &src3));
    }
    return VLA_OK;
}

static vla_status run_encode(q3_backbone *m, vla_ctx *c, const vla_vlm_example *ex, uint32_t request, batch_inputs *in,
                             vla_vlm_out *out) {
    const q3_config *cfg = &m->cfg;
    int32_t L = cfg->text.layers;
    double t_start = vla_ctx_clock(c);
    VLA_TRY(check_examples(cfg, ex, in->batch, in));
    int32_t B = in->batch, S = in->seq;
    VLA_TRY(gather_images(cfg, ex, in));
    VLA_TRY(layout(m, ex, in));
    VLA_TRY(q3_kv_reserve(&m->kv, c, cfg, B, S, false));
    VLA_TRY(q3_rope_index(cfg, m->host_ids, m->host_mask, B, S, in->grids, in->n_images, in->pos, m->kv.delta));
    for (int32_t b = 0; b < B; b++) memcpy(m->kv.mask + (size_t)b * m->kv.cap, m->host_mask + (size_t)b * S, S);

    vla_tensor embeds, deepstack[Q3_MAX_DEEPSTACK], h, cos, sin, mask;
    int n_ds = in->n_images ? cfg->vision.n_deepstack : 0;
    double t_preprocessed = vla_ctx_clock(c);
    if (in->n_images)
        VLA_TRY(q3_vision_forward(cfg, &m->vw, c, in->pixels, in->n_rows, in->grids, in->n_images, &embeds, deepstack));
    double t_vision = vla_ctx_clock(c);
    int64_t ms[2] = {B, S};
    VLA_TRY(vla_new_from_host(c, VLA_U8, 2, ms, m->host_mask, &mask));
    VLA_TRY(upload_rope(cfg, c, in->pos, B, S, &cos, &sin));
    VLA_TRY(embed_ids(m, c, m->host_ids, B, S, &h));
    if (in->n_images) VLA_TRY(apply_runs(c, in, &h, &embeds, false));

    /* hidden[k] is what transformers records as the output of layer k-1: the
     * DeepStack addition happens in place on that very tensor, so it is
     * included, and the last entry is not final-normed. */
    bool all = request & VLA_VLM_HIDDEN_ALL;
    memset(m->hidden, 0, sizeof *m->hidden * (size_t)(L + 1));
    for (int32_t l = 0; l < L; l++) {
        if (all) {
            m->hidden[l] = h;
            VLA_TRY(vla_contiguous(c, &m->hidden[l], &h));
        }
        VLA_TRY(q3_text_layer_forward(cfg, &m->tw.layers[l], l, c, &h, &cos, &sin, &mask, &m->kv));
        if (l < n_ds) VLA_TRY(apply_runs(c, in, &h, &deepstack[l], true));
    }
    m->kv.len = S;
    if (all || (request & VLA_VLM_HIDDEN_LAST)) m->hidden[L] = h;

    memset(out, 0, sizeof *out);
    out->batch = B;
    out->seq_len = S;
    out->hidden_size = cfg->text.hidden;
    out->hidden = m->hidden;
    out->n_hidden = L + 1;
    out->attention_mask = mask;
    out->host_mask = m->host_mask;
    out->host_ids = m->host_ids;
    if (request & VLA_VLM_FINAL_NORM) VLA_TRY(vla_rmsnorm(c, &h, &m->tw.norm, (float)cfg->text.eps, &out->final));
    if (request & VLA_VLM_LOGITS) VLA_TRY(q3_text_logits(cfg, &m->tw, c, &h, &out->logits));
    double t_end = vla_ctx_clock(c);
    out->preprocess_ms = t_preprocessed - t_start;
    out->vision_ms = t_vision - t_preprocessed;
    out->prefill_ms = t_end - t_vision;
    return VLA_OK;
}

static vla_status encode(void *self, vla_ctx *c, const vla_vlm_example *examples, int32_t batch, uint32_t request,
                         vla_vlm_out *out) {
    q3_backbone *m = self;
    batch_inputs in = {.batch = batch};
    if (!m->tw.embed.data) return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl encode: weights are not loaded");
    vla_status s = run_encode(m, c, examples, request, &in, out);
    if (s != VLA_OK) m->kv.len = 0; /* a failed prefill leaves nothing to decode from */
    inputs_free(&in);
    return s;
}

/* ---- step ---- */

static vla_status step(void *self, vla_ctx *c, const int32_t *next_ids, vla_vlm_out *out) {
    q3_backbone *m = self;
    const q3_config *cfg = &m->cfg;
    q3_kv_cache *kv = &m->kv;
    if (kv->len < 1) return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl step: call encode first");
    if (!next_ids) return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl step: no token ids");
    int32_t B = kv->batch, len = kv->len;
    for (int32_t b = 0; b < B; b++)
        if (next_ids[b] < 0 || next_ids[b] >= cfg->text.vocab)
            return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl step: token %d of example %d is outside the vocabulary of %d",
                             next_ids[b], b, cfg->text.vocab);
    VLA_TRY(q3_kv_reserve(kv, c, cfg, B, len + 1, true));
    int64_t *pos = malloc(sizeof *pos * 3 * (size_t)B);
    uint8_t *mask = malloc((size_t)B * (len + 1));
    vla_status s = (pos && mask) ? VLA_OK : vla_error(VLA_ERR_OOM, "qwen3vl: out of memory");
    for (int32_t b = 0; s == VLA_OK && b < B; b++) {
        kv->mask[(size_t)b * kv->cap + len] = 1;
        memcpy(mask + (size_t)b * (len + 1), kv->mask + (size_t)b * kv->cap, (size_t)len + 1);
        for (int a = 0; a < 3; a++) pos[a * B + b] = len + kv->delta[b]; /* same on every axis */
    }
    vla_tensor h, cos, sin, km;
    int64_t ms[2] = {B, len + 1};
    if (s == VLA_OK) s = vla_new_from_host(c, VLA_U8, 2, ms, mask, &km);
    if (s == VLA_OK) s = upload_rope(cfg, c, pos, B, 1, &cos, &sin);
    if (s == VLA_OK) s = embed_ids(m, c, next_ids, B, 1, &h);
    for (int32_t l = 0; s == VLA_OK && l < cfg->text.layers; l++)
        s = q3_text_layer_forward(cfg, &m->tw.layers[l], l, c, &h, &cos, &sin, &km, kv);
    if (s == VLA_OK) {
        kv->len = len + 1;
        memset(out, 0, sizeof *out);
        out->batch = B;
        out->seq_len = 1;
        out->hidden_size = cfg->text.hidden;
        s = q3_text_logits(cfg, &m->tw, c, &h, &out->logits);
    } else {
        kv->len = 0;
    }
    free(pos);
    free(mask);
    return s;
}

static const vla_backbone_vtable vtable = {
    .struct_size = sizeof(vla_backbone_vtable),
    .create = create,
    .destroy = destroy,
    .info = info,
    .declare_params = declare_params,
    .image_tokens = image_tokens,
    .encode = encode,
    .step = step,
};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_BACKBONE, "qwen3vl", "0.1.0", "Qwen3-VL vision-language backbone (DeepStack, M-RoPE)",
                  &vtable)
