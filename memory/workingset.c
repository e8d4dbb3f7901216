// SPDX-License-Identifier: MIT
/*
 * Working set files: the pages a recorded restore faulted on, in order.
 * Layout (little endian): the 8 bytes "GMVMWS01", the page size (u64, 4096),
 * the page count (u64), then one u64 page index per page. Read back as
 * untrusted input: sizes must agree and every index must be inside RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uffd.h"
#include "util.h"

#define WS_MAGIC "GMVMWS01"
#define WS_HEADER 24
#define WS_FILE "workingset"	/* SNAPSHOT_WORKINGSET */

int workingset_write(int dir_fd, const char *dir, const uint64_t *pages,
		     size_t n, struct err *e)
{
	uint8_t hdr[WS_HEADER];
	uint64_t page_size = PAGE_SIZE, count = n;
	char tmp[64];
	int fd, ret;

	memcpy(hdr, WS_MAGIC, 8);
	memcpy(hdr + 8, &page_size, 8);
	memcpy(hdr + 16, &count, 8);
	/* Under a temporary name, so that the file is whole or absent. */
	snprintf(tmp, sizeof(tmp), "%s.partial-%d", WS_FILE, (int)getpid());
	/*
	 * A name nobody may have put there first, not even as a link: one
	 * left over (or planted) is removed, never followed, and one put
	 * back in between makes the open fail.
	 */
	unlinkat(dir_fd, tmp, 0);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, errno, "%s/%s: %s", dir, tmp, strerror(errno));
	ret = write_full(fd, hdr, sizeof(hdr));
	if (!ret)
		ret = write_full(fd, pages, n * sizeof(*pages));
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret && renameat(dir_fd, tmp, dir_fd, WS_FILE) < 0)
		ret = -errno;
	if (ret) {
		unlinkat(dir_fd, tmp, 0);
		return err_set(e, -ret, "%s/%s: %s", dir, WS_FILE, strerror(-ret));
	}
	return 0;
}

static int workingset_check(const uint8_t *buf, size_t len, uint64_t nr_pages,
			    uint64_t *count, struct err *e)
{
	uint64_t page_size;

	if (len < WS_HEADER || memcmp(buf, WS_MAGIC, 8))
		return err_set(e, EINVAL, "not a gmvm working set file");
	memcpy(&page_size, buf + 8, 8);
	memcpy(count, buf + 16, 8);
	if (page_size != PAGE_SIZE)
		return err_set(e, EINVAL, "page size %llu, expected %llu",
			       (unsigned long long)page_size, PAGE_SIZE);
	if (*count > nr_pages || len != WS_HEADER + *count * 8)
		return err_set(e, EINVAL, "%llu pages in a file of %zu bytes for a guest of %llu pages",
			       (unsigned long long)*count, len,
			       (unsigned long long)nr_pages);
	return 0;
}

int workingset_read(const char *path, uint64_t nr_pages, uint64_t **pages,
		    size_t *n, struct err *e)
{
	uint8_t *buf = NULL;
	uint64_t count = 0;
	struct stat st;
	int fd, ret;

	fd = open_regular(path, true, &st);
	if (fd < 0)
		return err_set(e, -fd, "%s: %s", path, open_regular_error(fd, &st));
	if ((uint64_t)st.st_size > WS_HEADER + nr_pages * 8) {
		close(fd);
		return err_set(e, EINVAL, "%s: not a working set of this snapshot", path);
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	ret = buf ? read_full_at(fd, buf, st.st_size, 0) : -ENOMEM;
	close(fd);
	if (!ret)
		ret = workingset_check(buf, st.st_size, nr_pages, &count, e);
	else
		err_set(e, -ret, "%s: %s", path, strerror(-ret));
	for (uint64_t i = 0; !ret && i < count; i++) {
		uint64_t p;

		memcpy(&p, buf + WS_HEADER + i * 8, 8);
		if (p >= nr_pages)
			ret = err_set(e, EINVAL, "page %llu is outside the guest's %llu pages",
				      (unsigned long long)p,
				      (unsigned long long)nr_pages);
	}
	if (ret) {
		free(buf);
		return err_prefix(e, "working set %s", path);
	}
	memmove(buf, buf + WS_HEADER, count * 8);
	*pages = (uint64_t *)buf;
	*n = count;
	return 0;
}
