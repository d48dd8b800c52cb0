/* Scaled dot-product attention. A task is (batch, query head, block of
 * query rows): the block's scores against every key it may see come from
 * the rows_dot kernel in one call, then each row gets its mask, a
 * max-shifted softmax and the weighted sum of the value rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

#define Q_BLOCK 4

typedef struct attn_job {
    cpu_state *st;
    float *out;
    const float *q, *k, *v;
    const uint8_t *mask;
    float scale;
    int causal;
    int64_t B, Sq, Sk, Hq, Hkv, D, Dv;
    int64_t ks[3], vs[3]; /* strides of k and v dims 0..2 */
    int64_t q_blocks;
    float *scores;        /* per thread: Q_BLOCK x Sk */
} attn_job;

/* Index of the last key query row i may see (-1: none). */
static int64_t last_visible(const attn_job *j, int64_t i) {
    int64_t last = j->causal ? i + (j->Sk - j->Sq) : j->Sk - 1;
    return last < j->Sk - 1 ? last : j->Sk - 1;
}

/* s: the raw scores of keys 0..last; becomes the unnormalised weights. */
static void softmax_and_mix(const attn_job *j, const float *vb, const uint8_t *mask, int64_t last, float *s,
                            float *o) {
    float mx = -INFINITY;
    for (int64_t t = 0; t <= last; t++) {
        s[t] = (mask && !mask[t]) ? -INFINITY : s[t] * j->scale;
        if (s[t] > mx) mx = s[t];
    }
    if (mx == -INFINITY) { /* no visible key: zeros */
        memset(o, 0, (size_t)j->Dv * sizeof *o);
        return;
    }
    double total = 0.0;
    for (int64_t t = 0; t <= last; t++) {
        s[t] = expf(s[t] - mx); /* masked: exp(-inf) = 0 */
        total += s[t];
    }
    j->st->k->mix_rows(o, s, vb, j->vs[1], last + 1, j->Dv);
    float inv = (float)(1.0 / total);
    for (int64_t d = 0; d < j->Dv; d++) o[d] *= inv;
}

static void attn_task(void *arg, int64_t task, int thread) {
    const attn_job *j = arg;
    int64_t blk = task % j->q_blocks, bh = task / j->q_blocks;
    int64_t b = bh / j->Hq, h = bh % j->Hq, g = h / (j->Hq / j->Hkv);
    int64_t i0 = blk * Q_BLOCK, i1 = i0 + Q_BLOCK < j->Sq ? i0 + Q_BLOCK : j->Sq;
    int64_t n_keys = last_visible(j, i1 - 1) + 1;
    const float *q = j->q + ((b * j->Sq + i0) * j->Hq + h) * j->D;
    const float *kb = j->k + b * j->ks[0] + g * j->ks[2];
    const float *vb = j->v + b * j->vs[0] + g * j->vs[2];
    const uint8_t *mask = j->mask ? j->mask + b * j->Sk : NULL;
    float *s = j->scores + (int64_t)thread * Q_BLOCK * j->Sk;
    if (n_keys > 0)
        j->st->k->rows_dot(q, j->Hq * j->D, i1 - i0, kb, VLA_F32, j->ks[1], j->D, 0, n_keys, NULL, s, j->Sk);
    for (int64_t i = i0; i < i1; i++)
        softmax_and_mix(j, vb, mask, last_visible(j, i), s + (i - i0) * j->Sk,
                        j->out + ((b * j->Sq + i) * j->Hq + h) * j->Dv);
}

vla_status cpu_attention(void *state, vla_tensor *out, const vla_tensor *q, const vla_tensor *k,
                         const vla_tensor *v, const vla_attention_params *p) {
    cpu_state *st = state;
    attn_job j = {.st = st, .out = out->data, .q = q->data, .k = k->data, .v = v->data,
                  .mask = p->key_mask ? p->key_mask->data : NULL, .scale = p->scale,
                  .causal = p->causal, .B = q->shape[0], .Sq = q->shape[1], .Sk = k->shape[1],
                  .Hq = q->shape[2], .Hkv = k->shape[2], .D = q->shape[3], .Dv = v->shape[3]};
    for (int d = 0; d < 3; d++) {
        j.ks[d] = k->stride[d];
        j.vs[d] = v->stride[d];
    }
    if (vla_tensor_numel(out) == 0) return VLA_OK;
    j.q_blocks = (j.Sq + Q_BLOCK - 1) / Q_BLOCK;
    size_t n_scores = (size_t)st->n_threads * Q_BLOCK * (size_t)(j.Sk ? j.Sk : 1);
    j.scores = malloc(sizeof(float) * n_scores);
    if (!j.scores)
        return vla_error(VLA_ERR_OOM, "cpu attention: no memory for %zu scores", n_scores);
    double work = 2.0 * (double)(j.B * j.Hq * j.Sq) * (double)j.Sk * (double)(j.D + j.Dv);
    cpu_parallel(st, j.B * j.Hq * j.q_blocks, work, attn_task, &j);
    free(j.scores);
    return VLA_OK;
}
