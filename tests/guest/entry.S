/* SPDX-License-Identifier: MIT */
/*
 * Test guest entry points, descriptor tables and interrupt stubs.
 *
 * 0x100000  pvh_start32: PVH entry (32-bit, paging off, EBX = start info)
 * 0x100200  linux64_start: 64-bit Linux boot protocol entry (RSI = zero
 *           page), where a bzImage's protected-mode code starts
 * Both reach start64 in long mode on a temporary identity map; kernel_main()
 * then builds the real page tables and drops to CPL3.
 */

#define SEL_KCODE64 0x08
#define SEL_KDATA 0x10
#define SEL_KCODE32 0x18
#define SEL_UDATA 0x23
#define SEL_UCODE64 0x2b

#define CR0_PE 0x1
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define RFLAGS_USER 0x3002	/* IOPL=3, IF=0 */

	.section .text.head32, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	xorl %ebp, %ebp			/* not an AP, see start64_far */
	movl %ebx, boot_info_paddr
	movl $1, boot_protocol
	lgdt gdt_ptr

	/* Temporary identity map of the first 1 GiB in 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $3, %eax
	movl %eax, boot_pml4
	movl $boot_pd, %eax
	orl $3, %eax
	movl %eax, boot_pdpt
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, boot_pd(,%ecx,8)
	incl %ecx
	cmpl $512, %ecx
	jb 1b
	movl $boot_pml4, %eax
	jmp enter_long_mode

/* Shared with the APs: %eax = page table root. */
enter_long_mode:
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $start64_far

	.code64
start64_far:
	/* AP or BSP? APs come here with %ebp = 0x41505f5f ("AP__"). */
	cmpl $0x41505f5f, %ebp
	je ap_start64
	jmp start64

	.section .text.head64, "ax"
	.code64
	.globl linux64_start
linux64_start:
	cli
	cld
	movq %rsi, boot_info_paddr(%rip)
	movl $2, boot_protocol(%rip)
	lgdt gdt_ptr(%rip)
	pushq $SEL_KCODE64
	leaq start64(%rip), %rax
	pushq %rax
	lretq

start64:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	leaq bsp_kstack_top(%rip), %rsp
	call kernel_main
2:	hlt
	jmp 2b

/* AP: pick a CPU index and a stack, then ap_main(index). */
ap_start64:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_counter(%rip)
	incl %eax
	movl %eax, %edi
	movq %rdi, %rax
	incq %rax
	shlq $12, %rax			/* KSTACK_SIZE */
	leaq ap_kstacks(%rip), %rsp
	addq %rax, %rsp
	call ap_main
3:	hlt
	jmp 3b

	.text
	.code64
/* enter_user(fn, stack, arg): iretq to fn(arg) at CPL3 with IOPL=3. */
	.globl enter_user
enter_user:
	movw $SEL_UDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	subq $8, %rsi			/* as if fn had been called */
	pushq $SEL_UDATA
	pushq %rsi
	pushq $RFLAGS_USER
	pushq $SEL_UCODE64
	pushq %rdi
	movq %rdx, %rdi
	iretq

/* Interrupt stubs: push (error code, vector), save registers, trap_handler. */
.macro ISR_NOERR n
isr\n:
	pushq $0
	pushq $\n
	jmp isr_common
.endm
.macro ISR_ERR n
isr\n:
	pushq $\n
	jmp isr_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR 29
ISR_ERR 30
ISR_NOERR 31
ISR_NOERR 200

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call trap_handler
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.globl isr_table
isr_table:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,200
	.quad isr\n
	.endr

/*
 * AP start-up code, copied to AP_TRAMPOLINE_ADDR (0x8000) and entered in
 * real mode at CS:IP = 0x0800:0000 by a SIPI with vector 0x08.
 */
	.globl ap_trampoline_start, ap_trampoline_end
	.code16
ap_trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (ap_gdt_ptr - ap_trampoline_start)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $ap_start32
ap_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
ap_trampoline_end:

	.text
	.code32
ap_start32:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x41505f5f, %ebp
	movl kernel_cr3, %eax
	jmp enter_long_mode

	.data
	.balign 16
	.globl gdt, gdt_end
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cf9a000000ffff	/* 0x18 kernel code, 32-bit */
	.quad 0x00cff2000000ffff	/* 0x20 user data (0x23) */
	.quad 0x00affa000000ffff	/* 0x28 user code, 64-bit (0x2b) */
	.fill 64 * 2, 8, 0		/* 0x30: a 16-byte TSS descriptor per CPU */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.globl boot_info_paddr, boot_protocol, ap_counter
	.balign 8
boot_info_paddr:
	.quad 0
boot_protocol:
	.long 0
ap_counter:
	.long 0

	.bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096
	.balign 16
	.skip 16384
bsp_kstack_top:
	.globl ap_kstacks
ap_kstacks:
	.skip 4096 * 65

	.section .note.GNU-stack, "", @progbits
