// SPDX-License-Identifier: MIT
/*
 * The AML encoder: package lengths and integers at every size boundary,
 * strings, EISA IDs, names, resource descriptors and templates, packages,
 * a whole Device byte for byte (checked against what iasl compiles from the
 * same ASL, but for the End Tag checksum iasl leaves 0), nesting, and the
 * sticky errors at the buffer's bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "tap.h"
#include "util.h"

#define BIG (64u << 20)

/* Run one emitter on a fresh buffer and compare what it wrote. */
#define EMITS(stmt, name, ...)                                                 \
	do {                                                                   \
		static const uint8_t want_[] = { __VA_ARGS__ };                \
		struct aml_buf b;                                              \
		aml_init(&b, BIG);                                             \
		stmt;                                                          \
		is_int(aml_finish(&b), 0, "%s: no error", name);               \
		if (is_int(b.len, sizeof(want_), "%s: %zu bytes", name,        \
			   sizeof(want_)))                                     \
			is_mem(b.data, want_, sizeof(want_), "%s: bytes",      \
			       name);                                          \
		aml_free(&b);                                                  \
	} while (0)

/* --- PkgLength ----------------------------------------------------------- */

static void check_pkglen(size_t body, unsigned int n, const uint8_t *want)
{
	uint8_t out[AML_PKGLEN_MAX];

	if (is_int(aml_encode_pkglen(body, out), n,
		   "PkgLength of a %zu-byte body has %u bytes", body, n))
		is_mem(out, want, n, "PkgLength of a %zu-byte body", body);
}

static void test_pkglen(void)
{
	uint8_t out[AML_PKGLEN_MAX];

	/* The value counts its own bytes: total 63 is the last 1-byte one. */
	check_pkglen(0, 1, (const uint8_t[]){ 0x01 });
	check_pkglen(62, 1, (const uint8_t[]){ 0x3f });
	/* Body 63: 64 will not fit 6 bits, so 2 bytes and a total of 65. */
	check_pkglen(63, 2, (const uint8_t[]){ 0x41, 0x04 });
	check_pkglen(4093, 2, (const uint8_t[]){ 0x4f, 0xff });	/* 4095 */
	check_pkglen(4094, 3, (const uint8_t[]){ 0x81, 0x00, 0x01 }); /* 4097 */
	check_pkglen(0xffffc, 3, (const uint8_t[]){ 0x8f, 0xff, 0xff });
	/* Body 0xffffd: 4 bytes, a total of 0x100001. */
	check_pkglen(0xffffd, 4,
		     (const uint8_t[]){ 0xc1, 0x00, 0x00, 0x01 });
	check_pkglen(AML_PKG_BODY_MAX, 4,
		     (const uint8_t[]){ 0xcf, 0xff, 0xff, 0xff });
	is_int(aml_encode_pkglen(AML_PKG_BODY_MAX + 1, out), -E2BIG,
	       "PkgLength past 2^28 - 1 is refused");
}

/* A Scope whose body is n bytes: its PkgLength follows the opcode. */
static void check_scope_body(size_t n, unsigned int pkglen_bytes)
{
	uint8_t want[AML_PKGLEN_MAX];
	struct aml_buf b;
	uint8_t *fill = calloc(1, n);

	aml_init(&b, BIG);
	aml_scope(&b, "TEST");
	aml_append(&b, fill, n - 4);
	aml_close(&b);
	is_int(aml_finish(&b), 0, "Scope with a %zu-byte body", n);
	aml_encode_pkglen(n, want);
	is_int(b.len, 1 + pkglen_bytes + n, "Scope with a %zu-byte body: size",
	       n);
	ok(b.data[0] == 0x10 && !memcmp(b.data + 1, want, pkglen_bytes) &&
	   !memcmp(b.data + 1 + pkglen_bytes, "TEST", 4),
	   "Scope with a %zu-byte body: %u-byte PkgLength, then its name", n,
	   pkglen_bytes);
	aml_free(&b);
	free(fill);
}

static void test_package_boundaries(void)
{
	check_scope_body(62, 1);
	check_scope_body(63, 2);
	check_scope_body(4093, 2);
	check_scope_body(4094, 3);
	check_scope_body(0xffffc, 3);
	check_scope_body(0xffffd, 4);
}

/* --- Data -------------------------------------------------------------- */

static void test_integers(void)
{
	EMITS(aml_integer(&b, 0), "Zero", 0x00);
	EMITS(aml_integer(&b, 1), "One", 0x01);
	EMITS(aml_integer(&b, 2), "2 is a byte", 0x0a, 0x02);
	EMITS(aml_integer(&b, 0xff), "0xff is a byte", 0x0a, 0xff);
	EMITS(aml_integer(&b, 0x100), "0x100 is a word", 0x0b, 0x00, 0x01);
	EMITS(aml_integer(&b, 0xffff), "0xffff is a word", 0x0b, 0xff, 0xff);
	EMITS(aml_integer(&b, 0x10000), "0x10000 is a dword", 0x0c, 0x00,
	      0x00, 0x01, 0x00);
	EMITS(aml_integer(&b, 0xffffffff), "0xffffffff is a dword", 0x0c,
	      0xff, 0xff, 0xff, 0xff);
	EMITS(aml_integer(&b, 0x100000000ull), "2^32 is a qword", 0x0e, 0x00,
	      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
	EMITS(aml_integer(&b, UINT64_MAX - 1), "2^64 - 2 is a qword", 0x0e,
	      0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	EMITS(aml_integer(&b, UINT64_MAX), "2^64 - 1 is Ones", 0xff);
}

static void test_strings(void)
{
	struct aml_buf x;

	EMITS(aml_string(&b, "LNRO0005"), "String", 0x0d, 'L', 'N', 'R', 'O',
	      '0', '0', '0', '5', 0x00);
	EMITS(aml_string(&b, ""), "empty String", 0x0d, 0x00);
	aml_init(&x, BIG);
	aml_string(&x, "caf\xc3\xa9");
	is_int(aml_finish(&x), -EINVAL, "a String is ASCII only");
	aml_free(&x);
}

static void test_eisaid(void)
{
	static const char *const bad[] = { "pnp0501", "PNP050", "PNP05011",
					   "PNPG501", "PN@0501", "PNP05a1" };
	struct aml_buf x;
	uint32_t v = 0;

	is_int(aml_eisaid_value("PNP0501", &v), 0, "EISAID(PNP0501)");
	is_u64(v, 0x0105d041, "EISAID(PNP0501) is 0x0105d041");
	aml_eisaid_value("PNP0A03", &v);
	is_u64(v, 0x030ad041, "EISAID(PNP0A03) is 0x030ad041");
	EMITS(aml_eisaid(&b, "PNP0501"), "EISAID is emitted as a DWord",
	      0x0c, 0x41, 0xd0, 0x05, 0x01);
	EMITS(aml_eisaid(&b, "PNP0000"), "EISAID stays a DWord when small",
	      0x0c, 0x41, 0xd0, 0x00, 0x00);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(aml_eisaid_value(bad[i], &v), -EINVAL,
		       "EISAID(%s) is refused", bad[i]);
	aml_init(&x, BIG);
	aml_eisaid(&x, "PNP05");
	is_int(aml_finish(&x), -EINVAL, "a bad EISAID is a sticky error");
	aml_free(&x);
}

/* --- Names --------------------------------------------------------------- */

static void test_names(void)
{
	static const char *const bad[] = { "", "1ABC", "ABCDE", "a", "A-B",
					   "_SB..X", "_SB.", ".X", "\\\\X" };
	struct aml_buf x;

	EMITS(aml_namestring(&b, "COM1"), "NameSeg", 'C', 'O', 'M', '1');
	EMITS(aml_namestring(&b, "_SB"), "NameSeg padded with _", '_', 'S',
	      'B', '_');
	EMITS(aml_namestring(&b, "A"), "one letter padded", 'A', '_', '_',
	      '_');
	EMITS(aml_namestring(&b, "\\_SB.COM1"), "root DualNamePath", 0x5c,
	      0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1');
	EMITS(aml_namestring(&b, "\\_SB.PCI0.S08"), "MultiNamePath", 0x5c,
	      0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '0',
	      '8', '_');
	EMITS(aml_namestring(&b, "^^FOO"), "parent prefixes", 0x5e, 0x5e, 'F',
	      'O', 'O', '_');
	EMITS(aml_namestring(&b, "\\"), "the root alone is NullName", 0x5c,
	      0x00);
	EMITS(aml_name(&b, "_UID"); aml_integer(&b, 0), "Name (_UID, Zero)",
	      0x08, '_', 'U', 'I', 'D', 0x00);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		aml_init(&x, BIG);
		aml_namestring(&x, bad[i]);
		is_int(aml_finish(&x), -EINVAL, "name '%s' is refused", bad[i]);
		aml_free(&x);
	}
}

/* --- Resources ------------------------------------------------------------ */

static void test_descriptors(void)
{
	struct aml_buf x;

	EMITS(aml_res_io(&b, 0x3f8, 0x3f8, 1, 8), "IO (Decode16)", 0x47, 0x01,
	      0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08);
	EMITS(aml_res_irq(&b, 4), "IRQNoFlags () {4}", 0x22, 0x10, 0x00);
	EMITS(aml_res_irq(&b, 15), "IRQNoFlags () {15}", 0x22, 0x00, 0x80);
	EMITS(aml_res_memory32_fixed(&b, 0xd0000000, 0x1000, true),
	      "Memory32Fixed (ReadWrite)", 0x86, 0x09, 0x00, 0x01, 0x00, 0x00,
	      0x00, 0xd0, 0x00, 0x10, 0x00, 0x00);
	EMITS(aml_res_memory32_fixed(&b, 0xfeb00000, 0x200, false),
	      "Memory32Fixed (ReadOnly)", 0x86, 0x09, 0x00, 0x00, 0x00, 0x00,
	      0xb0, 0xfe, 0x00, 0x02, 0x00, 0x00);
	EMITS(aml_res_interrupt(&b, 16, AML_IRQ_CONSUMER | AML_IRQ_EDGE),
	      "Interrupt (Consumer, Edge, ActiveHigh, Exclusive) {16}", 0x89,
	      0x06, 0x00, 0x03, 0x01, 0x10, 0x00, 0x00, 0x00);
	EMITS(aml_res_interrupt(&b, 0x123, AML_IRQ_CONSUMER | AML_IRQ_SHARED |
					      AML_IRQ_ACTIVE_LOW),
	      "Interrupt (Consumer, Level, ActiveLow, Shared) {0x123}", 0x89,
	      0x06, 0x00, 0x0d, 0x01, 0x23, 0x01, 0x00, 0x00);
	aml_init(&x, BIG);
	aml_res_irq(&x, 16);
	is_int(aml_finish(&x), -EINVAL, "IRQNoFlags past 15 is refused");
	aml_free(&x);
	aml_init(&x, BIG);
	aml_res_interrupt(&x, 5, 0x20);
	is_int(aml_finish(&x), -EINVAL, "unknown interrupt flags are refused");
	aml_free(&x);
	aml_init(&x, BIG);
	aml_res_io(&x, 0x400, 0x3ff, 1, 8);
	is_int(aml_finish(&x), -EINVAL, "IO with min above max is refused");
	aml_free(&x);
}

static void test_template(void)
{
	struct aml_buf rt, x;
	uint8_t sum = 0;

	aml_init(&rt, 64);
	aml_res_io(&rt, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq(&rt, 4);
	EMITS(aml_resource_template(&b, &rt), "ResourceTemplate", 0x11, 0x10,
	      0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22,
	      0x10, 0x00, 0x79, 0x0e);
	/* The template: after BufferOp, PkgLength and BufferSize. */
	aml_init(&x, BIG);
	aml_resource_template(&x, &rt);
	for (size_t i = 4; i < x.len; i++)
		sum += x.data[i];
	is_int(sum, 0, "the End Tag checksum makes the template sum to 0");
	aml_free(&x);
	aml_free(&rt);

	aml_init(&rt, 64);
	EMITS(aml_resource_template(&b, &rt), "empty ResourceTemplate", 0x11,
	      0x05, 0x0a, 0x02, 0x79, 0x87);
	aml_res_irq(&rt, 99);
	aml_init(&x, BIG);
	aml_resource_template(&x, &rt);
	is_int(aml_finish(&x), -EINVAL,
	       "a template's error passes to the buffer it goes in");
	aml_free(&x);
	aml_free(&rt);
}

/* Device (COM1) { _HID, _UID, _CRS }, as gmvm's DSDT describes COM1. */
static void test_device(void)
{
	struct aml_buf rt;

	aml_init(&rt, 64);
	aml_res_io(&rt, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq(&rt, 4);
	EMITS(aml_device(&b, "COM1"); aml_name(&b, "_HID");
	      aml_eisaid(&b, "PNP0501"); aml_name(&b, "_UID");
	      aml_integer(&b, 0); aml_name(&b, "_CRS");
	      aml_resource_template(&b, &rt); aml_close(&b),
	      "Device (COM1)",
	      0x5b, 0x82, 0x2b, 'C', 'O', 'M', '1',
	      0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01,
	      0x08, '_', 'U', 'I', 'D', 0x00,
	      0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
	      0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	      0x22, 0x10, 0x00, 0x79, 0x0e);
	aml_free(&rt);

	aml_init(&rt, 64);
	aml_res_memory32_fixed(&rt, 0xd0000000, 0x1000, true);
	aml_res_interrupt(&rt, 16, AML_IRQ_CONSUMER | AML_IRQ_EDGE);
	EMITS(aml_device(&b, "VR00"); aml_name(&b, "_HID");
	      aml_string(&b, "LNRO0005"); aml_name(&b, "_UID");
	      aml_integer(&b, 0); aml_name(&b, "_CRS");
	      aml_resource_template(&b, &rt); aml_close(&b),
	      "Device (VR00)",
	      0x5b, 0x82, 0x3a, 'V', 'R', '0', '0',
	      0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0',
	      '0', '5', 0x00,
	      0x08, '_', 'U', 'I', 'D', 0x00,
	      0x08, '_', 'C', 'R', 'S', 0x11, 0x1a, 0x0a, 0x17,
	      0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10,
	      0x00, 0x00,
	      0x89, 0x06, 0x00, 0x03, 0x01, 0x10, 0x00, 0x00, 0x00,
	      0x79, 0x74);
	aml_free(&rt);
}

/* --- Packages ------------------------------------------------------------ */

/* The bytes are what iasl compiles from the same ASL. */
static void test_package(void)
{
	static const uint64_t s5[] = { 5, 0 };
	static const uint64_t mixed[] = { 0x1234, 1, 0xffffffff };
	static uint64_t zeros[256];
	struct aml_buf x;

	EMITS(aml_name(&b, "_S5"); aml_package(&b, s5, 2),
	      "Name (_S5, Package () { 5, 0 })",
	      0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00);
	EMITS(aml_package(&b, NULL, 0), "Package () { }", 0x12, 0x02, 0x00);
	EMITS(aml_package(&b, mixed, 3), "Package of a word, One and a dword",
	      0x12, 0x0b, 0x03, 0x0b, 0x34, 0x12, 0x01, 0x0c, 0xff, 0xff,
	      0xff, 0xff);

	/* 255 Zeros and the count: a 256-byte body, a 2-byte PkgLength. */
	aml_init(&x, BIG);
	aml_package(&x, zeros, 255);
	is_int(aml_finish(&x), 0, "a Package of 255 integers");
	ok(x.len == 3 + 256 && x.data[0] == 0x12 && x.data[1] == 0x42 &&
	   x.data[2] == 0x10 && x.data[3] == 255,
	   "... has a 2-byte PkgLength (258) and NumElements 255");
	aml_free(&x);

	aml_init(&x, BIG);
	aml_package(&x, zeros, 256);
	is_int(aml_finish(&x), -EINVAL, "256 elements do not fit NumElements");
	is_int(x.len, 0, "... and nothing was written");
	aml_free(&x);

	aml_init(&x, BIG);
	aml_package(&x, NULL, 1);
	is_int(aml_finish(&x), -EINVAL, "elements without an array are refused");
	aml_free(&x);

	/* Opcode, count and both integers fill 5 bytes: no PkgLength. */
	aml_init(&x, 5);
	aml_package(&x, s5, 2);
	is_int(aml_finish(&x), -ENOSPC, "a Package past the bound: -ENOSPC");
	aml_free(&x);
}

/* --- Nesting and limits ------------------------------------------------ */

static void test_nesting(void)
{
	struct aml_buf x;

	EMITS(aml_scope(&b, "\\_SB"); aml_device(&b, "D0"); aml_close(&b);
	      aml_close(&b),
	      "Device in a Scope", 0x10, 0x0d, 0x5c, '_', 'S', 'B', '_', 0x5b,
	      0x82, 0x05, 'D', '0', '_', '_');
	aml_init(&x, BIG);
	aml_scope(&x, "A");
	is_int(aml_finish(&x), -EINVAL, "an unclosed package is an error");
	aml_free(&x);
	aml_init(&x, BIG);
	aml_close(&x);
	is_int(aml_finish(&x), -EINVAL, "closing with nothing open is an error");
	aml_free(&x);
	aml_init(&x, BIG);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope(&x, "A");
	is_int(aml_finish(&x), -EINVAL, "nesting deeper than %d is refused",
	       AML_MAX_DEPTH);
	aml_free(&x);
}

static void test_limits(void)
{
	struct aml_buf b;
	size_t len;

	aml_init(&b, 9);
	aml_integer(&b, 0x100000000ull);
	is_int(aml_finish(&b), 0, "a 9-byte QWord fits a 9-byte bound");
	aml_free(&b);

	aml_init(&b, 8);
	aml_integer(&b, 0x100000000ull);
	is_int(aml_finish(&b), -ENOSPC, "... not an 8-byte one: -ENOSPC");
	is_int(b.len, 0, "nothing of it was written");
	aml_byte(&b, 1);
	aml_close(&b);
	is_int(b.len, 0, "errors are sticky: later bytes are dropped");
	is_int(aml_finish(&b), -ENOSPC, "... and the first error stays");
	aml_free(&b);

	/* The PkgLength a close inserts must fit the bound too. */
	aml_init(&b, 8);
	aml_scope(&b, "ABCD");
	aml_integer(&b, 0x1234);
	len = b.len;
	aml_close(&b);
	is_int(len, 8, "opcode, name and a word fill an 8-byte bound");
	is_int(aml_finish(&b), -ENOSPC, "no room for the PkgLength: -ENOSPC");
	aml_free(&b);

	aml_init(&b, 0);
	aml_byte(&b, 0);
	is_int(aml_finish(&b), -ENOSPC, "a zero bound takes nothing");
	aml_free(&b);
}

int main(void)
{
	test_pkglen();
	test_package_boundaries();
	test_integers();
	test_strings();
	test_eisaid();
	test_names();
	test_descriptors();
	test_template();
	test_device();
	test_package();
	test_nesting();
	test_limits();
	return done_testing();
}
