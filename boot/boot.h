/* SPDX-License-Identifier: MIT */
/*
 * Booting a kernel: loading ELF (vmlinux, PVH) and bzImage images into guest
 * RAM, the initrd, and the structures a kernel reads at entry (PVH start
 * info or the Linux zero page, e820 map, command line, MP table, GDT and page
 * tables), plus the register state of the boot vCPU.
 *
 * Everything here works on a struct guest_mem and plain structs, without
 * KVM, so that it can be tested on crafted images. Images are untrusted:
 * every offset and size is checked before use, and a failure says in e what
 * was wrong.
 *
 * Guest physical layout below 1 MiB (all reserved in the e820 map but the
 * first 639 KiB):
 *   0x00500  GDT                0x06000  PVH start info, module list, memmap
 *   0x07000  zero page          0x08000  boot stack (grows down from 0x8ff0)
 *   0x09000  page tables        0x20000  command line (up to 64 KiB)
 *   0xf0000  MP table
 */
#ifndef GMVM_BOOT_H
#define GMVM_BOOT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "guest_mem.h"

#define BOOT_GDT_ADDR 0x500ull
#define BOOT_START_INFO_ADDR 0x6000ull
#define BOOT_ZERO_PAGE_ADDR 0x7000ull
#define BOOT_STACK_TOP 0x8ff0ull
#define BOOT_PML4_ADDR 0x9000ull
#define BOOT_PDPT_ADDR 0xa000ull
#define BOOT_PD_ADDR 0xb000ull		/* four PDs: 4 GiB in 2 MiB pages */
#define BOOT_CMDLINE_ADDR 0x20000ull
#define BOOT_CMDLINE_MAX 0x10000ull	/* including the NUL */
#define BOOT_MPTABLE_ADDR 0xf0000ull
#define BOOT_EBDA_START 0x9fc00ull	/* end of usable low RAM */
#define BOOT_HIGH_START 0x100000ull	/* kernels load at or above 1 MiB */

#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_CODE64 0x10
#define BOOT_SEL_DATA 0x18
#define BOOT_SEL_TSS 0x20

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX_ENTRIES 128

enum boot_protocol {
	BOOT_PROTO_PVH,		/* 32-bit entry, hvm_start_info in EBX */
	BOOT_PROTO_LINUX64,	/* 64-bit entry, zero page in RSI */
};

/* Linux's setup header lives at 0x1f1 in a bzImage and in the zero page. */
#define SETUP_HEADER_OFFSET 0x1f1
#define SETUP_HEADER_MAX_END 0x290

#define BOOT_MAX_SEGMENTS 64

/* memsz bytes at gpa: filesz bytes from src, then zeros. */
struct boot_segment {
	uint64_t gpa;
	const uint8_t *src;
	uint64_t filesz;
	uint64_t memsz;
};

/* A kernel loaded into guest RAM. */
struct boot_image {
	enum boot_protocol protocol;
	const char *format;		/* "ELF", "ELF with PVH note", "bzImage" */
	uint64_t entry;
	uint64_t start;			/* guest RAM the kernel occupies */
	uint64_t end;
	/* bzImage: its setup header, copied into the zero page. */
	uint8_t setup_header[SETUP_HEADER_MAX_END - SETUP_HEADER_OFFSET];
	size_t setup_header_len;
	uint64_t cmdline_max;		/* longest command line, with NUL */
	uint64_t initrd_addr_max;	/* highest byte an initrd may use */
	/* What goes where; src points into the image file's buffer. */
	struct boot_segment seg[BOOT_MAX_SEGMENTS];
	unsigned int nr_seg;
};

/* What to tell the kernel at entry. */
struct boot_params_in {
	const char *cmdline;
	uint64_t initrd_addr;		/* 0: no initrd */
	uint64_t initrd_size;
	unsigned int nr_cpus;
	uint32_t cpu_signature;		/* CPUID 1 EAX, for the MP table */
	uint32_t cpu_features;		/* CPUID 1 EDX */
	uint64_t rsdp;			/* ACPI RSDP, 0: none */
};

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct boot_cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/*
 * Map path read-only. Fails, naming the problem in e, when it is missing, a
 * directory, not a regular file, or empty. *buf and *len describe the file.
 */
int boot_map_file(const char *path, const uint8_t **buf, size_t *len,
		  struct err *e);
void boot_unmap_file(const uint8_t *buf, size_t len);

/* Recognise the image format in buf and load it into mem. */
int boot_load_kernel(struct guest_mem *mem, const uint8_t *buf, size_t len,
		     struct boot_image *img, struct err *e);

/*
 * The same, without writing guest RAM: img->seg says what goes where (for
 * loading lazily). buf must stay mapped while the segments are used.
 */
int boot_parse_kernel(const struct guest_mem *mem, const uint8_t *buf,
		      size_t len, struct boot_image *img, struct err *e);

/* Copy img's segments into mem (zeros after filesz unless mem is fresh). */
void boot_copy_segments(struct guest_mem *mem, const struct boot_image *img);

/* Load an ELF64 x86-64 executable; PVH when it has a PHYS32_ENTRY note. */
int elf_load(struct guest_mem *mem, const uint8_t *buf, size_t len,
	     struct boot_image *img, struct err *e);
int elf_parse(const struct guest_mem *mem, const uint8_t *buf, size_t len,
	      struct boot_image *img, struct err *e);

/* True when buf starts like a bzImage (boot flag and "HdrS" magic). */
bool bzimage_detect(const uint8_t *buf, size_t len);

/* Load a bzImage for the 64-bit boot protocol (version 2.12 or later). */
int bzimage_load(struct guest_mem *mem, const uint8_t *buf, size_t len,
		 struct boot_image *img, struct err *e);
int bzimage_parse(const struct guest_mem *mem, const uint8_t *buf, size_t len,
		  struct boot_image *img, struct err *e);

/*
 * Copy an initrd of len bytes into the highest page-aligned spot of low RAM
 * that stays below img->initrd_addr_max and clear of the kernel.
 */
int boot_load_initrd(struct guest_mem *mem, const struct boot_image *img,
		     const uint8_t *buf, size_t len, uint64_t *addr,
		     struct err *e);
/* Where boot_load_initrd() would put len bytes, without copying. */
int boot_place_initrd(const struct guest_mem *mem,
		      const struct boot_image *img, size_t len, uint64_t *addr,
		      struct err *e);

/* The e820 map of mem; returns the number of entries (at most max). */
unsigned int e820_build(const struct guest_mem *mem, struct e820_entry *out,
			unsigned int max);

/*
 * The byte that makes len bytes at p sum to zero: the checksum of MP and
 * ACPI tables alike (computed with the checksum field zero).
 */
static inline uint8_t boot_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

/*
 * Write an MP table for nr_cpus CPUs (APIC IDs 0..n-1), an ISA bus and the
 * IOAPIC at addr. Returns its size in bytes, or -errno.
 */
int mptable_write(struct guest_mem *mem, uint64_t addr,
		  const struct boot_params_in *in, struct err *e);

/*
 * Write everything the kernel reads at entry (command line, e820, PVH start
 * info or zero page, MP table, GDT, page tables) for img.
 */
int boot_write_params(struct guest_mem *mem, const struct boot_image *img,
		      const struct boot_params_in *in, struct err *e);

/*
 * Registers of the boot vCPU at img's entry point. st->sregs must hold the
 * vCPU's current special registers (KVM_GET_SREGS): only the fields the boot
 * protocol defines are changed.
 */
void boot_cpu_state(const struct boot_image *img, struct boot_cpu_state *st);

#endif /* GMVM_BOOT_H */
