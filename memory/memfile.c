// SPDX-License-Identifier: MIT
/*
 * The snapshot memory file: guest RAM at its backing offsets. Only pages that
 * are resident (mincore) and not all zero are written, so a guest that
 * touched 256 MiB of 4 GiB leaves a file with 256 MiB of data and holes.
 * Pages are read through the monitor's mapping, which never faults in what
 * the guest did not touch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"
#include "snapshot.h"

#define MEMFILE_CHUNK (64 * MIB)	/* mincore window */

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/* Write the non-zero resident pages of [p, p + len) at file offset off. */
static long long memfile_write_chunk(int fd, const uint8_t *p, uint64_t len,
				     uint64_t off, unsigned char *vec)
{
	uint64_t pages = len / PAGE_SIZE, run = 0;
	long long written = 0;

	if (mincore((void *)p, len, vec) < 0)
		return -errno;
	for (uint64_t i = 0; i <= pages; i++) {
		bool data = i < pages && (vec[i] & 1) &&
			    !page_is_zero(p + i * PAGE_SIZE);
		uint64_t start;
		int ret;

		if (data) {
			run++;
			continue;
		}
		if (!run)
			continue;
		start = (i - run) * PAGE_SIZE;
		ret = pwrite_full(fd, p + start, run * PAGE_SIZE, off + start);
		if (ret)
			return ret;
		written += run * PAGE_SIZE;
		run = 0;
	}
	return written;
}

static long long memfile_write_fd(const struct guest_mem *mem, int fd,
				  unsigned char *vec)
{
	long long total = 0;

	if (ftruncate(fd, mem->size) < 0)
		return -errno;
	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		const struct guest_mem_region *reg = &mem->regions[r];

		for (uint64_t done = 0; done < reg->size; done += MEMFILE_CHUNK) {
			uint64_t len = MIN(MEMFILE_CHUNK, reg->size - done);
			long long n = memfile_write_chunk(fd,
				mem->base + reg->offset + done, len,
				reg->offset + done, vec);

			if (n < 0)
				return n;
			total += n;
		}
	}
	return fsync(fd) < 0 ? -errno : total;
}

long long memfile_write(const struct guest_mem *mem, const char *path,
			struct err *e)
{
	unsigned char *vec = malloc(MEMFILE_CHUNK / PAGE_SIZE);
	long long ret;
	int fd;

	if (!vec)
		return err_set(e, ENOMEM, "out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(vec);
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	}
	ret = memfile_write_fd(mem, fd, vec);
	close(fd);
	free(vec);
	if (ret < 0)
		return err_set(e, -ret, "%s: %s", path, strerror(-ret));
	return ret;
}
