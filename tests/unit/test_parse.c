// SPDX-License-Identifier: MIT
/*
 * parse_size(), parse_uint(), parse_mac() and parse_net_spec(): what the
 * command line accepts as numbers, MAC addresses and --net specifications.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli.h"
#include "tap.h"
#include "util.h"
#include "vm.h"

#define TIB (1ull << 40)

struct size_case {
	const char *s;
	uint64_t unit;
	uint64_t want;
};

static const struct size_case good_sizes[] = {
	{ "0", MIB, 0 },
	{ "1", MIB, MIB },
	{ "128", MIB, 128 * MIB },
	{ "007", MIB, 7 * MIB },
	{ "3", KIB, 3 * KIB },
	{ "4096", 1, 4096 },
	{ "1K", MIB, KIB },
	{ "1k", MIB, KIB },
	{ "2M", 1, 2 * MIB },
	{ "2m", 1, 2 * MIB },
	{ "3G", MIB, 3 * GIB },
	{ "3g", MIB, 3 * GIB },
	{ "1T", MIB, TIB },
	{ "1t", MIB, TIB },
	{ "4KiB", MIB, 4 * KIB },
	{ "4kib", MIB, 4 * KIB },
	{ "4KIB", MIB, 4 * KIB },
	{ "5MiB", 1, 5 * MIB },
	{ "6GiB", 1, 6 * GIB },
	{ "7TiB", 1, 7 * TIB },
	{ "8KB", MIB, 8 * KIB },
	{ "8kb", MIB, 8 * KIB },
	{ "9MB", 1, 9 * MIB },
	{ "9Gb", 1, 9 * GIB },
	{ "2TB", 1, 2 * TIB },
	{ "512B", MIB, 512 },
	{ "512b", MIB, 512 },
	{ "0G", MIB, 0 },
	/* The largest values that still fit in 64 bits. */
	{ "18446744073709551615", 1, UINT64_MAX },
	{ "18446744073709551615B", MIB, UINT64_MAX },
	{ "17592186044415", MIB, UINT64_MAX - (MIB - 1) },
	{ "17179869183G", 1, UINT64_MAX - (GIB - 1) },
	{ "16777215T", 1, UINT64_MAX - (TIB - 1) },
};

/* Over 2^64 once scaled, or as digits. */
static const struct size_case too_big_sizes[] = {
	{ "18446744073709551616", 1, 0 },
	{ "99999999999999999999999", 1, 0 },
	{ "18446744073709551616B", 1, 0 },
	{ "17592186044416", MIB, 0 },
	{ "18446744073709551615K", 1, 0 },
	{ "17179869184G", 1, 0 },
	{ "16777216T", 1, 0 },
	{ "16777216TiB", 1, 0 },
};

static const char *const bad_sizes[] = {
	"", "M", "K", "B", "iB", "-1", "+1", " 1", "1 ", "1 M", "1M ", "12Q",
	"1.5G", "0x10", "1e3", "1KK", "1Ki", "1iB", "1MBB", "1MiBs", "1KB2",
	"1BB", "1Bi", "1E", "1P", "12,5M",
};

static void test_size_good(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_sizes); i++) {
		const struct size_case *c = &good_sizes[i];
		struct err e = { 0 };
		uint64_t v = 0xdeadbeef;
		int ret = parse_size(c->s, c->unit, &v, &e);

		if (is_int(ret, 0, "parse_size('%s', unit %#llx) succeeds",
			   c->s, (unsigned long long)c->unit))
			is_u64(v, c->want, "parse_size('%s', unit %#llx) value",
			       c->s, (unsigned long long)c->unit);
		else
			diag("message: %s", e.msg);
	}
}

static void test_size_too_big(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(too_big_sizes); i++) {
		const struct size_case *c = &too_big_sizes[i];
		struct err e = { 0 };
		uint64_t v = 0;

		is_int(parse_size(c->s, c->unit, &v, &e), -ERANGE,
		       "parse_size('%s', unit %#llx) is -ERANGE", c->s,
		       (unsigned long long)c->unit);
		is_int(e.errnum, ERANGE, "'%s': errnum ERANGE", c->s);
		ok(e.msg[0] != '\0', "'%s': message set (%s)", c->s, e.msg);
	}
}

static void test_size_bad(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		const char *s = bad_sizes[i];
		struct err e = { 0 };
		uint64_t v = 0;

		is_int(parse_size(s, MIB, &v, &e), -EINVAL,
		       "parse_size('%s') is -EINVAL", s);
		is_int(e.errnum, EINVAL, "'%s': errnum EINVAL", s);
		ok(e.msg[0] != '\0', "'%s': message set (%s)", s, e.msg);
	}
}

/* The message names the input and what is wrong with it. */
static void test_size_messages(void)
{
	struct err e = { 0 };
	uint64_t v;

	parse_size("12Q", MIB, &v, &e);
	like(e.msg, "'12Q'", "unknown suffix: message quotes the input");
	like(e.msg, "suffix", "unknown suffix: message says suffix");
	parse_size("abc", MIB, &v, &e);
	like(e.msg, "abc", "not a number: message quotes the input");
	like(e.msg, "number", "not a number: message says so");
}

struct uint_case {
	const char *s;
	unsigned long min, max;
	int ret;
	unsigned long want;
};

static const struct uint_case uint_cases[] = {
	{ "1", 1, 64, 0, 1 },
	{ "64", 1, 64, 0, 64 },
	{ "32", 1, 64, 0, 32 },
	{ "007", 1, 64, 0, 7 },
	{ "0", 0, 0, 0, 0 },
	{ "5", 5, 5, 0, 5 },
	{ "18446744073709551615", 0, ULONG_MAX, 0, ULONG_MAX },
	{ "0", 1, 64, -ERANGE, 0 },
	{ "65", 1, 64, -ERANGE, 0 },
	{ "4", 5, 5, -ERANGE, 0 },
	{ "6", 5, 5, -ERANGE, 0 },
	{ "1000000", 1, 64, -ERANGE, 0 },
	{ "18446744073709551616", 0, ULONG_MAX, -ERANGE, 0 },
	{ "99999999999999999999", 1, 64, -ERANGE, 0 },
	{ "", 1, 64, -EINVAL, 0 },
	{ "x", 1, 64, -EINVAL, 0 },
	{ "8x", 1, 64, -EINVAL, 0 },
	{ "8 ", 1, 64, -EINVAL, 0 },
	{ " 8", 1, 64, -EINVAL, 0 },
	{ "-1", 0, 64, -EINVAL, 0 },
	{ "+8", 1, 64, -EINVAL, 0 },
	{ "0x8", 0, 64, -EINVAL, 0 },
	{ "8M", 1, 64, -EINVAL, 0 },
	{ "4.0", 1, 64, -EINVAL, 0 },
};

static void test_uint(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(uint_cases); i++) {
		const struct uint_case *c = &uint_cases[i];
		struct err e = { 0 };
		unsigned long v = 12345;
		int ret = parse_uint(c->s, c->min, c->max, &v, &e);

		is_int(ret, c->ret, "parse_uint('%s', %lu..%lu) returns %d",
		       c->s, c->min, c->max, c->ret);
		if (!c->ret) {
			is_u64(v, c->want, "parse_uint('%s') value", c->s);
			continue;
		}
		is_int(e.errnum, -c->ret, "parse_uint('%s'): errnum", c->s);
		ok(e.msg[0] != '\0', "parse_uint('%s'): message set (%s)",
		   c->s, e.msg);
	}
}

static void test_uint_messages(void)
{
	struct err e = { 0 };
	unsigned long v;

	parse_uint("65", 1, 64, &v, &e);
	like(e.msg, "65", "out of range: message names the value");
	like(e.msg, "64", "out of range: message names the limit");
	parse_uint("8x", 1, 64, &v, &e);
	like(e.msg, "'8x'", "trailing garbage: message quotes the input");
}

static void test_mac(void)
{
	static const char *const bad[] = {
		"", "52:54:00:12:34", "52:54:00:12:34:5", "52:54:00:12:34:567",
		"52-54-00-12-34-56", "52:54:00:12:34:5g", "g2:54:00:12:34:56",
		"01:00:5e:00:00:01",	/* multicast */
		"ff:ff:ff:ff:ff:ff",	/* broadcast */
		"00:00:00:00:00:00",
	};
	struct err e = { 0 };
	uint8_t mac[6];

	ok(!parse_mac("52:54:00:Ab:cD:ef", mac, &e) && mac[0] == 0x52 &&
	   mac[3] == 0xab && mac[4] == 0xcd && mac[5] == 0xef,
	   "mac: mixed-case hex is read");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok(parse_mac(bad[i], mac, &e) == -EINVAL, "mac: '%s' refused", bad[i]);
	parse_mac("01:00:5e:00:00:01", mac, &e);
	like(e.msg, "multicast", "mac: a multicast address is called that");
}

static void test_choice(void)
{
	static const char *const names[] = { "serial", "virtio", "none" };
	struct err e = { 0 };

	is_int(parse_choice("--console", "mode", "serial", names, 3, &e), 0,
	       "choice: first");
	is_int(parse_choice("--console", "mode", "none", names, 3, &e), 2,
	       "choice: last");
	is_int(parse_choice("--console", "mode", "Serial", names, 3, &e), -EINVAL,
	       "choice: case matters");
	is_int(parse_choice("--console", "mode", "", names, 3, &e), -EINVAL,
	       "choice: empty");
	is_str(e.msg, "--console: unknown mode '' (serial, virtio or none)",
	       "choice: the message names the option and lists the choices");
	parse_choice("--then", "action", "later", names, 2, &e);
	is_str(e.msg, "--then: unknown action 'later' (serial or virtio)",
	       "choice: two choices");
}

static void test_net_spec(void)
{
	static const char *const bad[] = {
		"", "tap=", "mac=52:54:00:12:34:56", "tap=t0,", "tap=t0,foo=1",
		"tap=t0,mac=52:54:00:12:34", "tap=0123456789abcdef",
	};
	struct net_config n;
	struct err e = { 0 };

	ok(!parse_net_spec("tap=t0", &n, &e) && !strcmp(n.tap, "t0") && !n.mac_set,
	   "net: tap alone, no MAC");
	ok(!parse_net_spec("mac=52:54:00:12:34:56,tap=tap-long-name0", &n, &e) &&
	   !strcmp(n.tap, "tap-long-name0") && n.mac_set && n.mac[5] == 0x56,
	   "net: MAC first, tap of 14 characters");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok(parse_net_spec(bad[i], &n, &e) == -EINVAL, "net: '%s' refused", bad[i]);
	parse_net_spec("tap=t0,foo=1", &n, &e);
	like(e.msg, "'foo=1'", "net: the message quotes the bad part");
}

int main(void)
{
	test_size_good();
	test_size_too_big();
	test_size_bad();
	test_size_messages();
	test_uint();
	test_uint_messages();
	test_mac();
	test_choice();
	test_net_spec();
	return done_testing();
}
