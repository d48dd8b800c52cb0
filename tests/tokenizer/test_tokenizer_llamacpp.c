/* test_tokenizer_llamacpp PLUGIN.so: llama.cpp's Qwen2 tokenizer vectors
 * (../shared/qwen-tokenizer/llama.cpp: inputs separated by
 * "\n__ggml_vocab_test__\n", one line of " id id ..." per input). The later
 * .out.807b0c49 belongs to a 46-input list: the 43 inputs plus three
 * strings whose places are given in the shared README. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tok_util.h"

#define SEP "\n__ggml_vocab_test__\n"
#define MAX_TESTS 64

static int split_inputs(char *inp, char **tests, size_t *lens) {
    int n = 0;
    for (char *p = inp, *e; n < MAX_TESTS && (e = strstr(p, SEP)); p = e + strlen(SEP)) {
        tests[n] = p;
        lens[n++] = (size_t)(e - p);
    }
    return n;
}

static void check_list(tok_handle *h, char **tests, size_t *lens, int n, char *out, const char *name) {
    char *line = out;
    for (int i = 0; i < n; i++) {
        char *nl = line ? strchr(line, '\n') : NULL;
        CHECK_MSG(nl != NULL, "%s: fewer than %d expected lines", name, n);
        if (!nl) return;
        *nl = '\0';
        vla_tokens t = {0};
        CHECK_OK(h->vt->encode(h->self, tests[i], lens[i], &t));
        char got[8192] = "";
        size_t k = 0;
        for (size_t j = 0; j < t.n && k < sizeof got - 16; j++) k += (size_t)snprintf(got + k, sizeof got - k, " %d", t.ids[j]);
        CHECK_MSG(strcmp(got, line) == 0, "%s test %d (\"%.*s\"): got \"%s\", expected \"%s\"", name, i,
                  (int)(lens[i] < 40 ? lens[i] : 40), tests[i], got, line);
        vla_tokens_free(&t);
        line = nl + 1;
    }
}

int main(int argc, char **argv) {
    char tj[4096], pin[4096], pout[4096], pout2[4096];
    if (argc != 2) return 2;
    if (!tok_shared("qwen-tokenizer/tokenizer.json", tj, sizeof tj) ||
        !tok_shared("qwen-tokenizer/llama.cpp/ggml-vocab-qwen2.gguf.inp", pin, sizeof pin) ||
        !tok_shared("qwen-tokenizer/llama.cpp/ggml-vocab-qwen2.gguf.out", pout, sizeof pout) ||
        !tok_shared("qwen-tokenizer/llama.cpp/ggml-vocab-qwen2.gguf.out.807b0c49", pout2, sizeof pout2))
        TEST_SKIP("llama.cpp Qwen2 vectors or the Qwen vocabulary are absent from ../shared/qwen-tokenizer");
    char *inp = tok_read_file(pin, NULL), *out = tok_read_file(pout, NULL), *out2 = tok_read_file(pout2, NULL);
    tok_handle h;
    CHECK_OK(tok_open(argv[1], tj, &h));
    if (!inp || !out || !out2 || !h.self) return test_finish("tokenizer-llamacpp");

    char *tests[MAX_TESTS], *t46[MAX_TESTS];
    size_t lens[MAX_TESTS], l46[MAX_TESTS];
    int n = split_inputs(inp, tests, lens);
    CHECK(n == 43);
    check_list(&h, tests, lens, n, out, "ggml-vocab-qwen2.gguf.out");

    /* 46-input list: "!!!!!!" after "Hello, y'all! ...", then "Cửa Việt" and
     * " discards" after "333333333". */
    static char bang[] = "!!!!!!", cua[] = "C\xe1\xbb\xad" "a Vi\xe1\xbb\x87t", discards[] = " discards";
    int m = 0;
    for (int i = 0; i < n && m < MAX_TESTS - 3; i++) {
        t46[m] = tests[i];
        l46[m++] = lens[i];
        if (strncmp(tests[i], "Hello, y'all!", 13) == 0) t46[m] = bang, l46[m++] = strlen(bang);
        if (lens[i] == 9 && strncmp(tests[i], "333333333", 9) == 0) {
            t46[m] = cua, l46[m++] = strlen(cua);
            t46[m] = discards, l46[m++] = strlen(discards);
        }
    }
    CHECK(m == 46);
    check_list(&h, t46, l46, m, out2, "ggml-vocab-qwen2.gguf.out.807b0c49");
    tok_close(&h);
    free(inp);
    free(out);
    free(out2);
    return test_finish("tokenizer-llamacpp");
}
