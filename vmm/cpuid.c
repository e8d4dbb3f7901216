// SPDX-License-Identifier: MIT
/*
 * Per-vCPU CPUID: what KVM supports, with this vCPU's APIC ID and a topology
 * of one package holding nr_vcpus cores of one thread each, so that a guest
 * counting CPUs by CPUID agrees with the MP table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "vm.h"

#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_EXT_TOPO_SMT 1u
#define CPUID_EXT_TOPO_CORE 2u

static unsigned int order_base_2(unsigned int n)
{
	unsigned int order = 0;

	while ((1u << order) < n)
		order++;
	return order;
}

static void cpuid_set_leaf1(struct kvm_cpuid_entry2 *ent, unsigned int apic_id,
			    unsigned int nr)
{
	unsigned int logical = 1u << order_base_2(nr);

	ent->ebx &= 0x0000ffff;
	ent->ebx |= apic_id << 24;
	if (nr > 1) {
		ent->ebx |= MIN(logical, 255u) << 16;
		ent->edx |= CPUID_1_EDX_HTT;
	} else {
		ent->edx &= ~CPUID_1_EDX_HTT;
	}
	ent->ecx |= CPUID_1_ECX_HYPERVISOR;
}

/* Leaves 0xB and 0x1F: an SMT level of one thread, a core level of nr. */
static void cpuid_set_ext_topology(struct kvm_cpuid_entry2 *ent,
				   unsigned int apic_id, unsigned int nr)
{
	ent->edx = apic_id;
	switch (ent->index) {
	case 0:
		ent->eax = 0;
		ent->ebx = 1;
		ent->ecx = (CPUID_EXT_TOPO_SMT << 8) | ent->index;
		break;
	case 1:
		ent->eax = order_base_2(nr);
		ent->ebx = nr;
		ent->ecx = (CPUID_EXT_TOPO_CORE << 8) | ent->index;
		break;
	default:
		ent->eax = 0;
		ent->ebx = 0;
		ent->ecx = ent->index;
		break;
	}
}

static void cpuid_set_topology(struct kvm_cpuid_entry2 *ent,
			       unsigned int apic_id, unsigned int nr)
{
	switch (ent->function) {
	case 1:
		cpuid_set_leaf1(ent, apic_id, nr);
		break;
	case 4:
		/* Cores per package - 1, for Intel-style enumeration. */
		if (ent->eax & 0x1f) {
			ent->eax &= 0x03ffffff;
			ent->eax |= (nr - 1) << 26;
		}
		break;
	case 0xb:
	case 0x1f:
		cpuid_set_ext_topology(ent, apic_id, nr);
		break;
	case 0x80000008:
		/* AMD: NC = threads - 1, ApicIdSize. */
		ent->ecx &= ~0xf0ffu;
		ent->ecx |= (nr - 1) | (order_base_2(nr) << 12);
		break;
	case 0x8000001e:
		ent->eax = apic_id;
		ent->ebx = apic_id & 0xff;	/* one thread per core */
		ent->ecx = 0;
		break;
	}
}

int cpuid_setup(struct vcpu *vcpu, struct err *e)
{
	const struct kvm_cpuid2 *sup = vcpu->vm->kvm.cpuid;
	size_t size = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int ret = 0;

	if (!c)
		return err_set(e, ENOMEM, "out of memory for CPUID of vCPU %u",
			       vcpu->id);
	memcpy(c, sup, size);
	for (uint32_t i = 0; i < c->nent; i++)
		cpuid_set_topology(&c->entries[i], vcpu->id, vcpu->vm->nr_vcpus);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		ret = err_set(e, errno, "KVM_SET_CPUID2 on vCPU %u: %s",
			      vcpu->id, strerror(errno));
	free(c);
	return ret;
}
