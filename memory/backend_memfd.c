// SPDX-License-Identifier: MIT
/* memfd backend: RAM is a shmem file mapped shared; KVM faults through it. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"

static int memfd_backend_create(struct guest_mem *mem, int vm_fd,
				struct err *e)
{
	int fd;

	(void)vm_fd;
	fd = memfd_create("gmvm-ram", MFD_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "memfd_create: %s", strerror(errno));
	if (ftruncate(fd, mem->size) < 0) {
		int ret = err_set(e, errno, "ftruncate of memfd to %llu bytes: %s",
				  (unsigned long long)mem->size,
				  strerror(errno));
		close(fd);
		return ret;
	}
	return guest_mem_map_fd(mem, fd, MAP_NORESERVE, "memfd", e);
}

const struct guest_mem_backend guest_mem_backend_memfd = {
	.name = "memfd",
	.kind = GUEST_MEM_MEMFD,
	.create = memfd_backend_create,
};
