// SPDX-License-Identifier: MIT
/*
 * fuzz[=harness]: the test guest as a gmvm fuzz target (guest/gmvm_fuzz.h).
 * It asks for a 64 KiB coverage map, maps it, and asks for inputs in a
 * 1 MiB buffer at 4 MiB; gmvm snapshots there. Each input goes to the
 * record parser (fuzz_target.c), whose overrun is reported as a crash.
 *
 * With =harness, inputs starting with '!' test gmvm itself:
 *   !N        a counter in memory must read 1 after its increment (reset)
 *   !A        every page of the canvas (RAM from 8 MiB) holds its pattern;
 *             then each is overwritten (a reset must bring all of it back)
 *   !P<n16>   write one word into each of the first n canvas pages
 *   !T        the TSC is within 2^31 cycles of the snapshot's (the code
 *             says by how much it is not)
 *   !L        write the local APIC's timer vector, masked (state only a
 *             reset of the local APIC puts back)
 *   !S        print a line on the serial port and write its scratch
 *             register with the input's last byte (device state)
 *   !X        touch unmapped memory (an exception: the guest exits 3)
 *   !E        exit through the debug-exit port with status 5
 *   !F        triple fault
 *   !H        spin forever (a hang)
 */
#include "fuzz_target.h"
#include "gmvm_fuzz.h"
#include "guest.h"

#define FUZZ_MAP_SIZE 65536u
#define FUZZ_BUF_ADDR 0x400000ul
#define FUZZ_BUF_SIZE (1ul << 20)
#define CANVAS_START (8ul << 20)
#define LAPIC_LVT_TIMER 0x320
#define UART_SCR 7
#define LVT_MASKED 0x10000u

/* Harness codes reported with gmvm_fuzz_crash(). */
#define CRASH_COUNTER 0xc0
#define CRASH_CANVAS 0xca
#define CRASH_TSC 0x75c

static volatile uint64_t counter;
static uint64_t snap_tsc;
static uint64_t canvas_end;

static uint64_t canvas_pattern(uint64_t addr)
{
	return addr * 0x9e3779b97f4a7c15ull;
}

static void canvas_fill(void)
{
	canvas_end = boot_info.nr_ram ? boot_info.ram[0].end & ~4095ull : 0;
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].start <= CANVAS_START && boot_info.ram[i].end > CANVAS_START)
			canvas_end = boot_info.ram[i].end & ~4095ull;
	for (uint64_t a = CANVAS_START; a < canvas_end; a += 4096)
		*(volatile uint64_t *)a = canvas_pattern(a);
}

static void harness(const uint8_t *in, size_t len)
{
	uint64_t n;

	switch (len > 1 ? in[1] : 0) {
	case 'N':
		if (++counter != 1)
			gmvm_fuzz_crash(CRASH_COUNTER);
		break;
	case 'A':
		for (uint64_t a = CANVAS_START; a < canvas_end; a += 4096)
			if (*(volatile uint64_t *)a != canvas_pattern(a))
				gmvm_fuzz_crash(CRASH_CANVAS);
		for (uint64_t a = CANVAS_START; a < canvas_end; a += 4096)
			*(volatile uint64_t *)a = ~canvas_pattern(a);
		break;
	case 'P':
		n = len >= 4 ? (uint64_t)in[2] | (uint64_t)in[3] << 8 : 1;
		for (uint64_t a = CANVAS_START; n-- && a < canvas_end; a += 4096)
			*(volatile uint64_t *)a = ~canvas_pattern(a);
		break;
	case 'T':
		n = rdtsc() - snap_tsc;
		if (n > (1ull << 31))
			gmvm_fuzz_crash((uint64_t)CRASH_TSC << 48 | (n & 0xffffffffffffull));
		break;
	case 'L':
		mmio_write32(LAPIC_ADDR + LAPIC_LVT_TIMER, LVT_MASKED | 0xef);
		break;
	case 'S':
		printf("fuzz: a line on the serial port\n");
		outb(PORT_COM1 + UART_SCR, in[len - 1]);
		break;
	case 'X':
		*(volatile uint64_t *)0x7fff00000000ull = 1;
		break;
	case 'E':
		guest_exit(5);
	case 'F':
		syscall0(SYS_TRIPLE_FAULT);
		break;
	case 'H':
		for (;;)
			cpu_relax();
	}
}

int workload_fuzz(const char *arg, size_t len)
{
	bool with_harness = arg && len == 7 && !strncmp(arg, "harness", 7);
	uint8_t *buf = (uint8_t *)FUZZ_BUF_ADDR;
	uint64_t map;
	size_t n;

	if (arg && !with_harness) {
		printf("fuzz: the only argument is 'harness'\n");
		return -1;
	}
	map = gmvm_fuzz_coverage_request(FUZZ_MAP_SIZE);
	if (!map) {
		printf("fuzz: no coverage window (not under gmvm fuzz?)\n");
		return -1;
	}
	/* Mapped by the page fault handler on first touch, like RAM. */
	mmio_windows[nr_mmio_windows].start = map;
	mmio_windows[nr_mmio_windows].end = map + FUZZ_MAP_SIZE;
	nr_mmio_windows++;
	(void)*(volatile uint8_t *)map;
	memset(buf, 0, FUZZ_BUF_SIZE);
	if (with_harness)
		canvas_fill();
	printf("fuzz: coverage map at %#lx, inputs at %#lx%s\n", map, FUZZ_BUF_ADDR,
	       with_harness ? ", with the harness" : "");
	gmvm_fuzz_coverage_map((uint8_t *)map, FUZZ_MAP_SIZE);
	snap_tsc = rdtsc();
	/* Every run starts here, with the input gmvm wrote into buf. */
	n = gmvm_fuzz_input(FUZZ_BUF_ADDR, FUZZ_BUF_SIZE);
	if (with_harness && n && buf[0] == '!')
		harness(buf, n);
	else if (fuzz_target(buf, n) != FUZZ_TARGET_OK)
		gmvm_fuzz_crash(FUZZ_TARGET_OVERRUN);
	gmvm_fuzz_done();
	printf("fuzz: gmvm did not reset the VM after a run\n");
	return -1;
}
