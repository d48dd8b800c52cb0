/* Core foundation: dtype conversions against known bit patterns, tensor
 * views, the arena, the RNG against SplitMix64's published first outputs,
 * rope tables and error messages. */
#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "vla/dtype.h"
#include "vla/rng.h"
#include "vla/rope.h"
#include "vla/tensor.h"

static void test_dtypes(void) {
    /* bf16: 1.0 = 0x3f80, -2.0 = 0xc000; rounding to nearest even on the dropped half */
    CHECK(vla_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(vla_f32_to_bf16(-2.0f) == 0xc000);
    CHECK(vla_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(vla_f32_to_bf16(1.00390625f) == 0x3f80); /* exactly half an ulp above 1: ties to even */
    CHECK(vla_f32_to_bf16(1.01171875f) == 0x3f82); /* 1 + 1.5 ulp -> rounds up to even 0x3f82 */
    CHECK(isnan(vla_bf16_to_f32(vla_f32_to_bf16(NAN))));
    /* f16: 1.0 = 0x3c00, 65504 = 0x7bff, 2^-24 = 0x0001, 65520 overflows to inf */
    CHECK(vla_f32_to_f16(1.0f) == 0x3c00);
    CHECK(vla_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(vla_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(vla_f32_to_f16(5.9604645e-8f) == 0x0001);
    CHECK(vla_f32_to_f16(-0.0f) == 0x8000);
    CHECK(vla_f16_to_f32(0x0001) == 5.9604645e-8f);
    CHECK(vla_f16_to_f32(0x3555) == 0.333251953125f);
    CHECK(vla_f16_to_f32(0x7bff) == 65504.0f);
    /* every f16 bit pattern that is finite survives f16 -> f32 -> f16 */
    int roundtrip_ok = 1;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00) continue;
        if (vla_f32_to_f16(vla_f16_to_f32((uint16_t)h)) != h) roundtrip_ok = 0;
    }
    CHECK(roundtrip_ok);
    CHECK(vla_dtype_from_name("BF16") == VLA_BF16 && vla_dtype_from_name("i64") == VLA_I64);
    CHECK(vla_dtype_from_name("Q4_K") == -1);
    int64_t i64[3];
    float f[3] = {1.9f, -2.5f, 3.0f};
    vla_convert(i64, VLA_I64, f, VLA_F32, 3);
    CHECK(i64[0] == 1 && i64[1] == -2 && i64[2] == 3);
}

static void test_views(void) {
    float data[24];
    for (int i = 0; i < 24; i++) data[i] = (float)i;
    vla_tensor t = vla_tensor_make(NULL, data, VLA_F32, 3, (int64_t[]){2, 3, 4});
    CHECK(vla_tensor_numel(&t) == 24 && vla_tensor_is_contiguous(&t));
    vla_tensor v;
    CHECK_OK(vla_view_slice(&t, 1, 1, 2, &v));
    CHECK(v.shape[1] == 2 && ((float *)v.data)[0] == 4.0f && !vla_tensor_is_contiguous(&v));
    CHECK_ERR(vla_view_slice(&t, 1, 2, 2, &v), VLA_ERR_SHAPE, "out of range");
    CHECK_OK(vla_view_transpose(&t, 0, 2, &v));
    CHECK(v.shape[0] == 4 && v.stride[0] == 1 && v.stride[2] == 12);
    CHECK_OK(vla_view_reshape(&t, 2, (int64_t[]){-1, 8}, &v));
    CHECK(v.shape[0] == 3 && v.shape[1] == 8);
    CHECK_ERR(vla_view_reshape(&t, 2, (int64_t[]){5, -1}, &v), VLA_ERR_SHAPE, "cannot infer");
    vla_tensor tr;
    CHECK_OK(vla_view_transpose(&t, 0, 1, &tr));
    CHECK_ERR(vla_view_reshape(&tr, 1, (int64_t[]){24}, &v), VLA_ERR_SHAPE, "not contiguous");
    char buf[64];
    CHECK(strcmp(vla_tensor_shape_str(&t, buf, sizeof buf), "[2, 3, 4]") == 0);
}

static void test_rng(void) {
    /* SplitMix64 from state 0: the reference implementation's first outputs. */
    vla_rng r;
    vla_rng_seed(&r, 0);
    CHECK(vla_rng_next_u64(&r) == 0xe220a8397b1dcdafull);
    CHECK(vla_rng_next_u64(&r) == 0x6e789e6aa1b965f4ull);
    CHECK(vla_rng_next_u64(&r) == 0x06c45d188009454full);
    /* normals: mean ~0, variance ~1 over many draws; determinism per seed */
    double sum = 0, sq = 0;
    vla_rng_seed(&r, 7);
    for (int i = 0; i < 200000; i++) {
        double x = vla_rng_normal(&r);
        sum += x;
        sq += x * x;
    }
    CHECK(fabs(sum / 200000) < 0.01 && fabs(sq / 200000 - 1.0) < 0.01);
    vla_rng a, b;
    vla_rng_seed(&a, 42);
    vla_rng_seed(&b, 42);
    CHECK(vla_rng_normal(&a) == vla_rng_normal(&b));
}

static void test_rope(void) {
    int64_t pos[2] = {0, 3};
    float c[2 * 8], s[2 * 8];
    CHECK_OK(vla_rope_table_1d(pos, 2, 8, 10000.0, c, s));
    /* position 0: cos 1, sin 0; position 3, j=1: angle 3 * 10000^(-2/8) */
    CHECK(c[0] == 1.0f && s[3] == 0.0f);
    CHECK(fabsf(c[8 + 1] - cosf(3.0f * powf(10000.0f, -0.25f))) < 1e-6f);
    CHECK(c[8 + 1] == c[8 + 5] && s[8 + 2] == s[8 + 6]);
    /* Qwen3-VL 4B: sections [24, 20, 20] over 64 frequencies */
    int axis[64];
    CHECK_OK(vla_rope_mrope_interleaved_axes((int[]){24, 20, 20}, 128, axis));
    CHECK(axis[0] == 0 && axis[1] == 1 && axis[2] == 2 && axis[3] == 0 && axis[58] == 1 && axis[59] == 2);
    CHECK(axis[60] == 0 && axis[61] == 0 && axis[62] == 0 && axis[63] == 0);
    int h = 0, w = 0;
    for (int j = 0; j < 64; j++) {
        h += axis[j] == 1;
        w += axis[j] == 2;
    }
    CHECK(h == 20 && w == 20);
    CHECK_ERR(vla_rope_mrope_interleaved_axes((int[]){24, 20, 19}, 128, axis), VLA_ERR_INVALID_ARG,
              "must sum to head_dim/2 = 64");
}

static void test_errors(void) {
    CHECK(vla_error(VLA_ERR_PARSE, "x.yaml:3: bad %s", "thing") == VLA_ERR_PARSE);
    CHECK(vla_error_context(VLA_ERR_PARSE, "loading %s", "model") == VLA_ERR_PARSE);
    CHECK(strcmp(vla_last_error(), "loading model: x.yaml:3: bad thing") == 0);
    vla_clear_error();
    CHECK(vla_last_error()[0] == '\0');
}

int main(void) {
    test_dtypes();
    test_views();
    test_rng();
    test_rope();
    test_errors();
    return test_finish("test_core");
}
