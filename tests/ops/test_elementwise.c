/* Broadcasting add/sub/mul (out-of-place and in place), the activations,
 * scale and AdaLN modulate against plain references. */
#include "ops_test.h"

static int64_t numel_of(int nd, const int64_t *s) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= s[i];
    return n;
}

/* Flat index into a (right-aligned, numpy) broadcast operand of shape s. */
static int64_t bcast_index(int64_t flat, int nd_out, const int64_t *out_shape, int nd, const int64_t *s) {
    int64_t idx = 0, mul = 1;
    for (int d = nd_out - 1; d >= 0; d--) {
        int64_t coord = flat % out_shape[d];
        flat /= out_shape[d];
        int sd = d - (nd_out - nd);
        if (sd < 0) continue;
        if (s[sd] != 1) idx += coord * mul;
        mul *= s[sd];
    }
    return idx;
}

static double apply(int op, double a, double b) { return op == 0 ? a + b : op == 1 ? a - b : a * b; }

static void check_binary(vla_ctx *c, const char *label, int nda, const int64_t *sa, int ndb,
                         const int64_t *sb, int ndo, const int64_t *so) {
    static const char *const names[] = {"add", "sub", "mul"};
    size_t mark = vla_ctx_mark(c);
    int64_t na = numel_of(nda, sa), nb = numel_of(ndb, sb), no = numel_of(ndo, so);
    float *ah = rand_f32((size_t)na, 2.0f), *bh = rand_f32((size_t)nb, 2.0f);
    vla_tensor a = up(c, VLA_F32, nda, sa, ah), b = up(c, VLA_F32, ndb, sb, bh);
    double *ref = malloc(sizeof(double) * (size_t)no);
    for (int op = 0; op < 3; op++) {
        vla_tensor out;
        memset(&out, 0, sizeof out);
        vla_status s = op == 0 ? vla_add(c, &a, &b, &out) : op == 1 ? vla_sub(c, &a, &b, &out)
                                                                   : vla_mul(c, &a, &b, &out);
        CHECK_OK(s);
        CHECK(shape_is(&out, ndo, so));
        for (int64_t i = 0; i < no; i++)
            ref[i] = (float)apply(op, ah[bcast_index(i, ndo, so, nda, sa)], bh[bcast_index(i, ndo, so, ndb, sb)]);
        float *got = down(c, &out);
        char what[96];
        snprintf(what, sizeof what, "%s (%lld elements) [%s]", names[op], (long long)no, label);
        /* one f32 rounding of exact inputs: bit-exact */
        CHECK(close_to(what, got, ref, (size_t)no, 0.0, 0.0));
        free(got);
    }
    /* in place, when b broadcasts to a */
    if (ndo == nda && no == na) {
        vla_tensor a2 = up(c, VLA_F32, nda, sa, ah);
        CHECK_OK(vla_add_inplace(c, &a2, &b));
        CHECK_OK(vla_mul_inplace(c, &a2, &b));
        for (int64_t i = 0; i < no; i++) {
            float bi = bh[bcast_index(i, ndo, so, ndb, sb)];
            ref[i] = (float)((float)(ah[i] + bi) * bi);
        }
        float *got = down(c, &a2);
        CHECK(close_to("add_inplace + mul_inplace", got, ref, (size_t)no, 0.0, 0.0));
        free(got);
    }
    free(ref);
    free(ah);
    free(bh);
    vla_ctx_release(c, mark);
}

static void binary_cases(vla_ctx *c, const char *label) {
    check_binary(c, label, 2, (int64_t[]){3, 17}, 1, (int64_t[]){17}, 2, (int64_t[]){3, 17});
    check_binary(c, label, 2, (int64_t[]){3, 1}, 2, (int64_t[]){1, 17}, 2, (int64_t[]){3, 17});
    check_binary(c, label, 3, (int64_t[]){2, 3, 17}, 2, (int64_t[]){3, 1}, 3, (int64_t[]){2, 3, 17});
    check_binary(c, label, 1, (int64_t[]){129}, 1, (int64_t[]){1}, 1, (int64_t[]){129});
    check_binary(c, label, 1, (int64_t[]){1}, 1, (int64_t[]){1}, 1, (int64_t[]){1});
    check_binary(c, label, 2, (int64_t[]){257, 300}, 2, (int64_t[]){257, 300}, 2, (int64_t[]){257, 300});
    check_binary(c, label, 3, (int64_t[]){5, 1, 129}, 3, (int64_t[]){1, 3, 1}, 3, (int64_t[]){5, 3, 129});
    check_binary(c, label, 1, (int64_t[]){17}, 3, (int64_t[]){3, 1, 17}, 3, (int64_t[]){3, 1, 17});
    check_binary(c, label, 4, (int64_t[]){2, 257, 1, 300}, 1, (int64_t[]){300}, 4, (int64_t[]){2, 257, 1, 300});

    /* a strided (transposed) operand */
    float *ah = rand_f32(17 * 3, 1.0f), *bh = rand_f32(17 * 3, 1.0f);
    vla_tensor a0 = up(c, VLA_F32, 2, (int64_t[]){17, 3}, ah), a, b = up(c, VLA_F32, 2, (int64_t[]){3, 17}, bh), out;
    CHECK_OK(vla_view_transpose(&a0, 0, 1, &a));
    CHECK_OK(vla_add(c, &a, &b, &out));
    double ref[51];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 17; j++) ref[i * 17 + j] = (float)(ah[j * 3 + i] + bh[i * 17 + j]);
    float *got = down(c, &out);
    CHECK(close_to("add with a transposed operand", got, ref, 51, 0.0, 0.0));
    free(got);
    free(ah);
    free(bh);
}

static double gelu_tanh_ref(double x) {
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

static void unary_cases(vla_ctx *c, const char *label) {
    static const int64_t sizes[] = {1, 3, 17, 129, 257 * 300};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t mark = vla_ctx_mark(c);
        int64_t n = sizes[si];
        float *xh = rand_f32((size_t)n, 8.0f);
        xh[0] = n > 1 ? -0.0f : 3.0f;
        vla_tensor x = up(c, VLA_F32, 1, &n, xh), out;
        double *ref = malloc(sizeof(double) * (size_t)n);
        for (int op = 0; op < 6; op++) {
            const char *name = "";
            switch (op) {
            case 0: name = "silu"; CHECK_OK(vla_silu(c, &x, &out)); break;
            case 1: name = "gelu_tanh"; CHECK_OK(vla_gelu_tanh(c, &x, &out)); break;
            case 2: name = "gelu_erf"; CHECK_OK(vla_gelu_erf(c, &x, &out)); break;
            case 3: name = "relu"; CHECK_OK(vla_relu(c, &x, &out)); break;
            case 4: name = "sigmoid"; CHECK_OK(vla_sigmoid(c, &x, &out)); break;
            case 5: name = "scale"; CHECK_OK(vla_scale(c, &x, -1.5f, 0.25f, &out)); break;
            }
            for (int64_t i = 0; i < n; i++) {
                double v = xh[i];
                switch (op) {
                case 0: ref[i] = v / (1.0 + exp(-v)); break;
                case 1: ref[i] = gelu_tanh_ref(v); break;
                case 2: ref[i] = 0.5 * v * (1.0 + erf(v / sqrt(2.0))); break;
                case 3: ref[i] = v > 0 ? v : 0; break;
                case 4: ref[i] = 1.0 / (1.0 + exp(-v)); break;
                case 5: ref[i] = v * -1.5 + 0.25; break;
                }
            }
            float *got = down(c, &out);
            char what[96];
            snprintf(what, sizeof what, "%s n=%lld [%s]", name, (long long)n, label);
            /* libm float functions: a few ulp */
            CHECK(close_to(what, got, ref, (size_t)n, 1e-6, 1e-5));
            free(got);
        }
        free(ref);
        free(xh);
        vla_ctx_release(c, mark);
    }
}

static void modulate_cases(vla_ctx *c, const char *label) {
    static const int64_t shapes[][3] = {{1, 1, 1}, {2, 3, 17}, {3, 129, 5}, {2, 17, 300}};
    for (size_t si = 0; si < 4; si++) {
        size_t mark = vla_ctx_mark(c);
        int64_t B = shapes[si][0], S = shapes[si][1], D = shapes[si][2];
        float *xh = rand_f32((size_t)(B * S * D), 2.0f), *sc = rand_f32((size_t)(B * D), 1.0f),
              *sh = rand_f32((size_t)(B * D), 1.0f);
        vla_tensor x = up(c, VLA_F32, 3, (int64_t[]){B, S, D}, xh), scale = up(c, VLA_F32, 2, (int64_t[]){B, D}, sc),
                   shift = up(c, VLA_F32, 2, (int64_t[]){B, D}, sh), out;
        CHECK_OK(vla_modulate(c, &x, &scale, &shift, &out));
        CHECK(shape_is(&out, 3, (int64_t[]){B, S, D}));
        double *ref = malloc(sizeof(double) * (size_t)(B * S * D));
        for (int64_t b = 0; b < B; b++)
            for (int64_t s = 0; s < S; s++)
                for (int64_t d = 0; d < D; d++)
                    ref[(b * S + s) * D + d] = (double)xh[(b * S + s) * D + d] * (1.0 + sc[b * D + d]) + sh[b * D + d];
        float *got = down(c, &out);
        char what[96];
        snprintf(what, sizeof what, "modulate [%lld, %lld, %lld] [%s]", (long long)B, (long long)S,
                 (long long)D, label);
        /* three f32 roundings */
        CHECK(close_to(what, got, ref, (size_t)(B * S * D), 1e-6, 1e-6));
        free(got);
        free(ref);
        free(xh);
        free(sc);
        free(sh);
        vla_ctx_release(c, mark);
    }
}

/* `out` may be the same struct as an input: the op reads it before replacing it. */
static void aliasing_cases(vla_ctx *c, const char *label) {
    float xh[17], yh[17];
    for (int i = 0; i < 17; i++) {
        xh[i] = urand() * 4.0f;
        yh[i] = urand();
    }
    vla_tensor x = up(c, VLA_F32, 1, (int64_t[]){17}, xh), y = up(c, VLA_F32, 1, (int64_t[]){17}, yh);
    CHECK_OK(vla_silu(c, &x, &x));
    CHECK_OK(vla_add(c, &x, &y, &y));
    double ref[17];
    for (int i = 0; i < 17; i++) ref[i] = xh[i] / (1.0 + exp(-(double)xh[i])) + yh[i];
    float *got = down(c, &y);
    char what[64];
    snprintf(what, sizeof what, "silu then add into an input's struct [%s]", label);
    CHECK(close_to(what, got, ref, 17, 1e-6, 1e-5));
    free(got);
}

static void run(vla_ctx *c, const char *label) {
    aliasing_cases(c, label);
    binary_cases(c, label);
    unary_cases(c, label);
    modulate_cases(c, label);
}

int main(int argc, char **argv) { return ops_test_main(argc, argv, "test_elementwise", run); }
