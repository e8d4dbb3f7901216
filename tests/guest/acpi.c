// SPDX-License-Identifier: MIT
/*
 * acpi=CPUS,DEVICES: the ACPI tables the boot protocol points at are sound
 * (signatures, checksums) and describe CPUS processors in the MADT and
 * DEVICES virtio-mmio windows (LNRO0005) in the DSDT.
 *
 * acpipoweroff[=N]: power off as Linux does in a hardware-reduced guest:
 * SLP_TYP 5 (\_S5's) with SLP_EN to the FADT's sleep control register.
 * SLP_TYP 5 without SLP_EN comes first and must do nothing. With N, sleep
 * state N is asked for first, twice; the monitor must ignore it (warning
 * once) and let the guest go on. Still running after the S5 request is a
 * failure.
 */
#include "guest.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* A table at addr with signature sig and a good checksum, or NULL. */
static const uint8_t *table(uint64_t addr, const char *sig)
{
	const uint8_t *t = (const uint8_t *)addr;

	if (!addr || memcmp(t, sig, 4) || get32(t + 4) < 36 ||
	    sum(t, get32(t + 4))) {
		printf("acpi: no good %s table at %#lx\n", sig, addr);
		return NULL;
	}
	return t;
}

static unsigned int madt_cpus(const uint8_t *madt)
{
	uint32_t len = get32(madt + 4);
	unsigned int n = 0;

	for (uint32_t off = 44; off + 2 <= len && madt[off + 1]; off += madt[off + 1])
		if ((madt[off] == 0 && (madt[off + 4] & 1)) ||
		    (madt[off] == 9 && (madt[off + 8] & 1)))
			n++;
	return n;
}

static unsigned int count_hid(const uint8_t *dsdt, const char *hid)
{
	uint32_t len = get32(dsdt + 4);
	size_t hl = strlen(hid);
	unsigned int n = 0;

	for (uint32_t off = 36; off + hl <= len; off++)
		n += !memcmp(dsdt + off, hid, hl);
	return n;
}

/* The XSDT, through the RSDP the boot protocol gave, or NULL. */
static const uint8_t *xsdt_find(void)
{
	const uint8_t *rsdp = (const uint8_t *)boot_info.rsdp;

	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) || sum(rsdp, 20) || sum(rsdp, 36)) {
		printf("acpi: no good RSDP at %#lx\n", boot_info.rsdp);
		return NULL;
	}
	return table(get64(rsdp + 24), "XSDT");
}

/* The table the XSDT lists as sig, checked, or NULL. */
static const uint8_t *xsdt_table(const uint8_t *xsdt, const char *sig)
{
	for (uint32_t off = 36; off + 8 <= get32(xsdt + 4); off += 8) {
		const uint8_t *t = (const uint8_t *)get64(xsdt + off);

		if (!memcmp(t, sig, 4))
			return table((uint64_t)t, sig);
	}
	printf("acpi: the XSDT lists no %s table\n", sig);
	return NULL;
}

int workload_acpi(const char *arg, size_t len)
{
	const uint8_t *xsdt, *madt, *fadt;
	uint64_t want_cpus = 0, want_dev = 0;
	size_t comma = 0;
	unsigned int cpus, devs;

	while (comma < len && arg[comma] != ',')
		comma++;
	if (!arg || comma == len || !parse_u64(arg, comma, &want_cpus) ||
	    !parse_u64(arg + comma + 1, len - comma - 1, &want_dev)) {
		printf("acpi: needs CPUS,DEVICES\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	xsdt = xsdt_find();
	if (!xsdt)
		return -1;
	madt = xsdt_table(xsdt, "APIC");
	fadt = xsdt_table(xsdt, "FACP");
	if (!madt || !fadt || !table(get64(fadt + 140), "DSDT"))
		return -1;
	cpus = madt_cpus(madt);
	devs = count_hid((const uint8_t *)get64(fadt + 140), "LNRO0005");
	printf("acpi: RSDP at %#lx, %u CPUs in the MADT, %u virtio-mmio devices and %u UART in the DSDT\n",
	       boot_info.rsdp, cpus, devs,
	       count_hid((const uint8_t *)get64(fadt + 140), "\x41\xd0\x05\x01"));
	return cpus == want_cpus && devs == want_dev ? 0 : -1;
}

#define FADT_SLEEP_CONTROL 244		/* Generic Address Structures */
#define FADT_SLEEP_STATUS 256
#define FADT_V6_LEN 276
#define GAS_SYSTEM_IO 1
#define SLP_TYP_SHIFT 2
#define SLP_EN 0x20
#define WAK_STS 0x80
#define SLEEP_WAIT_CYCLES 1000000000ull	/* about a second at most */

/* The port of the byte-wide System I/O register at fadt + off, or 0. */
static uint16_t sleep_port(const uint8_t *fadt, uint32_t off, const char *what)
{
	uint64_t addr = get64(fadt + off + 4);

	if (get32(fadt + 4) < FADT_V6_LEN || !addr) {
		printf("acpipoweroff: no sleep %s register in the FADT\n", what);
		return 0;
	}
	if (fadt[off] != GAS_SYSTEM_IO || fadt[off + 1] != 8 || addr > 0xffff) {
		printf("acpipoweroff: the sleep %s register is not an 8-bit port\n",
		       what);
		return 0;
	}
	return (uint16_t)addr;
}

/* Ask for sleep state typ as Linux's acpi_hw_extended_sleep does. */
static void sleep_request(uint16_t control, uint16_t status, uint64_t typ)
{
	outb(status, WAK_STS);		/* write 1 to clear */
	outb(control, (uint8_t)(typ << SLP_TYP_SHIFT | SLP_EN));
}

int workload_acpipoweroff(const char *arg, size_t len)
{
	const uint8_t *xsdt, *fadt = NULL;
	uint16_t control, status;
	uint64_t first = 5;

	if (arg && (!parse_u64(arg, len, &first) || first > 7 || first == 5)) {
		printf("acpipoweroff: N is a sleep state from 0 to 7, not 5\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	xsdt = xsdt_find();
	if (xsdt)
		fadt = xsdt_table(xsdt, "FACP");
	if (!fadt)
		return -1;
	control = sleep_port(fadt, FADT_SLEEP_CONTROL, "control");
	status = sleep_port(fadt, FADT_SLEEP_STATUS, "status");
	if (!control || !status)
		return -1;
	if (inb(control) || inb(status)) {
		printf("acpipoweroff: the sleep registers do not read 0\n");
		return -1;
	}
	outb(control, 5 << SLP_TYP_SHIFT);	/* no SLP_EN: nothing */
	if (arg) {
		sleep_request(control, status, first);
		sleep_request(control, status, first);
		printf("acpipoweroff: S%lu ignored, still running\n", first);
	}
	printf("acpipoweroff: S5 through port %#x\n", control);
	sleep_request(control, status, 5);
	for (uint64_t t = rdtsc(); rdtsc() - t < SLEEP_WAIT_CYCLES;)
		cpu_relax();
	printf("acpipoweroff: still running after the S5 request\n");
	return -1;
}

/*
 * noacpi: no ACPI tables at all, neither given by the boot protocol nor
 * where Linux scans for an RSDP without one (0xe0000-0xfffff, 16-byte
 * steps): a Linux guest then reads the MP table.
 */
int workload_noacpi(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	if (boot_info.rsdp) {
		printf("noacpi: the boot protocol gives an RSDP at %#lx\n",
		       boot_info.rsdp);
		return -1;
	}
	for (uintptr_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8)) {
			printf("noacpi: an RSDP at %#lx\n", (unsigned long)a);
			return -1;
		}
	printf("noacpi: no RSDP\n");
	return 0;
}
