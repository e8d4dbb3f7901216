/* SPDX-License-Identifier: MIT */
/*
 * Which pages of guest RAM were written since the last look (gmvm fuzz
 * resets only those). Two ways, picked by what the host offers:
 *   - KVM's dirty log: the memory slots get KVM_MEM_LOG_DIRTY_PAGES and
 *     KVM_GET_DIRTY_LOG hands back (and clears) a bitmap per slot. It sees
 *     only what the guest wrote;
 *   - userfaultfd write-protection without faults (WP_ASYNC, Linux 6.7),
 *     read back and protected again in one PAGEMAP_SCAN. It sees every
 *     write through the mapping, the monitor's too.
 * With KVM's log in manual-protect mode, a page written in two looks stays
 * writable ("hot": the guest takes no write fault on it, and it is counted
 * written, so restored, every time) until a periodic full re-protect; at
 * most DIRTY_HOT_MAX pages are hot. Write faults cost ~20 us each on
 * kvm-pvm, a page copy 0.1 us.
 * Either way the monitor says what it wrote itself (dirty_note): a device's
 * DMA, the fuzz input. Pages are numbered by their offset in the RAM
 * mapping (guest_mem), whatever region they are in.
 */
#ifndef GMVM_DIRTY_H
#define GMVM_DIRTY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct guest_mem;

enum dirty_tracking {
	DIRTY_NONE,
	DIRTY_KVM_LOG,
	DIRTY_UFFD_WP_ASYNC,
};

const char *dirty_tracking_name(enum dirty_tracking d);

#define DIRTY_HOT_MAX 64
#define DIRTY_HOT_PERIOD 1024		/* looks between full re-protects */

struct dirty_tracker {
	enum dirty_tracking method;
	const struct guest_mem *mem;
	int vm_fd;
	int uffd;			/* DIRTY_UFFD_WP_ASYNC */
	int pagemap_fd;
	uint64_t nr_pages;		/* of RAM */
	uint64_t *kvm_bitmap;		/* one region's, for KVM_GET_DIRTY_LOG */
	uint64_t *kvm_clear;		/* manual protect: what to protect again */
	uint8_t *seen;			/* manual protect: looks a page was written in */
	unsigned int nr_hot;
	unsigned long looks;
	bool manual;			/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 */
	_Atomic uint64_t *noted;	/* what dirty_note() was told */
	void *scan_vec;			/* PAGEMAP_SCAN's result ranges */
};

/*
 * Start tracking mem's writes (its slots registered with vm_fd) with
 * method. Returns 0 or -errno with e naming what the host refused.
 */
int dirty_start(struct dirty_tracker *t, const struct guest_mem *mem,
		int vm_fd, enum dirty_tracking method, struct err *e);

/* The monitor wrote [offset, offset + len) of the RAM mapping: from any thread. */
void dirty_note(struct dirty_tracker *t, uint64_t offset, uint64_t len);

/*
 * Call fn(opaque, page) once for each page written since the last call and
 * start over. Returns how many pages, or -errno with e set.
 */
long dirty_collect(struct dirty_tracker *t,
		   void (*fn)(void *opaque, uint64_t page), void *opaque,
		   struct err *e);

/*
 * Free what tracking holds. KVM's slots keep logging: they go with the VM,
 * and the main thread, confined by then, makes no KVM call. Safe on a
 * zeroed t.
 */
void dirty_stop(struct dirty_tracker *t);

#endif /* GMVM_DIRTY_H */
