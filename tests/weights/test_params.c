/* Declared parameters: strict load report, dtype rules, tied fallback,
 * ignore prefixes, chunked upload, random init determinism, no leaks. */
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "vla/backend.h"
#include "vla/params.h"
#include "weights_test.h"

/* A host "backend": malloc'd memory with allocation accounting and an
 * optional write failure after N writes. */
typedef struct host_state {
    long live;
    long writes_left; /* < 0: never fail */
} host_state;

static host_state host;

static vla_status h_create(const vla_config *cfg, void **st) {
    (void)cfg;
    *st = &host;
    return VLA_OK;
}
static vla_status h_alloc(void *st, size_t bytes, void **p) {
    *p = malloc(bytes);
    if (!*p) return vla_error(VLA_ERR_OOM, "host: oom");
    ((host_state *)st)->live++;
    return VLA_OK;
}
static void h_free(void *st, void *p) {
    ((host_state *)st)->live--;
    free(p);
}
static vla_status h_write(void *st, void *dst, const void *src, size_t n) {
    host_state *h = st;
    if (h->writes_left == 0) return vla_error(VLA_ERR_BACKEND, "host: injected write failure");
    if (h->writes_left > 0) h->writes_left--;
    memcpy(dst, src, n);
    return VLA_OK;
}
static vla_status h_read(void *st, void *dst, const void *src, size_t n) {
    (void)st;
    memcpy(dst, src, n);
    return VLA_OK;
}
static const vla_backend_vtable host_vt = {
    .struct_size = sizeof(vla_backend_vtable), .create = h_create, .alloc = h_alloc, .free = h_free,
    .write = h_write, .read = h_read};

typedef struct model {
    vla_tensor embed, proj_w, proj_b, norm, wide, lm_head;
} model;

static vla_params *declare(model *m, bool with_lm_head) {
    vla_params *p = NULL;
    CHECK_OK(vla_params_create(&p));
    CHECK_OK(vla_params_set_prefix(p, "m."));
    CHECK_OK(vla_params_add(p, &m->embed, VLA_PARAM_EMBEDDING, 2, (int64_t[]){6, 4}, "embed.weight"));
    CHECK_OK(vla_params_add(p, &m->proj_w, VLA_PARAM_MATRIX, 2, (int64_t[]){3, 4}, "%s.weight", "proj"));
    CHECK_OK(vla_params_add(p, &m->proj_b, VLA_PARAM_VECTOR, 1, (int64_t[]){3}, "proj.bias"));
    CHECK_OK(vla_params_add(p, &m->norm, VLA_PARAM_NORM_WEIGHT, 1, (int64_t[]){4}, "norm.weight"));
    CHECK_OK(vla_params_add(p, &m->wide, VLA_PARAM_MATRIX, 2, (int64_t[]){2, 2}, "wide.weight"));
    if (with_lm_head) {
        CHECK_OK(vla_params_add(p, &m->lm_head, VLA_PARAM_MATRIX, 2, (int64_t[]){6, 4}, "lm_head.weight"));
        CHECK_OK(vla_params_tie_last(p, "m.embed.weight"));
    }
    return p;
}

/* The slot's values (as f64) equal the expected.json values after rounding to `dt`. */
static void check_values(const cJSON *expected, const char *name, const vla_tensor *slot, vla_dtype dt) {
    const cJSON *vals = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(expected, "files"), "params_model.safetensors"),
                            name),
        "values");
    CHECK_MSG(slot->data && slot->dtype == dt, "%s: dtype %s, expected %s", name, vla_dtype_name(slot->dtype),
              vla_dtype_name(dt));
    if (!slot->data || slot->dtype != dt || !vals) return;
    int64_t n = vla_tensor_numel(slot);
    CHECK(n == cJSON_GetArraySize(vals));
    double got[64];
    float want_f[64];
    int i = 0;
    for (const cJSON *v = vals->child; v && i < 64; v = v->next, i++) want_f[i] = (float)v->valuedouble;
    vla_convert(got, VLA_F64, slot->data, dt, (size_t)n);
    double ref[64];
    /* the reference: the value PyTorch wrote, rounded to the slot dtype */
    uint16_t tmp[64];
    if (dt == VLA_F32) for (int k = 0; k < n; k++) ref[k] = want_f[k];
    if (dt == VLA_BF16) for (int k = 0; k < n; k++) tmp[k] = vla_f32_to_bf16(want_f[k]), ref[k] = vla_bf16_to_f32(tmp[k]);
    if (dt == VLA_F16) for (int k = 0; k < n; k++) tmp[k] = vla_f32_to_f16(want_f[k]), ref[k] = vla_f16_to_f32(tmp[k]);
    for (int k = 0; k < n; k++) CHECK_MSG(got[k] == ref[k], "%s[%d] = %g, expected %g", name, k, got[k], ref[k]);
}

static void test_load(const cJSON *expected, const vla_weights *w, vla_backend *b) {
    model m;
    vla_params *p = declare(&m, true);
    CHECK(vla_params_count(p) == 6);
    CHECK(strcmp(vla_params_name(p, 1), "m.proj.weight") == 0);
    CHECK(vla_params_numel_total(p) == 24 + 12 + 3 + 4 + 4 + 24);
    CHECK(vla_params_numel_prefix(p, "m.proj.") == 15);
    /* strict: the file's extra.unused is unexpected */
    CHECK_ERR(vla_params_load(p, w, b, NULL), VLA_ERR_NOT_FOUND, "1 unexpected");
    CHECK(strstr(vla_last_error(), "unexpected keys:\n    extra.unused") != NULL);
    CHECK(host.live == 0 && m.embed.data == NULL);
    CHECK_ERR(vla_params_check(p, w, false), VLA_ERR_NOT_FOUND, "extra.unused");
    CHECK_OK(vla_params_check(p, w, true));
    CHECK_OK(vla_params_ignore(p, "extra."));
    CHECK_OK(vla_params_load(p, w, b, NULL));
    /* matrices and embeddings keep the stored float dtype (f64 becomes f32);
     * vectors and norm gains become f32 */
    check_values(expected, "m.embed.weight", &m.embed, VLA_BF16);
    check_values(expected, "m.proj.weight", &m.proj_w, VLA_BF16);
    check_values(expected, "m.proj.bias", &m.proj_b, VLA_F32);
    check_values(expected, "m.norm.weight", &m.norm, VLA_F32);
    check_values(expected, "m.wide.weight", &m.wide, VLA_F32);
    /* tied fallback: lm_head absent from the file, served by embed (one copy) */
    CHECK(m.lm_head.data == m.embed.data && m.lm_head.dtype == VLA_BF16 && m.lm_head.backend == b);
    CHECK(host.live == 5);
    /* convert every matrix to f32 on request */
    vla_params_load_options o = {false, false, VLA_F32};
    CHECK_OK(vla_params_load(p, w, b, &o));
    check_values(expected, "m.embed.weight", &m.embed, VLA_F32);
    check_values(expected, "m.proj.weight", &m.proj_w, VLA_F32);
    o.matrix_dtype = VLA_F16;
    CHECK_OK(vla_params_load(p, w, b, &o));
    check_values(expected, "m.proj.weight", &m.proj_w, VLA_F16);
    check_values(expected, "m.proj.bias", &m.proj_b, VLA_F32);
    CHECK(host.live == 5);
    vla_params_destroy(p);
    CHECK(host.live == 0);
}

static void test_report(const vla_weights *w, vla_backend *b) {
    model m;
    vla_tensor extra[30];
    vla_params *p = declare(&m, false);
    CHECK_OK(vla_params_ignore(p, "extra."));
    CHECK_OK(vla_params_set_prefix(p, ""));
    for (int i = 0; i < 30; i++)
        CHECK_OK(vla_params_add(p, &extra[i], VLA_PARAM_VECTOR, 1, (int64_t[]){2}, "gone.%d.bias", i));
    CHECK_ERR(vla_params_load(p, w, b, NULL), VLA_ERR_NOT_FOUND, "30 missing, 0 unexpected, 0 shape mismatches");
    CHECK(strstr(vla_last_error(), "gone.0.bias") && strstr(vla_last_error(), "gone.19.bias"));
    CHECK(!strstr(vla_last_error(), "gone.20.bias") && strstr(vla_last_error(), "... and 10 more"));
    CHECK(host.live == 0);
    vla_params_load_options o = {true, false, VLA_DTYPE_COUNT};
    CHECK_OK(vla_params_load(p, w, b, &o));
    CHECK(extra[0].data == NULL && m.proj_w.data != NULL);
    vla_params_destroy(p);

    vla_params *q = NULL;
    vla_tensor t, u;
    CHECK_OK(vla_params_create(&q));
    CHECK_OK(vla_params_ignore(q, "m.") );
    CHECK_OK(vla_params_ignore(q, "extra."));
    CHECK_OK(vla_params_add(q, &t, VLA_PARAM_MATRIX, 2, (int64_t[]){4, 3}, "m.proj.weight"));
    CHECK_OK(vla_params_add(q, &u, VLA_PARAM_MATRIX, 1, (int64_t[]){4}, "m.norm.weight"));
    CHECK_ERR(vla_params_load(q, w, b, NULL), VLA_ERR_SHAPE,
              "m.proj.weight: checkpoint has [3, 4], model expects [4, 3]");
    CHECK(strstr(vla_last_error(), "2 shape mismatches") == NULL);
    CHECK(strstr(vla_last_error(), "1 shape mismatches") != NULL);
    CHECK_ERR(vla_params_add(q, &t, VLA_PARAM_MATRIX, 2, (int64_t[]){4, 3}, "m.proj.weight"), VLA_ERR_INVALID_ARG,
              "declared twice");
    vla_params_destroy(q);
}

/* Upload in several chunks and with conversion: a 1100 x 1000 f32 tensor
 * written here in the safetensors layout (value i / 2 at index i). */
static void test_big(vla_backend *b) {
    const int64_t rows = 1100, cols = 1000, n = rows * cols;
    char path[] = "/tmp/vla-test-params-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    char header[96];
    int hl = snprintf(header, sizeof header,
                      "{\"big\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[0,%lld]}}", (long long)rows,
                      (long long)cols, (long long)(n * 4));
    uint64_t len = (uint64_t)hl;
    float *data = malloc((size_t)n * sizeof *data);
    for (int64_t i = 0; i < n; i++) data[i] = (float)i * 0.5f;
    CHECK(write(fd, &len, 8) == 8 && write(fd, header, (size_t)hl) == hl &&
          write(fd, data, (size_t)n * 4) == (ssize_t)(n * 4));
    close(fd);
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(path, NULL, NULL, &w));
    vla_tensor t;
    vla_params *p = NULL;
    CHECK_OK(vla_params_create(&p));
    CHECK_OK(vla_params_add(p, &t, VLA_PARAM_MATRIX, 2, (int64_t[]){rows, cols}, "big"));
    vla_params_load_options o = {false, false, VLA_BF16};
    CHECK_OK(vla_params_load(p, w, b, &o));
    int64_t bad = 0;
    for (int64_t i = 0; t.data && i < n; i++)
        bad += ((uint16_t *)t.data)[i] != vla_f32_to_bf16(data[i]);
    CHECK(t.data && bad == 0);
    /* a backend failure in the middle: error names the tensor, nothing leaks */
    host.writes_left = 1;
    CHECK_ERR(vla_params_load(p, w, b, NULL), VLA_ERR_BACKEND, "loading 'big'");
    host.writes_left = -1;
    CHECK(host.live == 0 && t.data == NULL);
    vla_params_destroy(p);
    vla_weights_close(w);
    free(data);
    unlink(path);
}

static void snapshot(vla_params *p, vla_backend *b, uint64_t seed, float *out, size_t *n) {
    CHECK_OK(vla_params_init_random(p, b, VLA_F32, seed));
    *n = 0;
    for (size_t i = 0; i < vla_params_count(p); i++) {
        const vla_tensor *t = vla_params_slot(p, i);
        vla_convert(out + *n, VLA_F32, t->data, t->dtype, (size_t)vla_tensor_numel(t));
        *n += (size_t)vla_tensor_numel(t);
    }
}

static void test_random(vla_backend *b) {
    model m1, m2;
    static float a[256], c[256], d[256];
    size_t na, nc, nd;
    vla_params *p1 = declare(&m1, true), *p2 = declare(&m2, true);
    snapshot(p1, b, 42, a, &na);
    snapshot(p2, b, 42, c, &nc);
    CHECK(na == nc && memcmp(a, c, na * sizeof *a) == 0);
    snapshot(p2, b, 43, d, &nd);
    CHECK(memcmp(a, d, na * sizeof *a) != 0);
    CHECK(m1.lm_head.data == m1.embed.data); /* tied: one tensor */
    /* norm gains around 1, everything else around 0 */
    float *norm = m1.norm.data, *bias = m1.proj_b.data;
    for (int i = 0; i < 4; i++) CHECK(fabsf(norm[i] - 1.0f) < 0.12f);
    for (int i = 0; i < 3; i++) CHECK(fabsf(bias[i]) < 0.12f);
    /* adding a parameter first does not change the others */
    vla_params *p3 = NULL;
    vla_tensor first;
    model m3;
    CHECK_OK(vla_params_create(&p3));
    CHECK_OK(vla_params_add(p3, &first, VLA_PARAM_MATRIX, 2, (int64_t[]){5, 5}, "m.aaa.weight"));
    CHECK_OK(vla_params_set_prefix(p3, "m."));
    CHECK_OK(vla_params_add(p3, &m3.proj_w, VLA_PARAM_MATRIX, 2, (int64_t[]){3, 4}, "proj.weight"));
    CHECK_OK(vla_params_init_random(p3, b, VLA_F32, 42));
    CHECK(memcmp(m3.proj_w.data, m1.proj_w.data, 12 * sizeof(float)) == 0);
    /* bf16 matrices are the f32 draws rounded */
    CHECK_OK(vla_params_init_random(p3, b, VLA_BF16, 42));
    CHECK(m3.proj_w.dtype == VLA_BF16 && ((uint16_t *)m3.proj_w.data)[5] == vla_f32_to_bf16(((float *)m1.proj_w.data)[5]));
    /* statistics of a large draw */
    vla_params *p4 = NULL;
    vla_tensor big;
    CHECK_OK(vla_params_create(&p4));
    CHECK_OK(vla_params_add(p4, &big, VLA_PARAM_MATRIX, 2, (int64_t[]){200, 500}, "w"));
    CHECK_OK(vla_params_init_random(p4, b, VLA_F32, 7));
    double s = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double v = ((float *)big.data)[i];
        s += v;
        s2 += v * v;
    }
    CHECK(fabs(s / 1e5) < 1e-3 && fabs(sqrt(s2 / 1e5) - 0.02) < 1e-3);
    vla_params_destroy(p1);
    vla_params_destroy(p2);
    vla_params_destroy(p3);
    vla_params_destroy(p4);
    CHECK(host.live == 0);
}

int main(void) {
    host.writes_left = -1;
    cJSON *expected = load_expected();
    vla_backend *b = NULL;
    CHECK_OK(vla_backend_create(&host_vt, "host", NULL, &b));
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture("params_model.safetensors"), NULL, NULL, &w));
    if (b && w) {
        test_load(expected, w, b);
        test_report(w, b);
        test_big(b);
        test_random(b);
    }
    vla_weights_close(w);
    vla_backend_destroy(b);
    cJSON_Delete(expected);
    return test_finish("params");
}
