/* 3-D position ids of Qwen3-VL (transformers' get_rope_index) and the
 * decoder's interleaved M-RoPE tables. */
#include <stdlib.h>
#include <string.h>

#include "qwen3vl.h"
#include "vla/rope.h"

/* One example's real (unpadded) tokens tok[0..n): fills pos[a * stride + i]
 * for the n tokens and returns their largest position in *max_pos. */
static vla_status example_positions(const q3_config *cfg, int32_t b, const int32_t *tok, int32_t n, const q3_grid *grids,
                                    int32_t n_grids, int32_t *next_grid, int64_t *pos, int64_t stride, int64_t *max_pos) {
    int32_t img = cfg->image_token_id, m = cfg->vision.merge;
    int32_t n_images = 0;
    for (int32_t i = 0; i + 1 < n; i++)
        if (tok[i] == cfg->vision_start_id && tok[i + 1] == cfg->video_token_id)
            return vla_error(VLA_ERR_UNSUPPORTED, "qwen3vl: example %d holds a video placeholder; videos are not supported", b);
        else if (tok[i] == cfg->vision_start_id && tok[i + 1] == img)
            n_images++;
    int32_t st = 0;
    int64_t top = -1; /* largest position so far; the next chunk starts at top + 1 */
    for (int32_t k = 0; k < n_images; k++) {
        int32_t ed = st;
        while (ed < n && tok[ed] != img) ed++;
        if (*next_grid >= n_grids)
            return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: example %d has more image blocks than images were given", b);
        const q3_grid *g = &grids[(*next_grid)++];
        int32_t lt = g->t, lh = g->h / m, lw = g->w / m, span = lt * lh * lw;
        if (ed + span > n)
            return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: example %d: image %d needs %d placeholder tokens after "
                             "position %d, the prompt ends first", b, k, span, ed);
        for (int32_t i = ed; i < ed + span; i++)
            if (tok[i] != img)
                return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: example %d: image %d needs %d consecutive placeholder "
                                 "tokens from position %d; token %d is %d", b, k, span, ed, i, tok[i]);
        int64_t base = top + 1;
        for (int32_t i = st; i < ed; i++)
            for (int a = 0; a < 3; a++) pos[a * stride + i] = base + (i - st);
        base += ed - st;
        for (int32_t f = 0, i = ed; f < lt; f++)
            for (int32_t r = 0; r < lh; r++)
                for (int32_t c = 0; c < lw; c++, i++) {
                    pos[0 * stride + i] = base + f;
                    pos[1 * stride + i] = base + r;
                    pos[2 * stride + i] = base + c;
                }
        int32_t ext = lt > lh ? lt : lh;
        ext = ext > lw ? ext : lw;
        top = base + ext - 1;
        st = ed + span;
    }
    for (int32_t i = st; i < n; i++) {
        if (tok[i] == img)
            return vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: example %d: placeholder token %d at position %d is not part "
                             "of an image block (<vision_start> followed by the image's placeholders)", b, img, i);
        for (int a = 0; a < 3; a++) pos[a * stride + i] = top + 1 + (i - st);
    }
    if (st < n) top += n - st;
    *max_pos = top;
    return VLA_OK;
}

vla_status q3_rope_index(const q3_config *cfg, const int32_t *ids, const uint8_t *mask, int32_t batch, int32_t seq,
                         const q3_grid *grids, int32_t n_grids, int64_t *pos, int64_t *delta) {
    int64_t total = (int64_t)batch * seq;
    int32_t *tok = malloc(sizeof *tok * (size_t)seq);
    int64_t *p = malloc(sizeof *p * 3 * (size_t)seq);
    if (!tok || !p) {
        free(tok);
        free(p);
        return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory for positions");
    }
    int32_t next_grid = 0;
    vla_status s = VLA_OK;
    for (int32_t b = 0; b < batch && s == VLA_OK; b++) {
        int32_t n = 0;
        for (int32_t i = 0; i < seq; i++)
            if (mask[(size_t)b * seq + i]) tok[n++] = ids[(size_t)b * seq + i];
        int64_t max_pos = -1;
        s = example_positions(cfg, b, tok, n, grids, n_grids, &next_grid, p, seq, &max_pos);
        /* padded slots hold 1, as in transformers */
        for (int32_t i = 0, k = 0; s == VLA_OK && i < seq; i++) {
            bool real = mask[(size_t)b * seq + i];
            for (int a = 0; a < 3; a++) pos[a * total + (size_t)b * seq + i] = real ? p[a * seq + k] : 1;
            k += real;
        }
        /* relative to the padded length: decode position = absolute index + delta */
        delta[b] = max_pos + 1 - seq;
    }
    if (s == VLA_OK && next_grid != n_grids)
        s = vla_error(VLA_ERR_INVALID_ARG, "qwen3vl: %d images were given but the prompts hold %d image blocks", n_grids,
                      next_grid);
    free(tok);
    free(p);
    return s;
}

vla_status q3_text_rope_tables(const q3_config *cfg, const int64_t *pos, int64_t n, float *cos_out, float *sin_out) {
    int hd = cfg->text.head_dim;
    int *axis_of = malloc(sizeof *axis_of * (size_t)(hd / 2));
    if (!axis_of) return vla_error(VLA_ERR_OOM, "qwen3vl: out of memory");
    vla_status s = vla_rope_mrope_interleaved_axes(cfg->text.mrope_section, hd, axis_of);
    if (s == VLA_OK) s = vla_rope_table_axes(pos, 3, n, hd, cfg->text.rope_theta, axis_of, cos_out, sin_out);
    free(axis_of);
    return s;
}
