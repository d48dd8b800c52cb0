/* smoke-tokenizer-qwen PLUGIN.so TINY_TOKENIZER.json: load only this plugin
 * with the tiny vocabulary, encode a chat prompt, text with every kind of
 * piece and invalid UTF-8, and check ids are in range, decoding round-trips,
 * encoding is deterministic and bad input fails cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vla/registry.h"
#include "vla/tokenizer.h"

static const char *const texts[] = {
    ("<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>put the spoon on the towel<|im_end|>\n"
     "<|im_start|>assistant\n"),
    "Hello, world! It's 2025:   tabs\tand\r\nnewlines\n\n  end  ",
    "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x94\x8d <think>x</think> caf\x65\xcc\x81",
};

static void check_text(const vla_tokenizer_vtable *vt, void *tok, const char *text) {
    vla_tokens a = {0}, b = {0};
    CHECK_OK(vt->encode(tok, text, strlen(text), &a));
    CHECK_OK(vt->encode(tok, text, strlen(text), &b));
    CHECK(a.n > 0 && a.n == b.n && memcmp(a.ids, b.ids, a.n * sizeof *a.ids) == 0);
    for (size_t i = 0; i < a.n; i++) CHECK(a.ids[i] >= 0 && a.ids[i] < vt->vocab_size(tok));
    char *back = NULL;
    CHECK_OK(vt->decode(tok, a.ids, a.n, &back));
    /* The last text is not NFC (e + U+0301), so it comes back composed. */
    const char *want = strstr(text, "caf") ? NULL : text;
    if (want) CHECK_MSG(back && strcmp(back, want) == 0, "round trip of \"%s\" gave \"%s\"", text, back);
    else CHECK(back && strstr(back, "caf\xc3\xa9"));
    free(back);
    vla_tokens_free(&a);
    vla_tokens_free(&b);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PLUGIN.so tokenizer.json\n", argv[0]);
        return 2;
    }
    const vla_plugin_desc *desc = NULL;
    CHECK_OK(vla_plugin_load_file(argv[1], &desc));
    if (!desc) return test_finish("smoke-tokenizer-qwen");
    CHECK(desc->kind == VLA_PLUGIN_TOKENIZER && strcmp(desc->name, "qwen-bpe") == 0);
    const vla_tokenizer_vtable *vt = desc->vtable;
    CHECK(vt->struct_size >= sizeof *vt);

    char yaml[4200];
    snprintf(yaml, sizeof yaml, "file: '%s'\n", argv[2]);
    vla_config *node = NULL;
    CHECK_OK(vla_config_parse(yaml, strlen(yaml), "smoke", &node));
    vla_plugin_env env = {.root = node, .node = node};
    void *tok = NULL;
    CHECK_OK(vt->create(&env, &tok));
    if (!tok) {
        vla_config_free(node);
        return test_finish("smoke-tokenizer-qwen");
    }
    CHECK(vt->vocab_size(tok) == 2026);
    int32_t id = -1;
    CHECK_OK(vt->token_to_id(tok, "<|im_start|>", &id));
    CHECK(id == 2001);
    CHECK(vt->id_to_token(tok, 2012) && strcmp(vt->id_to_token(tok, 2012), "<|image_pad|>") == 0);
    CHECK_ERR(vt->token_to_id(tok, "<|no_such_token|>", &id), VLA_ERR_NOT_FOUND, "no_such_token");
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) check_text(vt, tok, texts[i]);

    /* Invalid UTF-8 is replaced, never a crash. */
    vla_tokens t = {0};
    CHECK_OK(vt->encode(tok, "a\xff\xc0\xed\xa0\x80z", 7, &t));
    char *back = NULL;
    CHECK_OK(vt->decode(tok, t.ids, t.n, &back));
    CHECK(back && strcmp(back, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz") == 0);
    free(back);
    int32_t bad = 999999;
    CHECK_ERR(vt->decode(tok, &bad, 1, &back), VLA_ERR_INVALID_ARG, "999999");
    vla_tokens_free(&t);
    vt->destroy(tok);
    vla_config_free(node);

    CHECK_OK(vla_config_parse("file: /nonexistent/tokenizer.json\n", 34, "smoke", &node));
    env.root = env.node = node;
    CHECK_ERR(vt->create(&env, &tok), VLA_ERR_IO, "/nonexistent/tokenizer.json");
    vla_config_free(node);
    return test_finish("smoke-tokenizer-qwen");
}
