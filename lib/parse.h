/* SPDX-License-Identifier: MIT */
/* Values as a command line or a control request gives them (lib/parse.c). */
#ifndef GMVM_PARSE_H
#define GMVM_PARSE_H

#include <stdint.h>

#include "err.h"

/*
 * Parse a size: digits with an optional binary suffix K, M, G or T (any case,
 * optionally followed by "iB" or "B"); a bare number counts in units of
 * default_unit bytes. Returns 0, or -EINVAL (malformed, e says why) or
 * -ERANGE (over 2^64).
 */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out,
	       struct err *e);

/* Parse a decimal integer in [min, max]. Returns 0, -EINVAL or -ERANGE (e set). */
int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *out, struct err *e);

/* A unicast MAC address "xx:xx:xx:xx:xx:xx". Returns 0 or -EINVAL. */
int parse_mac(const char *s, uint8_t mac[6], struct err *e);

/*
 * arg as one of the n names: returns its index, or -EINVAL with e saying
 * "OPTION: unknown WHAT 'ARG' (a, b or c)".
 */
int parse_choice(const char *option, const char *what, const char *arg,
		 const char *const *names, unsigned int n, struct err *e);

#endif /* GMVM_PARSE_H */
