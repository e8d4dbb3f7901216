/* SPDX-License-Identifier: MIT */
/*
 * What blkbench and netbench share: the clock, RAM for their buffers, and
 * keeping a queue full with event-idx notifications.
 */
#ifndef TESTGUEST_BENCH_H
#define TESTGUEST_BENCH_H

#include "virtio.h"

#define BENCH_MAX_SECONDS 600
#define BENCH_STALL_SECONDS 10	/* no completion for this long: stuck */

/* The TSC frequency in Hz, from kvmclock; 0 (said why) without it. */
uint64_t bench_tsc_hz(void);

/* TSC ticks as microseconds. */
uint64_t bench_us(uint64_t ticks, uint64_t hz);

/* SECONDS, 1 to BENCH_MAX_SECONDS; exits with EXIT_BAD_CMDLINE otherwise. */
uint64_t bench_seconds(const char *who, const char *s, size_t len);

/*
 * size bytes of RAM for buffers, 2 MiB aligned, above the guest image and
 * clear of the initrd; NULL (said why) when there is no such room.
 */
void *bench_arena(uint64_t size);

/* Put head in queue q's avail ring (not yet visible to the device). */
void bench_queue(struct vdev *d, unsigned int q, uint16_t head);

/*
 * Publish what bench_queue() added since avail index old, and notify the
 * device only if it asked (event idx) or cannot say (no event idx).
 */
void bench_kick(struct vdev *d, unsigned int q, uint16_t old);

/* The next used entry of queue q, if any: true and *el. */
bool bench_used(struct vdev *d, unsigned int q, struct vring_used_elem *el);

#endif /* TESTGUEST_BENCH_H */
