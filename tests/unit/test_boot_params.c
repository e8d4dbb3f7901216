// SPDX-License-Identifier: MIT
/*
 * What a kernel finds at entry: the e820 map, the MP table, the PVH start
 * info or the zero page with its command line and initrd, the boot page
 * tables and GDT, and the boot vCPU's registers. Structures are read back
 * from guest memory by offset, as the kernel would read them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot.h"
#include "tap.h"

#define FILL 0xaa
#define PVH_MAGIC 0x336ec578u
#define MP_ADDR BOOT_MPTABLE_ADDR

/* --- Guest memory ------------------------------------------------------ */

/* A guest of size bytes on reserved, lazily allocated memory, filled. */
static bool guest_new(struct guest_mem *mem, uint64_t size)
{
	void *p;

	if (guest_mem_layout(mem, size))
		return false;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	mem->base = p;
	/* Only the first 128 MiB are ever looked at whole. */
	memset(mem->base, FILL, MIN(size, 128 * MIB));
	return true;
}

static void guest_free(struct guest_mem *mem)
{
	munmap(mem->base, mem->size);
}

/* A read-only buffer of len zero bytes, without using memory. */
static const uint8_t *zero_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* True when every byte of guest memory [from, to) is byte. */
static bool mem_is(const struct guest_mem *mem, uint64_t from, uint64_t to,
		   uint8_t byte)
{
	uint8_t block[4096];

	memset(block, byte, sizeof(block));
	while (from < to) {
		uint64_t n = MIN(to - from, sizeof(block));

		if (memcmp(mem->base + from, block, n))
			return false;
		from += n;
	}
	return true;
}

static bool untouched(const struct guest_mem *mem, uint64_t from, uint64_t to)
{
	return mem_is(mem, from, to, FILL);
}

static bool all_zero(const struct guest_mem *mem, uint64_t from, uint64_t to)
{
	return mem_is(mem, from, to, 0);
}

/* Little-endian reads of guest memory; all-ones when outside RAM. */
static uint64_t rd(const struct guest_mem *mem, uint64_t gpa, unsigned int n)
{
	const uint8_t *p = guest_mem_ptr(mem, gpa, n);
	uint64_t v = 0;

	if (!p)
		return UINT64_MAX;
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define rd8(m, a) rd(m, a, 1)
#define rd16(m, a) rd(m, a, 2)
#define rd32(m, a) rd(m, a, 4)
#define rd64(m, a) rd(m, a, 8)

static uint8_t byte_sum(const struct guest_mem *mem, uint64_t gpa,
			uint64_t len)
{
	const uint8_t *p = guest_mem_ptr(mem, gpa, len);
	uint8_t sum = 0;

	if (!p)
		return 0xff;
	while (len--)
		sum += *p++;
	return sum;
}

/* --- e820 -------------------------------------------------------------- */

static const struct e820_entry e820_low[] = {
	{ 0, 0x9fc00, E820_RAM },
	{ 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED },
};

static void check_e820(uint64_t size, const struct e820_entry *high,
		       unsigned int nr_high)
{
	struct guest_mem mem;
	struct e820_entry map[8];
	unsigned int n;

	guest_mem_layout(&mem, size);
	memset(map, 0x5c, sizeof(map));
	n = e820_build(&mem, map, ARRAY_SIZE(map));
	if (!is_int(n, 2 + nr_high, "e820 of %llu MiB: %u entries",
		    (unsigned long long)(size / MIB), 2 + nr_high))
		return;
	for (unsigned int i = 0; i < n; i++) {
		const struct e820_entry *w = i < 2 ? &e820_low[i] : &high[i - 2];

		ok(map[i].addr == w->addr && map[i].size == w->size &&
		   map[i].type == w->type,
		   "e820 of %llu MiB: entry %u is [%#llx, +%#llx) type %u",
		   (unsigned long long)(size / MIB), i,
		   (unsigned long long)w->addr, (unsigned long long)w->size,
		   w->type);
	}
}

static void test_e820(void)
{
	const struct e820_entry m2[] = { { 1 * MIB, 1 * MIB, E820_RAM } };
	const struct e820_entry m128[] = { { 1 * MIB, 127 * MIB, E820_RAM } };
	const struct e820_entry g3[] = { { 1 * MIB, 3 * GIB - 1 * MIB, E820_RAM } };
	const struct e820_entry g4[] = {
		{ 1 * MIB, 3 * GIB - 1 * MIB, E820_RAM },
		{ 4 * GIB, 1 * GIB, E820_RAM },
	};
	const struct e820_entry g5[] = {
		{ 1 * MIB, 3 * GIB - 1 * MIB, E820_RAM },
		{ 4 * GIB, 2 * GIB, E820_RAM },
	};

	check_e820(2 * MIB, m2, 1);
	check_e820(128 * MIB, m128, 1);
	check_e820(3 * GIB, g3, 1);
	check_e820(4 * GIB, g4, 2);
	check_e820(5 * GIB, g5, 2);
}

static void test_e820_max(void)
{
	struct guest_mem mem;
	struct e820_entry map[4];

	guest_mem_layout(&mem, 5 * GIB);
	memset(map, 0x5c, sizeof(map));
	is_int(e820_build(&mem, map, 2), 2, "e820 with room for 2: 2 entries");
	ok(map[1].addr == 0x9fc00 && map[1].type == E820_RESERVED,
	   "e820 with room for 2: the first two entries");
	is_u64(map[2].addr, 0x5c5c5c5c5c5c5c5cull,
	   "e820 with room for 2: nothing written past them");
	is_int(e820_build(&mem, map, 3), 3, "e820 with room for 3: 3 entries");
	is_u64(map[3].addr, 0x5c5c5c5c5c5c5c5cull,
	   "e820 with room for 3: nothing written past them");
	is_int(e820_build(&mem, map, 0), 0, "e820 with no room: 0 entries");
}

/* --- MP table ---------------------------------------------------------- */

enum { MP_CPU, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };

struct mp_seen {
	unsigned int cpus, buses, ioapics, intsrcs, lintsrcs;
	unsigned int bsps;
	bool ids_in_order;	/* CPU k has APIC ID k */
	bool cpus_enabled;
	bool bsp_is_cpu0;
	bool cpuid_copied;
	int isa_bus;		/* bus ID of "ISA   ", or -1 */
	unsigned int ioapic_id;
	uint32_t ioapic_addr;
	bool ioapic_enabled;
	bool intsrc_to_ioapic;	/* every INTSRC goes to that IOAPIC */
	uint32_t isa_irqs;	/* bitmap of ISA IRQs routed */
	bool walk_ok;		/* entries end exactly at the table's length */
};

static void mp_entry(const struct guest_mem *mem, uint64_t p,
		     const struct boot_params_in *in, struct mp_seen *s)
{
	switch (rd8(mem, p)) {
	case MP_CPU:
		s->ids_in_order &= rd8(mem, p + 1) == s->cpus;
		s->cpus_enabled &= rd8(mem, p + 3) & 1;
		if (rd8(mem, p + 3) & 2) {
			s->bsps++;
			s->bsp_is_cpu0 = s->cpus == 0;
		}
		s->cpuid_copied &= rd32(mem, p + 4) == in->cpu_signature &&
				   rd32(mem, p + 8) == in->cpu_features;
		s->cpus++;
		break;
	case MP_BUS:
		if (guest_mem_ptr(mem, p + 2, 6) &&
		    !memcmp(guest_mem_ptr(mem, p + 2, 6), "ISA   ", 6))
			s->isa_bus = rd8(mem, p + 1);
		s->buses++;
		break;
	case MP_IOAPIC:
		s->ioapic_id = rd8(mem, p + 1);
		s->ioapic_enabled = rd8(mem, p + 3) & 1;
		s->ioapic_addr = rd32(mem, p + 4);
		s->ioapics++;
		break;
	case MP_INTSRC:
		s->intsrc_to_ioapic &= rd8(mem, p + 6) == s->ioapic_id;
		if ((int)rd8(mem, p + 4) == s->isa_bus && rd8(mem, p + 5) < 32)
			s->isa_irqs |= 1u << rd8(mem, p + 5);
		s->intsrcs++;
		break;
	case MP_LINTSRC:
		s->lintsrcs++;
		break;
	}
}

/* Walk the count entries of the configuration table at cfg. */
static void mp_walk(const struct guest_mem *mem, uint64_t cfg,
		    const struct boot_params_in *in, struct mp_seen *s)
{
	uint64_t p = cfg + 44, end = cfg + rd16(mem, cfg + 4);
	unsigned int count = rd16(mem, cfg + 34);

	*s = (struct mp_seen){ .ids_in_order = true, .cpus_enabled = true,
			       .cpuid_copied = true, .isa_bus = -1,
			       .intsrc_to_ioapic = true };
	for (unsigned int i = 0; i < count && p < end; i++) {
		unsigned int type = rd8(mem, p);

		if (type > MP_LINTSRC)
			return;
		mp_entry(mem, p, in, s);
		p += type == MP_CPU ? 20 : 8;
	}
	s->walk_ok = p == end &&
		     s->cpus + s->buses + s->ioapics + s->intsrcs +
		     s->lintsrcs == count;
}

static void check_mptable(struct guest_mem *mem, unsigned int n)
{
	struct boot_params_in in = { .nr_cpus = n, .cpu_signature = 0x000a0f11,
				     .cpu_features = 0x178bfbff };
	struct err e = { 0 };
	struct mp_seen s;
	const void *pcmp;
	uint64_t cfg;
	int ret;

	memset(mem->base, FILL, mem->size);
	ret = mptable_write(mem, MP_ADDR, &in, &e);
	if (!ok(ret > 0, "MP table for %u CPUs written (%d)", n, ret)) {
		diag("message: %s", e.msg);
		return;
	}
	is_mem(guest_mem_ptr(mem, MP_ADDR, 4), "_MP_", 4,
	       "%u CPUs: floating pointer signature", n);
	is_int(rd8(mem, MP_ADDR + 8), 1, "%u CPUs: floating pointer length 1", n);
	is_int(rd8(mem, MP_ADDR + 9), 4, "%u CPUs: spec revision 1.4", n);
	is_int(byte_sum(mem, MP_ADDR, 16), 0,
	       "%u CPUs: floating pointer checksum", n);
	is_int(rd8(mem, MP_ADDR + 11), 0,
	       "%u CPUs: no default configuration (feature byte 1 is 0)", n);
	cfg = rd32(mem, MP_ADDR + 4);
	pcmp = guest_mem_ptr(mem, cfg, 4);
	if (!ok(pcmp && !memcmp(pcmp, "PCMP", 4),
		"%u CPUs: physptr %#llx points at PCMP", n,
		(unsigned long long)cfg))
		return;
	is_int(byte_sum(mem, cfg, rd16(mem, cfg + 4)), 0,
	       "%u CPUs: configuration table checksum over its length", n);
	is_int(rd8(mem, cfg + 6), 4, "%u CPUs: table spec revision 1.4", n);
	is_u64(rd32(mem, cfg + 36), 0xfee00000, "%u CPUs: local APIC address", n);
	is_u64(ret, cfg + rd16(mem, cfg + 4) - MP_ADDR,
	       "%u CPUs: returns the size written", n);

	mp_walk(mem, cfg, &in, &s);
	ok(s.walk_ok, "%u CPUs: entry count and table length agree", n);
	is_int(s.cpus, n, "%u CPUs: one processor entry per CPU", n);
	ok(s.ids_in_order, "%u CPUs: APIC IDs 0..%u in order", n, n - 1);
	ok(s.cpus_enabled, "%u CPUs: every CPU enabled", n);
	is_int(s.bsps, 1, "%u CPUs: exactly one BSP", n);
	ok(s.bsp_is_cpu0, "%u CPUs: the BSP is CPU 0", n);
	ok(s.cpuid_copied, "%u CPUs: CPU signature and features copied", n);
	is_int(s.ioapics, 1, "%u CPUs: one IOAPIC", n);
	is_u64(s.ioapic_addr, 0xfec00000, "%u CPUs: IOAPIC address", n);
	ok(s.ioapic_enabled, "%u CPUs: IOAPIC enabled", n);
	ok(s.ioapic_id >= n, "%u CPUs: IOAPIC ID %u is no CPU's APIC ID", n,
	   s.ioapic_id);
	ok(s.isa_bus >= 0, "%u CPUs: an ISA bus", n);
	is_u64(s.isa_irqs & 0xffff, 0xffff, "%u CPUs: ISA IRQs 0-15 routed", n);
	ok(s.intsrc_to_ioapic, "%u CPUs: interrupts go to the IOAPIC", n);
	ok(untouched(mem, 0, MP_ADDR) && untouched(mem, MP_ADDR + ret, mem->size),
	   "%u CPUs: nothing written outside the table", n);
}

static void test_mptable(void)
{
	static const unsigned int cpus[] = { 1, 2, 4, 64 };
	struct guest_mem mem;
	struct boot_params_in in = { 0 };
	struct err e = { 0 };

	if (!ok(guest_new(&mem, 2 * MIB), "2 MiB guest"))
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(cpus); i++)
		check_mptable(&mem, cpus[i]);

	memset(mem.base, FILL, mem.size);
	in.nr_cpus = 0;
	is_int(mptable_write(&mem, MP_ADDR, &in, &e), -EINVAL,
	       "MP table for 0 CPUs: -EINVAL");
	is_int(e.errnum, EINVAL, "0 CPUs: errnum");
	in.nr_cpus = 255;
	is_int(mptable_write(&mem, MP_ADDR, &in, &e), -EINVAL,
	       "MP table for 255 CPUs: -EINVAL");
	like(e.msg, "255", "255 CPUs: message names the count");
	in.nr_cpus = 1;
	e = (struct err){ 0 };
	ok(mptable_write(&mem, 2 * MIB - 64, &in, &e) < 0,
	   "MP table running past the end of RAM refused");
	ok(untouched(&mem, 0, mem.size), "refused MP tables write nothing");
	guest_free(&mem);
}

/* --- PVH start info ---------------------------------------------------- */

static const struct boot_image pvh_img = {
	.protocol = BOOT_PROTO_PVH,
	.format = "ELF with PVH note",
	.entry = 0x100000,
	.start = 0x100000,
	.end = 0x200000,
	.cmdline_max = BOOT_CMDLINE_MAX,
	.initrd_addr_max = 3 * GIB - 1,
};

static const struct boot_image elf64_img = {
	.protocol = BOOT_PROTO_LINUX64,
	.format = "ELF",
	.entry = 0x100000,
	.start = 0x100000,
	.end = 0x200000,
	.cmdline_max = BOOT_CMDLINE_MAX,
	.initrd_addr_max = 3 * GIB - 1,
};

/* The memmap at paddr matches e820_build() of mem. */
static void check_pvh_memmap(const struct guest_mem *mem, const char *what)
{
	uint64_t si = BOOT_START_INFO_ADDR;
	uint64_t mm = rd64(mem, si + 40);
	unsigned int n = rd32(mem, si + 48);
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int want = e820_build(mem, map, E820_MAX_ENTRIES);
	bool same = true;

	if (!is_int(n, want, "%s: memmap_entries", what))
		return;
	ok(mm + n * 24 <= BOOT_HIGH_START && !ranges_overlap(mm, n * 24, si, 56),
	   "%s: memmap at %#llx, below 1 MiB, clear of the start info", what,
	   (unsigned long long)mm);
	for (unsigned int i = 0; i < n; i++)
		same &= rd64(mem, mm + 24 * i) == map[i].addr &&
			rd64(mem, mm + 24 * i + 8) == map[i].size &&
			rd32(mem, mm + 24 * i + 16) == map[i].type &&
			rd32(mem, mm + 24 * i + 20) == 0;
	ok(same, "%s: memmap entries are the e820 map", what);
}

static void test_pvh(void)
{
	static const char cmdline[] = "console=ttyS0 root=/dev/vda rw";
	struct boot_params_in in = { .cmdline = cmdline, .nr_cpus = 2,
				     .initrd_addr = 0x7000000,
				     .initrd_size = 0x12345 };
	struct guest_mem mem;
	struct err e = { 0 };
	uint64_t si = BOOT_START_INFO_ADDR, mod;

	if (!ok(guest_new(&mem, 128 * MIB), "128 MiB guest"))
		return;
	if (!is_int(boot_write_params(&mem, &pvh_img, &in, &e), 0,
		    "PVH: boot_write_params")) {
		diag("message: %s", e.msg);
		return;
	}
	is_u64(rd32(&mem, si), PVH_MAGIC, "PVH: start info magic at 0x6000");
	is_u64(rd32(&mem, si + 4), 1, "PVH: start info version 1");
	is_u64(rd32(&mem, si + 8), 0, "PVH: flags 0");
	is_u64(rd64(&mem, si + 24), 0x20000, "PVH: cmdline_paddr 0x20000");
	is_str((const char *)guest_mem_ptr(&mem, 0x20000, sizeof(cmdline)),
	       cmdline, "PVH: command line at 0x20000, NUL-terminated");
	is_u64(rd64(&mem, si + 32), 0, "PVH: no RSDP");
	check_pvh_memmap(&mem, "PVH 128 MiB");
	is_u64(rd32(&mem, si + 12), 1, "PVH: one module (the initrd)");
	mod = rd64(&mem, si + 16);
	ok(mod + 32 <= BOOT_HIGH_START && !ranges_overlap(mod, 32, si, 56),
	   "PVH: module list at %#llx, below 1 MiB, clear of the start info",
	   (unsigned long long)mod);
	is_u64(rd64(&mem, mod), 0x7000000, "PVH: module paddr");
	is_u64(rd64(&mem, mod + 8), 0x12345, "PVH: module size");
	is_u64(rd64(&mem, mod + 16), 0, "PVH: module has no command line");
	is_mem(guest_mem_ptr(&mem, MP_ADDR, 4), "_MP_", 4,
	       "PVH: MP table written");
	ok(untouched(&mem, 1 * MIB, mem.size),
	   "PVH: nothing written above 1 MiB (the kernel's)");

	in.initrd_addr = 0;
	in.initrd_size = 0;
	memset(mem.base, FILL, 1 * MIB);
	is_int(boot_write_params(&mem, &pvh_img, &in, &e), 0,
	       "PVH without initrd: boot_write_params");
	is_u64(rd32(&mem, si + 12), 0, "PVH without initrd: no modules");
	guest_free(&mem);

	if (!ok(guest_new(&mem, 5 * GIB), "5 GiB guest"))
		return;
	is_int(boot_write_params(&mem, &pvh_img, &in, &e), 0,
	       "PVH 5 GiB: boot_write_params");
	check_pvh_memmap(&mem, "PVH 5 GiB");
	guest_free(&mem);
}

/* --- Zero page and page tables ----------------------------------------- */

#define ZP BOOT_ZERO_PAGE_ADDR

static void check_zp_e820(const struct guest_mem *mem)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int n = e820_build(mem, map, E820_MAX_ENTRIES);
	bool same = true;

	if (!is_int(rd8(mem, ZP + 0x1e8), n, "zero page: e820_entries"))
		return;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t ent = ZP + 0x2d0 + 20 * i;

		same &= rd64(mem, ent) == map[i].addr &&
			rd64(mem, ent + 8) == map[i].size &&
			rd32(mem, ent + 16) == map[i].type;
	}
	ok(same, "zero page: e820_table at 0x2d0 is the e820 map");
}

/* Translate va through the page tables at cr3; UINT64_MAX when unmapped. */
static uint64_t walk(const struct guest_mem *mem, uint64_t cr3, uint64_t va)
{
	const uint64_t addr_mask = 0x000ffffffffff000ull;
	uint64_t e = rd64(mem, (cr3 & addr_mask) + 8 * ((va >> 39) & 511));

	if ((e & 3) != 3)	/* present, writable */
		return UINT64_MAX;
	e = rd64(mem, (e & addr_mask) + 8 * ((va >> 30) & 511));
	if ((e & 3) != 3)
		return UINT64_MAX;
	if (e & 0x80)		/* 1 GiB page */
		return (e & addr_mask & ~(GIB - 1)) | (va & (GIB - 1));
	e = rd64(mem, (e & addr_mask) + 8 * ((va >> 21) & 511));
	if ((e & 3) != 3 || !(e & 0x80))	/* a 2 MiB page */
		return UINT64_MAX;
	return (e & addr_mask & ~(2 * MIB - 1)) | (va & (2 * MIB - 1));
}

static void check_page_tables(const struct guest_mem *mem)
{
	static const uint64_t vas[] = {
		0, 0x7000, 0x100000, 0x1234567, 0x3fffffff, 0x40000000,
		0x7fffffff, 0x80000000, 3 * GIB + 5, 0xfec00000, 0xfee00000,
		4 * GIB - 1,
	};
	unsigned int bad = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(vas); i++)
		if (walk(mem, BOOT_PML4_ADDR, vas[i]) != vas[i]) {
			diag("%#llx maps to %#llx", (unsigned long long)vas[i],
			     (unsigned long long)walk(mem, BOOT_PML4_ADDR, vas[i]));
			bad++;
		}
	is_int(bad, 0, "page tables at 0x9000 identity-map the first 4 GiB");
	for (uint64_t va = 0; va < 4 * GIB; va += 2 * MIB)
		if (walk(mem, BOOT_PML4_ADDR, va + 0x1ff000) != va + 0x1ff000)
			bad++;
	is_int(bad, 0, "page tables: every 2 MiB of the first 4 GiB maps to itself");
}

static void test_zero_page_elf(void)
{
	static const char cmdline[] = "console=ttyS0 quiet";
	struct boot_params_in in = { .cmdline = cmdline, .nr_cpus = 1,
				     .initrd_addr = 0x6000000,
				     .initrd_size = 0x54321 };
	struct guest_mem mem;
	struct err e = { 0 };

	if (!ok(guest_new(&mem, 128 * MIB), "128 MiB guest"))
		return;
	if (!is_int(boot_write_params(&mem, &elf64_img, &in, &e), 0,
		    "64-bit ELF: boot_write_params")) {
		diag("message: %s", e.msg);
		return;
	}
	ok(all_zero(&mem, ZP, ZP + 0x1e8),
	   "zero page: cleared before the e820 count (no stale bytes)");
	check_zp_e820(&mem);
	is_u64(rd16(&mem, ZP + 0x1fe), 0xaa55, "zero page: boot_flag");
	is_mem(guest_mem_ptr(&mem, ZP + 0x202, 4), "HdrS", 4,
	       "zero page: HdrS at 0x202");
	ok(rd16(&mem, ZP + 0x206) >= 0x020c,
	   "zero page: protocol version %#llx is 2.12 or later",
	   (unsigned long long)rd16(&mem, ZP + 0x206));
	is_u64(rd8(&mem, ZP + 0x210), 0xff, "zero page: type_of_loader 0xff");
	ok(rd8(&mem, ZP + 0x211) & 1, "zero page: LOADED_HIGH in loadflags");
	is_u64(rd32(&mem, ZP + 0x228), 0x20000, "zero page: cmd_line_ptr");
	is_u64(rd32(&mem, ZP + 0xc8), 0, "zero page: ext_cmd_line_ptr 0");
	is_str((const char *)guest_mem_ptr(&mem, 0x20000, sizeof(cmdline)),
	       cmdline, "zero page: command line at cmd_line_ptr");
	is_u64(rd32(&mem, ZP + 0x238), BOOT_CMDLINE_MAX - 1,
	       "zero page: cmdline_size");
	is_u64(rd32(&mem, ZP + 0x218), 0x6000000, "zero page: ramdisk_image");
	is_u64(rd32(&mem, ZP + 0x21c), 0x54321, "zero page: ramdisk_size");
	is_u64(rd32(&mem, ZP + 0xc0), 0, "zero page: ext_ramdisk_image 0");
	is_u64(rd32(&mem, ZP + 0xc4), 0, "zero page: ext_ramdisk_size 0");
	check_page_tables(&mem);
	ok(untouched(&mem, 1 * MIB, mem.size),
	   "64-bit ELF: nothing written above 1 MiB");
	guest_free(&mem);
}

/* A bzImage's own setup header reaches the zero page. */
static void test_zero_page_bzimage(void)
{
	static uint8_t bz[0x2000];
	struct boot_params_in in = { .cmdline = "", .nr_cpus = 4 };
	struct guest_mem mem;
	struct boot_image img;
	struct err e = { 0 };
	char *cmdline;

	for (size_t i = 0; i < sizeof(bz); i++)
		bz[i] = (uint8_t)(i * 3 + 1);
	bz[0x1f1] = 4;				/* setup_sects */
	memcpy(bz + 0x1fe, "\x55\xaa", 2);	/* boot_flag */
	memcpy(bz + 0x200, "\xeb\x6a", 2);	/* jump */
	memcpy(bz + 0x202, "HdrS\x0f\x02", 6);	/* magic, version 2.15 */
	bz[0x211] = 0x01;			/* loadflags: LOADED_HIGH */
	memcpy(bz + 0x236, "\x03\x00", 2);	/* xloadflags */
	memcpy(bz + 0x238, "\xff\x00\x00\x00", 4);	/* cmdline_size 255 */
	memcpy(bz + 0x260, "\x00\x00\x10\x00", 4);	/* init_size 1 MiB */

	if (!ok(guest_new(&mem, 128 * MIB), "128 MiB guest"))
		return;
	if (!is_int(bzimage_load(&mem, bz, sizeof(bz), &img, &e), 0,
		    "bzImage: loads")) {
		diag("message: %s", e.msg);
		return;
	}
	is_int(boot_write_params(&mem, &img, &in, &e), 0,
	       "bzImage: boot_write_params");
	/* Fields the boot protocol lets the loader only read. */
	is_int(rd8(&mem, ZP + 0x1f1), 4, "bzImage: setup_sects in the zero page");
	is_mem(guest_mem_ptr(&mem, ZP + 0x1fe, 0x210 - 0x1fe), bz + 0x1fe,
	       0x210 - 0x1fe,
	       "bzImage: boot_flag, jump, magic, version ... kernel_version are the kernel's");
	is_mem(guest_mem_ptr(&mem, ZP + 0x22c, 0x23c - 0x22c), bz + 0x22c,
	       0x23c - 0x22c,
	       "bzImage: initrd_addr_max ... cmdline_size are the kernel's");
	is_mem(guest_mem_ptr(&mem, ZP + 0x258, 0x26c - 0x258), bz + 0x258,
	       0x26c - 0x258,
	       "bzImage: pref_address ... kernel_info_offset are the kernel's");
	is_u64(rd8(&mem, ZP + 0x210), 0xff, "bzImage: type_of_loader 0xff");
	ok(rd8(&mem, ZP + 0x211) & 1, "bzImage: LOADED_HIGH kept");
	is_u64(rd32(&mem, ZP + 0x228), 0x20000, "bzImage: cmd_line_ptr");
	is_u64(rd32(&mem, ZP + 0x218), 0, "bzImage: no ramdisk_image");
	ok(all_zero(&mem, ZP + 0x26c, ZP + 0x290),
	   "bzImage: zero page past the kernel's header is clear");
	check_zp_e820(&mem);

	cmdline = malloc(257);
	memset(cmdline, 'c', 256);
	cmdline[256] = '\0';
	in.cmdline = cmdline;
	e = (struct err){ 0 };
	is_int(boot_write_params(&mem, &img, &in, &e), -E2BIG,
	       "bzImage: 256-byte command line over cmdline_size 255 is -E2BIG");
	is_int(e.errnum, E2BIG, "bzImage: E2BIG errnum");
	like(e.msg, "255", "bzImage: message names the limit");
	cmdline[255] = '\0';
	is_int(boot_write_params(&mem, &img, &in, &e), 0,
	       "bzImage: 255-byte command line fits");
	is_u64(strlen((const char *)guest_mem_ptr(&mem, 0x20000, 256)), 255,
	       "bzImage: all 255 bytes written");
	free(cmdline);
	guest_free(&mem);
}

static void test_cmdline_max_elf(void)
{
	struct boot_params_in in = { .nr_cpus = 1 };
	struct guest_mem mem;
	struct err e = { 0 };
	char *cmdline = malloc(BOOT_CMDLINE_MAX + 1);

	if (!ok(guest_new(&mem, 128 * MIB), "128 MiB guest"))
		return;
	memset(cmdline, 'x', BOOT_CMDLINE_MAX);
	cmdline[BOOT_CMDLINE_MAX] = '\0';
	in.cmdline = cmdline;
	is_int(boot_write_params(&mem, &elf64_img, &in, &e), -E2BIG,
	       "ELF: 64 KiB command line (no room for the NUL) is -E2BIG");
	is_int(boot_write_params(&mem, &pvh_img, &in, &e), -E2BIG,
	       "PVH: 64 KiB command line is -E2BIG");
	cmdline[BOOT_CMDLINE_MAX - 1] = '\0';
	is_int(boot_write_params(&mem, &pvh_img, &in, &e), 0,
	       "PVH: 64 KiB - 1 command line fits");
	ok(untouched(&mem, BOOT_CMDLINE_ADDR + BOOT_CMDLINE_MAX, MP_ADDR),
	   "PVH: longest command line stays in its 64 KiB");
	in.nr_cpus = 0;
	in.cmdline = "";
	ok(boot_write_params(&mem, &pvh_img, &in, &e) < 0,
	   "boot_write_params with 0 CPUs fails");
	free(cmdline);
	guest_free(&mem);
}

/* --- Initrd placement -------------------------------------------------- */

struct initrd_case {
	uint64_t guest;
	uint64_t kernel_end;
	uint64_t addr_max;
	uint64_t len;
	uint64_t want;		/* expected address, 0: rejected */
	const char *what;
};

static const struct initrd_case initrd_cases[] = {
	{ 128 * MIB, 0x103000, 3 * GIB - 1, 10000, 0x7ffd000,
	  "top of a 128 MiB guest" },
	{ 128 * MIB, 0x103000, 3 * GIB - 1, 2 * PAGE_SIZE, 128 * MIB - 2 * PAGE_SIZE,
	  "two pages at the top" },
	{ 128 * MIB, 0x103000, 0x3ffffff, 10000, 0x3ffd000,
	  "below initrd_addr_max 64 MiB - 1" },
	{ 128 * MIB, 0x103000, 0x3ffe70e, 10000, 0x3ffb000,
	  "below an unaligned initrd_addr_max" },
	{ 5 * GIB, 0x103000, 0xffffffff, 10000, 3 * GIB - 3 * PAGE_SIZE,
	  "below the MMIO gap in a 5 GiB guest" },
	{ 128 * MIB, 0x1000001, 0x1ffffff, 0x2000000 - 0x1001000, 0x1001000,
	  "exactly between the kernel end and the limit" },
	{ 128 * MIB, 0x1000001, 0x1ffffff, 0x2000000 - 0x1001000 + 1, 0,
	  "one byte too big for the room above the kernel" },
	{ 128 * MIB, 0x103000, 3 * GIB - 1, 128 * MIB + 1, 0,
	  "bigger than RAM" },
	{ 128 * MIB, 100 * MIB, 0x3ffffff, 4096, 0,
	  "kernel ending above initrd_addr_max" },
};

static void check_initrd(const struct initrd_case *c)
{
	struct boot_image img = elf64_img;
	struct guest_mem mem;
	struct err e = { 0 };
	const uint8_t *src = zero_buf(c->len);
	uint64_t addr = 0x5c5c, top, lo, hi;
	int ret;

	if (!src || !guest_new(&mem, c->guest)) {
		ok(false, "%s: set up", c->what);
		return;
	}
	top = MIN(guest_mem_low_size(&mem), c->addr_max + 1);
	/* The window of RAM whose every byte is checked. */
	lo = 0;
	hi = MIN(c->guest, 128 * MIB);
	if (top > hi) {
		lo = top - 64 * MIB;
		hi = top;
		memset(mem.base + lo, FILL, hi - lo);
	}
	img.end = c->kernel_end;
	img.initrd_addr_max = c->addr_max;
	ret = boot_load_initrd(&mem, &img, src, c->len, &addr, &e);
	if (!c->want) {
		ok(ret < 0, "%s: rejected (%d)", c->what, ret);
		is_int(e.errnum, -ret, "%s: errnum", c->what);
		like(e.msg, "initrd", "%s: message", c->what);
		ok(untouched(&mem, lo, hi), "%s: nothing written", c->what);
	} else if (is_int(ret, 0, "%s: placed", c->what)) {
		is_u64(addr, c->want, "%s: address", c->what);
		ok(IS_ALIGNED(addr, PAGE_SIZE), "%s: page aligned", c->what);
		ok(addr + c->len <= top, "%s: ends below %#llx", c->what,
		   (unsigned long long)top);
		ok(addr >= c->kernel_end, "%s: above the kernel", c->what);
		ok(all_zero(&mem, addr, addr + c->len), "%s: copied", c->what);
		ok(untouched(&mem, lo, addr) && untouched(&mem, addr + c->len, hi),
		   "%s: nothing else written", c->what);
	} else {
		diag("message: %s", e.msg);
	}
	munmap((void *)src, c->len);
	guest_free(&mem);
}

static void test_initrd(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(initrd_cases); i++)
		check_initrd(&initrd_cases[i]);
}

/* --- Boot vCPU --------------------------------------------------------- */

static uint64_t gdt_desc(const struct guest_mem *mem, unsigned int sel)
{
	return rd64(mem, BOOT_GDT_ADDR + (sel & ~7u));
}

/* The GDT descriptor of seg's selector describes what seg holds. */
static void check_desc(const struct guest_mem *mem, const struct kvm_segment *s,
		       const char *what)
{
	uint64_t d = gdt_desc(mem, s->selector);
	uint64_t base = ((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24;
	uint64_t limit = (d & 0xffff) | ((d >> 48) & 0xf) << 16;

	if (d >> 55 & 1)
		limit = limit << 12 | 0xfff;
	ok(base == s->base && limit == s->limit &&
	   ((d >> 40) & 0xf) == s->type && ((d >> 44) & 1) == s->s &&
	   ((d >> 47) & 1) == s->present && ((d >> 53) & 1) == s->l &&
	   ((d >> 54) & 1) == s->db,
	   "%s: GDT entry %#x matches the segment register", what, s->selector);
}

static void prefill_state(struct boot_cpu_state *st)
{
	memset(&st->regs, 0x77, sizeof(st->regs));
	memset(&st->sregs, 0, sizeof(st->sregs));
	st->sregs.apic_base = 0xfee00900;
	st->sregs.interrupt_bitmap[1] = 0x1234;
}

static void check_common(const struct boot_cpu_state *st, uint64_t entry,
			 const char *what)
{
	is_u64(st->regs.rip, entry, "%s: rip at the entry", what);
	ok(st->regs.rflags & 0x2, "%s: rflags reserved bit 1 set", what);
	ok(!(st->regs.rflags & (0x100 | 0x200 | 0x20000)),
	   "%s: TF, IF and VM clear", what);
	ok(st->sregs.cr0 & 1, "%s: CR0.PE set", what);
	ok(st->sregs.cs.present && st->sregs.cs.s && (st->sregs.cs.type & 0x8),
	   "%s: CS is a present code segment", what);
	ok(st->sregs.cs.base == 0 && st->sregs.ds.base == 0 &&
	   st->sregs.ss.base == 0 && st->sregs.es.base == 0,
	   "%s: flat segments", what);
	ok((st->sregs.ds.type & 0xa) == 0x2 && (st->sregs.ss.type & 0xa) == 0x2 &&
	   st->sregs.ds.present && st->sregs.ss.present,
	   "%s: DS and SS are present writable data", what);
	is_u64(st->sregs.gdt.base, BOOT_GDT_ADDR, "%s: GDT base", what);
	ok(st->sregs.gdt.limit >= BOOT_SEL_DATA + 7,
	   "%s: GDT limit covers the data selector", what);
	is_u64(st->sregs.apic_base, 0xfee00900, "%s: apic_base unchanged", what);
	is_u64(st->sregs.interrupt_bitmap[1], 0x1234,
	       "%s: interrupt bitmap unchanged", what);
}

static void test_cpu_state(void)
{
	struct boot_params_in in = { .cmdline = "", .nr_cpus = 1 };
	struct boot_image img = pvh_img;
	struct boot_cpu_state st;
	struct guest_mem mem;
	struct err e = { 0 };

	if (!ok(guest_new(&mem, 128 * MIB), "128 MiB guest"))
		return;

	img.entry = 0x100123;
	prefill_state(&st);
	boot_cpu_state(&img, &st);
	check_common(&st, 0x100123, "PVH");
	ok(!(st.sregs.cr0 & 0x80000000), "PVH: CR0.PG clear");
	ok(!(st.sregs.efer & 0x500), "PVH: EFER.LME and LMA clear");
	is_u64(st.regs.rbx, 0x6000, "PVH: RBX is the start info");
	ok(st.sregs.cs.db == 1 && st.sregs.cs.l == 0, "PVH: CS is 32-bit");
	ok(st.sregs.cs.g == 1 && st.sregs.cs.limit == 0xffffffff,
	   "PVH: CS limit 4 GiB");
	ok(st.sregs.tr.present && (st.sregs.tr.type & 0xb) == 0xb,
	   "PVH: TR is a busy TSS");
	boot_write_params(&mem, &img, &in, &e);
	check_desc(&mem, &st.sregs.cs, "PVH CS");
	check_desc(&mem, &st.sregs.ds, "PVH DS");

	img = elf64_img;
	img.entry = 0x1000000;
	prefill_state(&st);
	boot_cpu_state(&img, &st);
	check_common(&st, 0x1000000, "64-bit");
	ok(st.sregs.cr0 & 0x80000000, "64-bit: CR0.PG set");
	ok(st.sregs.cr4 & 0x20, "64-bit: CR4.PAE set");
	is_u64(st.sregs.efer & 0x500, 0x500, "64-bit: EFER.LME and LMA set");
	is_u64(st.sregs.cr3, 0x9000, "64-bit: CR3 is the boot PML4");
	is_u64(st.regs.rsi, 0x7000, "64-bit: RSI is the zero page");
	ok(st.sregs.cs.l == 1 && st.sregs.cs.db == 0, "64-bit: CS is 64-bit");
	is_int(st.sregs.cs.selector, 0x10, "64-bit: CS is __BOOT_CS (0x10)");
	ok(st.sregs.ds.selector == 0x18 && st.sregs.es.selector == 0x18 &&
	   st.sregs.ss.selector == 0x18, "64-bit: DS, ES, SS are __BOOT_DS (0x18)");
	memset(mem.base, FILL, 1 * MIB);
	boot_write_params(&mem, &img, &in, &e);
	check_desc(&mem, &st.sregs.cs, "64-bit CS");
	check_desc(&mem, &st.sregs.ss, "64-bit SS");
	guest_free(&mem);
}

int main(void)
{
	test_e820();
	test_e820_max();
	test_mptable();
	test_pvh();
	test_zero_page_elf();
	test_zero_page_bzimage();
	test_cmdline_max_elf();
	test_initrd();
	test_cpu_state();
	return done_testing();
}
