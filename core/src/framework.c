/* Framework presets: user file + overrides merged over <preset_dir>/<Name>.yaml. */
#include "vla/framework.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_tree.h"
#include "paths.h"

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

vla_status vla_framework_list(const char *preset_dir, char ***names, size_t *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(preset_dir);
    if (!d) return vla_error(VLA_ERR_NOT_FOUND, "framework presets: cannot open %s: %s", preset_dir, strerror(errno));
    char **v = NULL;
    size_t count = 0, cap = 0;
    const struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        if (count == cap) {
            char **grown = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof *v);
            if (!grown) break;
            v = grown;
        }
        if (!(v[count] = strndup(e->d_name, len - 5))) break;
        count++;
    }
    bool complete = e == NULL;
    closedir(d);
    if (!complete) {
        free_names(v, count);
        return vla_error(VLA_ERR_OOM, "out of memory listing %s", preset_dir);
    }
    if (count) qsort(v, count, sizeof *v, by_name);
    *names = v;
    *n = count;
    return VLA_OK;
}

static const char *default_preset_dir(char *buf, size_t cap) {
    const char *env = getenv("VLA_CONFIG_PATH");
    snprintf(buf, cap, "%s/frameworks", env && *env ? env : vla_paths_config_dir());
    return buf;
}

/* framework.name, else the legacy framework.framework_py; NULL when neither is set. */
static vla_status framework_name(const vla_config *cfg, const vla_config **node, const char **name) {
    *node = vla_config_get(cfg, "framework.name");
    if (vla_config_kind_of(*node) == VLA_CONFIG_NULL) *node = vla_config_get(cfg, "framework.framework_py");
    if (vla_config_kind_of(*node) == VLA_CONFIG_NULL) {
        *node = NULL;
        return VLA_OK;
    }
    VLA_TRY(vla_config_string(*node, NULL, name));
    if (!**name || **name == '.' || strchr(*name, '/')) {
        char where[CFG_MSG];
        return vla_error(VLA_ERR_INVALID_ARG, "%s: \"%s\" is not a framework preset name",
                         cfg_where(*node, where, sizeof where), *name);
    }
    return VLA_OK;
}

static vla_status unknown_framework(const vla_config *node, const char *name, const char *dir) {
    char where[CFG_MSG], list[CFG_MSG] = "none";
    char **names;
    size_t n;
    if (vla_framework_list(dir, &names, &n) == VLA_OK) {
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
        free_names(names, n);
    }
    return vla_error(VLA_ERR_NOT_FOUND, "%s: unknown framework \"%s\"; available in %s: %s",
                     cfg_where(node, where, sizeof where), name, dir, list);
}

static vla_status require_map(const vla_config *cfg, const char *file) {
    char what[CFG_MSG];
    if (cfg->kind == VLA_CONFIG_MAP) return VLA_OK;
    return vla_error(VLA_ERR_TYPE, "%s: the top level of a config must be a map, got %s", file,
                     cfg_describe(cfg, what, sizeof what));
}

/* *cfg becomes preset <- *cfg, with framework.name set from `name_node`. */
static vla_status merge_preset(vla_config **cfg, const vla_config *name_node, const char *name, const char *dir) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
    if (access(path, F_OK) != 0) return unknown_framework(name_node, name, dir);
    vla_config *preset, *name_copy = NULL;
    VLA_TRY(vla_config_load_file(path, &preset));
    vla_status s = require_map(preset, path);
    if (s == VLA_OK) s = vla_config_merge(preset, *cfg);
    if (s == VLA_OK) s = vla_config_clone(name_node, &name_copy);
    if (s == VLA_OK) s = cfg_set_node(preset, "framework.name", name_copy, name_copy->src);
    if (s != VLA_OK) {
        vla_config_free(preset);
        return s;
    }
    vla_config_free(*cfg);
    *cfg = preset;
    return VLA_OK;
}

static vla_status set_config_dir(vla_config *cfg, const char *config_path) {
    char *dir = realpath(config_path, NULL);
    if (!dir) return vla_error(VLA_ERR_IO, "%s: cannot resolve its directory: %s", config_path, strerror(errno));
    char *slash = strrchr(dir, '/');
    slash[slash == dir] = '\0'; /* keep "/" for a file in the root directory */
    cfg_source *src = cfg_source_new(config_path);
    vla_config *v = src ? cfg_node_new(VLA_CONFIG_SCALAR, dir, true, src, 0) : NULL;
    cfg_source_release(src);
    free(dir);
    if (!v) return vla_error(VLA_ERR_OOM, "out of memory resolving %s", config_path);
    return cfg_set_node(cfg, "vla.config_dir", v, v->src);
}

/* Overrides in order; framework.framework_py is an alias of framework.name,
 * so overriding either on the command line selects the framework. */
static vla_status apply_overrides(vla_config *cfg, const char *const *items, int n) {
    static const char alias[] = "framework.framework_py=";
    for (int i = 0; i < n; i++) {
        const char *item = items[i];
        char renamed[4096];
        if (strncmp(item, alias, sizeof alias - 1) == 0) {
            snprintf(renamed, sizeof renamed, "framework.name=%s", item + sizeof alias - 1);
            item = renamed;
        }
        VLA_TRY(vla_config_apply_dotlist(cfg, &item, 1));
    }
    return VLA_OK;
}

vla_status vla_framework_resolve(const vla_framework_options *opts, vla_config **out) {
    char dir_buf[PATH_MAX];
    const char *name = NULL;
    const vla_config *name_node;
    vla_config *cfg = NULL;
    vla_status s;
    *out = NULL;
    if (opts->config_path) {
        VLA_TRY(vla_config_load_file(opts->config_path, &cfg));
        s = require_map(cfg, opts->config_path);
    } else {
        cfg = vla_config_new_map();
        s = cfg ? VLA_OK : vla_error(VLA_ERR_OOM, "out of memory resolving the config");
    }
    if (s == VLA_OK) s = apply_overrides(cfg, opts->overrides, opts->n_overrides);
    if (s == VLA_OK) s = framework_name(cfg, &name_node, &name);
    if (s == VLA_OK && name_node) {
        const char *dir = opts->preset_dir ? opts->preset_dir : default_preset_dir(dir_buf, sizeof dir_buf);
        s = merge_preset(&cfg, name_node, name, dir);
    }
    if (s == VLA_OK && opts->config_path) s = set_config_dir(cfg, opts->config_path);
    if (s != VLA_OK) {
        vla_config_free(cfg);
        return s;
    }
    *out = cfg;
    return VLA_OK;
}
