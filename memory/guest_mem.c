// SPDX-License-Identifier: MIT
/* Guest RAM layout, translation and memslots, independent of the backend. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"
#include "kvm_abi.h"

static const struct guest_mem_backend *const backends[] = {
	&guest_mem_backend_gmem,
	&guest_mem_backend_memfd,
	&guest_mem_backend_anon,
};

const struct guest_mem_backend *guest_mem_backend_find(const char *name)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

int guest_mem_layout(struct guest_mem *mem, uint64_t size)
{
	uint64_t low = MIN(size, GUEST_MMIO_GAP_START);

	if (!size || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	mem->private_fd = -1;
	mem->size = size;
	mem->regions[0] = (struct guest_mem_region){ 0, low, 0 };
	mem->nr_regions = 1;
	if (size > low) {
		mem->regions[1] = (struct guest_mem_region){
			GUEST_MMIO_GAP_END, size - low, low };
		mem->nr_regions = 2;
	}
	return 0;
}

int guest_mem_map_fd(struct guest_mem *mem, int fd, int mmap_flags,
		     const char *what, struct err *e)
{
	void *p = mmap(NULL, mem->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | mmap_flags, fd, 0);

	if (p == MAP_FAILED) {
		int ret = err_set(e, errno, "mmap of %s (%llu bytes): %s", what,
				  (unsigned long long)mem->size, strerror(errno));

		close(fd);
		return ret;
	}
	mem->fd = fd;
	mem->base = p;
	return 0;
}

int guest_mem_create(struct guest_mem *mem, const struct guest_mem_backend *b,
		     uint64_t size, int vm_fd, struct err *e)
{
	int ret;

	if (guest_mem_layout(mem, size))
		return err_set(e, EINVAL, "memory size %#llx is not a non-zero multiple of 4 KiB",
			       (unsigned long long)size);
	mem->backend = b;
	ret = b->create(mem, vm_fd, e);
	mem->fresh = ret == 0;
	if (ret) {
		mem->backend = NULL;
		mem->base = NULL;
		mem->fd = -1;
	}
	return ret;
}

static int guest_mem_set_slot(const struct guest_mem *mem, int vm_fd,
			      unsigned int i, uint32_t flags)
{
	const struct guest_mem_region *r = &mem->regions[i];
	struct gmvm_kvm_userspace_memory_region2 slot = {
		.slot = i,
		.flags = mem->backend->memslot_flags | flags,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uintptr_t)(mem->base + r->offset),
	};
	struct kvm_userspace_memory_region slot1 = {
		.slot = i,
		.flags = flags,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uintptr_t)(mem->base + r->offset),
	};

	/* The older ioctl keeps memfd and anonymous RAM working on pre-6.8. */
	if (!(slot.flags & KVM_MEM_GUEST_MEMFD))
		return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot1);
	slot.guest_memfd = mem->fd;
	slot.guest_memfd_offset = r->offset;
	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &slot);
}

int guest_mem_bind(const struct guest_mem *mem, int vm_fd, struct err *e)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (guest_mem_set_slot(mem, vm_fd, i, 0) < 0)
			return err_set(e, errno,
				       "cannot make RAM [%#llx, %#llx) on %s a KVM memslot: %s",
				       (unsigned long long)r->gpa,
				       (unsigned long long)(r->gpa + r->size),
				       mem->backend->name, strerror(errno));
	}
	return 0;
}

int guest_mem_rebind(const struct guest_mem *mem, int vm_fd, struct err *e)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		struct kvm_userspace_memory_region gone = { .slot = i };

		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &gone) < 0)
			return err_set(e, errno, "deleting the KVM memslot of RAM at %#llx: %s",
				       (unsigned long long)mem->regions[i].gpa,
				       strerror(errno));
	}
	return guest_mem_bind(mem, vm_fd, e);
}

int guest_mem_log_dirty(const struct guest_mem *mem, int vm_fd, bool on,
			struct err *e)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++)
		if (guest_mem_set_slot(mem, vm_fd, i, on ? KVM_MEM_LOG_DIRTY_PAGES : 0) < 0)
			return err_set(e, errno, "KVM's dirty log on the %s memory slot at %#llx: %s",
				       mem->backend->name,
				       (unsigned long long)mem->regions[i].gpa,
				       strerror(errno));
	return 0;
}

/* Not a --memory-backend (guest_mem_backend_find() does not know it). */
const struct guest_mem_backend guest_mem_backend_snapshot_file = {
	.name = "snapshot-file",
	.kind = GUEST_MEM_ANON,	/* no fd to share: as anonymous memory */
};

int guest_mem_map_private(struct guest_mem *mem, int fd, struct err *e)
{
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	void *p;

	if (own < 0)
		return err_set(e, errno, "the memory file: %s", strerror(errno));
	/* MAP_FIXED: the same addresses, so the memory slots stay. */
	p = mmap(mem->base, mem->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, own, 0);
	if (p == MAP_FAILED) {
		close(own);
		return err_set(e, errno, "mmap of the memory file (%llu bytes, private): %s",
			       (unsigned long long)mem->size, strerror(errno));
	}
	if (mem->fd >= 0)
		close(mem->fd);
	mem->fd = -1;
	mem->private_fd = own;
	mem->backend = &guest_mem_backend_snapshot_file;
	mem->fresh = false;
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	if (mem->backend == &guest_mem_backend_snapshot_file)
		close(mem->private_fd);
	mem->base = NULL;
	mem->fd = -1;
	mem->private_fd = -1;
	mem->backend = NULL;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (!len || !mem->base)
		return NULL;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			if (len > r->size - (gpa - r->gpa))
				return NULL;
			return mem->base + r->offset + (gpa - r->gpa);
		}
	}
	return NULL;
}

int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	void *p;

	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE))
		return -EINVAL;
	p = guest_mem_ptr(mem, gpa, len);
	if (!p)
		return -EINVAL;
	/* The file's page would come back: anonymous zeros in its place. */
	if (mem->backend == &guest_mem_backend_snapshot_file)
		return mmap(p, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
			    -1, 0) == MAP_FAILED ? -errno : 0;
	if (madvise(p, len, mem->fd >= 0 ? MADV_REMOVE : MADV_DONTNEED) < 0)
		return -errno;
	return 0;
}

uint64_t guest_mem_top(const struct guest_mem *mem)
{
	const struct guest_mem_region *r = &mem->regions[mem->nr_regions - 1];

	return r->gpa + r->size;
}

uint64_t guest_mem_low_size(const struct guest_mem *mem)
{
	return mem->regions[0].size;
}
