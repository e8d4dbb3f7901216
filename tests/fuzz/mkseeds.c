// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpora of the fuzz targets: for each, a few inputs in
 * its format (see each fuzz_*.c) that reach its parser's main paths -- a
 * well-formed virtqueue chain, an indirect table, event idx at the index
 * wrap; block requests of every type; a driver bringing up each virtio
 * device; virtio-vsock connections either way and packets it refuses; a
 * UART and a keyboard controller probed as Linux probes them; a vmstate
 * written by the real writer from a fake VM's devices; a minimal ELF with
 * and without a PVH note, a minimal bzImage; option strings.
 *
 *   tests/fuzz/mkseeds DIR      (make fuzz-seeds: DIR is the source tree's
 *                                tests/fuzz/corpus)
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "mkseeds.h"

static const char *out_dir;

void save(const char *target, const char *name, struct buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b->d, 1, b->n, f) != b->n || fclose(f)) {
		perror(path);
		exit(1);
	}
	b->n = 0;
}

/* --- Legacy ports ------------------------------------------------------------ */

/* An access by fuzz_pio_op(): port index from base - 1, 1-byte. */
static void pio(struct buf *b, bool write, uint8_t port, uint8_t v)
{
	put8(b, write ? 0x80 : 0);
	put8(b, port + 1);
	put8(b, 0);
	put32(b, v);
}

static void seeds_ports(void)
{
	struct buf b = { 0 };
	static const uint8_t probe[][3] = {
		/* write?, register, value: Linux's 8250 probe and set-up */
		{ 1, 7, 0xa5 }, { 0, 7, 0 }, { 1, 1, 0 }, { 0, 1, 0 },
		{ 1, 3, 0x80 }, { 1, 0, 0x01 }, { 1, 1, 0x00 }, { 1, 3, 0x03 },
		{ 1, 2, 0xc7 }, { 0, 2, 0 }, { 1, 4, 0x1b }, { 1, 0, 'A' },
		{ 0, 5, 0 }, { 0, 0, 0 }, { 0, 6, 0 }, { 1, 4, 0x0b },
		{ 1, 1, 0x03 }, { 0, 2, 0 }, { 1, 0, 'B' }, { 0, 2, 0 },
	};
	static const uint8_t kbd[][3] = {
		/* write?, port offset (0 data, 4 command), value */
		{ 1, 4, 0xaa }, { 0, 4, 0 }, { 0, 0, 0 }, { 1, 4, 0x20 },
		{ 0, 0, 0 }, { 1, 4, 0x60 }, { 1, 0, 0x47 }, { 1, 4, 0xab },
		{ 0, 0, 0 }, { 1, 4, 0xd1 }, { 1, 0, 0x01 }, { 1, 4, 0xfe },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(probe); i++)
		pio(&b, probe[i][0], probe[i][1], probe[i][2]);
	put8(&b, 5);
	put8(&b, 4);
	put(&b, "hey\n", 4);
	for (int i = 0; i < 4; i++)
		pio(&b, false, 0, 0);
	put8(&b, 6);
	put8(&b, 7);
	save("serial", "linux-probe", &b);

	for (unsigned int i = 0; i < ARRAY_SIZE(kbd); i++) {
		pio(&b, kbd[i][0], kbd[i][1], kbd[i][2]);
		if (i == 6)
			put8(&b, 7);
	}
	save("i8042", "commands", &b);
	free(b.d);
}

/* --- Kernels ------------------------------------------------------------------ */

static void boot_header(struct buf *b, uint8_t flags, const char *cmdline,
			uint32_t initrd)
{
	put8(b, 0);		/* 2 MiB */
	put8(b, 1);		/* 2 vCPUs */
	put8(b, flags);
	put16(b, strlen(cmdline));
	put32(b, initrd);
	put(b, cmdline, strlen(cmdline));
}

/* A PT_LOAD of 64 bytes at 1 MiB and, with pvh, a PT_NOTE with the entry. */
static void elf_image(struct buf *b, bool pvh)
{
	struct {
		Elf64_Nhdr nh;
		char name[4];
		uint32_t entry;
	} note = { { 4, 4, 18 }, "Xen", 0x100010 };
	unsigned int phnum = pvh ? 2 : 1;
	uint64_t code = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = 0x100000, .e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = phnum,
	};
	Elf64_Phdr load = {
		.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = code,
		.p_vaddr = 0x100000, .p_paddr = 0x100000, .p_filesz = 64,
		.p_memsz = 0x2000, .p_align = 0x1000,
	};
	Elf64_Phdr notes = {
		.p_type = PT_NOTE, .p_offset = code + 64, .p_filesz = sizeof(note),
		.p_align = 4,
	};
	uint8_t text[64];

	memset(text, 0xf4, sizeof(text));	/* hlt */
	put(b, &eh, sizeof(eh));
	put(b, &load, sizeof(load));
	if (pvh)
		put(b, &notes, sizeof(notes));
	put(b, text, sizeof(text));
	if (pvh)
		put(b, &note, sizeof(note));
}

/* Setup (one sector plus the boot sector) and 512 bytes of payload. */
static void bzimage(struct buf *b)
{
	uint8_t img[1024 + 512] = { 0 };

	img[0x1f1] = 1;				/* setup_sects */
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	img[0x200] = 0xeb;			/* jmp: header ends at 0x268 */
	img[0x201] = 0x66;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;			/* protocol 2.15 */
	img[0x207] = 0x02;
	img[0x211] = 0x01;			/* LOADED_HIGH */
	memcpy(img + 0x22c, &(uint32_t){ 0x7fffffff }, 4);	/* initrd_addr_max */
	img[0x236] = 0x01;			/* XLF_KERNEL_64 */
	memcpy(img + 0x238, &(uint32_t){ 2047 }, 4);	/* cmdline_size */
	memcpy(img + 0x260, &(uint32_t){ 0x10000 }, 4);	/* init_size */
	memset(img + 1024, 0xf4, 512);
	put(b, img, sizeof(img));
}

static void seeds_kernels(void)
{
	struct buf b = { 0 };

	boot_header(&b, 0, "console=ttyS0", 0);
	elf_image(&b, true);
	save("elf", "pvh", &b);
	boot_header(&b, 0x3e, "console=hvc0 quiet", 4096);
	elf_image(&b, false);
	save("elf", "64bit-initrd-devices", &b);
	boot_header(&b, 0, "console=ttyS0", 0);
	bzimage(&b);
	save("bzimage", "minimal", &b);
	boot_header(&b, 0x1d, "console=ttyS0 earlyprintk", 8192);
	bzimage(&b);
	save("bzimage", "initrd-devices", &b);
	free(b.d);
}

/* --- Options -------------------------------------------------------------- */

static void parse_seed(const char *name, uint8_t which, uint32_t a,
		       uint32_t b32, const char *s, size_t len)
{
	struct buf b = { 0 };

	put8(&b, which);
	put32(&b, a);
	put32(&b, b32);
	put(&b, s, len);
	save("parse", name, &b);
	free(b.d);
}

static void seeds_parse(void)
{
	parse_seed("size", 0, 2, 0, "128MiB", 6);
	parse_seed("size-big", 0, 1, 0, "17592186044415", 14);
	parse_seed("uint", 1, 1, 64, "64", 2);
	parse_seed("disk", 2, 0, 0, "/srv/disk.img,ro", 16);
	parse_seed("net", 2, 1, 0, "tap=tap0,mac=52:54:00:12:34:56", 30);
	parse_seed("mac", 2, 2, 0, "52:54:00:ab:cd:ef", 17);
	parse_seed("chroot", 3, 0, 0, "/var/empty", 10);
	parse_seed("uid", 3, 1, 0, "65534", 5);
	parse_seed("escapes", 4, 1, 0, "a\001\001b\001x", 6);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) < 0 && errno != EEXIST) {
		perror(out_dir);
		return 1;
	}
	fuzz_init();
	seeds_virtqueue();
	seeds_virtio_blk();
	seeds_virtio_mmio();
	seeds_virtio_net();
	seeds_virtio_vsock();
	seeds_ports();
	seeds_vmstate();
	seeds_kernels();
	seeds_parse();
	return 0;
}
