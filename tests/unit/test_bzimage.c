// SPDX-License-Identifier: MIT
/*
 * bzImage kernels crafted in memory (setup header offsets from
 * Documentation/arch/x86/boot.rst): recognition, loading of the protected
 * mode part at 1 MiB for the 64-bit entry, and refusal of images gmvm cannot
 * boot, before anything is written to guest memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot.h"
#include "tap.h"

#define GUEST_SIZE (64 * MIB)
#define FILL 0xaa

#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_LOADFLAGS 0x211
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02

static struct guest_mem mem;
static uint8_t image[0x10000];

struct bz_spec {
	uint8_t setup_sects;
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint8_t jump_len;	/* the header ends at 0x202 + jump_len */
	size_t payload;
};

static const struct bz_spec base_spec = {
	.setup_sects = 4,
	.version = 0x020f,
	.loadflags = LOADED_HIGH,
	.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
	.init_size = 0x10000,
	.cmdline_size = 2047,
	.initrd_addr_max = 0x7fffffff,
	.jump_len = 0x66,
	.payload = 0x3000,
};

static void put16(size_t off, uint16_t v)
{
	image[off] = v;
	image[off + 1] = v >> 8;
}

static void put32(size_t off, uint32_t v)
{
	put16(off, v);
	put16(off + 2, v >> 16);
}

static size_t setup_size(const struct bz_spec *s)
{
	return ((s->setup_sects ? s->setup_sects : 4) + 1) * 512ul;
}

/* A bzImage per s in image: patterned setup code and payload. Its length. */
static size_t build_bz(const struct bz_spec *s)
{
	size_t setup = setup_size(s), len = setup + s->payload;

	if (len > sizeof(image))
		abort();
	for (size_t i = 0; i < setup; i++)
		image[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < s->payload; i++)
		image[setup + i] = (uint8_t)(i * 7 + (i >> 8) + 0x21);
	image[HDR_SETUP_SECTS] = s->setup_sects;
	put16(HDR_BOOT_FLAG, 0xaa55);
	image[HDR_JUMP] = 0xeb;
	image[HDR_JUMP + 1] = s->jump_len;
	memcpy(image + HDR_MAGIC, "HdrS", 4);
	put16(HDR_VERSION, s->version);
	image[HDR_LOADFLAGS] = s->loadflags;
	put32(HDR_INITRD_ADDR_MAX, s->initrd_addr_max);
	put16(HDR_XLOADFLAGS, s->xloadflags);
	put32(HDR_CMDLINE_SIZE, s->cmdline_size);
	put32(HDR_INIT_SIZE, s->init_size);
	return len;
}

static void mem_fill(void)
{
	memset(mem.base, FILL, GUEST_SIZE);
}

/* True when [from, to) of guest memory still holds the fill byte. */
static bool untouched(uint64_t from, uint64_t to)
{
	static uint8_t fill[4096];

	if (!fill[0])
		memset(fill, FILL, sizeof(fill));
	while (from < to) {
		uint64_t n = MIN(to - from, sizeof(fill));

		if (memcmp(mem.base + from, fill, n))
			return false;
		from += n;
	}
	return true;
}

static int load(size_t len, struct boot_image *img, struct err *e)
{
	mem_fill();
	memset(img, 0x5c, sizeof(*img));
	*e = (struct err){ 0 };
	return bzimage_load(&mem, image, len, img, e);
}

static bool load_ok(size_t len, struct boot_image *img, const char *what)
{
	struct err e;

	if (!is_int(load(len, img, &e), 0, "%s: loads", what)) {
		diag("message: %s", e.msg);
		return false;
	}
	return true;
}

static void reject(size_t len, const char *part, const char *what)
{
	struct boot_image img;
	struct err e;
	int ret = load(len, &img, &e);

	ok(ret < 0, "%s: rejected (%d)", what, ret);
	is_int(e.errnum, -ret, "%s: errnum is -ret", what);
	like(e.msg, part, "%s: message", what);
	ok(untouched(0, GUEST_SIZE), "%s: guest memory untouched", what);
}

static void check_payload(const struct bz_spec *s, const char *what)
{
	is_mem(mem.base + 1 * MIB, image + setup_size(s), s->payload,
	       "%s: payload at 1 MiB", what);
}

static void test_valid(void)
{
	struct bz_spec s = base_spec;
	size_t len = build_bz(&s);
	struct boot_image img;

	if (!load_ok(len, &img, "valid"))
		return;
	is_str(img.format, "bzImage", "valid: format");
	is_int(img.protocol, BOOT_PROTO_LINUX64, "valid: 64-bit protocol");
	is_u64(img.entry, 0x100200, "valid: 64-bit entry at 1 MiB + 0x200");
	is_u64(img.start, 1 * MIB, "valid: start at 1 MiB");
	is_u64(img.end, 1 * MIB + 0x10000, "valid: end = start + init_size");
	check_payload(&s, "valid");
	ok(untouched(0, 1 * MIB), "valid: nothing written below 1 MiB");
	ok(untouched(img.end, GUEST_SIZE), "valid: nothing written above end");
	is_u64(img.setup_header_len, 0x202 + 0x66 - 0x1f1,
	       "valid: setup header runs to 0x202 + jump length");
	is_mem(img.setup_header, image + 0x1f1, 0x202 + 0x66 - 0x1f1,
	       "valid: setup header bytes copied");
	is_u64(img.cmdline_max, 2048, "valid: cmdline_max = cmdline_size + 1");
	is_u64(img.initrd_addr_max, 0x7fffffff,
	       "valid: initrd_addr_max from the header");
}

static void test_valid_variants(void)
{
	struct bz_spec s;
	struct boot_image img;
	size_t len;

	s = base_spec;
	s.init_size = 0x1000;
	if (load_ok(build_bz(&s), &img, "payload > init_size"))
		is_u64(img.end, 1 * MIB + 0x3000,
		       "payload > init_size: end = start + payload");

	s = base_spec;
	s.setup_sects = 0;
	if (load_ok(build_bz(&s), &img, "setup_sects 0"))
		check_payload(&s, "setup_sects 0 means 4");

	s = base_spec;
	s.setup_sects = 27;
	if (load_ok(build_bz(&s), &img, "setup_sects 27"))
		check_payload(&s, "setup_sects 27");

	s = base_spec;
	s.jump_len = 0xff;
	if (load_ok(build_bz(&s), &img, "jump length 0xff"))
		is_u64(img.setup_header_len, SETUP_HEADER_MAX_END - 0x1f1,
		       "jump length 0xff: header capped at %#x",
		       SETUP_HEADER_MAX_END);

	s = base_spec;
	s.cmdline_size = 0xffffffff;
	if (load_ok(build_bz(&s), &img, "cmdline_size 2^32 - 1"))
		is_u64(img.cmdline_max, BOOT_CMDLINE_MAX,
		       "huge cmdline_size: capped at gmvm's buffer");
	s.cmdline_size = 255;
	if (load_ok(build_bz(&s), &img, "cmdline_size 255"))
		is_u64(img.cmdline_max, 256, "cmdline_size 255: cmdline_max 256");

	s = base_spec;
	s.version = 0x020c;
	s.initrd_addr_max = 0x37ffffff;
	if (load_ok(build_bz(&s), &img, "protocol 2.12"))
		is_u64(img.initrd_addr_max, 0x37ffffff,
		       "protocol 2.12: initrd_addr_max");

	s = base_spec;
	s.init_size = GUEST_SIZE - 1 * MIB;
	if (load_ok(build_bz(&s), &img, "init_size filling RAM exactly"))
		is_u64(img.end, GUEST_SIZE, "init_size filling RAM: end");

	s = base_spec;
	len = build_bz(&s);
	mem_fill();
	memset(&img, 0x5c, sizeof(img));
	is_int(boot_load_kernel(&mem, image, len, &img, &(struct err){ 0 }), 0,
	       "boot_load_kernel takes a bzImage");
	is_str(img.format, "bzImage", "boot_load_kernel: bzImage format");
	check_payload(&s, "boot_load_kernel");
}

static void test_reject_header(void)
{
	struct bz_spec s;
	size_t len;

	s = base_spec;
	s.version = 0x0209;
	reject(build_bz(&s), "2.09", "protocol 2.09 (too old)");
	s.version = 0x020b;
	reject(build_bz(&s), "too old", "protocol 2.11 (no xloadflags)");
	s.version = 0x0100;
	reject(build_bz(&s), "too old", "protocol 1.00");

	s = base_spec;
	s.loadflags = 0;
	reject(build_bz(&s), "load high", "LOADED_HIGH clear");
	s.loadflags = 0x80;
	reject(build_bz(&s), "load high", "only CAN_USE_HEAP in loadflags");

	s = base_spec;
	s.xloadflags = 0;
	reject(build_bz(&s), "XLF_KERNEL_64", "XLF_KERNEL_64 clear");
	s.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	reject(build_bz(&s), "XLF_KERNEL_64", "only XLF_CAN_BE_LOADED_ABOVE_4G");

	s = base_spec;
	build_bz(&s);
	reject(0x250, "truncated", "header cut at 0x250");
	reject(0x263, "truncated", "header cut inside init_size");
	reject(0x206, "truncated", "just the magic");

	s = base_spec;
	len = build_bz(&s);
	reject(setup_size(&s), "setup", "image ending with its setup sectors");
	reject(0x300, "setup", "image ending inside its setup sectors");
	image[HDR_SETUP_SECTS] = 0xff;
	reject(len, "setup", "255 setup sectors in a smaller file");
}

static void test_reject_size(void)
{
	struct bz_spec s = base_spec;

	s.init_size = GUEST_SIZE - 1 * MIB + 1;
	reject(build_bz(&s), "RAM", "init_size one byte over RAM");
	s.init_size = GUEST_SIZE;
	reject(build_bz(&s), "RAM", "init_size = guest size");
	s.init_size = 0xffffffff;
	reject(build_bz(&s), "RAM", "init_size 4 GiB - 1");
}

/* In a 5 GiB guest the kernel must still fit below the MMIO gap. */
static void test_big_guest(void)
{
	struct guest_mem big;
	struct bz_spec s = base_spec;
	struct boot_image img;
	struct err e = { 0 };
	void *p;

	p = mmap(NULL, 5 * GIB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!ok(p != MAP_FAILED, "reserve a 5 GiB guest"))
		return;
	guest_mem_layout(&big, 5 * GIB);
	big.base = p;

	s.init_size = 3 * GIB - 1 * MIB;
	is_int(bzimage_load(&big, image, build_bz(&s), &img, &e), 0,
	       "5 GiB guest: init_size up to 3 GiB fits");
	is_u64(img.end, 3 * GIB, "5 GiB guest: end at 3 GiB");

	s.init_size = 3 * GIB - 1 * MIB + PAGE_SIZE;
	e = (struct err){ 0 };
	ok(bzimage_load(&big, image, build_bz(&s), &img, &e) < 0,
	   "5 GiB guest: init_size into the MMIO gap rejected");
	like(e.msg, "RAM", "5 GiB guest: message");
	munmap(p, 5 * GIB);
}

static void test_detect(void)
{
	struct bz_spec s = base_spec;
	size_t len = build_bz(&s);
	static const uint8_t zeros[0x1000];

	ok(bzimage_detect(image, len), "detect: valid bzImage");
	ok(bzimage_detect(image, 0x206), "detect: 0x206 bytes, flag and magic");
	ok(!bzimage_detect(image, 0x205), "detect: 0x205 bytes is too short");
	ok(!bzimage_detect(image, 0), "detect: empty");
	ok(!bzimage_detect(zeros, sizeof(zeros)), "detect: zeros");

	put16(HDR_BOOT_FLAG, 0x55aa);
	ok(!bzimage_detect(image, len), "detect: boot flag byte-swapped");
	put16(HDR_BOOT_FLAG, 0xaa55);
	memcpy(image + HDR_MAGIC, "HdrT", 4);
	ok(!bzimage_detect(image, len), "detect: magic HdrT");
	memcpy(image + HDR_MAGIC, "hdrs", 4);
	ok(!bzimage_detect(image, len), "detect: magic in lower case");
}

int main(void)
{
	if (guest_mem_layout(&mem, GUEST_SIZE))
		return 99;
	mem.base = malloc(GUEST_SIZE);
	if (!mem.base)
		return 99;

	test_valid();
	test_valid_variants();
	test_reject_header();
	test_reject_size();
	test_big_guest();
	test_detect();

	free(mem.base);
	return done_testing();
}
