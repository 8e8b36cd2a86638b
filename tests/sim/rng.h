/*
 * The simulator's only source of randomness: xoshiro256** seeded through splitmix64
 * from one 64-bit seed. Nothing in a run calls time() or rand(), so a seed names a run.
 */
#ifndef GOVCHAIN_SIM_RNG_H
#define GOVCHAIN_SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} sim_rng;

static inline uint64_t sim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline void sim_rng_seed(sim_rng *rng, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++) {
        rng->s[i] = sim_splitmix64(&state);
    }
}

static inline uint64_t sim_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t sim_rng_u64(sim_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = sim_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, bound); bound 0 gives 0. The modulo bias is irrelevant here and the
 * result is the same on every machine, which is what matters. */
static inline uint64_t sim_rng_below(sim_rng *rng, uint64_t bound)
{
    return bound == 0 ? 0 : sim_rng_u64(rng) % bound;
}

/* Uniform in [lo, hi]. */
static inline uint64_t sim_rng_range(sim_rng *rng, uint64_t lo, uint64_t hi)
{
    return lo + sim_rng_below(rng, hi - lo + 1);
}

/* True with probability permille / 1000 (integers, so no float rounding differs). */
static inline bool sim_rng_chance(sim_rng *rng, uint32_t permille)
{
    return sim_rng_below(rng, 1000) < permille;
}

#endif
