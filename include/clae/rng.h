/* Deterministic random numbers. Every consumer owns its own state, seeded from
 * the config seed and a purpose-specific stream id, so shuffling, init and
 * splits do not perturb one another. */
#ifndef CLAE_RNG_H
#define CLAE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4]; /* xoshiro256** state */
} clae_rng;

void clae_rng_seed(clae_rng *r, uint64_t seed, uint64_t stream);
uint64_t clae_rng_next(clae_rng *r);
double clae_rng_uniform(clae_rng *r);             /* [0, 1) */
uint32_t clae_rng_below(clae_rng *r, uint32_t n); /* [0, n), unbiased */
void clae_rng_shuffle(clae_rng *r, uint32_t *a, uint32_t n);

#endif
