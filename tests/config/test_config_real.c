/* Real StarVLA configs from ../shared/starvla-examples: the values its
 * README documents, and a dump -> parse round trip of every YAML there. */
#include <stdlib.h>

#include "config_test.h"

static const char *const files[] = {
    "hf-Qwen3-VL-OFT-LIBERO-4in1/config.yaml",
    "pr443-memtest-gr1/config.full.yaml",
    "pr443-memtest-gr1/config.yaml",
    "repo-train-files/LIBERO/starvla_cotrain_libero.yaml",
    "repo-train-files/MetaWorld/starvla_qwenpiv3_metaworld_mt50.yaml",
    "repo-train-files/RoboDojo/starvla_robodojo_v21_qwengroot_h50_q99.yaml",
    "repo-train-files/RoboDojo/starvla_robodojo_v21_qwenoft_h50_q99.yaml",
    "repo-train-files/RoboDojo/starvla_robodojo_v21_qwenpi_v3_h50_q99.yaml",
    "repo-train-files/Robocasa_365/starvla_qwenoft_robocasa365.yaml",
    "repo-train-files/SimplerEnv/starvla_cotrain_oxe.yaml",
    "repo-train-files/starVLA-config-training/starvla_cotrain_oxe.yaml",
};

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    const char *shared = getenv("VLA_SHARED_DIR");
    char dir[2048], path[4096];
    snprintf(dir, sizeof dir, "%s/starvla-examples", shared ? shared : "");
    snprintf(path, sizeof path, "%s/README.md", dir);
    FILE *probe = shared ? fopen(path, "r") : NULL;
    if (!probe) TEST_SKIP("%s not found (set VLA_SHARED_DIR)", dir);
    fclose(probe);

    vla_config *c;
    snprintf(path, sizeof path, "%s/%s", dir, files[0]);
    CHECK_OK(vla_config_load_file(path, &c));
    if (c) {
        const char *s;
        int64_t v;
        double d;
        bool b;
        CHECK_OK(vla_config_string(c, "framework.name", &s));
        CHECK(!strcmp(s, "QwenOFT"));
        CHECK_OK(vla_config_string(c, "framework.qwenvl.base_vlm", &s));
        CHECK(!strcmp(s, "playground/Pretrained_models/Qwen3-VL-4B-Instruct"));
        CHECK_OK(vla_config_int(c, "framework.action_model.action_dim", &v));
        CHECK(v == 7);
        CHECK_OK(vla_config_int(c, "framework.action_model.future_action_window_size", &v));
        CHECK(v == 7);
        CHECK(!vla_config_has(c, "framework.action_model.action_horizon"));
        CHECK_OK(vla_config_string(c, "datasets.vla_data.data_mix", &s));
        CHECK(!strcmp(s, "libero_all"));
        CHECK_OK(vla_config_string(c, "datasets.vla_data.CoT_prompt", &s));
        CHECK(!strcmp(s, "Your task is {instruction}. To identify the key objects for your task. "
                         "Locate their bounding boxes in [x1,y1,x2,y2] format."));
        CHECK_OK(vla_config_double(c, "trainer.learning_rate.qwen_vl_interface", &d));
        CHECK(d == 1.0e-05);
        CHECK_OK(vla_config_bool(c, "trainer.is_resume", &b));
        CHECK(b);
        double betas[2];
        size_t n;
        CHECK_OK(vla_config_double_array(c, "trainer.optimizer.betas", betas, 2, &n));
        CHECK(n == 2 && betas[0] == 0.9 && betas[1] == 0.95);
        vla_config_free(c);
    }

    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK_OK(vla_config_load_file(path, &c));
        if (!c) continue;
        char *text = dump_str(c);
        vla_config *back;
        CHECK_OK(vla_config_parse(text, strlen(text), files[i], &back));
        CHECK_MSG(back && tree_equal(c, back), "%s does not round-trip", files[i]);
        vla_config_free(back);
        free(text);
        vla_config_free(c);
    }
    return test_finish("test_config_real");
}
