/* Internals shared by the weight-file readers (safetensors.c, torch_pt.c,
 * weights.c) and their users inside the core (params.c). Not installed. */
#ifndef VLA_WEIGHTS_IMPL_H
#define VLA_WEIGHTS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vla/weights.h"

/* A read-only mapping of a whole file. */
typedef struct vla_mapped_file {
    char *path;
    const uint8_t *data;
    size_t size;
} vla_mapped_file;

vla_status vla_map_file(const char *path, vla_mapped_file *out);
void vla_unmap_file(vla_mapped_file *f);

/* Builders used while a reader fills a map. `vla_weights_add_file` takes
 * ownership of the mapping and returns the stored file (its path is stable
 * for the life of the map). */
vla_status vla_weights_new(vla_weights **out);
vla_status vla_weights_add_file(vla_weights *w, vla_mapped_file *f, const vla_mapped_file **stored);
/* Copies `name`; refuses a duplicate name. */
vla_status vla_weights_add(vla_weights *w, const vla_weight_info *info);
vla_status vla_weights_add_metadata(vla_weights *w, const char *key, const char *value);

/* Readers: append the tensors of one file (or of every shard of an index). */
vla_status vla_safetensors_read(vla_weights *w, const char *path);
vla_status vla_safetensors_read_index(vla_weights *w, const char *index_path, vla_progress_fn progress,
                                      void *user);
vla_status vla_torch_pt_read(vla_weights *w, const char *path, vla_progress_fn progress, void *user);

/* Validate a view (shape, strides in elements, offset in elements) against a
 * storage of `storage_bytes` bytes: sizes and strides non-negative, products
 * not overflowing, every element inside the storage. On success *first_byte
 * and *span are the byte offset of element 0 and the bytes it spans.
 * `what` names the tensor in messages. */
vla_status vla_weights_check_view(const char *what, vla_dtype dtype, int ndim, const int64_t *shape,
                                  const int64_t *stride, int64_t offset, uint64_t storage_bytes,
                                  uint64_t *first_byte, uint64_t *span);

/* Copy logical elements [first, first + n) of `t` (row-major order over its
 * shape, following its strides) into `dst` as `dst_type`. */
vla_status vla_weight_read_range(const vla_weight_info *t, vla_dtype dst_type, uint64_t first,
                                 uint64_t n, void *dst);

/* True when two entries are the same view of the same bytes (tied weights
 * saved as one storage): counted once, uploaded once. */
bool vla_weight_same_view(const vla_weight_info *a, const vla_weight_info *b);

/* Number of elements of a shape; -1 on overflow or a negative size. */
int64_t vla_shape_numel(int ndim, const int64_t *shape);

#endif
