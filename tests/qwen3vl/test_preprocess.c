/* Qwen3-VL image preprocessing against transformers 4.57.0's
 * Qwen2VLImageProcessorFast (goldens by tools/qwen3vl_fixtures.py):
 * - committed photos (RGB/RGBA/grey PNG, JPEG) decoded from their files give
 *   the processor's grid, resized uint8 image and pixel_values (within 1/255
 *   per value; the reference pixel_values are built here by an independent
 *   patchify of the processor's resized image, spec §2.5);
 * - the model cases' raw images give the case files' float pixel_values;
 * - smart_resize reproduces the spec's table; 224x224 -> 16x16 grid, 64 tokens;
 * - the StarVLA pre-resize options. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "qwen3vl.h"
#include "vla/config.h"

static char path_buf[1024];
static const char *fixture(const char *rel) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", fixtures_dir(), rel);
    return path_buf;
}

/* A config from tiny/ (its preprocessor_config.json is the 4B one) plus YAML options. */
static vla_status load_config(const char *extra, q3_config *cfg) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "model_dir: %s/qwen3vl/tiny\n%s", fixtures_dir(), extra);
    vla_config *node;
    VLA_TRY(vla_config_parse(yaml, strlen(yaml), "test.yaml", &node));
    vla_plugin_env env = {node, node, NULL, "."};
    vla_status s = q3_config_load(&env, cfg);
    vla_config_free(node);
    return s;
}

/* Reference row layout, written from the spec independently of preprocess.c:
 * row n = ((br * gw/2 + bc) * 2 + ir) * 2 + ic, column ((c * 2 + t) * 16 + y) * 16 + x. */
static float reference_value(const uint8_t *rgb, int32_t width, int32_t gw, size_t n, size_t col) {
    size_t ic = n % 2, ir = (n / 2) % 2, bc = (n / 4) % (size_t)(gw / 2), br = n / 4 / (size_t)(gw / 2);
    size_t x = col % 16, y = (col / 16) % 16, c = col / 512;
    size_t Y = (2 * br + ir) * 16 + y, X = (2 * bc + ic) * 16 + x;
    return ((float)rgb[(Y * (size_t)width + X) * 3 + c] - 127.5f) / 127.5f;
}

static void check_photo(const q3_config *cfg, const char *file) {
    char name[256], stem[200];
    snprintf(stem, sizeof stem, "%.*s", (int)(strrchr(file, '.') - file), file);
    snprintf(name, sizeof name, "qwen3vl/preprocess_%s.safetensors", stem);
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture(name), NULL, NULL, &w));
    snprintf(name, sizeof name, "images/%s", file);
    vla_image_buf img;
    CHECK_OK(vla_image_load(fixture(name), &img));
    if (test_failures) return;
    int64_t rs[3];
    uint8_t *resized = fixture_read(w, "resized_u8", VLA_U8, rs, NULL);
    int32_t *grid = fixture_read(w, "image_grid_thw", VLA_I32, NULL, NULL);
    q3_grid g;
    float *rows = NULL;
    CHECK_OK(q3_preprocess(cfg, &img.img, &g, &rows));
    if (!resized || !grid || !rows) {
        CHECK_MSG(0, "%s: missing fixture tensors or preprocessing failed", file);
        return;
    }
    CHECK_MSG(g.t == grid[0] && g.h == grid[1] && g.w == grid[2], "%s: grid (%d,%d,%d), reference (%d,%d,%d)", file, g.t,
              g.h, g.w, grid[0], grid[1], grid[2]);
    vla_image_buf mine;
    CHECK_OK(vla_image_resize(&img.img, (int32_t)rs[0], (int32_t)rs[1], VLA_RESAMPLE_BICUBIC_TORCH, &mine));
    size_t nres = (size_t)rs[0] * rs[1] * 3, diff = 0;
    for (size_t k = 0; mine.pixels && k < nres; k++) diff += mine.pixels[k] != resized[k];
    double worst = 0;
    size_t n_rows = (size_t)grid[1] * grid[2];
    for (size_t n = 0; n < n_rows; n++)
        for (size_t col = 0; col < 1536; col++) {
            double d = fabs(rows[n * 1536 + col] - reference_value(resized, (int32_t)rs[1], grid[2], n, col));
            if (!(d <= worst)) worst = d;
        }
    printf("%-28s %dx%d -> grid (%d,%d,%d): resized image %zu of %zu values differ; pixel_values max |error| %.3g "
           "(tolerance 1/255)\n",
           file, img.img.height, img.img.width, g.t, g.h, g.w, diff, nres, worst);
    CHECK_MSG(diff == 0, "%s: resized image differs from the processor's in %zu values", file, diff);
    CHECK_MSG(worst <= 1.0 / 255, "%s: pixel_values differ by %g", file, worst);
    vla_image_buf_free(&mine);
    vla_image_buf_free(&img);
    free(rows);
    free(resized);
    free(grid);
    vla_weights_close(w);
}

/* The case files' images, preprocessed with their bounds (min 4096, max 8192). */
static void check_case_pixels(const char *file) {
    q3_config cfg;
    CHECK_OK(load_config("min_pixels: 4096\nmax_pixels: 8192\n", &cfg));
    char name[256];
    snprintf(name, sizeof name, "qwen3vl/%s", file);
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture(name), NULL, NULL, &w));
    if (test_failures) return;
    int64_t ps[2];
    float *pv = fixture_read(w, "pixel_values", VLA_F32, ps, NULL);
    size_t off = 0;
    double worst = 0;
    for (int k = 0; pv; k++) {
        snprintf(name, sizeof name, "image.%d", k);
        int64_t is[3];
        uint8_t *px = fixture_read(w, name, VLA_U8, is, NULL);
        if (!px) break;
        vla_image img = {(int32_t)is[0], (int32_t)is[1], 3, px};
        q3_grid g;
        float *rows = NULL;
        CHECK_OK(q3_preprocess(&cfg, &img, &g, &rows));
        size_t n = (size_t)g.t * g.h * g.w * 1536;
        CHECK(rows && off + n <= (size_t)(ps[0] * ps[1]));
        for (size_t i = 0; rows && off + n <= (size_t)(ps[0] * ps[1]) && i < n; i++) {
            double d = fabs(rows[i] - pv[off + i]);
            if (!(d <= worst)) worst = d;
        }
        off += n;
        free(rows);
        free(px);
    }
    printf("%-28s pixel_values max |error| %.3g over %zu values\n", file, worst, off);
    CHECK_MSG(pv && off == (size_t)(ps[0] * ps[1]), "%s: images give %zu values, pixel_values has %lld", file, off,
              pv ? (long long)(ps[0] * ps[1]) : 0LL);
    CHECK_MSG(worst <= 1.0 / 255, "%s: pixel_values differ by %g", file, worst);
    free(pv);
    vla_weights_close(w);
}

static void check_smart_resize(const q3_config *cfg) {
    static const int32_t table[][4] = {{224, 224, 256, 256}, {256, 256, 256, 256},  {100, 100, 256, 256},
                                       {480, 640, 480, 640}, {375, 500, 384, 512},  {1080, 1920, 1088, 1920}};
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        int32_t h = 0, w = 0;
        CHECK_OK(q3_smart_resize(table[i][0], table[i][1], 32, 65536, 16777216, &h, &w));
        CHECK_MSG(h == table[i][2] && w == table[i][3], "smart_resize(%d, %d) = %dx%d, expected %dx%d", table[i][0],
                  table[i][1], h, w, table[i][2], table[i][3]);
    }
    int32_t h, w;
    CHECK_ERR(q3_smart_resize(10, 2500, 32, 65536, 16777216, &h, &w), VLA_ERR_INVALID_ARG, "aspect ratio of 250.0");
    uint8_t px[224 * 224 * 3] = {0};
    vla_image img = {224, 224, 3, px};
    q3_grid g;
    CHECK_OK(q3_image_grid(cfg, &img, &g));
    CHECK(g.t == 1 && g.h == 16 && g.w == 16 && q3_grid_tokens(cfg, &g) == 64);
}

static void check_pre_resize(void) {
    static uint8_t px[480 * 640 * 3];
    vla_image img = {480, 640, 3, px};
    q3_config cfg;
    q3_grid g;
    CHECK_OK(load_config("image_size: [224, 224]\n", &cfg));
    CHECK_OK(q3_image_grid(&cfg, &img, &g));
    CHECK(cfg.image.pre_height == 224 && cfg.image.pre_width == 224 && g.h == 16 && g.w == 16);
    /* the node's image_size is [H, W] */
    CHECK_OK(load_config("image_size: [100, 300]\nimage_resample: bilinear\n", &cfg));
    CHECK(cfg.image.pre_height == 100 && cfg.image.pre_width == 300 && cfg.image.pre_filter == VLA_RESAMPLE_BILINEAR);
    CHECK_ERR(load_config("image_size: [224]\n", &cfg), VLA_ERR_INVALID_ARG, "image_size");
    CHECK_ERR(load_config("image_resample: lanczos\n", &cfg), VLA_ERR_INVALID_ARG, "lanczos");
    /* StarVLA's datasets.vla_data.obs_image_size is PIL's (width, height) */
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "datasets:\n  vla_data:\n    obs_image_size: [320, 240]\nvla:\n  backbone:\n    model_dir: %s/qwen3vl/tiny\n",
             fixtures_dir());
    vla_config *root;
    CHECK_OK(vla_config_parse(yaml, strlen(yaml), "root.yaml", &root));
    if (test_failures) return;
    vla_plugin_env env = {root, vla_config_get(root, "vla.backbone"), NULL, "."};
    CHECK_OK(q3_config_load(&env, &cfg));
    CHECK(cfg.image.pre_height == 240 && cfg.image.pre_width == 320 && cfg.image.pre_filter == VLA_RESAMPLE_BICUBIC);
    float *rows = NULL;
    CHECK_OK(q3_preprocess(&cfg, &img, &g, &rows));
    CHECK(g.h == 16 && g.w == 20); /* 240x320 -> smart_resize 256x320 */
    free(rows);
    vla_config_free(root);
}

int main(void) {
    q3_config cfg;
    CHECK_OK(load_config("", &cfg));
    if (test_failures) return test_finish("test-qwen3vl-preprocess");
    CHECK(cfg.image.min_pixels == 65536 && cfg.image.max_pixels == 16777216);
    check_photo(&cfg, "sample_224.png");
    check_photo(&cfg, "coffee_240x272.jpg");
    check_photo(&cfg, "astronaut_rgba_160x120.png");
    check_photo(&cfg, "camera_grey_96x320.png");
    check_case_pixels("case1_single_image.safetensors");
    check_case_pixels("case2_two_images.safetensors");
    check_case_pixels("case3_batch_left_pad.safetensors");
    check_smart_resize(&cfg);
    check_pre_resize();
    return test_finish("test-qwen3vl-preprocess");
}
