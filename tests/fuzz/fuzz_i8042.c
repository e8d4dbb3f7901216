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
#include "harness.h"

#define I8042_PORT 0x60
#define I8042_PORTS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_pio_run(data, size, CONSOLE_NONE, I8042_PORT, I8042_PORTS);
}
