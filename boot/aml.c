// SPDX-License-Identifier: MIT
/*
 * AML encoding (ACPI 6.x, section 20.2 for the grammar, 6.4 for resource
 * descriptors), just what the DSDT builder needs. Every emitter checks its
 * arguments and the buffer's bound, so a bad device description ends in an
 * error from aml_finish(), never in a malformed table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_NOTIFY_OP 0x86
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82		/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_PREFIX_CHAR '^'
#define AML_NULL_NAME 0x00
#define AML_ONES_OP 0xff

/* Resource descriptor tags: small items are (name << 3) | length. */
#define RES_IRQ_NOFLAGS 0x22
#define RES_IO 0x47
#define RES_END_TAG 0x79
#define RES_MEMORY32_FIXED 0x86
#define RES_EXT_INTERRUPT 0x89
#define RES_IO_DECODE16 0x01
#define RES_MEM_WRITABLE 0x01
#define AML_IRQ_FLAGS_ALL 0x1f

#define AML_MAX_SEGMENTS 255		/* MultiNamePrefix's SegCount */
#define AML_PACKAGE_MAX 255		/* NumElements is a byte */

void aml_init(struct aml_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void aml_free(struct aml_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

int aml_finish(struct aml_buf *b)
{
	if (!b->err && b->depth)
		aml_fail(b, -EINVAL);
	return b->err;
}

/* Room for n more bytes, within the bound. */
static bool aml_reserve(struct aml_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return false;
	if (n > b->max - b->len) {
		aml_fail(b, -ENOSPC);
		return false;
	}
	if (b->len + n <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		aml_fail(b, -ENOMEM);
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void aml_append(struct aml_buf *b, const void *p, size_t n)
{
	if (!n || !aml_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_append(b, &v, 1);
}

/* Little-endian, as everything in AML and resource descriptors. */
static void put_le(uint8_t *out, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static void aml_le(struct aml_buf *b, uint64_t v, unsigned int bytes)
{
	uint8_t out[8];

	put_le(out, v, bytes);
	aml_append(b, out, bytes);
}

/* A prefix byte and its little-endian operand, in one piece. */
static void aml_prefixed(struct aml_buf *b, uint8_t prefix, uint64_t v,
			 unsigned int bytes)
{
	uint8_t out[1 + 8];

	out[0] = prefix;
	put_le(out + 1, v, bytes);
	aml_append(b, out, 1 + bytes);
}

int aml_encode_pkglen(size_t body, uint8_t out[AML_PKGLEN_MAX])
{
	/* Largest value for 1..4 bytes: 6 bits, then 4 + 8 per extra byte. */
	static const uint32_t limit[] = { 0x3f, 0xfff, 0xfffff, 0xfffffff };
	unsigned int n;
	uint32_t v;

	for (n = 1; n <= AML_PKGLEN_MAX; n++)
		if (body <= limit[n - 1] - n)
			break;
	if (n > AML_PKGLEN_MAX)
		return -E2BIG;
	v = (uint32_t)body + n;
	if (n == 1) {
		out[0] = (uint8_t)v;
		return 1;
	}
	/* Bits 7-6: bytes that follow; bits 3-0: the low nibble. */
	out[0] = (uint8_t)(((n - 1) << 6) | (v & 0xf));
	for (unsigned int i = 1; i < n; i++)
		out[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
	return (int)n;
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	if (v == 0)
		aml_byte(b, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(b, AML_ONE_OP);
	else if (v == UINT64_MAX)
		/* Ones is all 64 bits only in a revision 2 (or later) table. */
		aml_byte(b, AML_ONES_OP);
	else if (v <= UINT8_MAX)
		aml_prefixed(b, AML_BYTE_PREFIX, v, 1);
	else if (v <= UINT16_MAX)
		aml_prefixed(b, AML_WORD_PREFIX, v, 2);
	else if (v <= UINT32_MAX)
		aml_prefixed(b, AML_DWORD_PREFIX, v, 4);
	else
		aml_prefixed(b, AML_QWORD_PREFIX, v, 8);
}

void aml_string(struct aml_buf *b, const char *s)
{
	size_t len = strlen(s);

	/* AsciiCharList: 0x01-0x7f, then a NUL. */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] > 0x7f) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_append(b, s, len + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid_value(const char *id, uint32_t *v)
{
	uint32_t vendor = 0, product = 0;

	if (strlen(id) != 7)
		return -EINVAL;
	/* Three letters of 5 bits each ('A' is 1), bit 15 clear. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		vendor = (vendor << 5) | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0)
			return -EINVAL;
		product = (product << 4) | (uint32_t)d;
	}
	/* Stored big-endian: vendor high byte first, then the product. */
	*v = (vendor >> 8) | (vendor & 0xff) << 8 | (product >> 8) << 16 |
	     (product & 0xff) << 24;
	return 0;
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint32_t v;

	if (aml_eisaid_value(id, &v)) {
		aml_fail(b, -EINVAL);
		return;
	}
	/* Always a DWord, as ASL compilers emit EISAID(). */
	aml_prefixed(b, AML_DWORD_PREFIX, v, 4);
}

static bool nameseg_char(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!lead && c >= '0' && c <= '9');
}

/* The segment of len characters at s, padded to 4 with '_'. */
static bool nameseg(const char *s, size_t len, char out[4])
{
	if (len < 1 || len > 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		if (i >= len) {
			out[i] = '_';
			continue;
		}
		if (!nameseg_char(s[i], i == 0))
			return false;
		out[i] = s[i];
	}
	return true;
}

static size_t count_segments(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == '.';
	return n;
}

/* The NamePath after any prefix: the segments, with their count's prefix. */
static void aml_namepath(struct aml_buf *b, const char *s)
{
	size_t n = count_segments(s);

	if (n > AML_MAX_SEGMENTS) {
		aml_fail(b, -EINVAL);
		return;
	}
	if (n == 2) {
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (n > 2) {
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, (uint8_t)n);
	}
	while (!b->err) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);
		char seg[4];

		if (!nameseg(s, len, seg)) {
			aml_fail(b, -EINVAL);
			return;
		}
		aml_append(b, seg, sizeof(seg));
		if (!dot)
			return;
		s = dot + 1;
	}
}

void aml_namestring(struct aml_buf *b, const char *path)
{
	const char *s = path;

	if (*s == AML_ROOT_CHAR) {
		aml_byte(b, AML_ROOT_CHAR);
		s++;
	} else {
		while (*s == AML_PARENT_PREFIX_CHAR) {
			aml_byte(b, AML_PARENT_PREFIX_CHAR);
			s++;
		}
	}
	if (!*s && s != path)
		aml_byte(b, AML_NULL_NAME);	/* "\" alone: the root */
	else
		aml_namepath(b, s);
}

void aml_name(struct aml_buf *b, const char *path)
{
	aml_byte(b, AML_NAME_OP);
	aml_namestring(b, path);
}

/* Start a package body here; aml_close() puts its PkgLength in front. */
static void aml_open(struct aml_buf *b)
{
	if (b->err)
		return;
	if (b->depth == AML_MAX_DEPTH) {
		aml_fail(b, -EINVAL);
		return;
	}
	b->open[b->depth++] = b->len;
}

void aml_close(struct aml_buf *b)
{
	uint8_t pkglen[AML_PKGLEN_MAX];
	size_t start, body;
	int n;

	if (b->err)
		return;
	if (!b->depth) {
		aml_fail(b, -EINVAL);
		return;
	}
	start = b->open[--b->depth];
	body = b->len - start;
	n = aml_encode_pkglen(body, pkglen);
	if (n < 0) {
		aml_fail(b, n);
		return;
	}
	if (!aml_reserve(b, (size_t)n))
		return;
	memmove(b->data + start + n, b->data + start, body);
	memcpy(b->data + start, pkglen, (size_t)n);
	b->len += (size_t)n;
}

void aml_scope(struct aml_buf *b, const char *path)
{
	aml_byte(b, AML_SCOPE_OP);
	aml_open(b);
	aml_namestring(b, path);
}

void aml_device(struct aml_buf *b, const char *path)
{
	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_DEVICE_OP);
	aml_open(b);
	aml_namestring(b, path);
}

void aml_method(struct aml_buf *b, const char *path, unsigned int nargs)
{
	if (nargs > 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, AML_METHOD_OP);
	aml_open(b);
	aml_namestring(b, path);
	aml_byte(b, (uint8_t)nargs);	/* not serialized, sync level 0 */
}

void aml_notify(struct aml_buf *b, const char *path, uint64_t value)
{
	aml_byte(b, AML_NOTIFY_OP);
	aml_namestring(b, path);
	aml_integer(b, value);
}

void aml_package(struct aml_buf *b, const uint64_t *v, unsigned int n)
{
	/* More would need VarPackageOp, which nothing here wants. */
	if (n > AML_PACKAGE_MAX || (n && !v)) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, AML_PACKAGE_OP);
	aml_open(b);
	aml_byte(b, (uint8_t)n);
	for (unsigned int i = 0; i < n; i++)
		aml_integer(b, v[i]);
	aml_close(b);
}

void aml_res_io(struct aml_buf *rt, uint16_t min, uint16_t max,
		uint8_t align, uint8_t len)
{
	if (min > max) {
		aml_fail(rt, -EINVAL);
		return;
	}
	aml_byte(rt, RES_IO);
	aml_byte(rt, RES_IO_DECODE16);
	aml_le(rt, min, 2);
	aml_le(rt, max, 2);
	aml_byte(rt, align);
	aml_byte(rt, len);
}

void aml_res_irq(struct aml_buf *rt, unsigned int irq)
{
	/* A mask of ISA IRQs 0-15; this form means edge, active-high. */
	if (irq > 15) {
		aml_fail(rt, -EINVAL);
		return;
	}
	aml_byte(rt, RES_IRQ_NOFLAGS);
	aml_le(rt, 1u << irq, 2);
}

void aml_res_memory32_fixed(struct aml_buf *rt, uint32_t base, uint32_t len,
			    bool writable)
{
	aml_byte(rt, RES_MEMORY32_FIXED);
	aml_le(rt, 9, 2);			/* length of what follows */
	aml_byte(rt, writable ? RES_MEM_WRITABLE : 0);
	aml_le(rt, base, 4);
	aml_le(rt, len, 4);
}

void aml_res_interrupt(struct aml_buf *rt, uint32_t gsi, unsigned int flags)
{
	if (flags & ~AML_IRQ_FLAGS_ALL) {
		aml_fail(rt, -EINVAL);
		return;
	}
	aml_byte(rt, RES_EXT_INTERRUPT);
	/* Flags, count, one interrupt number, no resource source. */
	aml_le(rt, 6, 2);
	aml_byte(rt, (uint8_t)flags);
	aml_byte(rt, 1);
	aml_le(rt, gsi, 4);
}

void aml_resource_template(struct aml_buf *b, const struct aml_buf *rt)
{
	uint8_t sum = RES_END_TAG;

	if (rt->err || rt->depth) {
		aml_fail(b, rt->err ? rt->err : -EINVAL);
		return;
	}
	for (size_t i = 0; i < rt->len; i++)
		sum += rt->data[i];
	aml_byte(b, AML_BUFFER_OP);
	aml_open(b);
	aml_integer(b, rt->len + 2);	/* BufferSize: with the End Tag */
	aml_append(b, rt->data, rt->len);
	aml_byte(b, RES_END_TAG);
	aml_byte(b, (uint8_t)-sum);
	aml_close(b);
}
