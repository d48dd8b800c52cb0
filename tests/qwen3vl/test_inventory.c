/* Full-size check without weights: the real Qwen3-VL-4B-Instruct config.json
 * (committed as tests/fixtures/qwen3vl/config-4b.json) declares the published
 * inventory: 713 tensors (the tied lm_head is the embedding, not a tensor of
 * its own) and 4,437,815,808 parameters (vision 415,347,712, text
 * 4,022,468,096; spec §7), also under StarVLA's prefix. */
#include <string.h>

#include "fixture.h"
#include "qwen3vl.h"
#include "vla/config.h"

const vla_plugin_desc *vla_plugin_entry(void);

static void check(const char *prefix) {
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "config_json: %s/qwen3vl/config-4b.json\npreprocessor_json: %s/qwen3vl/tiny/preprocessor_config.json\n",
             fixtures_dir(), fixtures_dir());
    vla_config *node;
    CHECK_OK(vla_config_parse(yaml, strlen(yaml), "test.yaml", &node));
    if (test_failures) return;
    const vla_backbone_vtable *vt = vla_plugin_entry()->vtable;
    vla_plugin_env env = {node, node, NULL, "."};
    void *bb = NULL;
    vla_params *p = NULL;
    CHECK_OK(vt->create(&env, &bb));
    CHECK_OK(vla_params_create(&p));
    if (test_failures) return;
    CHECK_OK(vla_params_set_prefix(p, prefix));
    CHECK_OK(vt->declare_params(bb, p));
    vla_backbone_info info;
    CHECK_OK(vt->info(bb, &info));
    CHECK(info.hidden_size == 2560 && info.num_layers == 36 && info.vocab_size == 151936 &&
          info.image_token_id == 151655 && info.pad_token_id == 151643);
    char vis[128], txt[128];
    snprintf(vis, sizeof vis, "%smodel.visual.", prefix);
    snprintf(txt, sizeof txt, "%smodel.language_model.", prefix);
    size_t count = vla_params_count(p);
    long long total = vla_params_numel_total(p), nv = vla_params_numel_prefix(p, vis),
              nt = vla_params_numel_prefix(p, txt);
    printf("prefix \"%s\": %zu tensors, %lld parameters (vision %lld, text %lld)\n", prefix, count, total, nv, nt);
    CHECK_MSG(count == 713, "%zu tensors, expected 713", count);
    CHECK_MSG(total == 4437815808LL, "%lld parameters, expected 4,437,815,808", total);
    CHECK(nv == 415347712LL && nt == 4022468096LL);
    int prefixed = 1;
    for (size_t i = 0; i < count; i++) prefixed &= strncmp(vla_params_name(p, i), prefix, strlen(prefix)) == 0;
    CHECK(prefixed);
    /* a few shapes of spec §7 */
    for (size_t i = 0; i < count; i++) {
        const char *name = vla_params_name(p, i) + strlen(prefix);
        const vla_tensor *t = vla_params_slot(p, i);
        if (strcmp(name, "model.visual.patch_embed.proj.weight") == 0)
            CHECK(t->ndim == 5 && t->shape[0] == 1024 && t->shape[1] == 3 && t->shape[2] == 2 && t->shape[4] == 16);
        if (strcmp(name, "model.visual.deepstack_merger_list.2.norm.weight") == 0)
            CHECK(t->ndim == 1 && t->shape[0] == 4096);
        if (strcmp(name, "model.language_model.layers.35.self_attn.q_proj.weight") == 0)
            CHECK(t->ndim == 2 && t->shape[0] == 4096 && t->shape[1] == 2560);
        if (strcmp(name, "model.language_model.layers.0.self_attn.k_norm.weight") == 0)
            CHECK(t->ndim == 1 && t->shape[0] == 128);
    }
    vla_params_destroy(p);
    vt->destroy(bb);
    vla_config_free(node);
}

int main(void) {
    check("");
    check("qwen_vl_interface.model.");
    return test_finish("test-qwen3vl-inventory");
}
