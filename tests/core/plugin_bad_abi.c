/* A head plugin that claims a future ABI version: the loader must refuse it. */
#include "vla/head.h"

static const vla_head_vtable vtable = {.struct_size = sizeof(vla_head_vtable)};

__attribute__((visibility("default"))) const vla_plugin_desc *vla_plugin_entry(void);
const vla_plugin_desc *vla_plugin_entry(void) {
    static const vla_plugin_desc desc = {999u, VLA_PLUGIN_HEAD, "badabi", "0.0.1", "wrong ABI", &vtable};
    return &desc;
}
