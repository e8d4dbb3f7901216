// SPDX-License-Identifier: MIT
/*
 * x86 vCPU power-on state beyond what KVM gives: MSRs a kernel expects, the
 * local APIC's LINT pins wired as on a PC, and an x87/SSE control state.
 * Registers for the entry point are the boot code's business (boot/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MISC_ENABLE_FAST_STRING 1ull
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MTRR_ENABLE (1ull << 11)
#define MTRR_TYPE_WRBACK 6ull
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_MASK (7u << 8)
#define APIC_MODE_NMI (4u << 8)
#define APIC_MODE_EXTINT (7u << 8)

static int vcpu_set_msrs(struct vcpu *vcpu, struct err *e)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MSR_MTRR_ENABLE | MTRR_TYPE_WRBACK },
	};
	struct kvm_msrs *msrs;
	int n, err;

	msrs = calloc(1, sizeof(*msrs) +
			 ARRAY_SIZE(init) * sizeof(msrs->entries[0]));
	if (!msrs)
		return err_set(e, ENOMEM, "vCPU %u: no memory for its MSRs", vcpu->id);
	msrs->nmsrs = ARRAY_SIZE(init);
	for (unsigned int i = 0; i < ARRAY_SIZE(init); i++) {
		msrs->entries[i].index = init[i].index;
		msrs->entries[i].data = init[i].value;
	}
	n = ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
	err = errno;
	free(msrs);
	if (n < 0)
		return err_set(e, err, "KVM_SET_MSRS on vCPU %u: %s",
			       vcpu->id, strerror(err));
	if (n != (int)ARRAY_SIZE(init))
		return err_set(e, EINVAL, "KVM_SET_MSRS on vCPU %u: KVM refused MSR %#x",
			       vcpu->id, init[n].index);
	return 0;
}

static void lapic_set_mode(struct kvm_lapic_state *lapic, unsigned int reg,
			   uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[reg], sizeof(v));
	v = (v & ~APIC_MODE_MASK) | mode;
	memcpy(&lapic->regs[reg], &v, sizeof(v));
}

/* LINT0 delivers the PIC's ExtINT, LINT1 NMI, as PC firmware leaves them. */
static int vcpu_set_lint(struct vcpu *vcpu, struct err *e)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return err_set(e, errno, "KVM_GET_LAPIC on vCPU %u: %s",
			       vcpu->id, strerror(errno));
	lapic_set_mode(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_mode(&lapic, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return err_set(e, errno, "KVM_SET_LAPIC on vCPU %u: %s",
			       vcpu->id, strerror(errno));
	return 0;
}

static int vcpu_set_fpu(struct vcpu *vcpu, struct err *e)
{
	struct kvm_fpu fpu = {
		.fcw = 0x37f,		/* x87 power-on control word */
		.mxcsr = 0x1f80,	/* SSE exceptions masked */
	};

	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return err_set(e, errno, "KVM_SET_FPU on vCPU %u: %s",
			       vcpu->id, strerror(errno));
	return 0;
}

int vcpu_x86_setup(struct vcpu *vcpu, struct err *e)
{
	int ret;

	ret = vcpu_set_msrs(vcpu, e);
	if (!ret)
		ret = vcpu_set_lint(vcpu, e);
	if (!ret)
		ret = vcpu_set_fpu(vcpu, e);
	return ret;
}
