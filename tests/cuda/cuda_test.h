/* Opening the CUDA backend in a test, and skipping (exit 77, "SKIP: ...")
 * only for the two reasons a machine may legitimately lack it: the plugin's
 * CUDA libraries are not installed (dlopen cannot find them), or there is
 * no usable GPU/driver (the backend's create says so). Any other failure
 * (an unresolved symbol, a wrong ABI, a bad config) fails the test. */
#ifndef VLA_TEST_CUDA_H
#define VLA_TEST_CUDA_H

#include <string.h>

#include "harness.h"
#include "vla/registry.h"

/* Skip, unless a check already failed (a skip must not hide a failure). */
#define CUDA_TEST_SKIP(...)                                                          \
    do {                                                                             \
        if (test_failures) {                                                         \
            fprintf(stderr, "%d check(s) failed before the GPU was needed\n", test_failures); \
            exit(1);                                                                 \
        }                                                                            \
        TEST_SKIP(__VA_ARGS__);                                                      \
    } while (0)

static inline const vla_plugin_desc *cuda_test_load(const char *path) {
    const vla_plugin_desc *desc = NULL;
    vla_status s = vla_plugin_load_file(path, &desc);
    if (s == VLA_OK) return desc;
    const char *why = vla_last_error();
    if (strstr(why, "cannot open shared object file") && strstr(why, "libcu"))
        CUDA_TEST_SKIP("the CUDA backend cannot load on this machine: %s", why);
    fprintf(stderr, "loading %s failed: %s\n", path, why);
    return NULL;
}

/* A backend from the plugin at `path` with the given YAML config ("" for none). */
static inline vla_backend *cuda_test_open(const char *path, const char *yaml) {
    const vla_plugin_desc *desc = cuda_test_load(path);
    if (!desc) return NULL;
    vla_config *cfg = NULL;
    if (yaml[0] && vla_config_parse(yaml, strlen(yaml), "cuda-test", &cfg) != VLA_OK) {
        fprintf(stderr, "bad test config: %s\n", vla_last_error());
        return NULL;
    }
    vla_backend *be = NULL;
    vla_status s = vla_backend_create(desc->vtable, desc->name, cfg, &be);
    vla_config_free(cfg);
    if (s == VLA_ERR_BACKEND && strstr(vla_last_error(), "no usable GPU")) CUDA_TEST_SKIP("%s", vla_last_error());
    if (s != VLA_OK) {
        fprintf(stderr, "creating the CUDA backend failed: %s\n", vla_last_error());
        return NULL;
    }
    return be;
}

#endif
