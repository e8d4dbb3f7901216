// SPDX-License-Identifier: MIT
/* Numbers and sizes given on the command line. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "sandbox.h"
#include "vm.h"

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

int parse_disk_spec(char *s, struct disk_config *d, struct err *e)
{
	char *comma = strrchr(s, ',');

	d->readonly = false;
	if (comma && (!strcmp(comma, ",ro") || !strcmp(comma, ",rw"))) {
		d->readonly = comma[1] == 'r' && comma[2] == 'o';
		*comma = '\0';
	} else if (comma) {
		return err_set(e, EINVAL, "'%s' is not an option of a disk (ro or rw)",
			       comma + 1);
	}
	if (!*s)
		return err_set(e, EINVAL, "no file given");
	d->path = s;
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

int parse_net_spec(const char *s, struct net_config *n, struct err *e)
{
	const char *p = s;

	memset(n, 0, sizeof(*n));
	while (*p) {
		const char *end = strchrnul(p, ',');
		size_t len = end - p;

		if (len > 4 && !strncmp(p, "tap=", 4)) {
			if (len - 4 >= sizeof(n->tap))
				return err_set(e, EINVAL, "tap name '%.*s' is longer than %zu characters",
					       (int)(len - 4), p + 4, sizeof(n->tap) - 1);
			memcpy(n->tap, p + 4, len - 4);
		} else if (len == 21 && !strncmp(p, "mac=", 4)) {
			char mac[18];

			memcpy(mac, p + 4, 17);
			mac[17] = '\0';
			if (parse_mac(mac, n->mac, e))
				return -EINVAL;
			n->mac_set = true;
		} else {
			return err_set(e, EINVAL, "'%.*s' is not tap=NAME or mac=MAC",
				       (int)len, p);
		}
		if (*end && !end[1])
			return err_set(e, EINVAL, "'%s' ends with a comma", s);
		p = *end ? end + 1 : end;
	}
	if (!n->tap[0])
		return err_set(e, EINVAL, "'%s' names no tap device (tap=NAME)", s);
	return 0;
}

int parse_privdrop_option(struct privdrop *p, const char *name,
			  const char *arg, struct err *e)
{
	unsigned long id;

	if (!strcmp(name, "chroot")) {
		struct stat st;

		if (arg[0] != '/')
			return err_set(e, EINVAL, "--chroot %s: must be an absolute path", arg);
		/* Found out now, not once the VM is built. */
		if (stat(arg, &st) < 0)
			return err_set(e, errno, "--chroot %s: %s", arg, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return err_set(e, ENOTDIR, "--chroot %s: not a directory", arg);
		p->chroot_dir = arg;
		return 0;
	}
	/* (uid_t)-1 means "leave unchanged" to the kernel: refuse it. */
	if (parse_uint(arg, 0, 0xfffffffeul, &id, e))
		return err_prefix(e, "--%s", name);
	if (!strcmp(name, "uid")) {
		p->uid = id;
		p->set_uid = true;
	} else {
		p->gid = id;
		p->set_gid = true;
	}
	return 0;
}
