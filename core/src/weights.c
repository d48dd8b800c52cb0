/* The weight map: storage for tensors found by the readers, lookup by name,
 * format dispatch for vla_weights_open, and host-side reads with dtype
 * conversion and stride gathering. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vla/run_folder.h"
#include "weights_impl.h"
#include "paths.h"

struct vla_weights {
    vla_weight_info *t;
    size_t n, cap;
    uint32_t *slots; /* open-addressing index: entry index + 1, 0 = empty */
    size_t n_slots;
    vla_mapped_file **files; /* pointers, so stored paths never move */
    size_t n_files;
    char **meta; /* key, value, key, value, ... */
    size_t n_meta;
};

/* ---- files ---- */

vla_status vla_map_file(const char *path, vla_mapped_file *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vla_error(VLA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return vla_error(VLA_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return vla_error(VLA_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return vla_error(VLA_ERR_PARSE, "%s: file is empty", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return vla_error(VLA_ERR_LIMIT, "%s: file too large to map", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return vla_error(VLA_ERR_IO, "%s: mmap failed: %s", path, strerror(e));
    out->path = strdup(path);
    if (!out->path) {
        munmap(p, (size_t)st.st_size);
        return vla_error(VLA_ERR_OOM, "%s: out of memory", path);
    }
    out->data = p;
    out->size = (size_t)st.st_size;
    return VLA_OK;
}

void vla_unmap_file(vla_mapped_file *f) {
    if (f->data) munmap((void *)f->data, f->size);
    free(f->path);
    memset(f, 0, sizeof *f);
}

/* ---- the map ---- */

vla_status vla_weights_new(vla_weights **out) {
    *out = calloc(1, sizeof **out);
    return *out ? VLA_OK : vla_error(VLA_ERR_OOM, "weights: out of memory");
}

void vla_weights_close(vla_weights *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free((char *)w->t[i].name);
    for (size_t i = 0; i < w->n_files; i++) {
        vla_unmap_file(w->files[i]);
        free(w->files[i]);
    }
    for (size_t i = 0; i < w->n_meta; i++) free(w->meta[i]);
    free(w->meta);
    free(w->files);
    free(w->slots);
    free(w->t);
    free(w);
}

vla_status vla_weights_add_file(vla_weights *w, vla_mapped_file *f, const vla_mapped_file **stored) {
    vla_mapped_file **nf = realloc(w->files, (w->n_files + 1) * sizeof *nf);
    vla_mapped_file *copy = malloc(sizeof *copy);
    if (nf) w->files = nf;
    if (!nf || !copy) {
        free(copy);
        vla_unmap_file(f);
        return vla_error(VLA_ERR_OOM, "weights: out of memory");
    }
    *copy = *f;
    memset(f, 0, sizeof *f);
    w->files[w->n_files++] = copy;
    if (stored) *stored = copy;
    return VLA_OK;
}

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static size_t find_slot(const vla_weights *w, const char *name) {
    size_t mask = w->n_slots - 1;
    for (size_t i = hash_name(name) & mask;; i = (i + 1) & mask) {
        uint32_t s = w->slots[i];
        if (!s || strcmp(w->t[s - 1].name, name) == 0) return i;
    }
}

static vla_status grow_index(vla_weights *w) {
    size_t n_slots = w->n_slots ? w->n_slots * 2 : 64;
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return vla_error(VLA_ERR_OOM, "weights: out of memory");
    free(w->slots);
    w->slots = slots;
    w->n_slots = n_slots;
    for (size_t i = 0; i < w->n; i++) w->slots[find_slot(w, w->t[i].name)] = (uint32_t)(i + 1);
    return VLA_OK;
}

vla_status vla_weights_add(vla_weights *w, const vla_weight_info *info) {
    if (w->n >= UINT32_MAX - 1) return vla_error(VLA_ERR_LIMIT, "weights: too many tensors");
    if ((w->n + 1) * 2 > w->n_slots) VLA_TRY(grow_index(w));
    size_t slot = find_slot(w, info->name);
    if (w->slots[slot]) {
        const vla_weight_info *prev = &w->t[w->slots[slot] - 1];
        return vla_error(VLA_ERR_PARSE, "%s: duplicate tensor name '%s' (also in %s)", info->file,
                         info->name, prev->file);
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        vla_weight_info *t = realloc(w->t, cap * sizeof *t);
        if (!t) return vla_error(VLA_ERR_OOM, "weights: out of memory");
        w->t = t;
        w->cap = cap;
    }
    char *name = strdup(info->name);
    if (!name) return vla_error(VLA_ERR_OOM, "weights: out of memory");
    w->t[w->n] = *info;
    w->t[w->n].name = name;
    w->slots[slot] = (uint32_t)(++w->n);
    return VLA_OK;
}

vla_status vla_weights_add_metadata(vla_weights *w, const char *key, const char *value) {
    char **m = realloc(w->meta, (w->n_meta + 2) * sizeof *m);
    if (!m) return vla_error(VLA_ERR_OOM, "weights: out of memory");
    w->meta = m;
    m[w->n_meta] = strdup(key);
    m[w->n_meta + 1] = strdup(value);
    if (!m[w->n_meta] || !m[w->n_meta + 1]) {
        free(m[w->n_meta]);
        free(m[w->n_meta + 1]);
        return vla_error(VLA_ERR_OOM, "weights: out of memory");
    }
    w->n_meta += 2;
    return VLA_OK;
}

size_t vla_weights_count(const vla_weights *w) { return w ? w->n : 0; }

const vla_weight_info *vla_weights_at(const vla_weights *w, size_t i) {
    return w && i < w->n ? &w->t[i] : NULL;
}

const vla_weight_info *vla_weights_find(const vla_weights *w, const char *name) {
    if (!w || !w->n_slots || !name) return NULL;
    uint32_t s = w->slots[find_slot(w, name)];
    return s ? &w->t[s - 1] : NULL;
}

const char *vla_weights_metadata(const vla_weights *w, const char *key) {
    if (!w || !key) return NULL;
    for (size_t i = 0; i < w->n_meta; i += 2)
        if (strcmp(w->meta[i], key) == 0) return w->meta[i + 1];
    return NULL;
}

/* ---- views ---- */

int64_t vla_shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || __builtin_mul_overflow(n, shape[i], &n)) return -1;
    return n;
}

vla_status vla_weights_check_view(const char *what, vla_dtype dtype, int ndim, const int64_t *shape,
                                  const int64_t *stride, int64_t offset, uint64_t storage_bytes,
                                  uint64_t *first_byte, uint64_t *span) {
    int64_t es = (int64_t)vla_dtype_size(dtype);
    if (ndim < 0 || ndim > VLA_MAX_DIMS)
        return vla_error(VLA_ERR_LIMIT, "tensor '%s': %d dimensions (at most %d supported)", what, ndim,
                         VLA_MAX_DIMS);
    if (offset < 0) return vla_error(VLA_ERR_PARSE, "tensor '%s': negative storage offset %lld", what,
                                     (long long)offset);
    int64_t last = offset, numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return vla_error(VLA_ERR_PARSE, "tensor '%s': negative size %lld in dim %d", what,
                             (long long)shape[i], i);
        if (stride[i] < 0)
            return vla_error(VLA_ERR_PARSE, "tensor '%s': negative stride %lld in dim %d", what,
                             (long long)stride[i], i);
        if (__builtin_mul_overflow(numel, shape[i], &numel))
            return vla_error(VLA_ERR_LIMIT, "tensor '%s': element count overflows", what);
    }
    int64_t first, nbytes;
    if (__builtin_mul_overflow(offset, es, &first))
        return vla_error(VLA_ERR_LIMIT, "tensor '%s': storage offset overflows", what);
    if (numel == 0) {
        if ((uint64_t)first > storage_bytes)
            return vla_error(VLA_ERR_PARSE, "tensor '%s': storage offset %lld is past the end of its storage",
                             what, (long long)offset);
        *first_byte = (uint64_t)first;
        *span = 0;
        return VLA_OK;
    }
    for (int i = 0; i < ndim; i++) {
        int64_t step;
        if (__builtin_mul_overflow(shape[i] - 1, stride[i], &step) || __builtin_add_overflow(last, step, &last))
            return vla_error(VLA_ERR_LIMIT, "tensor '%s': extent overflows", what);
    }
    if (__builtin_add_overflow(last, 1, &last) || __builtin_mul_overflow(last, es, &nbytes))
        return vla_error(VLA_ERR_LIMIT, "tensor '%s': extent overflows", what);
    if ((uint64_t)nbytes > storage_bytes)
        return vla_error(VLA_ERR_PARSE,
                         "tensor '%s': elements reach byte %lld but its storage holds %llu bytes", what,
                         (long long)nbytes, (unsigned long long)storage_bytes);
    *first_byte = (uint64_t)first;
    *span = (uint64_t)(nbytes - first);
    return VLA_OK;
}

bool vla_weight_same_view(const vla_weight_info *a, const vla_weight_info *b) {
    if (a->data != b->data || a->dtype != b->dtype || a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i] || (a->shape[i] > 1 && a->stride[i] != b->stride[i])) return false;
    return true;
}

static bool is_contiguous(const vla_weight_info *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

/* Staging buffer for unaligned or strided sources: vla_convert needs
 * naturally aligned input. */
#define STAGE_BYTES 65536

vla_status vla_weight_read_range(const vla_weight_info *t, vla_dtype dst_type, uint64_t first, uint64_t n,
                                 void *dst) {
    int64_t numel = vla_shape_numel(t->ndim, t->shape);
    if (numel < 0 || first > (uint64_t)numel || n > (uint64_t)numel - first)
        return vla_error(VLA_ERR_INVALID_ARG, "tensor '%s': element range [%llu, +%llu) outside %lld elements",
                         t->name, (unsigned long long)first, (unsigned long long)n, (long long)numel);
    if ((unsigned)dst_type >= VLA_DTYPE_COUNT)
        return vla_error(VLA_ERR_INVALID_ARG, "tensor '%s': invalid destination dtype", t->name);
    size_t es = vla_dtype_size(t->dtype), ds = vla_dtype_size(dst_type);
    const uint8_t *src = t->data;
    uint8_t *out = dst;
    bool contiguous = is_contiguous(t);
    if (contiguous && dst_type == t->dtype) {
        memcpy(out, src + first * es, n * es);
        return VLA_OK;
    }
    if (contiguous && (uintptr_t)(src + first * es) % es == 0) {
        vla_convert(out, dst_type, src + first * es, t->dtype, (size_t)n);
        return VLA_OK;
    }
    union {
        uint64_t align;
        uint8_t b[STAGE_BYTES];
    } stage;
    size_t per = STAGE_BYTES / es;
    int64_t idx[VLA_MAX_DIMS] = {0};
    uint64_t rem = first;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] == 0) break;
        idx[d] = (int64_t)(rem % (uint64_t)t->shape[d]);
        rem /= (uint64_t)t->shape[d];
    }
    for (uint64_t done = 0; done < n;) {
        size_t m = (size_t)((n - done) < per ? (n - done) : per);
        if (contiguous) {
            memcpy(stage.b, src + (first + done) * es, m * es);
        } else {
            for (size_t k = 0; k < m; k++) {
                int64_t off = 0;
                for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
                memcpy(stage.b + k * es, src + (size_t)off * es, es);
                for (int d = t->ndim - 1; d >= 0; d--) {
                    if (++idx[d] < t->shape[d]) break;
                    idx[d] = 0;
                }
            }
        }
        vla_convert(out + done * ds, dst_type, stage.b, t->dtype, m);
        done += m;
    }
    return VLA_OK;
}

vla_status vla_weight_read(const vla_weight_info *t, vla_dtype dst_type, void *dst, size_t dst_bytes) {
    int64_t numel = vla_shape_numel(t->ndim, t->shape);
    size_t ds = vla_dtype_size(dst_type);
    if (numel < 0 || ds == 0)
        return vla_error(VLA_ERR_INVALID_ARG, "tensor '%s': invalid shape or destination dtype", t->name);
    if ((uint64_t)numel > dst_bytes / ds)
        return vla_error(VLA_ERR_INVALID_ARG, "tensor '%s': needs %llu bytes as %s, destination has %zu",
                         t->name, (unsigned long long)numel * ds, vla_dtype_name(dst_type), dst_bytes);
    return vla_weight_read_range(t, dst_type, 0, (uint64_t)numel, dst);
}

/* ---- open ---- */

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}


static vla_status open_file(vla_weights *w, const char *path, vla_progress_fn progress, void *user) {
    if (ends_with(path, ".json")) return vla_safetensors_read_index(w, path, progress, user);
    uint8_t head[9] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vla_error(VLA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    if (got >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) return vla_torch_pt_read(w, path, progress, user);
    if (got == 9 && head[8] == '{') {
        if (progress) progress(user, path, 0, 1);
        VLA_TRY(vla_safetensors_read(w, path));
        if (progress) progress(user, path, 1, 1);
        return VLA_OK;
    }
    if (got >= 2 && head[0] == 0x80 && head[1] <= 5)
        return vla_error(VLA_ERR_UNSUPPORTED,
                         "%s: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with "
                         "torch >= 1.6 or convert it to safetensors",
                         path);
    return vla_error(VLA_ERR_PARSE, "%s: not a safetensors file, safetensors index or torch zip checkpoint",
                     path);
}

static vla_status open_dir(vla_weights *w, const char *dir, vla_progress_fn progress, void *user) {
    static const char *const hf_names[] = {"model.safetensors.index.json", "model.safetensors",
                                           "pytorch_model.bin"};
    char path[4096];
    for (size_t i = 0; i < sizeof hf_names / sizeof hf_names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, hf_names[i]);
        if (vla_path_is_file(path)) return open_file(w, path, progress, user);
    }
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    char final_pt[4096];
    snprintf(final_pt, sizeof final_pt, "%s/final_model/pytorch_model.pt", dir);
    if (vla_path_is_dir(path) || vla_path_is_file(final_pt) || ends_with(dir, "checkpoints") || ends_with(dir, "checkpoints/")) {
        vla_run_folder *rf = NULL;
        VLA_TRY(vla_run_folder_open(dir, -1, &rf));
        vla_status s = open_file(w, rf->checkpoint_path, progress, user);
        vla_run_folder_free(rf);
        return s;
    }
    return vla_error(VLA_ERR_NOT_FOUND,
                     "%s: no weights found in this folder (looked for model.safetensors.index.json, "
                     "model.safetensors, pytorch_model.bin, and a StarVLA checkpoints/ folder)",
                     dir);
}

vla_status vla_weights_open(const char *path, vla_progress_fn progress, void *user, vla_weights **out) {
    *out = NULL;
    if (!path || !*path) return vla_error(VLA_ERR_INVALID_ARG, "weights: empty path");
    vla_weights *w;
    VLA_TRY(vla_weights_new(&w));
    vla_status s = vla_path_is_dir(path) ? open_dir(w, path, progress, user) : open_file(w, path, progress, user);
    if (s != VLA_OK) {
        vla_weights_close(w);
        return s;
    }
    *out = w;
    return VLA_OK;
}
