/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for a hardware-reduced x86 guest (ACPI 6.3 revisions): RSDP,
 * XSDT, FADT, MADT and a DSDT describing COM1 and the virtio-mmio windows.
 * Pure code over a struct guest_mem, like the other boot builders.
 *
 * The tables go at 0xe0000, RSDP first, and must end below the MP table at
 * 0xf0000. The RSDP is 16-byte aligned inside 0xe0000-0xfffff, where Linux
 * scans for it when no one tells it the address; that range is reserved in
 * the e820 map.
 *
 * The guest sees no PM or GPE registers and no SCI. It powers off through
 * the FADT's sleep control register (port 0x600, the acpi-sleep device)
 * with the SLP_TYP of \_S5, and resets through the FADT reset register, the
 * i8042's command port (write 0xfe to port 0x64); gmvm turns both into an
 * exit with status 0.
 */
#ifndef GMVM_ACPI_H
#define GMVM_ACPI_H

#include <stdint.h>

#include "err.h"
#include "guest_mem.h"

#define ACPI_TABLES_ADDR 0xe0000ull
#define ACPI_TABLES_LIMIT 0xf0000ull	/* the MP table starts here */
#define ACPI_RSDP_SCAN_START 0xe0000ull	/* where Linux looks for "RSD PTR " */
#define ACPI_RSDP_SCAN_END 0x100000ull
#define ACPI_RSDP_ALIGN 16

#define ACPI_MAX_CPUS 1024
#define ACPI_IOAPIC_PINS 24		/* KVM's IOAPIC: GSIs 0-23 */
#define ACPI_COM1_GSI 4
/*
 * A virtio-mmio window has a GSI of its own among 5-23: 0-4 belong to the
 * PIT, the keyboard, the PIC cascade, COM2 and COM1.
 */
#define ACPI_VIRTIO_GSI_MIN 5
#define ACPI_VIRTIO_GSI_MAX (ACPI_IOAPIC_PINS - 1)
#define ACPI_MAX_VIRTIO (ACPI_VIRTIO_GSI_MAX - ACPI_VIRTIO_GSI_MIN + 1)

/*
 * Hardware-reduced sleep control register (ACPI 6.3, 4.8.3.7): the guest
 * writes SLP_TYP << 2 | SLP_EN; \_S5 in the DSDT gives SLP_TYP 5.
 */
#define ACPI_SLP_TYP_SHIFT 2
#define ACPI_SLP_TYP_MASK 0x1c
#define ACPI_SLP_EN 0x20
#define ACPI_SLP_TYP_S5 5

/* One virtio-mmio register window and the IOAPIC pin its irqfd drives. */
struct acpi_virtio_window {
	uint64_t base, size;		/* inside the first 4 GiB */
	uint32_t gsi;
};

struct acpi_params {
	unsigned int nr_cpus;		/* APIC IDs 0..nr_cpus-1 */
	const struct acpi_virtio_window *virtio;
	unsigned int nr_virtio;
	/* A VM Generation ID (--vmgenid): its 16 bytes, the GED's GSI; 0: none. */
	uint64_t vmgenid_addr;
	uint32_t vmgenid_gsi;
};

/*
 * Write the tables at addr (the RSDP, then XSDT, FADT, MADT and DSDT), all
 * below limit. Returns 0 with *rsdp set to the RSDP's address, or -errno
 * with e naming the problem: -EINVAL for bad parameters, -ENOSPC when the
 * tables do not fit. On failure guest memory is left untouched.
 */
int acpi_write_tables(struct guest_mem *mem, uint64_t addr, uint64_t limit,
		      const struct acpi_params *p, uint64_t *rsdp,
		      struct err *e);

#endif /* GMVM_ACPI_H */
