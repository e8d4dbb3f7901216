/* SPDX-License-Identifier: MIT */
/*
 * The virtio-balloon device (--balloon, devices/virtio_balloon.c) as the
 * rest of the monitor sees it: its target, set through the control socket,
 * and its counters, shown in the statistics.
 */
#ifndef GMVM_BALLOON_H
#define GMVM_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct vm;

struct balloon_stats {
	uint32_t target_pages;		/* num_pages: what the host asks for */
	uint32_t actual_pages;		/* actual: what the driver says it holds */
	uint64_t pages_inflated;	/* frames received on inflateq */
	uint64_t pages_deflated;	/* frames received on deflateq */
	uint64_t pages_reported;	/* pages in free page reports */
	uint64_t pages_given_back;	/* of these, discarded from RAM */
	uint64_t ignored;		/* frames outside RAM, reports of no whole page */
};

/*
 * Ask the guest to hold pages 4 KiB pages in its balloon: set num_pages and
 * signal a configuration change. Main thread. Returns 0, -ENODEV when vm
 * has no balloon, or -EINVAL for more pages than the guest has RAM.
 */
int balloon_set_target(struct vm *vm, uint64_t pages, struct err *e);

/* Fill *st and return true when vm has a balloon. Main thread. */
bool balloon_get_stats(struct vm *vm, struct balloon_stats *st);

#endif /* GMVM_BALLOON_H */
