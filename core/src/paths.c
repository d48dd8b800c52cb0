#include "paths.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>

bool vla_paths_in_build_tree(void) {
    Dl_info info;
    if (!dladdr((void *)&vla_paths_in_build_tree, &info) || !info.dli_fname) return false;
    size_t n = strlen(VLA_BUILD_ROOT);
    return strncmp(info.dli_fname, VLA_BUILD_ROOT, n) == 0 && info.dli_fname[n] == '/';
}

const char *vla_paths_config_dir(void) {
    return vla_paths_in_build_tree() ? VLA_SOURCE_ROOT "/configs" : VLA_INSTALL_DATA_DIR "/configs";
}

bool vla_path_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool vla_path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
