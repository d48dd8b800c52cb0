/* Host-side builders of rotary tables for vla_rope(). Positions differ by
 * model (1-D, 2-D vision grids, Qwen3-VL's interleaved multi-axis M-RoPE),
 * the rotation does not, so the backends implement one op and the position
 * schemes live here. Tables are F32 [S, D] with D = rotary dim, laid out for
 * rotate-half: entries d and d + D/2 share one frequency. */
#ifndef VLA_ROPE_H
#define VLA_ROPE_H

#include <stdint.h>

#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Plain 1-D RoPE: angle(s, j) = pos[s] * theta^(-2j/D), j < D/2. */
vla_status vla_rope_table_1d(const int64_t *pos, int64_t n, int dim, double theta, float *cos_out,
                             float *sin_out);

/* Multi-axis RoPE: pos is [n_axes][n] (e.g. t, h, w); axis_of[j] (j < D/2) picks
 * the axis that drives frequency j; inv_freq[j] = theta^(-2j/D). */
vla_status vla_rope_table_axes(const int64_t *pos, int n_axes, int64_t n, int dim, double theta,
                               const int *axis_of, float *cos_out, float *sin_out);

/* Qwen3-VL interleaved M-RoPE assignment: for j < D/2, axis 1 (h) if
 * j % 3 == 1 and j < 3*sections[1], axis 2 (w) if j % 3 == 2 and
 * j < 3*sections[2], else axis 0 (t). */
vla_status vla_rope_mrope_interleaved_axes(const int *sections, int dim, int *axis_of);

#ifdef __cplusplus
}
#endif
#endif
