// SPDX-License-Identifier: MIT
/* Anonymous backend: private anonymous memory, the classic KVM setup. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_mem.h"

static int anon_create(struct guest_mem *mem, int vm_fd, struct err *e)
{
	void *p;

	(void)vm_fd;
	p = mmap(NULL, mem->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return err_set(e, errno, "mmap of %llu bytes of anonymous memory: %s",
			       (unsigned long long)mem->size, strerror(errno));
	mem->base = p;
	return 0;
}

const struct guest_mem_backend guest_mem_backend_anon = {
	.name = "anon",
	.kind = GUEST_MEM_ANON,
	.create = anon_create,
};
