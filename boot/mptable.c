// SPDX-License-Identifier: MIT
/*
 * Intel MultiProcessor Specification 1.4 table: how a kernel without ACPI
 * finds every CPU, the IOAPIC and the ISA interrupt wiring. Without one,
 * Linux scans memory for it (seconds on a host that emulates CPL0).
 */
#include <errno.h>
#include <string.h>

#include "boot.h"

#define MP_SPEC_REV 4
#define MP_LAPIC_ADDR 0xfee00000u
#define MP_IOAPIC_ADDR 0xfec00000u
#define MP_LAPIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11
#define MP_IOAPIC_PINS 24

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_IRQ_INT, MP_IRQ_NMI, MP_IRQ_SMI, MP_IRQ_EXTINT };
#define MP_CPU_ENABLED 1
#define MP_CPU_BOOT 2

struct mp_floating {
	char signature[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mp_config {
	char signature[4];
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_cpu {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;
	uint8_t id;
	char name[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

struct mp_irq {
	uint8_t type;
	uint8_t irq_type;
	uint16_t flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;
} __attribute__((packed));

static size_t mptable_size(unsigned int nr_cpus)
{
	return sizeof(struct mp_floating) + sizeof(struct mp_config) +
	       nr_cpus * sizeof(struct mp_cpu) + sizeof(struct mp_bus) +
	       sizeof(struct mp_ioapic) +
	       (MP_IOAPIC_PINS + 2) * sizeof(struct mp_irq);
}

/* Append entry of size len at *p and count it. */
static void mp_put(uint8_t **p, const void *entry, size_t len, uint16_t *count)
{
	memcpy(*p, entry, len);
	*p += len;
	(*count)++;
}

static void mp_put_entries(uint8_t **p, const struct boot_params_in *in,
			   uint16_t *count)
{
	uint8_t ioapic_id = in->nr_cpus;
	struct mp_bus bus = { MP_BUS, 0, "ISA   " };
	struct mp_ioapic io = { MP_IOAPIC, ioapic_id, MP_IOAPIC_VERSION, 1,
				MP_IOAPIC_ADDR };

	for (unsigned int i = 0; i < in->nr_cpus; i++) {
		struct mp_cpu cpu = {
			.type = MP_PROCESSOR,
			.apic_id = i,
			.apic_version = MP_LAPIC_VERSION,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BOOT : 0),
			.signature = in->cpu_signature,
			.features = in->cpu_features,
		};

		mp_put(p, &cpu, sizeof(cpu), count);
	}
	mp_put(p, &bus, sizeof(bus), count);
	mp_put(p, &io, sizeof(io), count);
	/* ISA IRQ n is IOAPIC pin n, as KVM's default routing wires it. */
	for (unsigned int pin = 0; pin < MP_IOAPIC_PINS; pin++) {
		struct mp_irq irq = { MP_INTSRC, MP_IRQ_INT, 0, 0, pin,
				      ioapic_id, pin };

		mp_put(p, &irq, sizeof(irq), count);
	}
	/* Every local APIC: LINT0 takes the PIC's ExtINT, LINT1 NMI. */
	mp_put(p, &(struct mp_irq){ MP_LINTSRC, MP_IRQ_EXTINT, 0, 0, 0, 0xff, 0 },
	       sizeof(struct mp_irq), count);
	mp_put(p, &(struct mp_irq){ MP_LINTSRC, MP_IRQ_NMI, 0, 0, 0, 0xff, 1 },
	       sizeof(struct mp_irq), count);
}

int mptable_write(struct guest_mem *mem, uint64_t addr,
		  const struct boot_params_in *in, struct err *e)
{
	size_t size = mptable_size(in->nr_cpus);
	uint8_t *base = guest_mem_ptr(mem, addr, size);
	struct mp_floating *mpf = (struct mp_floating *)base;
	struct mp_config *mpc = (struct mp_config *)(mpf + 1);
	uint8_t *p = (uint8_t *)(mpc + 1);
	uint16_t count = 0;

	if (!in->nr_cpus || in->nr_cpus >= 255)
		return err_set(e, EINVAL, "MP table: %u CPUs is out of range",
			       in->nr_cpus);
	if (!base)
		return err_set(e, ENOSPC, "MP table of %zu bytes at %#llx is outside guest RAM",
			       size, (unsigned long long)addr);
	memset(base, 0, size);
	mp_put_entries(&p, in, &count);

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec_rev = MP_SPEC_REV;
	memcpy(mpc->oem, "GMVM    ", 8);
	memcpy(mpc->product, "GMVM 1      ", 12);
	mpc->count = count;
	mpc->lapic = MP_LAPIC_ADDR;
	mpc->checksum = boot_checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = addr + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec_rev = MP_SPEC_REV;
	mpf->checksum = boot_checksum(mpf, sizeof(*mpf));
	return (int)size;
}
