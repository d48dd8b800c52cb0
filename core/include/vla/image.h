/* Images: decoding and the pixel operations VLM processors share. Images are
 * host RGB uint8, H x W x 3, row-major (what a camera or the policy server
 * hands over). */
#ifndef VLA_IMAGE_H
#define VLA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_image {
    int32_t height;
    int32_t width;
    int32_t channels; /* 3 for inputs to the policy */
    const uint8_t *data; /* height * width * channels bytes, row-major */
} vla_image;

/* An owned image buffer. */
typedef struct vla_image_buf {
    vla_image img;
    uint8_t *pixels;
} vla_image_buf;

/* Decode PNG or JPEG (by content, not name) to RGB: grey is replicated, alpha
 * dropped. Errors name the file and the decoder's reason. */
vla_status vla_image_load(const char *path, vla_image_buf *out);
vla_status vla_image_decode(const void *bytes, size_t n, const char *name, vla_image_buf *out);
void vla_image_buf_free(vla_image_buf *b);

/* Check an image handed in by a caller: non-NULL data, 3 channels, sane size. */
vla_status vla_image_validate(const vla_image *img, const char *what);

/* Resize with Pillow's antialiased separable filters on uint8 (fixed point,
 * as Image.resize does). */
typedef enum vla_resample {
    VLA_RESAMPLE_BICUBIC = 0, /* Keys cubic, a = -0.5 (Pillow/torchvision BICUBIC) */
    VLA_RESAMPLE_BILINEAR,
    /* The same bicubic filter with PyTorch's uint8 antialias arithmetic
     * (int16 weights, one precision per axis): what torchvision's resize
     * computes on the CPU, e.g. in Qwen2VLImageProcessorFast. Differs from
     * VLA_RESAMPLE_BICUBIC by 1 on some pixels. */
    VLA_RESAMPLE_BICUBIC_TORCH
} vla_resample;
vla_status vla_image_resize(const vla_image *src, int32_t height, int32_t width, vla_resample filter,
                            vla_image_buf *out);

#ifdef __cplusplus
}
#endif
#endif
