// SPDX-License-Identifier: MIT
/*
 * The e820 memory map: usable low RAM up to the EBDA, the legacy hole and
 * BIOS area reserved (gmvm's boot tables live there), then RAM from 1 MiB to
 * the MMIO gap and above 4 GiB.
 */
#include "boot.h"

static unsigned int e820_add(struct e820_entry *out, unsigned int n,
			     unsigned int max, uint64_t addr, uint64_t size,
			     uint32_t type)
{
	if (n < max && size)
		out[n++] = (struct e820_entry){ addr, size, type };
	return n;
}

unsigned int e820_build(const struct guest_mem *mem, struct e820_entry *out,
			unsigned int max)
{
	uint64_t low = guest_mem_low_size(mem);
	unsigned int n = 0;

	n = e820_add(out, n, max, 0, MIN(low, BOOT_EBDA_START), E820_RAM);
	n = e820_add(out, n, max, BOOT_EBDA_START,
		     BOOT_HIGH_START - BOOT_EBDA_START, E820_RESERVED);
	if (low > BOOT_HIGH_START)
		n = e820_add(out, n, max, BOOT_HIGH_START,
			     low - BOOT_HIGH_START, E820_RAM);
	for (unsigned int i = 1; i < mem->nr_regions; i++)
		n = e820_add(out, n, max, mem->regions[i].gpa,
			     mem->regions[i].size, E820_RAM);
	return n;
}
