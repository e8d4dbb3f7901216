// SPDX-License-Identifier: MIT
/*
 * Option values as the command line gives them (cmd/parse.c and friends):
 * sizes, bounded integers, --disk and --net specifications, MAC addresses,
 * --chroot/--uid/--gid, --seccomp and --memory-backend names, words from a
 * list (parse_choice(): --console, --discovery, ...), and the console's
 * Ctrl-A escape filter over terminal input. Each result that is accepted
 * is checked against what the parser promises.
 *
 * Input: u8 parser, u32 a, u32 b (parameters: unit, bounds, escape state),
 * then the string (up to its first NUL), or the bytes for the escape filter.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "console.h"
#include "harness.h"
#include "sandbox.h"

static void check_size(const char *s, uint32_t a)
{
	static const uint64_t units[] = { 1, KIB, MIB, GIB };
	uint64_t unit = units[a % 4], v, again;
	struct err e = { 0 };
	char buf[32];

	if (parse_size(s, unit, &v, &e)) {
		fuzz_refused(&e, "parse_size");
		return;
	}
	/* The same size in bytes must read back as itself. */
	snprintf(buf, sizeof(buf), "%" PRIu64 "B", v);
	FUZZ_CHECK(!parse_size(buf, unit, &again, &e) && again == v,
		   "'%s' is %" PRIu64 ", '%s' is not", s, v, buf);
}

static void check_uint(const char *s, uint32_t min, uint32_t max)
{
	unsigned long v;
	struct err e = { 0 };

	if (!parse_uint(s, min, max, &v, &e))
		FUZZ_CHECK(v >= min && v <= max, "%lu outside [%u, %u]", v, min, max);
	else
		fuzz_refused(&e, "parse_uint");
}

static void check_specs(char *s, unsigned int which)
{
	struct disk_config d;
	struct net_config n;
	uint8_t mac[6];
	struct err e = { 0 };

	switch (which) {
	case 0:
		if (!parse_disk_spec(s, &d, &e))
			FUZZ_CHECK(d.path && d.path[0], "a disk without a path");
		else
			fuzz_refused(&e, "parse_disk_spec");
		break;
	case 1:
		if (!parse_net_spec(s, &n, &e))
			FUZZ_CHECK(n.tap[0] && memchr(n.tap, 0, sizeof(n.tap)),
				   "a bad tap name");
		else
			fuzz_refused(&e, "parse_net_spec");
		break;
	default:
		if (!parse_mac(s, mac, &e))
			FUZZ_CHECK(!(mac[0] & 1), "a multicast MAC");
		else
			fuzz_refused(&e, "parse_mac");
		break;
	}
}

/* A word from a list, as --console, --discovery and others take. */
static void check_choice(const char *s)
{
	static const char *const names[] = { "serial", "virtio", "none" };
	struct err e = { 0 };
	int i = parse_choice("--console", "mode", s, names, ARRAY_SIZE(names), &e);

	if (i < 0)
		fuzz_refused(&e, "parse_choice");
	else
		FUZZ_CHECK(i < 3 && !strcmp(names[i], s), "'%s' is choice %d", s, i);
}

static void check_names(const char *s, uint32_t a)
{
	static const char *const opts[] = { "chroot", "uid", "gid" };
	struct privdrop p = { 0 };
	enum seccomp_mode mode;
	struct err e = { 0 };

	if (parse_privdrop_option(&p, opts[a % 3], s, &e))
		fuzz_refused(&e, "parse_privdrop_option");
	else if (a % 3 == 0)
		FUZZ_CHECK(p.chroot_dir && p.chroot_dir[0] == '/', "a relative chroot");
	seccomp_parse_mode(s, &mode);
	guest_mem_backend_find(s);
	check_choice(s);
}

static void check_escapes(const uint8_t *in, size_t n, uint32_t a)
{
	struct console_escape st = { .active = a & 1, .pending = a & 2 };
	uint8_t *out = malloc(n + 1);
	bool quit;
	size_t got;

	FUZZ_CHECK(out, "out of memory");
	got = console_escape_filter(&st, in, n, out, &quit);
	FUZZ_CHECK(got <= n + 1, "%zu bytes out of %zu", got, n);
	FUZZ_CHECK(st.active || (got == n && !quit), "escapes while inactive");
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .len = size };
	uint8_t which = fin_u8(&in);
	uint32_t a = fin_u32(&in), b = fin_u32(&in);
	size_t n = in.len - MIN(in.pos, in.len);
	const uint8_t *rest = data + (size - n);
	char *s = malloc(n + 1);

	FUZZ_CHECK(s, "out of memory");
	memcpy(s, rest, n);
	s[n] = '\0';
	switch (which % 5) {
	case 0:
		check_size(s, a);
		break;
	case 1:
		check_uint(s, MIN(a, b), MAX(a, b));
		break;
	case 2:
		check_specs(s, a % 3);
		break;
	case 3:
		check_names(s, a);
		break;
	case 4:
		check_escapes(rest, n, a);
		break;
	}
	free(s);
	return 0;
}
