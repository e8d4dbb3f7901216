// SPDX-License-Identifier: MIT
/*
 * The ACPI tables, read back from guest memory the way a kernel walks them:
 * RSDP -> XSDT -> FADT (-> DSDT) and MADT. Every table's checksum, the
 * fields Linux reads, the MADT's entries for 1, 2, 64 and 256 CPUs, the DSDT
 * byte for byte, and the refusals: bad parameters and tables that do not
 * fit, which must leave guest memory untouched.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "acpi.h"
#include "tap.h"

#define FILL 0xaa
#define GUEST_SIZE (2 * MIB)
#define ADDR ACPI_TABLES_ADDR
#define LIMIT ACPI_TABLES_LIMIT

static struct guest_mem mem;

static bool guest_new(void)
{
	void *p;

	if (guest_mem_layout(&mem, GUEST_SIZE))
		return false;
	p = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	mem.base = p;
	return true;
}

static void guest_fill(void)
{
	memset(mem.base, FILL, GUEST_SIZE);
}

static bool untouched(uint64_t from, uint64_t to)
{
	for (uint64_t a = from; a < to; a++)
		if (mem.base[a] != FILL)
			return false;
	return true;
}

static uint64_t rd(uint64_t gpa, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)mem.base[gpa + i] << (8 * i);
	return v;
}

static bool sums_to_zero(uint64_t gpa, uint64_t len)
{
	uint8_t sum = 0;

	for (uint64_t i = 0; i < len; i++)
		sum += mem.base[gpa + i];
	return sum == 0;
}

static bool sig_is(uint64_t gpa, const char *sig)
{
	return gpa + 4 <= GUEST_SIZE && !memcmp(mem.base + gpa, sig, 4);
}

/* The table called sig that the XSDT lists, or 0. */
static uint64_t xsdt_find(uint64_t rsdp, const char *sig)
{
	uint64_t xsdt = rd(rsdp + 24, 8);
	uint32_t len = (uint32_t)rd(xsdt + 4, 4);

	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		uint64_t t = rd(xsdt + off, 8);

		if (sig_is(t, sig))
			return t;
	}
	return 0;
}

static int write_tables(unsigned int cpus, const struct acpi_virtio_window *w,
			unsigned int nr, uint64_t limit, uint64_t *rsdp,
			struct err *e)
{
	struct acpi_params p = { .nr_cpus = cpus, .virtio = w, .nr_virtio = nr };

	guest_fill();
	err_clear(e);
	*rsdp = 0;
	return acpi_write_tables(&mem, ADDR, limit, &p, rsdp, e);
}

/* nr windows of 4 KiB from 0xd0000000, GSIs from 5. */
static void make_windows(struct acpi_virtio_window *w, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		w[i] = (struct acpi_virtio_window){ 0xd0000000ull + i * 0x1000,
						    0x1000, 5 + i };
}

/* --- The tables ----------------------------------------------------------- */

static void check_header(uint64_t t, const char *sig, unsigned int rev)
{
	char table_id[9] = "GMVM";

	memcpy(table_id + 4, sig, 4);
	ok(sig_is(t, sig), "%s: signature", sig);
	is_int(rd(t + 8, 1), rev, "%s: revision %u", sig, rev);
	ok(sums_to_zero(t, rd(t + 4, 4)), "%s: checksum", sig);
	ok(!memcmp(mem.base + t + 10, "GMVM  ", 6), "%s: OEM ID GMVM", sig);
	ok(!memcmp(mem.base + t + 16, table_id, 8), "%s: OEM table ID %s",
	   sig, table_id);
	ok(!memcmp(mem.base + t + 28, "GMVM", 4), "%s: creator ID GMVM", sig);
}

static void test_rsdp_xsdt(uint64_t rsdp)
{
	uint64_t xsdt = rd(rsdp + 24, 8);

	is_u64(rsdp, ADDR, "the RSDP is at the given address");
	ok(!memcmp(mem.base + rsdp, "RSD PTR ", 8), "RSDP: signature");
	ok(sums_to_zero(rsdp, 20), "RSDP: ACPI 1.0 checksum (20 bytes)");
	ok(sums_to_zero(rsdp, 36), "RSDP: extended checksum (36 bytes)");
	is_int(rd(rsdp + 15, 1), 2, "RSDP: revision 2");
	is_int(rd(rsdp + 20, 4), 36, "RSDP: length 36");
	is_int(rd(rsdp + 16, 4), 0, "RSDP: no RSDT");
	ok(!memcmp(mem.base + rsdp + 9, "GMVM  ", 6), "RSDP: OEM ID GMVM");
	ok(IS_ALIGNED(xsdt, 16) && xsdt > rsdp && xsdt < LIMIT,
	   "RSDP: XSDT address %#llx", (unsigned long long)xsdt);
	check_header(xsdt, "XSDT", 1);
	is_int(rd(xsdt + 4, 4), 36 + 2 * 8, "XSDT: two entries");
	ok(sig_is(rd(xsdt + 36, 8), "FACP"), "XSDT: first entry is the FADT");
	ok(sig_is(rd(xsdt + 44, 8), "APIC"), "XSDT: second entry is the MADT");
}

static void test_fadt(uint64_t rsdp)
{
	uint64_t f = xsdt_find(rsdp, "FACP");
	uint32_t flags = (uint32_t)rd(f + 112, 4);
	bool blank = true;

	check_header(f, "FACP", 6);
	is_int(rd(f + 4, 4), 276, "FADT: revision 6 length, 276 bytes");
	is_int(rd(f + 131, 1), 3, "FADT: minor revision 3 (ACPI 6.3)");
	ok(flags & (1u << 20), "FADT: HW_REDUCED_ACPI");
	ok(flags & (1u << 10), "FADT: RESET_REG_SUP");
	ok((flags & 0x30) == 0x30, "FADT: no fixed power or sleep button");
	is_u64(rd(f + 40, 4), rd(f + 140, 8), "FADT: DSDT and X_DSDT agree");
	ok(sig_is(rd(f + 140, 8), "DSDT"), "FADT: X_DSDT points at the DSDT");
	is_int(rd(f + 36, 4) | rd(f + 132, 8), 0, "FADT: no FACS");
	/* SCI, SMI command, PM1/PM2/timer/GPE blocks and their lengths. */
	for (uint64_t a = f + 44; a < f + 109; a++)
		blank &= mem.base[a] == 0;
	for (uint64_t a = f + 148; a < f + 244; a++)
		blank &= mem.base[a] == 0;
	ok(blank, "FADT: no SCI, PM or GPE registers");
	/* Sleep control, then status: byte-wide System I/O at 0x600, 0x601. */
	is_mem(mem.base + f + 244,
	       ((const uint8_t[]){ 1, 8, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0,
				   1, 8, 0, 1, 0x01, 0x06, 0, 0, 0, 0, 0, 0 }),
	       24, "FADT: sleep control, status: byte ports 0x600, 0x601");
	is_int(rd(f + 109, 2), 0x24, "FADT: boot flags: no VGA, no CMOS RTC, no 8042");
	is_int(rd(f + 116, 1), 1, "FADT: reset register in system I/O space");
	is_int(rd(f + 117, 1), 8, "FADT: reset register is 8 bits wide");
	is_u64(rd(f + 120, 8), 0x64, "FADT: reset register is port 0x64");
	is_int(rd(f + 128, 1), 0xfe, "FADT: reset value 0xfe");
	ok(!memcmp(mem.base + f + 268, "GMVM", 4), "FADT: hypervisor ID");
}

struct madt_count {
	unsigned int lapic, ioapic, nmi, x2apic, x2nmi, other;
	bool ids_ok;			/* APIC ID = UID = index, enabled */
};

static struct madt_count madt_walk(uint64_t m)
{
	uint32_t len = (uint32_t)rd(m + 4, 4);
	struct madt_count c = { .ids_ok = true };
	unsigned int cpu = 0;

	for (uint32_t off = 44; off + 2 <= len; off += mem.base[m + off + 1]) {
		uint64_t s = m + off;

		switch (mem.base[s]) {
		case 0:
			c.ids_ok &= rd(s + 2, 1) == cpu &&
				    rd(s + 3, 1) == cpu && rd(s + 4, 4) == 1;
			cpu++;
			c.lapic++;
			break;
		case 9:
			c.ids_ok &= rd(s + 4, 4) == cpu &&
				    rd(s + 12, 4) == cpu && rd(s + 8, 4) == 1;
			cpu++;
			c.x2apic++;
			break;
		case 1:
			c.ioapic++;
			break;
		case 4:
			c.nmi++;
			break;
		case 10:
			c.x2nmi++;
			break;
		default:
			c.other++;
		}
		if (!mem.base[s + 1])
			break;
	}
	return c;
}

static void test_madt(unsigned int cpus)
{
	struct acpi_virtio_window w[1];
	struct madt_count c;
	uint64_t rsdp, m;
	struct err e;

	make_windows(w, 1);
	is_int(write_tables(cpus, w, 1, LIMIT, &rsdp, &e), 0,
	       "%u CPUs: tables written", cpus);
	m = xsdt_find(rsdp, "APIC");
	check_header(m, "APIC", 5);
	is_u64(rd(m + 36, 4), 0xfee00000, "MADT: local APIC address");
	is_int(rd(m + 40, 4), 1, "MADT: PCAT_COMPAT (KVM has the 8259s)");
	c = madt_walk(m);
	is_int(c.lapic + c.x2apic, cpus, "%u CPUs: one processor entry each",
	       cpus);
	is_int(c.x2apic, cpus > 255 ? cpus - 255 : 0,
	       "%u CPUs: x2APIC entries only for IDs above 254", cpus);
	ok(c.ids_ok, "%u CPUs: APIC IDs and UIDs 0..%u, enabled", cpus,
	   cpus - 1);
	is_int(c.ioapic, 1, "%u CPUs: one IOAPIC", cpus);
	is_int(c.nmi, 1, "%u CPUs: one local APIC NMI", cpus);
	is_int(c.x2nmi, cpus > 255, "%u CPUs: x2APIC NMI when x2APICs", cpus);
	is_int(c.other, 0, "%u CPUs: no interrupt source overrides", cpus);
}

/* The IOAPIC and NMI structures, field by field (after one LAPIC). */
static void test_madt_fields(void)
{
	uint64_t rsdp, m;
	struct err e;

	write_tables(1, NULL, 0, LIMIT, &rsdp, &e);
	m = xsdt_find(rsdp, "APIC");
	is_mem(mem.base + m + 44,
	       ((const uint8_t[]){ 0, 8, 0, 0, 1, 0, 0, 0,	/* CPU 0 */
				   1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe,
				   0, 0, 0, 0,			/* IOAPIC */
				   4, 6, 0xff, 0, 0, 1 }),	/* NMI LINT1 */
	       26, "MADT: CPU 0, IOAPIC at 0xfec00000 GSI 0, NMI on LINT1");
	is_int(rd(m + 4, 4), 44 + 26, "MADT: nothing else");
}

/* The DSDT's AML for COM1 alone, then with one virtio window. */
static void test_dsdt(void)
{
	static const uint8_t com1[] = {
		0x5b, 0x82, 0x2b, 'C', 'O', 'M', '1',
		0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01,
		0x08, '_', 'U', 'I', 'D', 0x00,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		0x22, 0x10, 0x00, 0x79, 0x0e,
	};
	static const uint8_t vr00[] = {
		0x5b, 0x82, 0x3a, 'V', 'R', '0', '0',
		0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0',
		'0', '5', 0x00,
		0x08, '_', 'U', 'I', 'D', 0x00,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x1a, 0x0a, 0x17,
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0,
		0x00, 0x10, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,
		0x79, 0x7f,
	};
	static const uint8_t sb[] = { 0x5c, '_', 'S', 'B', '_' };
	/* Name (_S5, Package () { 5, 0 }), after the Scope. */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05,
				      0x02, 0x0a, 0x05, 0x00 };
	struct acpi_virtio_window w[1];
	uint64_t rsdp, d;
	struct err e;

	write_tables(1, NULL, 0, LIMIT, &rsdp, &e);
	d = rd(xsdt_find(rsdp, "FACP") + 140, 8);
	check_header(d, "DSDT", 2);
	is_int(rd(d + 4, 4), 36 + 2 + sizeof(sb) + sizeof(com1) + sizeof(s5),
	       "DSDT with COM1: length");
	/* Scope (\_SB): 1-byte PkgLength for a 50-byte body. */
	ok(mem.base[d + 36] == 0x10 && mem.base[d + 37] == 51 &&
	   !memcmp(mem.base + d + 38, sb, sizeof(sb)), "DSDT: Scope (\\_SB)");
	is_mem(mem.base + d + 43, com1, sizeof(com1), "DSDT: Device (COM1)");
	is_mem(mem.base + d + 43 + sizeof(com1), s5, sizeof(s5),
	       "DSDT: \\_S5 is Package () { 5, 0 }");

	make_windows(w, 1);
	write_tables(1, w, 1, LIMIT, &rsdp, &e);
	d = rd(xsdt_find(rsdp, "FACP") + 140, 8);
	ok(sums_to_zero(d, rd(d + 4, 4)), "DSDT with a window: checksum");
	/* 110 bytes of body: a 2-byte PkgLength, 112 = 0x70. */
	ok(mem.base[d + 36] == 0x10 && mem.base[d + 37] == 0x40 &&
	   mem.base[d + 38] == 0x07, "DSDT: Scope PkgLength takes 2 bytes");
	is_mem(mem.base + d + 44, com1, sizeof(com1), "DSDT: COM1 first");
	is_mem(mem.base + d + 44 + sizeof(com1), vr00, sizeof(vr00),
	       "DSDT: Device (VR00) for the window, GSI 5, edge");
	is_mem(mem.base + d + 44 + sizeof(com1) + sizeof(vr00), s5,
	       sizeof(s5), "DSDT: \\_S5 after the Scope");
	is_int(rd(d + 4, 4), 44 + sizeof(com1) + sizeof(vr00) + sizeof(s5),
	       "DSDT: nothing else");
}

/* Every table of every configuration sums to zero. */
static void test_checksums(void)
{
	static const unsigned int cpus[] = { 1, 2, 64, 256 };
	static const unsigned int windows[] = { 0, 1, 8, ACPI_MAX_VIRTIO };
	struct acpi_virtio_window w[ACPI_MAX_VIRTIO];

	make_windows(w, ACPI_MAX_VIRTIO);
	for (size_t i = 0; i < ARRAY_SIZE(cpus); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(windows); j++) {
			uint64_t rsdp, xsdt, f, m, d;
			struct err e;
			bool good;

			good = !write_tables(cpus[i], w, windows[j], LIMIT,
					     &rsdp, &e);
			xsdt = rd(rsdp + 24, 8);
			f = xsdt_find(rsdp, "FACP");
			m = xsdt_find(rsdp, "APIC");
			d = rd(f + 140, 8);
			good = good && sums_to_zero(rsdp, 20) &&
			       sums_to_zero(rsdp, 36) &&
			       sums_to_zero(xsdt, rd(xsdt + 4, 4)) &&
			       sums_to_zero(f, rd(f + 4, 4)) &&
			       sums_to_zero(m, rd(m + 4, 4)) &&
			       sums_to_zero(d, rd(d + 4, 4)) &&
			       d + rd(d + 4, 4) <= LIMIT &&
			       untouched(d + rd(d + 4, 4), GUEST_SIZE) &&
			       untouched(0, ADDR);
			ok(good, "%u CPUs, %u windows: every checksum, nothing written outside",
			   cpus[i], windows[j]);
		}
	}
}

/* --- Refusals ------------------------------------------------------------ */

static void refused(unsigned int cpus, const struct acpi_virtio_window *w,
		    unsigned int nr, uint64_t addr, uint64_t limit, int err,
		    const char *msg, const char *what)
{
	struct acpi_params p = { .nr_cpus = cpus, .virtio = w, .nr_virtio = nr };
	uint64_t rsdp = 0;
	struct err e;

	guest_fill();
	err_clear(&e);
	is_int(acpi_write_tables(&mem, addr, limit, &p, &rsdp, &e), -err,
	       "%s: refused", what);
	like(e.msg, msg, "%s: says why", what);
	ok(untouched(0, GUEST_SIZE) && !rsdp, "%s: nothing written", what);
}

static void test_refusals(void)
{
	struct acpi_virtio_window w[ACPI_MAX_VIRTIO + 1];

	make_windows(w, ACPI_MAX_VIRTIO + 1);
	refused(0, NULL, 0, ADDR, LIMIT, EINVAL, "0 CPUs", "no CPUs");
	refused(ACPI_MAX_CPUS + 1, NULL, 0, ADDR, LIMIT, EINVAL, "out of range",
		"too many CPUs");
	refused(1, NULL, 0, ADDR + 8, LIMIT, EINVAL, "16-byte aligned",
		"unaligned RSDP");
	refused(1, NULL, 0, 0xd0000, LIMIT, EINVAL, "Linux scans",
		"RSDP below 0xe0000");
	refused(1, NULL, 0, ADDR, ADDR, ENOSPC, "no room", "limit at addr");
	refused(1, NULL, 0, ADDR, ADDR + 0x100, ENOSPC, "need",
		"limit too low");
	refused(1, w, ACPI_MAX_VIRTIO + 1, ADDR, LIMIT, EINVAL, "at most 19",
		"more windows than GSIs");
	refused(1, NULL, 1, ADDR, LIMIT, EINVAL, "virtio windows",
		"windows without an array");
	/* Room for a few windows only: an error, not an overrun. */
	refused(1, w, ACPI_MAX_VIRTIO, ADDR, ADDR + 0x400, ENOSPC, "DSDT",
		"too many windows for the space");
	refused(64, w, 8, ADDR, ADDR + 0x300, ENOSPC, "need",
		"64 CPUs and 8 windows in 768 bytes");
}

static void bad_window(struct acpi_virtio_window bad, const char *msg,
		       const char *what)
{
	struct acpi_virtio_window w[3];

	make_windows(w, 3);
	w[2] = bad;
	refused(1, w, 3, ADDR, LIMIT, EINVAL, msg, what);
}

/* A VM Generation ID whose event shares a virtio window's line, or has none. */
static void test_bad_vmgenid(void)
{
	struct acpi_virtio_window w[3];
	struct acpi_params p = { .nr_cpus = 1, .virtio = w, .nr_virtio = 3,
				 .vmgenid_addr = 0xdf000, .vmgenid_gsi = 6 };
	uint64_t rsdp = 0;
	struct err e;

	make_windows(w, 3);
	guest_fill();
	err_clear(&e);
	is_int(acpi_write_tables(&mem, ADDR, LIMIT, &p, &rsdp, &e), -EINVAL,
	       "vmgenid on a virtio window's GSI: refused");
	like(e.msg, "share GSI 6", "vmgenid on a virtio window's GSI: says why");
	p.vmgenid_gsi = 24;
	err_clear(&e);
	is_int(acpi_write_tables(&mem, ADDR, LIMIT, &p, &rsdp, &e), -EINVAL,
	       "vmgenid past the IOAPIC: refused");
	p.vmgenid_gsi = 23;
	p.vmgenid_addr = 0xdf004;
	err_clear(&e);
	is_int(acpi_write_tables(&mem, ADDR, LIMIT, &p, &rsdp, &e), -EINVAL,
	       "vmgenid not 8-byte aligned: refused");
	ok(untouched(0, GUEST_SIZE) && !rsdp, "vmgenid refusals: nothing written");
	p.vmgenid_addr = 0xdf000;
	err_clear(&e);
	is_int(acpi_write_tables(&mem, ADDR, LIMIT, &p, &rsdp, &e), 0,
	       "vmgenid on GSI 23 beside 3 windows: written");
}

static void test_bad_windows(void)
{
	bad_window((struct acpi_virtio_window){ 0xd0010000, 0x1000, 4 },
		   "GSI 4, outside 5-23", "GSI of COM1");
	bad_window((struct acpi_virtio_window){ 0xd0010000, 0x1000, 24 },
		   "GSI 24", "GSI past the IOAPIC");
	bad_window((struct acpi_virtio_window){ 0xd0010000, 0x1000, 6 },
		   "windows 1 and 2 share GSI 6", "shared GSI");
	bad_window((struct acpi_virtio_window){ 0xd0000800, 0x1000, 9 },
		   "windows 0 and 2 overlap", "overlapping windows");
	bad_window((struct acpi_virtio_window){ 0xd0010000, 0, 9 },
		   "window 2", "empty window");
	bad_window((struct acpi_virtio_window){ 0xfffff000, 0x2000, 9 },
		   "not below 4 GiB", "window across 4 GiB");
	bad_window((struct acpi_virtio_window){ 0x100000000ull, 0x1000, 9 },
		   "not below 4 GiB", "window above 4 GiB");
}

int main(void)
{
	uint64_t rsdp;
	struct err e;

	if (!guest_new()) {
		printf("Bail out! cannot map a fake guest\n");
		return 1;
	}
	is_int(write_tables(1, NULL, 0, LIMIT, &rsdp, &e), 0,
	       "tables for 1 CPU: written");
	test_rsdp_xsdt(rsdp);
	test_fadt(rsdp);
	test_madt(1);
	test_madt(2);
	test_madt(64);
	test_madt(256);
	test_madt_fields();
	test_dsdt();
	test_checksums();
	test_refusals();
	test_bad_windows();
	test_bad_vmgenid();
	return done_testing();
}
