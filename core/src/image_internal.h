/* Internal to the image sources: size limits and shared helpers. */
#ifndef VLA_IMAGE_INTERNAL_H
#define VLA_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vla/image.h"

/* Limits that keep a hostile file from asking for absurd memory: 64 Mpixel
 * (192 MiB RGB) is above any camera frame a policy sees. */
#define VLA_IMAGE_MAX_SIDE 32768
#define VLA_IMAGE_MAX_PIXELS (64LL * 1024 * 1024)
#define VLA_IMAGE_MAX_FILE_BYTES (512LL * 1024 * 1024)

vla_status vla_image_check_size(int64_t height, int64_t width, const char *what);
/* Allocate an owned buffer (contents undefined). */
vla_status vla_image_buf_alloc(int32_t height, int32_t width, int32_t channels, vla_image_buf *out);

/* The decoders behind vla_image_decode (RGB output). */
vla_status vla_image_decode_png(const unsigned char *bytes, size_t n, const char *name, vla_image_buf *out);
vla_status vla_image_decode_jpeg(const unsigned char *bytes, size_t n, const char *name, vla_image_buf *out);

#endif
