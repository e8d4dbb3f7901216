// SPDX-License-Identifier: MIT
/*
 * The CPL0 part of the test guest: descriptor tables, page tables, AP
 * start-up and the few services CPL3 asks for through int $200. Every
 * instruction here is emulated on our hosts, so it does as little as it can.
 */
#include "guest.h"

#define IDT_ENTRIES 256
#define SYSCALL_VECTOR 200
#define VECTOR_BP 3
#define VECTOR_UD 6
#define VECTOR_PF 14
#define PD_POOL 64			/* page directories: 64 GiB mapped */
#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_USER 0x4ull
#define PTE_LARGE 0x80ull

#define LAPIC_ID 0x20
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_INIT_ALL_BUT_SELF 0x000c4500u
#define ICR_SIPI_ALL_BUT_SELF 0x000c4600u

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iopb;
} __attribute__((packed));

struct cpu_report cpu_reports[GUEST_MAX_CPUS];
uint64_t kernel_cr3;
struct ram_range mmio_windows[GUEST_MAX_MMIO_WINDOWS];
unsigned int nr_mmio_windows;

extern const uint64_t isr_table[33];
extern uint64_t gdt[];
extern char ap_kstacks[];

/*
 * Ports at CPL3: kvm-pvm drops IOPL on the way to user mode but honours the
 * TSS I/O permission bitmap. Every CPU's TSS points (iopb is an offset from
 * the TSS base) at one all-zero bitmap placed right after the TSS array.
 */
static struct {
	struct tss tss[GUEST_MAX_CPUS];
	uint8_t iomap[65536 / 8 + 1];	/* all ports allowed, 0xff ends it */
} tss_area __attribute__((aligned(64)));

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_pool[PD_POOL][512] __attribute__((aligned(4096)));
static char bsp_ustack[USTACK_SIZE] __attribute__((aligned(16)));
static char ap_ustacks[GUEST_MAX_CPUS][4096] __attribute__((aligned(16)));

static void idt_set(unsigned int vec, uint64_t handler, unsigned int dpl)
{
	idt[vec] = (struct idt_gate){
		.offset_low = handler & 0xffff,
		.selector = 0x08,
		.type = 0x8e | dpl << 5,	/* present interrupt gate */
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_high = handler >> 32,
	};
}

static void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(ptr));
}

/* This CPU's TSS (trap stack from CPL3, port access) in GDT slot 6 + 2 * cpu. */
static void tss_load(unsigned int cpu)
{
	struct tss *t = &tss_area.tss[cpu];
	uint64_t base = (uint64_t)t;
	uint64_t limit = (uint64_t)(&tss_area + 1) - base - 1;
	uint16_t sel = 0x30 + 16 * cpu;

	t->rsp[0] = (uint64_t)ap_kstacks + (cpu + 1) * KSTACK_SIZE;
	t->iopb = (uint64_t)tss_area.iomap - base;
	tss_area.iomap[sizeof(tss_area.iomap) - 1] = 0xff;
	gdt[6 + 2 * cpu] = (limit & 0xffff) | ((limit >> 16) & 0xf) << 48 |
			   (base & 0xffffff) << 16 |
			   0x89ull << 40 | ((base >> 24) & 0xff) << 56;
	gdt[7 + 2 * cpu] = base >> 32;
	__asm__ volatile("ltr %0" : : "r"(sel));
}

/*
 * Paging: an identity map in 2 MiB pages, all user-visible. Only the first
 * 4 MiB (this image, the boot structures) and the MMIO windows the guest
 * uses are mapped up front; RAM is mapped when first touched, by the page
 * fault handler. Filling page tables at CPL0 is emulated instruction by
 * instruction on our hosts, so a 4 GiB guest must not pay for 2048 entries
 * before it does anything.
 */
static const uint64_t eager_mmio[] = { BOOT_TIMER_ADDR, 0xfec00000ul, LAPIC_ADDR };

static unsigned int mapped_gib;

static void map_2m(uint64_t addr)
{
	uint64_t g = addr >> 30, i = (addr >> 21) & 511;

	pd_pool[g][i] = (addr & ~((2ull << 20) - 1)) | PTE_PRESENT |
			PTE_WRITE | PTE_USER | PTE_LARGE;
}

static bool is_ram(uint64_t addr)
{
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (addr >= boot_info.ram[i].start && addr < boot_info.ram[i].end)
			return true;
	return false;
}

static void paging_init(void)
{
	uint64_t top = 4ull << 30;

	boot_info_parse();
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].end > top)
			top = boot_info.ram[i].end;
	mapped_gib = (top + (1ull << 30) - 1) >> 30;
	if (mapped_gib > PD_POOL)
		mapped_gib = PD_POOL;
	pml4[0] = (uint64_t)pdpt | PTE_PRESENT | PTE_WRITE | PTE_USER;
	for (unsigned int g = 0; g < mapped_gib; g++)
		pdpt[g] = (uint64_t)pd_pool[g] | PTE_PRESENT | PTE_WRITE | PTE_USER;
	map_2m(0);
	map_2m(2ull << 20);
	for (unsigned int i = 0; i < sizeof(eager_mmio) / sizeof(eager_mmio[0]); i++)
		map_2m(eager_mmio[i]);
	kernel_cr3 = (uint64_t)pml4;
	__asm__ volatile("mov %0, %%cr3" : : "r"(kernel_cr3) : "memory");
}

/*
 * Where devices sit is known only once CPL3 code has read the command line
 * (parsing it here would be emulated): it lists them in mmio_windows.
 */
static bool is_mmio_window(uint64_t addr)
{
	for (unsigned int i = 0; i < nr_mmio_windows && i < GUEST_MAX_MMIO_WINDOWS; i++)
		if (addr >= mmio_windows[i].start && addr < mmio_windows[i].end)
			return true;
	return false;
}

/* A not-present fault on RAM or a known MMIO window: map its 2 MiB page. */
static bool page_fault_map(uint64_t cr2, uint64_t error)
{
	if ((error & 1) || (cr2 >> 30) >= mapped_gib ||
	    !(is_ram(cr2) || is_mmio_window(cr2)))
		return false;
	map_2m(cr2);
	return true;
}

static void start_aps(void)
{
	memcpy((void *)AP_TRAMPOLINE_ADDR, ap_trampoline_start,
	       ap_trampoline_end - ap_trampoline_start);
	mmio_write32(LAPIC_ADDR + LAPIC_ICR_HIGH, 0);
	mmio_write32(LAPIC_ADDR + LAPIC_ICR_LOW, ICR_INIT_ALL_BUT_SELF);
	for (int i = 0; i < 2; i++)
		mmio_write32(LAPIC_ADDR + LAPIC_ICR_LOW,
			     ICR_SIPI_ALL_BUT_SELF | (AP_TRAMPOLINE_ADDR >> 12));
}

__attribute__((noreturn)) static void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) none = { 0, 0 };

	__asm__ volatile("lidt %0; ud2" : : "m"(none));
}

static volatile unsigned int bp_hits;

/*
 * Instructions the host's emulator may not execute at CPL0 (the monitor
 * completes them): each must behave as on hardware.
 */
static long emulate_test(void)
{
	unsigned int ok = 0, hits = bp_hits;
	uint64_t flags, v = 0xf0f0f0f00000000full, n = 0;

	__asm__ volatile("int3" ::: "memory");
	if (bp_hits == hits + 1)
		ok |= EMULATE_INT3;
	__asm__ volatile("fwait" ::: "memory");
	ok |= EMULATE_FWAIT;
	__asm__ volatile("stac; pushfq; popq %0" : "=r"(flags) :: "memory");
	if (flags & (1ull << 18))
		ok |= EMULATE_STAC;
	__asm__ volatile("clac; pushfq; popq %0" : "=r"(flags) :: "memory");
	if (!(flags & (1ull << 18)))
		ok |= EMULATE_CLAC;
	__asm__ volatile("popcnt %1, %0" : "=r"(n) : "r"(v) : "cc");
	if (n == 20)
		ok |= EMULATE_POPCNT;
	return ok;
}

/*
 * kvmclock, for a TSC frequency CPL3 can trust under any KVM monitor. Its
 * CPUID leaves are KVM's only at CPL0; CPL3's may come from elsewhere.
 */
static struct kvmclock_info kvmclock __attribute__((aligned(64)));

static long kvmclock_enable(void)
{
	uint64_t pa = (uint64_t)&kvmclock | 1;
	uint32_t r[4];

	cpuid(0x40000000, 0, r);
	/* "KVMKVMKVM\0\0\0" */
	if (r[1] != 0x4b4d564bu || r[2] != 0x564b4d56u || r[3] != 0x4du)
		return 0;
	cpuid(0x40000001, 0, r);
	if (!(r[0] & KVM_FEATURE_CLOCKSOURCE2))
		return 0;
	__asm__ volatile("wrmsr" : : "c"(MSR_KVM_SYSTEM_TIME_NEW),
			 "a"((uint32_t)pa), "d"((uint32_t)(pa >> 32)) : "memory");
	return (long)&kvmclock;
}

static long do_syscall(uint64_t nr)
{
	switch (nr) {
	case SYS_HALT:
		halt_forever();
	case SYS_START_APS:
		start_aps();
		return 0;
	case SYS_TRIPLE_FAULT:
		triple_fault();
		return -1;
	case SYS_EMULATE:
		return emulate_test();
	case SYS_KVMCLOCK:
		return kvmclock_enable();
	default:
		return -1;
	}
}

void trap_handler(struct trap_frame *f);
void trap_handler(struct trap_frame *f)
{
	uint64_t cr2;

	if (f->vector == SYSCALL_VECTOR) {
		f->rax = do_syscall(f->rax);
		return;
	}
	/*
	 * kvm-pvm raises #UD for a software interrupt from CPL3 instead of
	 * taking the gate: complete `int $SYSCALL_VECTOR` here.
	 */
	if (f->vector == VECTOR_UD && (f->cs & 3) == 3 &&
	    ((const uint8_t *)f->rip)[0] == 0xcd &&
	    ((const uint8_t *)f->rip)[1] == SYSCALL_VECTOR) {
		f->rip += 2;
		f->rax = do_syscall(f->rax);
		return;
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (f->vector == VECTOR_PF && page_fault_map(cr2, f->error))
		return;
	/* emulate_test()'s int3: a trap, return after it. */
	if (f->vector == VECTOR_BP && (f->cs & 3) == 0) {
		bp_hits++;
		return;
	}
	printf("testguest: exception %lu (error %#lx) at rip %#lx cs %#lx rflags %#lx rsp %#lx cr2 %#lx\n",
	       f->vector, f->error, f->rip, f->cs, f->rflags, f->rsp, cr2);
	guest_exit(EXIT_EXCEPTION);
}

/* What this CPU looks like from CPL0, where CPUID is KVM's. */
static void cpu_record(unsigned int idx)
{
	struct cpu_report *r = &cpu_reports[idx];
	uint32_t regs[4];

	r->lapic_id = mmio_read32(LAPIC_ADDR + LAPIC_ID) >> 24;
	cpuid(1, 0, regs);
	r->cpuid_apic_id = regs[1] >> 24;
	cpuid(0, 0, regs);
	r->cpuid_x2apic_id = ~0u;
	if (regs[0] >= 0xb) {
		cpuid(0xb, 0, regs);
		r->cpuid_x2apic_id = regs[3];
	}
}

static void cpu_init(unsigned int idx)
{
	tss_load(idx);
	idt_load();
	cpu_record(idx);
}

void kernel_main(void)
{
	for (unsigned int v = 0; v < 32; v++)
		idt_set(v, isr_table[v], 0);
	idt_set(SYSCALL_VECTOR, isr_table[32], 3);
	paging_init();
	cpu_init(0);
	enter_user((void (*)(void))user_main,
		   (uint64_t)bsp_ustack + sizeof(bsp_ustack), 0);
}

void ap_main(unsigned int idx)
{
	if (idx >= GUEST_MAX_CPUS)
		halt_forever();
	cpu_init(idx);
	enter_user((void (*)(void))ap_user_main,
		   (uint64_t)ap_ustacks[idx] + sizeof(ap_ustacks[idx]), idx);
}
