/* Weight files: one read-only name -> tensor map over safetensors files
 * (single or sharded via model.safetensors.index.json), PyTorch zip/pickle
 * checkpoints written by torch.save, and StarVLA run folders. Tensor data is
 * mmapped, never copied at open time. Every offset and size is validated
 * against the file before use; a hostile file yields an error, never a crash
 * and never code execution. */
#ifndef VLA_WEIGHTS_H
#define VLA_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "vla/dtype.h"
#include "vla/status.h"
#include "vla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_weights vla_weights;

typedef struct vla_weight_info {
    const char *name;
    vla_dtype dtype;
    int32_t ndim;
    int64_t shape[VLA_MAX_DIMS];
    int64_t stride[VLA_MAX_DIMS]; /* in elements (torch views may be non-contiguous) */
    const void *data;             /* first element inside the mapped file */
    size_t span_bytes;            /* bytes from data to one past the last element */
    const char *file;             /* the file it lives in */
} vla_weight_info;

typedef void (*vla_progress_fn)(void *user, const char *what, uint64_t done, uint64_t total);

/* Open a .safetensors file, a model.safetensors.index.json, a .pt/.bin/.ckpt
 * torch checkpoint, or a directory holding one of those (a HF model folder:
 * the index or model.safetensors; a StarVLA run folder: the checkpoint chosen
 * by vla_run_folder_open() in vla/run_folder.h). `progress` may be NULL. */
vla_status vla_weights_open(const char *path, vla_progress_fn progress, void *user,
                            vla_weights **out);
void vla_weights_close(vla_weights *w);

size_t vla_weights_count(const vla_weights *w);
const vla_weight_info *vla_weights_at(const vla_weights *w, size_t i);
const vla_weight_info *vla_weights_find(const vla_weights *w, const char *name);
/* safetensors __metadata__ value, or NULL. */
const char *vla_weights_metadata(const vla_weights *w, const char *key);

/* Copy one tensor into contiguous host memory of dtype `dst_type`, converting
 * (and gathering non-contiguous strides). */
vla_status vla_weight_read(const vla_weight_info *t, vla_dtype dst_type, void *dst, size_t dst_bytes);

#ifdef __cplusplus
}
#endif
#endif
