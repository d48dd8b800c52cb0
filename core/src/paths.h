/* Where libvla finds its plugins and data: the build tree when libvla itself
 * runs from it, the install prefix otherwise. Internal to the core. */
#ifndef VLA_PATHS_H
#define VLA_PATHS_H

#include <stdbool.h>

/* stat() helpers: true only for an existing regular file / directory */
bool vla_path_is_file(const char *path);
bool vla_path_is_dir(const char *path);

/* true when the loaded libvla lives under VLA_BUILD_ROOT */
bool vla_paths_in_build_tree(void);
/* Directory of framework presets etc.: "<src>/configs" or "<prefix>/share/vla/configs". */
const char *vla_paths_config_dir(void);

#endif
