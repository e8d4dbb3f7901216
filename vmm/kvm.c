// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm.h"
#include "kvm_abi.h"
#include "util.h"

#define KVM_DEV "/dev/kvm"

int kvm_open(struct err *e)
{
	int fd, version;

	fd = open(KVM_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(e, ENOENT,
				       "%s does not exist: this host offers no KVM (load the kvm module, or enable virtualization)",
				       KVM_DEV);
		if (errno == EACCES)
			return err_set(e, EACCES,
				       "%s: permission denied (run as root or join the kvm group)",
				       KVM_DEV);
		return err_set(e, errno, "%s: %s", KVM_DEV, strerror(errno));
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version < 0) {
		int ret = err_set(e, ENOTTY, "%s is not a KVM device (KVM_GET_API_VERSION: %s)",
				  KVM_DEV, strerror(errno));

		close(fd);
		return ret;
	}
	if (version != KVM_API_VERSION) {
		close(fd);
		return err_set(e, ENOTSUP, "%s: KVM API version %d, gmvm needs %d",
			       KVM_DEV, version, KVM_API_VERSION);
	}
	return fd;
}

int kvm_check_cap(int fd, long cap)
{
	return ioctl(fd, KVM_CHECK_EXTENSION, cap);
}

int kvm_check_required_caps(int kvm_fd, struct err *e)
{
	static const struct {
		long cap;
		const char *name;
	} required[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(required); i++)
		if (kvm_check_cap(kvm_fd, required[i].cap) <= 0)
			return err_set(e, ENOTSUP, "%s lacks %s, which gmvm needs",
				       KVM_DEV, required[i].name);
	return 0;
}

struct kvm_cpuid2 *kvm_get_supported_cpuid(int kvm_fd, struct err *e)
{
	/* KVM's own limit is 256 entries: one call, normally. */
	for (unsigned int n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c) {
			err_set(e, ENOMEM, "out of memory for CPUID entries");
			return NULL;
		}
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG) {
			err_set(e, errno, "KVM_GET_SUPPORTED_CPUID: %s",
				strerror(errno));
			return NULL;
		}
	}
	err_set(e, E2BIG, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
	return NULL;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid,
				    uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *ent = &cpuid->entries[i];

		if (ent->function != function)
			continue;
		if ((ent->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    ent->index != index)
			continue;
		return ent;
	}
	return NULL;
}

unsigned int kvm_phys_bits(const struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *ent;

	ent = cpuid_find((struct kvm_cpuid2 *)cpuid, 0x80000008, 0);
	if (!ent || !(ent->eax & 0xff))
		return 36;
	return ent->eax & 0xff;
}

int kvm_probe_gmem(int vm_fd, struct err *e)
{
	const uint64_t want = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
	struct gmvm_kvm_create_guest_memfd req = {
		.size = 2 * MIB,
		.flags = want,
	};
	volatile uint8_t *p;
	int fd, flags, ret = 0;

	/*
	 * The capability only hints (numbers of out-of-tree features collide);
	 * creating, mapping and touching one is the real test.
	 */
	flags = kvm_check_cap(vm_fd, KVM_CAP_GUEST_MEMFD_FLAGS);
	if (flags >= 0 && ((uint64_t)flags & want) != want)
		return err_set(e, ENOTSUP,
			       "KVM offers guest_memfd flags %#x, gmvm needs MMAP|INIT_SHARED (%#llx)",
			       flags, (unsigned long long)want);
	fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &req);
	if (fd < 0)
		return err_set(e, errno, "KVM_CREATE_GUEST_MEMFD(MMAP|INIT_SHARED): %s",
			       strerror(errno));
	/*
	 * Only KVM_SET_USER_MEMORY_REGION2 binds one to a memslot. Deleting a
	 * slot that does not exist is EINVAL where the ioctl exists, ENOTTY
	 * where it does not (6.1), and changes nothing either way.
	 */
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2,
		  &(struct gmvm_kvm_userspace_memory_region2){ .slot = 0 }) < 0 &&
	    errno == ENOTTY) {
		close(fd);
		return err_set(e, ENOTSUP,
			       "KVM has guest_memfd but no KVM_SET_USER_MEMORY_REGION2 to bind it");
	}
	p = mmap(NULL, req.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = err_set(e, errno, "mmap of a guest_memfd: %s",
			      strerror(errno));
	} else {
		p[0] = 0x5a;
		if (p[0] != 0x5a)
			ret = err_set(e, EIO, "a guest_memfd mapping does not keep what is written to it");
		munmap((void *)p, req.size);
	}
	close(fd);
	return ret;
}
