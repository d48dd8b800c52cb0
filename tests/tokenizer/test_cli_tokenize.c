/* test_cli_tokenize VLA: `vla tokenize` end to end. The ids it prints for
 * the tiny vocabulary equal HF's; with the real vocabulary, --prompt with
 * framework presets, CoT override, --image HxW (smart_resize counts) and
 * --state reproduces the Qwen3-VL processor's ids from the golden file;
 * usage and runtime errors give exit codes 2 and 1. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tok_util.h"

static const char *vla;

/* Run vla with args; stdout into out (NUL-terminated); returns the exit code. */
static int run(const char *const *args, char *out, size_t cap) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        const char *argv[64] = {vla};
        for (int i = 0; args[i] && i < 62; i++) argv[i + 1] = args[i];
        execv(vla, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    size_t n = 0;
    for (ssize_t k; n + 1 < cap && (k = read(fd[0], out + n, cap - 1 - n)) > 0;) n += (size_t)k;
    out[n] = '\0';
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The id column of the token lines ("index id token text"). */
static void parse_ids(const char *out, vla_tokens *t) {
    t->n = 0;
    for (const char *line = out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        long idx, id;
        if (*line != '#' && sscanf(line, "%ld %ld", &idx, &id) == 2) vla_tokens_push(t, (int32_t)id);
    }
}

static const cJSON *find(const cJSON *list, const char *key, const char *value) {
    const cJSON *c;
    cJSON_ArrayForEach(c, list) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
        if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0) return c;
    }
    return NULL;
}

static void check_prompt(const cJSON *golden, const char *name, const char *preset, char *out, size_t cap) {
    const cJSON *p = find(cJSON_GetObjectItemCaseSensitive(golden, "prompts"), "name", name);
    CHECK(p != NULL);
    if (!p) return;
    const char *args[48];
    char fw[64], cot[1024], images[8][32], state[2048] = "";
    int n = 0;
    args[n++] = "tokenize";
    args[n++] = "--prompt";
    snprintf(fw, sizeof fw, "--framework.name=%s", preset);
    args[n++] = fw;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "overrides"),
                                                      "datasets.vla_data.CoT_prompt");
    if (c) {
        snprintf(cot, sizeof cot, "'%s'", c->valuestring);
        args[n++] = "--datasets.vla_data.CoT_prompt";
        args[n++] = cot;
    }
    int k = 0;
    const cJSON *hw;
    cJSON_ArrayForEach(hw, cJSON_GetObjectItemCaseSensitive(p, "images")) {
        snprintf(images[k], sizeof images[k], "%dx%d", cJSON_GetArrayItem(hw, 0)->valueint,
                 cJSON_GetArrayItem(hw, 1)->valueint);
        args[n++] = "--image";
        args[n++] = images[k++];
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(p, "state")) {
        size_t len = strlen(state);
        snprintf(state + len, sizeof state - len, "%s%.9g", len ? " " : "", v->valuedouble);
    }
    if (state[0]) {
        args[n++] = "--state";
        args[n++] = state;
    }
    args[n++] = cJSON_GetObjectItemCaseSensitive(p, "instruction")->valuestring;
    args[n] = NULL;
    vla_tokens t = {0};
    CHECK_MSG(run(args, out, cap) == 0, "vla tokenize for %s failed", name);
    parse_ids(out, &t);
    CHECK_MSG(tok_ids_equal(cJSON_GetObjectItemCaseSensitive(p, "ids"), &t), "%s: vla tokenize printed %zu ids", name,
              t.n);
    vla_tokens_free(&t);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    vla = argv[1];
    static char out[1 << 20];
    cJSON *g = tok_golden();
    CHECK(g != NULL);
    if (!g) return test_finish("cli-tokenize");

    const char *src = getenv("VLA_SOURCE_ROOT");
    char tiny[4096];
    snprintf(tiny, sizeof tiny, "%s/configs/tiny/tokenizer.json", src ? src : ".");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(g, "tiny_cases")) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
        if (!cJSON_IsString(text) || !text->valuestring[0] || n++ >= 20) continue;
        const char *args[] = {"tokenize", "--tokenizer", tiny, text->valuestring, NULL};
        vla_tokens t = {0};
        CHECK(run(args, out, sizeof out) == 0);
        parse_ids(out, &t);
        CHECK_MSG(tok_ids_equal(cJSON_GetObjectItemCaseSensitive(c, "ids"), &t), "\"%s\"", text->valuestring);
        vla_tokens_free(&t);
    }
    const char *no_text[] = {"tokenize", "--tokenizer", tiny, NULL};
    CHECK(run(no_text, out, sizeof out) == 2);
    const char *bad_image[] = {"tokenize", "--prompt", "--image", "224", "x", NULL};
    CHECK(run(bad_image, out, sizeof out) == 2);
    const char *missing[] = {"tokenize", "--tokenizer", "/nonexistent/tokenizer.json", "x", NULL};
    CHECK(run(missing, out, sizeof out) == 1);

    char path[4096];
    if (tok_shared("qwen-tokenizer/tokenizer.json", path, sizeof path)) {
        check_prompt(g, "pi_3img_480x640_cot", "QwenPI", out, sizeof out);
        check_prompt(g, "oft_libero_state_cot_2img", "QwenOFT", out, sizeof out);
        check_prompt(g, "pi_v3_state_1img", "QwenPI_v3", out, sizeof out);
        cJSON_Delete(g);
        return test_finish("cli-tokenize");
    }
    cJSON_Delete(g);
    if (test_failures) return test_finish("cli-tokenize");
    TEST_SKIP("../shared/qwen-tokenizer is absent: full-prompt checks not run (the others passed)");
}
