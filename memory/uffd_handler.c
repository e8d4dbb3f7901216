// SPDX-License-Identifier: MIT
/*
 * The uffd handler thread. Guest RAM (or, for lazy boot, only the ranges
 * that have a source) is registered with a userfaultfd; a fault is served by
 * filling an aligned window of fault_around pages around it. Between faults
 * the thread fills the working set first (prefetch), then everything else
 * that has a source (background completion), in small batches, so that a
 * waiting vCPU is never behind more than one batch.
 *
 * Two modes. Missing: pages arrive by UFFDIO_COPY or UFFDIO_ZEROPAGE.
 * Minor (shared backing files): background work copies sources into the file
 * through a second mapping, and faults on such pages only need
 * UFFDIO_CONTINUE; faults on pages not reached yet still get UFFDIO_COPY.
 * A page the guest gave back (UFFD_EVENT_REMOVE) is refilled with zeros,
 * never from its source.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"
#include "uffd_internal.h"
#include "util.h"

/* THREAD_ID: the fault watchdog names the thread a stuck fault holds. */
#define UFFD_FEATURES (UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_EVENT_REMOVE | \
		       UFFD_FEATURE_THREAD_ID)
#define UFFD_MINOR_FEATURES (UFFD_FEATURES | UFFD_FEATURE_MINOR_SHMEM)
#define UFFD_MSG_BATCH 64
#define UFFD_BG_BATCH 64		/* pages per background step */
#define UFFD_MAX_LATENCIES (1u << 20)
#define UFFD_STOP_TIMEOUT_NS (2 * 1000000000ull)

static void uffd_account(struct uffd_handler *h, const struct fill_count *c,
			 uint64_t *counter)
{
	pthread_mutex_lock(&h->lock);
	h->stats.pages_copied += c->copied;
	h->stats.pages_zeroed += c->zeroed;
	h->stats.pages_continued += c->continued;
	h->stats.bytes_copied += c->copied * PAGE_SIZE;
	if (counter)
		*counter += c->copied + c->zeroed + c->continued;
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

static void uffd_note_fault(struct uffd_handler *h, uint64_t page, bool minor,
			    uint64_t t0)
{
	pthread_mutex_lock(&h->lock);
	if (!h->stats.faults)
		h->stats.first_fault_ns = t0;
	h->stats.faults++;
	h->stats.faults_minor += minor;
	if (h->in_ws[page])
		h->stats.prefetch_misses++;
	if (h->nr_lat < UFFD_MAX_LATENCIES)
		h->lat[h->nr_lat++] = MIN(time_now_ns() - t0, (uint64_t)UINT32_MAX);
	pthread_mutex_unlock(&h->lock);
}

#ifdef GMVM_TEST_HOOKS
/* Tests: GMVM_UFFD_TEST=stall makes serving a fault never end. */
static void uffd_test_hook(void)
{
	const char *want = getenv("GMVM_UFFD_TEST");

	if (want && !strcmp(want, "stall"))
		for (;;)
			poll(NULL, 0, -1);
}
#else
static void uffd_test_hook(void)
{
}
#endif

static void uffd_serve_fault(struct uffd_handler *h, uint64_t addr,
			     uint64_t flags)
{
	uint64_t t0 = time_now_ns(), page, first;
	struct fill_count c = { 0 };

	if (addr < (uintptr_t)h->base ||
	    addr - (uintptr_t)h->base >= h->nr_pages * PAGE_SIZE) {
		uffd_fail(h, "fault at %#llx outside guest RAM",
			  (unsigned long long)addr);
		return;
	}
	uffd_test_hook();
	page = (addr - (uintptr_t)h->base) / PAGE_SIZE;
	if (h->record)
		uffd_record(h, page);
	if (h->state[page] == PAGE_PRESENT) {
		/*
		 * Filled since the fault was queued (the zero fill then finds
		 * it and only wakes the vCPU), or given back without a REMOVE
		 * event reaching us: then zeros are what the guest left.
		 */
		uffd_refill_zero(h, page);
		pthread_mutex_lock(&h->lock);
		h->stats.faults++;
		h->stats.faults_on_present++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	/* The faulting page first (even if it was given back), then around. */
	first = ALIGN_DOWN(page, h->fault_around);
	if (uffd_fill_range(h, page, page + 1, true, &c) < 0 ||
	    uffd_fill_range(h, first, MIN(first + h->fault_around, h->nr_pages),
			    false, &c) < 0)
		return;
	uffd_account(h, &c, NULL);
	uffd_note_fault(h, page, flags & UFFD_PAGEFAULT_FLAG_MINOR, t0);
}

/* The guest gave pages back: never fill them from their source again. */
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
		uffd_mark_removed(h, p);
		n++;
	}
	pthread_mutex_lock(&h->lock);
	h->stats.removed_pages += n;
	pthread_mutex_unlock(&h->lock);
}

/* Read and serve queued events. */
static void uffd_drain(struct uffd_handler *h)
{
	struct uffd_msg msgs[UFFD_MSG_BATCH];
	ssize_t n = read(h->uffd, msgs, sizeof(msgs));

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			uffd_fail(h, "reading the userfaultfd: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]) && !h->failed; i++) {
		if (msgs[i].event == UFFD_EVENT_PAGEFAULT) {
			pthread_mutex_lock(&h->lock);
			h->serving_since = time_now_ns();
			h->serving_addr = msgs[i].arg.pagefault.address;
			h->serving_tid = (int)msgs[i].arg.pagefault.feat.ptid;
			pthread_mutex_unlock(&h->lock);
			uffd_serve_fault(h, msgs[i].arg.pagefault.address,
					 msgs[i].arg.pagefault.flags);
			pthread_mutex_lock(&h->lock);
			h->serving_since = 0;
			pthread_mutex_unlock(&h->lock);
		} else if (msgs[i].event == UFFD_EVENT_REMOVE)
			uffd_remove(h, msgs[i].arg.remove.start,
				    msgs[i].arg.remove.end);
	}
}

/* One step of prefetch or background filling; false when nothing is left. */
static bool uffd_background_step(struct uffd_handler *h)
{
	struct fill_count c = { 0 };
	long long filled;

	if (!__atomic_load_n(&h->filling, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&h->complete, __ATOMIC_ACQUIRE))
		return false;

	while (h->prefetch_pos < h->nr_prefetch) {
		uint64_t p = h->prefetch[h->prefetch_pos++];
		uint64_t first = ALIGN_DOWN(p, h->fault_around);

		if (!page_owed(h, p))
			continue;
		/* The window a fault on p would have filled. */
		filled = uffd_fill_range(h, first,
					 MIN(first + h->fault_around, h->nr_pages),
					 false, &c);
		if (filled > 0)
			uffd_account(h, &c, &h->stats.pages_prefetched);
		return filled >= 0;
	}
	/*
	 * Background completion brings in what has a source; holes stay
	 * until touched (a zero page costs a fault, filling them all more).
	 */
	if (!h->nr_data_missing) {
		pthread_mutex_lock(&h->lock);
		if (h->complete)
			pthread_cond_broadcast(&h->completed);
		pthread_mutex_unlock(&h->lock);
		return false;
	}
	if (!h->background && !__atomic_load_n(&h->complete, __ATOMIC_ACQUIRE))
		return false;
	while (h->bg_pos < h->nr_pages && h->state[h->bg_pos] != PAGE_MISSING_DATA)
		h->bg_pos++;
	if (h->bg_pos >= h->nr_pages)
		return false;
	filled = uffd_fill_data(h, h->bg_pos,
				MIN(h->bg_pos + UFFD_BG_BATCH, h->nr_pages), &c);
	if (filled < 0)
		return false;
	/* Not past the batch: a fill that stopped (EAGAIN) resumes here. */
	uffd_account(h, &c, &h->stats.pages_background);
	return true;
}

static void *uffd_thread(void *arg)
{
	struct uffd_handler *h = arg;
	struct pollfd fds[3] = {
		{ .fd = h->uffd, .events = POLLIN },
		{ .fd = h->stop_efd, .events = POLLIN },
		{ .fd = h->wake_efd, .events = POLLIN },
	};
	struct err e = { 0 };
	bool more = true;

	/* A restore starts us before the main thread blocks SIGTERM. */
	block_async_signals();
	if (h->thread_init && h->thread_init(&e))
		uffd_fail(h, "%s", e.msg);
	while (!h->failed) {
		/* Idle work only when no fault is waiting. */
		int n = poll(fds, 3, more ? 0 : -1);
		uint64_t v;

		if (n < 0 && errno != EINTR) {
			uffd_fail(h, "poll: %s", strerror(errno));
			break;
		}
		if (n > 0 && fds[1].revents)
			break;
		if (n > 0 && (fds[2].revents & POLLIN) &&
		    read(h->wake_efd, &v, sizeof(v)) > 0)
			more = true;	/* a completion request */
		if (n > 0 && (fds[0].revents & POLLIN)) {
			uffd_drain(h);
			more = true;
			continue;
		}
		more = uffd_background_step(h);
	}
	pthread_mutex_lock(&h->lock);
	pthread_cond_broadcast(&h->completed);
	pthread_mutex_unlock(&h->lock);
	if (h->failed) {
		/* Unregistering wakes every waiter: no vCPU hangs on us. */
		struct uffdio_range r = { (uintptr_t)h->base, h->nr_pages * PAGE_SIZE };

		ioctl(h->uffd, UFFDIO_UNREGISTER, &r);
	}
	return NULL;
}

/* Register all of RAM, or only the extents. */
static int uffd_register_ranges(struct uffd_handler *h,
				const struct guest_mem *mem, struct err *e)
{
	uint64_t mode = UFFDIO_REGISTER_MODE_MISSING |
			(h->minor ? UFFDIO_REGISTER_MODE_MINOR : 0);
	int ret = 0;

	if (!h->extents_only)
		ret = uffd_register(h->uffd, mem->base, mem->size, mode, NULL);
	for (size_t i = 0; h->extents_only && !ret && i < h->nr_ext; i++)
		ret = uffd_register(h->uffd, mem->base + h->ext[i].page * PAGE_SIZE,
				    h->ext[i].nr_pages * PAGE_SIZE, mode, NULL);
	if (ret)
		return err_set(e, -ret, "UFFDIO_REGISTER (%s) of guest RAM on %s: %s",
			       h->minor ? "MISSING|MINOR" : "MISSING",
			       mem->backend->name, strerror(-ret));
	return 0;
}

static int uffd_open_for(struct uffd_handler *h, const struct guest_mem *mem,
			 struct err *e)
{
	uint64_t want = h->minor ? UFFD_MINOR_FEATURES : UFFD_FEATURES;
	uint64_t features;

	h->uffd = uffd_open(want, &features, e);
	if (h->uffd < 0)
		return h->uffd;
	if (mem->fd >= 0 && !(features & UFFD_FEATURE_MISSING_SHMEM))
		return err_set(e, ENOTSUP, "userfaultfd cannot serve shared memory on this kernel");
	if (h->minor && !(features & UFFD_FEATURE_MINOR_SHMEM))
		return err_set(e, ENOTSUP, "userfaultfd has no minor faults on shared memory here");
	return 0;
}

static int uffd_handler_init(struct uffd_handler *h,
			     const struct uffd_handler_config *cfg,
			     struct err *e)
{
	const struct guest_mem *mem = cfg->mem;
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
	h->thread_init = cfg->thread_init;
	h->extents_only = cfg->extents_only;
	h->minor = cfg->minor;
	if (h->minor && mem->fd < 0)
		return err_set(e, EINVAL, "minor faults need a shared memory backend");
	h->state = malloc(h->nr_pages);
	h->in_ws = calloc(1, h->nr_pages);
	h->lat = malloc(UFFD_MAX_LATENCIES * sizeof(*h->lat));
	if (!h->state || !h->in_ws || !h->lat)
		return err_set(e, ENOMEM, "out of memory for the uffd handler");
	for (size_t i = 0; i < h->nr_prefetch; i++)
		h->in_ws[h->prefetch[i]] = 1;
	ret = uffd_set_extents(h, cfg, e);
	if (ret)
		return ret;
	if (h->minor) {
		void *map = mmap(NULL, mem->size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_NORESERVE, mem->fd, 0);

		if (map == MAP_FAILED)
			return err_set(e, errno, "second mapping of guest RAM: %s",
				       strerror(errno));
		h->cache_map = map;
	}
	ret = uffd_open_for(h, mem, e);
	if (!ret)
		ret = uffd_register_ranges(h, mem, e);
	if (ret)
		return ret;
	h->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->stop_efd < 0 || h->wake_efd < 0)
		return err_set(e, errno, "eventfd: %s", strerror(errno));
	return 0;
}

static void uffd_handler_free(struct uffd_handler *h)
{
	if (h->cache_map)
		munmap(h->cache_map, h->nr_pages * PAGE_SIZE);
	if (h->uffd >= 0)
		close(h->uffd);
	if (h->stop_efd >= 0)
		close(h->stop_efd);
	if (h->wake_efd >= 0)
		close(h->wake_efd);
	pthread_cond_destroy(&h->completed);
	free(h->ext);
	free(h->state);
	free(h->in_ws);
	free(h->lat);
	free(h->ws);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int uffd_handler_create(struct uffd_handler **hp,
			const struct uffd_handler_config *cfg, struct err *e)
{
	struct uffd_handler *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return err_set(e, ENOMEM, "out of memory for the uffd handler");
	h->uffd = h->stop_efd = h->wake_efd = -1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->completed, NULL);
	ret = uffd_handler_init(h, cfg, e);
	if (ret) {
		uffd_handler_free(h);
		return ret;
	}
	*hp = h;
	return 0;
}

int uffd_handler_run(struct uffd_handler *h, struct err *e)
{
	int ret = pthread_create(&h->thread, NULL, uffd_thread, h);

	if (ret)
		return err_set(e, ret, "cannot start the uffd thread: %s",
			       strerror(ret));
	pthread_setname_np(h->thread, "uffd");
	h->started = true;
	return 0;
}

void uffd_handler_fill(struct uffd_handler *h)
{
	uint64_t one = 1;

	__atomic_store_n(&h->filling, true, __ATOMIC_RELEASE);
	if (write(h->wake_efd, &one, sizeof(one)) < 0) {
		/* The counter is full: a wake-up is pending anyway. */
	}
}

void uffd_handler_stop(struct uffd_handler *h)
{
	uint64_t one = 1;

	if (!h)
		return;
	if (h->started && write(h->stop_efd, &one, sizeof(one)) == sizeof(one)) {
		/*
		 * A thread stuck serving one fault (the watchdog said so) never
		 * reads the stop request: gmvm ends without it, leaving it
		 * what it uses.
		 */
		if (!thread_join_within(h->thread, UFFD_STOP_TIMEOUT_NS))
			return;
	}
	uffd_handler_free(h);
}

int uffd_handler_complete(struct uffd_handler *h, struct err *e)
{
	uint64_t one = 1;
	int ret = 0;

	pthread_mutex_lock(&h->lock);
	__atomic_store_n(&h->complete, true, __ATOMIC_RELEASE);
	if (write(h->wake_efd, &one, sizeof(one)) < 0)
		ret = err_set(e, errno, "cannot wake the uffd thread: %s",
			      strerror(errno));
	while (!ret && !h->failed &&
	       __atomic_load_n(&h->nr_data_missing, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&h->completed, &h->lock);
	if (!ret && h->failed)
		ret = err_set(e, EIO, "the uffd thread failed before guest RAM was complete");
	__atomic_store_n(&h->complete, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int uffd_handler_fd(const struct uffd_handler *h)
{
	return h->uffd;
}

uint64_t uffd_handler_serving(struct uffd_handler *h, uint64_t *addr, int *tid)
{
	uint64_t since;

	pthread_mutex_lock(&h->lock);
	since = h->serving_since;
	*addr = h->serving_addr;
	*tid = h->serving_tid;
	pthread_mutex_unlock(&h->lock);
	return since;
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

int uffd_handler_write_workingset(struct uffd_handler *h, int dir_fd,
				  const char *dir, struct err *e)
{
	return workingset_write(dir_fd, dir, h->ws, h->nr_ws, e);
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
