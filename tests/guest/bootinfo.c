// SPDX-License-Identifier: MIT
/*
 * What the loader told us: command line and RAM ranges from the PVH start
 * info or the Linux zero page, and the CPUs listed in the MP table.
 */
#include "guest.h"

#define PVH_MAGIC 0x336ec578u
#define E820_RAM 1
#define ZP_E820_ENTRIES 0x1e8
#define ZP_CMD_LINE_PTR 0x228
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_TABLE 0x2d0
#define ZP_RAMDISK_IMAGE 0x218
#define ZP_RAMDISK_SIZE 0x21c
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4

struct boot_info boot_info;

struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct pvh_module {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static void add_ram(uint64_t addr, uint64_t size, uint32_t type)
{
	if (type != E820_RAM || !size ||
	    boot_info.nr_ram >= GUEST_MAX_RAM_RANGES)
		return;
	boot_info.ram[boot_info.nr_ram++] = (struct ram_range){ addr, addr + size };
}

static void parse_pvh(const struct pvh_start_info *si)
{
	const struct pvh_memmap_entry *mm;

	if (si->magic != PVH_MAGIC)
		return;
	boot_info.cmdline = (const char *)si->cmdline_paddr;
	boot_info.rsdp = si->rsdp_paddr;
	if (si->nr_modules && si->modlist_paddr) {
		const struct pvh_module *mod = (const void *)si->modlist_paddr;

		boot_info.initrd_addr = mod->paddr;
		boot_info.initrd_size = mod->size;
	}
	mm = (const struct pvh_memmap_entry *)si->memmap_paddr;
	for (uint32_t i = 0; mm && i < si->memmap_entries; i++)
		add_ram(mm[i].addr, mm[i].size, mm[i].type);
}

static void parse_zero_page(const uint8_t *zp)
{
	uint32_t lo, hi;
	uint8_t n = zp[ZP_E820_ENTRIES];

	memcpy(&lo, zp + ZP_CMD_LINE_PTR, 4);
	memcpy(&hi, zp + ZP_EXT_CMD_LINE_PTR, 4);
	boot_info.cmdline = (const char *)((uint64_t)hi << 32 | lo);
	memcpy(&lo, zp + ZP_RAMDISK_IMAGE, 4);
	memcpy(&hi, zp + ZP_EXT_RAMDISK_IMAGE, 4);
	boot_info.initrd_addr = (uint64_t)hi << 32 | lo;
	memcpy(&lo, zp + ZP_RAMDISK_SIZE, 4);
	memcpy(&hi, zp + ZP_EXT_RAMDISK_SIZE, 4);
	boot_info.initrd_size = (uint64_t)hi << 32 | lo;
	memcpy(&boot_info.rsdp, zp + 0x070, 8);
	for (unsigned int i = 0; i < n && i < 128; i++) {
		const uint8_t *ent = zp + ZP_E820_TABLE + 20 * i;
		uint64_t addr, size;
		uint32_t type;

		memcpy(&addr, ent, 8);
		memcpy(&size, ent + 8, 8);
		memcpy(&type, ent + 16, 4);
		add_ram(addr, size, type);
	}
}

void boot_info_parse(void)
{
	if (boot_info.protocol)
		return;
	boot_info.protocol = boot_protocol;
	if (boot_protocol == BOOT_PVH)
		parse_pvh((const struct pvh_start_info *)boot_info_paddr);
	else
		parse_zero_page((const uint8_t *)boot_info_paddr);
	if (!boot_info.cmdline)
		boot_info.cmdline = "";
}

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static const uint8_t *mp_find_floating(void)
{
	static const struct {
		uintptr_t start, len;
	} areas[] = { { 0x9fc00, 0x400 }, { 0xf0000, 0x10000 } };

	for (unsigned int a = 0; a < 2; a++)
		for (uintptr_t p = areas[a].start;
		     p + 16 <= areas[a].start + areas[a].len; p += 16)
			if (!memcmp((const void *)p, "_MP_", 4) &&
			    sum_bytes((const uint8_t *)p, 16) == 0)
				return (const uint8_t *)p;
	return NULL;
}

/* APIC IDs of the enabled CPUs in the MP table; 0 when there is none. */
unsigned int mptable_apic_ids(uint8_t *ids, unsigned int max)
{
	const uint8_t *mpf = mp_find_floating();
	const uint8_t *mpc, *p, *end;
	uint32_t physptr;
	uint16_t len, count;
	unsigned int n = 0;

	if (!mpf)
		return 0;
	memcpy(&physptr, mpf + 4, 4);
	mpc = (const uint8_t *)(uintptr_t)physptr;
	if (memcmp(mpc, "PCMP", 4))
		return 0;
	memcpy(&len, mpc + 4, 2);
	memcpy(&count, mpc + 34, 2);
	if (sum_bytes(mpc, len) != 0)
		return 0;
	p = mpc + 44;
	end = mpc + len;
	for (unsigned int i = 0; i < count && p < end; i++) {
		if (p[0] == 0) {
			if ((p[3] & 1) && n < max)
				ids[n++] = p[1];
			p += 20;
		} else {
			p += 8;
		}
	}
	return n;
}
