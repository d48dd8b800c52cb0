/* QwenOFT's action head (StarVLA MLP_ActionHeader.py, an OpenVLA-OFT
 * L1RegressionActionHead): the last hidden states at the T action
 * placeholder tokens go through an MLP-ResNet, one token per time step, and
 * come out as normalised actions directly (no diffusion):
 *   LN(H) -> fc1 H->2H -> ReLU -> 2 x [x + ReLU(Linear(LN(x)))] -> LN(2H) -> fc2 2H->A */
#include <stdlib.h>
#include <string.h>

#include "vla/action_config.h"
#include "vla/head.h"
#include "vla/ops.h"

#define OFT_BLOCKS 2
#define OFT_LN_EPS 1e-5f

typedef struct oft_block {
    vla_tensor norm_w, norm_b, fc_w, fc_b;
} oft_block;

typedef struct oft_head {
    vla_action_config shape;
    int32_t width;  /* VLM hidden H */
    int32_t hidden; /* 2H */
    vla_tensor ln1_w, ln1_b, fc1_w, fc1_b, ln2_w, ln2_b, fc2_w, fc2_b;
    oft_block blocks[OFT_BLOCKS];
} oft_head;

static vla_status oft_create(const vla_plugin_env *env, const vla_backbone_info *vlm, void **self) {
    oft_head *h = calloc(1, sizeof *h);
    if (!h) return vla_error(VLA_ERR_OOM, "oft-mlp: out of memory");
    vla_status s = vla_action_config_read(env->root, &h->shape);
    if (s != VLA_OK) {
        free(h);
        return vla_error_context(s, "oft-mlp head");
    }
    h->width = vlm->hidden_size;
    h->hidden = 2 * vlm->hidden_size;
    *self = h;
    return VLA_OK;
}

static void oft_destroy(void *self) { free(self); }

static vla_status oft_info(void *self, vla_head_info *info) {
    oft_head *h = self;
    *info = (vla_head_info){h->shape.horizon, h->shape.action_dim, 0, VLA_VLM_HIDDEN_LAST, 0};
    return VLA_OK;
}

static vla_status declare_norm(vla_params *p, vla_tensor *w, vla_tensor *b, int64_t dim, const char *name) {
    VLA_TRY(vla_params_add(p, w, VLA_PARAM_NORM_WEIGHT, 1, (int64_t[]){dim}, "action_model.model.%s.weight", name));
    return vla_params_add(p, b, VLA_PARAM_VECTOR, 1, (int64_t[]){dim}, "action_model.model.%s.bias", name);
}

static vla_status declare_linear(vla_params *p, vla_tensor *w, vla_tensor *b, int64_t out, int64_t in,
                                 const char *name) {
    VLA_TRY(vla_params_add(p, w, VLA_PARAM_MATRIX, 2, (int64_t[]){out, in}, "action_model.model.%s.weight", name));
    return vla_params_add(p, b, VLA_PARAM_VECTOR, 1, (int64_t[]){out}, "action_model.model.%s.bias", name);
}

static vla_status oft_declare(void *self, vla_params *p) {
    oft_head *h = self;
    VLA_TRY(declare_norm(p, &h->ln1_w, &h->ln1_b, h->width, "layer_norm1"));
    VLA_TRY(declare_linear(p, &h->fc1_w, &h->fc1_b, h->hidden, h->width, "fc1"));
    for (int i = 0; i < OFT_BLOCKS; i++) {
        char name[64];
        snprintf(name, sizeof name, "mlp_resnet_blocks.%d.ffn.0", i);
        VLA_TRY(declare_norm(p, &h->blocks[i].norm_w, &h->blocks[i].norm_b, h->hidden, name));
        snprintf(name, sizeof name, "mlp_resnet_blocks.%d.ffn.1", i);
        VLA_TRY(declare_linear(p, &h->blocks[i].fc_w, &h->blocks[i].fc_b, h->hidden, h->hidden, name));
    }
    VLA_TRY(declare_norm(p, &h->ln2_w, &h->ln2_b, h->hidden, "layer_norm2"));
    return declare_linear(p, &h->fc2_w, &h->fc2_b, h->shape.action_dim, h->hidden, "fc2");
}

/* Row indices (b * S + s) of the last T placeholder tokens of each example,
 * ascending, as StarVLA's QwenOFT gathers them. */
static vla_status placeholder_rows(const oft_head *h, const vla_vlm_out *vlm, int32_t placeholder_id,
                                   int32_t *rows) {
    int32_t T = h->shape.horizon, S = vlm->seq_len;
    if (placeholder_id < 0)
        return vla_error(VLA_ERR_INVALID_ARG,
                         "oft-mlp: the prompt has no action placeholder (set vla.prompt.placeholder)");
    for (int32_t b = 0; b < vlm->batch; b++) {
        int32_t found = 0;
        for (int32_t s = S - 1; s >= 0 && found < T; s--)
            if (vlm->host_ids[(size_t)b * S + s] == placeholder_id) rows[b * T + (T - 1 - found++)] = b * S + s;
        if (found < T)
            return vla_error(VLA_ERR_INVALID_ARG,
                             "oft-mlp: example %d has %d action placeholder tokens (id %d), needs %d", b, found,
                             placeholder_id, T);
    }
    return VLA_OK;
}

static vla_status run_mlp(vla_ctx *c, const oft_head *h, const vla_tensor *x_in, vla_tensor *out) {
    vla_tensor x, t, u;
    VLA_TRY(vla_layernorm(c, x_in, &h->ln1_w, &h->ln1_b, OFT_LN_EPS, &t));
    VLA_TRY(vla_matmul(c, &t, &h->fc1_w, &h->fc1_b, &u));
    VLA_TRY(vla_relu(c, &u, &x));
    for (int i = 0; i < OFT_BLOCKS; i++) {
        const oft_block *blk = &h->blocks[i];
        VLA_TRY(vla_layernorm(c, &x, &blk->norm_w, &blk->norm_b, OFT_LN_EPS, &t));
        VLA_TRY(vla_matmul(c, &t, &blk->fc_w, &blk->fc_b, &u));
        VLA_TRY(vla_relu(c, &u, &t));
        VLA_TRY(vla_add_inplace(c, &x, &t));
    }
    VLA_TRY(vla_layernorm(c, &x, &h->ln2_w, &h->ln2_b, OFT_LN_EPS, &t));
    return vla_matmul(c, &t, &h->fc2_w, &h->fc2_b, out);
}

static vla_status oft_predict(void *self, vla_ctx *c, const vla_vlm_out *vlm, const vla_head_input *in,
                              float *actions) {
    oft_head *h = self;
    int32_t B = vlm->batch, T = h->shape.horizon;
    const vla_tensor *last = &vlm->hidden[vlm->n_hidden - 1];
    if (!last->data) return vla_error(VLA_ERR_INVALID_ARG, "oft-mlp: the backbone returned no last hidden state");
    int32_t *rows = malloc((size_t)B * T * sizeof *rows);
    if (!rows) return vla_error(VLA_ERR_OOM, "oft-mlp: out of memory");
    vla_status s = placeholder_rows(h, vlm, in->placeholder_id, rows);
    vla_tensor ids, flat, feats, out;
    if (s == VLA_OK) s = vla_new_from_host(c, VLA_I32, 1, (int64_t[]){(int64_t)B * T}, rows, &ids);
    if (s == VLA_OK)
        s = vla_view_reshape(last, 2, (int64_t[]){(int64_t)B * vlm->seq_len, h->width}, &flat);
    if (s == VLA_OK) s = vla_get_rows(c, &flat, &ids, &feats);
    if (s == VLA_OK) s = run_mlp(c, h, &feats, &out);
    if (s == VLA_OK) s = vla_to_host(c, &out, actions, (size_t)B * T * h->shape.action_dim * sizeof(float));
    free(rows);
    return s;
}

static const vla_head_vtable oft_vtable = {
    .struct_size = sizeof(vla_head_vtable),
    .create = oft_create,
    .destroy = oft_destroy,
    .info = oft_info,
    .declare_params = oft_declare,
    .predict = oft_predict,
};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_HEAD, "oft-mlp", "0.1.0", "QwenOFT MLP-ResNet regression head (L1)", &oft_vtable)
