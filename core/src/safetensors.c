/* safetensors reader: 8-byte little-endian header length, a JSON header
 * (name -> dtype, shape, data_offsets relative to the data section), then the
 * data. Validated as the reference Rust reader does, except that holes
 * between tensors and trailing bytes are tolerated (other writers pad). Also
 * the Hugging Face sharding index, model.safetensors.index.json. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weights_impl.h"

#define ST_MAX_HEADER 100000000ull /* the reference reader's MAX_HEADER_SIZE */
#define ST_MAX_INDEX (64u << 20)

static const struct {
    const char *name;
    vla_dtype dtype;
} st_dtypes[] = {
    {"BF16", VLA_BF16}, {"F16", VLA_F16}, {"F32", VLA_F32}, {"F64", VLA_F64}, {"I64", VLA_I64},
    {"I32", VLA_I32},   {"I16", VLA_I16}, {"I8", VLA_I8},   {"U8", VLA_U8},   {"BOOL", VLA_BOOL},
};

typedef struct range {
    uint64_t begin, end;
    const char *name;
} range;

static int cmp_range(const void *a, const void *b) {
    const range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

/* A JSON number that is a non-negative integer exactly representable in a double. */
static bool json_uint(const cJSON *v, int64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(int64_t)d) return false;
    *out = (int64_t)d;
    return true;
}

static vla_status parse_metadata(vla_weights *w, const char *path, const cJSON *meta) {
    if (!cJSON_IsObject(meta))
        return vla_error(VLA_ERR_PARSE, "%s: __metadata__ must be an object of strings", path);
    for (const cJSON *m = meta->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return vla_error(VLA_ERR_PARSE, "%s: __metadata__.%s must be a string", path, m->string);
        VLA_TRY(vla_weights_add_metadata(w, m->string, m->valuestring));
    }
    return VLA_OK;
}

static vla_status parse_entry(const char *path, const cJSON *e, uint64_t data_size, vla_weight_info *info,
                              range *r) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return vla_error(VLA_ERR_PARSE, "%s: tensor '%s': entry is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return vla_error(VLA_ERR_PARSE, "%s: tensor '%s': missing string \"dtype\"", path, name);
    int dtype = -1;
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dt->valuestring, st_dtypes[i].name) == 0) dtype = (int)st_dtypes[i].dtype;
    if (dtype < 0)
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: tensor '%s': dtype '%s' is not supported", path, name,
                         dt->valuestring);
    if (!cJSON_IsArray(shape))
        return vla_error(VLA_ERR_PARSE, "%s: tensor '%s': missing array \"shape\"", path, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > VLA_MAX_DIMS)
        return vla_error(VLA_ERR_LIMIT, "%s: tensor '%s': %d dimensions (at most %d supported)", path, name,
                         ndim, VLA_MAX_DIMS);
    memset(info, 0, sizeof *info);
    info->name = name;
    info->file = path;
    info->dtype = (vla_dtype)dtype;
    info->ndim = ndim;
    int d = 0;
    for (const cJSON *s = shape->child; s; s = s->next, d++)
        if (!json_uint(s, &info->shape[d]))
            return vla_error(VLA_ERR_PARSE, "%s: tensor '%s': shape[%d] is not a non-negative integer", path,
                             name, d);
    int64_t numel = vla_shape_numel(ndim, info->shape);
    int64_t nbytes;
    if (numel < 0 || __builtin_mul_overflow(numel, (int64_t)vla_dtype_size(info->dtype), &nbytes))
        return vla_error(VLA_ERR_LIMIT, "%s: tensor '%s': element count overflows", path, name);
    /* strides can overflow even when a zero dim makes numel 0 */
    int64_t stride = 1;
    for (d = ndim - 1; d >= 0; d--) {
        info->stride[d] = stride;
        if (__builtin_mul_overflow(stride, info->shape[d] ? info->shape[d] : 1, &stride))
            return vla_error(VLA_ERR_LIMIT, "%s: tensor '%s': shape overflows", path, name);
    }
    int64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_uint(offs->child, &begin) ||
        !json_uint(offs->child->next, &end))
        return vla_error(VLA_ERR_PARSE, "%s: tensor '%s': \"data_offsets\" must be [begin, end] integers",
                         path, name);
    if (begin > end || (uint64_t)end > data_size)
        return vla_error(VLA_ERR_PARSE,
                         "%s: tensor '%s': data_offsets [%lld, %lld] outside the data section of %llu bytes",
                         path, name, (long long)begin, (long long)end, (unsigned long long)data_size);
    if (end - begin != nbytes)
        return vla_error(VLA_ERR_PARSE, "%s: tensor '%s': data_offsets span %lld bytes but %s%s needs %lld",
                         path, name, (long long)(end - begin), dt->valuestring,
                         ndim ? " of that shape" : " scalar", (long long)nbytes);
    info->span_bytes = (size_t)nbytes;
    r->begin = (uint64_t)begin;
    r->end = (uint64_t)end;
    r->name = name;
    return VLA_OK;
}

static vla_status check_overlaps(const char *path, range *r, size_t n) {
    qsort(r, n, sizeof *r, cmp_range);
    uint64_t reach = 0;
    const char *owner = NULL;
    for (size_t i = 0; i < n; i++) {
        if (r[i].begin == r[i].end) continue;
        if (owner && r[i].begin < reach)
            return vla_error(VLA_ERR_PARSE, "%s: tensors '%s' and '%s' overlap in the data section", path, owner,
                             r[i].name);
        reach = r[i].end;
        owner = r[i].name;
    }
    return VLA_OK;
}

static vla_status parse_header(vla_weights *w, const vla_mapped_file *f, const cJSON *root, uint64_t header_len) {
    const char *path = f->path;
    uint64_t data_size = f->size - 8 - header_len;
    const uint8_t *base = f->data + 8 + header_len;
    int n = cJSON_GetArraySize(root);
    range *ranges = calloc((size_t)n + 1, sizeof *ranges);
    if (!ranges) return vla_error(VLA_ERR_OOM, "%s: out of memory", path);
    size_t nr = 0;
    vla_status s = VLA_OK;
    for (const cJSON *e = root->child; e && s == VLA_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            s = parse_metadata(w, path, e);
            continue;
        }
        vla_weight_info info;
        s = parse_entry(path, e, data_size, &info, &ranges[nr]);
        if (s != VLA_OK) break;
        info.data = base + ranges[nr].begin;
        nr++;
        s = vla_weights_add(w, &info);
    }
    if (s == VLA_OK) s = check_overlaps(path, ranges, nr);
    free(ranges);
    return s;
}

vla_status vla_safetensors_read(vla_weights *w, const char *path) {
    vla_mapped_file mf;
    VLA_TRY(vla_map_file(path, &mf));
    const vla_mapped_file *f;
    VLA_TRY(vla_weights_add_file(w, &mf, &f));
    if (f->size < 8)
        return vla_error(VLA_ERR_PARSE, "%s: truncated: %zu bytes, too short for a safetensors header", path,
                         f->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | f->data[i];
    if (n > ST_MAX_HEADER)
        return vla_error(VLA_ERR_LIMIT, "%s: header length %llu exceeds the %llu-byte limit", path,
                         (unsigned long long)n, ST_MAX_HEADER);
    if (n > f->size - 8)
        return vla_error(VLA_ERR_PARSE, "%s: header length %llu is larger than the file (%zu bytes): truncated?",
                         path, (unsigned long long)n, f->size);
    if (n < 2 || f->data[8] != '{')
        return vla_error(VLA_ERR_PARSE, "%s: header is not a JSON object", path);
    cJSON *root = cJSON_ParseWithLength((const char *)f->data + 8, (size_t)n);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vla_error(VLA_ERR_PARSE, "%s: header is not valid JSON", path);
    }
    vla_status s = parse_header(w, f, root, n);
    cJSON_Delete(root);
    return s;
}

/* ---- sharded checkpoints ---- */

/* Shard names must stay inside the index's folder. */
static bool shard_name_ok(const char *s) {
    if (!*s || s[0] == '/' || strchr(s, '\\')) return false;
    for (const char *p = s; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.')) return false;
        p += len + (slash ? 1 : 0);
        if (slash && !*p) return false;
    }
    return true;
}

static vla_status read_shards(vla_weights *w, const char *index_path, const cJSON *map, vla_progress_fn progress,
                              void *user) {
    const char *slash = strrchr(index_path, '/');
    int dir_len = slash ? (int)(slash - index_path) : 1;
    const char *dir = slash ? index_path : ".";
    int n = cJSON_GetArraySize(map);
    const char **shards = calloc((size_t)n + 1, sizeof *shards);
    char **paths = calloc((size_t)n + 1, sizeof *paths);
    vla_status s = (shards && paths) ? VLA_OK : vla_error(VLA_ERR_OOM, "%s: out of memory", index_path);
    size_t ns = 0;
    uint64_t total = 0, done = 0;
    for (const cJSON *e = map->child; e && s == VLA_OK; e = e->next) {
        if (!cJSON_IsString(e)) {
            s = vla_error(VLA_ERR_PARSE, "%s: weight_map.%s: expected a file name string", index_path, e->string);
            break;
        }
        if (!shard_name_ok(e->valuestring)) {
            s = vla_error(VLA_ERR_SECURITY, "%s: weight_map.%s: shard '%s' is not a plain file name inside the "
                          "index's folder", index_path, e->string, e->valuestring);
            break;
        }
        size_t k = 0;
        while (k < ns && strcmp(shards[k], e->valuestring) != 0) k++;
        if (k < ns) continue;
        shards[ns] = e->valuestring;
        size_t len = (size_t)dir_len + strlen(e->valuestring) + 2;
        paths[ns] = malloc(len);
        if (!paths[ns]) {
            s = vla_error(VLA_ERR_OOM, "%s: out of memory", index_path);
            break;
        }
        snprintf(paths[ns], len, "%.*s/%s", dir_len, dir, e->valuestring);
        struct stat st;
        if (stat(paths[ns], &st) == 0) total += (uint64_t)st.st_size;
        ns++;
    }
    for (size_t k = 0; k < ns && s == VLA_OK; k++) {
        if (progress) progress(user, paths[k], done, total);
        s = vla_safetensors_read(w, paths[k]);
        if (s != VLA_OK) s = vla_error_context(s, "%s: shard %zu of %zu", index_path, k + 1, ns);
        struct stat st;
        if (stat(paths[k], &st) == 0) done += (uint64_t)st.st_size;
    }
    if (s == VLA_OK && progress) progress(user, index_path, total, total);
    for (const cJSON *e = map->child; e && s == VLA_OK; e = e->next) {
        const vla_weight_info *t = vla_weights_find(w, e->string);
        const char *tail = t ? strrchr(t->file, '/') : NULL;
        size_t k = 0;
        while (k < ns && strcmp(shards[k], e->valuestring) != 0) k++;
        if (!t || strcmp(t->file, paths[k]) != 0)
            s = vla_error(VLA_ERR_NOT_FOUND, "%s: weight_map says '%s' is in '%s' but %s%s", index_path, e->string,
                          e->valuestring, t ? "it is in " : "no shard has it", t ? (tail ? tail + 1 : t->file) : "");
    }
    for (size_t k = 0; k < ns; k++) free(paths[k]);
    free(paths);
    free(shards);
    return s;
}

vla_status vla_safetensors_read_index(vla_weights *w, const char *index_path, vla_progress_fn progress,
                                      void *user) {
    vla_mapped_file f;
    VLA_TRY(vla_map_file(index_path, &f));
    if (f.size > ST_MAX_INDEX) {
        vla_unmap_file(&f);
        return vla_error(VLA_ERR_LIMIT, "%s: index larger than %u bytes", index_path, ST_MAX_INDEX);
    }
    cJSON *root = cJSON_ParseWithLength((const char *)f.data, f.size);
    vla_unmap_file(&f);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vla_error(VLA_ERR_PARSE, "%s: not a valid JSON object", index_path);
    }
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    vla_status s;
    if (!cJSON_IsObject(map))
        s = vla_error(VLA_ERR_PARSE, "%s: missing object \"weight_map\"", index_path);
    else if (!map->child)
        s = vla_error(VLA_ERR_PARSE, "%s: \"weight_map\" is empty", index_path);
    else
        s = read_shards(w, index_path, map, progress, user);
    cJSON_Delete(root);
    return s;
}
