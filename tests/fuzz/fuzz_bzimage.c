// SPDX-License-Identifier: MIT
/*
 * bzImage kernels (boot/bzimage.c), loaded as `gmvm run` loads them
 * (vm_load_kernel(): ACPI tables, initrd placement below initrd_addr_max,
 * command line against cmdline_size, the setup header into the zero page,
 * MP table, page tables), then the boot vCPU's registers. Input: see
 * fuzz_boot_run() in harness.h; the kernel always has the boot flag and
 * "HdrS" where a bzImage has them, so that no time goes to other formats.
 */
#include <string.h>

#include "harness.h"

#define HDR_BOOT_FLAG 0x1fe
#define HDR_MAGIC 0x202

static void prepare(uint8_t *kernel, size_t len)
{
	if (len < HDR_MAGIC + 4)
		return;
	kernel[HDR_BOOT_FLAG] = 0x55;
	kernel[HDR_BOOT_FLAG + 1] = 0xaa;
	memcpy(kernel + HDR_MAGIC, "HdrS", 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_boot_run(data, size, prepare);
	return 0;
}
