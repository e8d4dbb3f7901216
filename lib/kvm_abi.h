/* SPDX-License-Identifier: MIT */
/*
 * KVM ABI newer than the build host's <linux/kvm.h> (Debian 12 ships 6.1).
 *
 * Written from Documentation/virt/kvm/api.rst. Every definition is guarded so
 * that building against newer headers uses theirs. Whether the running kernel
 * implements any of this is probed at run time (vmm/caps.c), never assumed
 * from these numbers.
 */
#ifndef GMVM_KVM_ABI_H
#define GMVM_KVM_ABI_H

#include <linux/kvm.h>
#include <stdint.h>

#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS 244
#endif

#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1u << 2)
#endif

#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP (1ull << 0)
#endif
#ifndef GUEST_MEMFD_FLAG_INIT_SHARED
#define GUEST_MEMFD_FLAG_INIT_SHARED (1ull << 1)
#endif

/* Same layout as the kernel's struct kvm_create_guest_memfd. */
struct gmvm_kvm_create_guest_memfd {
	uint64_t size;
	uint64_t flags;
	uint64_t reserved[6];
};

/* Same layout as the kernel's struct kvm_userspace_memory_region2. */
struct gmvm_kvm_userspace_memory_region2 {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
	uint32_t pad1;
	uint64_t pad2[14];
};

#ifndef KVM_CREATE_GUEST_MEMFD
#define KVM_CREATE_GUEST_MEMFD \
	_IOWR(KVMIO, 0xd4, struct gmvm_kvm_create_guest_memfd)
#endif
#ifndef KVM_SET_USER_MEMORY_REGION2
#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct gmvm_kvm_userspace_memory_region2)
#endif

#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif

/* userfaultfd write-protection without faults (Linux 6.7), and PAGEMAP_SCAN. */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1ull << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1ull << 15)
#endif

struct gmvm_page_region {
	uint64_t start, end, categories;
};

struct gmvm_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define GMVM_PAGE_IS_WRITTEN (1ull << 1)
/* Write-protect what matched again (PAGEMAP_SCAN on WP_ASYNC memory). */
#define GMVM_PM_SCAN_WP_MATCHING (1ull << 0)
#define GMVM_PM_SCAN_CHECK_WPASYNC (1ull << 1)
#define GMVM_PAGEMAP_SCAN _IOWR('f', 16, struct gmvm_pm_scan_arg)

#endif /* GMVM_KVM_ABI_H */
