/* SPDX-License-Identifier: MIT */
/* Internals of the uffd handler, shared by memory/uffd_*.c only. */
#ifndef GMVM_UFFD_INTERNAL_H
#define GMVM_UFFD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "uffd.h"

enum page_state {
	PAGE_MISSING_DATA,	/* in a source, not yet in guest RAM */
	PAGE_MISSING_HOLE,	/* zeros, not yet in guest RAM */
	PAGE_CACHED,		/* minor mode: in the backing file, not mapped */
	PAGE_PRESENT,		/* mapped in guest RAM */
	PAGE_REMOVED,		/* given back by the guest: zeros if touched */
};

/* How a run of pages gets into guest RAM. */
enum fill_kind {
	FILL_COPY,		/* UFFDIO_COPY from the source */
	FILL_ZERO,		/* UFFDIO_ZEROPAGE */
	FILL_CONTINUE,		/* UFFDIO_CONTINUE: already in the file */
};

struct uffd_handler {
	int uffd;
	int stop_efd;
	int wake_efd;			/* work to do: a completion request */
	pthread_t thread;
	bool started;
	uint8_t *base;			/* guest RAM mapping (registered) */
	uint8_t *cache_map;		/* minor mode: second, unregistered map */
	bool minor;
	struct uffd_extent *ext;	/* sources, sorted */
	size_t nr_ext;
	bool extents_only;
	uint64_t nr_pages;
	uint64_t nr_missing;		/* owed: data or hole, not yet in RAM */
	uint64_t nr_data_missing;	/* of which come from a source */
	uint8_t *state;			/* enum page_state per page */
	uint8_t *in_ws;			/* page is in the prefetch list */
	unsigned int fault_around;
	bool background;
	/* Prefetch and background filling wait for the vCPUs (uffd_handler_fill). */
	bool filling;			/* atomic */
	const uint64_t *prefetch;
	size_t nr_prefetch, prefetch_pos;
	uint64_t bg_pos;
	bool record;
	uint64_t *ws;
	size_t nr_ws, cap_ws;
	int (*thread_init)(struct err *e);
	void (*fatal)(void *opaque, const char *msg);
	void *fatal_opaque;
	bool failed;

	/* uffd_handler_complete(): fill everything now, then signal. */
	bool complete;			/* under lock */
	pthread_cond_t completed;

	/* The fault being served, for the watchdog (under lock). */
	uint64_t serving_since, serving_addr;
	int serving_tid;

	pthread_mutex_t lock;		/* stats, latencies, completion */
	struct uffd_stats stats;
	uint32_t *lat;
	size_t nr_lat;
};

/* What a fill did, for the stats. */
struct fill_count {
	uint64_t copied, zeroed, continued;
};

/* memory/uffd_pages.c */
void uffd_fail(struct uffd_handler *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void uffd_wake(struct uffd_handler *h, uint64_t page);
bool page_owed(const struct uffd_handler *h, uint64_t p);
/*
 * Fill what faults may fill in [first, end): owed pages, cached pages, and
 * removed ones when removed_too. Returns pages filled or -1 (failed).
 */
long long uffd_fill_range(struct uffd_handler *h, uint64_t first,
			  uint64_t end, bool removed_too, struct fill_count *c);
/*
 * Background: bring the source pages of [first, end) in -- mapped (missing
 * mode) or into the file only (minor mode). Returns pages or -1.
 */
long long uffd_fill_data(struct uffd_handler *h, uint64_t first,
			 uint64_t end, struct fill_count *c);
void uffd_mark_removed(struct uffd_handler *h, uint64_t p);
/* Zero-fill a page believed present; only wake its waiter if it is. */
void uffd_refill_zero(struct uffd_handler *h, uint64_t page);
int uffd_set_extents(struct uffd_handler *h,
		     const struct uffd_handler_config *cfg, struct err *e);

#endif /* GMVM_UFFD_INTERNAL_H */
