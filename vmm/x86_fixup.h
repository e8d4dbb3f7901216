/* SPDX-License-Identifier: MIT */
/*
 * Completing the few instructions a host's KVM instruction emulator cannot
 * execute (KVM_EXIT_INTERNAL_ERROR, emulation suberror). On kvm-pvm hosts
 * guest CPL0 code is emulated, and Linux meets int3 (alternatives self-test),
 * fwait, stac/clac and popcnt there. gmvm finishes exactly these, logs each
 * kind once, and treats anything else as the failure it is.
 */
#ifndef GMVM_X86_FIXUP_H
#define GMVM_X86_FIXUP_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_fixup_kind {
	X86_FIXUP_NONE,
	X86_FIXUP_INT3,		/* skip it and inject #BP (a trap) */
	X86_FIXUP_FWAIT,	/* nothing pending without x87 use: skip it */
	X86_FIXUP_STAC,		/* set RFLAGS.AC */
	X86_FIXUP_CLAC,		/* clear RFLAGS.AC */
	X86_FIXUP_POPCNT,	/* register to register only */
};

struct x86_fixup {
	enum x86_fixup_kind kind;
	unsigned int len;	/* instruction bytes */
	unsigned int dst, src;	/* POPCNT: register numbers (0 = rax .. 15) */
	unsigned int opsize;	/* POPCNT: 2, 4 or 8 bytes */
};

/* Decode the instruction at insn (len bytes available). Pure. */
bool x86_fixup_decode(const uint8_t *insn, size_t len, struct x86_fixup *f);

/* Apply a decoded register-only fixup (not INT3) to regs. Pure. */
void x86_fixup_apply(const struct x86_fixup *f, struct kvm_regs *regs);

const char *x86_fixup_name(enum x86_fixup_kind kind);

struct vcpu;

/*
 * On an emulation-failure exit: read the instruction at RIP, complete it if
 * it is one of the above, and return true (the vCPU then runs on). False
 * when it is anything else.
 */
bool vcpu_complete_unemulated(struct vcpu *vcpu);

#endif /* GMVM_X86_FIXUP_H */
