/* StarVLA run folders: latest step by default, a chosen step, the
 * safetensors/pt preference, checkpoint file and checkpoints/ paths,
 * final_model fallback, and the errors. */
#include "vla/run_folder.h"
#include "weights_test.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_steps(void) {
    vla_run_folder *rf = NULL;
    CHECK_OK(vla_run_folder_open(fixture("run"), -1, &rf));
    if (!rf) return;
    CHECK(rf->step == 2000);
    CHECK(ends_with(rf->checkpoint_path, "/run/checkpoints/steps_2000_model.safetensors"));
    CHECK(ends_with(rf->config_path, "/run/config.yaml"));
    CHECK(ends_with(rf->stats_path, "/run/dataset_statistics.json"));
    CHECK(ends_with(rf->run_dir, "/run"));
    CHECK(rf->n_steps == 3 && rf->steps[0] == 100 && rf->steps[1] == 300 && rf->steps[2] == 2000);
    vla_run_folder_free(rf);

    CHECK_OK(vla_run_folder_open(fixture("run"), 100, &rf));
    CHECK(rf && rf->step == 100 && ends_with(rf->checkpoint_path, "steps_100_pytorch_model.pt"));
    vla_run_folder_free(rf);

    rf = (vla_run_folder *)&rf;
    CHECK_ERR(vla_run_folder_open(fixture("run"), 250, &rf), VLA_ERR_NOT_FOUND,
              "no checkpoint for step 250 (available steps: 100, 300, 2000)");
    CHECK(rf == NULL);
}

static void test_paths(void) {
    vla_run_folder *rf = NULL;
    CHECK_OK(vla_run_folder_open(fixture("run/checkpoints"), 300, &rf));
    CHECK(rf && ends_with(rf->run_dir, "/run") && ends_with(rf->checkpoint_path, "steps_300_model.safetensors"));
    vla_run_folder_free(rf);

    CHECK_OK(vla_run_folder_open(fixture("run/checkpoints/steps_100_pytorch_model.pt"), -1, &rf));
    CHECK(rf && rf->step == 100 && ends_with(rf->run_dir, "/run") && ends_with(rf->config_path, "/run/config.yaml"));
    CHECK(rf && rf->n_steps == 3 && ends_with(rf->checkpoint_path, "steps_100_pytorch_model.pt"));
    vla_run_folder_free(rf);
    CHECK_ERR(vla_run_folder_open(fixture("run/checkpoints/steps_100_pytorch_model.pt"), 300, &rf),
              VLA_ERR_INVALID_ARG, "a checkpoint file was given");

    CHECK_OK(vla_run_folder_open(fixture("run_final"), -1, &rf));
    CHECK(rf && rf->step == -1 && ends_with(rf->checkpoint_path, "final_model/pytorch_model.pt"));
    CHECK(rf && rf->stats_path == NULL);
    vla_run_folder_free(rf);
    CHECK_OK(vla_run_folder_open(fixture("run_final/final_model/pytorch_model.pt"), -1, &rf));
    CHECK(rf && ends_with(rf->run_dir, "/run_final"));
    vla_run_folder_free(rf);
    CHECK_ERR(vla_run_folder_open(fixture("run_final"), 5, &rf), VLA_ERR_NOT_FOUND, "available steps: none");

    CHECK_ERR(vla_run_folder_open(fixture("run_noconfig"), -1, &rf), VLA_ERR_NOT_FOUND,
              "not a StarVLA run folder: ");
    CHECK(strstr(vla_last_error(), "run_noconfig/config.yaml is missing") != NULL);
    CHECK_ERR(vla_run_folder_open(fixture("st_sharded"), -1, &rf), VLA_ERR_NOT_FOUND, "no checkpoint found");
    CHECK_ERR(vla_run_folder_open(fixture("nothing/here"), -1, &rf), VLA_ERR_NOT_FOUND, "no such file or folder");
}

/* vla_weights_open on a run folder reads the latest checkpoint. */
static void test_weights(void) {
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture("run"), NULL, NULL, &w));
    const vla_weight_info *t = vla_weights_find(w, "action_model.w");
    CHECK(t && ends_with(t->file, "steps_2000_model.safetensors"));
    vla_weights_close(w);
    CHECK_OK(vla_weights_open(fixture("run_final"), NULL, NULL, &w));
    CHECK(vla_weights_count(w) == 1);
    vla_weights_close(w);
    CHECK_ERR(vla_weights_open(fixture("run_noconfig"), NULL, NULL, &w), VLA_ERR_NOT_FOUND, "config.yaml is missing");
}

int main(void) {
    test_steps();
    test_paths();
    test_weights();
    return test_finish("run_folder");
}
