/* SPDX-License-Identifier: MIT */
/*
 * gmvm's fuzzing contract, the guest's side (gmvm fuzz, README "Fuzzing a
 * guest"). Freestanding: a kernel, a firmware or a user-space agent with
 * port access (ioperm) includes it as it is.
 *
 * The guest talks to gmvm through one 32-bit port: it writes a command with
 * `outl`, arguments in rdi and rsi, and finds gmvm's answer in rax:
 *
 *   GMVM_FUZZ_COVERAGE  rdi = map size in bytes (a power of two, at most
 *                       GMVM_FUZZ_MAP_MAX). rax = the guest-physical address
 *                       of the coverage window, 0 if refused. Before the
 *                       first GMVM_FUZZ_INPUT, once.
 *   GMVM_FUZZ_INPUT     rdi = guest-physical address of the input buffer
 *                       (physically contiguous, mapped, written before),
 *                       rsi = its capacity. rax = the input's length; the
 *                       buffer holds the input. The first call is where
 *                       gmvm snapshots the VM: every run starts right after
 *                       it, with a new input.
 *   GMVM_FUZZ_DONE      the run ended normally.
 *   GMVM_FUZZ_CRASH     rdi = a code of the guest's choosing: the run found a
 *                       bug (a sanitizer's report, a panic, an exception).
 *
 * Coverage: the window is memory that gmvm maps onto AFL++'s coverage map,
 * so a byte written there is a byte AFL++ reads. gmvm_fuzz.c fills it from
 * compiler callbacks (-fsanitize-coverage=trace-pc-guard with clang,
 * -fsanitize-coverage=trace-pc with gcc) or hand-placed gmvm_fuzz_edge().
 */
#ifndef GMVM_FUZZ_H
#define GMVM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#define GMVM_FUZZ_PORT 0x4f8
#define GMVM_FUZZ_MAP_MAX (8u << 20)

enum gmvm_fuzz_cmd {
	GMVM_FUZZ_COVERAGE = 1,
	GMVM_FUZZ_INPUT = 2,
	GMVM_FUZZ_DONE = 3,
	GMVM_FUZZ_CRASH = 4,
};

static inline uint64_t gmvm_fuzz_call(uint32_t cmd, uint64_t a0, uint64_t a1)
{
	uint64_t rax = cmd;

	__asm__ volatile("outl %%eax, %%dx"
			 : "+a"(rax)
			 : "d"((uint16_t)GMVM_FUZZ_PORT), "D"(a0), "S"(a1)
			 : "memory");
	return rax;
}

/* Ask for a coverage map of size bytes; its guest-physical address, or 0. */
static inline uint64_t gmvm_fuzz_coverage_request(uint32_t size)
{
	return gmvm_fuzz_call(GMVM_FUZZ_COVERAGE, size, 0);
}

/* Wait for an input in [buf_gpa, buf_gpa + capacity); its length. */
static inline size_t gmvm_fuzz_input(uint64_t buf_gpa, uint64_t capacity)
{
	return (size_t)gmvm_fuzz_call(GMVM_FUZZ_INPUT, buf_gpa, capacity);
}

static inline void gmvm_fuzz_done(void)
{
	gmvm_fuzz_call(GMVM_FUZZ_DONE, 0, 0);
}

static inline void gmvm_fuzz_crash(uint64_t code)
{
	gmvm_fuzz_call(GMVM_FUZZ_CRASH, code, 0);
}

/*
 * gmvm_fuzz.c: where the callbacks write (the window as the guest mapped
 * it: its virtual address), and a hand-placed edge from location id.
 */
void gmvm_fuzz_coverage_map(uint8_t *map, uint32_t size);
void gmvm_fuzz_edge(uint32_t id);

#endif /* GMVM_FUZZ_H */
