#include "vla/rng.h"

#include <math.h>

void vla_rng_seed(vla_rng *r, uint64_t seed) {
    r->state = seed;
    r->spare = 0;
    r->has_spare = 0;
}

uint64_t vla_rng_next_u64(vla_rng *r) {
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double vla_rng_uniform(vla_rng *r) { return (double)(vla_rng_next_u64(r) >> 11) * 0x1.0p-53; }

double vla_rng_normal(vla_rng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = 1.0 - vla_rng_uniform(r); /* (0, 1] so log() is finite */
    double u2 = vla_rng_uniform(r);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586476925286766559 * u2;
    r->spare = radius * sin(angle);
    r->has_spare = 1;
    return radius * cos(angle);
}

void vla_rng_fill_normal(vla_rng *r, float *out, size_t n, float mean, float std) {
    for (size_t i = 0; i < n; i++) out[i] = (float)(mean + std * vla_rng_normal(r));
}
