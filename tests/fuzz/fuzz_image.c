/* libFuzzer target: PNG/JPEG decoding and the uint8 resizes of whatever
 * decodes. Any input must give an image or an error, never a crash, leak
 * or hang. */
#include <stddef.h>
#include <stdint.h>

#include "vla/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vla_image_buf img;
    if (vla_image_decode(data, size, "fuzz", &img) != VLA_OK) return 0;
    /* target sizes from the last byte: shrink, enlarge, or keep each axis */
    uint8_t k = size ? data[size - 1] : 0;
    int32_t h = img.img.height, w = img.img.width;
    int32_t th = (k & 3) == 0 ? h : (k & 3) == 1 ? (h + 1) / 2 : h + 3;
    int32_t tw = (k & 12) == 0 ? w : (k & 12) == 4 ? (w + 2) / 3 : w * 2;
    if ((int64_t)th * tw <= (1 << 20)) {
        static const vla_resample filters[] = {VLA_RESAMPLE_BICUBIC, VLA_RESAMPLE_BILINEAR, VLA_RESAMPLE_BICUBIC_TORCH};
        vla_image_buf out;
        if (vla_image_resize(&img.img, th, tw, filters[(k >> 4) % 3], &out) == VLA_OK) vla_image_buf_free(&out);
    }
    vla_image_buf_free(&img);
    return 0;
}
