// SPDX-License-Identifier: MIT
/*
 * The 16550A UART (devices/serial.c) on COM1, joined to the console:
 * sequences of port accesses of 1, 2 or 4 bytes at and around 0x3f8-0x3ff,
 * console input (the sink serial_setup() registers), pauses and snapshot
 * round trips.
 *
 * Input: operations until the input ends (fuzz_pio_op() in harness.c):
 *   op 0-4  u8 port (0x3f7 + n % 10), u8 size (1 << n % 3), u32 value;
 *           bit 7 of the op byte makes it a write
 *   op 5    u8 len, len bytes of console input
 *   op 6    pause and resume
 *   op 7    snapshot round trip
 */
#include "harness.h"

#define COM1 0x3f8
#define COM1_PORTS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_pio_run(data, size, CONSOLE_SERIAL, COM1, COM1_PORTS);
}
