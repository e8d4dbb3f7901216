/* SPDX-License-Identifier: MIT */
/*
 * The test guest's fuzz target: a small record parser with a planted bug
 * (fuzz_target.c). Plain C: it builds into the guest and natively alike.
 */
#ifndef TESTGUEST_FUZZ_TARGET_H
#define TESTGUEST_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* What fuzz_target() found. */
#define FUZZ_TARGET_OK 0
#define FUZZ_TARGET_OVERRUN 0xb0f		/* the planted bug: a write past a field */

int fuzz_target(const uint8_t *data, size_t len);

#endif /* TESTGUEST_FUZZ_TARGET_H */
