// SPDX-License-Identifier: MIT
/*
 * vsock=MODE,...: stream sockets to the host over virtio-vsock, polled.
 *
 *   vsock=listen,PORT,N     echo server on PORT: every byte back, until N
 *                           connections have ended (the host closed them)
 *   vsock=connect,PORT,SIZE connect to the host's PORT, send SIZE bytes of a
 *                           pattern, read them back and check every one
 *   vsock=refused,PORT      connect to the host's PORT: must be refused
 *   vsock=flood,PORT,SIZE   connect and send until SIZE bytes are out or the
 *                           host's credit stays at zero (it does not read):
 *                           how much it took
 *   vsock=stall,PORT        accept one connection and never read from it
 *                           until the host closes it
 *   vsock=agent,PORT,LPORT  a guest agent: connect to PORT, exchange a
 *                           line, ask for a snapshot (port 0x4f0), then
 *                           exchange another (reconnecting if the device
 *                           said the transport was reset), then serve one
 *                           echo connection on LPORT
 *
 * Flow control both ways: this side advertises RING bytes per connection
 * and never has more in flight than the host's credit allows; the host
 * sending beyond ours is an error. Packets to ports nobody uses get RST.
 */
#include "bench.h"
#include "virtio.h"

#define VIRTIO_ID_VSOCK 19
#define RXQ 0
#define TXQ 1
#define EVQ 2
#define HDR 44
#define RX_PAYLOAD 4096
#define RX_SLOT 8192
#define TX_SLOTS 32
#define TX_PAYLOAD 16384
#define TX_SLOT (HDR + TX_PAYLOAD)
#define EV_SLOTS 4
#define MAX_CONNS 128
#define RING 16384		/* what this side advertises per connection */
#define HOST_CID 2
#define STREAM 1
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7
#define SHUT_RCV 1
#define SHUT_SEND 2
#define LOCAL_PORT_FIRST 40000

struct vs_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

enum { C_FREE, C_CONNECTING, C_OPEN, C_CLOSED };

struct conn {
	int state;
	uint32_t lport, pport;
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	uint32_t fwd_cnt, reported;	/* bytes this side took, and told */
	uint64_t rx_total;
	bool peer_shut_send, peer_shut_rcv, reset, refused;
	uint8_t ring[RING];
	uint32_t head, len;
};

static struct vdev dev;
static bool dev_up;
static uint64_t second;		/* TSC ticks (kvmclock says how many) */
static uint64_t cid;
static struct conn conns[MAX_CONNS];
static uint32_t listen_port;
static bool listening;
static unsigned int transport_resets;
static bool failed;
static uint32_t next_lport = LOCAL_PORT_FIRST;
static uint8_t rx_buf[VQ_SIZE][RX_SLOT] __attribute__((aligned(4096)));
static uint8_t tx_buf[TX_SLOTS][TX_SLOT] __attribute__((aligned(4096)));
static bool tx_busy[TX_SLOTS];
static uint32_t ev_buf[EV_SLOTS];
static uint8_t scratch[TX_PAYLOAD];

static void post(unsigned int q, uint16_t slot, void *addr, uint32_t len,
		 bool writable)
{
	struct vq *vq = &dev.vq[q];

	vq->desc[slot] = (struct vring_desc){
		.addr = (uint64_t)(uintptr_t)addr,
		.len = len,
		.flags = writable ? VRING_DESC_F_WRITE : 0,
	};
	vq->avail->ring[vq->next_avail % vq->size] = slot;
	__atomic_store_n(&vq->avail->idx, ++vq->next_avail, __ATOMIC_RELEASE);
}

static bool vs_open(void)
{
	if (dev_up)
		return true;
	if (!virtio_find(VIRTIO_ID_VSOCK, 0, &dev) || !virtio_init(&dev, 0, 3)) {
		printf("vsock: no virtio-vsock device\n");
		return false;
	}
	second = bench_tsc_hz();
	if (!second)
		second = 3000000000ull;
	cid = vdev_read(&dev, VM_CONFIG) | (uint64_t)vdev_read(&dev, VM_CONFIG + 4) << 32;
	for (uint16_t i = 0; i < VQ_SIZE; i++)
		post(RXQ, i, rx_buf[i], HDR + RX_PAYLOAD, true);
	for (uint16_t i = 0; i < EV_SLOTS; i++)
		post(EVQ, i, &ev_buf[i], sizeof(ev_buf[i]), true);
	vdev_write(&dev, VM_QUEUE_NOTIFY, RXQ);
	vdev_write(&dev, VM_QUEUE_NOTIFY, EVQ);
	dev_up = true;
	printf("vsock: device up, guest CID %lu\n", cid);
	return true;
}

static void fail(const char *why, uint32_t a, uint32_t b)
{
	if (!failed)
		printf("vsock: FAILED: %s (%u, %u)\n", why, a, b);
	failed = true;
}

/* Reclaim sent packets; false when none is free for a long while. */
static int tx_slot(void)
{
	struct vq *vq = &dev.vq[TXQ];
	uint64_t start = rdtsc();

	for (;;) {
		while (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used) {
			uint32_t id = vq->used->ring[vq->last_used % vq->size].id;

			if (id < TX_SLOTS)
				tx_busy[id] = false;
			vq->last_used++;
		}
		for (int i = 0; i < TX_SLOTS; i++)
			if (!tx_busy[i])
				return i;
		if (rdtsc() - start > 10 * second)
			return -1;
		cpu_relax();
	}
}

static bool send_pkt(uint32_t lport, uint32_t pport, uint16_t op, uint32_t flags,
		     const void *data, uint32_t len, uint32_t fwd_cnt)
{
	int slot = tx_slot();
	struct vs_hdr h = {
		.src_cid = cid, .dst_cid = HOST_CID, .src_port = lport,
		.dst_port = pport, .len = len, .type = STREAM, .op = op,
		.flags = flags, .buf_alloc = RING, .fwd_cnt = fwd_cnt,
	};

	if (slot < 0) {
		fail("the device does not take packets", lport, pport);
		return false;
	}
	memcpy(tx_buf[slot], &h, HDR);
	if (len)
		memcpy(tx_buf[slot] + HDR, data, len);
	tx_busy[slot] = true;
	post(TXQ, slot, tx_buf[slot], HDR + len, false);
	vdev_write(&dev, VM_QUEUE_NOTIFY, TXQ);
	return true;
}

static void conn_send_ctl(struct conn *c, uint16_t op, uint32_t flags)
{
	send_pkt(c->lport, c->pport, op, flags, NULL, 0, c->fwd_cnt);
	c->reported = c->fwd_cnt;
}

static struct conn *conn_find(uint32_t lport, uint32_t pport)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].state != C_FREE && conns[i].lport == lport &&
		    conns[i].pport == pport)
			return &conns[i];
	return NULL;
}

static struct conn *conn_alloc(uint32_t lport, uint32_t pport)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].state == C_FREE) {
			struct conn *c = &conns[i];

			/* All but the ring, which is only read up to len. */
			memset(c, 0, __builtin_offsetof(struct conn, ring));
			c->head = c->len = 0;
			c->lport = lport;
			c->pport = pport;
			return c;
		}
	return NULL;
}

static uint32_t credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static void handle_rw(struct conn *c, const uint8_t *data, uint32_t len)
{
	if (c->len + len > RING) {
		fail("the host sent beyond the credit it had", c->len + len, RING);
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		c->ring[(c->head + c->len + i) % RING] = data[i];
	c->len += len;
	c->rx_total += len;
}

static void handle_packet(const struct vs_hdr *h, const uint8_t *data)
{
	struct conn *c;

	if (h->dst_cid != cid || h->src_cid != HOST_CID || h->type != STREAM) {
		fail("a packet with bad addresses or type", (uint32_t)h->src_cid, h->type);
		return;
	}
	c = conn_find(h->dst_port, h->src_port);
	if (!c) {
		if (h->op == OP_REQUEST && listening && h->dst_port == listen_port &&
		    (c = conn_alloc(h->dst_port, h->src_port))) {
			c->state = C_OPEN;
			c->peer_buf_alloc = h->buf_alloc;
			c->peer_fwd_cnt = h->fwd_cnt;
			conn_send_ctl(c, OP_RESPONSE, 0);
		} else if (h->op != OP_RST) {
			send_pkt(h->dst_port, h->src_port, OP_RST, 0, NULL, 0, 0);
		}
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case OP_RESPONSE:
		if (c->state == C_CONNECTING)
			c->state = C_OPEN;
		break;
	case OP_RST:
		if (c->state == C_CONNECTING)
			c->refused = true;
		c->reset = true;
		c->state = C_CLOSED;
		break;
	case OP_SHUTDOWN:
		c->peer_shut_send |= (h->flags & SHUT_SEND) != 0;
		c->peer_shut_rcv |= (h->flags & SHUT_RCV) != 0;
		break;
	case OP_RW:
		handle_rw(c, data, h->len);
		break;
	case OP_CREDIT_REQUEST:
		conn_send_ctl(c, OP_CREDIT_UPDATE, 0);
		break;
	default:
		break;
	}
}

/* Everything the device has handed back: packets, events, sent buffers. */
static void vs_poll(void)
{
	struct vq *rx = &dev.vq[RXQ], *ev = &dev.vq[EVQ];
	bool reposted = false;

	while (__atomic_load_n(&rx->used->idx, __ATOMIC_ACQUIRE) != rx->last_used) {
		struct vring_used_elem u = rx->used->ring[rx->last_used % rx->size];
		struct vs_hdr h;

		rx->last_used++;
		if (u.id >= VQ_SIZE || u.len < HDR) {
			fail("a receive buffer came back wrong", u.id, u.len);
			continue;
		}
		memcpy(&h, rx_buf[u.id], HDR);
		if (h.len > u.len - HDR)
			fail("a packet longer than what was written", h.len, u.len);
		else
			handle_packet(&h, rx_buf[u.id] + HDR);
		post(RXQ, u.id, rx_buf[u.id], HDR + RX_PAYLOAD, true);
		reposted = true;
	}
	if (reposted)
		vdev_write(&dev, VM_QUEUE_NOTIFY, RXQ);
	while (__atomic_load_n(&ev->used->idx, __ATOMIC_ACQUIRE) != ev->last_used) {
		uint32_t id = ev->used->ring[ev->last_used % ev->size].id;

		ev->last_used++;
		if (id < EV_SLOTS && ev_buf[id] == 0) {
			transport_resets++;
			printf("vsock: transport reset: every connection is gone\n");
			for (int i = 0; i < MAX_CONNS; i++)
				if (conns[i].state != C_FREE) {
					conns[i].reset = true;
					conns[i].state = C_CLOSED;
				}
		}
		if (id < EV_SLOTS) {
			ev_buf[id] = ~0u;
			post(EVQ, id, &ev_buf[id], sizeof(ev_buf[id]), true);
			vdev_write(&dev, VM_QUEUE_NOTIFY, EVQ);
		}
	}
}

/* Take up to len received bytes; tell the host once a good part is free. */
static uint32_t conn_read(struct conn *c, uint8_t *out, uint32_t len)
{
	uint32_t n = len < c->len ? len : c->len;

	for (uint32_t i = 0; i < n; i++)
		out[i] = c->ring[(c->head + i) % RING];
	c->head = (c->head + n) % RING;
	c->len -= n;
	c->fwd_cnt += n;
	if (c->fwd_cnt - c->reported >= RING / 2 && c->state == C_OPEN)
		conn_send_ctl(c, OP_CREDIT_UPDATE, 0);
	return n;
}

/* Send up to len bytes as credit allows; returns how many went. */
static uint32_t conn_write(struct conn *c, const uint8_t *data, uint32_t len)
{
	uint32_t n = credit(c);

	if (c->state != C_OPEN || c->peer_shut_rcv)
		return 0;
	if (n > len)
		n = len;
	if (n > TX_PAYLOAD)
		n = TX_PAYLOAD;
	if (!n)
		return 0;
	if (!send_pkt(c->lport, c->pport, OP_RW, 0, data, n, c->fwd_cnt))
		return 0;
	c->reported = c->fwd_cnt;
	c->tx_cnt += n;
	return n;
}

static void conn_close(struct conn *c)
{
	if (c->state == C_OPEN || c->state == C_CONNECTING)
		conn_send_ctl(c, OP_RST, 0);
	c->state = C_FREE;
}

/* Connect to the host's port; NULL (said why unless quiet) on failure. */
static struct conn *vs_connect(uint32_t port, bool quiet)
{
	struct conn *c = conn_alloc(next_lport++, port);
	uint64_t start = rdtsc();

	if (!c)
		return NULL;
	c->state = C_CONNECTING;
	conn_send_ctl(c, OP_REQUEST, 0);
	while (c->state == C_CONNECTING && !failed) {
		if (rdtsc() - start > 10 * second)
			break;
		vs_poll();
	}
	if (c->state == C_OPEN)
		return c;
	if (!quiet)
		printf("vsock: connect to port %u: %s\n", port,
		       c->refused ? "refused" : "no answer");
	c->state = C_FREE;
	return NULL;
}

static uint8_t pattern(uint64_t i, uint32_t seed)
{
	uint64_t x = (i / 8 + seed) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> ((i % 8) * 8));
}

/* Parse "a,b,c" into up to n numbers after the mode's name. */
static unsigned int parse_args(const char *arg, size_t len, uint64_t *out, unsigned int n)
{
	unsigned int got = 0;
	size_t i = 0;

	while (i < len && arg[i] != ',')
		i++;
	while (i < len && got < n) {
		size_t s = ++i, e = s;

		while (e < len && arg[e] != ',')
			e++;
		if (!parse_size(arg + s, e - s, &out[got]))
			return 0;
		got++;
		i = e;
	}
	return got;
}

static bool mode_is(const char *arg, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len >= n && !strncmp(arg, name, n) && (len == n || arg[n] == ',');
}

/* Echo every open connection's bytes; count the ones the host ended. */
static unsigned int echo_round(void)
{
	unsigned int ended = 0;

	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (c->state == C_FREE)
			continue;
		if (c->state == C_OPEN && c->len) {
			uint32_t peek = c->len < TX_PAYLOAD ? c->len : TX_PAYLOAD;
			uint32_t n;

			for (uint32_t k = 0; k < peek; k++)
				scratch[k] = c->ring[(c->head + k) % RING];
			n = conn_write(c, scratch, peek);
			conn_read(c, scratch, n);
		}
		/* Ended, or nothing more to echo or nobody to echo it to. */
		if (c->state == C_CLOSED ||
		    (c->peer_shut_send && (!c->len || c->peer_shut_rcv))) {
			conn_close(c);
			ended++;
		}
	}
	return ended;
}

static int vs_listen(uint64_t port, uint64_t n)
{
	unsigned int ended = 0;
	uint64_t bytes = 0, last = rdtsc();

	listen_port = port;
	listening = true;
	printf("vsock: listening on port %lu\n", port);
	while (ended < n && !failed) {
		uint64_t before = bytes;

		vs_poll();
		ended += echo_round();
		bytes = 0;
		for (int i = 0; i < MAX_CONNS; i++)
			bytes += conns[i].tx_cnt;
		if (bytes != before || ended)
			last = rdtsc();
		if (rdtsc() - last > 60 * second) {
			fail("nothing happened for a minute", ended, (uint32_t)n);
			break;
		}
	}
	listening = false;
	printf("vsock: %u connections served\n", ended);
	return failed ? -1 : 0;
}

static int vs_connect_echo(uint64_t port, uint64_t size)
{
	struct conn *c = vs_connect(port, false);
	uint64_t sent = 0, got = 0, bad = 0, last = rdtsc();
	static uint8_t chunk[TX_PAYLOAD];

	if (!c)
		return -1;
	while ((got < size) && !failed && !c->reset) {
		uint64_t before = sent + got;

		vs_poll();
		if (sent < size) {
			uint32_t n = size - sent < TX_PAYLOAD ? size - sent : TX_PAYLOAD;

			for (uint32_t k = 0; k < n; k++)
				chunk[k] = pattern(sent + k, port);
			sent += conn_write(c, chunk, n);
		}
		while (c->len) {
			uint32_t n = conn_read(c, chunk, sizeof(chunk));

			for (uint32_t k = 0; k < n; k++)
				bad += chunk[k] != pattern(got + k, port);
			got += n;
		}
		if (sent + got != before)
			last = rdtsc();
		if (rdtsc() - last > 30 * second) {
			fail("the echo stopped", (uint32_t)sent, (uint32_t)got);
			break;
		}
	}
	printf("vsock: connect %lu: %lu bytes sent, %lu echoed, %lu wrong%s\n", port,
	       sent, got, bad, c->reset ? ", reset" : "");
	conn_close(c);
	return !failed && got == size && !bad ? 0 : -1;
}

static int vs_flood(uint64_t port, uint64_t size)
{
	struct conn *c = vs_connect(port, false);
	uint64_t sent = 0, last = rdtsc();

	if (!c)
		return -1;
	memset(scratch, 'f', sizeof(scratch));
	while (sent < size && !failed && !c->reset && rdtsc() - last < 3 * second) {
		uint32_t n;

		vs_poll();
		n = conn_write(c, scratch, size - sent < TX_PAYLOAD ? size - sent : TX_PAYLOAD);
		if (n)
			last = rdtsc();
		sent += n;
	}
	printf("vsock: flood: %lu bytes taken, then %s\n", sent,
	       c->reset ? "reset" : sent < size ? "no credit for 3 s" : "all sent");
	conn_close(c);
	return failed ? -1 : 0;
}

/*
 * Accept one connection and read nothing until nothing more has come for
 * 3 s (the host must stop at this side's credit), then read it all until
 * the host closes it.
 */
static int vs_stall(uint64_t port)
{
	uint64_t start = rdtsc(), last = 0, seen = 0, unread;
	struct conn *c = NULL;

	listen_port = port;
	listening = true;
	printf("vsock: stall: listening on port %lu\n", port);
	while (!failed && rdtsc() - start < 120 * second) {
		vs_poll();
		for (int i = 0; i < MAX_CONNS && !c; i++)
			if (conns[i].state != C_FREE) {
				c = &conns[i];
				last = rdtsc();
				printf("vsock: stall: accepted; not reading\n");
			}
		if (!c)
			continue;
		if (c->rx_total != seen) {
			seen = c->rx_total;
			last = rdtsc();
		}
		if (c->reset || rdtsc() - last > 3 * second)
			break;
	}
	listening = false;
	if (!c)
		return -1;
	unread = c->rx_total;
	printf("vsock: stall: %lu bytes arrived unread (credit %u)\n", unread, RING);
	last = rdtsc();
	while (!failed && !c->reset && !(c->peer_shut_send && !c->len) &&
	       rdtsc() - last < 30 * second) {
		vs_poll();
		if (c->len) {
			conn_read(c, scratch, sizeof(scratch));
			last = rdtsc();
		}
	}
	printf("vsock: stall: then read %lu bytes in all; the host %s\n", c->rx_total,
	       c->reset ? "reset it" : c->peer_shut_send ? "closed it" : "went quiet");
	conn_close(c);
	return failed || unread > RING ? -1 : 0;
}

/* One line out, the same line back. */
static bool agent_exchange(struct conn *c, const char *line)
{
	uint32_t n = strlen(line), got = 0;
	uint64_t start = rdtsc();
	static uint8_t back[64];

	if (conn_write(c, (const uint8_t *)line, n) != n)
		return false;
	while (got < n && !c->reset && !failed && rdtsc() - start < 10 * second) {
		vs_poll();
		got += conn_read(c, back + got, n - got);
	}
	return got == n && !memcmp(back, line, n);
}

static int vs_agent(uint64_t port, uint64_t lport)
{
	struct conn *c = vs_connect(port, false);
	uint64_t start;

	if (!c || !agent_exchange(c, "agent hello\n")) {
		printf("vsock: agent: first exchange failed\n");
		return -1;
	}
	printf("vsock: agent: connected, asking for a snapshot\n");
	outb(PORT_SNAPSHOT, 1);
	printf("snapshot: resumed\n");
	/* A restored device says so at once; give it a moment. */
	start = rdtsc();
	while (!transport_resets && rdtsc() - start < second / 2)
		vs_poll();
	if (c->reset) {
		c->state = C_FREE;
		c = vs_connect(port, false);
		if (!c)
			return -1;
		printf("vsock: agent: reconnected\n");
	} else {
		printf("vsock: agent: connection kept\n");
	}
	if (!agent_exchange(c, "agent again\n")) {
		printf("vsock: agent: second exchange failed\n");
		return -1;
	}
	printf("vsock: agent: exchange after the snapshot ok\n");
	conn_close(c);
	return vs_listen(lport, 1);
}

int workload_vsock(const char *arg, size_t len)
{
	uint64_t a[2];

	if (!vs_open())
		return -1;
	failed = false;
	if (mode_is(arg, len, "listen") && parse_args(arg, len, a, 2) == 2)
		return vs_listen(a[0], a[1]);
	if (mode_is(arg, len, "connect") && parse_args(arg, len, a, 2) == 2)
		return vs_connect_echo(a[0], a[1]);
	if (mode_is(arg, len, "flood") && parse_args(arg, len, a, 2) == 2)
		return vs_flood(a[0], a[1]);
	if (mode_is(arg, len, "stall") && parse_args(arg, len, a, 1) == 1)
		return vs_stall(a[0]);
	if (mode_is(arg, len, "agent") && parse_args(arg, len, a, 2) == 2)
		return vs_agent(a[0], a[1]);
	if (mode_is(arg, len, "refused") && parse_args(arg, len, a, 1) == 1) {
		bool ok = !vs_connect(a[0], true);

		printf("vsock: connect to port %lu: %s\n", a[0], ok ? "refused" : "ACCEPTED");
		return ok ? 0 : -1;
	}
	printf("vsock: bad arguments '%.*s'\n", (int)len, arg);
	return -1;
}
