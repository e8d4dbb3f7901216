/* SPDX-License-Identifier: MIT */
/*
 * The x86 guest physical map above RAM, shared by devices and boot tables.
 * RAM is [0, 3 GiB) and [4 GiB, ...) (guest_mem.h); the gap between holds:
 *   0xc0000000  boot-timer window (4 KiB)
 *   0xc0001000  virtio-mmio windows, 4 KiB each, GSIs 5 and up
 *   0xfec00000  IOAPIC            0xfee00000  local APICs
 * Legacy ports: COM1 0x3f8-0x3ff, i8042 0x60/0x64, debug exit 0xf4-0xf7,
 * snapshot request 0x4f0, ACPI sleep control and status 0x600/0x601 (QEMU's
 * PM base, free of KVM's PIT, PICs and ELCR).
 */
#ifndef GMVM_ARCH_LAYOUT_H
#define GMVM_ARCH_LAYOUT_H

#define LAYOUT_BOOT_TIMER_ADDR 0xc0000000ull
#define LAYOUT_BOOT_TIMER_SIZE 0x1000ull
#define LAYOUT_VIRTIO_BASE 0xc0001000ull
#define LAYOUT_VIRTIO_MAX 16
#define LAYOUT_VIRTIO_GSI_BASE 5
#define LAYOUT_IOAPIC_ADDR 0xfec00000ull
#define LAYOUT_LAPIC_ADDR 0xfee00000ull

#define LAYOUT_DEBUG_EXIT_PORT 0xf4
#define LAYOUT_DEBUG_EXIT_SIZE 4
#define LAYOUT_SNAPSHOT_PORT 0x4f0
/*
 * --vmgenid: the 16-byte VM Generation ID, in the reserved low memory below
 * the ACPI tables, and the interrupt of the ACPI event device that tells the
 * guest it changed (above every virtio window's).
 */
#define LAYOUT_VMGENID_ADDR 0xdf000ull
#define LAYOUT_VMGENID_GSI 23
/* gmvm fuzz: the guest's contract, and its coverage window (vmm/fuzz.h). */
#define LAYOUT_FUZZ_PORT 0x4f8
#define LAYOUT_FUZZ_COVERAGE_ADDR 0xd0000000ull
#define LAYOUT_FUZZ_COVERAGE_MAX (8u << 20)
#define LAYOUT_ACPI_SLEEP_CONTROL_PORT 0x600
#define LAYOUT_ACPI_SLEEP_STATUS_PORT 0x601

#endif /* GMVM_ARCH_LAYOUT_H */
