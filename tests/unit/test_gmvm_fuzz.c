// SPDX-License-Identifier: MIT
/*
 * The guest side of gmvm fuzz's contract (guest/gmvm_fuzz.c): the coverage
 * callbacks clang's trace-pc-guard and gcc's trace-pc call, and hand-placed
 * edges, over a map in ordinary memory.
 */
#include <stdint.h>
#include <string.h>

#include "gmvm_fuzz.h"
#include "tap.h"

void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop);
void __sanitizer_cov_trace_pc_guard(uint32_t *guard);
void __sanitizer_cov_trace_pc(void);

static uint8_t map[256];

static unsigned int map_sum(void)
{
	unsigned int sum = 0;

	for (unsigned int i = 0; i < sizeof(map); i++)
		sum += map[i];
	return sum;
}

/* Two call sites: trace-pc hashes where it was called from. */
static __attribute__((noinline)) void block_a(void)
{
	__sanitizer_cov_trace_pc();
}

static __attribute__((noinline)) void block_b(void)
{
	__sanitizer_cov_trace_pc();
}

int main(void)
{
	uint32_t guards_a[3] = { 0 }, guards_b[2] = { 0 };

	/* No map yet: every callback is a no-op (the guest boots instrumented). */
	gmvm_fuzz_edge(5);
	block_a();
	ok(map_sum() == 0, "before the map is set, edges write nothing");

	__sanitizer_cov_trace_pc_guard_init(guards_a, guards_a + 3);
	__sanitizer_cov_trace_pc_guard_init(guards_b, guards_b + 2);
	ok(guards_a[0] == 1 && guards_a[1] == 2 && guards_a[2] == 3,
	   "guards are numbered from 1 (0 stays AFL++'s)");
	ok(guards_b[0] == 4 && guards_b[1] == 5, "a second module's guards follow the first's");
	__sanitizer_cov_trace_pc_guard_init(guards_a, guards_a + 3);
	ok(guards_a[0] == 1, "a module initialised twice keeps its numbers");

	gmvm_fuzz_coverage_map(map, sizeof(map));
	__sanitizer_cov_trace_pc_guard(&guards_a[1]);
	__sanitizer_cov_trace_pc_guard(&guards_a[1]);
	__sanitizer_cov_trace_pc_guard(&guards_b[1]);
	ok(map[2] == 2 && map[5] == 1 && map_sum() == 3, "a guard counts in the map at its index");

	memset(map, 0, sizeof(map));
	gmvm_fuzz_edge(0x10);
	gmvm_fuzz_edge(0x31);
	/* AFL's edges: prev starts 0, then is the last location shifted right. */
	ok(map[0x10] == 1, "the first edge is its location");
	ok(map[0x31 ^ (0x10 >> 1)] == 1, "the next is the location xor the previous >> 1");
	gmvm_fuzz_edge(0x1234);
	ok(map[(0x1234 & 0xff) ^ (0x31 >> 1)] == 1, "locations wrap at the map size");

	memset(map, 0, sizeof(map));
	block_a();
	block_b();
	block_a();
	ok(map_sum() == 3, "trace-pc counts every block");

	gmvm_fuzz_coverage_map(map, 0);
	memset(map, 0, sizeof(map));
	block_b();
	gmvm_fuzz_edge(1);
	ok(map_sum() == 0, "a map of size 0 turns coverage off");
	return done_testing();
}
