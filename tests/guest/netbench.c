// SPDX-License-Identifier: MIT
/*
 * netbench=GIP,HIP,SECONDS: bring virtio-net up and resolve HIP as net=
 * does, then for SECONDS send UDP datagrams to HIP's discard port in the
 * shortest Ethernet frames (60 bytes), as fast as the transmit queue takes
 * them: every descriptor of the queue holds a frame, and each one the
 * device hands back is refilled and queued again at once. Prints the frames
 * sent and packets/s. Whether they arrived is for the host to check: the
 * tap's rx_packets must have grown by at least as many.
 */
#include "bench.h"

#define TXQ 1
#define NET_HDR 12		/* virtio_net_hdr_v1, all zero: no offloads */
#define ETH_HDR 14
#define IP_HDR 20
#define UDP_HDR 8
#define FRAME_LEN 60		/* without the FCS */
#define PAYLOAD (FRAME_LEN - ETH_HDR - IP_HDR - UDP_HDR)
#define SLOTS VQ_SIZE
#define SLOT_LEN 128
#define UDP_PORT 9		/* discard */

static uint8_t frames[SLOTS][SLOT_LEN] __attribute__((aligned(64)));
static struct net_link link;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t ip_csum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Every slot's frame: the same datagram, but for its sequence number. */
static void frames_build(void)
{
	uint8_t *f = frames[0] + NET_HDR, *ip = f + ETH_HDR, *udp = ip + IP_HDR;

	memset(frames[0], 0, SLOT_LEN);
	memcpy(f, link.host_mac, 6);
	memcpy(f + 6, link.mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, IP_HDR + UDP_HDR + PAYLOAD);
	put16(ip + 6, 0x4000);		/* don't fragment; id 0 then is fine */
	ip[8] = 64;
	ip[9] = 17;			/* UDP */
	memcpy(ip + 12, link.ip, 4);
	memcpy(ip + 16, link.host_ip, 4);
	put16(ip + 10, ip_csum(ip, IP_HDR));
	put16(udp, UDP_PORT);
	put16(udp + 2, UDP_PORT);
	put16(udp + 4, UDP_HDR + PAYLOAD);	/* checksum 0: none (IPv4) */
	memcpy(udp + UDP_HDR, "gmvm", 4);
	for (unsigned int i = 1; i < SLOTS; i++)
		memcpy(frames[i], frames[0], SLOT_LEN);
}

static void slot_post(unsigned int i, uint64_t seq)
{
	struct vq *vq = &link.d->vq[TXQ];
	uint8_t *payload = frames[i] + NET_HDR + ETH_HDR + IP_HDR + UDP_HDR;

	memcpy(payload + 4, &seq, sizeof(seq));
	vq->desc[i] = (struct vring_desc){ (uint64_t)(uintptr_t)frames[i],
					   NET_HDR + FRAME_LEN, 0, 0 };
	bench_queue(link.d, TXQ, i);
}

/* Wait for the next used entry, up to BENCH_STALL_SECONDS. */
static bool wait_used(struct vring_used_elem *el, uint64_t hz)
{
	uint64_t t0 = rdtsc();

	while (!bench_used(link.d, TXQ, el)) {
		if (rdtsc() - t0 > BENCH_STALL_SECONDS * hz) {
			printf("netbench: no frame sent in %u s\n", BENCH_STALL_SECONDS);
			return false;
		}
		cpu_relax();
	}
	if (el->id >= SLOTS) {
		printf("netbench: used entry %u was not sent\n", el->id);
		return false;
	}
	return true;
}

/* The timed phase; *ticks from the first notification to the last frame. */
static int run_timed(uint64_t seconds, uint64_t hz, uint64_t *sent,
		     uint64_t *ticks)
{
	uint16_t old = link.d->vq[TXQ].next_avail;
	uint64_t t0 = rdtsc(), end = t0 + seconds * hz, last = t0, seq = 0;
	unsigned int busy = SLOTS;
	struct vring_used_elem el;

	for (unsigned int i = 0; i < SLOTS; i++)
		slot_post(i, seq++);
	bench_kick(link.d, TXQ, old);
	while (busy) {
		bool more;

		if (!wait_used(&el, hz))
			return -1;
		last = rdtsc();
		more = last < end;
		old = link.d->vq[TXQ].next_avail;
		do {
			if (el.id >= SLOTS) {
				printf("netbench: used entry %u was not sent\n", el.id);
				return -1;
			}
			(*sent)++;
			busy--;
			if (more) {
				slot_post(el.id, seq++);
				busy++;
			}
		} while (bench_used(link.d, TXQ, &el));
		bench_kick(link.d, TXQ, old);
	}
	*ticks = last - t0;
	return 0;
}

int workload_netbench(const char *arg, size_t len)
{
	uint64_t hz, seconds, sent = 0, ticks = 0, us;
	size_t comma = len;

	while (arg && comma && arg[comma - 1] != ',')
		comma--;
	if (!arg || !comma) {
		printf("netbench: needs GUEST_IP,HOST_IP,SECONDS\n");
		guest_exit(EXIT_BAD_CMDLINE);
	}
	seconds = bench_seconds("netbench", arg + comma, len - comma);
	hz = bench_tsc_hz();
	if (!hz || !net_link_open(arg, comma - 1, &link))
		return -1;
	frames_build();
	printf("netbench: %u.%u.%u.%u is at %02x:%02x:%02x:%02x:%02x:%02x, %lu s of %u-byte frames\n",
	       link.host_ip[0], link.host_ip[1], link.host_ip[2], link.host_ip[3],
	       link.host_mac[0], link.host_mac[1], link.host_mac[2],
	       link.host_mac[3], link.host_mac[4], link.host_mac[5], seconds,
	       FRAME_LEN);
	printf("netbench: start\n");
	if (run_timed(seconds, hz, &sent, &ticks))
		return -1;
	us = bench_us(ticks, hz);
	printf("netbench: %lu frames of %u bytes in %lu us: %lu packets/s\n", sent,
	       FRAME_LEN, us, us ? sent * 1000000 / us : 0);
	return 0;
}
