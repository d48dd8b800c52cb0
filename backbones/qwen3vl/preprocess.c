/* Image preprocessing as Qwen2VLImageProcessorFast (transformers 4.57.0)
 * does it on the CPU: optional StarVLA pre-resize (Pillow), smart_resize to a
 * multiple of patch * merge, antialiased bicubic on uint8 with PyTorch's
 * arithmetic, fused rescale + normalise in float32, the frame repeated into
 * the temporal slots, and patches cut in 2x2-merge-window order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qwen3vl.h"

vla_status q3_smart_resize(int64_t height, int64_t width, int32_t factor, int64_t min_pixels, int64_t max_pixels,
                           int32_t *out_h, int32_t *out_w) {
    if (height < 1 || width < 1 || factor < 1)
        return vla_error(VLA_ERR_INVALID_ARG, "smart_resize: invalid size %lldx%lld", (long long)height,
                         (long long)width);
    double big = (double)(height > width ? height : width), small = (double)(height < width ? height : width);
    if (big / small > 200)
        return vla_error(VLA_ERR_INVALID_ARG, "smart_resize: image %lldx%lld (HxW) has an aspect ratio of %.1f; "
                         "it must be at most 200", (long long)height, (long long)width, big / small);
    /* Python's round() is round-half-to-even: nearbyint in the default mode. */
    double h = nearbyint((double)height / factor) * factor, w = nearbyint((double)width / factor) * factor;
    if (h * w > (double)max_pixels) {
        double beta = sqrt((double)(height * width) / (double)max_pixels);
        h = fmax(factor, floor((double)height / beta / factor) * factor);
        w = fmax(factor, floor((double)width / beta / factor) * factor);
    } else if (h * w < (double)min_pixels) {
        double beta = sqrt((double)min_pixels / (double)(height * width));
        h = ceil((double)height * beta / factor) * factor;
        w = ceil((double)width * beta / factor) * factor;
    }
    if (h < factor || w < factor || h > 32768 || w > 32768)
        return vla_error(VLA_ERR_LIMIT, "smart_resize: %lldx%lld (HxW) resizes to %.0fx%.0f, outside [%d, 32768]",
                         (long long)height, (long long)width, h, w, factor);
    *out_h = (int32_t)h;
    *out_w = (int32_t)w;
    return VLA_OK;
}

/* The size that reaches the processor: after the pre-resize, if any. */
static void input_size(const q3_config *cfg, const vla_image *img, int32_t *h, int32_t *w) {
    *h = cfg->image.pre_height ? cfg->image.pre_height : img->height;
    *w = cfg->image.pre_width ? cfg->image.pre_width : img->width;
}

vla_status q3_image_grid(const q3_config *cfg, const vla_image *img, q3_grid *g) {
    VLA_TRY(vla_image_validate(img, "qwen3vl image"));
    const q3_vision_config *v = &cfg->vision;
    int32_t h, w, rh, rw;
    input_size(cfg, img, &h, &w);
    VLA_TRY(q3_smart_resize(h, w, v->patch * v->merge, cfg->image.min_pixels, cfg->image.max_pixels, &rh, &rw));
    g->t = 1; /* one frame, padded to temporal_patch frames */
    g->h = rh / v->patch;
    g->w = rw / v->patch;
    return VLA_OK;
}

int32_t q3_grid_tokens(const q3_config *cfg, const q3_grid *g) {
    return g->t * g->h * g->w / (cfg->vision.merge * cfg->vision.merge);
}

/* Normalised patch rows from the resized uint8 image. Row n of a block
 * (br, bc) and intra position (ir, ic) is ((br * gw/m + bc) * m + ir) * m + ic;
 * its columns run over (channel, temporal copy, y, x). */
static void patchify(const q3_config *cfg, const vla_image *r, const q3_grid *g, float *rows) {
    const q3_vision_config *v = &cfg->vision;
    int32_t P = v->patch, T = v->temporal_patch, m = v->merge, C = 3;
    size_t K = (size_t)C * T * P * P;
    int32_t bh = g->h / m, bw = g->w / m;
    size_t n = 0;
    for (int32_t br = 0; br < bh; br++)
        for (int32_t bc = 0; bc < bw; bc++)
            for (int32_t ir = 0; ir < m; ir++)
                for (int32_t ic = 0; ic < m; ic++, n++) {
                    float *row = rows + n * K;
                    int32_t y0 = (br * m + ir) * P, x0 = (bc * m + ic) * P;
                    for (int32_t c = 0; c < C; c++)
                        for (int32_t y = 0; y < P; y++) {
                            const uint8_t *src = r->data + ((size_t)(y0 + y) * r->width + x0) * C + c;
                            float *dst = row + ((size_t)c * T * P + y) * P;
                            for (int32_t x = 0; x < P; x++)
                                dst[x] = ((float)src[(size_t)x * C] - cfg->image.mean[c]) / cfg->image.std[c];
                            for (int32_t t = 1; t < T; t++) memcpy(dst + (size_t)t * P * P, dst, sizeof *dst * P);
                        }
                }
}

vla_status q3_preprocess(const q3_config *cfg, const vla_image *img, q3_grid *g, float **rows) {
    *rows = NULL;
    VLA_TRY(q3_image_grid(cfg, img, g));
    const q3_vision_config *v = &cfg->vision;
    vla_image_buf pre = {0}, resized = {0};
    const vla_image *src = img;
    vla_status s = VLA_OK;
    if (cfg->image.pre_height && (img->height != cfg->image.pre_height || img->width != cfg->image.pre_width)) {
        s = vla_image_resize(img, cfg->image.pre_height, cfg->image.pre_width, cfg->image.pre_filter, &pre);
        src = &pre.img;
    }
    if (s == VLA_OK) s = vla_image_resize(src, g->h * v->patch, g->w * v->patch, VLA_RESAMPLE_BICUBIC_TORCH, &resized);
    size_t n_rows = (size_t)g->h * g->w, K = (size_t)3 * v->temporal_patch * v->patch * v->patch;
    float *out = NULL;
    if (s == VLA_OK && !(out = malloc(n_rows * K * sizeof *out)))
        s = vla_error(VLA_ERR_OOM, "qwen3vl: out of memory for %zu patch rows", n_rows);
    if (s == VLA_OK) patchify(cfg, &resized.img, g, out);
    vla_image_buf_free(&pre);
    vla_image_buf_free(&resized);
    if (s != VLA_OK) {
        free(out);
        return s;
    }
    *rows = out;
    return VLA_OK;
}
