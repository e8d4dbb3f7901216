// SPDX-License-Identifier: MIT
/*
 * bench/fuzz.sh's native peer: the test guest's fuzz target
 * (tests/guest/fuzz_target.c) as an ordinary program, built with afl-cc and
 * fuzzed by afl-fuzz through its own forkserver (a fork per run). One input
 * on stdin; the planted bug aborts, as a sanitizer would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_target.h"

int main(void)
{
	static uint8_t buf[1 << 20];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) && (n = read(STDIN_FILENO, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	if (fuzz_target(buf, len) != FUZZ_TARGET_OK)
		abort();
	return 0;
}
