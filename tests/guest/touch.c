// SPDX-License-Identifier: MIT
/*
 * touch=SIZE: write a pattern derived from each word's address over the top
 * SIZE bytes of RAM (so that on a guest with RAM above 4 GiB the touched part
 * is up there), read it back, and print its checksum. A wrong word anywhere
 * fails the workload.
 */
#include "guest.h"

uint64_t touch_seed = 1;

/* What the last touch wrote, for verify. */
static struct ram_range touched[GUEST_MAX_RAM_RANGES];
static unsigned int nr_touched;
static uint64_t touched_seed, touched_sum;

static uint64_t pattern(uint64_t addr)
{
	uint64_t v = (addr ^ touch_seed) * 0x9e3779b97f4a7c15ull;

	return v ^ (v >> 31);
}

/* RAM below this holds the boot structures and the guest itself. */
static uint64_t touch_floor(void)
{
	uint64_t end = (uint64_t)_end;

	return (end + (2ull << 20) - 1) & ~((2ull << 20) - 1);
}

static void fill(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end; a += 8)
		*(volatile uint64_t *)a = pattern(a);
}

static uint64_t check(uint64_t start, uint64_t end, uint64_t *bad)
{
	uint64_t sum = 0;

	for (uint64_t a = start; a < end; a += 8) {
		uint64_t v = *(volatile uint64_t *)a;

		if (v != pattern(a)) {
			if (!*bad)
				printf("touch: word at %#lx is %#lx, expected %#lx\n",
				       a, v, pattern(a));
			(*bad)++;
		}
		sum = (sum << 7 | sum >> 57) ^ v;
	}
	return sum;
}

int workload_touch(const char *arg, size_t len)
{
	uint64_t size, left, floor = touch_floor(), sum = 0, bad = 0;
	struct ram_range chosen[GUEST_MAX_RAM_RANGES];
	unsigned int n = 0;

	if (!arg || !parse_size(arg, len, &size) || !size || size % 4096) {
		printf("touch: needs a size that is a multiple of 4K, e.g. touch=64M\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	/* Take RAM from the highest range down. */
	left = size;
	for (int i = boot_info.nr_ram - 1; i >= 0 && left; i--) {
		uint64_t s = boot_info.ram[i].start, e = boot_info.ram[i].end & ~4095ull;

		if (s < floor)
			s = floor;
		if (e <= s)
			continue;
		if (e - s > left)
			s = e - left;
		chosen[n++] = (struct ram_range){ s, e };
		left -= e - s;
	}
	if (left) {
		printf("touch: only %lu MiB of RAM above %#lx, asked for %lu MiB\n",
		       (size - left) >> 20, floor, size >> 20);
		return -1;
	}
	for (unsigned int i = 0; i < n; i++)
		fill(chosen[i].start, chosen[i].end);
	for (unsigned int i = 0; i < n; i++) {
		sum ^= check(chosen[i].start, chosen[i].end, &bad);
		printf("touch: [%#lx, %#lx)\n", chosen[i].start, chosen[i].end);
	}
	printf("touch: %lu MiB, %lu bad words, checksum %#lx\n", size >> 20,
	       bad, sum);
	memcpy(touched, chosen, sizeof(chosen));
	nr_touched = n;
	touched_seed = touch_seed;
	touched_sum = sum;
	return bad ? -1 : 0;
}

/* verify=N: check what the last touch wrote, N times. */
int workload_verify(const char *arg, size_t len)
{
	uint64_t passes = 1, saved_seed = touch_seed;
	int failed = 0;

	if (arg && !parse_u64(arg, len, &passes)) {
		printf("verify: needs a number of passes\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	if (!nr_touched) {
		printf("verify: nothing was touched\n");
		return -1;
	}
	touch_seed = touched_seed;
	for (uint64_t p = 1; p <= passes; p++) {
		uint64_t bad = 0, sum = 0;

		for (unsigned int i = 0; i < nr_touched; i++)
			sum ^= check(touched[i].start, touched[i].end, &bad);
		printf("verify: pass %lu: %lu bad words, checksum %#lx%s\n", p,
		       bad, sum, sum == touched_sum ? "" : " (differs)");
		if (bad || sum != touched_sum)
			failed = 1;
	}
	touch_seed = saved_seed;
	return failed ? -1 : 0;
}

/*
 * churn=N: N rounds over the touched pages, each round checking that every
 * page's first word holds the previous round number and writing the next.
 * A snapshot taken mid-way and restored must carry on without a page out
 * of step. The pattern words after the first stay as touch wrote them.
 */
int workload_churn(const char *arg, size_t len)
{
	uint64_t rounds, bad = 0, saved_seed = touch_seed;

	if (!parse_u64(arg, len, &rounds) || !rounds) {
		printf("churn: needs a number of rounds\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	if (!nr_touched) {
		printf("churn: nothing was touched\n");
		return -1;
	}
	touch_seed = touched_seed;
	for (uint64_t r = 1; r <= rounds && !bad; r++) {
		for (unsigned int i = 0; i < nr_touched; i++) {
			for (uint64_t a = touched[i].start; a < touched[i].end; a += 4096) {
				volatile uint64_t *w = (volatile uint64_t *)a;
				uint64_t want = r == 1 ? pattern(a) : r - 1;

				if (*w != want && !bad++)
					printf("churn: round %lu: page %#lx holds %#lx, expected %#lx\n",
					       r, a, *w, want);
				*w = r;
			}
		}
		if (r % (rounds / 10 ? rounds / 10 : 1) == 0)
			printf("churn: round %lu of %lu\n", r, rounds);
	}
	/* Put the pattern back so that verify still holds. */
	for (unsigned int i = 0; i < nr_touched; i++)
		for (uint64_t a = touched[i].start; a < touched[i].end; a += 4096)
			*(volatile uint64_t *)a = pattern(a);
	touch_seed = saved_seed;
	printf("churn: %lu rounds, %s\n", rounds, bad ? "FAILED" : "consistent");
	return bad ? -1 : 0;
}
