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
 *
 * Here: a driver that does as it is told, what it must see after breaking
 * the rules, and the kinds. The attacks are in hostile_chain.c (broken
 * descriptor chains), hostile_queue.c (queue setup, notifications),
 * hostile_regs.c (registers, config space, ports) and hostile_device.c
 * (the devices, their normal requests, their own rules).
 */
#include "hostile.h"

#define INT_CONFIG 2

/* One set per queue, reused after every reset. */
struct ring_set rings[4] __attribute__((aligned(4096)));
uint8_t scratch[PAGE] __attribute__((aligned(4096)));

/* --- A driver that does as it is told ----------------------------------- */

uint32_t status(const struct vdev *d)
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

bool needs_reset(const void *d)
{
	return status(d) & VS_NEEDS_RESET;
}

bool reset(struct vdev *d)
{
	vdev_write(d, VM_STATUS, 0);
	if (status(d) == 0)
		return true;
	printf("hostile: status %#x after a reset\n", status(d));
	return false;
}

/* Reset, then offer VERSION_1 | wanted as the features. */
bool negotiate(struct vdev *d, uint64_t wanted)
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

void write64(const struct vdev *d, uint32_t off, uint64_t v)
{
	vdev_write(d, off, (uint32_t)v);
	vdev_write(d, off + 4, (uint32_t)(v >> 32));
}

/* The selected queue's rings, then QueueReady; true if it is ready. */
bool queue_rings(struct vdev *d, uint64_t desc, uint64_t avail, uint64_t used)
{
	write64(d, VM_QUEUE_DESC, desc);
	write64(d, VM_QUEUE_AVAIL, avail);
	write64(d, VM_QUEUE_USED, used);
	vdev_write(d, VM_QUEUE_READY, 1);
	return vdev_read(d, VM_QUEUE_READY) == 1;
}

/* Queue q of size n with rings at these addresses; true if it is ready. */
bool queue_at(struct vdev *d, unsigned int q, uint32_t n, uint64_t desc,
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

bool queues(const struct target *t, struct vdev *d)
{
	d->nr_queues = t->nr_queues;
	for (unsigned int q = 0; q < t->nr_queues; q++)
		if (!queue(d, q))
			return false;
	return true;
}

void driver_ok(struct vdev *d)
{
	vdev_write(d, VM_STATUS, VS_ACKNOWLEDGE | VS_DRIVER | VS_FEATURES_OK |
			       VS_DRIVER_OK);
}

bool dev_open(const struct target *t, struct vdev *d, uint64_t wanted)
{
	if (!negotiate(d, wanted) || !queues(t, d))
		return false;
	driver_ok(d);
	return true;
}

/* Lay n buffers out as a chain in table (of size entries) from slot first. */
void lay(struct vring_desc *table, unsigned int size, unsigned int first,
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
void publish(struct vdev *d, unsigned int q, uint16_t head)
{
	struct vq *vq = &d->vq[q];

	vq->avail->ring[vq->next_avail % vq->size] = head;
	__atomic_store_n(&vq->avail->idx, ++vq->next_avail, __ATOMIC_RELEASE);
}

/* ... and notify it. */
void submit(struct vdev *d, unsigned int q, uint16_t head)
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
bool wait_used(struct vdev *d, unsigned int q, uint64_t cycles, uint32_t *len)
{
	struct vq *vq = &d->vq[q];

	if (!delay_until(cycles, used_moved, vq))
		return false;
	*len = vq->used->ring[vq->last_used % vq->size].len;
	vq->last_used++;
	return true;
}

/* A normal request, from descriptor 0, and whether it did its work. */
bool normal(const struct target *t, struct vdev *d, const char *when)
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
int expect_needs_reset(const struct target *t, struct vdev *d, bool was_ok)
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
int broken_chain(const struct target *t, struct vdev *d, uint64_t wanted,
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

struct vring_desc buf_desc(uint64_t addr, uint32_t len, uint16_t flags,
			   uint16_t next)
{
	return (struct vring_desc){ addr, len, flags, next };
}

/* --- Guest RAM, as the boot path described it ---------------------------- */

uint64_t ram_top(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].end > top)
			top = boot_info.ram[i].end;
	return top;
}

bool ram_ends_at(uint64_t a)
{
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].end == a)
			return true;
	return false;
}

/* The RAM range holding this image: [1 MiB, ...). */
const struct ram_range *image_range(void)
{
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (boot_info.ram[i].start <= (uint64_t)scratch &&
		    (uint64_t)scratch < boot_info.ram[i].end)
			return &boot_info.ram[i];
	return NULL;
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
	{ "manypfn", attack_manypfn, "balloon" },
	{ "reportq", attack_reportq, "balloon" },
	{ "rxloop", attack_rxloop, "console" },
	{ "txwritable", attack_txwritable, "net" },
	{ "longrxchain", attack_longrxchain, "net" },
	{ "longtxchain", attack_longtxchain, "net" },
	{ "vsockbad", attack_vsockbad, "vsock" },
	{ "vsockrxshort", attack_vsockrxshort, "vsock" },
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
	for (unsigned int i = 0; i < nr_targets; i++)
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
