/* Image decoding and uint8 resizing:
 * - resizes equal Pillow (BICUBIC, BILINEAR) and torchvision's uint8
 *   antialiased bicubic exactly, on goldens written by those libraries
 *   (tools/image_resize_fixtures.py);
 * - PNG/JPEG decoding gives the pixels Pillow gives (JPEG golden from the
 *   processor fixtures; the PNG path is pinned by tests/qwen3vl's
 *   preprocessing test, which must reproduce the processor bit for bit);
 * - broken input (truncated PNG/JPEG, other bytes, empty) fails with a
 *   clear message and no crash. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vla/image.h"

static char path_buf[1024];
static const char *fixture(const char *rel) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", fixtures_dir(), rel);
    return path_buf;
}

/* Same crops and sizes as tools/image_resize_fixtures.py. */
static const struct {
    const char *name;
    int r0, r1, c0, c1, h, w;
} cases[] = {
    {"down", 0, 224, 0, 224, 57, 83},        {"width_only", 50, 114, 60, 140, 64, 51},
    {"up", 50, 114, 60, 140, 97, 113},       {"height_only", 50, 114, 60, 140, 150, 80},
    {"mixed", 10, 190, 30, 90, 40, 140},
};

static void crop(const vla_image *src, int r0, int r1, int c0, int c1, uint8_t *dst) {
    for (int y = r0; y < r1; y++) memcpy(dst + (size_t)(y - r0) * (c1 - c0) * 3, src->data + ((size_t)y * src->width + c0) * 3,
                                         (size_t)(c1 - c0) * 3);
}

static void check_resizes(void) {
    vla_image_buf sample;
    CHECK_OK(vla_image_load(fixture("images/sample_224.png"), &sample));
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture("image/resize_golden.safetensors"), NULL, NULL, &w));
    if (test_failures) return;
    static const struct {
        const char *key;
        vla_resample filter;
    } filters[] = {{"pillow_bicubic", VLA_RESAMPLE_BICUBIC},
                   {"pillow_bilinear", VLA_RESAMPLE_BILINEAR},
                   {"torch_bicubic", VLA_RESAMPLE_BICUBIC_TORCH}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int h = cases[i].r1 - cases[i].r0, wd = cases[i].c1 - cases[i].c0;
        uint8_t *src = malloc((size_t)h * wd * 3);
        crop(&sample.img, cases[i].r0, cases[i].r1, cases[i].c0, cases[i].c1, src);
        vla_image in = {h, wd, 3, src};
        for (size_t f = 0; f < 3; f++) {
            char key[64];
            snprintf(key, sizeof key, "%s.%s", filters[f].key, cases[i].name);
            int64_t shape[3];
            uint8_t *gold = fixture_read(w, key, VLA_U8, shape, NULL);
            vla_image_buf out;
            CHECK_OK(vla_image_resize(&in, cases[i].h, cases[i].w, filters[f].filter, &out));
            if (gold && !test_failures) {
                CHECK(shape[0] == cases[i].h && shape[1] == cases[i].w && out.img.height == cases[i].h &&
                      out.img.width == cases[i].w);
                size_t n = (size_t)cases[i].h * cases[i].w * 3, diff = 0;
                for (size_t k = 0; k < n; k++) diff += out.pixels[k] != gold[k];
                printf("resize %-12s %-15s %dx%d -> %dx%d: %zu of %zu values differ\n", cases[i].name, filters[f].key, h,
                       wd, cases[i].h, cases[i].w, diff, n);
                CHECK_MSG(diff == 0, "%s: %zu values differ from the reference", key, diff);
            } else {
                CHECK_MSG(gold, "fixture tensor %s missing", key);
            }
            vla_image_buf_free(&out);
            free(gold);
        }
        free(src);
    }
    /* same size: a copy */
    vla_image_buf same;
    CHECK_OK(vla_image_resize(&sample.img, 224, 224, VLA_RESAMPLE_BICUBIC, &same));
    CHECK(same.pixels && memcmp(same.pixels, sample.pixels, 224 * 224 * 3) == 0);
    vla_image_buf_free(&same);
    vla_weights_close(w);
    vla_image_buf_free(&sample);
}

static void check_decode(void) {
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture("qwen3vl/preprocess_coffee_240x272.safetensors"), NULL, NULL, &w));
    vla_image_buf img;
    CHECK_OK(vla_image_load(fixture("images/coffee_240x272.jpg"), &img));
    if (test_failures) return;
    int64_t shape[3];
    uint8_t *gold = fixture_read(w, "image_rgb", VLA_U8, shape, NULL);
    CHECK(gold && shape[0] == 240 && shape[1] == 272 && img.img.height == 240 && img.img.width == 272 &&
          img.img.channels == 3);
    if (gold && !test_failures) {
        size_t n = 240 * 272 * 3, diff = 0;
        int worst = 0;
        for (size_t k = 0; k < n; k++) {
            int d = abs((int)img.pixels[k] - gold[k]);
            diff += d != 0;
            if (d > worst) worst = d;
        }
        printf("jpeg decode vs Pillow: %zu of %zu values differ (max %d)\n", diff, n, worst);
        CHECK_MSG(diff == 0, "JPEG decode differs from Pillow's in %zu values", diff);
    }
    free(gold);
    vla_image_buf_free(&img);
    vla_weights_close(w);

    /* PIL's convert("RGB"): alpha dropped, grey replicated */
    vla_image_buf rgba, grey;
    CHECK_OK(vla_image_load(fixture("images/astronaut_rgba_160x120.png"), &rgba));
    CHECK_OK(vla_image_load(fixture("images/camera_grey_96x320.png"), &grey));
    if (test_failures) return;
    CHECK(rgba.img.height == 160 && rgba.img.width == 120 && rgba.img.channels == 3);
    CHECK(grey.img.height == 96 && grey.img.width == 320 && grey.img.channels == 3);
    int replicated = 1;
    for (size_t k = 0; k < 96 * 320; k++)
        replicated &= grey.pixels[3 * k] == grey.pixels[3 * k + 1] && grey.pixels[3 * k] == grey.pixels[3 * k + 2];
    CHECK(replicated);
    vla_image_buf_free(&rgba);
    vla_image_buf_free(&grey);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

static void check_errors(void) {
    size_t npng = 0, njpg = 0;
    unsigned char *png = slurp(fixture("images/sample_224.png"), &npng);
    unsigned char *jpg = slurp(fixture("images/coffee_240x272.jpg"), &njpg);
    CHECK(png && jpg && npng > 1000 && njpg > 1000);
    if (!png || !jpg) return;
    vla_image_buf out;
    CHECK_ERR(vla_image_decode(png, npng / 2, "half.png", &out), VLA_ERR_PARSE, "half.png: invalid PNG");
    CHECK_ERR(vla_image_decode(png, 40, "head.png", &out), VLA_ERR_PARSE, "truncated");
    CHECK_ERR(vla_image_decode(jpg, njpg / 2, "half.jpg", &out), VLA_ERR_PARSE, "half.jpg: invalid JPEG: truncated");
    CHECK_ERR(vla_image_decode(jpg, 4, "tiny.jpg", &out), VLA_ERR_PARSE, "tiny.jpg: invalid JPEG");
    CHECK_ERR(vla_image_decode("GIF89a......", 12, "anim.gif", &out), VLA_ERR_PARSE,
              "anim.gif: not a PNG or JPEG image (12 bytes, starting with bytes 47 49 46 38");
    CHECK_ERR(vla_image_decode("", 0, "empty.png", &out), VLA_ERR_PARSE, "empty.png: not a PNG or JPEG image (0 bytes)");
    CHECK(out.pixels == NULL);
    /* a corrupted header chunk (IHDR width bytes) */
    png[16] ^= 0x55;
    CHECK_ERR(vla_image_decode(png, npng, "crc.png", &out), VLA_ERR_PARSE, "crc.png: invalid PNG");
    CHECK_ERR(vla_image_load("/nonexistent/x.png", &out), VLA_ERR_IO, "/nonexistent/x.png: cannot open");
    free(png);
    free(jpg);

    uint8_t px[12] = {0};
    vla_image ok = {2, 2, 3, px}, grey = {2, 2, 1, px}, empty = {0, 2, 3, px}, nodata = {2, 2, 3, NULL};
    CHECK_OK(vla_image_validate(&ok, "view 0"));
    CHECK_ERR(vla_image_validate(&grey, "view 1"), VLA_ERR_INVALID_ARG, "view 1: 1 channels, expected RGB");
    CHECK_ERR(vla_image_validate(&empty, "view 2"), VLA_ERR_INVALID_ARG, "view 2: empty size 0x2");
    CHECK_ERR(vla_image_validate(&nodata, "view 3"), VLA_ERR_INVALID_ARG, "view 3: pixel data is NULL");
    CHECK_ERR(vla_image_resize(&ok, 0, 5, VLA_RESAMPLE_BICUBIC, &out), VLA_ERR_INVALID_ARG, "empty size");
}

int main(void) {
    check_resizes();
    check_decode();
    check_errors();
    return test_finish("test-image");
}
