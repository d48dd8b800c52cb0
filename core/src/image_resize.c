/* Antialiased separable resampling on uint8 images, bit-exact with the two
 * references VLM pipelines use:
 * - Pillow's Image.resize (Resample.c): weights in fixed point with 22
 *   fractional bits;
 * - PyTorch's uint8 antialiased interpolate (what torchvision.resize runs on
 *   CPU, e.g. inside Qwen2VLImageProcessorFast): the same filter weights
 *   quantised to int16 with one precision per axis, the largest that keeps
 *   the biggest weight below 2^15.
 * Both: the filter is stretched by the scale when downscaling (antialias),
 * weights are normalised to sum 1 in double, two separable passes with the
 * intermediate rounded to uint8 (horizontal first, except where Pillow
 * chooses otherwise, see resize()), and an axis whose size does not change is
 * not resampled. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image_internal.h"

typedef enum arith { ARITH_PILLOW, ARITH_TORCH } arith;

typedef struct filter {
    double (*fn)(double);
    double support;
} filter;

/* Keys cubic convolution, a = -0.5, in Pillow's operation order. */
static double bicubic_pillow(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* The same kernel in PyTorch's operation order (cubic_convolution1/2). */
static double bicubic_torch(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2.0) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0.0;
}

static double triangle(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Per output index: the first input index, the tap count and ksize weights. */
typedef struct coeffs {
    int32_t ksize;
    int32_t *start, *count;
    int32_t *w; /* [out * ksize], fixed point */
    int precision;
} coeffs;

static void coeffs_free(coeffs *c) {
    free(c->start);
    free(c->count);
    free(c->w);
}

static vla_status coeffs_make(int32_t in, int32_t out, const filter *f, arith ar, coeffs *c) {
    memset(c, 0, sizeof *c);
    double scale = (double)in / out;
    double fscale = scale < 1.0 ? 1.0 : scale, inv_fscale = 1.0 / fscale;
    double support = f->support * fscale;
    int32_t ksize = (int32_t)ceil(support) * 2 + 1;
    double *k = calloc((size_t)out * ksize, sizeof *k);
    c->start = malloc(sizeof *c->start * (size_t)out);
    c->count = malloc(sizeof *c->count * (size_t)out);
    c->w = calloc((size_t)out * ksize, sizeof *c->w);
    if (!k || !c->start || !c->count || !c->w) {
        free(k);
        coeffs_free(c);
        return vla_error(VLA_ERR_OOM, "image resize: out of memory for %d x %d weights", out, ksize);
    }
    c->ksize = ksize;
    double wmax = 0.0;
    for (int32_t i = 0; i < out; i++) {
        double center = (i + 0.5) * scale;
        int32_t lo = (int32_t)(center - support + 0.5); /* truncation, as both references */
        if (lo < 0) lo = 0;
        int32_t hi = (int32_t)(center + support + 0.5);
        if (hi > in) hi = in;
        int32_t n = hi - lo;
        if (n > ksize) n = ksize;
        double *ki = k + (size_t)i * ksize, total = 0.0;
        for (int32_t j = 0; j < n; j++) {
            ki[j] = f->fn((j + lo - center + 0.5) * inv_fscale);
            total += ki[j];
        }
        for (int32_t j = 0; j < n && total != 0.0; j++) {
            ki[j] /= total;
            if (ki[j] > wmax) wmax = ki[j];
        }
        c->start[i] = lo;
        c->count[i] = n;
    }
    if (ar == ARITH_PILLOW) {
        c->precision = 22;
    } else {
        for (c->precision = 1; c->precision < 22; c->precision++)
            if ((int)(0.5 + wmax * (1 << (c->precision + 1))) >= (1 << 15)) break;
    }
    double one = (double)(1 << c->precision);
    for (size_t j = 0; j < (size_t)out * ksize; j++) {
        double v = k[j] * one;
        c->w[j] = v < 0 ? (int32_t)(-0.5 + v) : (int32_t)(0.5 + v);
    }
    free(k);
    return VLA_OK;
}

static inline uint8_t clip8(int64_t acc, int precision) {
    if (acc <= 0) return 0;
    acc >>= precision;
    return acc > 255 ? 255 : (uint8_t)acc;
}

/* One pass along an axis. `step` is the distance between neighbouring
 * samples along the axis, `lines`/`line_step` walk the other axis. */
static void resample_axis(const uint8_t *src, uint8_t *dst, const coeffs *c, int32_t out, int32_t lines,
                          size_t src_line_step, size_t dst_line_step, size_t src_step, size_t dst_step,
                          int channels) {
    int64_t half = (int64_t)1 << (c->precision - 1); /* rounds the final shift */
    for (int32_t l = 0; l < lines; l++) {
        const uint8_t *s = src + (size_t)l * src_line_step;
        uint8_t *d = dst + (size_t)l * dst_line_step;
        for (int32_t i = 0; i < out; i++) {
            const int32_t *w = c->w + (size_t)i * c->ksize;
            const uint8_t *si = s + (size_t)c->start[i] * src_step;
            for (int ch = 0; ch < channels; ch++) {
                int64_t acc = half;
                for (int32_t j = 0; j < c->count[i]; j++) acc += (int64_t)si[(size_t)j * src_step + ch] * w[j];
                d[(size_t)i * dst_step + ch] = clip8(acc, c->precision);
            }
        }
    }
}

static vla_status resize(const vla_image *src, int32_t height, int32_t width, const filter *f, arith ar,
                         vla_image_buf *out) {
    memset(out, 0, sizeof *out);
    if (!src || !src->data || src->channels < 1 || src->channels > 4)
        return vla_error(VLA_ERR_INVALID_ARG, "image resize: invalid source image");
    VLA_TRY(vla_image_check_size(src->height, src->width, "image resize source"));
    VLA_TRY(vla_image_check_size(height, width, "image resize target"));
    int C = src->channels;
    int need_h = width != src->width, need_v = height != src->height;
    VLA_TRY(vla_image_buf_alloc(height, width, C, out));
    if (!need_h && !need_v) {
        memcpy(out->pixels, src->data, (size_t)height * width * C);
        return VLA_OK;
    }
    /* Pillow (as of 13.0) runs the vertical pass first when the height
     * shrinks by more than twice what the width does; PyTorch never does. */
    int32_t dh = src->height - height, dw = src->width - width;
    bool vertical_first = ar == ARITH_PILLOW && need_h && need_v && dh > 0 && dh > dw * 2;
    int32_t mid_h = vertical_first ? height : src->height, mid_w = vertical_first ? src->width : width;
    vla_status s = VLA_OK;
    vla_image_buf tmp = {0};
    coeffs ch = {0}, cv = {0};
    const uint8_t *in = src->data;
    if (need_h && need_v) {
        s = vla_image_buf_alloc(mid_h, mid_w, C, &tmp);
        if (s == VLA_OK) s = coeffs_make(src->width, width, f, ar, &ch);
        if (s == VLA_OK) s = coeffs_make(src->height, height, f, ar, &cv);
        if (s == VLA_OK && vertical_first) {
            resample_axis(in, tmp.pixels, &cv, height, src->width, C, C, (size_t)src->width * C,
                          (size_t)src->width * C, C);
            resample_axis(tmp.pixels, out->pixels, &ch, width, height, (size_t)src->width * C, (size_t)width * C, C,
                          C, C);
        } else if (s == VLA_OK) {
            resample_axis(in, tmp.pixels, &ch, width, src->height, (size_t)src->width * C, (size_t)width * C, C, C, C);
            resample_axis(tmp.pixels, out->pixels, &cv, height, width, C, C, (size_t)width * C, (size_t)width * C, C);
        }
    } else if (need_h) {
        s = coeffs_make(src->width, width, f, ar, &ch);
        if (s == VLA_OK)
            resample_axis(in, out->pixels, &ch, width, src->height, (size_t)src->width * C, (size_t)width * C, C, C, C);
    } else {
        s = coeffs_make(src->height, height, f, ar, &cv);
        if (s == VLA_OK)
            resample_axis(in, out->pixels, &cv, height, width, C, C, (size_t)width * C, (size_t)width * C, C);
    }
    coeffs_free(&ch);
    coeffs_free(&cv);
    vla_image_buf_free(&tmp);
    if (s != VLA_OK) vla_image_buf_free(out);
    return s;
}

vla_status vla_image_resize(const vla_image *src, int32_t height, int32_t width, vla_resample filt,
                            vla_image_buf *out) {
    static const filter bicubic_p = {bicubic_pillow, 2.0}, bicubic_t = {bicubic_torch, 2.0},
                        bilinear = {triangle, 1.0};
    switch (filt) {
    case VLA_RESAMPLE_BICUBIC: return resize(src, height, width, &bicubic_p, ARITH_PILLOW, out);
    case VLA_RESAMPLE_BILINEAR: return resize(src, height, width, &bilinear, ARITH_PILLOW, out);
    case VLA_RESAMPLE_BICUBIC_TORCH: return resize(src, height, width, &bicubic_t, ARITH_TORCH, out);
    }
    if (out) memset(out, 0, sizeof *out);
    return vla_error(VLA_ERR_INVALID_ARG, "image resize: unknown filter %d", (int)filt);
}
