/* The body shared by the normalizer plugins' smoke tests
 * (smoke-normalizer-<name> PLUGIN.so): load only that plugin, run it on a
 * tiny statistics entry and random actions, and check finiteness, ranges,
 * the binary gripper, determinism and clean errors. */
#ifndef VLA_NORMALIZER_SMOKE_H
#define VLA_NORMALIZER_SMOKE_H

#include <math.h>
#include <string.h>

#include "harness.h"
#include "vla/normalizer.h"
#include "vla/registry.h"
#include "vla/rng.h"

static const char smoke_stats_json[] =
    "{\"robot\": {\"action\": {"
    "\"q01\": [-0.03, -0.02, 0.25, -0.1, -0.2, -0.3, 0], \"q99\": [0.03, 0.02, 0.25, 0.1, 0.2, 0.3, 1],"
    "\"min\": [-0.05, -0.04, 0.25, -0.3, -0.4, -0.5, 0], \"max\": [0.05, 0.06, 0.25, 0.3, 0.4, 0.6, 1],"
    "\"mean\": [0, 0, 0.25, 0, 0, 0, 0.5], \"std\": [0.01, 0.02, 0, 0.05, 0.06, 0.07, 0.5],"
    "\"mask\": [true, true, true, true, true, true, false]},"
    "\"state\": {\"q01\": [-1, -1], \"q99\": [1, 2], \"min\": [-1, -1], \"max\": [1, 2], \"mean\": [0, 0],"
    "\"std\": [1, 1]}},"
    " \"bare\": {\"state\": {\"mean\": [0, 0, 0, 0, 0, 0, 0]}}}";

static void *smoke_create(const vla_normalizer_vtable *vt, const char *yaml) {
    vla_config *node = NULL;
    if (yaml) CHECK_OK(vla_config_parse(yaml, strlen(yaml), "smoke", &node));
    vla_plugin_env env = {.root = node, .node = node};
    void *self = NULL;
    CHECK_OK(vt->create(&env, &self));
    vla_config_free(node);
    return self;
}

static int normalizer_smoke(int argc, char **argv, const char *name, vla_norm_mode mode) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    const vla_plugin_desc *desc = NULL;
    CHECK_OK(vla_plugin_load_file(argv[1], &desc));
    if (!desc) return test_finish(name);
    CHECK(desc->kind == VLA_PLUGIN_NORMALIZER && strcmp(desc->name, name) == 0);
    const vla_normalizer_vtable *vt = desc->vtable;
    CHECK(vt->struct_size >= sizeof *vt && vt->create && vt->destroy && vt->unnormalize_actions && vt->normalize_state);

    vla_stats *stats = NULL;
    const vla_stats_entry *e = NULL, *bare = NULL;
    CHECK_OK(vla_stats_parse(smoke_stats_json, sizeof smoke_stats_json - 1, "smoke", &stats));
    CHECK_OK(vla_stats_select(stats, "robot", &e));
    CHECK_OK(vla_stats_select(stats, "bare", &bare));
    if (!e) return test_finish(name);
    const float *lo = mode == VLA_NORM_Q99 ? e->action.q01 : e->action.min;
    const float *hi = mode == VLA_NORM_Q99 ? e->action.q99 : e->action.max;

    enum { T = 16, A = 7 };
    float in[T * A], out[T * A], again[T * A];
    vla_rng rng;
    vla_rng_seed(&rng, 1);
    for (int i = 0; i < T * A; i++) in[i] = (float)(4 * vla_rng_uniform(&rng) - 2);
    const char *configs[] = {NULL, "clip: true\n", "clip: false\n"};
    for (int c = 0; c < 3; c++) {
        void *self = smoke_create(vt, configs[c]);
        if (!self) continue;
        bool clip = c == 0 ? mode != VLA_NORM_MEAN_STD : c == 1;
        CHECK_OK(vt->unnormalize_actions(self, e, in, out, T, A));
        CHECK_OK(vt->unnormalize_actions(self, e, in, again, T, A));
        CHECK(memcmp(out, again, sizeof out) == 0);
        for (int t = 0; t < T; t++)
            for (int d = 0; d < A; d++) {
                float x = out[t * A + d];
                CHECK(isfinite(x));
                if (d == 6) CHECK(x == 0.0f || x == 1.0f); /* mask false: the gripper */
                else if (clip && mode != VLA_NORM_MEAN_STD) CHECK(x >= lo[d] - 1e-6f && x <= hi[d] + 1e-6f);
            }
        float s_in[2] = {0.5f, 7.0f}, s_out[2];
        CHECK_OK(vt->normalize_state(self, e, s_in, s_out, 2));
        CHECK(isfinite(s_out[0]) && isfinite(s_out[1]));
        if (mode == VLA_NORM_Q99) CHECK(s_out[1] == 1.0f); /* clamped */
        CHECK_ERR(vt->unnormalize_actions(self, e, in, out, T, 6), VLA_ERR_SHAPE, "7 dims");
        CHECK_ERR(vt->unnormalize_actions(self, bare, in, out, T, A), VLA_ERR_NOT_FOUND, "bare: no action statistics");
        if (mode != VLA_NORM_MEAN_STD)
            CHECK_ERR(vt->normalize_state(self, bare, in, out, A), VLA_ERR_NOT_FOUND, "needs");
        vt->destroy(self);
    }
    vla_config *bad = NULL;
    CHECK_OK(vla_config_parse("clip: maybe\n", 12, "smoke", &bad));
    vla_plugin_env env = {.root = bad, .node = bad};
    void *self = NULL;
    CHECK_ERR(vt->create(&env, &self), VLA_ERR_TYPE, "clip");
    CHECK(self == NULL);
    vla_config_free(bad);
    vla_stats_free(stats);
    return test_finish(name);
}

#endif
