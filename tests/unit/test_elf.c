// SPDX-License-Identifier: MIT
/*
 * ELF kernels built in memory and loaded into a 64 MiB guest: valid images
 * land where their program headers say, with bss cleared and the right boot
 * protocol; hostile and truncated ones are refused with a message, before a
 * single byte of guest memory is written.
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "tap.h"

#define GUEST_SIZE (64 * MIB)
#define FILL 0xaa
#define XEN_PHYS32_ENTRY 18

static struct guest_mem mem;
static uint8_t image[0x20000] __attribute__((aligned(16)));

/* --- Guest memory ------------------------------------------------------ */

static void mem_fill(void)
{
	memset(mem.base, FILL, GUEST_SIZE);
}

/* True when [from, to) of guest memory still holds the fill byte. */
static bool untouched(uint64_t from, uint64_t to)
{
	static uint8_t fill[4096];

	if (!fill[0])
		memset(fill, FILL, sizeof(fill));
	while (from < to) {
		uint64_t n = MIN(to - from, sizeof(fill));

		if (memcmp(mem.base + from, fill, n))
			return false;
		from += n;
	}
	return true;
}

/* --- Building images --------------------------------------------------- */

struct seg {
	uint32_t type;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	const void *data;	/* filesz bytes, or NULL for a pattern */
};

static uint8_t pattern(unsigned int seg, uint64_t i)
{
	return (uint8_t)(0x31 + seg * 0x52 + i * 7 + (i >> 8));
}

#define PH_OFF(i) (sizeof(Elf64_Ehdr) + (i) * sizeof(Elf64_Phdr))

/* Overwrite one field of the header or of program header i in image. */
#define POKE(off, type, v)						\
	do {								\
		type poke_v = (v);					\
		memcpy(image + (off), &poke_v, sizeof(poke_v));		\
	} while (0)
#define SET_EH(field, v)						\
	POKE(offsetof(Elf64_Ehdr, field),				\
	     __typeof__(((Elf64_Ehdr *)0)->field), v)
#define SET_PH(i, field, v)						\
	POKE(PH_OFF(i) + offsetof(Elf64_Phdr, field),			\
	     __typeof__(((Elf64_Phdr *)0)->field), v)

static Elf64_Phdr get_ph(unsigned int i)
{
	Elf64_Phdr ph;

	memcpy(&ph, image + PH_OFF(i), sizeof(ph));
	return ph;
}

/*
 * Lay out an x86-64 executable in image: the header, n program headers, then
 * each segment's file bytes at 16-byte aligned offsets. Returns its length.
 */
static size_t build_elf(uint64_t entry, const struct seg *segs, unsigned int n)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV },
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = entry,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = n,
	};
	size_t off = ALIGN_UP(PH_OFF(n), 16);

	memset(image, 0, sizeof(image));
	memcpy(image, &eh, sizeof(eh));
	for (unsigned int i = 0; i < n; i++) {
		const struct seg *s = &segs[i];
		Elf64_Phdr ph = {
			.p_type = s->type,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = off,
			.p_vaddr = s->paddr | 0xffffffff80000000ull,
			.p_paddr = s->paddr,
			.p_filesz = s->filesz,
			.p_memsz = s->memsz,
			.p_align = 16,
		};

		if (off + s->filesz > sizeof(image))
			abort();
		memcpy(image + PH_OFF(i), &ph, sizeof(ph));
		for (uint64_t j = 0; j < s->filesz; j++)
			image[off + j] = s->data ? ((const uint8_t *)s->data)[j] :
						   pattern(i, j);
		off = ALIGN_UP(off + s->filesz, 16);
	}
	return off;
}

/* Append one ELF note at p; returns its size. */
static size_t put_note(uint8_t *p, const char *name, uint32_t namesz,
		       uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = { namesz, descsz, type };
	size_t name_room = ALIGN_UP(namesz, 4);

	memset(p, 0, sizeof(nh) + name_room + ALIGN_UP(descsz, 4));
	memcpy(p, &nh, sizeof(nh));
	memcpy(p + sizeof(nh), name, MIN(namesz, strlen(name) + 1));
	memcpy(p + sizeof(nh) + name_room, desc, descsz);
	return sizeof(nh) + name_room + ALIGN_UP(descsz, 4);
}

static size_t pvh_note(uint8_t *p, uint64_t entry, uint32_t descsz)
{
	return put_note(p, "Xen", 4, XEN_PHYS32_ENTRY, &entry, descsz);
}

/* --- Checks ------------------------------------------------------------ */

/* Program header i of image is loaded: file bytes copied, the rest zero. */
static void check_loaded(unsigned int i, const char *what)
{
	Elf64_Phdr ph = get_ph(i);
	uint8_t *g = mem.base + ph.p_paddr;
	bool zero = true;

	is_mem(g, image + ph.p_offset, ph.p_filesz,
	       "%s: segment %u file bytes copied", what, i);
	if (ph.p_memsz == ph.p_filesz)
		return;
	for (uint64_t j = ph.p_filesz; j < ph.p_memsz; j++)
		zero &= g[j] == 0;
	ok(zero, "%s: segment %u bss [%#llx, %#llx) zeroed", what, i,
	   (unsigned long long)(ph.p_paddr + ph.p_filesz),
	   (unsigned long long)(ph.p_paddr + ph.p_memsz));
}

static int load(size_t len, struct boot_image *img, struct err *e)
{
	mem_fill();
	memset(img, 0x5c, sizeof(*img));
	*e = (struct err){ 0 };
	return elf_load(&mem, image, len, img, e);
}

/* elf_load(image, len) succeeds; says why when not. */
static bool load_ok(size_t len, struct boot_image *img, const char *what)
{
	struct err e;
	int ret = load(len, img, &e);

	if (!is_int(ret, 0, "%s: loads", what)) {
		diag("message: %s", e.msg);
		return false;
	}
	return true;
}

/* elf_load(image, len) fails with a message containing part, no writes. */
static void reject(size_t len, const char *part, const char *what)
{
	struct boot_image img;
	struct err e;
	int ret = load(len, &img, &e);

	ok(ret < 0, "%s: rejected (%d)", what, ret);
	is_int(e.errnum, -ret, "%s: errnum is -ret", what);
	like(e.msg, part, "%s: message", what);
	ok(untouched(0, GUEST_SIZE), "%s: guest memory untouched", what);
}

/* --- Valid images ------------------------------------------------------ */

static void test_basic(void)
{
	const struct seg segs[] = {
		{ PT_LOAD, 1 * MIB, 0x1000, 0x3000, NULL },
	};
	size_t len = build_elf(0x100010, segs, 1);
	struct boot_image img;

	if (!load_ok(len, &img, "basic"))
		return;
	is_int(img.protocol, BOOT_PROTO_LINUX64, "basic: 64-bit protocol");
	is_str(img.format, "ELF", "basic: format");
	is_u64(img.entry, 0x100010, "basic: entry from e_entry");
	is_u64(img.start, 1 * MIB, "basic: start");
	is_u64(img.end, 1 * MIB + 0x3000, "basic: end covers bss");
	is_u64(img.setup_header_len, 0, "basic: no setup header");
	is_u64(img.cmdline_max, BOOT_CMDLINE_MAX, "basic: cmdline_max");
	ok(img.initrd_addr_max >= 1 * MIB + 0x3000 &&
	   img.initrd_addr_max < GUEST_MMIO_GAP_START,
	   "basic: initrd_addr_max %#llx below the MMIO gap",
	   (unsigned long long)img.initrd_addr_max);
	check_loaded(0, "basic");
	ok(untouched(0, 1 * MIB), "basic: nothing written below the segment");
	ok(untouched(1 * MIB + 0x3000, GUEST_SIZE),
	   "basic: nothing written above the segment");
}

static void test_pvh(void)
{
	static const uint8_t gnu_desc[16] = { 1, 2, 3, 4 };
	uint8_t notes[128];
	size_t nlen = 0;
	struct boot_image img;
	size_t len;

	nlen += put_note(notes + nlen, "GNU", 4, NT_GNU_BUILD_ID, gnu_desc,
			 sizeof(gnu_desc));
	nlen += put_note(notes + nlen, "Xen", 4, 6, "linux", 6);
	nlen += pvh_note(notes + nlen, 0x200040, 4);
	{
		const struct seg segs[] = {
			{ PT_LOAD, 2 * MIB, 0x800, 0x800, NULL },
			{ PT_NOTE, 0, nlen, nlen, notes },
			{ PT_LOAD, 1 * MIB, 0x234, 0x1000, NULL },
		};

		len = build_elf(0x100000, segs, 3);
	}
	if (!load_ok(len, &img, "PVH"))
		return;
	is_int(img.protocol, BOOT_PROTO_PVH, "PVH: PVH protocol");
	is_str(img.format, "ELF with PVH note", "PVH: format");
	is_u64(img.entry, 0x200040, "PVH: entry from the note, not e_entry");
	is_u64(img.start, 1 * MIB, "PVH: start is the lowest segment");
	is_u64(img.end, 2 * MIB + 0x800, "PVH: end is the highest segment end");
	check_loaded(0, "PVH");
	check_loaded(2, "PVH");
	ok(untouched(1 * MIB + 0x1000, 2 * MIB),
	   "PVH: nothing written between the segments");
	ok(untouched(0, 1 * MIB) && untouched(2 * MIB + 0x800, GUEST_SIZE),
	   "PVH: nothing written outside the segments (the note is not loaded)");

	nlen = pvh_note(notes, 0xffffffff00100004ull, 8);
	{
		const struct seg segs[] = {
			{ PT_NOTE, 0, nlen, nlen, notes },
			{ PT_LOAD, 1 * MIB, 0x100, 0x100, NULL },
		};

		len = build_elf(0x100000, segs, 2);
	}
	if (!load_ok(len, &img, "PVH 8-byte note"))
		return;
	is_int(img.protocol, BOOT_PROTO_PVH, "PVH 8-byte note: PVH protocol");
	is_u64(img.entry, 0x100004, "PVH 8-byte note: entry is the low 32 bits");

	nlen = put_note(notes, "Xen", 4, 6, "linux", 6);
	nlen += put_note(notes + nlen, "Xe", 3, XEN_PHYS32_ENTRY, "\0\0\x10\0", 4);
	{
		const struct seg segs[] = {
			{ PT_LOAD, 1 * MIB, 0x100, 0x100, NULL },
			{ PT_NOTE, 0, nlen, nlen, notes },
		};

		len = build_elf(0x100080, segs, 2);
	}
	if (!load_ok(len, &img, "other notes only"))
		return;
	is_int(img.protocol, BOOT_PROTO_LINUX64,
	       "other notes only: 64-bit protocol");
	is_u64(img.entry, 0x100080, "other notes only: entry from e_entry");
}

static void test_empty_load(void)
{
	const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0, NULL },
		{ PT_LOAD, 1 * MIB, 0x400, 0x400, NULL },
		{ PT_LOAD, 1 * GIB, 0, 0, NULL },
		{ PT_LOAD, 1 * MIB + 0x200, 0, 0, NULL },
	};
	size_t len = build_elf(0x100000, segs, 4);
	struct boot_image img;

	if (!load_ok(len, &img, "empty PT_LOADs skipped"))
		return;
	is_u64(img.start, 1 * MIB, "empty PT_LOADs: start ignores them");
	is_u64(img.end, 1 * MIB + 0x400, "empty PT_LOADs: end ignores them");
	check_loaded(1, "empty PT_LOADs");
	ok(untouched(0, 1 * MIB) && untouched(1 * MIB + 0x400, GUEST_SIZE),
	   "empty PT_LOADs: nothing written for them");
}

static void test_edges(void)
{
	const struct seg top[] = {
		{ PT_LOAD, GUEST_SIZE - 0x2000, 0x1000, 0x2000, NULL },
	};
	const struct seg adjacent[] = {
		{ PT_LOAD, 1 * MIB + 0x1000, 0x1000, 0x1000, NULL },
		{ PT_LOAD, 1 * MIB, 0x1000, 0x1000, NULL },
	};
	struct boot_image img;
	size_t len;

	len = build_elf(GUEST_SIZE - 0x1001, top, 1);
	if (!load_ok(len, &img, "segment ending at the top of RAM"))
		return;
	is_u64(img.end, GUEST_SIZE, "top of RAM: end");
	is_u64(img.entry, GUEST_SIZE - 0x1001,
	       "top of RAM: entry on the last file byte");
	check_loaded(0, "top of RAM");

	len = build_elf(0x100000, adjacent, 2);
	if (!load_ok(len, &img, "adjacent segments"))
		return;
	check_loaded(0, "adjacent");
	check_loaded(1, "adjacent");
}

static void test_load_kernel(void)
{
	const struct seg segs[] = {
		{ PT_LOAD, 4 * MIB, 0x200, 0x200, NULL },
	};
	size_t len = build_elf(4 * MIB + 0x20, segs, 1);
	struct boot_image img;
	struct err e = { 0 };

	mem_fill();
	memset(&img, 0x5c, sizeof(img));
	if (!is_int(boot_load_kernel(&mem, image, len, &img, &e), 0,
		    "boot_load_kernel takes an ELF file")) {
		diag("message: %s", e.msg);
		return;
	}
	is_str(img.format, "ELF", "boot_load_kernel: format");
	is_u64(img.entry, 4 * MIB + 0x20, "boot_load_kernel: entry");
	is_u64(img.start, 4 * MIB, "boot_load_kernel: start");
	check_loaded(0, "boot_load_kernel");
}

/* --- Hostile headers --------------------------------------------------- */

static size_t build_one(void)
{
	const struct seg segs[] = {
		{ PT_LOAD, 1 * MIB, 0x100, 0x200, NULL },
	};

	return build_elf(0x100000, segs, 1);
}

static void test_bad_headers(void)
{
	size_t len;

	build_one();
	reject(40, "truncated", "file shorter than the ELF header");
	reject(3, "not an ELF", "file shorter than the magic");
	reject(0, "not an ELF", "empty file");

	build_one();
	SET_EH(e_phnum, 2);
	reject(PH_OFF(1) + 20, "program headers", "truncated program headers");
	SET_EH(e_phnum, 1);
	reject(PH_OFF(1) - 1, "program headers", "one byte of program header missing");

	len = build_one();
	SET_EH(e_phoff, UINT64_MAX - 8);
	reject(len, "program headers", "e_phoff near 2^64");

	len = build_one();
	SET_EH(e_phnum, 0);
	reject(len, "program headers", "e_phnum 0");
	SET_EH(e_phnum, 0xffff);
	reject(len, "program headers", "e_phnum 0xffff");
	SET_EH(e_phnum, 1000);
	reject(len, "program headers", "e_phnum 1000");

	len = build_one();
	SET_EH(e_phentsize, 32);
	reject(len, "program header size", "e_phentsize 32");
	SET_EH(e_phentsize, 0);
	reject(len, "program header size", "e_phentsize 0");

	len = build_one();
	image[EI_CLASS] = ELFCLASS32;
	reject(len, "64-bit", "32-bit class");

	len = build_one();
	image[EI_DATA] = ELFDATA2MSB;
	reject(len, "little-endian", "big endian");

	len = build_one();
	SET_EH(e_machine, EM_386);
	reject(len, "x86-64", "machine i386");
	SET_EH(e_machine, EM_AARCH64);
	reject(len, "x86-64", "machine aarch64");

	len = build_one();
	SET_EH(e_type, ET_DYN);
	reject(len, "executable", "ET_DYN");
	SET_EH(e_type, ET_REL);
	reject(len, "executable", "ET_REL");
}

/* --- Hostile segments -------------------------------------------------- */

static void test_bad_file_ranges(void)
{
	size_t len;

	len = build_one();
	SET_PH(0, p_filesz, 0x201);
	reject(len, "file size", "p_filesz > p_memsz");

	len = build_one();
	reject(len - 0x1, "end of the file", "segment bytes past the end of the file");
	reject(PH_OFF(1) + 0x10, "end of the file", "file cut inside the segment");

	len = build_one();
	SET_PH(0, p_offset, UINT64_MAX);
	reject(len, "end of the file", "p_offset UINT64_MAX");
	SET_PH(0, p_offset, UINT64_MAX - 0x7f);
	reject(len, "end of the file", "p_offset + p_filesz wraps");
	SET_PH(0, p_offset, 0x10);
	SET_PH(0, p_filesz, UINT64_MAX - 8);
	SET_PH(0, p_memsz, UINT64_MAX);
	reject(len, "end of the file", "p_filesz near 2^64");
}

static void test_bad_placement(void)
{
	static const struct { uint64_t paddr, memsz; const char *part, *what; }
	cases[] = {
		{ 0x7000, 0x200, "boot structures", "segment at the zero page" },
		{ 0, 0x200, "boot structures", "segment at 0" },
		{ 1 * MIB - 0x100, 0x200, "boot structures",
		  "segment straddling 1 MiB" },
		{ 128 * MIB, 0x200, "outside guest RAM", "segment above RAM" },
		{ 4 * GIB, 0x200, "outside guest RAM", "segment at 4 GiB" },
		{ GUEST_SIZE - 0x100, 0x200, "outside guest RAM",
		  "segment straddling the end of RAM" },
		{ UINT64_MAX - 0xfff, 0x2000, "outside guest RAM",
		  "p_paddr + p_memsz wraps" },
		{ 1 * MIB, UINT64_MAX, "outside guest RAM",
		  "p_memsz UINT64_MAX" },
		{ 1 * MIB, UINT64_MAX - 1 * MIB + 1, "outside guest RAM",
		  "segment ending at 2^64" },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = build_one();

		SET_PH(0, p_paddr, cases[i].paddr);
		SET_PH(0, p_memsz, cases[i].memsz);
		SET_EH(e_entry, cases[i].paddr);
		reject(len, cases[i].part, cases[i].what);
	}
}

static void test_overlap(void)
{
	const struct seg tail[] = {
		{ PT_LOAD, 1 * MIB, 0x100, 0x2000, NULL },
		{ PT_LOAD, 1 * MIB + 0x1000, 0x100, 0x1000, NULL },
	};
	const struct seg cover[] = {
		{ PT_LOAD, 1 * MIB + 0x1000, 0x100, 0x100, NULL },
		{ PT_LOAD, 1 * MIB, 0x100, 0x2000, NULL },
	};
	const struct seg same[] = {
		{ PT_LOAD, 2 * MIB, 0x100, 0x100, NULL },
		{ PT_LOAD, 1 * MIB, 0x100, 0x100, NULL },
		{ PT_LOAD, 2 * MIB, 0x100, 0x100, NULL },
	};
	const struct seg bss[] = {
		{ PT_LOAD, 1 * MIB, 0x10, 0x1001, NULL },
		{ PT_LOAD, 1 * MIB + 0x1000, 0x100, 0x100, NULL },
	};

	reject(build_elf(0x100000, tail, 2), "overlap",
	       "second segment inside the first");
	reject(build_elf(0x100000, cover, 2), "overlap",
	       "second segment around the first");
	reject(build_elf(0x100000, same, 3), "overlap",
	       "first and third segments identical");
	reject(build_elf(0x100000, bss, 2), "overlap",
	       "bss of one segment overlapping the next by a byte");
}

static void test_bad_entry(void)
{
	const struct seg segs[] = {
		{ PT_LOAD, 1 * MIB, 0x100, 0x200, NULL },
		{ PT_LOAD, 2 * MIB, 0x100, 0x100, NULL },
	};
	const struct seg notes_only[] = {
		{ PT_NOTE, 1 * MIB, 0x10, 0x10, NULL },
	};
	const struct seg empty_only[] = {
		{ PT_LOAD, 1 * MIB, 0, 0, NULL },
	};
	uint8_t note[32];
	size_t nlen = pvh_note(note, 0x90000, 4);

	reject(build_elf(0x50000, segs, 2), "entry point",
	       "entry below every segment");
	reject(build_elf(0x180000, segs, 2), "entry point",
	       "entry between the segments");
	reject(build_elf(2 * MIB + 0x100, segs, 2), "entry point",
	       "entry one past the last segment");
	reject(build_elf(0, segs, 2), "entry point", "entry 0");
	reject(build_elf(UINT64_MAX, segs, 2), "entry point", "entry 2^64 - 1");
	{
		const struct seg pvh[] = {
			{ PT_LOAD, 1 * MIB, 0x100, 0x200, NULL },
			{ PT_NOTE, 0, nlen, nlen, note },
		};

		reject(build_elf(0x100000, pvh, 2), "entry point",
		       "PVH entry outside every segment");
	}
	reject(build_elf(0x100000, notes_only, 1), "no loadable",
	       "no PT_LOAD at all");
	reject(build_elf(0x100000, empty_only, 1), "no loadable",
	       "only an empty PT_LOAD");
}

/*
 * A PT_LOAD with p_memsz 0 places nothing, so it cannot hold the entry
 * point, even when it claims file bytes (which is malformed anyway).
 */
static void test_entry_in_empty_load(void)
{
	const struct seg segs[] = {
		{ PT_LOAD, 1 * MIB, 0x100, 0x100, NULL },
		{ PT_LOAD, 0x7000, 0x100, 0x100, NULL },
	};
	size_t len = build_elf(0x7000, segs, 2);

	SET_PH(1, p_memsz, 0);
	reject(len, "segment", "entry in a PT_LOAD with p_memsz 0, p_filesz 0x100");
}

static void test_bad_notes(void)
{
	uint8_t note[64];
	size_t nlen;
	size_t len;

	/* A note whose name runs past the 20-byte segment. */
	nlen = put_note(note, "Xen", 4, XEN_PHYS32_ENTRY, "\0\0\x10\0", 4);
	{
		const struct seg segs[] = {
			{ PT_LOAD, 1 * MIB, 0x100, 0x100, NULL },
			{ PT_NOTE, 0, nlen, nlen, note },
		};

		len = build_elf(0x100000, segs, 2);
		memcpy(image + get_ph(1).p_offset, &(uint32_t){ 100 }, 4);
		reject(len, "note", "note namesz past its segment");
		memcpy(image + get_ph(1).p_offset, &(uint32_t){ 4 }, 4);
		memcpy(image + get_ph(1).p_offset + 4, &(uint32_t){ 64 }, 4);
		reject(len, "note", "note descsz past its segment");
		memcpy(image + get_ph(1).p_offset + 4, &(uint32_t){ UINT32_MAX }, 4);
		reject(len, "note", "note descsz 2^32 - 1");
		memcpy(image + get_ph(1).p_offset + 4, &(uint32_t){ 4 }, 4);
		SET_PH(1, p_filesz, nlen - 1);
		reject(len, "note", "note segment one byte short of its desc");
		SET_PH(1, p_filesz, 0x1000);
		reject(len, "note", "note segment past the end of the file");
		SET_PH(1, p_filesz, nlen);
		SET_PH(1, p_offset, UINT64_MAX - 4);
		reject(len, "note", "note segment p_offset near 2^64");
	}

	nlen = pvh_note(note, 0x100000, 3);
	{
		const struct seg segs[] = {
			{ PT_LOAD, 1 * MIB, 0x100, 0x100, NULL },
			{ PT_NOTE, 0, nlen, nlen, note },
		};

		reject(build_elf(0x100000, segs, 2), "4 or 8",
		       "PVH note with a 3-byte desc");
	}
}

static void test_not_a_kernel(void)
{
	static const uint8_t garbage[4096] = { 'M', 'Z', 0x90, 0 };
	struct boot_image img;
	struct err e = { 0 };

	mem_fill();
	ok(boot_load_kernel(&mem, garbage, sizeof(garbage), &img, &e) < 0,
	   "boot_load_kernel refuses garbage");
	like(e.msg, "not a kernel", "garbage: message says not a kernel");
	e = (struct err){ 0 };
	ok(boot_load_kernel(&mem, garbage, 2, &img, &e) < 0,
	   "boot_load_kernel refuses 2 bytes");
	like(e.msg, "not a kernel", "2 bytes: message says not a kernel");
	e = (struct err){ 0 };
	ok(boot_load_kernel(&mem, (const uint8_t *)"\x7f" "ELF", 4, &img, &e) < 0,
	   "boot_load_kernel refuses a bare ELF magic");
	like(e.msg, "ELF", "bare ELF magic: message about the ELF file");
	ok(untouched(0, GUEST_SIZE), "not a kernel: guest memory untouched");
}

int main(void)
{
	if (guest_mem_layout(&mem, GUEST_SIZE))
		return 99;
	mem.base = malloc(GUEST_SIZE);
	if (!mem.base)
		return 99;

	test_basic();
	test_pvh();
	test_empty_load();
	test_edges();
	test_load_kernel();
	test_bad_headers();
	test_bad_file_ranges();
	test_bad_placement();
	test_overlap();
	test_bad_entry();
	test_entry_in_empty_load();
	test_bad_notes();
	test_not_a_kernel();

	free(mem.base);
	return done_testing();
}
