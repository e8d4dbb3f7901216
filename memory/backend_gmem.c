// SPDX-License-Identifier: MIT
/*
 * guest_memfd backend: RAM lives in a KVM guest_memfd created shared and
 * mappable (GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED), so the
 * monitor reaches it through a mapping while vCPU faults go to the file
 * directly, without the monitor's page tables.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"
#include "kvm_abi.h"

#define GMEM_FLAGS (GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

static int gmem_create(struct guest_mem *mem, int vm_fd, struct err *e)
{
	struct gmvm_kvm_create_guest_memfd req = {
		.size = mem->size,
		.flags = GMEM_FLAGS,
	};
	void *p;
	int fd;

	fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &req);
	if (fd < 0)
		return err_set(e, errno,
			       "KVM_CREATE_GUEST_MEMFD (MMAP|INIT_SHARED, %llu bytes): %s",
			       (unsigned long long)mem->size, strerror(errno));
	p = mmap(NULL, mem->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int ret = err_set(e, errno, "mmap of guest_memfd (%llu bytes): %s",
				  (unsigned long long)mem->size,
				  strerror(errno));
		close(fd);
		return ret;
	}
	mem->fd = fd;
	mem->base = p;
	return 0;
}

const struct guest_mem_backend guest_mem_backend_gmem = {
	.name = "gmem",
	.kind = GUEST_MEM_GMEM,
	.create = gmem_create,
	.memslot_flags = KVM_MEM_GUEST_MEMFD,
};
