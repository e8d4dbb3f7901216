// SPDX-License-Identifier: MIT
/*
 * Seeds for the virtio targets (see mkseeds.c): queues, block requests,
 * drivers of every device, frames, vsock connections, and a vmstate from
 * the real writer.
 */
#include <linux/virtio_blk.h>
#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"
#include "mkseeds.h"
#include "snapshot.h"
#include "vmstate.h"

/* --- virtqueue ------------------------------------------------------------- */

static void vq_header(struct buf *b, uint16_t size, uint8_t flags,
		      uint16_t idx)
{
	put16(b, size);
	put8(b, flags);
	put64(b, 0x1000);
	put64(b, 0x2000);
	put64(b, 0x3000);
	put16(b, idx);
	put16(b, idx);
}

static void vq_desc(struct buf *b, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	put8(b, 1);
	put16(b, i);
	put64(b, addr);
	put32(b, len);
	put16(b, flags);
	put16(b, next);
}

/* Pop the head made available, use it, give it back. */
static void vq_serve(struct buf *b, uint16_t head)
{
	put8(b, 2);
	put16(b, head);
	put8(b, 3);
	put8(b, 5);
	put32(b, 0);
	put16(b, 64);
	put8(b, 6);
	put32(b, 0);
	put16(b, 600);
	put8(b, 7);
	put8(b, 1);
	put32(b, 0);
	put32(b, 512);
	put16(b, 16);
	put8(b, 4);
	put32(b, 513);
	put8(b, 8);
}

void seeds_virtqueue(void)
{
	struct buf b = { 0 };
	struct vring_desc table[3] = {
		{ 0x4000, 16, VRING_DESC_F_NEXT, 1 },
		{ 0x5000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 },
		{ 0x6000, 1, VRING_DESC_F_WRITE, 0 },
	};

	vq_header(&b, 8, 0, 0);
	for (uint16_t i = 0; i < 3; i++)
		vq_desc(&b, i, table[i].addr, table[i].len, table[i].flags, table[i].next);
	vq_serve(&b, 0);
	save("virtqueue", "chain", &b);

	/* The same chain in an indirect table at 0x7000. */
	vq_header(&b, 16, 3, 0);
	put8(&b, 0);
	put16(&b, 0x7000);
	put8(&b, sizeof(table));
	put(&b, table, sizeof(table));
	vq_desc(&b, 5, 0x7000, sizeof(table), VRING_DESC_F_INDIRECT, 0);
	vq_serve(&b, 5);
	save("virtqueue", "indirect-event-idx", &b);

	/* Event idx across the index wrap. */
	vq_header(&b, 4, 1, 0xfffe);
	for (uint16_t i = 0; i < 3; i++)
		vq_desc(&b, i, table[i].addr, table[i].len, table[i].flags, table[i].next);
	for (int k = 0; k < 4; k++) {
		put8(&b, 9);
		put16(&b, 0xfffe + k);
		vq_serve(&b, 0);
	}
	save("virtqueue", "wrap", &b);

	/* A chain that loops: refused. */
	vq_header(&b, 8, 0, 0);
	vq_desc(&b, 0, 0x4000, 16, VRING_DESC_F_NEXT, 1);
	vq_desc(&b, 1, 0x4000, 16, VRING_DESC_F_NEXT, 0);
	put8(&b, 2);
	put16(&b, 0);
	put8(&b, 3);
	save("virtqueue", "loop", &b);
	free(b.d);
}

/* --- virtio-blk ------------------------------------------------------------- */

static void blk_req(struct buf *b, uint8_t type, uint64_t sector, uint16_t len,
		    uint8_t segs, uint8_t head)
{
	put8(b, 3);
	put8(b, type);
	put64(b, sector);
	put16(b, len);
	put8(b, segs);
	put8(b, head);
}

static void blk_ranges(struct buf *b, uint8_t zeroes, uint8_t n)
{
	put8(b, 6);
	put8(b, zeroes);
	put8(b, n);
	for (uint8_t i = 0; i < n; i++) {
		put64(b, 8 * i);
		put32(b, 8);
		put32(b, zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0);
	}
}

void seeds_virtio_blk(void)
{
	struct buf b = { 0 };

	for (int ro = 0; ro < 2; ro++) {
		put8(&b, 7);
		put64(&b, ~0ull);
		put8(&b, ro);
		blk_req(&b, 1, 0, 2048, 2, 0);		/* OUT */
		blk_req(&b, 0, 0, 2048, 3, 8);		/* IN */
		blk_req(&b, 2, 0, 0, 1, 16);		/* FLUSH */
		blk_req(&b, 3, 0, 20, 1, 24);		/* GET_ID */
		blk_req(&b, 0, 120, 8192, 4, 32);	/* IN past the end */
		blk_ranges(&b, 0, 2);
		blk_ranges(&b, 1, 1);
		put8(&b, 4);				/* config: capacity */
		put8(&b, 0);
		put8(&b, 3);
		put8(&b, 7);				/* snapshot round trip */
		blk_req(&b, 0, 0, 512, 1, 40);
		save("virtio_blk", ro ? "requests-ro" : "requests", &b);
	}
	free(b.d);
}

/* --- virtio-mmio ------------------------------------------------------------- */

static void mmio_setup(struct buf *b, uint8_t d)
{
	put8(b, 4);
	put8(b, d);
	put64(b, ~0ull);
	put8(b, 3);		/* 8 entries */
}

static void mmio_desc(struct buf *b, uint8_t d, uint8_t q, uint8_t i,
		      uint32_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	put8(b, 5);
	put8(b, d);
	put8(b, q);
	put8(b, i);
	put32(b, addr);
	put32(b, len);
	put16(b, flags);
	put16(b, next);
}

static void mmio_avail(struct buf *b, uint8_t d, uint8_t q, uint16_t head)
{
	put8(b, 6);
	put8(b, d);
	put8(b, q);
	put16(b, head);
}

/* Devices: 0 virtio-blk, 1 virtio-rng, 2 virtio-console, 3 virtio-balloon. */
void seeds_virtio_mmio(void)
{
	struct buf b = { 0 };
	uint32_t pfns[4] = { 0x30, 0x31, 0x32, 0x1000 };

	/* Registers read as a driver probes them. */
	for (uint8_t d = 0; d < 4; d++)
		for (uint16_t off = 0; off < 0x14; off += 4) {
			put8(&b, 2);
			put8(&b, d);
			put16(&b, off);
		}
	for (uint8_t d = 0; d < 4; d++)
		mmio_setup(&b, d);
	/* rng: a 64-byte buffer. */
	mmio_desc(&b, 1, 0, 0, 0x28000, 64, VRING_DESC_F_WRITE, 0);
	mmio_avail(&b, 1, 0, 0);
	/* console: output, then input into a receive buffer. */
	put8(&b, 3);
	put16(&b, 0x29000 / 4);
	put8(&b, 6);
	put(&b, "hello\n", 6);
	mmio_desc(&b, 2, 1, 0, 0x29000, 6, 0, 0);
	mmio_avail(&b, 2, 1, 0);
	mmio_desc(&b, 2, 0, 0, 0x2a000, 16, VRING_DESC_F_WRITE, 0);
	mmio_avail(&b, 2, 0, 0);
	put8(&b, 7);
	put8(&b, 3);
	put(&b, "ls\n", 3);
	/* balloon: inflate four frames, one outside RAM; a target. */
	put8(&b, 3);
	put16(&b, 0x2b000 / 4);
	put8(&b, sizeof(pfns));
	put(&b, pfns, sizeof(pfns));
	mmio_desc(&b, 3, 0, 0, 0x2b000, sizeof(pfns), 0, 0);
	mmio_avail(&b, 3, 0, 0);
	put8(&b, 8);
	put32(&b, 16);
	/* Config space reads of every size, a pause, a snapshot. */
	for (uint8_t size = 0; size < 4; size++) {
		put8(&b, 0);
		put8(&b, 3);
		put16(&b, 0x100);
		put8(&b, size);
		put8(&b, 0);
		put64(&b, 0);
	}
	put8(&b, 9);
	put8(&b, 10);
	mmio_avail(&b, 1, 0, 0);
	save("virtio_mmio", "drivers", &b);
	free(b.d);
}

/* --- virtio-net --------------------------------------------------------------- */

static void net_frame(struct buf *b, uint8_t op, uint16_t len, uint8_t hdr_flags)
{
	uint8_t frame[12 + 60] = { hdr_flags };

	memset(frame + 12, 0xff, 6);		/* broadcast */
	frame[12 + 12] = 0x08;			/* IPv4 */
	put8(b, op);
	if (op == 4) {				/* TX: head, length, split */
		put8(b, 0);
		put16(b, len);
		put8(b, 12);
	} else {
		put16(b, len);
	}
	put(b, frame, len);
}

static void net_rxbuf(struct buf *b, uint8_t head, uint8_t n, uint16_t len)
{
	put8(b, 3);
	put8(b, head);
	put8(b, n - 1);
	put16(b, len - 1);
}

void seeds_virtio_net(void)
{
	struct buf b = { 0 };

	put8(&b, 4);			/* 16 entries */
	put64(&b, ~0ull);
	put8(&b, 1);			/* MAC given */
	for (uint8_t off = 0; off < 8; off += 2) {
		put8(&b, 8);		/* config: mac and status */
		put8(&b, off);
		put8(&b, 1);
	}
	net_rxbuf(&b, 0, 1, 1600);
	net_frame(&b, 5, 72, 0);	/* a frame from the network */
	net_frame(&b, 4, 72, 0);	/* one to it */
	put8(&b, 6);
	net_rxbuf(&b, 4, 3, 600);
	net_frame(&b, 5, 72, 1);	/* NEEDS_CSUM: dropped */
	net_frame(&b, 5, 40, 0);	/* a runt */
	put8(&b, 10);
	put8(&b, 11);
	net_frame(&b, 5, 72, 0);
	put8(&b, 9);			/* the tap goes away */
	net_frame(&b, 4, 72, 0);
	save("virtio_net", "frames", &b);
	free(b.d);
}

/* --- virtio-vsock ------------------------------------------------------------- */

enum {
	VS_MEM, VS_DESC, VS_AVAIL, VS_RXBUF, VS_TX, VS_EVBUF, VS_CONNECT, VS_WRITE,
	VS_BULK, VS_READ, VS_SHUT, VS_CLOSE, VS_LISTEN, VS_ACCEPT, VS_UNLISTEN,
	VS_FLOOD, VS_REG, VS_CONFIG, VS_PAUSE, VS_SNAP, VS_RESET, VS_TICK,
};

/* TX mode bits (fuzz_virtio_vsock.c). */
#define VS_CIDS 1
#define VS_TYPE 2
#define VS_LEN 4
#define VS_EXTRA 8
#define VS_REPLY 16
#define VS_TIMES(i) ((i) << 5)	/* 1, 2, 3, 4, 8, 32, 256, 300 times */

struct vs_pkt {
	uint8_t head, mode, piece;
	uint16_t op, type;
	uint32_t host_port, guest_port, flags, buf_alloc, fwd_cnt, len, extra;
	uint64_t src_cid, dst_cid;
	const char *data;
};

static void vs_header(struct buf *b, uint8_t qsize_log2, uint32_t cid)
{
	put8(b, qsize_log2);
	put64(b, ~0ull);
	put32(b, cid - 3);
}

static void vs_tx(struct buf *b, const struct vs_pkt *p)
{
	uint16_t n = p->data ? strlen(p->data) : 0;

	put8(b, VS_TX);
	put8(b, p->head);
	put8(b, p->mode);
	put16(b, p->op);
	put32(b, p->host_port);
	put32(b, p->guest_port);
	put32(b, p->flags);
	put32(b, p->buf_alloc);
	put32(b, p->fwd_cnt);
	if (p->mode & VS_CIDS) {
		put64(b, p->src_cid);
		put64(b, p->dst_cid);
	}
	if (p->mode & VS_TYPE)
		put16(b, p->type);
	if (p->mode & VS_LEN)
		put32(b, p->len);
	if (p->mode & VS_EXTRA)
		put32(b, p->extra);
	put16(b, n);
	put8(b, p->piece);
	if (n)
		put(b, p->data, n);
}

/* n chained receive buffers of 4 KiB from descriptor head. */
static void vs_rxbuf(struct buf *b, uint8_t head, uint8_t n)
{
	put8(b, VS_RXBUF);
	put8(b, head);
	put8(b, n - 1);
	put16(b, 4095);
}

/* An operation on host socket (or listener) k, and its argument if any. */
static void vs_host(struct buf *b, uint8_t op, uint8_t k, uint8_t arg)
{
	put8(b, op);
	put8(b, k);
	if (op != VS_CLOSE && op != VS_ACCEPT && op != VS_UNLISTEN)
		put8(b, arg);
}

static void vs_connect(struct buf *b, uint8_t flags, uint32_t port)
{
	put8(b, VS_CONNECT);
	put8(b, flags);
	put32(b, port);
}

static void vs_write(struct buf *b, uint8_t k, const char *s)
{
	put8(b, VS_WRITE);
	put8(b, k);
	put16(b, strlen(s));
	put(b, s, strlen(s));
}

/* A host program connects; the guest accepts, both talk, both close. */
static void seed_vsock_from_host(struct buf *b)
{
	vs_header(b, 4, 3);
	for (uint8_t i = 0; i < 4; i++)
		vs_rxbuf(b, i, 1);
	vs_connect(b, 1, 1234);		/* REQUEST to the guest's port 1234 */
	vs_tx(b, &(struct vs_pkt){ .mode = VS_REPLY, .op = VIRTIO_VSOCK_OP_RESPONSE,
				   .buf_alloc = 65536 });
	vs_host(b, VS_READ, 0, 0);	/* "OK 1073741824\n" */
	vs_write(b, 0, "hello from the host");
	vs_tx(b, &(struct vs_pkt){ .head = 1, .mode = VS_REPLY, .op = VIRTIO_VSOCK_OP_RW,
				   .buf_alloc = 65536, .piece = 7,
				   .data = "hello from the guest" });
	vs_host(b, VS_READ, 0, 0);
	vs_host(b, VS_BULK, 0, 3);	/* 16 KiB: 2 x 4052 bytes, the rest ... */
	vs_rxbuf(b, 4, 4);		/* ... in a chain of 4 buffers */
	vs_tx(b, &(struct vs_pkt){ .head = 2, .mode = VS_REPLY,
				   .op = VIRTIO_VSOCK_OP_CREDIT_UPDATE,
				   .buf_alloc = 65536, .fwd_cnt = 19 + 16384 });
	vs_rxbuf(b, 8, 1);
	vs_host(b, VS_SHUT, 0, SHUT_WR);	/* SHUTDOWN to the guest */
	vs_tx(b, &(struct vs_pkt){ .head = 3, .mode = VS_REPLY,
				   .op = VIRTIO_VSOCK_OP_SHUTDOWN, .flags = 3 });
	vs_rxbuf(b, 9, 1);
	vs_host(b, VS_READ, 0, 0);
	vs_host(b, VS_CLOSE, 0, 0);
	for (uint8_t off = 0; off < 8; off += 4) {
		put8(b, VS_CONFIG);
		put8(b, off);
		put8(b, 2);
	}
	put8(b, VS_TICK);
	put8(b, VS_PAUSE);
	vs_connect(b, 1, 99);		/* a REQUEST the snapshot drops */
	vs_rxbuf(b, 10, 1);
	put8(b, VS_SNAP);
	put8(b, VS_EVBUF);		/* the transport reset event */
	put8(b, 0);
	put8(b, 4);
	put8(b, VS_RESET);
	put8(b, 0);
	save("virtio_vsock", "from-host", b);
}

/* The guest connects to a listener, both talk, the guest overruns it. */
static void seed_vsock_from_guest(struct buf *b)
{
	vs_header(b, 5, 3);
	put8(b, VS_LISTEN);
	put32(b, 5000);
	put8(b, 2);
	for (uint8_t i = 0; i < 8; i++)
		vs_rxbuf(b, i * 2, 2);
	vs_tx(b, &(struct vs_pkt){ .op = VIRTIO_VSOCK_OP_REQUEST, .host_port = 5000,
				   .guest_port = 2000, .buf_alloc = 262144 });
	vs_host(b, VS_ACCEPT, 0, 0);
	vs_tx(b, &(struct vs_pkt){ .op = VIRTIO_VSOCK_OP_RW, .host_port = 5000,
				   .guest_port = 2000, .buf_alloc = 262144,
				   .data = "ping" });
	vs_host(b, VS_READ, 0, 0);
	vs_write(b, 0, "pong");
	/* 4 x 60000 bytes of RAM: more than the socket takes, buffered. */
	vs_tx(b, &(struct vs_pkt){ .head = 1, .mode = VS_EXTRA | VS_TIMES(3),
				   .op = VIRTIO_VSOCK_OP_RW, .host_port = 5000,
				   .guest_port = 2000, .buf_alloc = 262144,
				   .extra = 60000 });
	vs_tx(b, &(struct vs_pkt){ .head = 2, .op = VIRTIO_VSOCK_OP_CREDIT_REQUEST,
				   .host_port = 5000, .guest_port = 2000,
				   .buf_alloc = 262144 });
	vs_host(b, VS_READ, 0, 255);
	vs_host(b, VS_BULK, 0, 3);
	vs_rxbuf(b, 16, 1);
	vs_rxbuf(b, 17, 1);
	vs_tx(b, &(struct vs_pkt){ .head = 3, .op = VIRTIO_VSOCK_OP_REQUEST,
				   .host_port = 5001, .guest_port = 2001,
				   .buf_alloc = 262144 });	/* nobody there: RST */
	vs_tx(b, &(struct vs_pkt){ .head = 4, .op = VIRTIO_VSOCK_OP_RST,
				   .host_port = 5000, .guest_port = 2000 });
	vs_host(b, VS_UNLISTEN, 0, 0);
	/* More programs than connections allowed, each with a CONNECT line. */
	put8(b, VS_FLOOD);
	put16(b, 299);
	put8(b, 1);
	put32(b, 7);
	save("virtio_vsock", "from-guest", b);
}

/* Packets and host programs that break the rules. */
static void seed_vsock_bad(struct buf *b)
{
	const uint16_t ops[] = { VIRTIO_VSOCK_OP_INVALID, 99, VIRTIO_VSOCK_OP_RESPONSE };

	vs_header(b, 3, 0x1003);
	vs_rxbuf(b, 0, 1);
	vs_rxbuf(b, 1, 1);
	vs_tx(b, &(struct vs_pkt){ .mode = VS_CIDS, .op = VIRTIO_VSOCK_OP_REQUEST,
				   .src_cid = 3, .dst_cid = 2, .host_port = 1 });
	vs_tx(b, &(struct vs_pkt){ .mode = VS_TYPE, .type = VIRTIO_VSOCK_TYPE_SEQPACKET,
				   .op = VIRTIO_VSOCK_OP_REQUEST, .host_port = 1 });
	vs_tx(b, &(struct vs_pkt){ .mode = VS_LEN, .op = VIRTIO_VSOCK_OP_RW, .len = 100,
				   .data = "ten bytes." });
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		vs_tx(b, &(struct vs_pkt){ .op = ops[i], .host_port = 1 });
	vs_tx(b, &(struct vs_pkt){ .mode = VS_EXTRA, .op = VIRTIO_VSOCK_OP_RW,
				   .piece = 1, .extra = 70000 });
	/* A 10-byte chain: no header. */
	put8(b, VS_DESC);
	put8(b, 1);
	put8(b, 5);
	put32(b, 0x120000);
	put32(b, 10);
	put16(b, 0);
	put16(b, 0);
	put8(b, VS_AVAIL);
	put8(b, 1);
	put16(b, 5);
	vs_connect(b, 0, 0);
	vs_write(b, 0, "HELLO\n");
	vs_connect(b, 0, 0);
	vs_write(b, 0, "CONNECT 99999999999\n");
	vs_connect(b, 0, 0);
	vs_write(b, 0, "CONNECTCONNECTCONNECTCONNECTCONNECT");
	vs_connect(b, 3, 80);		/* no newline yet */
	vs_host(b, VS_CLOSE, 0, 0);
	/* A receive buffer with no room for data: the device needs a reset. */
	put8(b, VS_RXBUF);
	put8(b, 2);
	put8(b, 0);
	put16(b, 43);
	vs_connect(b, 1, 5);
	put8(b, VS_REG);
	put8(b, VIRTIO_MMIO_INTERRUPT_ACK / 4);
	put32(b, 3);
	put8(b, VS_RESET);
	put8(b, 1);
	put8(b, VS_RESET);
	put8(b, 0);
	save("virtio_vsock", "bad", b);
}

/*
 * More than the device does in one go: 256 one-byte packets to the guest,
 * 300 from it, 300 host programs while the VM is paused.
 */
static void seed_vsock_budgets(struct buf *b)
{
	vs_header(b, 8, 3);
	vs_rxbuf(b, 0, 1);
	vs_connect(b, 1, 1234);
	vs_tx(b, &(struct vs_pkt){ .mode = VS_REPLY, .op = VIRTIO_VSOCK_OP_RESPONSE,
				   .buf_alloc = 1 << 20 });
	vs_host(b, VS_READ, 0, 0);
	for (unsigned int i = 0; i < 8; i++) {
		put8(b, VS_RXBUF);	/* 32 chains of a buffer of 45 bytes */
		put8(b, 1 + 32 * i);
		put8(b, 31 << 3);
		put16(b, 44);
	}
	vs_host(b, VS_BULK, 0, 0);
	vs_tx(b, &(struct vs_pkt){ .head = 1, .mode = VS_REPLY | VS_TIMES(7),
				   .op = VIRTIO_VSOCK_OP_CREDIT_UPDATE,
				   .buf_alloc = 1 << 20, .fwd_cnt = 256 });
	put8(b, VS_PAUSE);
	put8(b, VS_FLOOD);
	put16(b, 299);
	put8(b, 1);
	put32(b, 8);
	vs_rxbuf(b, 2, 1);
	save("virtio_vsock", "budgets", b);
}

void seeds_virtio_vsock(void)
{
	struct buf b = { 0 };

	seed_vsock_from_host(&b);
	seed_vsock_from_guest(&b);
	seed_vsock_bad(&b);
	seed_vsock_budgets(&b);
	free(b.d);
}

/* --- vmstate --------------------------------------------------------------- */

/* One vCPU node with every property of the right size (vcpu_state_check). */
static void write_cpu(struct vmstate_writer *w)
{
	static uint8_t zero[8192];
	static const struct {
		const char *name;
		size_t size;
	} blobs[] = {
		{ "mp_state", sizeof(struct kvm_mp_state) },
		{ "regs", sizeof(struct kvm_regs) },
		{ "sregs", sizeof(struct kvm_sregs) },
		{ "xcrs", sizeof(struct kvm_xcrs) },
		{ "debugregs", sizeof(struct kvm_debugregs) },
		{ "lapic", sizeof(struct kvm_lapic_state) },
		{ "xsave", 4096 },
		{ "events", sizeof(struct kvm_vcpu_events) },
		{ "msrs", 4 * sizeof(struct kvm_msr_entry) },
		{ "cpuid", 2 * sizeof(struct kvm_cpuid_entry2) },
	};

	vmstate_begin(w, "cpus");
	vmstate_begin(w, "cpu@0");
	for (unsigned int i = 0; i < ARRAY_SIZE(blobs); i++)
		vmstate_put_blob(w, blobs[i].name, zero, blobs[i].size);
	vmstate_end(w);
	vmstate_end(w);
}

/* Configuration and regions as snapshot.c writes them, for cfg and mem. */
void seeds_vmstate(void)
{
	struct vm_config cfg = {
		.boot.cmdline = "", .machine.nr_vcpus = 1, .dev.console = CONSOLE_VIRTIO,
		.dev.virtio_console = true,
	};
	struct fuzz_queue q[3];
	struct vmstate_writer w;
	struct guest_mem mem;
	struct vm vm;
	struct err e = { 0 };
	struct buf b = { 0 };
	const void *blob;
	size_t len;
	uint8_t lcr = 0x03;

	fuzz_dev_option(&cfg.dev, "rng", NULL);
	fuzz_dev_option(&cfg.dev, "balloon", NULL);
	fuzz_add_disk(&cfg.dev, 0, false);
	if (fuzz_mem_init(&mem, 2 * MIB) || fuzz_vm_create(&vm, &cfg, &mem, &e)) {
		fprintf(stderr, "mkseeds: %s\n", e.msg);
		exit(1);
	}
	/* Every virtio device live, queues at distinct places; a UART set up. */
	for (unsigned int d = 0; d < vm.nr_virtio; d++) {
		for (unsigned int i = 0; i < 3; i++)
			q[i] = (struct fuzz_queue){ 16, 0x10000 * (d + 1) + 0x1000 * i * 4,
						    0x10000 * (d + 1) + 0x1000 * (i * 4 + 1),
						    0x10000 * (d + 1) + 0x1000 * (i * 4 + 2) };
		fuzz_virtio_setup(&vm, vm.virtio[d], ~0ull,
				  MIN(vm.virtio[d]->ops->nr_queues, 3u), q);
	}
	fuzz_vm_pio(&vm, 0x3fb, &lcr, 1, true);
	if (vmstate_writer_init(&w))
		exit(1);
	/*
	 * gmvm's own writer: a seed that stays what gmvm writes. The disk's
	 * path as a user would give it, not the memfd's (whose fd number
	 * varies): the same seed every time.
	 */
	((struct disks_config *)device_config(&cfg.dev, &virtio_blk_device))->disks[0].path =
		"/var/lib/gmvm/disk.img";
	vm.nr_vcpus = 1;
	snapshot_write_config(&vm, &w);
	snapshot_write_regions(&vm, (const uint32_t[GUEST_MEM_MAX_REGIONS]){ 0 }, &w);
	vmstate_begin(&w, "vm");
	vmstate_end(&w);
	vm.nr_vcpus = 0;
	write_cpu(&w);
	snapshot_write_devices(&vm, &w);
	/* As gmvm fuzz's snapshots have it: an input buffer and a coverage map. */
	fuzz_guest_save(&(struct fuzz_guest){ .input_gpa = 0x100000, .input_size = 0x1000,
					      .coverage_size = 65536 }, &w);
	if (vmstate_finish(&w, &blob, &len))
		exit(1);
	put8(&b, 0);
	put(&b, blob, len);
	save("vmstate", "devices", &b);
	put8(&b, 1);
	put(&b, blob, len);
	save("vmstate", "devices-fix-checksum", &b);
	vmstate_writer_free(&w);
	fuzz_vm_destroy(&vm);
	fuzz_mem_free(&mem);
	free(b.d);
}
