// SPDX-License-Identifier: MIT
/*
 * The uffd handler thread. Guest RAM is registered in MISSING mode; a fault
 * is served by filling an aligned window of fault_around pages around it
 * from the snapshot memory file (mapped read-only, the UFFDIO_COPY source)
 * or with zero pages for the file's holes. Between faults the thread fills
 * the working set first (prefetch), then everything else (background
 * completion), in small batches so that a waiting vCPU is never behind more
 * than one batch.
 *
 * Races: UFFDIO_COPY/ZEROPAGE stop at a page that exists already (EEXIST, or
 * EAGAIN after a partial fill); the thread then marks that page present,
 * wakes any waiter on it and goes on past it. A page the guest gave back
 * (UFFD_EVENT_REMOVE) is refilled with zeros, never from the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_mem.h"
#include "log.h"
#include "uffd.h"
#include "util.h"

#define UFFD_FEATURES (UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_EVENT_REMOVE)
#define UFFD_MSG_BATCH 64
#define UFFD_BG_BATCH 64		/* pages per background step */
#define UFFD_MAX_LATENCIES (1u << 20)

enum page_state {
	PAGE_MISSING_DATA,	/* in the file, not yet in guest RAM */
	PAGE_MISSING_HOLE,	/* a hole in the file: zeros */
	PAGE_PRESENT,
	PAGE_REMOVED,		/* given back by the guest: zeros if touched */
};

struct uffd_handler {
	int uffd;
	int stop_efd;
	pthread_t thread;
	bool started;
	uint8_t *base;			/* guest RAM mapping (registered) */
	struct uffd_extent *ext;	/* data sources, sorted */
	size_t nr_ext;
	bool extents_only;
	uint64_t nr_pages;
	uint64_t nr_missing;		/* owed pages not yet filled */
	uint64_t nr_data_missing;	/* of which have data in the file */
	uint8_t *state;			/* enum page_state per page */
	uint8_t *in_ws;			/* page is in the prefetch list */
	unsigned int fault_around;
	bool background;
	const uint64_t *prefetch;
	size_t nr_prefetch, prefetch_pos;
	uint64_t bg_pos;
	bool record;
	uint64_t *ws;
	size_t nr_ws, cap_ws;
	void (*fatal)(void *opaque, const char *msg);
	void *fatal_opaque;
	bool failed;

	pthread_mutex_t lock;		/* stats and latencies */
	struct uffd_stats stats;
	uint32_t *lat;
	size_t nr_lat;
};

static void uffd_fail(struct uffd_handler *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void uffd_fail(struct uffd_handler *h, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->failed = true;
	if (h->fatal)
		h->fatal(h->fatal_opaque, msg);
}

static void uffd_wake(struct uffd_handler *h, uint64_t page)
{
	struct uffdio_range r = {
		.start = (uintptr_t)(h->base + page * PAGE_SIZE),
		.len = PAGE_SIZE,
	};

	ioctl(h->uffd, UFFDIO_WAKE, &r);
}

/* The extent holding page, which has data. */
static const struct uffd_extent *uffd_extent_of(const struct uffd_handler *h,
						uint64_t page)
{
	size_t lo = 0, hi = h->nr_ext;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct uffd_extent *x = &h->ext[mid];

		if (page < x->page)
			hi = mid;
		else if (page - x->page >= x->nr_pages)
			lo = mid + 1;
		else
			return x;
	}
	return NULL;
}

/* Fill n pages from page with data or zeros; returns pages handled or -1. */
static long long uffd_fill(struct uffd_handler *h, uint64_t page, uint64_t n,
			   bool data)
{
	uint64_t dst = (uintptr_t)(h->base + page * PAGE_SIZE);
	uint64_t len = n * PAGE_SIZE;
	long long done;
	int ret;

	if (data) {
		const struct uffd_extent *x = uffd_extent_of(h, page);
		struct uffdio_copy c = {
			.dst = dst,
			.src = (uintptr_t)(x->src + (page - x->page) * PAGE_SIZE),
			.len = len,
		};

		ret = ioctl(h->uffd, UFFDIO_COPY, &c);
		done = c.copy;
	} else {
		struct uffdio_zeropage z = { .range = { dst, len } };

		ret = ioctl(h->uffd, UFFDIO_ZEROPAGE, &z);
		done = z.zeropage;
	}
	if (ret == 0)
		return n;
	if (errno == EAGAIN && done > 0)
		return done / PAGE_SIZE;
	if (errno == EEXIST || (errno == EAGAIN && done <= 0)) {
		/* page exists already (or the range is changing): skip it. */
		pthread_mutex_lock(&h->lock);
		h->stats.eexist++;
		pthread_mutex_unlock(&h->lock);
		uffd_wake(h, page);
		return 1;
	}
	uffd_fail(h, "%s of guest page %#llx failed: %s%s",
		  data ? "UFFDIO_COPY" : "UFFDIO_ZEROPAGE",
		  (unsigned long long)(page * PAGE_SIZE), strerror(errno),
		  errno == EFAULT ? " (its source file cannot be read)" : "");
	return -1;
}

/* Not in guest RAM yet, and owed from the snapshot (not given back). */
static bool page_owed(const struct uffd_handler *h, uint64_t p)
{
	return h->state[p] == PAGE_MISSING_DATA ||
	       h->state[p] == PAGE_MISSING_HOLE;
}

/* Fillable: owed, or removed and now touched again (faults only). */
static bool page_fillable(const struct uffd_handler *h, uint64_t p,
			  bool removed_too)
{
	return page_owed(h, p) || (removed_too && h->state[p] == PAGE_REMOVED);
}

static bool page_has_data(const struct uffd_handler *h, uint64_t p)
{
	return h->state[p] == PAGE_MISSING_DATA;
}

static void page_forget(struct uffd_handler *h, uint64_t p)
{
	if (page_owed(h, p))
		h->nr_missing--;
	if (page_has_data(h, p))
		h->nr_data_missing--;
}

static void page_mark_present(struct uffd_handler *h, uint64_t p)
{
	page_forget(h, p);
	h->state[p] = PAGE_PRESENT;
}

/*
 * Pages from p (fillable, of kind data) that can be filled in one ioctl:
 * same kind, fillable, and for data within one source extent.
 */
static uint64_t uffd_run(const struct uffd_handler *h, uint64_t p,
			 uint64_t end, bool data, bool removed_too)
{
	uint64_t run = 1;

	if (data) {
		const struct uffd_extent *x = uffd_extent_of(h, p);

		end = MIN(end, x->page + x->nr_pages);
	}
	while (p + run < end && page_fillable(h, p + run, removed_too) &&
	       page_has_data(h, p + run) == data)
		run++;
	return run;
}

/*
 * Fill the fillable pages of [first, end) in runs of the same kind (file
 * data, or zeros). Returns pages filled, or -1 on failure.
 */
static long long uffd_fill_range(struct uffd_handler *h, uint64_t first,
				 uint64_t end, bool removed_too,
				 uint64_t *zeroed)
{
	long long filled = 0;
	uint64_t p = first;

	while (p < end && !h->failed) {
		uint64_t run = 1;
		bool data;
		long long n;

		if (!page_fillable(h, p, removed_too)) {
			p++;
			continue;
		}
		data = page_has_data(h, p);
		run = uffd_run(h, p, end, data, removed_too);
		n = uffd_fill(h, p, run, data);
		if (n < 0)
			return -1;
		for (long long i = 0; i < n; i++)
			page_mark_present(h, p + i);
		if (!data)
			*zeroed += n;
		filled += n;
		p += n;
	}
	return filled;
}

static void uffd_account(struct uffd_handler *h, long long filled,
			 uint64_t zeroed, uint64_t *counter)
{
	pthread_mutex_lock(&h->lock);
	h->stats.pages_zeroed += zeroed;
	h->stats.pages_copied += filled - zeroed;
	h->stats.bytes_copied += (filled - zeroed) * PAGE_SIZE;
	if (counter)
		*counter += filled;
	pthread_mutex_unlock(&h->lock);
}

static void uffd_record(struct uffd_handler *h, uint64_t page)
{
	if (h->nr_ws == h->cap_ws) {
		size_t cap = h->cap_ws ? h->cap_ws * 2 : 4096;
		uint64_t *ws = realloc(h->ws, cap * sizeof(*ws));

		if (!ws)
			return;
		h->ws = ws;
		h->cap_ws = cap;
	}
	h->ws[h->nr_ws++] = page;
}

static void uffd_serve_fault(struct uffd_handler *h, uint64_t addr)
{
	uint64_t t0 = time_now_ns(), page, first, end, zeroed = 0;
	long long filled;

	if (addr < (uintptr_t)h->base ||
	    addr - (uintptr_t)h->base >= h->nr_pages * PAGE_SIZE) {
		uffd_fail(h, "fault at %#llx outside guest RAM",
			  (unsigned long long)addr);
		return;
	}
	page = (addr - (uintptr_t)h->base) / PAGE_SIZE;
	if (h->record)
		uffd_record(h, page);
	if (h->state[page] == PAGE_PRESENT) {
		/* Filled since the fault was queued: only wake it. */
		uffd_wake(h, page);
		pthread_mutex_lock(&h->lock);
		h->stats.faults++;
		h->stats.faults_on_present++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	/* The faulting page first (even if removed), then its neighbours. */
	if (uffd_fill_range(h, page, page + 1, true, &zeroed) < 0)
		return;
	first = ALIGN_DOWN(page, h->fault_around);
	end = MIN(first + h->fault_around, h->nr_pages);
	filled = uffd_fill_range(h, first, end, false, &zeroed);
	if (filled < 0)
		return;
	uffd_account(h, filled + 1, zeroed, NULL);
	pthread_mutex_lock(&h->lock);
	if (!h->stats.faults)
		h->stats.first_fault_ns = t0;
	h->stats.faults++;
	if (h->in_ws[page])
		h->stats.prefetch_misses++;
	if (h->nr_lat < UFFD_MAX_LATENCIES)
		h->lat[h->nr_lat++] = MIN(time_now_ns() - t0, (uint64_t)UINT32_MAX);
	pthread_mutex_unlock(&h->lock);
}

/* The guest gave pages back: never fill them from the file again. */
static void uffd_remove(struct uffd_handler *h, uint64_t start, uint64_t end)
{
	uint64_t base = (uintptr_t)h->base;
	uint64_t first, last, n = 0;

	if (end <= base || start >= base + h->nr_pages * PAGE_SIZE)
		return;
	first = (MAX(start, base) - base) / PAGE_SIZE;
	last = MIN((end - base + PAGE_SIZE - 1) / PAGE_SIZE, h->nr_pages);
	for (uint64_t p = first; p < last; p++) {
		if (h->state[p] == PAGE_REMOVED)
			continue;
		page_forget(h, p);
		h->state[p] = PAGE_REMOVED;
		n++;
	}
	pthread_mutex_lock(&h->lock);
	h->stats.removed_pages += n;
	pthread_mutex_unlock(&h->lock);
}

/* Read and serve queued events; returns false when none were pending. */
static bool uffd_drain(struct uffd_handler *h)
{
	struct uffd_msg msgs[UFFD_MSG_BATCH];
	ssize_t n = read(h->uffd, msgs, sizeof(msgs));

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			uffd_fail(h, "reading the userfaultfd: %s", strerror(errno));
		return false;
	}
	for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]) && !h->failed; i++) {
		if (msgs[i].event == UFFD_EVENT_PAGEFAULT)
			uffd_serve_fault(h, msgs[i].arg.pagefault.address);
		else if (msgs[i].event == UFFD_EVENT_REMOVE)
			uffd_remove(h, msgs[i].arg.remove.start,
				    msgs[i].arg.remove.end);
	}
	return n > 0;
}

/* Fill the data pages of [first, end). Returns pages filled or -1. */
static long long uffd_fill_data(struct uffd_handler *h, uint64_t first,
				uint64_t end)
{
	long long total = 0;

	for (uint64_t p = first; p < end && !h->failed;) {
		uint64_t run = 0;
		long long n;

		if (page_has_data(h, p))
			run = uffd_run(h, p, end, true, false);
		if (!run) {
			p++;
			continue;
		}
		n = uffd_fill(h, p, run, true);
		if (n < 0)
			return -1;
		for (long long i = 0; i < n; i++)
			page_mark_present(h, p + i);
		total += n;
		p += n;
	}
	return total;
}

/* One step of prefetch or background filling; false when nothing is left. */
static bool uffd_background_step(struct uffd_handler *h)
{
	uint64_t zeroed = 0;
	long long filled;

	while (h->prefetch_pos < h->nr_prefetch) {
		uint64_t p = h->prefetch[h->prefetch_pos++];
		uint64_t first = ALIGN_DOWN(p, h->fault_around);

		/* The window a fault on p would have filled. */
		if (!page_owed(h, p))
			continue;
		filled = uffd_fill_range(h, first,
					 MIN(first + h->fault_around, h->nr_pages),
					 false, &zeroed);
		if (filled > 0)
			uffd_account(h, filled, zeroed, &h->stats.pages_prefetched);
		return filled >= 0;
	}
	/*
	 * Background completion copies the file's data; holes stay until
	 * touched (a zero page costs a fault, filling them all costs more).
	 */
	if (!h->background || !h->nr_data_missing)
		return false;
	while (h->bg_pos < h->nr_pages && !page_has_data(h, h->bg_pos))
		h->bg_pos++;
	if (h->bg_pos >= h->nr_pages)
		return false;
	filled = uffd_fill_data(h, h->bg_pos,
				MIN(h->bg_pos + UFFD_BG_BATCH, h->nr_pages));
	if (filled < 0)
		return false;
	h->bg_pos = MIN(h->bg_pos + UFFD_BG_BATCH, h->nr_pages);
	uffd_account(h, filled, zeroed, &h->stats.pages_background);
	return true;
}

static void *uffd_thread(void *arg)
{
	struct uffd_handler *h = arg;
	struct pollfd fds[2] = {
		{ .fd = h->uffd, .events = POLLIN },
		{ .fd = h->stop_efd, .events = POLLIN },
	};
	bool more = true;

	while (!h->failed) {
		/* Idle work only when no fault is waiting. */
		int n = poll(fds, 2, more ? 0 : -1);

		if (n < 0 && errno != EINTR) {
			uffd_fail(h, "poll: %s", strerror(errno));
			break;
		}
		if (fds[1].revents)
			break;
		if (n > 0 && (fds[0].revents & POLLIN)) {
			uffd_drain(h);
			more = true;
			continue;
		}
		more = uffd_background_step(h);
	}
	if (h->failed) {
		/* Unregistering wakes every waiter: no vCPU hangs on us. */
		struct uffdio_range r = { (uintptr_t)h->base, h->nr_pages * PAGE_SIZE };

		ioctl(h->uffd, UFFDIO_UNREGISTER, &r);
	}
	return NULL;
}

/* Copy and check the extents; mark their pages as data, the rest holes. */
static int uffd_set_extents(struct uffd_handler *h,
			    const struct uffd_handler_config *cfg, struct err *e)
{
	/* With only the extents registered, nothing else is owed. */
	memset(h->state, cfg->extents_only ? PAGE_PRESENT : PAGE_MISSING_HOLE,
	       h->nr_pages);
	h->ext = malloc((cfg->nr_extents ? cfg->nr_extents : 1) * sizeof(*h->ext));
	if (!h->ext)
		return err_set(e, ENOMEM, "out of memory");
	h->nr_ext = cfg->nr_extents;
	memcpy(h->ext, cfg->extents, h->nr_ext * sizeof(*h->ext));
	for (size_t i = 0; i < h->nr_ext; i++) {
		const struct uffd_extent *x = &h->ext[i];

		if (!x->nr_pages || x->page >= h->nr_pages ||
		    x->nr_pages > h->nr_pages - x->page ||
		    (i && x->page < h->ext[i - 1].page + h->ext[i - 1].nr_pages))
			return err_set(e, EINVAL, "bad uffd extent %zu", i);
		memset(h->state + x->page, PAGE_MISSING_DATA, x->nr_pages);
		h->nr_data_missing += x->nr_pages;
	}
	h->nr_missing = cfg->extents_only ? h->nr_data_missing : h->nr_pages;
	return 0;
}

/* Register all of RAM, or only the extents. */
static int uffd_register_ranges(struct uffd_handler *h,
				const struct guest_mem *mem, struct err *e)
{
	int ret = 0;

	if (!h->extents_only)
		ret = uffd_register(h->uffd, mem->base, mem->size,
				    UFFDIO_REGISTER_MODE_MISSING, NULL);
	for (size_t i = 0; h->extents_only && !ret && i < h->nr_ext; i++)
		ret = uffd_register(h->uffd, mem->base + h->ext[i].page * PAGE_SIZE,
				    h->ext[i].nr_pages * PAGE_SIZE,
				    UFFDIO_REGISTER_MODE_MISSING, NULL);
	if (ret)
		return err_set(e, -ret, "UFFDIO_REGISTER of guest RAM on %s: %s",
			       mem->backend->name, strerror(-ret));
	return 0;
}

static int uffd_handler_init(struct uffd_handler *h,
			     const struct uffd_handler_config *cfg,
			     struct err *e)
{
	const struct guest_mem *mem = cfg->mem;
	uint64_t features;
	int ret;

	h->base = mem->base;
	h->nr_pages = mem->size / PAGE_SIZE;
	h->fault_around = cfg->fault_around ? cfg->fault_around : 1;
	h->background = cfg->background;
	h->prefetch = cfg->prefetch;
	h->nr_prefetch = cfg->nr_prefetch;
	h->record = cfg->record;
	h->fatal = cfg->fatal;
	h->fatal_opaque = cfg->fatal_opaque;
	h->state = malloc(h->nr_pages);
	h->in_ws = calloc(1, h->nr_pages);
	h->lat = malloc(UFFD_MAX_LATENCIES * sizeof(*h->lat));
	if (!h->state || !h->in_ws || !h->lat)
		return err_set(e, ENOMEM, "out of memory for the uffd handler");
	for (size_t i = 0; i < h->nr_prefetch; i++)
		h->in_ws[h->prefetch[i]] = 1;
	h->extents_only = cfg->extents_only;
	ret = uffd_set_extents(h, cfg, e);
	if (ret)
		return ret;
	h->uffd = uffd_open(UFFD_FEATURES, &features, e);
	if (h->uffd < 0)
		return h->uffd;
	if ((features & UFFD_FEATURE_MISSING_SHMEM) != UFFD_FEATURE_MISSING_SHMEM &&
	    mem->fd >= 0)
		return err_set(e, ENOTSUP, "userfaultfd cannot serve shared memory on this kernel");
	ret = uffd_register_ranges(h, mem, e);
	if (ret)
		return ret;
	h->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->stop_efd < 0)
		return err_set(e, errno, "eventfd: %s", strerror(errno));
	return 0;
}

static void uffd_handler_free(struct uffd_handler *h)
{
	free(h->ext);
	if (h->uffd >= 0)
		close(h->uffd);
	if (h->stop_efd >= 0)
		close(h->stop_efd);
	free(h->state);
	free(h->in_ws);
	free(h->lat);
	free(h->ws);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int uffd_handler_start(struct uffd_handler **hp,
		       const struct uffd_handler_config *cfg, struct err *e)
{
	struct uffd_handler *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return err_set(e, ENOMEM, "out of memory for the uffd handler");
	h->uffd = h->stop_efd = -1;
	pthread_mutex_init(&h->lock, NULL);
	ret = uffd_handler_init(h, cfg, e);
	if (!ret) {
		ret = -pthread_create(&h->thread, NULL, uffd_thread, h);
		if (ret)
			err_set(e, -ret, "cannot start the uffd thread: %s",
				strerror(-ret));
	}
	if (ret) {
		uffd_handler_free(h);
		return ret;
	}
	pthread_setname_np(h->thread, "uffd");
	h->started = true;
	*hp = h;
	return 0;
}

void uffd_handler_stop(struct uffd_handler *h)
{
	uint64_t one = 1;

	if (!h)
		return;
	if (h->started && write(h->stop_efd, &one, sizeof(one)) == sizeof(one))
		pthread_join(h->thread, NULL);
	uffd_handler_free(h);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void uffd_handler_stats(struct uffd_handler *h, struct uffd_stats *st)
{
	uint32_t *sorted = NULL;
	size_t n;

	pthread_mutex_lock(&h->lock);
	*st = h->stats;
	st->pages_missing = h->nr_missing;
	n = h->nr_lat;
	if (n && (sorted = malloc(n * sizeof(*sorted))))
		memcpy(sorted, h->lat, n * sizeof(*sorted));
	pthread_mutex_unlock(&h->lock);
	if (!sorted)
		return;
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	st->latency_p50_ns = sorted[n / 2];
	st->latency_p99_ns = sorted[MIN(n - 1, n * 99 / 100)];
	st->latency_max_ns = sorted[n - 1];
	free(sorted);
}

int uffd_handler_write_workingset(struct uffd_handler *h, const char *path,
				  struct err *e)
{
	return workingset_write(path, h->ws, h->nr_ws, e);
}

int uffd_register_guest_mem(const struct guest_mem *mem, struct err *e)
{
	uint64_t features;
	int uffd, ret;

	uffd = uffd_open(UFFD_FEATURES, &features, e);
	if (uffd < 0)
		return uffd;
	ret = uffd_register(uffd, mem->base, mem->size,
			    UFFDIO_REGISTER_MODE_MISSING, NULL);
	if (ret) {
		close(uffd);
		return err_set(e, -ret, "UFFDIO_REGISTER of guest RAM on %s: %s",
			       mem->backend->name, strerror(-ret));
	}
	return uffd;
}
