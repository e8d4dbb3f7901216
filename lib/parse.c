// SPDX-License-Identifier: MIT
/* Values as a command line or a control request gives them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

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

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int parse_mac(const char *s, uint8_t mac[6], struct err *e)
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (hi < 0 || lo < 0 || (i < 5 ? s[2] != ':' : s[2] != '\0'))
			return err_set(e, EINVAL, "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
				       s - 3 * i);
		mac[i] = hi << 4 | lo;
		s += 3;
	}
	if (mac[0] & 1)
		return err_set(e, EINVAL, "%02x:%02x:%02x:%02x:%02x:%02x is a multicast address",
			       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return err_set(e, EINVAL, "00:00:00:00:00:00 is not a usable MAC address");
	return 0;
}

int parse_choice(const char *option, const char *what, const char *arg,
		 const char *const *names, unsigned int n, struct err *e)
{
	char list[128] = "";
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return (int)i;
	/* "a, b or c", for the message. */
	for (unsigned int i = 0; i < n && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	return err_set(e, EINVAL, "%s: unknown %s '%s' (%s)", option, what, arg, list);
}

