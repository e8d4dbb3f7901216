// SPDX-License-Identifier: MIT
/*
 * Registers of the boot vCPU at the kernel entry: 32-bit protected mode
 * without paging for PVH, long mode on the boot page tables for the 64-bit
 * Linux protocol. Segment caches match the descriptors in the boot GDT.
 */
#include <string.h>

#include "boot.h"

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define RFLAGS_RESERVED 0x2ull

static struct kvm_segment boot_segment(uint16_t selector, uint8_t type,
				       bool code64)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = !code64,
		.s = 1,
		.l = code64,
		.g = 1,
	};
}

static void boot_segments(struct kvm_sregs *s, uint16_t code_sel, bool code64)
{
	struct kvm_segment data = boot_segment(BOOT_SEL_DATA, 0x3, false);

	s->cs = boot_segment(code_sel, 0xb, code64);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct kvm_segment){
		.selector = BOOT_SEL_TSS,
		.limit = 0x67,
		.type = 0xb,
		.present = 1,
	};
	s->gdt.base = BOOT_GDT_ADDR;
	s->gdt.limit = 5 * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
}

void boot_cpu_state(const struct boot_image *img, struct boot_cpu_state *st)
{
	struct kvm_sregs *s = &st->sregs;
	struct kvm_regs *r = &st->regs;

	memset(r, 0, sizeof(*r));
	r->rflags = RFLAGS_RESERVED;
	r->rip = img->entry;
	if (img->protocol == BOOT_PROTO_PVH) {
		boot_segments(s, BOOT_SEL_CODE32, false);
		s->cr0 = CR0_PE | CR0_ET;
		s->cr3 = 0;
		s->cr4 = 0;
		s->efer = 0;
		r->rbx = BOOT_START_INFO_ADDR;
	} else {
		boot_segments(s, BOOT_SEL_CODE64, true);
		s->cr0 = CR0_PE | CR0_ET | CR0_PG;
		s->cr3 = BOOT_PML4_ADDR;
		s->cr4 = CR4_PAE;
		s->efer = EFER_LME | EFER_LMA;
		r->rsi = BOOT_ZERO_PAGE_ADDR;
		r->rsp = r->rbp = BOOT_STACK_TOP;
	}
}
