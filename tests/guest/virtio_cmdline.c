// SPDX-License-Identifier: MIT
/*
 * Where the virtio-mmio devices are: the windows the command line names
 * with virtio_mmio.device=SIZE@BASE:IRQ[:ID], as Linux reads them (gmvm
 * adds them at 0xc0001000 and up, 4 KiB each; QEMU's microvm with
 * auto-kernel-cmdline at 0xfeb00000 and up, 512 bytes each). Without any,
 * the fixed slots gmvm uses, so that --discovery acpi still works.
 *
 * Windows from the command line are registered with the page fault
 * handler, which maps them on first touch: the CPL0 code never parses the
 * command line, every instruction of which would be emulated.
 */
#include "virtio.h"

#define PARAM "virtio_mmio.device="
#define MIN_WINDOW 0x100	/* the registers before the config space */

static uintptr_t windows[GUEST_MAX_MMIO_WINDOWS];
static unsigned int nr_windows;
static bool found;

/* A number in decimal or, with 0x, hexadecimal; false if none or too big. */
static bool parse_num(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return parse_u64(s, len, out);
	for (size_t i = 2; i < len; i++) {
		char c = s[i] | 0x20;
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		if (v >> 60)
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

/* SIZE as Linux's memparse() takes it: a number, then K, M or G. */
static bool parse_window_size(const char *s, size_t len, uint64_t *out)
{
	unsigned int shift = 0;

	if (len && (s[len - 1] | 0x20) == 'k')
		shift = 10;
	else if (len && (s[len - 1] | 0x20) == 'm')
		shift = 20;
	else if (len && (s[len - 1] | 0x20) == 'g')
		shift = 30;
	if (shift)
		len--;
	if (!parse_num(s, len, out) || *out > (UINT64_MAX >> shift))
		return false;
	*out <<= shift;
	return true;
}

static bool overlaps_ram(uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (start < boot_info.ram[i].end && end > boot_info.ram[i].start)
			return true;
	return false;
}

/* One SIZE@BASE:IRQ[:ID] value: register its window, or say why not. */
static void add_window(const char *v, size_t len)
{
	size_t at = 0, colon;
	uint64_t size, base;

	while (at < len && v[at] != '@')
		at++;
	for (colon = at; colon < len && v[colon] != ':'; colon++)
		;
	if (at == len || !parse_window_size(v, at, &size) ||
	    !parse_num(v + at + 1, colon - at - 1, &base) || size < MIN_WINDOW ||
	    base + size < base || base % 4) {
		printf("virtio: ignoring '%s%.*s'\n", PARAM, (int)len, v);
		return;
	}
	if (overlaps_ram(base, base + size)) {
		printf("virtio: ignoring window %#lx+%#lx: it overlaps RAM\n", base, size);
		return;
	}
	if (nr_windows == GUEST_MAX_MMIO_WINDOWS) {
		printf("virtio: more than %u windows, ignoring %#lx\n",
		       GUEST_MAX_MMIO_WINDOWS, base);
		return;
	}
	windows[nr_windows++] = base;
	mmio_windows[nr_mmio_windows++] = (struct ram_range){ base, base + size };
}

static void find_windows(void)
{
	const char *p = boot_info.cmdline;
	size_t plen = strlen(PARAM);

	found = true;
	while (*p) {
		size_t len = 0;

		while (*p == ' ')
			p++;
		while (p[len] && p[len] != ' ')
			len++;
		if (len > plen && !strncmp(p, PARAM, plen))
			add_window(p + plen, len - plen);
		p += len;
	}
	if (nr_windows)
		return;
	for (unsigned int i = 0; i < VIRTIO_MMIO_SLOTS; i++)
		windows[nr_windows++] = VIRTIO_MMIO_BASE + i * 0x1000;
}

unsigned int virtio_windows(const uintptr_t **bases)
{
	if (!found)
		find_windows();
	*bases = windows;
	return nr_windows;
}
