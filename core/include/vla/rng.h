/* Deterministic random numbers: the documented algorithm behind seeds in vla.
 * Uniform bits: SplitMix64 (Steele, Lea, Flood 2014) on a 64-bit state.
 * Normals: Box-Muller on two uniforms u1 in (0, 1], u2 in [0, 1) built from
 * the top 53 bits; both outputs of a pair are used (cos first, then sin).
 * Same seed, same sequence, on every platform. */
#ifndef VLA_RNG_H
#define VLA_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_rng {
    uint64_t state;
    double spare;
    int has_spare;
} vla_rng;

void vla_rng_seed(vla_rng *r, uint64_t seed);
uint64_t vla_rng_next_u64(vla_rng *r);
double vla_rng_uniform(vla_rng *r); /* [0, 1) */
double vla_rng_normal(vla_rng *r);  /* N(0, 1) */
void vla_rng_fill_normal(vla_rng *r, float *out, size_t n, float mean, float std);

#ifdef __cplusplus
}
#endif
#endif
