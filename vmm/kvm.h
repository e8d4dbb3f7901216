/* SPDX-License-Identifier: MIT */
/* The host's KVM: opening it, checking what gmvm needs, and probing extras. */
#ifndef GMVM_KVM_H
#define GMVM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Open /dev/kvm and check its API version. Returns the fd or -errno, e set. */
int kvm_open(struct err *e);

/* Check every capability gmvm cannot run without. 0 or -ENOTSUP, e set. */
int kvm_check_required_caps(int kvm_fd, struct err *e);

/* KVM_CHECK_EXTENSION on fd (the system or a VM fd); <= 0 when absent. */
int kvm_check_cap(int fd, long cap);

/* KVM_GET_SUPPORTED_CPUID, allocated; NULL with e set on failure. */
struct kvm_cpuid2 *kvm_get_supported_cpuid(int kvm_fd, struct err *e);

/* Guest physical address bits KVM supports (CPUID 0x80000008), else 36. */
unsigned int kvm_phys_bits(const struct kvm_cpuid2 *cpuid);

/* Entry function/index of cpuid, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid,
				    uint32_t function, uint32_t index);

/*
 * Probe whether vm_fd accepts guest_memfd RAM the way gmvm uses it: created
 * with MMAP|INIT_SHARED, mapped, written and read through the mapping.
 * Returns 0 or -errno with e saying what failed.
 */
int kvm_probe_gmem(int vm_fd, struct err *e);

#endif /* GMVM_KVM_H */
