/* SPDX-License-Identifier: MIT */
/*
 * gmvm test guest: a tiny kernel that switches to CPL3 at once (CPL0 code is
 * emulated slowly on our hosts) and runs workloads named on its command line.
 * Compiled freestanding with general registers only: no SSE, no x87.
 */
#ifndef TESTGUEST_GUEST_H
#define TESTGUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MAX_CPUS 64
#define GUEST_MAX_RAM_RANGES 16
#define KSTACK_SIZE 4096
#define USTACK_SIZE 16384

/* Exit statuses written to the debug-exit port. */
#define EXIT_OK 0
#define EXIT_FAILED 1		/* a workload's own check failed */
#define EXIT_EXCEPTION 3	/* unexpected CPU exception */
#define EXIT_BAD_CMDLINE 4

#define PORT_COM1 0x3f8
#define PORT_DEBUG_EXIT 0xf4
#define PORT_I8042_CMD 0x64
#define PORT_SNAPSHOT 0x4f0
#define VMGENID_ADDR 0xdf000ul
#define BOOT_TIMER_ADDR 0xc0000000ul
#define LAPIC_ADDR 0xfee00000ul
#define AP_TRAMPOLINE_ADDR 0x8000ul

enum boot_protocol {
	BOOT_PVH = 1,
	BOOT_LINUX64 = 2,
};

/* int $200 services (rax), for what CPL3 cannot do. */
enum syscall_nr {
	SYS_HALT = 0,		/* stop this CPU for good */
	SYS_START_APS = 1,	/* INIT-SIPI-SIPI to every other CPU */
	SYS_TRIPLE_FAULT = 2,	/* load an empty IDT and fault */
	SYS_EMULATE = 3,	/* run int3, fwait, stac, clac, popcnt at CPL0 */
	SYS_KVMCLOCK = 4,	/* register kvmclock: its time info, or 0 */
};

/* SYS_EMULATE's result: one bit per instruction that behaved. */
#define EMULATE_INT3 (1u << 0)
#define EMULATE_FWAIT (1u << 1)
#define EMULATE_STAC (1u << 2)
#define EMULATE_CLAC (1u << 3)
#define EMULATE_POPCNT (1u << 4)
#define EMULATE_ALL 0x1fu

struct ram_range {
	uint64_t start;
	uint64_t end;
};

/* What the boot path found, read by CPL3 code. */
struct boot_info {
	int protocol;
	const char *cmdline;
	uint64_t rsdp;		/* ACPI RSDP; 0: none */
	uint64_t initrd_addr;	/* 0: none */
	uint64_t initrd_size;
	unsigned int nr_ram;
	struct ram_range ram[GUEST_MAX_RAM_RANGES];
};

/* Per-CPU facts recorded at CPL0 (where CPUID is KVM's) and at CPL3. */
struct cpu_report {
	volatile uint32_t done;
	uint32_t lapic_id;	/* LAPIC ID register, read at CPL0 */
	uint32_t lapic_id_user;	/* the same, read at CPL3 through MMIO */
	uint32_t cpuid_apic_id;	/* CPUID 1 EBX[31:24], at CPL0 */
	uint32_t cpuid_x2apic_id; /* CPUID 0xB EDX, at CPL0; ~0 if absent */
};

/* kvmclock's time information (pvclock_vcpu_time_info), written by KVM. */
struct kvmclock_info {
	uint32_t version, pad;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad2[2];
};

/*
 * MMIO windows CPL3 code found (virtio-mmio on the command line): the page
 * fault handler maps them on first touch, as it maps RAM.
 */
#define GUEST_MAX_MMIO_WINDOWS 32
extern struct ram_range mmio_windows[GUEST_MAX_MMIO_WINDOWS];
extern unsigned int nr_mmio_windows;

extern uint64_t boot_info_paddr;
extern uint32_t boot_protocol;
extern struct boot_info boot_info;
extern struct cpu_report cpu_reports[GUEST_MAX_CPUS];
extern char _end[];

/* Port and MMIO access; ports work at CPL3 (IOPL=3 and the TSS I/O bitmap). */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline long syscall0(long nr)
{
	long ret;

	__asm__ volatile("int $200" : "=a"(ret) : "a"(nr) : "memory");
	return ret;
}

/* lib.c */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
void putc_serial(char c);
int getc_serial(void);
void puts_serial(const char *s);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf(const char *fmt, va_list ap);
__attribute__((noreturn)) void guest_exit(int status);
bool parse_u64(const char *s, size_t len, uint64_t *out);
bool parse_size(const char *s, size_t len, uint64_t *out);

/* bootinfo.c (CPL3) */
void boot_info_parse(void);
unsigned int mptable_apic_ids(uint8_t *ids, unsigned int max);

/* kernel.c (CPL0) */
__attribute__((noreturn)) void kernel_main(void);
__attribute__((noreturn)) void ap_main(unsigned int idx);

/* user.c, workloads (CPL3) */
__attribute__((noreturn)) void user_main(void);
__attribute__((noreturn)) void ap_user_main(unsigned int idx);
int workload_touch(const char *arg, size_t len);
int workload_smp(const char *arg, size_t len);
int workload_echo(const char *arg, size_t len);
int workload_verify(const char *arg, size_t len);
int workload_churn(const char *arg, size_t len);
int workload_initrd(const char *arg, size_t len);
int workload_emulate(const char *arg, size_t len);
int workload_rng(const char *arg, size_t len);
int workload_acpi(const char *arg, size_t len);
int workload_acpipoweroff(const char *arg, size_t len);
int workload_noacpi(const char *arg, size_t len);
int workload_blk(const char *arg, size_t len);
int workload_blkcheck(const char *arg, size_t len);
int workload_hvc(const char *arg, size_t len);
int workload_hvcecho(const char *arg, size_t len);
int workload_balloon(const char *arg, size_t len);
int workload_net(const char *arg, size_t len);
int workload_netreset(const char *arg, size_t len);
int workload_hostile(const char *arg, size_t len);
int workload_blkbench(const char *arg, size_t len);
int workload_netbench(const char *arg, size_t len);
int workload_vsock(const char *arg, size_t len);
int workload_fuzz(const char *arg, size_t len);

/* entry.S */
__attribute__((noreturn)) void enter_user(void (*fn)(void), uint64_t stack,
					  uint64_t arg);
extern const char ap_trampoline_start[], ap_trampoline_end[];
extern uint64_t kernel_cr3;
extern uint32_t ap_counter;

#endif /* TESTGUEST_GUEST_H */
