// SPDX-License-Identifier: MIT
/*
 * CPL3 main: run the workloads named on the command line, in order, and exit
 * through the debug port with 0 only if every one of them succeeded.
 *
 *   hello            print a greeting with what the boot path provided
 *   touch=SIZE       write a pattern over the top SIZE of RAM, verify it
 *   seed=N           pattern seed for the following touch workloads
 *   verify[=N]       check what the last touch wrote, N times (default 1)
 *   churn=N          N rounds of rewriting a counter in every touched page,
 *                    each checking the last (snapshot it mid-way)
 *   snapshot         ask the monitor for a snapshot (port 0x4f0), go on
 *   smp[=N]          every CPU in the MP table reports its APIC ID (N: count)
 *   boottimer[=N]    write 123 to the boot-timer window (N times)
 *   echo=N           read N bytes from COM1 and print them back
 *   initrd           print the initrd's size, address and first/last bytes
 *   spin             run forever (until the monitor stops the VM)
 *   halt             stop this CPU, idle, until the monitor ends the VM
 *   emulate          int3, fwait, stac, clac and popcnt at CPL0 behave
 *   rng              two reads from virtio-rng: non-zero and different
 *   acpi=CPUS,DEVS   the ACPI tables are sound and list CPUS CPUs and DEVS
 *                    virtio-mmio devices
 *   acpipoweroff[=N] power off through the FADT's sleep control register
 *                    (S5); with N, ask for sleep state N first and go on
 *   blk[=N]          write N sectors (default 128) from sector 8 of the
 *                    first virtio-blk disk, flush, read them back
 *   blkcheck[=N]     only read them back
 *   hvc=TEXT         write TEXT and a newline through virtio-console
 *   hvcecho=N        read N bytes from virtio-console, write them back and
 *                    a newline
 *   balloon=N[,nofill] fill the top N pages of RAM (unless nofill), inflate
 *                    and deflate them through virtio-balloon, check zeros;
 *                    then report them free, check zeros again
 *   net=GIP,HIP      virtio-net at GIP: ARP for HIP, 4 pings, check the replies
 *   netreset         reset that device, its receive buffers still posted
 *   hostile=KIND[,DEV] break the rules towards a device (see hostile.c),
 *                    check it refuses, reset it, check it works
 *   blkbench=MODE,DEPTH,SECONDS  DEPTH requests in flight on virtio-blk
 *                    (MODE rand4k-read|rand4k-write|seq1m-read|seq1m-write),
 *                    ops/s and MB/s, then a read-back check (blkbench.c)
 *   netbench=GIP,HIP,SECONDS  UDP frames to HIP as fast as virtio-net sends
 *                    them, packets/s (netbench.c)
 *   vsock=MODE,...   stream sockets over virtio-vsock: listen, connect,
 *                    refused, flood, stall, agent (virtio_vsock.c)
 *   fuzz[=harness]   a gmvm fuzz target: the record parser (fuzz.c)
 *   vmgenid          print the VM Generation ID's 16 bytes (--vmgenid)
 *   exit=N           exit now with status N
 *   reset            reset through the i8042 controller
 *   triplefault      crash the CPU (the monitor must report it)
 * An empty command line means hello. Words with a '.' before any '=' are
 * kernel-style parameters for someone else and are skipped.
 */
#include "guest.h"

struct workload {
	const char *name;
	int (*run)(const char *arg, size_t len);
};

static int workload_hello(const char *arg, size_t len)
{
	uint64_t ram = 0;

	(void)arg;
	(void)len;
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		ram += boot_info.ram[i].end - boot_info.ram[i].start;
	printf("Hello from the gmvm test guest: %s boot, %lu MiB RAM in %u ranges, command line \"%s\"\n",
	       boot_info.protocol == BOOT_PVH ? "PVH" : "64-bit Linux",
	       ram >> 20, boot_info.nr_ram, boot_info.cmdline);
	return 0;
}

static int workload_exit(const char *arg, size_t len)
{
	uint64_t status;

	if (!parse_u64(arg, len, &status) || status > 255) {
		printf("testguest: exit needs a status from 0 to 255\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	guest_exit(status);
}

static int workload_reset(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	outb(PORT_I8042_CMD, 0xfe);
	for (uint64_t t = rdtsc(); rdtsc() - t < 10000000000ull;)
		cpu_relax();
	printf("reset: still running after the reset command\n");
	return -1;
}

static int workload_boottimer(const char *arg, size_t len)
{
	uint64_t n = 1;

	if (arg && (!parse_u64(arg, len, &n) || !n)) {
		printf("boottimer: bad count\n");
		return -1;
	}
	for (uint64_t i = 0; i < n; i++)
		mmio_write8(BOOT_TIMER_ADDR, 123);
	return 0;
}

static int workload_snapshot(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	printf("snapshot: requesting\n");
	outb(PORT_SNAPSHOT, 1);
	printf("snapshot: resumed\n");
	return 0;
}

/* Idle for good: a density benchmark's clone, alive and costing no CPU. */
static int workload_halt(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	printf("halt: idle until the monitor stops the VM\n");
	syscall0(SYS_HALT);
	return 0;
}

static int workload_spin(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	printf("spin: running until stopped\n");
	for (;;)
		cpu_relax();
	return 0;
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

int workload_initrd(const char *arg, size_t len)
{
	const uint8_t *p = (const uint8_t *)boot_info.initrd_addr;
	uint64_t n = boot_info.initrd_size;

	(void)arg;
	(void)len;
	if (!p || !n) {
		printf("initrd: none\n");
		return -1;
	}
	printf("initrd: %lu bytes at %#lx, first ", n, (uint64_t)p);
	print_hex(p, n < 16 ? n : 16);
	printf(" last ");
	print_hex(p + (n < 16 ? 0 : n - 16), n < 16 ? n : 16);
	printf("\n");
	return 0;
}

int workload_echo(const char *arg, size_t len)
{
	uint64_t n;

	if (!parse_u64(arg, len, &n)) {
		printf("echo: needs a byte count\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	printf("echo: waiting for %lu bytes\n", n);
	printf("echo: got \"");
	while (n--)
		putc_serial(getc_serial());
	printf("\"\n");
	return 0;
}

int workload_emulate(const char *arg, size_t len)
{
	long ok;

	(void)arg;
	(void)len;
	ok = syscall0(SYS_EMULATE);
	printf("emulate: int3 %s, fwait %s, stac %s, clac %s, popcnt %s\n",
	       ok & EMULATE_INT3 ? "ok" : "BAD", ok & EMULATE_FWAIT ? "ok" : "BAD",
	       ok & EMULATE_STAC ? "ok" : "BAD", ok & EMULATE_CLAC ? "ok" : "BAD",
	       ok & EMULATE_POPCNT ? "ok" : "BAD");
	return ok == EMULATE_ALL ? 0 : -1;
}

/* gmvm's --vmgenid: its 16 bytes, where gmvm puts them (LAYOUT_VMGENID_ADDR). */
static int workload_vmgenid(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	printf("vmgenid: ");
	print_hex((const uint8_t *)VMGENID_ADDR, 16);
	printf("\n");
	return 0;
}

static int workload_triplefault(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	syscall0(SYS_TRIPLE_FAULT);
	printf("triplefault: the CPU survived\n");
	return -1;
}

extern uint64_t touch_seed;

static int workload_seed(const char *arg, size_t len)
{
	if (!parse_u64(arg, len, &touch_seed)) {
		printf("testguest: seed needs a number\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	return 0;
}

static const struct workload workloads[] = {
	{ "hello", workload_hello },
	{ "touch", workload_touch },
	{ "seed", workload_seed },
	{ "verify", workload_verify },
	{ "churn", workload_churn },
	{ "snapshot", workload_snapshot },
	{ "smp", workload_smp },
	{ "boottimer", workload_boottimer },
	{ "echo", workload_echo },
	{ "initrd", workload_initrd },
	{ "spin", workload_spin },
	{ "halt", workload_halt },
	{ "emulate", workload_emulate },
	{ "rng", workload_rng },
	{ "acpi", workload_acpi },
	{ "acpipoweroff", workload_acpipoweroff },
	{ "noacpi", workload_noacpi },
	{ "blk", workload_blk },
	{ "blkcheck", workload_blkcheck },
	{ "hvc", workload_hvc },
	{ "hvcecho", workload_hvcecho },
	{ "balloon", workload_balloon },
	{ "net", workload_net },
	{ "netreset", workload_netreset },
	{ "hostile", workload_hostile },
	{ "blkbench", workload_blkbench },
	{ "netbench", workload_netbench },
	{ "vsock", workload_vsock },
	{ "fuzz", workload_fuzz },
	{ "vmgenid", workload_vmgenid },
	{ "exit", workload_exit },
	{ "reset", workload_reset },
	{ "triplefault", workload_triplefault },
};

static bool is_kernel_param(const char *w, size_t len)
{
	for (size_t i = 0; i < len && w[i] != '='; i++)
		if (w[i] == '.')
			return true;
	return false;
}

static int run_word(const char *w, size_t len)
{
	size_t name_len = 0;
	const char *arg = NULL;
	size_t arg_len = 0;

	while (name_len < len && w[name_len] != '=')
		name_len++;
	if (name_len < len) {
		arg = w + name_len + 1;
		arg_len = len - name_len - 1;
	}
	for (unsigned int i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		const struct workload *wl = &workloads[i];

		if (strlen(wl->name) != name_len || strncmp(wl->name, w, name_len))
			continue;
		if (wl->run(arg, arg_len)) {
			printf("testguest: %s failed\n", wl->name);
			guest_exit(EXIT_FAILED);
		}
		return 0;
	}
	return -1;
}

void user_main(void)
{
	const char *p;
	bool any = false;

	boot_info_parse();
	for (p = boot_info.cmdline; *p;) {
		const char *w;
		size_t len = 0;

		while (*p == ' ')
			p++;
		w = p;
		while (p[len] && p[len] != ' ')
			len++;
		p += len;
		if (!len || is_kernel_param(w, len))
			continue;
		any = true;
		if (run_word(w, len)) {
			printf("testguest: unknown workload '%.*s'\n", (int)len, w);
			guest_exit(EXIT_BAD_CMDLINE);
		}
	}
	if (!any)
		workload_hello(NULL, 0);
	printf("testguest: ok\n");
	guest_exit(EXIT_OK);
}
