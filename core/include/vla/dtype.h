/* Element types. The first seven are compute/storage types every backend
 * understands; F64, I16 and I8 occur only in weight files and are converted on
 * load. */
#ifndef VLA_DTYPE_H
#define VLA_DTYPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vla_dtype {
    VLA_F32 = 0,
    VLA_BF16,
    VLA_F16,
    VLA_I32,
    VLA_I64,
    VLA_U8,
    VLA_BOOL,
    VLA_F64,
    VLA_I16,
    VLA_I8,
    VLA_DTYPE_COUNT
} vla_dtype;

size_t vla_dtype_size(vla_dtype t);
const char *vla_dtype_name(vla_dtype t);           /* "f32", "bf16", ... */
/* Parses our names and safetensors names ("BF16", "F32", ...). Returns -1 if unknown. */
int vla_dtype_from_name(const char *name);
int vla_dtype_is_float(vla_dtype t);

/* Scalar conversions (round-to-nearest-even for narrowing). */
float vla_bf16_to_f32(uint16_t h);
uint16_t vla_f32_to_bf16(float f);
float vla_f16_to_f32(uint16_t h);
uint16_t vla_f32_to_f16(float f);

/* Convert n elements between any two dtypes (host memory). Float->int truncates
 * toward zero; bool writes 0/1. */
void vla_convert(void *dst, vla_dtype dst_type, const void *src, vla_dtype src_type, size_t n);

#ifdef __cplusplus
}
#endif
#endif
