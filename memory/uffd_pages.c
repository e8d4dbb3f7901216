// SPDX-License-Identifier: MIT
/*
 * Getting pages into registered guest RAM: per-page state, runs of pages of
 * one kind, and the ioctls that fill them -- UFFDIO_COPY from a source,
 * UFFDIO_ZEROPAGE, UFFDIO_CONTINUE for pages already in the backing file
 * (minor mode fills the file through a second, unregistered mapping).
 *
 * Races: a fill stops at a page that exists already (EEXIST, or EAGAIN after
 * a partial fill). That page is then counted present, any waiter on it is
 * woken, and the fill goes on past it. EAGAIN with nothing filled means the
 * mapping is changing under a UFFD_EVENT_REMOVE not read yet: nothing is
 * counted, the waiter is woken to fault again, and the fill stops there.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "guest_mem.h"
#include "uffd_internal.h"
#include "util.h"

void uffd_fail(struct uffd_handler *h, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&h->lock);
	h->failed = true;
	pthread_cond_broadcast(&h->completed);
	pthread_mutex_unlock(&h->lock);
	if (h->fatal)
		h->fatal(h->fatal_opaque, msg);
}

void uffd_wake(struct uffd_handler *h, uint64_t page)
{
	struct uffdio_range r = {
		.start = (uintptr_t)(h->base + page * PAGE_SIZE),
		.len = PAGE_SIZE,
	};

	ioctl(h->uffd, UFFDIO_WAKE, &r);
}

/* The extent holding page, which has a source. */
static const struct uffd_extent *extent_of(const struct uffd_handler *h,
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

static const uint8_t *source_of(const struct uffd_handler *h, uint64_t page)
{
	const struct uffd_extent *x = extent_of(h, page);

	return x->src + (page - x->page) * PAGE_SIZE;
}

bool page_owed(const struct uffd_handler *h, uint64_t p)
{
	return h->state[p] == PAGE_MISSING_DATA ||
	       h->state[p] == PAGE_MISSING_HOLE;
}

static bool page_fillable(const struct uffd_handler *h, uint64_t p,
			  bool removed_too)
{
	return page_owed(h, p) || h->state[p] == PAGE_CACHED ||
	       (removed_too && h->state[p] == PAGE_REMOVED);
}

static enum fill_kind page_kind(const struct uffd_handler *h, uint64_t p)
{
	switch (h->state[p]) {
	case PAGE_MISSING_DATA:
		return FILL_COPY;
	case PAGE_CACHED:
		return FILL_CONTINUE;
	default:
		return FILL_ZERO;
	}
}

static void page_set(struct uffd_handler *h, uint64_t p, enum page_state to)
{
	if (page_owed(h, p))
		h->nr_missing--;
	/* Read by uffd_handler_complete() from another thread. */
	if (h->state[p] == PAGE_MISSING_DATA)
		__atomic_fetch_sub(&h->nr_data_missing, 1, __ATOMIC_RELEASE);
	h->state[p] = to;
}

void uffd_mark_removed(struct uffd_handler *h, uint64_t p)
{
	page_set(h, p, PAGE_REMOVED);
}

/* Run of fillable pages from p of p's kind, not crossing an extent. */
static uint64_t fill_run(const struct uffd_handler *h, uint64_t p,
			 uint64_t end, bool removed_too)
{
	enum fill_kind kind = page_kind(h, p);
	uint64_t run = 1;

	if (kind == FILL_COPY) {
		const struct uffd_extent *x = extent_of(h, p);

		end = MIN(end, x->page + x->nr_pages);
	}
	while (p + run < end && page_fillable(h, p + run, removed_too) &&
	       page_kind(h, p + run) == kind)
		run++;
	return run;
}

static int fill_ioctl(struct uffd_handler *h, enum fill_kind kind,
		      uint64_t dst, uint64_t page, uint64_t len, long long *done)
{
	int ret;

	if (kind == FILL_COPY) {
		struct uffdio_copy c = { dst, (uintptr_t)source_of(h, page), len, 0, 0 };

		ret = ioctl(h->uffd, UFFDIO_COPY, &c);
		*done = c.copy;
	} else if (kind == FILL_ZERO) {
		struct uffdio_zeropage z = { .range = { dst, len } };

		ret = ioctl(h->uffd, UFFDIO_ZEROPAGE, &z);
		*done = z.zeropage;
	} else {
		struct uffdio_continue c = { .range = { dst, len } };

		ret = ioctl(h->uffd, UFFDIO_CONTINUE, &c);
		*done = c.mapped;
	}
	return ret;
}

/* Fill n pages from page; returns how many were handled (0: none, the
 * range is changing), or -1. */
static long long fill_pages(struct uffd_handler *h, uint64_t page, uint64_t n,
			    enum fill_kind kind)
{
	static const char *const names[] = { "UFFDIO_COPY", "UFFDIO_ZEROPAGE",
					      "UFFDIO_CONTINUE" };
	uint64_t dst = (uintptr_t)(h->base + page * PAGE_SIZE);
	long long done = 0;
	int err;

	if (fill_ioctl(h, kind, dst, page, n * PAGE_SIZE, &done) == 0)
		return n;
	err = errno;
	if (err == EAGAIN && done > 0)
		return done / PAGE_SIZE;
	if (err == EEXIST || err == EAGAIN) {
		pthread_mutex_lock(&h->lock);
		h->stats.eexist++;
		pthread_mutex_unlock(&h->lock);
		uffd_wake(h, page);
		/*
		 * EEXIST: the page is there already. EAGAIN: the mapping is
		 * changing (a UFFD_EVENT_REMOVE we have not read yet) and
		 * nothing was filled: the page is still missing, and counting
		 * it present would serve it as zeros later. The woken access
		 * faults again, behind that event.
		 */
		return err == EEXIST ? 1 : 0;
	}
	uffd_fail(h, "%s of guest page %#llx failed: %s%s", names[kind],
		  (unsigned long long)(page * PAGE_SIZE), strerror(err),
		  err == EFAULT ? " (its source file cannot be read)" : "");
	return -1;
}

static void count_fill(struct fill_count *c, enum fill_kind kind, uint64_t n)
{
	if (kind == FILL_COPY)
		c->copied += n;
	else if (kind == FILL_ZERO)
		c->zeroed += n;
	else
		c->continued += n;
}

long long uffd_fill_range(struct uffd_handler *h, uint64_t first,
			  uint64_t end, bool removed_too, struct fill_count *c)
{
	long long filled = 0;

	for (uint64_t p = first; p < end && !h->failed;) {
		enum fill_kind kind;
		long long n;

		if (!page_fillable(h, p, removed_too)) {
			p++;
			continue;
		}
		kind = page_kind(h, p);
		n = fill_pages(h, p, fill_run(h, p, end, removed_too), kind);
		if (n < 0)
			return -1;
		if (n == 0)
			break;	/* the range is changing: later */
		for (long long i = 0; i < n; i++)
			page_set(h, p + i, PAGE_PRESENT);
		count_fill(c, kind, n);
		filled += n;
		p += n;
	}
	return filled;
}

/* Minor mode: copy source pages into the backing file, not mapping them. */
static long long fill_cache(struct uffd_handler *h, uint64_t p, uint64_t n)
{
	/*
	 * Into the second mapping: nothing is registered there, so this
	 * allocates file pages without a fault reaching us. The file may be
	 * a guest_memfd, which has no write(). The kernel does the copy: a
	 * source file that shrank underfoot is then a short read (EFAULT),
	 * where memcpy() would die of SIGBUS.
	 */
	struct iovec to = { h->cache_map + p * PAGE_SIZE, n * PAGE_SIZE };
	struct iovec from = { (void *)source_of(h, p), n * PAGE_SIZE };
	ssize_t got = process_vm_readv(getpid(), &to, 1, &from, 1, 0);

	if (got != (ssize_t)(n * PAGE_SIZE)) {
		uffd_fail(h, "copying guest pages [%#llx, %#llx) into RAM's file failed: %s (their source file cannot be read)",
			  (unsigned long long)(p * PAGE_SIZE),
			  (unsigned long long)((p + n) * PAGE_SIZE),
			  got < 0 ? strerror(errno) : "short read");
		return -1;
	}
	for (uint64_t i = 0; i < n; i++)
		page_set(h, p + i, PAGE_CACHED);
	return n;
}

long long uffd_fill_data(struct uffd_handler *h, uint64_t first,
			 uint64_t end, struct fill_count *c)
{
	long long total = 0;

	for (uint64_t p = first; p < end && !h->failed;) {
		uint64_t run;
		long long n;

		if (h->state[p] != PAGE_MISSING_DATA) {
			p++;
			continue;
		}
		run = fill_run(h, p, end, false);
		n = h->minor ? fill_cache(h, p, run) : fill_pages(h, p, run, FILL_COPY);
		if (n < 0)
			return -1;
		if (n == 0)
			break;	/* the range is changing: later */
		if (!h->minor)
			for (long long i = 0; i < n; i++)
				page_set(h, p + i, PAGE_PRESENT);
		c->copied += n;
		total += n;
		p += n;
	}
	return total;
}

/* Copy and check the extents; mark their pages as data, the rest holes. */
int uffd_set_extents(struct uffd_handler *h,
		     const struct uffd_handler_config *cfg, struct err *e)
{
	/* With only the extents registered, nothing else is owed. */
	memset(h->state, cfg->extents_only ? PAGE_PRESENT : PAGE_MISSING_HOLE,
	       h->nr_pages);
	h->ext = malloc((cfg->nr_extents ? cfg->nr_extents : 1) * sizeof(*h->ext));
	if (!h->ext)
		return err_set(e, ENOMEM, "out of memory");
	h->nr_ext = cfg->nr_extents;
	/* A memory file with no data at all has no extents (and no array). */
	if (h->nr_ext)
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

void uffd_refill_zero(struct uffd_handler *h, uint64_t page)
{
	struct uffdio_zeropage z = {
		.range = { (uintptr_t)(h->base + page * PAGE_SIZE), PAGE_SIZE },
	};

	if (ioctl(h->uffd, UFFDIO_ZEROPAGE, &z) < 0)
		uffd_wake(h, page);
}
