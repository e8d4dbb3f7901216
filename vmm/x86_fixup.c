// SPDX-License-Identifier: MIT
/*
 * Completing instructions the host's KVM emulator cannot execute (see
 * vmm/x86_fixup.h). Everything here runs only on an emulation-failure
 * exit; a VM on a host with hardware virtualization never comes here.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vm.h"
#include "x86_fixup.h"

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_AC (1ull << 18)
#define BP_VECTOR 3
#define MAX_INSN 15

const char *x86_fixup_name(enum x86_fixup_kind kind)
{
	static const char *const names[] = {
		[X86_FIXUP_NONE] = "none", [X86_FIXUP_INT3] = "int3",
		[X86_FIXUP_FWAIT] = "fwait", [X86_FIXUP_STAC] = "stac",
		[X86_FIXUP_CLAC] = "clac", [X86_FIXUP_POPCNT] = "popcnt",
	};

	return names[kind];
}

/* F3 [66] [REX] 0F B8 ModRM with mod = 3: popcnt reg, reg. */
static bool decode_popcnt(const uint8_t *p, size_t len, struct x86_fixup *f)
{
	unsigned int i = 1, rex = 0, opsize = 4;

	if (i < len && p[i] == 0x66) {
		opsize = 2;
		i++;
	}
	if (i < len && (p[i] & 0xf0) == 0x40)
		rex = p[i++];
	if (i + 2 >= len || p[i] != 0x0f || p[i + 1] != 0xb8 ||
	    (p[i + 2] & 0xc0) != 0xc0)
		return false;
	*f = (struct x86_fixup){
		.kind = X86_FIXUP_POPCNT,
		.len = i + 3,
		.dst = ((p[i + 2] >> 3) & 7) | (rex & 4 ? 8 : 0),
		.src = (p[i + 2] & 7) | (rex & 1 ? 8 : 0),
		.opsize = rex & 8 ? 8 : opsize,
	};
	return true;
}

bool x86_fixup_decode(const uint8_t *p, size_t len, struct x86_fixup *f)
{
	*f = (struct x86_fixup){ .kind = X86_FIXUP_NONE };
	if (len >= 1 && p[0] == 0xcc)
		*f = (struct x86_fixup){ .kind = X86_FIXUP_INT3, .len = 1 };
	else if (len >= 1 && p[0] == 0x9b)
		*f = (struct x86_fixup){ .kind = X86_FIXUP_FWAIT, .len = 1 };
	else if (len >= 3 && p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xcb)
		*f = (struct x86_fixup){ .kind = X86_FIXUP_STAC, .len = 3 };
	else if (len >= 3 && p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xca)
		*f = (struct x86_fixup){ .kind = X86_FIXUP_CLAC, .len = 3 };
	else if (len >= 4 && p[0] == 0xf3)
		decode_popcnt(p, len, f);
	return f->kind != X86_FIXUP_NONE;
}

/* Register n (instruction encoding order) in struct kvm_regs. */
static uint64_t *reg_ptr(struct kvm_regs *r, unsigned int n)
{
	uint64_t *const regs[16] = {
		(uint64_t *)&r->rax, (uint64_t *)&r->rcx, (uint64_t *)&r->rdx,
		(uint64_t *)&r->rbx, (uint64_t *)&r->rsp, (uint64_t *)&r->rbp,
		(uint64_t *)&r->rsi, (uint64_t *)&r->rdi, (uint64_t *)&r->r8,
		(uint64_t *)&r->r9, (uint64_t *)&r->r10, (uint64_t *)&r->r11,
		(uint64_t *)&r->r12, (uint64_t *)&r->r13, (uint64_t *)&r->r14,
		(uint64_t *)&r->r15,
	};

	return regs[n & 15];
}

static void apply_popcnt(const struct x86_fixup *f, struct kvm_regs *r)
{
	uint64_t mask = f->opsize == 8 ? ~0ull : (1ull << (f->opsize * 8)) - 1;
	uint64_t v = *reg_ptr(r, f->src) & mask;
	uint64_t *dst = reg_ptr(r, f->dst);
	uint64_t n = __builtin_popcountll(v);

	/* 16-bit writes keep the upper bits; 32-bit ones clear them. */
	*dst = f->opsize == 2 ? (*dst & ~0xffffull) | n : n;
	r->rflags &= ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF |
		       RFLAGS_SF | RFLAGS_OF);
	if (!v)
		r->rflags |= RFLAGS_ZF;
}

void x86_fixup_apply(const struct x86_fixup *f, struct kvm_regs *r)
{
	switch (f->kind) {
	case X86_FIXUP_STAC:
		r->rflags |= RFLAGS_AC;
		break;
	case X86_FIXUP_CLAC:
		r->rflags &= ~RFLAGS_AC;
		break;
	case X86_FIXUP_POPCNT:
		apply_popcnt(f, r);
		break;
	default:
		break;
	}
	r->rip += f->len;
}

/* Up to MAX_INSN bytes at guest virtual address rip, page by page. */
static size_t fetch_insn(struct vcpu *vcpu, uint64_t rip, uint8_t *buf)
{
	size_t got = 0;

	while (got < MAX_INSN) {
		struct kvm_translation t = { .linear_address = rip + got };
		size_t chunk = MIN((size_t)(PAGE_SIZE - ((rip + got) & (PAGE_SIZE - 1))),
				   MAX_INSN - got);
		const uint8_t *src;

		if (ioctl(vcpu->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			break;
		src = guest_mem_ptr(&vcpu->vm->mem, t.physical_address, chunk);
		if (!src)
			break;
		memcpy(buf + got, src, chunk);
		got += chunk;
	}
	return got;
}

static int inject_bp(struct vcpu *vcpu)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 1;
	ev.exception.nr = BP_VECTOR;
	ev.exception.has_error_code = 0;
	ev.exception.pending = 0;
	ev.flags = 0;
	return ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0;
}

bool vcpu_complete_unemulated(struct vcpu *vcpu)
{
	static unsigned int logged;	/* bit per kind: log each once */
	uint8_t insn[MAX_INSN];
	struct x86_fixup f;
	struct kvm_regs regs;
	size_t n;

	if (vcpu->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return false;
	n = fetch_insn(vcpu, regs.rip, insn);
	if (!x86_fixup_decode(insn, n, &f))
		return false;
	x86_fixup_apply(&f, &regs);
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ||
	    (f.kind == X86_FIXUP_INT3 && inject_bp(vcpu)))
		return false;
	if (!(__atomic_fetch_or(&logged, 1u << f.kind, __ATOMIC_RELAXED) &
	      (1u << f.kind)))
		log_info("vCPU %u: completed %s at %#llx, which KVM could not emulate (logged once)",
			 vcpu->id, x86_fixup_name(f.kind), regs.rip - f.len);
	return true;
}
