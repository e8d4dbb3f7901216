// SPDX-License-Identifier: MIT
/*
 * mkbzimage ELF OUT: wrap the test guest (built without a PVH note, loaded at
 * 1 MiB, 64-bit entry at +0x200) in a bzImage header, so that the bzImage
 * loader is tested end to end. There is no real-mode setup code: only
 * loaders using the 64-bit boot protocol can start the result.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define LOAD_ADDR 0x100000u

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		return NULL;
	buf = malloc(n);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		return NULL;
	fclose(f);
	*len = n;
	return buf;
}

/* The one PT_LOAD of the guest, which must start at LOAD_ADDR. */
static const Elf64_Phdr *find_load(const uint8_t *elf, size_t len)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_phoff + eh->e_phnum * sizeof(Elf64_Phdr) > len)
		return NULL;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(elf + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD && ph->p_paddr == LOAD_ADDR &&
		    ph->p_offset + ph->p_filesz <= len)
			return ph;
	}
	return NULL;
}

static void fill_header(uint8_t *h, const Elf64_Phdr *ph)
{
	h[0x1f1] = SETUP_SECTS;
	put32(h + 0x1f4, (ph->p_filesz + 15) / 16);	/* syssize */
	put16(h + 0x1fe, 0xaa55);
	h[0x200] = 0xeb;				/* jmp over the header */
	h[0x201] = 0x264 - 0x202;
	memcpy(h + 0x202, "HdrS", 4);
	put16(h + 0x206, 0x020f);			/* protocol 2.15 */
	h[0x211] = 0x01;				/* LOADED_HIGH */
	put32(h + 0x214, LOAD_ADDR);			/* code32_start */
	put32(h + 0x22c, 0x7fffffff);			/* initrd_addr_max */
	put32(h + 0x230, 0x200000);			/* kernel_alignment */
	put16(h + 0x236, 0x0001);			/* XLF_KERNEL_64 */
	put32(h + 0x238, 4095);				/* cmdline_size */
	put32(h + 0x260, ph->p_memsz);			/* init_size */
}

int main(int argc, char **argv)
{
	uint8_t header[SETUP_SIZE] = { 0 };
	const Elf64_Phdr *ph;
	uint8_t *elf;
	size_t len;
	FILE *out;

	if (argc != 3) {
		fprintf(stderr, "usage: mkbzimage GUEST.elf OUT.bzImage\n");
		return 2;
	}
	elf = read_file(argv[1], &len);
	ph = elf ? find_load(elf, len) : NULL;
	if (!ph) {
		fprintf(stderr, "mkbzimage: %s: no loadable segment at %#x\n",
			argv[1], LOAD_ADDR);
		return 1;
	}
	fill_header(header, ph);
	out = fopen(argv[2], "wb");
	if (!out || fwrite(header, 1, sizeof(header), out) != sizeof(header) ||
	    fwrite(elf + ph->p_offset, 1, ph->p_filesz, out) != ph->p_filesz ||
	    fclose(out)) {
		fprintf(stderr, "mkbzimage: cannot write %s\n", argv[2]);
		remove(argv[2]);
		return 1;
	}
	free(elf);
	return 0;
}
