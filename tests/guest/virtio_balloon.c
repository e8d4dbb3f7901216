// SPDX-License-Identifier: MIT
/*
 * balloon=N[,nofill]: give the top N pages of RAM to virtio-balloon and take
 * them back (gmvm --balloon).
 *
 * The pages are first written with a pattern (unless nofill: then they are
 * inflated as they are, e.g. as a touch before a snapshot left them, so
 * that a lazily restored guest gives back pages it has not fetched yet).
 * Their frame numbers go through inflateq, actual is set, then they go
 * through deflateq and must read back as zeros: the host gave them back.
 * When the device offers free page reporting, the same pages are written
 * again, reported as free through reporting_vq, and must read as zeros.
 */
#include "virtio.h"

#define BALLOON_F_REPORTING 5
#define BQ_INFLATE 0
#define BQ_DEFLATE 1
#define BQ_REPORTING 2		/* no statsq or free_page_vq before it */
#define CONFIG_NUM_PAGES 0
#define CONFIG_ACTUAL 4
#define PAGE 4096ul
#define PFNS_PER_REQUEST 256	/* as Linux's VIRTIO_BALLOON_ARRAY_PFNS_MAX */
#define REPORT_CHUNK (2ul << 20)	/* bytes per report buffer, as Linux */
#define REPORT_BUFS 8		/* buffers per report: virtio_post's window */

static uint32_t pfns[PFNS_PER_REQUEST];

static uint64_t word_pattern(uint64_t a)
{
	return ~a;		/* never zero: RAM is far below 2^64 */
}

static void fill(uint64_t base, uint64_t n)
{
	for (uint64_t a = base; a < base + n * PAGE; a += 8)
		*(volatile uint64_t *)a = word_pattern(a);
}

/* Pages in [base, +n pages) holding anything but zeros. */
static uint64_t nonzero_pages(uint64_t base, uint64_t n)
{
	uint64_t bad = 0;

	for (uint64_t p = base; p < base + n * PAGE; p += PAGE) {
		for (uint64_t a = p; a < p + PAGE; a += 8) {
			if (!*(volatile uint64_t *)a)
				continue;
			if (!bad)
				printf("balloon: page %#lx is not zero: %#lx at %#lx\n",
				       p, *(volatile uint64_t *)a, a);
			bad++;
			break;
		}
	}
	return bad;
}

/* The top n pages of the highest RAM range, above this image; 0: none. */
static uint64_t pick_pages(uint64_t n)
{
	uint64_t floor = ((uint64_t)_end + (2ul << 20) - 1) & ~((2ul << 20) - 1);
	const struct ram_range *top = NULL;
	uint64_t start, end;

	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (!top || boot_info.ram[i].end > top->end)
			top = &boot_info.ram[i];
	if (!top)
		return 0;
	end = top->end & ~(PAGE - 1);
	start = top->start > floor ? top->start : floor;
	if (end <= start || (end - start) / PAGE < n)
		return 0;
	return end - n * PAGE;
}

/* The frame numbers of [base, +n pages) through queue q, 256 at a time. */
static bool send_frames(struct vdev *d, unsigned int q, uint64_t base,
			uint64_t n)
{
	for (uint64_t done = 0; done < n;) {
		uint64_t count = n - done < PFNS_PER_REQUEST ? n - done : PFNS_PER_REQUEST;
		struct vbuf b = { pfns, count * sizeof(pfns[0]), false };

		for (uint64_t i = 0; i < count; i++)
			pfns[i] = (base >> 12) + done + i;
		if (virtio_request(d, q, &b, 1) < 0) {
			printf("balloon: %s request not completed\n",
			       q == BQ_INFLATE ? "inflate" : "deflate");
			return false;
		}
		done += count;
	}
	return true;
}

/* Report [base, +n pages) free, in buffers of up to 2 MiB like Linux. */
static bool report_free(struct vdev *d, uint64_t base, uint64_t n)
{
	uint64_t a = base, end = base + n * PAGE;

	while (a < end) {
		struct vbuf b[REPORT_BUFS];
		unsigned int nb = 0;

		for (; nb < REPORT_BUFS && a < end; nb++) {
			uint64_t len = end - a < REPORT_CHUNK ? end - a : REPORT_CHUNK;

			b[nb] = (struct vbuf){ (void *)a, len, true };
			a += len;
		}
		if (virtio_request(d, BQ_REPORTING, b, nb) < 0) {
			printf("balloon: report not completed\n");
			return false;
		}
	}
	return true;
}

/* Write, report free, read zeros back. */
static int report_pages(struct vdev *d, uint64_t base, uint64_t n)
{
	uint64_t bad;

	fill(base, n);
	if (!report_free(d, base, n))
		return -1;
	bad = nonzero_pages(base, n);
	printf("balloon: reported %lu pages as free, %lu read back as zeros\n",
	       n, n - bad);
	return bad ? -1 : 0;
}

static void parse_args(const char *arg, size_t len, uint64_t *n, bool *nofill)
{
	size_t num = 0;

	while (arg && num < len && arg[num] != ',')
		num++;
	*nofill = arg && num < len && len - num - 1 == 6 &&
		  !strncmp(arg + num + 1, "nofill", 6);
	if (!arg || !parse_u64(arg, num, n) || !*n || (num < len && !*nofill)) {
		printf("balloon: needs a page count, optionally ',nofill': balloon=4096\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
}

int workload_balloon(const char *arg, size_t len)
{
	uint64_t n, base, bad;
	struct vdev d;
	bool nofill;

	parse_args(arg, len, &n, &nofill);
	if (!virtio_find(VIRTIO_ID_BALLOON, 0, &d) ||
	    !virtio_init(&d, 1ull << BALLOON_F_REPORTING, 3)) {
		printf("balloon: no virtio-balloon device\n");
		return -1;
	}
	base = pick_pages(n);
	if (!base) {
		printf("balloon: no room for %lu pages at the top of RAM\n", n);
		return -1;
	}
	if (!nofill)
		fill(base, n);
	if (!send_frames(&d, BQ_INFLATE, base, n))
		return -1;
	vdev_write(&d, VM_CONFIG + CONFIG_ACTUAL, n);
	printf("balloon: inflated %lu pages at [%#lx, %#lx)%s, target %u\n", n,
	       base, base + n * PAGE, nofill ? " as they were" : "",
	       vdev_read(&d, VM_CONFIG + CONFIG_NUM_PAGES));
	if (!send_frames(&d, BQ_DEFLATE, base, n))
		return -1;
	vdev_write(&d, VM_CONFIG + CONFIG_ACTUAL, 0);
	bad = nonzero_pages(base, n);
	printf("balloon: deflated %lu pages, %lu read back as zeros\n", n, n - bad);
	if (bad)
		return -1;
	if (!(d.features & (1ull << BALLOON_F_REPORTING))) {
		printf("balloon: no free page reporting\n");
		return 0;
	}
	return report_pages(&d, base, n);
}
