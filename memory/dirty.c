// SPDX-License-Identifier: MIT
/* Tracking the pages of guest RAM that were written (dirty.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dirty.h"
#include "guest_mem.h"
#include "kvm_abi.h"
#include "uffd.h"

/* PAGEMAP_SCAN hands back at most this many written ranges per call. */
#define DIRTY_SCAN_RANGES 512

const char *dirty_tracking_name(enum dirty_tracking d)
{
	static const char *const names[] = {
		[DIRTY_NONE] = "none",
		[DIRTY_KVM_LOG] = "kvm-dirty-log",
		[DIRTY_UFFD_WP_ASYNC] = "uffd-wp-async",
	};

	return names[d];
}

static long dirty_collect_uffd(struct dirty_tracker *t,
			       void (*fn)(void *, uint64_t), void *opaque,
			       struct err *e);

static void dirty_count_page(void *opaque, uint64_t page)
{
	uint64_t *pages = opaque;

	pages[page ? 1 : 0]++;
}

/*
 * Write the first page (its own first byte back) and look: exactly that
 * page must be reported, and nothing after the look. Some hosts register
 * and scan without error yet never report a write (seen on kvm-pvm's 6.18).
 */
static int dirty_selftest_uffd(struct dirty_tracker *t, struct err *e)
{
	volatile uint8_t *first = t->mem->base;
	uint64_t seen[2] = { 0, 0 }, again[2] = { 0, 0 };

	*first = *first;
	if (dirty_collect_uffd(t, dirty_count_page, seen, e) < 0 ||
	    dirty_collect_uffd(t, dirty_count_page, again, e) < 0)
		return -e->errnum;
	if (seen[0] != 1 || seen[1] || again[0] || again[1])
		return err_set(e, ENOTSUP, "userfaultfd WP_ASYNC does not report the page written here (PAGEMAP_SCAN found it %llu times, %llu others, then %llu)",
			       (unsigned long long)seen[0], (unsigned long long)seen[1],
			       (unsigned long long)(again[0] + again[1]));
	return 0;
}

static int dirty_start_uffd(struct dirty_tracker *t, struct err *e)
{
	const struct guest_mem *mem = t->mem;
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)mem->base, mem->size },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	uint64_t features, ioctls;
	int ret;

	t->uffd = uffd_open(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED |
			    UFFD_FEATURE_WP_HUGETLBFS_SHMEM, &features, e);
	if (t->uffd < 0)
		return t->uffd;
	if (!(features & UFFD_FEATURE_WP_ASYNC))
		return err_set(e, ENOTSUP, "userfaultfd has no WP_ASYNC here (Linux 6.7)");
	ret = uffd_register(t->uffd, mem->base, mem->size, UFFDIO_REGISTER_MODE_WP,
			    &ioctls);
	if (ret)
		return err_set(e, -ret, "userfaultfd write-protect registration: %s",
			       strerror(-ret));
	if (ioctl(t->uffd, UFFDIO_WRITEPROTECT, &wp) < 0)
		return err_set(e, errno, "UFFDIO_WRITEPROTECT: %s", strerror(errno));
	t->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (t->pagemap_fd < 0)
		return err_set(e, errno, "/proc/self/pagemap: %s", strerror(errno));
	t->scan_vec = calloc(DIRTY_SCAN_RANGES, sizeof(struct gmvm_page_region));
	if (!t->scan_vec)
		return err_set(e, ENOMEM, "out of memory");
	return dirty_selftest_uffd(t, e);
}

/* Manual protect, where KVM has it: pages are write-protected when told. */
static bool dirty_kvm_manual(int vm_fd)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
	};

	return ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0 &&
	       ioctl(vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

int dirty_start(struct dirty_tracker *t, const struct guest_mem *mem,
		int vm_fd, enum dirty_tracking method, struct err *e)
{
	uint64_t words;
	int ret;

	*t = (struct dirty_tracker){
		.method = method, .mem = mem, .vm_fd = vm_fd, .uffd = -1,
		.pagemap_fd = -1, .nr_pages = mem->size / PAGE_SIZE,
	};
	words = (t->nr_pages + 63) / 64;
	t->noted = calloc(words, sizeof(uint64_t));
	if (!t->noted)
		return err_set(e, ENOMEM, "out of memory");
	switch (method) {
	case DIRTY_KVM_LOG:
		t->kvm_bitmap = calloc(words, sizeof(uint64_t));
		t->kvm_clear = calloc(words, sizeof(uint64_t));
		t->seen = calloc(t->nr_pages, 1);
		if (!t->kvm_bitmap || !t->kvm_clear || !t->seen) {
			ret = err_set(e, ENOMEM, "out of memory");
			break;
		}
		t->manual = dirty_kvm_manual(vm_fd);
		ret = guest_mem_log_dirty(mem, vm_fd, true, e);
		/* Read once: a host may take the flag and refuse the log. */
		for (unsigned int i = 0; !ret && i < mem->nr_regions; i++) {
			struct kvm_dirty_log log = { .slot = i, .dirty_bitmap = t->kvm_bitmap };

			if (ioctl(vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
				ret = err_set(e, errno, "KVM_GET_DIRTY_LOG: %s", strerror(errno));
		}
		break;
	case DIRTY_UFFD_WP_ASYNC:
		ret = dirty_start_uffd(t, e);
		break;
	default:
		ret = err_set(e, ENOTSUP, "no way to track written pages");
	}
	if (ret)
		dirty_stop(t);
	return ret;
}

void dirty_note(struct dirty_tracker *t, uint64_t offset, uint64_t len)
{
	uint64_t first, last;

	if (!len || offset >= t->mem->size)
		return;
	if (len > t->mem->size - offset)
		len = t->mem->size - offset;
	first = offset / PAGE_SIZE;
	last = (offset + len - 1) / PAGE_SIZE;
	for (uint64_t p = first; p <= last; p++)
		atomic_fetch_or_explicit(&t->noted[p / 64], 1ull << (p % 64),
					 memory_order_relaxed);
}

/* Whether dirty_note() was told of page (then collected from noted alone). */
static bool dirty_noted(const struct dirty_tracker *t, uint64_t page)
{
	return atomic_load_explicit(&t->noted[page / 64], memory_order_relaxed) &
	       (1ull << (page % 64));
}

/* Pages in bits (a bitmap of n pages from page first) not in noted yet. */
static long dirty_walk_bitmap(struct dirty_tracker *t, const uint64_t *bits,
			      uint64_t first, uint64_t n,
			      void (*fn)(void *, uint64_t), void *opaque)
{
	long count = 0;

	for (uint64_t w = 0; w < (n + 63) / 64; w++) {
		uint64_t word = bits[w];

		while (word) {
			uint64_t page = first + w * 64 + __builtin_ctzll(word);

			word &= word - 1;
			if (dirty_noted(t, page))
				continue;
			fn(opaque, page);
			count++;
		}
	}
	return count;
}

/*
 * Manual protect: write-protect again the pages of slot i just found
 * written, but for hot ones (written in two looks, while there is room);
 * every DIRTY_HOT_PERIOD looks all of them, so that hot pages can cool.
 */
static int dirty_kvm_protect(struct dirty_tracker *t, unsigned int i,
			     struct err *e)
{
	const struct guest_mem_region *r = &t->mem->regions[i];
	uint64_t first = r->offset / PAGE_SIZE, n = r->size / PAGE_SIZE;
	bool all = (t->looks + 1) % DIRTY_HOT_PERIOD == 0, any = false;
	struct kvm_clear_dirty_log clear = {
		.slot = i, .num_pages = n, .first_page = 0,
		.dirty_bitmap = t->kvm_clear,
	};

	for (uint64_t w = 0; w < (n + 63) / 64; w++) {
		uint64_t word = t->kvm_bitmap[w], keep = 0;

		for (uint64_t bits = word; bits; bits &= bits - 1) {
			unsigned int b = __builtin_ctzll(bits);
			uint8_t *seen = &t->seen[first + w * 64 + b];

			if (all) {
				*seen = 0;
			} else if (*seen == 1 && t->nr_hot < DIRTY_HOT_MAX) {
				*seen = 2;
				t->nr_hot++;
				keep |= 1ull << b;
			} else if (*seen == 2) {
				keep |= 1ull << b;
			} else {
				*seen = 1;
			}
		}
		t->kvm_clear[w] = word & ~keep;
		any |= t->kvm_clear[w] != 0;
	}
	if (any && ioctl(t->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0)
		return err_set(e, errno, "KVM_CLEAR_DIRTY_LOG of slot %u: %s", i,
			       strerror(errno));
	return 0;
}

static long dirty_collect_kvm(struct dirty_tracker *t,
			      void (*fn)(void *, uint64_t), void *opaque,
			      struct err *e)
{
	const struct guest_mem *mem = t->mem;
	long count = 0;

	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		struct kvm_dirty_log log = { .slot = i, .dirty_bitmap = t->kvm_bitmap };

		if (ioctl(t->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return err_set(e, errno, "KVM_GET_DIRTY_LOG of slot %u: %s", i,
				       strerror(errno));
		count += dirty_walk_bitmap(t, t->kvm_bitmap, r->offset / PAGE_SIZE,
					   r->size / PAGE_SIZE, fn, opaque);
		if (t->manual && dirty_kvm_protect(t, i, e))
			return -e->errnum;
	}
	if (t->manual && ++t->looks % DIRTY_HOT_PERIOD == 0)
		t->nr_hot = 0;
	return count;
}

static long dirty_collect_uffd(struct dirty_tracker *t,
			       void (*fn)(void *, uint64_t), void *opaque,
			       struct err *e)
{
	const struct guest_mem *mem = t->mem;
	struct gmvm_page_region *vec = t->scan_vec;
	uint64_t start = (uintptr_t)mem->base, end = start + mem->size;
	long count = 0;

	while (start < end) {
		struct gmvm_pm_scan_arg scan = {
			.size = sizeof(scan),
			.flags = GMVM_PM_SCAN_WP_MATCHING | GMVM_PM_SCAN_CHECK_WPASYNC,
			.start = start, .end = end, .vec = (uintptr_t)vec,
			.vec_len = DIRTY_SCAN_RANGES,
			.category_mask = GMVM_PAGE_IS_WRITTEN,
			.return_mask = GMVM_PAGE_IS_WRITTEN,
		};
		long n = ioctl(t->pagemap_fd, GMVM_PAGEMAP_SCAN, &scan);

		if (n < 0)
			return err_set(e, errno, "PAGEMAP_SCAN of guest RAM: %s",
				       strerror(errno));
		for (long i = 0; i < n; i++)
			for (uint64_t a = vec[i].start; a < vec[i].end; a += PAGE_SIZE) {
				uint64_t page = (a - (uintptr_t)mem->base) / PAGE_SIZE;

				if (dirty_noted(t, page))
					continue;
				fn(opaque, page);
				count++;
			}
		if (scan.walk_end <= start)
			break;
		start = scan.walk_end;
	}
	return count;
}

long dirty_collect(struct dirty_tracker *t, void (*fn)(void *, uint64_t),
		   void *opaque, struct err *e)
{
	long count;

	count = t->method == DIRTY_KVM_LOG ? dirty_collect_kvm(t, fn, opaque, e) :
		dirty_collect_uffd(t, fn, opaque, e);
	if (count < 0)
		return count;
	/* What the monitor wrote, each page once (not counted twice above). */
	for (uint64_t w = 0; w < (t->nr_pages + 63) / 64; w++) {
		uint64_t word = atomic_exchange_explicit(&t->noted[w], 0,
							 memory_order_relaxed);

		while (word) {
			fn(opaque, w * 64 + __builtin_ctzll(word));
			word &= word - 1;
			count++;
		}
	}
	return count;
}

void dirty_stop(struct dirty_tracker *t)
{
	/* A zeroed tracker (never started) has no descriptor 0 to close. */
	if (t->method != DIRTY_NONE && t->uffd >= 0)
		close(t->uffd);
	if (t->method != DIRTY_NONE && t->pagemap_fd >= 0)
		close(t->pagemap_fd);
	free(t->kvm_bitmap);
	free(t->kvm_clear);
	free(t->seen);
	free((void *)t->noted);
	free(t->scan_vec);
	t->uffd = t->pagemap_fd = -1;
	t->method = DIRTY_NONE;
	t->kvm_bitmap = NULL;
	t->kvm_clear = NULL;
	t->seen = NULL;
	t->noted = NULL;
	t->scan_vec = NULL;
}
