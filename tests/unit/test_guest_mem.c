// SPDX-License-Identifier: MIT
/*
 * Guest RAM layout and translation: regions split around the MMIO gap at
 * 3 GiB, and guest_mem_ptr() refusing anything not wholly inside one region.
 * The host mapping is reserved address space that is never touched.
 */
#include <errno.h>
#include <sys/mman.h>

#include "guest_mem.h"
#include "tap.h"

/* Reserve len bytes of address space for mem->base; NULL on failure. */
static uint8_t *reserve(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void check_region(const struct guest_mem *mem, unsigned int i,
			 uint64_t gpa, uint64_t size, uint64_t offset,
			 const char *what)
{
	is_u64(mem->regions[i].gpa, gpa, "%s: region %u gpa", what, i);
	is_u64(mem->regions[i].size, size, "%s: region %u size", what, i);
	is_u64(mem->regions[i].offset, offset, "%s: region %u offset", what, i);
}

static void test_layout_rejects(void)
{
	static const uint64_t bad[] = { 0, 1, PAGE_SIZE - 1, PAGE_SIZE + 1,
					2 * MIB + 512, 3 * GIB + 2048 };
	struct guest_mem mem;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(guest_mem_layout(&mem, bad[i]), -EINVAL,
		       "layout of %#llx bytes is -EINVAL",
		       (unsigned long long)bad[i]);
}

static void test_layout_small(void)
{
	struct guest_mem mem;

	is_int(guest_mem_layout(&mem, 2 * MIB), 0, "layout 2 MiB");
	is_u64(mem.size, 2 * MIB, "2 MiB: size");
	is_int(mem.nr_regions, 1, "2 MiB: one region");
	check_region(&mem, 0, 0, 2 * MIB, 0, "2 MiB");
	is_u64(guest_mem_top(&mem), 2 * MIB, "2 MiB: top");
	is_u64(guest_mem_low_size(&mem), 2 * MIB, "2 MiB: low size");
	is_int(mem.fd, -1, "layout leaves no fd");
	ok(mem.base == NULL, "layout allocates nothing");

	is_int(guest_mem_layout(&mem, PAGE_SIZE), 0, "layout one page");
	is_u64(guest_mem_top(&mem), PAGE_SIZE, "one page: top");
}

static void test_layout_gap(void)
{
	struct guest_mem mem;

	is_int(guest_mem_layout(&mem, 3 * GIB - PAGE_SIZE), 0,
	       "layout 3 GiB - 4 KiB");
	is_int(mem.nr_regions, 1, "3 GiB - 4 KiB: one region");
	is_u64(guest_mem_top(&mem), 3 * GIB - PAGE_SIZE, "3 GiB - 4 KiB: top");

	is_int(guest_mem_layout(&mem, 3 * GIB), 0, "layout exactly 3 GiB");
	is_int(mem.nr_regions, 1, "3 GiB: one region");
	check_region(&mem, 0, 0, 3 * GIB, 0, "3 GiB");
	is_u64(guest_mem_top(&mem), 3 * GIB, "3 GiB: top");
	is_u64(guest_mem_low_size(&mem), 3 * GIB, "3 GiB: low size");

	is_int(guest_mem_layout(&mem, 3 * GIB + PAGE_SIZE), 0,
	       "layout 3 GiB + 4 KiB");
	is_int(mem.nr_regions, 2, "3 GiB + 4 KiB: two regions");
	check_region(&mem, 0, 0, 3 * GIB, 0, "3 GiB + 4 KiB");
	check_region(&mem, 1, 4 * GIB, PAGE_SIZE, 3 * GIB, "3 GiB + 4 KiB");
	is_u64(guest_mem_top(&mem), 4 * GIB + PAGE_SIZE, "3 GiB + 4 KiB: top");
	is_u64(guest_mem_low_size(&mem), 3 * GIB, "3 GiB + 4 KiB: low size");

	is_int(guest_mem_layout(&mem, 5 * GIB), 0, "layout 5 GiB");
	is_u64(mem.size, 5 * GIB, "5 GiB: size");
	is_int(mem.nr_regions, 2, "5 GiB: two regions");
	check_region(&mem, 0, 0, 3 * GIB, 0, "5 GiB");
	check_region(&mem, 1, 4 * GIB, 2 * GIB, 3 * GIB, "5 GiB");
	is_u64(guest_mem_top(&mem), 6 * GIB, "5 GiB: top");
	is_u64(guest_mem_low_size(&mem), 3 * GIB, "5 GiB: low size");
}

/* gpa, len and where the pointer should land (offset into base, or NONE). */
#define NONE UINT64_MAX

struct ptr_case {
	uint64_t gpa;
	uint64_t len;
	uint64_t off;
	const char *what;
};

static const struct ptr_case big_cases[] = {
	{ 0, 1, 0, "first byte" },
	{ 0x1000, 0x10, 0x1000, "inside low RAM" },
	{ 0, 3 * GIB, 0, "all of low RAM" },
	{ 3 * GIB - 1, 1, 3 * GIB - 1, "last byte below the gap" },
	{ 3 * GIB - PAGE_SIZE, PAGE_SIZE, 3 * GIB - PAGE_SIZE,
	  "last page below the gap" },
	{ 3 * GIB - 1, 2, NONE, "straddling the end of low RAM" },
	{ 3 * GIB - PAGE_SIZE, PAGE_SIZE + 1, NONE,
	  "one byte past the end of low RAM" },
	{ 3 * GIB - 16, GIB + 32, NONE, "straddling the whole MMIO gap" },
	{ 0, 5 * GIB, NONE, "all of RAM, across the gap" },
	{ 3 * GIB, 1, NONE, "first byte of the gap" },
	{ 0xc0000000ull + 0x800, 16, NONE, "inside the gap" },
	{ 0xfee00000ull, 4, NONE, "local APIC page" },
	{ 4 * GIB - 1, 1, NONE, "last byte of the gap" },
	{ 4 * GIB - 1, 2, NONE, "straddling the start of high RAM" },
	{ 4 * GIB, 1, 3 * GIB, "first byte of high RAM" },
	{ 4 * GIB + 0x1234, 8, 3 * GIB + 0x1234, "inside high RAM" },
	{ 4 * GIB, 2 * GIB, 3 * GIB, "all of high RAM" },
	{ 6 * GIB - 8, 8, 5 * GIB - 8, "last bytes of RAM" },
	{ 6 * GIB - 8, 9, NONE, "straddling the top of RAM" },
	{ 6 * GIB, 1, NONE, "at the top of RAM" },
	{ 8 * GIB, 4096, NONE, "beyond the top of RAM" },
	{ UINT64_MAX, 1, NONE, "last guest physical byte" },
	{ 0x1000, 0, NONE, "empty range" },
	{ 4 * GIB + 0x1000, 0, NONE, "empty range in high RAM" },
	{ 0x1000, UINT64_MAX, NONE, "len wrapping around" },
	{ 0x1000, UINT64_MAX - 0xfff, NONE, "range ending at 2^64" },
	{ 4 * GIB + 0x1000, UINT64_MAX - 4 * GIB, NONE,
	  "high RAM, len wrapping around" },
	{ UINT64_MAX - 0xf, 0x20, NONE, "gpa + len wrapping to low RAM" },
};

static void test_ptr_5g(void)
{
	struct guest_mem mem;
	uint8_t *base = reserve(5 * GIB);

	if (!ok(base != NULL, "reserve 5 GiB of address space"))
		return;
	guest_mem_layout(&mem, 5 * GIB);
	mem.base = base;
	for (size_t i = 0; i < ARRAY_SIZE(big_cases); i++) {
		const struct ptr_case *c = &big_cases[i];
		void *want = c->off == NONE ? NULL : base + c->off;

		is_ptr(guest_mem_ptr(&mem, c->gpa, c->len), want,
		       "5 GiB: %s [%#llx, +%#llx)", c->what,
		       (unsigned long long)c->gpa, (unsigned long long)c->len);
	}
	munmap(base, 5 * GIB);
}

static void test_ptr_small(void)
{
	struct guest_mem mem;
	uint8_t *base = reserve(2 * MIB);

	if (!ok(base != NULL, "reserve 2 MiB of address space"))
		return;
	guest_mem_layout(&mem, 2 * MIB);
	mem.base = base;
	is_ptr(guest_mem_ptr(&mem, 2 * MIB - 1, 1), base + 2 * MIB - 1,
	       "2 MiB: last byte");
	is_ptr(guest_mem_ptr(&mem, 2 * MIB - 1, 2), NULL,
	       "2 MiB: straddling the top");
	is_ptr(guest_mem_ptr(&mem, 2 * MIB, 1), NULL, "2 MiB: at the top");
	is_ptr(guest_mem_ptr(&mem, 3 * GIB - 1, 1), NULL,
	       "2 MiB: below the gap but beyond RAM");
	is_ptr(guest_mem_ptr(&mem, 4 * GIB, 1), NULL,
	       "2 MiB: no RAM above 4 GiB");
	munmap(base, 2 * MIB);
}

int main(void)
{
	test_layout_rejects();
	test_layout_small();
	test_layout_gap();
	test_ptr_5g();
	test_ptr_small();
	return done_testing();
}
