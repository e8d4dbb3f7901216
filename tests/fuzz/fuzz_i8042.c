// SPDX-License-Identifier: MIT
/*
 * The PC keyboard controller (devices/i8042.c) at ports 0x60-0x64:
 * sequences of port accesses of 1, 2 or 4 bytes at and around them (its
 * commands, data bytes and reset line), pauses and snapshot round trips.
 *
 * Input: operations until the input ends (fuzz_pio_op() in harness.c):
 *   op 0-4  u8 port (0x5f + n % 7), u8 size (1 << n % 3), u32 value;
 *           bit 7 of the op byte makes it a write
 *   op 5    console input (none here: no sink)
 *   op 6    pause and resume
 *   op 7    snapshot round trip
 */
#include <stdlib.h>

#include "harness.h"

#define I8042_PORT 0x60
#define I8042_PORTS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .len = size };
	static const struct vm_config cfg = {
		.cmdline = "", .nr_vcpus = 1, .console = CONSOLE_NONE,
	};
	static struct vm vm;
	struct guest_mem mem;
	struct err e = { 0 };

	if (fuzz_mem_init(&mem, 4096) || fuzz_vm_create(&vm, &cfg, &mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	while (!fin_done(&in))
		fuzz_pio_op(&vm, &in, I8042_PORT, I8042_PORTS);
	fuzz_vm_destroy(&vm);
	fuzz_mem_free(&mem);
	return 0;
}
