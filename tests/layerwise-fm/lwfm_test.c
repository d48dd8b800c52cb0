#include "lwfm_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vla/config.h"
#include "vla/registry.h"
#include "harness.h"
#include "test_backend.h"

vla_status lwfm_test_backend(const char *so_path, vla_backend **be, vla_ctx **c) {
    *c = NULL;
    *be = test_backend_open(so_path, "");
    if (!*be) return vla_error(VLA_ERR_PLUGIN, "no backend from %s", so_path);
    return vla_ctx_create(*be, 1 << 22, c);
}

vla_status lwfm_test_head_open(const char *yaml, int32_t hidden, int32_t layers, lwfm_test_head *t) {
    memset(t, 0, sizeof *t);
    VLA_TRY(vla_config_parse(yaml, strlen(yaml), "test-config", &t->root));
    vla_plugin_env env = {.root = t->root, .node = vla_config_get(t->root, "vla.head"), .base_dir = "."};
    vla_backbone_info bb = {.hidden_size = hidden, .num_layers = layers};
    VLA_TRY(lwfm_head_create(&env, &bb, &t->head));
    VLA_TRY(vla_params_create(&t->params));
    return lwfm_head_declare(t->head, t->params);
}

void lwfm_test_head_close(lwfm_test_head *t) {
    vla_params_destroy(t->params);
    lwfm_head_destroy(t->head);
    vla_config_free(t->root);
    memset(t, 0, sizeof *t);
}

vla_status lwfm_test_vlm_make(vla_ctx *c, const float *data, int32_t layers, int32_t n_hidden, int32_t batch,
                              int32_t seq, int32_t hidden, const int32_t *mask, lwfm_test_vlm *v) {
    memset(v, 0, sizeof *v);
    v->hidden = calloc((size_t)n_hidden, sizeof *v->hidden);
    v->mask = malloc((size_t)batch * (size_t)seq);
    if (!v->hidden || !v->mask) return vla_error(VLA_ERR_OOM, "test vlm: out of memory");
    const size_t per_layer = (size_t)batch * (size_t)seq * (size_t)hidden;
    for (int32_t i = 0; i < layers; i++) {
        int64_t shape[3] = {batch, seq, hidden};
        VLA_TRY(vla_new_from_host(c, VLA_F32, 3, shape, data + (size_t)i * per_layer,
                                  &v->hidden[n_hidden - layers + i]));
    }
    v->out.batch = batch;
    v->out.seq_len = seq;
    v->out.hidden_size = hidden;
    v->out.hidden = v->hidden;
    v->out.n_hidden = n_hidden;
    if (mask) {
        for (int32_t i = 0; i < batch * seq; i++) v->mask[i] = mask[i] != 0;
        int64_t mshape[2] = {batch, seq};
        VLA_TRY(vla_new_from_host(c, VLA_U8, 2, mshape, v->mask, &v->out.attention_mask));
        v->out.host_mask = v->mask;
    }
    return VLA_OK;
}

void lwfm_test_vlm_free(lwfm_test_vlm *v) {
    free(v->hidden);
    free(v->mask);
    memset(v, 0, sizeof *v);
}

double lwfm_rel_err(const float *a, const float *b, size_t n, double *abs_err) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(d) || d > num) num = d; /* a NaN sticks as the worst error */
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    if (abs_err) *abs_err = num;
    return den > 0 ? num / den : num;
}

float lwfm_test_rand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}
