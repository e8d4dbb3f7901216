// SPDX-License-Identifier: MIT
/*
 * bzImage kernels, entered through the 64-bit boot protocol: the protected
 * mode part goes to 1 MiB, the setup header is handed over in the zero page,
 * and execution starts 0x200 bytes in. Offsets are those of
 * Documentation/arch/x86/boot.rst.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_LOADFLAGS 0x211
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE 0x238
#define HDR_XLOADFLAGS 0x236
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_LEN 0x264

#define BOOT_FLAG_MAGIC 0xaa55
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define MIN_PROTOCOL 0x020c		/* 2.12: xloadflags */
#define BZIMAGE_LOAD_ADDR BOOT_HIGH_START
#define BZIMAGE_ENTRY64_OFFSET 0x200

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* True when buf looks like a bzImage (the caller then commits to it). */
bool bzimage_detect(const uint8_t *buf, size_t len)
{
	return len >= HDR_MAGIC + 4 && get16(buf + HDR_BOOT_FLAG) == BOOT_FLAG_MAGIC &&
	       !memcmp(buf + HDR_MAGIC, "HdrS", 4);
}

static int bzimage_check_header(const uint8_t *buf, size_t len,
				uint64_t *setup_size, struct err *e)
{
	uint16_t version;
	unsigned int sects;

	if (len < HDR_MIN_LEN)
		return err_set(e, ENOEXEC, "truncated bzImage header (%zu bytes)",
			       len);
	version = get16(buf + HDR_VERSION);
	if (version < MIN_PROTOCOL)
		return err_set(e, ENOEXEC, "boot protocol %u.%02u is too old: gmvm needs 2.12 or later",
			       version >> 8, version & 0xff);
	if (!(buf[HDR_LOADFLAGS] & LOADED_HIGH))
		return err_set(e, ENOEXEC, "bzImage does not load high (a zImage?)");
	if (!(get16(buf + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return err_set(e, ENOEXEC, "bzImage has no 64-bit entry point (XLF_KERNEL_64 clear)");
	sects = buf[HDR_SETUP_SECTS] ? buf[HDR_SETUP_SECTS] : 4;
	*setup_size = (uint64_t)(sects + 1) * 512;
	if (*setup_size >= len)
		return err_set(e, ENOEXEC, "bzImage ends inside its %llu-byte setup code: truncated?",
			       (unsigned long long)*setup_size);
	return 0;
}

int bzimage_parse(const struct guest_mem *mem, const uint8_t *buf, size_t len,
		  struct boot_image *img, struct err *e)
{
	uint64_t setup_size = 0, payload, span, hdr_end;
	int ret;

	ret = bzimage_check_header(buf, len, &setup_size, e);
	if (ret)
		return ret;
	payload = len - setup_size;
	/* The kernel decompresses in place: it needs init_size bytes. */
	span = MAX(payload, (uint64_t)get32(buf + HDR_INIT_SIZE));
	if (!guest_mem_ptr(mem, BZIMAGE_LOAD_ADDR, span))
		return err_set(e, ENOEXEC, "kernel needs %llu MiB from %#llx, more than guest RAM below 3 GiB holds",
			       (unsigned long long)(span / MIB + 1),
			       BZIMAGE_LOAD_ADDR);
	img->seg[0] = (struct boot_segment){ BZIMAGE_LOAD_ADDR,
					     buf + setup_size, payload, payload };
	img->nr_seg = 1;

	hdr_end = MIN((uint64_t)HDR_JUMP + 2 + buf[HDR_JUMP + 1],
		      (uint64_t)SETUP_HEADER_MAX_END);
	hdr_end = MIN(hdr_end, (uint64_t)len);
	img->setup_header_len = hdr_end - SETUP_HEADER_OFFSET;
	memcpy(img->setup_header, buf + SETUP_HEADER_OFFSET,
	       img->setup_header_len);

	img->protocol = BOOT_PROTO_LINUX64;
	img->format = "bzImage";
	img->entry = BZIMAGE_LOAD_ADDR + BZIMAGE_ENTRY64_OFFSET;
	img->start = BZIMAGE_LOAD_ADDR;
	img->end = BZIMAGE_LOAD_ADDR + span;
	img->cmdline_max = MIN((uint64_t)get32(buf + HDR_CMDLINE_SIZE) + 1,
			       BOOT_CMDLINE_MAX);
	img->initrd_addr_max = get32(buf + HDR_INITRD_ADDR_MAX);
	return 0;
}

int bzimage_load(struct guest_mem *mem, const uint8_t *buf, size_t len,
		 struct boot_image *img, struct err *e)
{
	int ret = bzimage_parse(mem, buf, len, img, e);

	if (!ret)
		boot_copy_segments(mem, img);
	return ret;
}
