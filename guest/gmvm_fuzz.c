// SPDX-License-Identifier: MIT
/*
 * Coverage for gmvm's fuzzing contract (gmvm_fuzz.h): the callbacks the
 * compilers' -fsanitize-coverage modes call, writing AFL++'s edge counts
 * into the window gmvm maps onto AFL++'s map. Compile this file itself
 * without coverage, freestanding.
 *
 * trace-pc-guard (clang): one guard per edge, numbered 1..n by the init
 * callback (a freestanding guest runs its .init_array, or calls it); the
 * guard is the map index. trace-pc (gcc): a callback per basic block with
 * its address; the edge is AFL's classic (previous block >> 1) ^ block.
 * Before the map is set, both do nothing.
 */
#include "gmvm_fuzz.h"

static uint8_t *gmvm_fuzz_map;
static uint32_t gmvm_fuzz_mask;	/* map size - 1 */
static uint32_t gmvm_fuzz_prev;

void gmvm_fuzz_coverage_map(uint8_t *map, uint32_t size)
{
	gmvm_fuzz_mask = size ? size - 1 : 0;
	gmvm_fuzz_map = size ? map : NULL;
}

void gmvm_fuzz_edge(uint32_t id)
{
	uint32_t cur = id & gmvm_fuzz_mask;

	if (!gmvm_fuzz_map)
		return;
	gmvm_fuzz_map[cur ^ gmvm_fuzz_prev]++;
	gmvm_fuzz_prev = cur >> 1;
}

void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop);
void __sanitizer_cov_trace_pc_guard(uint32_t *guard);
void __sanitizer_cov_trace_pc(void);

void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop)
{
	static uint32_t next = 1;

	if (start == stop || *start)
		return;
	for (uint32_t *g = start; g < stop; g++)
		*g = next++;
}

void __sanitizer_cov_trace_pc_guard(uint32_t *guard)
{
	if (gmvm_fuzz_map)
		gmvm_fuzz_map[*guard & gmvm_fuzz_mask]++;
}

/* A block's address, mixed so that nearby blocks spread over the map. */
void __sanitizer_cov_trace_pc(void)
{
	uint64_t pc = (uint64_t)__builtin_return_address(0);

	pc = (pc ^ (pc >> 16)) * 0x45d9f3bull;
	gmvm_fuzz_edge((uint32_t)(pc ^ (pc >> 16)));
}
