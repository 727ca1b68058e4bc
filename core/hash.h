/*
 * The one string hash: 64-bit FNV-1a, for the in-memory tables (metric
 * series, the feed's pairs, the writer's files). Not for anything an
 * outsider chooses to collide: the keys are our own symbols and labels.
 */
#ifndef CORE_HASH_H
#define CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_INIT UINT64_C(0xcbf29ce484222325)

/* Continue hash h over n bytes (start from HASH_INIT). */
static inline uint64_t hash_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* A table slot for the hash: its low bits, with the high bits folded in
 * (FNV's low bits alone follow only the low bits of each byte). */
static inline size_t hash_slot(uint64_t h, size_t mask)
{
	return (size_t)(h ^ (h >> 29)) & mask;
}

#endif
