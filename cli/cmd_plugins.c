#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vla/registry.h"

void help_plugins(FILE *f) {
    fprintf(f,
            "usage: vla plugins [--kind KIND]\n\n"
            "Lists every plugin found on the search path ($VLA_PLUGIN_PATH, the build\n"
            "tree when run from it, the install directory) with its kind, name, version\n"
            "and file. Plugins that fail to load are listed with the reason.\n"
            "KIND: backbone, head, tokenizer, normalizer, backend.\n");
}

int cmd_plugins(int argc, char **argv) {
    int kind_filter = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
            kind_filter = vla_plugin_kind_from_name(argv[++i]);
            if (kind_filter < 0) return cli_usage_error("plugins", "unknown kind '%s'", argv[i]);
        } else {
            return cli_usage_error("plugins", "unexpected argument '%s'", argv[i]);
        }
    }
    vla_registry *r;
    if (vla_registry_open(&r) != VLA_OK) return cli_fail();
    vla_registry_load_all(r);
    printf("%-11s %-16s %-8s %s\n", "KIND", "NAME", "VERSION", "PATH");
    int failures = 0;
    for (int k = VLA_PLUGIN_BACKBONE; k <= VLA_PLUGIN_BACKEND; k++) {
        if (kind_filter >= 0 && k != kind_filter) continue;
        for (size_t i = 0; i < vla_registry_count(r); i++) {
            const vla_plugin_entry_info *e = vla_registry_at(r, i);
            if ((int)e->kind != k) continue;
            printf("%-11s %-16s %-8s %s\n", vla_plugin_kind_name(e->kind), e->name,
                   e->desc ? e->desc->version : "-", e->path);
            if (e->load_error) {
                printf("            unavailable: %s\n", e->load_error);
                failures++;
            } else if (e->desc && e->desc->description) {
                printf("            %s\n", e->desc->description);
            }
        }
    }
    vla_registry_close(r);
    (void)failures; /* an unavailable optional plugin (CUDA without a GPU) is not an error */
    return VLA_EXIT_OK;
}
