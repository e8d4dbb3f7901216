// SPDX-License-Identifier: MIT
/*
 * virtio-net (devices/virtio_net.c) through the real transport, on a fake
 * tap: the harness brings the device up as a driver would, then the input
 * posts receive and transmit chains, well formed or not, injects frames
 * "from the network" (with any virtio-net header), takes what the device
 * sent, removes the tap, pauses, snapshots.
 *
 * The tap is the one thing a test cannot have without privileges: the
 * device asks its host for it (devices/host.h), and this target's host
 * gives one end of a SOCK_SEQPACKET socket pair for the tap "fuzztap0" --
 * a frame per message, like a tap.
 *
 * Input: a header, then operations until the input ends.
 *   header: u8 queue size (1 << n % 9), u64 features to accept of those
 *           offered, u8 flags (bit 0: a MAC on the command line)
 *   op 0  MEM    u16 gpa, u8 len, len bytes
 *   op 1  DESC   u8 q, u8 i, u32 addr, u32 len, u16 flags, u16 next
 *   op 2  AVAIL  u8 q, u16 head                  and notify q
 *   op 3  RXBUF  u8 head, u8 n, u16 len           n writable buffers of
 *                len bytes at 0x4000 + 0x800 i, made available on queue 0
 *   op 4  TX     u8 head, u16 len, u8 split, then the frame (header
 *                included): out buffers at 0x9000, notify queue 1
 *   op 5  FRAME  u16 len, len bytes               a frame from the tap
 *   op 6  DRAIN                                   read what was sent
 *   op 7  REG    u8 register, u32 value
 *   op 8  CONFIG u8 offset, u8 size
 *   op 9  GONE                                    the tap goes away
 *   op 10 PAUSE / op 11 SNAP
 * Rings: queue q's descriptors at q * 0x2000, available ring at +0x1000,
 * used ring at +0x1400.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define RAM_SIZE (64 * 1024)
#define TAP_NAME "fuzztap0"
#define RX_GPA 0x4000ull
#define TX_GPA 0x9000ull

/* --- The fake tap -------------------------------------------------------- */

static int tap_fd = -1;		/* the device's end */
static int tap_peer = -1;	/* the network's end */

/* The device's tap: one end of a socket pair, the network the other. */
static int fake_tap_open(const char *name, struct err *e)
{
	int sv[2];

	if (strcmp(name, TAP_NAME))
		return err_set(e, ENODEV, "no tap %s here", name);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(e, errno, "socketpair: %s", strerror(errno));
	if (tap_peer >= 0)
		close(tap_peer);
	tap_fd = sv[0];
	tap_peer = sv[1];
	return tap_fd;
}

/* --- The driver ------------------------------------------------------------ */

struct net_run {
	struct vm vm;
	struct vm_config cfg;
	struct guest_mem mem;
	uint16_t qsize;
};

static struct virtio_dev *net_dev(struct net_run *r)
{
	return r->vm.virtio[0];
}

static void set_desc(struct net_run *r, unsigned int q, uint16_t i,
		     uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next % r->qsize };

	fuzz_mem_write(&r->mem, q * 0x2000ull + 16ull * (i % r->qsize),
		       (const uint8_t *)&d, sizeof(d));
}

static void avail_notify(struct net_run *r, unsigned int q, uint16_t head)
{
	fuzz_avail_notify(&r->vm, &r->mem, net_dev(r), q, q * 0x2000ull + 0x1000,
			  r->qsize, head);
}

static void rx_buffers(struct net_run *r, struct fuzz_input *in)
{
	uint16_t head = fin_u8(in), n = 1 + fin_u8(in) % 8;
	uint32_t len = fin_u16(in) % 0x800 + 1;

	for (uint16_t i = 0; i < n; i++)
		set_desc(r, 0, head + i, RX_GPA + 0x800ull * i, len,
			 VRING_DESC_F_WRITE | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			 head + i + 1);
	avail_notify(r, 0, head);
}

static void tx_frame(struct net_run *r, struct fuzz_input *in)
{
	uint16_t head = fin_u8(in), len = fin_u16(in) % 0x6000;
	uint32_t split = fin_u8(in);
	const uint8_t *bytes;
	size_t n = fin_bytes(in, len, &bytes);

	fuzz_mem_write(&r->mem, TX_GPA, bytes, n);
	split = len ? split % len : 0;
	if (!split) {
		set_desc(r, 1, head, TX_GPA, len, 0, 0);
	} else {
		set_desc(r, 1, head, TX_GPA, split, VRING_DESC_F_NEXT, head + 1);
		set_desc(r, 1, head + 1, TX_GPA + split, len - split, 0, 0);
	}
	avail_notify(r, 1, head);
}

static void tap_frame(struct fuzz_input *in)
{
	const uint8_t *bytes;
	size_t n = fin_bytes(in, fin_u16(in), &bytes);

	if (tap_peer >= 0 && send(tap_peer, bytes, n, MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN)
		FUZZ_CHECK(errno == ECONNREFUSED || errno == EPIPE, "send: %d", errno);
}

static void tap_drain(void)
{
	static uint8_t frame[128 * 1024];

	while (tap_peer >= 0 && recv(tap_peer, frame, sizeof(frame), MSG_DONTWAIT) > 0)
		;
}

static void run_op(struct net_run *r, struct fuzz_input *in)
{
	uint64_t base = net_dev(r)->base;
	const uint8_t *bytes;
	uint8_t data[8];
	uint32_t addr, len;
	uint16_t i, flags;
	unsigned int q;

	switch (fin_u8(in) % 12) {
	case 0:
		addr = fin_u16(in);
		len = fin_bytes(in, fin_u8(in), &bytes);
		fuzz_mem_write(&r->mem, addr, bytes, len);
		break;
	case 1:
		q = fin_u8(in) & 1;
		i = fin_u8(in);
		addr = fin_u32(in);
		len = fin_u32(in);
		flags = fin_u16(in);
		set_desc(r, q, i, addr, len, flags, fin_u16(in));
		break;
	case 2:
		q = fin_u8(in) & 1;
		avail_notify(r, q, fin_u16(in));
		break;
	case 3:
		rx_buffers(r, in);
		break;
	case 4:
		tx_frame(r, in);
		break;
	case 5:
		tap_frame(in);
		break;
	case 6:
		tap_drain();
		break;
	case 7:
		addr = (fin_u8(in) & 0x3f) * 4;
		fuzz_mmio_write32(&r->vm, base + addr, fin_u32(in));
		break;
	case 8:
		addr = fin_u8(in);
		fuzz_vm_mmio(&r->vm, base + VIRTIO_MMIO_CONFIG + addr, data,
			     1u << (fin_u8(in) % 4), false);
		break;
	case 9:
		if (tap_peer >= 0)
			close(tap_peer);
		tap_peer = -1;
		break;
	case 10:
		vm_pause(&r->vm);
		vm_resume(&r->vm);
		break;
	case 11:
		fuzz_vm_roundtrip(&r->vm, &r->cfg, in);
		break;
	}
	fuzz_vm_poll(&r->vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .len = size };
	static struct net_run r;
	struct fuzz_queue q[2];
	struct err e = { 0 };
	uint64_t features;

	r.qsize = 1u << (fin_u8(&in) % 9);
	features = fin_u64(&in);
	r.cfg = (struct vm_config){
		.boot.cmdline = "", .machine.nr_vcpus = 1, .dev.console = CONSOLE_NONE,
	};
	fuzz_tap_opener(fake_tap_open);
	fuzz_dev_option(&r.cfg.dev, "net", fin_u8(&in) & 1 ?
			"tap=" TAP_NAME ",mac=52:54:00:12:34:56" : "tap=" TAP_NAME);
	if (fuzz_mem_init(&r.mem, RAM_SIZE) ||
	    fuzz_vm_create(&r.vm, &r.cfg, &r.mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	for (unsigned int k = 0; k < 2; k++)
		q[k] = (struct fuzz_queue){ r.qsize, k * 0x2000ull, k * 0x2000ull + 0x1000,
					    k * 0x2000ull + 0x1400 };
	fuzz_virtio_setup(&r.vm, net_dev(&r), features, 2, q);
	while (!fin_done(&in))
		run_op(&r, &in);
	fuzz_vm_destroy(&r.vm);
	fuzz_mem_free(&r.mem);
	if (tap_peer >= 0)
		close(tap_peer);
	tap_peer = tap_fd = -1;
	return 0;
}
