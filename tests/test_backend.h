/* Opening a backend plugin in a test. Tests that take the backend as an
 * argument (fidelity fixtures, op comparisons, smoke binaries) run on the
 * CPU everywhere and on CUDA where a GPU exists; on a machine where the CUDA
 * backend cannot run, they skip (exit 77, "SKIP: <reason>") for exactly two
 * reasons: its CUDA libraries are not installed, or there is no usable
 * GPU/driver. Any other failure (an unresolved symbol, a wrong ABI, a bad
 * config) fails the test. Include after harness.h. */
#ifndef VLA_TEST_BACKEND_H
#define VLA_TEST_BACKEND_H

#include <string.h>

#include "vla/config.h"
#include "vla/registry.h"

/* Skip, unless a check already failed (a skip must not hide a failure). */
#define TEST_SKIP_UNLESS_FAILED(...)                                                         \
    do {                                                                                     \
        if (test_failures) {                                                                 \
            fprintf(stderr, "%d check(s) failed before the skip\n", test_failures);          \
            exit(1);                                                                         \
        }                                                                                    \
        TEST_SKIP(__VA_ARGS__);                                                              \
    } while (0)

static inline const vla_plugin_desc *test_backend_load(const char *path) {
    const vla_plugin_desc *desc = NULL;
    vla_status s = vla_plugin_load_file(path, &desc);
    if (s == VLA_OK) return desc;
    const char *why = vla_last_error();
    if (strstr(why, "cannot open shared object file") && strstr(why, "libcu"))
        TEST_SKIP_UNLESS_FAILED("the CUDA backend cannot load on this machine: %s", why);
    fprintf(stderr, "loading %s failed: %s\n", path, why);
    return NULL;
}

/* A backend from the plugin at `path` with the given YAML config ("" for none). */
static inline vla_backend *test_backend_open(const char *path, const char *yaml) {
    const vla_plugin_desc *desc = test_backend_load(path);
    if (!desc) return NULL;
    if (desc->kind != VLA_PLUGIN_BACKEND) {
        fprintf(stderr, "%s is not a backend plugin\n", path);
        return NULL;
    }
    vla_config *cfg = NULL;
    if (yaml[0] && vla_config_parse(yaml, strlen(yaml), "test-backend", &cfg) != VLA_OK) {
        fprintf(stderr, "bad test config: %s\n", vla_last_error());
        return NULL;
    }
    vla_backend *be = NULL;
    vla_status s = vla_backend_create(desc->vtable, desc->name, cfg, &be);
    vla_config_free(cfg);
    if (s == VLA_ERR_BACKEND && strstr(vla_last_error(), "no usable GPU"))
        TEST_SKIP_UNLESS_FAILED("%s", vla_last_error());
    if (s != VLA_OK) {
        fprintf(stderr, "creating the backend from %s failed: %s\n", path, vla_last_error());
        return NULL;
    }
    return be;
}

#endif
