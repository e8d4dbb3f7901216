// SPDX-License-Identifier: MIT
/*
 * ELF kernels, with and without a PVH note (boot/elf.c), loaded as `gmvm
 * run` loads them (vm_load_kernel(): ACPI tables, initrd placement,
 * command line, zero page or PVH start info, MP table, page tables), then
 * the boot vCPU's registers. Input: see fuzz_boot_run() in harness.h; the
 * kernel always starts with the ELF magic, so that no time goes to other
 * formats.
 */
#include <elf.h>
#include <string.h>

#include "harness.h"

static void prepare(uint8_t *kernel, size_t len)
{
	memcpy(kernel, ELFMAG, MIN(len, (size_t)SELFMAG));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_boot_run(data, size, prepare);
	return 0;
}
