// SPDX-License-Identifier: MIT
/*
 * crc32c(): the checksum of vmstate files and of snapshot memory regions.
 * Whichever way it is computed (SSE4.2 or bitwise), it is CRC32C: the
 * standard check value, any split of a buffer, any alignment.
 */
#include <stdlib.h>

#include "tap.h"
#include "util.h"

/* The definition, one bit at a time, to compare against. */
static uint32_t crc32c_reference(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

int main(void)
{
	static uint8_t buf[4096 + 16];
	bool all_same = true, splits_same = true;

	is_u64(crc32c(0, "123456789", 9), 0xe3069283, "check value of \"123456789\"");
	is_u64(crc32c(0, "", 0), 0, "empty buffer");
	is_u64(crc32c(0x12345678, "", 0), 0x12345678, "empty buffer keeps the running value");

	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rand();
	/* Every start alignment and tail length around the 8-byte steps. */
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 40; len++)
			if (crc32c(7, buf + off, len) != crc32c_reference(7, buf + off, len))
				all_same = false;
	if (crc32c(0, buf + 3, 4096) != crc32c_reference(0, buf + 3, 4096))
		all_same = false;
	ok(all_same, "matches the bitwise definition at every alignment and length");

	for (size_t cut = 0; cut <= 100; cut++)
		if (crc32c(crc32c(0, buf, cut), buf + cut, 100 - cut) != crc32c(0, buf, 100))
			splits_same = false;
	ok(splits_same, "a buffer checksummed in two parts gives the same value");
	return done_testing();
}
