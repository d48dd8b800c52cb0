/* A minimal, valid head plugin used by the registry tests. */
#include "vla/head.h"

static const vla_head_vtable vtable = {.struct_size = sizeof(vla_head_vtable)};
VLA_PLUGIN_DEFINE(VLA_PLUGIN_HEAD, "good", "1.2.3", "registry test plugin", &vtable)
