/* SPDX-License-Identifier: MIT */
/*
 * What the files of the hostile workload share: the driver in hostile.c,
 * the devices in hostile_device.c, and every attack for the table of kinds.
 */
#ifndef TESTGUEST_HOSTILE_H
#define TESTGUEST_HOSTILE_H

#include "virtio.h"

#define NEEDS_RESET_CYCLES 10000000000ull	/* a few seconds at most */
#define SETTLE_CYCLES 150000000ull		/* ~50 ms: long for the device */
#define PAGE 4096ul

struct ring_set {
	struct vring_desc desc[VQ_SIZE] __attribute__((aligned(4096)));
	struct vring_avail avail __attribute__((aligned(4096)));
	struct vring_used used __attribute__((aligned(4096)));
};

/* One set per queue, reused after every reset. */
extern struct ring_set rings[4];
extern uint8_t scratch[PAGE];

/* --- The devices, and what a normal request is for each ------------------ */

struct target {
	const char *name;
	uint32_t device_id;
	unsigned int nr_queues;
	unsigned int q;			/* the queue attacked */
	/* A normal request's buffers (at most 4); its outcome, by used length. */
	unsigned int (*request)(struct vbuf *b);
	bool (*check)(uint32_t len);
};

/* hostile_device.c; the first, rng, is the one when none is named. */
extern const struct target targets[];
extern const unsigned int nr_targets;

/* --- A driver that does as it is told ----------------------------------- */

uint32_t status(const struct vdev *d);
bool needs_reset(const void *d);
bool reset(struct vdev *d);
bool negotiate(struct vdev *d, uint64_t wanted);
void write64(const struct vdev *d, uint32_t off, uint64_t v);
bool queue_rings(struct vdev *d, uint64_t desc, uint64_t avail, uint64_t used);
bool queue_at(struct vdev *d, unsigned int q, uint32_t n, uint64_t desc,
	      uint64_t avail, uint64_t used);
bool queues(const struct target *t, struct vdev *d);
void driver_ok(struct vdev *d);
bool dev_open(const struct target *t, struct vdev *d, uint64_t wanted);
void lay(struct vring_desc *table, unsigned int size, unsigned int first,
	 const struct vbuf *b, unsigned int n);
void publish(struct vdev *d, unsigned int q, uint16_t head);
void submit(struct vdev *d, unsigned int q, uint16_t head);
bool wait_used(struct vdev *d, unsigned int q, uint64_t cycles, uint32_t *len);
bool normal(const struct target *t, struct vdev *d, const char *when);

/* --- What a driver must see after breaking the rules --------------------- */

int expect_needs_reset(const struct target *t, struct vdev *d, bool was_ok);
int broken_chain(const struct target *t, struct vdev *d, uint64_t wanted,
		 uint16_t (*lay_bad)(struct vring_desc *desc));
struct vring_desc buf_desc(uint64_t addr, uint32_t len, uint16_t flags,
			   uint16_t next);

/* --- Guest RAM, as the boot path described it ---------------------------- */

uint64_t ram_top(void);
bool ram_ends_at(uint64_t a);
const struct ram_range *image_range(void);

/* --- The attacks, in the order of kinds[] --------------------------------- */

/* hostile_chain.c; lay_loop() is also the receive chain rxloop lays. */
uint16_t lay_loop(struct vring_desc *desc);
int attack_loop(const struct target *t, struct vdev *d);
int attack_longchain(const struct target *t, struct vdev *d);
int attack_badnext(const struct target *t, struct vdev *d);
int attack_badhead(const struct target *t, struct vdev *d);
int attack_availjump(const struct target *t, struct vdev *d);
int attack_oob(const struct target *t, struct vdev *d);
int attack_straddle(const struct target *t, struct vdev *d);
int attack_overflow(const struct target *t, struct vdev *d);
int attack_toolong(const struct target *t, struct vdev *d);
int attack_nestedindirect(const struct target *t, struct vdev *d);
int attack_indirectnoneg(const struct target *t, struct vdev *d);
int attack_indirectnext(const struct target *t, struct vdev *d);
int attack_indirectloop(const struct target *t, struct vdev *d);
int attack_indirectlen(const struct target *t, struct vdev *d);
int attack_mixedindirect(const struct target *t, struct vdev *d);

/* hostile_queue.c */
int attack_qsize(const struct target *t, struct vdev *d);
int attack_qsize0(const struct target *t, struct vdev *d);
int attack_qsizemax(const struct target *t, struct vdev *d);
int attack_qsizewrap(const struct target *t, struct vdev *d);
int attack_snapqsize(const struct target *t, struct vdev *d);
int attack_misaligned(const struct target *t, struct vdev *d);
int attack_oobring(const struct target *t, struct vdev *d);
int attack_straddlering(const struct target *t, struct vdev *d);
int attack_earlynotify(const struct target *t, struct vdev *d);
int attack_badnotify(const struct target *t, struct vdev *d);

/* hostile_regs.c */
int attack_oddmmio(const struct target *t, struct vdev *d);
int attack_latesetup(const struct target *t, struct vdev *d);
int attack_queuestop(const struct target *t, struct vdev *d);
int attack_badfeatures(const struct target *t, struct vdev *d);
int attack_configwrite(const struct target *t, struct vdev *d);

/* hostile_device.c */
int attack_blkbad(const struct target *t, struct vdev *d);
int attack_pfn(const struct target *t, struct vdev *d);
int attack_manypfn(const struct target *t, struct vdev *d);
int attack_reportq(const struct target *t, struct vdev *d);
int attack_rxloop(const struct target *t, struct vdev *d);
int attack_vsockbad(const struct target *t, struct vdev *d);
int attack_vsockrxshort(const struct target *t, struct vdev *d);
int attack_txwritable(const struct target *t, struct vdev *d);
int attack_longrxchain(const struct target *t, struct vdev *d);
int attack_longtxchain(const struct target *t, struct vdev *d);

/* hostile_regs.c: needs no device. */
int attack_portflood(const struct target *t, struct vdev *d);

#endif /* TESTGUEST_HOSTILE_H */
