// SPDX-License-Identifier: MIT
/*
 * acpi=CPUS,DEVICES: the ACPI tables the boot protocol points at are sound
 * (signatures, checksums) and describe CPUS processors in the MADT and
 * DEVICES virtio-mmio windows (LNRO0005) in the DSDT.
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

int workload_acpi(const char *arg, size_t len)
{
	const uint8_t *rsdp = (const uint8_t *)boot_info.rsdp, *xsdt, *madt = NULL, *fadt = NULL;
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
	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) || sum(rsdp, 20) || sum(rsdp, 36)) {
		printf("acpi: no good RSDP at %#lx\n", boot_info.rsdp);
		return -1;
	}
	xsdt = table(get64(rsdp + 24), "XSDT");
	if (!xsdt)
		return -1;
	for (uint32_t off = 36; off + 8 <= get32(xsdt + 4); off += 8) {
		const uint8_t *t = (const uint8_t *)get64(xsdt + off);

		if (!memcmp(t, "APIC", 4))
			madt = table((uint64_t)t, "APIC");
		else if (!memcmp(t, "FACP", 4))
			fadt = table((uint64_t)t, "FACP");
	}
	if (!madt || !fadt || !table(get64(fadt + 140), "DSDT"))
		return -1;
	cpus = madt_cpus(madt);
	devs = count_hid((const uint8_t *)get64(fadt + 140), "LNRO0005");
	printf("acpi: RSDP at %#lx, %u CPUs in the MADT, %u virtio-mmio devices and %u UART in the DSDT\n",
	       boot_info.rsdp, cpus, devs,
	       count_hid((const uint8_t *)get64(fadt + 140), "\x41\xd0\x05\x01"));
	return cpus == want_cpus && devs == want_dev ? 0 : -1;
}
