/*
 * rng.h — the simulator's randomness: a splitmix64 generator and a keyed
 * hash, so that every random draw is a pure function of (seed, canary,
 * version, time bucket, purpose) and never depends on the order of queries.
 *
 * Pure functions and a plain-data generator state: any thread, no locks
 * (each caller owns its struct rng).
 */
#ifndef PERCH_SIM_RNG_H
#define PERCH_SIM_RNG_H

#include <stdint.h>

struct rng {
	uint64_t state;
};

/* One splitmix64 step (Steele, Lea and Flood's finaliser). */
uint64_t rng_next(struct rng *r);
/* Uniform in (0, 1): never exactly 0 or 1, safe for logarithms. */
double rng_uniform(struct rng *r);
/* Standard normal (Box-Muller, one value per call). */
double rng_normal(struct rng *r);
/* Poisson with mean lambda >= 0 (inversion for small means, a rounded
 * normal approximation for large ones; never negative). */
uint64_t rng_poisson(struct rng *r, double lambda);
/* Binomial(n, p) by the same approximations. */
uint64_t rng_binomial(struct rng *r, uint64_t n, double p);

/* Mixes several words into one seed: the key of a random stream. */
uint64_t rng_hash(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
/* FNV-1a of a string, for turning names into keys. */
uint64_t rng_hash_str(const char *s);
/* A generator seeded from a key. */
struct rng rng_keyed(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

#endif
