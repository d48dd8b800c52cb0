#include "vla/backend.h"

#include <stdlib.h>
#include <string.h>

vla_status vla_backend_create(const vla_backend_vtable *vt, const char *name, const vla_config *cfg,
                              vla_backend **out) {
    *out = NULL;
    if (!vt || vt->struct_size < offsetof(vla_backend_vtable, matmul) || !vt->create || !vt->alloc ||
        !vt->free || !vt->write || !vt->read)
        return vla_error(VLA_ERR_PLUGIN, "backend '%s': vtable lacks required memory slots", name);
    vla_backend *b = calloc(1, sizeof *b);
    if (!b) return vla_error(VLA_ERR_OOM, "backend '%s': out of memory", name);
    b->vt = vt;
    snprintf(b->name, sizeof b->name, "%s", name);
    vla_status s = vt->create(cfg, &b->state);
    if (s != VLA_OK) {
        free(b);
        return vla_error_context(s, "backend '%s'", name);
    }
    *out = b;
    return VLA_OK;
}

void vla_backend_destroy(vla_backend *b) {
    if (!b) return;
    if (b->vt->destroy) b->vt->destroy(b->state);
    free(b);
}

vla_status vla_backend_alloc(vla_backend *b, size_t bytes, void **ptr) {
    vla_status s = b->vt->alloc(b->state, bytes ? bytes : 1, ptr);
    if (s != VLA_OK) return vla_error_context(s, "backend '%s': allocating %zu bytes", b->name, bytes);
    return VLA_OK;
}

void vla_backend_free(vla_backend *b, void *ptr) {
    if (ptr) b->vt->free(b->state, ptr);
}

vla_status vla_backend_write(vla_backend *b, void *dst, const void *host_src, size_t bytes) {
    if (!bytes) return VLA_OK;
    vla_status s = b->vt->write(b->state, dst, host_src, bytes);
    if (s != VLA_OK) return vla_error_context(s, "backend '%s': upload of %zu bytes", b->name, bytes);
    return VLA_OK;
}

vla_status vla_backend_read(vla_backend *b, void *host_dst, const void *src, size_t bytes) {
    if (!bytes) return VLA_OK;
    vla_status s = b->vt->read(b->state, host_dst, src, bytes);
    if (s != VLA_OK) return vla_error_context(s, "backend '%s': download of %zu bytes", b->name, bytes);
    return VLA_OK;
}

vla_status vla_backend_synchronize(vla_backend *b) {
    if (!b->vt->synchronize) return VLA_OK;
    vla_status s = b->vt->synchronize(b->state);
    if (s != VLA_OK) return vla_error_context(s, "backend '%s': synchronize", b->name);
    return VLA_OK;
}
