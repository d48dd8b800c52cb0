#include "vla/dtype.h"

#include <math.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    const char *st_name; /* safetensors spelling */
    size_t size;
    int is_float;
} dtype_table[VLA_DTYPE_COUNT] = {
    [VLA_F32] = {"f32", "F32", 4, 1},  [VLA_BF16] = {"bf16", "BF16", 2, 1},
    [VLA_F16] = {"f16", "F16", 2, 1},  [VLA_I32] = {"i32", "I32", 4, 0},
    [VLA_I64] = {"i64", "I64", 8, 0},  [VLA_U8] = {"u8", "U8", 1, 0},
    [VLA_BOOL] = {"bool", "BOOL", 1, 0}, [VLA_F64] = {"f64", "F64", 8, 1},
    [VLA_I16] = {"i16", "I16", 2, 0},  [VLA_I8] = {"i8", "I8", 1, 0},
};

size_t vla_dtype_size(vla_dtype t) { return (unsigned)t < VLA_DTYPE_COUNT ? dtype_table[t].size : 0; }

const char *vla_dtype_name(vla_dtype t) {
    return (unsigned)t < VLA_DTYPE_COUNT ? dtype_table[t].name : "invalid";
}

int vla_dtype_from_name(const char *name) {
    for (int i = 0; i < VLA_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_table[i].name) == 0 || strcmp(name, dtype_table[i].st_name) == 0)
            return i;
    return -1;
}

int vla_dtype_is_float(vla_dtype t) { return (unsigned)t < VLA_DTYPE_COUNT && dtype_table[t].is_float; }

float vla_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t vla_f32_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40); /* quiet NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

float vla_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while ((man & 0x400u) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t vla_f32_to_f16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t absbits = bits & 0x7fffffffu;
    if (absbits > 0x7f800000u) return sign | 0x7e00u;
    if (absbits >= 0x477ff000u) return sign | 0x7c00u; /* rounds to inf */
    if (absbits < 0x38800000u) {                        /* subnormal or zero in f16 */
        if (absbits < 0x33000000u) return sign;         /* below half the smallest subnormal */
        uint32_t man = (absbits & 0x7fffffu) | 0x800000u;
        int shift = 126 - (int)(absbits >> 23); /* 14..24 */
        uint32_t half = 1u << (shift - 1);
        uint32_t rest = man & ((1u << shift) - 1);
        uint32_t res = man >> shift;
        if (rest > half || (rest == half && (res & 1u))) res++;
        return sign | (uint16_t)res;
    }
    uint32_t res = ((absbits >> 13) - (112u << 10));
    uint32_t rest = absbits & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (res & 1u))) res++;
    return sign | (uint16_t)res;
}

static double load_as_double(const void *src, vla_dtype t, size_t i) {
    switch (t) {
    case VLA_F32: return ((const float *)src)[i];
    case VLA_BF16: return vla_bf16_to_f32(((const uint16_t *)src)[i]);
    case VLA_F16: return vla_f16_to_f32(((const uint16_t *)src)[i]);
    case VLA_I32: return ((const int32_t *)src)[i];
    case VLA_I64: return (double)((const int64_t *)src)[i];
    case VLA_U8: return ((const uint8_t *)src)[i];
    case VLA_BOOL: return ((const uint8_t *)src)[i] != 0;
    case VLA_F64: return ((const double *)src)[i];
    case VLA_I16: return ((const int16_t *)src)[i];
    case VLA_I8: return ((const int8_t *)src)[i];
    default: return 0;
    }
}

static int64_t load_as_int(const void *src, vla_dtype t, size_t i) {
    switch (t) {
    case VLA_I32: return ((const int32_t *)src)[i];
    case VLA_I64: return ((const int64_t *)src)[i];
    case VLA_U8: return ((const uint8_t *)src)[i];
    case VLA_BOOL: return ((const uint8_t *)src)[i] != 0;
    case VLA_I16: return ((const int16_t *)src)[i];
    case VLA_I8: return ((const int8_t *)src)[i];
    default: {
        double d = load_as_double(src, t, i);
        if (!(d == d)) return 0;
        if (d >= 9.2e18) return INT64_MAX;
        if (d <= -9.2e18) return INT64_MIN;
        return (int64_t)d;
    }
    }
}

void vla_convert(void *dst, vla_dtype dt, const void *src, vla_dtype st, size_t n) {
    if (dt == st) {
        memcpy(dst, src, n * vla_dtype_size(dt));
        return;
    }
    if (dt == VLA_F32 && st == VLA_BF16) { /* the hot case: bf16 weights to f32 */
        const uint16_t *s = src;
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = vla_bf16_to_f32(s[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case VLA_F32: ((float *)dst)[i] = (float)load_as_double(src, st, i); break;
        case VLA_BF16: ((uint16_t *)dst)[i] = vla_f32_to_bf16((float)load_as_double(src, st, i)); break;
        case VLA_F16: ((uint16_t *)dst)[i] = vla_f32_to_f16((float)load_as_double(src, st, i)); break;
        case VLA_F64: ((double *)dst)[i] = load_as_double(src, st, i); break;
        case VLA_I32: ((int32_t *)dst)[i] = (int32_t)load_as_int(src, st, i); break;
        case VLA_I64: ((int64_t *)dst)[i] = load_as_int(src, st, i); break;
        case VLA_U8: ((uint8_t *)dst)[i] = (uint8_t)load_as_int(src, st, i); break;
        case VLA_BOOL: ((uint8_t *)dst)[i] = load_as_double(src, st, i) != 0; break;
        case VLA_I16: ((int16_t *)dst)[i] = (int16_t)load_as_int(src, st, i); break;
        case VLA_I8: ((int8_t *)dst)[i] = (int8_t)load_as_int(src, st, i); break;
        default: break;
        }
    }
}
