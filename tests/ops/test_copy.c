/* Data movement: cast between all seven compute dtypes, contiguous copies of
 * sliced / broadcast / permuted views, concat, copy_into a strided
 * destination, and get_rows from f32/bf16/f16 tables. */
#include "ops_test.h"

static const vla_dtype all_types[] = {VLA_F32, VLA_BF16, VLA_F16, VLA_I32, VLA_I64, VLA_U8, VLA_BOOL};

/* Store small integers (0..5, exact in every dtype) as dtype t. */
static void store(vla_dtype t, void *p, size_t i, int v) {
    switch (t) {
    case VLA_F32: ((float *)p)[i] = (float)v; break;
    case VLA_BF16: ((uint16_t *)p)[i] = vla_f32_to_bf16((float)v); break;
    case VLA_F16: ((uint16_t *)p)[i] = vla_f32_to_f16((float)v); break;
    case VLA_I32: ((int32_t *)p)[i] = v; break;
    case VLA_I64: ((int64_t *)p)[i] = v; break;
    case VLA_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case VLA_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

static int load(vla_dtype t, const void *p, size_t i) {
    switch (t) {
    case VLA_F32: return (int)((const float *)p)[i];
    case VLA_BF16: return (int)vla_bf16_to_f32(((const uint16_t *)p)[i]);
    case VLA_F16: return (int)vla_f16_to_f32(((const uint16_t *)p)[i]);
    case VLA_I32: return ((const int32_t *)p)[i];
    case VLA_I64: return (int)((const int64_t *)p)[i];
    case VLA_U8: case VLA_BOOL: return ((const uint8_t *)p)[i];
    default: return -999;
    }
}

/* Every dtype pair, through a transposed (strided) source view. */
static void cast_cases(vla_ctx *c, const char *label) {
    enum { R = 17, C = 3 };
    int vals[R * C];
    for (int i = 0; i < R * C; i++) vals[i] = i % 6;
    for (size_t si = 0; si < 7; si++)
        for (size_t di = 0; di < 7; di++) {
            size_t mark = vla_ctx_mark(c);
            vla_dtype st = all_types[si], dt = all_types[di];
            uint8_t src[R * C * 8], dst[R * C * 8];
            for (int i = 0; i < R * C; i++) store(st, src, (size_t)i, vals[i]);
            vla_tensor x = up(c, st, 2, (int64_t[]){R, C}, src), xt, out;
            CHECK_OK(vla_view_transpose(&x, 0, 1, &xt));
            CHECK_OK(vla_cast(c, &xt, dt, &out));
            CHECK(out.dtype == dt && shape_is(&out, 2, (int64_t[]){C, R}));
            CHECK_OK(vla_to_host(c, &out, dst, sizeof dst));
            int bad = -1;
            for (int i = 0; i < C && bad < 0; i++)
                for (int j = 0; j < R && bad < 0; j++) {
                    int want = dt == VLA_BOOL ? vals[j * C + i] != 0 : vals[j * C + i];
                    if (st == VLA_BOOL) want = vals[j * C + i] != 0;
                    if (load(dt, dst, (size_t)(i * R + j)) != want) bad = i * R + j;
                }
            CHECK_MSG(bad < 0, "cast %s -> %s: element %d wrong [%s]", vla_dtype_name(st), vla_dtype_name(dt),
                      bad, label);
            vla_ctx_release(c, mark);
        }
    /* rounding f32 -> bf16 -> f32 keeps 8 significant bits */
    float *xh = rand_f32(129, 100.0f);
    vla_tensor x = up(c, VLA_F32, 1, (int64_t[]){129}, xh), b, back;
    CHECK_OK(vla_cast(c, &x, VLA_BF16, &b));
    CHECK_OK(vla_cast(c, &b, VLA_F32, &back));
    float *got = down(c, &back);
    double ref[129];
    for (int i = 0; i < 129; i++) ref[i] = xh[i];
    CHECK(close_to("f32 -> bf16 -> f32", got, ref, 129, 0.0, 1.0 / 256));
    free(got);
    free(xh);
}

static void permute_cases(vla_ctx *c, const char *label) {
    enum { A = 2, B = 3, C = 17, D = 5 };
    float *xh = rand_f32(A * B * C * D, 1.0f);
    vla_tensor x = up(c, VLA_F32, 4, (int64_t[]){A, B, C, D}, xh), out;
    CHECK_OK(vla_permute(c, &x, (int[]){2, 0, 3, 1}, &out));
    CHECK(shape_is(&out, 4, (int64_t[]){C, A, D, B}));
    double *ref = malloc(sizeof(double) * A * B * C * D);
    for (int a = 0; a < A; a++)
        for (int b = 0; b < B; b++)
            for (int cc = 0; cc < C; cc++)
                for (int d = 0; d < D; d++)
                    ref[((cc * A + a) * D + d) * B + b] = xh[((a * B + b) * C + cc) * D + d];
    float *got = down(c, &out);
    char what[64];
    snprintf(what, sizeof what, "permute [%s]", label);
    CHECK(close_to(what, got, ref, A * B * C * D, 0.0, 0.0));
    free(got);

    /* transpose of a large matrix */
    enum { M = 257, N = 300 };
    float *yh = rand_f32(M * N, 1.0f);
    vla_tensor y = up(c, VLA_F32, 2, (int64_t[]){M, N}, yh), yt;
    CHECK_OK(vla_transpose(c, &y, 0, -1, &yt));
    CHECK(shape_is(&yt, 2, (int64_t[]){N, M}));
    double *ref2 = malloc(sizeof(double) * M * N);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) ref2[j * M + i] = yh[i * N + j];
    got = down(c, &yt);
    CHECK(close_to("transpose [257, 300]", got, ref2, M * N, 0.0, 0.0));
    free(got);

    /* a slice with a step in its stride, and a stride-0 (broadcast) view */
    vla_tensor sl, sc, bc = y;
    CHECK_OK(vla_view_slice(&y, 1, 7, 129, &sl));
    CHECK_OK(vla_contiguous(c, &sl, &sc));
    for (int i = 0; i < M; i++)
        for (int j = 0; j < 129; j++) ref2[i * 129 + j] = yh[i * N + 7 + j];
    got = down(c, &sc);
    CHECK(close_to("contiguous of a column slice", got, ref2, M * 129, 0.0, 0.0));
    free(got);
    bc.ndim = 3;
    bc.shape[0] = 4;
    bc.shape[1] = 3;
    bc.shape[2] = N;
    bc.stride[0] = 0;
    bc.stride[1] = N;
    bc.stride[2] = 1;
    CHECK_OK(vla_contiguous(c, &bc, &sc));
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < N; j++) ref2[(r * 3 + i) * N + j] = yh[i * N + j];
    got = down(c, &sc);
    CHECK(close_to("contiguous of a broadcast view", got, ref2, 4 * 3 * N, 0.0, 0.0));
    free(got);
    free(ref2);
    free(yh);
    free(ref);
    free(xh);
}

static void concat_cases(vla_ctx *c, const char *label) {
    /* three inputs [2, k_i, 5] with k = 1, 3, 17, along each dim in turn */
    for (int dim = 0; dim < 3; dim++) {
        size_t mark = vla_ctx_mark(c);
        int64_t sizes[3] = {1, 3, 17};
        vla_tensor parts[3];
        float *host[3];
        int64_t total = 0;
        for (int i = 0; i < 3; i++) {
            int64_t shape[3] = {2, 3, 5};
            shape[dim] = sizes[i];
            host[i] = rand_f32((size_t)(shape[0] * shape[1] * shape[2]), 1.0f);
            parts[i] = up(c, VLA_F32, 3, shape, host[i]);
            total += sizes[i];
        }
        const vla_tensor *xs[3] = {&parts[0], &parts[1], &parts[2]};
        vla_tensor out;
        CHECK_OK(vla_concat(c, xs, 3, dim - 3 * (dim == 2), &out)); /* dim 2 given as -1 */
        int64_t oshape[3] = {2, 3, 5};
        oshape[dim] = total;
        CHECK(shape_is(&out, 3, oshape));
        int64_t n = oshape[0] * oshape[1] * oshape[2];
        double *ref = malloc(sizeof(double) * (size_t)n);
        for (int64_t i = 0; i < oshape[0]; i++)
            for (int64_t j = 0; j < oshape[1]; j++)
                for (int64_t k = 0; k < oshape[2]; k++) {
                    int64_t idx[3] = {i, j, k}, p = 0;
                    while (idx[dim] >= sizes[p]) idx[dim] -= sizes[p++];
                    int64_t ps[3] = {2, 3, 5};
                    ps[dim] = sizes[p];
                    ref[(i * oshape[1] + j) * oshape[2] + k] = host[p][(idx[0] * ps[1] + idx[1]) * ps[2] + idx[2]];
                }
        float *got = down(c, &out);
        char what[64];
        snprintf(what, sizeof what, "concat dim %d [%s]", dim, label);
        CHECK(close_to(what, got, ref, (size_t)n, 0.0, 0.0));
        free(got);
        free(ref);
        for (int i = 0; i < 3; i++) free(host[i]);
        vla_ctx_release(c, mark);
    }
    /* bf16 inputs stay bf16 */
    uint16_t a[2] = {vla_f32_to_bf16(1.5f), vla_f32_to_bf16(-2.0f)}, b[1] = {vla_f32_to_bf16(3.0f)}, r[3];
    vla_tensor ta = up(c, VLA_BF16, 1, (int64_t[]){2}, a), tb = up(c, VLA_BF16, 1, (int64_t[]){1}, b), out;
    const vla_tensor *xs[2] = {&ta, &tb};
    CHECK_OK(vla_concat(c, xs, 2, 0, &out));
    CHECK(out.dtype == VLA_BF16);
    CHECK_OK(vla_to_host(c, &out, r, sizeof r));
    CHECK(r[0] == a[0] && r[1] == a[1] && r[2] == b[0]);
}

static void copy_into_cases(vla_ctx *c, const char *label) {
    /* write a [17, 3] f32 block into columns 2..4 of a [17, 9] bf16 tensor */
    uint16_t base[17 * 9];
    for (int i = 0; i < 17 * 9; i++) base[i] = vla_f32_to_bf16(-7.0f);
    float src[17 * 3];
    for (int i = 0; i < 17 * 3; i++) src[i] = (float)(i % 11) - 5.0f;
    vla_tensor dst = up(c, VLA_BF16, 2, (int64_t[]){17, 9}, base), view, s = up(c, VLA_F32, 2, (int64_t[]){17, 3}, src);
    CHECK_OK(vla_view_slice(&dst, 1, 2, 3, &view));
    CHECK_OK(vla_copy_into(c, &view, &s));
    uint16_t r[17 * 9];
    CHECK_OK(vla_to_host(c, &dst, r, sizeof r));
    int bad = -1;
    for (int i = 0; i < 17 && bad < 0; i++)
        for (int j = 0; j < 9 && bad < 0; j++) {
            float want = (j >= 2 && j < 5) ? src[i * 3 + j - 2] : -7.0f;
            if (vla_bf16_to_f32(r[i * 9 + j]) != want) bad = i * 9 + j;
        }
    CHECK_MSG(bad < 0, "copy_into a strided bf16 view: element %d wrong [%s]", bad, label);
}

static void get_rows_cases(vla_ctx *c, const char *label) {
    enum { R = 17, D = 129 };
    static const vla_dtype tt[] = {VLA_F32, VLA_BF16, VLA_F16};
    for (int ti = 0; ti < 3; ti++) {
        size_t mark = vla_ctx_mark(c);
        float exact[R * D];
        uint8_t stored[R * D * 4];
        for (int i = 0; i < R * D; i++) {
            float v = urand();
            if (tt[ti] == VLA_F32) {
                ((float *)stored)[i] = exact[i] = v;
            } else if (tt[ti] == VLA_BF16) {
                ((uint16_t *)stored)[i] = vla_f32_to_bf16(v);
                exact[i] = vla_bf16_to_f32(((uint16_t *)stored)[i]);
            } else {
                ((uint16_t *)stored)[i] = vla_f32_to_f16(v);
                exact[i] = vla_f16_to_f32(((uint16_t *)stored)[i]);
            }
        }
        vla_tensor table = up(c, tt[ti], 2, (int64_t[]){R, D}, stored);
        int32_t ids32[3] = {16, 0, 5};
        int64_t ids64[6] = {3, 3, 16, 0, 1, 9};
        vla_tensor i32 = up(c, VLA_I32, 1, (int64_t[]){3}, ids32), i64 = up(c, VLA_I64, 2, (int64_t[]){2, 3}, ids64);
        vla_tensor o32, o64;
        CHECK_OK(vla_get_rows(c, &table, &i32, &o32));
        CHECK_OK(vla_get_rows(c, &table, &i64, &o64));
        CHECK(shape_is(&o32, 2, (int64_t[]){3, D}) && shape_is(&o64, 3, (int64_t[]){2, 3, D}));
        double ref[6 * D];
        for (int i = 0; i < 3; i++)
            for (int d = 0; d < D; d++) ref[i * D + d] = exact[ids32[i] * D + d];
        float *got = down(c, &o32);
        char what[64];
        snprintf(what, sizeof what, "get_rows %s i32 [%s]", vla_dtype_name(tt[ti]), label);
        CHECK(close_to(what, got, ref, 3 * D, 0.0, 0.0));
        free(got);
        for (int i = 0; i < 6; i++)
            for (int d = 0; d < D; d++) ref[i * D + d] = exact[ids64[i] * D + d];
        got = down(c, &o64);
        snprintf(what, sizeof what, "get_rows %s i64 [%s]", vla_dtype_name(tt[ti]), label);
        CHECK(close_to(what, got, ref, 6 * D, 0.0, 0.0));
        free(got);
        vla_ctx_release(c, mark);
    }
}

static void run(vla_ctx *c, const char *label) {
    cast_cases(c, label);
    permute_cases(c, label);
    concat_cases(c, label);
    copy_into_cases(c, label);
    get_rows_cases(c, label);
}

int main(int argc, char **argv) { return ops_test_main(argc, argv, "test_copy", run); }
