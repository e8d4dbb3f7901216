// SPDX-License-Identifier: MIT
/*
 * net=GUEST_IP,HOST_IP: just enough IPv4 over virtio-net to ping the host.
 *
 * The first net workload brings the device up and keeps it: receive buffers
 * stay posted between workloads, so a snapshot taken between two of them
 * catches the driver mid-conversation and the next one carries on with the
 * same rings. Each run resolves HOST_IP with ARP, sends PINGS echo requests
 * (each again after a while when its reply does not come) and checks every
 * reply (checksums, addresses, identifier, sequence, payload). ARP
 * requests for GUEST_IP are answered meanwhile, so the host can keep its
 * neighbour entry; every other frame is ignored. A receive buffer handed
 * back twice (a frame delivered twice) is an error.
 */
#include "virtio.h"

#define NET_F_MAC 5
#define NET_F_MRG_RXBUF 15
#define NET_F_STATUS 16
#define NET_S_LINK_UP 1
#define RXQ 0
#define TXQ 1
#define NET_HDR 12		/* virtio_net_hdr_v1 */
#define RX_BUFS 16
#define RX_BUF_LEN 2048		/* at least the 1526 the spec asks for */
#define ETH_HDR 14
#define ETH_FRAME_MAX 1514
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ARP_LEN 28
#define IP_HDR 20
#define ICMP_HDR 8
#define PINGS 4
#define PING_PAYLOAD 56
#define PING_ID 0x474d		/* "GM" */
#define ARP_TRIES 3
#define ARP_WAIT 3000000000ull	/* TSC cycles: about a second */
#define PING_TRIES 3
#define PING_WAIT 3000000000ull

struct net {
	struct vdev d;
	bool up;
	uint8_t mac[6], host_mac[6];
	uint8_t ip[4], host_ip[4];
	uint16_t seq;		/* next echo sequence number */
	uint16_t ip_id;
	uint32_t posted;	/* receive buffers the device holds, a bit each */
};

static struct net net;
static uint8_t rx_buf[RX_BUFS][RX_BUF_LEN] __attribute__((aligned(4096)));
static uint8_t tx_buf[NET_HDR + ETH_FRAME_MAX] __attribute__((aligned(64)));

/* What a waiter looks for: 1 found, 0 not this frame, -1 wrong (said why). */
typedef int (*frame_match)(const uint8_t *f, uint32_t len, void *ctx);

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t inet_csum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void print_mac(const uint8_t *m)
{
	printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_ip(const uint8_t *ip)
{
	printf("%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static bool parse_ip(const char *s, size_t len, uint8_t ip[4])
{
	for (int i = 0; i < 4; i++) {
		size_t n = 0;
		uint64_t v;

		while (n < len && s[n] != '.')
			n++;
		if (!parse_u64(s, n, &v) || v > 255 || (i < 3) != (n < len))
			return false;
		ip[i] = v;
		s += n + 1;
		len -= n < len ? n + 1 : n;
	}
	return true;
}

static void net_args(const char *arg, size_t len)
{
	size_t comma = 0;

	while (arg && comma < len && arg[comma] != ',')
		comma++;
	if (!arg || comma == len || !parse_ip(arg, comma, net.ip) ||
	    !parse_ip(arg + comma + 1, len - comma - 1, net.host_ip)) {
		printf("net: needs GUEST_IP,HOST_IP (net=10.0.2.15,10.0.2.2)\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
}

static void rx_post(uint16_t i)
{
	struct vq *vq = &net.d.vq[RXQ];

	net.posted |= 1u << i;
	vq->desc[i] = (struct vring_desc){ (uint64_t)(uintptr_t)rx_buf[i],
					   RX_BUF_LEN, VRING_DESC_F_WRITE, 0 };
	vq->avail->ring[vq->next_avail % vq->size] = i;
	__atomic_store_n(&vq->avail->idx, ++vq->next_avail, __ATOMIC_RELEASE);
}

static bool net_up(void)
{
	uint32_t lo, hi;

	if (net.up)
		return true;
	/*
	 * Event idx lets netbench notify only when the device asks; the
	 * other workloads notify every time, which stays allowed. Mergeable
	 * buffers where offered (QEMU, not gmvm): without them QEMU leaves
	 * num_buffers 0; with them it says 1, as any frame fits one buffer.
	 */
	if (!virtio_find(VIRTIO_ID_NET, 0, &net.d) ||
	    !virtio_init(&net.d, 1ull << NET_F_MAC | 1ull << NET_F_STATUS |
				 1ull << NET_F_MRG_RXBUF |
				 1ull << VIRTIO_RING_F_EVENT_IDX, 2)) {
		printf("net: no virtio-net device\n");
		return false;
	}
	if (!(net.d.features & 1ull << NET_F_MAC) ||
	    !(net.d.features & 1ull << NET_F_STATUS)) {
		printf("net: the device offers no MAC or no link status\n");
		return false;
	}
	lo = vdev_read(&net.d, VM_CONFIG);
	hi = vdev_read(&net.d, VM_CONFIG + 4);
	memcpy(net.mac, &lo, 4);
	memcpy(net.mac + 4, &hi, 2);
	if (!((hi >> 16) & NET_S_LINK_UP)) {
		printf("net: the link is down\n");
		return false;
	}
	for (uint16_t i = 0; i < RX_BUFS; i++)
		rx_post(i);
	vdev_write(&net.d, VM_QUEUE_NOTIFY, RXQ);
	net.up = true;
	return true;
}

static bool net_send(uint32_t len)
{
	struct vbuf b = { tx_buf, NET_HDR + len, false };

	memset(tx_buf, 0, NET_HDR);	/* no offloads: all zero */
	if (virtio_request(&net.d, TXQ, &b, 1) < 0) {
		printf("net: transmit timed out\n");
		return false;
	}
	return true;
}

static uint8_t *eth_start(const uint8_t *dst, uint16_t type)
{
	uint8_t *f = tx_buf + NET_HDR;

	memcpy(f, dst, 6);
	memcpy(f + 6, net.mac, 6);
	put16(f + 12, type);
	return f + ETH_HDR;
}

static bool arp_send(uint16_t op, const uint8_t *tha, const uint8_t *tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = eth_start(op == 1 ? bcast : tha, ETH_P_ARP);

	put16(a, 1);			/* Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, net.mac, 6);
	memcpy(a + 14, net.ip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return net_send(ETH_HDR + ARP_LEN);
}

/* An ARP request for our address gets its reply: 1 when f was one. */
static int arp_answer(const uint8_t *f, uint32_t len)
{
	const uint8_t *a = f + ETH_HDR;

	if (len < ETH_HDR + ARP_LEN || get16(f + 12) != ETH_P_ARP ||
	    get16(a + 6) != 1 || memcmp(a + 24, net.ip, 4))
		return 0;
	return arp_send(2, a + 8, a + 14) ? 1 : -1;
}

static bool vnet_hdr_ok(const uint8_t *h)
{
	/* flags, gso_type; num_buffers (little endian) last. */
	if (h[0] || h[1] || h[10] != 1 || h[11]) {
		printf("net: receive header flags %#x gso %#x buffers %u\n", h[0],
		       h[1], h[10] | h[11] << 8);
		return false;
	}
	return true;
}

/* Take the next received frame, if any: 1 matched, 0 none or not it, -1. */
static int rx_one(frame_match match, void *ctx)
{
	struct vq *vq = &net.d.vq[RXQ];
	struct vring_used_elem el;
	int ret;

	if (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) == vq->last_used)
		return 0;
	el = vq->used->ring[vq->last_used++ % vq->size];
	/* A buffer used twice would be a frame delivered twice. */
	if (el.id >= RX_BUFS || !(net.posted & 1u << el.id) ||
	    el.len < NET_HDR + ETH_HDR || el.len > RX_BUF_LEN) {
		printf("net: used receive entry %u of %u bytes (posted %#x)\n",
		       el.id, el.len, net.posted);
		return -1;
	}
	net.posted &= ~(1u << el.id);
	if (!vnet_hdr_ok(rx_buf[el.id]))
		return -1;
	ret = arp_answer(rx_buf[el.id] + NET_HDR, el.len - NET_HDR);
	if (!ret)
		ret = match(rx_buf[el.id] + NET_HDR, el.len - NET_HDR, ctx);
	else if (ret > 0)
		ret = 0;	/* answered; not what the caller waits for */
	rx_post(el.id);
	vdev_write(&net.d, VM_QUEUE_NOTIFY, RXQ);
	return ret;
}

/* Wait up to cycles for a frame match() takes: 1, 0 on a timeout, -1. */
static int rx_wait(frame_match match, void *ctx, uint64_t cycles)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < cycles) {
		int ret = rx_one(match, ctx);

		if (ret)
			return ret;
		cpu_relax();
	}
	return 0;
}

static int match_arp_reply(const uint8_t *f, uint32_t len, void *ctx)
{
	const uint8_t *a = f + ETH_HDR;

	(void)ctx;
	if (len < ETH_HDR + ARP_LEN || get16(f + 12) != ETH_P_ARP ||
	    get16(a + 6) != 2 || memcmp(a + 14, net.host_ip, 4))
		return 0;
	if (get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4 ||
	    memcmp(a + 24, net.ip, 4) || memcmp(f, net.mac, 6)) {
		printf("net: malformed ARP reply\n");
		return -1;
	}
	memcpy(net.host_mac, a + 8, 6);
	return 1;
}

static uint8_t ping_byte(uint16_t seq, uint32_t i)
{
	return (uint8_t)(seq * 13 + i * 7);
}

static bool ping_send(uint16_t seq)
{
	uint8_t *ip = eth_start(net.host_mac, ETH_P_IP), *icmp = ip + IP_HDR;

	memset(ip, 0, IP_HDR + ICMP_HDR);
	ip[0] = 0x45;
	put16(ip + 2, IP_HDR + ICMP_HDR + PING_PAYLOAD);
	put16(ip + 4, net.ip_id++);
	put16(ip + 6, 0x4000);		/* don't fragment */
	ip[8] = 64;
	ip[9] = 1;			/* ICMP */
	memcpy(ip + 12, net.ip, 4);
	memcpy(ip + 16, net.host_ip, 4);
	put16(ip + 10, inet_csum(ip, IP_HDR));
	icmp[0] = 8;			/* echo request */
	put16(icmp + 4, PING_ID);
	put16(icmp + 6, seq);
	for (uint32_t i = 0; i < PING_PAYLOAD; i++)
		icmp[ICMP_HDR + i] = ping_byte(seq, i);
	put16(icmp + 2, inet_csum(icmp, ICMP_HDR + PING_PAYLOAD));
	return net_send(ETH_HDR + IP_HDR + ICMP_HDR + PING_PAYLOAD);
}

/* Our echo reply with sequence *ctx, every field checked. */
static int match_echo_reply(const uint8_t *f, uint32_t len, void *ctx)
{
	uint16_t seq = *(uint16_t *)ctx;
	const uint8_t *ip = f + ETH_HDR, *icmp;
	uint32_t ihl, total;

	if (len < ETH_HDR + IP_HDR || get16(f + 12) != ETH_P_IP || ip[9] != 1 ||
	    memcmp(ip + 12, net.host_ip, 4) || memcmp(ip + 16, net.ip, 4))
		return 0;
	ihl = (ip[0] & 0xf) * 4;
	total = get16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < IP_HDR || total < ihl + ICMP_HDR ||
	    total > len - ETH_HDR || inet_csum(ip, ihl)) {
		printf("net: bad IPv4 header from the host\n");
		return -1;
	}
	icmp = ip + ihl;
	if (icmp[0] != 0 || get16(icmp + 4) != PING_ID)
		return 0;
	if (get16(icmp + 6) != seq)
		return 0;	/* a late reply from before */
	if (icmp[1] || inet_csum(icmp, total - ihl) ||
	    total - ihl != ICMP_HDR + PING_PAYLOAD) {
		printf("net: bad ICMP echo reply %u\n", seq);
		return -1;
	}
	for (uint32_t i = 0; i < PING_PAYLOAD; i++) {
		if (icmp[ICMP_HDR + i] != ping_byte(seq, i)) {
			printf("net: echo reply %u has a wrong payload byte %u\n", seq, i);
			return -1;
		}
	}
	return 1;
}

static bool net_resolve(void)
{
	static const uint8_t zero[6];

	for (int i = 0; i < ARP_TRIES; i++) {
		int ret;

		if (!arp_send(1, zero, net.host_ip))
			return false;
		ret = rx_wait(match_arp_reply, NULL, ARP_WAIT);
		if (ret)
			return ret > 0;
	}
	printf("net: no ARP reply from ");
	print_ip(net.host_ip);
	printf("\n");
	return false;
}

static int net_ping(void)
{
	for (int i = 0; i < PINGS; i++) {
		uint16_t seq = net.seq++;
		int ret;

		/* Sent again when lost (e.g. to the VM this one was restored from). */
		for (int t = ret = 0; t < PING_TRIES && !ret; t++) {
			if (!ping_send(seq))
				return -1;
			ret = rx_wait(match_echo_reply, &seq, PING_WAIT);
		}
		if (ret < 0)
			return -1;
		if (!ret) {
			printf("net: no echo reply %u from ", seq);
			print_ip(net.host_ip);
			printf("\n");
			return -1;
		}
	}
	printf("net: %u echo replies from ", PINGS);
	print_ip(net.host_ip);
	printf("\n");
	return 0;
}

bool net_link_open(const char *arg, size_t len, struct net_link *l)
{
	net_args(arg, len);
	if (!net_up() || !net_resolve())
		return false;
	l->d = &net.d;
	memcpy(l->mac, net.mac, 6);
	memcpy(l->host_mac, net.host_mac, 6);
	memcpy(l->ip, net.ip, 4);
	memcpy(l->host_ip, net.host_ip, 4);
	return true;
}

int workload_net(const char *arg, size_t len)
{
	net_args(arg, len);
	if (!net_up())
		return -1;
	printf("net: mac ");
	print_mac(net.mac);
	printf("\n");
	if (!net_resolve())
		return -1;
	printf("net: ");
	print_ip(net.host_ip);
	printf(" is at ");
	print_mac(net.host_mac);
	printf("\n");
	return net_ping();
}

/*
 * netreset: reset the device the net workload set up, its receive buffers
 * still posted (the monitor is watching its tap then), as a driver does
 * when it goes away; the monitor must stop watching, from whatever thread
 * the reset arrives on, and stay up.
 */
int workload_netreset(const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	if (!net.up) {
		printf("netreset: run net= first\n");
		return -1;
	}
	vdev_write(&net.d, VM_STATUS, 0);
	if (vdev_read(&net.d, VM_STATUS) != 0) {
		printf("netreset: status still %#x after a reset\n",
		       vdev_read(&net.d, VM_STATUS));
		return -1;
	}
	net.up = false;
	printf("netreset: done\n");
	return 0;
}
