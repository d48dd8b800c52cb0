/* Scaled dot-product attention for the short sequences of these policies
 * (prefill of a few hundred tokens; DiT queries of 16-48 tokens over the VLM
 * sequence), in f32 like the CPU reference.
 *
 * One block of 4 warps per (batch, query head, tile of QT = 16 query rows).
 * The block walks the visible keys in tiles of KT = 32, staging K and V in
 * shared memory, and keeps an online softmax (running max m, running sum l,
 * unnormalised output O) per query row. Warp w owns rows w, w + 4, w + 8,
 * w + 12 of the tile; within a key tile lane j scores key j, so the row max
 * and sum are warp reductions, and the lanes then split O's columns. GQA maps
 * query head h to kv head h / (Hq / Hkv); causal rows see keys
 * j <= i + (Sk - Sq); masked keys and keys past the causal limit score -inf;
 * a row that sees no key at all is written as zeros. */
#include "device.cuh"

#define QT 16
#define KT 32
#define WARPS 4
#define THREADS (WARPS * 32)
#define ROWS_PER_WARP (QT / WARPS)

typedef struct attn_args {
    float *out;
    const float *q, *k, *v;
    const uint8_t *mask;
    float scale;
    int causal;
    int64_t B, Sq, Sk, Hq, Hkv, D, Dv;
    int64_t ks[3], vs[3]; /* strides of k and v dims 0..2 (elements) */
    int64_t q_tiles, n_tiles;
} attn_args;

/* shared floats: Q tile [QT][D], K tile [KT][D + 1] (padded: lanes read
 * different keys' column d without bank conflicts), V tile [KT][Dv],
 * O accumulators [QT][Dv], probabilities [QT][KT] */
static size_t attn_smem_bytes(int64_t D, int64_t Dv) {
    return sizeof(float) * (size_t)(QT * D + KT * (D + 1) + KT * Dv + QT * Dv + QT * KT);
}

__global__ void __launch_bounds__(THREADS) attention_kernel(attn_args a) {
    DYNAMIC_SHARED(float, smem);
    const int D = (int)a.D, Dv = (int)a.Dv, Dp = D + 1;
    float *sq = smem, *sk = sq + QT * D, *sv = sk + KT * Dp, *so = sv + KT * Dv, *sp = so + QT * Dv;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t group = a.Hq / a.Hkv, offset = a.Sk - a.Sq;

    for (int64_t tile = blockIdx.x; tile < a.n_tiles; tile += gridDim.x) {
        const int64_t qt = tile % a.q_tiles, bh = tile / a.q_tiles;
        const int64_t b = bh / a.Hq, h = bh % a.Hq, g = h / group, i0 = qt * QT;
        const int64_t q_stride = a.Hq * a.D; /* between consecutive query rows */
        const float *qb = a.q + (b * a.Sq * a.Hq + h) * a.D;
        const float *kb = a.k + b * a.ks[0] + g * a.ks[2];
        const float *vb = a.v + b * a.vs[0] + g * a.vs[2];
        const uint8_t *mb = a.mask ? a.mask + b * a.Sk : NULL;

        __syncthreads(); /* the previous tile's readers of shared memory are done */
        for (int e = tid; e < QT * D; e += THREADS) {
            int r = e / D, d = e % D;
            sq[e] = i0 + r < a.Sq ? qb[(i0 + r) * q_stride + d] : 0.0f;
        }
        for (int e = tid; e < QT * Dv; e += THREADS) so[e] = 0.0f;

        /* keys past the last row's causal limit are invisible to the whole tile */
        int64_t kend = a.Sk;
        if (a.causal) {
            int64_t last_row = (i0 + QT < a.Sq ? i0 + QT : a.Sq) - 1;
            int64_t lim = last_row + offset + 1;
            kend = lim < 0 ? 0 : (lim < kend ? lim : kend);
        }

        float m[ROWS_PER_WARP], l[ROWS_PER_WARP];
#pragma unroll
        for (int rr = 0; rr < ROWS_PER_WARP; rr++) {
            m[rr] = -INFINITY;
            l[rr] = 0.0f;
        }

        for (int64_t j0 = 0; j0 < kend; j0 += KT) {
            __syncthreads(); /* Q/O initialised; the previous key tile is consumed */
            for (int e = tid; e < KT * D; e += THREADS) {
                int jj = e / D, d = e % D;
                sk[jj * Dp + d] = j0 + jj < kend ? kb[(j0 + jj) * a.ks[1] + d] : 0.0f;
            }
            for (int e = tid; e < KT * Dv; e += THREADS) {
                int jj = e / Dv, d = e % Dv;
                sv[e] = j0 + jj < kend ? vb[(j0 + jj) * a.vs[1] + d] : 0.0f;
            }
            __syncthreads();

            const int64_t j = j0 + lane;
            const bool key_ok = j < kend && (!mb || mb[j]);
#pragma unroll
            for (int rr = 0; rr < ROWS_PER_WARP; rr++) {
                const int r = warp + rr * WARPS;
                const int64_t i = i0 + r;
                const bool ok = key_ok && i < a.Sq && (!a.causal || j <= i + offset);
                float s = -INFINITY;
                if (ok) {
                    const float *qr = sq + r * D, *kr = sk + lane * Dp;
                    float acc = 0.0f;
                    for (int d = 0; d < D; d++) acc += qr[d] * kr[d];
                    s = acc * a.scale;
                }
                const float m_new = fmaxf(m[rr], warp_max(s));
                /* m_new is uniform across the warp; -inf means nothing visible yet. (An
                 * if, not a continue: a continue here makes nvcc spill m and l.) */
                if (m_new != -INFINITY) {
                    const float p = ok ? expf(s - m_new) : 0.0f;
                    const float alpha = expf(m[rr] - m_new); /* 0 on the first visible tile */
                    l[rr] = l[rr] * alpha + warp_sum(p);
                    m[rr] = m_new;
                    float *pr = sp + r * KT, *orow = so + r * Dv;
                    pr[lane] = p;
                    __syncwarp();
                    for (int c = lane; c < Dv; c += 32) {
                        float acc = orow[c] * alpha;
                        for (int jj = 0; jj < KT; jj++) acc += pr[jj] * sv[jj * Dv + c];
                        orow[c] = acc;
                    }
                    __syncwarp(); /* pr is rewritten for this row only in the next key tile */
                }
            }
        }

        /* each warp writes the rows it owns; O and l were only touched by this warp */
#pragma unroll
        for (int rr = 0; rr < ROWS_PER_WARP; rr++) {
            const int r = warp + rr * WARPS;
            const int64_t i = i0 + r;
            if (i >= a.Sq) continue;
            float *o = a.out + ((b * a.Sq + i) * a.Hq + h) * a.Dv;
            const float inv = l[rr] > 0.0f ? 1.0f / l[rr] : 0.0f;
            for (int c = lane; c < Dv; c += 32) o[c] = l[rr] > 0.0f ? so[r * Dv + c] * inv : 0.0f;
        }
    }
}

extern "C" vla_status cuda_attention_setup(cuda_state *st) {
    CUDA_TRY("create", "raising the attention kernel's shared memory limit",
             cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  (int)st->smem_optin));
    return VLA_OK;
}

extern "C" vla_status cuda_attention(void *state, vla_tensor *out, const vla_tensor *q, const vla_tensor *k,
                                     const vla_tensor *v, const vla_attention_params *p) {
    cuda_state *st = (cuda_state *)state;
    attn_args a;
    a.out = (float *)out->data;
    a.q = (const float *)q->data;
    a.k = (const float *)k->data;
    a.v = (const float *)v->data;
    a.mask = p->key_mask ? (const uint8_t *)p->key_mask->data : NULL;
    a.scale = p->scale;
    a.causal = p->causal;
    a.B = q->shape[0];
    a.Sq = q->shape[1];
    a.Hq = q->shape[2];
    a.D = q->shape[3];
    a.Sk = k->shape[1];
    a.Hkv = k->shape[2];
    a.Dv = v->shape[3];
    for (int d = 0; d < 3; d++) {
        a.ks[d] = k->stride[d];
        a.vs[d] = v->stride[d];
    }
    if (vla_tensor_numel(out) == 0) return VLA_OK;
    size_t smem = attn_smem_bytes(a.D, a.Dv);
    if (smem > st->smem_optin)
        return vla_error(VLA_ERR_UNSUPPORTED,
                         "CUDA backend: attention: head dims D=%lld, Dv=%lld need %zu bytes of shared memory "
                         "per block; this GPU allows %zu",
                         (long long)a.D, (long long)a.Dv, smem, st->smem_optin);
    a.q_tiles = (a.Sq + QT - 1) / QT;
    a.n_tiles = a.B * a.Hq * a.q_tiles;
    VLA_TRY(cuda_enter(st, "attention"));
    unsigned blocks = (unsigned)(a.n_tiles < (1 << 30) ? a.n_tiles : (1 << 30));
    LAUNCH(attention_kernel, blocks, THREADS, smem, st->stream)(a);
    return cuda_check_launch("attention");
}
