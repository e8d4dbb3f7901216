// SPDX-License-Identifier: MIT
/*
 * hostile=KIND[,DEVICE]: a driver that breaks the rules on purpose, to show
 * that gmvm refuses what it must and recovers (DEVICE: rng, blk, console,
 * balloon or net; rng when left out).
 *
 * Each attack then checks what a driver can observe, as the virtio 1.2
 * spec has it: NEEDS_RESET in the status, with a configuration change
 * interrupt once DRIVER_OK was set, the broken request never used and
 * nothing served until a reset; or a request completed with an error
 * status; or a register access that changed nothing. The device is then
 * reset and must serve a normal request again. The kinds are in kinds[]
 * at the end; portflood needs no device.
 */
#include "virtio.h"

#define NEEDS_RESET_CYCLES 10000000000ull	/* a few seconds at most */
#define SETTLE_CYCLES 150000000ull		/* ~50 ms: long for the device */
#define MAX_BUFS (VQ_SIZE + 1)
#define INT_CONFIG 2
#define PAGE 4096ul

typedef uint32_t u32_unaligned __attribute__((aligned(1)));

struct ring_set {
	struct vring_desc desc[VQ_SIZE] __attribute__((aligned(4096)));
	struct vring_avail avail __attribute__((aligned(4096)));
	struct vring_used used __attribute__((aligned(4096)));
};

/* One set per queue, reused after every reset. */
static struct ring_set rings[4] __attribute__((aligned(4096)));
static struct vring_desc itable[2][VQ_SIZE] __attribute__((aligned(16)));
static uint8_t scratch[PAGE] __attribute__((aligned(4096)));

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

static uint8_t rng_buf[64];

static unsigned int rng_request(struct vbuf *b)
{
	memset(rng_buf, 0, sizeof(rng_buf));
	b[0] = (struct vbuf){ rng_buf, sizeof(rng_buf), true };
	return 1;
}

static bool rng_check(uint32_t len)
{
	for (unsigned int i = 0; i < sizeof(rng_buf); i++)
		if (rng_buf[i])
			return len == sizeof(rng_buf);
	return false;
}

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct blk_hdr blk_hdr;
static char blk_id[64];
static uint8_t blk_status;

/* GET_ID into a buffer longer than the 20 bytes of an ID. */
static unsigned int blk_request(struct vbuf *b)
{
	blk_hdr = (struct blk_hdr){ BLK_T_GET_ID, 0, 0 };
	memset(blk_id, 0, sizeof(blk_id));
	blk_status = 0xff;
	b[0] = (struct vbuf){ &blk_hdr, sizeof(blk_hdr), false };
	b[1] = (struct vbuf){ blk_id, sizeof(blk_id), true };
	b[2] = (struct vbuf){ &blk_status, 1, true };
	return 3;
}

static bool blk_check(uint32_t len)
{
	return blk_status == BLK_S_OK && len == 21 &&
	       !memcmp(blk_id, "gmvm-disk0", 11);
}

/* Bats looks for this line on stdout: it went through transmitq. */
static char hvc_text[] =
	"hostile: this line went through virtio-console, after the attack\n";

static unsigned int console_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ hvc_text, sizeof(hvc_text) - 1, false };
	return 1;
}

/* A transmitted buffer comes back with nothing written into it. */
static bool nothing_written(uint32_t len)
{
	return len == 0;
}

/* Inflate one page (16 times over): the host gives it back, it reads zero. */
static uint8_t balloon_page[PAGE] __attribute__((aligned(4096)));
static uint32_t balloon_pfns[16];

static unsigned int balloon_request(struct vbuf *b)
{
	memset(balloon_page, 0xa5, sizeof(balloon_page));
	for (unsigned int i = 0; i < 16; i++)
		balloon_pfns[i] = (uint64_t)balloon_page >> 12;
	b[0] = (struct vbuf){ balloon_pfns, sizeof(balloon_pfns), false };
	return 1;
}

static bool balloon_check(uint32_t len)
{
	for (unsigned int i = 0; i < sizeof(balloon_page); i++)
		if (*(volatile uint8_t *)&balloon_page[i])
			return false;
	return len == 0;
}

/* net: one frame on transmitq, to nobody (a local experimental EtherType). */
static uint8_t net_hdr[12];
static uint8_t net_frame[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x88, 0xb5, 'h', 'o', 's', 't', 'i', 'l', 'e',
};

static unsigned int net_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ net_hdr, sizeof(net_hdr), false };
	b[1] = (struct vbuf){ net_frame, sizeof(net_frame), false };
	return 2;
}

static const struct target targets[] = {
	{ "rng", VIRTIO_ID_RNG, 1, 0, rng_request, rng_check },
	{ "blk", VIRTIO_ID_BLOCK, 1, 0, blk_request, blk_check },
	{ "console", VIRTIO_ID_CONSOLE, 2, 1, console_request, nothing_written },
	/* No VIRTIO_BALLOON_F_REPORTING: queue 2 exists, unnegotiated. */
	{ "balloon", VIRTIO_ID_BALLOON, 3, 0, balloon_request, balloon_check },
	{ "net", VIRTIO_ID_NET, 2, 1, net_request, nothing_written },
};

/* --- A driver that does as it is told ----------------------------------- */

static uint32_t status(const struct vdev *d)
{
	return vdev_read(d, VM_STATUS);
}

static bool delay_until(uint64_t cycles, bool (*done)(const void *),
			const void *arg)
{
	for (uint64_t t = rdtsc(); rdtsc() - t < cycles;) {
		if (done(arg))
			return true;
		cpu_relax();
	}
	return done(arg);
}

static bool needs_reset(const void *d)
{
	return status(d) & VS_NEEDS_RESET;
}

static bool reset(struct vdev *d)
{
	vdev_write(d, VM_STATUS, 0);
	if (status(d) == 0)
		return true;
	printf("hostile: status %#x after a reset\n", status(d));
	return false;
}

/* Reset, then offer VERSION_1 | wanted as the features. */
static bool negotiate(struct vdev *d, uint64_t wanted)
{
	if (!reset(d))
		return false;
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE);
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER);
	d->features = wanted | (1ull << VIRTIO_F_VERSION_1);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 0);
	vdev_write(d, VM_DRIVER_FEATURES, (uint32_t)d->features);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 1);
	vdev_write(d, VM_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER | VS_FEATURES_OK);
	if (status(d) & VS_FEATURES_OK)
		return true;
	printf("hostile: features %#lx refused\n", d->features);
	return false;
}

static void write64(const struct vdev *d, uint32_t off, uint64_t v)
{
	vdev_write(d, off, (uint32_t)v);
	vdev_write(d, off + 4, (uint32_t)(v >> 32));
}

/* The selected queue's rings, then QueueReady; true if it is ready. */
static bool queue_rings(struct vdev *d, uint64_t desc, uint64_t avail,
			uint64_t used)
{
	write64(d, VM_QUEUE_DESC, desc);
	write64(d, VM_QUEUE_AVAIL, avail);
	write64(d, VM_QUEUE_USED, used);
	vdev_write(d, VM_QUEUE_READY, 1);
	return vdev_read(d, VM_QUEUE_READY) == 1;
}

/* Queue q of size n with rings at these addresses; true if it is ready. */
static bool queue_at(struct vdev *d, unsigned int q, uint32_t n, uint64_t desc,
		     uint64_t avail, uint64_t used)
{
	vdev_write(d, VM_QUEUE_SEL, q);
	vdev_write(d, VM_QUEUE_NUM, n);
	return queue_rings(d, desc, avail, used);
}

/* Queue q on its own fresh rings. */
static bool queue(struct vdev *d, unsigned int q)
{
	struct ring_set *r = &rings[q];

	memset(r, 0, sizeof(*r));
	d->vq[q] = (struct vq){ VQ_SIZE, r->desc, &r->avail, &r->used, 0, 0 };
	if (queue_at(d, q, VQ_SIZE, (uint64_t)r->desc, (uint64_t)&r->avail,
		     (uint64_t)&r->used))
		return true;
	printf("hostile: queue %u not ready (status %#x)\n", q, status(d));
	return false;
}

static bool queues(const struct target *t, struct vdev *d)
{
	d->nr_queues = t->nr_queues;
	for (unsigned int q = 0; q < t->nr_queues; q++)
		if (!queue(d, q))
			return false;
	return true;
}

static void driver_ok(struct vdev *d)
{
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER | VS_FEATURES_OK |
			       VS_DRIVER_OK);
}

static bool dev_open(const struct target *t, struct vdev *d, uint64_t wanted)
{
	if (!negotiate(d, wanted) || !queues(t, d))
		return false;
	driver_ok(d);
	return true;
}

/* Lay n buffers out as a chain in table (of size entries) from slot first. */
static void lay(struct vring_desc *table, unsigned int size, unsigned int first,
		const struct vbuf *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t slot = (first + i) % size;

		table[slot] = (struct vring_desc){
			.addr = (uint64_t)b[i].addr,
			.len = b[i].len,
			.flags = (b[i].writable ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			.next = (slot + 1) % size,
		};
	}
}

/* Make head available on queue q. */
static void publish(struct vdev *d, unsigned int q, uint16_t head)
{
	struct vq *vq = &d->vq[q];

	vq->avail->ring[vq->next_avail % vq->size] = head;
	__atomic_store_n(&vq->avail->idx, ++vq->next_avail, __ATOMIC_RELEASE);
}

/* ... and notify it. */
static void submit(struct vdev *d, unsigned int q, uint16_t head)
{
	publish(d, q, head);
	vdev_write(d, VM_QUEUE_NOTIFY, q);
}

static bool used_moved(const void *arg)
{
	const struct vq *vq = arg;

	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}

/* The next used entry within cycles; false when none came. */
static bool wait_used(struct vdev *d, unsigned int q, uint64_t cycles,
		      uint32_t *len)
{
	struct vq *vq = &d->vq[q];

	if (!delay_until(cycles, used_moved, vq))
		return false;
	*len = vq->used->ring[vq->last_used % vq->size].len;
	vq->last_used++;
	return true;
}

/* A normal request, from descriptor 0, and whether it did its work. */
static bool normal(const struct target *t, struct vdev *d, const char *when)
{
	struct vbuf b[4];
	uint32_t len;
	unsigned int n = t->request(b);

	lay(d->vq[t->q].desc, VQ_SIZE, 0, b, n);
	submit(d, t->q, 0);
	if (!wait_used(d, t->q, NEEDS_RESET_CYCLES, &len)) {
		printf("hostile: %s: a normal request was not served\n", when);
		return false;
	}
	if (!t->check(len)) {
		printf("hostile: %s: a normal request came back wrong (%u bytes)\n",
		       when, len);
		return false;
	}
	return true;
}

/* --- What a driver must see after breaking the rules --------------------- */

/*
 * NEEDS_RESET (2.1.2): set, with a configuration change interrupt when
 * DRIVER_OK was; the driver cannot clear it; the broken request is not
 * used; and the device serves nothing until it is reset: not even a valid
 * chain laid where the broken one was.
 */
static int expect_needs_reset(const struct target *t, struct vdev *d,
			      bool was_ok)
{
	struct vq *vq = &d->vq[t->q];
	uint32_t len, st;

	if (!delay_until(NEEDS_RESET_CYCLES, needs_reset, d)) {
		printf("hostile: no NEEDS_RESET: status %#x\n", status(d));
		return -1;
	}
	if (was_ok && !(vdev_read(d, VM_INTERRUPT_STATUS) & INT_CONFIG)) {
		printf("hostile: NEEDS_RESET without a configuration change interrupt\n");
		return -1;
	}
	st = status(d);
	vdev_write(d, VM_STATUS, st & ~VS_NEEDS_RESET);
	if (!needs_reset(d)) {
		printf("hostile: the driver could clear NEEDS_RESET\n");
		return -1;
	}
	if (vq->used && used_moved(vq)) {
		printf("hostile: the broken request was used\n");
		return -1;
	}
	if (was_ok) {
		struct vbuf b[4];
		unsigned int n = t->request(b);

		lay(vq->desc, VQ_SIZE, 0, b, n);
		submit(d, t->q, 0);
		if (wait_used(d, t->q, SETTLE_CYCLES, &len)) {
			printf("hostile: a request was served while the device needs a reset\n");
			return -1;
		}
	}
	printf("hostile: NEEDS_RESET (status %#x)%s, nothing used\n", st,
	       was_ok ? ", configuration interrupt" : "");
	return 0;
}

/* Open the device, lay a broken chain with lay_bad(), submit its head. */
static int broken_chain(const struct target *t, struct vdev *d, uint64_t wanted,
			uint16_t (*lay_bad)(struct vring_desc *desc))
{
	uint16_t head;

	if (!dev_open(t, d, wanted))
		return -1;
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	head = lay_bad(d->vq[t->q].desc);
	submit(d, t->q, head);
	return expect_needs_reset(t, d, true);
}

static struct vring_desc buf_desc(uint64_t addr, uint32_t len, uint16_t flags,
				  uint16_t next)
{
	return (struct vring_desc){ addr, len, flags, next };
}

/* --- Guest RAM, as the boot path described it ---------------------------- */

static uint64_t ram_top(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].end > top)
			top = boot_info.ram[i].end;
	return top;
}

static bool ram_ends_at(uint64_t a)
{
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].end == a)
			return true;
	return false;
}

/* The RAM range holding this image: [1 MiB, ...). */
static const struct ram_range *image_range(void)
{
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].start <= (uint64_t)scratch &&
		    (uint64_t)scratch < boot_info.ram[i].end)
			return &boot_info.ram[i];
	return NULL;
}

/* --- Broken chains -------------------------------------------------------- */

static uint16_t lay_loop(struct vring_desc *desc)
{
	desc[0] = buf_desc((uint64_t)scratch, 16, VRING_DESC_F_NEXT, 1);
	desc[1] = buf_desc((uint64_t)scratch + 16, 16, VRING_DESC_F_NEXT, 0);
	return 0;
}

static int attack_loop(const struct target *t, struct vdev *d)
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
static int attack_longchain(const struct target *t, struct vdev *d)
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

static int attack_badnext(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_badnext);
}

static uint16_t lay_badhead(struct vring_desc *desc)
{
	desc[0] = buf_desc((uint64_t)scratch, 16, 0, 0);
	return 0x8000;
}

static int attack_badhead(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_badhead);
}

/* avail->idx runs more than a queue's worth ahead of the device. */
static int attack_availjump(const struct target *t, struct vdev *d)
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

static int attack_oob(const struct target *t, struct vdev *d)
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

static int attack_straddle(const struct target *t, struct vdev *d)
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

static int attack_overflow(const struct target *t, struct vdev *d)
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

static int attack_toolong(const struct target *t, struct vdev *d)
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

static int attack_nestedindirect(const struct target *t, struct vdev *d)
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
static int attack_indirectnoneg(const struct target *t, struct vdev *d)
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

static int attack_indirectnext(const struct target *t, struct vdev *d)
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

static int attack_indirectloop(const struct target *t, struct vdev *d)
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

static int attack_indirectlen(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, F_INDIRECT, lay_indirect_len);
}

/*
 * Not an attack: a normal request as one indirect table, then as a direct
 * descriptor followed by a table, which 2.7.5.3.2 says a device MUST handle.
 */
static int attack_mixedindirect(const struct target *t, struct vdev *d)
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

static int attack_qsize(const struct target *t, struct vdev *d)
{
	return refused_size(t, d, 3 * VQ_SIZE / 4);
}

static int attack_qsize0(const struct target *t, struct vdev *d)
{
	return refused_size(t, d, 0);
}

static int attack_qsizemax(const struct target *t, struct vdev *d)
{
	uint32_t max;

	vdev_write(d, VM_QUEUE_SEL, t->q);
	max = vdev_read(d, VM_QUEUE_NUM_MAX);
	return refused_size(t, d, 2 * max);
}

/* A size whose low 16 bits are a good one. */
static int attack_qsizewrap(const struct target *t, struct vdev *d)
{
	return refused_size(t, d, 0x10000 + VQ_SIZE);
}

/*
 * The same size, snapshotted (with --snapshot-on-request) between QueueNum
 * and QueueReady: the restored device holds it, and refuses it the same.
 */
static int attack_snapqsize(const struct target *t, struct vdev *d)
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

static int attack_misaligned(const struct target *t, struct vdev *d)
{
	struct ring_set *r = &rings[t->q];

	return refused_queue(t, d, VQ_SIZE, (uint64_t)r->desc + 8,
			     (uint64_t)&r->avail, (uint64_t)&r->used);
}

static int attack_oobring(const struct target *t, struct vdev *d)
{
	struct ring_set *r = &rings[t->q];

	return refused_queue(t, d, VQ_SIZE, (uint64_t)r->desc,
			     (3ul << 30) + 0x100000, (uint64_t)&r->used);
}

/* The used ring's last bytes past the end of RAM. */
static int attack_straddlering(const struct target *t, struct vdev *d)
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
static int attack_earlynotify(const struct target *t, struct vdev *d)
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
static int attack_badnotify(const struct target *t, struct vdev *d)
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

/* --- Registers ------------------------------------------------------------ */

/*
 * Control registers take only aligned 32-bit accesses (4.2.2.2): anything
 * else must change nothing. A 1-byte, 2-byte, 8-byte or unaligned write of
 * 0 to Status would reset the device if it were taken.
 */
static bool odd_writes_ignored(struct vdev *d)
{
	uintptr_t s = d->base + VM_STATUS;
	uint32_t before = status(d);

	*(volatile uint8_t *)s = 0;
	*(volatile uint16_t *)s = 0;
	*(volatile uint64_t *)s = 0;
	*(volatile u32_unaligned *)(s + 1) = 0;
	*(volatile uint8_t *)(d->base + VM_QUEUE_SEL) = 3;
	*(volatile uint64_t *)(d->base + VM_QUEUE_DESC) = 0;
	/* Across the end of the window, into the next one. */
	*(volatile u32_unaligned *)(d->base + 0xffe) = 0;
	if (status(d) == before && (before & VS_DRIVER_OK))
		return true;
	printf("hostile: status %#x after odd writes, %#x before\n", status(d),
	       before);
	return false;
}

static bool odd_reads_zero(struct vdev *d)
{
	uint64_t got[4];

	got[0] = *(volatile uint8_t *)(d->base + VM_MAGIC);
	got[1] = *(volatile uint16_t *)(d->base + VM_MAGIC);
	got[2] = *(volatile uint64_t *)(d->base + VM_MAGIC);
	got[3] = *(volatile u32_unaligned *)(d->base + VM_MAGIC + 2);
	for (unsigned int i = 0; i < 4; i++) {
		if (!got[i])
			continue;
		printf("hostile: odd read %u of the magic register gave %#lx\n", i,
		       got[i]);
		return false;
	}
	return vdev_read(d, VM_MAGIC) == 0x74726976;
}

static int attack_oddmmio(const struct target *t, struct vdev *d)
{
	if (!dev_open(t, d, 0) || !odd_writes_ignored(d) || !odd_reads_zero(d) ||
	    !normal(t, d, "after odd accesses"))
		return -1;
	printf("hostile: odd-sized and unaligned register accesses changed nothing\n");
	return 0;
}

/* Queue setup while the queue is ready, features after FEATURES_OK. */
static int attack_latesetup(const struct target *t, struct vdev *d)
{
	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_QUEUE_SEL, t->q);
	vdev_write(d, VM_QUEUE_NUM, VQ_SIZE / 2);
	write64(d, VM_QUEUE_DESC, ram_top() + PAGE);
	write64(d, VM_QUEUE_USED, 0);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 0);
	vdev_write(d, VM_DRIVER_FEATURES, 0xffffffff);
	if (needs_reset(d) || !normal(t, d, "after late setup"))
		return -1;
	printf("hostile: queue setup while ready and late features ignored\n");
	return 0;
}

/*
 * Not an attack: "to stop using the queue the driver MUST write zero (0x0)
 * to QueueReady and MUST read the value back" (4.2.2.2), as Linux does when
 * it deletes a queue. A stopped queue serves nothing; set up again on the
 * same rings, it serves what waited.
 */
static int attack_queuestop(const struct target *t, struct vdev *d)
{
	struct ring_set *r = &rings[t->q];
	struct vbuf b[4];
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_QUEUE_SEL, t->q);
	vdev_write(d, VM_QUEUE_READY, 0);
	if (vdev_read(d, VM_QUEUE_READY)) {
		printf("hostile: QueueReady reads 1 after the driver wrote 0\n");
		return -1;
	}
	lay(d->vq[t->q].desc, VQ_SIZE, 0, b, t->request(b));
	submit(d, t->q, 0);
	if (wait_used(d, t->q, SETTLE_CYCLES, &len) || needs_reset(d)) {
		printf("hostile: a stopped queue %s\n",
		       needs_reset(d) ? "made the device need a reset" : "served a request");
		return -1;
	}
	if (!queue_at(d, t->q, VQ_SIZE, (uint64_t)r->desc, (uint64_t)&r->avail,
		      (uint64_t)&r->used))
		return -1;
	vdev_write(d, VM_QUEUE_NOTIFY, t->q);
	if (!wait_used(d, t->q, NEEDS_RESET_CYCLES, &len) || !t->check(len)) {
		printf("hostile: the queue set up again did not serve the request\n");
		return -1;
	}
	printf("hostile: a stopped queue served nothing, set up again it served\n");
	return 0;
}

/* Features not offered, or without VERSION_1: FEATURES_OK does not stick. */
static bool features_refused(struct vdev *d, uint64_t f)
{
	reset(d);
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 0);
	vdev_write(d, VM_DRIVER_FEATURES, (uint32_t)f);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 1);
	vdev_write(d, VM_DRIVER_FEATURES, (uint32_t)(f >> 32));
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER | VS_FEATURES_OK);
	if (status(d) & VS_FEATURES_OK) {
		printf("hostile: features %#lx accepted\n", f);
		return false;
	}
	driver_ok(d);
	if (status(d) & VS_DRIVER_OK) {
		printf("hostile: DRIVER_OK taken without FEATURES_OK\n");
		return false;
	}
	return true;
}

static int attack_badfeatures(const struct target *t, struct vdev *d)
{
	(void)t;
	if (!features_refused(d, (1ull << VIRTIO_F_VERSION_1) | (1ull << 40)) ||
	    !features_refused(d, 0) || !features_refused(d, ~0ull))
		return -1;
	printf("hostile: unoffered features and features without VERSION_1 refused\n");
	return 0;
}

/* Its first 8 bytes: capacity, cols to max_nr_ports, the MAC and status. */
static uint64_t config_head(const struct vdev *d)
{
	return vdev_read(d, VM_CONFIG) | (uint64_t)vdev_read(d, VM_CONFIG + 4) << 32;
}

/* Config space: out of range, straddling its end, read-only fields. */
static bool config_unchanged(const struct target *t, struct vdev *d,
			     uint64_t head)
{
	uintptr_t c = d->base + VM_CONFIG;

	if (t->device_id == VIRTIO_ID_BALLOON) {
		/* A read across the end gives nothing, not what lies beyond. */
		if (*(volatile uint64_t *)(c + 4))
			return false;
		/* actual is the driver's to write, also 2 bytes of it. */
		*(volatile uint16_t *)(c + 6) = 0xbeef;
		return vdev_read(d, VM_CONFIG + 4) == 0xbeef1234;
	}
	return config_head(d) == head;
}

static void config_attack(const struct target *t, struct vdev *d)
{
	uintptr_t c = d->base + VM_CONFIG;

	if (t->device_id == VIRTIO_ID_BALLOON) {
		vdev_write(d, VM_CONFIG + 4, 0x1234);
		/* From actual's upper half on past the end of config space. */
		*(volatile u32_unaligned *)(c + 6) = 0xffffffff;
		*(volatile uint64_t *)(c + 4) = ~0ull;
	}
	/* Read-only for the driver: capacity, cols and rows, the MAC. */
	vdev_write(d, VM_CONFIG, 0xffffffff);
	*(volatile uint64_t *)(d->base + 0xff8) = ~0ull;
	*(volatile uint8_t *)(d->base + 0xfff) = 0xff;
}

static int attack_configwrite(const struct target *t, struct vdev *d)
{
	uint64_t head;

	if (!dev_open(t, d, 0))
		return -1;
	/* Past any config space: the line gmvm logs (once) is about this. */
	vdev_write(d, VM_CONFIG + 0x200, 0xffffffff);
	head = config_head(d);
	config_attack(t, d);
	if (vdev_read(d, VM_CONFIG + 0x200) ||
	    *(volatile uint64_t *)(d->base + 0xff8)) {
		printf("hostile: config space past its end reads non-zero\n");
		return -1;
	}
	if (!config_unchanged(t, d, head)) {
		printf("hostile: config space changed by writes out of range\n");
		return -1;
	}
	if (needs_reset(d) || !normal(t, d, "after config writes"))
		return -1;
	printf("hostile: config writes out of range ignored, reads past the end zero\n");
	return 0;
}

/* --- One device's own rules ------------------------------------------------ */

/* blk: one request with header h and data of len bytes; its status. */
static int blk_try(struct vdev *d, struct blk_hdr h, uint32_t hdr_len,
		   uint32_t len, bool with_status, uint32_t *used)
{
	struct vbuf b[3];
	unsigned int n = 0;

	blk_hdr = h;
	blk_status = 0xff;
	b[n++] = (struct vbuf){ &blk_hdr, hdr_len, false };
	if (len)
		b[n++] = (struct vbuf){ scratch, len, h.type != BLK_T_OUT };
	if (with_status)
		b[n++] = (struct vbuf){ &blk_status, 1, true };
	lay(d->vq[0].desc, VQ_SIZE, 0, b, n);
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, used))
		return -1;
	return blk_status;
}

/*
 * Requests a disk must refuse with an error status (5.2.6): sectors past
 * the end (also where sector + count wraps), lengths that are no multiple
 * of a sector, short headers, unknown types. One without a status byte
 * has nothing written: its used length must be 0 (2.7.8.2).
 */
static int attack_blkbad(const struct target *t, struct vdev *d)
{
	static const struct {
		struct blk_hdr h;
		uint32_t hdr_len, len;
		int want;
	} cases[] = {
		{ { BLK_T_IN, 0, ~0ull }, 16, 512, BLK_S_IOERR },
		{ { BLK_T_IN, 0, 2047 }, 16, 1024, BLK_S_IOERR },
		{ { BLK_T_OUT, 0, 1ull << 55 }, 16, 512, BLK_S_IOERR },
		{ { BLK_T_OUT, 0, 0 }, 16, 100, BLK_S_IOERR },
		{ { BLK_T_IN, 0, 0 }, 8, 512, BLK_S_IOERR },
		{ { 0x1234, 0, 0 }, 16, 0, BLK_S_UNSUPP },
	};
	uint32_t used;
	int st;

	if (!dev_open(t, d, 0))
		return -1;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = blk_try(d, cases[i].h, cases[i].hdr_len, cases[i].len, true, &used);
		if (st != cases[i].want || used != 1) {
			printf("hostile: blk case %u: status %d, used %u\n", i, st, used);
			return -1;
		}
	}
	st = blk_try(d, (struct blk_hdr){ BLK_T_OUT, 0, 0 }, 16, 512, false, &used);
	if (st != 0xff || used) {
		printf("hostile: blk without a status byte: %d, used %u\n", st, used);
		return -1;
	}
	printf("hostile: bad block requests refused with an error status\n");
	return needs_reset(d) ? -1 : 0;
}

/* balloon: frames outside RAM are skipped, the request completes. */
static int attack_pfn(const struct target *t, struct vdev *d)
{
	struct vbuf b = { balloon_pfns, 4 * sizeof(balloon_pfns[0]), false };
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	balloon_pfns[0] = ram_top() >> 12;
	balloon_pfns[1] = (3ul << 30) >> 12;
	balloon_pfns[2] = 0xffffffff;
	balloon_pfns[3] = 0xfee00;
	lay(d->vq[0].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, &len) || needs_reset(d)) {
		printf("hostile: frames outside RAM: request not completed\n");
		return -1;
	}
	printf("hostile: frames outside RAM skipped, the request completed\n");
	return normal(t, d, "after bad frames") ? 0 : -1;
}

/* balloon: reporting_vq used though VIRTIO_BALLOON_F_REPORTING was not agreed. */
static int attack_reportq(const struct target *t, struct vdev *d)
{
	struct vbuf b = { scratch, PAGE, true };

	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	lay(d->vq[2].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 2, 0);
	return expect_needs_reset(&(struct target){ .q = 2,
		.request = t->request }, d, true);
}

/*
 * console: a receive chain that loops, found when input comes (from the
 * console's input path, not a notification). The input is held through
 * the reset and arrives once there is a good buffer.
 */
static char rx_buf[16];

static unsigned int rx_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ rx_buf, sizeof(rx_buf), true };
	return 1;
}

static int attack_rxloop(const struct target *t, struct vdev *d)
{
	const struct target rx = { .q = 0, .request = rx_request };
	struct vbuf b;
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	submit(d, 0, lay_loop(d->vq[0].desc));
	if (expect_needs_reset(&rx, d, true) || !dev_open(t, d, 0))
		return -1;
	memset(rx_buf, 0, sizeof(rx_buf));
	lay(d->vq[0].desc, VQ_SIZE, 0, &b, rx_request(&b));
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, &len) || !len ||
	    len > sizeof(rx_buf)) {
		printf("hostile: no input after the reset\n");
		return -1;
	}
	printf("hostile: input after the reset: \"%.*s\"\n", (int)len, rx_buf);
	return 0;
}

/* net: a frame to transmit in a buffer the device may write. */
static uint16_t lay_tx_writable(struct vring_desc *desc)
{
	struct vbuf b[2];

	net_request(b);
	b[1].writable = true;
	lay(desc, VQ_SIZE, 0, b, 2);
	return 0;
}

static int attack_txwritable(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_tx_writable);
}

/* --- Ports ------------------------------------------------------------------ */

static void rep_outsb(uint16_t port, const void *src, uint64_t n)
{
	__asm__ volatile("rep outsb" : "+S"(src), "+c"(n) : "d"(port) : "memory");
}

static void rep_insb(uint16_t port, void *dst, uint64_t n)
{
	__asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define FLOOD 4096		/* bytes to the UART */
#define FLOOD_PORT 1024		/* writes to each other port */
#define PORT_I8042_DATA 0x60
#define UART_SCR (PORT_COM1 + 7)

/* Ports nothing claims: writes vanish, reads float high. */
static bool flood_unclaimed(void)
{
	static const uint16_t ports[] = { 0x80, 0x2f8, 0x3e8, 0xcf8, 0x1234, 0xfff0 };
	uint32_t all = 0xffffffff;

	for (unsigned int i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		for (unsigned int n = 0; n < FLOOD_PORT; n++) {
			outb(ports[i], n);
			outl(ports[i] & ~3, n);
			all &= inb(ports[i]) | 0xffffff00u;
		}
		all &= inl(ports[i] & ~3);
	}
	memset(scratch, 0xa5, PAGE);
	rep_outsb(0x80, scratch, PAGE);
	memset(scratch, 0, PAGE);
	rep_insb(0x80, scratch, PAGE);
	for (unsigned int i = 0; i < PAGE; i++)
		all &= scratch[i] | 0xffffff00u;
	return all == 0xffffffff;
}

/* The i8042: data bytes for no command, status reads. */
static bool flood_i8042(void)
{
	uint8_t st = 0;

	for (unsigned int n = 0; n < FLOOD_PORT; n++) {
		outb(PORT_I8042_DATA, n);
		st |= inb(PORT_I8042_CMD);
		inb(PORT_I8042_DATA);
	}
	return st != 0xff;
}

/* The UART: a flood of output, wide writes, its scratch register. */
static bool flood_uart(void)
{
	memset(scratch, '.', FLOOD);
	for (unsigned int n = 0; n < FLOOD; n++)
		outb(PORT_COM1, '#');
	rep_outsb(PORT_COM1, scratch, FLOOD);
	outl(PORT_COM1, 0xffffff00 | '\n');
	/* Straddles the end of the UART's ports: nobody's. */
	outw(UART_SCR, 0xffff);
	/* Not 0xff in the end: that is what a port nobody claims reads. */
	for (unsigned int n = 0; n < FLOOD; n++)
		outb(UART_SCR, n * 7);
	return inb(UART_SCR) == (uint8_t)((FLOOD - 1) * 7);
}

static int attack_portflood(const struct target *t, struct vdev *d)
{
	(void)t;
	(void)d;
	printf("hostile: flooding ports\n");
	if (!flood_uart() || !flood_i8042() || !flood_unclaimed()) {
		printf("hostile: a port read back wrong\n");
		return -1;
	}
	printf("hostile: %u bytes to the UART, %u writes to each of 6 unclaimed ports, %u to the i8042\n",
	       2 * FLOOD, 2 * FLOOD_PORT, FLOOD_PORT);
	return 0;
}

/* --- The workload ----------------------------------------------------------- */

struct kind {
	const char *name;
	int (*run)(const struct target *t, struct vdev *d);
	const char *only;		/* the one device it is for; "" none */
};

static const struct kind kinds[] = {
	{ "loop", attack_loop, NULL },
	{ "longchain", attack_longchain, NULL },
	{ "badnext", attack_badnext, NULL },
	{ "badhead", attack_badhead, NULL },
	{ "availjump", attack_availjump, NULL },
	{ "oob", attack_oob, NULL },
	{ "straddle", attack_straddle, NULL },
	{ "overflow", attack_overflow, NULL },
	{ "toolong", attack_toolong, NULL },
	{ "nestedindirect", attack_nestedindirect, NULL },
	{ "indirectnoneg", attack_indirectnoneg, NULL },
	{ "indirectnext", attack_indirectnext, NULL },
	{ "indirectloop", attack_indirectloop, NULL },
	{ "indirectlen", attack_indirectlen, NULL },
	{ "mixedindirect", attack_mixedindirect, NULL },
	{ "qsize", attack_qsize, NULL },
	{ "qsize0", attack_qsize0, NULL },
	{ "qsizemax", attack_qsizemax, NULL },
	{ "qsizewrap", attack_qsizewrap, NULL },
	{ "snapqsize", attack_snapqsize, NULL },
	{ "misaligned", attack_misaligned, NULL },
	{ "oobring", attack_oobring, NULL },
	{ "straddlering", attack_straddlering, NULL },
	{ "earlynotify", attack_earlynotify, NULL },
	{ "badnotify", attack_badnotify, NULL },
	{ "oddmmio", attack_oddmmio, NULL },
	{ "latesetup", attack_latesetup, NULL },
	{ "queuestop", attack_queuestop, NULL },
	{ "badfeatures", attack_badfeatures, NULL },
	{ "configwrite", attack_configwrite, NULL },
	{ "blkbad", attack_blkbad, "blk" },
	{ "pfn", attack_pfn, "balloon" },
	{ "reportq", attack_reportq, "balloon" },
	{ "rxloop", attack_rxloop, "console" },
	{ "txwritable", attack_txwritable, "net" },
	{ "portflood", attack_portflood, "" },
};

static bool word_is(const char *w, size_t len, const char *name)
{
	return strlen(name) == len && !strncmp(w, name, len);
}

static const struct kind *find_kind(const char *w, size_t len)
{
	for (unsigned int i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (word_is(w, len, kinds[i].name))
			return &kinds[i];
	return NULL;
}

static const struct target *find_target(const char *w, size_t len)
{
	for (unsigned int i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (word_is(w, len, targets[i].name))
			return &targets[i];
	return NULL;
}

static __attribute__((noreturn)) void usage(void)
{
	printf("hostile: needs KIND[,DEVICE]: DEVICE rng, blk, console, balloon or net\n");
	guest_exit(EXIT_BAD_CMDLINE);
}

/* After the attack: a reset, and the device must work as new. */
static int recover(const struct target *t, struct vdev *d)
{
	if (!dev_open(t, d, 0) || !normal(t, d, "after a reset"))
		return -1;
	printf("hostile: reset, then a normal request served\n");
	return 0;
}

int workload_hostile(const char *arg, size_t len)
{
	size_t kl = 0;
	const struct kind *k;
	const struct target *t = &targets[0];
	struct vdev d;

	while (arg && kl < len && arg[kl] != ',')
		kl++;
	k = arg ? find_kind(arg, kl) : NULL;
	if (kl < len)
		t = find_target(arg + kl + 1, len - kl - 1);
	if (!k || !t || (k->only && *k->only && strncmp(k->only, t->name, 16)))
		usage();
	if (k->only && !*k->only)
		return k->run(NULL, NULL);
	if (!virtio_find(t->device_id, 0, &d)) {
		printf("hostile: no virtio %s device\n", t->name);
		return -1;
	}
	printf("hostile: %s on %s\n", k->name, t->name);
	if (k->run(t, &d) || recover(t, &d))
		return -1;
	printf("hostile: %s on %s: ok\n", k->name, t->name);
	return 0;
}
