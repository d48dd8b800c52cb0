#include "vla/rope.h"

#include <math.h>

/* inv_freq[j] = 1 / theta^(2j/D), evaluated in float32 as transformers does
 * (torch.arange(0, D, 2).float() / D, then theta ** that, then 1 / that). */
static float inv_freq(double theta, int j, int dim) {
    float exponent = (float)(2 * j) / (float)dim;
    float base_pow = powf((float)theta, exponent);
    return 1.0f / base_pow;
}

vla_status vla_rope_table_axes(const int64_t *pos, int n_axes, int64_t n, int dim, double theta,
                               const int *axis_of, float *cos_out, float *sin_out) {
    if (dim <= 0 || dim % 2)
        return vla_error(VLA_ERR_INVALID_ARG, "rope table: rotary dim %d must be positive and even", dim);
    int half = dim / 2;
    for (int j = 0; j < half; j++)
        if (axis_of[j] < 0 || axis_of[j] >= n_axes)
            return vla_error(VLA_ERR_INVALID_ARG, "rope table: frequency %d uses axis %d of %d", j,
                             axis_of[j], n_axes);
    for (int64_t s = 0; s < n; s++) {
        for (int j = 0; j < half; j++) {
            float angle = (float)pos[(int64_t)axis_of[j] * n + s] * inv_freq(theta, j, dim);
            float c = cosf(angle), si = sinf(angle);
            cos_out[s * dim + j] = c;
            cos_out[s * dim + j + half] = c;
            sin_out[s * dim + j] = si;
            sin_out[s * dim + j + half] = si;
        }
    }
    return VLA_OK;
}

vla_status vla_rope_table_1d(const int64_t *pos, int64_t n, int dim, double theta, float *cos_out,
                             float *sin_out) {
    int axis_of[512];
    if (dim / 2 > 512) return vla_error(VLA_ERR_INVALID_ARG, "rope table: rotary dim %d too large", dim);
    for (int j = 0; j < dim / 2; j++) axis_of[j] = 0;
    return vla_rope_table_axes(pos, 1, n, dim, theta, axis_of, cos_out, sin_out);
}

vla_status vla_rope_mrope_interleaved_axes(const int *sections, int dim, int *axis_of) {
    int half = dim / 2;
    if (sections[0] + sections[1] + sections[2] != half)
        return vla_error(VLA_ERR_INVALID_ARG, "mrope_section [%d, %d, %d] must sum to head_dim/2 = %d",
                         sections[0], sections[1], sections[2], half);
    for (int j = 0; j < half; j++) {
        if (j % 3 == 1 && j < 3 * sections[1])
            axis_of[j] = 1;
        else if (j % 3 == 2 && j < 3 * sections[2])
            axis_of[j] = 2;
        else
            axis_of[j] = 0;
    }
    return VLA_OK;
}
