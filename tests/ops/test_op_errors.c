/* The op dispatcher's argument checks: wrong shapes, dtypes and owners fail
 * with the right status and a message naming the op and the shapes, and a
 * backend without an op slot reports VLA_ERR_UNSUPPORTED naming both. */
#include "ops_test.h"

static vla_tensor zeros(vla_ctx *c, vla_dtype t, int nd, const int64_t *shape) {
    vla_tensor x;
    memset(&x, 0, sizeof x);
    CHECK_OK(vla_new_zeros(c, t, nd, shape, &x));
    return x;
}

static void shape_errors(vla_ctx *c) {
    vla_tensor out;
    vla_tensor x = zeros(c, VLA_F32, 2, (int64_t[]){3, 17}), w = zeros(c, VLA_F32, 2, (int64_t[]){5, 16});
    CHECK_ERR(vla_matmul(c, &x, &w, NULL, &out), VLA_ERR_SHAPE, "matmul: x [3, 17] has K=17 but w [5, 16] has K=16");
    vla_tensor w2 = zeros(c, VLA_F32, 2, (int64_t[]){5, 17}), bias = zeros(c, VLA_F32, 1, (int64_t[]){4});
    CHECK_ERR(vla_matmul(c, &x, &w2, &bias, &out), VLA_ERR_SHAPE, "matmul: bias [4] does not match w [5, 17]");
    vla_tensor wi = zeros(c, VLA_I32, 2, (int64_t[]){5, 17});
    CHECK_ERR(vla_matmul(c, &x, &wi, NULL, &out), VLA_ERR_TYPE, "matmul: w has dtype i32");

    vla_tensor a = zeros(c, VLA_F32, 2, (int64_t[]){3, 4}), b = zeros(c, VLA_F32, 1, (int64_t[]){5});
    CHECK_ERR(vla_add(c, &a, &b, &out), VLA_ERR_SHAPE, "add: shapes [3, 4] and [5] do not broadcast");
    vla_tensor big = zeros(c, VLA_F32, 2, (int64_t[]){2, 4});
    CHECK_ERR(vla_add_inplace(c, &b, &big), VLA_ERR_SHAPE, "add_inplace");
    vla_tensor col = zeros(c, VLA_F32, 2, (int64_t[]){3, 1});
    CHECK_ERR(vla_mul_inplace(c, &col, &a), VLA_ERR_SHAPE, "mul_inplace: b [3, 4] does not broadcast to a [3, 1]");

    vla_tensor wn = zeros(c, VLA_F32, 1, (int64_t[]){16});
    CHECK_ERR(vla_rmsnorm(c, &x, &wn, 1e-6f, &out), VLA_ERR_SHAPE, "rmsnorm: w [16] does not match the last dim of x [3, 17]");
    CHECK_ERR(vla_layernorm(c, &x, NULL, &wn, 1e-6f, &out), VLA_ERR_SHAPE, "layernorm: b [16]");

    /* attention */
    vla_tensor q = zeros(c, VLA_F32, 4, (int64_t[]){1, 2, 3, 8}), k = zeros(c, VLA_F32, 4, (int64_t[]){1, 5, 2, 8}),
               v = zeros(c, VLA_F32, 4, (int64_t[]){1, 5, 2, 4});
    vla_attention_params p = {0};
    CHECK_ERR(vla_attention(c, &q, &k, &v, &p, &out), VLA_ERR_SHAPE, "not a multiple of the 2 kv heads");
    vla_tensor q4 = zeros(c, VLA_F32, 4, (int64_t[]){1, 2, 4, 8}), v6 = zeros(c, VLA_F32, 4, (int64_t[]){1, 6, 2, 4});
    CHECK_ERR(vla_attention(c, &q4, &k, &v6, &p, &out), VLA_ERR_SHAPE,
              "attention: q [1, 2, 4, 8], k [1, 5, 2, 8], v [1, 6, 2, 4] do not fit");
    vla_tensor m_bad = zeros(c, VLA_U8, 2, (int64_t[]){1, 4}), m_f32 = zeros(c, VLA_F32, 2, (int64_t[]){1, 5});
    p.key_mask = &m_bad;
    CHECK_ERR(vla_attention(c, &q4, &k, &v, &p, &out), VLA_ERR_SHAPE, "attention: key_mask [1, 4] must be [B, Sk] = [1, 5]");
    p.key_mask = &m_f32;
    CHECK_ERR(vla_attention(c, &q4, &k, &v, &p, &out), VLA_ERR_TYPE, "attention: key_mask has dtype f32");
    p.key_mask = NULL;
    CHECK_OK(vla_attention(c, &q4, &k, &v, &p, &out));

    /* rope and modulate */
    vla_tensor xr = zeros(c, VLA_F32, 4, (int64_t[]){1, 3, 2, 7}), cs = zeros(c, VLA_F32, 2, (int64_t[]){3, 7});
    CHECK_ERR(vla_rope(c, &xr, &cs, &cs, &out), VLA_ERR_SHAPE, "rope: x [1, 3, 2, 7] has an odd head dim 7");
    vla_tensor xr8 = zeros(c, VLA_F32, 4, (int64_t[]){1, 3, 2, 8}), cs4 = zeros(c, VLA_F32, 2, (int64_t[]){4, 8});
    CHECK_ERR(vla_rope(c, &xr8, &cs4, &cs4, &out), VLA_ERR_SHAPE, "rope: cos [4, 8] and sin [4, 8]");
    vla_tensor xm = zeros(c, VLA_F32, 3, (int64_t[]){2, 3, 5}), sc = zeros(c, VLA_F32, 2, (int64_t[]){2, 4});
    CHECK_ERR(vla_modulate(c, &xm, &sc, &sc, &out), VLA_ERR_SHAPE, "modulate: scale [2, 4] and shift [2, 4]");

    /* data movement */
    vla_tensor p1 = zeros(c, VLA_F32, 2, (int64_t[]){2, 3}), p2 = zeros(c, VLA_F32, 2, (int64_t[]){3, 3});
    const vla_tensor *xs[2] = {&p1, &p2};
    CHECK_ERR(vla_concat(c, xs, 2, 1, &out), VLA_ERR_SHAPE, "concat: input 1 [3, 3] does not match input 0 [2, 3] outside dim 1");
    CHECK_OK(vla_concat(c, xs, 2, 0, &out));
    CHECK(shape_is(&out, 2, (int64_t[]){5, 3}));
    CHECK_ERR(vla_copy_into(c, &p1, &p2), VLA_ERR_SHAPE, "copy_into: dst [2, 3] and src [3, 3] differ in shape");
    CHECK_ERR(vla_permute(c, &p1, (int[]){0, 0}, &out), VLA_ERR_SHAPE, "permute");

    /* get_rows range check names the id and the table size */
    vla_tensor table = zeros(c, VLA_BF16, 2, (int64_t[]){17, 4});
    int32_t ids_h[3] = {0, 17, 2};
    vla_tensor ids = up(c, VLA_I32, 1, (int64_t[]){3}, ids_h);
    CHECK_ERR(vla_get_rows(c, &table, &ids, &out), VLA_ERR_INVALID_ARG, "id 17 at position 1 is out of range for a table of 17 rows");
    int64_t neg_h[1] = {-1};
    vla_tensor neg = up(c, VLA_I64, 1, (int64_t[]){1}, neg_h);
    CHECK_ERR(vla_get_rows(c, &table, &neg, &out), VLA_ERR_INVALID_ARG, "id -1");
    vla_tensor fids = zeros(c, VLA_F32, 1, (int64_t[]){1});
    CHECK_ERR(vla_get_rows(c, &table, &fids, &out), VLA_ERR_TYPE, "get_rows: ids have dtype f32");

    /* host memory is not backend memory */
    float host[17 * 3] = {0};
    vla_tensor hx = vla_tensor_make(NULL, host, VLA_F32, 2, (int64_t[]){3, 17});
    CHECK_ERR(vla_silu(c, &hx, &out), VLA_ERR_INVALID_ARG, "silu: x is host memory");
    CHECK_ERR(vla_matmul(c, &x, &hx, NULL, &out), VLA_ERR_INVALID_ARG, "matmul: w is host memory");
    /* activations must be f32 */
    vla_tensor xb = zeros(c, VLA_BF16, 2, (int64_t[]){3, 17});
    CHECK_ERR(vla_softmax(c, &xb, &out), VLA_ERR_TYPE, "softmax: x has dtype bf16, expected f32");
}

/* A backend whose vtable lacks the matmul slot. */
static void unsupported_slot(const vla_plugin_desc *desc) {
    vla_backend_vtable vt = *(const vla_backend_vtable *)desc->vtable;
    vt.matmul = NULL;
    vla_backend *be = NULL;
    vla_ctx *c = NULL;
    CHECK_OK(vla_backend_create(&vt, "partial", NULL, &be));
    if (be) CHECK_OK(vla_ctx_create(be, 1 << 16, &c));
    if (c) {
        vla_tensor x = zeros(c, VLA_F32, 2, (int64_t[]){2, 3}), w = zeros(c, VLA_F32, 2, (int64_t[]){4, 3}), out;
        CHECK_ERR(vla_matmul(c, &x, &w, NULL, &out), VLA_ERR_UNSUPPORTED, "matmul: not supported by backend 'partial'");
        CHECK_OK(vla_silu(c, &x, &out));
    }
    vla_ctx_destroy(c);
    vla_backend_destroy(be);

    /* an older, shorter vtable: slots past its struct_size count as absent */
    vt = *(const vla_backend_vtable *)desc->vtable;
    vt.struct_size = (uint32_t)offsetof(vla_backend_vtable, rope);
    CHECK_OK(vla_backend_create(&vt, "old", NULL, &be));
    if (be) CHECK_OK(vla_ctx_create(be, 1 << 16, &c));
    if (c) {
        vla_tensor x = zeros(c, VLA_F32, 4, (int64_t[]){1, 1, 1, 2}), t = zeros(c, VLA_F32, 2, (int64_t[]){1, 2}), out;
        CHECK_ERR(vla_rope(c, &x, &t, &t, &out), VLA_ERR_UNSUPPORTED, "rope: not supported by backend 'old'");
    }
    vla_ctx_destroy(c);
    vla_backend_destroy(be);
}

/* The backend's own config keys are checked. */
static void config_errors(vla_registry *reg) {
    static const struct {
        const char *yaml, *needle;
        vla_status code;
    } cases[] = {
        {"threads: -3\n", "threads: -3 is out of range", VLA_ERR_INVALID_ARG},
        {"threads: many\n", "threads", VLA_ERR_TYPE},
        {"simd: maybe\n", "simd", VLA_ERR_TYPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vla_config *cfg = NULL;
        vla_backend *be = NULL;
        CHECK_OK(vla_config_parse(cases[i].yaml, strlen(cases[i].yaml), "backend.yaml", &cfg));
        CHECK_ERR(vla_registry_open_backend(reg, "cpu", cfg, &be), cases[i].code, cases[i].needle);
        CHECK(be == NULL);
        vla_config_free(cfg);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    const char *dirs[1] = {argv[1]};
    vla_registry *reg = NULL;
    const vla_plugin_desc *desc = NULL;
    vla_backend *be = NULL;
    vla_ctx *c = NULL;
    CHECK_OK(vla_registry_open_dirs(dirs, 1, &reg));
    if (reg) CHECK_OK(vla_registry_get(reg, VLA_PLUGIN_BACKEND, "cpu", &desc));
    if (reg) CHECK_OK(vla_registry_open_backend(reg, "cpu", NULL, &be));
    if (be) CHECK_OK(vla_ctx_create(be, 1 << 20, &c));
    if (c) shape_errors(c);
    if (desc) unsupported_slot(desc);
    if (reg) config_errors(reg);
    vla_ctx_destroy(c);
    vla_backend_destroy(be);
    vla_registry_close(reg);
    return test_finish("test_op_errors");
}
