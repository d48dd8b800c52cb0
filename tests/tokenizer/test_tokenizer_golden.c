/* test_tokenizer_golden PLUGIN.so: the real Qwen vocabulary against ids and
 * decodes from Hugging Face `tokenizers` (tools/tokenizer_fixtures.py), and
 * full StarVLA prompts against transformers' Qwen3-VL processor (chat
 * template + image-token expansion), built from the framework presets. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tok_util.h"

static void check_cases(tok_handle *h, const cJSON *cases) {
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cases) {
        char *text;
        size_t len = tok_case_input(c, &text);
        vla_tokens t = {0};
        CHECK_OK(h->vt->encode(h->self, text, len, &t));
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(c, "ids");
        CHECK_MSG(tok_ids_equal(ids, &t), "case %d (\"%.60s\"): ids differ from HF (%zu vs %d ids)", n, text, t.n,
                  cJSON_GetArraySize(ids));
        char *back = NULL;
        CHECK_OK(h->vt->decode(h->self, t.ids, t.n, &back));
        const char *want = cJSON_GetObjectItemCaseSensitive(c, "decoded")->valuestring;
        CHECK_MSG(back && strcmp(back, want) == 0, "case %d (\"%.60s\"): decode differs from HF", n, text);
        free(back);
        vla_tokens_free(&t);
        free(text);
        n++;
    }
    CHECK(n >= 200);
}

static void check_prompt(tok_handle *h, const cJSON *p) {
    const char *name = cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring;
    vla_config *cfg = NULL;
    vla_prompt_recipe r;
    CHECK_OK(tok_case_config(p, &cfg));
    if (!cfg) return;
    CHECK_OK(vla_prompt_recipe_load(cfg, &r));
    size_t dim;
    float *state = tok_case_state(p, &dim);
    const cJSON *tpi = cJSON_GetObjectItemCaseSensitive(p, "image_tokens");
    int32_t n_images = cJSON_GetArraySize(tpi), counts[8];
    for (int32_t i = 0; i < n_images && i < 8; i++) counts[i] = cJSON_GetArrayItem(tpi, i)->valueint;
    char *text = NULL;
    CHECK_OK(vla_prompt_render(&r, cJSON_GetObjectItemCaseSensitive(p, "instruction")->valuestring, state, dim,
                               n_images, &text));
    vla_tokens raw = {0}, ids = {0};
    int32_t pad = -1;
    CHECK_OK(h->vt->token_to_id(h->self, r.image_pad, &pad));
    if (text) CHECK_OK(h->vt->encode(h->self, text, strlen(text), &raw));
    CHECK_OK(vla_prompt_expand_images(&raw, pad, counts, n_images, &ids));
    CHECK_MSG(tok_ids_equal(cJSON_GetObjectItemCaseSensitive(p, "ids"), &ids),
              "prompt %s: %zu ids differ from the Qwen3-VL processor's", name, ids.n);
    vla_tokens_free(&raw);
    vla_tokens_free(&ids);
    free(text);
    free(state);
    vla_prompt_recipe_free(&r);
    vla_config_free(cfg);
}

int main(int argc, char **argv) {
    char path[4096];
    if (argc != 2) return 2;
    if (!tok_shared("qwen-tokenizer/tokenizer.json", path, sizeof path))
        TEST_SKIP("the real Qwen vocabulary ../shared/qwen-tokenizer/tokenizer.json is absent (set VLA_SHARED_DIR)");
    cJSON *g = tok_golden();
    tok_handle h;
    CHECK(g != NULL);
    CHECK_OK(tok_open(argv[1], path, &h));
    if (!g || !h.self) return test_finish("tokenizer-golden");

    CHECK(h.vt->vocab_size(h.self) == 151669);
    static const struct {
        const char *tok;
        int32_t id;
    } known[] = {{"<|endoftext|>", 151643}, {"<|im_start|>", 151644}, {"<|im_end|>", 151645},
                 {"<|vision_start|>", 151652}, {"<|vision_end|>", 151653}, {"<|image_pad|>", 151655},
                 {"<think>", 151667}, {"</think>", 151668}, {"\xc4\x8a", 198}, {"user", 872},
                 {"assistant", 77091}};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        int32_t id = -1;
        CHECK_OK(h.vt->token_to_id(h.self, known[i].tok, &id));
        CHECK_MSG(id == known[i].id, "%s: id %d, expected %d", known[i].tok, id, known[i].id);
        CHECK(h.vt->id_to_token(h.self, known[i].id) && strcmp(h.vt->id_to_token(h.self, known[i].id), known[i].tok) == 0);
    }
    /* QwenOFT's placeholder: one token, as HF says. */
    vla_tokens ph = {0};
    CHECK_OK(h.vt->encode(h.self, "\xf0\x9f\x94\x8d", 4, &ph));
    CHECK(tok_ids_equal(cJSON_GetObjectItemCaseSensitive(g, "placeholder_ids"), &ph) && ph.n == 1);
    vla_tokens_free(&ph);

    check_cases(&h, cJSON_GetObjectItemCaseSensitive(g, "cases"));
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(g, "prompts")) check_prompt(&h, p);
    tok_close(&h);
    cJSON_Delete(g);
    return test_finish("tokenizer-golden");
}
