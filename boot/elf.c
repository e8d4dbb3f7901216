// SPDX-License-Identifier: MIT
/*
 * ELF64 kernels: vmlinux and anything linked like it (the test guest). The
 * program headers say where each segment goes in guest physical memory
 * (p_paddr). A Xen PHYS32_ENTRY note selects the PVH boot protocol; without
 * one, e_entry is a 64-bit entry point and the kernel gets a zero page.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot.h"

#define ELF_MAX_PHDRS BOOT_MAX_SEGMENTS
#define XEN_ELFNOTE_PHYS32_ENTRY 18

static int elf_check_header(const Elf64_Ehdr *eh, size_t len, struct err *e)
{
	if (len < EI_NIDENT || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return err_set(e, ENOEXEC, "not an ELF file");
	if (len < sizeof(*eh))
		return err_set(e, ENOEXEC, "truncated ELF header (%zu bytes)", len);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return err_set(e, ENOEXEC, "not a 64-bit ELF file (class %u)",
			       eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set(e, ENOEXEC, "not a little-endian ELF file");
	if (eh->e_machine != EM_X86_64)
		return err_set(e, ENOEXEC, "ELF machine %u is not x86-64",
			       eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return err_set(e, ENOEXEC, "ELF type %u is not an executable",
			       eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return err_set(e, ENOEXEC, "ELF program header size %u, expected %zu",
			       eh->e_phentsize, sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS)
		return err_set(e, ENOEXEC, "ELF has %u program headers (1 to %d allowed)",
			       eh->e_phnum, ELF_MAX_PHDRS);
	if (!range_within(eh->e_phoff,
			  (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
		return err_set(e, ENOEXEC, "ELF program headers at %#llx run past the end of the file (%zu bytes)",
			       (unsigned long long)eh->e_phoff, len);
	return 0;
}

static int elf_check_segment(const struct guest_mem *mem, const Elf64_Phdr *ph,
			     unsigned int i, size_t len, struct err *e)
{
	if (!range_within(ph->p_offset, ph->p_filesz, len))
		return err_set(e, ENOEXEC, "segment %u: bytes [%#llx, +%#llx) run past the end of the file (%zu bytes): truncated?",
			       i, (unsigned long long)ph->p_offset,
			       (unsigned long long)ph->p_filesz, len);
	if (ph->p_paddr < BOOT_HIGH_START)
		return err_set(e, ENOEXEC, "segment %u at %#llx overlaps the boot structures below %#llx",
			       i, (unsigned long long)ph->p_paddr, BOOT_HIGH_START);
	if (!guest_mem_ptr(mem, ph->p_paddr, ph->p_memsz))
		return err_set(e, ENOEXEC, "segment %u [%#llx, +%#llx) is outside guest RAM (%llu MiB)",
			       i, (unsigned long long)ph->p_paddr,
			       (unsigned long long)ph->p_memsz,
			       (unsigned long long)(mem->size / MIB));
	return 0;
}

/* Find the PVH entry in one PT_NOTE segment; 0 when there is none. */
static int elf_find_pvh_note(const uint8_t *notes, uint64_t size,
			     uint64_t *entry, struct err *e)
{
	uint64_t off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;

		memcpy(&nh, notes + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + ALIGN_UP((uint64_t)nh.n_namesz, 4);
		next = desc_off + ALIGN_UP((uint64_t)nh.n_descsz, 4);
		if (desc_off > size || next > size)
			return err_set(e, ENOEXEC, "ELF note at offset %#llx runs past its segment",
				       (unsigned long long)off);
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(notes + name_off, "Xen", 4)) {
			uint32_t v32;

			if (nh.n_descsz != 4 && nh.n_descsz != 8)
				return err_set(e, ENOEXEC, "PVH entry note has %u bytes, expected 4 or 8",
					       nh.n_descsz);
			memcpy(&v32, notes + desc_off, 4);
			*entry = v32;
			return 1;
		}
		off = next;
	}
	return 0;
}

static int elf_pvh_entry(const Elf64_Phdr *ph, unsigned int n,
			 const uint8_t *buf, size_t len, uint64_t *entry,
			 struct err *e)
{
	for (unsigned int i = 0; i < n; i++) {
		int ret;

		if (ph[i].p_type != PT_NOTE)
			continue;
		if (!range_within(ph[i].p_offset, ph[i].p_filesz, len))
			return err_set(e, ENOEXEC, "note segment %u runs past the end of the file",
				       i);
		ret = elf_find_pvh_note(buf + ph[i].p_offset, ph[i].p_filesz,
					entry, e);
		if (ret)
			return ret;
	}
	return 0;
}

/* Check every PT_LOAD and find the span they cover. */
static int elf_check_segments(const struct guest_mem *mem,
			      const Elf64_Phdr *ph, unsigned int n, size_t len,
			      struct boot_image *img, struct err *e)
{
	unsigned int loads = 0;

	img->start = UINT64_MAX;
	img->end = 0;
	for (unsigned int i = 0; i < n; i++) {
		int ret;

		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_filesz > ph[i].p_memsz)
			return err_set(e, ENOEXEC, "segment %u: file size %#llx exceeds memory size %#llx",
				       i, (unsigned long long)ph[i].p_filesz,
				       (unsigned long long)ph[i].p_memsz);
		/* An empty PT_LOAD places nothing. */
		if (!ph[i].p_memsz)
			continue;
		ret = elf_check_segment(mem, &ph[i], i, len, e);
		if (ret)
			return ret;
		for (unsigned int j = 0; j < i; j++)
			if (ph[j].p_type == PT_LOAD &&
			    ranges_overlap(ph[i].p_paddr, ph[i].p_memsz,
					   ph[j].p_paddr, ph[j].p_memsz))
				return err_set(e, ENOEXEC, "segments %u and %u overlap in memory",
					       j, i);
		img->start = MIN(img->start, ph[i].p_paddr);
		img->end = MAX(img->end, ph[i].p_paddr + ph[i].p_memsz);
		loads++;
	}
	if (!loads)
		return err_set(e, ENOEXEC, "ELF file has no loadable segment");
	return 0;
}

static bool elf_entry_loaded(const Elf64_Phdr *ph, unsigned int n,
			     uint64_t entry)
{
	for (unsigned int i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_memsz &&
		    entry >= ph[i].p_paddr &&
		    entry - ph[i].p_paddr < ph[i].p_filesz)
			return true;
	return false;
}

int elf_parse(const struct guest_mem *mem, const uint8_t *buf, size_t len,
	      struct boot_image *img, struct err *e)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[ELF_MAX_PHDRS];
	uint64_t pvh_entry = 0;
	int ret;

	memcpy(&eh, buf, MIN(len, sizeof(eh)));
	ret = elf_check_header(&eh, len, e);
	if (ret)
		return ret;
	memcpy(ph, buf + eh.e_phoff, eh.e_phnum * sizeof(ph[0]));
	ret = elf_check_segments(mem, ph, eh.e_phnum, len, img, e);
	if (ret)
		return ret;
	ret = elf_pvh_entry(ph, eh.e_phnum, buf, len, &pvh_entry, e);
	if (ret < 0)
		return ret;
	img->protocol = ret ? BOOT_PROTO_PVH : BOOT_PROTO_LINUX64;
	img->format = ret ? "ELF with PVH note" : "ELF";
	img->entry = ret ? pvh_entry : eh.e_entry;
	if (!elf_entry_loaded(ph, eh.e_phnum, img->entry))
		return err_set(e, ENOEXEC, "entry point %#llx is not inside a loaded segment",
			       (unsigned long long)img->entry);
	img->setup_header_len = 0;
	img->cmdline_max = BOOT_CMDLINE_MAX;
	img->initrd_addr_max = GUEST_MMIO_GAP_START - 1;
	img->nr_seg = 0;
	for (unsigned int i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_memsz)
			img->seg[img->nr_seg++] = (struct boot_segment){
				ph[i].p_paddr, buf + ph[i].p_offset,
				ph[i].p_filesz, ph[i].p_memsz };
	return 0;
}

int elf_load(struct guest_mem *mem, const uint8_t *buf, size_t len,
	     struct boot_image *img, struct err *e)
{
	int ret = elf_parse(mem, buf, len, img, e);

	if (!ret)
		boot_copy_segments(mem, img);
	return ret;
}
