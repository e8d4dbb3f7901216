// SPDX-License-Identifier: MIT
/* hostile: broken descriptor chains, direct and through indirect tables. */
#include "hostile.h"

#define MAX_BUFS (VQ_SIZE + 1)

static struct vring_desc itable[2][VQ_SIZE] __attribute__((aligned(16)));

/* --- Broken chains -------------------------------------------------------- */

uint16_t lay_loop(struct vring_desc *desc)
{
	desc[0] = buf_desc((uint64_t)scratch, 16, VRING_DESC_F_NEXT, 1);
	desc[1] = buf_desc((uint64_t)scratch + 16, 16, VRING_DESC_F_NEXT, 0);
	return 0;
}

int attack_loop(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_loop);
}

/* Cut buffers into exactly want pieces, a byte at a time from the front. */
static unsigned int split(struct vbuf *b, unsigned int n, unsigned int want)
{
	for (unsigned int i = 0; n < want && i < n;) {
		if (b[i].len < 2) {
			i++;
			continue;
		}
		memmove(&b[i + 1], &b[i], (n - i) * sizeof(*b));
		b[i].len = 1;
		b[i + 1].addr = (uint8_t *)b[i + 1].addr + 1;
		b[i + 1].len--;
		n++;
		i++;
	}
	return n;
}

/*
 * A chain as long as the queue is fine (the device must serve it); one that
 * goes on past it (the last descriptor leads back to the first) is not.
 */
int attack_longchain(const struct target *t, struct vdev *d)
{
	struct vring_desc *desc;
	struct vbuf b[MAX_BUFS];
	unsigned int n;
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	desc = d->vq[t->q].desc;
	n = split(b, t->request(b), VQ_SIZE);
	lay(desc, VQ_SIZE, 0, b, n);
	submit(d, t->q, 0);
	if (n != VQ_SIZE || !wait_used(d, t->q, NEEDS_RESET_CYCLES, &len) ||
	    !t->check(len)) {
		printf("hostile: a chain of %u descriptors was not served right\n", n);
		return -1;
	}
	printf("hostile: a chain of %u descriptors (the queue size) served\n", n);
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	t->request(b);
	desc[VQ_SIZE - 1].flags |= VRING_DESC_F_NEXT;
	desc[VQ_SIZE - 1].next = 0;
	submit(d, t->q, 0);
	return expect_needs_reset(t, d, true);
}

static uint16_t lay_badnext(struct vring_desc *desc)
{
	desc[0] = buf_desc((uint64_t)scratch, 16, VRING_DESC_F_NEXT, VQ_SIZE);
	return 0;
}

int attack_badnext(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_badnext);
}

static uint16_t lay_badhead(struct vring_desc *desc)
{
	desc[0] = buf_desc((uint64_t)scratch, 16, 0, 0);
	return 0x8000;
}

int attack_badhead(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_badhead);
}

/* avail->idx runs more than a queue's worth ahead of the device. */
int attack_availjump(const struct target *t, struct vdev *d)
{
	struct vq *vq = &d->vq[t->q];

	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	vq->desc[0] = buf_desc((uint64_t)scratch, 16, 0, 0);
	vq->next_avail += VQ_SIZE;
	submit(d, t->q, 0);
	return expect_needs_reset(t, d, true);
}

static uint16_t lay_oob(struct vring_desc *desc)
{
	desc[0] = buf_desc(ram_top() + PAGE, 16, 0, 0);
	return 0;
}

int attack_oob(const struct target *t, struct vdev *d)
{
	printf("hostile: a buffer at %#lx, past the end of RAM\n", ram_top() + PAGE);
	return broken_chain(t, d, 0, lay_oob);
}

/* Across the MMIO gap where RAM goes on at 4 GiB, else across RAM's end. */
static uint64_t straddle_addr(void)
{
	if (ram_ends_at(3ul << 30) && ram_top() > (4ul << 30))
		return (3ul << 30) - 8;
	return ram_top() - 8;
}

static uint16_t lay_straddle(struct vring_desc *desc)
{
	desc[0] = buf_desc((uint64_t)scratch, 16, VRING_DESC_F_NEXT, 1);
	desc[1] = buf_desc(straddle_addr(), 16, 0, 0);
	return 0;
}

int attack_straddle(const struct target *t, struct vdev *d)
{
	printf("hostile: a buffer [%#lx, +16) across %s\n", straddle_addr(),
	       straddle_addr() == (3ul << 30) - 8 ? "the MMIO gap" : "the end of RAM");
	return broken_chain(t, d, 0, lay_straddle);
}

/* addr + len wraps around 2^64. */
static uint16_t lay_overflow(struct vring_desc *desc)
{
	desc[0] = buf_desc(0xfffffffffffff000ul, 0x2000, 0, 0);
	return 0;
}

int attack_overflow(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_overflow);
}

/* Buffers inside RAM, each fine, more than 4 GiB together (2.7.5). */
static uint32_t toolong_len(void)
{
	const struct ram_range *r = image_range();
	uint64_t len = r ? r->end - r->start : 0;

	return len > 0xfffff000ul ? 0xfffff000u : len;
}

/* That many of them make more than 4 GiB. */
static unsigned int toolong_count(void)
{
	return toolong_len() ? 0x100000000ul / toolong_len() + 1 : ~0u;
}

static uint16_t lay_toolong(struct vring_desc *desc)
{
	unsigned int n = toolong_count();

	for (unsigned int i = 0; i < n; i++)
		desc[i] = buf_desc(image_range()->start, toolong_len(),
				   i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
	return 0;
}

int attack_toolong(const struct target *t, struct vdev *d)
{
	if (toolong_count() > VQ_SIZE) {
		printf("hostile: toolong needs more RAM above 1 MiB\n");
		return -1;
	}
	return broken_chain(t, d, 0, lay_toolong);
}

/* --- Indirect descriptors ------------------------------------------------- */

#define F_INDIRECT (1ull << VIRTIO_RING_F_INDIRECT_DESC)

static uint16_t lay_nested(struct vring_desc *desc)
{
	itable[0][0] = buf_desc((uint64_t)itable[1], 16, VRING_DESC_F_INDIRECT, 0);
	itable[1][0] = buf_desc((uint64_t)scratch, 16, 0, 0);
	desc[0] = buf_desc((uint64_t)itable[0], 16, VRING_DESC_F_INDIRECT, 0);
	return 0;
}

int attack_nestedindirect(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, F_INDIRECT, lay_nested);
}

static uint16_t lay_indirect(struct vring_desc *desc)
{
	itable[0][0] = buf_desc((uint64_t)scratch, 16, 0, 0);
	desc[0] = buf_desc((uint64_t)itable[0], 16, VRING_DESC_F_INDIRECT, 0);
	return 0;
}

/* VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC agreed. */
int attack_indirectnoneg(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_indirect);
}

static uint16_t lay_indirect_next(struct vring_desc *desc)
{
	lay_indirect(desc);
	desc[0].flags |= VRING_DESC_F_NEXT;
	desc[0].next = 1;
	desc[1] = buf_desc((uint64_t)scratch, 16, 0, 0);
	return 0;
}

int attack_indirectnext(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, F_INDIRECT, lay_indirect_next);
}

static uint16_t lay_indirect_loop(struct vring_desc *desc)
{
	itable[0][0] = buf_desc((uint64_t)scratch, 16, VRING_DESC_F_NEXT, 1);
	itable[0][1] = buf_desc((uint64_t)scratch, 16, VRING_DESC_F_NEXT, 0);
	desc[0] = buf_desc((uint64_t)itable[0], 32, VRING_DESC_F_INDIRECT, 0);
	return 0;
}

int attack_indirectloop(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, F_INDIRECT, lay_indirect_loop);
}

/* A table of 40 bytes: no whole number of descriptors. */
static uint16_t lay_indirect_len(struct vring_desc *desc)
{
	lay_indirect(desc);
	desc[0].len = 40;
	return 0;
}

int attack_indirectlen(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, F_INDIRECT, lay_indirect_len);
}

/*
 * Not an attack: a normal request as one indirect table, then as a direct
 * descriptor followed by a table, which 2.7.5.3.2 says a device MUST handle.
 */
int attack_mixedindirect(const struct target *t, struct vdev *d)
{
	struct vring_desc *desc;
	struct vbuf b[MAX_BUFS];
	unsigned int n;
	uint32_t len;

	if (!dev_open(t, d, F_INDIRECT))
		return -1;
	desc = d->vq[t->q].desc;
	for (unsigned int direct = 0; direct < 2; direct++) {
		n = split(b, t->request(b), 3);
		lay(desc, VQ_SIZE, 0, b, direct);
		lay(itable[0], n - direct, 0, b + direct, n - direct);
		desc[direct] = buf_desc((uint64_t)itable[0], 16 * (n - direct),
					VRING_DESC_F_INDIRECT, 0);
		if (direct)
			desc[0].flags |= VRING_DESC_F_NEXT;
		submit(d, t->q, 0);
		if (!wait_used(d, t->q, NEEDS_RESET_CYCLES, &len) || !t->check(len)) {
			printf("hostile: %u direct descriptor(s), then a table of %u: not served (status %#x)\n",
			       direct, n - direct, status(d));
			return -1;
		}
		printf("hostile: %u direct descriptor(s), then a table of %u: served\n",
		       direct, n - direct);
	}
	return 0;
}
