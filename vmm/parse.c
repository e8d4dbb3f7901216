// SPDX-License-Identifier: MIT
/* Numbers and sizes given on the command line. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static int parse_digits(const char *s, const char **end, uint64_t *out,
			struct err *e)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return err_set(e, EINVAL, "'%s' is not a number", s);
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = *s - '0';

		if (v > (UINT64_MAX - d) / 10)
			return err_set(e, ERANGE, "number is too large");
		v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return 0;
}

static int suffix_shift(const char *s, unsigned int *shift)
{
	static const char units[] = "KMGT";
	const char *u;

	if (!*s || !strchr(units, toupper((unsigned char)*s)))
		return -EINVAL;
	u = strchr(units, toupper((unsigned char)*s));
	*shift = 10 * (unsigned int)(u - units + 1);
	s++;
	if (!*s || !strcasecmp(s, "iB") || !strcasecmp(s, "B"))
		return 0;
	return -EINVAL;
}

int parse_size(const char *s, uint64_t default_unit, uint64_t *out,
	       struct err *e)
{
	const char *end;
	unsigned int shift;
	uint64_t v, unit;
	int ret;

	ret = parse_digits(s, &end, &v, e);
	if (ret)
		return ret;
	if (!*end) {
		unit = default_unit;
	} else if (!strcasecmp(end, "B")) {
		unit = 1;
	} else if (suffix_shift(end, &shift) == 0) {
		unit = 1ull << shift;
	} else {
		return err_set(e, EINVAL, "'%s' has an unknown size suffix '%s' (use K, M, G or T)",
			       s, end);
	}
	if (unit && v > UINT64_MAX / unit)
		return err_set(e, ERANGE, "'%s' is too large", s);
	*out = v * unit;
	return 0;
}

int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *out, struct err *e)
{
	const char *end;
	uint64_t v;
	int ret;

	ret = parse_digits(s, &end, &v, e);
	if (ret)
		return ret;
	if (*end)
		return err_set(e, EINVAL, "'%s' is not a whole number", s);
	if (v < min || v > max)
		return err_set(e, ERANGE, "%llu is out of range (%lu to %lu)",
			       (unsigned long long)v, min, max);
	*out = v;
	return 0;
}
