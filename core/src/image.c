/* Image buffers: loading files, validating caller images, freeing. */
#include "vla/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_internal.h"
#include "paths.h"

void vla_image_buf_free(vla_image_buf *b) {
    if (!b) return;
    free(b->pixels);
    memset(b, 0, sizeof *b);
}

vla_status vla_image_validate(const vla_image *img, const char *what) {
    if (!what) what = "image";
    if (!img) return vla_error(VLA_ERR_INVALID_ARG, "%s: no image given", what);
    if (!img->data) return vla_error(VLA_ERR_INVALID_ARG, "%s: pixel data is NULL", what);
    if (img->channels != 3)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: %d channels, expected RGB (3)", what, img->channels);
    return vla_image_check_size(img->height, img->width, what);
}

vla_status vla_image_check_size(int64_t height, int64_t width, const char *what) {
    if (height < 1 || width < 1)
        return vla_error(VLA_ERR_INVALID_ARG, "%s: empty size %lldx%lld (HxW)", what, (long long)height,
                         (long long)width);
    if (height > VLA_IMAGE_MAX_SIDE || width > VLA_IMAGE_MAX_SIDE ||
        height * width > VLA_IMAGE_MAX_PIXELS)
        return vla_error(VLA_ERR_LIMIT, "%s: size %lldx%lld (HxW) exceeds the limit (%d per side, %lld pixels)",
                         what, (long long)height, (long long)width, VLA_IMAGE_MAX_SIDE,
                         (long long)VLA_IMAGE_MAX_PIXELS);
    return VLA_OK;
}

vla_status vla_image_buf_alloc(int32_t height, int32_t width, int32_t channels, vla_image_buf *out) {
    memset(out, 0, sizeof *out);
    size_t n = (size_t)height * (size_t)width * (size_t)channels;
    out->pixels = malloc(n ? n : 1);
    if (!out->pixels)
        return vla_error(VLA_ERR_OOM, "image: out of memory for %dx%dx%d pixels", height, width, channels);
    out->img.height = height;
    out->img.width = width;
    out->img.channels = channels;
    out->img.data = out->pixels;
    return VLA_OK;
}

vla_status vla_image_load(const char *path, vla_image_buf *out) {
    memset(out, 0, sizeof *out);
    if (!vla_path_is_file(path))
        return vla_error(VLA_ERR_IO, "%s: cannot open: %s", path,
                         access(path, F_OK) == 0 ? "not a regular file" : strerror(errno));
    FILE *f = fopen(path, "rb");
    if (!f) return vla_error(VLA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    vla_status s = VLA_OK;
    unsigned char *bytes = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        s = vla_error(VLA_ERR_IO, "%s: cannot determine the file size: %s", path, strerror(errno));
    } else if (n > VLA_IMAGE_MAX_FILE_BYTES) {
        s = vla_error(VLA_ERR_LIMIT, "%s: %ld bytes exceeds the image file limit of %lld bytes", path, n,
                      (long long)VLA_IMAGE_MAX_FILE_BYTES);
    } else if (!(bytes = malloc(n ? (size_t)n : 1))) {
        s = vla_error(VLA_ERR_OOM, "%s: out of memory reading %ld bytes", path, n);
    } else if (fread(bytes, 1, (size_t)n, f) != (size_t)n) {
        s = vla_error(VLA_ERR_IO, "%s: read failed: %s", path, ferror(f) ? strerror(errno) : "short read");
    }
    fclose(f);
    if (s == VLA_OK) s = vla_image_decode(bytes, (size_t)n, path, out);
    free(bytes);
    return s;
}
