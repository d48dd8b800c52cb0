/* The normalizer plugins against StarVLA's formulas evaluated in numpy by
 * tools/weights_fixtures.py (normalizer_vectors.json): release-time clipping
 * and binary gripper, HEAD (no clip), state normalisation, degenerate dims.
 * Arguments: the q99, min_max and mean_std plugin files. */
#include "vla/normalizer.h"
#include "vla/registry.h"
#include "weights_test.h"

static const cJSON *get(const cJSON *o, const char *path) {
    char key[128];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        o = cJSON_GetObjectItem(o, key);
        path += n + (dot ? 1 : 0);
    }
    return o;
}

static size_t floats(const cJSON *arr, float *out, size_t cap) {
    size_t n = 0;
    for (const cJSON *v = arr ? arr->child : NULL; v; v = v->next) {
        if (cJSON_IsArray(v)) n += floats(v, out + n, cap - n);
        else if (n < cap) out[n++] = (float)v->valuedouble;
    }
    return n;
}

static void *make(const vla_normalizer_vtable *vt, const char *yaml) {
    vla_config *node = NULL;
    CHECK_OK(vla_config_parse(yaml, strlen(yaml), "test", &node));
    vla_plugin_env env = {.root = node, .node = node};
    void *self = NULL;
    CHECK_OK(vt->create(&env, &self));
    vla_config_free(node);
    return self;
}

static void compare(const char *what, const float *got, const float *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(got[i] == want[i], "%s[%zu]: got %.9g, numpy says %.9g", what, i, got[i], want[i]);
}

static void check_plugin(const cJSON *doc, const vla_stats_entry *e, const char *so, const char *mode) {
    const vla_plugin_desc *desc = NULL;
    CHECK_OK(vla_plugin_load_file(so, &desc));
    if (!desc) return;
    const vla_normalizer_vtable *vt = desc->vtable;
    float in[64], want[64], got[64];
    size_t n = floats(get(doc, "actions_in"), in, 64);
    CHECK(n == 35);
    for (int clip = 0; clip < 2; clip++) {
        char key[64];
        snprintf(key, sizeof key, "%s/%s", mode, clip ? "clip" : "noclip");
        const cJSON *ref = cJSON_GetObjectItem(get(doc, "actions_out"), key);
        if (!ref) continue;
        void *self = make(vt, clip ? "clip: true\n" : "clip: false\n");
        CHECK(floats(ref, want, 64) == n);
        CHECK_OK(vt->unnormalize_actions(self, e, in, got, n / 7, 7));
        compare(key, got, want, n);
        vt->destroy(self);
    }
    void *self = make(vt, "{}");
    for (int k = 0; k < 2; k++) {
        const char *which = k ? "degenerate" : "in";
        char key[64];
        snprintf(key, sizeof key, "%s/%s", mode, which);
        float s_in[8], s_want[8], s_got[8];
        CHECK(floats(cJSON_GetObjectItem(get(doc, "state_in"), which), s_in, 8) == 7);
        CHECK(floats(cJSON_GetObjectItem(get(doc, "state_out"), key), s_want, 8) == 7);
        CHECK_OK(vt->normalize_state(self, e, s_in, s_got, 7));
        compare(key, s_got, s_want, 7);
    }
    vt->destroy(self);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s Q99.so MIN_MAX.so MEAN_STD.so\n", argv[0]);
        return 2;
    }
    char *text = slurp(fixture("normalizer_vectors.json"), NULL);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    CHECK(doc != NULL);
    if (!doc) return test_finish("normalizers");
    char *stats_json = cJSON_PrintUnformatted(cJSON_GetObjectItem(doc, "stats"));
    vla_stats *stats = NULL;
    const vla_stats_entry *e = NULL;
    CHECK_OK(vla_stats_parse(stats_json, strlen(stats_json), "vectors", &stats));
    if (stats) CHECK_OK(vla_stats_select(stats, NULL, &e));
    if (e) {
        check_plugin(doc, e, argv[1], "q99");
        check_plugin(doc, e, argv[2], "min_max");
        check_plugin(doc, e, argv[3], "mean_std");
    }
    vla_stats_free(stats);
    free(stats_json);
    cJSON_Delete(doc);
    free(text);
    return test_finish("normalizers");
}
