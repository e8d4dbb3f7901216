// SPDX-License-Identifier: MIT
/*
 * hostile: queues set up in ways the device must refuse, and
 * notifications it must not act on.
 */
#include "hostile.h"

/* --- Queue setup ---------------------------------------------------------- */

/* Queue t->q set up with size n at the rings given; it must not be ready. */
static int refused_queue(const struct target *t, struct vdev *d, uint32_t n,
			 uint64_t desc, uint64_t avail, uint64_t used)
{
	if (!negotiate(d, 0))
		return -1;
	d->vq[t->q] = (struct vq){ 0 };
	if (queue_at(d, t->q, n, desc, avail, used)) {
		printf("hostile: queue of %u at %#lx/%#lx/%#lx taken\n", n, desc,
		       avail, used);
		return -1;
	}
	printf("hostile: queue of %u at %#lx/%#lx/%#lx not ready\n", n, desc,
	       avail, used);
	return expect_needs_reset(t, d, false);
}

static int refused_size(const struct target *t, struct vdev *d, uint32_t n)
{
	struct ring_set *r = &rings[t->q];

	return refused_queue(t, d, n, (uint64_t)r->desc, (uint64_t)&r->avail,
			     (uint64_t)&r->used);
}

int attack_qsize(const struct target *t, struct vdev *d)
{
	return refused_size(t, d, 3 * VQ_SIZE / 4);
}

int attack_qsize0(const struct target *t, struct vdev *d)
{
	return refused_size(t, d, 0);
}

int attack_qsizemax(const struct target *t, struct vdev *d)
{
	uint32_t max;

	vdev_write(d, VM_QUEUE_SEL, t->q);
	max = vdev_read(d, VM_QUEUE_NUM_MAX);
	return refused_size(t, d, 2 * max);
}

/* A size whose low 16 bits are a good one. */
int attack_qsizewrap(const struct target *t, struct vdev *d)
{
	return refused_size(t, d, 0x10000 + VQ_SIZE);
}

/*
 * The same size, snapshotted (with --snapshot-on-request) between QueueNum
 * and QueueReady: the restored device holds it, and refuses it the same.
 */
int attack_snapqsize(const struct target *t, struct vdev *d)
{
	struct ring_set *r = &rings[t->q];

	if (!negotiate(d, 0))
		return -1;
	vdev_write(d, VM_QUEUE_SEL, t->q);
	vdev_write(d, VM_QUEUE_NUM, 0x10000 + VQ_SIZE);
	printf("hostile: QueueNum written, snapshot\n");
	outb(PORT_SNAPSHOT, 1);
	printf("hostile: resumed\n");
	d->vq[t->q] = (struct vq){ 0 };
	if (queue_rings(d, (uint64_t)r->desc, (uint64_t)&r->avail,
			(uint64_t)&r->used)) {
		printf("hostile: queue of %u taken\n", 0x10000 + VQ_SIZE);
		return -1;
	}
	return expect_needs_reset(t, d, false);
}

int attack_misaligned(const struct target *t, struct vdev *d)
{
	struct ring_set *r = &rings[t->q];

	return refused_queue(t, d, VQ_SIZE, (uint64_t)r->desc + 8,
			     (uint64_t)&r->avail, (uint64_t)&r->used);
}

int attack_oobring(const struct target *t, struct vdev *d)
{
	struct ring_set *r = &rings[t->q];

	return refused_queue(t, d, VQ_SIZE, (uint64_t)r->desc,
			     (3ul << 30) + 0x100000, (uint64_t)&r->used);
}

/* The used ring's last bytes past the end of RAM. */
int attack_straddlering(const struct target *t, struct vdev *d)
{
	struct ring_set *r = &rings[t->q];

	return refused_queue(t, d, VQ_SIZE, (uint64_t)r->desc,
			     (uint64_t)&r->avail, ram_top() - 256);
}

/* --- Notifications -------------------------------------------------------- */

/*
 * Before DRIVER_OK the device must not consume buffers (3.1.2): a notified
 * request waits, and is served once DRIVER_OK is set and it is notified.
 */
int attack_earlynotify(const struct target *t, struct vdev *d)
{
	struct vbuf b[4];
	uint32_t len;

	if (!negotiate(d, 0) || !queues(t, d))
		return -1;
	lay(d->vq[t->q].desc, VQ_SIZE, 0, b, t->request(b));
	submit(d, t->q, 0);
	if (wait_used(d, t->q, SETTLE_CYCLES, &len) || needs_reset(d)) {
		printf("hostile: a request notified before DRIVER_OK was %s\n",
		       needs_reset(d) ? "refused with NEEDS_RESET" : "served");
		return -1;
	}
	driver_ok(d);
	vdev_write(d, VM_QUEUE_NOTIFY, t->q);
	if (!wait_used(d, t->q, NEEDS_RESET_CYCLES, &len) || !t->check(len)) {
		printf("hostile: the early request was not served after DRIVER_OK\n");
		return -1;
	}
	printf("hostile: a request notified before DRIVER_OK waited, served after it\n");
	return 0;
}

/* Notifications of a queue that does not exist, and of the wrong width. */
int attack_badnotify(const struct target *t, struct vdev *d)
{
	uintptr_t notify = d->base + VM_QUEUE_NOTIFY;
	struct vbuf b[4];
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	lay(d->vq[t->q].desc, VQ_SIZE, 0, b, t->request(b));
	publish(d, t->q, 0);
	vdev_write(d, VM_QUEUE_NOTIFY, 7);
	vdev_write(d, VM_QUEUE_NOTIFY, 0x10000 | t->q);
	*(volatile uint16_t *)notify = t->q;
	*(volatile uint8_t *)notify = t->q;
	*(volatile uint64_t *)notify = t->q;
	if (wait_used(d, t->q, SETTLE_CYCLES, &len) || needs_reset(d)) {
		printf("hostile: a malformed notification was %s\n",
		       needs_reset(d) ? "answered with NEEDS_RESET" : "taken");
		return -1;
	}
	vdev_write(d, VM_QUEUE_NOTIFY, t->q);
	if (!wait_used(d, t->q, NEEDS_RESET_CYCLES, &len) || !t->check(len)) {
		printf("hostile: the request was not served after a good notification\n");
		return -1;
	}
	printf("hostile: malformed notifications ignored, a good one served\n");
	return 0;
}
