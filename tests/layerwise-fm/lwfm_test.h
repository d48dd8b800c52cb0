/* Shared helpers of the layerwise-fm tests: a CPU backend from its .so, a
 * head from YAML text, a vla_vlm_out from host hidden states, and error
 * measures. */
#ifndef LWFM_TEST_H
#define LWFM_TEST_H

#include <stdint.h>

#include "layerwise_fm.h"
#include "vla/ctx.h"

/* Load the CPU backend plugin at `so_path`, create it and a context. */
vla_status lwfm_test_backend(const char *so_path, vla_backend **be, vla_ctx **c);

/* A head of `layers` blocks over a backbone of width `hidden` from a YAML
 * document whose `vla.head` section is the head's own; params declared. */
typedef struct lwfm_test_head {
    vla_config *root;
    lwfm_head *head;
    vla_params *params;
} lwfm_test_head;

vla_status lwfm_test_head_open(const char *yaml, int32_t hidden, int32_t layers, lwfm_test_head *t);
void lwfm_test_head_close(lwfm_test_head *t);

/* A vla_vlm_out whose entries hidden[n_hidden - L + i] = layer i of `data`
 * ([L, B, S, H] host, row-major); hidden[0..n_hidden-L-1] are left absent.
 * mask: [B, S] host 0/1 or NULL. Tensors live in the context's arena. */
typedef struct lwfm_test_vlm {
    vla_tensor *hidden;
    uint8_t *mask;
    vla_vlm_out out;
} lwfm_test_vlm;

vla_status lwfm_test_vlm_make(vla_ctx *c, const float *data, int32_t layers, int32_t n_hidden, int32_t batch,
                              int32_t seq, int32_t hidden, const int32_t *mask, lwfm_test_vlm *v);
void lwfm_test_vlm_free(lwfm_test_vlm *v);

/* max|a - b| / max|b| (inf-norm relative error); *abs_err gets max|a - b|. */
double lwfm_rel_err(const float *a, const float *b, size_t n, double *abs_err);

/* Deterministic values in [-1, 1). */
float lwfm_test_rand(uint64_t *state);

#endif
