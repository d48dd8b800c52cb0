/* dataset_statistics.json: real StarVLA files (compared with a plain cJSON
 * read of the same file), every parse error naming file and JSON path, and
 * unnorm_key selection. */
#include <math.h>

#include "vla/stats.h"
#include "weights_test.h"

static void check_against_json(const char *path, const vla_stats *s) {
    char *text = slurp(path, NULL);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL);
    size_t i = 0;
    for (const cJSON *e = root ? root->child : NULL; e; e = e->next, i++) {
        CHECK(i < s->n_entries && strcmp(s->entries[i].key, e->string) == 0);
        if (i >= s->n_entries) break;
        const char *parts[] = {"action", "state"};
        for (int p = 0; p < 2; p++) {
            const vla_stat_block *b = p ? &s->entries[i].state : &s->entries[i].action;
            const cJSON *blk = cJSON_GetObjectItem(e, parts[p]);
            const char *names[] = {"mean", "std", "min", "max", "q01", "q99"};
            const float *vals[] = {b->mean, b->std, b->min, b->max, b->q01, b->q99};
            for (int k = 0; k < 6; k++) {
                const cJSON *arr = cJSON_GetObjectItem(blk, names[k]);
                CHECK((size_t)cJSON_GetArraySize(arr) == b->dim && vals[k]);
                size_t d = 0;
                for (const cJSON *v = arr ? arr->child : NULL; v && vals[k] && d < b->dim; v = v->next, d++)
                    CHECK_MSG(vals[k][d] == (float)v->valuedouble, "%s %s.%s.%s[%zu]", path, e->string, parts[p],
                              names[k], d);
            }
            const cJSON *mask = cJSON_GetObjectItem(blk, "mask");
            CHECK((mask != NULL) == (b->mask != NULL));
            size_t d = 0;
            for (const cJSON *v = mask ? mask->child : NULL; v && b->mask; v = v->next, d++)
                CHECK(b->mask[d] == cJSON_IsTrue(v));
        }
    }
    CHECK(i == s->n_entries);
    cJSON_Delete(root);
    free(text);
}

static int shared_part_skipped;

static void test_shared_files(void) {
    const char *shared = getenv("VLA_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/starvla-examples/hf-Qwen3-VL-OFT-LIBERO-4in1/dataset_statistics.json",
             shared ? shared : "../shared");
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("%s not found: the real-file checks cannot run\n", path);
        shared_part_skipped = 1;
        return;
    }
    fclose(f);
    vla_stats *s = NULL;
    CHECK_OK(vla_stats_load(path, &s));
    if (!s) return;
    CHECK(s->n_entries == 1 && strcmp(s->entries[0].key, "franka") == 0);
    CHECK(s->entries[0].action.dim == 7 && s->entries[0].state.dim == 8);
    bool want_mask[7] = {true, true, true, true, true, true, false};
    CHECK(s->entries[0].action.mask && memcmp(s->entries[0].action.mask, want_mask, sizeof want_mask) == 0);
    CHECK(s->entries[0].state.mask == NULL);
    const vla_stats_entry *e = NULL;
    CHECK_OK(vla_stats_select(s, NULL, &e));
    CHECK(e == &s->entries[0]);
    CHECK_ERR(vla_stats_select(s, "oxe_bridge", &e), VLA_ERR_NOT_FOUND, "no unnorm_key 'oxe_bridge' (available: 'franka')");
    check_against_json(path, s);
    vla_stats_free(s);

    snprintf(path, sizeof path, "%s/starvla-examples/pr443-memtest-gr1/dataset_statistics.json",
             shared ? shared : "../shared");
    CHECK_OK(vla_stats_load(path, &s));
    if (!s) return;
    CHECK(s->n_entries == 1 && s->entries[0].action.dim == 29 && s->entries[0].state.dim == 29);
    check_against_json(path, s);
    vla_stats_free(s);
}

static void bad(const char *json, vla_status code, const char *needle) {
    vla_stats *s = (vla_stats *)&bad;
    CHECK_ERR(vla_stats_parse(json, strlen(json), "run/dataset_statistics.json", &s), code, needle);
    CHECK(s == NULL);
    CHECK_MSG(strstr(vla_last_error(), "run/dataset_statistics.json"), "no file name in: %s", vla_last_error());
}

static void test_errors(void) {
    bad("{\"oxe_bridge\": {\"action\": {\"mean\": [1, 2, 3], \"q99\": [1, 2]}}}", VLA_ERR_SHAPE,
        "oxe_bridge.action.q99 has 2 values but oxe_bridge.action.mean has 3");
    bad("{\"oxe_bridge\": {\"action\": {\"q01\": [0, 1, 2, \"x\"]}}}", VLA_ERR_TYPE,
        "oxe_bridge.action.q01[3]: expected a finite number, got a string");
    bad("{\"a\": {\"state\": {\"std\": [0, null]}}}", VLA_ERR_TYPE, "a.state.std[1]: expected a finite number, got null");
    bad("{\"a\": {\"state\": {\"std\": [1e300]}}}", VLA_ERR_TYPE, "a.state.std[0]: expected a finite number");
    bad("{\"a\": {\"action\": {\"q01\": [0, 1], \"mask\": [true, 2]}}}", VLA_ERR_TYPE,
        "a.action.mask[1]: expected true/false or 0/1");
    bad("{\"a\": {\"action\": {\"q01\": [0, 1], \"mask\": [true]}}}", VLA_ERR_SHAPE, "a.action.mask has 1 values");
    bad("{\"a\": {\"action\": {\"q01\": 3}}}", VLA_ERR_TYPE, "a.action.q01: expected an array");
    bad("{\"a\": {\"action\": {\"q01\": []}}}", VLA_ERR_PARSE, "a.action.q01: empty array");
    bad("{\"a\": {\"action\": {\"q\": [1]}}}", VLA_ERR_PARSE, "a.action: none of mean");
    bad("{\"a\": {\"action\": [1]}}", VLA_ERR_TYPE, "a.action: expected an object");
    bad("{\"a\": {\"num_transitions\": 5}}", VLA_ERR_PARSE, "a: neither \"action\" nor \"state\"");
    bad("{\"a\": 5}", VLA_ERR_TYPE, "a: expected an object");
    bad("{}", VLA_ERR_PARSE, "one entry per embodiment key");
    bad("[1, 2]", VLA_ERR_PARSE, "one entry per embodiment key");
    bad("{\"a\": {", VLA_ERR_PARSE, "not valid JSON");
    vla_stats *s = NULL;
    CHECK_ERR(vla_stats_load("/nonexistent/dataset_statistics.json", &s), VLA_ERR_IO,
              "/nonexistent/dataset_statistics.json");
}

static void test_select(void) {
    const char *json = "{\"oxe_bridge\": {\"action\": {\"q01\": [0, 0], \"q99\": [1, 1], \"mask\": [1, 0]},"
                       " \"state\": {\"mean\": [0, 0, 0]}, \"num_transitions\": 10},"
                       " \"oxe_rt1\": {\"action\": {\"q01\": [0], \"q99\": [2]}}}";
    vla_stats *s = NULL;
    CHECK_OK(vla_stats_parse(json, strlen(json), "two.json", &s));
    if (!s) return;
    const vla_stats_entry *e = NULL;
    CHECK_ERR(vla_stats_select(s, NULL, &e), VLA_ERR_INVALID_ARG,
              "2 embodiment keys, so an unnorm_key is required (one of 'oxe_bridge', 'oxe_rt1')");
    CHECK_ERR(vla_stats_select(s, "bridge", &e), VLA_ERR_NOT_FOUND, "available: 'oxe_bridge', 'oxe_rt1'");
    CHECK_OK(vla_stats_select(s, "oxe_rt1", &e));
    CHECK(e && e->action.dim == 1 && e->action.q99[0] == 2.0f && e->action.mask == NULL && e->state.dim == 0);
    CHECK_OK(vla_stats_select(s, "oxe_bridge", &e));
    CHECK(e && e->action.mask && e->action.mask[0] && !e->action.mask[1] && e->state.dim == 3);
    CHECK(e && e->action.mean == NULL && e->state.q01 == NULL);
    vla_stats_free(s);
}

int main(void) {
    test_shared_files();
    test_errors();
    test_select();
    if (shared_part_skipped && !test_failures) TEST_SKIP("../shared is absent: real dataset_statistics.json not checked");
    return test_finish("stats");
}
