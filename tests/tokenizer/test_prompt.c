/* test_prompt: StarVLA's state text against numpy.digitize (golden vectors
 * from tools/tokenizer_fixtures.py), full prompt texts against transformers'
 * Qwen3-VL chat template for recipes read from the framework presets,
 * image-token expansion, and the recipe's error paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tok_util.h"

static void check_state_vectors(const cJSON *vectors) {
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors) {
        size_t dim;
        float *state = tok_case_state(v, &dim);
        int bins = cJSON_GetObjectItemCaseSensitive(v, "bins")->valueint;
        char want[4096], *got = NULL;
        snprintf(want, sizeof want, "go [STATE] %s [ACTION]", cJSON_GetObjectItemCaseSensitive(v, "text")->valuestring);
        CHECK_OK(vla_prompt_state_text("go", state, dim, bins, &got));
        CHECK_MSG(got && strcmp(got, want) == 0, "bins %d: got \"%s\", numpy gives \"%s\"", bins, got, want);
        free(got);
        free(state);
    }
}

static void check_prompt_texts(const cJSON *prompts) {
    const cJSON *p;
    cJSON_ArrayForEach(p, prompts) {
        const char *name = cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring;
        vla_config *cfg = NULL;
        vla_prompt_recipe r;
        CHECK_OK(tok_case_config(p, &cfg));
        if (!cfg) continue;
        CHECK_OK(vla_prompt_recipe_load(cfg, &r));
        size_t dim;
        float *state = tok_case_state(p, &dim);
        char *text = NULL;
        CHECK_OK(vla_prompt_render(&r, cJSON_GetObjectItemCaseSensitive(p, "instruction")->valuestring, state, dim,
                                   cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "images")), &text));
        const char *want = cJSON_GetObjectItemCaseSensitive(p, "text")->valuestring;
        CHECK_MSG(text && strcmp(text, want) == 0, "prompt %s:\n  got  \"%s\"\n  want \"%s\"", name, text, want);
        free(text);
        free(state);
        vla_prompt_recipe_free(&r);
        vla_config_free(cfg);
    }
}

static void check_state_errors(void) {
    char *out = NULL;
    float v[3] = {0.1f, NAN, 0.2f};
    CHECK_ERR(vla_prompt_state_text("x", v, 3, 256, &out), VLA_ERR_INVALID_ARG, "state[1] is NaN");
    v[1] = 0.0f;
    v[2] = -INFINITY;
    CHECK_ERR(vla_prompt_state_text("x", v, 3, 256, &out), VLA_ERR_INVALID_ARG, "state[2] is -inf");
    CHECK_ERR(vla_prompt_state_text("x", v, 3, 0, &out), VLA_ERR_INVALID_ARG, "bins");
    CHECK(out == NULL);
    /* An empty state: numpy joins nothing, so two spaces remain. */
    CHECK_OK(vla_prompt_state_text("x", NULL, 0, 256, &out));
    CHECK(out && strcmp(out, "x [STATE]  [ACTION]") == 0);
    free(out);
}

static vla_status recipe_from(const char *yaml, vla_prompt_recipe *r) {
    vla_config *cfg = NULL;
    VLA_TRY(vla_config_parse(yaml, strlen(yaml), "test.yaml", &cfg));
    vla_status st = vla_prompt_recipe_load(cfg, r);
    vla_config_free(cfg);
    return st;
}

static void check_recipe(void) {
    vla_prompt_recipe r;
    CHECK_ERR(recipe_from("vla: {prompt: {action_suffix: 'next {horizon}'}}\n", &r), VLA_ERR_NOT_FOUND,
              "action_suffix needs the action horizon: framework.action_model.action_horizon");
    CHECK_ERR(recipe_from("framework: {action_model: {action_horizon: 4, action_dim: 7}}\n"
                          "vla: {prompt: {action_suffix: '{placeholders}'}}\n", &r),
              VLA_ERR_NOT_FOUND, "vla.prompt.placeholder");
    CHECK_ERR(recipe_from("framework: {action_model: {action_horizon: -3, action_dim: 7}}\n"
                          "vla: {prompt: {action_suffix: '{horizon}'}}\n", &r),
              VLA_ERR_INVALID_ARG, "action_horizon");
    CHECK_ERR(recipe_from("datasets: {vla_data: {CoT_prompt: [1]}}\n", &r), VLA_ERR_TYPE, "CoT_prompt");
    CHECK_ERR(recipe_from("vla: {prompt: {state_in_prompt: maybe}}\n", &r), VLA_ERR_TYPE, "state_in_prompt");

    /* Defaults are the Qwen3-VL Instruct template; the legacy window key gives the horizon. */
    CHECK_OK(recipe_from("framework: {action_model: {future_action_window_size: 7, action_dim: 7}}\n"
                         "vla: {prompt: {action_suffix: ' {horizon}:{placeholders}.', placeholder: '#',"
                         " state_in_prompt: true}}\n", &r));
    CHECK(r.horizon == 8 && r.state_bins == 256 && r.state_in_prompt == 1 && r.cot_template == NULL);
    char *text = NULL;
    float s[2] = {-1.0f, 0.999f};
    CHECK_OK(vla_prompt_render(&r, "go", s, 2, 1, &text));
    CHECK(text && strcmp(text, "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>go [STATE] 0 255 "
                               "[ACTION] 8:########.<|im_end|>\n<|im_start|>assistant\n") == 0);
    free(text);
    CHECK_ERR(vla_prompt_render(&r, "go", s, 2, -1, &text), VLA_ERR_INVALID_ARG, "images");
    vla_prompt_recipe_free(&r);
}

static void check_expand(void) {
    const int32_t P = 9;
    int32_t in_ids[] = {1, P, 2, P, 3}, counts[] = {2, 3};
    vla_tokens in = {in_ids, 5, 5}, out = {0};
    CHECK_OK(vla_prompt_expand_images(&in, P, counts, 2, &out));
    int32_t want[] = {1, P, P, 2, P, P, P, 3};
    CHECK(out.n == 8 && memcmp(out.ids, want, sizeof want) == 0);
    CHECK_ERR(vla_prompt_expand_images(&in, P, counts, 1, &out), VLA_ERR_SHAPE, "2 image placeholder tokens");
    CHECK(out.n == 8);
    counts[1] = 0;
    CHECK_ERR(vla_prompt_expand_images(&in, P, counts, 2, &out), VLA_ERR_INVALID_ARG, "image 1");
    vla_tokens_free(&out);
}

int main(void) {
    cJSON *g = tok_golden();
    CHECK(g != NULL);
    if (!g) return test_finish("prompt");
    check_state_vectors(cJSON_GetObjectItemCaseSensitive(g, "state_text"));
    check_prompt_texts(cJSON_GetObjectItemCaseSensitive(g, "prompts"));
    check_state_errors();
    check_recipe();
    check_expand();
    cJSON_Delete(g);
    return test_finish("prompt");
}
