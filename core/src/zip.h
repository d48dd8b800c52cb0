/* A read-only view of a zip archive held in memory (an mmapped file), enough
 * for torch.save checkpoints: the central directory (Zip64 included) is
 * parsed and every entry's data range is checked against the buffer. Data is
 * never decompressed: entries are returned in place and users refuse
 * compressed ones. Internal to the core. */
#ifndef VLA_ZIP_H
#define VLA_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "vla/status.h"

typedef struct vla_zip_entry {
    char *name;
    const uint8_t *data; /* inside the buffer */
    uint64_t size;       /* stored bytes */
    uint16_t method;     /* 0 = stored */
} vla_zip_entry;

typedef struct vla_zip {
    vla_zip_entry *entries; /* sorted by name */
    size_t n;
} vla_zip;

/* `what` names the archive in messages. */
vla_status vla_zip_open(const char *what, const uint8_t *data, size_t size, vla_zip *out);
const vla_zip_entry *vla_zip_find(const vla_zip *z, const char *name);
void vla_zip_free(vla_zip *z);

#endif
