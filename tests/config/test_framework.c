/* Framework presets: selection, alias, merge order, overrides, errors, listing. */
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_test.h"
#include "vla/framework.h"

static vla_config *resolve(const char *file, const char *const *ov, int n, vla_status *s) {
    vla_framework_options o = {file ? data_path(file) : NULL, ov, n, data_path("presets")};
    vla_config *c = NULL;
    *s = vla_framework_resolve(&o, &c);
    return c;
}

static const char *str(const vla_config *c, const char *path) {
    const char *s = NULL;
    return vla_config_string(c, path, &s) == VLA_OK ? s : "(error)";
}

static int64_t num(const vla_config *c, const char *path) {
    int64_t v = -1;
    vla_config_int(c, path, &v);
    return v;
}

static void test_merge_order(void) {
    vla_status s;
    vla_config *c = resolve("user.yaml", NULL, 0, &s);
    CHECK_OK(s);
    CHECK(!strcmp(str(c, "framework.name"), "QwenOFT"));
    CHECK(num(c, "framework.action_model.action_dim") == 7);     /* preset */
    CHECK(num(c, "framework.action_model.action_horizon") == 4); /* file over preset */
    CHECK(num(c, "framework.action_model.state_dim") == 7);      /* file only */
    CHECK(!strcmp(str(c, "vla.head.plugin"), "oft-mlp"));
    CHECK(num(c, "trainer.seed") == 42);
    /* origins survive the merge */
    CHECK(strstr(vla_config_file(vla_config_get(c, "framework.action_model.action_dim")), "presets/QwenOFT.yaml"));
    CHECK(strstr(vla_config_file(vla_config_get(c, "framework.action_model.action_horizon")), "user.yaml"));
    CHECK(vla_config_line(vla_config_get(c, "framework.action_model.action_horizon")) == 5);
    /* vla.config_dir: the absolute folder of the file */
    char real[PATH_MAX];
    CHECK(realpath(test_dir, real) != NULL);
    CHECK_MSG(!strcmp(str(c, "vla.config_dir"), real), "%s vs %s", str(c, "vla.config_dir"), real);
    vla_config_free(c);

    /* overrides come last, later wins, and can switch the framework */
    const char *const ov[] = {"framework.name=QwenOFT", "framework.action_model.action_horizon=12",
                              "framework.name=QwenPI_v3", "vla.prompt.extra=[1, 2]"};
    c = resolve("user.yaml", ov, 4, &s);
    CHECK_OK(s);
    CHECK(!strcmp(str(c, "framework.name"), "QwenPI_v3"));
    CHECK(!strcmp(vla_config_file(vla_config_get(c, "framework.name")), "--framework.name"));
    CHECK(!strcmp(str(c, "vla.head.plugin"), "layerwise-fm"));
    CHECK(num(c, "framework.action_model.action_horizon") == 12);
    CHECK(num(c, "framework.action_model.diffusion_model_cfg.attention_head_dim") == 64);
    CHECK(num(c, "vla.prompt.extra.1") == 2);
    bool b = true;
    CHECK_OK(vla_config_bool(c, "vla.prompt.state_in_prompt", &b));
    CHECK(!b);
    vla_config_free(c);

    /* an override of the wrong type is reported against the override */
    const char *const bad[] = {"framework.action_model.action_dim=seven"};
    c = resolve("user.yaml", bad, 1, &s);
    CHECK_OK(s);
    int64_t v;
    CHECK_ERR(vla_config_int(c, "framework.action_model.action_dim", &v), VLA_ERR_TYPE,
              "--framework.action_model.action_dim: expected an integer, got \"seven\"");
    vla_config_free(c);
}

static void test_names(void) {
    vla_status s;
    /* the legacy alias */
    vla_config *c = resolve("legacy.yaml", NULL, 0, &s);
    CHECK_OK(s);
    CHECK(!strcmp(str(c, "framework.name"), "QwenPI_v3"));
    CHECK(!strcmp(str(c, "vla.head.plugin"), "layerwise-fm"));
    vla_config_free(c);
    /* framework.name wins over the alias */
    const char *const both[] = {"framework.name=QwenOFT"};
    c = resolve("legacy.yaml", both, 1, &s);
    CHECK_OK(s);
    CHECK(!strcmp(str(c, "framework.name"), "QwenOFT"));
    CHECK(!strcmp(str(c, "vla.head.plugin"), "oft-mlp"));
    vla_config_free(c);
    /* no name: used as written */
    c = resolve("no_framework.yaml", NULL, 0, &s);
    CHECK_OK(s);
    CHECK(!vla_config_has(c, "framework"));
    CHECK(!strcmp(str(c, "vla.head.plugin"), "custom-head"));
    vla_config_free(c);
    /* no file at all: the preset plus overrides */
    c = resolve(NULL, both, 1, &s);
    CHECK_OK(s);
    CHECK(num(c, "framework.action_model.action_horizon") == 8);
    CHECK(!vla_config_has(c, "vla.config_dir"));
    vla_config_free(c);
}

static void test_errors(void) {
    vla_status s;
    const char *const unknown[] = {"framework.name=QwenNope"};
    CHECK(resolve("user.yaml", unknown, 1, &s) == NULL);
    CHECK(s == VLA_ERR_NOT_FOUND);
    CHECK_MSG(strstr(vla_last_error(), "--framework.name: unknown framework \"QwenNope\"; available in ") &&
                  strstr(vla_last_error(), "presets: QwenOFT, QwenPI_v3"),
              "%s", vla_last_error());
    const char *const traversal[] = {"framework.name=../user"};
    CHECK(resolve("user.yaml", traversal, 1, &s) == NULL);
    CHECK(s == VLA_ERR_INVALID_ARG && strstr(vla_last_error(), "\"../user\" is not a framework preset name"));
    const char *const map[] = {"framework.name={a: 1}"};
    CHECK(resolve("user.yaml", map, 1, &s) == NULL);
    CHECK(s == VLA_ERR_TYPE && strstr(vla_last_error(), "--framework.name: expected a string, got a map"));
    const char *const malformed[] = {"framework.name"};
    CHECK(resolve("user.yaml", malformed, 1, &s) == NULL);
    CHECK(s == VLA_ERR_INVALID_ARG);
    CHECK(resolve("unclosed_bracket.yaml", NULL, 0, &s) == NULL);
    CHECK(s == VLA_ERR_PARSE && strstr(vla_last_error(), "unclosed_bracket.yaml:4:"));
    CHECK(resolve("nope.yaml", NULL, 0, &s) == NULL);
    CHECK(s == VLA_ERR_IO);

    vla_framework_options o = {data_path("user.yaml"), NULL, 0, data_path("no-such-dir")};
    vla_config *c = (vla_config *)1;
    CHECK_ERR(vla_framework_resolve(&o, &c), VLA_ERR_NOT_FOUND, "unknown framework \"QwenOFT\"");
    CHECK(strstr(vla_last_error(), "no-such-dir: none"));
    CHECK(c == NULL);
}

static void test_list_and_env(void) {
    char **names;
    size_t n;
    CHECK_OK(vla_framework_list(data_path("presets"), &names, &n));
    CHECK(n == 2 && !strcmp(names[0], "QwenOFT") && !strcmp(names[1], "QwenPI_v3"));
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    CHECK_ERR(vla_framework_list(data_path("no-such-dir"), &names, &n), VLA_ERR_NOT_FOUND, "cannot open");

    /* without preset_dir: $VLA_CONFIG_PATH/frameworks */
    char tmp[] = "/tmp/vla-test-framework-XXXXXX", dir[128], file[160];
    if (!mkdtemp(tmp)) TEST_SKIP("cannot make a temporary folder");
    snprintf(dir, sizeof dir, "%s/frameworks", tmp);
    snprintf(file, sizeof file, "%s/Tiny.yaml", dir);
    mkdir(dir, 0700);
    FILE *f = fopen(file, "w");
    fputs("vla:\n  head:\n    plugin: tiny-head\n", f);
    fclose(f);
    setenv("VLA_CONFIG_PATH", tmp, 1);
    const char *const ov[] = {"framework.name=Tiny"};
    vla_framework_options o = {NULL, ov, 1, NULL};
    vla_config *c;
    CHECK_OK(vla_framework_resolve(&o, &c));
    CHECK(!strcmp(str(c, "vla.head.plugin"), "tiny-head"));
    CHECK(!strcmp(str(c, "framework.name"), "Tiny"));
    vla_config_free(c);
    unlink(file);
    rmdir(dir);
    rmdir(tmp);
}

int main(int argc, char **argv) {
    test_init(argc, argv);
    test_merge_order();
    test_names();
    test_errors();
    test_list_and_env();
    return test_finish("test_framework");
}
