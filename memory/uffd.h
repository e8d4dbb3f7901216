/* SPDX-License-Identifier: MIT */
/* userfaultfd: opening one, negotiating its API, registering guest memory. */
#ifndef GMVM_UFFD_H
#define GMVM_UFFD_H

#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Open a userfaultfd that also sees faults taken by the kernel on the
 * process's behalf (KVM's), through the syscall or /dev/userfaultfd, and
 * enable the features wanted that the kernel has. Returns the fd or -errno
 * with e set; *features gets what was enabled.
 */
int uffd_open(uint64_t wanted, uint64_t *features, struct err *e);

/* Features the kernel's userfaultfd offers, or -errno (e set). */
int uffd_supported_features(uint64_t *features, struct err *e);

/* Whether this process can have a userfaultfd at all. */
bool uffd_available(void);

/*
 * Register [addr, addr + len) with uffd in mode (UFFDIO_REGISTER_MODE_*).
 * Returns 0 and the ioctls bitmap the kernel allows there, or -errno.
 */
int uffd_register(int uffd, void *addr, uint64_t len, uint64_t mode,
		  uint64_t *ioctls);

struct guest_mem;

/*
 * Whether guest RAM mem can be served lazily here: tries a MISSING (and with
 * minor, MINOR) registration of the real mapping, then drops it. why says
 * what happened.
 */
bool uffd_probe_mem(const struct guest_mem *mem, bool minor, char *why,
		    size_t len);

/*
 * The uffd handler thread (memory/uffd_handler.c): serves faults on guest RAM
 * from a snapshot memory file (UFFDIO_COPY for data, UFFDIO_ZEROPAGE for
 * holes), a window of neighbouring pages at a time, and fills the rest in the
 * background while the guest runs. It never touches registered memory.
 */
struct uffd_handler;

/* Pages filled per fault unless told otherwise (bench/uffd.sh measures). */
#define UFFD_DEFAULT_FAULT_AROUND 16

struct uffd_stats {
	uint64_t faults;		/* page faults served */
	uint64_t faults_minor;		/* of which minor (page in the file) */
	uint64_t faults_on_present;	/* already filled: only woken */
	uint64_t pages_copied;
	uint64_t pages_zeroed;
	uint64_t pages_continued;	/* UFFDIO_CONTINUE */
	uint64_t bytes_copied;
	uint64_t pages_background;	/* filled while no fault waited */
	uint64_t pages_prefetched;	/* working-set pages filled before
					   the guest faulted on them: hits */
	uint64_t prefetch_misses;	/* faults on working-set pages the
					   prefetch had not reached yet */
	uint64_t removed_pages;		/* UFFD_EVENT_REMOVE */
	uint64_t eexist;		/* races with pages filled already */
	uint64_t pages_missing;		/* not yet filled */
	uint64_t latency_p50_ns;
	uint64_t latency_p99_ns;
	uint64_t latency_max_ns;
	uint64_t first_fault_ns;	/* time_now_ns() of the first fault */
};

/*
 * Where guest pages come from: nr_pages pages from page (a backing offset
 * in pages) are copied from src, which stays mapped while the handler runs.
 * Pages of no extent are zeros.
 */
struct uffd_extent {
	uint64_t page;
	uint64_t nr_pages;
	const uint8_t *src;
};

struct uffd_handler_config {
	const struct guest_mem *mem;
	const struct uffd_extent *extents;	/* sorted, disjoint; copied */
	size_t nr_extents;
	/*
	 * false: all of RAM is registered (restore); true: only the extents
	 * are, the rest of RAM is ordinary memory (lazy boot).
	 */
	bool extents_only;
	/*
	 * Minor mode (shared backends): background work fills the backing
	 * file through a second mapping; faults on those pages need only
	 * UFFDIO_CONTINUE. Registers MISSING|MINOR.
	 */
	bool minor;
	unsigned int fault_around;	/* pages per fault, a power of two */
	bool background;		/* fill the rest while idle */
	const uint64_t *prefetch;	/* page indices (< RAM pages) first */
	size_t nr_prefetch;
	bool record;			/* keep the order of faulted pages */
	/* Run first on the handler thread (its seccomp filter); may be NULL. */
	int (*thread_init)(struct err *e);
	/* Called once from the handler thread when it cannot go on. */
	void (*fatal)(void *opaque, const char *msg);
	void *fatal_opaque;
};

/*
 * Register cfg->mem (or its extents) with a new userfaultfd, ready to serve:
 * returns 0 and *h, or -errno with e set. uffd_handler_run() then starts
 * its thread (separately, so that privileges can be dropped between: the
 * userfaultfd is opened with them, the thread runs without).
 */
int uffd_handler_create(struct uffd_handler **h,
			const struct uffd_handler_config *cfg, struct err *e);
int uffd_handler_run(struct uffd_handler *h, struct err *e);

/*
 * Let the thread prefetch and fill in the background. Until then it only
 * serves faults: a restore is quickest with the CPUs left to it, and the
 * VM core calls this once its vCPUs run.
 */
void uffd_handler_fill(struct uffd_handler *h);

/* Stop the thread, unregister and free. */
void uffd_handler_stop(struct uffd_handler *h);

void uffd_handler_stats(struct uffd_handler *h, struct uffd_stats *st);

/*
 * Bring in every page that has a source now and wait until done (before a
 * snapshot reads guest RAM: a page not yet fetched is not resident, and
 * would be lost). Returns 0 or -EIO when the thread failed.
 */
int uffd_handler_complete(struct uffd_handler *h, struct err *e);

/* The handler's userfaultfd (the watchdog polls it too). */
int uffd_handler_fd(const struct uffd_handler *h);

/*
 * The fault the handler's thread is serving now: 0, or since when
 * (time_now_ns()), with the faulting host address and thread id (0 where the
 * kernel gives none).
 */
uint64_t uffd_handler_serving(struct uffd_handler *h, uint64_t *addr, int *tid);

/* Write the recorded fault order (see workingset_write()). */
int uffd_handler_write_workingset(struct uffd_handler *h, int dir_fd,
				  const char *dir, struct err *e);

/*
 * Create a userfaultfd with every guest RAM range of mem registered in
 * MISSING mode, for an external handler. Returns the fd or -errno, e set.
 */
int uffd_register_guest_mem(const struct guest_mem *mem, struct err *e);

/*
 * The fault watchdog (memory/uffd_watch.c): no fault on lazily served guest
 * RAM waits longer than bound_ns, whoever serves it.
 */
struct uffd_watch;

struct uffd_watch_config {
	int uffd;			/* gmvm's copy of the userfaultfd */
	const struct guest_mem *mem;
	struct uffd_handler *handler;	/* the server in gmvm, or NULL: external */
	const char *server;		/* who serves, for messages */
	uint64_t bound_ns;
	/* Name the thread tid in a message ("vCPU 1"); may be NULL. */
	void (*name_thread)(void *opaque, int tid, char *buf, size_t len);
	/* Called once, from the watchdog's thread, after RAM is released. */
	void (*fatal)(void *opaque, const char *msg);
	void *opaque;
	int (*thread_init)(struct err *e);	/* its seccomp filter; or NULL */
};

/*
 * Create the watchdog (opening what it reads while /proc is still there);
 * uffd_watch_run() starts its thread. Returns 0 or -errno with e set.
 */
int uffd_watch_create(struct uffd_watch **w, const struct uffd_watch_config *cfg,
		      struct err *e);
int uffd_watch_run(struct uffd_watch *w, struct err *e);

/*
 * Whether it can tell a fault that was read but never answered (an external
 * handler's is seen in /proc/self/fdinfo): false where /proc is missing.
 */
bool uffd_watch_sees_answers(const struct uffd_watch *w);

/*
 * Unregister guest RAM: every thread waiting on a fault wakes, and no fault
 * waits again (pages not yet served read as zeros). For a VM that is ending
 * with a fault nobody serves. Returns false when done already or w is NULL.
 */
bool uffd_watch_release(struct uffd_watch *w);

/* Stop the thread and free. Safe on NULL. */
void uffd_watch_stop(struct uffd_watch *w);

/*
 * Register guest RAM with a userfaultfd and hand it, with a JSON array of
 * {base_host_virt_addr, size, offset, page_size} per region, to the handler
 * listening on the UNIX socket path (Firecracker's page-fault handler
 * protocol). Connecting and sending give up after timeout_ns (a handler
 * that never accepts). Returns the connected socket (its end means the
 * handler is gone) and *uffd (kept, to unregister on the way out), or
 * -errno with e set.
 */
int uffd_external_handoff(const struct guest_mem *mem, const char *path,
			  uint64_t timeout_ns, int *uffd, struct err *e);

/*
 * Read a working set file: page indices below nr_pages, at most nr_pages of
 * them. Returns 0 and a malloc'ed array, or -EINVAL with e naming the problem.
 */
int workingset_read(const char *path, uint64_t nr_pages, uint64_t **pages,
		    size_t *n, struct err *e);
/*
 * Write pages as the file "workingset" in the directory dir_fd (which may be
 * an O_PATH descriptor opened before a chroot; dir names it in messages).
 * The file is whole or absent. Returns 0 or -errno with e set.
 */
int workingset_write(int dir_fd, const char *dir, const uint64_t *pages,
		     size_t n, struct err *e);

#endif /* GMVM_UFFD_H */
