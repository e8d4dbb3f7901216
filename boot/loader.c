// SPDX-License-Identifier: MIT
/* Kernel and initrd files: opening, recognising and placing them. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"

int boot_map_file(const char *path, const uint8_t **buf, size_t *len,
		  struct err *e)
{
	struct stat st;
	void *p;
	int fd;

	/* A link is the user's own choice here: followed. */
	fd = open_regular(path, false, &st);
	if (fd < 0)
		return err_set(e, -fd, "%s", open_regular_error(fd, &st));
	if (st.st_size == 0) {
		close(fd);
		return err_set(e, ENOEXEC, "is empty");
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return err_set(e, errno, "cannot map: %s", strerror(errno));
	*buf = p;
	*len = st.st_size;
	return 0;
}

void boot_unmap_file(const uint8_t *buf, size_t len)
{
	if (buf)
		munmap((void *)buf, len);
}

int boot_parse_kernel(const struct guest_mem *mem, const uint8_t *buf,
		      size_t len, struct boot_image *img, struct err *e)
{
	memset(img, 0, sizeof(*img));
	if (len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG))
		return elf_parse(mem, buf, len, img, e);
	if (bzimage_detect(buf, len))
		return bzimage_parse(mem, buf, len, img, e);
	return err_set(e, ENOEXEC, "not a kernel: neither an ELF file nor a bzImage");
}

void boot_copy_segments(struct guest_mem *mem, const struct boot_image *img)
{
	for (unsigned int i = 0; i < img->nr_seg; i++) {
		const struct boot_segment *s = &img->seg[i];
		uint8_t *dst = guest_mem_ptr(mem, s->gpa, s->memsz);

		memcpy(dst, s->src, s->filesz);
		/* Fresh RAM is zero already; writing zeros only costs RSS. */
		if (!mem->fresh)
			memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
}

int boot_load_kernel(struct guest_mem *mem, const uint8_t *buf, size_t len,
		     struct boot_image *img, struct err *e)
{
	int ret = boot_parse_kernel(mem, buf, len, img, e);

	if (!ret)
		boot_copy_segments(mem, img);
	return ret;
}

int boot_place_initrd(const struct guest_mem *mem,
		      const struct boot_image *img, size_t len, uint64_t *addr,
		      struct err *e)
{
	uint64_t top = MIN(guest_mem_low_size(mem), img->initrd_addr_max + 1);

	if (!len)
		return err_set(e, EINVAL, "initrd is empty");
	if (len > top || ALIGN_DOWN(top - len, PAGE_SIZE) < ALIGN_UP(img->end, PAGE_SIZE))
		return err_set(e, EFBIG, "initrd of %zu bytes does not fit in guest RAM between the kernel (ends at %#llx) and %#llx",
			       len, (unsigned long long)img->end,
			       (unsigned long long)top);
	*addr = ALIGN_DOWN(top - len, PAGE_SIZE);
	return 0;
}

int boot_load_initrd(struct guest_mem *mem, const struct boot_image *img,
		     const uint8_t *buf, size_t len, uint64_t *addr,
		     struct err *e)
{
	int ret = boot_place_initrd(mem, img, len, addr, e);

	if (!ret)
		memcpy(guest_mem_ptr(mem, *addr, len), buf, len);
	return ret;
}
