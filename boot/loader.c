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

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		int ret = err_set(e, errno, "%s", strerror(errno));

		close(fd);
		return ret;
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, S_ISDIR(st.st_mode) ? EISDIR : EINVAL,
			       S_ISDIR(st.st_mode) ? "is a directory" :
			       "is not a regular file");
	}
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

int boot_load_kernel(struct guest_mem *mem, const uint8_t *buf, size_t len,
		     struct boot_image *img, struct err *e)
{
	memset(img, 0, sizeof(*img));
	if (len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG))
		return elf_load(mem, buf, len, img, e);
	if (bzimage_detect(buf, len))
		return bzimage_load(mem, buf, len, img, e);
	return err_set(e, ENOEXEC, "not a kernel: neither an ELF file nor a bzImage");
}

int boot_load_initrd(struct guest_mem *mem, const struct boot_image *img,
		     const uint8_t *buf, size_t len, uint64_t *addr,
		     struct err *e)
{
	uint64_t top = MIN(guest_mem_low_size(mem), img->initrd_addr_max + 1);
	uint64_t at;

	if (!len)
		return err_set(e, EINVAL, "initrd is empty");
	if (len > top || ALIGN_DOWN(top - len, PAGE_SIZE) < ALIGN_UP(img->end, PAGE_SIZE))
		return err_set(e, EFBIG, "initrd of %zu bytes does not fit in guest RAM between the kernel (ends at %#llx) and %#llx",
			       len, (unsigned long long)img->end,
			       (unsigned long long)top);
	at = ALIGN_DOWN(top - len, PAGE_SIZE);
	memcpy(guest_mem_ptr(mem, at, len), buf, len);
	*addr = at;
	return 0;
}
