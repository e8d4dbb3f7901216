// SPDX-License-Identifier: MIT
/*
 * virtio-vsock (devices/virtio_vsock.c) through the real transport, with
 * real host programs on its UNIX sockets: the harness brings the device up
 * as a driver would, then the input posts receive and event buffers, sends
 * packets with any header (any operation, type, length, CIDs, ports,
 * buf_alloc, fwd_cnt; split across buffers), and plays the host programs:
 * one connects to the device's socket PATH and writes a CONNECT line or
 * garbage, reads, half-closes, closes; a listener at PATH_<port> takes the
 * guest's connections to that port. The device's own handlers (accept,
 * handshake, socket readable and writable, the request timer, the kick)
 * run from the main loop, served without blocking after every operation.
 * Pauses (host programs carry on meanwhile), snapshot round trips (the
 * device and the guest's listeners survive, connections do not) and device
 * resets come in between.
 *
 * PATH is in a directory of the process's own, made once (mkdtemp) and
 * removed at exit; every input leaves it empty and closes every descriptor
 * it opened, both checked.
 *
 * Input: a header, then operations until the input ends; k picks a host
 * socket (those of the programs, and the listeners' ends they accepted), l
 * a listener.
 *   header: u8 queue size (1 << n % 9), u64 features to accept of those
 *           offered, u32 guest CID (3 + n % (2^32 - 4))
 *   op 0  MEM     u32 gpa, u8 len, len bytes
 *   op 1  DESC    u8 q, u8 i, u32 addr, u32 len, u16 flags, u16 next
 *   op 2  AVAIL   u8 q, u16 head                     and notify q
 *   op 3  RXBUF   u8 head, u8 n, u16 len             1 + (n >> 3) chains of
 *                 1 + n % 8 writable buffers (as many as the queue holds)
 *                 from descriptor head on, made available on queue 0; that
 *                 of descriptor i at 0x10000 + 4 KiB i, of 1 + len % 4096
 *                 bytes; with len bit 15, the first a 68 KiB one at
 *                 0x180000
 *   op 4  TX      u8 head, u8 mode, u16 op, u32 host port, u32 guest port,
 *                 u32 flags, u32 buf_alloc, u32 fwd_cnt,
 *                 [mode bit 0: u64 src_cid, u64 dst_cid; else the guest's
 *                 CID to the host's], [bit 1: u16 type; else STREAM],
 *                 [bit 2: u32 len; else the payload's], [bit 3: u32 extra:
 *                 the chain is extra % 256 KiB longer, whatever RAM holds],
 *                 u16 payload length, u8 piece, the payload
 *                 a packet: header and payload at 0x120000, in buffers of
 *                 piece bytes (0: one), at most 16; bit 4: the ports are
 *                 those of the last packet the device sent, swapped (a
 *                 reply); bits 5-7: made available 1, 2, 3, 4, 8, 32, 256
 *                 or 300 times
 *   op 5  EVBUF   u8 head, u8 len                    a writable buffer of
 *                 len % 8 bytes at 0x8000 + 16 i, on queue 2
 *   op 6  CONNECT u8 flags, u32 port                 a host program
 *                 connects to PATH; flags bit 0: writes "CONNECT <port>\n",
 *                 bit 1: without the newline
 *   op 7  WRITE   u8 k, u16 len, len bytes           socket k sends them
 *   op 8  BULK    u8 k, u8 n                         sends (n + 1) * 4 KiB,
 *                 or what it takes of them
 *   op 9  READ    u8 k, u8 n                         reads up to
 *                 (n + 1) * 4 KiB, or what there is
 *   op 10 SHUT    u8 k, u8 how                       shutdown(how % 3)
 *   op 11 CLOSE   u8 k
 *   op 12 LISTEN  u32 port, u8 backlog               a listener at
 *                 PATH_<port> (backlog % 8), at most 4
 *   op 13 ACCEPT  u8 l                               a socket from l
 *   op 14 UNLISTEN u8 l                              closed and unlinked
 *   op 15 FLOOD   u16 n, u8 flags, u32 port          1 + n % 320 programs
 *                 connect, polled every 32; flags as CONNECT's
 *   op 16 REG     u8 register, u32 value
 *   op 17 CONFIG  u8 offset, u8 size                 config space read
 *   op 18 PAUSE   the VM, until the guest's next operation (0-5, 16, 17,
 *                 20): the host's (and TICK, SNAP) find it paused
 *   op 19 SNAP    a snapshot round trip
 *   op 20 RESET   u8 flags                           status 0, then (bit 0
 *                 clear) the driver brings it up again on fresh rings
 *   op 21 TICK                                       the request timer
 *                 fires now
 * Rings: queue q's descriptors at q * 0x2000, available ring at +0x1000,
 * used ring at +0x1400.
 *
 * Checked after every operation: at most 256 connections, at most 256 KiB
 * of guest bytes buffered for any one (the device's stats); none left
 * after a snapshot round trip or a reset (also when the driver's next
 * status write comes before the main loop serves the device:
 * regress-reset-keeps-connections); config reads give the CID. While the
 * input drives the device only as a driver would (no MEM, DESC, AVAIL or
 * REG since the start or the last RESET that brought it up again), every
 * packet and event the device gives the guest is read back from the rings
 * and checked: the host's CID to the guest's, a stream, a known operation
 * with buf_alloc 256 KiB and flags only in SHUTDOWN, a length that is the
 * used length's and at most 64 KiB (data in RW only); a transport reset
 * event only after a snapshot.
 *
 * Not reached: the request timeouts (2 s of the monotonic clock; TICK only
 * makes the timer look early).
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/virtio_vsock.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define RAM_SIZE (2 * 1024 * 1024)
#define NR_QUEUES 3
#define RXQ 0
#define TXQ 1
#define EVQ 2
#define RING_SLOT 0x2000ull
#define RING_AVAIL 0x1000ull
#define RING_USED 0x1400ull
#define EV_GPA 0x8000ull
#define RX_GPA 0x10000ull
#define RX_BUF_MAX 0x1000u
#define TX_GPA 0x120000ull
/* One receive buffer with room for the largest packet, and then some. */
#define RX_BIG_GPA 0x180000ull
#define RX_BIG_LEN 0x11000u
#define TX_EXTRA_MAX (256u * 1024)
#define TX_PIECES_MAX 16
#define HDR_LEN ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define HOST_CID 2
/* The device's limits (devices/virtio_vsock.c). */
#define MAX_CONNS 256
#define BUF_ALLOC (256u * 1024)
#define MAX_PKT (64u * 1024)

#define HOST_MAX 400		/* host sockets at once */
#define LISTEN_MAX 4
#define FLOOD_MAX 320
#define NR_OPS 22

struct vsock_run {
	struct vm vm;
	struct vm_config cfg;
	struct guest_mem mem;
	uint16_t qsize;
	uint64_t features;
	uint32_t cid;
	bool paused;			/* PAUSE: until the guest's next access */
	/* Driving as a driver would: what the device writes can be checked. */
	bool pristine;
	uint16_t seen[NR_QUEUES];	/* used entries read back, per queue */
	uint32_t last_host_port, last_guest_port;
	unsigned int snaps, events;
	/* The host programs' sockets, and the listeners at PATH_<port>. */
	int host[HOST_MAX];
	unsigned int nr_host;
	struct {
		int fd;
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	} lis[LISTEN_MAX];
	unsigned int nr_lis;
};

/* --- The process's directory ---------------------------------------------- */

static char tmp_dir[64];
static char uds_path[80];

static void tmp_dir_remove(void)
{
	rmdir(tmp_dir);
}

/* Made once; PATH_4294967295 must still fit a UNIX socket address. */
static void tmp_dir_init(void)
{
	const char *base = getenv("TMPDIR");

	if (tmp_dir[0])
		return;
	if (!base || !base[0] || strlen(base) > 32)
		base = "/tmp";
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/gmvm-fuzz-vsock.XXXXXX", base);
	if (!mkdtemp(tmp_dir)) {
		perror(tmp_dir);
		exit(1);
	}
	snprintf(uds_path, sizeof(uds_path), "%s/v", tmp_dir);
	atexit(tmp_dir_remove);
}

/* Entries in dir (less . and ..), or open descriptors with /proc/self/fd. */
static unsigned int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned int n = 0;

	FUZZ_CHECK(d, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* --- Host programs ---------------------------------------------------------- */

static void host_add(struct vsock_run *r, int fd)
{
	if (r->nr_host == HOST_MAX) {
		close(fd);
		return;
	}
	r->host[r->nr_host++] = fd;
}

static int host_pick(struct vsock_run *r, struct fuzz_input *in, unsigned int *k)
{
	uint8_t n = fin_u8(in);

	if (!r->nr_host)
		return -1;
	*k = n % r->nr_host;
	return r->host[*k];
}

static void host_close(struct vsock_run *r, unsigned int k)
{
	close(r->host[k]);
	r->host[k] = r->host[--r->nr_host];
}

static void host_send(int fd, const void *p, size_t n)
{
	/* Whatever becomes of it: the device may be gone, or not reading. */
	if (send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		FUZZ_CHECK(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET ||
			   errno == ENOTCONN, "send: %s", strerror(errno));
}

/* A program connects to PATH (and says CONNECT <port>). */
static void host_connect(struct vsock_run *r, uint8_t flags, uint32_t port)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char line[32];
	int fd, n;

	if (r->nr_host == HOST_MAX)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", uds_path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		/* The device's backlog is full: as a program would, give up. */
		FUZZ_CHECK(errno == EAGAIN, "connect %s: %s", uds_path, strerror(errno));
		close(fd);
		return;
	}
	if (flags & 1) {
		n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
		host_send(fd, line, n - !!(flags & 2));
	}
	host_add(r, fd);
}

static void host_flood(struct vsock_run *r, struct fuzz_input *in)
{
	unsigned int n = 1 + fin_u16(in) % FLOOD_MAX;
	uint8_t flags = fin_u8(in);
	uint32_t port = fin_u32(in);

	for (unsigned int i = 0; i < n; i++) {
		host_connect(r, flags, port);
		if (i % 32 == 31)
			fuzz_vm_poll(&r->vm);
	}
}

static void host_bulk(int fd, unsigned int n)
{
	static uint8_t pattern[4096];
	size_t left = (n + 1) * sizeof(pattern);

	if (!pattern[1])
		for (unsigned int i = 0; i < sizeof(pattern); i++)
			pattern[i] = i * 7 + 1;
	while (left) {
		ssize_t put = send(fd, pattern, sizeof(pattern), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (put <= 0)
			break;
		left -= (size_t)put < left ? (size_t)put : left;
	}
}

static void host_read(int fd, unsigned int n)
{
	static uint8_t sink[4096];
	size_t left = (n + 1) * sizeof(sink);

	while (left) {
		ssize_t got = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (got <= 0)
			break;
		left -= (size_t)got < left ? (size_t)got : left;
	}
}

static void host_listen(struct vsock_run *r, uint32_t port, uint8_t backlog)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (r->nr_lis == LISTEN_MAX)
		return;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s_%u", uds_path, port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		/* Someone listens on that port already. */
		FUZZ_CHECK(errno == EADDRINUSE, "bind %s: %s", addr.sun_path, strerror(errno));
		close(fd);
		return;
	}
	FUZZ_CHECK(!listen(fd, backlog % 8), "listen: %s", strerror(errno));
	r->lis[r->nr_lis].fd = fd;
	memcpy(r->lis[r->nr_lis].path, addr.sun_path, sizeof(addr.sun_path));
	r->nr_lis++;
}

static void host_unlisten(struct vsock_run *r, unsigned int l)
{
	close(r->lis[l].fd);
	unlink(r->lis[l].path);
	r->lis[l] = r->lis[--r->nr_lis];
}

static void host_accept(struct vsock_run *r, unsigned int l)
{
	int fd = accept4(r->lis[l].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0)
		host_add(r, fd);
	else
		FUZZ_CHECK(errno == EAGAIN, "accept: %s", strerror(errno));
}

static void host_cleanup(struct vsock_run *r)
{
	while (r->nr_host)
		host_close(r, 0);
	while (r->nr_lis)
		host_unlisten(r, 0);
}

/* --- The driver ------------------------------------------------------------- */

static struct virtio_dev *vsock_dev(struct vsock_run *r)
{
	return r->vm.virtio[0];
}

static uint64_t ring(unsigned int q, uint64_t off)
{
	return q * RING_SLOT + off;
}

static void set_desc(struct vsock_run *r, unsigned int q, uint16_t i,
		     uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next % r->qsize };

	fuzz_mem_write(&r->mem, ring(q, 16ull * (i % r->qsize)), (const uint8_t *)&d,
		       sizeof(d));
}

static void avail_notify(struct vsock_run *r, unsigned int q, uint16_t head)
{
	fuzz_avail_notify(&r->vm, &r->mem, vsock_dev(r), q, ring(q, RING_AVAIL),
			  r->qsize, head);
}

/* Bring the device up on fresh rings, as after a reset. */
static void driver_setup(struct vsock_run *r)
{
	struct fuzz_queue q[NR_QUEUES];

	memset(r->mem.base, 0, NR_QUEUES * RING_SLOT);
	for (unsigned int k = 0; k < NR_QUEUES; k++)
		q[k] = (struct fuzz_queue){ r->qsize, ring(k, 0), ring(k, RING_AVAIL),
					    ring(k, RING_USED) };
	memset(r->seen, 0, sizeof(r->seen));
	r->pristine = true;
	fuzz_virtio_setup(&r->vm, vsock_dev(r), r->features, NR_QUEUES, q);
}

static void rx_buffers(struct vsock_run *r, struct fuzz_input *in)
{
	uint16_t head = fin_u8(in), n = fin_u8(in), v = fin_u16(in);
	unsigned int per = MIN(1u + n % 8, r->qsize);
	unsigned int chains = MIN(1u + (n >> 3), r->qsize / per);

	for (unsigned int c = 0; c < chains; c++, head += per) {
		for (unsigned int i = 0; i < per; i++) {
			uint16_t slot = (head + i) % r->qsize;
			bool big = !c && !i && (v & 0x8000);

			set_desc(r, RXQ, slot, big ? RX_BIG_GPA : RX_GPA + RX_BUF_MAX * slot,
				 big ? RX_BIG_LEN : 1 + (v & (RX_BUF_MAX - 1)),
				 VRING_DESC_F_WRITE | (i + 1 < per ? VRING_DESC_F_NEXT : 0),
				 slot + 1);
		}
		avail_notify(r, RXQ, head % r->qsize);
	}
}

static void ev_buffer(struct vsock_run *r, struct fuzz_input *in)
{
	uint16_t slot = fin_u8(in) % r->qsize;
	uint32_t len = fin_u8(in) % 8;

	set_desc(r, EVQ, slot, EV_GPA + 16 * slot, len, VRING_DESC_F_WRITE, 0);
	avail_notify(r, EVQ, slot);
}

/* How many times TX makes its packet available: past the device's budget. */
static const unsigned int tx_times[8] = { 1, 2, 3, 4, 8, 32, 256, 300 };

static void tx_packet(struct vsock_run *r, struct fuzz_input *in)
{
	struct virtio_vsock_hdr hdr = { .src_cid = r->cid, .dst_cid = HOST_CID,
					.type = VIRTIO_VSOCK_TYPE_STREAM };
	uint16_t head = fin_u8(in), mode = fin_u8(in);
	uint32_t extra = 0, total, piece, off = 0, len_field;
	unsigned int nr = 0, max_pieces = MIN(r->qsize, TX_PIECES_MAX);
	bool len_given = mode & 4;
	const uint8_t *bytes;
	size_t n;

	hdr.op = fin_u16(in);
	hdr.dst_port = fin_u32(in);
	hdr.src_port = fin_u32(in);
	hdr.flags = fin_u32(in);
	hdr.buf_alloc = fin_u32(in);
	hdr.fwd_cnt = fin_u32(in);
	if (mode & 1) {
		hdr.src_cid = fin_u64(in);
		hdr.dst_cid = fin_u64(in);
	}
	if (mode & 2)
		hdr.type = fin_u16(in);
	len_field = len_given ? fin_u32(in) : 0;
	if (mode & 8)
		extra = fin_u32(in) % TX_EXTRA_MAX;
	if (mode & 16) {
		hdr.dst_port = r->last_host_port;
		hdr.src_port = r->last_guest_port;
	}
	n = fin_u16(in);
	piece = fin_u8(in);
	n = fin_bytes(in, n, &bytes);
	hdr.len = len_given ? len_field : n + extra;
	fuzz_note("  from the guest: op %u, %u to %u, %u bytes (%zu + %u in the chain)",
		  hdr.op, hdr.src_port, hdr.dst_port, hdr.len, n, extra);
	total = HDR_LEN + n + extra;
	fuzz_mem_write(&r->mem, TX_GPA, (const uint8_t *)&hdr, sizeof(hdr));
	fuzz_mem_write(&r->mem, TX_GPA + HDR_LEN, bytes, n);
	/* Pieces of piece bytes, the last one the rest. */
	while (off < total) {
		uint32_t len = piece && nr + 1 < max_pieces ? MIN(piece, total - off) :
			       total - off;

		set_desc(r, TXQ, head + nr, TX_GPA + off, len,
			 off + len < total ? VRING_DESC_F_NEXT : 0, head + nr + 1);
		off += len;
		nr++;
	}
	/* At most a ring's worth at once (more is the driver's error). */
	for (unsigned int left = tx_times[mode >> 5]; left;) {
		for (unsigned int i = MIN(left, r->qsize); i; i--, left--)
			avail_notify(r, TXQ, head % r->qsize);
		fuzz_vm_poll(&r->vm);
	}
}

/* The timer as if its period had passed (its fd: the device's syscalls). */
static void timer_tick(struct vsock_run *r)
{
	struct virtio_dev *vd = vsock_dev(r);
	struct device_syscall calls[16];
	unsigned int n = vd->ops->syscalls(vd, calls, ARRAY_SIZE(calls));
	struct itimerspec its = { .it_interval = { 0, 250 * 1000000 },
				  .it_value = { 0, 1 } };

	for (unsigned int i = 0; i < n; i++)
		if (calls[i].nr == SYS_timerfd_settime && calls[i].fd >= 0) {
			struct pollfd p = { .fd = calls[i].fd, .events = POLLIN };

			FUZZ_CHECK(!timerfd_settime(calls[i].fd, 0, &its, NULL),
				   "timerfd_settime: %s", strerror(errno));
			(void)poll(&p, 1, 100);
		}
}

static void config_read(struct vsock_run *r, struct fuzz_input *in)
{
	uint32_t off = fin_u8(in), len = 1u << (fin_u8(in) % 4);
	uint64_t cid = r->cid;
	uint8_t data[8], want[8] = { 0 };

	fuzz_vm_mmio(&r->vm, vsock_dev(r)->base + VIRTIO_MMIO_CONFIG + off, data, len,
		     false);
	/* guest_cid, 64 bits; out of range reads zeros. */
	if (off + len <= sizeof(cid))
		memcpy(want, (uint8_t *)&cid + off, len);
	FUZZ_CHECK(!memcmp(data, want, len), "config read of %u bytes at %u", len, off);
}

/* --- What the device gave the guest -------------------------------------- */

/* len bytes of a chain from off, as the device wrote them; false if short. */
static bool chain_read(struct vsock_run *r, unsigned int q, uint16_t head,
		       uint32_t off, void *dst, uint32_t len, uint64_t *cap,
		       uint16_t *slots)
{
	uint16_t i = head % r->qsize;
	uint32_t done = 0;

	*cap = 0;
	for (unsigned int n = 0; n < r->qsize; n++) {
		struct vring_desc *d = guest_mem_ptr(&r->mem, ring(q, 16ull * i), 16);
		uint8_t *p = d ? guest_mem_ptr(&r->mem, d->addr, d->len) : NULL;

		if (!p || (d->flags & VRING_DESC_F_INDIRECT))
			return false;
		if (slots)
			slots[d->addr == RX_BIG_GPA ? 256 : i]++;
		*cap += d->len;
		if (off < d->len && done < len) {
			uint32_t take = MIN(d->len - off, len - done);

			memcpy((uint8_t *)dst + done, p + off, take);
			done += take;
			off = 0;
		} else if (off >= d->len) {
			off -= d->len;
		}
		if (!(d->flags & VRING_DESC_F_NEXT))
			return done == len;
		i = d->next % r->qsize;
	}
	return false;
}

static void check_packet(struct vsock_run *r, const struct virtio_vsock_hdr *h,
			 uint32_t used_len, uint64_t cap)
{
	FUZZ_CHECK(h->src_cid == HOST_CID && h->dst_cid == r->cid,
		   "a packet from CID %llu to %llu", (unsigned long long)h->src_cid,
		   (unsigned long long)h->dst_cid);
	FUZZ_CHECK(h->type == VIRTIO_VSOCK_TYPE_STREAM, "a packet of type %u", h->type);
	FUZZ_CHECK(h->op >= VIRTIO_VSOCK_OP_REQUEST && h->op <= VIRTIO_VSOCK_OP_CREDIT_UPDATE,
		   "a packet with operation %u", h->op);
	FUZZ_CHECK(h->buf_alloc == BUF_ALLOC, "buf_alloc %u", h->buf_alloc);
	FUZZ_CHECK(used_len <= cap, "used length %u of a %llu-byte chain", used_len,
		   (unsigned long long)cap);
	if (h->op == VIRTIO_VSOCK_OP_RW)
		FUZZ_CHECK(h->len && h->len <= MAX_PKT && used_len == HDR_LEN + h->len,
			   "RW of %u bytes, used length %u", h->len, used_len);
	else
		FUZZ_CHECK(!h->len && used_len == HDR_LEN,
			   "operation %u with %u bytes, used length %u", h->op, h->len,
			   used_len);
	if (h->op == VIRTIO_VSOCK_OP_SHUTDOWN)
		FUZZ_CHECK(h->flags && h->flags <= 3, "SHUTDOWN flags %#x", h->flags);
	else
		FUZZ_CHECK(!h->flags, "operation %u with flags %#x", h->op, h->flags);
}

/*
 * Read back what the device used on queue q (RXQ or EVQ) since the last
 * look. The ports of the last packet are kept for TX's replies; the
 * checks only where nothing but the device wrote there: pristine, and no
 * two chains sharing a buffer.
 */
static void scan_used(struct vsock_run *r, unsigned int q)
{
	static uint16_t slots[257];	/* per descriptor; [256]: the big buffer */
	const struct virtq *vq = &vsock_dev(r)->vq[q];
	uint16_t end = vq->used_idx, n = end - r->seen[q];
	bool strict = r->pristine;

	if (n > r->qsize) {
		r->seen[q] = end;	/* a reset, or rings moved: start again */
		return;
	}
	memset(slots, 0, sizeof(slots));
	for (int pass = strict ? 0 : 1; pass < 2; pass++) {
		for (uint16_t j = r->seen[q]; j != end; j++) {
			struct vring_used_elem e;
			struct virtio_vsock_hdr h;
			struct virtio_vsock_event ev;
			uint64_t cap;
			bool ok;

			memcpy(&e, r->mem.base + ring(q, RING_USED + 4 + 8ull * (j % r->qsize)),
			       sizeof(e));
			if (pass == 0) {
				chain_read(r, q, e.id, 0, &ev, 0, &cap, slots);
				continue;
			}
			if (q == EVQ) {
				ok = chain_read(r, q, e.id, 0, &ev, sizeof(ev), &cap, NULL);
				if (strict) {
					FUZZ_CHECK(ok && e.len == sizeof(ev) &&
						   ev.id == VIRTIO_VSOCK_EVENT_TRANSPORT_RESET,
						   "event %u, used length %u", ok ? ev.id : ~0u, e.len);
					FUZZ_CHECK(++r->events <= r->snaps,
						   "%u events after %u snapshots", r->events, r->snaps);
				}
				continue;
			}
			ok = chain_read(r, q, e.id, 0, &h, sizeof(h), &cap, NULL);
			if (!ok) {
				FUZZ_CHECK(!strict, "a used chain without a header");
				continue;
			}
			r->last_host_port = h.src_port;
			r->last_guest_port = h.dst_port;
			fuzz_note("  to the guest: op %u, %u to %u, %u bytes, flags %#x",
				  h.op, h.src_port, h.dst_port, h.len, h.flags);
			if (strict)
				check_packet(r, &h, e.len, cap);
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(slots); i++)
			strict &= slots[i] <= 1;
	}
	r->seen[q] = end;
}

/* The device's counters, as the control socket's "stats" gives them. */
static uint64_t stat_get(json_object *o, const char *name)
{
	json_object *v;

	FUZZ_CHECK(json_object_object_get_ex(o, name, &v), "no %s in the stats", name);
	return json_object_get_uint64(v);
}

static uint64_t check_stats(struct vsock_run *r)
{
	struct virtio_dev *vd = vsock_dev(r);
	json_object *root = json_object_new_object(), *o;
	uint64_t conns, buffered, peak;

	vd->ops->stats(vd, root);
	FUZZ_CHECK(json_object_object_get_ex(root, "vsock", &o), "no vsock stats");
	conns = stat_get(o, "connections");
	buffered = stat_get(o, "buffered_bytes");
	peak = stat_get(o, "buffered_peak");
	json_object_put(root);
	FUZZ_CHECK(conns <= MAX_CONNS, "%llu connections", (unsigned long long)conns);
	FUZZ_CHECK(peak <= BUF_ALLOC, "%llu bytes buffered for a connection",
		   (unsigned long long)peak);
	FUZZ_CHECK(buffered <= conns * BUF_ALLOC, "%llu bytes buffered for %llu connections",
		   (unsigned long long)buffered, (unsigned long long)conns);
	return conns;
}

static const char *const op_names[NR_OPS] = {
	"MEM", "DESC", "AVAIL", "RXBUF", "TX", "EVBUF", "CONNECT", "WRITE", "BULK",
	"READ", "SHUT", "CLOSE", "LISTEN", "ACCEPT", "UNLISTEN", "FLOOD", "REG",
	"CONFIG", "PAUSE", "SNAP", "RESET", "TICK",
};

/* Operations of the guest's (the others are the host's, the harness's). */
static const bool guest_op[NR_OPS] = {
	[0] = true, [1] = true, [2] = true, [3] = true, [4] = true, [5] = true,
	[16] = true, [17] = true, [20] = true,
};

static void run_op(struct vsock_run *r, struct fuzz_input *in)
{
	uint64_t base = vsock_dev(r)->base;
	const uint8_t *bytes;
	uint32_t addr, len, v;
	uint16_t i, flags;
	unsigned int q, k;
	uint8_t op = fin_u8(in) % NR_OPS, f;
	bool none_left = false;
	int fd;

	fuzz_note("op %s", op_names[op]);
	/* The guest does nothing while the VM is paused: its vCPUs are not running. */
	if (r->paused && guest_op[op]) {
		vm_resume(&r->vm);
		r->paused = false;
	}
	switch (op) {
	case 0:
		addr = fin_u32(in);
		len = fin_bytes(in, fin_u8(in), &bytes);
		fuzz_mem_write(&r->mem, addr, bytes, len);
		r->pristine = false;
		break;
	case 1:
		q = fin_u8(in) % NR_QUEUES;
		i = fin_u8(in);
		addr = fin_u32(in);
		len = fin_u32(in);
		flags = fin_u16(in);
		set_desc(r, q, i, addr, len, flags, fin_u16(in));
		r->pristine = false;
		break;
	case 2:
		q = fin_u8(in) % NR_QUEUES;
		avail_notify(r, q, fin_u16(in));
		r->pristine = false;
		break;
	case 3:
		rx_buffers(r, in);
		break;
	case 4:
		tx_packet(r, in);
		break;
	case 5:
		ev_buffer(r, in);
		break;
	case 6:
		f = fin_u8(in);
		host_connect(r, f, fin_u32(in));
		break;
	case 7:
		fd = host_pick(r, in, &k);
		len = fin_bytes(in, fin_u16(in), &bytes);
		if (fd >= 0)
			host_send(fd, bytes, len);
		break;
	case 8:
		fd = host_pick(r, in, &k);
		v = fin_u8(in);
		if (fd >= 0)
			host_bulk(fd, v);
		break;
	case 9:
		fd = host_pick(r, in, &k);
		v = fin_u8(in);
		if (fd >= 0)
			host_read(fd, v);
		break;
	case 10:
		fd = host_pick(r, in, &k);
		v = fin_u8(in) % 3;
		if (fd >= 0)
			shutdown(fd, v);
		break;
	case 11:
		if (host_pick(r, in, &k) >= 0)
			host_close(r, k);
		break;
	case 12:
		v = fin_u32(in);
		host_listen(r, v, fin_u8(in));
		break;
	case 13:
		k = fin_u8(in);
		if (r->nr_lis)
			host_accept(r, k % r->nr_lis);
		break;
	case 14:
		k = fin_u8(in);
		if (r->nr_lis)
			host_unlisten(r, k % r->nr_lis);
		break;
	case 15:
		host_flood(r, in);
		break;
	case 16:
		addr = (fin_u8(in) & 0x3f) * 4;
		fuzz_mmio_write32(&r->vm, base + addr, fin_u32(in));
		r->pristine = false;
		break;
	case 17:
		config_read(r, in);
		break;
	case 18:
		vm_pause(&r->vm);
		r->paused = true;
		break;
	case 19:
		/* Scanned first: the round trip serves the queues itself. */
		scan_used(r, RXQ);
		scan_used(r, EVQ);
		r->snaps++;
		none_left = in->roundtrips < FUZZ_MAX_ROUNDTRIPS;
		fuzz_vm_roundtrip(&r->vm, &r->cfg, in);
		r->paused &= !none_left;	/* a new VM, running */
		break;
	case 20:
		if (fin_u8(in) & 1) {
			fuzz_mmio_write32(&r->vm, base + VIRTIO_MMIO_STATUS, 0);
			fuzz_vm_poll(&r->vm);
			none_left = true;
		} else {
			scan_used(r, RXQ);
			scan_used(r, EVQ);
			driver_setup(r);
			none_left = true;
		}
		break;
	case 21:
		timer_tick(r);
		break;
	}
	fuzz_vm_poll(&r->vm);
	scan_used(r, RXQ);
	scan_used(r, EVQ);
	if (check_stats(r) && none_left)
		FUZZ_CHECK(false, "connections left after %s",
			   op == 19 ? "a snapshot round trip" : "a reset");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .len = size };
	static struct vsock_run r;
	static bool first = true;
	unsigned int fds;
	struct err e = { 0 };
	char arg[128];

	tmp_dir_init();
	fds = dir_entries("/proc/self/fd");
	r.qsize = 1u << (fin_u8(&in) % 9);
	r.features = fin_u64(&in);
	r.cid = 3 + fin_u32(&in) % (UINT32_MAX - 3);
	r.nr_host = r.nr_lis = 0;
	r.last_host_port = r.last_guest_port = 0;
	r.snaps = r.events = 0;
	r.paused = false;
	r.cfg = (struct vm_config){
		.boot.cmdline = "", .machine.nr_vcpus = 1, .dev.console = CONSOLE_NONE,
	};
	snprintf(arg, sizeof(arg), "cid=%u,uds=%s", r.cid, uds_path);
	fuzz_dev_option(&r.cfg.dev, "vsock", arg);
	if (fuzz_mem_init(&r.mem, RAM_SIZE) ||
	    fuzz_vm_create(&r.vm, &r.cfg, &r.mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	driver_setup(&r);
	while (!fin_done(&in))
		run_op(&r, &in);
	fuzz_vm_destroy(&r.vm);
	fuzz_mem_free(&r.mem);
	host_cleanup(&r);
	FUZZ_CHECK(!dir_entries(tmp_dir), "files left in %s", tmp_dir);
	/* Not the first: a runtime may open what it keeps then (profiling does). */
	FUZZ_CHECK(first || dir_entries("/proc/self/fd") == fds,
		   "%u descriptors open, %u before", dir_entries("/proc/self/fd"), fds);
	first = false;
	return 0;
}
