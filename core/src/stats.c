/* dataset_statistics.json: parse, validate, select the unnorm_key entry. */
#include "vla/stats.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATS_MAX_BYTES (64u << 20)

static const char *const stat_names[] = {"mean", "std", "min", "max", "q01", "q99"};
#define N_STATS (sizeof stat_names / sizeof stat_names[0])

static float **stat_slot(vla_stat_block *b, size_t i) {
    float **slots[N_STATS] = {&b->mean, &b->std, &b->min, &b->max, &b->q01, &b->q99};
    return slots[i];
}

static void free_block(vla_stat_block *b) {
    for (size_t i = 0; i < N_STATS; i++) free(*stat_slot(b, i));
    free(b->mask);
    memset(b, 0, sizeof *b);
}

void vla_stats_free(vla_stats *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_entries; i++) {
        free(s->entries[i].key);
        free_block(&s->entries[i].action);
        free_block(&s->entries[i].state);
    }
    free(s->entries);
    free(s->path);
    free(s);
}

/* The block's length: the first array decides, every other must agree. */
static vla_status check_len(const char *name, const char *where, const char *key, const cJSON *arr,
                            vla_stat_block *b, const char **first) {
    if (!cJSON_IsArray(arr))
        return vla_error(VLA_ERR_TYPE, "%s: %s.%s: expected an array", name, where, key);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0) return vla_error(VLA_ERR_PARSE, "%s: %s.%s: empty array", name, where, key);
    if (*first && n != b->dim)
        return vla_error(VLA_ERR_SHAPE, "%s: %s.%s has %zu values but %s.%s has %zu", name, where, key, n, where,
                         *first, b->dim);
    if (!*first) {
        *first = key;
        b->dim = n;
    }
    return VLA_OK;
}

static vla_status parse_floats(const char *name, const char *where, const char *key, const cJSON *arr, float **out,
                               size_t dim) {
    float *v = malloc(dim * sizeof *v);
    if (!v) return vla_error(VLA_ERR_OOM, "%s: out of memory", name);
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        double d = e->valuedouble;
        if (!cJSON_IsNumber(e) || !isfinite((float)d)) {
            free(v);
            return vla_error(VLA_ERR_TYPE, "%s: %s.%s[%zu]: expected a finite number, got %s", name, where, key, i,
                             cJSON_IsNumber(e) ? "a value out of float range" : cJSON_IsString(e) ? "a string"
                             : cJSON_IsNull(e) ? "null" : cJSON_IsBool(e) ? "a boolean" : "an array or object");
        }
        v[i] = (float)d;
    }
    *out = v;
    return VLA_OK;
}

/* mask: booleans, or the integers 0 / 1 */
static vla_status parse_mask(const char *name, const char *where, const cJSON *arr, bool **out, size_t dim) {
    bool *m = malloc(dim * sizeof *m);
    if (!m) return vla_error(VLA_ERR_OOM, "%s: out of memory", name);
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        if (cJSON_IsBool(e)) {
            m[i] = cJSON_IsTrue(e);
        } else if (cJSON_IsNumber(e) && (e->valuedouble == 0 || e->valuedouble == 1)) {
            m[i] = e->valuedouble == 1;
        } else {
            free(m);
            return vla_error(VLA_ERR_TYPE, "%s: %s.mask[%zu]: expected true/false or 0/1", name, where, i);
        }
    }
    *out = m;
    return VLA_OK;
}

static vla_status parse_block(const char *name, const char *key, const char *part, const cJSON *obj,
                              vla_stat_block *b) {
    char where[512];
    snprintf(where, sizeof where, "%s.%s", key, part);
    if (!cJSON_IsObject(obj)) return vla_error(VLA_ERR_TYPE, "%s: %s: expected an object", name, where);
    const char *first = NULL;
    for (size_t i = 0; i < N_STATS; i++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, stat_names[i]);
        if (!arr) continue;
        VLA_TRY(check_len(name, where, stat_names[i], arr, b, &first));
        VLA_TRY(parse_floats(name, where, stat_names[i], arr, stat_slot(b, i), b->dim));
    }
    const cJSON *mask = cJSON_GetObjectItemCaseSensitive(obj, "mask");
    if (mask) {
        VLA_TRY(check_len(name, where, "mask", mask, b, &first));
        VLA_TRY(parse_mask(name, where, mask, &b->mask, b->dim));
    }
    if (!first) return vla_error(VLA_ERR_PARSE, "%s: %s: none of mean, std, min, max, q01, q99", name, where);
    return VLA_OK;
}

vla_status vla_stats_parse(const char *json, size_t len, const char *name, vla_stats **out) {
    *out = NULL;
    if (!name) name = "dataset_statistics.json";
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return vla_error(VLA_ERR_PARSE, "%s: not valid JSON", name);
    vla_stats *s = calloc(1, sizeof *s);
    int n = cJSON_GetArraySize(root);
    vla_status st = s ? VLA_OK : vla_error(VLA_ERR_OOM, "%s: out of memory", name);
    if (st == VLA_OK && (!cJSON_IsObject(root) || n == 0))
        st = vla_error(VLA_ERR_PARSE, "%s: expected an object with one entry per embodiment key", name);
    if (st == VLA_OK && (!(s->entries = calloc((size_t)n, sizeof *s->entries)) || !(s->path = strdup(name))))
        st = vla_error(VLA_ERR_OOM, "%s: out of memory", name);
    for (const cJSON *e = st == VLA_OK ? root->child : NULL; e && st == VLA_OK; e = e->next) {
        vla_stats_entry *ent = &s->entries[s->n_entries++];
        if (!(ent->key = strdup(e->string))) {
            st = vla_error(VLA_ERR_OOM, "%s: out of memory", name);
            break;
        }
        if (!cJSON_IsObject(e)) {
            st = vla_error(VLA_ERR_TYPE, "%s: %s: expected an object", name, e->string);
            break;
        }
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(e, "action");
        const cJSON *state = cJSON_GetObjectItemCaseSensitive(e, "state");
        if (!action && !state)
            st = vla_error(VLA_ERR_PARSE, "%s: %s: neither \"action\" nor \"state\" statistics", name, e->string);
        if (st == VLA_OK && action) st = parse_block(name, e->string, "action", action, &ent->action);
        if (st == VLA_OK && state) st = parse_block(name, e->string, "state", state, &ent->state);
    }
    cJSON_Delete(root);
    if (st != VLA_OK) {
        vla_stats_free(s);
        return st;
    }
    *out = s;
    return VLA_OK;
}

vla_status vla_stats_load(const char *path, vla_stats **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return vla_error(VLA_ERR_IO, "%s: cannot open", path);
    char *buf = malloc(STATS_MAX_BYTES);
    size_t n = buf ? fread(buf, 1, STATS_MAX_BYTES, f) : 0;
    bool too_big = buf && n == STATS_MAX_BYTES;
    bool failed = ferror(f);
    fclose(f);
    vla_status s;
    if (!buf)
        s = vla_error(VLA_ERR_OOM, "%s: out of memory", path);
    else if (failed)
        s = vla_error(VLA_ERR_IO, "%s: read error", path);
    else if (too_big)
        s = vla_error(VLA_ERR_LIMIT, "%s: larger than %u bytes", path, STATS_MAX_BYTES);
    else
        s = vla_stats_parse(buf, n, path, out);
    free(buf);
    return s;
}

vla_status vla_stats_select(const vla_stats *s, const char *unnorm_key, const vla_stats_entry **out) {
    *out = NULL;
    char keys[1024];
    size_t off = 0;
    keys[0] = '\0';
    for (size_t i = 0; i < s->n_entries; i++) {
        if (unnorm_key && strcmp(s->entries[i].key, unnorm_key) == 0) {
            *out = &s->entries[i];
            return VLA_OK;
        }
        if (off < sizeof keys)
            off += (size_t)snprintf(keys + off, sizeof keys - off, "%s'%s'", i ? ", " : "", s->entries[i].key);
    }
    if (!unnorm_key && s->n_entries == 1) {
        *out = &s->entries[0];
        return VLA_OK;
    }
    if (!unnorm_key)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: %zu embodiment keys, so an unnorm_key is required (one of %s)",
                         s->path, s->n_entries, keys);
    return vla_error(VLA_ERR_NOT_FOUND, "%s: no unnorm_key '%s' (available: %s)", s->path, unnorm_key, keys);
}
