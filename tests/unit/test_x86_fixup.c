// SPDX-License-Identifier: MIT
/* Decoding and applying the instructions gmvm completes for the emulator. */
#include <string.h>

#include "tap.h"
#include "x86_fixup.h"

static void decodes(const char *name, const uint8_t *insn, size_t len,
		    enum x86_fixup_kind kind, unsigned int ilen)
{
	struct x86_fixup f;

	ok(x86_fixup_decode(insn, len, &f), "%s: decoded", name);
	is_int(f.kind, kind, "%s: kind %s", name, x86_fixup_name(kind));
	is_int(f.len, ilen, "%s: %u bytes", name, ilen);
}

static void refuses(const char *name, const uint8_t *insn, size_t len)
{
	struct x86_fixup f;

	ok(!x86_fixup_decode(insn, len, &f), "%s: not completed", name);
	is_int(f.kind, X86_FIXUP_NONE, "%s: kind none", name);
}

static void test_decode(void)
{
	static const uint8_t int3[] = { 0xcc }, fwait[] = { 0x9b };
	static const uint8_t stac[] = { 0x0f, 0x01, 0xcb }, clac[] = { 0x0f, 0x01, 0xca };
	static const uint8_t popcnt64[] = { 0xf3, 0x48, 0x0f, 0xb8, 0xd2 };
	static const uint8_t popcnt32[] = { 0xf3, 0x0f, 0xb8, 0xc1 };
	static const uint8_t popcnt16[] = { 0xf3, 0x66, 0x0f, 0xb8, 0xc1 };
	static const uint8_t popcnt_mem[] = { 0xf3, 0x0f, 0xb8, 0x01 };
	static const uint8_t xsave[] = { 0x0f, 0xae, 0x27 };
	static const uint8_t rep_movsb[] = { 0xf3, 0xa4 };
	struct x86_fixup f;

	decodes("int3", int3, 1, X86_FIXUP_INT3, 1);
	decodes("fwait", fwait, 1, X86_FIXUP_FWAIT, 1);
	decodes("stac", stac, 3, X86_FIXUP_STAC, 3);
	decodes("clac", clac, 3, X86_FIXUP_CLAC, 3);
	decodes("popcnt rdx, rdx", popcnt64, 5, X86_FIXUP_POPCNT, 5);
	x86_fixup_decode(popcnt64, 5, &f);
	is_int(f.opsize, 8, "popcnt with REX.W: 8 bytes");
	is_int(f.dst, 2, "popcnt rdx: destination rdx");
	decodes("popcnt eax, ecx", popcnt32, 4, X86_FIXUP_POPCNT, 4);
	x86_fixup_decode(popcnt32, 4, &f);
	is_int(f.opsize, 4, "popcnt without REX: 4 bytes");
	is_int(f.dst, 0, "popcnt eax, ecx: destination rax");
	is_int(f.src, 1, "popcnt eax, ecx: source rcx");
	decodes("popcnt ax, cx", popcnt16, 5, X86_FIXUP_POPCNT, 5);
	x86_fixup_decode(popcnt16, 5, &f);
	is_int(f.opsize, 2, "popcnt with 66: 2 bytes");
	refuses("popcnt from memory", popcnt_mem, 4);
	refuses("xsave", xsave, 3);
	refuses("rep movsb", rep_movsb, 2);
	refuses("truncated stac", stac, 2);
	refuses("nothing", int3, 0);
}

static void test_apply(void)
{
	static const uint8_t popcnt64[] = { 0xf3, 0x49, 0x0f, 0xb8, 0xc0 };	/* rax <- r8 */
	static const uint8_t popcnt16[] = { 0xf3, 0x66, 0x0f, 0xb8, 0xc1 };	/* ax <- cx */
	static const uint8_t stac[] = { 0x0f, 0x01, 0xcb }, clac[] = { 0x0f, 0x01, 0xca };
	struct kvm_regs r;
	struct x86_fixup f;

	memset(&r, 0, sizeof(r));
	r.rip = 0x1000;
	r.r8 = 0xf0f0f0f00000000full;
	r.rflags = 0x2 | 0x1 | 0x40;	/* CF and ZF set before */
	x86_fixup_decode(popcnt64, 5, &f);
	x86_fixup_apply(&f, &r);
	is_u64(r.rax, 20, "popcnt rax, r8 counts 20 bits");
	is_u64(r.rip, 0x1005, "popcnt advances RIP by 5");
	is_u64(r.rflags, 0x2, "popcnt of non-zero clears CF and ZF");
	r.r8 = 0;
	x86_fixup_apply(&f, &r);
	is_u64(r.rax, 0, "popcnt of zero is zero");
	is_u64(r.rflags, 0x42, "popcnt of zero sets ZF");

	r.rax = 0xffffffffffff0000ull;
	r.rcx = 0xffffffffffff00ffull;
	x86_fixup_decode(popcnt16, 5, &f);
	x86_fixup_apply(&f, &r);
	is_u64(r.rax, 0xffffffffffff0008ull, "16-bit popcnt keeps the upper bits");

	r.rflags = 0x2;
	x86_fixup_decode(stac, 3, &f);
	x86_fixup_apply(&f, &r);
	is_u64(r.rflags, 0x2 | (1ull << 18), "stac sets AC");
	x86_fixup_decode(clac, 3, &f);
	x86_fixup_apply(&f, &r);
	is_u64(r.rflags, 0x2, "clac clears AC");
}

int main(void)
{
	test_decode();
	test_apply();
	return done_testing();
}
