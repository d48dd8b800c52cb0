/* PNG decoding with libpng to 8-bit RGB, converting as PIL's convert("RGB")
 * does: palette expanded, grey replicated, alpha dropped (not composited),
 * 16-bit samples reduced to their high byte; no gamma correction. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_internal.h"

typedef struct png_ctx {
    const unsigned char *bytes;
    size_t n, off;
    const char *name;
    char msg[200];
    vla_status status; /* set when a non-libpng check failed inside the jump scope */
    vla_image_buf buf;
    png_bytep *rows;
} png_ctx;

static void on_error(png_structp png, png_const_charp msg) {
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void on_read(png_structp png, png_bytep dst, size_t len) {
    png_ctx *ctx = png_get_io_ptr(png);
    if (len > ctx->n - ctx->off) png_error(png, "truncated file (the data ends early)");
    memcpy(dst, ctx->bytes + ctx->off, len);
    ctx->off += len;
}

/* Everything that may longjmp lives here; state is kept in *ctx so nothing
 * local is clobbered. Returns 0 on success. */
static int read_png(png_structp png, png_infop info, png_ctx *ctx) {
    if (setjmp(png_jmpbuf(png))) return -1;
    png_set_read_fn(png, ctx, on_read);
    png_set_user_limits(png, VLA_IMAGE_MAX_SIDE, VLA_IMAGE_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if ((ctx->status = vla_image_check_size(h, w, ctx->name)) != VLA_OK) return -1;
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    if (!(color & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) png_error(png, "unexpected row layout after conversion");
    if ((ctx->status = vla_image_buf_alloc((int32_t)h, (int32_t)w, 3, &ctx->buf)) != VLA_OK) return -1;
    ctx->rows = malloc(sizeof *ctx->rows * h);
    if (!ctx->rows) {
        ctx->status = vla_error(VLA_ERR_OOM, "%s: out of memory for %u PNG rows", ctx->name, (unsigned)h);
        return -1;
    }
    for (png_uint_32 y = 0; y < h; y++) ctx->rows[y] = ctx->buf.pixels + (size_t)y * w * 3;
    png_read_image(png, ctx->rows);
    png_read_end(png, NULL);
    return 0;
}

vla_status vla_image_decode_png(const unsigned char *bytes, size_t n, const char *name, vla_image_buf *out) {
    png_ctx ctx = {.bytes = bytes, .n = n, .name = name};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return vla_error(VLA_ERR_OOM, "%s: out of memory starting the PNG decoder", name);
    }
    int rc = read_png(png, info, &ctx);
    png_destroy_read_struct(&png, &info, NULL);
    free(ctx.rows);
    if (rc == 0) {
        *out = ctx.buf;
        return VLA_OK;
    }
    vla_image_buf_free(&ctx.buf);
    if (ctx.status != VLA_OK) return ctx.status;
    return vla_error(VLA_ERR_PARSE, "%s: invalid PNG: %s", name, ctx.msg);
}
