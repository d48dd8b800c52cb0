/* Configuration tree loaded from YAML (libyaml), with typed getters whose
 * errors name the file, line and key path, e.g.
 *   run.yaml:12: framework.action_model.action_dim: expected an integer, got "seven"
 * and dotlist overrides ("framework.name=QwenOFT" or the CLI's
 * "--framework.name QwenOFT"), whose values are parsed as YAML scalars.
 *
 * The YAML accepted: one document per file (a second "---" document is
 * refused, not ignored); no anchors, aliases or tags other than !!str;
 * no duplicate keys; at most 1 MiB and 64 levels of nesting. Only plain
 * scalars are typed, by the YAML 1.2 core schema (8 is an integer, '8' a
 * string, yes/on are strings); see core/src/config_yaml.c.
 *
 * Key paths are dot-separated map keys; a sequence element is addressed by
 * its index ("datasets.vla_data.image_size.0"). Nodes are owned by their
 * tree; getters return borrowed pointers valid until the tree is modified
 * or freed. */
#ifndef VLA_CONFIG_H
#define VLA_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_config vla_config;

typedef enum vla_config_kind {
    VLA_CONFIG_NULL = 0,
    VLA_CONFIG_SCALAR, /* string, number or bool: kept as text plus how it was quoted */
    VLA_CONFIG_SEQ,
    VLA_CONFIG_MAP
} vla_config_kind;

/* Parse a file or a string (name used in messages). Empty input gives an empty map. */
vla_status vla_config_load_file(const char *path, vla_config **out);
vla_status vla_config_parse(const char *text, size_t len, const char *name, vla_config **out);
vla_config *vla_config_new_map(void); /* NULL on OOM */
void vla_config_free(vla_config *root);
vla_status vla_config_clone(const vla_config *node, vla_config **out);

/* Deep merge `src` into `dst` (maps merge key by key, everything else replaces). */
vla_status vla_config_merge(vla_config *dst, const vla_config *src);

/* Set path = value where value is parsed as a YAML scalar or flow node
 * ("8", "true", "[1, 2]", "{a: 1}", "'quoted'"). Missing intermediate maps are
 * created. `origin` names where it came from for messages ("--framework.name"). */
vla_status vla_config_set(vla_config *root, const char *path, const char *value, const char *origin);
/* Apply "key=value" dotlist items in order (later wins). */
vla_status vla_config_apply_dotlist(vla_config *root, const char *const *items, int n);
/* One command-line override "--key value": like vla_config_set with origin
 * "--key"; a NULL value means true (a bare flag). */
vla_status vla_config_apply_override(vla_config *root, const char *key, const char *value);

/* Remove a key; returns true if it existed. */
bool vla_config_remove(vla_config *root, const char *path);

/* Lookup; NULL when absent. */
const vla_config *vla_config_get(const vla_config *node, const char *path);
vla_config_kind vla_config_kind_of(const vla_config *node);
bool vla_config_has(const vla_config *node, const char *path);

/* Typed getters: fail with VLA_ERR_NOT_FOUND (missing, message names file
 * and key path of the parent) or VLA_ERR_TYPE (wrong type: file, line, key
 * path, what was expected and what was found). */
vla_status vla_config_int(const vla_config *node, const char *path, int64_t *out);
vla_status vla_config_double(const vla_config *node, const char *path, double *out);
vla_status vla_config_bool(const vla_config *node, const char *path, bool *out);
vla_status vla_config_string(const vla_config *node, const char *path, const char **out);
/* The same with a default used when the key is absent or null (a present key of the wrong type still fails). */
vla_status vla_config_int_or(const vla_config *node, const char *path, int64_t dflt, int64_t *out);
vla_status vla_config_double_or(const vla_config *node, const char *path, double dflt, double *out);
vla_status vla_config_bool_or(const vla_config *node, const char *path, bool dflt, bool *out);
vla_status vla_config_string_or(const vla_config *node, const char *path, const char *dflt,
                                const char **out);
/* vla_config_int_or, then lo <= value <= hi (the error names file, line and path). */
vla_status vla_config_int_range(const vla_config *node, const char *path, int64_t dflt, int64_t lo, int64_t hi,
                                int64_t *out);
/* Sequences: length (fails if not a sequence) and element access. */
vla_status vla_config_seq_len(const vla_config *node, const char *path, size_t *out);
const vla_config *vla_config_seq_at(const vla_config *seq, size_t i);
/* Maps: number of entries and i-th key/value (insertion order). */
size_t vla_config_map_len(const vla_config *map);
const char *vla_config_map_key(const vla_config *map, size_t i);
const vla_config *vla_config_map_value(const vla_config *map, size_t i);
/* Numeric arrays: a sequence of numbers into out[0..cap); *n gets the length. */
vla_status vla_config_double_array(const vla_config *node, const char *path, double *out, size_t cap,
                                   size_t *n);
vla_status vla_config_int_array(const vla_config *node, const char *path, int64_t *out, size_t cap,
                                size_t *n);

/* Where a node came from: "file:line" and its full key path (for messages).
 * The path is built in a per-thread buffer that the fourth next call reuses. */
const char *vla_config_file(const vla_config *node);
int vla_config_line(const vla_config *node);
const char *vla_config_path(const vla_config *node);

/* Reject keys of `node` not in the NULL-terminated `allowed` list, with a
 * message naming the unknown key, its file:line and the allowed names. */
vla_status vla_config_check_keys(const vla_config *node, const char *const *allowed);

/* Emit as YAML (block style, deterministic order = insertion order). */
vla_status vla_config_dump(const vla_config *node, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
