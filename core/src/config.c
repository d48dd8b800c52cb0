/* The config tree: nodes, clone, merge, set/override, remove, and where a
 * node came from. Parsing is in config_yaml.c, getters in config_get.c,
 * the YAML writer in config_dump.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_tree.h"

cfg_source *cfg_source_new(const char *name) {
    size_t n = strlen(name) + 1;
    cfg_source *s = malloc(sizeof *s + n);
    if (!s) return NULL;
    atomic_init(&s->refs, 1);
    memcpy(s->name, name, n);
    return s;
}

void cfg_source_release(cfg_source *s) {
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

static cfg_source *source_ref(cfg_source *s) {
    atomic_fetch_add(&s->refs, 1);
    return s;
}

vla_config *cfg_node_new(vla_config_kind kind, const char *text, bool quoted, cfg_source *src, int line) {
    vla_config *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->quoted = quoted;
    n->line = line;
    if (kind == VLA_CONFIG_SCALAR && !(n->text = strdup(text))) {
        free(n);
        return NULL;
    }
    n->src = source_ref(src);
    return n;
}

/* Free what a node holds, but not the node itself nor its key. */
static void node_clear(vla_config *n) {
    for (size_t i = 0; i < n->n; i++) vla_config_free(n->items[i]);
    free(n->items);
    free(n->text);
    cfg_source_release(n->src);
    n->items = NULL;
    n->text = NULL;
    n->n = n->cap = 0;
}

void vla_config_free(vla_config *n) {
    if (!n) return;
    node_clear(n);
    free(n->key);
    free(n);
}

vla_config *vla_config_new_map(void) {
    cfg_source *s = cfg_source_new("(config)");
    if (!s) return NULL;
    vla_config *n = cfg_node_new(VLA_CONFIG_MAP, NULL, false, s, 0);
    cfg_source_release(s);
    return n;
}

vla_status cfg_append(vla_config *parent, const char *key, vla_config *child) {
    char *k = key ? strdup(key) : NULL;
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 4;
        vla_config **items = realloc(parent->items, cap * sizeof *items);
        if (items) {
            parent->items = items;
            parent->cap = cap;
        }
    }
    if ((key && !k) || parent->n == parent->cap) {
        free(k);
        vla_config_free(child);
        return vla_error(VLA_ERR_OOM, "out of memory building the config tree");
    }
    free(child->key);
    child->key = k;
    child->parent = parent;
    parent->items[parent->n++] = child;
    return VLA_OK;
}

vla_config *cfg_child_n(const vla_config *map, const char *key, size_t len) {
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->items[i]->key;
        if (strncmp(k, key, len) == 0 && k[len] == '\0') return map->items[i];
    }
    return NULL;
}

vla_config *cfg_child(const vla_config *map, const char *key) { return cfg_child_n(map, key, strlen(key)); }

static size_t index_in_parent(const vla_config *n) {
    size_t i = 0;
    while (n->parent->items[i] != n) i++;
    return i;
}

/* Put `value` in `old`'s place (same key) and free `old`. */
static void replace_node(vla_config *old, vla_config *value) {
    vla_config *parent = old->parent;
    parent->items[index_in_parent(old)] = value;
    free(value->key);
    value->key = old->key;
    value->parent = parent;
    old->key = NULL;
    vla_config_free(old);
}

/* ---- where a node came from ------------------------------------------- */

static void append(char *buf, size_t cap, size_t *len, const char *s, size_t n) {
    if (*len + 1 >= cap) return;
    if (n > cap - 1 - *len) n = cap - 1 - *len;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

static void path_into(const vla_config *n, char *buf, size_t cap, size_t *len) {
    if (!n->parent) {
        if (n->key) append(buf, cap, len, n->key, strlen(n->key));
        return;
    }
    path_into(n->parent, buf, cap, len);
    if (*len) append(buf, cap, len, ".", 1);
    if (n->parent->kind == VLA_CONFIG_MAP) {
        append(buf, cap, len, n->key, strlen(n->key));
    } else {
        char idx[24];
        int k = snprintf(idx, sizeof idx, "%zu", index_in_parent(n));
        append(buf, cap, len, idx, (size_t)k);
    }
}

const char *cfg_path_join(const vla_config *node, const char *rel, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    if (node) path_into(node, buf, cap, &len);
    if (rel && *rel) {
        if (len) append(buf, cap, &len, ".", 1);
        append(buf, cap, &len, rel, strlen(rel));
    }
    return buf;
}

/* "file:line", or just the origin when there is no line ("--a.b") */
const char *cfg_loc(const vla_config *n, char *buf, size_t cap) {
    if (n->line > 0)
        snprintf(buf, cap, "%s:%d", n->src->name, n->line);
    else
        snprintf(buf, cap, "%s", n->src->name);
    return buf;
}

const char *cfg_where(const vla_config *n, char *buf, size_t cap) {
    char loc[CFG_MSG], path[CFG_MSG];
    cfg_loc(n, loc, sizeof loc);
    cfg_path_join(n, NULL, path, sizeof path);
    /* "--a.b: a.b: ..." says the path twice */
    bool named_by_origin = n->line == 0 && strncmp(loc, "--", 2) == 0 && strcmp(loc + 2, path) == 0;
    if (!path[0] || named_by_origin)
        snprintf(buf, cap, "%s", loc);
    else
        snprintf(buf, cap, "%s: %s", loc, path);
    return buf;
}

const char *cfg_describe(const vla_config *n, char *buf, size_t cap) {
    switch (n->kind) {
    case VLA_CONFIG_NULL: return "null";
    case VLA_CONFIG_SEQ: return "a sequence";
    case VLA_CONFIG_MAP: return "a map";
    case VLA_CONFIG_SCALAR: break;
    }
    snprintf(buf, cap, "\"%.200s%s\"%s", n->text, strlen(n->text) > 200 ? "..." : "",
             n->quoted ? " (a quoted string)" : "");
    return buf;
}

const char *vla_config_file(const vla_config *node) { return node ? node->src->name : ""; }

int vla_config_line(const vla_config *node) { return node ? node->line : 0; }

const char *vla_config_path(const vla_config *node) {
    /* a few rotating per-thread buffers, so one message can name several nodes */
    static _Thread_local char bufs[4][CFG_MSG];
    static _Thread_local unsigned next;
    char *buf = bufs[next++ % 4];
    return cfg_path_join(node, NULL, buf, CFG_MSG);
}

/* ---- whole-tree operations -------------------------------------------- */

static vla_status clone_into(const vla_config *src, vla_config **out) {
    vla_config *c = cfg_node_new(src->kind, src->text, src->quoted, src->src, src->line);
    if (!c) return vla_error(VLA_ERR_OOM, "out of memory cloning the config tree");
    for (size_t i = 0; i < src->n; i++) {
        vla_config *item;
        vla_status s = clone_into(src->items[i], &item);
        if (s == VLA_OK) s = cfg_append(c, src->items[i]->key, item);
        if (s != VLA_OK) {
            vla_config_free(c);
            return s;
        }
    }
    *out = c;
    return VLA_OK;
}

vla_status vla_config_clone(const vla_config *node, vla_config **out) {
    char path[CFG_MSG];
    VLA_TRY(clone_into(node, out));
    /* a detached subtree remembers its path so its messages still locate it */
    if (*cfg_path_join(node, NULL, path, sizeof path) && !((*out)->key = strdup(path))) {
        vla_config_free(*out);
        return vla_error(VLA_ERR_OOM, "out of memory cloning the config tree");
    }
    return VLA_OK;
}

vla_status vla_config_merge(vla_config *dst, const vla_config *src) {
    if (dst->kind == VLA_CONFIG_MAP && src->kind == VLA_CONFIG_MAP) {
        for (size_t i = 0; i < src->n; i++) {
            const vla_config *v = src->items[i];
            vla_config *d = cfg_child(dst, v->key), *c;
            if (d && d->kind == VLA_CONFIG_MAP && v->kind == VLA_CONFIG_MAP) {
                VLA_TRY(vla_config_merge(d, v));
                continue;
            }
            VLA_TRY(clone_into(v, &c));
            if (d)
                replace_node(d, c);
            else
                VLA_TRY(cfg_append(dst, v->key, c));
        }
        return VLA_OK;
    }
    /* anything else replaces dst's content; dst keeps its place in its tree */
    vla_config *c;
    VLA_TRY(clone_into(src, &c));
    node_clear(dst);
    dst->kind = c->kind;
    dst->quoted = c->quoted;
    dst->line = c->line;
    dst->text = c->text;
    dst->items = c->items;
    dst->n = c->n;
    dst->cap = c->cap;
    dst->src = c->src;
    for (size_t i = 0; i < dst->n; i++) dst->items[i]->parent = dst;
    free(c);
    return VLA_OK;
}

/* ---- set / override / remove ------------------------------------------ */

/* Split off the next dot-separated segment of *path; false on an empty one. */
static bool next_segment(const char **path, const char **seg, size_t *len) {
    *seg = *path;
    const char *dot = strchr(*path, '.');
    *len = dot ? (size_t)(dot - *path) : strlen(*path);
    *path = dot ? dot + 1 : *path + *len;
    return *len > 0;
}

/* A sequence index segment: decimal digits only. */
bool cfg_parse_index(const char *seg, size_t len, size_t *out) {
    if (len == 0 || len > 18) return false;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (seg[i] < '0' || seg[i] > '9') return false;
        v = v * 10 + (size_t)(seg[i] - '0');
    }
    *out = v;
    return true;
}

/* Non-empty segments, at most CFG_MAX_DEPTH of them. */
static bool usable_path(const char *path) {
    const char *seg;
    size_t len, depth = 0;
    do {
        if (!next_segment(&path, &seg, &len) || ++depth > CFG_MAX_DEPTH) return false;
    } while (seg[len]);
    return true;
}

vla_status cfg_set_node(vla_config *root, const char *path, vla_config *value, cfg_source *origin) {
    char where[CFG_MSG], what[CFG_MSG];
    const char *rest = path, *seg;
    size_t len;
    vla_config *cur = root;
    vla_status s = VLA_OK;
    if (!usable_path(path)) {
        /* origin may belong to value: say it before freeing */
        s = vla_error(VLA_ERR_INVALID_ARG, "%s: \"%s\" is not a usable key path", origin->name, path);
        vla_config_free(value);
        return s;
    }
    for (;;) {
        next_segment(&rest, &seg, &len);
        bool last = seg[len] == '\0';
        if (cur->kind == VLA_CONFIG_NULL) cur->kind = VLA_CONFIG_MAP; /* "a:" then a.b=1 */
        vla_config *child = NULL;
        if (cur->kind == VLA_CONFIG_MAP) {
            child = cfg_child_n(cur, seg, len);
        } else if (cur->kind == VLA_CONFIG_SEQ) {
            size_t i;
            if (!cfg_parse_index(seg, len, &i) || i >= cur->n) {
                s = vla_error(VLA_ERR_NOT_FOUND, "%s: cannot set %s: %s is a sequence of %zu, \"%.*s\" is not an index in it",
                              origin->name, path, cfg_where(cur, where, sizeof where), cur->n, (int)len, seg);
                break;
            }
            child = cur->items[i];
        } else {
            s = vla_error(VLA_ERR_TYPE, "%s: cannot set %s: %s is %s, not a map", origin->name, path,
                          cfg_where(cur, where, sizeof where), cfg_describe(cur, what, sizeof what));
            break;
        }
        if (last) {
            if (child) {
                replace_node(child, value);
                return VLA_OK;
            }
            char *key = strndup(seg, len);
            if (!key) {
                s = vla_error(VLA_ERR_OOM, "out of memory setting %s", path);
                break;
            }
            s = cfg_append(cur, key, value);
            free(key);
            return s;
        }
        if (!child) {
            char *key = strndup(seg, len);
            vla_config *map = cfg_node_new(VLA_CONFIG_MAP, NULL, false, origin, 0);
            if (!key || !map) {
                free(key);
                vla_config_free(map);
                s = vla_error(VLA_ERR_OOM, "out of memory setting %s", path);
                break;
            }
            s = cfg_append(cur, key, map);
            free(key);
            if (s != VLA_OK) break;
            child = map;
        }
        cur = child;
    }
    vla_config_free(value);
    return s;
}

vla_status vla_config_set(vla_config *root, const char *path, const char *value, const char *origin) {
    vla_config *v;
    VLA_TRY(cfg_parse(value, strlen(value), origin ? origin : path, true, &v));
    return cfg_set_node(root, path, v, v->src);
}

vla_status vla_config_apply_override(vla_config *root, const char *key, const char *value) {
    size_t n = strlen(key) + 3;
    char *origin = malloc(n);
    if (!origin) return vla_error(VLA_ERR_OOM, "out of memory applying --%s", key);
    snprintf(origin, n, "--%s", key);
    vla_status s = vla_config_set(root, key, value ? value : "true", origin);
    free(origin);
    return s;
}

vla_status vla_config_apply_dotlist(vla_config *root, const char *const *items, int n) {
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(items[i], '=');
        if (!eq) return vla_error(VLA_ERR_INVALID_ARG, "override \"%s\": expected key=value", items[i]);
        char *key = strndup(items[i], (size_t)(eq - items[i]));
        if (!key) return vla_error(VLA_ERR_OOM, "out of memory applying \"%s\"", items[i]);
        vla_status s = vla_config_apply_override(root, key, eq + 1);
        free(key);
        VLA_TRY(s);
    }
    return VLA_OK;
}

bool vla_config_remove(vla_config *root, const char *path) {
    vla_config *n = (vla_config *)vla_config_get(root, path);
    if (!n || !n->parent || n == root) return false;
    vla_config *parent = n->parent;
    size_t i = index_in_parent(n);
    memmove(parent->items + i, parent->items + i + 1, (parent->n - i - 1) * sizeof *parent->items);
    parent->n--;
    vla_config_free(n);
    return true;
}

/* ---- loading ----------------------------------------------------------- */

vla_status vla_config_parse(const char *text, size_t len, const char *name, vla_config **out) {
    return cfg_parse(text, len, name ? name : "(string)", false, out);
}

vla_status vla_config_load_file(const char *path, vla_config **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return vla_error(VLA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(CFG_MAX_BYTES + 1);
    size_t len = buf ? fread(buf, 1, CFG_MAX_BYTES + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    vla_status s;
    if (!buf)
        s = vla_error(VLA_ERR_OOM, "%s: out of memory reading it", path);
    else if (failed)
        s = vla_error(VLA_ERR_IO, "%s: read failed", path);
    else if (len > CFG_MAX_BYTES)
        s = vla_error(VLA_ERR_LIMIT, "%s: larger than the %u-byte limit for config files", path, CFG_MAX_BYTES);
    else
        s = cfg_parse(buf, len, path, false, out);
    free(buf);
    return s;
}
