#include "vla/registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

typedef struct plugin_entry {
    vla_plugin_entry_info info;
    int tier;
    char *duplicate_path; /* another file with the same kind+name in the same tier */
    int shadowed;         /* an earlier tier has the same kind+name */
    char *error_buf;
} plugin_entry;

struct vla_registry {
    plugin_entry *entries;
    size_t n, cap;
};

static const char *const kind_names[] = {NULL, "backbone", "head", "tokenizer", "normalizer", "backend"};

const char *vla_plugin_kind_name(vla_plugin_kind kind) {
    return (kind >= VLA_PLUGIN_BACKBONE && kind <= VLA_PLUGIN_BACKEND) ? kind_names[kind] : "unknown";
}

int vla_plugin_kind_from_name(const char *name) {
    for (int k = VLA_PLUGIN_BACKBONE; k <= VLA_PLUGIN_BACKEND; k++)
        if (strcmp(name, kind_names[k]) == 0) return k;
    return -1;
}

/* "vla-head-layerwise-fm.so" -> kind head, name "layerwise-fm" */
static int parse_file_name(const char *file, vla_plugin_kind *kind, char *name, size_t name_cap) {
    size_t len = strlen(file);
    if (len < 8 || strncmp(file, "vla-", 4) != 0 || strcmp(file + len - 3, ".so") != 0) return 0;
    for (int k = VLA_PLUGIN_BACKBONE; k <= VLA_PLUGIN_BACKEND; k++) {
        size_t kl = strlen(kind_names[k]);
        if (strncmp(file + 4, kind_names[k], kl) == 0 && file[4 + kl] == '-') {
            size_t nl = len - 3 - (4 + kl + 1);
            if (nl == 0 || nl >= name_cap) return 0;
            memcpy(name, file + 4 + kl + 1, nl);
            name[nl] = '\0';
            *kind = (vla_plugin_kind)k;
            return 1;
        }
    }
    return 0;
}

static vla_status add_entry(vla_registry *r, vla_plugin_kind kind, const char *name, const char *path,
                            int tier) {
    for (size_t i = 0; i < r->n; i++) {
        plugin_entry *e = &r->entries[i];
        if (e->info.kind != kind || strcmp(e->info.name, name) != 0) continue;
        if (strcmp(e->info.path, path) == 0) return VLA_OK;
        if (e->tier == tier) {
            if (!e->duplicate_path) e->duplicate_path = strdup(path);
            return VLA_OK;
        }
        /* an earlier tier already provides it: record the later one as shadowed */
        break;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        plugin_entry *n = realloc(r->entries, cap * sizeof *n);
        if (!n) return vla_error(VLA_ERR_OOM, "plugin registry: out of memory");
        r->entries = n;
        r->cap = cap;
    }
    plugin_entry *e = &r->entries[r->n];
    memset(e, 0, sizeof *e);
    e->info.kind = kind;
    e->info.name = strdup(name);
    e->info.path = strdup(path);
    e->tier = tier;
    for (size_t i = 0; i < r->n; i++)
        if (r->entries[i].info.kind == kind && strcmp(r->entries[i].info.name, name) == 0) e->shadowed = 1;
    if (!e->info.name || !e->info.path) return vla_error(VLA_ERR_OOM, "plugin registry: out of memory");
    r->n++;
    return VLA_OK;
}

/* Scan one directory for vla-*.so (not recursive). Missing dirs are fine. */
static vla_status scan_dir(vla_registry *r, const char *dir, int tier) {
    DIR *d = opendir(dir);
    if (!d) return VLA_OK;
    struct dirent *de;
    vla_status s = VLA_OK;
    while (s == VLA_OK && (de = readdir(d)) != NULL) {
        vla_plugin_kind kind;
        char name[128];
        if (!parse_file_name(de->d_name, &kind, name, sizeof name)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        s = add_entry(r, kind, name, path, tier);
    }
    closedir(d);
    return s;
}

/* The build tree keeps each plugin in its own folder: <root>/<group>/<plugin>/. */
static vla_status scan_build_tree(vla_registry *r, int tier) {
    static const char *const groups[] = {"plugins", "backbones", "heads", "examples"};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        char group_dir[4096];
        snprintf(group_dir, sizeof group_dir, "%s/%s", VLA_BUILD_ROOT, groups[g]);
        DIR *d = opendir(group_dir);
        if (!d) continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') continue;
            char sub[4096 + 256];
            snprintf(sub, sizeof sub, "%s/%s", group_dir, de->d_name);
            vla_status s = scan_dir(r, sub, tier);
            if (s != VLA_OK) {
                closedir(d);
                return s;
            }
        }
        closedir(d);
    }
    return VLA_OK;
}

static vla_status registry_new(vla_registry **out) {
    *out = calloc(1, sizeof **out);
    return *out ? VLA_OK : vla_error(VLA_ERR_OOM, "plugin registry: out of memory");
}

vla_status vla_registry_open(vla_registry **out) {
    vla_registry *r;
    VLA_TRY(registry_new(&r));
    vla_status s = VLA_OK;
    const char *env = getenv("VLA_PLUGIN_PATH");
    if (env && *env) {
        char *copy = strdup(env);
        if (!copy) s = vla_error(VLA_ERR_OOM, "plugin registry: out of memory");
        for (char *save = NULL, *dir = copy ? strtok_r(copy, ":", &save) : NULL; s == VLA_OK && dir;
             dir = strtok_r(NULL, ":", &save))
            s = scan_dir(r, dir, 0);
        free(copy);
    }
    if (s == VLA_OK && vla_paths_in_build_tree()) s = scan_build_tree(r, 1);
    if (s == VLA_OK) s = scan_dir(r, VLA_INSTALL_PLUGIN_DIR, 2);
    if (s != VLA_OK) {
        vla_registry_close(r);
        return s;
    }
    *out = r;
    return VLA_OK;
}

vla_status vla_registry_open_dirs(const char *const *dirs, int n_dirs, vla_registry **out) {
    vla_registry *r;
    VLA_TRY(registry_new(&r));
    for (int i = 0; i < n_dirs; i++) {
        vla_status s = scan_dir(r, dirs[i], 0);
        if (s != VLA_OK) {
            vla_registry_close(r);
            return s;
        }
    }
    *out = r;
    return VLA_OK;
}

void vla_registry_close(vla_registry *r) {
    if (!r) return;
    /* Plugins stay loaded for the life of the process (never dlclose). */
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->entries[i].info.name);
        free((char *)r->entries[i].info.path);
        free(r->entries[i].duplicate_path);
        free(r->entries[i].error_buf);
    }
    free(r->entries);
    free(r);
}

size_t vla_registry_count(const vla_registry *r) { return r->n; }

const vla_plugin_entry_info *vla_registry_at(const vla_registry *r, size_t i) {
    return i < r->n ? &r->entries[i].info : NULL;
}

static vla_status check_desc(const char *path, const vla_plugin_desc *d) {
    if (!d) return vla_error(VLA_ERR_PLUGIN, "%s: %s() returned NULL", path, VLA_PLUGIN_ENTRY_SYMBOL);
    if (d->abi_version != VLA_ABI_VERSION)
        return vla_error(VLA_ERR_ABI,
                         "%s: plugin was built for vla plugin ABI version %u, but this libvla "
                         "implements ABI version %u; rebuild the plugin against this vla",
                         path, d->abi_version, VLA_ABI_VERSION);
    if (d->kind < VLA_PLUGIN_BACKBONE || d->kind > VLA_PLUGIN_BACKEND)
        return vla_error(VLA_ERR_PLUGIN, "%s: unknown plugin kind %d", path, (int)d->kind);
    if (!d->name || !d->name[0] || !d->vtable)
        return vla_error(VLA_ERR_PLUGIN, "%s: descriptor lacks a name or a vtable", path);
    uint32_t struct_size;
    memcpy(&struct_size, d->vtable, sizeof struct_size);
    if (struct_size < 2 * sizeof(void *))
        return vla_error(VLA_ERR_PLUGIN, "%s: vtable struct_size %u is implausible", path, struct_size);
    return VLA_OK;
}

vla_status vla_plugin_load_file(const char *path, const vla_plugin_desc **out) {
    *out = NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return vla_error(VLA_ERR_PLUGIN, "cannot load plugin %s: %s", path, why ? why : "unknown dlopen error");
    }
    dlerror();
    void *sym = dlsym(h, VLA_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        /* Unload only a file that is not a plugin at all: nothing of it ran. */
        dlclose(h);
        return vla_error(VLA_ERR_PLUGIN,
                         "%s is not a vla plugin: it does not export the entry symbol %s "
                         "(define it with VLA_PLUGIN_DEFINE)",
                         path, VLA_PLUGIN_ENTRY_SYMBOL);
    }
    vla_plugin_entry_fn fn;
    memcpy(&fn, &sym, sizeof fn);
    const vla_plugin_desc *d = fn();
    VLA_TRY(check_desc(path, d));
    *out = d;
    return VLA_OK;
}

static vla_status load_entry(plugin_entry *e) {
    if (e->info.desc) return VLA_OK;
    if (e->info.load_error) return vla_error(VLA_ERR_PLUGIN, "%s", e->info.load_error);
    if (e->duplicate_path)
        return vla_error(VLA_ERR_PLUGIN, "two %s plugins named '%s': %s and %s; remove one",
                         vla_plugin_kind_name(e->info.kind), e->info.name, e->info.path, e->duplicate_path);
    const vla_plugin_desc *d;
    vla_status s = vla_plugin_load_file(e->info.path, &d);
    if (s == VLA_OK && (d->kind != e->info.kind || strcmp(d->name, e->info.name) != 0))
        s = vla_error(VLA_ERR_PLUGIN, "%s declares itself %s '%s', but its file name says %s '%s'",
                      e->info.path, vla_plugin_kind_name(d->kind), d->name,
                      vla_plugin_kind_name(e->info.kind), e->info.name);
    if (s != VLA_OK) {
        free(e->error_buf);
        e->error_buf = strdup(vla_last_error());
        e->info.load_error = e->error_buf;
        return s;
    }
    e->info.desc = d;
    return VLA_OK;
}

vla_status vla_registry_get(vla_registry *r, vla_plugin_kind kind, const char *name,
                            const vla_plugin_desc **out) {
    *out = NULL;
    for (size_t i = 0; i < r->n; i++) {
        plugin_entry *e = &r->entries[i];
        if (e->info.kind == kind && !e->shadowed && strcmp(e->info.name, name) == 0) {
            VLA_TRY(load_entry(e));
            *out = e->info.desc;
            return VLA_OK;
        }
    }
    char avail[2048];
    size_t off = 0;
    avail[0] = '\0';
    for (size_t i = 0; i < r->n && off < sizeof avail; i++) {
        if (r->entries[i].info.kind != kind || r->entries[i].shadowed) continue;
        off += (size_t)snprintf(avail + off, sizeof avail - off, "%s%s", off ? ", " : "",
                                r->entries[i].info.name);
    }
    return vla_error(VLA_ERR_NOT_FOUND, "no %s plugin named '%s'; available %s plugins: %s",
                     vla_plugin_kind_name(kind), name, vla_plugin_kind_name(kind),
                     avail[0] ? avail : "(none found; set VLA_PLUGIN_PATH)");
}

void vla_registry_load_all(vla_registry *r) {
    for (size_t i = 0; i < r->n; i++)
        if (!r->entries[i].shadowed) (void)load_entry(&r->entries[i]);
    vla_clear_error();
}

vla_status vla_registry_open_backend(vla_registry *r, const char *name, const vla_config *cfg,
                                     vla_backend **out) {
    const vla_plugin_desc *d;
    VLA_TRY(vla_registry_get(r, VLA_PLUGIN_BACKEND, name, &d));
    return vla_backend_create((const vla_backend_vtable *)d->vtable, name, cfg, out);
}
