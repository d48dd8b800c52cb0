/* JPEG decoding with libjpeg(-turbo) to 8-bit RGB with the library's
 * defaults (islow IDCT, fancy upsampling), as PIL decodes. A file that ends
 * early is an error (PIL: "image file is truncated"), not grey padding. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "image_internal.h"

/* A progressive file may hold many scans; more than this is an attack, not a photo. */
#define MAX_SCANS 1000

typedef struct jpeg_ctx {
    struct jpeg_error_mgr err; /* first: libjpeg hands back a pointer to it */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX + 64];
    const char *name;
    vla_status status;
    vla_image_buf buf;
} jpeg_ctx;

static void on_error_exit(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    cinfo->err->format_message(cinfo, ctx->msg);
    longjmp(ctx->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
        snprintf(ctx->msg, sizeof ctx->msg, "truncated file (the data ends early)");
        longjmp(ctx->jump, 1);
    }
}

static void on_progress(j_common_ptr cinfo) {
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > MAX_SCANS) {
        jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
        snprintf(ctx->msg, sizeof ctx->msg, "more than %d scans", MAX_SCANS);
        longjmp(ctx->jump, 1);
    }
}

static int read_jpeg(struct jpeg_decompress_struct *d, const unsigned char *bytes, size_t n, jpeg_ctx *ctx) {
    if (setjmp(ctx->jump)) return -1;
    jpeg_create_decompress(d);
    d->progress = &ctx->progress;
    jpeg_mem_src(d, (unsigned char *)bytes, (unsigned long)n);
    jpeg_read_header(d, TRUE);
    if ((ctx->status = vla_image_check_size(d->image_height, d->image_width, ctx->name)) != VLA_OK) return -1;
    if (d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK) {
        ctx->status = vla_error(VLA_ERR_UNSUPPORTED, "%s: CMYK JPEG images are not supported", ctx->name);
        return -1;
    }
    d->out_color_space = JCS_RGB;
    jpeg_start_decompress(d);
    if (d->output_components != 3) {
        ctx->status = vla_error(VLA_ERR_UNSUPPORTED, "%s: JPEG decodes to %d components, expected 3",
                                ctx->name, d->output_components);
        return -1;
    }
    if ((ctx->status = vla_image_buf_alloc((int32_t)d->output_height, (int32_t)d->output_width, 3,
                                           &ctx->buf)) != VLA_OK)
        return -1;
    size_t stride = (size_t)d->output_width * 3;
    while (d->output_scanline < d->output_height) {
        JSAMPROW row = ctx->buf.pixels + (size_t)d->output_scanline * stride;
        jpeg_read_scanlines(d, &row, 1);
    }
    jpeg_finish_decompress(d);
    return 0;
}

vla_status vla_image_decode_jpeg(const unsigned char *bytes, size_t n, const char *name, vla_image_buf *out) {
    struct jpeg_decompress_struct d;
    jpeg_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return vla_error(VLA_ERR_OOM, "%s: out of memory starting the JPEG decoder", name);
    memset(&d, 0, sizeof d);
    ctx->name = name;
    d.err = jpeg_std_error(&ctx->err);
    ctx->err.error_exit = on_error_exit;
    ctx->err.emit_message = on_message;
    ctx->progress.progress_monitor = on_progress;
    int rc = read_jpeg(&d, bytes, n, ctx);
    jpeg_destroy_decompress(&d);
    vla_status s = VLA_OK;
    if (rc == 0) {
        *out = ctx->buf;
    } else {
        vla_image_buf_free(&ctx->buf);
        s = ctx->status != VLA_OK ? ctx->status
                                  : vla_error(VLA_ERR_PARSE, "%s: invalid JPEG: %s", name, ctx->msg);
    }
    free(ctx);
    return s;
}
