// SPDX-License-Identifier: MIT
/*
 * What a kernel reads at entry: the command line, the memory map handed over
 * as a PVH start info (hvm_start_info, Xen's arch-x86/hvm/start_info.h) or a
 * Linux zero page (struct boot_params), the MP table, and for 64-bit entry a
 * GDT and identity-mapped page tables.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"

#define PVH_MAGIC 0x336ec578u
#define PVH_VERSION 1
#define PVH_MODLIST_ADDR (BOOT_START_INFO_ADDR + 0x40)
#define PVH_MEMMAP_ADDR (BOOT_START_INFO_ADDR + 0x80)

struct pvh_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct pvh_module {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Zero page offsets (struct boot_params). */
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_HDR_BOOT_FLAG 0x1fe
#define ZP_HDR_MAGIC 0x202
#define ZP_HDR_VERSION 0x206
#define ZP_HDR_TYPE_OF_LOADER 0x210
#define ZP_HDR_LOADFLAGS 0x211
#define ZP_HDR_RAMDISK_IMAGE 0x218
#define ZP_HDR_RAMDISK_SIZE 0x21c
#define ZP_HDR_HEAP_END_PTR 0x224
#define ZP_HDR_CMD_LINE_PTR 0x228
#define ZP_HDR_KERNEL_ALIGNMENT 0x230
#define ZP_HDR_CMDLINE_SIZE 0x238
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_ENTRY_SIZE 20
#define ZP_SIZE 4096

#define LOADFLAG_LOADED_HIGH 0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define LOADER_UNDEFINED 0xff

/* Code, data and TSS descriptors shared by both boot protocols. */
static const uint64_t boot_gdt[] = {
	0,
	0x00cf9b000000ffffull,	/* 0x08: 32-bit code, flat */
	0x00af9b000000ffffull,	/* 0x10: 64-bit code */
	0x00cf93000000ffffull,	/* 0x18: data, flat */
	0x00008b0000000067ull,	/* 0x20: 32-bit TSS, busy */
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int boot_write_cmdline(struct guest_mem *mem,
			      const struct boot_image *img, const char *cmdline,
			      struct err *e)
{
	size_t len = strlen(cmdline) + 1;

	if (len > img->cmdline_max)
		return err_set(e, E2BIG, "command line of %zu bytes is longer than the kernel's limit of %llu",
			       len - 1,
			       (unsigned long long)(img->cmdline_max - 1));
	memcpy(guest_mem_ptr(mem, BOOT_CMDLINE_ADDR, len), cmdline, len);
	return 0;
}

static void boot_write_gdt(struct guest_mem *mem)
{
	memcpy(guest_mem_ptr(mem, BOOT_GDT_ADDR, sizeof(boot_gdt)), boot_gdt,
	       sizeof(boot_gdt));
}

/* Identity map of the first 4 GiB with 2 MiB pages. */
static void boot_write_page_tables(struct guest_mem *mem)
{
	uint64_t *pml4 = guest_mem_ptr(mem, BOOT_PML4_ADDR, PAGE_SIZE);
	uint64_t *pdpt = guest_mem_ptr(mem, BOOT_PDPT_ADDR, PAGE_SIZE);
	uint64_t *pd = guest_mem_ptr(mem, BOOT_PD_ADDR, 4 * PAGE_SIZE);

	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = BOOT_PDPT_ADDR | 0x3;		/* present, writable */
	for (unsigned int i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE) | 0x3;
	for (unsigned int i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* present, rw, 2M */
}

static void boot_write_pvh(struct guest_mem *mem,
			   const struct boot_params_in *in)
{
	struct pvh_start_info *si = guest_mem_ptr(mem, BOOT_START_INFO_ADDR,
						  sizeof(*si));
	struct pvh_memmap_entry *mm = guest_mem_ptr(mem, PVH_MEMMAP_ADDR,
						    E820_MAX_ENTRIES * sizeof(*mm));
	struct pvh_module *mod = guest_mem_ptr(mem, PVH_MODLIST_ADDR, sizeof(*mod));
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int n = e820_build(mem, map, E820_MAX_ENTRIES);

	memset(si, 0, sizeof(*si));
	si->magic = PVH_MAGIC;
	si->version = PVH_VERSION;
	si->cmdline_paddr = BOOT_CMDLINE_ADDR;
	si->rsdp_paddr = in->rsdp;
	for (unsigned int i = 0; i < n; i++)
		mm[i] = (struct pvh_memmap_entry){ map[i].addr, map[i].size,
						   map[i].type, 0 };
	si->memmap_paddr = PVH_MEMMAP_ADDR;
	si->memmap_entries = n;
	if (in->initrd_addr) {
		*mod = (struct pvh_module){ in->initrd_addr, in->initrd_size, 0, 0 };
		si->nr_modules = 1;
		si->modlist_paddr = PVH_MODLIST_ADDR;
	}
}

static void boot_write_zero_page(struct guest_mem *mem,
				 const struct boot_image *img,
				 const struct boot_params_in *in)
{
	uint8_t *zp = guest_mem_ptr(mem, BOOT_ZERO_PAGE_ADDR, ZP_SIZE);
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int n = e820_build(mem, map, E820_MAX_ENTRIES);

	memset(zp, 0, ZP_SIZE);
	if (img->setup_header_len) {
		memcpy(zp + SETUP_HEADER_OFFSET, img->setup_header,
		       img->setup_header_len);
	} else {
		/* A vmlinux has no header: describe a loader-built one. */
		put16(zp + ZP_HDR_BOOT_FLAG, 0xaa55);
		memcpy(zp + ZP_HDR_MAGIC, "HdrS", 4);
		put16(zp + ZP_HDR_VERSION, 0x020c);
		put32(zp + ZP_HDR_KERNEL_ALIGNMENT, 0x1000000);
		put32(zp + ZP_HDR_CMDLINE_SIZE, img->cmdline_max - 1);
	}
	zp[ZP_HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	zp[ZP_HDR_LOADFLAGS] |= LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP;
	put16(zp + ZP_HDR_HEAP_END_PTR, 0xfe00);
	put32(zp + ZP_HDR_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	put32(zp + ZP_EXT_CMD_LINE_PTR, (uint32_t)(BOOT_CMDLINE_ADDR >> 32));
	put32(zp + ZP_HDR_RAMDISK_IMAGE, (uint32_t)in->initrd_addr);
	put32(zp + ZP_EXT_RAMDISK_IMAGE, (uint32_t)(in->initrd_addr >> 32));
	put32(zp + ZP_HDR_RAMDISK_SIZE, (uint32_t)in->initrd_size);
	put32(zp + ZP_EXT_RAMDISK_SIZE, (uint32_t)(in->initrd_size >> 32));
	memcpy(zp + ZP_ACPI_RSDP_ADDR, &in->rsdp, 8);
	zp[ZP_E820_ENTRIES] = n;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *ent = zp + ZP_E820_TABLE + i * ZP_E820_ENTRY_SIZE;

		memcpy(ent, &map[i].addr, 8);
		memcpy(ent + 8, &map[i].size, 8);
		memcpy(ent + 16, &map[i].type, 4);
	}
}

int boot_write_params(struct guest_mem *mem, const struct boot_image *img,
		      const struct boot_params_in *in, struct err *e)
{
	int ret;

	/* Everything below 1 MiB must exist: guaranteed by the minimum size. */
	if (!guest_mem_ptr(mem, 0, BOOT_HIGH_START))
		return err_set(e, ENOSPC, "guest RAM is smaller than 1 MiB");
	ret = boot_write_cmdline(mem, img, in->cmdline, e);
	if (ret)
		return ret;
	ret = mptable_write(mem, BOOT_MPTABLE_ADDR, in, e);
	if (ret < 0)
		return ret;
	boot_write_gdt(mem);
	if (img->protocol == BOOT_PROTO_PVH) {
		boot_write_pvh(mem, in);
	} else {
		boot_write_page_tables(mem);
		boot_write_zero_page(mem, img, in);
	}
	return 0;
}
