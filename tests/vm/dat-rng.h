/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitmix64, the seeded generator of the guest workloads (tests/soak/dat-soak.c,
 * tests/storm/dat-storm.c): one state per user (a thread, a round), so what
 * each draws depends on its seed only, never on how the threads interleave.
 */
#ifndef DAT_RNG_H
#define DAT_RNG_H

#include <stdint.h>

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rng_below(uint64_t *s, unsigned int n)
{
	return (unsigned int)(rng_next(s) % n);
}

#endif /* DAT_RNG_H */
