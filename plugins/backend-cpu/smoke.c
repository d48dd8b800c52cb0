/* smoke-backend-cpu PLUGIN.so: load only this plugin, create a backend with
 * 2 threads and run the shared backend smoke chain (tests/backend_smoke.h). */
#include "harness.h"
#include "backend_smoke.h"
#include "vla/registry.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s vla-backend-cpu.so\n", argv[0]);
        return 2;
    }
    const vla_plugin_desc *desc = NULL;
    CHECK_OK(vla_plugin_load_file(argv[1], &desc));
    if (!desc) return test_finish("smoke-backend-cpu");
    CHECK(desc->kind == VLA_PLUGIN_BACKEND);
    CHECK(strcmp(desc->name, "cpu") == 0);

    vla_config *cfg = NULL;
    CHECK_OK(vla_config_parse("threads: 2\n", 11, "smoke", &cfg));
    vla_backend *be = NULL;
    CHECK_OK(vla_backend_create(desc->vtable, desc->name, cfg, &be));
    if (be) backend_smoke_run(be);
    vla_backend_destroy(be);
    vla_config_free(cfg);
    return test_finish("smoke-backend-cpu");
}
