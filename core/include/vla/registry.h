/* Plugin discovery and loading. Discovery only looks at file names
 * (vla-<kind>-<name>.so), so a plugin whose libraries are missing (the CUDA
 * backend on a machine without CUDA) costs nothing until it is selected; it
 * is dlopen()ed (RTLD_NOW | RTLD_LOCAL) on first use and never unloaded.
 *
 * Search order: each directory of $VLA_PLUGIN_PATH (colon-separated), then
 * the build tree (when libvla itself runs from the build tree), then the
 * install directory. The first tier that has a kind+name wins; two files
 * with the same kind+name in one tier are an error naming both paths. */
#ifndef VLA_REGISTRY_H
#define VLA_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "vla/backend.h"
#include "vla/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_registry vla_registry;

typedef struct vla_plugin_entry_info {
    vla_plugin_kind kind;
    const char *name;              /* from the file name */
    const char *path;
    const vla_plugin_desc *desc;   /* NULL until loaded */
    const char *load_error;        /* set if loading failed */
} vla_plugin_entry_info;

/* Scan the default search path. */
vla_status vla_registry_open(vla_registry **out);
/* Scan only the given directories (tests). */
vla_status vla_registry_open_dirs(const char *const *dirs, int n_dirs, vla_registry **out);
void vla_registry_close(vla_registry *r);

size_t vla_registry_count(const vla_registry *r);
const vla_plugin_entry_info *vla_registry_at(const vla_registry *r, size_t i);

/* Load (if needed) and return the descriptor of kind+name. Unknown name:
 * VLA_ERR_NOT_FOUND listing the available names of that kind. Load errors
 * carry dlerror() text, the ABI versions, or the missing symbol. */
vla_status vla_registry_get(vla_registry *r, vla_plugin_kind kind, const char *name,
                            const vla_plugin_desc **out);
/* Load every discovered plugin (for `vla plugins`); failures are recorded in
 * each entry's load_error, not returned. */
void vla_registry_load_all(vla_registry *r);

/* Load one .so directly (tests and `--plugin FILE`), checking its ABI. */
vla_status vla_plugin_load_file(const char *path, const vla_plugin_desc **out);

/* Create a backend instance by name ("cpu", "cuda"). */
vla_status vla_registry_open_backend(vla_registry *r, const char *name, const vla_config *cfg,
                                     vla_backend **out);

#ifdef __cplusplus
}
#endif
#endif
