// SPDX-License-Identifier: MIT
/*
 * acpi_dump CPUS WINDOWS DIR [vmgenid]: build gmvm's ACPI tables for CPUS
 * vCPUs and WINDOWS virtio-mmio windows (and a VM Generation ID, printed as
 * "vmgenid ADDR GSI") into a fake guest, then walk them as a kernel
 * would (RSDP -> XSDT -> tables, FADT -> DSDT) and write each one to DIR as
 * rsdp.dat, xsdt.dat, facp.dat, apic.dat and dsdt.dat, for iasl -d.
 *
 * Window i is 4 KiB at 0xd0000000 + i * 4 KiB with GSI 16 + i (wrapping to
 * 5 after 23); each is printed as "virtio I BASE SIZE GSI" so that a test
 * checks the disassembly against what was asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acpi.h"
#include "arch_layout.h"

#define GUEST_SIZE (2 * MIB)
#define WINDOW_BASE 0xd0000000ull
#define WINDOW_SIZE 0x1000ull

static struct guest_mem mem;

static uint64_t rd(uint64_t gpa, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)mem.base[gpa + i] << (8 * i);
	return v;
}

/* Write len bytes of guest memory at gpa to DIR/name. */
static int dump(const char *dir, const char *name, uint64_t gpa, uint64_t len)
{
	char path[4096];
	int fd, ret;

	if (!guest_mem_ptr(&mem, gpa, len)) {
		fprintf(stderr, "acpi_dump: %s at %#llx (%llu bytes) is outside the guest\n",
			name, (unsigned long long)gpa, (unsigned long long)len);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "acpi_dump: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ret = write_full(fd, mem.base + gpa, len);
	close(fd);
	if (ret) {
		fprintf(stderr, "acpi_dump: %s: %s\n", path, strerror(-ret));
		return -1;
	}
	return 0;
}

/* A table's file name: its signature in lower case, ".dat". */
static int dump_table(const char *dir, uint64_t gpa)
{
	char name[16];

	if (!guest_mem_ptr(&mem, gpa, 8)) {
		fprintf(stderr, "acpi_dump: a table pointer %#llx is outside the guest\n",
			(unsigned long long)gpa);
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		char c = (char)mem.base[gpa + i];

		name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	memcpy(name + 4, ".dat", 5);
	return dump(dir, name, gpa, rd(gpa + 4, 4));
}

static int dump_all(const char *dir, uint64_t rsdp)
{
	uint64_t xsdt = rd(rsdp + 24, 8);
	uint32_t len;

	if (dump(dir, "rsdp.dat", rsdp, 36) || dump_table(dir, xsdt))
		return -1;
	len = (uint32_t)rd(xsdt + 4, 4);
	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		uint64_t t = rd(xsdt + off, 8);

		if (dump_table(dir, t))
			return -1;
		if (!memcmp(mem.base + t, "FACP", 4) &&
		    dump_table(dir, rd(t + 140, 8)))
			return -1;
	}
	return 0;
}

static int parse_count(const char *s, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct acpi_virtio_window w[ACPI_MAX_VIRTIO];
	struct acpi_params p = { .virtio = w };
	uint64_t rsdp;
	struct err e;

	if (argc < 4 || argc > 5 || parse_count(argv[1], ACPI_MAX_CPUS, &p.nr_cpus) ||
	    parse_count(argv[2], ACPI_MAX_VIRTIO, &p.nr_virtio) ||
	    (argc == 5 && strcmp(argv[4], "vmgenid"))) {
		fprintf(stderr, "usage: acpi_dump CPUS(1-%u) WINDOWS(0-%u) DIR [vmgenid]\n",
			ACPI_MAX_CPUS, ACPI_MAX_VIRTIO);
		return 2;
	}
	if (argc == 5) {
		p.vmgenid_addr = LAYOUT_VMGENID_ADDR;
		p.vmgenid_gsi = LAYOUT_VMGENID_GSI;
		printf("vmgenid %#llx %u\n", LAYOUT_VMGENID_ADDR, LAYOUT_VMGENID_GSI);
	}
	if (guest_mem_layout(&mem, GUEST_SIZE))
		return 1;
	mem.base = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem.base == MAP_FAILED) {
		perror("acpi_dump: mmap");
		return 1;
	}
	for (unsigned int i = 0; i < p.nr_virtio; i++) {
		uint32_t gsi = 16 + i;

		if (gsi > ACPI_VIRTIO_GSI_MAX)
			gsi -= ACPI_VIRTIO_GSI_MAX - ACPI_VIRTIO_GSI_MIN + 1;
		w[i] = (struct acpi_virtio_window){
			WINDOW_BASE + i * WINDOW_SIZE, WINDOW_SIZE, gsi };
		printf("virtio %u %#llx %#llx %u\n", i,
		       (unsigned long long)w[i].base,
		       (unsigned long long)w[i].size, gsi);
	}
	if (acpi_write_tables(&mem, ACPI_TABLES_ADDR, ACPI_TABLES_LIMIT, &p,
			      &rsdp, &e)) {
		fprintf(stderr, "acpi_dump: %s\n", e.msg);
		return 1;
	}
	return dump_all(argv[3], rsdp) ? 1 : 0;
}
