/* torch.save checkpoints (the zip format of torch >= 1.6): <root>/data.pkl
 * holds the object tree, <root>/data/<key> the raw storages (stored, not
 * compressed, so they are used in place from the mapping). The pickle runs in
 * the restricted interpreter of pickle.c with the whitelist below; tensors
 * become views into their storages, validated against the storage size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickle.h"
#include "weights_impl.h"
#include "zip.h"

#define MAX_NESTING 64

enum {
    G_ORDERED_DICT,
    G_REBUILD_TENSOR_V2,
    G_REBUILD_PARAMETER,
    G_REBUILD_PARAMETER_WITH_STATE,
    G_TORCH_SIZE,
    G_STORAGE /* + the storage's vla_dtype */
};

static const struct {
    const char *module, *name;
    int id;
} callables[] = {
    {"collections", "OrderedDict", G_ORDERED_DICT},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER},
    {"torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAMETER_WITH_STATE},
    {"torch", "Size", G_TORCH_SIZE},
};

static const struct {
    const char *name;
    vla_dtype dtype;
} storages[] = {
    {"BFloat16Storage", VLA_BF16}, {"HalfStorage", VLA_F16},  {"FloatStorage", VLA_F32},
    {"DoubleStorage", VLA_F64},    {"LongStorage", VLA_I64},  {"IntStorage", VLA_I32},
    {"ShortStorage", VLA_I16},     {"CharStorage", VLA_I8},   {"ByteStorage", VLA_U8},
    {"BoolStorage", VLA_BOOL},
};

typedef struct storage {
    vla_dtype dtype;
    const char *key;
    const uint8_t *data;
    uint64_t bytes;
} storage;

typedef struct tensor {
    const storage *st;
    int64_t offset;
    int ndim;
    int64_t shape[VLA_MAX_DIMS], stride[VLA_MAX_DIMS];
} tensor;

typedef struct reader {
    const char *path;
    const vla_zip *zip;
    const char *root; /* the archive's top folder, e.g. "archive" */
    vla_weights *w;
    const vla_mapped_file *file;
    size_t budget; /* dict items flatten may still visit */
} reader;

/* ---- pickle hooks ---- */

static vla_status find_global(void *user, const char *module, const char *name, int64_t *id) {
    const reader *r = user;
    for (size_t i = 0; i < sizeof callables / sizeof callables[0]; i++)
        if (strcmp(module, callables[i].module) == 0 && strcmp(name, callables[i].name) == 0) {
            *id = callables[i].id;
            return VLA_OK;
        }
    if (strcmp(module, "torch") == 0)
        for (size_t i = 0; i < sizeof storages / sizeof storages[0]; i++)
            if (strcmp(name, storages[i].name) == 0) {
                *id = G_STORAGE + (int64_t)storages[i].dtype;
                return VLA_OK;
            }
    return vla_error(VLA_ERR_SECURITY, "%s: refusing pickle global '%s %s': not a tensor-building global", r->path,
                     module, name);
}

static bool is_str(const vla_py *o, const char *s) { return o->kind == VLA_PY_STR && strcmp(o->s, s) == 0; }

/* ('storage', <storage type>, key, location, numel) -> the data/<key> entry */
static vla_status persistent_load(void *user, vla_pickle *vm, const vla_py *pid, vla_py **out) {
    reader *r = user;
    if (pid->kind != VLA_PY_TUPLE || pid->len != 5 || !is_str(pid->items[0], "storage") ||
        pid->items[1]->kind != VLA_PY_GLOBAL || pid->items[1]->i < G_STORAGE || pid->items[2]->kind != VLA_PY_STR ||
        pid->items[4]->kind != VLA_PY_INT || pid->items[4]->i < 0)
        return vla_error(VLA_ERR_PARSE,
                         "%s: persistent id is not ('storage', <storage type>, key, location, numel)", r->path);
    storage *st = vla_pickle_alloc(vm, sizeof *st);
    if (!st) return vla_error(VLA_ERR_LIMIT, "%s: out of memory in the pickle", r->path);
    st->dtype = (vla_dtype)(pid->items[1]->i - G_STORAGE);
    st->key = pid->items[2]->s;
    char name[1024];
    snprintf(name, sizeof name, "%s/data/%s", r->root, st->key);
    const vla_zip_entry *e = vla_zip_find(r->zip, name);
    if (!e) return vla_error(VLA_ERR_PARSE, "%s: storage '%s' has no entry '%s' in the archive", r->path, st->key, name);
    if (e->method != 0)
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: entry '%s' is compressed (method %u); torch stores tensor data "
                         "uncompressed", r->path, name, e->method);
    uint64_t es = vla_dtype_size(st->dtype), numel = (uint64_t)pid->items[4]->i;
    if (numel > e->size / es)
        return vla_error(VLA_ERR_PARSE, "%s: storage '%s' declares %llu elements of %s but its entry has %llu bytes",
                         r->path, st->key, (unsigned long long)numel, vla_dtype_name(st->dtype),
                         (unsigned long long)e->size);
    st->data = e->data;
    st->bytes = numel * es;
    vla_py *o = vla_pickle_new(vm, VLA_PY_OPAQUE);
    if (!o) return vla_error(VLA_ERR_LIMIT, "%s: out of memory in the pickle", r->path);
    o->ptr = st;
    o->i = 0; /* a storage, not a tensor */
    *out = o;
    return VLA_OK;
}

static bool int_tuple(const vla_py *t, int64_t *v, int max) {
    if (t->kind != VLA_PY_TUPLE || t->len > (size_t)max) return false;
    for (size_t i = 0; i < t->len; i++) {
        if (t->items[i]->kind != VLA_PY_INT) return false;
        v[i] = t->items[i]->i;
    }
    return true;
}

static bool is_tensor(const vla_py *o) { return o->kind == VLA_PY_OPAQUE && o->i == 1; }

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
static vla_status rebuild_tensor(reader *r, vla_pickle *vm, const vla_py *args, vla_py **out) {
    const vla_py *const *a = (const vla_py *const *)args->items;
    if (args->len < 4 || args->len > 7 || a[0]->kind != VLA_PY_OPAQUE || a[0]->i != 0 || a[1]->kind != VLA_PY_INT)
        return vla_error(VLA_ERR_PARSE, "%s: _rebuild_tensor_v2 expects (storage, offset, size, stride, ...)", r->path);
    tensor *t = vla_pickle_alloc(vm, sizeof *t);
    if (!t) return vla_error(VLA_ERR_LIMIT, "%s: out of memory in the pickle", r->path);
    if (a[2]->kind != VLA_PY_TUPLE || a[2]->len > VLA_MAX_DIMS)
        return vla_error(VLA_ERR_LIMIT, "%s: tensor size is not a tuple of at most %d ints", r->path, VLA_MAX_DIMS);
    if (!int_tuple(a[2], t->shape, VLA_MAX_DIMS) || !int_tuple(a[3], t->stride, VLA_MAX_DIMS) || a[2]->len != a[3]->len)
        return vla_error(VLA_ERR_PARSE, "%s: tensor size and stride must be int tuples of the same length", r->path);
    t->st = a[0]->ptr;
    t->offset = a[1]->i;
    t->ndim = (int)a[2]->len;
    vla_py *o = vla_pickle_new(vm, VLA_PY_OPAQUE);
    if (!o) return vla_error(VLA_ERR_LIMIT, "%s: out of memory in the pickle", r->path);
    o->ptr = t;
    o->i = 1;
    *out = o;
    return VLA_OK;
}

static vla_status reduce(void *user, vla_pickle *vm, const vla_py *fn, const vla_py *args, vla_py **out) {
    reader *r = user;
    switch (fn->i) {
    case G_ORDERED_DICT:
        if (args->len != 0) return vla_error(VLA_ERR_PARSE, "%s: OrderedDict() with arguments is not supported", r->path);
        *out = vla_pickle_new(vm, VLA_PY_DICT);
        return *out ? VLA_OK : vla_error(VLA_ERR_LIMIT, "%s: out of memory in the pickle", r->path);
    case G_REBUILD_TENSOR_V2: return rebuild_tensor(r, vm, args, out);
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_WITH_STATE:
        if (args->len < 1 || !is_tensor(args->items[0]))
            return vla_error(VLA_ERR_PARSE, "%s: %s expects a tensor first", r->path, fn->s);
        *out = args->items[0];
        return VLA_OK;
    case G_TORCH_SIZE:
        if (args->len != 1 || args->items[0]->kind != VLA_PY_TUPLE)
            return vla_error(VLA_ERR_PARSE, "%s: torch.Size expects one tuple", r->path);
        *out = args->items[0];
        return VLA_OK;
    default:
        return vla_error(VLA_ERR_SECURITY, "%s: refusing to call pickle global '%s'", r->path, fn->s);
    }
}

/* ---- the object tree -> names ---- */

/* Visits are budgeted: memo references can make a small pickle describe an
 * exponentially large tree (a dict holding the same dict twice, n levels deep). */
static bool holds_tensor(const vla_py *o, int depth, size_t *budget) {
    if (is_tensor(o)) return true;
    if (depth > MAX_NESTING || (o->kind != VLA_PY_DICT && o->kind != VLA_PY_LIST && o->kind != VLA_PY_TUPLE))
        return false;
    const vla_py *const *v = (const vla_py *const *)(o->kind == VLA_PY_DICT ? o->values : o->items);
    for (size_t i = 0; i < o->len; i++) {
        if (*budget == 0) return true; /* undecided: assume it does, so nothing is dropped */
        --*budget;
        if (holds_tensor(v[i], depth + 1, budget)) return true;
    }
    return false;
}

/* Training frameworks wrap the state dict: Lightning saves {"state_dict": ...,
 * "epoch": ...}, DeepSpeed {"module": ..., "optimizer": ...}, many scripts
 * {"model": ...}. "state_dict" and "module" are always wrappers; "model" is
 * one only when nothing beside it holds tensors (it may be a real submodule). */
static const vla_py *unwrap(const vla_py *o, size_t budget) {
    static const char *const wrappers[] = {"state_dict", "module", "model"};
    for (int depth = 0; depth < 4 && o->kind == VLA_PY_DICT; depth++) {
        const vla_py *inner = NULL;
        for (size_t w = 0; w < 3 && !inner; w++)
            for (size_t i = 0; i < o->len; i++)
                if (is_str(o->items[i], wrappers[w]) && o->values[i]->kind == VLA_PY_DICT) {
                    inner = o->values[i];
                    for (size_t j = 0; j < o->len && inner && w == 2; j++)
                        if (j != i && holds_tensor(o->values[j], 0, &budget)) inner = NULL;
                    break;
                }
        if (!inner) break;
        o = inner;
    }
    return o;
}

static vla_status add_tensor(reader *r, const char *name, const tensor *t) {
    vla_weight_info info;
    memset(&info, 0, sizeof info);
    info.name = name;
    info.file = r->file->path;
    info.dtype = t->st->dtype;
    info.ndim = t->ndim;
    memcpy(info.shape, t->shape, sizeof t->shape);
    memcpy(info.stride, t->stride, sizeof t->stride);
    uint64_t first, span;
    vla_status s = vla_weights_check_view(name, t->st->dtype, t->ndim, t->shape, t->stride, t->offset, t->st->bytes,
                                          &first, &span);
    if (s != VLA_OK) return vla_error_context(s, "%s (storage '%s')", r->path, t->st->key);
    info.data = t->st->data + first;
    info.span_bytes = (size_t)span;
    return vla_weights_add(r->w, &info);
}

static vla_status flatten(reader *r, const vla_py *d, char *name, size_t len, size_t cap, int depth, size_t strip) {
    if (depth > MAX_NESTING)
        return vla_error(VLA_ERR_LIMIT, "%s: dicts nested deeper than %d at '%s'", r->path, MAX_NESTING, name);
    for (size_t i = 0; i < d->len; i++) {
        const vla_py *k = d->items[i], *v = d->values[i];
        if (r->budget-- == 0)
            return vla_error(VLA_ERR_LIMIT, "%s: nested dicts expand to more entries than the pickle could "
                             "hold (shared sub-dicts?)", r->path);
        if (k->kind != VLA_PY_STR)
            return vla_error(VLA_ERR_TYPE, "%s: dict key #%zu%s%s has type %s, not str", r->path, i,
                             len ? " under " : "", name, vla_py_kind_name(k->kind));
        if (!is_tensor(v) && v->kind != VLA_PY_DICT) continue; /* training metadata: steps, config, ... */
        if (memchr(k->s, 0, k->len))
            return vla_error(VLA_ERR_PARSE, "%s: dict key with a NUL byte under '%s'", r->path, name);
        int n = snprintf(name + len, cap - len, "%s%s", len ? "." : "", k->s);
        if (n < 0 || (size_t)n >= cap - len)
            return vla_error(VLA_ERR_LIMIT, "%s: tensor name too long under '%s'", r->path, name);
        vla_status s = is_tensor(v) ? add_tensor(r, name + strip, v->ptr)
                                    : flatten(r, v, name, len + (size_t)n, cap, depth + 1, strip);
        name[len] = '\0';
        if (s != VLA_OK) return s;
    }
    return VLA_OK;
}

/* DistributedDataParallel and DeepSpeed save keys as "module.<name>": strip
 * that prefix when every top-level key carries it. */
static size_t module_prefix(const vla_py *d) {
    if (!d->len) return 0;
    for (size_t i = 0; i < d->len; i++)
        if (d->items[i]->kind != VLA_PY_STR || strncmp(d->items[i]->s, "module.", 7) != 0) return 0;
    return 7;
}

/* ---- the archive ---- */

static vla_status find_root(const char *path, const vla_zip *z, char *root, size_t cap, const vla_zip_entry **pkl) {
    *pkl = NULL;
    for (size_t i = 0; i < z->n; i++) {
        const char *n = z->entries[i].name, *slash = strchr(n, '/');
        if (!slash || strcmp(slash, "/data.pkl") != 0) continue;
        if (*pkl)
            return vla_error(VLA_ERR_PARSE, "%s: more than one data.pkl ('%s' and '%s')", path, (*pkl)->name, n);
        if ((size_t)(slash - n) >= cap) return vla_error(VLA_ERR_LIMIT, "%s: archive folder name too long", path);
        *pkl = &z->entries[i];
        snprintf(root, cap, "%.*s", (int)(slash - n), n);
    }
    if (!*pkl) return vla_error(VLA_ERR_PARSE, "%s: zip archive without <folder>/data.pkl: not a torch.save file", path);
    if ((*pkl)->method != 0)
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: '%s' is compressed; torch writes it stored", path, (*pkl)->name);
    char name[600];
    snprintf(name, sizeof name, "%s/byteorder", root);
    const vla_zip_entry *bo = vla_zip_find(z, name);
    if (bo && !(bo->method == 0 && bo->size >= 6 && memcmp(bo->data, "little", 6) == 0))
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: big-endian torch checkpoints are not supported", path);
    return VLA_OK;
}

static vla_status read_archive(reader *r, vla_zip *z) {
    char root[512];
    const vla_zip_entry *pkl;
    VLA_TRY(find_root(r->path, z, root, sizeof root, &pkl));
    r->root = root;
    vla_pickle_hooks hooks = {r, find_global, persistent_load, reduce};
    vla_pickle *vm;
    const vla_py *obj;
    char what[1024];
    snprintf(what, sizeof what, "%s: %s", r->path, pkl->name);
    VLA_TRY(vla_pickle_run(what, pkl->data, (size_t)pkl->size, &hooks, &vm, &obj));
    vla_status s = VLA_OK;
    r->budget = (size_t)pkl->size + 1024;
    const vla_py *sd = unwrap(obj, r->budget);
    if (sd->kind != VLA_PY_DICT)
        s = vla_error(VLA_ERR_TYPE, "%s: the checkpoint holds a %s, not a state dict", r->path,
                      vla_py_kind_name(sd->kind));
    char *name = s == VLA_OK ? malloc(8192) : NULL;
    if (s == VLA_OK && !name) s = vla_error(VLA_ERR_OOM, "%s: out of memory", r->path);
    if (s == VLA_OK) {
        name[0] = '\0';
        s = flatten(r, sd, name, 0, 8192, 0, module_prefix(sd));
    }
    free(name);
    vla_pickle_free(vm);
    if (s == VLA_OK && vla_weights_count(r->w) == 0)
        s = vla_error(VLA_ERR_NOT_FOUND, "%s: the checkpoint contains no tensors", r->path);
    return s;
}

vla_status vla_torch_pt_read(vla_weights *w, const char *path, vla_progress_fn progress, void *user) {
    vla_mapped_file mf;
    VLA_TRY(vla_map_file(path, &mf));
    const vla_mapped_file *f;
    VLA_TRY(vla_weights_add_file(w, &mf, &f));
    if (progress) progress(user, path, 0, f->size);
    vla_zip z;
    VLA_TRY(vla_zip_open(path, f->data, f->size, &z));
    reader r = {path, &z, NULL, w, f, 0};
    vla_status s = read_archive(&r, &z);
    vla_zip_free(&z);
    if (s == VLA_OK && progress) progress(user, path, f->size, f->size);
    return s;
}
