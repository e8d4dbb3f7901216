// SPDX-License-Identifier: MIT
/*
 * hostile: register accesses of the wrong size or at the wrong time,
 * config space writes out of range, and floods of I/O port accesses.
 */
#include "hostile.h"

typedef uint32_t u32_unaligned __attribute__((aligned(1)));

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

int attack_oddmmio(const struct target *t, struct vdev *d)
{
	if (!dev_open(t, d, 0) || !odd_writes_ignored(d) || !odd_reads_zero(d) ||
	    !normal(t, d, "after odd accesses"))
		return -1;
	printf("hostile: odd-sized and unaligned register accesses changed nothing\n");
	return 0;
}

/* Queue setup while the queue is ready, features after FEATURES_OK. */
int attack_latesetup(const struct target *t, struct vdev *d)
{
	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_QUEUE_SEL, t->q);
	/* First: "ready" again on a live queue must not set it up again. */
	vdev_write(d, VM_QUEUE_READY, 1);
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
int attack_queuestop(const struct target *t, struct vdev *d)
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

int attack_badfeatures(const struct target *t, struct vdev *d)
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

int attack_configwrite(const struct target *t, struct vdev *d)
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

int attack_portflood(const struct target *t, struct vdev *d)
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
