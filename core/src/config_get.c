/* Lookup and typed getters on the config tree.
 *
 * Typing follows the YAML 1.2 core schema and only applies to plain
 * scalars: "8" (quoted) is a string, 8 is an integer. Integers are
 * [-+]?[0-9]+, 0o[0-7]+ or 0x[0-9a-fA-F]+ and must fit in int64; floats are
 * [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)? or .inf/.nan. An integer
 * is accepted where a double is asked for, never the reverse. Any scalar
 * reads as a string (so "version_id: 0.21" can be read as text).
 * For the *_or getters, an explicit null ("key:" with no value) counts as
 * absent, as YAML writers use it for "not set". */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_tree.h"

/* Follow `path`; NULL when absent. *last gets the deepest node reached. */
static const vla_config *walk(const vla_config *node, const char *path, const vla_config **last) {
    *last = node;
    while (node && path && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path), i;
        const vla_config *next = NULL;
        if (node->kind == VLA_CONFIG_MAP)
            next = cfg_child_n(node, path, len);
        else if (node->kind == VLA_CONFIG_SEQ && cfg_parse_index(path, len, &i) && i < node->n)
            next = node->items[i];
        if (!next) return NULL;
        node = *last = next;
        path = dot ? dot + 1 : path + len;
    }
    return node;
}

const vla_config *vla_config_get(const vla_config *node, const char *path) {
    const vla_config *last;
    return walk(node, path, &last);
}

vla_config_kind vla_config_kind_of(const vla_config *node) { return node ? node->kind : VLA_CONFIG_NULL; }

bool vla_config_has(const vla_config *node, const char *path) { return vla_config_get(node, path) != NULL; }

static vla_status type_error(const vla_config *n, const char *expected) {
    char where[CFG_MSG], what[CFG_MSG];
    return vla_error(VLA_ERR_TYPE, "%s: expected %s, got %s", cfg_where(n, where, sizeof where), expected,
                     cfg_describe(n, what, sizeof what));
}

/* The node a getter reads. *out = NULL (and VLA_OK) when it is optional and absent or null. */
static vla_status find(const vla_config *node, const char *path, bool required, const vla_config **out) {
    const vla_config *last;
    char full[CFG_MSG], where[CFG_MSG], what[CFG_MSG];
    *out = walk(node, path, &last);
    if (*out && (required || (*out)->kind != VLA_CONFIG_NULL)) return VLA_OK;
    if (!*out && last && last->kind == VLA_CONFIG_SCALAR)
        return vla_error(VLA_ERR_TYPE, "%s: expected a map holding %s, got %s", cfg_where(last, where, sizeof where),
                         cfg_path_join(node, path, full, sizeof full), cfg_describe(last, what, sizeof what));
    *out = NULL;
    if (!required) return VLA_OK;
    /* name the file and line of the deepest map that does exist */
    char loc[CFG_MSG];
    return vla_error(VLA_ERR_NOT_FOUND, "%s: %s: required key is missing",
                     last ? cfg_loc(last, loc, sizeof loc) : "(no config)", cfg_path_join(node, path, full, sizeof full));
}

static bool plain(const vla_config *n) { return n->kind == VLA_CONFIG_SCALAR && !n->quoted; }

/* non-empty and made only of `set` */
static bool only(const char *s, const char *set) {
    if (!*s) return false;
    for (; *s; s++)
        if (!strchr(set, *s)) return false;
    return true;
}

#define DIGITS "0123456789"

static int int_base(const char *s) {
    if (!strncmp(s, "0x", 2) && only(s + 2, DIGITS "abcdefABCDEF")) return 16;
    if (!strncmp(s, "0o", 2) && only(s + 2, "01234567")) return 8;
    if (*s == '-' || *s == '+') s++;
    return only(s, DIGITS) ? 10 : 0;
}

static bool float_syntax(const char *s) {
    if (*s == '-' || *s == '+') s++;
    size_t whole = strspn(s, DIGITS), frac = 0;
    s += whole;
    if (*s == '.') {
        frac = strspn(++s, DIGITS);
        s += frac;
    }
    if (whole + frac == 0) return false;
    if (*s == 'e' || *s == 'E') {
        if (*++s == '-' || *s == '+') s++;
        return only(s, DIGITS);
    }
    return *s == '\0';
}

bool cfg_text_is_null(const char *s) {
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static bool is_bool_text(const char *s, bool *value) {
    static const char *const names[] = {"false", "False", "FALSE", "true", "True", "TRUE"};
    for (int i = 0; i < 6; i++) {
        if (!strcmp(s, names[i])) {
            *value = i >= 3;
            return true;
        }
    }
    return false;
}

/* .inf, -.inf, .nan and their capitalised forms */
static bool special_float(const char *s, double *v) {
    const char *t = *s == '-' || *s == '+' ? s + 1 : s;
    if (!strcmp(t, ".inf") || !strcmp(t, ".Inf") || !strcmp(t, ".INF")) {
        *v = *s == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
        *v = NAN;
        return true;
    }
    return false;
}

bool cfg_text_is_typed(const char *s) {
    bool b;
    double d;
    return cfg_text_is_null(s) || is_bool_text(s, &b) || int_base(s) || float_syntax(s) || special_float(s, &d);
}

static vla_status to_int(const vla_config *n, int64_t *out) {
    int base = plain(n) ? int_base(n->text) : 0;
    if (!base) return type_error(n, "an integer");
    errno = 0;
    if (base == 10) {
        *out = strtoll(n->text, NULL, 10);
    } else {
        unsigned long long u = strtoull(n->text + 2, NULL, base);
        if (u > INT64_MAX) errno = ERANGE;
        *out = (int64_t)u;
    }
    if (errno == ERANGE) return type_error(n, "an integer in the int64 range");
    return VLA_OK;
}

static vla_status to_double(const vla_config *n, double *out) {
    if (!plain(n)) return type_error(n, "a number");
    const char *s = n->text;
    if (special_float(s, out)) return VLA_OK;
    if (int_base(s) == 16 || int_base(s) == 8) {
        int64_t v;
        VLA_TRY(to_int(n, &v));
        *out = (double)v;
        return VLA_OK;
    }
    if (!float_syntax(s)) return type_error(n, "a number");
    *out = strtod(s, NULL);
    return isinf(*out) ? type_error(n, "a number in the double range") : VLA_OK;
}

static vla_status to_bool(const vla_config *n, bool *out) {
    return plain(n) && is_bool_text(n->text, out) ? VLA_OK : type_error(n, "true or false");
}

static vla_status to_string(const vla_config *n, const char **out) {
    if (n->kind != VLA_CONFIG_SCALAR) return type_error(n, "a string");
    *out = n->text;
    return VLA_OK;
}

#define CONFIG_GETTERS(name, ctype, convert)                                                      \
    vla_status vla_config_##name(const vla_config *node, const char *path, ctype *out) {          \
        const vla_config *n;                                                                      \
        VLA_TRY(find(node, path, true, &n));                                                      \
        return convert(n, out);                                                                   \
    }                                                                                             \
    vla_status vla_config_##name##_or(const vla_config *node, const char *path, ctype dflt, ctype *out) { \
        const vla_config *n;                                                                      \
        VLA_TRY(find(node, path, false, &n));                                                     \
        if (!n) {                                                                                 \
            *out = dflt;                                                                          \
            return VLA_OK;                                                                        \
        }                                                                                         \
        return convert(n, out);                                                                   \
    }

CONFIG_GETTERS(int, int64_t, to_int)
CONFIG_GETTERS(double, double, to_double)
CONFIG_GETTERS(bool, bool, to_bool)
CONFIG_GETTERS(string, const char *, to_string)

vla_status vla_config_int_range(const vla_config *node, const char *path, int64_t dflt, int64_t lo, int64_t hi,
                                int64_t *out) {
    const vla_config *n;
    VLA_TRY(find(node, path, false, &n));
    if (!n) {
        *out = dflt;
        return VLA_OK;
    }
    VLA_TRY(to_int(n, out));
    if (*out < lo || *out > hi) {
        char where[CFG_MSG];
        return vla_error(VLA_ERR_INVALID_ARG, "%s: %lld is out of range [%lld, %lld]", cfg_where(n, where, sizeof where),
                         (long long)*out, (long long)lo, (long long)hi);
    }
    return VLA_OK;
}

static vla_status find_seq(const vla_config *node, const char *path, const vla_config **seq) {
    VLA_TRY(find(node, path, true, seq));
    return (*seq)->kind == VLA_CONFIG_SEQ ? VLA_OK : type_error(*seq, "a sequence");
}

vla_status vla_config_seq_len(const vla_config *node, const char *path, size_t *out) {
    const vla_config *seq;
    VLA_TRY(find_seq(node, path, &seq));
    *out = seq->n;
    return VLA_OK;
}

static vla_status find_array(const vla_config *node, const char *path, size_t cap, size_t *n,
                             const vla_config **seq) {
    char where[CFG_MSG];
    VLA_TRY(find_seq(node, path, seq));
    *n = (*seq)->n;
    if (*n > cap)
        return vla_error(VLA_ERR_SHAPE, "%s: expected at most %zu numbers, got %zu", cfg_where(*seq, where, sizeof where),
                         cap, *n);
    return VLA_OK;
}

vla_status vla_config_double_array(const vla_config *node, const char *path, double *out, size_t cap, size_t *n) {
    const vla_config *seq;
    VLA_TRY(find_array(node, path, cap, n, &seq));
    for (size_t i = 0; i < seq->n; i++) VLA_TRY(to_double(seq->items[i], &out[i]));
    return VLA_OK;
}

vla_status vla_config_int_array(const vla_config *node, const char *path, int64_t *out, size_t cap, size_t *n) {
    const vla_config *seq;
    VLA_TRY(find_array(node, path, cap, n, &seq));
    for (size_t i = 0; i < seq->n; i++) VLA_TRY(to_int(seq->items[i], &out[i]));
    return VLA_OK;
}

const vla_config *vla_config_seq_at(const vla_config *seq, size_t i) {
    return seq && seq->kind == VLA_CONFIG_SEQ && i < seq->n ? seq->items[i] : NULL;
}

size_t vla_config_map_len(const vla_config *map) { return map && map->kind == VLA_CONFIG_MAP ? map->n : 0; }

const char *vla_config_map_key(const vla_config *map, size_t i) {
    return i < vla_config_map_len(map) ? map->items[i]->key : NULL;
}

const vla_config *vla_config_map_value(const vla_config *map, size_t i) {
    return i < vla_config_map_len(map) ? map->items[i] : NULL;
}

vla_status vla_config_check_keys(const vla_config *node, const char *const *allowed) {
    if (!node || node->kind == VLA_CONFIG_NULL) return VLA_OK;
    if (node->kind != VLA_CONFIG_MAP) return type_error(node, "a map");
    for (size_t i = 0; i < node->n; i++) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, node->items[i]->key) != 0) a++;
        if (*a) continue;
        char where[CFG_MSG], names[CFG_MSG] = "";
        size_t len = 0;
        for (a = allowed; *a && len < sizeof names; a++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", a == allowed ? "" : ", ", *a);
        return vla_error(VLA_ERR_INVALID_ARG, "%s: unknown key; allowed keys: %s",
                         cfg_where(node->items[i], where, sizeof where), allowed[0] ? names : "(none)");
    }
    return VLA_OK;
}
