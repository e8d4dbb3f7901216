// SPDX-License-Identifier: MIT
/*
 * A record parser with a bug a coverage-guided fuzzer finds only by
 * following edges. A record is
 *
 *   'G' 'M' 'V' 'M'  kind  length  payload[length]
 *
 * and the magic is checked one byte at a time, so each right byte is a new
 * edge. Kind 'N' (name) copies the payload into a 16-byte field without
 * checking the length against the field: the planted bug. The field sits
 * before a redzone, as a sanitizer would lay it out, and the overrun is
 * caught there and reported. The other kinds are there to be explored.
 *
 * Compiled with -fsanitize-coverage=trace-pc in the guest, and as it is by
 * afl-cc for the native comparison (bench/fuzz.sh).
 */
#include "fuzz_target.h"

#define NAME_LEN 16
#define REDZONE_LEN 256
#define REDZONE_BYTE 0xa5

/*
 * The name field and its redzone are one array, so that the overrun stays
 * defined C (a compiler may not assume it away) and lands where it is seen.
 */
struct record {
	uint8_t name[NAME_LEN + REDZONE_LEN];
	uint32_t sum;
	uint32_t flags;
};

static int parse_name(struct record *r, const uint8_t *p, uint8_t len)
{
	/* The bug: len is not checked against NAME_LEN. */
	for (uint8_t i = 0; i < len; i++)
		r->name[i] = p[i];
	for (unsigned int i = NAME_LEN; i < NAME_LEN + REDZONE_LEN; i++)
		if (r->name[i] != REDZONE_BYTE)
			return FUZZ_TARGET_OVERRUN;
	return FUZZ_TARGET_OK;
}

static int parse_sum(struct record *r, const uint8_t *p, uint8_t len)
{
	for (uint8_t i = 0; i < len; i++)
		r->sum = r->sum * 31 + p[i];
	if (r->sum % 7 == 3)
		r->flags |= 1;
	return FUZZ_TARGET_OK;
}

static int parse_flags(struct record *r, const uint8_t *p, uint8_t len)
{
	if (len < 2)
		return FUZZ_TARGET_OK;
	if (p[0] & 0x80)
		r->flags |= 2;
	if (p[1] == 'x')
		r->flags |= 4;
	return FUZZ_TARGET_OK;
}

int fuzz_target(const uint8_t *data, size_t len)
{
	struct record r;
	uint8_t n;

	for (unsigned int i = NAME_LEN; i < NAME_LEN + REDZONE_LEN; i++)
		r.name[i] = REDZONE_BYTE;
	r.sum = 0;
	r.flags = 0;
	if (len < 6)
		return FUZZ_TARGET_OK;
	if (data[0] != 'G')
		return FUZZ_TARGET_OK;
	if (data[1] != 'M')
		return FUZZ_TARGET_OK;
	if (data[2] != 'V')
		return FUZZ_TARGET_OK;
	if (data[3] != 'M')
		return FUZZ_TARGET_OK;
	n = data[5];
	if (n > len - 6)
		return FUZZ_TARGET_OK;
	switch (data[4]) {
	case 'N':
		return parse_name(&r, data + 6, n);
	case 'S':
		return parse_sum(&r, data + 6, n);
	case 'F':
		return parse_flags(&r, data + 6, n);
	default:
		return FUZZ_TARGET_OK;
	}
}
