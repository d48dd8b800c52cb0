/* An example out-of-tree action head: "last-token-linear".
 *
 * It reads the backbone's last hidden state at the final prompt position
 * (prompts are left-padded, so that position is real for every example) and
 * maps it with one linear layer to the T x A action chunk. Not a good
 * policy, but a complete plugin: config, declared weights, compute through
 * vla ops (so it runs on every backend), and the entry symbol.
 *
 * Build against an installed vla:
 *   cc -shared -fPIC -o vla-head-last-token-linear.so last_token_head.c \
 *      $(pkg-config --cflags --libs vla) */
#include <stdlib.h>

#include <vla/action_config.h>
#include <vla/head.h>
#include <vla/ops.h>

typedef struct last_token_head {
    vla_action_config shape;
    int32_t width;
    vla_tensor w, b; /* Linear(width -> T * A) */
} last_token_head;

static vla_status head_create(const vla_plugin_env *env, const vla_backbone_info *vlm, void **self) {
    last_token_head *h = calloc(1, sizeof *h);
    if (!h) return vla_error(VLA_ERR_OOM, "last-token-linear: out of memory");
    vla_status s = vla_action_config_read(env->root, &h->shape);
    if (s != VLA_OK) {
        free(h);
        return s;
    }
    h->width = vlm->hidden_size;
    *self = h;
    return VLA_OK;
}

static void head_destroy(void *self) { free(self); }

static vla_status head_info(void *self, vla_head_info *info) {
    last_token_head *h = self;
    *info = (vla_head_info){.action_horizon = h->shape.horizon,
                            .action_dim = h->shape.action_dim,
                            .vlm_request = VLA_VLM_HIDDEN_LAST};
    return VLA_OK;
}

static vla_status head_declare(void *self, vla_params *p) {
    last_token_head *h = self;
    int64_t out = (int64_t)h->shape.horizon * h->shape.action_dim;
    VLA_TRY(vla_params_add(p, &h->w, VLA_PARAM_MATRIX, 2, (int64_t[]){out, h->width}, "action_model.proj.weight"));
    return vla_params_add(p, &h->b, VLA_PARAM_VECTOR, 1, (int64_t[]){out}, "action_model.proj.bias");
}

static vla_status head_predict(void *self, vla_ctx *c, const vla_vlm_out *vlm, const vla_head_input *in,
                               float *actions) {
    last_token_head *h = self;
    int32_t B = vlm->batch, S = vlm->seq_len;
    int32_t rows[256];
    if (B > 256) return vla_error(VLA_ERR_LIMIT, "last-token-linear: batch %d > 256", B);
    for (int32_t b = 0; b < B; b++) rows[b] = b * S + (S - 1);
    (void)in; /* deterministic: no noise, no state */

    vla_tensor ids, flat, feats, out;
    VLA_TRY(vla_new_from_host(c, VLA_I32, 1, (int64_t[]){B}, rows, &ids));
    VLA_TRY(vla_view_reshape(&vlm->hidden[vlm->n_hidden - 1], 2, (int64_t[]){(int64_t)B * S, h->width}, &flat));
    VLA_TRY(vla_get_rows(c, &flat, &ids, &feats));
    VLA_TRY(vla_matmul(c, &feats, &h->w, &h->b, &out));
    return vla_to_host(c, &out, actions, (size_t)B * h->shape.horizon * h->shape.action_dim * sizeof(float));
}

static const vla_head_vtable vtable = {
    .struct_size = sizeof(vla_head_vtable),
    .create = head_create,
    .destroy = head_destroy,
    .info = head_info,
    .declare_params = head_declare,
    .predict = head_predict,
};

VLA_PLUGIN_DEFINE(VLA_PLUGIN_HEAD, "last-token-linear", "0.1.0", "example: linear map of the last token", &vtable)
