/* test_tokenizer_tiny PLUGIN.so: the shipped tiny vocabulary
 * (configs/tiny/tokenizer.json) and small variants that turn on the options
 * Qwen leaves off, all against HF `tokenizers` ids and decodes; malformed
 * and unsupported files fail with messages naming the key; long inputs
 * finish (no quadratic merge loop, no regex blow-up); concurrent encodes on
 * one instance agree. Needs nothing from ../shared. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tok_util.h"

static const char *plugin;

static void check_cases(tok_handle *h, const cJSON *cases, const char *what) {
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cases) {
        char *text, *back = NULL;
        size_t len = tok_case_input(c, &text);
        vla_tokens t = {0};
        CHECK_OK(h->vt->encode(h->self, text, len, &t));
        CHECK_MSG(tok_ids_equal(cJSON_GetObjectItemCaseSensitive(c, "ids"), &t), "%s case %d (\"%.50s\"): ids differ",
                  what, n, text);
        CHECK_OK(h->vt->decode(h->self, t.ids, t.n, &back));
        CHECK_MSG(back && strcmp(back, cJSON_GetObjectItemCaseSensitive(c, "decoded")->valuestring) == 0,
                  "%s case %d (\"%.50s\"): decode differs", what, n, text);
        free(back);
        free(text);
        vla_tokens_free(&t);
        n++;
    }
    CHECK(n > 0);
}

static char *write_temp(const char *text, size_t len) {
    const char *dir = getenv("TMPDIR");
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/vla-tok-XXXXXX", dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        if (fd >= 0) close(fd);
        free(path);
        return NULL;
    }
    close(fd);
    return path;
}

static void check_variants(const cJSON *variants) {
    const cJSON *v;
    cJSON_ArrayForEach(v, variants) {
        const char *name = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
        char *json = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "tokenizer"));
        char *path = json ? write_temp(json, strlen(json)) : NULL;
        tok_handle h;
        CHECK(path != NULL);
        if (path) CHECK_OK(tok_open(plugin, path, &h));
        if (path && h.self) check_cases(&h, cJSON_GetObjectItemCaseSensitive(v, "cases"), name);
        if (path) {
            tok_close(&h);
            unlink(path);
        }
        free(path);
        free(json);
    }
}

/* A tokenizer.json that must be refused with `code` and `needle` in the message. */
static void check_bad(const char *json, size_t len, vla_status code, const char *needle) {
    char *path = write_temp(json, len);
    tok_handle h;
    CHECK(path != NULL);
    if (!path) return;
    CHECK_ERR(tok_open(plugin, path, &h), code, needle);
    tok_close(&h);
    unlink(path);
    free(path);
}

static void check_bad_s(const char *json, vla_status code, const char *needle) {
    check_bad(json, strlen(json), code, needle);
}

#define PRE "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}, " \
            "\"decoder\": {\"type\": \"ByteLevel\"}, "
#define MODEL(extra) "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}" extra "}"

static void check_errors(void) {
    check_bad_s("{\"model\": ", VLA_ERR_PARSE, "malformed JSON");
    check_bad("{\"x\": \"\xff\"}", 10, VLA_ERR_PARSE, "invalid UTF-8 at byte 7");
    check_bad_s("[1, 2]", VLA_ERR_PARSE, "expected a JSON object");
    check_bad_s("{" PRE MODEL(", \"merges\": [\"a c\"]") "}", VLA_ERR_PARSE, "model.merges[0]");
    check_bad_s("{" PRE MODEL(", \"merges\": [\"abc\"]") "}", VLA_ERR_PARSE, "model.merges[0]");
    check_bad_s("{" PRE MODEL(", \"merges\": [[\"a\"]]") "}", VLA_ERR_PARSE, "model.merges[0]");
    check_bad_s("{" PRE "\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", VLA_ERR_UNSUPPORTED, "model.type");
    check_bad_s("{" PRE "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}}}", VLA_ERR_LIMIT, "model.vocab[\"a\"]");
    check_bad_s("{" PRE "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1e12}}}", VLA_ERR_LIMIT, "model.vocab[\"a\"]");
    check_bad_s("{" PRE "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1.5}}}", VLA_ERR_TYPE, "not an integer");
    check_bad_s("{" PRE "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"0\"}}}", VLA_ERR_TYPE, "model.vocab[\"a\"]");
    check_bad_s("{" PRE MODEL(", \"byte_fallback\": true") "}", VLA_ERR_UNSUPPORTED, "model.byte_fallback");
    check_bad_s("{" PRE MODEL(", \"unk_token\": \"a\"") "}", VLA_ERR_UNSUPPORTED, "model.unk_token");
    check_bad_s("{" PRE MODEL(", \"dropout\": 0.1") "}", VLA_ERR_UNSUPPORTED, "model.dropout");
    check_bad_s("{" PRE MODEL("") ", \"normalizer\": {\"type\": \"NFKC\"}}", VLA_ERR_UNSUPPORTED, "normalizer.type");
    check_bad_s("{" PRE MODEL("") ", \"added_tokens\": [{\"id\": 5, \"content\": \"<x>\", \"lstrip\": true}]}",
                VLA_ERR_UNSUPPORTED, "added_tokens[0]");
    check_bad_s("{" PRE MODEL("") ", \"added_tokens\": [{\"id\": 5}]}", VLA_ERR_PARSE, "added_tokens[0]");
    check_bad_s("{\"decoder\": {\"type\": \"ByteLevel\"}, " MODEL("") ", \"pre_tokenizer\": {\"type\": \"Sequence\", "
                "\"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, \"behavior\": "
                "\"Isolated\"}, {\"type\": \"ByteLevel\"}]}}",
                VLA_ERR_PARSE, "pre_tokenizer.pretokenizers[0].pattern.Regex");
    check_bad_s("{\"decoder\": {\"type\": \"ByteLevel\"}, " MODEL("") ", \"pre_tokenizer\": {\"type\": \"Sequence\", "
                "\"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": "
                "\"Removed\"}, {\"type\": \"ByteLevel\"}]}}",
                VLA_ERR_UNSUPPORTED, "behavior");
    check_bad_s("{\"decoder\": {\"type\": \"ByteLevel\"}, " MODEL("") ", \"pre_tokenizer\": {\"type\": \"Whitespace\"}}",
                VLA_ERR_UNSUPPORTED, "pre_tokenizer.type");
    check_bad_s("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"use_regex\": true}, \"decoder\": {\"type\": "
                "\"ByteLevel\"}, " MODEL("") "}",
                VLA_ERR_UNSUPPORTED, "use_regex");
    check_bad_s("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"use_regex\": false}, " MODEL("") "}",
                VLA_ERR_UNSUPPORTED, "decoder");
}

/* Inputs that would take hours with a quadratic merge loop or a
 * backtracking blow-up in the split regex: 1 MiB each takes about a second
 * (several under sanitizers), so 30 s only fails on the wrong complexity. */
static void check_long(tok_handle *h) {
    const size_t n = 1 << 20;
    char *buf = malloc(n);
    static const char fill[] = {'a', ' ', '\n', '7', '!', (char)0xe4};
    for (size_t f = 0; f <= sizeof fill; f++) {
        for (size_t i = 0; i < n; i++) buf[i] = f < sizeof fill ? fill[f] : (char)(i * 2654435761u >> 13);
        struct timespec t0, t1;
        vla_tokens t = {0};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_OK(h->vt->encode(h->self, buf, n, &t));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        CHECK_MSG(s < 30.0 && t.n > 0, "1 MiB of fill %zu took %.2f s (%zu ids)", f, s, t.n);
        vla_tokens_free(&t);
    }
    free(buf);
}

typedef struct job {
    tok_handle *h;
    const char *text;
    vla_tokens out;
    vla_status st;
} job;

static void *encode_job(void *arg) {
    job *j = arg;
    for (int k = 0; k < 50 && j->st == VLA_OK; k++) {
        j->out.n = 0;
        j->st = j->h->vt->encode(j->h->self, j->text, strlen(j->text), &j->out);
    }
    return NULL;
}

static void check_threads(tok_handle *h) {
    static const char text[] = "Your task is put the spoon on the towel. \xe4\xbd\xa0\xe5\xa5\xbd <|im_end|>\n";
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){h, text, {0}, VLA_OK};
        pthread_create(&th[i], NULL, encode_job, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK(jobs[i].st == VLA_OK && jobs[i].out.n == jobs[0].out.n &&
              memcmp(jobs[i].out.ids, jobs[0].out.ids, jobs[0].out.n * sizeof(int32_t)) == 0);
    }
    for (int i = 0; i < 4; i++) vla_tokens_free(&jobs[i].out);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    plugin = argv[1];
    const char *src = getenv("VLA_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/configs/tiny/tokenizer.json", src ? src : ".");
    size_t size = 0;
    free(tok_read_file(path, &size));
    CHECK_MSG(size > 0 && size < 300 * 1024, "%s: %zu bytes (must exist and be < 300 KB)", path, size);

    cJSON *g = tok_golden();
    tok_handle h;
    CHECK(g != NULL);
    CHECK_OK(tok_open(plugin, path, &h));
    if (!g || !h.self) return test_finish("tokenizer-tiny");
    CHECK(h.vt->vocab_size(h.self) == 2026);
    static const struct {
        const char *tok;
        int32_t id;
    } ids[] = {{"<|endoftext|>", 2000}, {"<|im_start|>", 2001}, {"<|im_end|>", 2002},
               {"<|vision_start|>", 2009}, {"<|vision_end|>", 2010}, {"<|image_pad|>", 2012}};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        int32_t id = -1;
        CHECK_OK(h.vt->token_to_id(h.self, ids[i].tok, &id));
        CHECK_MSG(id == ids[i].id, "%s: %d, expected %d", ids[i].tok, id, ids[i].id);
    }
    check_cases(&h, cJSON_GetObjectItemCaseSensitive(g, "tiny_cases"), "tiny");
    check_long(&h);
    check_threads(&h);
    tok_close(&h);
    check_variants(cJSON_GetObjectItemCaseSensitive(g, "variants"));
    check_errors();
    cJSON_Delete(g);
    return test_finish("tokenizer-tiny");
}
