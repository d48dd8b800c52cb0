/* `vla inspect` end to end (argument: the built vla executable): the
 * QwenPI_v3 model-card counts from the shape-only checkpoint, the listing of a
 * torch.save file against PyTorch's own description, run folders, and exit
 * codes and messages for hostile files and bad usage. */

#include "run_command.h"
#include "weights_test.h"

static const char *vla;

/* Run `vla inspect ARGS` (stdout and stderr together); returns the exit code. */
static int run(const char *args, char *out, size_t cap) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' inspect %s 2>&1", vla, args);
    return run_command(cmd, out, cap);
}

/* A line that starts with "  <group>" and contains `count`. */
static int has_count(const char *out, const char *group, const char *count) {
    char key[128];
    snprintf(key, sizeof key, "\n  %s ", group);
    for (const char *p = strstr(out, key); p; p = strstr(p + 1, key)) {
        const char *eol = strchr(p + 1, '\n');
        const char *c = strstr(p, count);
        if (c && (!eol || c < eol)) return 1;
    }
    return 0;
}

static char out[1 << 20];

static void test_counts(void) {
    char args[4200];
    snprintf(args, sizeof args, "'%s'", fixture("qwenpi_v3_shapes.pt"));
    CHECK(run(args, out, sizeof out) == 0);
    CHECK_MSG(has_count(out, "qwen_vl_interface", "4,437,815,808"), "%s", out);
    CHECK(has_count(out, "action_model", "538,678,305"));
    CHECK(has_count(out, "project_layers", "94,593,024"));
    CHECK(has_count(out, "total", "5,071,087,137"));
    CHECK(strstr(out, "tensors: 1386 in 1 file") != NULL);
    CHECK(strstr(out, "qwen_vl_interface.model.lm_head.weight = qwen_vl_interface.model.model.language_model."
                      "embed_tokens.weight") != NULL);
    snprintf(args, sizeof args, "'%s' --group-depth 2", fixture("qwenpi_v3_shapes.pt"));
    CHECK(run(args, out, sizeof out) == 0);
    CHECK(has_count(out, "action_model.model", "") && has_count(out, "total", "5,071,087,137"));
}

static void test_listing(const cJSON *expected) {
    char args[4200];
    snprintf(args, sizeof args, "--all '%s'", fixture("pt_views.pt"));
    CHECK(run(args, out, sizeof out) == 0);
    const cJSON *tensors = cJSON_GetObjectItem(cJSON_GetObjectItem(expected, "files"), "pt_views.pt");
    int64_t total = 0;
    for (const cJSON *t = tensors ? tensors->child : NULL; t; t = t->next) {
        char line[512];
        int off = snprintf(line, sizeof line, "  %s ", t->string);
        char *p = strstr(out, line);
        CHECK_MSG(p != NULL, "no line for %s", t->string);
        if (!p) continue;
        const cJSON *shape = cJSON_GetObjectItem(t, "shape");
        char dtype[32];
        snprintf(dtype, sizeof dtype, " %s ", cJSON_GetObjectItem(t, "dtype")->valuestring);
        off = snprintf(line, sizeof line, " [");
        int64_t numel = 1;
        for (const cJSON *d = shape->child; d; d = d->next) {
            off += snprintf(line + off, sizeof line - (size_t)off, d == shape->child ? "%lld" : ", %lld",
                            (long long)d->valuedouble);
            numel *= (int64_t)d->valuedouble;
        }
        snprintf(line + off, sizeof line - (size_t)off, "]\n");
        char *eol = strchr(p + 1, '\n');
        char *hit = strstr(p, line), *dt = strstr(p, dtype);
        CHECK_MSG(hit && hit < eol && dt && dt < hit, "%s: expected%s...%s", t->string, dtype, line);
        total += numel;
    }
    char count[32];
    snprintf(count, sizeof count, "%lld", (long long)total);
    CHECK_MSG(has_count(out, "total", count), "total %s in %s", count, out);
}

static void test_run_folder(void) {
    char args[4200];
    snprintf(args, sizeof args, "'%s'", fixture("run"));
    CHECK(run(args, out, sizeof out) == 0);
    CHECK(strstr(out, "steps_2000_model.safetensors  (step 2000; available: 100 300 2000)") != NULL);
    snprintf(args, sizeof args, "'%s' --step 100", fixture("run"));
    CHECK(run(args, out, sizeof out) == 0 && strstr(out, "steps_100_pytorch_model.pt") != NULL);
    snprintf(args, sizeof args, "'%s' --step 7", fixture("run"));
    CHECK(run(args, out, sizeof out) == 1 && strstr(out, "available steps: 100, 300, 2000") != NULL);
}

static void test_refusals(void) {
    static const struct {
        const char *file, *needle;
    } bad[] = {
        {"bad_pt_os_system.pt", "refusing pickle global 'os system'"},
        {"bad_pt_posix_system.pt", "refusing pickle global 'posix system'"},
        {"bad_pt_builtins_eval.pt", "refusing pickle global 'builtins eval'"},
        {"bad_pt_zip_huge.pt", "declares 2147483632 bytes"},
        {"bad_pt_nonstring_key.pt", "has type int, not str"},
        {"bad_st_header_too_long.safetensors", "larger than the file"},
        {"bad_st_truncated.safetensors", "outside the data section"},
    };
    char args[4200];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "'%s'", fixture(bad[i].file));
        int rc = run(args, out, sizeof out);
        CHECK_MSG(rc == 1 && strstr(out, "vla: error: ") && strstr(out, bad[i].needle), "%s: rc %d: %s", bad[i].file,
                  rc, out);
    }
    CHECK(run("", out, sizeof out) == 2 && strstr(out, "missing PATH"));
    CHECK(run("a b", out, sizeof out) == 2);
    CHECK(run("--bogus x", out, sizeof out) == 2 && strstr(out, "unknown option '--bogus'"));
    CHECK(run("x --group-depth 0", out, sizeof out) == 2);
    CHECK(run("--help", out, sizeof out) == 0 && strstr(out, "usage: vla inspect"));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s VLA_EXECUTABLE\n", argv[0]);
        return 2;
    }
    vla = argv[1];
    cJSON *expected = load_expected();
    test_counts();
    test_listing(expected);
    test_run_folder();
    test_refusals();
    cJSON_Delete(expected);
    return test_finish("inspect_cli");
}
