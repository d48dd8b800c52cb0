/* Framework presets: how a user config becomes the fully resolved config.
 *
 * A framework (QwenPI_v3, QwenOFT, ...) is not code but a preset file,
 * <preset_dir>/<Name>.yaml, naming the plugins and defaults. Resolution:
 *   1. load the user file (an empty map when there is none) and apply the
 *      overrides to it, in order, later winning;
 *   2. the framework name is framework.name, or the legacy alias
 *      framework.framework_py when framework.name is absent (when both are
 *      present framework.name wins);
 *   3. result = preset <- file-with-overrides, a deep merge in which maps
 *      merge key by key and everything else replaces (OmegaConf's merge);
 *      framework.name is set to the resolved name;
 *   4. vla.config_dir is set to the absolute directory of the user file, so
 *      components can resolve the relative paths it contains.
 * A config without any framework name is used as it is: it names its
 * plugins itself. Every node keeps its origin, so errors name the preset,
 * the user file and line, or the override ("--framework.name"). */
#ifndef VLA_FRAMEWORK_H
#define VLA_FRAMEWORK_H

#include <stddef.h>

#include "vla/config.h"
#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_framework_options {
    const char *config_path;       /* user YAML (may be NULL) */
    const char *const *overrides;  /* "key=value" items, applied in order */
    int n_overrides;
    const char *preset_dir;        /* NULL: $VLA_CONFIG_PATH/frameworks if set, else the
                                      frameworks/ folder of the source tree or install */
} vla_framework_options;

/* Resolve as above into *out (caller frees with vla_config_free). An
 * unknown name fails with VLA_ERR_NOT_FOUND listing the available presets. */
vla_status vla_framework_resolve(const vla_framework_options *opts, vla_config **out);

/* Names of the presets in preset_dir (its *.yaml files, sorted, without
 * the extension). The caller frees each name and the array. */
vla_status vla_framework_list(const char *preset_dir, char ***names, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
