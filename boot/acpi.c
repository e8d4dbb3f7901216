// SPDX-License-Identifier: MIT
/*
 * ACPI tables for a hardware-reduced x86 guest (ACPI 6.3, sections 5.2 and
 * 6): how Linux finds every CPU, the IOAPIC, COM1 and the virtio-mmio
 * devices without an MP table or kernel command line.
 *
 * Hardware-reduced means no PM1/PM2/GPE blocks, no PM timer, no SCI and no
 * FACS. Linux then skips the 8259s and the PIT (legacy_pic becomes the null
 * PIC, no IRQ is ISA) and takes every interrupt's trigger and polarity from
 * the DSDT. Poweroff in this mode needs \_S5 in the DSDT and the FADT's
 * sleep control and status registers (4.8.3.7, 7.4.2): Linux writes \_S5's
 * SLP_TYP with SLP_EN to the control register, which the acpi-sleep device
 * at port 0x600 turns into an exit with status 0. Reboot goes through the
 * FADT reset register, the i8042's command port.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "arch_layout.h"
#include "boot.h"

_Static_assert(ACPI_TABLES_LIMIT <= BOOT_MPTABLE_ADDR,
	       "ACPI tables would overlap the MP table");

#define ACPI_OEM_ID "GMVM  "
#define ACPI_CREATOR_ID "GMVM"
#define ACPI_OEM_REVISION 1
#define ACPI_TABLE_ALIGN 16

#define RSDP_REVISION 2			/* ACPI 2.0+: XSDT address */
#define RSDP_V1_LEN 20			/* what the first checksum covers */
#define XSDT_REVISION 1
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 3
#define MADT_REVISION 5
#define DSDT_REVISION 2			/* 64-bit AML integers */

/* FADT flags (5.2.9, table 5.10) and IA-PC boot flags (5.2.9.3). */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PWR_BUTTON (1u << 4)	/* no fixed-feature power button */
#define FADT_F_SLP_BUTTON (1u << 5)	/* no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define I8042_COMMAND_PORT 0x64
#define I8042_PULSE_RESET 0xfe

/* MADT (5.2.12): structure types, flags, and "all processors". */
enum {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_LAPIC_NMI = 4,
	MADT_X2APIC = 9,
	MADT_X2APIC_NMI = 10,
};
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_CPU_ENABLED (1u << 0)
#define MADT_ALL_CPUS_UID 0xff
#define MADT_ALL_X2APIC_UID 0xffffffffu
#define MADT_XAPIC_MAX_ID 0xfe		/* 0xff is the broadcast ID */
#define MADT_NMI_LINT 1

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_addr;
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure (5.2.3.2). */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_xsdt {
	struct acpi_header h;
	uint64_t entry[2];		/* FADT, MADT */
} __attribute__((packed));

/* FADT revision 6; what is not named here stays zero (no such block). */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;		/* no FACS */
	uint32_t dsdt;
	/* SCI, SMI command, PM and GPE blocks, C-states, RTC alarms. */
	uint8_t legacy_pm[65];
	uint16_t iapc_boot_arch;
	uint8_t reserved;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_revision;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	/* PM1a/b event and control, PM2 control, PM timer, GPE0/1. */
	struct acpi_gas x_pm_blocks[8];
	struct acpi_gas sleep_control;
	struct acpi_gas sleep_status;
	char hypervisor_id[8];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP size");
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header size");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, minor_revision) == 131, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control) == 244, "FADT");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 size");

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length, uid;
	uint16_t flags;			/* 0: conforming polarity and trigger */
	uint8_t lint;
} __attribute__((packed));

struct madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} __attribute__((packed));

struct madt_x2apic_nmi {
	uint8_t type, length;
	uint16_t flags;
	uint32_t uid;
	uint8_t lint;
	uint8_t reserved[3];
} __attribute__((packed));

/* Where each table goes. */
struct acpi_layout {
	uint64_t rsdp, xsdt, fadt, madt, dsdt, end;
	size_t madt_len;
};

/* Fill h for a table of len bytes; the checksum comes last. */
static void acpi_header(struct acpi_header *h, const char *sig, uint32_t len,
			uint8_t revision)
{
	char table_id[9];

	snprintf(table_id, sizeof(table_id), "GMVM%.4s", sig);
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, table_id, 8);
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_OEM_REVISION;
}

static void acpi_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = boot_checksum(h, h->length);
}

static unsigned int madt_xapic_cpus(unsigned int nr_cpus)
{
	return MIN(nr_cpus, MADT_XAPIC_MAX_ID + 1u);
}

/* xAPIC structures for IDs below 255, x2APIC ones above (5.2.12.12). */
static size_t madt_size(unsigned int nr_cpus)
{
	unsigned int nx = nr_cpus - madt_xapic_cpus(nr_cpus);

	return sizeof(struct acpi_madt) +
	       madt_xapic_cpus(nr_cpus) * sizeof(struct madt_lapic) +
	       nx * sizeof(struct madt_x2apic) + sizeof(struct madt_ioapic) +
	       sizeof(struct madt_lapic_nmi) +
	       (nx ? sizeof(struct madt_x2apic_nmi) : 0);
}

static int acpi_check_window(const struct acpi_params *p, unsigned int i,
			     struct err *e)
{
	const struct acpi_virtio_window *w = &p->virtio[i];

	if (!w->size || !range_within(w->base, w->size, 4 * GIB))
		return err_set(e, EINVAL, "ACPI tables: virtio window %u (%#llx, %#llx bytes) is empty or not below 4 GiB",
			       i, (unsigned long long)w->base,
			       (unsigned long long)w->size);
	if (w->gsi < ACPI_VIRTIO_GSI_MIN || w->gsi > ACPI_VIRTIO_GSI_MAX)
		return err_set(e, EINVAL, "ACPI tables: virtio window %u has GSI %u, outside %u-%u",
			       i, w->gsi, ACPI_VIRTIO_GSI_MIN,
			       ACPI_VIRTIO_GSI_MAX);
	for (unsigned int j = 0; j < i; j++) {
		const struct acpi_virtio_window *o = &p->virtio[j];

		/* Edge-triggered lines cannot be shared (see dsdt_virtio). */
		if (o->gsi == w->gsi)
			return err_set(e, EINVAL, "ACPI tables: virtio windows %u and %u share GSI %u",
				       j, i, w->gsi);
		if (ranges_overlap(o->base, o->size, w->base, w->size))
			return err_set(e, EINVAL, "ACPI tables: virtio windows %u and %u overlap",
				       j, i);
	}
	return 0;
}

static int acpi_check_params(uint64_t addr, const struct acpi_params *p,
			     struct err *e)
{
	int ret;

	if (!p->nr_cpus || p->nr_cpus > ACPI_MAX_CPUS)
		return err_set(e, EINVAL, "ACPI tables: %u CPUs is out of range (1-%u)",
			       p->nr_cpus, ACPI_MAX_CPUS);
	if (!IS_ALIGNED(addr, ACPI_RSDP_ALIGN) ||
	    addr < ACPI_RSDP_SCAN_START || addr >= ACPI_RSDP_SCAN_END)
		return err_set(e, EINVAL, "ACPI tables: the RSDP at %#llx must be 16-byte aligned in %#llx-%#llx, where Linux scans for it",
			       (unsigned long long)addr,
			       ACPI_RSDP_SCAN_START, ACPI_RSDP_SCAN_END - 1);
	if (p->nr_virtio > ACPI_MAX_VIRTIO)
		return err_set(e, EINVAL, "ACPI tables: %u virtio windows (at most %u, one per free GSI)",
			       p->nr_virtio, ACPI_MAX_VIRTIO);
	if (p->nr_virtio && !p->virtio)
		return err_set(e, EINVAL, "ACPI tables: %u virtio windows but no array of them",
			       p->nr_virtio);
	for (unsigned int i = 0; i < p->nr_virtio; i++) {
		ret = acpi_check_window(p, i, e);
		if (ret)
			return ret;
		if (p->vmgenid_addr && p->virtio[i].gsi == p->vmgenid_gsi)
			return err_set(e, EINVAL, "ACPI tables: virtio window %u and the VM Generation ID's event share GSI %u",
				       i, p->vmgenid_gsi);
	}
	if (p->vmgenid_addr && (p->vmgenid_gsi < ACPI_VIRTIO_GSI_MIN ||
				p->vmgenid_gsi >= ACPI_IOAPIC_PINS ||
				!IS_ALIGNED(p->vmgenid_addr, 8)))
		return err_set(e, EINVAL, "ACPI tables: a VM Generation ID at %#llx (8-byte aligned) with GSI %u (%u-%u)",
			       (unsigned long long)p->vmgenid_addr, p->vmgenid_gsi,
			       ACPI_VIRTIO_GSI_MIN, ACPI_IOAPIC_PINS - 1);
	return 0;
}

/* COM1: the 16550A at 0x3f8, ISA IRQ 4 (edge, active-high). */
static void dsdt_com1(struct aml_buf *b)
{
	struct aml_buf rt;

	aml_init(&rt, 64);
	aml_res_io(&rt, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq(&rt, ACPI_COM1_GSI);
	aml_device(b, "COM1");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0501");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_name(b, "_CRS");
	aml_resource_template(b, &rt);
	aml_close(b);
	aml_free(&rt);
}

/*
 * A virtio-mmio device, as Linux's virtio_mmio driver matches it (LNRO0005).
 * Its interrupt is edge-triggered, active-high, exclusive: gmvm raises it
 * with a KVM irqfd without a resample fd, which pulses the IOAPIC pin
 * (assert, then deassert at once). A level-triggered pin would lose a pulse
 * that arrives while the previous one awaits its EOI (KVM drops assertions
 * while Remote IRR is set, and nothing re-asserts: the line is already low);
 * an edge-triggered pin latches it in the local APIC and delivers it after
 * the EOI, and the driver then reads InterruptStatus again. Level would need
 * KVM_IRQFD_FLAG_RESAMPLE and a device that re-raises on resample, as QEMU
 * microvm's level-triggered line has. Firecracker and Cloud Hypervisor
 * declare edge too. Edge lines cannot be shared, so each window has its own.
 */
static void dsdt_virtio(struct aml_buf *b, unsigned int i,
			const struct acpi_virtio_window *w)
{
	struct aml_buf rt;
	char name[5];

	snprintf(name, sizeof(name), "VR%02u", i % 100);
	aml_init(&rt, 64);
	aml_res_memory32_fixed(&rt, (uint32_t)w->base, (uint32_t)w->size, true);
	aml_res_interrupt(&rt, w->gsi, AML_IRQ_CONSUMER | AML_IRQ_EDGE);
	aml_device(b, name);
	aml_name(b, "_HID");
	aml_string(b, "LNRO0005");
	aml_name(b, "_UID");
	aml_integer(b, i);
	aml_name(b, "_CRS");
	aml_resource_template(b, &rt);
	aml_close(b);
	aml_free(&rt);
}

/*
 * A VM Generation ID (Microsoft's "Virtual Machine Generation ID" paper, as
 * Linux's vmgenid driver finds it: _CID VM_GEN_COUNTER, ADDR a package of
 * the 16 bytes' address, low and high halves; _HID is gmvm's own, a valid
 * ACPI ID, which VMGENCTR is not), and the hardware-reduced way to
 * tell the guest it changed: a Generic Event Device (ACPI 6, 5.6.9: ACPI0013)
 * whose edge-triggered interrupt runs _EVT, which notifies VGEN (0x80).
 */
static void dsdt_vmgenid(struct aml_buf *b, const struct acpi_params *p)
{
	const uint64_t addr[] = { p->vmgenid_addr & 0xffffffffu, p->vmgenid_addr >> 32 };
	struct aml_buf rt;

	aml_device(b, "VGEN");
	aml_name(b, "_HID");
	aml_string(b, "GMVM0001");
	aml_name(b, "_CID");
	aml_string(b, "VM_GEN_COUNTER");
	aml_name(b, "_DDN");
	aml_string(b, "VM_GEN_COUNTER");
	aml_name(b, "ADDR");
	aml_package(b, addr, ARRAY_SIZE(addr));
	aml_close(b);

	aml_init(&rt, 64);
	aml_res_interrupt(&rt, p->vmgenid_gsi, AML_IRQ_CONSUMER | AML_IRQ_EDGE);
	aml_device(b, "GED0");
	aml_name(b, "_HID");
	aml_string(b, "ACPI0013");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_name(b, "_CRS");
	aml_resource_template(b, &rt);
	aml_method(b, "_EVT", 1);
	aml_notify(b, "\\_SB.VGEN", 0x80);
	aml_close(b);
	aml_close(b);
	aml_free(&rt);
}

/*
 * \_S5 (7.4.2), at the root like the definition block: the SLP_TYP for
 * soft-off. Only SLP_TYPa counts in a hardware-reduced guest; SLP_TYPb
 * would go to a PM1b block there is none of.
 */
static void dsdt_s5(struct aml_buf *b)
{
	static const uint64_t slp_typ[] = { ACPI_SLP_TYP_S5, 0 };

	aml_name(b, "_S5");
	aml_package(b, slp_typ, ARRAY_SIZE(slp_typ));
}

/* The DSDT's definition block (without its header) into b. */
static int dsdt_build(struct aml_buf *b, const struct acpi_params *p,
		      struct err *e)
{
	int ret;

	aml_scope(b, "\\_SB");
	dsdt_com1(b);
	for (unsigned int i = 0; i < p->nr_virtio; i++)
		dsdt_virtio(b, i, &p->virtio[i]);
	if (p->vmgenid_addr)
		dsdt_vmgenid(b, p);
	aml_close(b);
	dsdt_s5(b);
	ret = aml_finish(b);
	if (ret == -ENOSPC || ret == -E2BIG)
		return err_set(e, ENOSPC, "ACPI tables: the DSDT for %u virtio windows does not fit in %zu bytes",
			       p->nr_virtio, b->max);
	if (ret)
		return err_set(e, -ret, "ACPI tables: cannot encode the DSDT: %s",
			       strerror(-ret));
	return 0;
}

static uint64_t table_after(uint64_t prev, size_t prev_len)
{
	return ALIGN_UP(prev + prev_len, ACPI_TABLE_ALIGN);
}

static void acpi_place(struct acpi_layout *l, uint64_t addr,
		       unsigned int nr_cpus, size_t dsdt_len)
{
	l->rsdp = addr;
	l->xsdt = table_after(l->rsdp, sizeof(struct acpi_rsdp));
	l->fadt = table_after(l->xsdt, sizeof(struct acpi_xsdt));
	l->madt = table_after(l->fadt, sizeof(struct acpi_fadt));
	l->madt_len = madt_size(nr_cpus);
	l->dsdt = table_after(l->madt, l->madt_len);
	l->end = l->dsdt + sizeof(struct acpi_header) + dsdt_len;
}

static void write_rsdp(uint8_t *base, const struct acpi_layout *l)
{
	struct acpi_rsdp *r = (struct acpi_rsdp *)base;

	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = RSDP_REVISION;
	r->length = sizeof(*r);
	r->xsdt_addr = l->xsdt;		/* no RSDT: rsdt_addr stays 0 */
	r->checksum = boot_checksum(r, RSDP_V1_LEN);
	r->ext_checksum = boot_checksum(r, sizeof(*r));
}

static void write_xsdt(uint8_t *base, const struct acpi_layout *l)
{
	struct acpi_xsdt *x = (struct acpi_xsdt *)(base + (l->xsdt - l->rsdp));

	acpi_header(&x->h, "XSDT", sizeof(*x), XSDT_REVISION);
	x->entry[0] = l->fadt;
	x->entry[1] = l->madt;
	acpi_seal(&x->h);
}

static void write_fadt(uint8_t *base, const struct acpi_layout *l)
{
	struct acpi_fadt *f = (struct acpi_fadt *)(base + (l->fadt - l->rsdp));

	acpi_header(&f->h, "FACP", sizeof(*f), FADT_REVISION);
	f->minor_revision = FADT_MINOR_REVISION;
	f->dsdt = (uint32_t)l->dsdt;	/* below 1 MiB: both fields agree */
	f->x_dsdt = l->dsdt;
	f->flags = FADT_F_HW_REDUCED_ACPI | FADT_F_WBINVD | FADT_F_PWR_BUTTON |
		   FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP;
	/* No 8042 flag: Linux then leaves the reset-only i8042 unprobed. */
	f->iapc_boot_arch = FADT_BOOT_VGA_NOT_PRESENT |
			    FADT_BOOT_CMOS_RTC_NOT_PRESENT;
	f->reset_reg = (struct acpi_gas){ GAS_SYSTEM_IO, 8, 0, GAS_ACCESS_BYTE,
					  I8042_COMMAND_PORT };
	f->reset_value = I8042_PULSE_RESET;
	/* Linux offers poweroff only when both registers are there. */
	f->sleep_control = (struct acpi_gas){ GAS_SYSTEM_IO, 8, 0,
					      GAS_ACCESS_BYTE,
					      LAYOUT_ACPI_SLEEP_CONTROL_PORT };
	f->sleep_status = (struct acpi_gas){ GAS_SYSTEM_IO, 8, 0,
					     GAS_ACCESS_BYTE,
					     LAYOUT_ACPI_SLEEP_STATUS_PORT };
	memcpy(f->hypervisor_id, "GMVM    ", 8);
	acpi_seal(&f->h);
}

static uint8_t *madt_put(uint8_t *p, const void *entry, size_t len)
{
	memcpy(p, entry, len);
	return p + len;
}

/* One enabled processor structure per vCPU, APIC ID = UID = index. */
static uint8_t *madt_put_cpus(uint8_t *p, unsigned int nr_cpus)
{
	unsigned int nl = madt_xapic_cpus(nr_cpus);

	for (unsigned int i = 0; i < nl; i++) {
		struct madt_lapic c = { MADT_LAPIC, sizeof(c), (uint8_t)i,
					(uint8_t)i, MADT_CPU_ENABLED };

		p = madt_put(p, &c, sizeof(c));
	}
	for (unsigned int i = nl; i < nr_cpus; i++) {
		struct madt_x2apic c = { MADT_X2APIC, sizeof(c), 0, i,
					 MADT_CPU_ENABLED, i };

		p = madt_put(p, &c, sizeof(c));
	}
	return p;
}

static void write_madt(uint8_t *base, const struct acpi_layout *l,
		       unsigned int nr_cpus)
{
	struct acpi_madt *m = (struct acpi_madt *)(base + (l->madt - l->rsdp));
	/*
	 * ID 0, as KVM's IOAPIC reports it. GSI n is pin n and ISA IRQ n, as
	 * KVM's default routing wires them (IRQ 0 included): no overrides.
	 */
	struct madt_ioapic io = { MADT_IOAPIC, sizeof(io), 0, 0,
				  (uint32_t)LAYOUT_IOAPIC_ADDR, 0 };
	struct madt_lapic_nmi nmi = { MADT_LAPIC_NMI, sizeof(nmi),
				      MADT_ALL_CPUS_UID, 0, MADT_NMI_LINT };
	struct madt_x2apic_nmi x2nmi = { MADT_X2APIC_NMI, sizeof(x2nmi), 0,
					 MADT_ALL_X2APIC_UID, MADT_NMI_LINT,
					 { 0 } };
	uint8_t *p = (uint8_t *)(m + 1);

	acpi_header(&m->h, "APIC", (uint32_t)l->madt_len, MADT_REVISION);
	m->lapic_addr = (uint32_t)LAYOUT_LAPIC_ADDR;
	/* KVM_CREATE_IRQCHIP does give the guest a pair of 8259s. */
	m->flags = MADT_PCAT_COMPAT;
	p = madt_put_cpus(p, nr_cpus);
	p = madt_put(p, &io, sizeof(io));
	/* LINT1 of every local APIC is NMI, as gmvm programs it. */
	p = madt_put(p, &nmi, sizeof(nmi));
	if (nr_cpus > madt_xapic_cpus(nr_cpus))
		madt_put(p, &x2nmi, sizeof(x2nmi));
	acpi_seal(&m->h);
}

static void write_dsdt(uint8_t *base, const struct acpi_layout *l,
		       const struct aml_buf *aml)
{
	struct acpi_header *h =
		(struct acpi_header *)(base + (l->dsdt - l->rsdp));

	acpi_header(h, "DSDT", (uint32_t)(sizeof(*h) + aml->len),
		    DSDT_REVISION);
	memcpy(h + 1, aml->data, aml->len);
	acpi_seal(h);
}

int acpi_write_tables(struct guest_mem *mem, uint64_t addr, uint64_t limit,
		      const struct acpi_params *p, uint64_t *rsdp,
		      struct err *e)
{
	struct acpi_layout l;
	struct aml_buf aml;
	uint8_t *base;
	int ret;

	ret = acpi_check_params(addr, p, e);
	if (ret)
		return ret;
	if (limit <= addr)
		return err_set(e, ENOSPC, "ACPI tables: no room below %#llx",
			       (unsigned long long)limit);
	aml_init(&aml, limit - addr);
	ret = dsdt_build(&aml, p, e);
	if (ret)
		goto out;
	acpi_place(&l, addr, p->nr_cpus, aml.len);
	if (l.end > limit) {
		ret = err_set(e, ENOSPC, "ACPI tables for %u CPUs and %u virtio windows need %llu bytes at %#llx, more than fit below %#llx",
			      p->nr_cpus, p->nr_virtio,
			      (unsigned long long)(l.end - addr),
			      (unsigned long long)addr,
			      (unsigned long long)limit);
		goto out;
	}
	base = guest_mem_ptr(mem, addr, l.end - addr);
	if (!base) {
		ret = err_set(e, ENOSPC, "ACPI tables at %#llx-%#llx are outside guest RAM",
			      (unsigned long long)addr,
			      (unsigned long long)l.end);
		goto out;
	}
	memset(base, 0, l.end - addr);
	write_dsdt(base, &l, &aml);
	write_madt(base, &l, p->nr_cpus);
	write_fadt(base, &l);
	write_xsdt(base, &l);
	write_rsdp(base, &l);
	*rsdp = l.rsdp;
out:
	aml_free(&aml);
	return ret;
}
