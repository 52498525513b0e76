/*
 * rng.c — splitmix64 and derived distributions for the simulator (see rng.h).
 *
 * The distributions favour speed and determinism over exactness: large
 * Poisson and binomial draws use a rounded normal approximation, which is
 * indistinguishable at the request counts a demo produces.
 */
#include <math.h>

#include "sim/rng.h"

#define GOLDEN 0x9e3779b97f4a7c15ULL

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
rng_next(struct rng *r)
{
	r->state += GOLDEN;
	return mix(r->state);
}

double
rng_uniform(struct rng *r)
{
	/* 53 random bits, shifted half a step away from 0 and 1. */
	return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double
rng_normal(struct rng *r)
{
	double u1 = rng_uniform(r), u2 = rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static uint64_t
round_nonneg(double x)
{
	return x <= 0.0 ? 0 : (uint64_t)llround(x);
}

uint64_t
rng_poisson(struct rng *r, double lambda)
{
	double l, p;
	uint64_t k;

	if (!(lambda > 0.0))
		return 0;
	if (lambda > 30.0)
		return round_nonneg(lambda + sqrt(lambda) * rng_normal(r));
	/* Knuth's product method: exact, fine for small means. */
	l = exp(-lambda);
	p = rng_uniform(r);
	for (k = 0; p > l; k++)
		p *= rng_uniform(r);
	return k;
}

uint64_t
rng_binomial(struct rng *r, uint64_t n, double p)
{
	double mean, var;
	uint64_t i, k, x;

	if (n == 0 || !(p > 0.0))
		return 0;
	if (p >= 1.0)
		return n;
	mean = (double)n * p;
	var = mean * (1.0 - p);
	if (n <= 40) {
		for (i = 0, k = 0; i < n; i++)
			k += rng_uniform(r) < p;
		return k;
	}
	if (mean < 20.0)
		x = rng_poisson(r, mean);
	else
		x = round_nonneg(mean + sqrt(var) * rng_normal(r));
	return x > n ? n : x;
}

uint64_t
rng_hash(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t h = mix(a + GOLDEN);

	h = mix(h ^ (b + GOLDEN * 2));
	h = mix(h ^ (c + GOLDEN * 3));
	return mix(h ^ (d + GOLDEN * 4));
}

uint64_t
rng_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct rng
rng_keyed(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	struct rng r = { rng_hash(a, b, c, d) };

	return r;
}
