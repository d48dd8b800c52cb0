/* Declared parameters: declaration, the strict state-dict report, upload to
 * a backend with dtype conversion, deterministic random init, counting. */
#include "vla/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vla/rng.h"
#include "weights_impl.h"

#define REPORT_MAX_NAMES 20
#define CHUNK_BYTES (4u << 20) /* host staging per upload step */

typedef struct param {
    char *name;
    vla_param_kind kind;
    vla_tensor *slot;
    int ndim;
    int64_t shape[VLA_MAX_DIMS];
    char *tie;      /* fallback full name, or NULL */
    void *mem;      /* backend memory this param owns (NULL if unloaded or aliased) */
} param;

struct vla_params {
    param *v;
    size_t n, cap;
    char *prefix;
    char **ignore;
    size_t n_ignore;
    vla_backend *backend; /* owner of every `mem` */
};

vla_status vla_params_create(vla_params **out) {
    *out = calloc(1, sizeof **out);
    return *out ? VLA_OK : vla_error(VLA_ERR_OOM, "params: out of memory");
}

/* Slots are touched only while the declaring component is alive (load,
 * init), never from destroy: the component may be gone by then. */
static void release_memory(vla_params *p, bool clear_slots) {
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].mem) vla_backend_free(p->backend, p->v[i].mem);
        p->v[i].mem = NULL;
        if (clear_slots) {
            p->v[i].slot->data = NULL;
            p->v[i].slot->backend = NULL;
        }
    }
    p->backend = NULL;
}

void vla_params_destroy(vla_params *p) {
    if (!p) return;
    release_memory(p, false);
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].tie);
    }
    for (size_t i = 0; i < p->n_ignore; i++) free(p->ignore[i]);
    free(p->ignore);
    free(p->prefix);
    free(p->v);
    free(p);
}

vla_status vla_params_set_prefix(vla_params *p, const char *prefix) {
    char *s = strdup(prefix ? prefix : "");
    if (!s) return vla_error(VLA_ERR_OOM, "params: out of memory");
    free(p->prefix);
    p->prefix = s;
    return VLA_OK;
}

static param *find_param(const vla_params *p, const char *name) {
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0) return &p->v[i];
    return NULL;
}

vla_status vla_params_add(vla_params *p, vla_tensor *slot, vla_param_kind kind, int ndim, const int64_t *shape,
                          const char *name_fmt, ...) {
    char tail[512], name[1024];
    va_list ap;
    va_start(ap, name_fmt);
    int len = vsnprintf(tail, sizeof tail, name_fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof tail ||
        (size_t)snprintf(name, sizeof name, "%s%s", p->prefix ? p->prefix : "", tail) >= sizeof name)
        return vla_error(VLA_ERR_INVALID_ARG, "params: parameter name too long");
    if (!slot || ndim < 0 || ndim > VLA_MAX_DIMS || (unsigned)kind > VLA_PARAM_NORM_WEIGHT)
        return vla_error(VLA_ERR_INVALID_ARG, "params: '%s': bad slot, kind or ndim %d", name, ndim);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0) return vla_error(VLA_ERR_INVALID_ARG, "params: '%s': negative size in dim %d", name, i);
    if (vla_shape_numel(ndim, shape) < 0) return vla_error(VLA_ERR_INVALID_ARG, "params: '%s': size overflows", name);
    if (find_param(p, name)) return vla_error(VLA_ERR_INVALID_ARG, "params: '%s' declared twice", name);
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        param *v = realloc(p->v, cap * sizeof *v);
        if (!v) return vla_error(VLA_ERR_OOM, "params: out of memory");
        p->v = v;
        p->cap = cap;
    }
    param *q = &p->v[p->n];
    memset(q, 0, sizeof *q);
    q->name = strdup(name);
    if (!q->name) return vla_error(VLA_ERR_OOM, "params: out of memory");
    q->kind = kind;
    q->slot = slot;
    q->ndim = ndim;
    memcpy(q->shape, shape, (size_t)ndim * sizeof *shape);
    *slot = vla_tensor_make(NULL, NULL, VLA_F32, ndim, shape); /* dtype is settled at load */
    p->n++;
    return VLA_OK;
}

vla_status vla_params_tie_last(vla_params *p, const char *fallback_full_name) {
    if (!p->n) return vla_error(VLA_ERR_INVALID_ARG, "params: tie_last before any parameter was declared");
    char *s = strdup(fallback_full_name);
    if (!s) return vla_error(VLA_ERR_OOM, "params: out of memory");
    free(p->v[p->n - 1].tie);
    p->v[p->n - 1].tie = s;
    return VLA_OK;
}

vla_status vla_params_ignore(vla_params *p, const char *full_name_prefix) {
    char **v = realloc(p->ignore, (p->n_ignore + 1) * sizeof *v);
    if (!v) return vla_error(VLA_ERR_OOM, "params: out of memory");
    p->ignore = v;
    if (!(v[p->n_ignore] = strdup(full_name_prefix))) return vla_error(VLA_ERR_OOM, "params: out of memory");
    p->n_ignore++;
    return VLA_OK;
}

size_t vla_params_count(const vla_params *p) { return p->n; }
const char *vla_params_name(const vla_params *p, size_t i) { return i < p->n ? p->v[i].name : NULL; }
const vla_tensor *vla_params_slot(const vla_params *p, size_t i) { return i < p->n ? p->v[i].slot : NULL; }

vla_param_kind vla_params_kind(const vla_params *p, size_t i) { return i < p->n ? p->v[i].kind : VLA_PARAM_VECTOR; }

int64_t vla_params_numel_prefix(const vla_params *p, const char *prefix) {
    int64_t total = 0;
    size_t len = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < p->n; i++)
        if (!len || strncmp(p->v[i].name, prefix, len) == 0) total += vla_shape_numel(p->v[i].ndim, p->v[i].shape);
    return total;
}

int64_t vla_params_numel_total(const vla_params *p) { return vla_params_numel_prefix(p, NULL); }

/* ---- the state-dict report ---- */

/* Each list gets a third of the error message; names that do not fit whole
 * are counted in "... and N more". */
#define LIST_BYTES 1300

typedef struct name_list {
    char text[LIST_BYTES];
    size_t count, shown;
} name_list;

typedef struct report {
    name_list missing, unexpected, mismatch;
} report;

static void list_add(name_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void list_add(name_list *l, const char *fmt, ...) {
    l->count++;
    if (l->shown >= REPORT_MAX_NAMES) return;
    char line[LIST_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t off = strlen(l->text);
    if (n < 0 || off + (size_t)n + 6 >= LIST_BYTES) return;
    snprintf(l->text + off, LIST_BYTES - off, "\n    %s", line);
    l->shown++;
}

static void list_more(const name_list *l, char *buf, size_t size) {
    buf[0] = '\0';
    if (l->count > l->shown) snprintf(buf, size, "\n    ... and %zu more", l->count - l->shown);
}

static void shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
    vla_tensor t = vla_tensor_make(NULL, NULL, VLA_F32, ndim, shape);
    vla_tensor_shape_str(&t, buf, size);
}

static bool same_shape(const param *q, const vla_weight_info *t) {
    if (q->ndim != t->ndim) return false;
    for (int i = 0; i < q->ndim; i++)
        if (q->shape[i] != t->shape[i]) return false;
    return true;
}

static bool ignored(const vla_params *p, const char *name) {
    for (size_t i = 0; i < p->n_ignore; i++)
        if (strncmp(name, p->ignore[i], strlen(p->ignore[i])) == 0) return true;
    return false;
}

/* Resolve every declared parameter to a tensor of `w` (src[i], NULL when
 * missing) and build the report. */
static vla_status resolve(const vla_params *p, const vla_weights *w, bool allow_missing, bool allow_unexpected,
                          const vla_weight_info **src) {
    report *r = calloc(1, sizeof *r);
    if (!r) return vla_error(VLA_ERR_OOM, "params: out of memory");
    for (size_t i = 0; i < p->n; i++) {
        const param *q = &p->v[i];
        const vla_weight_info *t = vla_weights_find(w, q->name);
        if (!t && q->tie) t = vla_weights_find(w, q->tie);
        src[i] = t;
        if (!t) {
            list_add(&r->missing, "%s", q->name);
        } else if (!same_shape(q, t) || !vla_dtype_is_float(t->dtype)) {
            char a[128], b[128];
            shape_str(t->ndim, t->shape, a, sizeof a);
            shape_str(q->ndim, q->shape, b, sizeof b);
            list_add(&r->mismatch, "%s: checkpoint has %s%s%s, model expects %s%s", q->name,
                     vla_dtype_is_float(t->dtype) ? "" : vla_dtype_name(t->dtype),
                     vla_dtype_is_float(t->dtype) ? "" : " ", a, vla_dtype_is_float(t->dtype) ? "" : "float ", b);
        }
    }
    for (size_t i = 0; i < vla_weights_count(w); i++) {
        const char *name = vla_weights_at(w, i)->name;
        if (find_param(p, name) || ignored(p, name)) continue;
        bool tie_target = false;
        for (size_t k = 0; k < p->n && !tie_target; k++) tie_target = p->v[k].tie && src[k] == vla_weights_at(w, i);
        if (!tie_target) list_add(&r->unexpected, "%s", name);
    }
    bool fail = r->mismatch.count || (r->missing.count && !allow_missing) ||
                (r->unexpected.count && !allow_unexpected);
    vla_status s = VLA_OK;
    if (fail) {
        char more[3][48];
        list_more(&r->missing, more[0], sizeof more[0]);
        list_more(&r->unexpected, more[1], sizeof more[1]);
        list_more(&r->mismatch, more[2], sizeof more[2]);
        const vla_weight_info *any = vla_weights_count(w) ? vla_weights_at(w, 0) : NULL;
        s = vla_error(r->mismatch.count ? VLA_ERR_SHAPE : VLA_ERR_NOT_FOUND,
                      "%s: checkpoint does not match the model: %zu missing, %zu unexpected, %zu shape "
                      "mismatches%s%s%s%s%s%s%s%s%s",
                      any ? any->file : "weights", r->missing.count, r->unexpected.count, r->mismatch.count,
                      r->mismatch.count ? "\n  shape mismatches:" : "", r->mismatch.text, more[2],
                      r->missing.count ? "\n  missing keys:" : "", r->missing.text, more[0],
                      r->unexpected.count ? "\n  unexpected keys:" : "", r->unexpected.text, more[1]);
    }
    free(r);
    return s;
}

vla_status vla_params_check(const vla_params *p, const vla_weights *w, bool allow_unexpected) {
    const vla_weight_info **src = calloc(p->n + 1, sizeof *src);
    if (!src) return vla_error(VLA_ERR_OOM, "params: out of memory");
    vla_status s = resolve(p, w, false, allow_unexpected, src);
    free(src);
    return s;
}

/* ---- upload ---- */

static vla_dtype target_dtype(const param *q, vla_dtype stored, vla_dtype matrix_dtype) {
    if (q->kind == VLA_PARAM_VECTOR || q->kind == VLA_PARAM_NORM_WEIGHT) return VLA_F32;
    if ((unsigned)matrix_dtype < VLA_DTYPE_COUNT) return matrix_dtype;
    return stored == VLA_BF16 || stored == VLA_F16 ? stored : VLA_F32;
}

static void fill_slot(param *q, vla_backend *b, void *data, vla_dtype dtype) {
    *q->slot = vla_tensor_make(b, data, dtype, q->ndim, q->shape);
}

/* Point q at an already-uploaded parameter with the same bytes. */
static bool share_with(vla_params *p, size_t i, const vla_weight_info **src, vla_dtype dt) {
    for (size_t k = 0; k < p->n; k++) {
        param *o = &p->v[k];
        if (k == i || !o->mem || o->slot->dtype != dt) continue;
        bool same = src ? (src[k] && vla_weight_same_view(src[k], src[i]))
                        : (p->v[i].tie && strcmp(p->v[i].tie, o->name) == 0 && o->ndim == p->v[i].ndim &&
                           memcmp(o->shape, p->v[i].shape, (size_t)o->ndim * sizeof *o->shape) == 0);
        if (same) {
            fill_slot(&p->v[i], p->backend, o->slot->data, dt);
            return true;
        }
    }
    return false;
}

typedef vla_status (*produce_fn)(void *ctx, uint64_t first, uint64_t n, void *dst);

/* Allocate q's memory and fill it chunk by chunk from `produce`. */
static vla_status upload(vla_params *p, param *q, vla_dtype dt, void *stage, produce_fn produce, void *ctx) {
    uint64_t numel = (uint64_t)vla_shape_numel(q->ndim, q->shape);
    size_t es = vla_dtype_size(dt);
    VLA_TRY(vla_backend_alloc(p->backend, (size_t)(numel * es), &q->mem));
    fill_slot(q, p->backend, q->mem, dt);
    uint64_t per = CHUNK_BYTES / es;
    for (uint64_t done = 0; done < numel; done += per) {
        uint64_t m = numel - done < per ? numel - done : per;
        VLA_TRY(produce(ctx, done, m, stage));
        VLA_TRY(vla_backend_write(p->backend, (uint8_t *)q->mem + done * es, stage, (size_t)(m * es)));
    }
    return VLA_OK;
}

typedef struct read_ctx {
    const vla_weight_info *t;
    vla_dtype dt;
} read_ctx;

static vla_status produce_read(void *ctx, uint64_t first, uint64_t n, void *dst) {
    read_ctx *c = ctx;
    return vla_weight_read_range(c->t, c->dt, first, n, dst);
}

vla_status vla_params_load(vla_params *p, const vla_weights *w, vla_backend *backend,
                           const vla_params_load_options *opts) {
    vla_params_load_options o = {false, false, VLA_DTYPE_COUNT};
    if (opts) o = *opts;
    if (!backend) return vla_error(VLA_ERR_INVALID_ARG, "params: load needs a backend");
    const vla_weight_info **src = calloc(p->n + 1, sizeof *src);
    void *stage = malloc(CHUNK_BYTES);
    if (!src || !stage) {
        free(src);
        free(stage);
        return vla_error(VLA_ERR_OOM, "params: out of memory");
    }
    vla_status s = resolve(p, w, o.allow_missing, o.allow_unexpected, src);
    if (s == VLA_OK) {
        release_memory(p, true);
        p->backend = backend;
    }
    for (size_t i = 0; i < p->n && s == VLA_OK; i++) {
        param *q = &p->v[i];
        if (!src[i]) continue; /* allowed missing: the slot stays empty */
        vla_dtype dt = target_dtype(q, src[i]->dtype, o.matrix_dtype);
        if (share_with(p, i, src, dt)) continue;
        read_ctx c = {src[i], dt};
        s = upload(p, q, dt, stage, produce_read, &c);
        if (s != VLA_OK) s = vla_error_context(s, "loading '%s' from %s", q->name, src[i]->file);
    }
    if (s == VLA_OK) s = vla_backend_synchronize(backend);
    if (s != VLA_OK && p->backend) release_memory(p, true);
    free(stage);
    free(src);
    return s;
}

/* ---- random init ---- */

typedef struct random_ctx {
    vla_rng rng;
    float mean;
    vla_dtype dt;
    float buf[4096];
} random_ctx;

static vla_status produce_random(void *ctx, uint64_t first, uint64_t n, void *dst) {
    (void)first;
    random_ctx *c = ctx;
    size_t es = vla_dtype_size(c->dt);
    for (uint64_t done = 0; done < n;) {
        size_t m = n - done < 4096 ? (size_t)(n - done) : 4096;
        vla_rng_fill_normal(&c->rng, c->buf, m, c->mean, 0.02f);
        vla_convert((uint8_t *)dst + done * es, c->dt, c->buf, VLA_F32, m);
        done += m;
    }
    return VLA_OK;
}

/* Each parameter's stream depends only on (seed, name), so declaring a new
 * parameter never changes the values of the others. */
static uint64_t param_seed(uint64_t seed, const char *name) {
    uint64_t h = 1469598103934665603ull;
    for (const char *s = name; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    vla_rng r;
    vla_rng_seed(&r, seed ^ h);
    return vla_rng_next_u64(&r);
}

vla_status vla_params_init_random(vla_params *p, vla_backend *backend, vla_dtype matrix_dtype, uint64_t seed) {
    if (!backend) return vla_error(VLA_ERR_INVALID_ARG, "params: init_random needs a backend");
    void *stage = malloc(CHUNK_BYTES);
    random_ctx *c = malloc(sizeof *c);
    vla_status s = (stage && c) ? VLA_OK : vla_error(VLA_ERR_OOM, "params: out of memory");
    if (s == VLA_OK) {
        release_memory(p, true);
        p->backend = backend;
    }
    /* Pass 0 fills every parameter that is not tied to a declared one;
     * pass 1 points tied ones at their target, whatever the declaration order. */
    for (size_t k = 0; k < 2 * p->n && s == VLA_OK; k++) {
        size_t i = k % p->n;
        param *q = &p->v[i];
        bool tied = q->tie && find_param(p, q->tie);
        if (tied != (k >= p->n)) continue;
        vla_dtype dt = target_dtype(q, VLA_F32, matrix_dtype);
        if (tied && share_with(p, i, NULL, dt)) continue;
        vla_rng_seed(&c->rng, param_seed(seed, q->name));
        c->mean = q->kind == VLA_PARAM_NORM_WEIGHT ? 1.0f : 0.0f;
        c->dt = dt;
        s = upload(p, q, dt, stage, produce_random, c);
        if (s != VLA_OK) s = vla_error_context(s, "initialising '%s'", q->name);
    }
    if (s == VLA_OK) s = vla_backend_synchronize(backend);
    if (s != VLA_OK && p->backend) release_memory(p, true);
    free(c);
    free(stage);
    return s;
}
