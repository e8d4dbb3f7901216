// SPDX-License-Identifier: MIT
/*
 * The fault watchdog of lazily served guest RAM: no fault may wait longer
 * than a bound. A thread of its own looks, every tick, at what the server
 * (the uffd thread, or an external handler) leaves undone:
 *
 *   - a fault nobody reads: gmvm's copy of the userfaultfd stays readable
 *     (an external handler that never accepted, closed its copy, or stopped
 *     reading; a uffd thread stuck elsewhere);
 *   - the uffd thread serving one fault for too long (its source cannot be
 *     read, a bug);
 *   - an external handler that read a fault but never answers: the
 *     userfaultfd's fdinfo counts faults read and not yet woken ("total"
 *     minus "pending"), and no page of RAM became resident meanwhile.
 *
 * Past the bound, the watchdog names the fault (guest address, faulting
 * thread; a fault already read is made to fault again by UFFDIO_WAKE, and
 * read here), reports it through fatal(), and unregisters guest RAM so that
 * every waiter wakes (touching a page then gives zeros: gmvm is ending).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
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

#define WATCH_TICK_NS (100 * 1000000ull)
#define WATCH_NAME_TRIES 8

struct uffd_watch {
	struct uffd_watch_config cfg;
	int fdinfo_fd;			/* external: /proc/self/fdinfo/<uffd> */
	int stop_efd;
	pthread_t thread;
	bool started;
	atomic_bool released;
	uint8_t *residency;		/* mincore() vector */
};

/* "the fault on guest address 0x... (vCPU 1)", for one at hva from tid. */
static void describe_fault(const struct uffd_watch *w, uint64_t hva, int tid,
			   char *buf, size_t len)
{
	const struct guest_mem *mem = w->cfg.mem;
	char who[96] = "an unknown thread";
	uint64_t gpa = 0;
	bool found = false;

	for (unsigned int i = 0; i < mem->nr_regions && !found; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		uint64_t start = (uintptr_t)mem->base + r->offset;

		if (hva >= start && hva - start < r->size) {
			gpa = r->gpa + (hva - start);
			found = true;
		}
	}
	if (tid && w->cfg.name_thread)
		w->cfg.name_thread(w->cfg.opaque, tid, who, sizeof(who));
	if (found)
		snprintf(buf, len, "the fault on guest address %#llx (%s)",
			 (unsigned long long)ALIGN_DOWN(gpa, PAGE_SIZE), who);
	else
		snprintf(buf, len, "the fault on host address %#llx, outside guest RAM (%s)",
			 (unsigned long long)hva, who);
}

/* Read one queued fault from our copy, waiting up to wait_ns. */
static bool take_fault(struct uffd_watch *w, uint64_t wait_ns,
		       uint64_t *hva, int *tid)
{
	struct pollfd p = { .fd = w->cfg.uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&p, 1, (int)(wait_ns / 1000000)) <= 0)
		return false;
	while (read(w->cfg.uffd, &msg, sizeof(msg)) == sizeof(msg)) {
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		*hva = msg.arg.pagefault.address;
		*tid = (int)msg.arg.pagefault.feat.ptid;
		return true;
	}
	return false;
}

/* Wake every waiter for good: nothing is registered any more. */
bool uffd_watch_release(struct uffd_watch *w)
{
	struct uffdio_range all;

	if (!w || atomic_exchange(&w->released, true))
		return false;
	all = (struct uffdio_range){ (uintptr_t)w->cfg.mem->base, w->cfg.mem->size };
	ioctl(w->cfg.uffd, UFFDIO_UNREGISTER, &all);
	return true;
}

static void watch_fail(struct uffd_watch *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void watch_fail(struct uffd_watch *w, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (atomic_load(&w->released))
		return;
	/* Reported first: once released, vCPUs run on with zeros. */
	w->cfg.fatal(w->cfg.opaque, msg);
	uffd_watch_release(w);
}

/* fdinfo of an external handler's userfaultfd: faults read, not answered. */
static long faults_read_unanswered(struct uffd_watch *w)
{
	char buf[512];
	long pending = -1, total = -1;
	ssize_t n = pread(w->fdinfo_fd, buf, sizeof(buf) - 1, 0);
	char *p;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "pending:")))
		pending = strtol(p + 8, NULL, 10);
	if ((p = strstr(buf, "total:")))
		total = strtol(p + 6, NULL, 10);
	return pending < 0 || total < 0 ? -1 : total - pending;
}

/* Pages of guest RAM resident now: a handler that answers makes it grow. */
static uint64_t resident_pages(struct uffd_watch *w)
{
	const struct guest_mem *mem = w->cfg.mem;
	uint64_t n = 0;

	if (mincore(mem->base, mem->size, w->residency) < 0)
		return 0;
	for (uint64_t i = 0; i < mem->size / PAGE_SIZE; i++)
		n += w->residency[i] & 1;
	return n;
}

static void check_unanswered(struct uffd_watch *w, uint64_t now,
			     uint64_t *since, uint64_t *resident)
{
	char what[192] = "a fault the handler took (its address unknown)";
	uint64_t hva, now_resident;
	int tid;

	if (faults_read_unanswered(w) <= 0) {
		*since = 0;
		return;
	}
	if (!*since) {
		*since = now;
		*resident = resident_pages(w);
		return;
	}
	if (now - *since < w->cfg.bound_ns)
		return;
	now_resident = resident_pages(w);
	if (now_resident != *resident) {
		/* Slow, not stuck: it answered others meanwhile. */
		*since = now;
		*resident = now_resident;
		return;
	}
	/*
	 * The handler holds the fault: make its thread fault again, and read
	 * that for ourselves. A handler that still reads may take it first:
	 * a few tries, then the fault goes unnamed.
	 */
	for (int i = 0; i < WATCH_NAME_TRIES; i++) {
		struct uffdio_range all = { (uintptr_t)w->cfg.mem->base, w->cfg.mem->size };

		ioctl(w->cfg.uffd, UFFDIO_WAKE, &all);
		if (take_fault(w, 100 * 1000000ull, &hva, &tid)) {
			describe_fault(w, hva, tid, what, sizeof(what));
			break;
		}
	}
	watch_fail(w, "%s has not been served within %llu s: %s reads faults but does not answer them",
		   what, (unsigned long long)(w->cfg.bound_ns / 1000000000ull),
		   w->cfg.server);
}

static void *watch_thread(void *arg)
{
	struct uffd_watch *w = arg;
	struct pollfd stop = { .fd = w->stop_efd, .events = POLLIN };
	uint64_t unread_since = 0, held_since = 0, resident = 0;
	uint64_t tick = MIN(WATCH_TICK_NS, w->cfg.bound_ns / 4);
	struct err e = { 0 };

	block_async_signals();
	if (w->cfg.thread_init && w->cfg.thread_init(&e)) {
		watch_fail(w, "%s", e.msg);
		return NULL;
	}
	while (!atomic_load(&w->released) &&
	       poll(&stop, 1, (int)(tick / 1000000)) == 0) {
		struct pollfd q = { .fd = w->cfg.uffd, .events = POLLIN };
		uint64_t now = time_now_ns(), hva, since;
		char what[192];
		int tid;

		/* A fault nobody has read. */
		if (poll(&q, 1, 0) > 0 && (q.revents & POLLIN)) {
			if (!unread_since)
				unread_since = now;
		} else {
			unread_since = 0;
		}
		if (unread_since && now - unread_since >= w->cfg.bound_ns) {
			snprintf(what, sizeof(what), "a fault on guest RAM");
			if (take_fault(w, 0, &hva, &tid))
				describe_fault(w, hva, tid, what, sizeof(what));
			watch_fail(w, "%s has waited %llu s unread: %s does not read its faults",
				   what, (unsigned long long)(w->cfg.bound_ns / 1000000000ull),
				   w->cfg.server);
			break;
		}
		if (w->cfg.handler) {
			/* A fault the uffd thread has been at too long. */
			since = uffd_handler_serving(w->cfg.handler, &hva, &tid);
			if (since && now > since && now - since >= w->cfg.bound_ns) {
				describe_fault(w, hva, tid, what, sizeof(what));
				watch_fail(w, "%s has not been served within %llu s: %s is stuck serving it (its source cannot be read in time)",
					   what, (unsigned long long)(w->cfg.bound_ns / 1000000000ull),
					   w->cfg.server);
				break;
			}
		} else if (w->fdinfo_fd >= 0) {
			check_unanswered(w, now, &held_since, &resident);
		}
	}
	return NULL;
}

int uffd_watch_create(struct uffd_watch **wp, const struct uffd_watch_config *cfg,
		      struct err *e)
{
	struct uffd_watch *w = calloc(1, sizeof(*w));
	char path[64];

	if (!w)
		return err_set(e, ENOMEM, "out of memory for the fault watchdog");
	w->cfg = *cfg;
	w->fdinfo_fd = -1;
	w->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stop_efd < 0) {
		free(w);
		return err_set(e, errno, "eventfd: %s", strerror(errno));
	}
	if (!cfg->handler) {
		/*
		 * Opened now: later a chroot may hide /proc. Without /proc
		 * (some containers) only faults nobody reads are caught.
		 */
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", cfg->uffd);
		w->fdinfo_fd = open(path, O_RDONLY | O_CLOEXEC);
		w->residency = malloc(cfg->mem->size / PAGE_SIZE);
		if (!w->residency) {
			uffd_watch_stop(w);
			return err_set(e, ENOMEM, "out of memory for the fault watchdog");
		}
	}
	*wp = w;
	return 0;
}

bool uffd_watch_sees_answers(const struct uffd_watch *w)
{
	return w->cfg.handler || w->fdinfo_fd >= 0;
}

int uffd_watch_run(struct uffd_watch *w, struct err *e)
{
	int ret = pthread_create(&w->thread, NULL, watch_thread, w);

	if (ret)
		return err_set(e, ret, "cannot start the fault watchdog: %s",
			       strerror(ret));
	pthread_setname_np(w->thread, "uffd-watch");
	w->started = true;
	return 0;
}

void uffd_watch_stop(struct uffd_watch *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (w->started && write(w->stop_efd, &one, sizeof(one)) == sizeof(one))
		pthread_join(w->thread, NULL);
	if (w->fdinfo_fd >= 0)
		close(w->fdinfo_fd);
	close(w->stop_efd);
	free(w->residency);
	free(w);
}
