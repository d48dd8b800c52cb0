/* Declared parameters: the bridge between components and weight files.
 * A component declares every tensor it needs (name, shape, kind) into a
 * vla_params set and gets a vla_tensor slot filled on load, as a PyTorch
 * module's state_dict does. The core then loads them from a vla_weights map
 * (strict by default: a report of missing, unexpected and mis-shaped keys),
 * fills them with deterministic random values (tiny default model,
 * benchmarks), or just counts them (dry runs of the full-size model). */
#ifndef VLA_PARAMS_H
#define VLA_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "vla/backend.h"
#include "vla/tensor.h"
#include "vla/weights.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_params vla_params;

typedef enum vla_param_kind {
    VLA_PARAM_MATRIX = 0, /* matmul weight [out, in] (or conv viewed as one): kept in
                             its stored float dtype (bf16 stays bf16); random init N(0, 0.02) */
    VLA_PARAM_EMBEDDING,  /* lookup table [rows, dim]: stored float dtype; N(0, 0.02) */
    VLA_PARAM_VECTOR,     /* bias and other vectors: F32; random init N(0, 0.02) */
    VLA_PARAM_NORM_WEIGHT /* norm gain: F32; random init 1 + N(0, 0.02) */
} vla_param_kind;

vla_status vla_params_create(vla_params **out);
void vla_params_destroy(vla_params *p); /* frees loaded tensors too */

/* Names declared from now on get this prefix (e.g. "qwen_vl_interface.model."). */
vla_status vla_params_set_prefix(vla_params *p, const char *prefix);

/* Declare `name` (printf-style, after the prefix) with the given shape. `slot`
 * must stay valid until load; it is filled with the loaded tensor. */
vla_status vla_params_add(vla_params *p, vla_tensor *slot, vla_param_kind kind, int ndim,
                          const int64_t *shape, const char *name_fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Mark the last-declared parameter optional: if the file lacks it, `fallback`
 * (a full name, e.g. the tied embedding) is used instead. */
vla_status vla_params_tie_last(vla_params *p, const char *fallback_full_name);
/* Declare that keys with this full-name prefix may be present in files and
 * are deliberately ignored (e.g. unused output layers); not "unexpected". */
vla_status vla_params_ignore(vla_params *p, const char *full_name_prefix);

size_t vla_params_count(const vla_params *p);
const char *vla_params_name(const vla_params *p, size_t i);
const vla_tensor *vla_params_slot(const vla_params *p, size_t i); /* shape/dtype before load */
vla_param_kind vla_params_kind(const vla_params *p, size_t i);
int64_t vla_params_numel_total(const vla_params *p);
/* Sum of elements of parameters whose name starts with `prefix`. */
int64_t vla_params_numel_prefix(const vla_params *p, const char *prefix);

typedef struct vla_params_load_options {
    bool allow_missing;    /* default false: strict, like StarVLA's strict=True */
    bool allow_unexpected; /* default false */
    vla_dtype matrix_dtype; /* VLA_DTYPE_COUNT = keep stored dtype; else convert */
} vla_params_load_options;

/* Load every declared parameter from `w` into `backend` memory. On failure
 * the message lists (up to a limit) missing keys, unexpected keys and shape
 * mismatches with both shapes. opts may be NULL (strict defaults). */
vla_status vla_params_load(vla_params *p, const vla_weights *w, vla_backend *backend,
                           const vla_params_load_options *opts);
/* Fill every parameter with deterministic pseudo-random values from `seed`
 * (see vla_param_kind for the distributions). */
vla_status vla_params_init_random(vla_params *p, vla_backend *backend, vla_dtype matrix_dtype,
                                  uint64_t seed);
/* Check a weight map against the declaration without loading (dry run):
 * same report as vla_params_load. */
vla_status vla_params_check(const vla_params *p, const vla_weights *w, bool allow_unexpected);

#ifdef __cplusplus
}
#endif
#endif
