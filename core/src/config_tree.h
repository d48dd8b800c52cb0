/* The config tree's node layout, shared by config.c (tree operations),
 * config_yaml.c (the libyaml front end) and framework.c. Internal to the core.
 *
 * Key paths are not stored: a node knows its parent and its own key, and the
 * path is rebuilt when a message needs it, so a deep tree costs no more
 * memory than a flat one. */
#ifndef VLA_CONFIG_TREE_H
#define VLA_CONFIG_TREE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "vla/config.h"

/* Safety limits for untrusted input. */
#define CFG_MAX_BYTES (1u << 20) /* document size */
#define CFG_MAX_DEPTH 64         /* nesting of maps and sequences */
#define CFG_MAX_KEYS 10000       /* entries of one map (duplicate checks are linear) */

/* Where nodes came from: a file name, a string's name, or an override
 * origin such as "--framework.name". Shared by all nodes of one source. */
typedef struct cfg_source {
    atomic_int refs;
    char name[];
} cfg_source;

struct vla_config {
    vla_config_kind kind;
    bool quoted;        /* SCALAR: written quoted or tagged !!str, so always a string */
    int line;           /* 1-based; 0 when the source has no lines (overrides) */
    char *text;         /* SCALAR */
    char *key;          /* key in the parent map; on a detached root, the path it had */
    vla_config *parent; /* NULL on a root */
    vla_config **items; /* SEQ, MAP: children in order */
    size_t n, cap;
    cfg_source *src;
};

cfg_source *cfg_source_new(const char *name);
void cfg_source_release(cfg_source *s);

/* A fresh detached node; NULL on OOM. `text` is copied (SCALAR only). */
vla_config *cfg_node_new(vla_config_kind kind, const char *text, bool quoted, cfg_source *src, int line);
/* Append `child` to a map (key given, copied) or a sequence (key NULL);
 * takes ownership of child, also on failure. */
vla_status cfg_append(vla_config *parent, const char *key, vla_config *child);
/* Map child by key (or by its first len bytes), or NULL. */
vla_config *cfg_child(const vla_config *map, const char *key);
vla_config *cfg_child_n(const vla_config *map, const char *key, size_t len);

/* Parse YAML text. File mode: empty input is an empty map and errors say
 * "name:line:". Value mode (override values): lines are 0, empty input is
 * null, and block collections are refused so that "Task: pick" is not
 * silently a map. */
vla_status cfg_parse(const char *text, size_t len, const char *name, bool value_mode, vla_config **out);

/* Set path to `value` (takes ownership, also on failure), creating missing
 * intermediate maps from `origin`'s source. */
vla_status cfg_set_node(vla_config *root, const char *path, vla_config *value, cfg_source *origin);

/* Message pieces, written into buf (CFG_MSG bytes suffice); each returns its text.
 * cfg_path_join: the node's full key path, plus ".rel" when rel is non-empty.
 * cfg_where: "file:line" (or the override, "--a.b") plus the key path:
 *   "run.yaml:12: framework.action_model.action_dim".
 * cfg_describe: what a node is, for "got ...": "seven", null, a map. */
#define CFG_MSG 1024
const char *cfg_path_join(const vla_config *node, const char *rel, char *buf, size_t cap);
const char *cfg_where(const vla_config *n, char *buf, size_t cap);
/* "file:line" of a node (or its override origin) */
const char *cfg_loc(const vla_config *n, char *buf, size_t cap);
const char *cfg_describe(const vla_config *n, char *buf, size_t cap);

/* YAML 1.2 core schema on plain text: null (null, Null, NULL, ~, empty), or
 * typed = null, bool, integer or float (then only quoting makes it a string). */
bool cfg_text_is_null(const char *text);
bool cfg_text_is_typed(const char *text);

/* A sequence index path segment (decimal digits only). */
bool cfg_parse_index(const char *seg, size_t len, size_t *out);

#endif
