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
	int fd;

	fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &req);
	if (fd < 0)
		return err_set(e, errno,
			       "KVM_CREATE_GUEST_MEMFD (MMAP|INIT_SHARED, %llu bytes): %s",
			       (unsigned long long)mem->size, strerror(errno));
	return guest_mem_map_fd(mem, fd, 0, "guest_memfd", e);
}

const struct guest_mem_backend guest_mem_backend_gmem = {
	.name = "gmem",
	.kind = GUEST_MEM_GMEM,
	.create = gmem_create,
	.memslot_flags = KVM_MEM_GUEST_MEMFD,
};
