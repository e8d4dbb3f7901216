// SPDX-License-Identifier: MIT
/*
 * virtio-vsock (--vsock cid=N,uds=PATH): stream sockets between the guest
 * and host programs over UNIX sockets, the way Firecracker's "hybrid vsock"
 * does it, so that its users' tools work unchanged.
 *
 *   host to guest: a program connects to PATH and writes "CONNECT <port>\n";
 *     once the guest's listener on <port> accepts, gmvm answers
 *     "OK <host_port>\n" and the socket is the connection's byte stream
 *     (host_port is the port the guest sees the connection come from). A
 *     guest that refuses, or does not answer in VSOCK_REQUEST_TIMEOUT_MS,
 *     closes it.
 *   guest to host: a guest connection to CID 2 port P is connected to the
 *     UNIX socket PATH_P; nothing listening there is a refusal (RST).
 *
 * Queue 0 carries packets to the guest, queue 1 from it, queue 2 events.
 * Everything is served on the main thread, under the device lock.
 *
 * Flow control is the spec's: each side advertises its buffer and counts
 * what it has forwarded. Host to guest, bytes go from a socket straight
 * into a guest buffer and only as many as the guest has room for: a guest
 * that stops reading stops gmvm reading that socket, so the host program's
 * writes block in its own socket buffer. Guest to host, gmvm advertises
 * VSOCK_BUF_ALLOC bytes per connection and keeps what a socket does not
 * take at once in a buffer of that size; a guest that sends beyond its
 * credit has the connection reset. At most VSOCK_MAX_CONNS connections.
 *
 * Every header, length and address the guest gives is checked. A packet
 * that breaks the rules resets its connection (or is answered with RST when
 * it names none); a chain the device cannot even read a header from is
 * dropped; only a chain with buffers on the wrong side (the transport's
 * rules) needs a device reset.
 *
 * Snapshots: the device and the guest's listeners survive; connections do
 * not (their host ends are not in the snapshot). A restored device tells
 * the guest with a transport-reset event, as Firecracker does, and the
 * guest's sockets see ECONNRESET and reconnect.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/virtio_vsock.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "parse.h"
#include "util.h"
#include "virtio.h"
#include "vmstate.h"

#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_QUEUE_SIZE 256
#define VSOCK_HOST_CID 2
#define VSOCK_HDR_LEN ((uint32_t)sizeof(struct virtio_vsock_hdr))
/* The largest payload of one packet, either way (Linux's own limit). */
#define VSOCK_MAX_PKT (64u * 1024)
/* Connections at once, either direction, those closing included. */
#define VSOCK_MAX_CONNS 256
/* The receive buffer gmvm advertises: guest bytes buffered per connection. */
#define VSOCK_BUF_ALLOC (256u * 1024)
/* "CONNECT 4294967295\n" fits. */
#define VSOCK_LINE_MAX 32
#define VSOCK_REQUEST_TIMEOUT_MS 2000
/* Host ports of host-initiated connections, as the guest sees them. */
#define VSOCK_LOCAL_PORT_FIRST (1u << 30)
/* RSTs for packets that name no connection, waiting for receive buffers. */
#define VSOCK_ORPHANS_MAX 64
#define VSOCK_TX_BUDGET 256
#define VSOCK_RX_BUDGET 256
#define VSOCK_IOV_MAX 64

/* Control packets a connection owes the guest. */
enum {
	OWE_REQUEST = 1 << 0,
	OWE_RESPONSE = 1 << 1,
	OWE_CREDIT = 1 << 2,
	OWE_SHUTDOWN = 1 << 3,
	OWE_RST = 1 << 4,
};

enum conn_state {
	CONN_HANDSHAKE,	/* a host program connected; its CONNECT line not read */
	CONN_REQUEST,	/* REQUEST owed or sent to the guest, no answer yet */
	CONN_OPEN,
	CONN_CLOSING,	/* the host end is gone; the guest's RST is awaited */
};

struct vsock;

struct vsock_conn {
	struct vsock *v;
	struct event_source src;	/* the host end; fd -1 once closed */
	bool watched;			/* src is in the event loop */
	uint32_t events;		/* what src waits for */
	enum conn_state state;
	uint32_t host_port, guest_port;
	uint32_t owe;			/* OWE_* */
	uint32_t shutdown_flags;	/* of the SHUTDOWN owed */
	uint64_t deadline_ns;		/* HANDSHAKE, REQUEST: given up after this */
	/* Flow control (u32 counters that wrap, as the spec's do). */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;		/* bytes given to the guest */
	uint32_t fwd_cnt;		/* guest bytes the host end took */
	uint32_t reported_fwd_cnt;	/* the fwd_cnt the guest has seen */
	/* Guest bytes the host end has not taken yet: a ring. */
	uint8_t *buf;
	uint32_t buf_head, buf_len;
	bool host_readable;		/* EPOLLIN seen; read until EAGAIN */
	bool host_eof;			/* the host end sends no more */
	bool host_hup;			/* ... and is closed: read what is left */
	bool rst_sent;			/* the guest was told: forget it */
	bool guest_shut_send;		/* the guest sends no more */
	bool guest_shut_rcv;		/* the guest takes no more */
	bool queued;			/* on the list for the receive queue */
	struct vsock_conn *next;	/* ... that list */
	char line[VSOCK_LINE_MAX];
	uint32_t line_len;
};

struct vsock_orphan {
	uint32_t host_port, guest_port;
};

struct vsock_stats {
	uint64_t conns_from_host, conns_from_guest, refused, resets;
	uint64_t bytes_to_guest, bytes_from_guest;
	uint64_t bad_packets, buffered_peak;
};

struct vsock {
	struct virtio_dev *vd;
	uint64_t cid;
	char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct virtio_vsock_config config;
	struct event_source listen_src;
	struct event_source kick_src;	/* see vsock_kick() */
	struct event_source timer_src;	/* request timeouts */
	bool timer_armed;
	bool reset_event;		/* a transport reset is owed (restore) */
	bool driver_reset;		/* the driver reset the device: drop all */
	struct vsock_conn *conns[VSOCK_MAX_CONNS];
	unsigned int nr_conns;
	struct vsock_conn *rx_head, *rx_tail;
	struct vsock_orphan orphans[VSOCK_ORPHANS_MAX];
	unsigned int nr_orphans;
	uint32_t next_local_port;
	bool logged_bad, logged_full;
	struct vsock_stats stats;
	struct virtq_req req;
	struct iovec iov[VSOCK_IOV_MAX];
};

struct vsock_config {
	bool on;
	uint32_t cid;
	char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

extern const struct device_desc virtio_vsock_device;

static void vsock_rx(struct vsock *v);
static void vsock_conn_event(struct event_source *src, uint32_t events);

/* --- Connections ---------------------------------------------------------- */

static uint32_t conn_peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	/* A guest that claims more forwarded than it got has no room. */
	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static struct vsock_conn *conn_find(struct vsock *v, uint32_t host_port,
				    uint32_t guest_port)
{
	for (unsigned int i = 0; i < v->nr_conns; i++)
		if (v->conns[i]->host_port == host_port &&
		    v->conns[i]->guest_port == guest_port)
			return v->conns[i];
	return NULL;
}

static bool host_port_used(const struct vsock *v, uint32_t port)
{
	for (unsigned int i = 0; i < v->nr_conns; i++)
		if (v->conns[i]->host_port == port)
			return true;
	return false;
}

/* A host port for a host-initiated connection, none in use. */
static uint32_t vsock_local_port(struct vsock *v)
{
	uint32_t port;

	do {
		port = v->next_local_port++;
		if (v->next_local_port < VSOCK_LOCAL_PORT_FIRST)
			v->next_local_port = VSOCK_LOCAL_PORT_FIRST;
	} while (host_port_used(v, port));
	return port;
}

static void conn_close_fd(struct vsock_conn *c)
{
	if (c->src.fd < 0)
		return;
	if (c->watched)
		event_loop_remove(c->v->vd->dev.host->loop, &c->src);
	c->watched = false;
	close(c->src.fd);
	c->src.fd = -1;
	c->events = 0;
}

static void rx_list_remove(struct vsock *v, struct vsock_conn *c)
{
	struct vsock_conn **p = &v->rx_head, *prev = NULL;

	if (!c->queued)
		return;
	while (*p && *p != c) {
		prev = *p;
		p = &(*p)->next;
	}
	if (*p)
		*p = c->next;
	if (v->rx_tail == c)
		v->rx_tail = prev;
	c->next = NULL;
	c->queued = false;
}

static void conn_free(struct vsock_conn *c)
{
	struct vsock *v = c->v;

	rx_list_remove(v, c);
	conn_close_fd(c);
	for (unsigned int i = 0; i < v->nr_conns; i++)
		if (v->conns[i] == c) {
			v->conns[i] = v->conns[--v->nr_conns];
			break;
		}
	free(c->buf);
	free(c);
}

/* Has the connection a packet for the guest now? */
static bool conn_has_rx(const struct vsock_conn *c)
{
	if (c->owe)
		return true;
	return c->state == CONN_OPEN && c->host_readable && !c->guest_shut_rcv &&
	       conn_peer_credit(c) > 0;
}

/*
 * After any change: wait on the host end for what can be used, and be on
 * the receive queue's list when a packet is owed.
 */
static void conn_update(struct vsock_conn *c)
{
	struct vsock *v = c->v;
	uint32_t want = 0;
	int ret;

	if (c->watched) {
		if (c->state == CONN_HANDSHAKE)
			want = EPOLLIN;
		else if (c->state == CONN_OPEN && !c->host_eof && !c->host_readable &&
			 !c->guest_shut_rcv && conn_peer_credit(c) > 0 &&
			 virtio_live(v->vd))
			want = EPOLLIN;
		if (c->buf_len)
			want |= EPOLLOUT;
		if (want != c->events) {
			ret = event_loop_modify(v->vd->dev.host->loop, &c->src, want);
			if (ret)
				log_warn("%s: cannot watch a connection's socket: %s",
					 v->vd->dev.id, strerror(-ret));
			else
				c->events = want;
		}
	}
	if (conn_has_rx(c) && !c->queued) {
		c->queued = true;
		c->next = NULL;
		if (v->rx_tail)
			v->rx_tail->next = c;
		else
			v->rx_head = c;
		v->rx_tail = c;
	}
}

static struct vsock_conn *conn_new(struct vsock *v, int fd, enum conn_state state)
{
	struct vsock_conn *c;
	int ret;

	if (v->nr_conns == VSOCK_MAX_CONNS) {
		if (!v->logged_full)
			log_warn("%s: %u connections: refusing more (logged once)",
				 v->vd->dev.id, VSOCK_MAX_CONNS);
		v->logged_full = true;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->v = v;
	c->state = state;
	c->src = (struct event_source){ .fd = fd, .handler = vsock_conn_event, .opaque = c };
	ret = event_loop_add(v->vd->dev.host->loop, &c->src, 0);
	if (ret) {
		log_warn("%s: cannot watch a connection's socket: %s",
			 v->vd->dev.id, strerror(-ret));
		free(c);
		return NULL;
	}
	c->watched = true;
	v->conns[v->nr_conns++] = c;
	return c;
}

/* Owe the guest an RST for a packet that names no connection. */
static void vsock_orphan_rst(struct vsock *v, uint32_t host_port, uint32_t guest_port)
{
	if (v->nr_orphans == VSOCK_ORPHANS_MAX)
		return;	/* best effort, like a dropped RST on a wire */
	v->orphans[v->nr_orphans++] = (struct vsock_orphan){ host_port, guest_port };
	v->stats.resets++;
}

/* Tell the guest the connection is over, and forget its host end. */
static void conn_reset(struct vsock_conn *c)
{
	conn_close_fd(c);
	free(c->buf);
	c->buf = NULL;
	c->buf_len = 0;
	c->state = CONN_CLOSING;
	c->owe = OWE_RST;
	c->v->stats.resets++;
	conn_update(c);
}

/*
 * The host end is gone both ways: the guest gets a SHUTDOWN of both
 * directions and answers with RST (at once, or when its socket is closed).
 */
static void conn_host_gone(struct vsock_conn *c)
{
	if (c->state != CONN_OPEN) {
		conn_reset(c);
		return;
	}
	conn_close_fd(c);
	free(c->buf);
	c->buf = NULL;
	c->buf_len = 0;
	c->state = CONN_CLOSING;
	c->owe |= OWE_SHUTDOWN;
	c->shutdown_flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	conn_update(c);
}

/* Bytes went to the host end: tell the guest once a good part is free. */
static void conn_forwarded(struct vsock_conn *c, uint32_t n)
{
	c->fwd_cnt += n;
	if (c->fwd_cnt - c->reported_fwd_cnt >= VSOCK_BUF_ALLOC / 4)
		c->owe |= OWE_CREDIT;
}

/* The guest closed both ways and everything it sent is out: end it. */
static void conn_guest_done(struct vsock_conn *c)
{
	conn_close_fd(c);
	c->state = CONN_CLOSING;
	c->owe = OWE_RST;
	conn_update(c);
}

/* Write buffered guest bytes to the host end. */
static void conn_flush(struct vsock_conn *c)
{
	while (c->buf_len) {
		uint32_t chunk = VSOCK_BUF_ALLOC - c->buf_head;
		ssize_t put;

		if (chunk > c->buf_len)
			chunk = c->buf_len;
		put = send(c->src.fd, c->buf + c->buf_head, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0 && errno == EAGAIN)
			break;
		if (put <= 0) {
			conn_host_gone(c);
			return;
		}
		c->buf_head = (c->buf_head + put) % VSOCK_BUF_ALLOC;
		c->buf_len -= put;
		conn_forwarded(c, put);
	}
	if (!c->buf_len && c->guest_shut_send) {
		/* Nothing flows either way any more. */
		if (c->guest_shut_rcv || c->host_eof) {
			conn_guest_done(c);
			return;
		}
		shutdown(c->src.fd, SHUT_WR);
	}
	conn_update(c);
}

/* --- From the host ---------------------------------------------------------- */

/* Connections waiting on someone get a deadline; the timer looks. */
static void vsock_arm_timer(struct vsock *v, struct vsock_conn *c)
{
	struct itimerspec its = {
		.it_interval = { 0, 250 * 1000000 },
		.it_value = { 0, 250 * 1000000 },
	};

	c->deadline_ns = time_now_ns() + VSOCK_REQUEST_TIMEOUT_MS * 1000000ull;
	if (!v->timer_armed && timerfd_settime(v->timer_src.fd, 0, &its, NULL) == 0)
		v->timer_armed = true;
}

/*
 * "CONNECT <port>\n": taken off the socket up to its newline and no further
 * (what follows is the stream's), in as many reads as it comes in.
 */
static void conn_handshake(struct vsock_conn *c)
{
	struct vsock *v = c->v;
	char *line = c->line + c->line_len, *nl, *end;
	uint32_t room = sizeof(c->line) - 1 - c->line_len;
	unsigned long port;
	ssize_t got, take;

	do
		got = recv(c->src.fd, line, room, MSG_PEEK | MSG_DONTWAIT);
	while (got < 0 && errno == EINTR);
	if (got < 0 && errno == EAGAIN)
		return;
	if (got <= 0)
		goto drop;
	nl = memchr(line, '\n', got);
	take = nl ? nl - line + 1 : got;
	if (recv(c->src.fd, line, take, MSG_DONTWAIT) != take)
		goto drop;
	c->line_len += take;
	if (!nl) {
		if (c->line_len < sizeof(c->line) - 1)
			return;	/* the rest of the line is on its way */
		goto bad;
	}
	*nl = '\0';
	if (strncmp(c->line, "CONNECT ", 8) || c->line[8] < '0' || c->line[8] > '9')
		goto bad;
	errno = 0;
	port = strtoul(c->line + 8, &end, 10);
	if (*end || errno || port > UINT32_MAX)
		goto bad;
	c->guest_port = port;
	c->host_port = vsock_local_port(v);
	c->state = CONN_REQUEST;
	c->owe = OWE_REQUEST;
	vsock_arm_timer(v, c);
	v->stats.conns_from_host++;
	conn_update(c);
	vsock_rx(v);
	return;
bad:
	log_debug("%s: a host program's first line was not CONNECT <port>: closed",
		  v->vd->dev.id);
drop:
	conn_free(c);
}

/*
 * The host end is closed: epoll says so at every wait, whatever it is asked
 * for, so it leaves the loop; what the program wrote before is still read
 * (and the EOF after it ends the connection), and guest bytes sent after
 * that find the socket shut (EPIPE) and end it.
 */
static void conn_host_hup(struct vsock_conn *c)
{
	event_loop_remove(c->v->vd->dev.host->loop, &c->src);
	c->watched = false;
	c->host_hup = true;
	c->events = 0;
	/* Guest bytes it never took are lost: the connection is, too. */
	if (c->host_eof || c->guest_shut_rcv || c->buf_len)
		conn_host_gone(c);
	else
		c->host_readable = true;
}

static void vsock_conn_event(struct event_source *src, uint32_t events)
{
	struct vsock_conn *c = src->opaque;
	struct vsock *v = c->v;

	pthread_mutex_lock(&v->vd->dev.lock);
	if (c->state == CONN_HANDSHAKE) {
		conn_handshake(c);	/* may free c */
	} else if (c->state == CONN_OPEN && (events & EPOLLERR)) {
		conn_host_gone(c);
	} else if (c->state == CONN_OPEN && (events & EPOLLHUP)) {
		conn_host_hup(c);
		conn_update(c);
	} else if (c->state == CONN_OPEN) {
		if (events & EPOLLIN)
			c->host_readable = true;
		if (events & EPOLLOUT)
			conn_flush(c);
		else
			conn_update(c);
	} else if (events & (EPOLLERR | EPOLLHUP)) {
		/* Waiting for the guest: the host program gave up. */
		conn_reset(c);
	}
	vsock_rx(v);
	pthread_mutex_unlock(&v->vd->dev.lock);
}

static void vsock_accept(struct event_source *src, uint32_t events)
{
	struct vsock *v = src->opaque;
	int fd;

	(void)events;
	pthread_mutex_lock(&v->vd->dev.lock);
	while ((fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct vsock_conn *c = conn_new(v, fd, CONN_HANDSHAKE);

		if (!c) {
			close(fd);	/* the program sees its connection end */
			v->stats.refused++;
			continue;
		}
		vsock_arm_timer(v, c);
		conn_update(c);
	}
	pthread_mutex_unlock(&v->vd->dev.lock);
}

/* Requests the guest did not answer in time: the host program is told no. */
static void vsock_timer(struct event_source *src, uint32_t events)
{
	struct vsock *v = src->opaque;
	uint64_t ticks, now = time_now_ns();
	bool waiting = false;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0)
		return;
	pthread_mutex_lock(&v->vd->dev.lock);
	for (unsigned int i = 0; i < v->nr_conns; i++) {
		struct vsock_conn *c = v->conns[i];

		if (c->state != CONN_REQUEST && c->state != CONN_HANDSHAKE)
			continue;
		if (now < c->deadline_ns) {
			waiting = true;
			continue;
		}
		if (c->state == CONN_HANDSHAKE)
			log_debug("%s: a host program sent no CONNECT line in time: closed",
				  v->vd->dev.id);
		else
			log_debug("%s: the guest did not answer a connection to its port %u",
				  v->vd->dev.id, c->guest_port);
		v->stats.refused += c->state == CONN_REQUEST;
		/* The RST also withdraws the request if the guest got it. */
		if (c->state == CONN_HANDSHAKE || (c->owe & OWE_REQUEST)) {
			conn_free(c);
			i--;
		} else {
			conn_reset(c);
		}
	}
	if (!waiting) {
		struct itimerspec off = { 0 };

		if (timerfd_settime(v->timer_src.fd, 0, &off, NULL) == 0)
			v->timer_armed = false;
	}
	vsock_rx(v);
	pthread_mutex_unlock(&v->vd->dev.lock);
}

/* --- To the guest ------------------------------------------------------------ */

static int vsock_pop(struct vsock *v, unsigned int q)
{
	struct virtio_dev *vd = v->vd;
	struct err e = { 0 };
	int ret = virtq_pop(&vd->vq[q], vd->dev.host->mem, &v->req, &e);

	if (ret < 0)
		virtio_needs_reset(vd, e.msg);
	return ret;
}

static struct virtio_vsock_hdr vsock_hdr(const struct vsock *v, uint32_t host_port,
					 uint32_t guest_port, uint16_t op)
{
	return (struct virtio_vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = v->cid,
		.src_port = host_port,
		.dst_port = guest_port,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op,
		.buf_alloc = VSOCK_BUF_ALLOC,
	};
}

/*
 * The first len bytes after the header of a receive chain, as iovecs: as
 * many as fit VSOCK_IOV_MAX (a chain of more, longer than any driver
 * makes, gets less in one packet). Returns how many, at least one.
 */
static int rx_iovec(const struct virtq_req *req, uint32_t len, struct iovec *iov)
{
	uint64_t skip = VSOCK_HDR_LEN;
	int n = 0;

	for (unsigned int i = 0; i < req->nr_in && len && n < VSOCK_IOV_MAX; i++) {
		const struct virtq_buf *b = &req->buf[i];
		uint32_t take;

		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		take = b->len - skip < len ? b->len - skip : len;
		iov[n++] = (struct iovec){ b->addr + skip, take };
		len -= take;
		skip = 0;
	}
	return n;
}

/* readv() of a socket into guest buffers: bytes, 0 at EOF, or -errno. */
static __attribute__((noinline)) ssize_t vsock_readv(int fd, const struct iovec *iov,
						     int cnt)
{
	ssize_t got;

	do
		got = readv(fd, iov, cnt);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

/*
 * Fill the chain in v->req with c's next packet. Returns its length, or 0
 * when c turned out to have nothing (the chain is then unused).
 */
static uint32_t conn_rx_packet(struct vsock *v, struct vsock_conn *c)
{
	const struct virtq_req *req = &v->req;
	struct virtio_vsock_hdr hdr;
	uint32_t room = req->in_len - VSOCK_HDR_LEN, len;
	ssize_t got;
	int nr;

	if (c->owe & OWE_RST) {
		hdr = vsock_hdr(v, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RST);
		c->owe = 0;
		c->rst_sent = true;
	} else if (c->owe & OWE_REQUEST) {
		hdr = vsock_hdr(v, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_REQUEST);
		c->owe &= ~OWE_REQUEST;
	} else if (c->owe & OWE_RESPONSE) {
		hdr = vsock_hdr(v, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RESPONSE);
		c->owe &= ~OWE_RESPONSE;
	} else if (c->state == CONN_OPEN && c->host_readable && !c->guest_shut_rcv &&
		   conn_peer_credit(c) > 0) {
		len = conn_peer_credit(c);
		if (len > room)
			len = room;
		if (len > VSOCK_MAX_PKT)
			len = VSOCK_MAX_PKT;
		nr = rx_iovec(req, len, v->iov);
		got = vsock_readv(c->src.fd, v->iov, nr);
		if (got == -EAGAIN || got == -EWOULDBLOCK) {
			c->host_readable = false;
		} else if (got == 0 && c->host_hup) {
			conn_host_gone(c);
		} else if (got == 0) {
			/* The host program sends no more (it may still read). */
			c->host_readable = false;
			c->host_eof = true;
			c->owe |= OWE_SHUTDOWN;
			c->shutdown_flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
			if (c->guest_shut_send && !c->buf_len)
				conn_guest_done(c);
		} else if (got < 0) {
			conn_host_gone(c);
		} else {
			hdr = vsock_hdr(v, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RW);
			hdr.len = got;
			hdr.fwd_cnt = c->fwd_cnt;
			c->reported_fwd_cnt = c->fwd_cnt;
			c->owe &= ~OWE_CREDIT;
			c->tx_cnt += got;
			v->stats.bytes_to_guest += got;
			virtq_req_write(req, 0, &hdr, sizeof(hdr));
			return VSOCK_HDR_LEN + got;
		}
		return 0;
	} else if (c->owe & OWE_SHUTDOWN) {
		hdr = vsock_hdr(v, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_SHUTDOWN);
		hdr.flags = c->shutdown_flags;
		c->owe &= ~OWE_SHUTDOWN;
	} else if (c->owe & OWE_CREDIT) {
		hdr = vsock_hdr(v, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
		c->owe &= ~OWE_CREDIT;
	} else {
		return 0;
	}
	hdr.fwd_cnt = c->fwd_cnt;
	c->reported_fwd_cnt = c->fwd_cnt;
	virtq_req_write(req, 0, &hdr, sizeof(hdr));
	return VSOCK_HDR_LEN;
}

/* Packets for the guest, one per receive chain, while both are there. */
static void vsock_rx(struct vsock *v)
{
	struct virtio_dev *vd = v->vd;

	if (!virtio_live(vd) || !vd->vq[VSOCK_RXQ].ready)
		return;
	for (unsigned int i = 0; i < VSOCK_RX_BUDGET; i++) {
		struct vsock_conn *c = v->rx_head;
		struct virtio_vsock_hdr hdr;
		uint32_t len = 0;

		if (!c && !v->nr_orphans)
			return;
		if (vsock_pop(v, VSOCK_RXQ) <= 0)
			return;	/* dry: the driver's next notify brings us back */
		if (v->req.nr_out || v->req.in_len <= VSOCK_HDR_LEN) {
			virtio_needs_reset(vd, "a receive chain has device-readable buffers or no room for a header and data");
			return;
		}
		if (v->nr_orphans) {
			struct vsock_orphan *o = &v->orphans[--v->nr_orphans];

			hdr = vsock_hdr(v, o->host_port, o->guest_port, VIRTIO_VSOCK_OP_RST);
			virtq_req_write(&v->req, 0, &hdr, sizeof(hdr));
			virtio_complete(vd, VSOCK_RXQ, v->req.head, VSOCK_HDR_LEN);
			continue;
		}
		rx_list_remove(v, c);
		len = conn_rx_packet(v, c);
		if (len)
			virtio_complete(vd, VSOCK_RXQ, v->req.head, len);
		else
			virtq_unpop(&vd->vq[VSOCK_RXQ]);
		if (c->rst_sent)
			conn_free(c);	/* nothing more to say */
		else
			conn_update(c);
	}
	/* More than a budget's worth: the rest in the loop's next round. */
	if (v->rx_head || v->nr_orphans) {
		uint64_t one = 1;

		if (write(vd->notify[VSOCK_RXQ].src.fd, &one, sizeof(one)) < 0)
			log_warn("%s: eventfd: %s", vd->dev.id, strerror(errno));
	}
}

/* The transport-reset event, owed since a restore. */
static void vsock_event(struct vsock *v)
{
	struct virtio_vsock_event ev = { .id = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET };

	if (!v->reset_event || !virtio_live(v->vd) || !v->vd->vq[VSOCK_EVQ].ready ||
	    vsock_pop(v, VSOCK_EVQ) <= 0)
		return;
	if (v->req.nr_out || v->req.in_len < sizeof(ev)) {
		virtio_needs_reset(v->vd, "an event chain has device-readable buffers or no room for an event");
		return;
	}
	virtq_req_write(&v->req, 0, &ev, sizeof(ev));
	virtio_complete(v->vd, VSOCK_EVQ, v->req.head, sizeof(ev));
	v->reset_event = false;
	log_info("%s: told the guest its connections were reset", v->vd->dev.id);
}

/* --- From the guest ---------------------------------------------------------- */

static void vsock_bad_packet(struct vsock *v, const char *why)
{
	v->stats.bad_packets++;
	if (v->logged_bad)
		return;
	v->logged_bad = true;
	log_warn("%s: a packet from the guest %s (logged once)", v->vd->dev.id, why);
}

/* The guest connects to the host's port: PATH_<port>, if something listens. */
static void vsock_guest_connect(struct vsock *v, const struct virtio_vsock_hdr *hdr)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct vsock_conn *c;
	int fd, n;

	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s_%u", v->uds, hdr->dst_port);
	fd = n < (int)sizeof(addr.sun_path) ?
	     socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		log_debug("%s: guest port %u to %s: %s", v->vd->dev.id, hdr->src_port,
			  addr.sun_path, strerror(errno));
		close(fd);
		fd = -1;
	}
	c = fd >= 0 ? conn_new(v, fd, CONN_OPEN) : NULL;
	if (!c) {
		if (fd >= 0)
			close(fd);
		v->stats.refused++;
		vsock_orphan_rst(v, hdr->dst_port, hdr->src_port);
		return;
	}
	c->host_port = hdr->dst_port;
	c->guest_port = hdr->src_port;
	c->peer_buf_alloc = hdr->buf_alloc;
	c->peer_fwd_cnt = hdr->fwd_cnt;
	c->owe = OWE_RESPONSE;
	v->stats.conns_from_guest++;
	conn_update(c);
}

/* The guest accepted a host program's connection: tell the program. */
static void conn_guest_accepted(struct vsock_conn *c)
{
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);

	if (send(c->src.fd, ok, n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
		conn_reset(c);
		return;
	}
	c->state = CONN_OPEN;
	conn_update(c);
}

/* Guest data for the host end: straight to the socket, the rest buffered. */
static void conn_guest_data(struct vsock *v, struct vsock_conn *c, uint32_t len)
{
	const struct virtq_req *req = &v->req;
	uint32_t done = 0;
	ssize_t put = 0;
	int nr;

	if (c->buf_len + len > VSOCK_BUF_ALLOC) {
		vsock_bad_packet(v, "sends beyond the credit it was given: connection reset");
		conn_reset(c);
		return;
	}
	v->stats.bytes_from_guest += len;
	if (!c->buf_len) {
		nr = virtq_req_iovec(req, false, VSOCK_HDR_LEN, len, v->iov, VSOCK_IOV_MAX);
		if (nr > 0) {
			struct msghdr msg = { .msg_iov = v->iov, .msg_iovlen = nr };

			do
				put = sendmsg(c->src.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
			while (put < 0 && errno == EINTR);
			if (put < 0 && errno != EAGAIN) {
				conn_host_gone(c);
				return;
			}
			done = put > 0 ? put : 0;
			conn_forwarded(c, done);
		}
	}
	if (done < len) {
		if (!c->buf) {
			c->buf = malloc(VSOCK_BUF_ALLOC);
			if (!c->buf) {
				conn_reset(c);
				return;
			}
		}
		while (done < len) {
			uint32_t tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
			uint32_t chunk = VSOCK_BUF_ALLOC - tail;

			if (chunk > len - done)
				chunk = len - done;
			virtq_req_read(req, VSOCK_HDR_LEN + done, c->buf + tail, chunk);
			c->buf_len += chunk;
			done += chunk;
		}
		if (c->buf_len > v->stats.buffered_peak)
			v->stats.buffered_peak = c->buf_len;
	}
	conn_update(c);
}

static void conn_guest_shutdown(struct vsock_conn *c, uint32_t flags)
{
	if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
		c->guest_shut_rcv = true;
	if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
		c->guest_shut_send = true;
	if (c->guest_shut_send)
		conn_flush(c);	/* shuts the socket's write side once empty */
	else
		conn_update(c);
}

/* One packet from the guest, its header read into hdr. */
static void vsock_tx_packet(struct vsock *v, const struct virtio_vsock_hdr *hdr)
{
	uint32_t payload = v->req.out_len - VSOCK_HDR_LEN;
	struct vsock_conn *c;

	if (hdr->src_cid != v->cid || hdr->dst_cid != VSOCK_HOST_CID) {
		/* Not ours to answer: the spec has such packets dropped. */
		vsock_bad_packet(v, "has addresses other than its CID to the host's: dropped");
		return;
	}
	c = conn_find(v, hdr->dst_port, hdr->src_port);
	if (hdr->type != VIRTIO_VSOCK_TYPE_STREAM || hdr->len > payload ||
	    hdr->len > VSOCK_MAX_PKT ||
	    (hdr->op != VIRTIO_VSOCK_OP_RW && hdr->len) ||
	    hdr->op == VIRTIO_VSOCK_OP_INVALID || hdr->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
		vsock_bad_packet(v, "has a bad type, length or operation: connection reset");
		if (c && c->state != CONN_CLOSING)
			conn_reset(c);
		else if (!c && hdr->op != VIRTIO_VSOCK_OP_RST)
			vsock_orphan_rst(v, hdr->dst_port, hdr->src_port);
		return;
	}
	if (hdr->op == VIRTIO_VSOCK_OP_REQUEST) {
		if (c) {
			vsock_bad_packet(v, "asks again for a connection that exists: reset");
			if (c->state != CONN_CLOSING)
				conn_reset(c);
			return;
		}
		vsock_guest_connect(v, hdr);
		return;
	}
	if (!c) {
		if (hdr->op != VIRTIO_VSOCK_OP_RST)
			vsock_orphan_rst(v, hdr->dst_port, hdr->src_port);
		return;
	}
	c->peer_buf_alloc = hdr->buf_alloc;
	c->peer_fwd_cnt = hdr->fwd_cnt;
	switch (hdr->op) {
	case VIRTIO_VSOCK_OP_RST:
		conn_free(c);
		return;
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state == CONN_REQUEST && !(c->owe & OWE_REQUEST)) {
			conn_guest_accepted(c);
		} else if (c->state != CONN_CLOSING) {
			vsock_bad_packet(v, "answers a request nobody made: connection reset");
			conn_reset(c);
		}
		return;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != CONN_OPEN || c->guest_shut_send) {
			if (c->state != CONN_CLOSING) {
				vsock_bad_packet(v, "sends on a connection not open for it: reset");
				conn_reset(c);
			}
			return;
		}
		if (hdr->len)
			conn_guest_data(v, c, hdr->len);
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state == CONN_OPEN) {
			conn_guest_shutdown(c, hdr->flags);
		} else if (c->state == CONN_CLOSING) {
			/* It has read what was left and closes too: done. */
			c->owe = OWE_RST;
			conn_update(c);
		}
		return;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->owe |= OWE_CREDIT;
		conn_update(c);
		return;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
	default:
		conn_update(c);	/* the guest may have room again */
		return;
	}
}

static void vsock_tx(struct vsock *v)
{
	struct virtio_dev *vd = v->vd;
	struct virtio_vsock_hdr hdr;
	uint64_t one = 1;

	for (unsigned int done = 0; vsock_pop(v, VSOCK_TXQ) > 0; done++) {
		if (v->req.nr_in) {
			virtio_needs_reset(vd, "a transmit chain has device-writable buffers");
			return;
		}
		if (v->req.out_len < VSOCK_HDR_LEN)
			vsock_bad_packet(v, "is shorter than a header: dropped");
		else {
			/* Read once: the guest may change its copy meanwhile. */
			virtq_req_read(&v->req, 0, &hdr, sizeof(hdr));
			vsock_tx_packet(v, &hdr);
		}
		virtio_complete(vd, VSOCK_TXQ, v->req.head, 0);
		if (done + 1 == VSOCK_TX_BUDGET) {
			if (write(vd->notify[VSOCK_TXQ].src.fd, &one, sizeof(one)) < 0)
				log_warn("%s: eventfd: %s", vd->dev.id, strerror(errno));
			break;
		}
	}
	vsock_rx(v);
}

static void vsock_notify(struct virtio_dev *vd, unsigned int q)
{
	struct vsock *v = vd->priv;

	if (q == VSOCK_TXQ)
		vsock_tx(v);
	else if (q == VSOCK_RXQ)
		vsock_rx(v);
	else
		vsock_event(v);
}

/* --- Device life ------------------------------------------------------------- */

/* Every connection ends, silently: the driver reset the device. */
static void vsock_drop_all(struct vsock *v)
{
	while (v->nr_conns)
		conn_free(v->conns[0]);
	v->nr_orphans = 0;
}

/*
 * Have the main thread look at every connection again: activate and
 * quiesce also come from vCPU threads (a status write), whose seccomp
 * filter has no epoll_ctl.
 */
static void vsock_kick(struct vsock *v)
{
	uint64_t one = 1;

	if (write(v->kick_src.fd, &one, sizeof(one)) < 0)
		log_warn("%s: eventfd: %s", v->vd->dev.id, strerror(errno));
}

static void vsock_kick_event(struct event_source *src, uint32_t events)
{
	struct vsock *v = src->opaque;
	uint64_t count;

	(void)events;
	if (read(src->fd, &count, sizeof(count)) < 0)
		return;
	pthread_mutex_lock(&v->vd->dev.lock);
	if (v->driver_reset)
		vsock_drop_all(v);
	v->driver_reset = false;
	for (unsigned int i = 0; i < v->nr_conns; i++)
		conn_update(v->conns[i]);
	vsock_rx(v);
	vsock_event(v);
	pthread_mutex_unlock(&v->vd->dev.lock);
}

static void vsock_activate(struct virtio_dev *vd)
{
	vsock_kick(vd->priv);
}

/* A pause (nothing to drop), or the driver's reset (every connection). */
static void vsock_quiesce(struct virtio_dev *vd)
{
	struct vsock *v = vd->priv;

	if (!vd->paused)
		v->driver_reset = true;
	vsock_kick(v);
}

static void vsock_config_read(struct virtio_dev *vd, uint32_t off, uint8_t *data,
			      uint32_t len)
{
	struct vsock *v = vd->priv;

	memcpy(data, (uint8_t *)&v->config + off, len);
}

/* Nothing beyond the transport's: connections do not outlive the VM. */
static void vsock_save(struct virtio_dev *vd, struct vmstate_writer *w)
{
	(void)vd;
	(void)w;
}

static int vsock_restore(struct virtio_dev *vd, const struct vmstate *vs, int node,
			 struct err *e)
{
	struct vsock *v = vd->priv;

	(void)vs;
	(void)node;
	(void)e;
	/* The guest's connections had host ends this process never had. */
	v->reset_event = (vd->status & VIRTIO_CONFIG_S_DRIVER_OK) != 0;
	return 0;
}

static void vsock_destroy(struct virtio_dev *vd)
{
	struct vsock *v = vd->priv;
	struct event_loop *loop = vd->dev.host->loop;

	if (!v)
		return;
	vsock_drop_all(v);
	if (v->listen_src.fd >= 0) {
		event_loop_remove(loop, &v->listen_src);
		close(v->listen_src.fd);
		unlink(v->uds);
	}
	if (v->kick_src.fd >= 0) {
		event_loop_remove(loop, &v->kick_src);
		close(v->kick_src.fd);
	}
	if (v->timer_src.fd >= 0) {
		event_loop_remove(loop, &v->timer_src);
		close(v->timer_src.fd);
	}
	log_info("%s: %llu connections from the host, %llu from the guest, %llu refused, %llu bytes to the guest, %llu from it",
		 vd->dev.id, (unsigned long long)v->stats.conns_from_host,
		 (unsigned long long)v->stats.conns_from_guest,
		 (unsigned long long)v->stats.refused,
		 (unsigned long long)v->stats.bytes_to_guest,
		 (unsigned long long)v->stats.bytes_from_guest);
	free(v);
}

/* "vsock": its connections, bytes and refusals (main thread). */
static void vsock_stats_json(struct virtio_dev *vd, json_object *root)
{
	struct vsock *v = vd->priv;
	json_object *o = json_object_new_object();
	uint64_t buffered = 0;

	for (unsigned int i = 0; i < v->nr_conns; i++)
		buffered += v->conns[i]->buf_len;
	json_object_object_add(o, "device", json_object_new_string(vd->dev.id));
	json_object_object_add(o, "cid", json_object_new_uint64(v->cid));
	json_object_object_add(o, "uds", json_object_new_string(v->uds));
	json_object_object_add(o, "connections", json_object_new_uint64(v->nr_conns));
	json_object_object_add(o, "connections_from_host",
			       json_object_new_uint64(v->stats.conns_from_host));
	json_object_object_add(o, "connections_from_guest",
			       json_object_new_uint64(v->stats.conns_from_guest));
	json_object_object_add(o, "refused", json_object_new_uint64(v->stats.refused));
	json_object_object_add(o, "resets", json_object_new_uint64(v->stats.resets));
	json_object_object_add(o, "bytes_to_guest",
			       json_object_new_uint64(v->stats.bytes_to_guest));
	json_object_object_add(o, "bytes_from_guest",
			       json_object_new_uint64(v->stats.bytes_from_guest));
	json_object_object_add(o, "buffered_bytes", json_object_new_uint64(buffered));
	json_object_object_add(o, "buffered_peak",
			       json_object_new_uint64(v->stats.buffered_peak));
	json_object_object_add(o, "bad_packets", json_object_new_uint64(v->stats.bad_packets));
	json_object_object_add(root, "vsock", o);
}

/*
 * Its sockets come and go, so their calls cannot be bound to an fd: UNIX
 * sockets only (socket()'s first argument), connected, read, written and
 * shut down. accept4, sendto and recvfrom are every main thread's.
 */
static unsigned int vsock_syscalls(struct virtio_dev *vd, struct device_syscall *calls,
				   unsigned int max)
{
	struct vsock *v = vd->priv;
	const struct device_syscall mine[] = {
		{ SYS_socket, AF_UNIX }, { SYS_connect, -1 }, { SYS_readv, -1 },
		{ SYS_sendmsg, -1 }, { SYS_shutdown, -1 },
		{ SYS_timerfd_settime, v->timer_src.fd },
	};
	unsigned int i;

	for (i = 0; i < max && i < ARRAY_SIZE(mine); i++)
		calls[i] = mine[i];
	return i;
}

static const struct virtio_device_ops virtio_vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = 0,	/* streams only: no SEQPACKET */
	.nr_queues = 3,
	.queue_max = VSOCK_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_vsock_config),
	.config_read = vsock_config_read,
	.notify = vsock_notify,
	.activate = vsock_activate,
	.quiesce = vsock_quiesce,
	.save = vsock_save,
	.restore = vsock_restore,
	.syscalls = vsock_syscalls,
	.stats = vsock_stats_json,
	.destroy = vsock_destroy,
};

/* A socket file already at path: take it over only if nobody answers. */
static int vsock_listen(struct vsock *v, const char *path, struct err *e)
{
	struct sockaddr_un addr;
	int fd = unix_socket(path, "--vsock uds=", SOCK_NONBLOCK, &addr, e);

	if (fd < 0)
		return err_mark_input(e);
	if (unix_socket_claim(&addr, "--vsock uds=", e) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0) {
		if (!e->errnum)
			err_set(e, errno, "--vsock uds=%s: %s", path, strerror(errno));
		close(fd);
		return err_mark_input(e);
	}
	v->listen_src = (struct event_source){ .fd = fd, .handler = vsock_accept, .opaque = v };
	return 0;
}

static int vsock_add_source(struct vsock *v, struct event_source *src, int fd,
			    event_handler_fn fn, const char *what, struct err *e)
{
	int ret;

	*src = (struct event_source){ .fd = fd, .handler = fn, .opaque = v };
	if (fd < 0)
		return err_set(e, errno, "virtio-vsock: %s: %s", what, strerror(errno));
	ret = event_loop_add(v->vd->dev.host->loop, src, EPOLLIN);
	return ret ? err_set(e, -ret, "virtio-vsock: cannot watch its %s: %s", what,
			     strerror(-ret)) : 0;
}

static int vsock_create(struct dev_host *host, const struct vsock_config *vc,
			struct err *e)
{
	struct vsock *v = calloc(1, sizeof(*v));
	struct virtio_dev *vd;
	int ret;

	if (!v)
		return err_set(e, ENOMEM, "out of memory for virtio-vsock");
	v->cid = vc->cid;
	v->config.guest_cid = vc->cid;
	v->next_local_port = VSOCK_LOCAL_PORT_FIRST;
	v->kick_src.fd = v->timer_src.fd = -1;
	snprintf(v->uds, sizeof(v->uds), "%s", vc->uds);
	ret = vsock_listen(v, vc->uds, e);
	if (ret) {
		free(v);
		return ret;
	}
	ret = virtio_mmio_create(host, &virtio_vsock_ops, v, &vd, e);
	if (ret)
		return ret;
	v->vd = vd;
	ret = event_loop_add(host->loop, &v->listen_src, EPOLLIN);
	if (ret)
		return err_set(e, -ret, "%s: cannot watch %s: %s", vd->dev.id, v->uds,
			       strerror(-ret));
	ret = vsock_add_source(v, &v->kick_src, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
			       vsock_kick_event, "eventfd", e);
	if (!ret)
		ret = vsock_add_source(v, &v->timer_src,
				       timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC),
				       vsock_timer, "timerfd", e);
	if (ret)
		return ret;
	log_info("%s: guest CID %llu, host sockets at %s", vd->dev.id,
		 (unsigned long long)v->cid, v->uds);
	return 0;
}

/* --- Configuration ----------------------------------------------------------- */

static struct vsock_config *vsock_config(const struct dev_config *cfg)
{
	return device_config(cfg, &virtio_vsock_device);
}

/*
 * "cid=N,uds=PATH" (run), "uds=PATH" (restore: the guest keeps its CID).
 * PATH holds no comma; PATH_<port> must fit a UNIX socket address too.
 */
static int vsock_parse(void *config, const char *name, char *arg, bool restore,
		       struct err *e)
{
	struct vsock_config *c = config;
	char *p = arg, *end;
	unsigned long cid;
	bool cid_set = false;

	(void)name;
	if (c->on)
		return err_set(e, EINVAL, "--vsock: only one virtio-vsock device");
	while (*p) {
		end = strchrnul(p, ',');
		if (*end)
			*end++ = '\0';
		if (!strncmp(p, "cid=", 4) && !restore) {
			if (parse_uint(p + 4, 3, UINT32_MAX - 1, &cid, e))
				return err_prefix(e, "--vsock cid=");
			c->cid = cid;
			cid_set = true;
		} else if (!strncmp(p, "uds=", 4) && p[4]) {
			/* Room for "_4294967295" after it. */
			if (strlen(p + 4) + 11 >= sizeof(c->uds))
				return err_set(e, ENAMETOOLONG, "--vsock uds=%s: longer than %zu characters (PATH_<port> must fit a UNIX socket address)",
					       p + 4, sizeof(c->uds) - 12);
			strcpy(c->uds, p + 4);
		} else if (!strncmp(p, "cid=", 4)) {
			return err_set(e, EINVAL, "--vsock %s: a restored guest keeps the CID it has (cid= does not apply)",
				       p);
		} else {
			return err_set(e, EINVAL, "--vsock: '%s' is not %s", p,
				       restore ? "uds=PATH" : "cid=N or uds=PATH");
		}
		p = end;
	}
	if (!c->uds[0])
		return err_set(e, EINVAL, "--vsock: no uds=PATH for the host's sockets");
	if (!restore && !cid_set)
		return err_set(e, EINVAL, "--vsock: no cid=N (3 or more) for the guest");
	c->on = true;
	return 0;
}

static bool vsock_configured(const void *config)
{
	return ((const struct vsock_config *)config)->on;
}

static int vsock_take_resources(void *config, const void *given_config, bool recorded,
				struct err *e)
{
	struct vsock_config *c = config;
	const struct vsock_config *given = given_config;
	char uds[64];

	if (recorded && !given->on)
		return 0;
	if (given->on && !c->on)
		return err_set(e, EINVAL, "--vsock: the snapshot has no virtio-vsock device");
	if (c->on && !given->on)
		return err_set(e, EINVAL, "the snapshot has a virtio-vsock device (host sockets at %s): give --vsock uds=PATH, or --recorded-resources to use that path again",
			       str_escape(uds, sizeof(uds), c->uds));
	if (c->on)
		strcpy(c->uds, given->uds);
	return 0;
}

static void vsock_describe(const void *config, FILE *out)
{
	const struct vsock_config *c = config;
	char uds[128];

	if (c->on)
		fprintf(out, "    vsock: guest CID %u, host sockets at %s\n", c->cid,
			str_escape(uds, sizeof(uds), c->uds));
}

static int virtio_vsock_setup(struct dev_host *host, const struct dev_config *cfg,
			      struct err *e)
{
	const struct vsock_config *c = vsock_config(cfg);

	return c->on ? vsock_create(host, c, e) : 0;
}

/* The CID (0: no device) and the path the host's sockets are at. */
static void virtio_vsock_save_config(const struct device_desc *kind,
				     const struct dev_config *cfg, struct vmstate_writer *w)
{
	const struct vsock_config *c = vsock_config(cfg);

	(void)kind;
	vmstate_put_u32(w, "vsock-cid", c->on ? c->cid : 0);
	if (c->on)
		vmstate_put_str(w, "vsock-uds", c->uds);
}

static int virtio_vsock_load_config(const struct device_desc *kind, struct dev_config *cfg,
				    const struct vmstate *vs, int node, struct err *e)
{
	struct vsock_config *c = vsock_config(cfg);
	const char *uds;

	if (vs->revision < kind->since_revision && !vmstate_has(vs, node, "vsock-cid")) {
		c->on = false;
		return 0;
	}
	if (vmstate_get_u32(vs, node, "vsock-cid", &c->cid, e))
		return -EINVAL;
	c->on = c->cid != 0;
	if (!c->on)
		return 0;
	if (c->cid < 3 || c->cid == UINT32_MAX)
		return err_set(e, EINVAL, "config: vsock-cid %u is not a guest CID", c->cid);
	if (vmstate_get_str(vs, node, "vsock-uds", &uds, sizeof(c->uds) - 11, e))
		return -EINVAL;
	if (!uds[0])
		return err_set(e, EINVAL, "config: vsock-uds is empty");
	strcpy(c->uds, uds);
	return 0;
}

static const struct device_option vsock_options[] = {
	{
		.name = "vsock",
		.arg = "cid=N,uds=PATH",
		.help = "a virtio-vsock device, guest CID N (3 or more);\n"
			"host programs connect to the UNIX socket PATH and\n"
			"write \"CONNECT <port>\\n\"; the guest's connections\n"
			"to CID 2 port P go to PATH_P",
		.restore_help = "where this VM's host sockets are (the guest\n"
				"keeps its CID)",
		.restore_arg = "uds=PATH",
		.man = ".BI \\-\\-vsock \" cid=N,uds=PATH\"\n"
		       "A virtio\\-vsock device; the guest's CID is\n"
		       ".I N\n"
		       "(3 or more). gmvm listens on the UNIX socket\n"
		       ".IR PATH :\n"
		       "a host program connects, writes\n"
		       ".BI \"CONNECT \" port\n"
		       "and a newline, and once the guest's listener on that port accepts, reads\n"
		       ".BI \"OK \" host_port\n"
		       "and a newline, then the connection's bytes. A guest connection to CID 2\n"
		       "port\n"
		       ".I P\n"
		       "is connected to the UNIX socket\n"
		       ".IR PATH _ P ,\n"
		       "or refused when nothing listens there (Firecracker's hybrid vsock). At\n"
		       "most 256 connections; 256 KiB of the guest's bytes buffered per\n"
		       "connection. A restored guest's connections are reset (it is told with a\n"
		       "transport\\-reset event); its listeners stay.\n",
		.restore_man = ".BI \\-\\-vsock \" uds=PATH\"\n"
			       "Where this VM's host sockets are, for the snapshot's virtio\\-vsock\n"
			       "device; the guest keeps its CID and its listeners, and its connections\n"
			       "are reset.\n",
	},
	{ .name = NULL },
};

const struct device_desc virtio_vsock_device = {
	.name = "virtio-vsock",
	.config_size = sizeof(struct vsock_config),
	.options = vsock_options,
	.parse = vsock_parse,
	.setup = virtio_vsock_setup,
	.save_config = virtio_vsock_save_config,
	.load_config = virtio_vsock_load_config,
	.take_resources = vsock_take_resources,
	.describe = vsock_describe,
	.configured = vsock_configured,
	.since_revision = 3,
};
