// SPDX-License-Identifier: MIT
/*
 * hostile: the devices it attacks, a normal request for each, and attacks
 * on one device's own rules.
 */
#include "hostile.h"

/* --- The devices, and what a normal request is for each ------------------ */

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

/*
 * vsock: a request to connect to host port 1, where nothing listens (gmvm
 * answers RST on receiveq, which the generic attacks leave without
 * buffers: the answer waits there, bounded).
 */
#define VSOCK_HDR 44
#define VSOCK_OP_REQUEST 1
#define VSOCK_OP_RST 3
#define VSOCK_OP_RW 5

struct vsock_pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
	uint8_t data[64];
} __attribute__((packed));

static struct vsock_pkt vsock_tx;

static struct vsock_pkt vsock_packet(uint32_t src_port, uint16_t op)
{
	return (struct vsock_pkt){ .src_cid = 3, .dst_cid = 2, .src_port = src_port,
				   .dst_port = 1, .type = 1, .op = op,
				   .buf_alloc = 4096 };
}

static unsigned int vsock_request(struct vbuf *b)
{
	vsock_tx = vsock_packet(1000, VSOCK_OP_REQUEST);
	b[0] = (struct vbuf){ &vsock_tx, VSOCK_HDR, false };
	return 1;
}

const struct target targets[] = {
	{ "rng", VIRTIO_ID_RNG, 1, 0, rng_request, rng_check },
	{ "blk", VIRTIO_ID_BLOCK, 1, 0, blk_request, blk_check },
	{ "console", VIRTIO_ID_CONSOLE, 2, 1, console_request, nothing_written },
	/* No VIRTIO_BALLOON_F_REPORTING: queue 2 exists, unnegotiated. */
	{ "balloon", VIRTIO_ID_BALLOON, 3, 0, balloon_request, balloon_check },
	{ "net", VIRTIO_ID_NET, 2, 1, net_request, nothing_written },
	{ "vsock", 19, 3, 1, vsock_request, nothing_written },
};

const unsigned int nr_targets =
	sizeof(targets) / sizeof(targets[0]);

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
int attack_blkbad(const struct target *t, struct vdev *d)
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
int attack_pfn(const struct target *t, struct vdev *d)
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

/*
 * balloon: one request of more frames than Linux ever sends (gmvm takes
 * 1024): the first 1024 name page a, the rest page b. Page a comes back
 * zero, page b keeps its contents: the frames past the cap were not taken.
 */
#define MANY_PFNS 1100
static uint8_t many_page[2][PAGE] __attribute__((aligned(4096)));
static uint32_t many_pfns[MANY_PFNS];

int attack_manypfn(const struct target *t, struct vdev *d)
{
	struct vbuf b = { many_pfns, sizeof(many_pfns), false };
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	memset(many_page, 0xa5, sizeof(many_page));
	for (unsigned int i = 0; i < MANY_PFNS; i++)
		many_pfns[i] = (uint64_t)many_page[i >= 1024] >> 12;
	lay(d->vq[0].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 0, 0);
	if (!wait_used(d, 0, NEEDS_RESET_CYCLES, &len) || needs_reset(d)) {
		printf("hostile: %u frames: request not completed\n", MANY_PFNS);
		return -1;
	}
	for (unsigned int i = 0; i < PAGE; i++) {
		if (*(volatile uint8_t *)&many_page[0][i] ||
		    *(volatile uint8_t *)&many_page[1][i] != 0xa5) {
			printf("hostile: %u frames: page a byte %u is %#x, page b %#x\n",
			       MANY_PFNS, i, many_page[0][i], many_page[1][i]);
			return -1;
		}
	}
	printf("hostile: %u frames: the first 1024 given back, the rest left\n",
	       MANY_PFNS);
	return normal(t, d, "after a long request") ? 0 : -1;
}

/* balloon: reporting_vq used though VIRTIO_BALLOON_F_REPORTING was not agreed. */
int attack_reportq(const struct target *t, struct vdev *d)
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

int attack_rxloop(const struct target *t, struct vdev *d)
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

/* --- virtio-vsock: packets that break its rules -------------------------- */

#define VSOCK_RX_BUFS 16

static struct vsock_pkt vsock_rx[VSOCK_RX_BUFS];

/* Send one packet of out bytes from transmitq's descriptor 0: used, empty. */
static bool vsock_send(struct vdev *d, const struct vsock_pkt *p, uint32_t out)
{
	struct vbuf b = { &vsock_tx, out, false };
	uint32_t len;

	vsock_tx = *p;
	lay(d->vq[1].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 1, 0);
	return wait_used(d, 1, NEEDS_RESET_CYCLES, &len) && !len;
}

/*
 * Bad packets: those with the wrong addresses (or no whole header) are
 * dropped, every other one is answered with an RST for its ports, and the
 * device never needs a reset. The answers are counted on receiveq.
 */
int attack_vsockbad(const struct target *t, struct vdev *d)
{
	static const struct {
		const char *what;
		uint32_t src_port;
		uint64_t src_cid, dst_cid;
		uint16_t type, op;
		uint32_t len, out;	/* header's length; bytes sent */
		bool rst;
	} cases[] = {
		{ "a short header", 2001, 3, 2, 1, VSOCK_OP_REQUEST, 0, 20, false },
		{ "another guest's CID", 2002, 7, 2, 1, VSOCK_OP_REQUEST, 0, VSOCK_HDR, false },
		{ "not to the host", 2003, 3, 5, 1, VSOCK_OP_REQUEST, 0, VSOCK_HDR, false },
		{ "a length past the packet", 2004, 3, 2, 1, VSOCK_OP_RW, 1000, VSOCK_HDR + 8, true },
		{ "a seqpacket request", 2005, 3, 2, 2, VSOCK_OP_REQUEST, 0, VSOCK_HDR, true },
		{ "an unknown operation", 2006, 3, 2, 1, 99, 0, VSOCK_HDR, true },
		{ "data for no connection", 2007, 3, 2, 1, VSOCK_OP_RW, 8, VSOCK_HDR + 8, true },
		{ "more than 64 KiB", 2008, 3, 2, 1, VSOCK_OP_RW, 70000, VSOCK_HDR + 64, true },
		{ "operation 0", 2009, 3, 2, 1, 0, 0, VSOCK_HDR, true },
		{ "an RST for no connection", 2010, 3, 2, 1, VSOCK_OP_RST, 0, VSOCK_HDR, false },
		{ "a length on a request", 2011, 3, 2, 1, VSOCK_OP_REQUEST, 8, VSOCK_HDR + 8, true },
	};
	unsigned int want = 0, got = 0;
	uint32_t len;

	if (!dev_open(t, d, 0))
		return -1;
	for (unsigned int i = 0; i < VSOCK_RX_BUFS; i++) {
		struct vbuf b = { &vsock_rx[i], sizeof(vsock_rx[i]), true };

		lay(d->vq[0].desc, VQ_SIZE, i, &b, 1);
		publish(d, 0, i);
	}
	vdev_write(d, VM_QUEUE_NOTIFY, 0);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vsock_pkt p = vsock_packet(cases[i].src_port, cases[i].op);

		p.src_cid = cases[i].src_cid;
		p.dst_cid = cases[i].dst_cid;
		p.type = cases[i].type;
		p.len = cases[i].len;
		if (!vsock_send(d, &p, cases[i].out)) {
			printf("hostile: vsock: %s: not used as a packet\n", cases[i].what);
			return -1;
		}
		want += cases[i].rst;
	}
	while (wait_used(d, 0, SETTLE_CYCLES * 4, &len)) {
		struct vq *vq = &d->vq[0];
		uint32_t id = vq->used->ring[(uint16_t)(vq->last_used - 1) % VQ_SIZE].id;
		const struct vsock_pkt *r = &vsock_rx[id % VSOCK_RX_BUFS];
		bool expected = id < VSOCK_RX_BUFS;

		for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			expected |= cases[i].rst && r->dst_port == cases[i].src_port;
		if (len != VSOCK_HDR || r->op != VSOCK_OP_RST || r->src_cid != 2 ||
		    r->dst_cid != 3 || r->src_port != 1 || !expected) {
			printf("hostile: vsock: answer %u: op %u, %u bytes, ports %u to %u\n",
			       got, r->op, len, r->src_port, r->dst_port);
			return -1;
		}
		got++;
	}
	if (got != want || needs_reset(d)) {
		printf("hostile: vsock: %u RSTs for %u bad packets%s\n", got, want,
		       needs_reset(d) ? ", and NEEDS_RESET" : "");
		return -1;
	}
	printf("hostile: vsock: %u bad packets answered with RST, the others dropped\n", got);
	return normal(t, d, "after bad packets") ? 0 : -1;
}

/* vsock: a receive buffer with no room past a packet header. */
static unsigned int vsock_rx_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ &vsock_rx[0], sizeof(vsock_rx[0]), true };
	return 1;
}

int attack_vsockrxshort(const struct target *t, struct vdev *d)
{
	struct vbuf b = { &vsock_rx[0], VSOCK_HDR, true };

	if (!dev_open(t, d, 0))
		return -1;
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	/* Something to deliver first: the RST answering a request. */
	if (!normal(t, d, "before the short buffer"))
		return -1;
	lay(d->vq[0].desc, VQ_SIZE, 0, &b, 1);
	submit(d, 0, 0);
	return expect_needs_reset(&(struct target){ .q = 0, .request = vsock_rx_request },
				  d, true);
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

int attack_txwritable(const struct target *t, struct vdev *d)
{
	return broken_chain(t, d, 0, lay_tx_writable);
}

/* --- virtio-net: chains of more buffers than readv()/writev() take -------- */

/*
 * gmvm moves a frame with one readv() or writev() on the tap: an iovec for
 * the virtio-net header's copy, one per buffer holding frame bytes (those
 * after the 12-byte header), and on receive one overflow byte, at most
 * IOV_MAX (1024) in all. Its chains can be longer: through an indirect
 * table it takes up to 1024 buffers, whatever the queue size (virtio 1.2,
 * 2.7.5.3.1, forbids a driver chains longer than the queue; gmvm does not
 * hold it to that). It refuses a receive chain of more than 1022 frame
 * buffers (NEEDS_RESET, the driver's fault: the link stays up) and drops a
 * frame to transmit in more than 1023 (logged once, the chain used, the
 * device carries on).
 *
 * The frames: hostile.bats puts the tap in a namespace of the test's own,
 * with host_ip on it and its MAC set to host_mac, and makes the guest's
 * MAC (given with mac=) a permanent neighbour of guest_ip; for
 * longrxchain it sends UDP datagrams of UDP_RECORDS records "0000."
 * "0001." ... to guest_ip port 9 every 50 ms. Anything else that comes
 * (IPv6 chatter) is ignored.
 */
#define NET_RXQ 0
#define NET_TXQ 1
#define NET_HDR 12		/* virtio_net_hdr_v1 */
#define NET_RX_BUFS 4
#define NET_RX_LEN 2048
#define ETH_HDR 14
#define ETH_P_IP 0x0800
#define IP_HDR 20
#define UDP_HDR 8
#define ICMP_HDR 8
#define UDP_PORT 9
#define UDP_RECORDS 196
#define UDP_FRAME (ETH_HDR + IP_HDR + UDP_HDR + 5 * UDP_RECORDS)	/* 1022 */
#define PING_ID 0x4c43
#define LONG_BUFS 1024		/* gmvm's VIRTQ_MAX_CHAIN: a table's most */
#define FRAMES_IGNORED 64	/* other frames tolerated while waiting */
#define F_INDIRECT_DESC (1ull << VIRTIO_RING_F_INDIRECT_DESC)

static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t host_ip[4] = { 10, 0, 2, 2 };
static const uint8_t guest_ip[4] = { 10, 0, 2, 15 };
static uint8_t guest_mac[6];

static uint8_t net_rx_buf[NET_RX_BUFS][NET_RX_LEN] __attribute__((aligned(64)));
/* A header and a frame laid flat: what goes into a long chain, or came out. */
static uint8_t flat[NET_HDR + 2048];

/*
 * The long chain: an indirect table whose first buffer, long_head, holds
 * the header (and, when first_len is 13, the frame's first byte), then a
 * byte per buffer, laid out in memory in the reverse of the chain's order:
 * the frame comes out right only if the device follows the chain.
 */
static struct vring_desc long_table[LONG_BUFS] __attribute__((aligned(16)));
static uint8_t long_head[NET_HDR + 1];
static uint8_t long_pool[LONG_BUFS];

/* n buffers, the first of first_len bytes; the chain's length in bytes. */
static uint32_t lay_long(unsigned int n, uint32_t first_len, bool writable)
{
	for (unsigned int i = 0; i < n; i++)
		long_table[i] = (struct vring_desc){
			.addr = i ? (uint64_t)&long_pool[n - 1 - i] : (uint64_t)long_head,
			.len = i ? 1 : first_len,
			.flags = (writable ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			.next = i + 1,
		};
	return first_len + n - 1;
}

/* Copy the first len bytes of the chain of n buffers to flat, or back. */
static void long_copy(unsigned int n, uint32_t len, bool to_chain)
{
	uint32_t off = 0;

	for (unsigned int i = 0; i < n && off < len; i++) {
		uint8_t *p = (uint8_t *)long_table[i].addr;
		uint32_t take = long_table[i].len;

		if (take > len - off)
			take = len - off;
		if (to_chain)
			memcpy(p, flat + off, take);
		else
			memcpy(flat + off, p, take);
		off += take;
	}
}

/* Queue q's descriptor 0: the long chain of n buffers, as one table. */
static void submit_long(struct vdev *d, unsigned int q, unsigned int n)
{
	d->vq[q].desc[0] = buf_desc((uint64_t)long_table, 16 * n,
				    VRING_DESC_F_INDIRECT, 0);
	submit(d, q, 0);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* The Internet checksum's running sum, and its folded complement. */
static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void read_mac(const struct vdev *d)
{
	uint32_t lo = vdev_read(d, VM_CONFIG), hi = vdev_read(d, VM_CONFIG + 4);

	memcpy(guest_mac, &lo, 4);
	memcpy(guest_mac + 4, &hi, 2);
}

/* VIRTIO_NET_S_LINK_UP in the config's status, after the MAC. */
static bool link_up(const struct vdev *d)
{
	return (vdev_read(d, VM_CONFIG + 4) >> 16) & 1;
}

/* A received header: no offloads, one buffer (no MRG_RXBUF: num_buffers 1). */
static bool rx_hdr_ok(const uint8_t *h)
{
	if (h[0] || h[1] || h[10] != 1 || h[11]) {
		printf("hostile: a received header says flags %#x, gso %#x, num_buffers %u\n",
		       h[0], h[1], h[10] | h[11] << 8);
		return false;
	}
	return true;
}

/* A frame check: 1 the frame looked for, intact; 0 another; -1 wrong. */
typedef int (*frame_check)(const uint8_t *f, uint32_t len, uint16_t want);

/* An IPv4 header from src to dst carrying proto, for a frame of len bytes. */
static bool ip_ok(const uint8_t *ip, uint32_t len, uint8_t proto,
		  const uint8_t *src, const uint8_t *dst)
{
	return ip[0] == 0x45 && get16(ip + 2) == len - ETH_HDR && ip[9] == proto &&
	       !csum_fold(sum16(ip, IP_HDR, 0)) && !memcmp(ip + 12, src, 4) &&
	       !memcmp(ip + 16, dst, 4);
}

/* The host's datagram to port 9, every byte as it was sent. */
static int udp_check(const uint8_t *f, uint32_t len, uint16_t want)
{
	const uint8_t *ip = f + ETH_HDR, *udp = ip + IP_HDR, *rec = udp + UDP_HDR;
	uint32_t sum;

	(void)want;
	if (len < ETH_HDR + IP_HDR || get16(f + 12) != ETH_P_IP || ip[9] != 17)
		return 0;
	if (len != UDP_FRAME || memcmp(f, guest_mac, 6) ||
	    !ip_ok(ip, len, 17, host_ip, guest_ip) || get16(udp + 2) != UDP_PORT ||
	    get16(udp + 4) != len - ETH_HDR - IP_HDR) {
		printf("hostile: a UDP frame of %u bytes, not the %u the host sent, or its headers are wrong\n",
		       len, UDP_FRAME);
		return -1;
	}
	/* The pseudo-header, then the datagram; a checksum of 0 is none. */
	sum = sum16(ip + 12, 8, 17 + get16(udp + 4));
	if (get16(udp + 6) && csum_fold(sum16(udp, get16(udp + 4), sum))) {
		printf("hostile: the UDP checksum of a received frame is wrong\n");
		return -1;
	}
	for (unsigned int r = 0; r < UDP_RECORDS; r++, rec += 5) {
		if (rec[0] != '0' + r / 1000 % 10 || rec[1] != '0' + r / 100 % 10 ||
		    rec[2] != '0' + r / 10 % 10 || rec[3] != '0' + r % 10 ||
		    rec[4] != '.') {
			printf("hostile: received record %u reads \"%.*s\"\n", r, 5,
			       (const char *)rec);
			return -1;
		}
	}
	return 1;
}

/* The payload of echo request seq: every byte depends on where it is. */
static uint8_t ping_byte(uint32_t i, uint16_t seq)
{
	return (uint8_t)(i * 7 + (i >> 8) + seq);
}

/* An echo request to the host, a frame of len bytes, into flat (header first). */
static void ping_build(uint32_t len, uint16_t seq)
{
	uint8_t *f = flat + NET_HDR, *ip = f + ETH_HDR, *icmp = ip + IP_HDR;

	memset(flat, 0, NET_HDR + ETH_HDR + IP_HDR + ICMP_HDR);
	memcpy(f, host_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, ETH_P_IP);
	ip[0] = 0x45;
	put16(ip + 2, len - ETH_HDR);
	put16(ip + 4, seq);
	put16(ip + 6, 0x4000);		/* don't fragment */
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, guest_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	put16(ip + 10, csum_fold(sum16(ip, IP_HDR, 0)));
	icmp[0] = 8;
	put16(icmp + 4, PING_ID);
	put16(icmp + 6, seq);
	for (uint32_t i = 0; i < len - ETH_HDR - IP_HDR - ICMP_HDR; i++)
		icmp[ICMP_HDR + i] = ping_byte(i, seq);
	put16(icmp + 2, csum_fold(sum16(icmp, len - ETH_HDR - IP_HDR, 0)));
}

/*
 * The host's echo reply to request want, the same length as the request:
 * its payload came back byte for byte, so the request left gmvm intact.
 * A reply to any other request of ours is wrong.
 */
static uint32_t ping_len;

static int ping_check(const uint8_t *f, uint32_t len, uint16_t want)
{
	const uint8_t *ip = f + ETH_HDR, *icmp = ip + IP_HDR;

	if (len < ETH_HDR + IP_HDR + ICMP_HDR || get16(f + 12) != ETH_P_IP ||
	    ip[9] != 1 || icmp[0] != 0 || get16(icmp + 4) != PING_ID)
		return 0;
	if (get16(icmp + 6) != want) {
		printf("hostile: an echo reply to request %u, waiting for %u's\n",
		       get16(icmp + 6), want);
		return -1;
	}
	if (len != ping_len || memcmp(f, guest_mac, 6) || memcmp(f + 6, host_mac, 6) ||
	    !ip_ok(ip, len, 1, host_ip, guest_ip) ||
	    csum_fold(sum16(icmp, len - ETH_HDR - IP_HDR, 0))) {
		printf("hostile: the echo reply to request %u: %u bytes (want %u), or its headers are wrong\n",
		       want, len, ping_len);
		return -1;
	}
	for (uint32_t i = 0; i < len - ETH_HDR - IP_HDR - ICMP_HDR; i++) {
		if (icmp[ICMP_HDR + i] != ping_byte(i, want)) {
			printf("hostile: the echo reply to request %u: payload byte %u is %#x, sent %#x\n",
			       want, i, icmp[ICMP_HDR + i], ping_byte(i, want));
			return -1;
		}
	}
	return 1;
}

static unsigned int net_rx_request(struct vbuf *b)
{
	b[0] = (struct vbuf){ net_rx_buf[0], NET_RX_LEN, true };
	return 1;
}

static void rx_post(struct vdev *d, uint16_t i)
{
	d->vq[NET_RXQ].desc[i] = buf_desc((uint64_t)net_rx_buf[i], NET_RX_LEN,
					  VRING_DESC_F_WRITE, 0);
	publish(d, NET_RXQ, i);
}

/* Receive buffers posted: frames until check finds what it wants (or not). */
static int rx_until(struct vdev *d, frame_check check, uint16_t want,
		    const char *what)
{
	struct vq *vq = &d->vq[NET_RXQ];

	for (unsigned int seen = 0; seen < FRAMES_IGNORED; seen++) {
		uint32_t len, id;
		int ret;

		if (!wait_used(d, NET_RXQ, NEEDS_RESET_CYCLES, &len)) {
			printf("hostile: no %s came (status %#x)\n", what, status(d));
			return -1;
		}
		id = vq->used->ring[(uint16_t)(vq->last_used - 1) % vq->size].id;
		if (id >= NET_RX_BUFS || len < NET_HDR || len > NET_RX_LEN) {
			printf("hostile: a receive buffer used as %u with %u bytes\n", id, len);
			return -1;
		}
		if (!rx_hdr_ok(net_rx_buf[id]))
			return -1;
		ret = check(net_rx_buf[id] + NET_HDR, len - NET_HDR, want);
		rx_post(d, id);
		vdev_write(d, VM_QUEUE_NOTIFY, NET_RXQ);
		if (ret)
			return ret > 0 ? 0 : -1;
	}
	printf("hostile: %u other frames, no %s\n", FRAMES_IGNORED, what);
	return -1;
}

/*
 * The host's datagram into a receive chain of n buffers (a first of 13
 * bytes: the header and one frame byte, then a byte each), skipping any
 * other frame that comes first.
 */
static int rx_long(struct vdev *d, unsigned int n)
{
	uint32_t cap = lay_long(n, NET_HDR + 1, true);

	for (unsigned int seen = 0; seen < FRAMES_IGNORED; seen++) {
		uint32_t len;
		int ret;

		submit_long(d, NET_RXQ, n);
		if (!wait_used(d, NET_RXQ, NEEDS_RESET_CYCLES, &len)) {
			printf("hostile: a receive chain of %u buffers was not used (status %#x)\n",
			       n, status(d));
			return -1;
		}
		if (len < NET_HDR || len > cap) {
			printf("hostile: a receive chain of %u bytes used with %u\n", cap, len);
			return -1;
		}
		long_copy(n, len, false);
		if (!rx_hdr_ok(flat))
			return -1;
		ret = udp_check(flat + NET_HDR, len - NET_HDR, 0);
		if (ret)
			return ret > 0 ? 0 : -1;
	}
	printf("hostile: %u other frames, no datagram from the host\n", FRAMES_IGNORED);
	return -1;
}

/*
 * longrxchain: the host's datagram of 1022 bytes into a receive chain of
 * 1022 buffers (the most gmvm takes) arrives intact; one of 1023 buffers
 * makes the device need a reset, its link still up; after a reset a frame
 * arrives in a normal buffer.
 */
int attack_longrxchain(const struct target *t, struct vdev *d)
{
	const struct target rx = { .q = NET_RXQ, .request = net_rx_request };

	if (!dev_open(t, d, F_INDIRECT_DESC))
		return -1;
	read_mac(d);
	if (rx_long(d, 1022))
		return -1;
	printf("hostile: a receive chain of 1022 buffers: a frame of %u bytes arrived intact\n",
	       UDP_FRAME);
	vdev_write(d, VM_INTERRUPT_ACK, 3);
	lay_long(1023, NET_HDR + 1, true);
	submit_long(d, NET_RXQ, 1023);
	if (expect_needs_reset(&rx, d, true))
		return -1;
	if (!link_up(d)) {
		printf("hostile: a receive chain of 1023 buffers took the link down\n");
		return -1;
	}
	printf("hostile: a receive chain of 1023 buffers: the link is still up\n");
	if (!dev_open(t, d, 0))
		return -1;
	for (uint16_t i = 0; i < NET_RX_BUFS; i++)
		rx_post(d, i);
	vdev_write(d, VM_QUEUE_NOTIFY, NET_RXQ);
	if (rx_until(d, udp_check, 0, "datagram from the host after the reset"))
		return -1;
	printf("hostile: after the reset, a frame arrived intact in a normal buffer\n");
	return 0;
}

/* Transmit what flat holds through the chain of n buffers; true if used. */
static bool tx_long(struct vdev *d, unsigned int n, uint32_t first_len)
{
	uint32_t len;

	long_copy(n, lay_long(n, first_len, false), true);
	submit_long(d, NET_TXQ, n);
	if (!wait_used(d, NET_TXQ, NEEDS_RESET_CYCLES, &len) || len || needs_reset(d)) {
		printf("hostile: a transmit chain of %u buffers: not used as sent (status %#x)\n",
		       n, status(d));
		return false;
	}
	return true;
}

/*
 * longtxchain: echo requests to the host. A frame of 1023 bytes in a chain
 * of 1024 buffers, the header alone in the first (1023 iovecs after it):
 * sent, the reply comes back intact. One of 1024 bytes whose first buffer
 * also holds a frame byte (1024 after the header): dropped, the chain used,
 * no reply; the same frame in two buffers then goes out, with no reset.
 */
int attack_longtxchain(const struct target *t, struct vdev *d)
{
	struct vbuf b[2];
	uint32_t len;

	if (!dev_open(t, d, F_INDIRECT_DESC))
		return -1;
	read_mac(d);
	for (uint16_t i = 0; i < NET_RX_BUFS; i++)
		rx_post(d, i);
	vdev_write(d, VM_QUEUE_NOTIFY, NET_RXQ);

	ping_len = LONG_BUFS - 1;
	ping_build(ping_len, 1);
	if (!tx_long(d, LONG_BUFS, NET_HDR) ||
	    rx_until(d, ping_check, 1, "echo reply to the frame of 1023 buffers"))
		return -1;
	printf("hostile: a transmit chain of 1024 buffers, 1023 after the header: sent intact\n");

	ping_len = LONG_BUFS;
	ping_build(ping_len, 2);
	if (!tx_long(d, LONG_BUFS, NET_HDR + 1))
		return -1;
	/* The host answers in order: a reply to 2 would come before 3's. */
	ping_build(ping_len, 3);
	b[0] = (struct vbuf){ flat, NET_HDR, false };
	b[1] = (struct vbuf){ flat + NET_HDR, ping_len, false };
	lay(d->vq[NET_TXQ].desc, VQ_SIZE, 0, b, 2);
	submit(d, NET_TXQ, 0);
	if (!wait_used(d, NET_TXQ, NEEDS_RESET_CYCLES, &len) || len ||
	    rx_until(d, ping_check, 3, "echo reply to the frame after the dropped one"))
		return -1;
	if (needs_reset(d)) {
		printf("hostile: NEEDS_RESET after a dropped frame\n");
		return -1;
	}
	printf("hostile: a transmit chain of 1024 buffers, 1024 after the header: dropped, then the same frame in 2 buffers sent\n");
	return 0;
}
