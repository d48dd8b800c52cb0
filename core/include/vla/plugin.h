/* The plugin ABI. A plugin is a shared object named
 *   vla-<kind>-<name>.so   (e.g. vla-head-layerwise-fm.so)
 * exporting one symbol, VLA_PLUGIN_ENTRY_SYMBOL, a function returning a
 * pointer to a static vla_plugin_desc. The loader checks abi_version first
 * and refuses a mismatch naming both versions; `vtable` points to the
 * kind's vtable (<vla/backend.h>, <vla/backbone.h>, <vla/head.h>,
 * <vla/tokenizer.h>, <vla/normalizer.h>), whose first member is its
 * struct_size. Vtables only grow by appending; optional slots may be NULL. */
#ifndef VLA_PLUGIN_H
#define VLA_PLUGIN_H

#include <stdint.h>

#include "vla/config.h"
#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VLA_ABI_VERSION 1u
#define VLA_PLUGIN_ENTRY_SYMBOL "vla_plugin_entry"

typedef enum vla_plugin_kind {
    VLA_PLUGIN_BACKBONE = 1,
    VLA_PLUGIN_HEAD,
    VLA_PLUGIN_TOKENIZER,
    VLA_PLUGIN_NORMALIZER,
    VLA_PLUGIN_BACKEND
} vla_plugin_kind;

typedef struct vla_plugin_desc {
    uint32_t abi_version;    /* VLA_ABI_VERSION the plugin was built against */
    vla_plugin_kind kind;
    const char *name;        /* unique within its kind, e.g. "layerwise-fm" */
    const char *version;     /* the plugin's own version, e.g. "0.1.0" */
    const char *description; /* one line */
    const void *vtable;      /* kind-specific vtable */
} vla_plugin_desc;

typedef const vla_plugin_desc *(*vla_plugin_entry_fn)(void);

const char *vla_plugin_kind_name(vla_plugin_kind kind); /* "backbone", "head", ... */
int vla_plugin_kind_from_name(const char *name);        /* -1 if unknown */

struct vla_backend;

/* What a component gets when it is created. */
typedef struct vla_plugin_env {
    const vla_config *root;       /* the whole resolved config */
    const vla_config *node;       /* the component's own section (may be NULL) */
    struct vla_backend *backend;  /* where its weights and compute live */
    const char *base_dir;         /* directory relative paths in the config refer to */
} vla_plugin_env;

/* Plugins define their entry with this macro:
 *   VLA_PLUGIN_DEFINE(VLA_PLUGIN_HEAD, "layerwise-fm", "0.1.0", "QwenPI_v3 DiT head", &vtable) */
#define VLA_PLUGIN_DEFINE(kind_, name_, version_, description_, vtable_)                 \
    __attribute__((visibility("default"))) const vla_plugin_desc *vla_plugin_entry(void); \
    const vla_plugin_desc *vla_plugin_entry(void) {                                      \
        static const vla_plugin_desc desc = {VLA_ABI_VERSION, (kind_), (name_),          \
                                             (version_), (description_), (vtable_)};      \
        return &desc;                                                                    \
    }

#ifdef __cplusplus
}
#endif
#endif
